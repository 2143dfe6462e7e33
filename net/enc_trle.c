/*
 * enc_trle.c - TRLE encoding (RFB encoding 15, RFC 6143 section 7.7.5):
 * 16x16 tiles coded by the tile coder ZRLE uses (enc_zrle.c: solid,
 * packed palette, plain RLE, palette RLE or raw, whichever is smallest),
 * written without zlib. Palette reuse (subencodings 127 and 129) is not
 * used. Runs in moat-net. Reads the shared framebuffer only inside the
 * rectangle enc_check_rect() accepted; trusts the client pixel format only
 * after rfb_pixfmt_check().
 */
#include <stdint.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "encoder.h"
#include "enc_tile.h"

#define TILE		16
#define TILE_PIXELS	(TILE * TILE)

int
enc_trle(struct buf *out, const struct fb_view *fb, const struct pixconv *pc,
    uint16_t x, uint16_t y, uint16_t w, uint16_t h)
{
	uint32_t px[TILE_PIXELS];
	struct enc_palette pal;
	struct enc_cpixel cp;
	const uint8_t *src;
	size_t start;
	uint8_t *t, *e;
	int r, tx, ty, tw, th, row;

	if ((r = enc_check_view(fb, pc, x, y, w, h)) != 0)
		return r;
	enc_cpixel_layout(&pc->dst, &cp);
	start = buf_len(out);
	if ((r = rfb_put_rect_header(out, x, y, w, h, RFB_ENC_TRLE)) != 0)
		return r;
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
			if ((r = buf_reserve(out, ENC_RLE_TILE_MAX(TILE_PIXELS),
			    &t)) != 0)
				goto fail;
			if ((e = enc_rle_tile(t, px, tw, th, cp.size,
			    &pal)) == NULL) {
				r = MOAT_ERR_INVALID;
				goto fail;
			}
			out->len -= ENC_RLE_TILE_MAX(TILE_PIXELS) -
			    (size_t)(e - t);
		}
	}
	return 0;
fail:
	out->len = out->off + start;
	return r;
}
