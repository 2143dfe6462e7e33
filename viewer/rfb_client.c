/*
 * rfb_client.c - moat-viewer's RFB session: ServerInit, the update
 * decoders (Raw, CopyRect, ZRLE; DesktopSize and LastRect) and the input
 * messages. Runs in moat-viewer and parses a possibly hostile server's
 * bytes: the framebuffer size is bounded (VIEWER_MAX_DIM, VIEWER_MAX_PIXELS)
 * before allocation, every rectangle (and CopyRect source) must lie inside
 * the framebuffer, a ZRLE rectangle's compressed length is bounded before
 * it is read, its inflated bytes are parsed tile by tile with every run and
 * palette index checked, and cut text is read in small pieces and dropped.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_types.h"
#include "privsep/errors.h"
#include "viewer/rfb_client.h"

#define TILE		64
#define ZRLE_CPIXEL	3

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

static int
rd(struct viewer_rfb *s, void *p, size_t n)
{
	int r;

	if ((r = viewer_conn_read(s->c, p, n)) == MOAT_ERR_EOF)
		viewer_err("the server closed the connection");
	else if (r != 0)
		viewer_err("reading from the server failed (%s)",
		    moat_strerror(r));
	return r;
}

static int
bad(const char *what)
{
	viewer_err("protocol violation: %s", what);
	return MOAT_ERR_PROTOCOL;
}

/* (Re)allocates a w x h framebuffer, all unpainted. */
static int
fb_alloc(struct viewer_rfb *s, uint32_t w, uint32_t h)
{
	uint32_t *fb;
	uint8_t *painted;

	if (w == 0 || h == 0 || w > VIEWER_MAX_DIM || h > VIEWER_MAX_DIM ||
	    (uint64_t)w * h > VIEWER_MAX_PIXELS)
		return bad("framebuffer size out of bounds");
	fb = calloc((size_t)w * h, sizeof(*fb));
	painted = calloc((size_t)w * h, 1);
	if (fb == NULL || painted == NULL) {
		free(fb);
		free(painted);
		viewer_err("out of memory");
		return MOAT_ERR_NOMEM;
	}
	free(s->fb);
	free(s->painted);
	s->fb = fb;
	s->painted = painted;
	s->w = (uint16_t)w;
	s->h = (uint16_t)h;
	s->unpainted = (size_t)w * h;
	return 0;
}

static void
mark(struct viewer_rfb *s, unsigned x, unsigned y, unsigned w, unsigned h)
{
	unsigned i, j;
	uint8_t *p;

	if (s->unpainted == 0)
		return;
	for (j = 0; j < h; j++) {
		p = s->painted + (size_t)(y + j) * s->w + x;
		for (i = 0; i < w; i++)
			if (!p[i]) {
				p[i] = 1;
				s->unpainted--;
			}
	}
}

int
viewer_rfb_request(struct viewer_rfb *s, int incremental)
{
	uint8_t m[10] = { RFB_FB_UPDATE_REQUEST, (uint8_t)(incremental != 0),
	    0, 0, 0, 0, (uint8_t)(s->w >> 8), (uint8_t)s->w,
	    (uint8_t)(s->h >> 8), (uint8_t)s->h };

	return viewer_conn_write(s->c, m, sizeof(m));
}

int
viewer_rfb_key(struct viewer_rfb *s, uint32_t keysym, int down)
{
	uint8_t m[8] = { RFB_KEY_EVENT, (uint8_t)(down != 0), 0, 0,
	    (uint8_t)(keysym >> 24), (uint8_t)(keysym >> 16),
	    (uint8_t)(keysym >> 8), (uint8_t)keysym };

	if (s->view_only)
		return 0;
	return viewer_conn_write(s->c, m, sizeof(m));
}

int
viewer_rfb_pointer(struct viewer_rfb *s, int x, int y, uint8_t mask)
{
	uint8_t m[6];

	x = x < 0 ? 0 : x >= s->w ? s->w - 1 : x;
	y = y < 0 ? 0 : y >= s->h ? s->h - 1 : y;
	s->px = (uint16_t)x;
	s->py = (uint16_t)y;
	s->buttons = mask;
	m[0] = RFB_POINTER_EVENT;
	m[1] = mask;
	m[2] = (uint8_t)(x >> 8);
	m[3] = (uint8_t)x;
	m[4] = (uint8_t)(y >> 8);
	m[5] = (uint8_t)y;
	if (s->view_only)
		return 0;
	return viewer_conn_write(s->c, m, sizeof(m));
}

int
viewer_rfb_start(struct viewer_rfb *s, struct viewer_conn *c,
    enum viewer_enc enc)
{
	/* 32 bpp, depth 24, little-endian, true colour, 255 each, 16/8/0. */
	static const uint8_t pixfmt[20] = { RFB_SET_PIXEL_FORMAT, 0, 0, 0,
	    32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0 };
	const int32_t zrle[] = { RFB_ENC_ZRLE, RFB_ENC_COPYRECT, RFB_ENC_RAW,
	    RFB_ENC_DESKTOP_SIZE, RFB_ENC_LAST_RECT };
	const int32_t raw[] = { RFB_ENC_COPYRECT, RFB_ENC_RAW,
	    RFB_ENC_DESKTOP_SIZE, RFB_ENC_LAST_RECT };
	const int32_t *list = enc == VIEWER_ENC_ZRLE ? zrle : raw;
	size_t n = enc == VIEWER_ENC_ZRLE ? 5 : 4, i;
	uint8_t shared = 1, si[24], m[4 + 4 * 5];
	uint32_t nlen;
	int r;

	memset(s, 0, sizeof(*s));
	s->c = c;
	if ((r = viewer_conn_write(c, &shared, 1)) != 0 ||
	    (r = rd(s, si, sizeof(si))) != 0)
		return r;
	nlen = be32(si + 20);
	if (nlen > VIEWER_MAX_NAME)
		return bad("desktop name too long");
	if ((r = rd(s, s->name, nlen)) != 0)
		return r;
	s->name[nlen] = '\0';
	for (i = 0; i < nlen; i++)
		if ((unsigned char)s->name[i] < 0x20 || s->name[i] == 0x7f)
			s->name[i] = '?';
	if ((r = fb_alloc(s, be16(si), be16(si + 2))) != 0)
		return r;
	m[0] = RFB_SET_ENCODINGS;
	m[1] = 0;
	m[2] = 0;
	m[3] = (uint8_t)n;
	for (i = 0; i < n; i++) {
		m[4 + 4 * i] = (uint8_t)((uint32_t)list[i] >> 24);
		m[5 + 4 * i] = (uint8_t)((uint32_t)list[i] >> 16);
		m[6 + 4 * i] = (uint8_t)((uint32_t)list[i] >> 8);
		m[7 + 4 * i] = (uint8_t)list[i];
	}
	if ((r = viewer_conn_write(c, pixfmt, sizeof(pixfmt))) != 0 ||
	    (r = viewer_conn_write(c, m, 4 + 4 * n)) != 0 ||
	    (r = viewer_rfb_request(s, 0)) != 0)
		return r;
	return 0;
}

void
viewer_rfb_free(struct viewer_rfb *s)
{
	if (s->zinit)
		inflateEnd(&s->zs);
	s->zinit = 0;
	free(s->zin);
	free(s->fb);
	free(s->painted);
	s->zin = NULL;
	s->fb = NULL;
	s->painted = NULL;
}

/* ---- Raw and CopyRect ---- */

static int
dec_raw(struct viewer_rfb *s, unsigned x, unsigned y, unsigned w, unsigned h)
{
	uint8_t row[4 * VIEWER_MAX_DIM];
	uint32_t *d;
	unsigned i, j;
	int r;

	for (j = 0; j < h; j++) {
		if ((r = rd(s, row, 4 * (size_t)w)) != 0)
			return r;
		d = s->fb + (size_t)(y + j) * s->w + x;
		for (i = 0; i < w; i++)
			d[i] = (uint32_t)row[4 * i] |
			    (uint32_t)row[4 * i + 1] << 8 |
			    (uint32_t)row[4 * i + 2] << 16;
	}
	return 0;
}

static int
dec_copyrect(struct viewer_rfb *s, unsigned x, unsigned y, unsigned w,
    unsigned h)
{
	uint8_t src[4];
	unsigned sx, sy, j;
	int r;

	if ((r = rd(s, src, 4)) != 0)
		return r;
	sx = be16(src);
	sy = be16(src + 2);
	if (sx + w > s->w || sy + h > s->h)
		return bad("CopyRect source outside the framebuffer");
	if (sy < y) {	/* copy bottom-up so an overlap reads old rows */
		for (j = h; j-- > 0;)
			memmove(s->fb + (size_t)(y + j) * s->w + x,
			    s->fb + (size_t)(sy + j) * s->w + sx, 4 * (size_t)w);
	} else {
		for (j = 0; j < h; j++)
			memmove(s->fb + (size_t)(y + j) * s->w + x,
			    s->fb + (size_t)(sy + j) * s->w + sx, 4 * (size_t)w);
	}
	return 0;
}

/* ---- ZRLE ---- */

/* Takes n inflated bytes of the current rectangle into out. */
static int
zget(struct viewer_rfb *s, void *out, size_t n)
{
	size_t k;
	int zr;

	if (n > sizeof(s->zout))
		return MOAT_ERR_TOO_LONG;
	while (s->zlen - s->zoff < n) {
		memmove(s->zout, s->zout + s->zoff, s->zlen - s->zoff);
		s->zlen -= s->zoff;
		s->zoff = 0;
		/* zlib may hold output even when all input is consumed. */
		s->zs.next_out = s->zout + s->zlen;
		s->zs.avail_out = (uInt)(sizeof(s->zout) - s->zlen);
		zr = inflate(&s->zs, Z_SYNC_FLUSH);
		if (zr != Z_OK && zr != Z_BUF_ERROR && zr != Z_STREAM_END)
			return bad("ZRLE data does not inflate");
		k = sizeof(s->zout) - s->zlen - s->zs.avail_out;
		if (k == 0)
			return bad("ZRLE data ends inside a tile");
		s->zlen += k;
	}
	memcpy(out, s->zout + s->zoff, n);
	s->zoff += n;
	return 0;
}

static int
zpixel(struct viewer_rfb *s, uint32_t *px)
{
	uint8_t b[ZRLE_CPIXEL];
	int r;

	if ((r = zget(s, b, ZRLE_CPIXEL)) != 0)
		return r;
	*px = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16;
	return 0;
}

/* A run length: bytes of 255 summed, then a last byte below 255, plus one. */
static int
zrun(struct viewer_rfb *s, size_t left, size_t *len)
{
	uint8_t b;
	size_t n = 1;
	int r;

	do {
		if ((r = zget(s, &b, 1)) != 0)
			return r;
		n += b;
		if (n > left)
			return bad("ZRLE run longer than its tile");
	} while (b == 255);
	*len = n;
	return 0;
}

static int
zrle_tile(struct viewer_rfb *s, unsigned x, unsigned y, unsigned w,
    unsigned h)
{
	uint32_t pal[128], t[TILE * TILE], px;
	size_t area = (size_t)w * h, at = 0, len, k;
	unsigned bits, i, j, npal;
	uint8_t sub, b, idx;
	int r;

	if ((r = zget(s, &sub, 1)) != 0)
		return r;
	if (sub == 0) {
		for (at = 0; at < area; at++)
			if ((r = zpixel(s, &t[at])) != 0)
				return r;
	} else if (sub == 1) {
		if ((r = zpixel(s, &px)) != 0)
			return r;
		for (at = 0; at < area; at++)
			t[at] = px;
	} else if (sub <= 16) {
		npal = sub;
		for (i = 0; i < npal; i++)
			if ((r = zpixel(s, &pal[i])) != 0)
				return r;
		bits = npal == 2 ? 1 : npal <= 4 ? 2 : 4;
		for (j = 0; j < h; j++) {
			for (i = 0; i < w; i += 8 / bits) {
				if ((r = zget(s, &b, 1)) != 0)
					return r;
				for (k = 0; k < 8 / bits && i + k < w; k++) {
					idx = (uint8_t)(b >> (8 - bits * (k + 1))) &
					    (uint8_t)((1 << bits) - 1);
					if (idx >= npal)
						return bad("ZRLE palette index out of range");
					t[j * w + i + k] = pal[idx];
				}
			}
		}
	} else if (sub == 128) {
		while (at < area) {
			if ((r = zpixel(s, &px)) != 0 ||
			    (r = zrun(s, area - at, &len)) != 0)
				return r;
			for (k = 0; k < len; k++)
				t[at++] = px;
		}
	} else if (sub >= 130) {
		npal = sub - 128u;
		for (i = 0; i < npal; i++)
			if ((r = zpixel(s, &pal[i])) != 0)
				return r;
		while (at < area) {
			if ((r = zget(s, &b, 1)) != 0)
				return r;
			idx = b & 0x7f;
			if (idx >= npal)
				return bad("ZRLE palette index out of range");
			len = 1;
			if ((b & 0x80) && (r = zrun(s, area - at, &len)) != 0)
				return r;
			for (k = 0; k < len; k++)
				t[at++] = pal[idx];
		}
	} else
		return bad("unknown ZRLE tile subencoding");
	for (j = 0; j < h; j++)
		memcpy(s->fb + (size_t)(y + j) * s->w + x, t + (size_t)j * w,
		    4 * (size_t)w);
	return 0;
}

static int
dec_zrle(struct viewer_rfb *s, unsigned x, unsigned y, unsigned w, unsigned h)
{
	uint8_t lb[4], rest[64];
	uint32_t len;
	unsigned tx, ty;
	int r, zr;

	if ((r = rd(s, lb, 4)) != 0)
		return r;
	len = be32(lb);
	if (len > VIEWER_MAX_ZRLE)
		return bad("ZRLE rectangle longer than its bound");
	free(s->zin);
	if ((s->zin = malloc(len == 0 ? 1 : len)) == NULL) {
		viewer_err("out of memory");
		return MOAT_ERR_NOMEM;
	}
	if ((r = rd(s, s->zin, len)) != 0)
		return r;
	if (!s->zinit) {
		memset(&s->zs, 0, sizeof(s->zs));
		if (inflateInit(&s->zs) != Z_OK)
			return MOAT_ERR_NOMEM;
		s->zinit = 1;
	}
	s->zs.next_in = s->zin;
	s->zs.avail_in = len;
	s->zoff = s->zlen = 0;
	for (ty = 0; ty < h; ty += TILE)
		for (tx = 0; tx < w; tx += TILE)
			if ((r = zrle_tile(s, x + tx, y + ty,
			    w - tx < TILE ? w - tx : TILE,
			    h - ty < TILE ? h - ty : TILE)) != 0)
				return r;
	/* Whatever remains must inflate to nothing (a flush marker). */
	if (s->zlen != s->zoff)
		return bad("ZRLE rectangle carries bytes after its tiles");
	while (s->zs.avail_in > 0) {
		s->zs.next_out = rest;
		s->zs.avail_out = sizeof(rest);
		zr = inflate(&s->zs, Z_SYNC_FLUSH);
		if ((zr != Z_OK && zr != Z_BUF_ERROR) ||
		    s->zs.avail_out != sizeof(rest))
			return bad("ZRLE rectangle carries bytes after its tiles");
		if (zr == Z_BUF_ERROR)
			break;
	}
	free(s->zin);
	s->zin = NULL;
	return 0;
}

/* ---- server messages ---- */

static int
read_update(struct viewer_rfb *s)
{
	uint8_t h[12];
	uint16_t n, i, x, y, w, hh;
	int32_t enc;
	int r;

	if ((r = rd(s, h, 3)) != 0)
		return r;
	n = be16(h + 1);
	for (i = 0; i < n; i++) {
		if ((r = rd(s, h, 12)) != 0)
			return r;
		x = be16(h);
		y = be16(h + 2);
		w = be16(h + 4);
		hh = be16(h + 6);
		enc = (int32_t)be32(h + 8);
		if (enc == RFB_ENC_LAST_RECT)
			break;
		if (enc == RFB_ENC_DESKTOP_SIZE) {
			if ((r = fb_alloc(s, w, hh)) != 0)
				return r;
			continue;
		}
		if ((uint32_t)x + w > s->w || (uint32_t)y + hh > s->h)
			return bad("rectangle outside the framebuffer");
		if (enc == RFB_ENC_RAW) {
			r = dec_raw(s, x, y, w, hh);
			s->rects[0]++;
		} else if (enc == RFB_ENC_COPYRECT) {
			r = dec_copyrect(s, x, y, w, hh);
			s->rects[1]++;
		} else if (enc == RFB_ENC_ZRLE) {
			r = dec_zrle(s, x, y, w, hh);
			s->rects[2]++;
		} else {
			viewer_err("protocol violation: rectangle with "
			    "encoding %d, which was not asked for", enc);
			return MOAT_ERR_PROTOCOL;
		}
		if (r != 0)
			return r;
		mark(s, x, y, w, hh);
	}
	s->updates++;
	return viewer_rfb_request(s, s->unpainted == 0);
}

static int
skip_cut_text(struct viewer_rfb *s)
{
	uint8_t h[7], tmp[4096];
	uint32_t len;
	size_t k;
	int r;

	if ((r = rd(s, h, 7)) != 0)
		return r;
	len = be32(h + 3);
	if (len > VIEWER_MAX_CUT)
		return bad("cut text longer than its bound");
	while (len > 0) {
		k = len < sizeof(tmp) ? len : sizeof(tmp);
		if ((r = rd(s, tmp, k)) != 0)
			return r;
		len -= (uint32_t)k;
	}
	return 0;
}

int
viewer_rfb_read(struct viewer_rfb *s, int *update)
{
	uint8_t type;
	int r;

	*update = 0;
	if ((r = rd(s, &type, 1)) != 0)
		return r;
	switch (type) {
	case RFB_FB_UPDATE:
		if ((r = read_update(s)) == 0)
			*update = 1;
		return r;
	case RFB_BELL:
		return 0;
	case RFB_SERVER_CUT_TEXT:
		return skip_cut_text(s);
	default:
		viewer_err("protocol violation: server message type %u", type);
		return MOAT_ERR_PROTOCOL;
	}
}

int
viewer_rfb_wait(struct viewer_rfb *s, int timeout_ms)
{
	struct pollfd p = { s->c->fd, POLLIN, 0 };
	int r;

	if (buf_len(&s->c->pt) > 0 ||
	    (s->c->ssl != NULL && SSL_pending(s->c->ssl) > 0))
		return 1;
	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return MOAT_ERR_SYSTEM;
	return r > 0;
}
