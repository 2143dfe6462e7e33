/*
 * test_encoders.c - unit tests for moat-net's encoders (net/enc_*.c): Raw
 * and ZRLE round trips through an independent decoder written here (inflate
 * plus every ZRLE tile subencoding), Cursor bytes and mask bits, and the
 * exact DesktopSize / ExtendedDesktopSize bytes. Test code; runs no moat
 * process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "net/encoder.h"
#include "net/enc_tile.h"
#include "net/pixfmt.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

#include "check.h"

#define OUT_MAX		(64 * 1024 * 1024)

static const struct fb_format x11_rgb = { 0xff0000, 0x00ff00, 0x0000ff };

static const struct rfb_pixfmt pf_default = { 32, 24, 0, 1, 255, 255, 255, 16, 8, 0 };
static const struct rfb_pixfmt pf_default_be = { 32, 24, 1, 1, 255, 255, 255, 16, 8, 0 };
static const struct rfb_pixfmt pf_novnc = { 32, 24, 0, 1, 255, 255, 255, 0, 8, 16 };
static const struct rfb_pixfmt pf_novnc_be = { 32, 24, 1, 1, 255, 255, 255, 0, 8, 16 };
static const struct rfb_pixfmt pf_high = { 32, 24, 0, 1, 255, 255, 255, 24, 16, 8 };
static const struct rfb_pixfmt pf_high_be = { 32, 24, 1, 1, 255, 255, 255, 24, 16, 8 };
static const struct rfb_pixfmt pf_depth32 = { 32, 32, 0, 1, 255, 255, 255, 16, 8, 0 };
static const struct rfb_pixfmt pf_30 = { 32, 30, 1, 1, 1023, 1023, 1023, 20, 10, 0 };
static const struct rfb_pixfmt pf_565 = { 16, 16, 0, 1, 31, 63, 31, 11, 5, 0 };
static const struct rfb_pixfmt pf_565_be = { 16, 16, 1, 1, 31, 63, 31, 11, 5, 0 };
static const struct rfb_pixfmt pf_233 = { 8, 8, 0, 1, 7, 7, 3, 0, 3, 6 };

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
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

/* ------------------------------------------------------------------ */
/* Synthetic framebuffers                                             */

enum pattern { P_SOLID, P_TEXT, P_TEN, P_GRADIENT, P_NOISE, P_ROWS,
    P_RUNS128, P_MIXED, P_COUNT };

static const char *pattern_name[] = { "solid", "text", "ten-colour",
    "gradient", "noise", "rows", "runs128", "mixed" };

static uint32_t
hash2(uint32_t x, uint32_t y, uint32_t seed)
{
	uint32_t h = x * 0x9e3779b1U ^ y * 0x85ebca77U ^ seed * 0xc2b2ae3dU;

	h ^= h >> 15;
	h *= 0x2c1b3c6dU;
	h ^= h >> 12;
	return h;
}

static uint32_t
pattern_pixel(enum pattern pat, int x, int y, int w, int h)
{
	static const uint32_t ten[10] = { 0x000000, 0xffffff, 0xff0000,
	    0x00ff00, 0x0000ff, 0x808080, 0x123456, 0xfedcba, 0x00ffff,
	    0xff00ff };
	/* X11 leaves the top byte undefined: it must never reach the client. */
	uint32_t junk = (hash2(x, y, 99) & 1) ? 0xab000000 : 0;

	switch (pat) {
	case P_SOLID:
		return junk | 0x336699;
	case P_TEXT:
		if ((x % 9) < 2 || ((y % 14) == 6 && (x % 9) < 7) ||
		    (hash2(x / 3, y / 3, 7) % 11) == 0)
			return junk | 0x101010;
		return junk | 0xf0f0e0;
	case P_TEN:
		return junk | ten[(x / 3 + (y / 2) * 7 +
		    (int)(hash2(x / 3, y / 2, 1) % 3)) % 10];
	case P_GRADIENT:
		return junk | (uint32_t)(x * 255 / (w ? w : 1)) << 16 |
		    (uint32_t)(y * 255 / (h ? h : 1)) << 8 |
		    (uint32_t)((x + y) & 0xff);
	case P_NOISE:
		return hash2(x, y, 3);
	case P_ROWS:	/* 40 colours, runs of 16 */
		return junk | ((uint32_t)((y + x / 16) % 40) * 0x010305U);
	case P_RUNS128:
		return junk | ((uint32_t)((y % 64) * 2 + ((x % 64) >= 32)) *
		    0x030507U & 0xffffff);
	case P_MIXED:
	default:
		return pattern_pixel((enum pattern)(((x / 50) + (y / 40)) %
		    P_MIXED), x, y, w, h);
	}
}

struct fb {
	struct fb_view view;
	uint32_t *pix;
};

static void
fb_make(struct fb *f, int w, int h, enum pattern pat)
{
	int x, y, stride_px = w + 5;	/* padded rows */

	if ((f->pix = calloc((size_t)stride_px * (h ? h : 1), 4)) == NULL)
		abort();
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			f->pix[(size_t)y * stride_px + x] =
			    pattern_pixel(pat, x, y, w, h);
	f->view.data = (const uint8_t *)f->pix;
	f->view.stride = (uint32_t)stride_px * 4;
	f->view.width = (uint16_t)w;
	f->view.height = (uint16_t)h;
	f->view.fmt = x11_rgb;
}

static uint32_t
fb_pixel(const struct fb *f, int x, int y)
{
	return f->pix[(size_t)y * (f->view.stride / 4) + x];
}

/* ------------------------------------------------------------------ */
/* An independent ZRLE decoder                                        */

struct zdec {
	z_stream zs;
	uint8_t *buf;
	size_t cap;
	int cps, bytes, be, off;
	unsigned long hist[256];
	char err[160];
};

static void
zdec_init(struct zdec *d, const struct rfb_pixfmt *pf)
{
	uint32_t colour = ((uint32_t)pf->red_max << pf->red_shift) |
	    ((uint32_t)pf->green_max << pf->green_shift) |
	    ((uint32_t)pf->blue_max << pf->blue_shift);
	int low = colour < (1U << 24), high = (colour & 0xff) == 0;

	memset(d, 0, sizeof(*d));
	if (inflateInit(&d->zs) != Z_OK)
		abort();
	d->bytes = d->cps = pf->bpp / 8;
	d->be = pf->big_endian;
	/* RFC 6143 7.7.5; first three wire bytes preferred, as TigerVNC. */
	if (pf->bpp == 32 && pf->depth <= 24 && (low || high)) {
		d->cps = 3;
		d->off = ((d->be && high) || (!d->be && low)) ? 0 : 1;
	}
}

static void
zdec_free(struct zdec *d)
{
	inflateEnd(&d->zs);
	free(d->buf);
}

static uint32_t
cpixel(const struct zdec *d, const uint8_t *p)
{
	uint8_t wire[4] = { 0, 0, 0, 0 };

	memcpy(wire + d->off, p, (size_t)d->cps);
	return load(wire, d->bytes, d->be);
}

/* Reads a run length (255s then a final byte); -1 if it runs off the data. */
static long
run_length(const uint8_t *p, size_t len, size_t *pos)
{
	long n = 1;

	for (;;) {
		if (*pos >= len)
			return -1;
		n += p[*pos];
		if (p[(*pos)++] != 255)
			return n;
	}
}

/* The smallest encoding of a tile, computed from its decoded values. */
static size_t
tile_min_size(const uint32_t *v, int n, int cps, int tw, int th)
{
	uint32_t pal[128];
	int i, j, k, np = 0, runs = 0, singles = 0, bits;
	size_t lens = 0, best, s;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j] == v[i]; j++)
			;
		runs++;
		if (j - i == 1)
			singles++;
		else
			lens += (size_t)(j - i - 1) / 255 + 1;
	}
	for (i = 0; i < n && np <= 127; i++) {
		for (k = 0; k < np && pal[k] != v[i]; k++)
			;
		if (k == np)
			pal[np++] = v[i];
	}
	if (np == 1)
		return 1 + (size_t)cps;
	best = 1 + (size_t)n * cps;
	s = 1 + (size_t)runs * cps + lens + singles;
	if (s < best)
		best = s;
	if (np <= 127) {
		s = 1 + (size_t)np * cps + runs + lens;
		if (s < best)
			best = s;
	}
	if (np <= 16) {
		bits = np == 2 ? 1 : np <= 4 ? 2 : 4;
		s = 1 + (size_t)np * cps + (size_t)((tw * bits + 7) / 8) * th;
		if (s < best)
			best = s;
	}
	return best;
}

#define FAIL(...) do {							\
	snprintf(d->err, sizeof(d->err), __VA_ARGS__);			\
	return -1;							\
} while (0)

/*
 * Decodes one ZRLE rectangle (header included) from in[*pos..len) into vals
 * (row-major client pixel values, w * h). Returns 0, or -1 with d->err.
 */
static int
zdec_rect(struct zdec *d, const uint8_t *in, size_t len, size_t *pos,
    uint16_t *rx, uint16_t *ry, uint16_t *rw, uint16_t *rh, uint32_t **vals)
{
	uint32_t zlen, pal[128], tile[64 * 64], *v;
	size_t need, outlen = 0, p = 0, tstart;
	int tx, ty, tw, th, i, j, sub, np, bits, rowbytes, zr;
	long rl;
	const uint8_t *t;

	if (len - *pos < 16)
		FAIL("short header");
	t = in + *pos;
	*rx = be16(t);
	*ry = be16(t + 2);
	*rw = be16(t + 4);
	*rh = be16(t + 6);
	if ((int32_t)be32(t + 8) != RFB_ENC_ZRLE)
		FAIL("encoding %d", (int)be32(t + 8));
	zlen = be32(t + 12);
	if (len - *pos - 16 < zlen)
		FAIL("zlib length %u past the data", zlen);
	*pos += 16;

	need = ((size_t)(*rw + 63) / 64) * ((*rh + 63) / 64) * (1 + 64 * 64 * 4) + 64;
	if (need > d->cap) {
		free(d->buf);
		if ((d->buf = malloc(need)) == NULL)
			abort();
		d->cap = need;
	}
	d->zs.next_in = (Bytef *)(uintptr_t)(in + *pos);
	d->zs.avail_in = zlen;
	d->zs.next_out = d->buf;
	d->zs.avail_out = (uInt)d->cap;
	zr = inflate(&d->zs, Z_SYNC_FLUSH);
	if (zr != Z_OK && !(zr == Z_BUF_ERROR && zlen == 0))
		FAIL("inflate: %d", zr);
	if (d->zs.avail_in != 0)
		FAIL("zlib data left over");
	if (d->zs.avail_out == 0)
		FAIL("inflated more than the tiles can hold");
	outlen = d->cap - d->zs.avail_out;
	*pos += zlen;

	if ((v = malloc(((size_t)*rw * *rh + 1) * 4)) == NULL)
		abort();
	*vals = v;
	t = d->buf;
	for (ty = 0; ty < *rh; ty += 64) {
		th = *rh - ty < 64 ? *rh - ty : 64;
		for (tx = 0; tx < *rw; tx += 64) {
			int n;

			tw = *rw - tx < 64 ? *rw - tx : 64;
			n = tw * th;
			tstart = p;
			if (p >= outlen)
				FAIL("tile %d,%d missing", tx, ty);
			sub = t[p++];
			d->hist[sub]++;
			if (sub == 0) {
				if (outlen - p < (size_t)n * d->cps)
					FAIL("raw tile short");
				for (i = 0; i < n; i++, p += d->cps)
					tile[i] = cpixel(d, t + p);
			} else if (sub == 1) {
				if (outlen - p < (size_t)d->cps)
					FAIL("solid tile short");
				for (i = 0; i < n; i++)
					tile[i] = cpixel(d, t + p);
				p += d->cps;
			} else if (sub <= 16) {
				np = sub;
				bits = np == 2 ? 1 : np <= 4 ? 2 : 4;
				rowbytes = (tw * bits + 7) / 8;
				if (outlen - p < (size_t)np * d->cps +
				    (size_t)rowbytes * th)
					FAIL("packed tile short");
				for (i = 0; i < np; i++, p += d->cps)
					pal[i] = cpixel(d, t + p);
				for (j = 0; j < th; j++, p += rowbytes) {
					for (i = 0; i < tw; i++) {
						int bit = i * bits;
						int k = (t[p + bit / 8] >>
						    (8 - bits - bit % 8)) &
						    ((1 << bits) - 1);

						if (k >= np)
							FAIL("index %d >= %d", k, np);
						tile[j * tw + i] = pal[k];
					}
					if (tw * bits % 8 != 0 &&
					    (t[p + rowbytes - 1] &
					    ((1 << (8 - tw * bits % 8)) - 1)) != 0)
						FAIL("padding bits set");
				}
			} else if (sub == 128) {
				for (i = 0; i < n; i += (int)rl) {
					if (outlen - p < (size_t)d->cps)
						FAIL("rle pixel short");
					tile[i] = cpixel(d, t + p);
					p += d->cps;
					if ((rl = run_length(t, outlen, &p)) < 0 ||
					    rl > n - i)
						FAIL("bad run length");
					for (j = 1; j < rl; j++)
						tile[i + j] = tile[i];
				}
			} else if (sub >= 130) {
				np = sub - 128;
				if (outlen - p < (size_t)np * d->cps)
					FAIL("palette short");
				for (i = 0; i < np; i++, p += d->cps)
					pal[i] = cpixel(d, t + p);
				for (i = 0; i < n; i += (int)rl) {
					int k;

					if (p >= outlen)
						FAIL("palette rle short");
					k = t[p++];
					rl = 1;
					if ((k & 0x80) != 0 && ((rl = run_length(t,
					    outlen, &p)) < 0 || rl > n - i))
						FAIL("bad run length");
					if ((k & 0x7f) >= np)
						FAIL("index %d >= %d", k & 0x7f, np);
					for (j = 0; j < rl; j++)
						tile[i + j] = pal[k & 0x7f];
				}
			} else
				FAIL("forbidden subencoding %d", sub);
			if (p - tstart != tile_min_size(tile, n, d->cps, tw, th))
				FAIL("tile %d,%d sub %d: %zu bytes, best %zu",
				    tx, ty, sub, p - tstart,
				    tile_min_size(tile, n, d->cps, tw, th));
			for (j = 0; j < th; j++)
				memcpy(v + (size_t)(ty + j) * *rw + tx,
				    tile + j * tw, (size_t)tw * 4);
		}
	}
	if (p != outlen)
		FAIL("%zu bytes after the last tile", outlen - p);
	return 0;
}

/* ------------------------------------------------------------------ */
/* ZRLE round trips                                                   */

struct rect {
	uint16_t x, y, w, h;
};

static const struct rect rects[] = {
	{ 0, 0, 1, 1 },
	{ 0, 0, 300, 200 },		/* whole framebuffer */
	{ 17, 3, 65, 130 },
	{ 100, 50, 127, 64 },
	{ 64, 64, 64, 64 },
	{ 299, 199, 1, 1 },
	{ 5, 7, 63, 65 },
	{ 10, 10, 0, 0 },		/* empty */
	{ 200, 0, 100, 1 },
	{ 0, 100, 1, 100 },
};
#define NRECTS (sizeof(rects) / sizeof(rects[0]))

static unsigned long hist_total[256];

/* Encodes every rectangle of one pattern on one stream, then decodes them. */
static int
zrle_roundtrip(const struct rfb_pixfmt *pf, const char *pfname,
    enum pattern pat, int level)
{
	struct zrle_state z;
	struct pixconv pc;
	struct zdec d;
	struct buf out;
	struct fb f;
	uint16_t x, y, w, h;
	uint32_t *vals;
	size_t pos = 0, i;
	int r, bad = 0, row, col;

	fb_make(&f, 300, 200, pat);
	if (pixconv_init(&pc, &x11_rgb, pf) != 0 || zrle_init(&z, level) != 0)
		return -1;
	buf_init(&out, OUT_MAX);
	for (i = 0; i < NRECTS; i++) {
		r = enc_zrle(&z, &out, &f.view, &pc, rects[i].x, rects[i].y,
		    rects[i].w, rects[i].h);
		if (r != 0) {
			fprintf(stderr, "enc_zrle: %s\n", moat_strerror(r));
			bad++;
		}
	}
	zdec_init(&d, pf);
	for (i = 0; i < NRECTS && bad == 0; i++) {
		if (zdec_rect(&d, buf_ptr(&out), buf_len(&out), &pos, &x, &y,
		    &w, &h, &vals) != 0) {
			fprintf(stderr, "%s/%s rect %zu: %s\n", pfname,
			    pattern_name[pat], i, d.err);
			bad++;
			break;
		}
		if (x != rects[i].x || y != rects[i].y || w != rects[i].w ||
		    h != rects[i].h)
			bad++;
		for (row = 0; row < h; row++)
			for (col = 0; col < w; col++)
				if (vals[(size_t)row * w + col] !=
				    pixconv_pixel(&pc, fb_pixel(&f, x + col,
				    y + row)))
					bad++;
		free(vals);
	}
	if (bad == 0 && pos != buf_len(&out))
		bad++;
	if (bad != 0)
		fprintf(stderr, "zrle %s/%s: %d mismatches\n", pfname,
		    pattern_name[pat], bad);
	for (i = 0; i < 256; i++)
		hist_total[i] += d.hist[i];
	zdec_free(&d);
	zrle_free(&z);
	buf_free(&out);
	free(f.pix);
	return bad;
}

static void
test_zrle_roundtrips(void)
{
	static const struct {
		const struct rfb_pixfmt *pf;
		const char *name;
	} fmts[] = {
		{ &pf_default, "default" }, { &pf_default_be, "default-be" },
		{ &pf_novnc, "novnc" }, { &pf_novnc_be, "novnc-be" },
		{ &pf_high, "high" }, { &pf_high_be, "high-be" },
		{ &pf_depth32, "depth32" }, { &pf_30, "30bit-be" },
		{ &pf_565, "565" }, { &pf_565_be, "565-be" },
		{ &pf_233, "233" },
	};
	size_t f;
	int p, i, packed = 0, prle = 0;

	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++)
		for (p = 0; p < P_COUNT; p++)
			CHECK(zrle_roundtrip(fmts[f].pf, fmts[f].name,
			    (enum pattern)p, (f + p) % 2 ? 1 : 6) == 0);
	/* Every subencoding moat may send was exercised (and 127/129 never). */
	for (i = 2; i <= 16; i++)
		packed += hist_total[i] != 0;
	for (i = 130; i <= 255; i++)
		prle += hist_total[i] != 0;
	CHECK(hist_total[0] != 0);
	CHECK(hist_total[1] != 0);
	CHECK(hist_total[2] != 0);
	CHECK(packed >= 5);
	CHECK(hist_total[128] != 0);
	CHECK(prle >= 5);
	CHECK(hist_total[127] == 0 && hist_total[129] == 0);
	printf("zrle tiles: raw %lu, solid %lu, packed %d sizes, plain rle %lu, "
	    "palette rle %d sizes\n", hist_total[0], hist_total[1], packed,
	    hist_total[128], prle);
}

/* Specific tiles pick the expected subencoding. */
static void
test_zrle_choices(void)
{
	struct zrle_state z;
	struct pixconv pc;
	struct zdec d;
	struct buf out;
	struct fb f;
	uint16_t x, y, w, h;
	uint32_t *vals;
	size_t pos = 0;

	CHECK(pixconv_init(&pc, &x11_rgb, &pf_default) == 0);
	CHECK(zrle_init(&z, 6) == 0);
	buf_init(&out, OUT_MAX);

	fb_make(&f, 64, 64, P_SOLID);
	CHECK(enc_zrle(&z, &out, &f.view, &pc, 0, 0, 64, 64) == 0);
	zdec_init(&d, &pf_default);
	CHECK(zdec_rect(&d, buf_ptr(&out), buf_len(&out), &pos, &x, &y, &w,
	    &h, &vals) == 0);
	CHECK(d.hist[1] == 1);
	free(vals);
	free(f.pix);

	/* Two colours in a checkerboard: 1-bit packed palette. */
	fb_make(&f, 64, 64, P_SOLID);
	for (y = 0; y < 64; y++)
		for (x = 0; x < 64; x++)
			f.pix[(size_t)y * (f.view.stride / 4) + x] =
			    ((x ^ y) & 1) ? 0xffffff : 0;
	CHECK(enc_zrle(&z, &out, &f.view, &pc, 0, 0, 64, 64) == 0);
	CHECK(zdec_rect(&d, buf_ptr(&out), buf_len(&out), &pos, &x, &y, &w,
	    &h, &vals) == 0);
	CHECK(d.hist[2] == 1);
	CHECK(vals[0] == 0 && vals[1] == 0xffffff && vals[64] == 0xffffff);
	free(vals);
	free(f.pix);

	/* Noise: raw. */
	fb_make(&f, 64, 64, P_NOISE);
	CHECK(enc_zrle(&z, &out, &f.view, &pc, 0, 0, 64, 64) == 0);
	CHECK(zdec_rect(&d, buf_ptr(&out), buf_len(&out), &pos, &x, &y, &w,
	    &h, &vals) == 0);
	CHECK(d.hist[0] == 1);
	free(vals);
	free(f.pix);

	/* 40 colours in runs of 16: palette RLE with 40 entries. */
	fb_make(&f, 64, 64, P_ROWS);
	CHECK(enc_zrle(&z, &out, &f.view, &pc, 0, 0, 64, 64) == 0);
	CHECK(zdec_rect(&d, buf_ptr(&out), buf_len(&out), &pos, &x, &y, &w,
	    &h, &vals) == 0);
	CHECK(d.hist[128 + 40] == 1);
	free(vals);
	free(f.pix);

	/* 128 colours in long runs: plain RLE. */
	fb_make(&f, 64, 64, P_RUNS128);
	CHECK(enc_zrle(&z, &out, &f.view, &pc, 0, 0, 64, 64) == 0);
	CHECK(zdec_rect(&d, buf_ptr(&out), buf_len(&out), &pos, &x, &y, &w,
	    &h, &vals) == 0);
	CHECK(d.hist[128] == 1);
	free(vals);
	free(f.pix);

	/* A run longer than 255 pixels across rows: 255-byte run lengths. */
	fb_make(&f, 64, 64, P_SOLID);
	for (y = 62; y < 64; y++)
		for (x = 0; x < 64; x++)
			f.pix[(size_t)y * (f.view.stride / 4) + x] =
			    hash2(x, y, 5);
	CHECK(enc_zrle(&z, &out, &f.view, &pc, 0, 0, 64, 64) == 0);
	CHECK(zdec_rect(&d, buf_ptr(&out), buf_len(&out), &pos, &x, &y, &w,
	    &h, &vals) == 0);
	CHECK(d.hist[128] == 2);
	CHECK(vals[0] == 0x336699 && vals[62 * 64 - 1] == 0x336699 &&
	    vals[62 * 64] == (hash2(0, 62, 5) & 0xffffff));
	free(vals);
	free(f.pix);

	CHECK(pos == buf_len(&out));
	zdec_free(&d);
	zrle_free(&z);
	buf_free(&out);
}

static void
test_zrle_errors(void)
{
	struct zrle_state z;
	struct pixconv pc;
	struct buf out;
	struct fb f;
	struct fb_view bad;
	uint8_t small[64];
	size_t before;

	fb_make(&f, 100, 100, P_NOISE);
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_default) == 0);
	CHECK(zrle_init(&z, 10) == MOAT_ERR_INVALID);
	CHECK(zrle_init(&z, -2) == MOAT_ERR_INVALID);
	memset(&z, 0, sizeof(z));
	buf_init(&out, OUT_MAX);
	CHECK(enc_zrle(&z, &out, &f.view, &pc, 0, 0, 1, 1) ==
	    MOAT_ERR_INVALID);	/* not initialised */
	zrle_free(&z);		/* safe on a zeroed state */

	CHECK(zrle_init(&z, 6) == 0);
	CHECK(enc_zrle(&z, &out, &f.view, &pc, 50, 50, 51, 1) ==
	    MOAT_ERR_INVALID);
	CHECK(enc_zrle(&z, &out, &f.view, &pc, 0, 100, 1, 1) ==
	    MOAT_ERR_INVALID);
	bad = f.view;
	bad.stride = 399;
	CHECK(enc_zrle(&z, &out, &bad, &pc, 0, 0, 1, 1) == MOAT_ERR_INVALID);
	bad.stride = 396;	/* shorter than a row */
	CHECK(enc_zrle(&z, &out, &bad, &pc, 0, 0, 1, 1) == MOAT_ERR_INVALID);
	bad = f.view;
	bad.fmt.red_mask = 0xff;
	bad.fmt.blue_mask = 0xff0000;
	CHECK(enc_zrle(&z, &out, &bad, &pc, 0, 0, 1, 1) == MOAT_ERR_INVALID);
	CHECK(buf_len(&out) == 0);
	/* Those left the stream usable. */
	CHECK(enc_zrle(&z, &out, &f.view, &pc, 0, 0, 10, 10) == 0);

	/* Output full while compressing: out unchanged, stream ended. */
	before = buf_len(&out);
	{
		struct buf tiny;

		buf_init_fixed(&tiny, small, sizeof(small));
		CHECK(buf_put_u8(&tiny, 0x42) == 0);
		CHECK(enc_zrle(&z, &tiny, &f.view, &pc, 0, 0, 100, 100) ==
		    MOAT_ERR_TOO_LONG);
		CHECK(buf_len(&tiny) == 1 && small[0] == 0x42);
	}
	CHECK(z.initialised == 0);
	CHECK(enc_zrle(&z, &out, &f.view, &pc, 0, 0, 10, 10) ==
	    MOAT_ERR_INVALID);
	CHECK(buf_len(&out) == before);
	zrle_free(&z);
	zrle_free(&z);		/* twice is harmless */
	buf_free(&out);
	free(f.pix);
}

/* ------------------------------------------------------------------ */
/* Raw                                                                */

static void
test_raw(void)
{
	static const struct rfb_pixfmt *fmts[] = { &pf_default, &pf_novnc_be,
	    &pf_565, &pf_565_be, &pf_233, &pf_30 };
	struct pixconv pc;
	struct buf out;
	struct fb f;
	const uint8_t *p;
	uint8_t small[40];
	size_t i;
	int x, y, bad;

	fb_make(&f, 40, 30, P_NOISE);
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		CHECK(pixconv_init(&pc, &x11_rgb, fmts[i]) == 0);
		buf_init(&out, OUT_MAX);
		CHECK(buf_put_u8(&out, 0xee) == 0);	/* something before */
		CHECK(enc_raw(&out, &f.view, &pc, 3, 4, 7, 5) == 0);
		CHECK(buf_len(&out) == 1 + 12 + (size_t)7 * 5 * pc.bytes);
		p = buf_ptr(&out) + 1;
		CHECK(be16(p) == 3 && be16(p + 2) == 4 && be16(p + 4) == 7 &&
		    be16(p + 6) == 5 && be32(p + 8) == RFB_ENC_RAW);
		p += 12;
		bad = 0;
		for (y = 0; y < 5; y++)
			for (x = 0; x < 7; x++, p += pc.bytes) {
				uint32_t src = fb_pixel(&f, 3 + x, 4 + y);
				uint32_t want = pc.identity ? src :
				    pixconv_pixel(&pc, src);

				if (load(p, pc.bytes, fmts[i]->big_endian) !=
				    want)
					bad++;
			}
		CHECK(bad == 0);
		buf_free(&out);
	}

	/* Raw of the default format is the framebuffer's bytes. */
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_default) == 0);
	buf_init(&out, OUT_MAX);
	CHECK(enc_raw(&out, &f.view, &pc, 0, 29, 40, 1) == 0);
	if (pc.identity)
		CHECK(memcmp(buf_ptr(&out) + 12, f.pix + 29 * (f.view.stride / 4),
		    40 * 4) == 0);
	buf_free(&out);

	/* Errors leave out unchanged. */
	buf_init_fixed(&out, small, sizeof(small));
	CHECK(buf_put_u8(&out, 1) == 0);
	CHECK(enc_raw(&out, &f.view, &pc, 0, 0, 3, 3) == MOAT_ERR_TOO_LONG);
	CHECK(enc_raw(&out, &f.view, &pc, 38, 0, 3, 1) == MOAT_ERR_INVALID);
	CHECK(buf_len(&out) == 1);
	CHECK(enc_raw(&out, &f.view, &pc, 0, 0, 0, 0) == 0);
	CHECK(buf_len(&out) == 13);
	free(f.pix);
}

/* ------------------------------------------------------------------ */
/* Cursor and desktop size                                            */

static void
test_cursor(void)
{
	uint32_t argb[10 * 3];
	struct pixconv pc;
	struct buf out;
	const uint8_t *p;
	int x;

	for (x = 0; x < 10; x++) {
		argb[x] = 0xff000000 | 0xff0000;		/* opaque red */
		argb[10 + x] = 0x7f00ff00;			/* just under */
		argb[20 + x] = 0x000000ff;			/* transparent */
	}
	argb[10] = 0xff00ff00;
	argb[19] = 0x8000ff00;				/* just visible */

	CHECK(pixconv_init(&pc, &x11_rgb, &pf_565_be) == 0);
	buf_init(&out, OUT_MAX);
	CHECK(enc_cursor(&out, &pc, 4, 1, 10, 3, argb) == 0);
	CHECK(buf_len(&out) == 12 + 10 * 3 * 2 + 2 * 3);
	p = buf_ptr(&out);
	CHECK(be16(p) == 4 && be16(p + 2) == 1 && be16(p + 4) == 10 &&
	    be16(p + 6) == 3 && (int32_t)be32(p + 8) == RFB_ENC_CURSOR);
	CHECK(p[12] == 0xf8 && p[13] == 0x00);		/* red, BE 565 */
	CHECK(p[12 + 20] == 0x07 && p[12 + 21] == 0xe0);	/* green */
	CHECK(p[12 + 40] == 0x00 && p[12 + 41] == 0x1f);	/* blue */
	p += 12 + 60;
	CHECK(p[0] == 0xff && p[1] == 0xc0);
	CHECK(p[2] == 0x80 && p[3] == 0x40);
	CHECK(p[4] == 0x00 && p[5] == 0x00);
	buf_free(&out);

	/* Same-format client: alpha stays out of the pixel; hotspot clamped. */
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_default) == 0);
	buf_init(&out, OUT_MAX);
	CHECK(enc_cursor(&out, &pc, 30, 30, 10, 3, argb) == 0);
	p = buf_ptr(&out);
	CHECK(be16(p) == 9 && be16(p + 2) == 2);
	CHECK(p[12] == 0x00 && p[13] == 0x00 && p[14] == 0xff && p[15] == 0);
	CHECK(p[12 + 40 * 2 + 3] == 0);
	buf_free(&out);

	/* Empty cursor (hides it): header only. */
	buf_init(&out, OUT_MAX);
	CHECK(enc_cursor(&out, &pc, 0, 0, 0, 0, NULL) == 0);
	CHECK(buf_len(&out) == 12);
	CHECK(enc_cursor(&out, &pc, 0, 0, 2, 2, NULL) == MOAT_ERR_INVALID);
	CHECK(buf_len(&out) == 12);
	buf_free(&out);
}

static void
test_desktop(void)
{
	static const uint8_t want_ds[] = {
		0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x03, 0x00,
		0xff, 0xff, 0xff, 0x21,
	};
	static const uint8_t want_eds[] = {
		0x00, 0x01, 0x00, 0x03, 0x07, 0x80, 0x04, 0x38,
		0xff, 0xff, 0xfe, 0xcc,
		0x01, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x07, 0x80, 0x04, 0x38, 0x00, 0x00, 0x00, 0x00,
	};
	static const uint8_t want_hdr[] = {
		0x12, 0x34, 0xff, 0xff, 0x00, 0x01, 0x80, 0x00,
		0x00, 0x00, 0x00, 0x10,
	};
	uint8_t small[31];
	struct buf out;

	buf_init(&out, 1024);
	CHECK(enc_desktop_size(&out, 1024, 768) == 0);
	CHECK(buf_len(&out) == sizeof(want_ds) &&
	    memcmp(buf_ptr(&out), want_ds, sizeof(want_ds)) == 0);
	buf_reset(&out);
	CHECK(enc_ext_desktop_size(&out, 1, 3, 1920, 1080) == 0);
	CHECK(buf_len(&out) == sizeof(want_eds) &&
	    memcmp(buf_ptr(&out), want_eds, sizeof(want_eds)) == 0);
	buf_reset(&out);
	CHECK(rfb_put_rect_header(&out, 0x1234, 0xffff, 1, 0x8000,
	    RFB_ENC_ZRLE) == 0);
	CHECK(buf_len(&out) == sizeof(want_hdr) &&
	    memcmp(buf_ptr(&out), want_hdr, sizeof(want_hdr)) == 0);
	buf_free(&out);

	/* No room for the whole rectangle: nothing written. */
	buf_init_fixed(&out, small, sizeof(small));
	CHECK(enc_ext_desktop_size(&out, 0, 0, 1, 1) == MOAT_ERR_TOO_LONG);
	CHECK(buf_len(&out) == 0);
	CHECK(buf_put_bytes(&out, small, 20) == 0);
	CHECK(rfb_put_rect_header(&out, 0, 0, 1, 1, 0) == MOAT_ERR_TOO_LONG);
	CHECK(buf_len(&out) == 20);
}

/* DesktopName, LastRect and the QEMU confirmation rectangles. */
static void
test_pseudo_rects(void)
{
	static const uint8_t want_name[] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xfe, 0xcd,
		0, 0, 0, 2, 'v', 'm',
	};
	static const uint8_t want_last[] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x20,
	};
	static const uint8_t want_qemu[] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xfe, 0xfe,
	};
	char longname[2 * RFB_MAX_DESKTOP_NAME + 2];
	uint8_t small[17];
	struct buf out;
	const uint8_t *p;
	uint32_t len;
	size_t i;

	buf_init(&out, 4096);
	CHECK(enc_desktop_name(&out, "vm") == 0);
	CHECK(buf_len(&out) == sizeof(want_name) &&
	    memcmp(buf_ptr(&out), want_name, sizeof(want_name)) == 0);
	buf_reset(&out);
	CHECK(enc_pseudo_empty(&out, RFB_ENC_LAST_RECT) == 0);
	CHECK(buf_len(&out) == sizeof(want_last) &&
	    memcmp(buf_ptr(&out), want_last, sizeof(want_last)) == 0);
	buf_reset(&out);
	CHECK(enc_pseudo_empty(&out, RFB_ENC_QEMU_EXT_KEY) == 0);
	CHECK(buf_len(&out) == sizeof(want_qemu) &&
	    memcmp(buf_ptr(&out), want_qemu, sizeof(want_qemu)) == 0);
	buf_reset(&out);
	/* A long name is cut, at a character boundary: "é" is 2 bytes, and a
	 * leading "x" makes the byte limit fall inside one. */
	longname[0] = 'x';
	for (i = 1; i + 1 < sizeof(longname); i += 2) {
		longname[i] = (char)0xc3;
		longname[i + 1] = (char)0xa9;
	}
	longname[sizeof(longname) - 1] = '\0';
	CHECK(enc_desktop_name(&out, longname) == 0);
	p = buf_ptr(&out);
	len = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 |
	    (uint32_t)p[14] << 8 | p[15];
	CHECK(len == RFB_MAX_DESKTOP_NAME - 1 && buf_len(&out) == 16 + len,
	    "len %u", len);
	CHECK(memcmp(p + 16, longname, len) == 0);
	buf_free(&out);
	/* No room: nothing written. */
	buf_init_fixed(&out, small, sizeof(small));
	CHECK(enc_desktop_name(&out, "vm") == MOAT_ERR_TOO_LONG);
	CHECK(buf_len(&out) == 0);
}

/*
 * enc_deflate_start() (raw deflate primed with the zlib header) must give
 * the very bytes deflateInit() gives, at every level, across sync-flushed
 * pieces, and again after enc_deflate_restart(); inflate must read them.
 */
static void
test_deflate_start(void)
{
	static uint8_t in[40000];
	struct buf a, b;
	z_stream za, zb, zi;
	uint8_t back[sizeof(in)];
	int level, piece, round, ok;
	size_t off, len;

	for (off = 0; off < sizeof(in); off++)
		in[off] = (uint8_t)(off % 251 < 100 ? off % 7 : off * 2654435761U >> 24);
	buf_init(&a, 1u << 20);
	buf_init(&b, 1u << 20);
	for (level = Z_DEFAULT_COMPRESSION; level <= Z_BEST_COMPRESSION; level++) {
		memset(&za, 0, sizeof(za));
		CHECK(deflateInit(&za, level) == Z_OK);
		CHECK(enc_deflate_start(&zb, level) == 0, "level %d", level);
		for (round = 0; round < 2; round++) {
			buf_reset(&a);
			buf_reset(&b);
			for (piece = 0, off = 0; off < sizeof(in); piece++, off += len) {
				len = 1000 + (size_t)piece * 3000;
				if (len > sizeof(in) - off)
					len = sizeof(in) - off;
				CHECK(enc_deflate(&za, in + off, len, &a, Z_SYNC_FLUSH) == 0);
				CHECK(enc_deflate(&zb, in + off, len, &b, Z_SYNC_FLUSH) == 0);
			}
			CHECK(buf_len(&a) == buf_len(&b) && memcmp(buf_ptr(&a),
			    buf_ptr(&b), buf_len(&a)) == 0,
			    "level %d round %d: %zu vs %zu bytes", level, round,
			    buf_len(&a), buf_len(&b));
			memset(&zi, 0, sizeof(zi));
			CHECK(inflateInit(&zi) == Z_OK);
			zi.next_in = (Bytef *)(uintptr_t)buf_ptr(&b);
			zi.avail_in = (uInt)buf_len(&b);
			zi.next_out = back;
			zi.avail_out = sizeof(back);
			ok = inflate(&zi, Z_SYNC_FLUSH) == Z_OK &&
			    zi.avail_out == 0 && memcmp(back, in, sizeof(in)) == 0;
			CHECK(ok, "level %d round %d: inflate", level, round);
			inflateEnd(&zi);
			/* Restart both: the second round must match too. */
			CHECK(deflateReset(&za) == Z_OK);
			CHECK(enc_deflate_restart(&zb, level) == 0);
		}
		deflateEnd(&za);
		deflateEnd(&zb);
	}
	buf_free(&a);
	buf_free(&b);
}

/* Not a pass/fail test: prints the ZRLE cost of a full-HD frame. */
static void
bench_zrle(void)
{
	struct zrle_state z;
	struct pixconv pc;
	struct buf out;
	struct timespec a, b;
	struct fb f;
	double ms;
	int i, n = 5;

	fb_make(&f, 1920, 1080, P_MIXED);
	CHECK(pixconv_init(&pc, &x11_rgb, &pf_novnc) == 0);
	CHECK(zrle_init(&z, 1) == 0);
	buf_init(&out, OUT_MAX);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		buf_reset(&out);
		CHECK(enc_zrle(&z, &out, &f.view, &pc, 0, 0, 1920, 1080) == 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6) / n;
	printf("zrle 1920x1080 mixed, level 1: %.1f ms/frame, %zu bytes\n", ms,
	    buf_len(&out));
	zrle_free(&z);
	buf_free(&out);
	free(f.pix);
}

int
main(void)
{
	test_zrle_roundtrips();
	test_zrle_choices();
	test_zrle_errors();
	test_raw();
	test_cursor();
	test_desktop();
	test_pseudo_rects();
	test_deflate_start();
	bench_zrle();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
