/*
 * fuzz_rfb_desktop.c - libFuzzer target for the viewer's SetDesktopSize
 * (net/rfb_desktop.c) and its layout check. The input is what a viewer
 * sends, starting with the message: it is parsed whole, again with the
 * bytes arriving one at a time, and by rfb_read_client_msg(); all three
 * must agree on the result and on what they consume. An accepted message
 * must obey the bounds and re-encode to exactly the bytes consumed (its
 * padding aside), and the layout check must agree with an independent
 * statement of rfbproto's rule. abort() on any difference.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_desktop.h"
#include "net/rfb_reader.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
encode(const struct rfb_desktop_size *d, const uint8_t *orig, uint8_t *p)
{
	size_t n = 0;
	unsigned i;

#define PUT8(v)		(p[n++] = (uint8_t)(v))
#define PUT16(v)	(PUT8((v) >> 8), PUT8(v))
#define PUT32(v)	(PUT16((v) >> 16), PUT16(v))
	PUT8(RFB_SET_DESKTOP_SIZE);
	PUT8(orig[1]);
	PUT16(d->w);
	PUT16(d->h);
	PUT8(d->n);
	PUT8(orig[7]);
	for (i = 0; i < d->n; i++) {
		PUT32(d->screens[i].id);
		PUT16(d->screens[i].x);
		PUT16(d->screens[i].y);
		PUT16(d->screens[i].w);
		PUT16(d->screens[i].h);
		PUT32(d->screens[i].flags);
	}
	return n;
}

/* rfbproto's rule, stated again without sharing code with the parser. */
static int
layout_ok(const struct rfb_desktop_size *d)
{
	unsigned i, j;

	if (d->n == 0)
		return 0;
	for (i = 0; i < d->n; i++) {
		const struct rfb_screen *s = &d->screens[i];

		if (s->w == 0 || s->h == 0 || s->x >= d->w || s->y >= d->h ||
		    s->w > d->w - s->x || s->h > d->h - s->y)
			return 0;
		for (j = i + 1; j < d->n; j++)
			if (d->screens[j].id == s->id)
				return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rfb_reader_limits lim = { .max_cut_text = 1024 };
	uint8_t re[RFB_DESKTOP_SIZE_MAX_MSG];
	struct rfb_desktop_size whole, piece;
	struct rfb_client_msg m;
	struct buf b;
	size_t n, used, k;
	int r, r2, r3;

	if (size > 4 * RFB_DESKTOP_SIZE_MAX_MSG)
		size = 4 * RFB_DESKTOP_SIZE_MAX_MSG;
	buf_view(&b, data, size);
	r = rfb_read_set_desktop_size(&b, &whole);
	used = size - buf_len(&b);
	/* Byte at a time: AGAIN until the whole message is there. */
	r2 = MOAT_ERR_AGAIN;
	for (k = 0; k <= size && r2 == MOAT_ERR_AGAIN; k++) {
		buf_view(&b, data, k);
		r2 = rfb_read_set_desktop_size(&b, &piece);
		if (r2 == MOAT_ERR_AGAIN && buf_len(&b) != k)
			abort();
	}
	if (r2 != r)
		abort();
	buf_view(&b, data, size);
	r3 = rfb_read_client_msg(&b, &m, &lim);
	if (size > 0 && data[0] == RFB_SET_DESKTOP_SIZE && r3 != r)
		abort();
	if (r != 0) {
		if (used != 0 || (r != MOAT_ERR_AGAIN && r != MOAT_ERR_PROTOCOL &&
		    r != MOAT_ERR_TOO_LONG && r != MOAT_ERR_INVALID))
			abort();
		return 0;
	}
	if (size - buf_len(&b) != used || m.u.desktop_size.w != whole.w ||
	    m.u.desktop_size.h != whole.h ||
	    m.u.desktop_size.nscreens != whole.n)
		abort();
	if (piece.w != whole.w || piece.h != whole.h || piece.n != whole.n ||
	    memcmp(piece.screens, whole.screens,
	    whole.n * sizeof(whole.screens[0])) != 0)
		abort();
	if (whole.n > RFB_MAX_SCREENS || whole.w < 1 ||
	    whole.w > RFB_MAX_DESKTOP_DIM || whole.h < 1 ||
	    whole.h > RFB_MAX_DESKTOP_DIM)
		abort();
	n = encode(&whole, data, re);
	if (n != used || memcmp(re, data, n) != 0)
		abort();
	if ((rfb_desktop_layout_check(&whole) == 0) != layout_ok(&whole))
		abort();
	return 0;
}
