/*
 * enc_cursor.c - Cursor pseudo-encoding (-239): the cursor image in the
 * client's pixel format followed by a 1-bit visibility mask. Runs in
 * moat-net; the ARGB image comes from moat-session over the session
 * channel, whose size the caller has already bounded (w * h pixels).
 */
#include <stdint.h>
#include <string.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "encoder.h"

#define RECT_HEADER_LEN	12
#define ALPHA_VISIBLE	128
#define RGB_MASK	0x00ffffffU
#define CHUNK		256

static const struct fb_format argb_format = {
	.red_mask = 0x00ff0000,
	.green_mask = 0x0000ff00,
	.blue_mask = 0x000000ff,
};

int
enc_cursor(struct buf *out, const struct pixconv *pc, uint16_t hotx,
    uint16_t hoty, uint16_t w, uint16_t h, const uint32_t *argb)
{
	const struct pixconv *conv = pc;
	struct pixconv local;
	const uint32_t *row;
	uint32_t tmp[CHUNK];
	int i, k;
	size_t maskrow, rowlen;
	uint64_t n;
	uint8_t *p, *m;
	struct buf hb;
	uint16_t x, y;
	int r;

	if (w != 0 && h != 0 && argb == NULL)
		return MOAT_ERR_INVALID;
	if (pc->src.red_mask != argb_format.red_mask ||
	    pc->src.green_mask != argb_format.green_mask ||
	    pc->src.blue_mask != argb_format.blue_mask) {
		if ((r = pixconv_init(&local, &argb_format, &pc->dst)) != 0)
			return r;
		conv = &local;
	}
	/* A hotspot outside the image confuses clients; keep it inside. */
	if (w != 0 && hotx >= w)
		hotx = w - 1;
	if (h != 0 && hoty >= h)
		hoty = h - 1;
	rowlen = (size_t)w * conv->bytes;
	maskrow = ((size_t)w + 7) / 8;
	n = ((uint64_t)rowlen + maskrow) * h;
	if (n > SIZE_MAX - RECT_HEADER_LEN)
		return MOAT_ERR_TOO_LONG;
	if ((r = buf_reserve(out, RECT_HEADER_LEN + (size_t)n, &p)) != 0)
		return r;
	buf_init_fixed(&hb, p, RECT_HEADER_LEN);
	(void)rfb_put_rect_header(&hb, hotx, hoty, w, h, RFB_ENC_CURSOR);
	p += RECT_HEADER_LEN;
	for (y = 0; y < h; y++) {
		row = argb + (size_t)y * w;
		/* Alpha must not leak into the pixel's unused bits. */
		for (x = 0; x < w; x += k) {
			k = w - x < CHUNK ? w - x : CHUNK;
			for (i = 0; i < k; i++)
				tmp[i] = row[x + i] & RGB_MASK;
			pixconv_row(conv, p + (size_t)x * conv->bytes, tmp, k);
		}
		p += rowlen;
	}
	for (y = 0; y < h; y++) {
		row = argb + (size_t)y * w;
		m = p + (size_t)y * maskrow;
		memset(m, 0, maskrow);
		for (x = 0; x < w; x++)
			if ((row[x] >> 24) >= ALPHA_VISIBLE)
				m[x >> 3] |= (uint8_t)(0x80 >> (x & 7));
	}
	return 0;
}
