/*
 * cap_util.c - pure helpers of moat-session (see cap_util.h): damage lists,
 * keysym ranges, text conversion and cursor pixels.
 *
 * Runs in moat-session. It trusts nothing it is given: clipboard text
 * comes from a moat-net that may be compromised, every string from the X
 * server may come from any client of the display.
 */
#include <string.h>

#include "cap_util.h"

void
cap_rects_clear(struct cap_rects *l)
{
	l->n = 0;
}

void
cap_rects_set_full(struct cap_rects *l, unsigned w, unsigned h)
{
	l->n = 0;
	if (w == 0 || h == 0 || w > UINT16_MAX || h > UINT16_MAX)
		return;
	l->r[0].x = 0;
	l->r[0].y = 0;
	l->r[0].w = (uint16_t)w;
	l->r[0].h = (uint16_t)h;
	l->n = 1;
}

static int
rect_contains(const struct cap_rect *a, long x0, long y0, long x1, long y1)
{
	return a->x <= x0 && a->y <= y0 &&
	    (long)a->x + a->w >= x1 && (long)a->y + a->h >= y1;
}

int
cap_rects_bounds(const struct cap_rects *l, struct cap_rect *bb)
{
	long x0, y0, x1, y1;
	unsigned i;

	if (l->n == 0)
		return -1;
	x0 = l->r[0].x;
	y0 = l->r[0].y;
	x1 = x0 + l->r[0].w;
	y1 = y0 + l->r[0].h;
	for (i = 1; i < l->n; i++) {
		const struct cap_rect *r = &l->r[i];

		if (r->x < x0)
			x0 = r->x;
		if (r->y < y0)
			y0 = r->y;
		if ((long)r->x + r->w > x1)
			x1 = (long)r->x + r->w;
		if ((long)r->y + r->h > y1)
			y1 = (long)r->y + r->h;
	}
	bb->x = (uint16_t)x0;
	bb->y = (uint16_t)y0;
	bb->w = (uint16_t)(x1 - x0);
	bb->h = (uint16_t)(y1 - y0);
	return 0;
}

int
cap_rects_add(struct cap_rects *l, long x, long y, long w, long h,
    unsigned sw, unsigned sh)
{
	long x0, y0, x1, y1;
	struct cap_rect bb;
	unsigned i;

	if (w <= 0 || h <= 0 || sw == 0 || sh == 0 ||
	    sw > UINT16_MAX || sh > UINT16_MAX)
		return 0;
	/* Clip to the screen; the inputs are small (X uses 16-bit values). */
	x0 = x < 0 ? 0 : x;
	y0 = y < 0 ? 0 : y;
	x1 = x + w > (long)sw ? (long)sw : x + w;
	y1 = y + h > (long)sh ? (long)sh : y + h;
	if (x1 <= x0 || y1 <= y0)
		return 0;
	for (i = 0; i < l->n; i++)
		if (rect_contains(&l->r[i], x0, y0, x1, y1))
			return 0;
	/* Drop what the new rectangle covers. */
	for (i = 0; i < l->n; ) {
		const struct cap_rect *r = &l->r[i];

		if (r->x >= x0 && r->y >= y0 &&
		    (long)r->x + r->w <= x1 && (long)r->y + r->h <= y1)
			l->r[i] = l->r[--l->n];
		else
			i++;
	}
	if (l->n >= IPC_MAX_DAMAGE_RECTS) {
		/* Too many: one bounding box for everything. */
		(void)cap_rects_bounds(l, &bb);
		if (bb.x < x0)
			x0 = bb.x;
		if (bb.y < y0)
			y0 = bb.y;
		if ((long)bb.x + bb.w > x1)
			x1 = (long)bb.x + bb.w;
		if ((long)bb.y + bb.h > y1)
			y1 = (long)bb.y + bb.h;
		l->n = 0;
	}
	l->r[l->n].x = (uint16_t)x0;
	l->r[l->n].y = (uint16_t)y0;
	l->r[l->n].w = (uint16_t)(x1 - x0);
	l->r[l->n].h = (uint16_t)(y1 - y0);
	l->n++;
	return 1;
}

int
cap_keysym_valid(uint32_t ks)
{
	if (ks >= 0x20 && ks <= 0x7e)		/* ASCII */
		return 1;
	if (ks >= 0xa0 && ks <= 0xff)		/* Latin-1 */
		return 1;
	if (ks >= 0x100 && ks <= 0x20ff)	/* Latin-2 .. currency */
		return 1;
	if (ks >= 0xfe00 && ks <= 0xffff)	/* function, modifier, keypad */
		return 1;
	if (ks >= 0x01000100 && ks <= 0x0110ffff)	/* Unicode keysyms */
		return 1;
	if (ks >= 0x10000000 && ks <= 0x1fffffff)	/* vendor keysyms */
		return 1;
	return 0;
}

size_t
cap_latin1_to_utf8(const uint8_t *in, size_t n, uint8_t *out, size_t outmax)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (c == 0)
			continue;
		if (c < 0x80) {
			if (o + 1 > outmax)
				break;
			out[o++] = c;
		} else {
			if (o + 2 > outmax)
				break;
			out[o++] = (uint8_t)(0xc0 | (c >> 6));
			out[o++] = (uint8_t)(0x80 | (c & 0x3f));
		}
	}
	return o;
}

/*
 * Decodes one UTF-8 sequence at in[0..n); returns its length (>= 1) and the
 * code point in *cp, or -1 in *cp for a malformed byte (length 1).
 */
static size_t
utf8_decode(const uint8_t *in, size_t n, long *cp)
{
	uint8_t c = in[0];
	size_t len, i;
	long v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		*cp = -1;
		return 1;
	}
	if (len > n) {
		*cp = -1;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if ((in[i] & 0xc0) != 0x80) {
			*cp = -1;
			return 1;
		}
		v = (v << 6) | (in[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
		*cp = -1;
		return 1;
	}
	*cp = v;
	return len;
}

size_t
cap_utf8_to_latin1(const uint8_t *in, size_t n, uint8_t *out, size_t outmax,
    int *truncated)
{
	size_t i = 0, o = 0;
	long cp;

	if (truncated != NULL)
		*truncated = 0;
	while (i < n) {
		i += utf8_decode(in + i, n - i, &cp);
		if (cp == 0)
			continue;
		if (o >= outmax) {
			if (truncated != NULL)
				*truncated = 1;
			break;
		}
		out[o++] = (cp < 0 || cp > 0xff) ? '?' : (uint8_t)cp;
	}
	return o;
}

uint32_t
cap_unpremultiply(uint32_t argb)
{
	uint32_t a = argb >> 24, c[3], i;

	if (a == 0)
		return 0;
	if (a == 255)
		return argb;
	for (i = 0; i < 3; i++) {
		c[i] = (argb >> (16 - 8 * i)) & 0xff;
		c[i] = (c[i] * 255 + a / 2) / a;
		if (c[i] > 255)
			c[i] = 255;
	}
	return (a << 24) | (c[0] << 16) | (c[1] << 8) | c[2];
}
