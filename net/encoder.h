/*
 * encoder.h - framebuffer update encoders (Raw, Hextile, Zlib, Tight, TRLE,
 * ZRLE, Cursor pseudo-rect, DesktopSize / ExtendedDesktopSize). Runs in
 * moat-net. Encoders only write; the rectangle is clipped to the
 * framebuffer by the caller. docs/encodings.md describes the choices.
 */
#ifndef MOAT_ENCODER_H
#define MOAT_ENCODER_H

#include <stdint.h>
#include <zlib.h>

#include "privsep/buf.h"
#include "pixfmt.h"
#include "rfb_dirty.h"
#include "rfb_types.h"

/*
 * Per-connection ZRLE state: one zlib stream for the life of the
 * connection, carried by two deflaters. A large update is cut in two
 * halves whose tiles two lanes code at once (enc_pool.h); then zs[cur]
 * compresses the first half and zs[cur ^ 1], started afresh with the
 * first half's last 32 KiB as its dictionary, the second, also at once.
 * The viewer inflates one stream (the second half's back-references
 * reach only bytes it has), and zs[cur ^ 1], whose window now ends where
 * the stream does, becomes zs[cur].
 */
#define ZRLE_DEFAULT_LEVEL	3	/* zlib level without a compression level pseudo-encoding */
struct zrle_state {
	z_stream zs[2];
	int cur;		/* the deflater holding the stream's window */
	int started[2];
	int level;		/* zlib level of both */
	int initialised;
	uint32_t split_area;	/* pixels from which an update is cut in two; 0: the default */
	struct buf raw[2];	/* each lane's uncompressed tile data of one update */
	struct buf out1;	/* lane 1's compressed part of one update */
	uint64_t split_updates;	/* updates compressed by both deflaters */
};

/* Per-connection Zlib (6) state: one zlib stream of Raw pixels for the life of the connection. */
struct zlib_state {
	z_stream zs;
	int initialised;
	struct buf raw;		/* scratch: at most 32 KiB plus one converted row (<= 256 KiB) */
};

/*
 * What the viewer asked for with pseudo-encodings (the first of each kind
 * in its SetEncodings list wins, as in TigerVNC); -1 = not sent.
 */
#define ENC_SUBSAMP_NONE	0	/* -768: 4:4:4 */
#define ENC_SUBSAMP_4X		1	/* -767: 4:2:0 */
#define ENC_SUBSAMP_2X		2	/* -766: 4:2:2 */
#define ENC_SUBSAMP_GRAY	3	/* -765: grey scale */
#define ENC_SUBSAMP_8X		4	/* -764: sent as 4:2:0 */
#define ENC_SUBSAMP_16X		5	/* -763: sent as 4:2:0 */
struct enc_opts {
	int quality;		/* JPEG quality level 0..9 (-32..-23) */
	int fine_quality;	/* JPEG quality 0..100 (-512..-412) */
	int subsampling;	/* ENC_SUBSAMP_* (-768..-763) */
	int compress;		/* compression level 0..9 (-256..-247) */
};

/* Tight's subrectangle bounds (as TigerVNC's; libvncclient's buffers assume them). */
#define TIGHT_MAX_WIDTH		2048
#define TIGHT_MAX_AREA		65536
#define TIGHT_DATA_MAX		(TIGHT_MAX_AREA * 4)	/* one filtered subrectangle */

/*
 * One Tight encoding lane: what encoding one half of an update needs of
 * its own, so that two lanes can run at once (enc_pool.h). data holds one
 * filtered subrectangle (TIGHT_DATA_MAX = 256 KiB) and the saved column
 * palettes and indices (TIGHT_MAX_AREA, 64 KiB); the JPEG buffer grows to
 * tjBufSize() of the largest subrectangle (<= 3.2 MiB for a 1-pixel-wide
 * column, about 400 KiB for 2048x32); out holds lane 1's part of an
 * update until it is appended after lane 0's (lane 0 writes in place).
 */
struct tight_lane {
	uint8_t *data;		/* TIGHT_DATA_MAX + TIGHT_MAX_AREA bytes, allocated on first use */
	void *tj;		/* TurboJPEG compressor, created on first JPEG */
	unsigned char *jpeg;	/* TurboJPEG's output buffer (tjAlloc) */
	unsigned long jpeg_cap;
	struct buf out;
};

/*
 * Per-connection Tight (7) state: two lanes and four zlib streams (about
 * 270 KiB each at level 9). Lane L owns streams 2L (full colour) and
 * 2L + 1 (palettes), so the lanes never share a stream and the viewer,
 * which reads lane 0's rectangles and then lane 1's, inflates every
 * stream in the order it was deflated.
 */
struct tight_state {
	z_stream zs[4];
	int level[4];		/* zlib level + 1 of each stream; 0: not started */
	uint8_t reset;		/* streams the viewer must reset at the next rect */
	uint32_t chunk_area;	/* pixels in a lane's chunk; 0: the default (tests set less) */
	struct tight_lane lane[2];
	struct {
		uint64_t fill, mono, indexed, full, gradient, jpeg;
	} stats;		/* subrectangles sent of each kind */
};

/* Writes a 12-byte rectangle header. Returns 0 or MOAT_ERR_TOO_LONG (out unchanged). */
int rfb_put_rect_header(struct buf *out, uint16_t x, uint16_t y, uint16_t w, uint16_t h, int32_t enc);
/* Returns 0 if the rectangle lies inside fb and fb's rows are readable as 32-bit pixels, MOAT_ERR_INVALID otherwise. */
int enc_check_rect(const struct fb_view *fb, uint16_t x, uint16_t y, uint16_t w, uint16_t h);
/* Returns 0 if pc converts from fb's colour masks and the rectangle passes enc_check_rect(), else MOAT_ERR_INVALID. */
int enc_check_view(const struct fb_view *fb, const struct pixconv *pc,
    uint16_t x, uint16_t y, uint16_t w, uint16_t h);
/*
 * Returns 0 if pc converts from fb's colour masks and each of rects[0, n)
 * passes enc_check_rect() (*area is then their total pixels), else
 * MOAT_ERR_INVALID.
 */
int enc_check_rects(const struct fb_view *fb, const struct pixconv *pc,
    const struct rfb_rect16 *rects, size_t n, uint64_t *area);

/*
 * Every encoder appends a whole rectangle to out or, on error, leaves out as
 * it was. An error from enc_zrle() after it started compressing also ends the
 * connection's zlib stream (the client can no longer follow it): further calls
 * return MOAT_ERR_INVALID and the client must be closed.
 */

/* Writes header + Raw pixels of the rectangle. Returns 0 or a negative MOAT_ERR_*. */
int enc_raw(struct buf *out, const struct fb_view *fb, const struct pixconv *pc,
    uint16_t x, uint16_t y, uint16_t w, uint16_t h);

/* Starts the connection's zlib stream at level 0..9 (or -1: zlib's default); returns 0 or a negative MOAT_ERR_*. */
int zrle_init(struct zrle_state *z, int level);
/* Ends the stream and frees the scratch buffers; safe on a zeroed or freed state. */
void zrle_free(struct zrle_state *z);
/*
 * Writes header + ZRLE data for each of the n rectangles (64x64 tiles,
 * solid/palette/RLE/raw chosen per tile), compressing at zlib level
 * (0..9; a change takes effect without restarting the stream). Returns 0
 * or a negative MOAT_ERR_* (out as it was; see above for the stream).
 */
int enc_zrle_rects(struct zrle_state *z, int level, struct buf *out,
    const struct fb_view *fb, const struct pixconv *pc,
    const struct rfb_rect16 *rects, size_t n);
/* enc_zrle_rects() of the one rectangle (x, y, w, h) at the level zrle_init() set. */
int enc_zrle(struct zrle_state *z, struct buf *out, const struct fb_view *fb,
    const struct pixconv *pc, uint16_t x, uint16_t y, uint16_t w, uint16_t h);

/*
 * Writes header + Hextile (5) data: 16x16 tiles sent raw or as a background
 * plus subrectangles, whichever is smaller. Returns 0 or a negative MOAT_ERR_*.
 */
int enc_hextile(struct buf *out, const struct fb_view *fb, const struct pixconv *pc,
    uint16_t x, uint16_t y, uint16_t w, uint16_t h);

/* Writes header + TRLE (15) data (16x16 tiles, ZRLE's tile coder, no zlib). Returns 0 or a negative MOAT_ERR_*. */
int enc_trle(struct buf *out, const struct fb_view *fb, const struct pixconv *pc,
    uint16_t x, uint16_t y, uint16_t w, uint16_t h);

/* Starts the Zlib encoding's stream at level 0..9 (or -1: default); returns 0 or a negative MOAT_ERR_*. */
int zlib_enc_init(struct zlib_state *z, int level);
/* Ends the stream and frees the scratch; safe on a zeroed or freed state. */
void zlib_enc_free(struct zlib_state *z);
/*
 * Writes header + Zlib (6) data (U32 length, Raw pixels through the
 * connection's stream). Returns 0 or a negative MOAT_ERR_*; an error after
 * compression started ends the stream as for enc_zrle().
 */
int enc_zlib(struct zlib_state *z, struct buf *out, const struct fb_view *fb,
    const struct pixconv *pc, uint16_t x, uint16_t y, uint16_t w, uint16_t h);

/* Sets every field of o to -1 (nothing asked for). */
void enc_opts_clear(struct enc_opts *o);
/* Returns 1 if o makes Tight send full-colour areas as JPEG for a client of bpp bits per pixel, 0 if not. */
int enc_opts_jpeg(const struct enc_opts *o, int bpp);
/* Zeroes t (no stream started, nothing allocated; a zeroed state is also ready); never fails. */
void tight_init(struct tight_state *t);
/*
 * Allocates both lanes' subrectangle buffers and creates their JPEG
 * compressors now (moat-net calls it before entering its sandbox, so no
 * first use needs anything the filter forbids). Returns 0 or MOAT_ERR_NOMEM.
 */
int tight_prepare(struct tight_state *t);
/* Ends the streams and frees the buffers; safe on a zeroed or freed state. */
void tight_free(struct tight_state *t);
/*
 * Writes the n rectangles as Tight (7) rectangles (split to at most
 * TIGHT_MAX_WIDTH wide and TIGHT_MAX_AREA pixels, solid areas sent as
 * fills) and adds their number to *nrects. An update is cut into chunks
 * of rows that two lanes encode, at once on two cores when
 * enc_pool_parallel(). Sends JPEG only if enc_opts_jpeg(o, bpp). Returns 0 or a
 * negative MOAT_ERR_* (out as it was; a stream that had taken data is
 * reset and the viewer told so in the next Tight rectangle, so the
 * connection may go on).
 */
int enc_tight_rects(struct tight_state *t, const struct enc_opts *o,
    struct buf *out, const struct fb_view *fb, const struct pixconv *pc,
    const struct rfb_rect16 *rects, size_t n, uint32_t *nrects);
/* enc_tight_rects() of the one rectangle (x, y, w, h). */
int enc_tight(struct tight_state *t, const struct enc_opts *o, struct buf *out,
    const struct fb_view *fb, const struct pixconv *pc, uint16_t x, uint16_t y,
    uint16_t w, uint16_t h, uint32_t *nrects);

/* Writes a Cursor (-239) pseudo-rectangle from non-premultiplied ARGB pixels (alpha >= 128 is visible). Returns 0 or a negative MOAT_ERR_*. */
int enc_cursor(struct buf *out, const struct pixconv *pc, uint16_t hotx, uint16_t hoty,
    uint16_t w, uint16_t h, const uint32_t *argb);

/* Writes a DesktopSize (-223) pseudo-rectangle. Returns 0 or a negative MOAT_ERR_*. */
int enc_desktop_size(struct buf *out, uint16_t w, uint16_t h);
/* Writes an ExtendedDesktopSize (-308) pseudo-rectangle with one screen covering w x h. Returns 0 or a negative MOAT_ERR_*. */
int enc_ext_desktop_size(struct buf *out, uint16_t reason, uint16_t status, uint16_t w, uint16_t h);

/* Writes a pseudo-rectangle with no data, all fields 0 (LastRect, QEMU extended key events). Returns 0 or a negative MOAT_ERR_*. */
int enc_pseudo_empty(struct buf *out, int32_t enc);
/* The longest desktop name sent in a DesktopName rect (longer ones are cut). */
#define RFB_MAX_DESKTOP_NAME	1024
/* Writes a DesktopName (-307) pseudo-rectangle: U32 length and the UTF-8 name. Returns 0 or a negative MOAT_ERR_* (out as it was). */
int enc_desktop_name(struct buf *out, const char *name);

#endif
