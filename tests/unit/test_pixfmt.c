/*
 * test_pixfmt.c - unit tests for pixel-format translation (net/pixfmt.c):
 * known values for common client formats, byte orders, unusual source
 * masks, and agreement between the per-pixel and per-row paths.
 * Test code; runs no moat process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/pixfmt.h"
#include "net/rfb_reader.h"
#include "privsep/errors.h"

#include "check.h"

#define HOST_BIG_ENDIAN	(__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)

static const struct fb_format x11_rgb = { 0xff0000, 0x00ff00, 0x0000ff };
static const struct fb_format x11_bgr = { 0x0000ff, 0x00ff00, 0xff0000 };
static const struct fb_format deep30 = { 0x3ff00000, 0x000ffc00, 0x000003ff };
static const struct fb_format rgb565_in_32 = { 0xf800, 0x07e0, 0x001f };

static const struct rfb_pixfmt pf_default = { 32, 24, 0, 1, 255, 255, 255, 16, 8, 0 };
static const struct rfb_pixfmt pf_default_be = { 32, 24, 1, 1, 255, 255, 255, 16, 8, 0 };
static const struct rfb_pixfmt pf_novnc = { 32, 24, 0, 1, 255, 255, 255, 0, 8, 16 };
static const struct rfb_pixfmt pf_novnc_be = { 32, 24, 1, 1, 255, 255, 255, 0, 8, 16 };
static const struct rfb_pixfmt pf_565 = { 16, 16, 0, 1, 31, 63, 31, 11, 5, 0 };
static const struct rfb_pixfmt pf_565_be = { 16, 16, 1, 1, 31, 63, 31, 11, 5, 0 };
static const struct rfb_pixfmt pf_555 = { 16, 15, 0, 1, 31, 31, 31, 10, 5, 0 };
static const struct rfb_pixfmt pf_233 = { 8, 8, 0, 1, 7, 7, 3, 0, 3, 6 };
static const struct rfb_pixfmt pf_30 = { 32, 30, 0, 1, 1023, 1023, 1023, 20, 10, 0 };
static const struct rfb_pixfmt pf_111 = { 8, 3, 0, 1, 1, 1, 1, 2, 1, 0 };
/* Wider red, narrower green and blue: table and generic paths. */
static const struct rfb_pixfmt pf_mixed = { 32, 21, 1, 1, 1023, 63, 31, 11, 5, 0 };

/* Converts one pixel through pixconv_row() and returns the bytes. */
static void
row1(const struct pixconv *pc, uint32_t src, uint8_t out[4])
{
	memset(out, 0, 4);
	pixconv_row(pc, out, &src, 1);
}

static void
test_default(void)
{
	struct rfb_pixfmt pf;
	struct pixconv pc;
	uint8_t b[4];

	pixfmt_server_default(&pf);
	CHECK(pf.bpp == 32 && pf.depth == 24 && pf.big_endian == 0 &&
	    pf.true_colour == 1);
	CHECK(pf.red_max == 255 && pf.green_max == 255 && pf.blue_max == 255);
	CHECK(pf.red_shift == 16 && pf.green_shift == 8 && pf.blue_shift == 0);
	CHECK(rfb_pixfmt_check(&pf) == 0);

	CHECK(pixconv_init(&pc, &x11_rgb, &pf) == 0);
	CHECK(pc.bytes == 4);
	CHECK(pc.identity == !HOST_BIG_ENDIAN);
	CHECK(pc.src_shift[0] == 16 && pc.src_bits[0] == 8);
	CHECK(pixconv_pixel(&pc, 0x00123456) == 0x123456);
	CHECK(pixconv_pixel(&pc, 0xff123456) == 0x123456);	/* no alpha */
	row1(&pc, 0x00123456, b);
	CHECK(b[0] == 0x56 && b[1] == 0x34 && b[2] == 0x12 && b[3] == 0x00);

	CHECK(pixconv_init(&pc, &x11_rgb, &pf_default_be) == 0);
	CHECK(pc.identity == HOST_BIG_ENDIAN);
	CHECK(pixconv_pixel(&pc, 0x00123456) == 0x123456);
	row1(&pc, 0x00123456, b);
	CHECK(b[0] == 0x00 && b[1] == 0x12 && b[2] == 0x34 && b[3] == 0x56);
}

static void
test_known_values(void)
{
	struct pixconv pc;
	uint8_t b[4];

	/* noVNC / libvncclient: R0 G8 B16, i.e. RGBX bytes. */
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_novnc) == 0);
	CHECK(!pc.identity);
	CHECK(pixconv_pixel(&pc, 0x00123456) == 0x563412);
	row1(&pc, 0x00123456, b);
	CHECK(b[0] == 0x12 && b[1] == 0x34 && b[2] == 0x56 && b[3] == 0);
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_novnc_be) == 0);
	row1(&pc, 0x00123456, b);
	CHECK(b[0] == 0 && b[1] == 0x56 && b[2] == 0x34 && b[3] == 0x12);

	/* rgb565: R 0x12>>3 = 2, G 0x34>>2 = 13, B 0x56>>3 = 10. */
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_565) == 0);
	CHECK(pc.bytes == 2);
	CHECK(pixconv_pixel(&pc, 0x00123456) == 0x11aa);
	CHECK(pixconv_pixel(&pc, 0x00ffffff) == 0xffff);
	CHECK(pixconv_pixel(&pc, 0x00ff0000) == 0xf800);
	CHECK(pixconv_pixel(&pc, 0x0000ff00) == 0x07e0);
	CHECK(pixconv_pixel(&pc, 0x000000ff) == 0x001f);
	CHECK(pixconv_pixel(&pc, 0x00070307) == 0);	/* below one step */
	row1(&pc, 0x00123456, b);
	CHECK(b[0] == 0xaa && b[1] == 0x11 && b[2] == 0 && b[3] == 0);
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_565_be) == 0);
	row1(&pc, 0x00123456, b);
	CHECK(b[0] == 0x11 && b[1] == 0xaa && b[2] == 0);

	/* rgb555: G 0x34>>3 = 6. */
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_555) == 0);
	CHECK(pixconv_pixel(&pc, 0x00123456) == 0x08ca);
	CHECK(pixconv_pixel(&pc, 0x00ffffff) == 0x7fff);

	/* bgr233: R 3 bits at 0, G 3 bits at 3, B 2 bits at 6. */
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_233) == 0);
	CHECK(pc.bytes == 1);
	CHECK(pixconv_pixel(&pc, 0x00123456) == 0x48);
	CHECK(pixconv_pixel(&pc, 0x00ffffff) == 0xff);
	CHECK(pixconv_pixel(&pc, 0x00ff0000) == 0x07);
	CHECK(pixconv_pixel(&pc, 0x0000ff00) == 0x38);
	CHECK(pixconv_pixel(&pc, 0x000000ff) == 0xc0);
	row1(&pc, 0x000000ff, b);
	CHECK(b[0] == 0xc0 && b[1] == 0);

	/* 1-bit channels: the top bit decides. */
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_111) == 0);
	CHECK(pixconv_pixel(&pc, 0x00807f80) == 0x5);

	/* Widening 8 -> 10 bits repeats the top bits: 0x56 -> 0x159. */
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_30) == 0);
	CHECK(pixconv_pixel(&pc, 0x00123456) ==
	    ((0x48U << 20) | (0xd0U << 10) | 0x159U));
	CHECK(pixconv_pixel(&pc, 0x00ffffff) == 0x3fffffff);
	CHECK(pixconv_pixel(&pc, 0) == 0);

	/* Mixed: R 8 -> 10 bits, G 8 -> 6, B 8 -> 5. */
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_mixed) == 0);
	CHECK(!pc.narrowing && pc.use_lut);
	CHECK(pixconv_pixel(&pc, 0x00123456) == ((0x48U << 11) | (13U << 5) | 10U));
	CHECK(pixconv_pixel(&pc, 0x00ffffff) == 0x1fffff);
}

static void
test_other_sources(void)
{
	struct pixconv pc;

	/* BGR framebuffer to the default client format. */
	CHECK(pixconv_init(&pc, &x11_bgr, &pf_default) == 0);
	CHECK(!pc.identity && !pc.same_channels);
	CHECK(pixconv_pixel(&pc, 0x00563412) == 0x123456);

	/* 10-bit channels (depth 30): no table, narrowed by 2 bits. */
	CHECK(pixconv_init(&pc, &deep30, &pf_default) == 0);
	CHECK(!pc.use_lut);
	CHECK(pixconv_pixel(&pc, 0x3ff00000) == 0xff0000);
	CHECK(pixconv_pixel(&pc, (0x100U << 20) | (0x3U << 10) | 0x2ff) ==
	    0x4000bf);
	CHECK(pixconv_init(&pc, &deep30, &pf_30) == 0);
	CHECK(pc.same_channels);
	CHECK(pixconv_pixel(&pc, 0xc0000000 | 0x12345678) == 0x12345678);

	/* Narrow source channels: neighbours must not leak into the index. */
	CHECK(pixconv_init(&pc, &rgb565_in_32, &pf_default) == 0);
	CHECK(pc.use_lut);
	CHECK(pixconv_pixel(&pc, 0x001f) == 0x0000ff);
	CHECK(pixconv_pixel(&pc, 0x07e0) == 0x00ff00);
	CHECK(pixconv_pixel(&pc, 0xf800) == 0xff0000);
	CHECK(pixconv_pixel(&pc, 0x8000) == 0x840000);	/* 10000 -> 10000100 */
	CHECK(pixconv_pixel(&pc, 0xffff0000) == 0);	/* outside the masks */
	CHECK(pixconv_init(&pc, &rgb565_in_32, &pf_565) == 0);
	CHECK(pc.same_channels);
	CHECK(pixconv_pixel(&pc, 0x12345678) == 0x5678);
}

static void
test_invalid(void)
{
	static const struct fb_format bad_src[] = {
		{ 0xff00ff, 0x00ff00, 0x0000ff },	/* not contiguous */
		{ 0xff0000, 0x00ff00, 0x000000 },	/* empty */
		{ 0xff0000, 0x0fff00, 0x0000ff },	/* overlap */
		{ 0xff0000, 0x00ff00, 0x00ff00 },	/* same */
	};
	struct rfb_pixfmt colour_map = pf_default, bad_shift = pf_565;
	struct pixconv pc;
	size_t i;

	for (i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++)
		CHECK(pixconv_init(&pc, &bad_src[i], &pf_default) ==
		    MOAT_ERR_INVALID);
	colour_map.true_colour = 0;
	CHECK(pixconv_init(&pc, &x11_rgb, &colour_map) == MOAT_ERR_INVALID);
	bad_shift.red_shift = 12;
	CHECK(pixconv_init(&pc, &x11_rgb, &bad_shift) == MOAT_ERR_INVALID);
	CHECK(pixconv_init(&pc, &(struct fb_format){ 0xffc00000, 0x3ff000,
	    0xfff }, &pf_default) == 0);	/* 10/10/12 bits */
}

static uint32_t
load(const uint8_t *p, int bytes, int be)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < bytes; i++)
		v |= (uint32_t)p[i] << (8 * (be ? bytes - 1 - i : i));
	return v;
}

/* An independent reference: narrow by truncation, widen by repeating bits. */
static uint32_t
ref_channel(uint32_t x, int sb, int db)
{
	uint32_t r = 0;
	int i;

	for (i = 0; i < db; i++)	/* bit i of the result, from the top */
		if ((x >> (sb - 1 - (i % sb))) & 1)
			r |= 1U << (db - 1 - i);
	return r;
}

static int
width(uint32_t m)
{
	int n = 0;

	for (; m != 0; m &= m - 1)
		n++;
	return n;
}

static int
lowest(uint32_t m)
{
	int n = 0;

	while (m != 0 && !(m & 1)) {
		m >>= 1;
		n++;
	}
	return n;
}

static uint32_t
ref_convert(const struct fb_format *f, const struct rfb_pixfmt *pf, uint32_t p)
{
	const uint32_t masks[3] = { f->red_mask, f->green_mask, f->blue_mask };
	const uint16_t maxes[3] = { pf->red_max, pf->green_max, pf->blue_max };
	const uint8_t shifts[3] = { pf->red_shift, pf->green_shift,
	    pf->blue_shift };
	uint32_t v = 0;
	int c;

	for (c = 0; c < 3; c++)
		v |= ref_channel((p & masks[c]) >> lowest(masks[c]),
		    width(masks[c]), width(maxes[c])) << shifts[c];
	return v;
}

/* pixconv_row() == pixconv_pixel() + byte order, over long unaligned rows. */
static void
test_row_matches_pixel(void)
{
	static const struct rfb_pixfmt *fmts[] = { &pf_default, &pf_default_be,
	    &pf_novnc, &pf_novnc_be, &pf_565, &pf_565_be, &pf_555, &pf_233,
	    &pf_30, &pf_111, &pf_mixed };
	static const struct fb_format *srcs[] = { &x11_rgb, &x11_bgr, &deep30,
	    &rgb565_in_32 };
	enum { N = 1001 };
	uint32_t src[N], vals[N];
	uint8_t *out;
	size_t f, s;
	uint32_t seed = 12345;
	struct pixconv pc;
	int i, bad;

	if ((out = malloc(N * 4 + 1)) == NULL)
		abort();
	for (i = 0; i < N; i++) {
		seed = seed * 1103515245 + 12345;
		src[i] = seed ^ (seed >> 7);
	}
	for (s = 0; s < sizeof(srcs) / sizeof(srcs[0]); s++) {
		for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
			CHECK(pixconv_init(&pc, srcs[s], fmts[f]) == 0);
			pixconv_row(&pc, out + 1, src, N);
			pixconv_values(&pc, vals, src, N);
			bad = 0;
			for (i = 0; i < N; i++) {
				uint32_t want = pixconv_pixel(&pc, src[i]);
				uint32_t got = load(out + 1 + i * pc.bytes,
				    pc.bytes, fmts[f]->big_endian);

				if (pc.identity)
					want = src[i];	/* memcpy path */
				if (got != want ||
				    vals[i] != pixconv_pixel(&pc, src[i]) ||
				    vals[i] != ref_convert(srcs[s], fmts[f],
				    src[i]))
					bad++;
			}
			if (bad)
				fprintf(stderr, "src %zu fmt %zu: %d bad\n", s,
				    f, bad);
			CHECK(bad == 0);
		}
	}
	free(out);
}

/* Narrowing then widening a channel is exact: full scale stays full scale. */
static void
test_channel_extremes(void)
{
	struct pixconv pc;
	uint32_t v;
	int bad = 0;

	CHECK(pixconv_init(&pc, &x11_rgb, &pf_565) == 0);
	for (v = 0; v < 256; v++) {
		uint32_t p = pixconv_pixel(&pc, v << 16 | v << 8 | v);

		if ((p >> 11) != v >> 3 || ((p >> 5) & 63) != v >> 2 ||
		    (p & 31) != v >> 3)
			bad++;
	}
	CHECK(bad == 0);
}

int
main(void)
{
	test_default();
	test_known_values();
	test_other_sources();
	test_invalid();
	test_row_matches_pixel();
	test_channel_extremes();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
