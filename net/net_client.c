/*
 * net_client.c - handles the viewer's messages in the normal phase: pixel
 * format, encodings, update requests, input and clipboard. Runs in
 * moat-net; every message comes from the network and was bounded by
 * rfb_read_client_msg(). Input is forwarded to moat-session, which
 * enforces the permissions the monitor granted.
 */
#include "net_conn.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "privsep/clock.h"

static void
on_set_encodings(struct net_conn *c, const struct rfb_client_msg *m)
{
	int had_ext = c->want_ext_desktop_size, chosen = 0;
	int32_t e;
	uint16_t i;

	c->want_cursor = c->want_desktop_size = c->want_ext_desktop_size = 0;
	c->want_copyrect = 0;
	c->enc_preferred = RFB_ENC_RAW;
	enc_opts_clear(&c->enc_opts);
	for (i = 0; i < m->u.encodings.kept; i++) {
		e = m->u.encodings.enc[i];
		/* Pseudo-encodings: the first of each kind counts (as TigerVNC). */
		if (e >= RFB_ENC_QUALITY_0 && e <= RFB_ENC_QUALITY_9) {
			if (c->enc_opts.quality < 0)
				c->enc_opts.quality = e - RFB_ENC_QUALITY_0;
			continue;
		}
		if (e >= RFB_ENC_COMPRESS_0 && e <= RFB_ENC_COMPRESS_9) {
			if (c->enc_opts.compress < 0)
				c->enc_opts.compress = e - RFB_ENC_COMPRESS_0;
			continue;
		}
		if (e >= RFB_ENC_FINE_QUALITY_0 && e <= RFB_ENC_FINE_QUALITY_100) {
			if (c->enc_opts.fine_quality < 0)
				c->enc_opts.fine_quality = e - RFB_ENC_FINE_QUALITY_0;
			continue;
		}
		if (e >= RFB_ENC_SUBSAMP_1X && e <= RFB_ENC_SUBSAMP_16X) {
			if (c->enc_opts.subsampling < 0)
				c->enc_opts.subsampling = e - RFB_ENC_SUBSAMP_1X;
			continue;
		}
		switch (e) {
		case RFB_ENC_TIGHT:
		case RFB_ENC_ZRLE:
		case RFB_ENC_TRLE:
		case RFB_ENC_ZLIB:
		case RFB_ENC_HEXTILE:
		case RFB_ENC_RAW:
			/* The first pixel encoding moat has wins (as TigerVNC). */
			if (!chosen) {
				c->enc_preferred = e;
				chosen = 1;
			}
			break;
		case RFB_ENC_COPYRECT:
			c->want_copyrect = 1;
			break;
		case RFB_ENC_CURSOR:
			c->want_cursor = 1;
			break;
		case RFB_ENC_DESKTOP_SIZE:
			c->want_desktop_size = 1;
			break;
		case RFB_ENC_EXT_DESKTOP_SIZE:
			c->want_ext_desktop_size = 1;
			break;
		}
	}
	/* Tell a viewer that just asked for ExtendedDesktopSize the layout. */
	if (c->want_ext_desktop_size && !had_ext)
		c->send_ext_desktop_size = 1;
	if (c->want_cursor)
		c->cursor_pending = c->cur_w > 0;
}

static int
on_message(struct net_conn *c, const struct rfb_client_msg *m)
{
	uint16_t x, y;

	debug_f("viewer message type %u", m->type);
	switch (m->type) {
	case RFB_SET_PIXEL_FORMAT:
		if (pixconv_init(&c->conv, &c->fb.fmt, &m->u.pixfmt) != 0)
			return MOAT_ERR_INVALID;
		c->pf = m->u.pixfmt;
		/* Pixels sent before were in another format: copy none of them. */
		copyrect_forget(&c->cr);
		return 0;
	case RFB_SET_ENCODINGS:
		on_set_encodings(c, m);
		return 0;
	case RFB_FB_UPDATE_REQUEST:
		c->update_requested = 1;
		if (!m->u.update.incremental) {
			/* The answer may not use CopyRect (rfbproto). */
			c->pending_full = 1;
			net_dirty_add(c, m->u.update.x, m->u.update.y,
			    m->u.update.w, m->u.update.h);
		}
		return 0;
	case RFB_KEY_EVENT:
		c->last_input_ms = moat_monotonic_ms();
		return net_session_key(c, m->u.key.down, m->u.key.keysym);
	case RFB_POINTER_EVENT:
		c->last_input_ms = moat_monotonic_ms();
		x = m->u.pointer.x < c->fb.width ? m->u.pointer.x : c->fb.width - 1;
		y = m->u.pointer.y < c->fb.height ? m->u.pointer.y : c->fb.height - 1;
		return net_session_pointer(c, m->u.pointer.mask, x, y);
	case RFB_CLIENT_CUT_TEXT:
		c->last_input_ms = moat_monotonic_ms();
		return net_session_clipboard(c, m->u.cut.text, m->u.cut.len);
	case RFB_QEMU_CLIENT:
		c->last_input_ms = moat_monotonic_ms();
		return net_session_key(c, m->u.qemu.down != 0, m->u.qemu.keysym);
	case RFB_SET_DESKTOP_SIZE:
		/* Resizing the served desktop is not permitted; say so. */
		if (c->want_ext_desktop_size) {
			c->send_ext_desktop_size = 1;
			c->ext_ds_reason = 1;	/* this client's request */
			c->ext_ds_status = 1;	/* prohibited */
		}
		return 0;
	case RFB_CLIENT_FENCE:
		/* moat never offers fences; a stray one is harmless. */
		return 0;
	case RFB_ENABLE_CONTINUOUS_UPDATES:
		info_f("viewer enabled continuous updates, which were not offered");
		return MOAT_ERR_PROTOCOL;
	}
	return MOAT_ERR_PROTOCOL;
}

int
net_client_process(struct net_conn *c)
{
	struct rfb_client_msg m;
	int r;

	for (;;) {
		r = rfb_read_client_msg(&c->in, &m, &c->limits);
		if (r == MOAT_ERR_AGAIN)
			break;
		if (r != 0) {
			info_f("closing: malformed message from viewer (%s)",
			    moat_strerror(r));
			return r;
		}
		if ((r = on_message(c, &m)) != 0) {
			if (r == MOAT_ERR_INVALID || r == MOAT_ERR_PROTOCOL)
				info_f("closing: viewer message type %u refused",
				    m.type);
			return r;
		}
	}
	buf_compact(&c->in);
	return 0;
}
