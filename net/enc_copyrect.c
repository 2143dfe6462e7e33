/*
 * enc_copyrect.c - CopyRect (RFB encoding 1): the shadow of what the viewer
 * has, the search for damaged regions that are shifted copies of it, and
 * the update body built from the result. Runs in moat-net on the hot path.
 *
 * Trust: the framebuffer mapping is written by moat-session (the desktop
 * user) at any time, also while we read it. Nothing here relies on it
 * holding still: a copy is sent only where the pixels read matched the
 * shadow byte for byte, and every pixel that is encoded is first copied
 * into the shadow and encoded from there, so the shadow is always exactly
 * what the viewer decodes. A later change of the mapping arrives as damage.
 *
 * The search: up to CR_MAX_ANCHORS short distinctive pixel runs ("anchors")
 * are taken from a grid over the damaged rectangle and looked up in the
 * shadow, along the same column for any vertical offset (scrolling) and in
 * a window of +-CR_SEARCH pixels (moved windows). Offsets that several
 * anchors agree on are verified pixel by pixel over the whole rectangle,
 * and the largest exactly matching sub-rectangle becomes one CopyRect (or,
 * at offset 0, is not sent at all). The rest is searched again, a few times.
 *
 * Every damaged rectangle is searched against the shadow as the viewer has
 * it before the update. The viewer applies the CopyRects one after the
 * other, so they are then ordered such that none overwrites the source of
 * one after it; a move caught in a cycle is encoded instead.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "enc_copyrect.h"

#define RECT_HEADER_LEN	12

#define CR_MIN_DIM	32	/* narrower or lower rectangles are not searched */
#define CR_MIN_AREA	(64 * 64)	/* nor smaller ones */
#define CR_MIN_COPY_AREA 2048	/* a smaller match is not worth splitting for */
#define CR_MIN_COPY_W	4
#define CR_MIN_COPY_H	2
#define CR_MAX_MOVES	4	/* searches that succeed per damaged rectangle */
/* Pieces left per damaged rectangle: each success replaces one by four. */
#define CR_MAX_PIECES	(1 + 3 * CR_MAX_MOVES)
#define CR_ANCHOR_LEN	32	/* pixels in an anchor */
#define CR_GRID_X	4
#define CR_GRID_Y	6
#define CR_MAX_ANCHORS	12
#define CR_ANCHOR_SCAN	64	/* pixels scanned right of a grid point */
#define CR_ANCHOR_ROWS	8	/* rows scanned down from it */
#define CR_MIN_EDGES	4	/* colour changes that make a run distinctive */
#define CR_PROBES	8	/* anchor pixels compared first (unrolled in lookup) */
#define CR_PAD		4	/* pixels after the shadow's last row */
#define CR_MAX_HITS	16	/* places one anchor votes for, at most */
#define CR_MAX_CANDS	(CR_MAX_ANCHORS * CR_MAX_HITS)
#define CR_SEARCH	128	/* largest |dx|, and |dy| when dx != 0 */
#define CR_VOTES_DONE	4	/* agreeing anchors that end the lookup early */
#define CR_TRY		3	/* offsets verified per search */
#define CR_MAX_UPDATE_MOVES 256	/* CopyRects one update may hold */
#define CR_BUDGET_SCREENS 3	/* pixels searched per update, in screens */

struct cand {
	int dx, dy;
	unsigned votes;
};

/* A distinctive run of pixels of the current frame, and a copy of them. */
struct anchor {
	uint32_t x, y;
	uint32_t key[CR_ANCHOR_LEN];
};

static int
fb_ok(const struct copyrect_state *s, const struct fb_view *fb)
{
	if (s->shadow == NULL || fb->width != s->width ||
	    fb->height != s->height)
		return 0;
	return enc_check_rect(fb, 0, 0, fb->width, fb->height) == 0;
}

static int
rect_ok(const struct copyrect_state *s, const struct copyrect_rect *r)
{
	return (uint32_t)r->x + r->w <= s->width &&
	    (uint32_t)r->y + r->h <= s->height;
}

static int
same_fmt(const struct copyrect_state *s, const struct fb_view *fb)
{
	return fb->fmt.red_mask == s->fmt.red_mask &&
	    fb->fmt.green_mask == s->fmt.green_mask &&
	    fb->fmt.blue_mask == s->fmt.blue_mask;
}

/* Equal values in another channel layout are other colours: start over. */
static void
fmt_sync(struct copyrect_state *s, const struct fb_view *fb)
{
	if (!same_fmt(s, fb)) {
		copyrect_forget(s);
		s->fmt = fb->fmt;
	}
}

static const uint32_t *
fb_row(const struct fb_view *fb, uint32_t y)
{
	return (const uint32_t *)(const void *)(fb->data +
	    (size_t)y * fb->stride);
}

static uint32_t *
sh_row(const struct copyrect_state *s, uint32_t y)
{
	return s->shadow + (size_t)y * s->width;
}

/* Returns 1 if the viewer was sent columns [a, b) of row y. */
static int
known(const struct copyrect_state *s, uint32_t y, uint32_t a, uint32_t b)
{
	return s->known0[y] <= a && b <= s->known1[y] && a < b;
}

/* Records that the viewer has columns [a, b) of row y (one span per row). */
static void
known_add(struct copyrect_state *s, uint32_t y, uint32_t a, uint32_t b)
{
	uint32_t k0 = s->known0[y], k1 = s->known1[y];

	if (a >= b)
		return;
	if (k0 >= k1 || (a <= k0 && b >= k1)) {
		k0 = a;
		k1 = b;
	} else if (a <= k1 && b >= k0) {
		k0 = a < k0 ? a : k0;
		k1 = b > k1 ? b : k1;
	} else if (b - a > k1 - k0) {
		/* Disjoint: keep the longer span; the other is forgotten. */
		k0 = a;
		k1 = b;
	}
	s->known0[y] = (uint16_t)k0;
	s->known1[y] = (uint16_t)k1;
}

int
copyrect_init(struct copyrect_state *s, uint16_t w, uint16_t h)
{
	uint64_t bytes = (uint64_t)w * h * 4;

	copyrect_free(s);
	if (w == 0 || h == 0)
		return MOAT_ERR_INVALID;
	if (bytes > COPYRECT_MAX_BYTES)
		return MOAT_ERR_TOO_LONG;
	/*
	 * calloc: untouched pages stay shared zero pages, and never garbage.
	 * CR_PAD pixels after the last row let the vector loads run over.
	 */
	s->shadow = calloc((size_t)w * h + CR_PAD, 4);
	s->known0 = calloc(h, sizeof(*s->known0));
	s->known1 = calloc(h, sizeof(*s->known1));
	s->heights = calloc((size_t)w + 1, sizeof(*s->heights));
	s->stack = calloc((size_t)w + 1, sizeof(*s->stack));
	s->mask = calloc((size_t)w + 1, 1);
	s->order = calloc((size_t)CR_MAX_UPDATE_MOVES * CR_MAX_UPDATE_MOVES, 1);
	s->sorted = calloc(CR_MAX_UPDATE_MOVES, sizeof(*s->sorted));
	if (s->shadow == NULL || s->known0 == NULL || s->known1 == NULL ||
	    s->heights == NULL || s->stack == NULL || s->mask == NULL ||
	    s->order == NULL || s->sorted == NULL) {
		copyrect_free(s);
		return MOAT_ERR_NOMEM;
	}
	s->width = w;
	s->height = h;
	return 0;
}

void
copyrect_free(struct copyrect_state *s)
{
	free(s->shadow);
	free(s->known0);
	free(s->known1);
	free(s->heights);
	free(s->stack);
	free(s->mask);
	free(s->order);
	free(s->sorted);
	free(s->moves);
	free(s->pieces);
	memset(s, 0, sizeof(*s));
}

void
copyrect_forget(struct copyrect_state *s)
{
	if (s->known0 == NULL)
		return;
	memset(s->known0, 0, (size_t)s->height * sizeof(*s->known0));
	memset(s->known1, 0, (size_t)s->height * sizeof(*s->known1));
	s->nmoves = s->npieces = 0;
}

int
copyrect_unknown(struct copyrect_state *s, const struct copyrect_rect *r)
{
	uint32_t row, a = r->x, b = (uint32_t)r->x + r->w, k0, k1;

	if (s->known0 == NULL || !rect_ok(s, r))
		return MOAT_ERR_INVALID;
	for (row = r->y; row < (uint32_t)r->y + r->h; row++) {
		k0 = s->known0[row];
		k1 = s->known1[row];
		if (k0 >= k1 || b <= k0 || a >= k1 || a >= b)
			continue;
		/* The longer known part outside [a, b), or none. */
		if (a > k0 && (a - k0 >= (k1 > b ? k1 - b : 0)))
			k1 = a;
		else if (k1 > b)
			k0 = b;
		else
			k0 = k1 = 0;
		s->known0[row] = (uint16_t)k0;
		s->known1[row] = (uint16_t)k1;
	}
	return 0;
}

int
copyrect_snapshot(struct copyrect_state *s, const struct fb_view *fb,
    const struct copyrect_rect *r)
{
	uint32_t row;

	if (!fb_ok(s, fb) || !rect_ok(s, r))
		return MOAT_ERR_INVALID;
	fmt_sync(s, fb);
	if (r->w == 0)
		return 0;
	for (row = r->y; row < (uint32_t)r->y + r->h; row++) {
		memcpy(sh_row(s, row) + r->x, fb_row(fb, row) + r->x,
		    (size_t)r->w * 4);
		known_add(s, row, r->x, (uint32_t)r->x + r->w);
	}
	return 0;
}

int
copyrect_view(const struct copyrect_state *s, const struct fb_view *fb,
    struct fb_view *v)
{
	if (!fb_ok(s, fb))
		return MOAT_ERR_INVALID;
	v->data = (const uint8_t *)s->shadow;
	v->stride = (uint32_t)s->width * 4;
	v->width = s->width;
	v->height = s->height;
	v->fmt = fb->fmt;
	return 0;
}

int
copyrect_apply(struct copyrect_state *s, const struct copyrect_move *m)
{
	const struct copyrect_rect src = { m->sx, m->sy, m->dst.w, m->dst.h };
	uint32_t i, row;

	if (s->shadow == NULL || !rect_ok(s, &m->dst) || !rect_ok(s, &src))
		return MOAT_ERR_INVALID;
	for (i = 0; i < m->dst.h; i++)
		if (!known(s, (uint32_t)m->sy + i, m->sx,
		    (uint32_t)m->sx + m->dst.w))
			return MOAT_ERR_INVALID;
	/* As the viewer does: as if through a temporary copy. */
	for (i = 0; i < m->dst.h; i++) {
		row = m->sy < m->dst.y ? (uint32_t)m->dst.h - 1 - i : i;
		memmove(sh_row(s, (uint32_t)m->dst.y + row) + m->dst.x,
		    sh_row(s, (uint32_t)m->sy + row) + m->sx,
		    (size_t)m->dst.w * 4);
		known_add(s, (uint32_t)m->dst.y + row, m->dst.x,
		    (uint32_t)m->dst.x + m->dst.w);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Verification: the largest exactly matching rectangle at one offset  */

struct best {
	uint32_t area, x, y, w, h;
};

/* Updates *b with the largest rectangle under heights[0..w) ending on row bottom. */
static void
histogram_best(struct copyrect_state *s, uint32_t w, uint32_t x0,
    uint32_t bottom, struct best *b)
{
	uint32_t *st = s->stack, top = 0, i, cur, hgt, left, area;

	for (i = 0; i <= w; i++) {
		cur = i < w ? s->heights[i] : 0;
		while (top > 0 && s->heights[st[top - 1]] >= cur) {
			hgt = s->heights[st[--top]];
			left = top > 0 ? st[top - 1] + 1 : 0;
			area = hgt * (i - left);
			if (hgt > 0 && area > b->area) {
				b->area = area;
				b->x = x0 + left;
				b->w = i - left;
				b->h = hgt;
				b->y = bottom + 1 - hgt;
			}
		}
		st[top++] = i;
	}
}

/*
 * Finds the largest rectangle inside r where fb equals the shadow moved by
 * (dx, dy), using only shadow pixels the viewer has. Returns its area.
 * A rectangle's bottom can only be on a row after which one of its columns
 * stops matching, so the histogram is evaluated only on such rows.
 */
static uint32_t
match_rect(struct copyrect_state *s, const struct fb_view *fb,
    const struct copyrect_rect *r, int dx, int dy, struct copyrect_rect *out)
{
	struct best b = { 0, 0, 0, 0, 0 };
	const uint32_t *cur, *sh;
	uint32_t *hts = s->heights;
	uint8_t *mask = s->mask;
	long lo, hi, sy, c, rx0 = r->x, rx1 = (long)r->x + r->w;
	uint32_t row, i, w = r->w;
	int ended;

	memset(hts, 0, (size_t)w * sizeof(*hts));
	for (row = r->y; row < (uint32_t)r->y + r->h; row++) {
		sy = (long)row - dy;
		lo = rx0;
		hi = rx1;
		if (sy < 0 || sy >= s->height)
			lo = hi = rx0;
		else {
			if (lo < (long)s->known0[sy] + dx)
				lo = (long)s->known0[sy] + dx;
			if (hi > (long)s->known1[sy] + dx)
				hi = (long)s->known1[sy] + dx;
		}
		if (hi < lo)
			hi = lo;
		cur = fb_row(fb, row);
		sh = lo < hi ? sh_row(s, (uint32_t)sy) : NULL;
		if (lo == rx0 && hi == rx1 && sh != NULL &&
		    memcmp(cur + rx0, sh + (rx0 - dx), (size_t)w * 4) == 0) {
			for (i = 0; i < w; i++)
				hts[i]++;
			continue;
		}
		memset(mask, 0, w);
		for (c = lo; c < hi; c++)
			mask[c - rx0] = cur[c] == sh[c - dx];
		ended = 0;
		for (i = 0; i < w; i++)
			ended |= hts[i] != 0 && mask[i] == 0;
		if (ended)
			histogram_best(s, w, r->x, row - 1, &b);
		for (i = 0; i < w; i++)
			hts[i] = mask[i] ? hts[i] + 1 : 0;
	}
	histogram_best(s, w, r->x, (uint32_t)r->y + r->h - 1, &b);
	out->x = (uint16_t)b.x;
	out->y = (uint16_t)b.y;
	out->w = (uint16_t)b.w;
	out->h = (uint16_t)b.h;
	return b.area;
}

/* ------------------------------------------------------------------ */
/* Candidate offsets from anchors                                      */

/*
 * Looks from (px, py) right and down for a run of CR_ANCHOR_LEN pixels that
 * starts with and holds enough colour changes; returns 1 and fills *a if found.
 */
static int
pick_anchor(const struct fb_view *fb, const struct copyrect_rect *r,
    uint32_t px, uint32_t py, struct anchor *a)
{
	const uint32_t *p;
	uint32_t x, y, xend, yend, i, edges;

	xend = (uint32_t)r->x + r->w - CR_ANCHOR_LEN;
	if (px + CR_ANCHOR_SCAN < xend)
		xend = px + CR_ANCHOR_SCAN;
	/* Text has blank rows between its lines: try a few rows down. */
	yend = (uint32_t)r->y + r->h - 1;
	if (py + CR_ANCHOR_ROWS - 1 < yend)
		yend = py + CR_ANCHOR_ROWS - 1;
	for (y = py; y <= yend; y++) {
		p = fb_row(fb, y);
		for (x = px; x <= xend; x++) {
			/* Starting on a change keeps the two-pixel prefilter sharp. */
			if (p[x] == p[x + 1])
				continue;
			edges = 0;
			for (i = 1; i < CR_ANCHOR_LEN; i++)
				edges += p[x + i] != p[x + i - 1];
			if (edges >= CR_MIN_EDGES) {
				a->x = x;
				a->y = y;
				/* One copy: the mapping may change while we look. */
				memcpy(a->key, p + x, sizeof(a->key));
				return 1;
			}
		}
	}
	return 0;
}

/* Counts one vote for (dx, dy); returns the candidate's votes. */
static unsigned
vote(struct cand *c, size_t *nc, int dx, int dy)
{
	size_t i;

	for (i = 0; i < *nc; i++)
		if (c[i].dx == dx && c[i].dy == dy)
			return ++c[i].votes;
	if (*nc == CR_MAX_CANDS)
		return 0;
	c[*nc].dx = dx;
	c[*nc].dy = dy;
	c[*nc].votes = 1;
	(*nc)++;
	return 1;
}

/* Returns 1 if the shadow holds anchor a at (sx, sy), known to the viewer. */
static int
holds(const struct copyrect_state *s, const struct anchor *a, uint32_t sx,
    uint32_t sy)
{
	return memcmp(sh_row(s, sy) + sx + 2, a->key + 2,
	    (CR_ANCHOR_LEN - 2) * 4) == 0 &&
	    known(s, sy, sx, sx + CR_ANCHOR_LEN);
}

/* Four pixels at a time (SSE2 / NEON width; GCC and clang vector types). */
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

/* Anchor pixels tested before the whole run, spread out: text is made of runs. */
static const uint8_t probe[CR_PROBES] = { 0, 1, 3, 7, 12, 18, 24, 31 };

/* Votes if the shadow holds anchor a at (x, sy); updates *top and *hits. */
static void
try_hit(const struct copyrect_state *s, const struct anchor *a, long x,
    long sy, struct cand *c, size_t *nc, unsigned *top, unsigned *hits)
{
	unsigned n;

	if (!holds(s, a, (uint32_t)x, (uint32_t)sy))
		return;
	n = vote(c, nc, (int)a->x - (int)x, (int)a->y - (int)sy);
	*top = n > *top ? n : *top;
	(*hits)++;
}

static int
any4(v4i m)
{
	uint64_t lo, hi;

	memcpy(&lo, &m, 8);
	memcpy(&hi, (const uint8_t *)&m + 8, 8);
	return (lo | hi) != 0;
}

/*
 * Votes for every offset at which the shadow holds anchor a: with window 0
 * in its own columns at any height within the rectangle's (scrolling), else
 * at other columns within CR_SEARCH pixels (moved windows). An anchor votes
 * at most CR_MAX_HITS times. Returns the highest vote count it produced.
 */
static unsigned
lookup(const struct copyrect_state *s, const struct copyrect_rect *r,
    const struct anchor *a, int window, struct cand *c, size_t *nc)
{
	v4u k[CR_PROBES], p;
	const uint32_t *row;
	long y0, y1, x0, x1, sy, sx, j;
	unsigned hits = 0, top = 0, i;
	v4i m;

	if (!window) {
		y0 = (long)a->y - r->h;
		y1 = (long)a->y + r->h;
	} else {
		y0 = (long)a->y - CR_SEARCH;
		y1 = (long)a->y + CR_SEARCH;
	}
	if (y0 < 0)
		y0 = 0;
	if (y1 > s->height - 1)
		y1 = s->height - 1;
	if (!window) {
		for (sy = y0; sy <= y1 && hits < CR_MAX_HITS; sy++) {
			row = sh_row(s, (uint32_t)sy) + a->x;
			for (i = 0; i < CR_PROBES; i++)
				if (row[probe[i]] != a->key[probe[i]])
					break;
			if (i == CR_PROBES)
				try_hit(s, a, a->x, sy, c, nc, &top, &hits);
		}
		return top;
	}
	for (i = 0; i < CR_PROBES; i++)
		k[i] = (v4u){ a->key[probe[i]], a->key[probe[i]],
		    a->key[probe[i]], a->key[probe[i]] };
	x0 = (long)a->x - CR_SEARCH;
	x1 = (long)a->x + CR_SEARCH;
	if (x0 < 0)
		x0 = 0;
	if (x1 > s->width - CR_ANCHOR_LEN)
		x1 = s->width - CR_ANCHOR_LEN;
	/* Loads reach pixel x1 + 31 + 3 <= width + 2: the shadow is padded. */
	for (sy = y0; sy <= y1 && hits < CR_MAX_HITS; sy++) {
		row = sh_row(s, (uint32_t)sy);
		for (sx = x0; sx <= x1 && hits < CR_MAX_HITS; sx += 4) {
			memcpy(&p, row + sx, sizeof(p));
			m = p == k[0];
			memcpy(&p, row + sx + 1, sizeof(p));
			m &= p == k[1];
			if (!any4(m))
				continue;
#define PROBE(i) do {							\
	memcpy(&p, row + sx + probe[i], sizeof(p));			\
	m &= p == k[i];							\
} while (0)
			PROBE(2);
			PROBE(3);
			PROBE(4);
			PROBE(5);
			PROBE(6);
			PROBE(7);
#undef PROBE
			if (!any4(m))
				continue;
			for (j = 0; j < 4 && sx + j <= x1; j++)
				if (m[j] != 0 && sx + j != (long)a->x)
					try_hit(s, a, sx + j, sy, c, nc, &top,
					    &hits);
		}
	}
	return top;
}

/* Verifies the best-voted offsets; returns 1 and *m for the largest good match. */
static int
verify(struct copyrect_state *s, const struct fb_view *fb,
    const struct copyrect_rect *r, struct cand *c, size_t nc, unsigned need,
    struct copyrect_move *m)
{
	struct copyrect_rect got;
	struct cand t;
	uint32_t area, best = 0;
	size_t i, j, tried;

	/* Most votes first (few entries: insertion sort). */
	for (i = 1; i < nc; i++) {
		t = c[i];
		for (j = i; j > 0 && c[j - 1].votes < t.votes; j--)
			c[j] = c[j - 1];
		c[j] = t;
	}
	for (i = 0, tried = 0; i < nc && tried < CR_TRY &&
	    c[i].votes >= need; i++, tried++) {
		area = match_rect(s, fb, r, c[i].dx, c[i].dy, &got);
		if (area < CR_MIN_COPY_AREA || got.w < CR_MIN_COPY_W ||
		    got.h < CR_MIN_COPY_H || area <= best)
			continue;
		best = area;
		m->dst = got;
		m->sx = (uint16_t)((int)got.x - c[i].dx);
		m->sy = (uint16_t)((int)got.y - c[i].dy);
		/* Most of the rectangle: no other offset can beat it. */
		if (area >= (uint32_t)r->w * r->h / 2)
			break;
	}
	return best > 0;
}

int
copyrect_find(struct copyrect_state *s, const struct fb_view *fb,
    const struct copyrect_rect *r, struct copyrect_move *m)
{
	struct anchor a[CR_MAX_ANCHORS];
	struct cand c[CR_MAX_CANDS];
	uint32_t gx, gy, px, py;
	size_t na = 0, nc, i;
	unsigned top, need;
	int window;

	if (!fb_ok(s, fb) || !rect_ok(s, r))
		return MOAT_ERR_INVALID;
	if (!same_fmt(s, fb) || r->w < CR_MIN_DIM || r->h < CR_MIN_DIM ||
	    (uint32_t)r->w * r->h < CR_MIN_AREA)
		return 0;
	for (gy = 0; gy < CR_GRID_Y && na < CR_MAX_ANCHORS; gy++) {
		py = r->y + (2 * gy + 1) * (uint32_t)r->h / (2 * CR_GRID_Y);
		for (gx = 0; gx < CR_GRID_X && na < CR_MAX_ANCHORS; gx++) {
			px = r->x + (2 * gx + 1) *
			    ((uint32_t)r->w - CR_ANCHOR_LEN) / (2 * CR_GRID_X);
			na += pick_anchor(fb, r, px, py, &a[na]);
		}
	}
	if (na == 0)
		return 0;
	need = na >= 6 ? 3 : na >= 3 ? 2 : 1;
	/* Scrolling first: cheap, and the common case; then moved windows. */
	for (window = 0; window <= 1; window++) {
		nc = 0;
		top = 0;
		for (i = 0; i < na && top < CR_VOTES_DONE; i++) {
			unsigned n = lookup(s, r, &a[i], window, c, &nc);

			top = n > top ? n : top;
		}
		if (top >= need && verify(s, fb, r, c, nc, need, m))
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Planning and writing an update                                      */

/* Drops top and bottom rows of *r the viewer already has; returns pixels dropped. */
static uint64_t
trim_unchanged(struct copyrect_state *s, const struct fb_view *fb,
    struct copyrect_rect *r)
{
	uint32_t a = r->x, b = (uint32_t)r->x + r->w;
	uint64_t dropped = 0;

	while (r->h > 0 && known(s, r->y, a, b) &&
	    memcmp(fb_row(fb, r->y) + a, sh_row(s, r->y) + a,
	    (size_t)r->w * 4) == 0) {
		r->y++;
		r->h--;
		dropped += r->w;
	}
	while (r->h > 0 && known(s, (uint32_t)r->y + r->h - 1, a, b) &&
	    memcmp(fb_row(fb, (uint32_t)r->y + r->h - 1) + a,
	    sh_row(s, (uint32_t)r->y + r->h - 1) + a, (size_t)r->w * 4) == 0) {
		r->h--;
		dropped += r->w;
	}
	return dropped;
}

static void
add_piece(struct copyrect_state *s, uint32_t x, uint32_t y, uint32_t w,
    uint32_t h)
{
	if (w == 0 || h == 0)
		return;
	s->pieces[s->npieces].x = (uint16_t)x;
	s->pieces[s->npieces].y = (uint16_t)y;
	s->pieces[s->npieces].w = (uint16_t)w;
	s->pieces[s->npieces].h = (uint16_t)h;
	s->npieces++;
	s->stats.encoded_pixels += (uint64_t)w * h;
}

/*
 * Searches one damaged rectangle for moves (applied later by order_moves())
 * while *budget (pixels) lasts; returns 0 or negative.
 */
static int
plan_rect(struct copyrect_state *s, const struct fb_view *fb,
    struct copyrect_rect r, uint64_t *budget)
{
	struct copyrect_rect work[CR_MAX_PIECES], it, d;
	struct copyrect_move m;
	size_t nwork = 0;
	int moves = 0, r_found;

	s->stats.unchanged_pixels += trim_unchanged(s, fb, &r);
	if (r.h == 0)
		return 0;
	s->stats.searched++;
	work[nwork++] = r;
	while (nwork > 0) {
		it = work[--nwork];
		r_found = 0;
		if (moves < CR_MAX_MOVES && s->nmoves < CR_MAX_UPDATE_MOVES &&
		    *budget >= (uint64_t)it.w * it.h) {
			*budget -= (uint64_t)it.w * it.h;
			if ((r_found = copyrect_find(s, fb, &it, &m)) < 0)
				return r_found;
		}
		if (r_found == 0) {
			add_piece(s, it.x, it.y, it.w, it.h);
			continue;
		}
		moves++;
		d = m.dst;
		if (m.sx == d.x && m.sy == d.y)
			s->stats.unchanged_pixels += (uint64_t)d.w * d.h;
		else
			s->moves[s->nmoves++] = m;
		/* What is left: full-width bands above and below, then the sides. */
		if (d.y > it.y)
			work[nwork++] = (struct copyrect_rect){ it.x, it.y,
			    it.w, (uint16_t)(d.y - it.y) };
		if (d.y + d.h < it.y + it.h)
			work[nwork++] = (struct copyrect_rect){ it.x,
			    (uint16_t)(d.y + d.h), it.w,
			    (uint16_t)(it.y + it.h - d.y - d.h) };
		if (d.x > it.x)
			work[nwork++] = (struct copyrect_rect){ it.x, d.y,
			    (uint16_t)(d.x - it.x), d.h };
		if (d.x + d.w < it.x + it.w)
			work[nwork++] = (struct copyrect_rect){
			    (uint16_t)(d.x + d.w), d.y,
			    (uint16_t)(it.x + it.w - d.x - d.w), d.h };
	}
	return 0;
}

static int
overlap(const struct copyrect_rect *a, uint32_t x, uint32_t y, uint32_t w,
    uint32_t h)
{
	return a->x < x + w && x < (uint32_t)a->x + a->w &&
	    a->y < y + h && y < (uint32_t)a->y + a->h;
}

/* Returns 1 if another move's destination holds move i's (of equal ones, the first wins). */
static int
covered(const struct copyrect_state *s, size_t i)
{
	const struct copyrect_rect *a = &s->moves[i].dst, *b;
	size_t j;

	for (j = 0; j < s->nmoves; j++) {
		b = &s->moves[j].dst;
		if (j == i || b->x > a->x || b->y > a->y ||
		    (uint32_t)b->x + b->w < (uint32_t)a->x + a->w ||
		    (uint32_t)b->y + b->h < (uint32_t)a->y + a->h)
			continue;
		if (j < i || b->x != a->x || b->y != a->y || b->w != a->w ||
		    b->h != a->h)
			return 1;
	}
	return 0;
}

/*
 * Puts the moves in an order the viewer can apply: a move that overwrites
 * another's source comes after it. Of a cycle, the smallest move is encoded
 * instead, as is a move whose source the shadow no longer vouches for.
 * Then applies them to the shadow.
 */
static void
order_moves(struct copyrect_state *s)
{
	uint16_t indeg[CR_MAX_UPDATE_MOVES];
	uint8_t drop[CR_MAX_UPDATE_MOVES];
	size_t n = s->nmoves, i, j, done = 0, kept = 0, pick;
	uint8_t *before = s->order;
	const struct copyrect_move *a, *b;
	struct copyrect_move *m;
	uint32_t area, least;

	/*
	 * Overlapping damage finds the same move twice, the second time
	 * inside the first: drop the smaller (the larger, or its pixels if it
	 * is dropped, covers it), or it would wait on the larger forever.
	 */
	for (i = 0; i < n; i++)
		drop[i] = (uint8_t)covered(s, i);
	for (i = 0, j = 0; i < n; i++)
		if (!drop[i])
			s->moves[j++] = s->moves[i];
	n = s->nmoves = j;
	/* before[i * n + j]: move i must be applied before move j. */
	memset(indeg, 0, sizeof(indeg));
	for (i = 0; i < n; i++) {
		a = &s->moves[i];
		for (j = 0; j < n; j++) {
			b = &s->moves[j];
			before[i * n + j] = i != j && overlap(&b->dst, a->sx,
			    a->sy, a->dst.w, a->dst.h);
			indeg[j] += before[i * n + j];
		}
	}
	memset(drop, 0, sizeof(drop));
	for (;;) {
		/* The first move nothing waits for keeps the search order. */
		for (i = 0; i < n; i++)
			if (indeg[i] == 0)
				break;
		if (i == n) {
			/* Stuck on a cycle: encode its smallest move instead. */
			pick = n;
			least = UINT32_MAX;
			for (j = 0; j < n; j++) {
				area = (uint32_t)s->moves[j].dst.w *
				    s->moves[j].dst.h;
				if (indeg[j] != UINT16_MAX && area < least) {
					least = area;
					pick = j;
				}
			}
			if (pick == n)
				break;		/* all placed */
			i = pick;
			drop[i] = 1;
		} else
			s->sorted[done++] = s->moves[i];
		indeg[i] = UINT16_MAX;		/* placed or dropped */
		/* Either way, its source need no longer be kept intact. */
		for (j = 0; j < n; j++)
			if (before[i * n + j] && indeg[j] != UINT16_MAX)
				indeg[j]--;
	}
	for (i = 0; i < n; i++) {
		if (drop[i]) {
			m = &s->moves[i];
			add_piece(s, m->dst.x, m->dst.y, m->dst.w, m->dst.h);
		}
	}
	for (i = 0; i < done; i++) {
		m = &s->sorted[i];
		if (copyrect_apply(s, m) != 0) {
			/* Its source is no longer one known span: send pixels. */
			add_piece(s, m->dst.x, m->dst.y, m->dst.w, m->dst.h);
			continue;
		}
		s->moves[kept++] = *m;
		s->stats.copies++;
		s->stats.copied_pixels += (uint64_t)m->dst.w * m->dst.h;
	}
	s->nmoves = kept;
}

int
copyrect_plan(struct copyrect_state *s, const struct fb_view *fb,
    const struct copyrect_rect *dirty, size_t n, int allow_copy)
{
	struct copyrect_rect *p;
	uint64_t budget;
	size_t i, want;
	int r;

	s->nmoves = s->npieces = 0;
	if (!fb_ok(s, fb))
		return MOAT_ERR_INVALID;
	fmt_sync(s, fb);
	/* A search costs a few passes over its rectangle: a few screens' worth. */
	budget = (uint64_t)CR_BUDGET_SCREENS * s->width * s->height;
	if (n > COPYRECT_MAX_DIRTY)
		return MOAT_ERR_TOO_LONG;
	for (i = 0; i < n; i++)
		if (!rect_ok(s, &dirty[i]))
			return MOAT_ERR_INVALID;
	if (s->moves == NULL &&
	    (s->moves = calloc(CR_MAX_UPDATE_MOVES, sizeof(*s->moves))) == NULL)
		return MOAT_ERR_NOMEM;
	want = n * CR_MAX_PIECES + CR_MAX_UPDATE_MOVES;
	if (s->cap_pieces < want) {
		if ((p = reallocarray(s->pieces, want, sizeof(*p))) == NULL)
			return MOAT_ERR_NOMEM;
		s->pieces = p;
		s->cap_pieces = want;
	}
	for (i = 0; i < n; i++) {
		if (dirty[i].w == 0 || dirty[i].h == 0)
			continue;
		if (!allow_copy) {
			add_piece(s, dirty[i].x, dirty[i].y, dirty[i].w,
			    dirty[i].h);
			continue;
		}
		if ((r = plan_rect(s, fb, dirty[i], &budget)) != 0) {
			s->nmoves = s->npieces = 0;
			return r;
		}
	}
	order_moves(s);
	return 0;
}

size_t
copyrect_count(const struct copyrect_state *s)
{
	return s->nmoves + s->npieces;
}

int
enc_copyrect(struct buf *out, const struct copyrect_move *m)
{
	uint8_t msg[RECT_HEADER_LEN + 4];
	struct buf b;

	buf_init_fixed(&b, msg, sizeof(msg));
	if (rfb_put_rect_header(&b, m->dst.x, m->dst.y, m->dst.w, m->dst.h,
	    RFB_ENC_COPYRECT) != 0 || buf_put_u16(&b, m->sx) != 0 ||
	    buf_put_u16(&b, m->sy) != 0)
		return MOAT_ERR_INVALID;	/* cannot happen: 16 bytes */
	return buf_put_bytes(out, msg, sizeof(msg));
}

int
copyrect_write(struct copyrect_state *s, struct buf *out,
    const struct fb_view *fb, const struct pixconv *pc, struct zrle_state *z,
    int encoding)
{
	const struct copyrect_rect *p;
	struct fb_view v;
	size_t i;
	int r;

	if ((r = copyrect_view(s, fb, &v)) != 0)
		goto fail;
	if (encoding != RFB_ENC_RAW && encoding != RFB_ENC_ZRLE) {
		r = MOAT_ERR_INVALID;
		goto fail;
	}
	for (i = 0; i < s->nmoves; i++)
		if ((r = enc_copyrect(out, &s->moves[i])) != 0)
			goto fail;
	for (i = 0; i < s->npieces; i++) {
		p = &s->pieces[i];
		if ((r = copyrect_snapshot(s, fb, p)) != 0)
			goto fail;
		if (encoding == RFB_ENC_ZRLE)
			r = enc_zrle(z, out, &v, pc, p->x, p->y, p->w, p->h);
		else
			r = enc_raw(out, &v, pc, p->x, p->y, p->w, p->h);
		if (r != 0)
			goto fail;
	}
	s->nmoves = s->npieces = 0;
	return 0;
 fail:
	copyrect_forget(s);
	return r;
}
