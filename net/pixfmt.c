/*
 * pixfmt.c - translation of the shared framebuffer's 32-bpp host-order
 * pixels into a client's pixel format. Runs in moat-net on the encoding
 * hot path. Trusts the client format only after rfb_pixfmt_check() (which
 * pixconv_init() repeats) and the framebuffer masks only after its own
 * checks; never reads outside the rows it is given.
 */
#include <string.h>

#include "privsep/errors.h"
#include "pixfmt.h"
#include "rfb_reader.h"

#define HOST_BIG_ENDIAN	(__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#define CHUNK		256	/* pixels converted per step of pixconv_row() */

static int
count_bits(uint32_t v)
{
	return __builtin_popcount(v);
}

/* Returns the shift and width of a contiguous non-zero mask, or -1. */
static int
mask_layout(uint32_t m, uint8_t *shift, uint8_t *bits)
{
	int s, b;

	if (m == 0)
		return -1;
	s = __builtin_ctz(m);
	b = count_bits(m);
	if (((m >> s) & ((m >> s) + 1)) != 0)
		return -1;
	*shift = (uint8_t)s;
	*bits = (uint8_t)b;
	return 0;
}

/* Rescales an sb-bit channel value to db bits: truncate or repeat bits. */
static uint32_t
scale(uint32_t x, int sb, int db)
{
	uint32_t r = 0;
	int pos = db;

	if (db <= sb)
		return x >> (sb - db);
	while (pos > 0) {
		if (pos >= sb) {
			r |= x << (pos - sb);
			pos -= sb;
		} else {
			r |= x >> (sb - pos);
			pos = 0;
		}
	}
	return r;
}

int
pixconv_init(struct pixconv *pc, const struct fb_format *src,
    const struct rfb_pixfmt *dst)
{
	const uint32_t masks[3] = { src->red_mask, src->green_mask,
	    src->blue_mask };
	const uint16_t dmax[3] = { dst->red_max, dst->green_max,
	    dst->blue_max };
	const uint8_t dshift[3] = { dst->red_shift, dst->green_shift,
	    dst->blue_shift };
	uint32_t i, seen = 0;
	int c;

	memset(pc, 0, sizeof(*pc));
	if (rfb_pixfmt_check(dst) != 0)
		return MOAT_ERR_INVALID;
	for (c = 0; c < 3; c++) {
		if (mask_layout(masks[c], &pc->src_shift[c],
		    &pc->src_bits[c]) != 0 || (seen & masks[c]) != 0)
			return MOAT_ERR_INVALID;
		seen |= masks[c];
		pc->dst_bits[c] = (uint8_t)count_bits(dmax[c]);
	}
	pc->dst = *dst;
	pc->src = *src;
	pc->src_mask = seen;
	pc->bytes = (uint8_t)(dst->bpp / 8);
	pc->same_channels = 1;
	pc->narrowing = 1;
	pc->use_lut = 1;
	for (c = 0; c < 3; c++) {
		if (pc->src_bits[c] != pc->dst_bits[c] ||
		    pc->src_shift[c] != dshift[c])
			pc->same_channels = 0;
		if (pc->dst_bits[c] > pc->src_bits[c])
			pc->narrowing = 0;
		if (pc->src_bits[c] > 8)
			pc->use_lut = 0;
	}
	pc->identity = pc->same_channels && dst->bpp == 32 &&
	    (dst->big_endian != 0) == HOST_BIG_ENDIAN;
	if (pc->use_lut) {
		for (c = 0; c < 3; c++)
			for (i = 0; i < (1U << pc->src_bits[c]); i++)
				pc->lut[c][i] = scale(i, pc->src_bits[c],
				    pc->dst_bits[c]) << dshift[c];
	}
	return 0;
}

static inline uint32_t
conv_lut(const struct pixconv *pc, uint32_t p)
{
	return pc->lut[0][(p & pc->src.red_mask) >> pc->src_shift[0]] |
	    pc->lut[1][(p & pc->src.green_mask) >> pc->src_shift[1]] |
	    pc->lut[2][(p & pc->src.blue_mask) >> pc->src_shift[2]];
}

static uint32_t
conv_generic(const struct pixconv *pc, uint32_t p)
{
	const uint8_t dshift[3] = { pc->dst.red_shift, pc->dst.green_shift,
	    pc->dst.blue_shift };
	uint32_t v = 0, x;
	int c;

	for (c = 0; c < 3; c++) {
		x = (p >> pc->src_shift[c]) & ((1U << pc->src_bits[c]) - 1);
		v |= scale(x, pc->src_bits[c], pc->dst_bits[c]) << dshift[c];
	}
	return v;
}

/* Narrowing only: each channel is a shift and a mask, no table. */
static void
conv_shift(const struct pixconv *pc, uint32_t *out, const uint32_t *src,
    int n)
{
	const uint32_t rm = pc->dst.red_max, gm = pc->dst.green_max,
	    bm = pc->dst.blue_max;
	const int rs = pc->src_shift[0] + pc->src_bits[0] - pc->dst_bits[0];
	const int gs = pc->src_shift[1] + pc->src_bits[1] - pc->dst_bits[1];
	const int bs = pc->src_shift[2] + pc->src_bits[2] - pc->dst_bits[2];
	const int rd = pc->dst.red_shift, gd = pc->dst.green_shift,
	    bd = pc->dst.blue_shift;
	uint32_t p;
	int i;

	for (i = 0; i < n; i++) {
		p = src[i];
		out[i] = ((p >> rs) & rm) << rd | ((p >> gs) & gm) << gd |
		    ((p >> bs) & bm) << bd;
	}
}

uint32_t
pixconv_pixel(const struct pixconv *pc, uint32_t src)
{
	uint32_t v;

	if (pc->same_channels)
		return src & pc->src_mask;
	if (pc->narrowing) {
		conv_shift(pc, &v, &src, 1);
		return v;
	}
	if (pc->use_lut)
		return conv_lut(pc, src);
	return conv_generic(pc, src);
}

void
pixconv_values(const struct pixconv *pc, uint32_t *out, const uint32_t *src,
    int n)
{
	const uint32_t mask = pc->src_mask;
	int i;

	if (pc->same_channels) {
		for (i = 0; i < n; i++)
			out[i] = src[i] & mask;
	} else if (pc->narrowing) {
		conv_shift(pc, out, src, n);
	} else if (pc->use_lut) {
		for (i = 0; i < n; i++)
			out[i] = conv_lut(pc, src[i]);
	} else {
		for (i = 0; i < n; i++)
			out[i] = conv_generic(pc, src[i]);
	}
}

void
pixconv_row(const struct pixconv *pc, uint8_t *out, const uint32_t *src,
    int n)
{
	uint32_t tmp[CHUNK], v;
	uint16_t h;
	int i, k, swap;

	if (pc->identity) {
		if (n > 0)
			memcpy(out, src, (size_t)n * 4);
		return;
	}
	swap = (pc->dst.big_endian != 0) != HOST_BIG_ENDIAN;
	while (n > 0) {
		k = n < CHUNK ? n : CHUNK;
		pixconv_values(pc, tmp, src, k);
		switch (pc->bytes) {
		case 4:
			if (swap) {
				for (i = 0; i < k; i++) {
					v = __builtin_bswap32(tmp[i]);
					memcpy(out + 4 * i, &v, 4);
				}
			} else
				memcpy(out, tmp, (size_t)k * 4);
			break;
		case 2:
			for (i = 0; i < k; i++) {
				h = (uint16_t)tmp[i];
				if (swap)
					h = __builtin_bswap16(h);
				memcpy(out + 2 * i, &h, 2);
			}
			break;
		default:
			for (i = 0; i < k; i++)
				out[i] = (uint8_t)tmp[i];
			break;
		}
		out += (size_t)k * pc->bytes;
		src += k;
		n -= k;
	}
}

void
pixfmt_server_default(struct rfb_pixfmt *pf)
{
	memset(pf, 0, sizeof(*pf));
	pf->bpp = 32;
	pf->depth = 24;
	pf->big_endian = 0;
	pf->true_colour = 1;
	pf->red_max = pf->green_max = pf->blue_max = 255;
	pf->red_shift = 16;
	pf->green_shift = 8;
	pf->blue_shift = 0;
}
