/*
 * fuzz_rfb_reader.c - libFuzzer target for the RFB client-message parser
 * (net/rfb_reader.c). The input is the byte stream a client sends after
 * initialisation. It is parsed three times, and all three must give the
 * same messages (type, length and decoded fields) and end the same way:
 *
 * Each input is parsed twice over, once without and once with the
 * ExtendedClipboard form of ClientCutText negotiated.
 *
 *  1. in one piece;
 *  2. one byte at a time, through a buffer of rfb_reader_max_msg() bytes;
 *  3. cut into reads of pseudo-random sizes (a quarter of them up to the
 *     next message boundary of parse 1, the others 1 to 8, 64 or CHUNK_MAX
 *     bytes), each appended to a buffer of rfb_reader_max_msg() +
 *     CHUNK_MAX bytes and parsed until the reader needs more, then
 *     compacted: what moat-net's net_main.c and net_client.c do with each
 *     socket read. The sizes come from a PRNG seeded with the input's size
 *     and its last 4 bytes, so the fuzzer can steer the cuts.
 *
 * Test code; trusts nothing it is fed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/pixfmt.h"
#include "net/rfb_reader.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TRACE	4096
#define CHUNK_MAX	512	/* the largest read of parse 3 */

/* Every input is parsed without and with ExtendedClipboard negotiated. */
static const struct rfb_reader_limits lims[2] = {
	{ .max_cut_text = 4096, .ext_clipboard = 0 },
	{ .max_cut_text = 4096, .ext_clipboard = 1 },
};
static const struct rfb_reader_limits *limp = &lims[0];

struct trace {
	uint8_t type[MAX_TRACE];
	size_t len[MAX_TRACE];
	uint32_t digest[MAX_TRACE];	/* of the decoded fields */
	size_t n;
	int last;	/* the result that ended parsing */
};

/* Reads every byte a message points at, so ASan sees any stray pointer. */
static unsigned
touch(const struct rfb_client_msg *m)
{
	static const struct fb_format fb = { 0xff0000, 0x00ff00, 0x0000ff };
	struct pixconv pc;
	uint32_t src[3] = { 0x123456, 0xffffff, 0 };
	uint8_t out[12];
	unsigned sum = 0;
	size_t i;

	switch (m->type) {
	case 0:
		/* An accepted format must be one the converter serves. */
		if (rfb_pixfmt_check(&m->u.pixfmt) != 0 ||
		    pixconv_init(&pc, &fb, &m->u.pixfmt) != 0)
			abort();
		pixconv_row(&pc, out, src, 3);
		for (i = 0; i < 3u * pc.bytes; i++)
			sum += out[i];
		break;
	case 6:
		if (m->u.cut.extended ? (!limp->ext_clipboard ||
		    m->u.cut.len < 4 || m->u.cut.len >
		    rfb_extclip_max_payload(limp->max_cut_text)) :
		    m->u.cut.len > limp->max_cut_text)
			abort();
		for (i = 0; i < m->u.cut.len; i++)
			sum += m->u.cut.text[i];
		break;
	case 248:
		if (m->u.fence.len > 64)
			abort();
		for (i = 0; i < m->u.fence.len; i++)
			sum += m->u.fence.payload[i];
		break;
	case 2:
		if (m->u.encodings.kept > 64 ||
		    m->u.encodings.count > 1024)
			abort();
		break;
	}
	return sum;
}

/* FNV-1a over one field. */
static void
mix(uint32_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 16777619u;
}

#define MIX(h, field)	mix((h), &(field), sizeof(field))

/* A digest of what the reader decoded, field by field (no padding). */
static uint32_t
digest(const struct rfb_client_msg *m)
{
	const struct rfb_pixfmt *pf = &m->u.pixfmt;
	uint32_t h = 2166136261u;

	MIX(&h, m->type);
	switch (m->type) {
	case RFB_SET_PIXEL_FORMAT:
		MIX(&h, pf->bpp);
		MIX(&h, pf->depth);
		MIX(&h, pf->big_endian);
		MIX(&h, pf->true_colour);
		MIX(&h, pf->red_max);
		MIX(&h, pf->green_max);
		MIX(&h, pf->blue_max);
		MIX(&h, pf->red_shift);
		MIX(&h, pf->green_shift);
		MIX(&h, pf->blue_shift);
		break;
	case RFB_SET_ENCODINGS:
		MIX(&h, m->u.encodings.count);
		MIX(&h, m->u.encodings.kept);
		mix(&h, m->u.encodings.enc,
		    m->u.encodings.kept * sizeof(m->u.encodings.enc[0]));
		break;
	case RFB_FB_UPDATE_REQUEST:
		MIX(&h, m->u.update.incremental);
		MIX(&h, m->u.update.x);
		MIX(&h, m->u.update.y);
		MIX(&h, m->u.update.w);
		MIX(&h, m->u.update.h);
		break;
	case RFB_KEY_EVENT:
		MIX(&h, m->u.key.down);
		MIX(&h, m->u.key.keysym);
		break;
	case RFB_POINTER_EVENT:
		MIX(&h, m->u.pointer.mask);
		MIX(&h, m->u.pointer.x);
		MIX(&h, m->u.pointer.y);
		break;
	case RFB_CLIENT_CUT_TEXT:
		MIX(&h, m->u.cut.len);
		MIX(&h, m->u.cut.extended);
		mix(&h, m->u.cut.text, m->u.cut.len);
		break;
	case RFB_ENABLE_CONTINUOUS_UPDATES:
		MIX(&h, m->u.cu.enable);
		MIX(&h, m->u.cu.x);
		MIX(&h, m->u.cu.y);
		MIX(&h, m->u.cu.w);
		MIX(&h, m->u.cu.h);
		break;
	case RFB_CLIENT_FENCE:
		MIX(&h, m->u.fence.flags);
		MIX(&h, m->u.fence.len);
		mix(&h, m->u.fence.payload, m->u.fence.len);
		break;
	case RFB_SET_DESKTOP_SIZE:
		MIX(&h, m->u.desktop_size.w);
		MIX(&h, m->u.desktop_size.h);
		MIX(&h, m->u.desktop_size.nscreens);
		break;
	case RFB_QEMU_CLIENT:
		MIX(&h, m->u.qemu.subtype);
		MIX(&h, m->u.qemu.down);
		MIX(&h, m->u.qemu.keysym);
		MIX(&h, m->u.qemu.keycode);
		break;
	}
	return h;
}

static void
record(struct trace *t, const struct rfb_client_msg *m, size_t len)
{
	if (t->n < MAX_TRACE) {
		t->type[t->n] = m->type;
		t->len[t->n] = len;
		t->digest[t->n] = digest(m);
	}
	t->n++;
}

static void
parse_whole(const uint8_t *data, size_t size, struct trace *t)
{
	struct rfb_client_msg m;
	struct buf b;
	size_t before;
	int r;

	buf_view(&b, data, size);
	for (;;) {
		before = buf_len(&b);
		if ((r = rfb_read_client_msg(&b, &m, limp)) != 0) {
			if (buf_len(&b) != before)
				abort();	/* consumed on failure */
			break;
		}
		if (buf_len(&b) >= before ||
		    before - buf_len(&b) > rfb_reader_max_msg(limp))
			abort();
		(void)touch(&m);
		record(t, &m, before - buf_len(&b));
	}
	t->last = r;
}

static void
parse_bytewise(const uint8_t *data, size_t size, struct trace *t)
{
	struct rfb_client_msg m;
	struct buf b;
	size_t i, before;
	int r = MOAT_ERR_AGAIN;

	buf_init(&b, rfb_reader_max_msg(limp));
	for (i = 0; i < size; i++) {
		if (buf_put_u8(&b, data[i]) != 0)
			abort();	/* a message outgrew rfb_reader_max_msg() */
		before = buf_len(&b);
		if ((r = rfb_read_client_msg(&b, &m, limp)) == MOAT_ERR_AGAIN)
			continue;
		if (r != 0)
			break;
		(void)touch(&m);
		record(t, &m, before - buf_len(&b));
		buf_compact(&b);
	}
	/* Input ended on a message boundary: the reader now waits for more. */
	t->last = r == 0 ? MOAT_ERR_AGAIN : r;
	buf_free(&b);
}

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
 * The size of the next read at offset pos: a quarter of the time up to the
 * next message boundary of the whole parse w, otherwise 1-8, 1-64 or
 * 1-CHUNK_MAX bytes; never past the end.
 */
static size_t
next_chunk(uint32_t *s, const struct trace *w, size_t *k, size_t *bnd,
    size_t pos, size_t size)
{
	uint32_t r = prng(s);
	size_t n;

	/* *bnd: the end of whole-parse message *k, the first one past pos. */
	while (*bnd <= pos && *k < w->n && *k < MAX_TRACE)
		*bnd += w->len[(*k)++];
	switch (r & 7) {
	case 0:
	case 1:
		if (*bnd > pos && *bnd - pos <= rfb_reader_max_msg(limp)) {
			n = *bnd - pos;
			break;
		}
		/* FALLTHROUGH */
	case 2:
	case 3:
		n = 1 + (r >> 3) % 8;
		break;
	case 4:
	case 5:
		n = 1 + (r >> 3) % 64;
		break;
	default:
		n = 1 + (r >> 3) % CHUNK_MAX;
		break;
	}
	return n < size - pos ? n : size - pos;
}

static void
parse_chunked(const uint8_t *data, size_t size, const struct trace *w,
    struct trace *t)
{
	struct rfb_client_msg m;
	struct buf b;
	uint32_t seed;
	size_t pos = 0, n, k = 0, bnd = 0, before, i;
	uint8_t *p;
	int r = MOAT_ERR_AGAIN;

	/* Seeded from the size and the last 4 bytes: steerable, never 0. */
	seed = (uint32_t)size * 2654435761u;
	for (i = 0; i < 4 && i < size; i++)
		seed ^= (uint32_t)data[size - 1 - i] << (8 * i);
	if (seed == 0)
		seed = 1;
	buf_init(&b, rfb_reader_max_msg(limp) + CHUNK_MAX);
	while (pos < size) {
		n = next_chunk(&seed, w, &k, &bnd, pos, size);
		/* net_io_read_some(): reserve, then fill. */
		if (buf_reserve(&b, n, &p) != 0)
			abort();	/* a message outgrew rfb_reader_max_msg() */
		memcpy(p, data + pos, n);
		pos += n;
		/* net_client_process(): every whole message, then compact. */
		for (;;) {
			before = buf_len(&b);
			if ((r = rfb_read_client_msg(&b, &m, limp)) != 0)
				break;
			(void)touch(&m);
			record(t, &m, before - buf_len(&b));
		}
		if (r != MOAT_ERR_AGAIN) {
			if (buf_len(&b) != before)
				abort();	/* consumed on failure */
			break;
		}
		if (buf_len(&b) >= rfb_reader_max_msg(limp))
			abort();	/* waits for more than a message needs */
		buf_compact(&b);
	}
	t->last = r;
	buf_free(&b);
}

static void
agree(const struct trace *a, const struct trace *b)
{
	size_t i, n;

	if (a->n != b->n || a->last != b->last)
		abort();
	n = a->n < MAX_TRACE ? a->n : MAX_TRACE;
	for (i = 0; i < n; i++)
		if (a->type[i] != b->type[i] || a->len[i] != b->len[i] ||
		    a->digest[i] != b->digest[i])
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trace a, b, c;
	int i;

	for (i = 0; i < 2; i++) {
		limp = &lims[i];
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		memset(&c, 0, sizeof(c));
		parse_whole(data, size, &a);
		parse_bytewise(data, size, &b);
		parse_chunked(data, size, &a, &c);
		agree(&a, &b);
		agree(&a, &c);
	}
	return 0;
}
