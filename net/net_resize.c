/*
 * net_resize.c - SetDesktopSize in moat-net (see net_resize.h). Runs in
 * moat-net. The viewer's request was bounded and parsed by rfb_desktop.c;
 * here its layout is checked and, if the grant the monitor gave moat-net
 * has the resize right, it is forwarded to moat-session, which decides
 * again from its own copy of the grant (moat-net's check is an economy,
 * not the protection). moat-session's answers are checked for shape and
 * for answering a request that is outstanding.
 *
 * moat-net serves one viewer per process (moatd-inprocess: per monitor
 * process), so the little state of the exchange lives here rather than in
 * struct net_conn. The refusals moat-net answers itself are logged in full
 * once per connection, then at debug level: a viewer cannot fill the log.
 */
#include "enc_copyrect.h"
#include "net_conn.h"
#include "net_resize.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_resize.h"
#include "privsep/log.h"

static struct {
	int outstanding;	/* a request went to moat-session, no answer yet */
	uint8_t pending;	/* reason of a change whose framebuffer is awaited */
	int owed_change;	/* the owed rectangle announces a new size */
	int refusals;		/* requests refused here, logged in full once */
} rs;

/* A request moat-net refuses itself: info the first time, debug after. */
#define refused_f(...) \
	log_msg(rs.refusals++ == 0 ? LOG_LVL_INFO : LOG_LVL_DEBUG, __func__, \
	    __VA_ARGS__)

/*
 * True while the owed ExtendedDesktopSize rectangle is one of ours that
 * announces a new size. Ours have reason 1 or 2; net_update.c sets the
 * reason back to 0 once the rectangle is sent, and only reason 0 is set
 * elsewhere, so owed_change cannot outlive its rectangle.
 */
static int
owes_change(const struct net_conn *c)
{
	return c->send_ext_desktop_size && c->ext_ds_reason != 0 &&
	    rs.owed_change;
}

/*
 * The next update carries ExtendedDesktopSize (reason, status, current
 * size). One rectangle fits an update: an owed size change is never
 * replaced by an answer that changes nothing (a viewer would not resize
 * on it), which then goes unsent.
 */
static void
owe(struct net_conn *c, uint8_t reason, uint8_t status, int change)
{
	if (!change && owes_change(c)) {
		debug_f("resize answer (reason %u, status %u) dropped for an "
		    "owed size change", reason, status);
		return;
	}
	c->send_ext_desktop_size = 1;
	c->ext_ds_reason = reason;
	c->ext_ds_status = status;
	rs.owed_change = change;
}

/* The viewer's framebuffer starts over; what we know of it goes too. */
static void
forget_viewer_fb(struct net_conn *c)
{
	c->fb_resized = 0;
	copyrect_free(&c->cr);
	c->copyrect_off = 0;
}

/* As net_session.c's forwards(): test builds may forward regardless. */
static int
granted(const struct net_conn *c)
{
#ifdef MOAT_SELFTEST
	if (c->selftest_forward_all)
		return 1;
#endif
	return (c->perms & IPC_PERM_RESIZE) != 0;
}

int
net_resize_request(struct net_conn *c, const struct rfb_desktop_size *d)
{
	struct ipc_cap_resize rq;
	unsigned i;
	int r;

	if (!c->want_ext_desktop_size) {
		debug_f("SetDesktopSize from a viewer that did not list "
		    "ExtendedDesktopSize: ignored");
		return 0;
	}
	if (!granted(c)) {
		refused_f("viewer asked to resize the desktop from %ux%u to "
		    "%ux%u: prohibited (the grant has no r)", c->fb.width,
		    c->fb.height, d->w, d->h);
		owe(c, IPC_RESIZE_BY_THIS, IPC_RESIZE_PROHIBITED, 0);
		return 0;
	}
	if (rfb_desktop_layout_check(d) != 0) {
		refused_f("viewer asked to resize the desktop to %ux%u with %u "
		    "screens: invalid screen layout", d->w, d->h, d->n);
		owe(c, IPC_RESIZE_BY_THIS, IPC_RESIZE_INVALID, 0);
		return 0;
	}
	if (rs.outstanding) {
		refused_f("viewer asked to resize the desktop to %ux%u while "
		    "its last request is open: out of resources", d->w, d->h);
		owe(c, IPC_RESIZE_BY_THIS, IPC_RESIZE_NO_RESOURCES, 0);
		return 0;
	}
	rq.width = d->w;
	rq.height = d->h;
	rq.n = d->n;
	for (i = 0; i < d->n; i++)
		rq.screens[i] = (struct ipc_screen){ d->screens[i].id,
		    d->screens[i].x, d->screens[i].y, d->screens[i].w,
		    d->screens[i].h, d->screens[i].flags };
	if ((r = ipc_msg_send_cap_resize(c->sess_fd, &rq)) != 0) {
		error_fr(r, "forwarding a resize request");
		return r;
	}
	rs.outstanding = 1;
	info_f("viewer asks to resize the desktop from %ux%u to %ux%u",
	    c->fb.width, c->fb.height, d->w, d->h);
	return 0;
}

int
net_resize_result(struct net_conn *c, struct ipc_msg *m)
{
	struct ipc_cap_resize_result res;
	int r;

	if ((r = ipc_msg_get_cap_resize_result(&m->payload, &res)) != 0) {
		error_fr(r, "malformed resize result from moat-session");
		return MOAT_ERR_PROTOCOL;
	}
	if (res.reason == IPC_RESIZE_BY_THIS) {
		if (!rs.outstanding) {
			error_f("moat-session answered a resize nobody asked for");
			return MOAT_ERR_PROTOCOL;
		}
		rs.outstanding = 0;
		info_f("desktop resize to %ux%u: %s", res.width, res.height,
		    ipc_resize_status_name(res.status));
	} else
		debug_f("another viewer resized the desktop to %ux%u",
		    res.width, res.height);
	if (!c->want_ext_desktop_size)
		return 0;	/* it cannot read the answer; DesktopSize follows */
	if (res.status != IPC_RESIZE_OK) {
		owe(c, res.reason, res.status, 0);
		return 0;
	}
	if (res.width == c->fb.width && res.height == c->fb.height) {
		if (c->fb_resized) {
			/* The framebuffer came first: tell it with the reason. */
			forget_viewer_fb(c);
			owe(c, res.reason, IPC_RESIZE_OK, 1);
		} else if (res.reason == IPC_RESIZE_BY_THIS)
			owe(c, res.reason, IPC_RESIZE_OK, 0);
		return 0;
	}
	/* The new framebuffer follows; this viewer's own answer comes first. */
	if (rs.pending != IPC_RESIZE_BY_THIS)
		rs.pending = res.reason;
	return 0;
}

void
net_resize_fb_changed(struct net_conn *c)
{
	uint8_t reason = rs.pending;

	rs.pending = 0;
	if (reason == 0 || !c->want_ext_desktop_size)
		return;
	forget_viewer_fb(c);
	owe(c, reason, IPC_RESIZE_OK, 1);
}

void
net_resize_encodings_changed(struct net_conn *c)
{
	if (c->want_ext_desktop_size)
		return;
	rs.pending = 0;
	if (owes_change(c))
		c->fb_resized = 1;
	c->send_ext_desktop_size = 0;
	rs.owed_change = 0;
}
