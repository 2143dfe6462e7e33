/*
 * test_vencrypt.c - unit and deterministic mutation tests for the
 * security-type choice (net/rfb_handshake.c) and the VeNCrypt version and
 * subtype negotiation (net/rfb_vencrypt.c). Test code; runs no moat process
 * and trusts only the parsers' documented contracts.
 *
 *  - Builders: the exact bytes moat-net has always sent for every
 *    Encryption level (the security-type lists, VeNCrypt 0.2, the ack with
 *    the subtype lists); lists that may not be sent are refused and leave
 *    the output untouched.
 *  - Parsers: every byte against every list moat offers, every VeNCrypt
 *    version, a set of subtypes around the offered ones.
 *  - Mutations: inputs in fuzz/fuzz_rfb_handshake.c's layout (selector,
 *    offered list, the viewer's bytes), made here for every list and
 *    choice moat offers and read from every seed of
 *    fuzz/corpus/rfb_handshake whose selector picks these parsers: every
 *    single-bit flip (of the list and of the viewer's bytes) and every
 *    truncation must give the result a plain membership test predicts,
 *    consume exactly the choice or nothing, and name the value it saw. The
 *    list and the viewer's bytes are separate exact-size heap copies, so an
 *    AddressSanitizer build (-DMOAT_SANITIZE=ON) catches any overread.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_handshake.h"
#include "net/rfb_ra2.h"
#include "net/rfb_types.h"
#include "net/rfb_vencrypt.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

#include "check.h"

#define SEL_SECTYPE	2	/* fuzz_rfb_handshake.c's selectors (mod 5) */
#define SEL_VERSION	3
#define SEL_SUBTYPE	4
#define MAX_SEED	2048

/* The security-type lists moat-net offers (net_handshake.c's offer_list). */
static const uint8_t types_no_ra2[] = { RFB_SEC_VENCRYPT };
static const uint8_t types_maximum[] = { RFB_SEC_VENCRYPT, RFB_SEC_RA2_256 };
static const uint8_t types_on[] = { RFB_SEC_VENCRYPT, RFB_SEC_RA2_256,
	RFB_SEC_RA2 };
static const uint8_t types_off[] = { RFB_SEC_VENCRYPT, RFB_SEC_RA2_256,
	RFB_SEC_RA2, RFB_SEC_RA2NE_256, RFB_SEC_RA2NE };

/* The VeNCrypt subtype lists (net_handshake.c's vencrypt_negotiate). */
static const uint32_t subs_tls[] = { RFB_VENCRYPT_X509PLAIN };
static const uint32_t subs_off[] = { RFB_VENCRYPT_X509PLAIN,
	RFB_SEC_RA2NE_256, RFB_SEC_RA2NE };

static const struct {
	const char *name;
	const uint8_t *types;
	size_t n;
	const uint8_t *wire;	/* what moat-net sent before the parsers */
	size_t wlen;
} type_lists[] = {
	{ "no RSA-AES", types_no_ra2, 1, (const uint8_t *)"\x01\x13", 2 },
	{ "AlwaysMaximum", types_maximum, 2, (const uint8_t *)"\x02\x13\x81", 3 },
	{ "AlwaysOn", types_on, 3, (const uint8_t *)"\x03\x13\x81\x05", 4 },
	{ "PreferOff", types_off, 5,
	    (const uint8_t *)"\x05\x13\x81\x05\x82\x06", 6 },
};

static const struct {
	const char *name;
	const uint32_t *subs;
	size_t n;
	const uint8_t *wire;
	size_t wlen;
} sub_lists[] = {
	{ "X509Plain", subs_tls, 1, (const uint8_t *)"\x00\x01\x00\x00\x01\x06",
	    6 },
	{ "PreferOff", subs_off, 3, (const uint8_t *)"\x00\x03\x00\x00\x01\x06"
	    "\x00\x00\x00\x82\x00\x00\x00\x06", 14 },
};

enum res { RES_OK, RES_AGAIN, RES_REFUSED, RES_NONE, RES_N };

struct tally {
	size_t n[RES_N];
};

/* Returns n zeroed bytes of fresh heap, exactly (never NULL; exits). */
static void *
exact_alloc(size_t n)
{
	void *c = calloc(n > 0 ? n : 1, 1);

	if (c == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return c;
}

/* Returns an exact-size heap copy of n bytes of p. */
static void *
exact_copy(const void *p, size_t n)
{
	void *c = exact_alloc(n);

	if (n > 0)
		memcpy(c, p, n);
	return c;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static enum res
res_of(int r)
{
	return r == 0 ? RES_OK : r == MOAT_ERR_AGAIN ? RES_AGAIN : RES_REFUSED;
}

/* ---- builders ------------------------------------------------------------ */

static void
test_builders(void)
{
	uint8_t store[2 + 4 * 256], types[256];
	uint32_t subs[256];
	struct buf b;
	size_t i;
	int r;

	for (i = 0; i < sizeof(type_lists) / sizeof(type_lists[0]); i++) {
		buf_init_fixed(&b, store, sizeof(store));
		r = rfb_put_security_types(&b, type_lists[i].types,
		    type_lists[i].n);
		CHECK(r == 0 && buf_len(&b) == type_lists[i].wlen &&
		    memcmp(buf_ptr(&b), type_lists[i].wire,
		    type_lists[i].wlen) == 0, "security types, %s",
		    type_lists[i].name);
	}
	for (i = 0; i < sizeof(sub_lists) / sizeof(sub_lists[0]); i++) {
		buf_init_fixed(&b, store, sizeof(store));
		r = rfb_vencrypt_put_subtypes(&b, sub_lists[i].subs,
		    sub_lists[i].n);
		CHECK(r == 0 && buf_len(&b) == sub_lists[i].wlen &&
		    memcmp(buf_ptr(&b), sub_lists[i].wire,
		    sub_lists[i].wlen) == 0, "subtypes, %s", sub_lists[i].name);
	}
	buf_init_fixed(&b, store, sizeof(store));
	CHECK(rfb_vencrypt_put_version(&b) == 0 && buf_len(&b) == 2 &&
	    store[0] == 0 && store[1] == 2);

	/* The longest lists there can be, and one more. */
	for (i = 0; i < 256; i++) {
		types[i] = (uint8_t)(i + 1);
		subs[i] = (uint32_t)i + 1;
	}
	buf_init_fixed(&b, store, sizeof(store));
	CHECK(rfb_put_security_types(&b, types, 255) == 0 &&
	    buf_len(&b) == 256 && store[0] == 255 && store[255] == 255);
	buf_init_fixed(&b, store, sizeof(store));
	CHECK(rfb_vencrypt_put_subtypes(&b, subs, 255) == 0 &&
	    buf_len(&b) == 2 + 4 * 255 && store[1] == 255 &&
	    get_u32(store + 2 + 4 * 254) == 255);

	/* Refused lists append nothing to what is already there. */
	buf_init_fixed(&b, store, sizeof(store));
	(void)buf_put_u8(&b, 0xaa);
	CHECK(rfb_put_security_types(&b, types, 0) == MOAT_ERR_INVALID);
	CHECK(rfb_put_security_types(&b, types, 256) == MOAT_ERR_INVALID);
	types[3] = RFB_SEC_INVALID;
	CHECK(rfb_put_security_types(&b, types, 5) == MOAT_ERR_INVALID);
	CHECK(rfb_vencrypt_put_subtypes(&b, subs, 0) == MOAT_ERR_INVALID);
	CHECK(rfb_vencrypt_put_subtypes(&b, subs, 256) == MOAT_ERR_INVALID);
	subs[2] = 0;
	CHECK(rfb_vencrypt_put_subtypes(&b, subs, 3) == MOAT_ERR_INVALID);
	CHECK(buf_len(&b) == 1 && store[0] == 0xaa);

	/* No room: nothing appended either. */
	buf_init_fixed(&b, store, 5);
	(void)buf_put_u8(&b, 0xaa);
	CHECK(rfb_put_security_types(&b, types_off, 5) == MOAT_ERR_TOO_LONG);
	CHECK(rfb_vencrypt_put_subtypes(&b, subs_tls, 1) == MOAT_ERR_TOO_LONG);
	CHECK(buf_len(&b) == 1);
	buf_init_fixed(&b, store, 1);
	CHECK(rfb_vencrypt_put_version(&b) == MOAT_ERR_TOO_LONG &&
	    buf_len(&b) == 0);
}

/* ---- parsers ------------------------------------------------------------- */

static void
test_parsers(void)
{
	static const uint32_t probes[] = { 0, 1, 2, 5, 6, 19, 129, 130, 256,
	    257, 258, 259, 260, 261, 262, 263, 0x106 << 8, 0x01000106,
	    0x80000106, 0xffffffff };
	uint8_t byte, major, minor, sub4[4];
	uint32_t sub;
	size_t i, j, k, accepted;
	struct buf b;
	int r, v, want;

	for (i = 0; i < sizeof(type_lists) / sizeof(type_lists[0]); i++) {
		accepted = 0;
		for (v = 0; v < 256; v++) {
			byte = (uint8_t)v;
			buf_view(&b, &byte, 1);
			want = v != 0 && memchr(type_lists[i].types, v,
			    type_lists[i].n) != NULL;
			r = rfb_parse_security_choice(&b, type_lists[i].types,
			    type_lists[i].n, &major);
			CHECK(r == (want ? 0 : MOAT_ERR_PROTOCOL) &&
			    buf_len(&b) == (want ? 0u : 1u) && major == byte,
			    "%s: type %d: %s", type_lists[i].name, v,
			    moat_strerror(r));
			accepted += r == 0;
		}
		CHECK(accepted == type_lists[i].n, "%s", type_lists[i].name);
		buf_view(&b, &byte, 0);
		CHECK(rfb_parse_security_choice(&b, type_lists[i].types,
		    type_lists[i].n, &major) == MOAT_ERR_AGAIN);
	}
	/* An empty list accepts nothing. */
	byte = RFB_SEC_VENCRYPT;
	buf_view(&b, &byte, 1);
	CHECK(rfb_parse_security_choice(&b, NULL, 0, &major) ==
	    MOAT_ERR_PROTOCOL && buf_len(&b) == 1);

	accepted = 0;
	for (v = 0; v < 65536; v++) {
		uint8_t ver[2] = { (uint8_t)(v >> 8), (uint8_t)v };

		buf_view(&b, ver, 2);
		r = rfb_vencrypt_parse_version(&b, &major, &minor);
		want = v == 0x0002;
		if (r != (want ? 0 : MOAT_ERR_PROTOCOL) ||
		    buf_len(&b) != (want ? 0u : 2u) || major != ver[0] ||
		    minor != ver[1])
			CHECK(0, "VeNCrypt %u.%u: %s", ver[0], ver[1],
			    moat_strerror(r));
		accepted += r == 0;
	}
	CHECK(accepted == 1);
	for (k = 0; k < 2; k++) {
		buf_view(&b, "\x00\x02", k);
		CHECK(rfb_vencrypt_parse_version(&b, &major, &minor) ==
		    MOAT_ERR_AGAIN && buf_len(&b) == k);
	}

	for (i = 0; i < sizeof(sub_lists) / sizeof(sub_lists[0]); i++) {
		for (j = 0; j < sizeof(probes) / sizeof(probes[0]); j++) {
			sub4[0] = (uint8_t)(probes[j] >> 24);
			sub4[1] = (uint8_t)(probes[j] >> 16);
			sub4[2] = (uint8_t)(probes[j] >> 8);
			sub4[3] = (uint8_t)probes[j];
			want = 0;
			for (k = 0; k < sub_lists[i].n; k++)
				want |= probes[j] == sub_lists[i].subs[k];
			buf_view(&b, sub4, 4);
			r = rfb_vencrypt_parse_subtype(&b, sub_lists[i].subs,
			    sub_lists[i].n, &sub);
			CHECK(r == (want ? 0 : MOAT_ERR_PROTOCOL) &&
			    buf_len(&b) == (want ? 0u : 4u) && sub == probes[j],
			    "%s: subtype %u: %s", sub_lists[i].name, probes[j],
			    moat_strerror(r));
		}
		for (k = 0; k < 4; k++) {
			buf_view(&b, "\x00\x00\x01\x06", k);
			CHECK(rfb_vencrypt_parse_subtype(&b, sub_lists[i].subs,
			    sub_lists[i].n, &sub) == MOAT_ERR_AGAIN &&
			    buf_len(&b) == k);
		}
	}
	/* A 0 "offered" by mistake is still never a choice. */
	sub = 0;
	buf_view(&b, "\x00\x00\x00\x00", 4);
	CHECK(rfb_vencrypt_parse_subtype(&b, &sub, 1, &sub) ==
	    MOAT_ERR_PROTOCOL && buf_len(&b) == 4);
	byte = 0;
	buf_view(&b, &byte, 1);
	CHECK(rfb_parse_security_choice(&b, &byte, 1, &major) ==
	    MOAT_ERR_PROTOCOL);
}

/* ---- inputs in the fuzz target's layout ---------------------------------- */

/*
 * Runs the parser d[0] selects (mod 5) over d, as fuzz_rfb_handshake.c
 * does, checks it against a plain membership test and returns its result;
 * RES_NONE for the selectors of other parsers or an input without a list.
 */
static enum res
run_input(const char *what, const uint8_t *d, size_t n)
{
	uint8_t *list, *view, type = 0, major = 0, minor = 0;
	uint32_t *subs = NULL, sub = 0;
	size_t nl, k, i, used;
	struct buf b;
	int r = 0, want = 0, expect;

	if (n < 1)
		return RES_NONE;
	switch (d[0] % 5) {
	case SEL_SECTYPE:
		if (n < 2)
			return RES_NONE;
		nl = d[1] <= n - 2 ? d[1] : n - 2;
		list = exact_copy(d + 2, nl);
		k = n - 2 - nl;
		view = exact_copy(d + 2 + nl, k);
		for (i = 0; k > 0 && i < nl; i++)
			want |= view[0] != 0 && list[i] == view[0];
		buf_view(&b, view, k);
		r = rfb_parse_security_choice(&b, list, nl, &type);
		used = 1;
		CHECK(k == 0 || type == view[0], "%s: type %u named as %u",
		    what, view[0], type);
		free(list);
		break;
	case SEL_VERSION:
		k = n - 1;
		view = exact_copy(d + 1, k);
		want = k >= 2 && view[0] == 0 && view[1] == 2;
		buf_view(&b, view, k);
		r = rfb_vencrypt_parse_version(&b, &major, &minor);
		used = 2;
		CHECK(k < 2 || (major == view[0] && minor == view[1]),
		    "%s: version named wrongly", what);
		break;
	case SEL_SUBTYPE:
		if (n < 2)
			return RES_NONE;
		nl = d[1] <= (n - 2) / 4 ? d[1] : (n - 2) / 4;
		subs = exact_alloc(nl * sizeof(*subs));
		for (i = 0; i < nl; i++)
			subs[i] = get_u32(d + 2 + 4 * i);
		k = n - 2 - 4 * nl;
		view = exact_copy(d + 2 + 4 * nl, k);
		for (i = 0; k >= 4 && i < nl; i++)
			want |= subs[i] != 0 && subs[i] == get_u32(view);
		buf_view(&b, view, k);
		r = rfb_vencrypt_parse_subtype(&b, subs, nl, &sub);
		used = 4;
		CHECK(k < 4 || sub == get_u32(view), "%s: subtype named wrongly",
		    what);
		free(subs);
		break;
	default:
		return RES_NONE;
	}
	expect = k < used ? MOAT_ERR_AGAIN : want ? 0 : MOAT_ERR_PROTOCOL;
	CHECK(r == expect, "%s: %s, expected %s", what, moat_strerror(r),
	    moat_strerror(expect));
	CHECK(buf_len(&b) == (r == 0 ? k - used : k), "%s: %zu of %zu bytes "
	    "left after %s", what, buf_len(&b), k, moat_strerror(r));
	free(view);
	return res_of(r);
}

/* Every single-bit flip after the selector and every truncation of d. */
static void
mutate(const char *what, const uint8_t *d, size_t n, struct tally *flips,
    struct tally *cuts)
{
	char name[200];
	uint8_t *c;
	size_t i, len;
	int bit;

	c = exact_copy(d, n);
	for (i = 1; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			c[i] ^= (uint8_t)(1 << bit);
			snprintf(name, sizeof(name), "%s, bit %d of byte %zu "
			    "flipped", what, bit, i);
			flips->n[run_input(name, c, n)]++;
			c[i] ^= (uint8_t)(1 << bit);
		}
	free(c);
	for (len = 1; len < n; len++) {
		c = exact_copy(d, len);
		snprintf(name, sizeof(name), "%s, cut to %zu bytes", what, len);
		cuts->n[run_input(name, c, len)]++;
		free(c);
	}
}

static void
print_tally(const char *what, const struct tally *t)
{
	printf("%s: %zu accepted, %zu incomplete, %zu refused, %zu without a "
	    "list\n", what, t->n[RES_OK], t->n[RES_AGAIN], t->n[RES_REFUSED],
	    t->n[RES_NONE]);
}

static void
test_mutations(void)
{
	struct tally flips = { { 0 } }, cuts = { { 0 } };
	uint8_t in[MAX_SEED];
	char what[200];
	size_t i, j, k, n;

	for (i = 0; i < sizeof(type_lists) / sizeof(type_lists[0]); i++)
		for (j = 0; j < type_lists[i].n; j++) {
			/* selector, U8 n, the types, the choice */
			in[0] = SEL_SECTYPE;
			memcpy(in + 1, type_lists[i].wire, type_lists[i].wlen);
			in[1 + type_lists[i].wlen] = type_lists[i].types[j];
			n = 2 + type_lists[i].wlen;
			snprintf(what, sizeof(what), "%s: type %u",
			    type_lists[i].name, type_lists[i].types[j]);
			CHECK(run_input(what, in, n) == RES_OK, "%s", what);
			mutate(what, in, n, &flips, &cuts);
		}
	in[0] = SEL_VERSION;
	in[1] = 0;
	in[2] = 2;
	CHECK(run_input("VeNCrypt 0.2", in, 3) == RES_OK);
	mutate("VeNCrypt 0.2", in, 3, &flips, &cuts);
	for (i = 0; i < sizeof(sub_lists) / sizeof(sub_lists[0]); i++)
		for (j = 0; j < sub_lists[i].n; j++) {
			/* selector, U8 n, the U32s (the ack left out), the choice */
			in[0] = SEL_SUBTYPE;
			n = sub_lists[i].wlen;
			memcpy(in + 1, sub_lists[i].wire + 1, n - 1);
			for (k = 0; k < 4; k++)
				in[n + k] = (uint8_t)(sub_lists[i].subs[j] >>
				    (24 - 8 * k));
			n += 4;
			snprintf(what, sizeof(what), "%s: subtype %u",
			    sub_lists[i].name, sub_lists[i].subs[j]);
			CHECK(run_input(what, in, n) == RES_OK, "%s", what);
			mutate(what, in, n, &flips, &cuts);
		}
	print_tally("made inputs, single-bit flips", &flips);
	print_tally("made inputs, truncations", &cuts);
	CHECK(flips.n[RES_OK] > 0 && flips.n[RES_REFUSED] > 0 &&
	    cuts.n[RES_AGAIN] > 0);
}

static uint8_t *
read_file(const char *path, size_t *lenp)
{
	uint8_t tmp[MAX_SEED + 1];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	n = fread(tmp, 1, sizeof(tmp), f);
	fclose(f);
	if (n > MAX_SEED)
		return NULL;
	*lenp = n;
	return exact_copy(tmp, n);
}

/* The corpus seeds of these parsers: each as it is, then mutated. */
static void
test_seeds(void)
{
	const char *src = getenv("MOAT_SOURCE_DIR");
	struct tally flips = { { 0 } }, cuts = { { 0 } };
	char dir[4096], path[4400];
	struct dirent *de;
	size_t n, seeds = 0;
	uint8_t *d;
	DIR *dh;

	CHECK(src != NULL, "MOAT_SOURCE_DIR is not set");
	if (src == NULL)
		return;
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/rfb_handshake", src);
	CHECK((dh = opendir(dir)) != NULL, "cannot open %s", dir);
	if (dh == NULL)
		return;
	while ((de = readdir(dh)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		d = read_file(path, &n);
		CHECK(d != NULL, "cannot read %s", path);
		if (d == NULL)
			continue;
		if (n > 0 && d[0] % 5 >= SEL_SECTYPE) {
			seeds++;
			(void)run_input(de->d_name, d, n);
			mutate(de->d_name, d, n, &flips, &cuts);
		}
		free(d);
	}
	closedir(dh);
	printf("%zu corpus seeds of these parsers\n", seeds);
	print_tally("seeds, single-bit flips", &flips);
	print_tally("seeds, truncations", &cuts);
	CHECK(seeds >= 3, "only %zu seeds for these parsers", seeds);
}

int
main(void)
{
	test_builders();
	test_parsers();
	test_mutations();
	test_seeds();
	return check_summary();
}
