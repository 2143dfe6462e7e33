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

/* Writes a 12-byte rectangle header. */
int rfb_put_rect_header(struct buf *out, uint16_t x, uint16_t y, uint16_t w, uint16_t h, int32_t enc);

/* Writes header + Raw pixels of the rectangle. Returns 0 or a negative MOAT_ERR_*. */
int enc_raw(struct buf *out, const struct fb_view *fb, const struct pixconv *pc,
    uint16_t x, uint16_t y, uint16_t w, uint16_t h);

int zrle_init(struct zrle_state *z, int level);
void zrle_free(struct zrle_state *z);
/* Writes header + ZRLE data (64x64 tiles, solid/palette/RLE/raw chosen per tile). */
int enc_zrle(struct zrle_state *z, struct buf *out, const struct fb_view *fb,
    const struct pixconv *pc, uint16_t x, uint16_t y, uint16_t w, uint16_t h);

/* Writes a Cursor (-239) pseudo-rectangle from non-premultiplied ARGB pixels (alpha >= 128 is visible). */
int enc_cursor(struct buf *out, const struct pixconv *pc, uint16_t hotx, uint16_t hoty,
    uint16_t w, uint16_t h, const uint32_t *argb);

/* Writes a DesktopSize (-223) pseudo-rectangle. */
int enc_desktop_size(struct buf *out, uint16_t w, uint16_t h);
/* Writes an ExtendedDesktopSize (-308) pseudo-rectangle with one screen covering w x h. */
int enc_ext_desktop_size(struct buf *out, uint16_t reason, uint16_t status, uint16_t w, uint16_t h);

#endif
