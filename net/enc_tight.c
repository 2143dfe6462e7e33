/*
 * enc_tight.c - Tight encoding (RFB encoding 7, rfbproto "Tight
 * Encoding"): each rectangle is split into subrectangles of at most
 * TIGHT_MAX_WIDTH x (TIGHT_MAX_AREA / width) pixels, large single-colour
 * areas are cut out and sent as fills, and each remaining subrectangle is
 * sent as a fill (one colour), a mono bitmap (two colours) or an indexed
 * palette (up to 256 colours) on the lane's palette stream, JPEG (full
 * colour, only when the viewer sent a quality pseudo-encoding and takes 16
 * or 32 bits per pixel), or lossless full colour (copy or, when the
 * content is smooth, gradient filter) on the lane's full-colour stream.
 * An update is cut into chunks of rows that two lanes take in turn; the
 * lanes run on two cores (enc_pool.h) and their rectangles go out lane
 * 0's first. The four zlib streams live as long as
 * the connection; a stream is restarted, and the viewer told to restart
 * its own, when its level changes or after an error.
 * Runs in moat-net on the hot path. Reads the shared framebuffer only
 * inside the rectangle enc_check_rect() accepted; trusts the client pixel
 * format only after rfb_pixfmt_check() and the options only as parsed by
 * net_client.c (each field -1 or in range).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <turbojpeg.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "encoder.h"
#include "enc_pool.h"
#include "enc_tile.h"

#define HOST_BIG_ENDIAN	(__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)

#define MIN_TO_COMPRESS	12		/* shorter data goes without zlib */
#define COMPACT_MAX	4194303u	/* the largest compact length */
#define CTL_FILL	0x80
#define CTL_JPEG	0x90
#define CTL_FILTER	0x40		/* a filter id follows */
#define FILTER_PALETTE	1
#define FILTER_GRADIENT	2
/* Lane L's streams: 2L for full colour (copy or gradient filter), 2L + 1 for palettes. */
#define STREAM_FULL(j)	((j)->lane_id * 2)
#define STREAM_PALETTE(j) ((j)->lane_id * 2 + 1)
#define DEFAULT_LEVEL	2		/* compression level without -256..-247 */

/* Solid-area search (as TigerVNC's encode manager): 16x16 blocks, 2048-pixel minimum. */
#define SOLID_BLOCK	16
#define SOLID_MIN_AREA	2048

/* Width of the columns a subrectangle with too many colours is split into. */
#define COLUMN_W	128
#define COLUMNS_MAX	(TIGHT_MAX_WIDTH / COLUMN_W)

/* A lane's data: the filtered subrectangle, then each column's palette indices. */
#define DATA_ALLOC	(TIGHT_DATA_MAX + TIGHT_MAX_AREA)

/* Mean absolute gradient residual per channel below which gradient pays. */
#define GRADIENT_SMOOTH	12

/*
 * zlib levels per compression level for palette data (indexed and mono)
 * and for full colour (VirtualGL's findings for indexed and full colour,
 * as TigerVNC uses them), but for palettes at level 2, every viewer's
 * default: zlib level 2 instead of 3 costs 2% more bytes on a text-heavy
 * desktop for 14% fewer instructions per frame. Mono bitmaps share the
 * palette stream (TigerVNC gives them a stream of their own one level
 * higher; they are a small part of any update).
 */
static const struct {
	uint8_t idx, raw;
} zconf[10] = {
	{ 0, 0 }, { 1, 1 }, { 2, 2 }, { 5, 2 }, { 6, 3 },
	{ 7, 4 }, { 7, 5 }, { 8, 6 }, { 9, 7 }, { 9, 9 }
};

/* JPEG quality and subsampling per quality level 0..9 (TigerVNC's table). */
static const struct {
	uint8_t quality;
	uint8_t samp;	/* ENC_SUBSAMP_* */
} jconf[10] = {
	{ 15, ENC_SUBSAMP_4X }, { 29, ENC_SUBSAMP_4X }, { 41, ENC_SUBSAMP_4X },
	{ 42, ENC_SUBSAMP_2X }, { 62, ENC_SUBSAMP_2X }, { 77, ENC_SUBSAMP_2X },
	{ 79, ENC_SUBSAMP_NONE }, { 86, ENC_SUBSAMP_NONE },
	{ 92, ENC_SUBSAMP_NONE }, { 100, ENC_SUBSAMP_NONE }
};

/*
 * One lane's job: the connection's state, the lane it encodes with (only
 * its own streams, buffers and compressor), the rectangles it takes, and
 * what it found. Two run at once; neither writes anything the other reads.
 */
struct chunks;
struct job {
	struct tight_state *t;
	struct tight_lane *lane;
	int lane_id;
	const struct enc_opts *o;
	struct buf *out;
	const struct fb_view *fb;
	const struct pixconv *pc;
	struct chunks *chunks;	/* shared by both lanes */
	size_t next_own;	/* on one core: this lane's next chunk */
	int level;		/* compression level 0..9 */
	int jpeg;		/* full colour goes as JPEG */
	int tpix24;		/* TPIXELs are 3 bytes R, G, B */
	uint32_t mask;		/* source colour bits */
	uint8_t reset;		/* this lane's streams the viewer must reset at its next rect */
	int result;
	uint32_t nrects;
	struct {
		uint64_t fill, mono, indexed, full, gradient, jpeg;
	} stats;
	struct enc_palette pal;
	/* While a subrectangle is cut in columns: each one's colours, in order. */
	uint32_t colpal[COLUMNS_MAX][ENC_PALETTE_MAX];
	int coln[COLUMNS_MAX];
};

void
enc_opts_clear(struct enc_opts *o)
{
	o->quality = o->fine_quality = o->subsampling = o->compress = -1;
}

int
enc_opts_jpeg(const struct enc_opts *o, int bpp)
{
	/* As TigerVNC: any of the three asks for JPEG; 8 bpp never gets it. */
	if (bpp < 16)
		return 0;
	return o->quality != -1 || o->fine_quality != -1 ||
	    o->subsampling != -1;
}

void
tight_init(struct tight_state *t)
{
	memset(t, 0, sizeof(*t));
}

int
tight_prepare(struct tight_state *t)
{
	struct tight_lane *l;
	int i;

	for (i = 0; i < 2; i++) {
		l = &t->lane[i];
		if (l->data == NULL && (l->data = malloc(DATA_ALLOC)) == NULL)
			return MOAT_ERR_NOMEM;
		if (l->tj == NULL && (l->tj = tjInitCompress()) == NULL)
			return MOAT_ERR_NOMEM;
	}
	return 0;
}

void
tight_free(struct tight_state *t)
{
	struct tight_lane *l;
	int i;

	for (i = 0; i < 4; i++)
		if (t->level[i] > 0)
			deflateEnd(&t->zs[i]);
	for (i = 0; i < 2; i++) {
		l = &t->lane[i];
		free(l->data);
		if (l->jpeg != NULL)
			tjFree(l->jpeg);
		if (l->tj != NULL)
			tjDestroy(l->tj);
		buf_free(&l->out);
	}
	tight_init(t);
}

static inline const uint32_t *
src_row(const struct fb_view *fb, int x, int y)
{
	return (const uint32_t *)(const void *)(fb->data +
	    (size_t)y * fb->stride + (size_t)x * 4);
}

/* Writes a compact length (1..3 bytes); returns its size. */
static int
put_compact(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v & 0x7f);
	if (v <= 0x7f)
		return 1;
	p[0] |= 0x80;
	p[1] = (uint8_t)(v >> 7 & 0x7f);
	if (v <= 0x3fff)
		return 2;
	p[1] |= 0x80;
	p[2] = (uint8_t)(v >> 14);
	return 3;
}

/* Writes one client pixel value as a TPIXEL; returns the bytes written. */
static int
put_tpixel(const struct job *j, uint8_t *p, uint32_t v)
{
	const struct rfb_pixfmt *pf = &j->pc->dst;
	int i, n = j->pc->bytes;

	if (j->tpix24) {
		p[0] = (uint8_t)(v >> pf->red_shift);
		p[1] = (uint8_t)(v >> pf->green_shift);
		p[2] = (uint8_t)(v >> pf->blue_shift);
		return 3;
	}
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> 8 * (pf->big_endian ? n - 1 - i : i));
	return n;
}

/*
 * The zlib strategy of stream id at zlib level: palette indices at levels
 * 1 and 2 look for runs only (Z_RLE). On the 1080p test desktop at
 * compression level 1 that is 8% fewer bytes for 18% less CPU a frame; at
 * level 2, 2% more bytes for 15% less CPU; on a text page 23-26% fewer
 * bytes (deflate's fast levels give up on long runs early).
 */
static int
stream_strategy(int id, int level)
{
	return (id & 1) && level >= 1 && level <= 2 ? Z_RLE :
	    Z_DEFAULT_STRATEGY;
}

/* Makes stream id ready at zlib level; restarting it tells the viewer to restart its own. */
static int
stream_ready(struct job *j, int id, int level)
{
	struct tight_state *t = j->t;
	int r;

	if (t->level[id] == level + 1)
		return 0;
	if (t->level[id] > 0) {
		deflateEnd(&t->zs[id]);
		t->level[id] = 0;
		j->reset |= (uint8_t)(1 << id);
	}
	if ((r = enc_deflate_start_strategy(&t->zs[id], level,
	    stream_strategy(id, level))) != 0)
		return r;
	t->level[id] = level + 1;
	return 0;
}

/* Appends a rectangle header and the control byte (with any pending stream resets). */
static int
put_start(struct job *j, int x, int y, int w, int h, uint8_t ctl)
{
	int r;

	if ((r = rfb_put_rect_header(j->out, (uint16_t)x, (uint16_t)y,
	    (uint16_t)w, (uint16_t)h, RFB_ENC_TIGHT)) != 0 ||
	    (r = buf_put_u8(j->out, (uint8_t)(ctl | j->reset))) != 0)
		return r;
	j->reset = 0;
	j->nrects++;
	return 0;
}

/* Appends len bytes of filtered data: raw when short, else compact length + zlib on stream id. */
static int
put_data(struct job *j, int id, const uint8_t *data, size_t len)
{
	struct buf *out = j->out;
	size_t pos, clen;
	uint8_t *p, len3[3];
	int r, n;

	if (len < MIN_TO_COMPRESS)
		return buf_put_bytes(out, data, len);
	if ((r = buf_put_bytes(out, "\0\0\0", 3)) != 0)
		return r;
	pos = buf_len(out);
	if ((r = enc_deflate(&j->t->zs[id], data, len, out,
	    Z_SYNC_FLUSH)) != 0)
		return r;
	clen = buf_len(out) - pos;
	if (clen > COMPACT_MAX)
		return MOAT_ERR_TOO_LONG;
	n = put_compact(len3, (uint32_t)clen);
	p = out->data + out->off + pos;
	memcpy(p - 3, len3, (size_t)n);
	memmove(p - 3 + n, p, clen);
	out->len -= (size_t)(3 - n);
	return 0;
}

static int
put_fill(struct job *j, int x, int y, int w, int h, uint32_t src)
{
	uint8_t px[4];
	int r, n;

	n = put_tpixel(j, px, pixconv_pixel(j->pc, src));
	if ((r = put_start(j, x, y, w, h, CTL_FILL)) != 0)
		return r;
	j->stats.fill++;
	return buf_put_bytes(j->out, px, (size_t)n);
}

/* Mono bitmap or indexed palette from the colours in j->pal and the indices in the lane's data. */
static int
put_palette(struct job *j, int x, int y, int w, int h)
{
	struct enc_palette *pal = &j->pal;
	uint8_t hdr[2 + ENC_PALETTE_MAX * 4], *d = j->lane->data, *s, acc;
	size_t hl = 0, len;
	int r, i, row_i, nbits, mono = pal->n == 2;
	int id = STREAM_PALETTE(j);
	/* Mono and indexed share the lane's stream, at the indexed level. */
	int level = zconf[j->level].idx;

	if ((r = stream_ready(j, id, level)) != 0)
		return r;
	hdr[hl++] = FILTER_PALETTE;
	hdr[hl++] = (uint8_t)(pal->n - 1);
	for (i = 0; i < pal->n; i++)
		hl += (size_t)put_tpixel(j, hdr + hl,
		    pixconv_pixel(j->pc, pal->colour[i]));
	len = (size_t)w * h;
	if (mono) {
		/* Pack the index bytes in place: 1 bit a pixel, rows padded. */
		for (row_i = 0, s = d; row_i < h; row_i++) {
			acc = 0;
			nbits = 0;
			for (i = 0; i < w; i++) {
				acc = (uint8_t)(acc << 1 | *s++);
				if (++nbits == 8) {
					*d++ = acc;
					acc = 0;
					nbits = 0;
				}
			}
			if (nbits != 0)
				*d++ = (uint8_t)(acc << (8 - nbits));
		}
		len = (size_t)(d - j->lane->data);
	}
	if ((r = put_start(j, x, y, w, h, (uint8_t)(id << 4 | CTL_FILTER))) != 0 ||
	    (r = buf_put_bytes(j->out, hdr, hl)) != 0 ||
	    (r = put_data(j, id, j->lane->data, len)) != 0)
		return r;
	if (mono)
		j->stats.mono++;
	else
		j->stats.indexed++;
	return 0;
}

/* Converts one row of source pixels to TPIXEL bytes R, G, B. */
static void
row_rgb(const struct job *j, uint8_t *d, const uint32_t *src, int w)
{
	const struct rfb_pixfmt *pf = &j->pc->dst;
	uint32_t v[256], p, mask = j->pc->src_mask;
	int i, k, n, rs = pf->red_shift, gs = pf->green_shift,
	    bs = pf->blue_shift;

	if (j->pc->same_channels) {
		/* The client value is the source pixel masked (pixconv_values()). */
		for (i = 0; i < w; i++) {
			p = src[i] & mask;
			*d++ = (uint8_t)(p >> rs);
			*d++ = (uint8_t)(p >> gs);
			*d++ = (uint8_t)(p >> bs);
		}
		return;
	}
	for (i = 0; i < w; i += n) {
		n = w - i < 256 ? w - i : 256;
		pixconv_values(j->pc, v, src + i, n);
		for (k = 0; k < n; k++) {
			*d++ = (uint8_t)(v[k] >> pf->red_shift);
			*d++ = (uint8_t)(v[k] >> pf->green_shift);
			*d++ = (uint8_t)(v[k] >> pf->blue_shift);
		}
	}
}

/*
 * Returns 1 if the gradient filter should pay on this 24-bit area: the
 * mean absolute prediction error over a sample of rows is small.
 */
static int
gradient_pays(const struct job *j, int x, int y, int w, int h)
{
	uint8_t a[TIGHT_MAX_WIDTH * 3], b[TIGHT_MAX_WIDTH * 3];
	uint64_t err = 0, n = 0;
	int row, i, e, step;

	if (w < 8 || h < 8)
		return 0;
	step = h / 8 < 1 ? 1 : h / 8;
	for (row = 1; row < h; row += step) {
		row_rgb(j, a, src_row(j->fb, x, y + row - 1), w);
		row_rgb(j, b, src_row(j->fb, x, y + row), w);
		for (i = 3; i < w * 3; i++) {
			e = (int)a[i] + b[i - 3] - a[i - 3];
			e = e < 0 ? 0 : e > 255 ? 255 : e;
			e = b[i] - e;
			err += (uint64_t)(e < 0 ? -e : e);
		}
		n += (uint64_t)(w - 1) * 3;
	}
	return n > 0 && err < n * GRADIENT_SMOOTH;
}

/* Lossless full colour: the copy filter, or the gradient filter on smooth 24-bit content. */
static int
put_full(struct job *j, int x, int y, int w, int h)
{
	uint8_t prev[TIGHT_MAX_WIDTH * 3], cur[TIGHT_MAX_WIDTH * 3];
	uint8_t *d = j->lane->data, hdr[1];
	size_t rowlen, len;
	int r, row, i, e, gradient, id;

	gradient = j->tpix24 && j->level >= 2 && gradient_pays(j, x, y, w, h);
	id = STREAM_FULL(j);
	if ((r = stream_ready(j, id, zconf[j->level].raw)) != 0)
		return r;
	rowlen = (size_t)w * (j->tpix24 ? 3 : j->pc->bytes);
	if (gradient) {
		/* P = left + above - above-left per channel, clamped; first column: above. */
		memset(prev, 0, rowlen);
		for (row = 0; row < h; row++, d += rowlen) {
			row_rgb(j, cur, src_row(j->fb, x, y + row), w);
			for (i = 0; i < 3; i++)
				d[i] = (uint8_t)(cur[i] - prev[i]);
			for (i = 3; i < (int)rowlen; i++) {
				e = (int)prev[i] + cur[i - 3] - prev[i - 3];
				e = e < 0 ? 0 : e > 255 ? 255 : e;
				d[i] = (uint8_t)(cur[i] - e);
			}
			memcpy(prev, cur, rowlen);
		}
	} else if (j->tpix24) {
		for (row = 0; row < h; row++, d += rowlen)
			row_rgb(j, d, src_row(j->fb, x, y + row), w);
	} else {
		for (row = 0; row < h; row++, d += rowlen)
			pixconv_row(j->pc, d, src_row(j->fb, x, y + row), w);
	}
	len = (size_t)(d - j->lane->data);
	if (gradient) {
		hdr[0] = FILTER_GRADIENT;
		if ((r = put_start(j, x, y, w, h,
		    (uint8_t)(id << 4 | CTL_FILTER))) != 0 ||
		    (r = buf_put_bytes(j->out, hdr, 1)) != 0)
			return r;
		j->stats.gradient++;
	} else {
		if ((r = put_start(j, x, y, w, h, (uint8_t)(id << 4))) != 0)
			return r;
		j->stats.full++;
	}
	return put_data(j, id, j->lane->data, len);
}

/* Returns the TurboJPEG pixel format that reads the framebuffer's pixels in place, or -1. */
static int
tj_format(const struct fb_format *f)
{
	int pos[3], k, c;
	uint32_t m[3] = { f->red_mask, f->green_mask, f->blue_mask };

	for (c = 0; c < 3; c++) {
		for (k = 0; k < 4 && m[c] != (uint32_t)0xff << (8 * k); k++)
			;
		if (k == 4)
			return -1;
		pos[c] = HOST_BIG_ENDIAN ? 3 - k : k;	/* byte offset in memory */
	}
	if (pos[0] == 0 && pos[1] == 1 && pos[2] == 2)
		return TJPF_RGBX;
	if (pos[0] == 2 && pos[1] == 1 && pos[2] == 0)
		return TJPF_BGRX;
	if (pos[0] == 3 && pos[1] == 2 && pos[2] == 1)
		return TJPF_XBGR;
	if (pos[0] == 1 && pos[1] == 2 && pos[2] == 3)
		return TJPF_XRGB;
	return -1;
}

/* Full colour as JPEG, straight from the framebuffer when TurboJPEG reads its layout. */
static int
put_jpeg(struct job *j, int x, int y, int w, int h)
{
	static const int tjsamp[6] = { TJSAMP_444, TJSAMP_420, TJSAMP_422,
	    TJSAMP_GRAY, TJSAMP_420, TJSAMP_420 };
	struct tight_lane *t = j->lane;
	const struct enc_opts *o = j->o;
	const unsigned char *src;
	unsigned long size, need;
	uint8_t len3[3];
	int r, q = 75, samp = ENC_SUBSAMP_4X, pf, pitch, row, flags, n;
	unsigned char *nb;

	if (o->quality >= 0 && o->quality <= 9) {
		q = jconf[o->quality].quality;
		samp = jconf[o->quality].samp;
	}
	if (o->fine_quality >= 0 && o->fine_quality <= 100)
		q = o->fine_quality < 1 ? 1 : o->fine_quality;
	if (o->subsampling >= 0 && o->subsampling <= ENC_SUBSAMP_16X)
		samp = o->subsampling;
	if (t->tj == NULL && (t->tj = tjInitCompress()) == NULL)
		return MOAT_ERR_NOMEM;
	need = tjBufSize(w, h, tjsamp[samp]);
	if (need == (unsigned long)-1)
		return MOAT_ERR_INVALID;
	if (need > t->jpeg_cap) {
		if ((nb = tjAlloc((int)need)) == NULL)
			return MOAT_ERR_NOMEM;
		if (t->jpeg != NULL)
			tjFree(t->jpeg);
		t->jpeg = nb;
		t->jpeg_cap = need;
	}
	if ((pf = tj_format(&j->fb->fmt)) >= 0) {
		src = (const unsigned char *)src_row(j->fb, x, y);
		pitch = (int)j->fb->stride;
	} else {
		/* Unusual layouts: 8-bit R, G, B through the client conversion's channels. */
		for (row = 0; row < h; row++)
			row_rgb(j, t->data + (size_t)row * w * 3,
			    src_row(j->fb, x, y + row), w);
		src = t->data;
		pitch = w * 3;
		pf = TJPF_RGB;
	}
	flags = TJFLAG_NOREALLOC | (q < 96 ? TJFLAG_FASTDCT : TJFLAG_ACCURATEDCT);
	size = t->jpeg_cap;
	if (tjCompress2(t->tj, src, w, pitch, h, pf, &t->jpeg, &size,
	    tjsamp[samp], q, flags) != 0)
		return MOAT_ERR_INVALID;
	if (size > COMPACT_MAX || size > t->jpeg_cap)
		return MOAT_ERR_TOO_LONG;
	n = put_compact(len3, (uint32_t)size);
	if ((r = put_start(j, x, y, w, h, CTL_JPEG)) != 0 ||
	    (r = buf_put_bytes(j->out, len3, (size_t)n)) != 0 ||
	    (r = buf_put_bytes(j->out, t->jpeg, size)) != 0)
		return r;
	j->stats.jpeg++;
	return 0;
}

/* The most colours worth a palette for an area (TigerVNC's rule). */
static int
max_colours(const struct job *j, int area)
{
	int divisor, maxc;

	divisor = j->o->compress < 0 ? DEFAULT_LEVEL * 8 : j->o->compress * 8;
	if (divisor < 4)
		divisor = 4;
	maxc = area / divisor;
	if (j->jpeg)
		maxc = j->o->compress >= 0 && j->o->compress < 2 ? 24 : 96;
	if (maxc < 2)
		maxc = 2;
	if (maxc > ENC_PALETTE_MAX)
		maxc = ENC_PALETTE_MAX;
	return maxc;
}

/*
 * Returns 1 if the area's colours fit a palette of at most max colours
 * (left in j->pal, and each pixel's index, row by row, at d).
 */
static int
analyse(struct job *j, int x, int y, int w, int h, int max, uint8_t *d)
{
	struct enc_palette *pal = &j->pal;
	const uint32_t *row;
	uint32_t last, v, mask = j->mask;
	int row_i, i, k = 0;

	/* last: the previous pixel as read (unmasked): a run costs one compare. */
	enc_palette_reset(pal, max);
	last = src_row(j->fb, x, y)[0];
	if ((k = enc_palette_add(pal, last & mask)) < 0)
		return 0;
	for (row_i = 0; row_i < h; row_i++) {
		row = src_row(j->fb, x, y + row_i);
		for (i = 0; i < w; i++) {
			if ((v = row[i]) != last) {
				last = v;
				if ((k = enc_palette_add(pal, v & mask)) < 0)
					return 0;
			}
			d[i] = (uint8_t)k;
		}
		d += w;
	}
	return 1;
}

/*
 * Joins columns a..b-1 (whose colours are in j->colpal and indices at
 * loc, column k's cw x h block at loc + k * COLUMN_W * h) into one palette
 * of at most max colours, in the order a row-by-row scan of the joined
 * area meets them (as analyse() on it would), with the indices in the lane's data.
 * Returns 1, or 0 if together they have more than max colours.
 */
static int
join_columns(struct job *j, const uint8_t *loc, int a, int b, int w, int h,
    int max)
{
	struct enc_palette *pal = &j->pal;
	uint32_t all[ENC_PALETTE_MAX];
	int16_t tab[COLUMNS_MAX][ENC_PALETTE_MAX], order[ENC_PALETTE_MAX];
	uint8_t *d = j->lane->data, u[COLUMNS_MAX][ENC_PALETTE_MAX];
	const uint8_t *s;
	int k, i, row, cw, v, c, nall, n = 0;

	enc_palette_reset(pal, max);
	for (k = a; k < b; k++) {
		for (i = 0; i < j->coln[k]; i++) {
			if ((v = enc_palette_add(pal, j->colpal[k][i])) < 0)
				return 0;
			u[k][i] = (uint8_t)v;
			tab[k][i] = -1;
		}
	}
	nall = pal->n;
	memcpy(all, pal->colour, (size_t)nall * sizeof(all[0]));
	for (i = 0; i < nall; i++)
		order[i] = -1;
	for (row = 0; row < h; row++) {
		for (k = a; k < b; k++) {
			cw = (k + 1) * COLUMN_W <= a * COLUMN_W + w ? COLUMN_W :
			    a * COLUMN_W + w - k * COLUMN_W;
			s = loc + (size_t)k * COLUMN_W * h + (size_t)row * cw;
			for (i = 0; i < cw; i++) {
				if ((v = tab[k][s[i]]) < 0) {
					c = u[k][s[i]];
					if (order[c] < 0) {
						order[c] = (int16_t)n;
						pal->colour[n++] = all[c];
					}
					v = tab[k][s[i]] = order[c];
				}
				*d++ = (uint8_t)v;
			}
		}
	}
	/* The hash no longer matches colour[]; analyse() resets it. */
	pal->n = n;
	return 1;
}

/* Sends an area whose colours and indices analyse() just found. */
static int
put_paletted(struct job *j, int x, int y, int w, int h)
{
	if (j->pal.n == 1)
		return put_fill(j, x, y, w, h, j->pal.colour[0]);
	return put_palette(j, x, y, w, h);
}

/* JPEG's largest width or height (libjpeg's JPEG_MAX_DIMENSION). */
#define JPEG_DIM_MAX	65500

static int
put_fullcolour(struct job *j, int x, int y, int w, int h)
{
	/* A taller strip (1 pixel wide) than JPEG allows goes lossless. */
	if (j->jpeg && w <= JPEG_DIM_MAX && h <= JPEG_DIM_MAX)
		return put_jpeg(j, x, y, w, h);
	return put_full(j, x, y, w, h);
}

/*
 * Sends one subrectangle (at most TIGHT_MAX_WIDTH wide, TIGHT_MAX_AREA
 * pixels). One with too many colours for a palette is looked at in
 * columns of COLUMN_W: runs of columns that still fit a palette go as
 * such, the others as full colour, so a photo does not take the text
 * beside it into JPEG.
 */
static int
put_subrect(struct job *j, int x, int y, int w, int h)
{
	uint8_t full[COLUMNS_MAX], *loc = j->lane->data + TIGHT_DATA_MAX;
	int n, k, a, b, cw, r;

	if (analyse(j, x, y, w, h, max_colours(j, w * h), j->lane->data))
		return put_paletted(j, x, y, w, h);
	if (w <= COLUMN_W)
		return put_fullcolour(j, x, y, w, h);
	/* Each column's colours and indices, kept for joining them below. */
	n = (w + COLUMN_W - 1) / COLUMN_W;
	for (k = 0; k < n; k++) {
		cw = w - k * COLUMN_W < COLUMN_W ? w - k * COLUMN_W : COLUMN_W;
		full[k] = !analyse(j, x + k * COLUMN_W, y, cw, h,
		    max_colours(j, cw * h), loc + (size_t)k * COLUMN_W * h);
		if (!full[k]) {
			j->coln[k] = j->pal.n;
			memcpy(j->colpal[k], j->pal.colour,
			    (size_t)j->pal.n * sizeof(j->pal.colour[0]));
		}
	}
	for (a = 0; a < n; a = b) {
		for (b = a + 1; b < n && full[b] == full[a]; b++)
			;
		cw = (b == n ? w : b * COLUMN_W) - a * COLUMN_W;
		if (full[a]) {
			r = put_fullcolour(j, x + a * COLUMN_W, y, cw, h);
		} else if (join_columns(j, loc, a, b, cw, h,
		    max_colours(j, cw * h))) {
			r = put_paletted(j, x + a * COLUMN_W, y, cw, h);
		} else {
			/* Together too many colours: each column on its own. */
			for (k = a, r = 0; k < b && r == 0; k++) {
				cw = (k == n - 1 ? w : (k + 1) * COLUMN_W) -
				    k * COLUMN_W;
				j->pal.n = j->coln[k];
				memcpy(j->pal.colour, j->colpal[k],
				    (size_t)j->pal.n * sizeof(uint32_t));
				memcpy(j->lane->data,
				    loc + (size_t)k * COLUMN_W * h,
				    (size_t)cw * h);
				r = put_paletted(j, x + k * COLUMN_W, y, cw, h);
			}
		}
		if (r != 0)
			return r;
	}
	return 0;
}

/* Splits an area into subrectangles within Tight's bounds. */
static int
put_area(struct job *j, int x, int y, int w, int h)
{
	int sw, sh, sx, sy, cw, ch, r;

	if (w <= 0 || h <= 0)
		return 0;
	sw = w < TIGHT_MAX_WIDTH ? w : TIGHT_MAX_WIDTH;
	sh = TIGHT_MAX_AREA / sw;
	for (sy = 0; sy < h; sy += sh) {
		ch = h - sy < sh ? h - sy : sh;
		for (sx = 0; sx < w; sx += sw) {
			cw = w - sx < sw ? w - sx : sw;
			if ((r = put_subrect(j, x + sx, y + sy, cw, ch)) != 0)
				return r;
		}
	}
	return 0;
}

/* Returns 1 if the w x h block at (x, y) is all colour c. */
static int
block_is(const struct job *j, int x, int y, int w, int h, uint32_t c)
{
	const uint32_t *row;
	uint32_t diff, mask = j->mask;
	int r, i;

	/*
	 * c is masked, so row[i] & mask == c exactly when (row[i] ^ c) & mask
	 * == 0; whole rows at a time, and a fixed width GCC vectorizes. The
	 * first row's last pixel goes first: most mixed blocks fail there.
	 */
	if (((src_row(j->fb, x, y)[w - 1] ^ c) & mask) != 0)
		return 0;
	for (r = 0; r < h; r++) {
		row = src_row(j->fb, x, y + r);
		diff = 0;
		if (w == SOLID_BLOCK) {
			for (i = 0; i < SOLID_BLOCK; i++)
				diff |= row[i] ^ c;
		} else {
			for (i = 0; i < w; i++)
				diff |= row[i] ^ c;
		}
		if ((diff & mask) != 0)
			return 0;
	}
	return 1;
}

/*
 * Finds the largest area of colour c that starts with the solid block at
 * (x, y) and lies inside [x, x2) x [y, y2): grows it block by block to
 * the right and down (keeping the best area), then pixel by pixel.
 */
static void
grow_solid(const struct job *j, int x, int y, int x2, int y2, uint32_t c,
    int *rw, int *rh)
{
	int w, h, bw, bh, cw = x2 - x, ch, tw, th;
	int64_t best = 0;

	/* Widest run of solid blocks on the first block row. */
	bh = y2 - y < SOLID_BLOCK ? y2 - y : SOLID_BLOCK;
	for (w = 0; w < cw; w += bw) {
		bw = cw - w < SOLID_BLOCK ? cw - w : SOLID_BLOCK;
		if (!block_is(j, x + w, y, bw, bh, c))
			break;
	}
	cw = w;
	*rw = cw;
	*rh = bh;
	/* Down block row by block row, narrowing to what stays solid. */
	for (h = 0; h < y2 - y && cw > 0; h += bh) {
		bh = y2 - y - h < SOLID_BLOCK ? y2 - y - h : SOLID_BLOCK;
		for (w = 0; w < cw; w += bw) {
			bw = cw - w < SOLID_BLOCK ? cw - w : SOLID_BLOCK;
			if (!block_is(j, x + w, y + h, bw, bh, c))
				break;
		}
		cw = w;
		if (cw > 0 && (int64_t)cw * (h + bh) > best) {
			best = (int64_t)cw * (h + bh);
			*rw = cw;
			*rh = h + bh;
		}
	}
	/* Then single rows below and single columns to the right. */
	tw = *rw;
	th = *rh;
	for (ch = th; y + ch < y2 && block_is(j, x, y + ch, tw, 1, c); ch++)
		;
	th = ch;
	for (w = tw; x + w < x2 && block_is(j, x + w, y, 1, th, c); w++)
		;
	*rw = w;
	*rh = th;
}

/* Sends a single-colour area as fills within Tight's bounds. */
static int
put_solid_fill(struct job *j, int x, int y, int w, int h, uint32_t c)
{
	int sw, sh, sx, sy, cw, ch, r;

	sw = w < TIGHT_MAX_WIDTH ? w : TIGHT_MAX_WIDTH;
	sh = TIGHT_MAX_AREA / sw;
	for (sy = 0; sy < h; sy += sh) {
		ch = h - sy < sh ? h - sy : sh;
		for (sx = 0; sx < w; sx += sw) {
			cw = w - sx < sw ? w - sx : sw;
			if ((r = put_fill(j, x + sx, y + sy, cw, ch, c)) != 0)
				return r;
		}
	}
	return 0;
}

/*
 * Sends the area, cutting out single-colour areas of at least
 * SOLID_MIN_AREA pixels as fills (at most TIGHT_MAX_AREA each) and
 * recursing on what surrounds them; depth bounds the recursion.
 */
static int
put_solid_split(struct job *j, int x, int y, int w, int h, int depth)
{
	int bx, by, bw, bh, sw, sh, r;
	uint32_t c;

	if ((int64_t)w * h < SOLID_MIN_AREA || depth > 16)
		return put_area(j, x, y, w, h);
	for (by = y; by < y + h; by += SOLID_BLOCK) {
		bh = y + h - by < SOLID_BLOCK ? y + h - by : SOLID_BLOCK;
		for (bx = x; bx < x + w; bx += SOLID_BLOCK) {
			bw = x + w - bx < SOLID_BLOCK ? x + w - bx : SOLID_BLOCK;
			c = src_row(j->fb, bx, by)[0] & j->mask;
			if (!block_is(j, bx, by, bw, bh, c))
				continue;
			grow_solid(j, bx, by, x + w, y + h, c, &sw, &sh);
			if ((int64_t)sw * sh < SOLID_MIN_AREA)
				continue;
			/* Above the solid area: whole rows; left and right of it; below it. */
			if ((r = put_area(j, x, y, w, by - y)) != 0 ||
			    (r = put_solid_split(j, x, by, bx - x, sh,
			    depth + 1)) != 0 ||
			    (r = put_solid_fill(j, bx, by, sw, sh, c)) != 0 ||
			    (r = put_solid_split(j, bx + sw, by,
			    x + w - bx - sw, sh, depth + 1)) != 0 ||
			    (r = put_solid_split(j, x, by + sh, w,
			    y + h - by - sh, depth + 1)) != 0)
				return r;
			return 0;
		}
	}
	return put_area(j, x, y, w, h);
}

/*
 * An update's rectangles cut into chunks of at most CHUNK_AREA pixels
 * (whole rows, a multiple of SOLID_BLOCK of them), which the two lanes
 * take one at a time: on two cores each takes the next one free, so
 * neither waits while the other has work left; on one, lane L takes
 * chunks L, L + 2, L + 4, ... (the bytes differ, both are right).
 */
#define CHUNK_AREA	(8 * TIGHT_MAX_AREA)
struct chunks {
	struct rfb_rect16 *seg;
	size_t n;
	atomic_size_t next;	/* the next chunk free, on two cores */
	int shared;		/* 1: lanes take from next; 0: by parity */
};

/* Returns the index of the next chunk for job j, or c->n when none is left. */
static size_t
claim_chunk(struct job *j)
{
	struct chunks *c = j->chunks;
	size_t k;

	if (c->shared) {
		k = atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed);
		return k < c->n ? k : c->n;
	}
	k = j->next_own;
	j->next_own += 2;
	return k < c->n ? k : c->n;
}

/* Encodes the chunks the job takes; the outcome goes to j->result. */
static void
run_job(void *arg)
{
	struct job *j = arg;
	const struct rfb_rect16 *g;
	size_t k;
	int r = 0;

	while (r == 0 && (k = claim_chunk(j)) < j->chunks->n) {
		g = &j->chunks->seg[k];
		r = put_solid_split(j, g->x, g->y, g->w, g->h, 0);
	}
	j->result = r;
}

/*
 * Rows of a chunk of a w-pixel-wide rectangle: a whole number of the
 * subrectangles put_area() would cut, so chunks add no rectangles.
 */
static uint32_t
chunk_rows(uint16_t w, uint32_t area)
{
	uint32_t sub = TIGHT_MAX_AREA / (w < TIGHT_MAX_WIDTH ? w : TIGHT_MAX_WIDTH);
	uint32_t n = area / ((uint32_t)w * sub);

	return sub * (n < 1 ? 1 : n);
}

/*
 * Cuts rects[0, n) into c's chunks (allocated here). Returns 0 or
 * MOAT_ERR_NOMEM.
 */
static int
make_chunks(struct chunks *c, const struct rfb_rect16 *rects, size_t n,
    uint32_t area)
{
	size_t i, k = 0;
	uint32_t rows, y;

	c->n = 0;
	for (i = 0; i < n; i++)
		if (rects[i].w > 0 && rects[i].h > 0)
			c->n += (rects[i].h + chunk_rows(rects[i].w, area) -
			    1) / chunk_rows(rects[i].w, area);
	if ((c->seg = calloc(c->n + 1, sizeof(*c->seg))) == NULL)
		return MOAT_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if (rects[i].w == 0 || rects[i].h == 0)
			continue;
		rows = chunk_rows(rects[i].w, area);
		for (y = 0; y < rects[i].h; y += rows, k++) {
			c->seg[k] = rects[i];
			c->seg[k].y = (uint16_t)(rects[i].y + y);
			c->seg[k].h = (uint16_t)(rects[i].h - y < rows ?
			    rects[i].h - y : rows);
		}
	}
	atomic_init(&c->next, 0);
	c->shared = enc_pool_parallel();
	return 0;
}

/* Readies job j of lane k to take chunks of c and write them to out. */
static void
job_init(struct job *j, struct tight_state *t, int k, const struct enc_opts *o,
    struct buf *out, const struct fb_view *fb, const struct pixconv *pc,
    struct chunks *c)
{
	const struct rfb_pixfmt *pf = &pc->dst;
	uint8_t mine = (uint8_t)(3 << (2 * k));

	/* The column palettes at the end are written before they are read. */
	memset(j, 0, offsetof(struct job, colpal));
	j->t = t;
	j->lane = &t->lane[k];
	j->lane_id = k;
	j->o = o;
	j->out = out;
	j->fb = fb;
	j->pc = pc;
	j->chunks = c;
	j->next_own = (size_t)k;
	j->level = o->compress >= 0 && o->compress <= 9 ? o->compress :
	    DEFAULT_LEVEL;
	j->jpeg = enc_opts_jpeg(o, pf->bpp);
	j->tpix24 = pf->bpp == 32 && pf->depth == 24 && pf->red_max == 255 &&
	    pf->green_max == 255 && pf->blue_max == 255;
	j->mask = pc->src_mask;
	/* Resets owed on this lane's streams go out with its first rectangle. */
	j->reset = t->reset & mine;
}

/* Adds what job j sent to the connection's statistics. */
static void
add_stats(struct tight_state *t, const struct job *j)
{
	t->stats.fill += j->stats.fill;
	t->stats.mono += j->stats.mono;
	t->stats.indexed += j->stats.indexed;
	t->stats.full += j->stats.full;
	t->stats.gradient += j->stats.gradient;
	t->stats.jpeg += j->stats.jpeg;
}

/* Lane 1's output buffer is kept between updates up to this size. */
#define LANE_OUT_KEEP	(1024u * 1024u)

int
enc_tight_rects(struct tight_state *t, const struct enc_opts *o,
    struct buf *out, const struct fb_view *fb, const struct pixconv *pc,
    const struct rfb_rect16 *rects, size_t n, uint32_t *nrects)
{
	struct job *j[2] = { NULL, NULL };
	struct chunks c = { 0 };
	struct buf *lout = &t->lane[1].out;
	uint64_t total;
	size_t start = buf_len(out);
	int r, k;

	if ((r = enc_check_rects(fb, pc, rects, n, &total)) != 0)
		return r;
	if (total == 0)
		return 0;
	if ((r = tight_prepare(t)) != 0)
		return r;
	if ((r = make_chunks(&c, rects, n, t->chunk_area != 0 ?
	    t->chunk_area : CHUNK_AREA)) != 0)
		goto done;
	if ((j[0] = malloc(sizeof(*j[0]))) == NULL ||
	    (j[1] = malloc(sizeof(*j[1]))) == NULL) {
		r = MOAT_ERR_NOMEM;
		goto done;
	}
	if (lout->max == 0)
		buf_init(lout, out->max);
	buf_reset(lout);
	job_init(j[0], t, 0, o, out, fb, pc, &c);
	job_init(j[1], t, 1, o, lout, fb, pc, &c);
	if (c.n > 1)
		enc_pool_run2(run_job, j[1], j[0]);
	else
		run_job(j[0]);
	if ((r = j[0]->result) == 0 && (r = j[1]->result) == 0 &&
	    buf_len(lout) > 0)
		r = buf_put_bytes(out, buf_ptr(lout), buf_len(lout));
	if (r == 0) {
		*nrects += j[0]->nrects + j[1]->nrects;
		/* A lane that sent nothing still owes its resets. */
		t->reset = (uint8_t)(j[0]->reset | j[1]->reset);
		add_stats(t, j[0]);
		add_stats(t, j[1]);
	} else {
		/*
		 * Leave out as it was. The viewer never sees what the streams
		 * took (nor a reset announced) in this call, so every stream
		 * starts afresh, and the next Tight rectangle tells the viewer
		 * to restart all of its own.
		 */
		out->len = out->off + start;
		for (k = 0; k < 4; k++) {
			if (t->level[k] > 0 &&
			    enc_deflate_restart(&t->zs[k],
			    t->level[k] - 1) != 0)
				t->level[k] = 0;
		}
		t->reset = 0x0f;
	}
	if (lout->cap > LANE_OUT_KEEP)
		buf_free(lout);
 done:
	free(j[0]);
	free(j[1]);
	free(c.seg);
	return r;
}

int
enc_tight(struct tight_state *t, const struct enc_opts *o, struct buf *out,
    const struct fb_view *fb, const struct pixconv *pc, uint16_t x, uint16_t y,
    uint16_t w, uint16_t h, uint32_t *nrects)
{
	struct rfb_rect16 r = { x, y, w, h };

	return enc_tight_rects(t, o, out, fb, pc, &r, 1, nrects);
}
