/*
 * enc_harness.h - the input layout the encoder fuzz targets share
 * (fuzz_enc_hextile.c, fuzz_enc_zlib.c, fuzz_enc_trle.c, fuzz_enc_tight.c,
 * fuzz_enc_zrle.c; the tile encoders run whole in harness_run_tiles()):
 * 12 bytes of client pixel format, 4 of framebuffer size, 4 options bytes,
 * up to 4 damage rectangles of 8 bytes each (as many as the count byte
 * says), then pixels (3 bytes each, repeated; short inputs give few
 * colours, runs and solid areas). Test code.
 */
#ifndef MOAT_FUZZ_ENC_HARNESS_H
#define MOAT_FUZZ_ENC_HARNESS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/encoder.h"
#include "net/pixfmt.h"
#include "net/rfb_reader.h"
#include "privsep/buf.h"

#define HARNESS_MAX_W	2100	/* past Tight's 2048-pixel width */
#define HARNESS_MAX_PIX	(256 * 1024)
#define HARNESS_HDR	20

struct harness {
	struct pixconv pc;
	struct fb_view fb;
	uint8_t opt[4];			/* free bytes for each target */
	int nrects;
	uint16_t rect[5][4];		/* the whole screen, then the damage */
};

static uint16_t
harness_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Returns 0 and fills h from the input, or -1 if the input chooses nothing usable. */
static int
harness_setup(const uint8_t *data, size_t size, struct harness *h)
{
	static uint32_t pixels[HARNESS_MAX_PIX];
	static const struct fb_format src = { 0xff0000, 0x00ff00, 0x0000ff };
	struct rfb_pixfmt pf;
	const uint8_t *p;
	size_t i, n, off, rows;
	uint16_t w, ht;
	int k, count;

	if (size < HARNESS_HDR + 1)
		return -1;
	memset(&pf, 0, sizeof(pf));
	pf.bpp = data[0];
	pf.depth = data[1];
	pf.big_endian = data[2] & 1;
	pf.true_colour = 1;
	pf.red_max = harness_u16(data + 3);
	pf.green_max = harness_u16(data + 5);
	pf.blue_max = harness_u16(data + 7);
	pf.red_shift = data[9];
	pf.green_shift = data[10];
	pf.blue_shift = data[11];
	if (rfb_pixfmt_check(&pf) != 0 || pixconv_init(&h->pc, &src, &pf) != 0)
		return -1;
	w = (uint16_t)(1 + harness_u16(data + 12) % HARNESS_MAX_W);
	/* At most 65535 rows: 1 + 65535 would wrap to a 0-row screen. */
	rows = HARNESS_MAX_PIX / w < 65535 ? HARNESS_MAX_PIX / w : 65535;
	ht = (uint16_t)(1 + harness_u16(data + 14) % rows);
	memcpy(h->opt, data + 16, 4);
	count = data[HARNESS_HDR] % 5;
	off = HARNESS_HDR + 1;
	h->rect[0][0] = h->rect[0][1] = 0;
	h->rect[0][2] = w;
	h->rect[0][3] = ht;
	h->nrects = 1;
	for (k = 0; k < count && off + 8 <= size; k++, off += 8) {
		uint16_t x = (uint16_t)(harness_u16(data + off) % w);
		uint16_t y = (uint16_t)(harness_u16(data + off + 2) % ht);

		h->rect[h->nrects][0] = x;
		h->rect[h->nrects][1] = y;
		h->rect[h->nrects][2] = (uint16_t)(1 + harness_u16(data + off + 4) % (w - x));
		h->rect[h->nrects][3] = (uint16_t)(1 + harness_u16(data + off + 6) % (ht - y));
		h->nrects++;
	}
	n = size - off;
	for (i = 0; i < (size_t)w * ht; i++) {
		p = data + off + (n ? (i * 3) % n : 0);
		pixels[i] = n >= 3 && (i * 3) % n + 2 < n ?
		    (uint32_t)(p[0] << 16 | p[1] << 8 | p[2]) :
		    (uint32_t)((i / 97) % 3) * 0x406080;
	}
	h->fb.data = (const uint8_t *)pixels;
	h->fb.stride = (uint32_t)w * 4;
	h->fb.width = w;
	h->fb.height = ht;
	h->fb.fmt = src;
	return 0;
}

/* An encoder of one rectangle in 16x16 tiles: Hextile, TRLE. */
typedef int (*harness_tile_encoder)(struct buf *, const struct fb_view *,
    const struct pixconv *, uint16_t, uint16_t, uint16_t, uint16_t);

/*
 * The whole of a tile encoder's target: every rectangle must encode within
 * Raw plus a byte a tile (and TRLE's spare 4 bytes), and a rectangle
 * outside the framebuffer must be refused without writing; anything else
 * aborts. Returns 0.
 */
static inline int
harness_run_tiles(const uint8_t *data, size_t size, harness_tile_encoder enc)
{
	struct harness h;
	struct buf out;
	size_t before, most;
	int i;

	if (harness_setup(data, size, &h) != 0)
		return 0;
	buf_init(&out, 64u << 20);
	for (i = 0; i < h.nrects; i++) {
		before = buf_len(&out);
		if (enc(&out, &h.fb, &h.pc, h.rect[i][0], h.rect[i][1],
		    h.rect[i][2], h.rect[i][3]) != 0)
			abort();
		most = 12 + (size_t)h.rect[i][2] * h.rect[i][3] * h.pc.bytes +
		    (size_t)((h.rect[i][2] + 15) / 16) * ((h.rect[i][3] + 15) / 16);
		if (buf_len(&out) - before > most)
			abort();
	}
	before = buf_len(&out);
	if (enc(&out, &h.fb, &h.pc, 1, 0, h.fb.width, 1) == 0 ||
	    buf_len(&out) != before)
		abort();
	buf_free(&out);
	return 0;
}

#endif
