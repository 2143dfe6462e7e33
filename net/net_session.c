/*
 * net_session.c - moat-net's side of its channel to moat-session: maps the
 * framebuffer memfd read-only, collects damage, forwards input and
 * clipboard (keeping the desktop's text to answer an ExtendedClipboard
 * Request) and hands resize answers to net_resize.c. Runs in moat-net.
 * moat-session runs as the desktop user, so
 * its messages are checked for shape and bounds; it cannot grant itself
 * anything here, and moat-net's input is re-checked by moat-session.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_conn.h"
#include "net_resize.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"
#include "privsep/log.h"
#include "rfb_extclip.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define FB_MAX_DIM 16384

static int
on_framebuffer(struct net_conn *c, struct ipc_msg *m)
{
	struct ipc_cap_framebuffer f;	/* geometry and masks already valid */
	struct stat st;
	void *map;
	int seals, r, fd, changed = 0;

	if ((r = ipc_msg_get_cap_framebuffer(&m->payload, &f)) != 0)
		return r;
	if (m->fd == -1 || f.width > FB_MAX_DIM || f.height > FB_MAX_DIM)
		return MOAT_ERR_PROTOCOL;
	fd = m->fd;
	/* The writer must not be able to shrink the file under our mapping. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) !=
	    (F_SEAL_SHRINK | F_SEAL_GROW)) {
		error_f("framebuffer memfd is not sealed against resizing");
		return MOAT_ERR_PROTOCOL;
	}
	if (fstat(fd, &st) != 0 || st.st_size < 0 ||
	    (uint64_t)st.st_size < f.size)
		return MOAT_ERR_PROTOCOL;
	map = mmap(NULL, f.size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return MOAT_ERR_SYSTEM;
	if (c->fb_map != NULL) {
		munmap((void *)c->fb_map, c->fb_map_len);
		if (f.width != c->fb.width || f.height != c->fb.height)
			changed = c->fb_resized = 1;
	}
	c->fb_map = map;
	c->fb_map_len = f.size;
	c->fb.data = map;
	c->fb.stride = f.stride;
	c->fb.width = f.width;
	c->fb.height = f.height;
	c->fb.fmt.red_mask = f.red_mask;
	c->fb.fmt.green_mask = f.green_mask;
	c->fb.fmt.blue_mask = f.blue_mask;
	if (c->pf.bpp != 0 && pixconv_init(&c->conv, &c->fb.fmt, &c->pf) != 0)
		return MOAT_ERR_PROTOCOL;
	/* Forget stale damage; the first damage after this covers everything. */
	c->dirty_n = 0;
	c->fb_ready = 0;
	/* A SetDesktopSize's answer (ours or another viewer's) says why. */
	if (changed)
		net_resize_fb_changed(c);
	return 0;
}

/* Continuous updates cover their area only: adds the part of rc inside it. */
static void
add_in_cu_area(struct net_conn *c, const struct ipc_rect *rc)
{
	uint32_t x1, y1, x2, y2;

	x1 = rc->x > c->cu_x ? rc->x : c->cu_x;
	y1 = rc->y > c->cu_y ? rc->y : c->cu_y;
	x2 = (uint32_t)rc->x + rc->w;
	y2 = (uint32_t)rc->y + rc->h;
	if (x2 > (uint32_t)c->cu_x + c->cu_w)
		x2 = (uint32_t)c->cu_x + c->cu_w;
	if (y2 > (uint32_t)c->cu_y + c->cu_h)
		y2 = (uint32_t)c->cu_y + c->cu_h;
	if (x2 > x1 && y2 > y1)
		net_dirty_add(c, (uint16_t)x1, (uint16_t)y1,
		    (uint16_t)(x2 - x1), (uint16_t)(y2 - y1));
}

static int
on_damage(struct net_conn *c, struct ipc_msg *m)
{
	struct ipc_cap_damage d;
	const struct ipc_rect *rc;
	uint16_t i;
	int r;

	if (!c->sess_request_outstanding || c->fb_map == NULL)
		return MOAT_ERR_PROTOCOL;
	if ((r = ipc_msg_get_cap_damage(&m->payload, &d)) != 0)
		return r;
	for (i = 0; i < d.n; i++) {
		rc = &d.rects[i];
		if (c->cu_on && !c->update_requested)
			add_in_cu_area(c, rc);
		else
			net_dirty_add(c, rc->x, rc->y, rc->w, rc->h);
	}
	debug_f("damage: %u rectangles", d.n);
	c->sess_request_outstanding = 0;
	c->fb_ready = 1;
	return 0;
}

int
net_session_clip_send(struct net_conn *c, int requested)
{
	struct buf b;
	uint32_t f = c->extclip_flags;
	int r;

	if (c->clip_text == NULL || !(c->perms & IPC_PERM_CLIP_TO_CLIENT))
		return 0;
	/* UTF-8 may double Latin-1; with CRLF and the NUL, at most this. */
	buf_init(&b, 16 + compressBound(4 + 2 * (uLong)c->clip_len + 1));
	if (!c->want_extclip) {
		/* The legacy ServerCutText: Latin-1 as it is. */
		if ((r = buf_put_u8(&b, RFB_SERVER_CUT_TEXT)) == 0 &&
		    (r = buf_put_u8(&b, 0)) == 0 &&
		    (r = buf_put_u16(&b, 0)) == 0)
			r = buf_put_string(&b, c->clip_text, c->clip_len);
	} else if (requested || ((f & RFB_EXTCLIP_PROVIDE) &&
	    (f & RFB_EXTCLIP_TEXT) &&
	    2 * (uint64_t)c->clip_len + 1 <= c->extclip_text_max))
		r = rfb_extclip_put_provide(&b, c->clip_text, c->clip_len);
	else if (f & RFB_EXTCLIP_NOTIFY)
		/* Too large to push, or the viewer only takes notices: it asks. */
		r = rfb_extclip_put_flags(&b, RFB_EXTCLIP_NOTIFY |
		    RFB_EXTCLIP_TEXT);
	else {
		debug_f("the viewer takes neither the text nor a notice");
		r = 0;
	}
	if (r == 0 && buf_len(&b) > 0)
		r = net_io_write(&c->io, buf_ptr(&b), buf_len(&b));
	buf_free(&b);
	return r;
}

static int
on_clipboard(struct net_conn *c, struct ipc_msg *m)
{
	struct ipc_cap_clipboard cb;
	int r;

	if ((r = ipc_msg_get_cap_clipboard(&m->payload, &cb)) != 0)
		return r;
	/* Desktop text longer than MaxCutText is not sent to the viewer, but
	 * it is no fault of the viewer's: keep the connection. */
	if (cb.text.len > c->init.max_cut_text) {
		info_f("desktop clipboard text of %zu bytes exceeds MaxCutText "
		    "(%u); not sent", cb.text.len, c->init.max_cut_text);
		return 0;
	}
	if (!(c->perms & IPC_PERM_CLIP_TO_CLIENT))
		return 0;
	/* Kept (it may be a password: wiped when replaced) for a Request. */
	if (c->clip_text != NULL) {
		explicit_bzero(c->clip_text, c->clip_len);
		free(c->clip_text);
	}
	if ((c->clip_text = malloc(cb.text.len > 0 ? cb.text.len : 1)) == NULL) {
		c->clip_len = 0;
		return MOAT_ERR_NOMEM;
	}
	if (cb.text.len > 0)
		memcpy(c->clip_text, cb.text.p, cb.text.len);
	c->clip_len = cb.text.len;
	return net_session_clip_send(c, 0);
}

static int
on_cursor(struct net_conn *c, struct ipc_msg *m)
{
	static struct ipc_cap_cursor cur;	/* 64 KiB */
	int r;

	if ((r = ipc_msg_get_cap_cursor(&m->payload, &cur)) != 0)
		return r;
	memcpy(c->cursor_argb, cur.argb,
	    (size_t)cur.width * cur.height * sizeof(cur.argb[0]));
	c->cur_hotx = cur.hot_x;
	c->cur_hoty = cur.hot_y;
	c->cur_w = cur.width;
	c->cur_h = cur.height;
	c->cursor_pending = 1;
	return 0;
}

int
net_session_dispatch(struct net_conn *c)
{
	struct ipc_msg m;
	int r;

	if ((r = ipc_recv(c->sess_fd, &m, 1)) != 0)
		return r;
	if (m.fd != -1 && m.type != IPC_CAP_FRAMEBUFFER) {
		ipc_msg_clear(&m);
		return MOAT_ERR_FD;
	}
	switch (m.type) {
	case IPC_CAP_FRAMEBUFFER:
		r = on_framebuffer(c, &m);
		break;
	case IPC_CAP_DAMAGE:
		r = on_damage(c, &m);
		break;
	case IPC_CAP_CLIPBOARD:
		r = on_clipboard(c, &m);
		break;
	case IPC_CAP_CURSOR:
		r = on_cursor(c, &m);
		break;
	case IPC_CAP_RESIZE_RESULT:
		r = net_resize_result(c, &m);
		break;
	default:
		error_f("unexpected %s from moat-session", ipc_type_name(m.type));
		r = MOAT_ERR_PROTOCOL;
	}
	ipc_msg_clear(&m);
	return r;
}

int
net_session_request(struct net_conn *c)
{
	int r;

	if (!net_update_wanted(c) || c->sess_request_outstanding ||
	    c->fb_map == NULL)
		return 0;
	if ((r = ipc_msg_send_cap_update_request(c->sess_fd)) != 0)
		return r;
	c->sess_request_outstanding = 1;
	return 0;
}

/*
 * True if moat-net forwards input needing right perm: the grant has it
 * (moat-session checks it again); in test builds also when the self-test
 * hook says to forward regardless, as a compromised moat-net would.
 */
static int
forwards(const struct net_conn *c, uint32_t perm)
{
#ifdef MOAT_SELFTEST
	if (c->selftest_forward_all)
		return 1;
#endif
	return (c->perms & perm) != 0;
}

int
net_session_key(struct net_conn *c, uint8_t down, uint32_t keysym,
    uint32_t xtcode)
{
	/* moat-session ignores a keycode it has no entry for, 0xFFFF too. */
	struct ipc_cap_key k = { down ? 1 : 0, keysym,
	    xtcode > UINT16_MAX ? UINT16_MAX : (uint16_t)xtcode };

	if (!forwards(c, IPC_PERM_KEYBOARD))
		return 0;
	return ipc_msg_send_cap_key(c->sess_fd, &k, -1);
}

int
net_session_pointer(struct net_conn *c, uint8_t mask, uint16_t x, uint16_t y)
{
	struct ipc_cap_pointer p = { mask, x, y };

	if (!forwards(c, IPC_PERM_POINTER))
		return 0;
	return ipc_msg_send_cap_pointer(c->sess_fd, &p, -1);
}

int
net_session_clipboard(struct net_conn *c, const uint8_t *text, size_t len)
{
	struct ipc_cap_clipboard cb = { { text, len } };

	if (!forwards(c, IPC_PERM_CLIP_TO_SERVER))
		return 0;
	return ipc_msg_send_cap_clipboard(c->sess_fd, &cb, -1);
}
