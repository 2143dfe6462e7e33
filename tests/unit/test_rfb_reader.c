/*
 * test_rfb_reader.c - unit and deterministic mutation tests for the RFB
 * client-message parser (net/rfb_reader.c). Test code; runs no moat process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_reader.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

#include "check.h"

#define CUT_MAX	1000

static const struct rfb_reader_limits lim = { .max_cut_text = CUT_MAX };

/* One valid sample of every message type moat parses. */
static const uint8_t msg_pixfmt[] = {
	0, 0, 0, 0,
	32, 24, 0, 1, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 16, 8, 0, 0, 0, 0
};
static const uint8_t msg_encodings[] = {
	2, 0, 0, 3,
	0x00, 0x00, 0x00, 0x10,
	0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0x11
};
static const uint8_t msg_update[] = {
	3, 1, 0x00, 0x01, 0x00, 0x02, 0x03, 0x20, 0x02, 0x58
};
static const uint8_t msg_key[] = {
	4, 1, 0, 0, 0x00, 0x00, 0xff, 0x0d
};
static const uint8_t msg_pointer[] = {
	5, 0x81, 0x00, 0x10, 0x01, 0x20
};
static const uint8_t msg_cut[] = {
	6, 0, 0, 0, 0x00, 0x00, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'
};
static const uint8_t msg_cu[] = {
	150, 1, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x03, 0x00
};
static const uint8_t msg_fence[] = {
	248, 0, 0, 0, 0x80, 0x00, 0x00, 0x03, 4, 'a', 'b', 'c', 'd'
};
static const uint8_t msg_desktop[] = {
	251, 0, 0x04, 0x00, 0x03, 0x00, 1, 0,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x04, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00
};
static const uint8_t msg_qemu[] = {
	255, 0, 0x00, 0x01, 0x00, 0x00, 0x00, 0x61, 0x00, 0x00, 0x00, 0x1e
};

struct sample {
	const char *name;
	const uint8_t *p;
	size_t len;
};

#define SAMPLE(m) { #m, m, sizeof(m) }
static const struct sample samples[] = {
	SAMPLE(msg_pixfmt), SAMPLE(msg_encodings), SAMPLE(msg_update),
	SAMPLE(msg_key), SAMPLE(msg_pointer), SAMPLE(msg_cut), SAMPLE(msg_cu),
	SAMPLE(msg_fence), SAMPLE(msg_desktop), SAMPLE(msg_qemu),
};
#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

/* Parses one message from a view of p; *used gets the bytes consumed. */
static int
parse(const uint8_t *p, size_t len, struct rfb_client_msg *m, size_t *used)
{
	struct buf b;
	int r;

	buf_view(&b, p, len);
	r = rfb_read_client_msg(&b, m, &lim);
	*used = len - buf_len(&b);
	return r;
}

static void
check_fields(const struct sample *s, const struct rfb_client_msg *m)
{
	CHECK(m->type == s->p[0]);
	switch (m->type) {
	case RFB_SET_PIXEL_FORMAT:
		CHECK(m->u.pixfmt.bpp == 32 && m->u.pixfmt.depth == 24);
		CHECK(m->u.pixfmt.big_endian == 0 && m->u.pixfmt.true_colour == 1);
		CHECK(m->u.pixfmt.red_max == 255 && m->u.pixfmt.green_max == 255 &&
		    m->u.pixfmt.blue_max == 255);
		CHECK(m->u.pixfmt.red_shift == 16 &&
		    m->u.pixfmt.green_shift == 8 && m->u.pixfmt.blue_shift == 0);
		break;
	case RFB_SET_ENCODINGS:
		CHECK(m->u.encodings.count == 3 && m->u.encodings.kept == 3);
		CHECK(m->u.encodings.enc[0] == RFB_ENC_ZRLE);
		CHECK(m->u.encodings.enc[1] == RFB_ENC_RAW);
		CHECK(m->u.encodings.enc[2] == RFB_ENC_CURSOR);
		break;
	case RFB_FB_UPDATE_REQUEST:
		CHECK(m->u.update.incremental == 1);
		CHECK(m->u.update.x == 1 && m->u.update.y == 2);
		CHECK(m->u.update.w == 800 && m->u.update.h == 600);
		break;
	case RFB_KEY_EVENT:
		CHECK(m->u.key.down == 1 && m->u.key.keysym == 0xff0d);
		break;
	case RFB_POINTER_EVENT:
		CHECK(m->u.pointer.mask == 0x81);
		CHECK(m->u.pointer.x == 0x10 && m->u.pointer.y == 0x120);
		break;
	case RFB_CLIENT_CUT_TEXT:
		CHECK(m->u.cut.len == 5);
		CHECK(m->u.cut.text == s->p + 8);
		CHECK(memcmp(m->u.cut.text, "hello", 5) == 0);
		break;
	case RFB_ENABLE_CONTINUOUS_UPDATES:
		CHECK(m->u.cu.enable == 1 && m->u.cu.x == 0 && m->u.cu.y == 0);
		CHECK(m->u.cu.w == 1024 && m->u.cu.h == 768);
		break;
	case RFB_CLIENT_FENCE:
		CHECK(m->u.fence.flags == 0x80000003 && m->u.fence.len == 4);
		CHECK(m->u.fence.payload == s->p + 9);
		break;
	case RFB_SET_DESKTOP_SIZE:
		CHECK(m->u.desktop_size.w == 1024 && m->u.desktop_size.h == 768);
		CHECK(m->u.desktop_size.nscreens == 1);
		break;
	case RFB_QEMU_CLIENT:
		CHECK(m->u.qemu.subtype == 0 && m->u.qemu.down == 1);
		CHECK(m->u.qemu.keysym == 0x61 && m->u.qemu.keycode == 0x1e);
		break;
	default:
		CHECK(!"unexpected type");
	}
}

static void
test_valid_and_truncated(void)
{
	struct rfb_client_msg m;
	size_t i, n, used;
	int r, bad;

	for (i = 0; i < NSAMPLES; i++) {
		memset(&m, 0xa5, sizeof(m));
		r = parse(samples[i].p, samples[i].len, &m, &used);
		CHECK(r == 0);
		CHECK(used == samples[i].len);
		if (r == 0)
			check_fields(&samples[i], &m);
		CHECK(samples[i].len <= rfb_reader_max_msg(&lim));
		bad = 0;
		for (n = 0; n < samples[i].len; n++) {
			r = parse(samples[i].p, n, &m, &used);
			if (r != MOAT_ERR_AGAIN || used != 0) {
				fprintf(stderr, "%s truncated to %zu: %s, used %zu\n",
				    samples[i].name, n, moat_strerror(r), used);
				bad++;
			}
		}
		CHECK(bad == 0);
	}
}

/* All samples back to back, fed one byte at a time through an owned buffer. */
static void
test_stream(void)
{
	struct rfb_client_msg m;
	struct buf b;
	size_t i, j, got = 0;
	int r, bad = 0;

	buf_init(&b, rfb_reader_max_msg(&lim));
	for (i = 0; i < NSAMPLES; i++) {
		for (j = 0; j < samples[i].len; j++) {
			CHECK(buf_put_u8(&b, samples[i].p[j]) == 0);
			r = rfb_read_client_msg(&b, &m, &lim);
			if (j + 1 < samples[i].len) {
				if (r != MOAT_ERR_AGAIN || buf_len(&b) != j + 1)
					bad++;
			} else if (r != 0 || buf_len(&b) != 0 ||
			    m.type != samples[i].p[0])
				bad++;
			else
				got++;
		}
	}
	CHECK(bad == 0);
	CHECK(got == NSAMPLES);
	buf_free(&b);
}

static void
put_pixfmt(uint8_t *p, const struct rfb_pixfmt *pf)
{
	memset(p, 0, 20);
	p[4] = pf->bpp;
	p[5] = pf->depth;
	p[6] = pf->big_endian;
	p[7] = pf->true_colour;
	p[8] = (uint8_t)(pf->red_max >> 8);
	p[9] = (uint8_t)pf->red_max;
	p[10] = (uint8_t)(pf->green_max >> 8);
	p[11] = (uint8_t)pf->green_max;
	p[12] = (uint8_t)(pf->blue_max >> 8);
	p[13] = (uint8_t)pf->blue_max;
	p[14] = pf->red_shift;
	p[15] = pf->green_shift;
	p[16] = pf->blue_shift;
}

static int
pixfmt_eq(const struct rfb_pixfmt *a, const struct rfb_pixfmt *b)
{
	return a->bpp == b->bpp && a->depth == b->depth &&
	    a->big_endian == b->big_endian && a->true_colour == b->true_colour &&
	    a->red_max == b->red_max && a->green_max == b->green_max &&
	    a->blue_max == b->blue_max && a->red_shift == b->red_shift &&
	    a->green_shift == b->green_shift && a->blue_shift == b->blue_shift;
}

static void
test_pixel_formats(void)
{
	static const struct rfb_pixfmt good[] = {
		{ 32, 24, 0, 1, 255, 255, 255, 16, 8, 0 },
		{ 32, 24, 1, 1, 255, 255, 255, 0, 8, 16 },	/* noVNC, BE */
		{ 32, 32, 0, 1, 1023, 1023, 1023, 20, 10, 0 },	/* 30-bit */
		{ 16, 16, 0, 1, 31, 63, 31, 11, 5, 0 },		/* rgb565 */
		{ 16, 15, 1, 1, 31, 31, 31, 10, 5, 0 },		/* rgb555 */
		{ 8, 8, 0, 1, 7, 7, 3, 0, 3, 6 },		/* bgr233 */
		{ 8, 3, 0, 1, 1, 1, 1, 2, 1, 0 },		/* 1-bit channels */
		{ 32, 24, 0, 1, 255, 255, 255, 24, 16, 8 },	/* high bytes */
	};
	static const struct rfb_pixfmt bad[] = {
		{ 24, 24, 0, 1, 255, 255, 255, 16, 8, 0 },	/* bpp 24 */
		{ 0, 0, 0, 1, 255, 255, 255, 16, 8, 0 },	/* bpp 0 */
		{ 32, 0, 0, 1, 255, 255, 255, 16, 8, 0 },	/* depth 0 */
		{ 16, 24, 0, 1, 31, 63, 31, 11, 5, 0 },		/* depth > bpp */
		{ 8, 8, 0, 0, 7, 7, 3, 0, 3, 6 },		/* colour map */
		{ 32, 24, 0, 1, 0, 255, 255, 16, 8, 0 },	/* max 0 */
		{ 32, 24, 0, 1, 255, 254, 255, 16, 8, 0 },	/* not 2^n-1 */
		{ 32, 24, 0, 1, 255, 255, 256, 16, 8, 0 },	/* not 2^n-1 */
		{ 32, 24, 0, 1, 255, 255, 255, 25, 8, 0 },	/* past bpp */
		{ 32, 24, 0, 1, 255, 255, 255, 200, 8, 0 },	/* huge shift */
		{ 16, 16, 0, 1, 255, 255, 255, 16, 8, 0 },	/* past bpp */
		{ 16, 16, 0, 1, 31, 63, 31, 11, 6, 0 },		/* G over R */
		{ 32, 24, 0, 1, 255, 255, 255, 0, 4, 16 },	/* overlap */
		{ 32, 24, 0, 1, 255, 255, 255, 8, 8, 0 },	/* R == G */
		{ 8, 8, 0, 1, 7, 7, 3, 0, 3, 7 },		/* B past bpp */
		{ 32, 32, 0, 1, 65535, 65535, 255, 0, 16, 24 },	/* overlap */
	};
	struct rfb_client_msg m;
	uint8_t raw[20];
	size_t i, used;
	int r;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(rfb_pixfmt_check(&good[i]) == 0);
		put_pixfmt(raw, &good[i]);
		r = parse(raw, sizeof(raw), &m, &used);
		CHECK(r == 0 && used == 20);
		CHECK(pixfmt_eq(&m.u.pixfmt, &good[i]));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rfb_pixfmt_check(&bad[i]) != MOAT_ERR_INVALID)
			fprintf(stderr, "bad pixel format %zu accepted\n", i);
		CHECK(rfb_pixfmt_check(&bad[i]) == MOAT_ERR_INVALID);
		put_pixfmt(raw, &bad[i]);
		r = parse(raw, sizeof(raw), &m, &used);
		CHECK(r == MOAT_ERR_INVALID && used == 0);
	}
	/* Flags other than 0/1 count as set and are normalised. */
	put_pixfmt(raw, &good[1]);
	raw[6] = 0x80;
	raw[7] = 0x02;
	CHECK(parse(raw, sizeof(raw), &m, &used) == 0);
	CHECK(m.u.pixfmt.big_endian == 1 && m.u.pixfmt.true_colour == 1);
	/* Padding is ignored. */
	memset(raw + 1, 0xee, 3);
	memset(raw + 17, 0xee, 3);
	CHECK(parse(raw, sizeof(raw), &m, &used) == 0 && used == 20);
}

static void
test_encodings(void)
{
	struct rfb_client_msg m;
	size_t len, used, i;
	uint8_t *p;
	int r;

	len = 4 + 4 * (size_t)RFB_MAX_ENCODINGS;
	if ((p = malloc(len + 4)) == NULL)
		abort();
	p[0] = RFB_SET_ENCODINGS;
	p[1] = 0;
	p[2] = RFB_MAX_ENCODINGS >> 8;
	p[3] = RFB_MAX_ENCODINGS & 0xff;
	for (i = 0; i < RFB_MAX_ENCODINGS; i++) {
		p[4 + 4 * i] = 0xff;
		p[5 + 4 * i] = 0xff;
		p[6 + 4 * i] = (uint8_t)(i >> 8);
		p[7 + 4 * i] = (uint8_t)i;
	}
	r = parse(p, len, &m, &used);
	CHECK(r == 0 && used == len);
	CHECK(m.u.encodings.count == RFB_MAX_ENCODINGS);
	CHECK(m.u.encodings.kept == RFB_KEEP_ENCODINGS);
	CHECK(m.u.encodings.enc[0] == (int32_t)0xffff0000);
	CHECK(m.u.encodings.enc[RFB_KEEP_ENCODINGS - 1] ==
	    (int32_t)(0xffff0000 | (RFB_KEEP_ENCODINGS - 1)));
	CHECK(len <= rfb_reader_max_msg(&lim));
	/* Header alone: wait for the rest. */
	CHECK(parse(p, 4, &m, &used) == MOAT_ERR_AGAIN && used == 0);
	CHECK(parse(p, len - 1, &m, &used) == MOAT_ERR_AGAIN && used == 0);
	/* One more than allowed is refused from the 4-byte header alone. */
	p[2] = (RFB_MAX_ENCODINGS + 1) >> 8;
	p[3] = (RFB_MAX_ENCODINGS + 1) & 0xff;
	CHECK(parse(p, 4, &m, &used) == MOAT_ERR_TOO_LONG && used == 0);
	p[2] = p[3] = 0xff;
	CHECK(parse(p, 4, &m, &used) == MOAT_ERR_TOO_LONG && used == 0);
	/* Zero encodings is a valid (if useless) message. */
	p[2] = p[3] = 0;
	CHECK(parse(p, 4, &m, &used) == 0 && used == 4);
	CHECK(m.u.encodings.count == 0 && m.u.encodings.kept == 0);
	free(p);
}

static void
test_cut_text(void)
{
	struct rfb_client_msg m;
	uint8_t p[8 + CUT_MAX + 1];
	size_t used;

	memset(p, 'x', sizeof(p));
	p[0] = RFB_CLIENT_CUT_TEXT;
	p[1] = p[2] = p[3] = 0;
	p[4] = p[5] = 0;
	p[6] = CUT_MAX >> 8;
	p[7] = CUT_MAX & 0xff;
	CHECK(parse(p, 8 + CUT_MAX, &m, &used) == 0 && used == 8 + CUT_MAX);
	CHECK(m.u.cut.len == CUT_MAX && m.u.cut.text == p + 8);
	CHECK(8 + CUT_MAX <= rfb_reader_max_msg(&lim));
	CHECK(parse(p, 8 + CUT_MAX - 1, &m, &used) == MOAT_ERR_AGAIN);
	/* Over the limit: refused as soon as the length is known. */
	p[6] = (CUT_MAX + 1) >> 8;
	p[7] = (CUT_MAX + 1) & 0xff;
	CHECK(parse(p, 8, &m, &used) == MOAT_ERR_TOO_LONG && used == 0);
	CHECK(parse(p, sizeof(p), &m, &used) == MOAT_ERR_TOO_LONG);
	/* Extended-clipboard form (top bit) is not negotiated. */
	p[4] = 0x80;
	p[5] = p[6] = 0;
	p[7] = 4;
	CHECK(parse(p, 12, &m, &used) == MOAT_ERR_TOO_LONG && used == 0);
	p[4] = p[5] = p[6] = p[7] = 0xff;		/* -1 as S32 */
	CHECK(parse(p, 8, &m, &used) == MOAT_ERR_TOO_LONG && used == 0);
	p[4] = 0x80;
	p[5] = p[6] = p[7] = 0;			/* INT32_MIN */
	CHECK(parse(p, 8, &m, &used) == MOAT_ERR_TOO_LONG && used == 0);
	/* Empty text. */
	p[4] = p[5] = p[6] = p[7] = 0;
	CHECK(parse(p, 8, &m, &used) == 0 && used == 8 && m.u.cut.len == 0);
}

/* The ExtendedClipboard form: a negative S32 length, when negotiated. */
static void
test_cut_text_extended(void)
{
	static const struct rfb_reader_limits ext = { .max_cut_text = CUT_MAX,
	    .ext_clipboard = 1 };
	struct rfb_client_msg m;
	uint8_t p[8 + 2 * CUT_MAX];
	size_t used, max = rfb_extclip_max_payload(CUT_MAX);
	struct buf b;
	uint32_t neg;

#define SET_LEN(v) do { neg = (uint32_t)(v); p[4] = neg >> 24;		\
	p[5] = neg >> 16; p[6] = neg >> 8; p[7] = neg; } while (0)
#define PARSE_EXT(n) (buf_view(&b, p, (n)),				\
	used = (n), rfb_read_client_msg(&b, &m, &ext) == 0 ?		\
	(used -= buf_len(&b), 0) : rfb_read_client_msg(&b, &m, &ext))

	CHECK(max < sizeof(p) - 8);
	memset(p, 0, sizeof(p));
	p[0] = RFB_CLIENT_CUT_TEXT;
	p[8] = 0x02;				/* Request */
	p[11] = 0x01;				/* text */
	SET_LEN(-4);
	CHECK(PARSE_EXT(12) == 0 && used == 12);
	CHECK(m.u.cut.extended == 1 && m.u.cut.len == 4 && m.u.cut.text == p + 8);
	CHECK(PARSE_EXT(11) == MOAT_ERR_AGAIN);
	/* The largest payload allowed, and one more. */
	SET_LEN(-(int32_t)max);
	CHECK(PARSE_EXT(8 + max) == 0 && used == 8 + max && m.u.cut.len == max);
	CHECK(8 + max <= rfb_reader_max_msg(&ext));
	SET_LEN(-(int32_t)max - 1);
	CHECK(PARSE_EXT(8) == MOAT_ERR_TOO_LONG);
	/* Shorter than the flags. */
	SET_LEN(-3);
	CHECK(PARSE_EXT(12) == MOAT_ERR_PROTOCOL);
	SET_LEN(-1);
	CHECK(PARSE_EXT(12) == MOAT_ERR_PROTOCOL);
	/* INT32_MIN has no positive counterpart. */
	SET_LEN(0x80000000U);
	CHECK(PARSE_EXT(8) == MOAT_ERR_TOO_LONG);
	/* The legacy form still works, with its own bound. */
	SET_LEN(5);
	CHECK(PARSE_EXT(13) == 0 && m.u.cut.extended == 0 && m.u.cut.len == 5);
	SET_LEN(CUT_MAX + 1);
	CHECK(PARSE_EXT(8) == MOAT_ERR_TOO_LONG);
#undef SET_LEN
#undef PARSE_EXT
}

static void
test_max_msg(void)
{
	struct rfb_reader_limits l;

	l.max_cut_text = 0;
	CHECK(rfb_reader_max_msg(&l) == 4 + 4 * (size_t)RFB_MAX_ENCODINGS);
	l.max_cut_text = 256 * 1024;
	/* The extended form's zlib data may exceed the text a little. */
	CHECK(rfb_reader_max_msg(&l) == 8 + rfb_extclip_max_payload(256 * 1024));
	CHECK(rfb_extclip_max_payload(256 * 1024) > 4 + 4 + 256 * 1024 +
	    256 * 1024 / 4096);
	CHECK(rfb_extclip_max_payload(256 * 1024) < 256 * 1024 + 256);
	CHECK(rfb_extclip_max_payload(0) >= 4 + 4 * 16);	/* a full Caps */
	l.max_cut_text = UINT32_MAX;
	CHECK(rfb_reader_max_msg(&l) == 8 + (size_t)0x7fffffff);
}

static void
test_errors(void)
{
	static const uint8_t unknown[] = { 1, 7, 8, 100, 149, 151, 247, 249,
	    250, 252, 253, 254 };
	struct rfb_client_msg m;
	uint8_t p[8 + 16 * (RFB_MAX_SCREENS + 1)];
	size_t i, used;

	for (i = 0; i < sizeof(unknown); i++) {
		memset(p, 0, sizeof(p));
		p[0] = unknown[i];
		CHECK(parse(p, 1, &m, &used) == MOAT_ERR_PROTOCOL && used == 0);
		CHECK(parse(p, sizeof(p), &m, &used) == MOAT_ERR_PROTOCOL);
	}
	CHECK(parse(p, 0, &m, &used) == MOAT_ERR_AGAIN);

	/* QEMU: only the extended key event. */
	memcpy(p, msg_qemu, sizeof(msg_qemu));
	CHECK(parse(p, 1, &m, &used) == MOAT_ERR_AGAIN);
	for (i = 1; i < 256; i++) {
		p[1] = (uint8_t)i;
		if (parse(p, 2, &m, &used) != MOAT_ERR_PROTOCOL || used != 0 ||
		    parse(p, sizeof(msg_qemu), &m, &used) != MOAT_ERR_PROTOCOL)
			break;
	}
	CHECK(i == 256);

	/* Fence payload: at most 64 bytes. */
	memset(p, 'f', sizeof(p));
	memcpy(p, msg_fence, 9);
	p[8] = RFB_MAX_FENCE;
	CHECK(parse(p, 9 + RFB_MAX_FENCE, &m, &used) == 0 &&
	    used == 9 + RFB_MAX_FENCE && m.u.fence.len == RFB_MAX_FENCE);
	CHECK(parse(p, 8 + RFB_MAX_FENCE, &m, &used) == MOAT_ERR_AGAIN);
	p[8] = RFB_MAX_FENCE + 1;
	CHECK(parse(p, 9, &m, &used) == MOAT_ERR_TOO_LONG && used == 0);
	p[8] = 255;
	CHECK(parse(p, 9, &m, &used) == MOAT_ERR_TOO_LONG && used == 0);

	/* SetDesktopSize: at most RFB_MAX_SCREENS screens, all consumed. */
	memset(p, 0, sizeof(p));
	p[0] = RFB_SET_DESKTOP_SIZE;
	p[3] = p[5] = 1;	/* 1x1: the smallest size */
	p[6] = RFB_MAX_SCREENS;
	CHECK(parse(p, 8 + 16 * RFB_MAX_SCREENS, &m, &used) == 0 &&
	    used == 8 + 16 * RFB_MAX_SCREENS &&
	    m.u.desktop_size.nscreens == RFB_MAX_SCREENS);
	CHECK(parse(p, 7 + 16 * RFB_MAX_SCREENS, &m, &used) ==
	    MOAT_ERR_AGAIN && used == 0);
	p[6] = RFB_MAX_SCREENS + 1;
	CHECK(parse(p, 7, &m, &used) == MOAT_ERR_TOO_LONG && used == 0);
	p[6] = 0;
	CHECK(parse(p, 8, &m, &used) == 0 && used == 8);
	/* Width and height 1..16384 (net/rfb_desktop.c); else it closes. */
	p[2] = 0x40;
	p[3] = 0;
	CHECK(parse(p, 8, &m, &used) == 0 && m.u.desktop_size.w == 16384);
	p[3] = 1;
	CHECK(parse(p, 8, &m, &used) == MOAT_ERR_INVALID && used == 0);
	p[2] = p[3] = 0;
	CHECK(parse(p, 8, &m, &used) == MOAT_ERR_INVALID && used == 0);
	p[3] = 1;
	p[4] = p[5] = 0;
	CHECK(parse(p, 6, &m, &used) == MOAT_ERR_INVALID && used == 0);
}

/* Parses a whole blob like moat-net would; returns the result that stopped it. */
static int
parse_all(const uint8_t *p, size_t len, size_t *consumed, int *bad)
{
	struct rfb_client_msg m;
	struct buf b;
	size_t before;
	int r;

	buf_view(&b, p, len);
	for (;;) {
		before = buf_len(&b);
		r = rfb_read_client_msg(&b, &m, &lim);
		if (r != 0) {
			if (buf_len(&b) != before)
				(*bad)++;	/* consumed on failure */
			break;
		}
		if (buf_len(&b) >= before || buf_len(&b) > len)
			(*bad)++;	/* no progress or past the end */
		if (m.type == RFB_CLIENT_CUT_TEXT &&
		    (m.u.cut.text < p || m.u.cut.text + m.u.cut.len > p + len))
			(*bad)++;
		if (m.type == RFB_CLIENT_FENCE && (m.u.fence.payload < p ||
		    m.u.fence.payload + m.u.fence.len > p + len))
			(*bad)++;
		if (buf_len(&b) >= before)
			break;
	}
	*consumed = len - buf_len(&b);
	if (r != MOAT_ERR_AGAIN && r != MOAT_ERR_PROTOCOL &&
	    r != MOAT_ERR_TOO_LONG && r != MOAT_ERR_INVALID)
		(*bad)++;
	return r;
}

static void
test_mutations(void)
{
	size_t total = 0, off, i, n, bit, consumed, boundary[NSAMPLES + 1];
	uint8_t *blob, *copy;
	int bad = 0, r, k;
	long runs = 0;

	for (i = 0; i < NSAMPLES; i++)
		total += samples[i].len;
	if ((blob = malloc(total)) == NULL || (copy = malloc(total)) == NULL)
		abort();
	off = 0;
	boundary[0] = 0;
	for (i = 0; i < NSAMPLES; i++) {
		memcpy(blob + off, samples[i].p, samples[i].len);
		off += samples[i].len;
		boundary[i + 1] = off;
	}

	/* Truncations of the valid stream: exactly the whole messages parse. */
	for (n = 0; n <= total; n++) {
		memcpy(copy, blob, n);
		r = parse_all(copy, n, &consumed, &bad);
		for (k = NSAMPLES; boundary[k] > n; k--)
			;
		if (r != MOAT_ERR_AGAIN || consumed != boundary[k]) {
			fprintf(stderr, "truncation %zu: %s, consumed %zu\n", n,
			    moat_strerror(r), consumed);
			bad++;
		}
		runs++;
	}

	/* Every single-bit flip, each with every truncation. */
	for (bit = 0; bit < total * 8; bit++) {
		for (n = 0; n <= total; n++) {
			/* An exact-size copy: overreads are visible to ASan. */
			uint8_t *exact = malloc(n ? n : 1);

			if (exact == NULL)
				abort();
			memcpy(exact, blob, n);
			if (bit / 8 < n)
				exact[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			(void)parse_all(exact, n, &consumed, &bad);
			if (consumed > n)
				bad++;
			free(exact);
			runs++;
		}
	}
	if (bad != 0)
		fprintf(stderr, "mutation: %d bad outcomes in %ld runs\n", bad,
		    runs);
	CHECK(bad == 0);
	free(blob);
	free(copy);
}

int
main(void)
{
	test_valid_and_truncated();
	test_stream();
	test_pixel_formats();
	test_encodings();
	test_cut_text();
	test_cut_text_extended();
	test_max_msg();
	test_errors();
	test_mutations();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
