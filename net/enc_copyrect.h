/*
 * enc_copyrect.h - CopyRect (RFB encoding 1): a shadow of the pixels the
 * viewer has been sent, detection of damaged regions that are shifted
 * copies of them (scrolled text, moved windows) or that did not change at
 * all, and the pixel part of an update built from that: CopyRect
 * rectangles first, then the rest encoded from a snapshot taken into the
 * shadow. Runs in moat-net; pure computation, no I/O.
 *
 * Use: copyrect_init() once the viewer lists CopyRect; per update,
 * copyrect_plan() then copyrect_count() (for the update header) then
 * copyrect_write(), or copyrect_forget() if that update is not sent after
 * all (the plan already moved pixels in the shadow). Every pixel rectangle
 * sent to the viewer while the shadow exists must go through
 * copyrect_write(), or the shadow no longer says what the viewer has.
 */
#ifndef MOAT_ENC_COPYRECT_H
#define MOAT_ENC_COPYRECT_H

#include <stddef.h>
#include <stdint.h>

#include "encoder.h"
#include "pixfmt.h"
#include "privsep/buf.h"
#include "rfb_types.h"

/* The largest shadow moat-net keeps (8K UHD fits); larger screens go without CopyRect. */
#define COPYRECT_MAX_BYTES	(160u * 1024u * 1024u)
/* The most damaged rectangles one plan takes (its rectangle count must fit a u16). */
#define COPYRECT_MAX_DIRTY	2048u

struct copyrect_rect {
	uint16_t x, y, w, h;
};

/* Copy the viewer's pixels at (sx, sy) to dst. */
struct copyrect_move {
	struct copyrect_rect dst;
	uint16_t sx, sy;
};

struct copyrect_stats {
	uint64_t searched;		/* damaged rectangles searched for copies */
	uint64_t copies;		/* CopyRect rectangles planned */
	uint64_t copied_pixels;		/* pixels they cover */
	uint64_t unchanged_pixels;	/* damaged, but the viewer had them: not sent */
	uint64_t encoded_pixels;	/* pixels left to the encoder */
};

struct copyrect_state {
	uint32_t *shadow;	/* width * height source pixels, rows packed */
	uint16_t width, height;
	struct fb_format fmt;	/* the layout the shadow's pixels are in */
	/* Per row, the column span [known0, known1) the viewer was sent. */
	uint16_t *known0, *known1;
	/* Scratch for the match search: width + 1 entries each. */
	uint32_t *heights, *stack;
	uint8_t *mask;
	/* Scratch for ordering the CopyRects of one update. */
	uint8_t *order;
	struct copyrect_move *sorted;
	/* The planned update. */
	struct copyrect_move *moves;
	struct copyrect_rect *pieces;
	size_t nmoves, npieces, cap_pieces;
	struct copyrect_stats stats;
};

/*
 * Allocates a shadow for a w x h framebuffer with nothing known, freeing any
 * previous one. Returns 0, MOAT_ERR_INVALID, MOAT_ERR_TOO_LONG (over
 * COPYRECT_MAX_BYTES) or MOAT_ERR_NOMEM (s is then zeroed).
 */
int copyrect_init(struct copyrect_state *s, uint16_t w, uint16_t h);
/* Frees everything and zeroes s; safe on a zeroed or freed state. */
void copyrect_free(struct copyrect_state *s);
/* Forgets what the viewer has: nothing is a CopyRect source until sent again. Never fails. */
void copyrect_forget(struct copyrect_state *s);
/*
 * Forgets what the viewer has inside r (r is sent without a snapshot, so
 * the shadow does not say what it gets there): no pixel of r is a CopyRect
 * source until sent again through copyrect_snapshot(). Each row keeps the
 * longer of the known parts left and right of r. Returns 0 or
 * MOAT_ERR_INVALID (r outside the shadow).
 */
int copyrect_unknown(struct copyrect_state *s, const struct copyrect_rect *r);

/*
 * Searches r (inside fb, which must be s's size) for the largest rectangle
 * whose pixels equal pixels the viewer has at a fixed offset. Returns 1 and
 * fills *m (src == dst means the viewer already has those pixels in place),
 * 0 if nothing worth a rectangle was found (or fb's channel masks are not
 * the shadow's), or MOAT_ERR_INVALID. Reads only.
 */
int copyrect_find(struct copyrect_state *s, const struct fb_view *fb,
    const struct copyrect_rect *r, struct copyrect_move *m);
/* Applies m to the shadow as the viewer does; returns 0 or MOAT_ERR_INVALID (source unknown or outside). */
int copyrect_apply(struct copyrect_state *s, const struct copyrect_move *m);
/*
 * Copies r from fb into the shadow and marks it known (after forgetting the
 * rest if fb's channel masks changed). Returns 0 or MOAT_ERR_INVALID.
 */
int copyrect_snapshot(struct copyrect_state *s, const struct fb_view *fb,
    const struct copyrect_rect *r);
/* Fills *v with a view of the shadow in fb's pixel layout; returns 0 or MOAT_ERR_INVALID. */
int copyrect_view(const struct copyrect_state *s, const struct fb_view *fb,
    struct fb_view *v);

/*
 * Plans the pixel rectangles answering n damaged rectangles (each inside
 * fb). With allow_copy (only for an incremental request, and never after a
 * size change in the same update), searches each against the shadow as the
 * viewer has it now, drops what the viewer already has, orders the
 * CopyRects so that none overwrites a later one's source, and applies them
 * to the shadow; otherwise passes the rectangles through. A change of fb's
 * channel masks forgets the shadow first. Returns 0 or a negative MOAT_ERR_*
 * (nothing planned, no pixel of the shadow moved).
 */
int copyrect_plan(struct copyrect_state *s, const struct fb_view *fb,
    const struct copyrect_rect *dirty, size_t n, int allow_copy);
/* Returns the number of rectangles copyrect_write() appends for the current plan. */
size_t copyrect_count(const struct copyrect_state *s);
/*
 * Appends the planned rectangles to out: every CopyRect first, then each
 * remaining piece copied from fb into the shadow and encoded from there with
 * encoding (RFB_ENC_RAW or RFB_ENC_ZRLE, using z). Returns 0 or a negative
 * MOAT_ERR_*; after an error the shadow is forgotten and the caller must not
 * send out (and, after a ZRLE error, must close the viewer).
 */
int copyrect_write(struct copyrect_state *s, struct buf *out,
    const struct fb_view *fb, const struct pixconv *pc, struct zrle_state *z,
    int encoding);

/* Writes one CopyRect rectangle (header, src-x, src-y). Returns 0 or MOAT_ERR_TOO_LONG (out unchanged). */
int enc_copyrect(struct buf *out, const struct copyrect_move *m);

#endif
