/*
 * pixfmt.h - translation from the shared framebuffer's 32-bpp format to a
 * client's pixel format. Runs in moat-net; the client format was checked
 * by rfb_pixfmt_check() first.
 */
#ifndef MOAT_PIXFMT_H
#define MOAT_PIXFMT_H

#include <stdint.h>

#include "rfb_types.h"

struct pixconv {
	struct rfb_pixfmt dst;
	struct fb_format src;
	uint8_t bytes;			/* bytes per output pixel: 1, 2 or 4 */
	uint8_t src_shift[3];		/* bit position of each source channel */
	uint8_t src_bits[3];		/* width of each source channel */
	int identity;			/* output bytes == source bytes (memcpy path) */
	/* Filled by pixconv_init() for the conversion loops: */
	uint32_t src_mask;		/* union of the source colour masks */
	uint8_t dst_bits[3];		/* width of each client channel */
	int same_channels;		/* client value == source & src_mask */
	int narrowing;			/* no client channel wider than its source */
	int use_lut;			/* every source channel <= 8 bits: use lut */
	uint32_t lut[3][256];		/* source channel value -> client bits */
};

/*
 * Prepares a conversion; returns 0 or MOAT_ERR_INVALID for an unsupported pair.
 * Channels are narrowed by dropping low bits and widened by repeating the
 * source bits (so 0 and full scale map to 0 and full scale).
 */
int pixconv_init(struct pixconv *pc, const struct fb_format *src, const struct rfb_pixfmt *dst);
/* Converts one 32-bpp source pixel to the client's pixel value (not yet byte-ordered). */
uint32_t pixconv_pixel(const struct pixconv *pc, uint32_t src);
/*
 * Converts n source pixels into out (n * pc->bytes bytes, in the client's byte
 * order). On the identity path the bytes are copied, so bits outside the
 * colour masks pass through unchanged (clients ignore them).
 */
void pixconv_row(const struct pixconv *pc, uint8_t *out, const uint32_t *src, int n);
/* Converts n source pixels into n client pixel values (as pixconv_pixel, not byte-ordered). */
void pixconv_values(const struct pixconv *pc, uint32_t *out, const uint32_t *src, int n);
/* The 16-byte ServerInit pixel format moat announces (32 bpp, depth 24, little-endian, R16 G8 B0). */
void pixfmt_server_default(struct rfb_pixfmt *pf);

#endif
