/*
 * test_recorded.c - deterministic mutation tests over the fuzz seeds recorded
 * from real viewers (fuzz/corpus/rfb_reader/rec-* and
 * fuzz/corpus/rfb_handshake/rec-*, made with tests/tools/rfb_record.py; see
 * fuzz/README.md). Test code; runs no moat process and trusts only the
 * parsers' documented contracts.
 *
 * Every seed must parse completely, which proves the recording is valid.
 * Then every single-bit flip and every truncation of it must parse or be
 * refused with a protocol error, never consume more than was given, and
 * never point outside it. Each input is an exact-size heap copy, so an
 * AddressSanitizer build (-DMOAT_SANITIZE=ON) catches any overread.
 *
 * A message stream is parsed from the message boundary at or before the
 * mutation, not from its first byte: the reader keeps no state between
 * messages, so the messages before that boundary parse exactly as in the
 * unmutated seed. For the same reason parsing stops early once it is back on
 * one of the seed's boundaries behind the mutation, where the rest of the
 * stream is the seed's own. Both shortcuts are cross-checked against full
 * parses of exact-size copies (of every mutation of a seed up to FULL_MAX
 * bytes, of every FULL_EVERY-th one above that).
 *
 * Each recorded stream is also fed to the reader the way moat-net reads a
 * socket (net_main.c, net_client.c): cut into reads, each appended to a
 * buffer of rfb_reader_max_msg() + CHUNK_MAX bytes and parsed until the
 * reader needs more, then compacted. The reads are one byte, three bytes,
 * CHUNK_MAX bytes, and pseudo-random sizes from several fixed PRNG seeds (a
 * quarter of them up to the next message boundary, the others 1 to 8, 64 or
 * CHUNK_MAX bytes), as fuzz/fuzz_rfb_reader.c does with seeds taken from its
 * input.
 * Every cutting must give the messages of the whole parse, ending at the
 * same offsets, with their text and payloads where the stream has them.
 *
 * The handshake seeds are fed to the parser their first byte selects (mod 5)
 * as fuzz/fuzz_rfb_handshake.c does; a flip of that byte may select the
 * security-type or VeNCrypt parsers (tests/unit/test_vencrypt.c tests those
 * in depth), which must then give a clean result too.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_handshake.h"
#include "net/rfb_reader.h"
#include "net/rfb_vencrypt.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

#include "check.h"

#define MAX_SEEDS	64
#define MAX_SEED_LEN	(1024 * 1024)
#define FULL_MAX	8192
#define FULL_EVERY	61
#define CHUNK_MAX	512	/* the largest read of a chunked parse */

/* The limits fuzz/fuzz_rfb_reader.c parses the rfb_reader corpus with. */
static const struct rfb_reader_limits lim = { .max_cut_text = 4096 };

static const char dummy_password[] = "dummy-password-";	/* rfb_record.py */

/* The outcome of parsing a message stream. */
struct outcome {
	size_t msgs;	/* complete messages parsed */
	size_t end;	/* offset where parsing stopped */
	int r;		/* the result that stopped it */
};

/* Outcome tallies for one seed. */
struct tally {
	size_t inputs, complete, incomplete, refused[3], full_checked;
};

/* Returns an exact-size heap copy of n bytes of p (never NULL; aborts). */
static uint8_t *
exact_copy(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n);

	if (c == NULL && n == 0)
		c = malloc(1);
	if (c == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	if (n > 0)
		memcpy(c, p, n);
	return c;
}

static uint8_t *
read_file(const char *path, size_t *lenp)
{
	uint8_t *d = NULL, tmp[4096];
	size_t len = 0, n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		uint8_t *nd;

		if (len + n > MAX_SEED_LEN || (nd = realloc(d, len + n)) == NULL) {
			free(d);
			fclose(f);
			return NULL;
		}
		d = nd;
		memcpy(d + len, tmp, n);
		len += n;
	}
	fclose(f);
	if (d == NULL)
		d = exact_copy(tmp, 0);
	*lenp = len;
	return d;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the rec-* files of corpus dir, sorted; returns how many. */
static size_t
list_seeds(const char *dir, char **names, size_t max)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max)
		if (strncmp(de->d_name, "rec-", 4) == 0 &&
		    (names[n] = strdup(de->d_name)) != NULL)
			n++;
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	return n;
}

static int
refusal_index(int r)
{
	switch (r) {
	case MOAT_ERR_PROTOCOL:
		return 0;
	case MOAT_ERR_TOO_LONG:
		return 1;
	case MOAT_ERR_INVALID:
		return 2;
	}
	return -1;
}

/* ---- message streams (rfb_reader) ------------------------------------------ */

/* True if [q, q+n) lies inside [p, p+len). */
static int
inside(const uint8_t *q, size_t n, const uint8_t *p, size_t len)
{
	return n == 0 || (q >= p && q <= p + len && n <= (size_t)(p + len - q));
}

/*
 * Parses the len bytes at p (which start at offset base of the stream) until
 * the reader stops, checking every message against the reader's contract.
 * resync, if not NULL, maps a stream offset to the number of seed messages
 * still ahead of it, or -1 when it is not one of the seed's boundaries; a
 * parse that lands on a boundary past `after` stops there and completes the
 * outcome from the seed. bnd, if not NULL, gets every boundary (offsets,
 * relative to p, after each message; at most len of them).
 */
static struct outcome
parse_stream(const char *name, const uint8_t *p, size_t len, size_t base,
    const long *resync, size_t after, size_t *bnd, size_t *counts)
{
	struct outcome o = { 0, 0, 0 };
	struct rfb_client_msg m;
	struct buf b;
	size_t before, used, at, maxmsg = rfb_reader_max_msg(&lim);
	char why[200] = "";	/* the first broken promise, if any */

	buf_view(&b, p, len);
	for (;;) {
		before = buf_len(&b);
		at = base + len - before;
		o.r = rfb_read_client_msg(&b, &m, &lim);
		if (o.r != 0) {
			if (buf_len(&b) != before)
				snprintf(why, sizeof(why), "consumed %zu bytes "
				    "at %zu on failure", before - buf_len(&b), at);
			break;
		}
		used = before - buf_len(&b);
		if (used == 0 || used > before || used > maxmsg) {
			snprintf(why, sizeof(why), "message at %zu used %zu of "
			    "%zu bytes", at, used, before);
			break;
		}
		if ((m.type == RFB_SET_PIXEL_FORMAT &&
		    rfb_pixfmt_check(&m.u.pixfmt) != 0) ||
		    (m.type == RFB_SET_ENCODINGS &&
		    (m.u.encodings.count > RFB_MAX_ENCODINGS ||
		    m.u.encodings.kept > RFB_KEEP_ENCODINGS ||
		    m.u.encodings.kept > m.u.encodings.count)) ||
		    (m.type == RFB_CLIENT_CUT_TEXT &&
		    (m.u.cut.len > lim.max_cut_text ||
		    !inside(m.u.cut.text, m.u.cut.len, p, len))) ||
		    (m.type == RFB_CLIENT_FENCE &&
		    (m.u.fence.len > RFB_MAX_FENCE ||
		    !inside(m.u.fence.payload, m.u.fence.len, p, len)))) {
			snprintf(why, sizeof(why), "type %u message at %zu "
			    "breaks its bounds", m.type, at);
			break;
		}
		if (counts != NULL)
			counts[m.type]++;
		o.msgs++;
		if (bnd != NULL)
			bnd[o.msgs - 1] = len - buf_len(&b);
		if (resync != NULL && at + used > after &&
		    resync[at + used] >= 0) {
			/* Back on the seed's own bytes: the rest parses as it did. */
			o.msgs += (size_t)resync[at + used];
			o.end = base + len;
			o.r = MOAT_ERR_AGAIN;
			return o;
		}
	}
	o.end = base + len - buf_len(&b);
	if (why[0] == '\0' && o.r == MOAT_ERR_AGAIN &&
	    buf_len(&b) >= maxmsg)
		snprintf(why, sizeof(why), "%zu bytes left incomplete",
		    buf_len(&b));
	if (why[0] == '\0' && o.r != 0 && o.r != MOAT_ERR_AGAIN &&
	    refusal_index(o.r) < 0)
		snprintf(why, sizeof(why), "unexpected result %s at %zu",
		    moat_strerror(o.r), o.end);
	CHECK(why[0] == '\0', "%s: %s", name, why);
	return o;
}

static void
count_outcome(struct tally *t, const struct outcome *o, size_t len)
{
	t->inputs++;
	if (o->r == MOAT_ERR_AGAIN && o->end == len)
		t->complete++;
	else if (o->r == MOAT_ERR_AGAIN)
		t->incomplete++;
	else if (refusal_index(o->r) >= 0)
		t->refused[refusal_index(o->r)]++;
}

static int
same_outcome(const struct outcome *a, const struct outcome *b)
{
	return a->msgs == b->msgs && a->end == b->end && a->r == b->r;
}

static const struct {
	uint8_t type;
	const char *name;
} type_names[] = {
	{ RFB_SET_PIXEL_FORMAT, "SetPixelFormat" },
	{ RFB_SET_ENCODINGS, "SetEncodings" },
	{ RFB_FB_UPDATE_REQUEST, "FramebufferUpdateRequest" },
	{ RFB_KEY_EVENT, "KeyEvent" },
	{ RFB_POINTER_EVENT, "PointerEvent" },
	{ RFB_CLIENT_CUT_TEXT, "ClientCutText" },
	{ RFB_ENABLE_CONTINUOUS_UPDATES, "EnableContinuousUpdates" },
	{ RFB_CLIENT_FENCE, "ClientFence" },
	{ RFB_SET_DESKTOP_SIZE, "SetDesktopSize" },
	{ RFB_QEMU_CLIENT, "QEMUClientMessage" },
};

static const char *
type_name(int t)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == t)
			return type_names[i].name;
	return "?";
}

/* ---- chunked reads (what moat-net does with each socket read) ---------- */

/* xorshift32 */
static uint32_t
prng(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * The next read at offset pos of n: fixed bytes if fixed is not 0,
 * otherwise a quarter of the time up to the next message boundary (bnd[1..k]
 * in ascending order; *j the first one past pos), else 1-8, 1-64 or
 * 1-CHUNK_MAX bytes. *on_boundary tells whether the read ends on one.
 */
static size_t
next_read(uint32_t *s, size_t fixed, const size_t *bnd, size_t k, size_t *j,
    size_t pos, size_t n, int *on_boundary)
{
	uint32_t r;
	size_t len;

	while (*j <= k && bnd[*j] <= pos)
		(*j)++;
	if (fixed != 0)
		len = fixed;
	else {
		r = prng(s);
		switch (r & 7) {
		case 0:
		case 1:
			if (*j <= k) {
				len = bnd[*j] - pos;
				break;
			}
			/* FALLTHROUGH */
		case 2:
		case 3:
			len = 1 + (r >> 3) % 8;
			break;
		case 4:
		case 5:
			len = 1 + (r >> 3) % 64;
			break;
		default:
			len = 1 + (r >> 3) % CHUNK_MAX;
			break;
		}
	}
	if (len > n - pos)
		len = n - pos;
	*on_boundary = *j <= k && bnd[*j] == pos + len;
	return len;
}

/*
 * Feeds the n bytes of seed (k messages ending at bnd[1..k], their types in
 * types[]) to the reader in reads of next_read() sizes and checks that it
 * yields exactly those messages. Adds the reads made to *reads and those
 * ending on a boundary to *aligned.
 */
static void
parse_chunked(const char *name, const uint8_t *seed, size_t n,
    const size_t *bnd, const uint8_t *types, size_t k, uint32_t s,
    size_t fixed, size_t *reads, size_t *aligned)
{
	struct rfb_client_msg m;
	struct buf b;
	size_t pos = 0, len, tlen, j = 1, msgs = 0, end, maxmsg;
	const uint8_t *text = NULL;
	uint8_t *p;
	char why[200] = "";
	int r = MOAT_ERR_AGAIN, on;

	maxmsg = rfb_reader_max_msg(&lim);
	buf_init(&b, maxmsg + CHUNK_MAX);
	while (pos < n && why[0] == '\0') {
		len = next_read(&s, fixed, bnd, k, &j, pos, n, &on);
		(*reads)++;
		*aligned += on;
		if (buf_reserve(&b, len, &p) != 0) {
			snprintf(why, sizeof(why), "a read of %zu at %zu does "
			    "not fit (%zu buffered)", len, pos, buf_len(&b));
			break;
		}
		memcpy(p, seed + pos, len);
		pos += len;
		for (;;) {
			if ((r = rfb_read_client_msg(&b, &m, &lim)) != 0)
				break;
			/* Offset in the stream where this message ends. */
			end = pos - buf_len(&b);
			msgs++;
			if (msgs > k || end != bnd[msgs] ||
			    m.type != types[msgs - 1]) {
				snprintf(why, sizeof(why), "message %zu: type %u "
				    "ending at %zu", msgs, m.type, end);
				break;
			}
			text = m.type == RFB_CLIENT_CUT_TEXT ? m.u.cut.text :
			    m.type == RFB_CLIENT_FENCE ? m.u.fence.payload : NULL;
			tlen = m.type == RFB_CLIENT_CUT_TEXT ? m.u.cut.len :
			    m.type == RFB_CLIENT_FENCE ? m.u.fence.len : 0;
			/*
			 * Its text or payload: its last tlen bytes, in the
			 * buffer's storage (which a complete parse may have
			 * emptied).
			 */
			if (text != NULL && tlen > 0 && (tlen > end ||
			    text < b.data || tlen > b.cap ||
			    text > b.data + b.cap - tlen ||
			    memcmp(text, seed + end - tlen, tlen) != 0)) {
				snprintf(why, sizeof(why), "message %zu: its "
				    "text is not the stream's", msgs);
				break;
			}
		}
		if (why[0] != '\0')
			break;
		if (r != MOAT_ERR_AGAIN) {
			snprintf(why, sizeof(why), "%s after %zu messages",
			    moat_strerror(r), msgs);
			break;
		}
		if (buf_len(&b) >= maxmsg) {
			snprintf(why, sizeof(why), "%zu bytes left incomplete",
			    buf_len(&b));
			break;
		}
		buf_compact(&b);
	}
	if (why[0] == '\0' && (msgs != k || buf_len(&b) != 0))
		snprintf(why, sizeof(why), "%zu of %zu messages, %zu bytes "
		    "left", msgs, k, buf_len(&b));
	CHECK(why[0] == '\0', "%s: reads of %s%zu (seed %u): %s", name,
	    fixed != 0 ? "" : "up to ", fixed != 0 ? fixed : (size_t)CHUNK_MAX,
	    (unsigned)s, why);
	buf_free(&b);
}

/* Every fixed read size and PRNG seed over a seed that parsed whole. */
static void
test_chunked(const char *name, const uint8_t *seed, size_t n,
    const size_t *bnd, size_t k)
{
	static const size_t fixed[] = { 1, 3, CHUNK_MAX };
	static const uint32_t seeds[] = { 1, 2, 3, 42, 0x9e3779b9, 0xdeadbeef };
	struct rfb_client_msg m;
	struct buf b;
	size_t i, reads = 0, aligned = 0;
	uint8_t *types, *copy;

	/* The types of the whole parse, message by message. */
	copy = exact_copy(seed, n);
	if ((types = malloc(k)) == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	buf_view(&b, copy, n);
	for (i = 0; i < k && rfb_read_client_msg(&b, &m, &lim) == 0; i++)
		types[i] = m.type;
	CHECK(i == k, "%s", name);
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		parse_chunked(name, copy, n, bnd, types, k, 0, fixed[i],
		    &reads, &aligned);
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		parse_chunked(name, copy, n, bnd, types, k, seeds[i], 0,
		    &reads, &aligned);
	printf("%s: %zu cuttings into %zu reads (%zu ending on a message "
	    "boundary): all give the %zu messages of the whole parse\n", name,
	    sizeof(fixed) / sizeof(fixed[0]) + sizeof(seeds) / sizeof(seeds[0]),
	    reads, aligned, k);
	free(types);
	free(copy);
}

static void
test_stream_seed(const char *name, const uint8_t *seed, size_t n)
{
	size_t counts[256] = { 0 }, *bnd, k, j, i, L, at;
	struct outcome o, full;
	struct tally flips = { 0 }, cuts = { 0 };
	uint8_t *copy, *part;
	long *resync;
	int bit, t, check_full;

	/* The seed itself: whole, no error, every byte consumed. */
	copy = exact_copy(seed, n);
	if ((bnd = calloc(n + 1, sizeof(*bnd))) == NULL ||
	    (resync = malloc((n + 1) * sizeof(*resync))) == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	o = parse_stream(name, copy, n, 0, NULL, 0, bnd + 1, counts);
	CHECK(o.r == MOAT_ERR_AGAIN && o.end == n && o.msgs > 0,
	    "%s: the recording does not parse completely: %s after %zu "
	    "messages at offset %zu of %zu", name, moat_strerror(o.r), o.msgs,
	    o.end, n);
	if (o.r != MOAT_ERR_AGAIN || o.end != n || o.msgs == 0) {
		free(resync);
		free(bnd);
		free(copy);
		return;
	}
	k = o.msgs;
	bnd[0] = 0;			/* bnd[0..k]: message boundaries */
	for (i = 0; i <= n; i++)
		resync[i] = -1;
	for (j = 0; j <= k; j++)
		resync[bnd[j]] = (long)(k - j);
	printf("%s: %zu bytes, %zu messages:", name, n, k);
	for (t = 0; t < 256; t++)
		if (counts[t] > 0)
			printf(" %s %zu", type_name(t), counts[t]);
	printf("\n");
	test_chunked(name, seed, n, bnd, k);

	/* Every single-bit flip, parsed from the boundary at or before it. */
	for (i = 0, j = 0; i < n; i++) {
		while (bnd[j + 1] <= i)
			j++;
		for (bit = 0; bit < 8; bit++) {
			copy[i] ^= (uint8_t)(1 << bit);
			o = parse_stream(name, copy + bnd[j], n - bnd[j], bnd[j],
			    resync, i, NULL, NULL);
			o.msgs += j;
			count_outcome(&flips, &o, n);
			check_full = n <= FULL_MAX ||
			    flips.inputs % FULL_EVERY == 0;
			if (check_full) {
				full = parse_stream(name, copy, n, 0, NULL, 0,
				    NULL, NULL);
				CHECK(same_outcome(&o, &full), "%s: flip of bit %d "
				    "at %zu: %zu msgs/%zu/%d, full parse %zu/%zu/%d",
				    name, bit, i, o.msgs, o.end, o.r, full.msgs,
				    full.end, full.r);
				flips.full_checked++;
			}
			copy[i] ^= (uint8_t)(1 << bit);
		}
	}

	/* Every truncation: messages before it parse, the cut one waits. */
	for (L = 0, j = 0; L < n; L++) {
		while (bnd[j + 1] <= L)
			j++;
		part = exact_copy(seed + bnd[j], L - bnd[j]);
		o = parse_stream(name, part, L - bnd[j], bnd[j], NULL, 0, NULL,
		    NULL);
		free(part);
		o.msgs += j;
		count_outcome(&cuts, &o, L);
		CHECK(o.r == MOAT_ERR_AGAIN && o.msgs == j && o.end == bnd[j],
		    "%s: truncated to %zu: %s after %zu messages", name, L,
		    moat_strerror(o.r), o.msgs);
		if (n <= FULL_MAX || L % FULL_EVERY == 0) {
			part = exact_copy(seed, L);
			full = parse_stream(name, part, L, 0, NULL, 0, NULL,
			    NULL);
			free(part);
			CHECK(same_outcome(&o, &full), "%s: truncated to %zu: "
			    "full parse differs", name, L);
			cuts.full_checked++;
		}
	}
	at = flips.refused[0] + flips.refused[1] + flips.refused[2];
	printf("%s: %zu bit flips: %zu parse completely, %zu end incomplete, "
	    "%zu refused (protocol %zu, too long %zu, invalid %zu); "
	    "%zu checked by full parse\n", name, flips.inputs, flips.complete,
	    flips.incomplete, at, flips.refused[0], flips.refused[1],
	    flips.refused[2], flips.full_checked);
	printf("%s: %zu truncations: all wait for more input after the last "
	    "whole message (%zu checked by full parse)\n", name, cuts.inputs,
	    cuts.full_checked);
	CHECK(flips.inputs == 8 * n && cuts.inputs == n, "%s", name);
	free(resync);
	free(bnd);
	free(copy);
}

/* ---- handshake seeds (rfb_handshake) --------------------------------------- */

enum hs_result { HS_EMPTY, HS_INCOMPLETE, HS_OK, HS_REFUSED, HS_BAD };

/*
 * The security-type and VeNCrypt choice parsers (selectors 2, 3 and 4), in
 * fuzz/fuzz_rfb_handshake.c's layout: [U8 n, the offered list,] the
 * viewer's bytes. The list and the viewer's bytes are separate exact-size
 * copies. Checks only the contract: 0, AGAIN or PROTOCOL, consuming the
 * choice or nothing.
 */
static enum hs_result
hs_parse_choice(const char *name, int sel, const uint8_t *d, size_t n,
    size_t *consumed)
{
	uint8_t *list = NULL, *view, type, major, minor;
	uint32_t *subs = NULL, sub;
	size_t nl = 0, k, i, want;
	struct buf b;
	int r;

	if (sel != 3) {
		if (n < 1)
			return HS_INCOMPLETE;
		nl = sel == 2 ? (d[0] <= n - 1 ? d[0] : n - 1) :
		    (d[0] <= (n - 1) / 4 ? d[0] : (n - 1) / 4);
		if (sel == 2)
			list = exact_copy(d + 1, nl);
		else if ((subs = malloc(nl > 0 ? nl * sizeof(*subs) : 1)) ==
		    NULL) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
		for (i = 0; sel == 4 && i < nl; i++)
			subs[i] = ((uint32_t)d[1 + 4 * i] << 24) |
			    ((uint32_t)d[2 + 4 * i] << 16) |
			    ((uint32_t)d[3 + 4 * i] << 8) | d[4 + 4 * i];
		d += 1 + (sel == 2 ? nl : 4 * nl);
		n -= 1 + (sel == 2 ? nl : 4 * nl);
	}
	k = n;
	view = exact_copy(d, k);
	buf_view(&b, view, k);
	if (sel == 2) {
		r = rfb_parse_security_choice(&b, list, nl, &type);
		want = 1;
	} else if (sel == 3) {
		r = rfb_vencrypt_parse_version(&b, &major, &minor);
		want = RFB_VENCRYPT_VERSION_LEN;
	} else {
		r = rfb_vencrypt_parse_subtype(&b, subs, nl, &sub);
		want = RFB_VENCRYPT_SUBTYPE_LEN;
	}
	*consumed = k - buf_len(&b);
	CHECK(*consumed == (r == 0 ? want : 0), "%s: selector %d consumed "
	    "%zu on %s", name, sel, *consumed, moat_strerror(r));
	CHECK(r != MOAT_ERR_AGAIN || k < want, "%s: selector %d waits with "
	    "%zu bytes", name, sel, k);
	free(view);
	free(list);
	free(subs);
	if (r == 0)
		return HS_OK;
	if (r == MOAT_ERR_AGAIN)
		return HS_INCOMPLETE;
	CHECK(r == MOAT_ERR_PROTOCOL, "%s: selector %d: %s", name, sel,
	    moat_strerror(r));
	return r == MOAT_ERR_PROTOCOL ? HS_REFUSED : HS_BAD;
}

/*
 * Feeds d to the parser its first byte selects (mod 5), as
 * fuzz/fuzz_rfb_handshake.c does, through exact-size copies. consumed gets
 * the bytes the parser consumed (the version parser always reads 12).
 */
static enum hs_result
hs_parse(const char *name, const uint8_t *d, size_t n, int *minor,
    size_t *consumed, int expect_dummy)
{
	char *user = NULL, *pass = NULL;
	uint8_t *c;
	struct buf b;
	size_t plen, i;
	int r;

	*consumed = 0;
	if (n < 1)
		return HS_EMPTY;
	if (d[0] % 5 >= 2)
		return hs_parse_choice(name, d[0] % 5, d + 1, n - 1, consumed);
	if (d[0] % 5 == 1) {
		if (n - 1 < RFB_VERSION_LEN)
			return HS_INCOMPLETE;	/* moat-net reads all 12 first */
		c = exact_copy(d + 1, RFB_VERSION_LEN);
		r = rfb_parse_version(c, minor);
		free(c);
		*consumed = RFB_VERSION_LEN;
		if (r == 0)
			CHECK(*minor == 3 || *minor == 7 || *minor == 8, "%s", name);
		else
			CHECK(r == MOAT_ERR_PROTOCOL, "%s: version: %s", name,
			    moat_strerror(r));
		return r == 0 ? HS_OK : r == MOAT_ERR_PROTOCOL ? HS_REFUSED :
		    HS_BAD;
	}
	c = exact_copy(d + 1, n - 1);
	buf_view(&b, c, n - 1);
	r = rfb_parse_plain(&b, &user, &pass);
	*consumed = n - 1 - buf_len(&b);
	if (r == 0) {
		CHECK(user[0] != '\0' && *consumed >= 8 &&
		    *consumed == 8 + strlen(user) + strlen(pass),
		    "%s: plain consumed %zu", name, *consumed);
		plen = strlen(pass);
		if (expect_dummy) {
			/* Never a real password in a seed (rfb_record.py). */
			for (i = 0; i < plen; i++)
				if (pass[i] != dummy_password[i %
				    (sizeof(dummy_password) - 1)])
					break;
			CHECK(i == plen, "%s: the password is not the dummy",
			    name);
		}
		free(user);
		free(pass);
	} else
		CHECK(*consumed == 0, "%s: consumed on failure", name);
	free(c);
	if (r == 0)
		return HS_OK;
	if (r == MOAT_ERR_AGAIN)
		return HS_INCOMPLETE;
	CHECK(refusal_index(r) >= 0, "%s: plain: %s", name, moat_strerror(r));
	return refusal_index(r) >= 0 ? HS_REFUSED : HS_BAD;
}

static void
test_handshake_seed(const char *name, const uint8_t *seed, size_t n)
{
	size_t tally[5] = { 0 }, cut_tally[5] = { 0 }, consumed, i, L;
	enum hs_result res;
	uint8_t *copy;
	int minor = 0, bit;

	/* The seed itself: parses, and the parser takes all of it. */
	res = hs_parse(name, seed, n, &minor, &consumed, 1);
	CHECK(res == HS_OK && consumed == n - 1,
	    "%s: the recording does not parse completely (%d, %zu of %zu)",
	    name, res, consumed, n > 0 ? n - 1 : 0);
	if (res != HS_OK)
		return;
	if (seed[0] % 5 == 1)
		CHECK(minor == 8, "%s: RFB 3.%d, not 3.8", name, minor);
	printf("%s: %zu bytes, %s\n", name, n, seed[0] % 5 == 1 ?
	    "ProtocolVersion RFB 003.008" : "Plain credentials (dummy password)");

	copy = exact_copy(seed, n);
	for (i = 0; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			copy[i] ^= (uint8_t)(1 << bit);
			res = hs_parse(name, copy, n, &minor, &consumed, 0);
			CHECK(res != HS_BAD && consumed <= n - 1, "%s: flip of "
			    "bit %d at %zu", name, bit, i);
			tally[res]++;
			copy[i] ^= (uint8_t)(1 << bit);
		}
	free(copy);
	for (L = 0; L < n; L++) {
		copy = exact_copy(seed, L);
		res = hs_parse(name, copy, L, &minor, &consumed, 0);
		free(copy);
		/* A prefix of valid input is never refused: it is incomplete. */
		CHECK(res == (L == 0 ? HS_EMPTY : HS_INCOMPLETE),
		    "%s: truncated to %zu: %d", name, L, res);
		cut_tally[res]++;
	}
	printf("%s: %zu bit flips: %zu parse, %zu incomplete, %zu refused; "
	    "%zu truncations: %zu incomplete, %zu empty\n", name, 8 * n,
	    tally[HS_OK], tally[HS_INCOMPLETE], tally[HS_REFUSED], n,
	    cut_tally[HS_INCOMPLETE], cut_tally[HS_EMPTY]);
}

/* ---- driver ------------------------------------------------------------------- */

static size_t
run_corpus(const char *src, const char *corpus,
    void (*test)(const char *, const uint8_t *, size_t))
{
	char dir[4096], path[4400], *names[MAX_SEEDS];
	size_t n, i, len;
	uint8_t *d;

	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", src, corpus);
	n = list_seeds(dir, names, MAX_SEEDS);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		d = read_file(path, &len);
		CHECK(d != NULL, "cannot read %s", path);
		if (d != NULL) {
			test(names[i], d, len);
			free(d);
		}
		free(names[i]);
	}
	return n;
}

int
main(void)
{
	const char *src = getenv("MOAT_SOURCE_DIR");
	size_t n;

	CHECK(src != NULL, "MOAT_SOURCE_DIR is not set");
	if (src == NULL)
		return check_summary();
	n = run_corpus(src, "rfb_reader", test_stream_seed);
	CHECK(n >= 2, "only %zu recorded rfb_reader seeds", n);
	n = run_corpus(src, "rfb_handshake", test_handshake_seed);
	CHECK(n >= 2, "only %zu recorded rfb_handshake seeds", n);
	return check_summary();
}
