/*
 * ipc_resize.c - the codec of IPC_CAP_RESIZE and IPC_CAP_RESIZE_RESULT
 * (see ipc_resize.h). Runs in moat-net and moat-session and trusts none of
 * the bytes it decodes: the screen count is bounded before any screen is
 * read, and every value is checked once the payload parsed, so a
 * malformed payload gives the same error on both sides.
 */
#include <string.h>

#include "errors.h"
#include "ipc.h"
#include "ipc_resize.h"

#define SCREEN_LEN	16	/* u32 id, 4 x u16, u32 flags */

static int
dim_ok(uint32_t v)
{
	return v >= 1 && v <= IPC_MAX_DESKTOP_DIM;
}

int
ipc_resize_layout_check(const struct ipc_cap_resize *l)
{
	const struct ipc_screen *s;
	unsigned i, j;

	if (!dim_ok(l->width) || !dim_ok(l->height) || l->n < 1 ||
	    l->n > IPC_MAX_SCREENS)
		return MOAT_ERR_INVALID;
	for (i = 0; i < l->n; i++) {
		s = &l->screens[i];
		if (s->w == 0 || s->h == 0 ||
		    (uint32_t)s->x + s->w > l->width ||
		    (uint32_t)s->y + s->h > l->height)
			return MOAT_ERR_INVALID;
		for (j = 0; j < i; j++)
			if (l->screens[j].id == s->id)
				return MOAT_ERR_INVALID;
	}
	return 0;
}

const char *
ipc_resize_status_name(unsigned status)
{
	switch (status) {
	case IPC_RESIZE_OK: return "done";
	case IPC_RESIZE_PROHIBITED: return "prohibited";
	case IPC_RESIZE_NO_RESOURCES: return "out of resources";
	case IPC_RESIZE_INVALID: return "invalid screen layout";
	}
	return "?";
}

static int
result_check(const struct ipc_cap_resize_result *m)
{
	if (!dim_ok(m->width) || !dim_ok(m->height))
		return MOAT_ERR_INVALID;
	if (m->reason == IPC_RESIZE_BY_THIS)
		return m->status <= IPC_RESIZE_INVALID ? 0 : MOAT_ERR_INVALID;
	if (m->reason == IPC_RESIZE_BY_OTHER)
		return m->status == IPC_RESIZE_OK ? 0 : MOAT_ERR_INVALID;
	return MOAT_ERR_INVALID;
}

int
ipc_msg_put_cap_resize(struct buf *b, const struct ipc_cap_resize *m)
{
	uint8_t store[IPC_RESIZE_MAX_PAYLOAD];
	const struct ipc_screen *s;
	struct buf t;
	unsigned i;
	int r;

	if (m->n > IPC_MAX_SCREENS)
		return MOAT_ERR_TOO_LONG;
	if ((r = ipc_resize_layout_check(m)) != 0)
		return r;
	/* Built aside so b never holds half a message. */
	buf_init_fixed(&t, store, sizeof(store));
	if ((r = buf_put_u16(&t, m->width)) != 0 ||
	    (r = buf_put_u16(&t, m->height)) != 0 ||
	    (r = buf_put_u8(&t, m->n)) != 0)
		return r;
	for (i = 0; i < m->n; i++) {
		s = &m->screens[i];
		if ((r = buf_put_u32(&t, s->id)) != 0 ||
		    (r = buf_put_u16(&t, s->x)) != 0 ||
		    (r = buf_put_u16(&t, s->y)) != 0 ||
		    (r = buf_put_u16(&t, s->w)) != 0 ||
		    (r = buf_put_u16(&t, s->h)) != 0 ||
		    (r = buf_put_u32(&t, s->flags)) != 0)
			return r;
	}
	return buf_put_bytes(b, buf_ptr(&t), buf_len(&t));
}

int
ipc_msg_get_cap_resize(struct buf *b, struct ipc_cap_resize *m)
{
	struct ipc_screen *s;
	struct buf v;
	unsigned i;
	int r;

	memset(m, 0, sizeof(*m));
	/* Parse a view; b moves only once everything is valid. */
	buf_view(&v, buf_ptr(b), buf_len(b));
	if ((r = buf_get_u16(&v, &m->width)) != 0 ||
	    (r = buf_get_u16(&v, &m->height)) != 0 ||
	    (r = buf_get_u8(&v, &m->n)) != 0)
		goto fail;
	if (m->n > IPC_MAX_SCREENS) {
		r = MOAT_ERR_TOO_LONG;
		goto fail;
	}
	for (i = 0; i < m->n; i++) {
		s = &m->screens[i];
		if ((r = buf_get_u32(&v, &s->id)) != 0 ||
		    (r = buf_get_u16(&v, &s->x)) != 0 ||
		    (r = buf_get_u16(&v, &s->y)) != 0 ||
		    (r = buf_get_u16(&v, &s->w)) != 0 ||
		    (r = buf_get_u16(&v, &s->h)) != 0 ||
		    (r = buf_get_u32(&v, &s->flags)) != 0)
			goto fail;
	}
	if ((r = buf_expect_end(&v)) != 0 ||
	    (r = ipc_resize_layout_check(m)) != 0)
		goto fail;
	return buf_consume(b, buf_len(b));
 fail:
	memset(m, 0, sizeof(*m));
	return r;
}

int
ipc_msg_send_cap_resize(int sock, const struct ipc_cap_resize *m)
{
	uint8_t store[IPC_RESIZE_MAX_PAYLOAD];
	struct buf b;
	int r;

	buf_init_fixed(&b, store, sizeof(store));
	if ((r = ipc_msg_put_cap_resize(&b, m)) != 0)
		return r;
	return ipc_send(sock, IPC_CAP_RESIZE, &b, -1);
}

int
ipc_msg_put_cap_resize_result(struct buf *b,
    const struct ipc_cap_resize_result *m)
{
	uint8_t store[6];
	struct buf t;
	int r;

	if ((r = result_check(m)) != 0)
		return r;
	buf_init_fixed(&t, store, sizeof(store));
	if ((r = buf_put_u8(&t, m->reason)) != 0 ||
	    (r = buf_put_u8(&t, m->status)) != 0 ||
	    (r = buf_put_u16(&t, m->width)) != 0 ||
	    (r = buf_put_u16(&t, m->height)) != 0)
		return r;
	return buf_put_bytes(b, buf_ptr(&t), buf_len(&t));
}

int
ipc_msg_get_cap_resize_result(struct buf *b, struct ipc_cap_resize_result *m)
{
	struct buf v;
	int r;

	memset(m, 0, sizeof(*m));
	buf_view(&v, buf_ptr(b), buf_len(b));
	if ((r = buf_get_u8(&v, &m->reason)) != 0 ||
	    (r = buf_get_u8(&v, &m->status)) != 0 ||
	    (r = buf_get_u16(&v, &m->width)) != 0 ||
	    (r = buf_get_u16(&v, &m->height)) != 0 ||
	    (r = buf_expect_end(&v)) != 0 ||
	    (r = result_check(m)) != 0) {
		memset(m, 0, sizeof(*m));
		return r;
	}
	return buf_consume(b, buf_len(b));
}

int
ipc_msg_send_cap_resize_result(int sock, const struct ipc_cap_resize_result *m)
{
	uint8_t store[6];
	struct buf b;
	int r;

	buf_init_fixed(&b, store, sizeof(store));
	if ((r = ipc_msg_put_cap_resize_result(&b, m)) != 0)
		return r;
	return ipc_send(sock, IPC_CAP_RESIZE_RESULT, &b, -1);
}
