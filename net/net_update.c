/*
 * net_update.c - builds FramebufferUpdate messages from the damaged
 * regions moat-session reported, in the viewer's pixel format and
 * preferred encoding (Raw, Hextile, Zlib, Tight, TRLE or ZRLE; see
 * docs/encodings.md). Runs in moat-net; reads pixels from the read-only
 * framebuffer mapping. When the viewer takes CopyRect, every pixel
 * rectangle goes through enc_copyrect.c, which keeps a shadow of what the
 * viewer has and sends shifted copies of it as CopyRect rectangles. With
 * LastRect the count is left open (0xFFFF); with continuous updates on,
 * each update is followed by a fence and the next waits for its answer.
 */
#include <stdlib.h>
#include <string.h>

#include "net_conn.h"
#include "privsep/errors.h"
#include "privsep/log.h"

void
net_dirty_add(struct net_conn *c, uint16_t x, uint16_t y, uint16_t w, uint16_t h)
{
	rfb_dirty_add(c->dirty, &c->dirty_n, IPC_MAX_DAMAGE_RECTS, c->fb.width,
	    c->fb.height, x, y, w, h);
}

static int
send_resize(struct net_conn *c)
{
	int r;

	buf_reset(&c->out);
	if ((r = buf_put_u8(&c->out, RFB_FB_UPDATE)) != 0 ||
	    (r = buf_put_u8(&c->out, 0)) != 0 ||
	    (r = buf_put_u16(&c->out, 1)) != 0)
		return r;
	if (c->want_ext_desktop_size)
		r = enc_ext_desktop_size(&c->out, 0, 0, c->fb.width, c->fb.height);
	else
		r = enc_desktop_size(&c->out, c->fb.width, c->fb.height);
	if (r != 0)
		return r;
	c->fb_resized = 0;
	c->send_ext_desktop_size = 0;
	/* The viewer's framebuffer starts over; so does what we know of it. */
	copyrect_free(&c->cr);
	c->copyrect_off = 0;
	c->update_requested = 0;
	return net_io_write(&c->io, buf_ptr(&c->out), buf_len(&c->out));
}

/* Returns 1 if this update goes through the CopyRect shadow, 0 if not. */
static int
copyrect_ready(struct net_conn *c)
{
	int r;

	if (!c->want_copyrect || c->copyrect_off) {
		if (c->cr.shadow != NULL)
			copyrect_free(&c->cr);
		return 0;
	}
	if (c->cr.shadow != NULL && c->cr.width == c->fb.width &&
	    c->cr.height == c->fb.height)
		return 1;
	if ((r = copyrect_init(&c->cr, c->fb.width, c->fb.height)) != 0) {
		info_f("CopyRect off for a %ux%u desktop: %s", c->fb.width,
		    c->fb.height, moat_strerror(r));
		c->copyrect_off = 1;
		return 0;
	}
	return 1;
}

/*
 * Appends rectangle (x, y, w, h) of fb in the viewer's chosen encoding and
 * adds the rectangles written to *n (Tight may split one into several).
 */
static int
put_rect(struct net_conn *c, const struct fb_view *fb, uint16_t x, uint16_t y,
    uint16_t w, uint16_t h, uint32_t *n)
{
	int r;

	switch (c->enc_preferred) {
	case RFB_ENC_TRLE:
		r = enc_trle(&c->out, fb, &c->conv, x, y, w, h);
		break;
	case RFB_ENC_ZLIB:
		if (!c->zlib.initialised && (r = zlib_enc_init(&c->zlib,
		    c->enc_opts.compress >= 0 ? c->enc_opts.compress : 6)) != 0)
			return r;
		r = enc_zlib(&c->zlib, &c->out, fb, &c->conv, x, y, w, h);
		break;
	case RFB_ENC_HEXTILE:
		r = enc_hextile(&c->out, fb, &c->conv, x, y, w, h);
		break;
	default:
		r = enc_raw(&c->out, fb, &c->conv, x, y, w, h);
		break;
	}
	if (r == 0)
		(*n)++;
	return r;
}

/*
 * Appends rectangles rects[0, nr) of fb in the viewer's chosen encoding;
 * adds the rectangles written to *n. Tight and ZRLE take them all at
 * once, to share the work between two cores.
 */
static int
put_rects(struct net_conn *c, const struct fb_view *fb,
    const struct rfb_rect16 *rects, size_t nr, uint32_t *n)
{
	size_t i;
	int r;

	if (c->enc_preferred == RFB_ENC_TIGHT)
		return enc_tight_rects(&c->tight, &c->enc_opts, &c->out, fb,
		    &c->conv, rects, nr, n);
	if (c->enc_preferred == RFB_ENC_ZRLE) {
		if ((r = enc_zrle_rects(&c->zrle, c->enc_opts.compress,
		    &c->out, fb, &c->conv, rects, nr)) == 0)
			*n += (uint32_t)nr;
		return r;
	}
	for (i = 0; i < nr; i++)
		if ((r = put_rect(c, fb, rects[i].x, rects[i].y, rects[i].w,
		    rects[i].h, n)) != 0)
			return r;
	return 0;
}

/*
 * Appends the planned CopyRects, then each remaining piece snapshotted into
 * the shadow and encoded from there in the viewer's encoding (what
 * copyrect_write() does for Raw and ZRLE, for every encoding); adds the
 * rectangles written to *n. After an error the shadow is forgotten.
 */
static int
put_copyrect_update(struct net_conn *c, uint32_t *n)
{
	struct copyrect_state *s = &c->cr;
	const struct copyrect_rect *p;
	struct rfb_rect16 *pieces = NULL;
	struct fb_view v;
	size_t i;
	int r;

	if ((r = copyrect_view(s, &c->fb, &v)) != 0)
		goto fail;
	for (i = 0; i < s->nmoves; i++) {
		if ((r = enc_copyrect(&c->out, &s->moves[i])) != 0)
			goto fail;
		(*n)++;
	}
	/* The pieces are disjoint: snapshot all, then encode all. */
	if ((pieces = calloc(s->npieces + 1, sizeof(*pieces))) == NULL) {
		r = MOAT_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < s->npieces; i++) {
		p = &s->pieces[i];
		if ((r = copyrect_snapshot(s, &c->fb, p)) != 0)
			goto fail;
		pieces[i] = (struct rfb_rect16){ p->x, p->y, p->w, p->h };
	}
	if ((r = put_rects(c, &v, pieces, s->npieces, n)) != 0)
		goto fail;
	free(pieces);
	s->nmoves = s->npieces = 0;
	return 0;
 fail:
	free(pieces);
	copyrect_forget(s);
	return r;
}

int
net_update_wanted(const struct net_conn *c)
{
	return c->update_requested || (c->cu_on && !c->fence_wait);
}

/* Appends the pseudo-rectangles owed before the pixels. */
static int
put_pseudo(struct net_conn *c)
{
	int r;

	if (c->send_ext_desktop_size) {
		if ((r = enc_ext_desktop_size(&c->out, c->ext_ds_reason,
		    c->ext_ds_status, c->fb.width, c->fb.height)) != 0)
			return r;
	}
	if (c->send_desktop_name && (r = enc_desktop_name(&c->out,
	    c->init.desktop_name)) != 0)
		return r;
	if (c->send_qemu_key && (r = enc_pseudo_empty(&c->out,
	    RFB_ENC_QEMU_EXT_KEY)) != 0)
		return r;
	if (c->cursor_pending && c->want_cursor) {
		if ((r = enc_cursor(&c->out, &c->conv, c->cur_hotx, c->cur_hoty,
		    c->cur_w, c->cur_h, c->cursor_argb)) != 0)
			return r;
	}
	return 0;
}

/* After a continuous update: a fence whose answer releases the next one. */
static int
flow_fence(struct net_conn *c)
{
	if (++c->fence_seq == 0)
		c->fence_seq = 1;	/* 0 is the first, ungated fence */
	c->fence_wait = 1;
	return net_send_fence_request(c, c->fence_seq);
}

int
net_update_flush(struct net_conn *c)
{
	struct copyrect_rect rects[IPC_MAX_DAMAGE_RECTS];
	uint16_t i;
	uint32_t n = 0, npseudo, nrects;
	uint8_t *hdr;
	size_t npix;
	int r, use_cr, continuous;

	if (!net_update_wanted(c) || c->fb_map == NULL)
		return 0;
	if (c->fb_resized) {
		if (!c->want_ext_desktop_size && !c->want_desktop_size) {
			info_f("viewer cannot follow a desktop resize");
			return MOAT_ERR_UNSUPPORTED;
		}
		return send_resize(c);
	}
	if (!c->fb_ready)
		return 0;
	continuous = c->cu_on && !c->update_requested;
	use_cr = copyrect_ready(c) && c->dirty_n > 0;
	npix = c->dirty_n;
	if (use_cr && c->pending_full) {
		/*
		 * An answer to a non-incremental request may not use CopyRect
		 * (rfbproto): it goes straight from the framebuffer, and the
		 * shadow forgets what it covers rather than copy it all. So a
		 * viewer's shadow holds (and its pages take memory for) only
		 * what incremental updates sent: what changes.
		 */
		for (i = 0; i < c->dirty_n; i++) {
			rects[i] = (struct copyrect_rect){ c->dirty[i].x,
			    c->dirty[i].y, c->dirty[i].w, c->dirty[i].h };
			if ((r = copyrect_unknown(&c->cr, &rects[i])) != 0)
				return r;
		}
		use_cr = 0;
	}
	if (use_cr) {
		for (i = 0; i < c->dirty_n; i++) {
			rects[i].x = c->dirty[i].x;
			rects[i].y = c->dirty[i].y;
			rects[i].w = c->dirty[i].w;
			rects[i].h = c->dirty[i].h;
		}
		/*
		 * No CopyRect in answer to a non-incremental request, nor in
		 * an update that carries a desktop size (rfbproto).
		 */
		if ((r = copyrect_plan(&c->cr, &c->fb, rects, c->dirty_n,
		    !c->pending_full && !c->send_ext_desktop_size)) != 0)
			return r;
		npix = copyrect_count(&c->cr);
		/* Everything damaged was what the viewer already has. */
		if (npix == 0)
			c->dirty_n = 0;
	}
	npseudo = (c->send_ext_desktop_size != 0) +
	    (c->send_desktop_name != 0) + (c->send_qemu_key != 0) +
	    (c->cursor_pending && c->want_cursor);
	n = npseudo + (uint32_t)npix;
	if (n == 0)
		return 0;
	buf_reset(&c->out);
	/* With LastRect the count is left open and the update ends with one. */
	if ((r = buf_put_u8(&c->out, RFB_FB_UPDATE)) != 0 ||
	    (r = buf_put_u8(&c->out, 0)) != 0 ||
	    (r = buf_put_u16(&c->out, c->want_last_rect ? 0xffff : 0)) != 0 ||
	    (r = put_pseudo(c)) != 0)
		goto fail;
	/* The pixel rectangles, counted as written (Tight splits some). */
	nrects = npseudo;
	if (use_cr) {
		debug_f("update: %zu CopyRect of %zu pixel rectangles",
		    c->cr.nmoves, npix);
		r = put_copyrect_update(c, &nrects);
	} else
		r = put_rects(c, &c->fb, c->dirty, c->dirty_n, &nrects);
	if (r != 0)
		return r;
	if (c->want_last_rect) {
		if ((r = enc_pseudo_empty(&c->out, RFB_ENC_LAST_RECT)) != 0)
			goto fail;
	} else if (nrects > UINT16_MAX - 1) {
		/* Never send a wrong count (0xFFFF would mean LastRect). */
		r = MOAT_ERR_TOO_LONG;
		goto fail;
	} else {
		hdr = c->out.data + c->out.off;
		hdr[2] = (uint8_t)(nrects >> 8);
		hdr[3] = (uint8_t)nrects;
	}
	debug_f("update: %u rectangles%s%s, %zu bytes", (unsigned)nrects,
	    c->want_last_rect ? " and LastRect" : "",
	    continuous ? " (continuous)" : "", buf_len(&c->out));
	/* Everything owed went into this update. */
	c->send_ext_desktop_size = 0;
	c->ext_ds_reason = c->ext_ds_status = 0;
	c->send_desktop_name = c->send_qemu_key = 0;
	if (c->want_cursor)
		c->cursor_pending = 0;
	if (npix > 0)
		c->pending_full = 0;
	c->dirty_n = 0;
	c->update_requested = 0;
	if ((r = net_io_write(&c->io, buf_ptr(&c->out), buf_len(&c->out))) != 0)
		return r;
	if (c->cu_on && c->fence_offered)
		return flow_fence(c);
	return 0;
 fail:
	/* The plan moved pixels in the shadow that the viewer will not get. */
	if (use_cr)
		copyrect_forget(&c->cr);
	return r;
}

int
net_send_server_init(struct net_conn *c)
{
	const char *name = c->init.desktop_name;
	struct buf b;
	int r;

	buf_init(&b, 64 + strlen(name));
	if ((r = buf_put_u16(&b, c->fb.width)) == 0 &&
	    (r = buf_put_u16(&b, c->fb.height)) == 0 &&
	    (r = buf_put_u8(&b, c->pf.bpp)) == 0 &&
	    (r = buf_put_u8(&b, c->pf.depth)) == 0 &&
	    (r = buf_put_u8(&b, c->pf.big_endian)) == 0 &&
	    (r = buf_put_u8(&b, c->pf.true_colour)) == 0 &&
	    (r = buf_put_u16(&b, c->pf.red_max)) == 0 &&
	    (r = buf_put_u16(&b, c->pf.green_max)) == 0 &&
	    (r = buf_put_u16(&b, c->pf.blue_max)) == 0 &&
	    (r = buf_put_u8(&b, c->pf.red_shift)) == 0 &&
	    (r = buf_put_u8(&b, c->pf.green_shift)) == 0 &&
	    (r = buf_put_u8(&b, c->pf.blue_shift)) == 0 &&
	    (r = buf_put_bytes(&b, "\0\0\0", 3)) == 0 &&
	    (r = buf_put_cstring(&b, name)) == 0)
		r = net_io_write(&c->io, buf_ptr(&b), buf_len(&b));
	buf_free(&b);
	return r;
}
