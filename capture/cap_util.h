/*
 * cap_util.h - moat-session's pure helpers: damage rectangle lists, keysym
 * validation, Latin-1/UTF-8 conversion and cursor pixel conversion. The
 * messages moat-net sends on a capture channel are decoded by
 * privsep/ipc_msg.c.
 *
 * Runs in moat-session. Nothing here touches X or a descriptor, so unit
 * tests and fuzzers include it directly. Every input is treated as hostile.
 */
#ifndef MOAT_CAP_UTIL_H
#define MOAT_CAP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/ipc_types.h"

struct cap_rect {
	uint16_t x, y, w, h;
};

/* A bounded list of pending damage; never more than IPC_MAX_DAMAGE_RECTS. */
struct cap_rects {
	unsigned n;
	struct cap_rect r[IPC_MAX_DAMAGE_RECTS];
};

/* Empties the list. */
void cap_rects_clear(struct cap_rects *l);
/* Makes the list one rectangle covering a w x h screen (empty if w or h is 0). */
void cap_rects_set_full(struct cap_rects *l, unsigned w, unsigned h);
/*
 * Adds (x, y, w, h) clipped to a sw x sh screen. A rectangle already covered
 * by one in the list is dropped, rectangles it covers are removed, and a list
 * that would exceed IPC_MAX_DAMAGE_RECTS collapses to its bounding box.
 * Returns 1 if the list changed, 0 if not.
 */
int cap_rects_add(struct cap_rects *l, long x, long y, long w, long h,
    unsigned sw, unsigned sh);
/* Stores the list's bounding box in *bb; returns 0, or -1 if it is empty. */
int cap_rects_bounds(const struct cap_rects *l, struct cap_rect *bb);

/*
 * Returns 1 if keysym lies in a range X defines keysyms in (Latin-1, the
 * legacy 0x100-0x20ff sets, 0xfe00-0xffff function keys, Unicode keysyms
 * 0x01000100-0x0110ffff, vendor keysyms 0x10000000-0x1fffffff), else 0.
 * NoSymbol (0) and VoidSymbol (0xffffff) are invalid.
 */
int cap_keysym_valid(uint32_t keysym);

/*
 * Converts Latin-1 text to UTF-8 into out (room for outmax bytes), dropping
 * NUL bytes and stopping before a character that would not fit.
 * Returns the number of bytes written (at most 2 * n).
 */
size_t cap_latin1_to_utf8(const uint8_t *in, size_t n, uint8_t *out,
    size_t outmax);
/*
 * Converts UTF-8 text to Latin-1 into out (room for outmax bytes): code
 * points above 0xff and malformed sequences become '?', NULs are dropped.
 * Sets *truncated (may be NULL) to 1 if output was cut at outmax.
 * Returns the number of bytes written.
 */
size_t cap_utf8_to_latin1(const uint8_t *in, size_t n, uint8_t *out,
    size_t outmax, int *truncated);

/* Returns the non-premultiplied ARGB value of a premultiplied ARGB pixel. */
uint32_t cap_unpremultiply(uint32_t argb);

#endif
