/*
 * enc_tile.h - pieces the pixel encoders share (internal to net/enc_*.c):
 * the colour palette of a tile or rectangle, the CPIXEL layout and RLE
 * tile coder ZRLE and TRLE both use (enc_zrle.c), and the deflate loop
 * Zlib, ZRLE and Tight feed their streams with (enc_zlib.c). Runs in
 * moat-net; pure computation on pixels the caller already bounded.
 */
#ifndef MOAT_ENC_TILE_H
#define MOAT_ENC_TILE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "privsep/buf.h"
#include "rfb_types.h"

#define ENC_PALETTE_MAX		256
#define ENC_PALETTE_HASH	512	/* > 2 * ENC_PALETTE_MAX: probing always ends */

/* The colours of one tile or rectangle, in order of first appearance. */
struct enc_palette {
	uint32_t key[ENC_PALETTE_HASH];
	uint8_t index[ENC_PALETTE_HASH];
	uint8_t used[ENC_PALETTE_HASH];
	uint32_t colour[ENC_PALETTE_MAX];
	int n;
	int max;		/* at most this many colours (<= ENC_PALETTE_MAX) */
};

/* Empties pal, which will take at most max (1..ENC_PALETTE_MAX) colours. */
static inline void
enc_palette_reset(struct enc_palette *pal, int max)
{
	memset(pal->used, 0, sizeof(pal->used));
	pal->n = 0;
	pal->max = max;
}

static inline unsigned
enc_palette_hash(uint32_t c)
{
	return (c * 2654435761U) >> 23;
}

/* Returns c's palette index, adding c if new; -1 if the palette is full. */
static inline int
enc_palette_add(struct enc_palette *pal, uint32_t c)
{
	unsigned h = enc_palette_hash(c);

	while (pal->used[h]) {
		if (pal->key[h] == c)
			return pal->index[h];
		h = (h + 1) & (ENC_PALETTE_HASH - 1);
	}
	if (pal->n >= pal->max)
		return -1;
	pal->used[h] = 1;
	pal->key[h] = c;
	pal->index[h] = (uint8_t)pal->n;
	pal->colour[pal->n] = c;
	return pal->n++;
}

/* How a client pixel value becomes a CPIXEL (RFC 6143 7.7.5). */
struct enc_cpixel {
	int size;	/* bytes per CPIXEL: 1, 2, 3 or 4 */
	int bytes;	/* bytes per PIXEL */
	int be;		/* client is big-endian */
	int off;	/* CPIXEL starts at this byte of the wire PIXEL */
};

/* Fills cp for the client format pf (checked by rfb_pixfmt_check()). */
void enc_cpixel_layout(const struct rfb_pixfmt *pf, struct enc_cpixel *cp);
/* Turns n client pixel values into words whose memory bytes are the CPIXELs' wire bytes. */
void enc_to_wire_words(uint32_t *px, int n, const struct enc_cpixel *cp);

/* The largest tile enc_rle_tile() writes, plus the spare bytes it may touch. */
#define ENC_RLE_TILE_MAX(pixels)	(1 + (size_t)(pixels) * 4 + 4)
/*
 * Encodes one tile of tw x th wire words (at most 64x64) at p as the
 * smallest of solid, packed palette, plain RLE, palette RLE and raw
 * (subencodings shared by ZRLE and TRLE); p has ENC_RLE_TILE_MAX(tw * th)
 * bytes. Returns the end of the tile, or NULL on an internal inconsistency
 * (the caller must not send the tile).
 */
uint8_t *enc_rle_tile(uint8_t *p, const uint32_t *px, int tw, int th, int cps,
    struct enc_palette *pal);

/*
 * Starts zs at zlib level 0..9 (or Z_DEFAULT_COMPRESSION) as a stream the
 * viewer's inflateInit() reads: a raw deflate stream primed with the
 * two-byte zlib header deflateInit() would write, so the bytes are the
 * same, but without the Adler-32 sum deflateInit() keeps, which only the
 * end of a stream carries and RFB's streams never end. Returns 0,
 * MOAT_ERR_NOMEM or MOAT_ERR_INVALID (zs needs no deflateEnd then).
 */
int enc_deflate_start(z_stream *zs, int level);
/* enc_deflate_start() with a zlib strategy (Z_DEFAULT_STRATEGY, Z_RLE, ...). */
int enc_deflate_start_strategy(z_stream *zs, int level, int strategy);
/*
 * Restarts a stream enc_deflate_start() began at the same level (the
 * viewer must restart its own). Returns 0 or MOAT_ERR_INVALID (zs ended).
 */
int enc_deflate_restart(z_stream *zs, int level);

/*
 * Compresses len bytes at in through zs into out with the given flush,
 * growing out as far as its bound. Returns 0, MOAT_ERR_TOO_LONG (out full)
 * or MOAT_ERR_INVALID (zlib failed); after an error the stream is unusable
 * and out holds a partial tail the caller must cut off.
 */
int enc_deflate(z_stream *zs, const uint8_t *in, size_t len, struct buf *out,
    int flush);

#endif
