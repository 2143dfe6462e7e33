/*
 * cap_cursor.c - moat-session's cursor shape: XFixes tells us when the
 * displayed cursor changes, we read its image (premultiplied ARGB), convert
 * it to the non-premultiplied big-endian ARGB of IPC_CAP_CURSOR and queue it
 * for every viewing channel.
 *
 * Runs in moat-session. Trusts the X server for the image but bounds its
 * size (IPC_MAX_CURSOR_DIM) before encoding; nothing from moat-net is read.
 */
#include <stdlib.h>
#include <string.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "cap.h"

int
cap_cursor_init(struct cap *c)
{
	XFixesSelectCursorInput(c->dpy, c->root, XFixesDisplayCursorNotifyMask);
	cap_cursor_update(c);
	return 0;
}

void
cap_cursor_update(struct cap *c)
{
	static struct ipc_cap_cursor cur;	/* 64 KiB */
	XFixesCursorImage *ci;
	struct buf b;
	size_t i, npix, len;
	uint8_t *msg;

	if ((ci = XFixesGetCursorImage(c->dpy)) == NULL) {
		debug_f("XFixesGetCursorImage failed");
		return;
	}
	if (ci->width == 0 || ci->height == 0 ||
	    ci->width > IPC_MAX_CURSOR_DIM || ci->height > IPC_MAX_CURSOR_DIM) {
		debug_f("cursor %ux%u not forwarded (limit %u)", ci->width,
		    ci->height, IPC_MAX_CURSOR_DIM);
		XFree(ci);
		return;
	}
	npix = (size_t)ci->width * ci->height;
	len = 8 + npix * 4;
	if ((msg = malloc(len)) == NULL) {
		XFree(ci);
		return;
	}
	cur.hot_x = ci->xhot < ci->width ? ci->xhot : ci->width - 1u;
	cur.hot_y = ci->yhot < ci->height ? ci->yhot : ci->height - 1u;
	cur.width = ci->width;
	cur.height = ci->height;
	/* Xlib hands out 32-bit ARGB in an unsigned long. */
	for (i = 0; i < npix; i++)
		cur.argb[i] = cap_unpremultiply(
		    (uint32_t)(ci->pixels[i] & 0xffffffffUL));
	XFree(ci);
	buf_init_fixed(&b, msg, len);
	if (ipc_msg_put_cap_cursor(&b, &cur) != 0)
		fatal_f("cursor encoding");
	if (c->cursor_msg != NULL && c->cursor_len == len &&
	    memcmp(c->cursor_msg, msg, len) == 0) {
		free(msg);
		return;
	}
	free(c->cursor_msg);
	c->cursor_msg = msg;
	c->cursor_len = len;
	cap_channels_want_cursor(c);
}
