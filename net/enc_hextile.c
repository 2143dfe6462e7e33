/*
 * enc_hextile.c - Hextile encoding (RFB encoding 5, RFC 6143 section
 * 7.7.4): 16x16 tiles, each sent as a background colour plus subrectangles
 * of the other colours (foreground-only when the tile has two colours) or
 * raw, whichever is smaller; backgrounds and foregrounds carry over
 * between tiles when they repeat. Runs in moat-net. Reads the shared
 * framebuffer only inside the rectangle enc_check_rect() accepted; trusts
 * the client pixel format only after rfb_pixfmt_check().
 */
#include <stdint.h>
#include <string.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "encoder.h"
#include "enc_tile.h"

#define TILE		16
#define TILE_PIXELS	(TILE * TILE)
#define TILE_MAX	(1 + TILE_PIXELS * 4)	/* a raw 32-bit tile: the largest */

#define HT_RAW		1
#define HT_BG		2
#define HT_FG		4
#define HT_ANY		8
#define HT_COLOURED	16
#define MAX_SUBRECTS	255

struct subrect {
	uint32_t colour;
	uint8_t x, y, w, h;
};

/* What the viewer keeps from the previous tile. */
struct carry {
	int bg_valid, fg_valid;
	uint32_t bg, fg;
};

static inline uint8_t *
put_pixel(uint8_t *p, uint32_t v, int bytes, int be)
{
	switch (bytes) {
	case 4:
		if (be) {
			p[0] = (uint8_t)(v >> 24);
			p[1] = (uint8_t)(v >> 16);
			p[2] = (uint8_t)(v >> 8);
			p[3] = (uint8_t)v;
		} else {
			p[0] = (uint8_t)v;
			p[1] = (uint8_t)(v >> 8);
			p[2] = (uint8_t)(v >> 16);
			p[3] = (uint8_t)(v >> 24);
		}
		return p + 4;
	case 2:
		p[0] = (uint8_t)(be ? v >> 8 : v);
		p[1] = (uint8_t)(be ? v : v >> 8);
		return p + 2;
	default:
		p[0] = (uint8_t)v;
		return p + 1;
	}
}

/*
 * Covers the tile's non-background pixels with single-colour rectangles,
 * each grown from its first uncovered pixel along the row or the column,
 * whichever gives the larger area. Returns the count, or -1 past
 * MAX_SUBRECTS.
 */
static int
find_subrects(const uint32_t *px, int tw, int th, uint32_t bg,
    struct subrect *sr)
{
	uint8_t covered[TILE_PIXELS];
	int n = 0, x, y, i, j, w1, h1, w2, h2, ok;
	uint32_t c;

	memset(covered, 0, sizeof(covered));
	for (y = 0; y < th; y++) {
		for (x = 0; x < tw; x++) {
			i = y * tw + x;
			if (covered[i] || px[i] == bg)
				continue;
			c = px[i];
			/* Row first: the run, then as many rows as repeat it. */
			for (w1 = 1; x + w1 < tw && px[i + w1] == c &&
			    !covered[i + w1]; w1++)
				;
			for (h1 = 1; y + h1 < th; h1++) {
				for (j = 0, ok = 1; j < w1 && ok; j++)
					ok = px[i + h1 * tw + j] == c &&
					    !covered[i + h1 * tw + j];
				if (!ok)
					break;
			}
			/* Column first. */
			for (h2 = 1; y + h2 < th && px[i + h2 * tw] == c &&
			    !covered[i + h2 * tw]; h2++)
				;
			for (w2 = 1; x + w2 < tw; w2++) {
				for (j = 0, ok = 1; j < h2 && ok; j++)
					ok = px[i + j * tw + w2] == c &&
					    !covered[i + j * tw + w2];
				if (!ok)
					break;
			}
			if (w2 * h2 > w1 * h1) {
				w1 = w2;
				h1 = h2;
			}
			if (n == MAX_SUBRECTS)
				return -1;
			sr[n].colour = c;
			sr[n].x = (uint8_t)x;
			sr[n].y = (uint8_t)y;
			sr[n].w = (uint8_t)w1;
			sr[n].h = (uint8_t)h1;
			n++;
			for (j = 0; j < h1; j++)
				memset(covered + i + j * tw, 1, (size_t)w1);
		}
	}
	return n;
}

/* Encodes one tile of client values at p (TILE_MAX bytes); returns its end. */
static uint8_t *
encode_tile(uint8_t *p, const uint32_t *px, int tw, int th, int bytes, int be,
    struct carry *cr, struct enc_palette *pal)
{
	uint16_t counts[ENC_PALETTE_MAX];
	struct subrect sr[MAX_SUBRECTS];
	int n = tw * th, i, k = 0, best, nsub, coloured;
	uint32_t last, bg, fg = 0;
	size_t size = 0;
	uint8_t *mask;

	enc_palette_reset(pal, ENC_PALETTE_MAX);
	memset(counts, 0, sizeof(counts));
	last = px[0] + 1;
	for (i = 0; i < n; i++) {
		if (px[i] != last) {
			last = px[i];
			k = enc_palette_add(pal, last);	/* n <= 256: never full */
		}
		counts[k]++;
	}
	for (best = 0, i = 1; i < pal->n; i++)
		if (counts[i] > counts[best])
			best = i;
	bg = pal->colour[best];

	mask = p++;
	*mask = 0;
	if (pal->n == 1) {
		if (!cr->bg_valid || cr->bg != bg) {
			*mask = HT_BG;
			p = put_pixel(p, bg, bytes, be);
		}
		cr->bg_valid = 1;
		cr->bg = bg;
		return p;
	}
	coloured = pal->n > 2;
	if (!coloured)
		fg = pal->colour[best == 0 ? 1 : 0];
	nsub = find_subrects(px, tw, th, bg, sr);
	if (nsub > 0) {
		size = 1 + 1 + (size_t)nsub * (coloured ? 2 + bytes : 2);
		if (!cr->bg_valid || cr->bg != bg)
			size += bytes;
		if (!coloured && (!cr->fg_valid || cr->fg != fg))
			size += bytes;
	}
	if (nsub <= 0 || size >= 1 + (size_t)n * bytes) {
		*mask = HT_RAW;
		for (i = 0; i < n; i++)
			p = put_pixel(p, px[i], bytes, be);
		cr->bg_valid = cr->fg_valid = 0;
		return p;
	}
	if (!cr->bg_valid || cr->bg != bg) {
		*mask |= HT_BG;
		p = put_pixel(p, bg, bytes, be);
	}
	if (!coloured && (!cr->fg_valid || cr->fg != fg)) {
		*mask |= HT_FG;
		p = put_pixel(p, fg, bytes, be);
	}
	*mask |= HT_ANY;
	if (coloured)
		*mask |= HT_COLOURED;
	*p++ = (uint8_t)nsub;
	for (i = 0; i < nsub; i++) {
		if (coloured)
			p = put_pixel(p, sr[i].colour, bytes, be);
		*p++ = (uint8_t)(sr[i].x << 4 | sr[i].y);
		*p++ = (uint8_t)((sr[i].w - 1) << 4 | (sr[i].h - 1));
	}
	cr->bg_valid = 1;
	cr->bg = bg;
	/* A coloured tile leaves the foreground undefined (rfbproto). */
	cr->fg_valid = !coloured;
	cr->fg = fg;
	return p;
}

int
enc_hextile(struct buf *out, const struct fb_view *fb, const struct pixconv *pc,
    uint16_t x, uint16_t y, uint16_t w, uint16_t h)
{
	uint32_t px[TILE_PIXELS];
	struct enc_palette pal;
	struct carry cr;
	const uint8_t *src;
	size_t start;
	uint8_t *t, *e;
	int r, tx, ty, tw, th, row;

	if ((r = enc_check_view(fb, pc, x, y, w, h)) != 0)
		return r;
	start = buf_len(out);
	if ((r = rfb_put_rect_header(out, x, y, w, h, RFB_ENC_HEXTILE)) != 0)
		return r;
	memset(&cr, 0, sizeof(cr));
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
			if ((r = buf_reserve(out, TILE_MAX, &t)) != 0) {
				out->len = out->off + start;
				return r;
			}
			e = encode_tile(t, px, tw, th, pc->bytes,
			    pc->dst.big_endian != 0, &cr, &pal);
			out->len -= TILE_MAX - (size_t)(e - t);
		}
	}
	return 0;
}
