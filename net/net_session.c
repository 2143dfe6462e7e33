/*
 * net_session.c - moat-net's side of its channel to moat-session: maps the
 * framebuffer memfd read-only, collects damage, forwards input and
 * clipboard. Runs in moat-net. moat-session runs as the desktop user, so
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
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/log.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define FB_MAX_DIM 16384

static int
mask_ok(uint32_t m)
{
	uint32_t low;

	if (m == 0)
		return 0;
	low = m >> __builtin_ctz(m);
	return (low & (low + 1)) == 0;	/* contiguous */
}

static int
on_framebuffer(struct net_conn *c, struct ipc_msg *m)
{
	uint16_t w, h;
	uint32_t stride, size, rm, gm, bm;
	uint8_t bpp, depth;
	struct stat st;
	void *map;
	int seals, r, fd;

	if ((r = buf_get_u16(&m->payload, &w)) != 0 ||
	    (r = buf_get_u16(&m->payload, &h)) != 0 ||
	    (r = buf_get_u32(&m->payload, &stride)) != 0 ||
	    (r = buf_get_u32(&m->payload, &size)) != 0 ||
	    (r = buf_get_u8(&m->payload, &bpp)) != 0 ||
	    (r = buf_get_u8(&m->payload, &depth)) != 0 ||
	    (r = buf_get_u32(&m->payload, &rm)) != 0 ||
	    (r = buf_get_u32(&m->payload, &gm)) != 0 ||
	    (r = buf_get_u32(&m->payload, &bm)) != 0 ||
	    (r = buf_expect_end(&m->payload)) != 0)
		return r;
	if (m->fd == -1 || w == 0 || h == 0 || w > FB_MAX_DIM ||
	    h > FB_MAX_DIM || bpp != 32 || stride < (uint32_t)w * 4 ||
	    (uint64_t)stride * h > size || !mask_ok(rm) || !mask_ok(gm) ||
	    !mask_ok(bm) || (rm & gm) || (rm & bm) || (gm & bm))
		return MOAT_ERR_PROTOCOL;
	fd = m->fd;
	/* The writer must not be able to shrink the file under our mapping. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) !=
	    (F_SEAL_SHRINK | F_SEAL_GROW)) {
		error_f("framebuffer memfd is not sealed against resizing");
		return MOAT_ERR_PROTOCOL;
	}
	if (fstat(fd, &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size < size)
		return MOAT_ERR_PROTOCOL;
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return MOAT_ERR_SYSTEM;
	if (c->fb_map != NULL) {
		munmap((void *)c->fb_map, c->fb_map_len);
		if (w != c->fb.width || h != c->fb.height)
			c->fb_resized = 1;
	}
	c->fb_map = map;
	c->fb_map_len = size;
	c->fb.data = map;
	c->fb.stride = stride;
	c->fb.width = w;
	c->fb.height = h;
	c->fb.fmt.red_mask = rm;
	c->fb.fmt.green_mask = gm;
	c->fb.fmt.blue_mask = bm;
	if (c->pf.bpp != 0 && pixconv_init(&c->conv, &c->fb.fmt, &c->pf) != 0)
		return MOAT_ERR_PROTOCOL;
	/* Forget stale damage; the first damage after this covers everything. */
	c->dirty_n = 0;
	c->fb_ready = 0;
	return 0;
}

static int
on_damage(struct net_conn *c, struct ipc_msg *m)
{
	uint32_t gen;
	uint16_t n, i, x, y, w, h;
	int r;

	if (!c->sess_request_outstanding || c->fb_map == NULL)
		return MOAT_ERR_PROTOCOL;
	if ((r = buf_get_u32(&m->payload, &gen)) != 0 ||
	    (r = buf_get_u16(&m->payload, &n)) != 0)
		return r;
	if (n > IPC_MAX_DAMAGE_RECTS || buf_len(&m->payload) != (size_t)n * 8)
		return MOAT_ERR_PROTOCOL;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_u16(&m->payload, &x)) != 0 ||
		    (r = buf_get_u16(&m->payload, &y)) != 0 ||
		    (r = buf_get_u16(&m->payload, &w)) != 0 ||
		    (r = buf_get_u16(&m->payload, &h)) != 0)
			return r;
		net_dirty_add(c, x, y, w, h);
	}
	debug_f("damage: %u rectangles", n);
	c->sess_request_outstanding = 0;
	c->fb_ready = 1;
	return 0;
}

static int
on_clipboard(struct net_conn *c, struct ipc_msg *m)
{
	const uint8_t *text;
	size_t len;
	struct buf b;
	int r;

	if ((r = buf_get_string_direct(&m->payload, &text, &len,
	    c->init.max_cut_text)) != 0 || (r = buf_expect_end(&m->payload)) != 0)
		return r;
	if (!(c->perms & IPC_PERM_CLIP_TO_CLIENT))
		return 0;
	buf_init(&b, 8 + len);
	if ((r = buf_put_u8(&b, RFB_SERVER_CUT_TEXT)) == 0 &&
	    (r = buf_put_u8(&b, 0)) == 0 && (r = buf_put_u16(&b, 0)) == 0 &&
	    (r = buf_put_string(&b, text, len)) == 0)
		r = net_io_write(&c->io, buf_ptr(&b), buf_len(&b));
	buf_free(&b);
	return r;
}

static int
on_cursor(struct net_conn *c, struct ipc_msg *m)
{
	uint16_t hx, hy, w, h;
	uint32_t i, px;
	int r;

	if ((r = buf_get_u16(&m->payload, &hx)) != 0 ||
	    (r = buf_get_u16(&m->payload, &hy)) != 0 ||
	    (r = buf_get_u16(&m->payload, &w)) != 0 ||
	    (r = buf_get_u16(&m->payload, &h)) != 0)
		return r;
	if (w > IPC_MAX_CURSOR_DIM || h > IPC_MAX_CURSOR_DIM ||
	    buf_len(&m->payload) != (size_t)w * h * 4 ||
	    (w > 0 && hx >= w) || (h > 0 && hy >= h))
		return MOAT_ERR_PROTOCOL;
	for (i = 0; i < (uint32_t)w * h; i++) {
		if ((r = buf_get_u32(&m->payload, &px)) != 0)
			return r;
		c->cursor_argb[i] = px;
	}
	c->cur_hotx = hx;
	c->cur_hoty = hy;
	c->cur_w = w;
	c->cur_h = h;
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

	if (!c->update_requested || c->sess_request_outstanding ||
	    c->fb_map == NULL)
		return 0;
	if ((r = ipc_send_raw(c->sess_fd, IPC_CAP_UPDATE_REQUEST, NULL, 0, -1)) != 0)
		return r;
	c->sess_request_outstanding = 1;
	return 0;
}

int
net_session_key(struct net_conn *c, uint8_t down, uint32_t keysym)
{
	uint8_t p[5] = { down ? 1 : 0, (uint8_t)(keysym >> 24),
	    (uint8_t)(keysym >> 16), (uint8_t)(keysym >> 8), (uint8_t)keysym };

	if (!(c->perms & IPC_PERM_KEYBOARD))
		return 0;
	return ipc_send_raw(c->sess_fd, IPC_CAP_KEY, p, sizeof(p), -1);
}

int
net_session_pointer(struct net_conn *c, uint8_t mask, uint16_t x, uint16_t y)
{
	uint8_t p[5] = { mask, (uint8_t)(x >> 8), (uint8_t)x,
	    (uint8_t)(y >> 8), (uint8_t)y };

	if (!(c->perms & IPC_PERM_POINTER))
		return 0;
	return ipc_send_raw(c->sess_fd, IPC_CAP_POINTER, p, sizeof(p), -1);
}

int
net_session_clipboard(struct net_conn *c, const uint8_t *text, size_t len)
{
	struct buf b;
	int r;

	if (!(c->perms & IPC_PERM_CLIP_TO_SERVER))
		return 0;
	buf_init(&b, 4 + len);
	r = buf_put_string(&b, text, len);
	if (r == 0)
		r = ipc_send(c->sess_fd, IPC_CAP_CLIPBOARD, &b, -1);
	buf_free(&b);
	return r;
}
