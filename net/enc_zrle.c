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
#include <string.h>
#include <zlib.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "encoder.h"
#include "enc_tile.h"

#define HOST_BIG_ENDIAN	(__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)

#define RECT_HEADER_LEN	12
#define TILE		64
#define TILE_PIXELS	(TILE * TILE)
#define TILE_MAX	(1 + TILE_PIXELS * 4)	/* raw 32-bit tile: the largest choice */
#define TILE_SLACK	4		/* CPIXELs are stored as whole 32-bit words */
#define TILE_BATCH	(32 * 1024)	/* tile bytes handed to deflate at once */

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

/* Compresses the batched tile bytes into out; empties the batch. */
static int
deflate_batch(struct zrle_state *z, struct buf *out, int flush)
{
	int r;

	if ((r = enc_deflate(&z->zs, buf_ptr(&z->tile), buf_len(&z->tile), out,
	    flush)) != 0)
		return r;
	return buf_consume(&z->tile, buf_len(&z->tile));
}

int
zrle_init(struct zrle_state *z, int level)
{
	int r;

	memset(z, 0, sizeof(*z));
	if (level < Z_DEFAULT_COMPRESSION || level > Z_BEST_COMPRESSION)
		return MOAT_ERR_INVALID;
	if ((r = enc_deflate_start(&z->zs, level)) != 0)
		return r;
	buf_init(&z->tile, TILE_BATCH + TILE_MAX + TILE_SLACK);
	z->initialised = 1;
	return 0;
}

void
zrle_free(struct zrle_state *z)
{
	if (z->initialised)
		deflateEnd(&z->zs);
	z->initialised = 0;
	buf_free(&z->tile);
}

int
enc_zrle(struct zrle_state *z, struct buf *out, const struct fb_view *fb,
    const struct pixconv *pc, uint16_t x, uint16_t y, uint16_t w, uint16_t h)
{
	uint32_t px[TILE_PIXELS];
	struct enc_palette pal;
	struct enc_cpixel cp;
	const uint8_t *src;
	size_t start, lenpos, clen;
	uint8_t *t, *e, *lp;
	int r, tx, ty, tw, th, row, fed = 0;

	if (!z->initialised)
		return MOAT_ERR_INVALID;
	if ((r = enc_check_rect(fb, x, y, w, h)) != 0)
		return r;
	if (pc->src.red_mask != fb->fmt.red_mask ||
	    pc->src.green_mask != fb->fmt.green_mask ||
	    pc->src.blue_mask != fb->fmt.blue_mask)
		return MOAT_ERR_INVALID;
	enc_cpixel_layout(&pc->dst, &cp);

	start = buf_len(out);
	if ((r = rfb_put_rect_header(out, x, y, w, h, RFB_ENC_ZRLE)) != 0)
		return r;
	if ((r = buf_put_u32(out, 0)) != 0)
		goto fail;
	lenpos = buf_len(out) - 4;
	for (ty = 0; ty < h; ty += TILE) {
		th = h - ty < TILE ? h - ty : TILE;
		for (tx = 0; tx < w; tx += TILE) {
			tw = w - tx < TILE ? w - tx : TILE;
			for (row = 0; row < th; row++) {
				src = fb->data + (size_t)(y + ty + row) *
				    fb->stride + (size_t)(x + tx) * 4;
				pixconv_values(pc, px + row * tw,
				    (const uint32_t *)(const void *)src, tw);
			}
			enc_to_wire_words(px, tw * th, &cp);
			if (buf_len(&z->tile) > TILE_BATCH) {
				fed = 1;
				if ((r = deflate_batch(z, out, Z_NO_FLUSH)) != 0)
					goto fail;
			}
			if ((r = buf_reserve(&z->tile, TILE_MAX + TILE_SLACK,
			    &t)) != 0)
				goto fail;
			if ((e = enc_rle_tile(t, px, tw, th, cp.size,
			    &pal)) == NULL) {
				r = MOAT_ERR_INVALID;
				goto fail;
			}
			unreserve(&z->tile,
			    TILE_MAX + TILE_SLACK - (size_t)(e - t));
		}
	}
	fed = 1;
	if ((r = deflate_batch(z, out, Z_SYNC_FLUSH)) != 0)
		goto fail;
	clen = buf_len(out) - lenpos - 4;
	if (clen > UINT32_MAX) {
		r = MOAT_ERR_TOO_LONG;
		goto fail;
	}
	lp = out->data + out->off + lenpos;
	lp[0] = (uint8_t)(clen >> 24);
	lp[1] = (uint8_t)(clen >> 16);
	lp[2] = (uint8_t)(clen >> 8);
	lp[3] = (uint8_t)clen;
	return 0;

fail:
	/* Leave out as it was; a stream the client cannot follow is ended. */
	out->len = out->off + start;
	(void)buf_consume(&z->tile, buf_len(&z->tile));
	if (fed) {
		deflateEnd(&z->zs);
		z->initialised = 0;
	}
	return r;
}
