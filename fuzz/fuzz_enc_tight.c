/*
 * fuzz_enc_tight.c - libFuzzer target for moat-net's Tight encoder
 * (net/enc_tight.c): a client pixel format, a framebuffer, damage
 * rectangles and the quality / compression options from the input
 * (enc_harness.h), all through one connection's state: each rectangle on
 * its own, then all of them as one update, cut into chunks of one
 * subrectangle's area so both encoding lanes run. The output is
 * parsed back rectangle by rectangle (headers inside the damage, control
 * bytes, palettes, compact lengths, inflating every zlib stream in order,
 * JPEG markers) and must cover exactly the damaged pixels. ASan and UBSan
 * catch any bad access. Test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "enc_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static z_stream zin[4];
static int zin_on[4];

static size_t
compact(const uint8_t **p, const uint8_t *end)
{
	size_t v = 0;
	int i;

	for (i = 0; i < 3; i++) {
		if (*p >= end)
			abort();
		v |= (size_t)((*p)[0] & (i == 2 ? 0xff : 0x7f)) << (7 * i);
		if (i == 2 || !((*p)[0] & 0x80)) {
			(*p)++;
			break;
		}
		(*p)++;
	}
	return v;
}

/* Reads len filtered bytes (raw when short, else compact length + zlib on stream id). */
static void
data_block(const uint8_t **p, const uint8_t *end, int id, size_t len)
{
	static uint8_t plain[TIGHT_DATA_MAX + 1];
	size_t clen;

	if (len < 12) {
		if ((size_t)(end - *p) < len)
			abort();
		*p += len;
		return;
	}
	clen = compact(p, end);
	if ((size_t)(end - *p) < clen || len > TIGHT_DATA_MAX)
		abort();
	if (!zin_on[id]) {
		memset(&zin[id], 0, sizeof(zin[id]));
		if (inflateInit(&zin[id]) != Z_OK)
			abort();
		zin_on[id] = 1;
	}
	zin[id].next_in = (Bytef *)(uintptr_t)*p;
	zin[id].avail_in = (uInt)clen;
	zin[id].next_out = plain;
	zin[id].avail_out = (uInt)len + 1;
	if (inflate(&zin[id], Z_SYNC_FLUSH) != Z_OK || zin[id].avail_in != 0 ||
	    zin[id].avail_out != 1)
		abort();
	*p += clen;
}

/* Parses one Tight rectangle's data; returns its pixel count. */
static size_t
tight_rect(const uint8_t **p, const uint8_t *end, int w, int h, int tpix, int jpeg)
{
	uint8_t ctl, filter = 0;
	int i, id, ncol;
	size_t len;

	if (*p >= end)
		abort();
	ctl = *(*p)++;
	for (i = 0; i < 4; i++) {
		if ((ctl >> i) & 1 && zin_on[i]) {
			inflateEnd(&zin[i]);
			zin_on[i] = 0;
		}
	}
	ctl >>= 4;
	if (ctl == 8) {
		if ((size_t)(end - *p) < (size_t)tpix)
			abort();
		*p += tpix;
		return (size_t)w * h;
	}
	if (ctl == 9) {
		if (!jpeg)
			abort();
		len = compact(p, end);
		if ((size_t)(end - *p) < len || len < 4 || (*p)[0] != 0xff ||
		    (*p)[1] != 0xd8)
			abort();
		*p += len;
		return (size_t)w * h;
	}
	if (ctl & 8 || w > TIGHT_MAX_WIDTH || (size_t)w * h > TIGHT_MAX_AREA)
		abort();
	id = ctl & 3;
	if (ctl & 4) {
		if (*p >= end)
			abort();
		filter = *(*p)++;
	}
	if (filter == 1) {
		if (*p >= end)
			abort();
		ncol = *(*p)++ + 1;
		if (ncol < 2 || (size_t)(end - *p) < (size_t)ncol * tpix)
			abort();
		*p += (size_t)ncol * tpix;
		len = ncol == 2 ? (size_t)((w + 7) / 8) * h : (size_t)w * h;
	} else if (filter == 2) {
		if (tpix != 3)
			abort();
		len = (size_t)w * h * 3;
	} else if (filter == 0) {
		len = (size_t)w * h * tpix;
	} else {
		abort();
	}
	data_block(p, end, id, len);
	return (size_t)w * h;
}

/* Returns 1 if (x, y, w, h) lies inside one of rects[0, n). */
static int
inside(const struct rfb_rect16 *rects, int n, int x, int y, int w, int h)
{
	int i;

	for (i = 0; i < n; i++)
		if (x >= rects[i].x && y >= rects[i].y &&
		    x + w <= rects[i].x + rects[i].w &&
		    y + h <= rects[i].y + rects[i].h)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tight_state t;
	struct enc_opts o;
	struct harness h;
	struct buf out;
	const uint8_t *p, *end;
	struct rfb_rect16 all[5];
	size_t covered, want;
	uint32_t n;
	int i, k, first, last, tpix, rx, ry, rw, rh;

	if (harness_setup(data, size, &h) != 0)
		return 0;
	tight_init(&t);
	t.chunk_area = TIGHT_MAX_AREA;
	enc_opts_clear(&o);
	if (h.opt[0] & 1)
		o.quality = h.opt[0] % 10;
	if (h.opt[1] & 1)
		o.fine_quality = h.opt[1] % 101;
	if (h.opt[2] & 1)
		o.subsampling = (h.opt[2] >> 1) % 6;
	if (h.opt[3] & 1)
		o.compress = h.opt[3] % 10;
	tpix = h.pc.dst.bpp == 32 && h.pc.dst.depth == 24 &&
	    h.pc.dst.red_max == 255 && h.pc.dst.green_max == 255 &&
	    h.pc.dst.blue_max == 255 ? 3 : h.pc.bytes;
	memset(zin_on, 0, sizeof(zin_on));
	buf_init(&out, 64u << 20);
	for (i = 0; i <= h.nrects; i++) {
		/* Rectangle i on its own; at i == nrects, all in one update. */
		first = i < h.nrects ? i : 0;
		last = i < h.nrects ? i : h.nrects - 1;
		buf_reset(&out);
		n = 0;
		for (k = first, want = 0; k <= last; k++) {
			all[k] = (struct rfb_rect16){ h.rect[k][0], h.rect[k][1],
			    h.rect[k][2], h.rect[k][3] };
			want += (size_t)h.rect[k][2] * h.rect[k][3];
		}
		if (enc_tight_rects(&t, &o, &out, &h.fb, &h.pc, all + first,
		    (size_t)(last - first + 1), &n) != 0)
			abort();
		/*
		 * Each rectangle lies inside one of the damaged rectangles;
		 * together they cover the damage (its area, counted with
		 * overlaps).
		 */
		p = buf_ptr(&out);
		end = p + buf_len(&out);
		covered = 0;
		for (k = 0; k < (int)n; k++) {
			if (end - p < 12)
				abort();
			rx = p[0] << 8 | p[1];
			ry = p[2] << 8 | p[3];
			rw = p[4] << 8 | p[5];
			rh = p[6] << 8 | p[7];
			if (p[8] != 0 || p[9] != 0 || p[10] != 0 || p[11] != 7 ||
			    rw == 0 || rh == 0 ||
			    !inside(all + first, last - first + 1, rx, ry, rw, rh))
				abort();
			p += 12;
			covered += tight_rect(&p, end, rw, rh, tpix,
			    enc_opts_jpeg(&o, h.pc.dst.bpp));
		}
		if (p != end || covered != want)
			abort();
	}
	for (i = 0; i < 4; i++)
		if (zin_on[i])
			inflateEnd(&zin[i]);
	tight_free(&t);
	buf_free(&out);
	return 0;
}
