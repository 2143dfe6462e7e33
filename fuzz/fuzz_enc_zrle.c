/*
 * fuzz_enc_zrle.c - libFuzzer target for moat-net's ZRLE encoder
 * (net/enc_zrle.c) with damage: a client pixel format, a framebuffer,
 * damage rectangles and a zlib level from the input (enc_harness.h), all
 * through one connection's state: each rectangle as its own update, then
 * all of them as one update, with the update cut in two halves from a
 * small area on so that both deflaters run. The output is read back as a
 * viewer would: every rectangle's header inside the damage, its data
 * inflated through the one zlib stream, exactly consumed, and walked tile
 * by tile (subencodings, palettes, runs) to exactly the tiles the
 * rectangle has. ASan and UBSan catch any bad access. Test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "enc_harness.h"
#include "net/enc_tile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Skips a run length (bytes of 255, then the rest); returns the run. */
static size_t
run_length(const uint8_t **p, const uint8_t *end)
{
	size_t run = 1;
	uint8_t b;

	do {
		if (*p >= end)
			abort();
		b = *(*p)++;
		run += b;
	} while (b == 255);
	return run;
}

/* Walks one tw x th tile of CPIXELs of cps bytes at *p. */
static void
tile(const uint8_t **p, const uint8_t *end, int tw, int th, int cps)
{
	size_t n = (size_t)tw * th, done = 0, need;
	int sub, pal, bits;
	uint8_t idx;

	if (*p >= end)
		abort();
	sub = *(*p)++;
	if (sub == 0) {
		need = n * cps;
	} else if (sub == 1) {
		need = (size_t)cps;
	} else if (sub <= 16) {
		bits = sub == 2 ? 1 : sub <= 4 ? 2 : 4;
		need = (size_t)sub * cps + (size_t)th * ((tw * bits + 7) / 8);
	} else if (sub == 128) {
		while (done < n) {
			if ((size_t)(end - *p) < (size_t)cps)
				abort();
			*p += cps;
			done += run_length(p, end);
		}
		if (done != n)
			abort();
		return;
	} else if (sub >= 130) {
		pal = sub - 128;
		if ((size_t)(end - *p) < (size_t)pal * cps)
			abort();
		*p += (size_t)pal * cps;
		while (done < n) {
			if (*p >= end)
				abort();
			idx = *(*p)++;
			if ((idx & 127) >= pal)
				abort();
			done += idx & 128 ? run_length(p, end) : 1;
		}
		if (done != n)
			abort();
		return;
	} else {
		abort();
	}
	if ((size_t)(end - *p) < need)
		abort();
	*p += need;
}

/* Reads one update of n ZRLE rectangles, each inside one of rects[0, nr). */
static void
read_update(const struct buf *out, z_stream *zin, const struct rfb_rect16 *rects,
    int nr, int cps)
{
	static uint8_t plain[HARNESS_MAX_PIX * 4 + HARNESS_MAX_PIX / 64 + 64];
	const uint8_t *p = buf_ptr(out), *end = p + buf_len(out), *q, *qend;
	int k, x, y, w, h, tx, ty, tw, th, ok;
	size_t len;

	for (k = 0; k < nr; k++) {
		if (end - p < 16)
			abort();
		x = p[0] << 8 | p[1];
		y = p[2] << 8 | p[3];
		w = p[4] << 8 | p[5];
		h = p[6] << 8 | p[7];
		if (p[8] != 0 || p[9] != 0 || p[10] != 0 || p[11] != 16)
			abort();
		/* In order: rectangle k is rects[k]. */
		ok = x == rects[k].x && y == rects[k].y && w == rects[k].w &&
		    h == rects[k].h;
		if (!ok)
			abort();
		len = (size_t)p[12] << 24 | (size_t)p[13] << 16 |
		    (size_t)p[14] << 8 | p[15];
		p += 16;
		if ((size_t)(end - p) < len)
			abort();
		zin->next_in = (Bytef *)(uintptr_t)p;
		zin->avail_in = (uInt)len;
		zin->next_out = plain;
		zin->avail_out = sizeof(plain);
		if (len > 0 && inflate(zin, Z_SYNC_FLUSH) != Z_OK)
			abort();
		if (zin->avail_in != 0 || zin->avail_out == 0)
			abort();
		p += len;
		q = plain;
		qend = zin->next_out;
		for (ty = 0; ty < h; ty += 64) {
			th = h - ty < 64 ? h - ty : 64;
			for (tx = 0; tx < w; tx += 64) {
				tw = w - tx < 64 ? w - tx : 64;
				tile(&q, qend, tw, th, cps);
			}
		}
		if (q != qend)
			abort();
	}
	if (p != end)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zrle_state z;
	struct enc_cpixel cp;
	struct rfb_rect16 all[5];
	struct harness h;
	struct buf out;
	z_stream zin;
	int i, k, first, last, level;

	if (harness_setup(data, size, &h) != 0)
		return 0;
	level = h.opt[0] % 11 - 1;	/* -1: moat-net's default */
	if (zrle_init(&z, 6) != 0)
		abort();
	/* From 4096 pixels on, an update goes to both lanes. */
	z.split_area = 4096 + (uint32_t)h.opt[1] * 16;
	enc_cpixel_layout(&h.pc.dst, &cp);
	memset(&zin, 0, sizeof(zin));
	if (inflateInit(&zin) != Z_OK)
		abort();
	buf_init(&out, 64u << 20);
	for (k = 0; k < h.nrects; k++)
		all[k] = (struct rfb_rect16){ h.rect[k][0], h.rect[k][1],
		    h.rect[k][2], h.rect[k][3] };
	for (i = 0; i <= h.nrects; i++) {
		/* Rectangle i on its own; at i == nrects, all in one update. */
		first = i < h.nrects ? i : 0;
		last = i < h.nrects ? i : h.nrects - 1;
		buf_reset(&out);
		if (enc_zrle_rects(&z, level, &out, &h.fb, &h.pc, all + first,
		    (size_t)(last - first + 1)) != 0)
			abort();
		read_update(&out, &zin, all + first, last - first + 1, cp.size);
	}
	inflateEnd(&zin);
	zrle_free(&z);
	buf_free(&out);
	return 0;
}
