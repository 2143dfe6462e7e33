/*
 * enc_raw.c - Raw encoding (RFB encoding 0) and the framebuffer rectangle
 * check every pixel encoder applies. Runs in moat-net. Reads the
 * framebuffer mapping moat-session shares (read-only, size checked when it
 * was mapped) only inside the rectangle enc_check_rect() accepted.
 */
#include <stdint.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "encoder.h"

#define RECT_HEADER_LEN	12

int
enc_check_rect(const struct fb_view *fb, uint16_t x, uint16_t y, uint16_t w,
    uint16_t h)
{
	if ((uint32_t)x + w > fb->width || (uint32_t)y + h > fb->height)
		return MOAT_ERR_INVALID;
	if (fb->stride % 4 != 0 || fb->stride < (uint32_t)fb->width * 4)
		return MOAT_ERR_INVALID;
	if (w != 0 && h != 0 &&
	    (fb->data == NULL || ((uintptr_t)fb->data & 3) != 0))
		return MOAT_ERR_INVALID;
	return 0;
}

int
enc_check_view(const struct fb_view *fb, const struct pixconv *pc,
    uint16_t x, uint16_t y, uint16_t w, uint16_t h)
{
	if (pc->src.red_mask != fb->fmt.red_mask ||
	    pc->src.green_mask != fb->fmt.green_mask ||
	    pc->src.blue_mask != fb->fmt.blue_mask)
		return MOAT_ERR_INVALID;
	return enc_check_rect(fb, x, y, w, h);
}

int
enc_check_rects(const struct fb_view *fb, const struct pixconv *pc,
    const struct rfb_rect16 *rects, size_t n, uint64_t *area)
{
	size_t i;
	int r;

	*area = 0;
	if ((r = enc_check_view(fb, pc, 0, 0, 0, 0)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = enc_check_rect(fb, rects[i].x, rects[i].y, rects[i].w,
		    rects[i].h)) != 0)
			return r;
		*area += (uint64_t)rects[i].w * rects[i].h;
	}
	return 0;
}

int
enc_raw(struct buf *out, const struct fb_view *fb, const struct pixconv *pc,
    uint16_t x, uint16_t y, uint16_t w, uint16_t h)
{
	const uint8_t *src;
	uint64_t n;
	uint8_t *p;
	size_t rowlen;
	struct buf hb;
	uint16_t row;
	int r;

	if ((r = enc_check_view(fb, pc, x, y, w, h)) != 0)
		return r;
	n = (uint64_t)w * h * pc->bytes;
	if (n > SIZE_MAX - RECT_HEADER_LEN)
		return MOAT_ERR_TOO_LONG;
	if ((r = buf_reserve(out, RECT_HEADER_LEN + (size_t)n, &p)) != 0)
		return r;
	buf_init_fixed(&hb, p, RECT_HEADER_LEN);
	(void)rfb_put_rect_header(&hb, x, y, w, h, RFB_ENC_RAW);
	p += RECT_HEADER_LEN;
	rowlen = (size_t)w * pc->bytes;
	for (row = 0; row < h; row++) {
		src = fb->data + (size_t)(y + row) * fb->stride + (size_t)x * 4;
		pixconv_row(pc, p, (const uint32_t *)(const void *)src, w);
		p += rowlen;
	}
	return 0;
}
