/*
 * encoder.h - framebuffer update encoders (Raw, ZRLE, Cursor pseudo-rect,
 * DesktopSize / ExtendedDesktopSize). Runs in moat-net. Encoders only
 * write; the rectangle is clipped to the framebuffer by the caller.
 */
#ifndef MOAT_ENCODER_H
#define MOAT_ENCODER_H

#include <stdint.h>
#include <zlib.h>

#include "privsep/buf.h"
#include "pixfmt.h"
#include "rfb_types.h"

/* Per-connection ZRLE state: one zlib stream for the life of the connection. */
struct zrle_state {
	z_stream zs;
	int initialised;
	struct buf tile;	/* scratch for uncompressed tile data */
};

/* Writes a 12-byte rectangle header. Returns 0 or MOAT_ERR_TOO_LONG (out unchanged). */
int rfb_put_rect_header(struct buf *out, uint16_t x, uint16_t y, uint16_t w, uint16_t h, int32_t enc);
/* Returns 0 if the rectangle lies inside fb and fb's rows are readable as 32-bit pixels, MOAT_ERR_INVALID otherwise. */
int enc_check_rect(const struct fb_view *fb, uint16_t x, uint16_t y, uint16_t w, uint16_t h);

/*
 * Every encoder appends a whole rectangle to out or, on error, leaves out as
 * it was. An error from enc_zrle() after it started compressing also ends the
 * connection's zlib stream (the client can no longer follow it): further calls
 * return MOAT_ERR_INVALID and the client must be closed.
 */

/* Writes header + Raw pixels of the rectangle. Returns 0 or a negative MOAT_ERR_*. */
int enc_raw(struct buf *out, const struct fb_view *fb, const struct pixconv *pc,
    uint16_t x, uint16_t y, uint16_t w, uint16_t h);

/* Starts the connection's zlib stream at level 0..9 (or -1: default); returns 0 or a negative MOAT_ERR_*. */
int zrle_init(struct zrle_state *z, int level);
/* Ends the stream and wipes the scratch buffer; safe on a zeroed or freed state. */
void zrle_free(struct zrle_state *z);
/* Writes header + ZRLE data (64x64 tiles, solid/palette/RLE/raw chosen per tile). Returns 0 or a negative MOAT_ERR_*. */
int enc_zrle(struct zrle_state *z, struct buf *out, const struct fb_view *fb,
    const struct pixconv *pc, uint16_t x, uint16_t y, uint16_t w, uint16_t h);

/* Writes a Cursor (-239) pseudo-rectangle from non-premultiplied ARGB pixels (alpha >= 128 is visible). Returns 0 or a negative MOAT_ERR_*. */
int enc_cursor(struct buf *out, const struct pixconv *pc, uint16_t hotx, uint16_t hoty,
    uint16_t w, uint16_t h, const uint32_t *argb);

/* Writes a DesktopSize (-223) pseudo-rectangle. Returns 0 or a negative MOAT_ERR_*. */
int enc_desktop_size(struct buf *out, uint16_t w, uint16_t h);
/* Writes an ExtendedDesktopSize (-308) pseudo-rectangle with one screen covering w x h. Returns 0 or a negative MOAT_ERR_*. */
int enc_ext_desktop_size(struct buf *out, uint16_t reason, uint16_t status, uint16_t w, uint16_t h);

#endif
