/*
 * rfb_desktop.c - the strict parser of the viewer's SetDesktopSize and
 * its layout check (see rfb_desktop.h). Runs in moat-net, inside the
 * sandbox; trusts none of its input. The screen count is bounded as soon
 * as its byte is buffered, so a viewer can never make moat-net buffer more
 * than RFB_DESKTOP_SIZE_MAX_MSG bytes for it; nothing is consumed unless
 * the whole message parsed.
 */
#include <string.h>

#include "privsep/errors.h"
#include "rfb_desktop.h"

#define LEN_SCREEN	16

static int
dim_ok(uint16_t v)
{
	return v >= 1 && v <= RFB_MAX_DESKTOP_DIM;
}

int
rfb_desktop_size_read(struct buf *v, struct rfb_desktop_size *d)
{
	struct rfb_screen *s;
	struct buf t;
	uint8_t pad;
	unsigned i;
	int r;

	/* A view of v: v moves only when the whole message is there. */
	buf_view(&t, buf_ptr(v), buf_len(v));
	if ((r = buf_get_u8(&t, &pad)) != 0 ||
	    (r = buf_get_u16(&t, &d->w)) != 0 ||
	    (r = buf_get_u16(&t, &d->h)) != 0)
		return r;
	if (!dim_ok(d->w) || !dim_ok(d->h))
		return MOAT_ERR_INVALID;
	if ((r = buf_get_u8(&t, &d->n)) != 0)
		return r;
	if (d->n > RFB_MAX_SCREENS)
		return MOAT_ERR_TOO_LONG;
	if (buf_len(&t) < 1 + LEN_SCREEN * (size_t)d->n)
		return MOAT_ERR_SHORT;
	if ((r = buf_get_u8(&t, &pad)) != 0)
		return r;
	for (i = 0; i < d->n; i++) {
		s = &d->screens[i];
		if ((r = buf_get_u32(&t, &s->id)) != 0 ||
		    (r = buf_get_u16(&t, &s->x)) != 0 ||
		    (r = buf_get_u16(&t, &s->y)) != 0 ||
		    (r = buf_get_u16(&t, &s->w)) != 0 ||
		    (r = buf_get_u16(&t, &s->h)) != 0 ||
		    (r = buf_get_u32(&t, &s->flags)) != 0)
			return r;
	}
	return buf_consume(v, t.off);
}

int
rfb_read_set_desktop_size(struct buf *in, struct rfb_desktop_size *d)
{
	struct rfb_desktop_size tmp;
	struct buf v;
	uint8_t type;
	int r;

	if (buf_len(in) == 0)
		return MOAT_ERR_AGAIN;
	buf_view(&v, buf_ptr(in), buf_len(in));
	if ((r = buf_get_u8(&v, &type)) != 0)
		return r;
	if (type != RFB_SET_DESKTOP_SIZE)
		return MOAT_ERR_PROTOCOL;
	memset(&tmp, 0, sizeof(tmp));
	if ((r = rfb_desktop_size_read(&v, &tmp)) != 0)
		return r == MOAT_ERR_SHORT ? MOAT_ERR_AGAIN : r;
	if ((r = buf_consume(in, v.off)) != 0)
		return r;
	*d = tmp;
	return 0;
}

int
rfb_desktop_layout_check(const struct rfb_desktop_size *d)
{
	const struct rfb_screen *s;
	unsigned i, j;

	if (d->n < 1 || d->n > RFB_MAX_SCREENS || !dim_ok(d->w) ||
	    !dim_ok(d->h))
		return MOAT_ERR_INVALID;
	for (i = 0; i < d->n; i++) {
		s = &d->screens[i];
		if (s->w == 0 || s->h == 0 ||
		    (uint32_t)s->x + s->w > d->w ||
		    (uint32_t)s->y + s->h > d->h)
			return MOAT_ERR_INVALID;
		for (j = 0; j < i; j++)
			if (d->screens[j].id == s->id)
				return MOAT_ERR_INVALID;
	}
	return 0;
}
