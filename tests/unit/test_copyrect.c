/*
 * test_copyrect.c - unit tests for CopyRect (net/enc_copyrect.c): updates
 * built the way net_update.c builds them are applied by a small viewer
 * written here (Raw, CopyRect and ZRLE, applied in order onto the previous
 * image) and compared with the true frame; scrolled text, moved windows,
 * random noise, non-incremental requests, partially known shadows, and 200
 * random frames per pixel format. Also prints update sizes with and without
 * CopyRect and the time one 1920x1080 search takes. Test code; runs no moat
 * process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "net/enc_copyrect.h"
#include "net/encoder.h"
#include "net/pixfmt.h"
#include "privsep/buf.h"
#include "privsep/errors.h"
#include "check.h"

#define OUT_MAX		(64 * 1024 * 1024)

static const struct fb_format x11_rgb = { 0xff0000, 0x00ff00, 0x0000ff };
static const struct rfb_pixfmt pf_default = { 32, 24, 0, 1, 255, 255, 255, 16, 8, 0 };
static const struct rfb_pixfmt pf_565 = { 16, 16, 0, 1, 31, 63, 31, 11, 5, 0 };

static uint32_t
hash2(uint32_t x, uint32_t y, uint32_t seed)
{
	uint32_t h = x * 0x9e3779b1U ^ y * 0x85ebca77U ^ seed * 0xc2b2ae3dU;

	h ^= h >> 15;
	h *= 0x2c1b3c6dU;
	h ^= h >> 12;
	h *= 0x297a2d39U;
	h ^= h >> 15;
	return h;
}

/* Deterministic generator for the randomized tests. */
static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n == 0 ? 0 : (uint32_t)(rng_state % n);
}

/* ------------------------------------------------------------------ */
/* Synthetic screens                                                  */

/* Text: 8x14 character cells, glyphs from a hash; doc_y is the line in the document. */
static uint32_t
text_pixel(uint32_t x, uint32_t doc_y, uint32_t seed)
{
	uint32_t line = doc_y / 14, row = doc_y % 14, col = x / 8, cx = x % 8;
	uint32_t ch;

	if (row >= 12 || cx == 7)
		return 0xf8f8f0;
	ch = hash2(col, line, seed) % 48;
	if (ch < 10)		/* spaces */
		return 0xf8f8f0;
	return hash2(ch, row * 8 + cx, 777) % 3 == 0 ? 0x202020 : 0xf8f8f0;
}

/* A desktop background: a soft gradient. */
static uint32_t
bg_pixel(uint32_t x, uint32_t y)
{
	return 0x204060 + ((x / 3) & 0x3f) * 0x010000 + ((y / 5) & 0x3f);
}

static uint32_t
noise_pixel(uint32_t x, uint32_t y, uint32_t seed)
{
	/* X11 leaves the top byte undefined: never trust it either way. */
	return hash2(x, y, seed) & 0xffffff;
}

struct fb {
	struct fb_view view;
	uint32_t *pix;
	uint32_t spx;		/* stride in pixels */
};

static void
fb_new(struct fb *f, int w, int h)
{
	f->spx = (uint32_t)w + 5;	/* padded rows: stride != width */
	if ((f->pix = calloc((size_t)f->spx * h, 4)) == NULL)
		abort();
	f->view.data = (const uint8_t *)f->pix;
	f->view.stride = f->spx * 4;
	f->view.width = (uint16_t)w;
	f->view.height = (uint16_t)h;
	f->view.fmt = x11_rgb;
}

static uint32_t *
px(struct fb *f, uint32_t x, uint32_t y)
{
	return &f->pix[(size_t)y * f->spx + x];
}

static void
fill_text(struct fb *f, int x, int y, int w, int h, uint32_t doc_off,
    uint32_t seed)
{
	int i, j;

	for (j = y; j < y + h; j++)
		for (i = x; i < x + w; i++)
			*px(f, i, j) = text_pixel(i, j + doc_off, seed);
}

static void
fill_noise(struct fb *f, int x, int y, int w, int h, uint32_t seed)
{
	int i, j;

	for (j = y; j < y + h; j++)
		for (i = x; i < x + w; i++)
			*px(f, i, j) = noise_pixel(i, j, seed);
}

static void
fill_bg(struct fb *f, int x, int y, int w, int h)
{
	int i, j;

	for (j = y; j < y + h; j++)
		for (i = x; i < x + w; i++)
			*px(f, i, j) = bg_pixel(i, j);
}

/* Moves a block of f by (dx, dy) (clipped by the caller), uncovering background. */
static void
move_block(struct fb *f, int x, int y, int w, int h, int dx, int dy)
{
	uint32_t *tmp = malloc((size_t)w * h * 4);
	int j;

	if (tmp == NULL)
		abort();
	for (j = 0; j < h; j++)
		memcpy(tmp + (size_t)j * w, px(f, x, y + j), (size_t)w * 4);
	fill_bg(f, x, y, w, h);
	for (j = 0; j < h; j++)
		memcpy(px(f, x + dx, y + dy + j), tmp + (size_t)j * w,
		    (size_t)w * 4);
	free(tmp);
}

/* Scrolls the region's content by dy rows (negative: up), filling the exposed band with new text. */
static void
scroll_region(struct fb *f, int x, int y, int w, int h, int dy, uint32_t seed)
{
	int j;

	if (dy < 0) {
		for (j = y; j < y + h + dy; j++)
			memcpy(px(f, x, j), px(f, x, j - dy), (size_t)w * 4);
		fill_text(f, x, y + h + dy, w, -dy, 0, seed);
	} else if (dy > 0) {
		for (j = y + h - 1; j >= y + dy; j--)
			memcpy(px(f, x, j), px(f, x, j - dy), (size_t)w * 4);
		fill_text(f, x, y, w, dy, 0, seed);
	}
}

/* ------------------------------------------------------------------ */
/* A small viewer: Raw, CopyRect and ZRLE, applied in order           */

struct copy_seen {
	uint16_t x, y, w, h, sx, sy;
};

struct viewer {
	int w, h;
	uint32_t *img;		/* client pixel values */
	struct rfb_pixfmt pf;
	int bytes, cps, cpoff;
	z_stream zs;
	uint8_t *zbuf;
	size_t zcap;
	int ncopy, nraw, nzrle;
	struct copy_seen copies[512];
	char err[200];
};

static void
viewer_init(struct viewer *v, int w, int h, const struct rfb_pixfmt *pf)
{
	uint32_t colour = ((uint32_t)pf->red_max << pf->red_shift) |
	    ((uint32_t)pf->green_max << pf->green_shift) |
	    ((uint32_t)pf->blue_max << pf->blue_shift);
	int i;

	memset(v, 0, sizeof(*v));
	v->w = w;
	v->h = h;
	v->pf = *pf;
	if ((v->img = malloc((size_t)w * h * 4)) == NULL)
		abort();
	/* What a viewer shows before it is sent anything: not the screen. */
	for (i = 0; i < w * h; i++)
		v->img[i] = 0xdeadbeef;
	v->bytes = v->cps = pf->bpp / 8;
	v->cpoff = 0;
	/* RFC 6143 7.7.5: 3-byte CPIXELs when the colour fits (little-endian here). */
	if (pf->bpp == 32 && pf->depth <= 24 && colour < (1U << 24) &&
	    !pf->big_endian)
		v->cps = 3;
	if (inflateInit(&v->zs) != Z_OK)
		abort();
}

static void
viewer_free(struct viewer *v)
{
	inflateEnd(&v->zs);
	free(v->img);
	free(v->zbuf);
}

static uint32_t
ld(const uint8_t *p, int n, int be)
{
	uint32_t x = 0;
	int i;

	for (i = 0; i < n; i++)
		x |= (uint32_t)p[i] << (8 * (be ? n - 1 - i : i));
	return x;
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

#define VFAIL(...) do {							\
	snprintf(v->err, sizeof(v->err), __VA_ARGS__);			\
	return -1;							\
} while (0)

static long
run_len(const uint8_t *t, size_t len, size_t *p)
{
	long n = 1;

	for (;;) {
		if (*p >= len)
			return -1;
		n += t[*p];
		if (t[(*p)++] != 255)
			return n;
	}
}

static int
viewer_zrle(struct viewer *v, const uint8_t *in, size_t len, int rx, int ry,
    int rw, int rh)
{
	uint32_t zlen, pal[128], c;
	size_t need, outlen, p = 0;
	int tx, ty, tw, th, i, j, sub, np, bits, rowbytes, zr, k, n, idx;
	long rl;
	const uint8_t *t;

	if (len < 4)
		VFAIL("zrle: short length");
	zlen = be32(in);
	if (len - 4 < zlen)
		VFAIL("zrle: data past the message");
	need = ((size_t)(rw + 63) / 64) * ((rh + 63) / 64) * (1 + 64 * 64 * 4) + 64;
	if (need > v->zcap) {
		free(v->zbuf);
		if ((v->zbuf = malloc(need)) == NULL)
			abort();
		v->zcap = need;
	}
	v->zs.next_in = (Bytef *)(uintptr_t)(in + 4);
	v->zs.avail_in = zlen;
	v->zs.next_out = v->zbuf;
	v->zs.avail_out = (uInt)v->zcap;
	zr = inflate(&v->zs, Z_SYNC_FLUSH);
	if (zr != Z_OK && !(zr == Z_BUF_ERROR && zlen == 0))
		VFAIL("zrle: inflate %d", zr);
	if (v->zs.avail_in != 0)
		VFAIL("zrle: zlib data left over");
	outlen = v->zcap - v->zs.avail_out;
	t = v->zbuf;
#define CPIX(q)	ld((q) + v->cpoff, v->cps, v->pf.big_endian)
#define PUT(i, val) (v->img[(size_t)(ry + ty + (i) / tw) * v->w + rx + tx + (i) % tw] = (val))
	for (ty = 0; ty < rh; ty += 64) {
		th = rh - ty < 64 ? rh - ty : 64;
		for (tx = 0; tx < rw; tx += 64) {
			tw = rw - tx < 64 ? rw - tx : 64;
			n = tw * th;
			if (p >= outlen)
				VFAIL("zrle: tile missing");
			sub = t[p++];
			if (sub == 0) {
				if (outlen - p < (size_t)n * v->cps)
					VFAIL("zrle: raw tile short");
				for (i = 0; i < n; i++, p += v->cps)
					PUT(i, CPIX(t + p));
			} else if (sub == 1) {
				if (outlen - p < (size_t)v->cps)
					VFAIL("zrle: solid short");
				c = CPIX(t + p);
				p += v->cps;
				for (i = 0; i < n; i++)
					PUT(i, c);
			} else if (sub <= 16) {
				np = sub;
				bits = np == 2 ? 1 : np <= 4 ? 2 : 4;
				rowbytes = (tw * bits + 7) / 8;
				if (outlen - p < (size_t)np * v->cps +
				    (size_t)rowbytes * th)
					VFAIL("zrle: packed short");
				for (i = 0; i < np; i++, p += v->cps)
					pal[i] = CPIX(t + p);
				for (j = 0; j < th; j++, p += rowbytes) {
					for (i = 0; i < tw; i++) {
						k = (t[p + i * bits / 8] >>
						    (8 - bits - i * bits % 8)) &
						    ((1 << bits) - 1);
						if (k >= np)
							VFAIL("zrle: index");
						PUT(j * tw + i, pal[k]);
					}
				}
			} else if (sub == 128) {
				for (i = 0; i < n; i += (int)rl) {
					if (outlen - p < (size_t)v->cps)
						VFAIL("zrle: rle short");
					c = CPIX(t + p);
					p += v->cps;
					if ((rl = run_len(t, outlen, &p)) < 0 ||
					    rl > n - i)
						VFAIL("zrle: run");
					for (j = 0; j < rl; j++)
						PUT(i + j, c);
				}
			} else if (sub >= 130) {
				np = sub - 128;
				if (outlen - p < (size_t)np * v->cps)
					VFAIL("zrle: palette short");
				for (i = 0; i < np; i++, p += v->cps)
					pal[i] = CPIX(t + p);
				for (i = 0; i < n; i += (int)rl) {
					if (p >= outlen)
						VFAIL("zrle: prle short");
					idx = t[p++];
					rl = 1;
					if ((idx & 0x80) && ((rl = run_len(t,
					    outlen, &p)) < 0 || rl > n - i))
						VFAIL("zrle: prle run");
					if ((idx & 0x7f) >= np)
						VFAIL("zrle: prle index");
					for (j = 0; j < rl; j++)
						PUT(i + j, pal[idx & 0x7f]);
				}
			} else
				VFAIL("zrle: subencoding %d", sub);
		}
	}
#undef CPIX
#undef PUT
	if (p != outlen)
		VFAIL("zrle: bytes after the last tile");
	return (int)(4 + zlen);
}

/* Applies one FramebufferUpdate; returns 0 or -1 with v->err. */
static int
viewer_apply(struct viewer *v, const uint8_t *m, size_t len)
{
	size_t pos = 4;
	uint16_t n, i, x, y, w, h, sx, sy;
	int32_t enc;
	uint32_t *tmp;
	int j, k, used;

	v->ncopy = v->nraw = v->nzrle = 0;
	if (len < 4 || m[0] != 0 || m[1] != 0)
		VFAIL("not a FramebufferUpdate");
	n = be16(m + 2);
	for (i = 0; i < n; i++) {
		if (len - pos < 12)
			VFAIL("rect %u: short header", i);
		x = be16(m + pos);
		y = be16(m + pos + 2);
		w = be16(m + pos + 4);
		h = be16(m + pos + 6);
		enc = (int32_t)be32(m + pos + 8);
		pos += 12;
		if (x + w > v->w || y + h > v->h || w == 0 || h == 0)
			VFAIL("rect %u outside the screen or empty", i);
		switch (enc) {
		case RFB_ENC_RAW:
			if (len - pos < (size_t)w * h * v->bytes)
				VFAIL("raw short");
			for (j = 0; j < h; j++)
				for (k = 0; k < w; k++, pos += v->bytes)
					v->img[(size_t)(y + j) * v->w + x + k] =
					    ld(m + pos, v->bytes, v->pf.big_endian);
			v->nraw++;
			break;
		case RFB_ENC_COPYRECT:
			if (len - pos < 4)
				VFAIL("copyrect short");
			sx = be16(m + pos);
			sy = be16(m + pos + 2);
			pos += 4;
			if (sx + w > v->w || sy + h > v->h)
				VFAIL("copyrect source outside");
			if ((tmp = malloc((size_t)w * h * 4)) == NULL)
				abort();
			for (j = 0; j < h; j++)
				memcpy(tmp + (size_t)j * w,
				    v->img + (size_t)(sy + j) * v->w + sx,
				    (size_t)w * 4);
			for (j = 0; j < h; j++)
				memcpy(v->img + (size_t)(y + j) * v->w + x,
				    tmp + (size_t)j * w, (size_t)w * 4);
			free(tmp);
			if (v->ncopy < 512) {
				struct copy_seen cs = { x, y, w, h, sx, sy };

				v->copies[v->ncopy] = cs;
			}
			v->ncopy++;
			break;
		case RFB_ENC_ZRLE:
			if ((used = viewer_zrle(v, m + pos, len - pos, x, y, w,
			    h)) < 0)
				return -1;
			pos += (size_t)used;
			v->nzrle++;
			break;
		default:
			VFAIL("rect %u: encoding %d", i, (int)enc);
		}
	}
	if (pos != len)
		VFAIL("%zu bytes after the last rectangle", len - pos);
	return 0;
}

/* Counts pixels where the viewer differs from what fb shows. */
static long
viewer_diff(const struct viewer *v, struct fb *f, const struct pixconv *pc)
{
	long bad = 0;
	int x, y;

	for (y = 0; y < v->h; y++)
		for (x = 0; x < v->w; x++)
			bad += v->img[(size_t)y * v->w + x] !=
			    pixconv_pixel(pc, *px(f, x, y));
	return bad;
}

/*
 * The debug consistency check: everywhere the shadow claims the viewer has
 * a pixel, the viewer shows exactly that pixel. Returns the mismatches.
 */
static long
shadow_diff(const struct copyrect_state *s, const struct viewer *v,
    const struct pixconv *pc)
{
	long bad = 0;
	uint32_t x, y;

	for (y = 0; y < s->height; y++)
		for (x = s->known0[y]; x < s->known1[y]; x++)
			bad += v->img[(size_t)y * v->w + x] !=
			    pixconv_pixel(pc, s->shadow[(size_t)y * s->width + x]);
	return bad;
}

/* ------------------------------------------------------------------ */
/* The server side, as net_update.c drives it                         */

struct server {
	struct copyrect_state cr;
	struct zrle_state z;
	struct pixconv pc;
	struct buf out;
	int enc;
};

static void
server_init(struct server *sv, int w, int h, const struct rfb_pixfmt *pf,
    int enc)
{
	memset(sv, 0, sizeof(*sv));
	if (copyrect_init(&sv->cr, (uint16_t)w, (uint16_t)h) != 0 ||
	    zrle_init(&sv->z, 6) != 0 ||
	    pixconv_init(&sv->pc, &x11_rgb, pf) != 0)
		abort();
	buf_init(&sv->out, OUT_MAX);
	sv->enc = enc;
}

static void
server_free(struct server *sv)
{
	copyrect_free(&sv->cr);
	zrle_free(&sv->z);
	buf_free(&sv->out);
}

/* Builds one update into sv->out; returns its rectangle count (0: nothing to send) or negative. */
static int
server_update(struct server *sv, struct fb *f, const struct copyrect_rect *d,
    size_t n, int incremental)
{
	size_t count;
	int r;

	buf_reset(&sv->out);
	if ((r = copyrect_plan(&sv->cr, &f->view, d, n, incremental)) != 0)
		return r;
	count = copyrect_count(&sv->cr);
	if (count == 0)
		return 0;
	if ((r = buf_put_u8(&sv->out, RFB_FB_UPDATE)) != 0 ||
	    (r = buf_put_u8(&sv->out, 0)) != 0 ||
	    (r = buf_put_u16(&sv->out, (uint16_t)count)) != 0)
		return r;
	if ((r = copyrect_write(&sv->cr, &sv->out, &f->view, &sv->pc, &sv->z,
	    sv->enc)) != 0)
		return r;
	return (int)count;
}

/* Sends an update and applies it to the viewer; returns 0 if all went well. */
static int
roundtrip(struct server *sv, struct viewer *v, struct fb *f,
    const struct copyrect_rect *d, size_t n, int incremental)
{
	int r;

	if ((r = server_update(sv, f, d, n, incremental)) < 0) {
		fprintf(stderr, "server_update: %s\n", moat_strerror(r));
		return -1;
	}
	v->ncopy = v->nraw = v->nzrle = 0;
	if (r == 0)
		return 0;
	if (viewer_apply(v, buf_ptr(&sv->out), buf_len(&sv->out)) != 0) {
		fprintf(stderr, "viewer: %s\n", v->err);
		return -1;
	}
	return 0;
}

static struct copyrect_rect
R(int x, int y, int w, int h)
{
	struct copyrect_rect r = { (uint16_t)x, (uint16_t)y, (uint16_t)w,
	    (uint16_t)h };

	return r;
}

/* A pointer to a rectangle for one call. */
#define RP(x, y, w, h) (&(struct copyrect_rect){ (uint16_t)(x), (uint16_t)(y), \
	(uint16_t)(w), (uint16_t)(h) })

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */

static void
test_scroll(int enc)
{
	const int W = 640, H = 480;
	struct server sv, plain;
	struct viewer v, vp;
	struct fb f;
	struct copyrect_rect full = R(0, 0, W, H), win = R(40, 30, 560, 420);
	struct copyrect_move m;
	size_t with, without;
	int i, ok = 0;

	fb_new(&f, W, H);
	fill_bg(&f, 0, 0, W, H);
	fill_text(&f, win.x, win.y, win.w, win.h, 0, 1);
	server_init(&sv, W, H, &pf_default, enc);
	server_init(&plain, W, H, &pf_default, enc);
	viewer_init(&v, W, H, &pf_default);
	viewer_init(&vp, W, H, &pf_default);

	/* First update answers a non-incremental request: never a CopyRect. */
	CHECK(roundtrip(&sv, &v, &f, &full, 1, 0) == 0);
	CHECK(v.ncopy == 0);
	CHECK(viewer_diff(&v, &f, &sv.pc) == 0);
	CHECK(roundtrip(&plain, &vp, &f, &full, 1, 0) == 0);

	/* Scroll the window's text up by 17 rows. */
	fill_text(&f, win.x, win.y, win.w, win.h, 17, 1);
	CHECK(copyrect_find(&sv.cr, &f.view, &win, &m) == 1);
	CHECK(m.sy - m.dst.y == 17 && m.sx == m.dst.x);
	CHECK(m.dst.x == win.x && m.dst.w == win.w && m.dst.y == win.y &&
	    m.dst.h == win.h - 17);

	CHECK(roundtrip(&sv, &v, &f, &win, 1, 1) == 0);
	with = buf_len(&sv.out);
	CHECK(v.ncopy == 1);
	for (i = 0; i < v.ncopy && i < 512; i++)
		if (v.copies[i].sy - v.copies[i].y == 17 &&
		    v.copies[i].sx == v.copies[i].x)
			ok = 1;
	CHECK(ok);
	CHECK(viewer_diff(&v, &f, &sv.pc) == 0);
	CHECK(shadow_diff(&sv.cr, &v, &sv.pc) == 0);

	/* The same update without CopyRect. */
	CHECK(roundtrip(&plain, &vp, &f, &win, 1, 0) == 0);
	without = buf_len(&plain.out);
	CHECK(vp.ncopy == 0);
	CHECK(viewer_diff(&vp, &f, &plain.pc) == 0);
	printf("scroll 17 rows of a 560x420 window, %s: %zu bytes with "
	    "CopyRect, %zu without\n", enc == RFB_ENC_ZRLE ? "ZRLE" : "Raw",
	    with, without);
	CHECK(with * 4 < without);

	/* Scrolling back down by 40 rows, then a second text scroll. */
	scroll_region(&f, win.x, win.y, win.w, win.h, 40, 99);
	CHECK(roundtrip(&sv, &v, &f, &win, 1, 1) == 0);
	CHECK(v.ncopy >= 1);
	CHECK(viewer_diff(&v, &f, &sv.pc) == 0);
	CHECK(shadow_diff(&sv.cr, &v, &sv.pc) == 0);

	/* Damage reported where nothing changed: nothing to send. */
	CHECK(server_update(&sv, &f, &full, 1, 1) == 0);

	server_free(&sv);
	server_free(&plain);
	viewer_free(&v);
	viewer_free(&vp);
	free(f.pix);
}

/* A window with text moved right and down over the background. */
static void
test_moved_window(int two_rects)
{
	const int W = 640, H = 480, bx = 100, by = 80, bw = 300, bh = 200;
	const int dx = 37, dy = 23;
	struct copyrect_rect d[2];
	struct server sv;
	struct viewer v;
	struct fb f;
	int i, ok = 0;

	fb_new(&f, W, H);
	fill_bg(&f, 0, 0, W, H);
	fill_text(&f, bx, by, bw, bh, 0, 5);
	server_init(&sv, W, H, &pf_default, RFB_ENC_ZRLE);
	viewer_init(&v, W, H, &pf_default);
	d[0] = R(0, 0, W, H);
	CHECK(roundtrip(&sv, &v, &f, d, 1, 0) == 0);

	move_block(&f, bx, by, bw, bh, dx, dy);
	if (two_rects) {
		/* The old place first: its pixels are the new place's source. */
		d[0] = R(bx, by, bw, bh);
		d[1] = R(bx + dx, by + dy, bw, bh);
	} else
		d[0] = R(bx, by, bw + dx, bh + dy);
	CHECK(roundtrip(&sv, &v, &f, d, two_rects ? 2 : 1, 1) == 0);
	for (i = 0; i < v.ncopy && i < 512; i++)
		if (v.copies[i].x - v.copies[i].sx == dx &&
		    v.copies[i].y - v.copies[i].sy == dy &&
		    v.copies[i].w * v.copies[i].h >= bw * bh * 3 / 4)
			ok = 1;
	CHECK(ok);
	CHECK(viewer_diff(&v, &f, &sv.pc) == 0);
	CHECK(shadow_diff(&sv.cr, &v, &sv.pc) == 0);
	printf("window %dx%d moved by (%d,%d), %s damage: %d CopyRect, %zu "
	    "bytes\n", bw, bh, dx, dy, two_rects ? "two-rectangle" :
	    "bounding-box", v.ncopy, buf_len(&sv.out));

	server_free(&sv);
	viewer_free(&v);
	free(f.pix);
}

/*
 * A window moved down, damage in horizontal bands from the top (as X's
 * banded regions come): each band's source lies in the band above, which a
 * naive top-down order would already have overwritten.
 */
static void
test_banded_move(void)
{
	const int W = 480, H = 400, bx = 60, by = 40, bw = 256, bh = 240;
	const int dy = 64;
	struct copyrect_rect d[8];
	struct server sv;
	struct viewer v;
	struct fb f;
	int i, n = 0;

	fb_new(&f, W, H);
	fill_bg(&f, 0, 0, W, H);
	fill_text(&f, bx, by, bw, bh, 0, 8);
	server_init(&sv, W, H, &pf_default, RFB_ENC_RAW);
	viewer_init(&v, W, H, &pf_default);
	d[0] = R(0, 0, W, H);
	CHECK(roundtrip(&sv, &v, &f, d, 1, 0) == 0);
	move_block(&f, bx, by, bw, bh, 0, dy);
	for (i = by; i < by + bh + dy; i += 64)
		d[n++] = R(bx, i, bw, by + bh + dy - i < 64 ?
		    by + bh + dy - i : 64);
	CHECK(roundtrip(&sv, &v, &f, d, (size_t)n, 1) == 0);
	CHECK(v.ncopy >= 3);
	CHECK(viewer_diff(&v, &f, &sv.pc) == 0);
	CHECK(shadow_diff(&sv.cr, &v, &sv.pc) == 0);
	/* Each CopyRect's source is untouched by the ones before it. */
	for (i = 1; i < v.ncopy; i++)
		CHECK(v.copies[i].y < v.copies[i - 1].y);

	server_free(&sv);
	viewer_free(&v);
	free(f.pix);
}

static void
test_noise(void)
{
	const int W = 512, H = 384;
	struct copyrect_rect full = R(0, 0, W, H);
	struct copyrect_move m;
	struct server sv;
	struct viewer v;
	struct fb f;
	int seed;

	fb_new(&f, W, H);
	server_init(&sv, W, H, &pf_default, RFB_ENC_RAW);
	viewer_init(&v, W, H, &pf_default);
	fill_noise(&f, 0, 0, W, H, 1);
	CHECK(roundtrip(&sv, &v, &f, &full, 1, 0) == 0);
	for (seed = 2; seed < 12; seed++) {
		fill_noise(&f, 0, 0, W, H, (uint32_t)seed);
		CHECK(copyrect_find(&sv.cr, &f.view, &full, &m) == 0);
		CHECK(roundtrip(&sv, &v, &f, &full, 1, 1) == 0);
		CHECK(v.ncopy == 0);
		CHECK(viewer_diff(&v, &f, &sv.pc) == 0);
	}
	CHECK(sv.cr.stats.copies == 0);
	/* Noise that scrolled is found, though. */
	scroll_region(&f, 0, 0, W, H, -50, 3);
	CHECK(roundtrip(&sv, &v, &f, &full, 1, 1) == 0);
	CHECK(v.ncopy == 1 && v.copies[0].sy - v.copies[0].y == 50);
	CHECK(viewer_diff(&v, &f, &sv.pc) == 0);

	server_free(&sv);
	viewer_free(&v);
	free(f.pix);
}

/* A non-incremental request gets pixels only, even for a perfect scroll. */
static void
test_nonincremental(void)
{
	const int W = 320, H = 240;
	struct copyrect_rect full = R(0, 0, W, H);
	struct server sv;
	struct viewer v;
	struct fb f;

	fb_new(&f, W, H);
	fill_text(&f, 0, 0, W, H, 0, 3);
	server_init(&sv, W, H, &pf_default, RFB_ENC_ZRLE);
	viewer_init(&v, W, H, &pf_default);
	CHECK(roundtrip(&sv, &v, &f, &full, 1, 0) == 0);
	fill_text(&f, 0, 0, W, H, 30, 3);
	CHECK(roundtrip(&sv, &v, &f, &full, 1, 0) == 0);
	CHECK(v.ncopy == 0 && v.nzrle == 1);
	CHECK(viewer_diff(&v, &f, &sv.pc) == 0);
	/* Unchanged content is still sent in full. */
	CHECK(roundtrip(&sv, &v, &f, &full, 1, 0) == 0);
	CHECK(v.nzrle == 1);

	server_free(&sv);
	viewer_free(&v);
	free(f.pix);
}

/* Only pixels the viewer was sent serve as sources. */
static void
test_partial_knowledge(void)
{
	const int W = 400, H = 400;
	struct copyrect_rect full = R(0, 0, W, H), top = R(0, 0, W, H / 2);
	struct copyrect_move m;
	struct server sv;
	struct viewer v;
	struct fb f;
	int i;

	fb_new(&f, W, H);
	fill_text(&f, 0, 0, W, H, 0, 4);
	server_init(&sv, W, H, &pf_default, RFB_ENC_RAW);
	viewer_init(&v, W, H, &pf_default);
	CHECK(roundtrip(&sv, &v, &f, &top, 1, 0) == 0);
	/* Scroll up by 100: rows 100..199 come from rows 200..299, never sent. */
	fill_text(&f, 0, 0, W, H, 100, 4);
	CHECK(roundtrip(&sv, &v, &f, &full, 1, 1) == 0);
	CHECK(v.ncopy >= 1);
	for (i = 0; i < v.ncopy && i < 512; i++)
		CHECK(v.copies[i].sy + v.copies[i].h <= H / 2);
	CHECK(viewer_diff(&v, &f, &sv.pc) == 0);
	CHECK(shadow_diff(&sv.cr, &v, &sv.pc) == 0);

	/* A framebuffer in another channel layout: the shadow means nothing. */
	fill_text(&f, 0, 0, W, H, 110, 4);
	f.view.fmt.red_mask = 0x0000ff;
	f.view.fmt.blue_mask = 0xff0000;
	/* The conversion still expects the old layout: the encoder refuses. */
	CHECK(server_update(&sv, &f, &full, 1, 1) == MOAT_ERR_INVALID);
	CHECK(copyrect_find(&sv.cr, &f.view, &full, &m) == 0);
	f.view.fmt = x11_rgb;

	/* After forgetting (a pixel format change), nothing is a source. */
	copyrect_forget(&sv.cr);
	fill_text(&f, 0, 0, W, H, 130, 4);
	CHECK(copyrect_find(&sv.cr, &f.view, &full, &m) == 0);
	CHECK(roundtrip(&sv, &v, &f, &full, 1, 1) == 0);
	CHECK(v.ncopy == 0 && v.nraw == 1);
	CHECK(viewer_diff(&v, &f, &sv.pc) == 0);

	server_free(&sv);
	viewer_free(&v);
	free(f.pix);
}

static void
test_api(void)
{
	struct copyrect_state s, z;
	struct copyrect_rect big = R(0, 0, 65, 64), ok = R(0, 0, 64, 64);
	struct copyrect_move m = { { 1, 2, 3, 4 }, 0x0102, 0xfffe };
	struct copyrect_move unsent = { { 0, 0, 8, 8 }, 8, 8 };
	uint8_t store[15], want[16] = { 0, 1, 0, 2, 0, 3, 0, 4, 0, 0, 0, 1,
	    1, 2, 0xff, 0xfe };
	struct buf b;
	struct fb f;

	memset(&z, 0, sizeof(z));
	copyrect_free(&z);		/* safe on a zeroed state */
	copyrect_forget(&z);
	memset(&s, 0, sizeof(s));
	CHECK(copyrect_init(&s, 0, 10) == MOAT_ERR_INVALID);
	CHECK(copyrect_init(&s, 16384, 16384) == MOAT_ERR_TOO_LONG);
	CHECK(s.shadow == NULL);
	CHECK(copyrect_init(&s, 64, 64) == 0);

	fb_new(&f, 64, 64);
	CHECK(copyrect_plan(&s, &f.view, &big, 1, 1) == MOAT_ERR_INVALID);
	CHECK(copyrect_plan(&s, &f.view, &ok, COPYRECT_MAX_DIRTY + 1, 1) ==
	    MOAT_ERR_TOO_LONG);
	CHECK(copyrect_snapshot(&s, &f.view, &big) == MOAT_ERR_INVALID);
	f.view.width = 63;		/* not the shadow's size */
	CHECK(copyrect_plan(&s, &f.view, &ok, 1, 1) == MOAT_ERR_INVALID);
	CHECK(copyrect_find(&s, &f.view, &ok, &m) == MOAT_ERR_INVALID);
	f.view.width = 64;
	/* A source the viewer was never sent is refused. */
	CHECK(copyrect_apply(&s, &unsent) == MOAT_ERR_INVALID);
	CHECK(copyrect_apply(&s, &m) == MOAT_ERR_INVALID);	/* outside */

	/* CopyRect bytes: header, encoding 1, src-x, src-y. */
	buf_init(&b, 64);
	CHECK(enc_copyrect(&b, &m) == 0);
	CHECK(buf_len(&b) == 16 && memcmp(buf_ptr(&b), want, 16) == 0);
	buf_free(&b);
	buf_init_fixed(&b, store, sizeof(store));
	CHECK(enc_copyrect(&b, &m) == MOAT_ERR_TOO_LONG && buf_len(&b) == 0);

	copyrect_free(&s);
	CHECK(s.shadow == NULL);
	free(f.pix);
}

/* Two blocks swap places: the CopyRects form a cycle; one is sent as pixels. */
static void
test_swap(void)
{
	const int W = 480, H = 320, bw = 120, bh = 150;
	struct copyrect_rect d[2] = { { 100, 100, bw, bh }, { 220, 100, bw, bh } };
	struct server sv;
	struct viewer v;
	struct fb f;
	uint32_t *tmp;
	int j;

	fb_new(&f, W, H);
	fill_bg(&f, 0, 0, W, H);
	fill_text(&f, 100, 100, bw, bh, 0, 41);
	fill_text(&f, 220, 100, bw, bh, 0, 42);
	server_init(&sv, W, H, &pf_default, RFB_ENC_ZRLE);
	viewer_init(&v, W, H, &pf_default);
	CHECK(roundtrip(&sv, &v, &f, RP(0, 0, W, H), 1, 0) == 0);
	if ((tmp = malloc((size_t)bw * 4)) == NULL)
		abort();
	for (j = 100; j < 100 + bh; j++) {
		memcpy(tmp, px(&f, 100, j), (size_t)bw * 4);
		memcpy(px(&f, 100, j), px(&f, 220, j), (size_t)bw * 4);
		memcpy(px(&f, 220, j), tmp, (size_t)bw * 4);
	}
	free(tmp);
	CHECK(roundtrip(&sv, &v, &f, d, 2, 1) == 0);
	CHECK(v.ncopy == 1, "%d CopyRects", v.ncopy);
	CHECK(viewer_diff(&v, &f, &sv.pc) == 0);
	CHECK(shadow_diff(&sv.cr, &v, &sv.pc) == 0);

	server_free(&sv);
	viewer_free(&v);
	free(f.pix);
}

/* Each row remembers one span the viewer has; a disjoint longer one replaces it. */
static void
test_known_spans(void)
{
	struct copyrect_move m = { { 0, 50, 64, 40 }, 0, 0 };
	struct copyrect_state s;
	struct fb f;

	memset(&s, 0, sizeof(s));
	fb_new(&f, 400, 100);
	fill_text(&f, 0, 0, 400, 100, 0, 9);
	CHECK(copyrect_init(&s, 400, 100) == 0);
	CHECK(copyrect_snapshot(&s, &f.view, RP(0, 0, 100, 100)) == 0);
	CHECK(s.known0[10] == 0 && s.known1[10] == 100);
	CHECK(copyrect_snapshot(&s, &f.view, RP(100, 0, 20, 100)) == 0);
	CHECK(s.known0[10] == 0 && s.known1[10] == 120);	/* adjacent: joined */
	CHECK(copyrect_snapshot(&s, &f.view, RP(200, 0, 50, 20)) == 0);
	CHECK(s.known0[10] == 0 && s.known1[10] == 120);	/* shorter: ignored */
	CHECK(copyrect_apply(&s, &m) == 0);
	CHECK(s.known0[50] == 0 && s.known1[50] == 120);
	CHECK(copyrect_snapshot(&s, &f.view, RP(150, 0, 250, 20)) == 0);
	CHECK(s.known0[10] == 150 && s.known1[10] == 400);	/* longer: replaces */
	CHECK(copyrect_apply(&s, &m) == MOAT_ERR_INVALID);
	copyrect_free(&s);
	free(f.pix);
}

/*
 * copyrect_unknown(): a rectangle sent without a snapshot leaves each row
 * the longer known part beside it, and is never a source.
 */
static void
test_unknown(void)
{
	struct copyrect_move left = { { 0, 50, 40, 10 }, 0, 0 };
	struct copyrect_move right = { { 0, 60, 40, 10 }, 300, 0 };
	struct copyrect_move mid = { { 0, 70, 40, 10 }, 150, 0 };
	struct copyrect_state s;
	struct fb f;

	memset(&s, 0, sizeof(s));
	fb_new(&f, 400, 100);
	fill_text(&f, 0, 0, 400, 100, 0, 7);
	CHECK(copyrect_init(&s, 400, 100) == 0);
	CHECK(copyrect_unknown(&s, RP(0, 0, 400, 100)) == 0);	/* nothing known: no-op */
	CHECK(copyrect_snapshot(&s, &f.view, RP(0, 0, 400, 100)) == 0);
	CHECK(copyrect_unknown(&s, RP(100, 0, 100, 20)) == 0);
	CHECK(s.known0[10] == 200 && s.known1[10] == 400);	/* right part longer */
	CHECK(s.known0[30] == 0 && s.known1[30] == 400);	/* rows below untouched */
	CHECK(copyrect_unknown(&s, RP(300, 20, 100, 10)) == 0);
	CHECK(s.known0[25] == 0 && s.known1[25] == 300);	/* left part longer */
	CHECK(copyrect_unknown(&s, RP(0, 30, 400, 10)) == 0);
	CHECK(s.known0[35] >= s.known1[35]);			/* all of it: none */
	CHECK(copyrect_unknown(&s, RP(0, 0, 401, 1)) == MOAT_ERR_INVALID);
	/* Rows 0..19 know [200, 400): a source at 0 is refused, one at 300 taken. */
	left.sy = right.sy = mid.sy = 5;
	CHECK(copyrect_apply(&s, &left) == MOAT_ERR_INVALID);
	CHECK(copyrect_apply(&s, &mid) == MOAT_ERR_INVALID);
	CHECK(copyrect_apply(&s, &right) == 0);
	copyrect_free(&s);
	free(f.pix);
}

/* Many large overlapping damaged rectangles: bounded work, still exact. */
static void
test_budget(void)
{
	const int W = 640, H = 480;
	struct copyrect_rect d[64];
	struct server sv;
	struct viewer v;
	struct fb f;
	double t;
	int i;

	fb_new(&f, W, H);
	fill_text(&f, 0, 0, W, H, 0, 51);
	server_init(&sv, W, H, &pf_default, RFB_ENC_ZRLE);
	viewer_init(&v, W, H, &pf_default);
	CHECK(roundtrip(&sv, &v, &f, RP(0, 0, W, H), 1, 0) == 0);
	fill_text(&f, 0, 0, W, H, 30, 51);
	for (i = 0; i < 64; i++)
		d[i] = R(i, 0, W - 64, H - (i % 7));
	t = now();
	CHECK(roundtrip(&sv, &v, &f, d, 64, 1) == 0);
	t = now() - t;
	CHECK(v.ncopy >= 1);
	CHECK(viewer_diff(&v, &f, &sv.pc) == 0);
	CHECK(shadow_diff(&sv.cr, &v, &sv.pc) == 0);
	printf("64 overlapping near-full-screen rectangles (640x480): %.1f ms, "
	    "%d CopyRects, %zu bytes\n", t * 1e3, v.ncopy, buf_len(&sv.out));

	server_free(&sv);
	viewer_free(&v);
	free(f.pix);
}

/* 200 random frames: scrolls, moved blocks, edits, false damage, full requests. */
static void
test_random(const struct rfb_pixfmt *pf, const char *name)
{
	const int W = 400, H = 300;
	struct copyrect_rect d[24], full = R(0, 0, W, H);
	struct server sv;
	struct viewer v;
	struct fb f;
	int frame, ops, k, nd, x, y, w, h, dx, dy, bad = 0, copies = 0;
	uint32_t seed = 1000;

	fb_new(&f, W, H);
	fill_bg(&f, 0, 0, W, H);
	fill_text(&f, 20, 20, 360, 260, 0, seed++);
	server_init(&sv, W, H, pf, RFB_ENC_ZRLE);
	viewer_init(&v, W, H, pf);
	CHECK(roundtrip(&sv, &v, &f, &full, 1, 0) == 0);
	for (frame = 0; frame < 200; frame++) {
		nd = 0;
		ops = 1 + (int)rnd(3);
		for (k = 0; k < ops; k++) {
			w = 8 + (int)rnd(W - 8);
			h = 8 + (int)rnd(H - 8);
			x = (int)rnd((uint32_t)(W - w + 1));
			y = (int)rnd((uint32_t)(H - h + 1));
			switch (rnd(6)) {
			case 0:		/* scroll a region */
			case 1:
				dy = (int)rnd((uint32_t)h) - h / 2;
				scroll_region(&f, x, y, w, h, dy, seed++);
				d[nd++] = R(x, y, w, h);
				break;
			case 2:		/* move a block */
				dx = (int)rnd(121) - 60;
				dy = (int)rnd(121) - 60;
				if (x + dx < 0 || x + dx + w > W ||
				    y + dy < 0 || y + dy + h > H)
					break;
				move_block(&f, x, y, w, h, dx, dy);
				if (rnd(2)) {
					d[nd++] = R(x + dx, y + dy, w, h);
					d[nd++] = R(x, y, w, h);
				} else {
					d[nd++] = R(x < x + dx ? x : x + dx,
					    y < y + dy ? y : y + dy,
					    w + abs(dx), h + abs(dy));
				}
				break;
			case 3:		/* new text or noise */
				if (rnd(2))
					fill_text(&f, x, y, w, h, 0, seed++);
				else
					fill_noise(&f, x, y, w, h, seed++);
				d[nd++] = R(x, y, w, h);
				break;
			case 4:		/* damage where nothing changed */
				d[nd++] = R(x, y, w, h);
				break;
			case 5:		/* a small edit inside larger damage */
				fill_noise(&f, x + w / 2, y + h / 2,
				    w / 4 + 1, h / 4 + 1, seed++);
				d[nd++] = R(x, y, w, h);
				break;
			}
		}
		if (nd == 0)
			continue;
		sv.enc = rnd(3) == 0 ? RFB_ENC_RAW : RFB_ENC_ZRLE;
		if (rnd(20) == 0)
			copyrect_forget(&sv.cr);	/* as SetPixelFormat does */
		if (rnd(20) == 0) {
			if (roundtrip(&sv, &v, &f, &full, 1, 0) != 0)
				bad++;
			if (v.ncopy != 0)
				bad++;
		} else if (roundtrip(&sv, &v, &f, d, (size_t)nd, 1) != 0)
			bad++;
		copies += v.ncopy;
		if (viewer_diff(&v, &f, &sv.pc) != 0 ||
		    shadow_diff(&sv.cr, &v, &sv.pc) != 0) {
			fprintf(stderr, "%s frame %d: viewer %ld, shadow %ld "
			    "pixels differ\n", name, frame,
			    viewer_diff(&v, &f, &sv.pc),
			    shadow_diff(&sv.cr, &v, &sv.pc));
			bad++;
		}
	}
	CHECK(bad == 0);
	CHECK(copies > 50);
	printf("random %s: 200 frames, %d CopyRects, %llu pixels copied, "
	    "%llu unchanged skipped, %llu encoded\n", name, copies,
	    (unsigned long long)sv.cr.stats.copied_pixels,
	    (unsigned long long)sv.cr.stats.unchanged_pixels,
	    (unsigned long long)sv.cr.stats.encoded_pixels);

	server_free(&sv);
	viewer_free(&v);
	free(f.pix);
}

/* Time one full-screen search: noise (no match), new text (no match), scrolled text (match). */
static void
test_timing(void)
{
	const int W = 1920, H = 1080, N = 20;
	struct copyrect_rect full = R(0, 0, W, H);
	struct copyrect_move m;
	struct server sv;
	struct fb f;
	double t;
	int i, r = 0;

	fb_new(&f, W, H);
	server_init(&sv, W, H, &pf_default, RFB_ENC_RAW);

	fill_noise(&f, 0, 0, W, H, 1);
	CHECK(copyrect_snapshot(&sv.cr, &f.view, &full) == 0);
	fill_noise(&f, 0, 0, W, H, 2);
	t = now();
	for (i = 0; i < N; i++)
		r += copyrect_find(&sv.cr, &f.view, &full, &m);
	t = (now() - t) / N;
	CHECK(r == 0);
	printf("1920x1080 search, noise, no match: %.3f ms\n", t * 1e3);

	fill_text(&f, 0, 0, W, H, 0, 21);
	CHECK(copyrect_snapshot(&sv.cr, &f.view, &full) == 0);
	fill_text(&f, 0, 0, W, H, 0, 22);
	t = now();
	for (i = 0; i < N; i++)
		r += copyrect_find(&sv.cr, &f.view, &full, &m);
	t = (now() - t) / N;
	printf("1920x1080 search, new text, no match: %.3f ms (%d found)\n",
	    t * 1e3, r);

	fill_text(&f, 0, 0, W, H, 0, 23);
	CHECK(copyrect_snapshot(&sv.cr, &f.view, &full) == 0);
	fill_text(&f, 0, 0, W, H, 17, 23);
	r = 0;
	t = now();
	for (i = 0; i < N; i++)
		r += copyrect_find(&sv.cr, &f.view, &full, &m);
	t = (now() - t) / N;
	CHECK(r == N && m.sy - m.dst.y == 17 && m.dst.h == H - 17);
	printf("1920x1080 search, text scrolled 17 rows, match: %.3f ms\n",
	    t * 1e3);

	t = now();
	for (i = 0; i < N; i++) {
		CHECK(copyrect_snapshot(&sv.cr, &f.view, &full) == 0);
		fill_text(&f, 0, 0, W, H, 17 + 17 * (i + 1), 23);
		CHECK(server_update(&sv, &f, &full, 1, 1) == 2);
	}
	t = (now() - t) / N;
	printf("1920x1080 scroll update (search, copy, Raw of the new rows, "
	    "with the test's redraw): %.3f ms\n", t * 1e3);

	server_free(&sv);
	free(f.pix);
}

int
main(void)
{
	test_api();
	test_scroll(RFB_ENC_RAW);
	test_scroll(RFB_ENC_ZRLE);
	test_moved_window(0);
	test_moved_window(1);
	test_banded_move();
	test_noise();
	test_nonincremental();
	test_partial_knowledge();
	test_swap();
	test_known_spans();
	test_unknown();
	test_budget();
	test_random(&pf_default, "32bpp");
	test_random(&pf_565, "16bpp");
	test_timing();
	return check_summary();
}
