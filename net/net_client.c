/*
 * net_client.c - handles the viewer's messages in the normal phase: pixel
 * format, encodings (and the server messages newly listed pseudo-encodings
 * call for), update requests, fences, continuous updates, input, the
 * clipboard in both forms and SetDesktopSize (net_resize.c). Runs in
 * moat-net; every message comes from the network and was bounded by
 * rfb_read_client_msg() or, SetDesktopSize, rfb_read_set_desktop_size();
 * extended clipboard payloads are parsed (bounded inflate) by
 * rfb_extclip.c. Input and resize requests are forwarded to moat-session,
 * which enforces the permissions the monitor granted.
 */
#include <stdlib.h>
#include <string.h>

#include "net_conn.h"
#include "net_resize.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "privsep/clock.h"
#include "rfb_desktop.h"
#include "rfb_extclip.h"

#define FENCE_PAYLOAD_LEN	4	/* moat's fences carry a U32 sequence number */

int
net_send_fence(struct net_conn *c, uint32_t flags, const uint8_t *p,
    uint8_t len)
{
	uint8_t msg[9 + RFB_MAX_FENCE];
	struct buf b;

	if (len > RFB_MAX_FENCE)
		return MOAT_ERR_TOO_LONG;
	buf_init_fixed(&b, msg, sizeof(msg));
	if (buf_put_u8(&b, RFB_SERVER_FENCE) != 0 ||
	    buf_put_bytes(&b, "\0\0\0", 3) != 0 ||
	    buf_put_u32(&b, flags) != 0 || buf_put_u8(&b, len) != 0 ||
	    (len > 0 && buf_put_bytes(&b, p, len) != 0))
		return MOAT_ERR_INVALID;	/* cannot happen: sized above */
	return net_io_write(&c->io, buf_ptr(&b), buf_len(&b));
}

int
net_send_fence_request(struct net_conn *c, uint32_t seq)
{
	uint8_t p[FENCE_PAYLOAD_LEN] = { (uint8_t)(seq >> 24),
	    (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq };

	return net_send_fence(c, RFB_FENCE_REQUEST | RFB_FENCE_BLOCK_BEFORE, p,
	    sizeof(p));
}

static int
send_end_of_cu(struct net_conn *c)
{
	uint8_t msg = RFB_END_OF_CU;

	return net_io_write(&c->io, &msg, 1);
}

/* Sends the answer to a SyncNext fence whose next message was handled. */
static int
flush_sync_fence(struct net_conn *c)
{
	if (!c->sync_fence)
		return 0;
	c->sync_fence = 0;
	return net_send_fence(c, c->sync_flags, c->sync_payload, c->sync_len);
}

/* The server messages a newly listed pseudo-encoding calls for (rfbproto). */
static int
announce(struct net_conn *c, int want_cu, int had_extclip)
{
	struct buf b;
	int r;

	if (c->want_fence && !c->fence_offered) {
		/* Sequence 0: answered like any fence, gates nothing. */
		if ((r = net_send_fence_request(c, 0)) != 0)
			return r;
		c->fence_offered = 1;
	}
	/* Continuous updates only with fences, which moat's flow control needs. */
	if (want_cu && c->fence_offered && !c->cu_offered) {
		if ((r = send_end_of_cu(c)) != 0)
			return r;
		c->cu_offered = 1;
	}
	c->limits.ext_clipboard = c->want_extclip != 0;
	if (c->want_extclip) {
		if (!had_extclip) {
			/* Until its Caps say otherwise (rfbproto's defaults). */
			c->extclip_flags = RFB_EXTCLIP_DEFAULT_ACTIONS |
			    RFB_EXTCLIP_TEXT;
			c->extclip_text_max = RFB_EXTCLIP_DEFAULT_TEXT_MAX;
		}
		/* Caps on every SetEncodings that lists it. */
		buf_init(&b, 64);
		if ((r = rfb_extclip_put_caps(&b, c->init.max_cut_text)) == 0)
			r = net_io_write(&c->io, buf_ptr(&b), buf_len(&b));
		buf_free(&b);
		if (r != 0)
			return r;
	}
	return 0;
}

static int
on_set_encodings(struct net_conn *c, const struct rfb_client_msg *m)
{
	int had_ext = c->want_ext_desktop_size, chosen = 0;
	int had_name = c->want_desktop_name, had_qemu = c->want_qemu_key;
	int had_extclip = c->want_extclip, want_cu = 0;
	int32_t e;
	uint16_t i;

	c->want_cursor = c->want_desktop_size = c->want_ext_desktop_size = 0;
	c->want_copyrect = 0;
	c->want_last_rect = c->want_desktop_name = c->want_qemu_key = 0;
	c->want_fence = c->want_extclip = 0;
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
		case RFB_ENC_LAST_RECT:
			c->want_last_rect = 1;
			break;
		case RFB_ENC_DESKTOP_NAME:
			c->want_desktop_name = 1;
			break;
		case RFB_ENC_QEMU_EXT_KEY:
			c->want_qemu_key = 1;
			break;
		case RFB_ENC_FENCE:
			c->want_fence = 1;
			break;
		case RFB_ENC_CONTINUOUS_UPDATES:
			want_cu = 1;
			break;
		case RFB_ENC_EXT_CLIPBOARD:
			c->want_extclip = 1;
			break;
		}
	}
	/* Tell a viewer that just asked for ExtendedDesktopSize the layout. */
	if (c->want_ext_desktop_size && !had_ext) {
		c->send_ext_desktop_size = 1;
		c->ext_ds_reason = c->ext_ds_status = 0;
	}
	if (c->want_cursor)
		c->cursor_pending = c->cur_w > 0;
	/* The name and the QEMU confirmation go in the next update. */
	if (c->want_desktop_name && !had_name)
		c->send_desktop_name = 1;
	if (c->want_qemu_key && !had_qemu)
		c->send_qemu_key = 1;
	/* No ExtendedDesktopSize rectangle for a viewer that stopped listing it. */
	net_resize_encodings_changed(c);
	return announce(c, want_cu, had_extclip);
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
on_fence(struct net_conn *c, const struct rfb_client_msg *m)
{
	uint32_t flags = m->u.fence.flags;
	int r;

	if (!c->fence_offered)
		return 0;	/* never offered: a stray fence is harmless */
	if (!(flags & RFB_FENCE_REQUEST)) {
		/* The answer to one of ours; the latest one releases updates. */
		if (c->fence_wait && m->u.fence.len == FENCE_PAYLOAD_LEN &&
		    get_be32(m->u.fence.payload) == c->fence_seq)
			c->fence_wait = 0;
		return 0;
	}
	/* Answers go out in order: an earlier SyncNext one first. */
	if ((r = flush_sync_fence(c)) != 0)
		return r;
	/*
	 * Messages are handled one at a time and every update is written
	 * whole, so BlockBefore and BlockAfter hold by construction; SyncNext
	 * waits until the next message was handled.
	 */
	flags &= RFB_FENCE_SUPPORTED;
	if (flags & RFB_FENCE_SYNC_NEXT) {
		c->sync_fence = 1;
		c->sync_flags = flags;
		c->sync_len = m->u.fence.len;
		memcpy(c->sync_payload, m->u.fence.payload, m->u.fence.len);
		return 0;
	}
	return net_send_fence(c, flags, m->u.fence.payload, m->u.fence.len);
}

static int
on_enable_cu(struct net_conn *c, const struct rfb_client_msg *m)
{
	uint32_t x2, y2;

	if (!c->cu_offered) {
		info_f("viewer enabled continuous updates, which were not offered");
		return MOAT_ERR_PROTOCOL;
	}
	if (!m->u.cu.enable) {
		if (c->cu_on)
			debug_f("continuous updates off");
		c->cu_on = 0;
		/* Disabling is always confirmed (rfbproto). */
		return send_end_of_cu(c);
	}
	c->cu_x = m->u.cu.x < c->fb.width ? m->u.cu.x : c->fb.width;
	c->cu_y = m->u.cu.y < c->fb.height ? m->u.cu.y : c->fb.height;
	x2 = (uint32_t)m->u.cu.x + m->u.cu.w;
	y2 = (uint32_t)m->u.cu.y + m->u.cu.h;
	c->cu_w = (uint16_t)((x2 < c->fb.width ? x2 : c->fb.width) - c->cu_x);
	c->cu_h = (uint16_t)((y2 < c->fb.height ? y2 : c->fb.height) - c->cu_y);
	if (!c->cu_on)
		debug_f("continuous updates on for %ux%u at %u,%u", c->cu_w,
		    c->cu_h, c->cu_x, c->cu_y);
	c->cu_on = 1;
	return 0;
}

static int
send_extclip_flags(struct net_conn *c, uint32_t flags)
{
	struct buf b;
	int r;

	buf_init(&b, 16);
	if ((r = rfb_extclip_put_flags(&b, flags)) == 0)
		r = net_io_write(&c->io, buf_ptr(&b), buf_len(&b));
	buf_free(&b);
	return r;
}

/*
 * An extended ClientCutText. moat-session enforces the clipboard rights;
 * moat-net only avoids asking for, or offering, what the grant forbids.
 */
static int
on_extclip(struct net_conn *c, const struct rfb_client_msg *m)
{
	struct rfb_extclip x;
	uint32_t action;
	int r = 0;

	if ((r = rfb_extclip_parse(m->u.cut.text, m->u.cut.len,
	    c->init.max_cut_text, &x)) != 0) {
		info_f("extended clipboard message refused: %s",
		    moat_strerror(r));
		return r;
	}
	action = x.flags & RFB_EXTCLIP_ACTIONS;
	if (action & RFB_EXTCLIP_CAPS)
		action = RFB_EXTCLIP_CAPS;	/* the others are its capabilities */
	switch (action) {
	case RFB_EXTCLIP_CAPS:
		c->extclip_flags = x.flags;
		c->extclip_text_max = (x.flags & RFB_EXTCLIP_TEXT) ?
		    x.text_max : 0;
		debug_f("viewer clipboard caps 0x%08x, text up to %u bytes",
		    x.flags, c->extclip_text_max);
		break;
	case RFB_EXTCLIP_REQUEST:
		if ((x.flags & RFB_EXTCLIP_TEXT) && c->clip_text != NULL)
			r = net_session_clip_send(c, 1);
		break;
	case RFB_EXTCLIP_PEEK:
		r = send_extclip_flags(c, RFB_EXTCLIP_NOTIFY |
		    (c->clip_text != NULL ? RFB_EXTCLIP_TEXT : 0));
		break;
	case RFB_EXTCLIP_NOTIFY:
		c->last_input_ms = moat_monotonic_ms();
		if ((x.flags & RFB_EXTCLIP_TEXT) &&
		    (c->perms & IPC_PERM_CLIP_TO_SERVER))
			r = send_extclip_flags(c, RFB_EXTCLIP_REQUEST |
			    RFB_EXTCLIP_TEXT);
		break;
	case RFB_EXTCLIP_PROVIDE:
		c->last_input_ms = moat_monotonic_ms();
		if (x.has_text)
			r = net_session_clipboard(c, x.text, x.text_len);
		break;
	}
	rfb_extclip_clear(&x);
	return r;
}

/* ds: the whole SetDesktopSize when m is one, else NULL. */
static int
on_message(struct net_conn *c, const struct rfb_client_msg *m,
    const struct rfb_desktop_size *ds)
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
		return on_set_encodings(c, m);
	case RFB_FB_UPDATE_REQUEST:
		/* With continuous updates on, incremental requests are moot. */
		if (c->cu_on && m->u.update.incremental)
			return 0;
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
		return net_session_key(c, m->u.key.down, m->u.key.keysym, 0);
	case RFB_POINTER_EVENT:
		c->last_input_ms = moat_monotonic_ms();
		x = m->u.pointer.x < c->fb.width ? m->u.pointer.x : c->fb.width - 1;
		y = m->u.pointer.y < c->fb.height ? m->u.pointer.y : c->fb.height - 1;
		return net_session_pointer(c, m->u.pointer.mask, x, y);
	case RFB_CLIENT_CUT_TEXT:
		if (m->u.cut.extended)
			return on_extclip(c, m);
		c->last_input_ms = moat_monotonic_ms();
		return net_session_clipboard(c, m->u.cut.text, m->u.cut.len);
	case RFB_QEMU_CLIENT:
		/*
		 * The XT keycode names the physical key: moat-session types
		 * that key on the desktop's keymap when it knows it, else the
		 * keysym (capture/cap_input.c). With neither there is nothing
		 * to type.
		 */
		c->last_input_ms = moat_monotonic_ms();
		if (m->u.qemu.keysym == 0 && m->u.qemu.keycode == 0)
			return 0;
		return net_session_key(c, m->u.qemu.down != 0, m->u.qemu.keysym,
		    m->u.qemu.keycode);
	case RFB_SET_DESKTOP_SIZE:
		/* Parsed whole by net_client_process(); see there. */
		return net_resize_request(c, ds);
	case RFB_CLIENT_FENCE:
		return on_fence(c, m);
	case RFB_ENABLE_CONTINUOUS_UPDATES:
		return on_enable_cu(c, m);
	}
	return MOAT_ERR_PROTOCOL;
}

int
net_client_process(struct net_conn *c)
{
	struct rfb_desktop_size ds;
	struct rfb_client_msg m;
	int r, sync;

	for (;;) {
		/*
		 * SetDesktopSize is read by its own parser, which keeps the
		 * screens rfb_read_client_msg() does not; both are as strict.
		 */
		if (buf_len(&c->in) > 0 &&
		    buf_ptr(&c->in)[0] == RFB_SET_DESKTOP_SIZE) {
			memset(&m, 0, sizeof(m));
			m.type = RFB_SET_DESKTOP_SIZE;
			r = rfb_read_set_desktop_size(&c->in, &ds);
		} else
			r = rfb_read_client_msg(&c->in, &m, &c->limits);
		if (r == MOAT_ERR_AGAIN)
			break;
		if (r != 0) {
			info_f("closing: malformed message from viewer (%s)",
			    moat_strerror(r));
			return r;
		}
		sync = c->sync_fence && m.type != RFB_CLIENT_FENCE;
		if ((r = on_message(c, &m, m.type == RFB_SET_DESKTOP_SIZE ?
		    &ds : NULL)) != 0) {
			if (r == MOAT_ERR_INVALID || r == MOAT_ERR_PROTOCOL)
				info_f("closing: viewer message type %u refused",
				    m.type);
			return r;
		}
		/* The message after a SyncNext fence took effect: answer it. */
		if (sync && (r = flush_sync_fence(c)) != 0)
			return r;
	}
	buf_compact(&c->in);
	return 0;
}
