/*
 * rfb_dirty.h - the region of the framebuffer a viewer has not seen yet:
 * a short list of rectangles that coalesces instead of growing. Pure code
 * run in moat-net (and unit-tested); the rectangles come from moat-session
 * damage and from viewer requests, both clipped here.
 */
#ifndef MOAT_RFB_DIRTY_H
#define MOAT_RFB_DIRTY_H

#include <stdint.h>

struct rfb_rect16 {
	uint16_t x, y, w, h;
};

/*
 * Adds (x, y, w, h), clipped to a fbw x fbh framebuffer, to the *n
 * rectangles of r (room for max, max >= 1). Never fails and never holds
 * more than the framebuffer's area: a rectangle already covered is
 * skipped, and when the list is full or the areas would add up to more
 * than the framebuffer, the list collapses to its bounding box. So an
 * update built from it carries at most fbw * fbh pixels, however many
 * requests and damage reports came in while the viewer was not reading.
 */
void rfb_dirty_add(struct rfb_rect16 *r, uint16_t *n, uint16_t max,
    uint16_t fbw, uint16_t fbh, uint16_t x, uint16_t y, uint16_t w,
    uint16_t h);

/* Returns the sum of the areas of the n rectangles of r, in pixels. */
uint64_t rfb_dirty_area(const struct rfb_rect16 *r, uint16_t n);

#endif
