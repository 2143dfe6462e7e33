/*
 * test_enc_roundtrip.c - every moat encoder's output decoded by the real
 * libvncclient (its HandleRFBServerMessage() reading our FramebufferUpdate
 * messages from a memfd that stands in for the server socket). Raw,
 * Hextile, Zlib, ZRLE, TRLE and lossless Tight must give back exactly the
 * pixels Raw would send; Tight JPEG must reach a stated PSNR. Framebuffers
 * are random but seeded (deterministic): sizes from 1x1 to 2100 wide with
 * odd widths, noise, text-like few-colour content, solid areas with edges
 * and smooth gradients, in 32-bpp (both byte orders, two channel orders,
 * depth 24 and 32), 16-bpp 565 (both byte orders) and 8-bpp 233 formats.
 * Each client takes several updates (whole screen, then damaged
 * rectangles) so the zlib streams' history is exercised. Test code.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rfb/rfbclient.h>

#include "net/enc_pool.h"
#include "net/encoder.h"
#include "net/pixfmt.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

#include "check.h"

#define OUT_MAX		(64u * 1024 * 1024)
#define HOST_BIG_ENDIAN	(__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)

static const struct fb_format x11_rgb = { 0xff0000, 0x00ff00, 0x0000ff };

struct fmt {
	const char *name;
	struct rfb_pixfmt pf;
};

static const struct fmt fmts[] = {
	{ "rgb888", { 32, 24, 0, 1, 255, 255, 255, 16, 8, 0 } },
	{ "rgb888-be", { 32, 24, 1, 1, 255, 255, 255, 16, 8, 0 } },
	{ "bgr888", { 32, 24, 0, 1, 255, 255, 255, 0, 8, 16 } },
	{ "bgr888-be", { 32, 24, 1, 1, 255, 255, 255, 0, 8, 16 } },
	{ "depth32", { 32, 32, 0, 1, 255, 255, 255, 16, 8, 0 } },
	{ "rgb565", { 16, 16, 0, 1, 31, 63, 31, 11, 5, 0 } },
	{ "rgb565-be", { 16, 16, 1, 1, 31, 63, 31, 11, 5, 0 } },
	{ "bgr233", { 8, 8, 0, 1, 7, 7, 3, 0, 3, 6 } },
};
#define NFMTS (sizeof(fmts) / sizeof(fmts[0]))

enum { E_RAW, E_HEXTILE, E_ZLIB, E_ZRLE, E_TRLE, E_TIGHT, E_TIGHT_JPEG, E_COUNT };
static const char *enc_names[E_COUNT] = {
	"raw", "hextile", "zlib", "zrle", "trle", "tight", "tight-jpeg"
};

static const struct { uint16_t w, h; } sizes[] = {
	{ 1, 1 }, { 2, 1 }, { 1, 7 }, { 17, 5 }, { 63, 65 }, { 127, 33 },
	{ 301, 157 }, { 2048, 24 }, { 2047, 31 }, { 2100, 20 }, { 640, 400 },
	/* Last, for Tight only: large enough for both encoding lanes. */
	{ 1921, 1083 },
};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define SIZE_LANES (NSIZES - 1)

enum { C_NOISE, C_TEXT, C_SOLID, C_SMOOTH, C_MIXED, C_COUNT, C_PHOTO = C_COUNT };

/* A triangle wave 0..255..0 of period 510. */
static uint32_t
tri(int v)
{
	v %= 510;
	return (uint32_t)(v < 256 ? v : 509 - v);
}

static uint64_t rng_state;

static uint32_t
rng(void)
{
	/* xorshift64*: deterministic for a given seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

/* Fills w x h pixels (stride w) with content of kind k in region (x0,y0,w0,h0). */
static void
paint(uint32_t *px, int w, int x0, int y0, int w0, int h0, int k)
{
	static const uint32_t text_colours[4] = { 0xffffff, 0x000000, 0x2050a0, 0xd0d0d0 };
	int x, y;
	uint32_t c, bg = rng() & 0xffffff;
	int fx = 1 + (int)(rng() % 5), fy = 1 + (int)(rng() % 5);

	for (y = y0; y < y0 + h0; y++) {
		for (x = x0; x < x0 + w0; x++) {
			switch (k) {
			case C_NOISE:
				c = rng() & 0xffffff;
				break;
			case C_TEXT:
				c = rng() % 5 < 3 ? text_colours[0] :
				    text_colours[1 + rng() % 3];
				/* runs: repeat the left pixel often */
				if (x > x0 && rng() % 4 != 0)
					c = px[y * w + x - 1];
				break;
			case C_SOLID:
				/* Solid with one-pixel edges around it. */
				c = (x == x0 || y == y0 || x == x0 + w0 - 1 ||
				    y == y0 + h0 - 1) ? 0x808080 : bg;
				break;
			case C_PHOTO:
				/* Smooth colour with mild noise: what JPEG is for. */
				c = tri(x * fx + (int)(rng() % 3)) << 16 |
				    tri(y * fy + (int)(rng() % 3)) << 8 |
				    tri((x + y) * 2 + (int)(rng() % 3));
				break;
			case C_SMOOTH:
				c = (uint32_t)((x * fx) & 255) << 16 |
				    (uint32_t)((y * fy) & 255) << 8 |
				    (uint32_t)(((x + y) / 2) & 255);
				break;
			default:
				if ((x / 40 + y / 40) % 3 == 0)
					c = rng() & 0xffffff;
				else if ((x / 40 + y / 40) % 3 == 1)
					c = bg;
				else
					c = ((x + y) & 7) == 0 ? 0 : 0xffffff;
				break;
			}
			px[y * w + x] = c;
		}
	}
}

static void
quiet(const char *format, ...)
{
	(void)format;
}

struct client {
	rfbClient *cl;
	int fd;
};

static int
client_open(struct client *c, const struct rfb_pixfmt *pf, int w, int h)
{
	rfbClient *cl;

	cl = rfbGetClient(8, 3, 4);
	if (cl == NULL)
		return -1;
	cl->width = w;
	cl->height = h;
	cl->format.bitsPerPixel = pf->bpp;
	cl->format.depth = pf->depth;
	cl->format.bigEndian = pf->big_endian;
	cl->format.trueColour = pf->true_colour;
	cl->format.redMax = pf->red_max;
	cl->format.greenMax = pf->green_max;
	cl->format.blueMax = pf->blue_max;
	cl->format.redShift = pf->red_shift;
	cl->format.greenShift = pf->green_shift;
	cl->format.blueShift = pf->blue_shift;
	/* libvncclient picks its 16-bpp ZRLE/TRLE decoder by the server's format: moat's is 32-bpp depth 24. */
	cl->si.format.bitsPerPixel = 32;
	cl->si.format.depth = 24;
	cl->si.format.trueColour = 1;
	cl->si.format.redMax = cl->si.format.greenMax = cl->si.format.blueMax = 255;
	cl->si.format.redShift = 16;
	cl->si.format.greenShift = 8;
	cl->si.format.blueShift = 0;
	cl->frameBuffer = calloc((size_t)w * h, pf->bpp / 8);
	c->fd = memfd_create("rfb", 0);
	if (cl->frameBuffer == NULL || c->fd < 0)
		return -1;
	cl->sock = c->fd;
	c->cl = cl;
	return 0;
}

static void
client_close(struct client *c)
{
	free(c->cl->frameBuffer);
	c->cl->frameBuffer = NULL;
	rfbClientCleanup(c->cl);	/* closes the memfd */
}

/* Hands one FramebufferUpdate to libvncclient; returns 1 if it decoded it. */
static int
client_feed(struct client *c, const struct buf *msg)
{
	if (ftruncate(c->fd, 0) != 0 || lseek(c->fd, 0, SEEK_SET) != 0 ||
	    write(c->fd, buf_ptr(msg), buf_len(msg)) != (ssize_t)buf_len(msg) ||
	    lseek(c->fd, 0, SEEK_SET) != 0)
		return 0;
	return HandleRFBServerMessage(c->cl) ? 1 : 0;
}

struct encoders {
	struct zrle_state zrle;
	struct zlib_state zlib;
	struct tight_state tight;
	struct enc_opts opts;
	int zrle_level;		/* changes between updates: run-only (1-3) and full search */
};

/* ZRLE's zlib level in each update: the stream changes strategy in place. */
static const int zrle_levels[4] = { 3, 6, 1, 2 };

/* Encodes one rectangle with encoding e; adds the rectangles written to *n. */
static int
encode(struct encoders *s, int e, struct buf *out, const struct fb_view *fb,
    const struct pixconv *pc, int x, int y, int w, int h, uint32_t *n)
{
	int r;

	switch (e) {
	case E_RAW:
		r = enc_raw(out, fb, pc, x, y, w, h);
		break;
	case E_HEXTILE:
		r = enc_hextile(out, fb, pc, x, y, w, h);
		break;
	case E_ZLIB:
		r = enc_zlib(&s->zlib, out, fb, pc, x, y, w, h);
		break;
	case E_ZRLE:
		r = enc_zrle_rects(&s->zrle, s->zrle_level, out, fb, pc,
		    &(struct rfb_rect16){ (uint16_t)x, (uint16_t)y,
		    (uint16_t)w, (uint16_t)h }, 1);
		break;
	case E_TRLE:
		r = enc_trle(out, fb, pc, x, y, w, h);
		break;
	default:
		return enc_tight(&s->tight, &s->opts, out, fb, pc, x, y, w, h, n);
	}
	if (r == 0)
		(*n)++;
	return r;
}

/* Builds an update of the given rectangles into out. */
static int
build_update(struct encoders *s, int e, struct buf *out, const struct fb_view *fb,
    const struct pixconv *pc, const int (*rects)[4], int nr)
{
	uint32_t n = 0;
	uint8_t *p;
	int i, r;

	buf_reset(out);
	if ((r = buf_put_u8(out, 0)) != 0 || (r = buf_put_u8(out, 0)) != 0 ||
	    (r = buf_put_u16(out, 0)) != 0)
		return r;
	for (i = 0; i < nr; i++)
		if ((r = encode(s, e, out, fb, pc, rects[i][0], rects[i][1],
		    rects[i][2], rects[i][3], &n)) != 0)
			return r;
	if (n > 65535)
		return MOAT_ERR_TOO_LONG;
	p = out->data + out->off;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	return 0;
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

static double
channel8(uint32_t v, int shift, int max)
{
	return (double)((v >> shift) & (uint32_t)max) * 255.0 / max;
}

/*
 * Compares the client's framebuffer with what Raw would show: returns the
 * number of differing pixels (colour bits only), and the PSNR in dB over
 * the colour channels scaled to 8 bits.
 */
static size_t
compare(const struct client *c, const struct fb_view *fb, const struct pixconv *pc,
    double *psnr)
{
	const struct rfb_pixfmt *pf = &pc->dst;
	uint32_t cmask = (uint32_t)pf->red_max << pf->red_shift |
	    (uint32_t)pf->green_max << pf->green_shift |
	    (uint32_t)pf->blue_max << pf->blue_shift;
	const uint32_t *src;
	size_t diff = 0, i, n = (size_t)fb->width * fb->height;
	double se = 0, d;
	uint32_t want, got;
	int bytes = pf->bpp / 8, x, y;

	for (y = 0; y < fb->height; y++) {
		src = (const uint32_t *)(const void *)(fb->data + (size_t)y * fb->stride);
		for (x = 0; x < fb->width; x++) {
			i = (size_t)y * fb->width + x;
			want = pixconv_pixel(pc, src[x]) & cmask;
			got = load((const uint8_t *)c->cl->frameBuffer + i * bytes,
			    bytes, pf->big_endian) & cmask;
			if (want != got)
				diff++;
			d = channel8(want, pf->red_shift, pf->red_max) -
			    channel8(got, pf->red_shift, pf->red_max);
			se += d * d;
			d = channel8(want, pf->green_shift, pf->green_max) -
			    channel8(got, pf->green_shift, pf->green_max);
			se += d * d;
			d = channel8(want, pf->blue_shift, pf->blue_max) -
			    channel8(got, pf->blue_shift, pf->blue_max);
			se += d * d;
		}
	}
	se /= 3.0 * n;
	*psnr = se == 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 / se);
	return diff;
}

/*
 * JPEG settings the Tight-JPEG runs cycle through, with the PSNR each must
 * reach on photo-like content (text and solid areas go lossless).
 */
static const struct {
	struct enc_opts o;
	double db;
} jpeg_cases[] = {
	{ { 8, -1, -1, -1 }, 35.0 },	/* q92 4:4:4, TigerVNC's default */
	{ { 0, -1, -1, 1 }, 25.0 },	/* q15 4:2:0 */
	{ { -1, 60, ENC_SUBSAMP_2X, 6 }, 30.0 },
	{ { 9, -1, ENC_SUBSAMP_GRAY, 9 }, 8.0 },	/* grey: colour is lost */
};

static void
run(int fi, int e, size_t si, int variant)
{
	const struct rfb_pixfmt *pf = &fmts[fi].pf;
	int w = sizes[si].w, h = sizes[si].h, kind, i, r, ok;
	struct encoders s;
	struct pixconv pc;
	struct fb_view fb;
	struct client c;
	struct buf out;
	uint32_t *px;
	int rects[4][4];
	size_t diff;
	double psnr, want_db = 0;

	rng_state = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)fi << 40) ^
	    ((uint64_t)e << 32) ^ si * 7919 ^ (uint64_t)variant << 20;
	if (pixconv_init(&pc, &x11_rgb, pf) != 0) {
		CHECK(0, "pixconv %s", fmts[fi].name);
		return;
	}
	px = calloc((size_t)w * h, 4);
	if (px == NULL || client_open(&c, pf, w, h) != 0) {
		CHECK(0, "setup");
		free(px);
		return;
	}
	memset(&s, 0, sizeof(s));
	CHECK(zrle_init(&s.zrle, 6) == 0);
	CHECK(zlib_enc_init(&s.zlib, 6) == 0);
	tight_init(&s.tight);
	enc_opts_clear(&s.opts);
	if (e == E_TIGHT)
		s.opts.compress = variant % 3 == 0 ? -1 : variant % 3 == 1 ? 0 : 9;
	if (e == E_TIGHT_JPEG)
		s.opts = jpeg_cases[variant % 4].o;
	kind = (int)((si + (size_t)variant) % C_COUNT);
	if (e == E_TIGHT_JPEG)
		kind = C_PHOTO;
	paint(px, w, 0, 0, w, h, kind);
	fb.data = (const uint8_t *)px;
	fb.stride = (uint32_t)w * 4;
	fb.width = (uint16_t)w;
	fb.height = (uint16_t)h;
	fb.fmt = x11_rgb;
	buf_init(&out, OUT_MAX);

	/* Update 1: the whole screen. Updates 2-4: repainted rectangles. */
	for (i = 0; i < 4; i++) {
		int nr = 1, k, x, y, rw, rh;

		rects[0][0] = 0;
		rects[0][1] = 0;
		rects[0][2] = w;
		rects[0][3] = h;
		if (i > 0) {
			nr = 1 + (int)(rng() % 3);
			for (k = 0; k < nr; k++) {
				x = (int)(rng() % w);
				y = (int)(rng() % h);
				rw = 1 + (int)(rng() % (w - x));
				rh = 1 + (int)(rng() % (h - y));
				paint(px, w, x, y, rw, rh, e == E_TIGHT_JPEG ?
				    (k == 0 ? C_PHOTO : k == 1 ? C_TEXT : C_SOLID) :
				    (kind + i + k) % C_COUNT);
				rects[k][0] = x;
				rects[k][1] = y;
				rects[k][2] = rw;
				rects[k][3] = rh;
			}
		}
		s.zrle_level = zrle_levels[(i + variant) % 4];
		r = build_update(&s, e, &out, &fb, &pc, (const int (*)[4])rects, nr);
		CHECK(r == 0, "%s %s %dx%d: encode: %s", enc_names[e],
		    fmts[fi].name, w, h, moat_strerror(r));
		if (r != 0)
			break;
		ok = client_feed(&c, &out);
		CHECK(ok, "%s %s %dx%d update %d: libvncclient refused it",
		    enc_names[e], fmts[fi].name, w, h, i);
		if (!ok)
			break;
	}
	/*
	 * A large update went through both lanes: Tight's lane 1 streams or
	 * JPEG; ZRLE's second deflater (used when the first half's tiles
	 * fill a zlib window, as noise always does). With the worker thread
	 * Tight's lanes take chunks as they come free, so lane 1 may find
	 * none left: checked on one thread only.
	 */
	if (si == SIZE_LANES && r == 0 && e != E_ZRLE && !enc_pool_parallel())
		CHECK(s.tight.level[2] > 0 || s.tight.level[3] > 0 ||
		    s.tight.lane[1].jpeg_cap > 0, "%s %s %dx%d: lane 1 unused",
		    enc_names[e], fmts[fi].name, w, h);
	if (si == SIZE_LANES && r == 0 && e == E_ZRLE && kind == C_NOISE)
		CHECK(s.zrle.split_updates > 0, "%s %s %dx%d: one deflater only",
		    enc_names[e], fmts[fi].name, w, h);
	diff = compare(&c, &fb, &pc, &psnr);
	if (e != E_TIGHT_JPEG || pf->bpp == 8) {
		CHECK(diff == 0, "%s %s %dx%d kind %d: %zu pixels differ",
		    enc_names[e], fmts[fi].name, w, h, kind, diff);
	} else {
		/* 16 bpp: libvncclient rounds where moat truncates (a step of 5 or 6 bits). */
		want_db = jpeg_cases[variant % 4].db - (pf->bpp == 16 ? 5 : 0);
		CHECK(psnr >= want_db, "%s %s %dx%d kind %d case %d: PSNR %.1f < %.1f dB",
		    enc_names[e], fmts[fi].name, w, h, kind, variant % 4, psnr,
		    want_db);
	}
	if (getenv("MOAT_TEST_VERBOSE") != NULL)
		fprintf(stderr, "%-10s %-9s %4dx%-4d kind %d var %d: %zu bytes last, "
		    "%zu differ, %.1f dB (want %.1f)\n", enc_names[e],
		    fmts[fi].name, w, h, kind, variant, buf_len(&out), diff,
		    psnr, want_db);
	buf_free(&out);
	zrle_free(&s.zrle);
	zlib_enc_free(&s.zlib);
	tight_free(&s.tight);
	client_close(&c);
	free(px);
}

/* A JPEG rectangle of smooth content at quality level 8 must be at least 35 dB. */
static void
test_jpeg_quality(void)
{
	static const struct rfb_pixfmt pf = { 32, 24, 0, 1, 255, 255, 255, 16, 8, 0 };
	int w = 256, h = 256, i, r;
	struct encoders s;
	struct pixconv pc;
	struct fb_view fb;
	struct client c;
	struct buf out;
	uint32_t *px;
	int rect[1][4] = { { 0, 0, 256, 256 } };
	double psnr;

	px = calloc((size_t)w * h, 4);
	if (px == NULL || pixconv_init(&pc, &x11_rgb, &pf) != 0 ||
	    client_open(&c, &pf, w, h) != 0) {
		CHECK(0, "setup");
		free(px);
		return;
	}
	rng_state = 12345;
	for (i = 0; i < w * h; i++) {
		int x = i % w, y = i / w;
		/* photo-like: smooth with mild noise */
		px[i] = (uint32_t)((x + (int)(rng() % 5)) & 255) << 16 |
		    (uint32_t)((y + (int)(rng() % 5)) & 255) << 8 |
		    (uint32_t)(((x * y) >> 8) & 255);
	}
	fb.data = (const uint8_t *)px;
	fb.stride = (uint32_t)w * 4;
	fb.width = (uint16_t)w;
	fb.height = (uint16_t)h;
	fb.fmt = x11_rgb;
	memset(&s, 0, sizeof(s));
	tight_init(&s.tight);
	enc_opts_clear(&s.opts);
	s.opts.quality = 8;
	buf_init(&out, OUT_MAX);
	r = build_update(&s, E_TIGHT_JPEG, &out, &fb, &pc, (const int (*)[4])rect, 1);
	CHECK(r == 0);
	CHECK(s.tight.stats.jpeg > 0, "no JPEG rectangle was sent");
	CHECK(client_feed(&c, &out));
	(void)compare(&c, &fb, &pc, &psnr);
	CHECK(psnr >= 35.0, "PSNR %.1f dB at quality level 8", psnr);
	/* Lossless when no quality was asked for: no JPEG at all. */
	enc_opts_clear(&s.opts);
	s.tight.stats.jpeg = 0;
	r = build_update(&s, E_TIGHT, &out, &fb, &pc, (const int (*)[4])rect, 1);
	CHECK(r == 0 && s.tight.stats.jpeg == 0);
	CHECK(client_feed(&c, &out));
	CHECK(compare(&c, &fb, &pc, &psnr) == 0);
	buf_free(&out);
	tight_free(&s.tight);
	client_close(&c);
	free(px);
}

/* Tight sends fills, mono, indexed, gradient and full colour when the content calls for them. */
static void
test_tight_kinds(void)
{
	static const struct rfb_pixfmt pf = { 32, 24, 0, 1, 255, 255, 255, 16, 8, 0 };
	int w = 300, h = 200, i;
	struct encoders s;
	struct pixconv pc;
	struct fb_view fb;
	struct client c;
	struct buf out;
	uint32_t *px;
	int rect[1][4] = { { 0, 0, 300, 200 } };
	double psnr;

	px = calloc((size_t)w * h, 4);
	if (px == NULL || pixconv_init(&pc, &x11_rgb, &pf) != 0 ||
	    client_open(&c, &pf, w, h) != 0) {
		CHECK(0, "setup");
		free(px);
		return;
	}
	memset(&s, 0, sizeof(s));
	tight_init(&s.tight);
	enc_opts_clear(&s.opts);
	buf_init(&out, OUT_MAX);
	fb.data = (const uint8_t *)px;
	fb.stride = (uint32_t)w * 4;
	fb.width = (uint16_t)w;
	fb.height = (uint16_t)h;
	fb.fmt = x11_rgb;
	rng_state = 99;
	/* Top half solid, bottom-left two colours, bottom-right noise. */
	for (i = 0; i < w * h; i++) {
		int x = i % w, y = i / w;
		px[i] = y < 100 ? 0x336699 : x < 100 ? ((x ^ y) & 1 ? 0xffffff : 0) :
		    x < 200 ? (uint32_t)((x * 3 + y) % 7) * 0x203040 : rng() & 0xffffff;
	}
	CHECK(build_update(&s, E_TIGHT, &out, &fb, &pc, (const int (*)[4])rect, 1) == 0);
	CHECK(client_feed(&c, &out));
	CHECK(compare(&c, &fb, &pc, &psnr) == 0);
	CHECK(s.tight.stats.fill > 0, "no fill");
	/* Smooth content takes the gradient filter. */
	for (i = 0; i < w * h; i++) {
		int x = i % w, y = i / w;
		px[i] = (uint32_t)(x & 255) << 16 | (uint32_t)(y & 255) << 8 |
		    (uint32_t)((x + y) & 255);
	}
	CHECK(build_update(&s, E_TIGHT, &out, &fb, &pc, (const int (*)[4])rect, 1) == 0);
	CHECK(client_feed(&c, &out));
	CHECK(compare(&c, &fb, &pc, &psnr) == 0);
	CHECK(s.tight.stats.gradient > 0, "no gradient");
	/* Two colours: mono; a handful: indexed. */
	for (i = 0; i < w * h; i++)
		px[i] = (i * 7 / 3) % 5 ? 0x102030 : 0xf0e0d0;
	CHECK(build_update(&s, E_TIGHT, &out, &fb, &pc, (const int (*)[4])rect, 1) == 0);
	CHECK(client_feed(&c, &out));
	CHECK(compare(&c, &fb, &pc, &psnr) == 0);
	CHECK(s.tight.stats.mono > 0, "no mono");
	for (i = 0; i < w * h; i++)
		px[i] = (uint32_t)(i % 11) * 0x050a0f;
	CHECK(build_update(&s, E_TIGHT, &out, &fb, &pc, (const int (*)[4])rect, 1) == 0);
	CHECK(client_feed(&c, &out));
	CHECK(compare(&c, &fb, &pc, &psnr) == 0);
	CHECK(s.tight.stats.indexed > 0, "no indexed");
	/* A change of compression level restarts the streams the viewer follows. */
	s.opts.compress = 9;
	for (i = 0; i < w * h; i++)
		px[i] = (uint32_t)(i % 13) * 0x0a0b0c;
	CHECK(build_update(&s, E_TIGHT, &out, &fb, &pc, (const int (*)[4])rect, 1) == 0);
	CHECK(client_feed(&c, &out));
	CHECK(compare(&c, &fb, &pc, &psnr) == 0);
	buf_free(&out);
	tight_free(&s.tight);
	client_close(&c);
	free(px);
}

/*
 * A wide area with a noisy column beside columns of few colours each:
 * Tight looks at it in 128-pixel columns and joins neighbours whose
 * colours together still fit a palette, or sends each column's own
 * palette when they do not (each column here has 50 colours of its own,
 * so seven of them make 350, more than a palette holds).
 */
static void
test_tight_columns(void)
{
	static const struct rfb_pixfmt pf = { 32, 24, 0, 1, 255, 255, 255, 16, 8, 0 };
	int w = 1024, h = 64, i, pass;
	struct encoders s;
	struct pixconv pc;
	struct fb_view fb;
	struct client c;
	struct buf out;
	uint32_t *px;
	int rect[1][4] = { { 0, 0, 1024, 64 } };
	uint64_t idx0;
	double psnr;

	px = calloc((size_t)w * h, 4);
	if (px == NULL || pixconv_init(&pc, &x11_rgb, &pf) != 0 ||
	    client_open(&c, &pf, w, h) != 0) {
		CHECK(0, "setup");
		free(px);
		return;
	}
	memset(&s, 0, sizeof(s));
	tight_init(&s.tight);
	buf_init(&out, OUT_MAX);
	fb.data = (const uint8_t *)px;
	fb.stride = (uint32_t)w * 4;
	fb.width = (uint16_t)w;
	fb.height = (uint16_t)h;
	fb.fmt = x11_rgb;
	for (pass = 0; pass < 4; pass++) {
		rng_state = 777 + (uint64_t)pass;
		for (i = 0; i < w * h; i++) {
			int x = i % w, k = x / 128;
			uint32_t v = rng();

			/* pass 0, 1: each column its own 50 colours; 2, 3: the same 50 */
			px[i] = k == 0 ? v & 0xffffff :
			    (uint32_t)(pass < 2 ? k * 50 : 0) * 0x010305 +
			    (v % 50) * 0x030201;
		}
		enc_opts_clear(&s.opts);
		s.opts.compress = pass % 2 == 0 ? -1 : 9;
		idx0 = s.tight.stats.indexed;
		CHECK(build_update(&s, E_TIGHT, &out, &fb, &pc,
		    (const int (*)[4])rect, 1) == 0);
		CHECK(client_feed(&c, &out));
		CHECK(compare(&c, &fb, &pc, &psnr) == 0, "pass %d", pass);
		/* One subrectangle (64 rows of 1024): 7 palettes or 1 joined. */
		CHECK(s.tight.stats.indexed - idx0 == (pass < 2 ? 7 : 1),
		    "pass %d: %llu indexed", pass,
		    (unsigned long long)(s.tight.stats.indexed - idx0));
	}
	buf_free(&out);
	tight_free(&s.tight);
	client_close(&c);
	free(px);
}

int
main(void)
{
	size_t si;
	int fi, e, pass, v, variant = 0;

	if (getenv("MOAT_TEST_VERBOSE") == NULL)
		rfbClientLog = quiet;
	for (e = 0; e < E_COUNT; e++) {
		for (fi = 0; fi < (int)NFMTS; fi++) {
			/*
			 * libvncclient 0.9.14 builds ZRLE, TRLE and Tight pixels
			 * as host-order values, so it cannot show other byte
			 * orders (test_encoders.c decodes ZRLE in both).
			 */
			if (fmts[fi].pf.big_endian != HOST_BIG_ENDIAN &&
			    (e == E_ZRLE || e == E_TRLE || e == E_TIGHT ||
			    e == E_TIGHT_JPEG))
				continue;
			/*
			 * Nor does it follow RFC 6143 for depth 32: it takes
			 * 3-byte CPIXELs whenever the colour fits in 3 bytes,
			 * where the RFC (and moat) wants depth <= 24.
			 */
			if (fmts[fi].pf.depth > 24 &&
			    (e == E_ZRLE || e == E_TRLE))
				continue;
			for (si = 0; si < SIZE_LANES; si++)
				run(fi, e, si, variant++);
		}
	}
	/*
	 * Tight's and ZRLE's two lanes on a large screen: first on one thread
	 * (Tight's lane L takes every other chunk), then with the worker
	 * thread (Tight's lanes take the next chunk free), in the formats
	 * libvncclient shows.
	 */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1)
			CHECK(enc_pool_start(NULL) == 0, "cannot start the worker");
		for (v = 0; v < 6; v++) {
			run(0, E_TIGHT, SIZE_LANES, v);
			run(0, E_TIGHT_JPEG, SIZE_LANES, v);
			run(5, E_TIGHT, SIZE_LANES, v);
			run(0, E_ZRLE, SIZE_LANES, v);
			run(5, E_ZRLE, SIZE_LANES, v);
		}
	}
	test_jpeg_quality();
	test_tight_kinds();
	test_tight_columns();
	return check_summary();
}
