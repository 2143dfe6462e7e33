/*
 * rfb_dirty.c - the dirty region of one viewer (see rfb_dirty.h). Runs in
 * moat-net; pure code. Its inputs are clipped before use, so a hostile
 * viewer's request rectangle or a confused moat-session's damage cannot
 * make the region larger than the framebuffer.
 */
#include "rfb_dirty.h"

uint64_t
rfb_dirty_area(const struct rfb_rect16 *r, uint16_t n)
{
	uint64_t a = 0;
	uint16_t i;

	for (i = 0; i < n; i++)
		a += (uint64_t)r[i].w * r[i].h;
	return a;
}

void
rfb_dirty_add(struct rfb_rect16 *r, uint16_t *n, uint16_t max,
    uint16_t fbw, uint16_t fbh, uint16_t x, uint16_t y, uint16_t w,
    uint16_t h)
{
	uint32_t x2, y2, bx1, by1, bx2, by2;
	uint16_t i;

	if (max == 0 || x >= fbw || y >= fbh || w == 0 || h == 0)
		return;
	x2 = (uint32_t)x + w;
	y2 = (uint32_t)y + h;
	if (x2 > fbw)
		x2 = fbw;
	if (y2 > fbh)
		y2 = fbh;
	/* Skip a rectangle already covered by one we hold. */
	for (i = 0; i < *n; i++) {
		if (r[i].x <= x && r[i].y <= y &&
		    (uint32_t)r[i].x + r[i].w >= x2 &&
		    (uint32_t)r[i].y + r[i].h >= y2)
			return;
	}
	/*
	 * A full list, or overlapping pieces adding up to more than the
	 * screen: one bounding box instead (never larger than the screen).
	 */
	if (*n >= max || rfb_dirty_area(r, *n) + (uint64_t)(x2 - x) *
	    (y2 - y) > (uint64_t)fbw * fbh) {
		bx1 = x;
		by1 = y;
		bx2 = x2;
		by2 = y2;
		for (i = 0; i < *n; i++) {
			if (r[i].x < bx1)
				bx1 = r[i].x;
			if (r[i].y < by1)
				by1 = r[i].y;
			if ((uint32_t)r[i].x + r[i].w > bx2)
				bx2 = (uint32_t)r[i].x + r[i].w;
			if ((uint32_t)r[i].y + r[i].h > by2)
				by2 = (uint32_t)r[i].y + r[i].h;
		}
		*n = 0;
		x = (uint16_t)bx1;
		y = (uint16_t)by1;
		x2 = bx2;
		y2 = by2;
	}
	r[*n].x = x;
	r[*n].y = y;
	r[*n].w = (uint16_t)(x2 - x);
	r[*n].h = (uint16_t)(y2 - y);
	(*n)++;
}
