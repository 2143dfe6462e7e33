/*
 * enc_zrle.c - ZRLE encoding (RFB encoding 16, RFC 6143 section 7.7.6):
 * 64x64 tiles, each sent solid, as a packed palette, plain RLE, palette RLE
 * or raw, whichever is smallest, all through one zlib stream per connection.
 * The tile coder and CPIXEL layout also serve TRLE (enc_trle.c).
 * Runs in moat-net on the hot path. Reads the shared framebuffer only inside
 * the rectangle enc_check_rect() accepted; trusts the client pixel format
 * only after rfb_pixfmt_check() (pixconv_init() applies it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "enc_pool.h"
#include "encoder.h"
#include "enc_tile.h"

#define HOST_BIG_ENDIAN	(__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)

#define RECT_HEADER_LEN	12
#define TILE		64
#define TILE_PIXELS	(TILE * TILE)
#define TILE_MAX	(1 + TILE_PIXELS * 4)	/* raw 32-bit tile: the largest choice */
#define TILE_SLACK	4		/* CPIXELs are stored as whole 32-bit words */

#define SUB_RAW		0
#define SUB_SOLID	1
#define SUB_PACKED_MAX	16
#define SUB_PLAIN_RLE	128
#define SUB_PALETTE_RLE	128		/* + palette size (2..127) */
#define PALETTE_MAX	127

enum tile_kind { KIND_RAW, KIND_PLAIN_RLE, KIND_PALETTE_RLE, KIND_PACKED };

void
enc_cpixel_layout(const struct rfb_pixfmt *pf, struct enc_cpixel *cp)
{
	uint32_t colour = ((uint32_t)pf->red_max << pf->red_shift) |
	    ((uint32_t)pf->green_max << pf->green_shift) |
	    ((uint32_t)pf->blue_max << pf->blue_shift);
	int fits_low = colour <= 0xffffff, fits_high = (colour & 0xff) == 0;

	cp->bytes = cp->size = pf->bpp / 8;
	cp->be = pf->big_endian != 0;
	cp->off = 0;
	if (pf->bpp == 32 && pf->depth <= 24 && (fits_low || fits_high)) {
		cp->size = 3;
		/*
		 * The first three wire bytes whenever they hold every colour
		 * bit (also when both halves would do, as TigerVNC and
		 * libvncclient decode it); otherwise the last three.
		 */
		if ((cp->be && fits_high) || (!cp->be && fits_low))
			cp->off = 0;
		else
			cp->off = 1;
	}
}

/*
 * Returns a word whose bytes in memory are the CPIXEL's wire bytes, followed
 * by zeros. Client values carry no bits outside the colour masks, so the
 * byte a 3-byte CPIXEL drops is always zero.
 */
static inline uint32_t
wire_word(uint32_t v, int bytes, int be, int off)
{
	uint8_t b[8] = { 0 };
	uint32_t w;

	switch (bytes) {
	case 4:
		if (be) {
			b[0] = (uint8_t)(v >> 24);
			b[1] = (uint8_t)(v >> 16);
			b[2] = (uint8_t)(v >> 8);
			b[3] = (uint8_t)v;
		} else {
			b[0] = (uint8_t)v;
			b[1] = (uint8_t)(v >> 8);
			b[2] = (uint8_t)(v >> 16);
			b[3] = (uint8_t)(v >> 24);
		}
		break;
	case 2:
		b[0] = (uint8_t)(be ? v >> 8 : v);
		b[1] = (uint8_t)(be ? v : v >> 8);
		break;
	default:
		b[0] = (uint8_t)v;
		break;
	}
	memcpy(&w, b + off, 4);
	return w;
}

/* Turns n client values into wire words, with constant arguments per loop. */
void
enc_to_wire_words(uint32_t *px, int n, const struct enc_cpixel *cp)
{
	int i;

#define WORDS(bytes, be, off) \
	for (i = 0; i < n; i++) \
		px[i] = wire_word(px[i], bytes, be, off)

	if (!HOST_BIG_ENDIAN && !cp->be && cp->off == 0)
		return;		/* the value already is its wire bytes */
	switch (cp->bytes * 4 + cp->be * 2 + cp->off) {
	case 16: WORDS(4, 0, 0); break;
	case 17: WORDS(4, 0, 1); break;
	case 18: WORDS(4, 1, 0); break;
	case 19: WORDS(4, 1, 1); break;
	case 8: WORDS(2, 0, 0); break;
	case 10: WORDS(2, 1, 0); break;
	default: WORDS(1, 0, 0); break;
	}
#undef WORDS
}

static inline size_t
run_length_bytes(int len)
{
	return (size_t)(len - 1) / 255 + 1;
}

static inline uint8_t *
put_run_length(uint8_t *p, int len)
{
	len -= 1;
	while (len >= 255) {
		*p++ = 255;
		len -= 255;
	}
	*p++ = (uint8_t)len;
	return p;
}

static inline uint8_t *
put_cpixel(uint8_t *p, uint32_t word, int size)
{
	memcpy(p, &word, 4);	/* the caller keeps TILE_SLACK spare bytes */
	return p + size;
}

static inline int
run_end(const uint32_t *px, int i, int n)
{
	uint32_t c = px[i];

	for (i++; i < n && px[i] == c; i++)
		;
	return i;
}

/*
 * Returns the end of the tile, or NULL if the size estimate and the bytes
 * written disagree (an encoder bug the client must never see).
 */
uint8_t *
enc_rle_tile(uint8_t *p, const uint32_t *px, int tw, int th, int cps,
    struct enc_palette *pal)
{
	int n = tw * th, i, j, k, runs = 0, singles = 0, full = 0, bits = 0;
	int row, col, nbits;
	size_t lens = 0, best, size;
	enum tile_kind kind;
	uint8_t *start = p, acc;
	uint32_t last;

	/* One pass: runs, their length bytes, and the palette. */
	enc_palette_reset(pal, PALETTE_MAX);
	for (i = 0; i < n; i = j) {
		j = run_end(px, i, n);
		runs++;
		if (j - i == 1)
			singles++;
		else
			lens += run_length_bytes(j - i);
		if (!full && enc_palette_add(pal, px[i]) < 0)
			full = 1;
	}
	if (!full && pal->n == 1) {
		*p++ = SUB_SOLID;
		return put_cpixel(p, px[0], cps);
	}

	kind = KIND_RAW;
	best = (size_t)n * cps;
	size = (size_t)runs * cps + lens + singles;
	if (size < best) {
		kind = KIND_PLAIN_RLE;
		best = size;
	}
	if (!full) {
		size = (size_t)pal->n * cps + runs + lens;
		if (size < best) {
			kind = KIND_PALETTE_RLE;
			best = size;
		}
		if (pal->n <= SUB_PACKED_MAX) {
			bits = pal->n == 2 ? 1 : pal->n <= 4 ? 2 : 4;
			size = (size_t)pal->n * cps +
			    (size_t)((tw * bits + 7) / 8) * th;
			if (size <= best) {
				kind = KIND_PACKED;
				best = size;
			}
		}
	}

	switch (kind) {
	case KIND_RAW:
		*p++ = SUB_RAW;
		if (cps == 4) {
			memcpy(p, px, (size_t)n * 4);
			p += (size_t)n * 4;
		} else {
			for (i = 0; i < n; i++)
				p = put_cpixel(p, px[i], cps);
		}
		break;
	case KIND_PLAIN_RLE:
		*p++ = SUB_PLAIN_RLE;
		for (i = 0; i < n; i = j) {
			j = run_end(px, i, n);
			p = put_cpixel(p, px[i], cps);
			p = put_run_length(p, j - i);
		}
		break;
	case KIND_PALETTE_RLE:
		*p++ = (uint8_t)(SUB_PALETTE_RLE + pal->n);
		for (k = 0; k < pal->n; k++)
			p = put_cpixel(p, pal->colour[k], cps);
		for (i = 0; i < n; i = j) {
			j = run_end(px, i, n);
			k = enc_palette_add(pal, px[i]);
			if (j - i == 1)
				*p++ = (uint8_t)k;
			else {
				*p++ = (uint8_t)(k | 0x80);
				p = put_run_length(p, j - i);
			}
		}
		break;
	case KIND_PACKED:
		*p++ = (uint8_t)pal->n;
		for (k = 0; k < pal->n; k++)
			p = put_cpixel(p, pal->colour[k], cps);
		last = px[0];
		k = enc_palette_add(pal, last);
		for (row = 0, i = 0; row < th; row++) {
			acc = 0;
			nbits = 0;
			for (col = 0; col < tw; col++, i++) {
				if (px[i] != last) {
					last = px[i];
					k = enc_palette_add(pal, last);
				}
				acc = (uint8_t)((acc << bits) | k);
				if ((nbits += bits) == 8) {
					*p++ = acc;
					acc = 0;
					nbits = 0;
				}
			}
			if (nbits != 0)
				*p++ = (uint8_t)(acc << (8 - nbits));
		}
		break;
	}
	if ((size_t)(p - start) != 1 + best)
		return NULL;
	return p;
}

/* Gives back the unused tail of the last buf_reserve() on b. */
static void
unreserve(struct buf *b, size_t n)
{
	b->len -= n;
}

/* Pixels below which an update is not cut in two halves. */
#define SPLIT_AREA	(256 * 1024)
/* The window a deflater can refer back into, and the dictionary it gets. */
#define WINDOW		32768

/*
 * One rectangle's share of a lane: the part of rect it codes (whole tile
 * rows) and where its tile bytes end in the lane's raw buffer. cont: the
 * part continues the rectangle lane 0 began (no header of its own).
 */
struct zpart {
	struct rfb_rect16 rect, part;
	int cont;
	size_t raw_end;
};

/* One lane: its parts, its tile bytes, its deflater and output. */
struct zlane {
	struct zrle_state *z;
	const struct fb_view *fb;
	const struct pixconv *pc;
	struct enc_cpixel cp;
	struct zpart *parts;
	size_t np;
	struct buf *raw;
	z_stream *zs;
	const uint8_t *dict;	/* lane 1 on its own deflater: the first half's tail */
	size_t dict_len;
	struct buf *out;
	size_t cont_len;	/* compressed bytes of a cont part */
	size_t last_lenpos;	/* where the length of the lane's last rectangle is */
	int result;
};

/* Codes the tiles of every part of the lane into its raw buffer. */
static void
lane_tiles(void *arg)
{
	struct zlane *l = arg;
	uint32_t px[TILE_PIXELS];
	struct enc_palette pal;
	const struct rfb_rect16 *p;
	const uint8_t *src;
	uint8_t *t, *e;
	size_t i;
	int r = 0, tx, ty, tw, th, row;

	buf_reset(l->raw);
	for (i = 0; i < l->np && r == 0; i++) {
		p = &l->parts[i].part;
		for (ty = 0; ty < p->h && r == 0; ty += TILE) {
			th = p->h - ty < TILE ? p->h - ty : TILE;
			for (tx = 0; tx < p->w; tx += TILE) {
				tw = p->w - tx < TILE ? p->w - tx : TILE;
				for (row = 0; row < th; row++) {
					src = l->fb->data + (size_t)(p->y + ty +
					    row) * l->fb->stride +
					    (size_t)(p->x + tx) * 4;
					pixconv_values(l->pc, px + row * tw,
					    (const uint32_t *)(const void *)src,
					    tw);
				}
				enc_to_wire_words(px, tw * th, &l->cp);
				if ((r = buf_reserve(l->raw, TILE_MAX +
				    TILE_SLACK, &t)) != 0)
					break;
				if ((e = enc_rle_tile(t, px, tw, th, l->cp.size,
				    &pal)) == NULL) {
					r = MOAT_ERR_INVALID;
					break;
				}
				unreserve(l->raw, TILE_MAX + TILE_SLACK -
				    (size_t)(e - t));
			}
		}
		l->parts[i].raw_end = buf_len(l->raw);
	}
	l->result = r;
}

/* Patches the big-endian length at lenpos of out. */
static void
put_len(struct buf *out, size_t lenpos, uint32_t len)
{
	uint8_t *lp = out->data + out->off + lenpos;

	lp[0] = (uint8_t)(len >> 24);
	lp[1] = (uint8_t)(len >> 16);
	lp[2] = (uint8_t)(len >> 8);
	lp[3] = (uint8_t)len;
}

/*
 * Compresses the lane's tile bytes part by part (each ends with a sync
 * flush, as each rectangle's data must), writing each rectangle's header
 * and length where a part begins one.
 */
static void
lane_deflate(void *arg)
{
	struct zlane *l = arg;
	const struct zpart *p;
	size_t i, from = 0, lenpos = 0, pos, clen;
	int r = 0;

	if (l->dict != NULL && (deflateReset(l->zs) != Z_OK ||
	    deflateSetDictionary(l->zs, l->dict, (uInt)l->dict_len) != Z_OK))
		r = MOAT_ERR_INVALID;
	for (i = 0; i < l->np && r == 0; i++) {
		p = &l->parts[i];
		if (!p->cont) {
			if ((r = rfb_put_rect_header(l->out, p->rect.x,
			    p->rect.y, p->rect.w, p->rect.h,
			    RFB_ENC_ZRLE)) != 0 ||
			    (r = buf_put_u32(l->out, 0)) != 0)
				break;
			lenpos = buf_len(l->out) - 4;
		}
		pos = buf_len(l->out);
		if ((r = enc_deflate(l->zs, buf_ptr(l->raw) + from,
		    p->raw_end - from, l->out, Z_SYNC_FLUSH)) != 0)
			break;
		from = p->raw_end;
		clen = buf_len(l->out) - pos;
		if (p->cont) {
			l->cont_len = clen;
			continue;
		}
		if (buf_len(l->out) - lenpos - 4 > UINT32_MAX) {
			r = MOAT_ERR_TOO_LONG;
			break;
		}
		put_len(l->out, lenpos, (uint32_t)(buf_len(l->out) - lenpos - 4));
		l->last_lenpos = lenpos;
	}
	l->result = r;
}

/*
 * Fills parts (n + 1 entries) with rects cut into two runs of about equal
 * area, whole tile rows each: parts[0, *n0) for lane 0, parts[*n0, *np)
 * for lane 1 (all in lane 0 when small).
 */
static void
split_parts(const struct rfb_rect16 *rects, size_t n, uint32_t split_area,
    struct zpart *parts, size_t *n0, size_t *np)
{
	uint64_t total = 0, half, before = 0, a, rows;
	size_t i, k = 0;
	int cut = 0;

	for (i = 0; i < n; i++)
		total += (uint64_t)rects[i].w * rects[i].h;
	half = total / 2;
	*n0 = 0;
	for (i = 0; i < n; i++) {
		a = (uint64_t)rects[i].w * rects[i].h;
		memset(&parts[k], 0, sizeof(parts[k]));
		parts[k].rect = parts[k].part = rects[i];
		if (total < split_area || cut || a == 0 || before + a < half) {
			before += a;
			if (!cut)
				*n0 = k + 1;
			k++;
			continue;
		}
		cut = 1;
		rows = (half - before + rects[i].w / 2) / rects[i].w;
		rows = (rows + TILE / 2) / TILE * TILE;
		before += a;
		if (rows >= rects[i].h) {
			*n0 = ++k;
		} else if (rows == 0) {
			*n0 = k++;
		} else {
			parts[k++].part.h = (uint16_t)rows;
			*n0 = k;
			memset(&parts[k], 0, sizeof(parts[k]));
			parts[k].rect = parts[k].part = rects[i];
			parts[k].part.y = (uint16_t)(rects[i].y + rows);
			parts[k].part.h = (uint16_t)(rects[i].h - rows);
			parts[k++].cont = 1;
		}
	}
	*np = k;
}

/*
 * zlib's strategy at a level: at the fast levels, 1 to 3 (3 is the
 * default), deflate looks for runs only (Z_RLE) and skips its search for
 * earlier matches, which on tile data (runs, packed indices, CPIXELs)
 * finds little more: on the 1080p test desktop 9% more bytes for 45-60%
 * less CPU a frame. Levels 4 to 9 search in full.
 */
static int
zrle_strategy(int level)
{
	return level >= 1 && level <= 3 ? Z_RLE : Z_DEFAULT_STRATEGY;
}

/* Starts deflater i at the state's level, as a raw stream (the header went long ago). */
static int
start_aux(struct zrle_state *z, int i)
{
	int zr;

	memset(&z->zs[i], 0, sizeof(z->zs[i]));
	if ((zr = deflateInit2(&z->zs[i], z->level, Z_DEFLATED, -MAX_WBITS, 8,
	    zrle_strategy(z->level))) != Z_OK)
		return zr == Z_MEM_ERROR ? MOAT_ERR_NOMEM : MOAT_ERR_INVALID;
	z->started[i] = 1;
	return 0;
}

/*
 * Moves both deflaters to zlib level. After every update the stream is
 * sync-flushed with nothing pending, so deflateParams() writes no byte.
 */
static int
set_level(struct zrle_state *z, int level)
{
	uint8_t spare[64];
	int i;

	if (level == z->level)
		return 0;
	for (i = 0; i < 2; i++) {
		if (!z->started[i])
			continue;
		z->zs[i].next_in = NULL;
		z->zs[i].avail_in = 0;
		z->zs[i].next_out = spare;
		z->zs[i].avail_out = sizeof(spare);
		if (deflateParams(&z->zs[i], level, zrle_strategy(level)) !=
		    Z_OK || z->zs[i].avail_out != sizeof(spare))
			return MOAT_ERR_INVALID;
	}
	z->level = level;
	return 0;
}

int
zrle_init(struct zrle_state *z, int level)
{
	int r;

	memset(z, 0, sizeof(*z));
	if (level < Z_DEFAULT_COMPRESSION || level > Z_BEST_COMPRESSION)
		return MOAT_ERR_INVALID;
	if ((r = enc_deflate_start_strategy(&z->zs[0], level,
	    zrle_strategy(level))) != 0)
		return r;
	z->started[0] = 1;
	z->level = level;
	/* Each update bounds them by its own size (zrle_bound()). */
	buf_init(&z->raw[0], 0);
	buf_init(&z->raw[1], 0);
	buf_init(&z->out1, 0);
	z->initialised = 1;
	return 0;
}

void
zrle_free(struct zrle_state *z)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (z->started[i])
			deflateEnd(&z->zs[i]);
		z->started[i] = 0;
		buf_free(&z->raw[i]);
	}
	buf_free(&z->out1);
	z->initialised = 0;
}

/* Scratch kept between updates up to this size; a larger one is freed. */
#define KEEP		(1024u * 1024u)

/*
 * Sets the bounds of an update's scratch from rects[0, n) of area
 * pixels. Tile bytes: at most 4 a pixel and a subencoding byte a tile,
 * and room for one more whole raw tile (TILE_MAX + TILE_SLACK), which
 * each tile reserves before it is coded; either lane's raw buffer may
 * hold them all. Lane 1's output: those bytes deflated (stored blocks
 * add 5 bytes in 65535 at worst, a sync flush 5 more) and its
 * rectangles' headers. Returns 0 or MOAT_ERR_TOO_LONG.
 */
static int
zrle_bound(struct zrle_state *z, const struct rfb_rect16 *rects, size_t n,
    uint64_t area)
{
	uint64_t tiles = 0, raw, out;
	size_t i;
	int k;

	for (i = 0; i < n; i++)
		tiles += (uint64_t)((rects[i].w + TILE - 1) / TILE) *
		    ((rects[i].h + TILE - 1) / TILE);
	raw = area * 4 + tiles + TILE_MAX + TILE_SLACK;
	out = raw + raw / 65535 * 5 + 64 + (uint64_t)(n + 1) *
	    (RECT_HEADER_LEN + 4);
	if (out > SIZE_MAX)
		return MOAT_ERR_TOO_LONG;
	for (k = 0; k < 2; k++)
		z->raw[k].max = (size_t)raw;
	z->out1.max = (size_t)out;
	return 0;
}

int
enc_zrle_rects(struct zrle_state *z, int level, struct buf *out,
    const struct fb_view *fb, const struct pixconv *pc,
    const struct rfb_rect16 *rects, size_t n)
{
	struct zlane l[2];
	struct zpart *parts = NULL;
	uint64_t area;
	size_t n0, np, start = buf_len(out);
	int r, k, split;

	if (!z->initialised)
		return MOAT_ERR_INVALID;
	if ((r = enc_check_rects(fb, pc, rects, n, &area)) != 0 ||
	    (r = zrle_bound(z, rects, n, area)) != 0)
		return r;
	if (level < 0 || level > 9)
		level = ZRLE_DEFAULT_LEVEL;
	if ((parts = calloc(n + 1, sizeof(*parts))) == NULL)
		return MOAT_ERR_NOMEM;
	split_parts(rects, n, z->split_area != 0 ? z->split_area : SPLIT_AREA,
	    parts, &n0, &np);
	memset(l, 0, sizeof(l));
	for (k = 0; k < 2; k++) {
		l[k].z = z;
		l[k].fb = fb;
		l[k].pc = pc;
		enc_cpixel_layout(&pc->dst, &l[k].cp);
		l[k].raw = &z->raw[k];
	}
	l[0].parts = parts;
	l[0].np = n0;
	l[1].parts = parts + n0;
	l[1].np = np - n0;
	/* The tiles, both halves at once. */
	if (l[1].np > 0)
		enc_pool_run2(lane_tiles, &l[1], &l[0]);
	else
		lane_tiles(&l[0]);
	if ((r = l[0].result) != 0 || (r = l[1].result) != 0) {
		/* Nothing reached a deflater: the stream goes on. */
		goto done;
	}
	/*
	 * The compression: with a first half of a whole window or more,
	 * both at once (lane 1 on the other deflater, from that window);
	 * otherwise lane 0's deflater takes both halves in turn.
	 */
	split = l[1].np > 0 && buf_len(l[0].raw) >= WINDOW;
	if ((r = set_level(z, level)) != 0)
		goto fail;
	if (split && !z->started[z->cur ^ 1] &&
	    (r = start_aux(z, z->cur ^ 1)) != 0)
		goto fail;
	l[0].zs = &z->zs[z->cur];
	l[0].out = out;
	l[1].zs = split ? &z->zs[z->cur ^ 1] : &z->zs[z->cur];
	l[1].out = &z->out1;
	buf_reset(&z->out1);
	if (split) {
		l[1].dict = buf_ptr(l[0].raw) + buf_len(l[0].raw) - WINDOW;
		l[1].dict_len = WINDOW;
		enc_pool_run2(lane_deflate, &l[1], &l[0]);
	} else {
		lane_deflate(&l[0]);
		if (l[0].result == 0)
			lane_deflate(&l[1]);
	}
	if ((r = l[0].result) != 0 || (r = l[1].result) != 0)
		goto fail;
	/* Lane 1 continues lane 0's last rectangle: its length grows. */
	if (l[1].np > 0 && l[1].parts[0].cont) {
		uint8_t *lp = out->data + out->off + l[0].last_lenpos;
		uint64_t len = (uint64_t)lp[0] << 24 | (uint64_t)lp[1] << 16 |
		    (uint64_t)lp[2] << 8 | lp[3];

		if ((len += l[1].cont_len) > UINT32_MAX) {
			r = MOAT_ERR_TOO_LONG;
			goto fail;
		}
		put_len(out, l[0].last_lenpos, (uint32_t)len);
	}
	if ((r = buf_put_bytes(out, buf_ptr(&z->out1), buf_len(&z->out1))) != 0)
		goto fail;
	if (split) {
		z->cur ^= 1;
		z->split_updates++;
	}
	goto done;

fail:
	/* Leave out as it was; a stream the client cannot follow is ended. */
	out->len = out->off + start;
	for (k = 0; k < 2; k++) {
		if (z->started[k])
			deflateEnd(&z->zs[k]);
		z->started[k] = 0;
	}
	z->initialised = 0;
done:
	for (k = 0; k < 2; k++)
		if (z->raw[k].cap > KEEP)
			buf_free(&z->raw[k]);
	if (z->out1.cap > KEEP)
		buf_free(&z->out1);
	free(parts);
	return r;
}

int
enc_zrle(struct zrle_state *z, struct buf *out, const struct fb_view *fb,
    const struct pixconv *pc, uint16_t x, uint16_t y, uint16_t w, uint16_t h)
{
	struct rfb_rect16 r = { x, y, w, h };

	return enc_zrle_rects(z, z->level >= 0 ? z->level : 6, out, fb, pc,
	    &r, 1);
}
