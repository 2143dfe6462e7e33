/*
 * cap_clipboard.c - moat-session's clipboard bridge between viewers and
 * the X selections.
 *
 * Viewer to desktop: Latin-1 text (RFB) becomes the content of CLIPBOARD
 * and PRIMARY, owned by a private window and served as UTF8_STRING, STRING,
 * TEXT, TARGETS and TIMESTAMP. The text is at most IPC_MAX_CUT_TEXT bytes
 * (2x that in UTF-8), which fits one property change whenever the server
 * has BIG-REQUESTS; we do not send INCR and refuse a target that would not
 * fit a request.
 *
 * Desktop to viewers: XFixes reports every new owner of CLIPBOARD and
 * PRIMARY; we convert to UTF8_STRING (STRING if refused), accept INCR
 * transfers, keep at most CAP_CLIP_READ_MAX bytes (the rest is read and
 * discarded up to CAP_CLIP_DRAIN_MAX, then abandoned), convert to Latin-1
 * (unrepresentable characters become '?'), cap at IPC_MAX_CUT_TEXT and queue
 * it for every channel allowed IPC_PERM_CLIP_TO_CLIENT. Changes we made
 * ourselves are not echoed back.
 *
 * Runs in moat-session. Trusts neither the viewer's text (already bounded
 * by the decoder) nor any other X client: selection owners and requestors
 * are arbitrary clients of the display, every transfer is size- and
 * time-bounded, and X errors from vanished windows are caught.
 */
#include <stdlib.h>
#include <string.h>

#include <X11/Xatom.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "cap.h"
#include "privsep/clock.h"

/* Clipboard text may be a password: wipe it before freeing. */
static void
wipe_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

static Bool
is_stamp_event(Display *dpy, XEvent *ev, XPointer arg)
{
	struct cap *c = (struct cap *)arg;

	return ev->type == PropertyNotify &&
	    ev->xproperty.window == c->clipwin &&
	    ev->xproperty.atom == c->a_stamp_prop;
}

/* Returns a current server time (ICCCM: never CurrentTime for ownership). */
static Time
server_time(struct cap *c)
{
	XEvent ev;

	XChangeProperty(c->dpy, c->clipwin, c->a_stamp_prop, XA_STRING, 8,
	    PropModeAppend, (const unsigned char *)"", 0);
	XIfEvent(c->dpy, &ev, is_stamp_event, (XPointer)c);
	return ev.xproperty.time;
}

static int
wants_clip(struct cap *c)
{
	unsigned i;

	for (i = 0; i < c->nch; i++)
		if (!c->ch[i]->dead &&
		    (c->ch[i]->perms & IPC_PERM_CLIP_TO_CLIENT))
			return 1;
	return 0;
}

int
cap_clip_init(struct cap *c)
{
	static char *names[] = { "CLIPBOARD", "TARGETS", "TIMESTAMP",
	    "UTF8_STRING", "TEXT", "INCR", "MULTIPLE", "_MOAT_SEL_CLIPBOARD",
	    "_MOAT_SEL_PRIMARY", "_MOAT_TIMESTAMP" };
	Atom a[sizeof(names) / sizeof(names[0])];
	XSetWindowAttributes wa;

	if (!XInternAtoms(c->dpy, names,
	    (int)(sizeof(names) / sizeof(names[0])), False, a)) {
		error_f("cannot intern the clipboard atoms");
		return MOAT_ERR_SYSTEM;
	}
	c->a_clipboard = a[0];
	c->a_targets = a[1];
	c->a_timestamp = a[2];
	c->a_utf8 = a[3];
	c->a_text = a[4];
	c->a_incr = a[5];
	c->a_multiple = a[6];
	c->a_stamp_prop = a[9];
	c->a_primary = XA_PRIMARY;
	c->a_string = XA_STRING;
	c->a_atom = XA_ATOM;
	c->a_integer = XA_INTEGER;
	c->xfer[0].selection = c->a_clipboard;
	c->xfer[0].property = a[7];
	c->xfer[1].selection = c->a_primary;
	c->xfer[1].property = a[8];
	memset(&wa, 0, sizeof(wa));
	wa.event_mask = PropertyChangeMask;
	wa.override_redirect = True;
	c->clipwin = XCreateWindow(c->dpy, c->root, -10, -10, 1, 1, 0, 0,
	    InputOnly, CopyFromParent, CWEventMask | CWOverrideRedirect, &wa);
	if (c->clipwin == None) {
		error_f("cannot create the selection window");
		return MOAT_ERR_SYSTEM;
	}
	XStoreName(c->dpy, c->clipwin, "moat-session clipboard");
	XFixesSelectSelectionInput(c->dpy, c->root, c->a_clipboard,
	    XFixesSetSelectionOwnerNotifyMask);
	XFixesSelectSelectionInput(c->dpy, c->root, c->a_primary,
	    XFixesSetSelectionOwnerNotifyMask);
	return 0;
}

/* ---- viewer -> desktop ---- */

void
cap_clip_from_client(struct cap *c, const uint8_t *text, size_t n)
{
	uint8_t *utf8, *latin1;
	size_t ulen, llen = 0, i;
	Time t;

	if ((utf8 = malloc(2 * n + 1)) == NULL ||
	    (latin1 = malloc(n + 1)) == NULL) {
		free(utf8);
		error_f("out of memory for clipboard text");
		return;
	}
	ulen = cap_latin1_to_utf8(text, n, utf8, 2 * n);
	for (i = 0; i < n; i++)
		if (text[i] != 0)
			latin1[llen++] = text[i];
	wipe_free(c->own_utf8, c->own_utf8_len);
	wipe_free(c->own_latin1, c->own_latin1_len);
	c->own_utf8 = utf8;
	c->own_utf8_len = ulen;
	c->own_latin1 = latin1;
	c->own_latin1_len = llen;
	t = server_time(c);
	XSetSelectionOwner(c->dpy, c->a_clipboard, c->clipwin, t);
	XSetSelectionOwner(c->dpy, c->a_primary, c->clipwin, t);
	if (XGetSelectionOwner(c->dpy, c->a_clipboard) != c->clipwin) {
		warn_f("could not take the CLIPBOARD selection");
		c->own_time = 0;
		return;
	}
	c->own_time = t;
	debug_f("took CLIPBOARD and PRIMARY with %zu bytes of text", llen);
}

static size_t
max_prop_bytes(struct cap *c)
{
	long words = XExtendedMaxRequestSize(c->dpy);

	if (words == 0)
		words = XMaxRequestSize(c->dpy);
	/* Room for the ChangeProperty request header. */
	return words > 16 ? (size_t)(words - 16) * 4 : 0;
}

static void
answer_request(struct cap *c, XSelectionRequestEvent *r)
{
	XSelectionEvent reply;
	Atom prop, type = None;
	const unsigned char *data = NULL;
	long list[5], stamp;
	int format = 8, nitems = 0, e;

	memset(&reply, 0, sizeof(reply));
	reply.type = SelectionNotify;
	reply.display = c->dpy;
	reply.requestor = r->requestor;
	reply.selection = r->selection;
	reply.target = r->target;
	reply.property = None;
	reply.time = r->time;
	prop = r->property != None ? r->property : r->target;
	if (r->owner != c->clipwin || c->own_time == 0 ||
	    (r->selection != c->a_clipboard && r->selection != c->a_primary) ||
	    (r->time != CurrentTime && r->time < c->own_time))
		goto send;
	if (r->target == c->a_targets) {
		list[0] = (long)c->a_targets;
		list[1] = (long)c->a_timestamp;
		list[2] = (long)c->a_utf8;
		list[3] = (long)c->a_string;
		list[4] = (long)c->a_text;
		type = c->a_atom;
		format = 32;
		data = (const unsigned char *)list;
		nitems = 5;
	} else if (r->target == c->a_timestamp) {
		stamp = (long)c->own_time;
		type = c->a_integer;
		format = 32;
		data = (const unsigned char *)&stamp;
		nitems = 1;
	} else if (r->target == c->a_utf8) {
		type = c->a_utf8;
		data = c->own_utf8;
		nitems = (int)c->own_utf8_len;
	} else if (r->target == c->a_string || r->target == c->a_text) {
		type = c->a_string;
		data = c->own_latin1;
		nitems = (int)c->own_latin1_len;
	} else
		goto send;
	if (format == 8 && (size_t)nitems > max_prop_bytes(c)) {
		warn_f("clipboard text of %d bytes exceeds one X request; "
		    "refused (INCR is not implemented)", nitems);
		goto send;
	}
	cap_x11_trap(c);
	XChangeProperty(c->dpy, r->requestor, prop, type, format,
	    PropModeReplace, data != NULL ? data : (const unsigned char *)"",
	    nitems);
	if ((e = cap_x11_untrap(c)) != 0) {
		debug_f("requestor 0x%lx vanished (error %d)", r->requestor, e);
		return;
	}
	reply.property = prop;
send:
	cap_x11_trap(c);
	XSendEvent(c->dpy, r->requestor, False, NoEventMask, (XEvent *)&reply);
	(void)cap_x11_untrap(c);
}

/* ---- desktop -> viewers ---- */

static void
xfer_reset(struct cap_clip_xfer *x)
{
	if (x->data != NULL) {
		explicit_bzero(x->data, x->len);
		free(x->data);
	}
	x->data = NULL;
	x->len = x->drained = 0;
	x->active = x->incr = x->truncated = 0;
}

static void
xfer_start(struct cap *c, struct cap_clip_xfer *x, Time t)
{
	xfer_reset(x);
	if ((x->data = malloc(CAP_CLIP_READ_MAX)) == NULL) {
		error_f("out of memory for clipboard transfer");
		return;
	}
	x->active = 1;
	x->again = 0;
	x->target = c->a_utf8;
	x->dtype = None;
	x->time = t;
	x->deadline = moat_monotonic_ms() + CAP_CLIP_TIMEOUT_MS;
	XDeleteProperty(c->dpy, c->clipwin, x->property);
	XConvertSelection(c->dpy, x->selection, x->target, x->property,
	    c->clipwin, t);
}

static void
xfer_done(struct cap *c, struct cap_clip_xfer *x)
{
	static uint8_t text[IPC_MAX_CUT_TEXT];
	struct ipc_cap_clipboard clip;
	struct buf b;
	uint8_t *msg;
	size_t n = 0, i, len;
	int trunc = 0;

	if (x->dtype != c->a_string)
		n = cap_utf8_to_latin1(x->data, x->len, text, sizeof(text),
		    &trunc);
	else {	/* STRING is Latin-1 already */
		for (i = 0; i < x->len; i++) {
			if (x->data[i] == 0)
				continue;
			if (n == sizeof(text)) {
				trunc = 1;
				break;
			}
			text[n++] = x->data[i];
		}
	}
	if (trunc || x->truncated)
		info_f("%s text truncated to %zu bytes for viewers",
		    x->selection == c->a_clipboard ? "CLIPBOARD" : "PRIMARY",
		    n);
	xfer_reset(x);
	clip.text = (struct ipc_view){ text, n };
	len = 4 + n;
	if ((msg = malloc(len)) == NULL) {
		explicit_bzero(text, n);
		return;
	}
	buf_init_fixed(&b, msg, len);
	if (ipc_msg_put_cap_clipboard(&b, &clip) != 0)
		fatal_f("clipboard encoding");
	explicit_bzero(text, n);
	if (c->clip_msg != NULL && c->clip_msg_len == len &&
	    memcmp(c->clip_msg, msg, len) == 0) {
		/* Same text again (e.g. PRIMARY after CLIPBOARD): nothing new. */
		wipe_free(msg, len);
	} else {
		wipe_free(c->clip_msg, c->clip_msg_len);
		c->clip_msg = msg;
		c->clip_msg_len = len;
		debug_f("%zu bytes of clipboard text for viewers", n);
		cap_channels_want_clip(c);
	}
	if (x->again)
		xfer_start(c, x, CurrentTime);
}

static void
xfer_abandon(struct cap *c, struct cap_clip_xfer *x, const char *why)
{
	debug_f("%s transfer abandoned: %s", x->selection == c->a_clipboard ?
	    "CLIPBOARD" : "PRIMARY", why);
	XDeleteProperty(c->dpy, c->clipwin, x->property);
	xfer_reset(x);
	if (x->again)
		xfer_start(c, x, CurrentTime);
}

/*
 * Reads x->property from our window, deleting it, and appends what fits.
 * Returns the number of bytes the property held, or -1 on a type/format error.
 */
static long
xfer_read(struct cap *c, struct cap_clip_xfer *x, Atom *typep)
{
	unsigned long nitems = 0, after = 0, room;
	unsigned char *data = NULL;
	int format = 0, st;
	Atom type = None;
	long total;

	room = x->len < CAP_CLIP_READ_MAX ? CAP_CLIP_READ_MAX - x->len : 0;
	/* Read at least one word so oversized chunks are seen and drained. */
	st = XGetWindowProperty(c->dpy, c->clipwin, x->property, 0,
	    (long)((room + 3) / 4 + 1), True, AnyPropertyType, &type, &format,
	    &nitems, &after, &data);
	if (st != Success) {
		*typep = None;
		return -1;
	}
	*typep = type;
	if (type == c->a_incr) {
		if (data != NULL)
			XFree(data);
		if (after > 0)
			XDeleteProperty(c->dpy, c->clipwin, x->property);
		return 0;
	}
	if (type != None && type != x->target && type != c->a_string &&
	    type != c->a_utf8) {
		/* COMPOUND_TEXT and the like: read as ASCII-compatible UTF-8. */
		debug_f("selection data of another type; read as UTF-8");
	}
	if (type != None)
		x->dtype = type;
	if (type != None && format != 8) {
		if (data != NULL)
			XFree(data);
		XDeleteProperty(c->dpy, c->clipwin, x->property);
		return -1;
	}
	total = (long)(nitems + after);
	if (nitems > room) {
		x->truncated = 1;
		x->drained += nitems - room;
		nitems = room;
	}
	if (nitems > 0)
		memcpy(x->data + x->len, data, nitems);
	x->len += nitems;
	if (after > 0) {
		/* More than we keep: drop the rest (an INCR owner goes on). */
		x->truncated = 1;
		x->drained += after;
		XDeleteProperty(c->dpy, c->clipwin, x->property);
	}
	if (data != NULL)
		XFree(data);
	return total;
}

static struct cap_clip_xfer *
xfer_of(struct cap *c, Atom selection)
{
	if (selection == c->a_clipboard)
		return &c->xfer[0];
	if (selection == c->a_primary)
		return &c->xfer[1];
	return NULL;
}

static void
on_selection_notify(struct cap *c, XSelectionEvent *e)
{
	struct cap_clip_xfer *x;
	Atom type;
	long n;

	if (e->requestor != c->clipwin ||
	    (x = xfer_of(c, e->selection)) == NULL || !x->active || x->incr ||
	    e->target != x->target)
		return;
	if (e->property == None) {
		if (x->target == c->a_utf8) {
			/* No UTF8_STRING: ask for Latin-1 STRING. */
			x->target = c->a_string;
			x->deadline = moat_monotonic_ms() + CAP_CLIP_TIMEOUT_MS;
			XConvertSelection(c->dpy, x->selection, x->target,
			    x->property, c->clipwin, x->time);
			return;
		}
		xfer_abandon(c, x, "the owner refused the conversion");
		return;
	}
	if (e->property != x->property)
		return;
	if ((n = xfer_read(c, x, &type)) < 0) {
		xfer_abandon(c, x, "the owner sent a non-text property");
		return;
	}
	if (type == c->a_incr) {
		/* Deleting the property (done by the read) starts the chunks. */
		debug_f("receiving %s in INCR chunks", x->selection ==
		    c->a_clipboard ? "CLIPBOARD" : "PRIMARY");
		x->incr = 1;
		x->deadline = moat_monotonic_ms() + CAP_CLIP_TIMEOUT_MS;
		return;
	}
	xfer_done(c, x);
}

static void
on_property_notify(struct cap *c, XPropertyEvent *e)
{
	struct cap_clip_xfer *x;
	Atom type;
	long n;

	if (e->window != c->clipwin || e->state != PropertyNewValue)
		return;
	if (e->atom == c->xfer[0].property)
		x = &c->xfer[0];
	else if (e->atom == c->xfer[1].property)
		x = &c->xfer[1];
	else
		return;
	if (!x->active || !x->incr)
		return;
	if ((n = xfer_read(c, x, &type)) < 0) {
		xfer_abandon(c, x, "bad INCR chunk");
		return;
	}
	if (n == 0 && type != None) {
		xfer_done(c, x);	/* the zero-length chunk ends INCR */
		return;
	}
	if (x->drained > CAP_CLIP_DRAIN_MAX) {
		xfer_abandon(c, x, "the owner keeps sending");
		return;
	}
	x->deadline = moat_monotonic_ms() + CAP_CLIP_TIMEOUT_MS;
}

static void
on_owner_change(struct cap *c, XFixesSelectionNotifyEvent *e)
{
	struct cap_clip_xfer *x;

	if ((x = xfer_of(c, e->selection)) == NULL)
		return;
	if (e->owner == c->clipwin)
		return;		/* our own change: never echoed back */
	if (e->owner == None || !wants_clip(c))
		return;
	if (x->active) {
		x->again = 1;
		return;
	}
	xfer_start(c, x, e->timestamp);
}

int
cap_clip_event(struct cap *c, XEvent *ev)
{
	switch (ev->type) {
	case SelectionRequest:
		answer_request(c, &ev->xselectionrequest);
		return 1;
	case SelectionClear:
		if (ev->xselectionclear.window == c->clipwin &&
		    XGetSelectionOwner(c->dpy, c->a_clipboard) != c->clipwin &&
		    XGetSelectionOwner(c->dpy, c->a_primary) != c->clipwin) {
			wipe_free(c->own_utf8, c->own_utf8_len);
			wipe_free(c->own_latin1, c->own_latin1_len);
			c->own_utf8 = c->own_latin1 = NULL;
			c->own_utf8_len = c->own_latin1_len = 0;
			c->own_time = 0;
		}
		return 1;
	case SelectionNotify:
		on_selection_notify(c, &ev->xselection);
		return 1;
	case PropertyNotify:
		on_property_notify(c, &ev->xproperty);
		return 1;
	}
	if (ev->type == c->fixes_ev + XFixesSelectionNotify) {
		on_owner_change(c, (XFixesSelectionNotifyEvent *)ev);
		return 1;
	}
	return 0;
}

int
cap_clip_timeouts(struct cap *c)
{
	long now = moat_monotonic_ms(), left, best = -1;
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct cap_clip_xfer *x = &c->xfer[i];

		if (!x->active)
			continue;
		if ((left = x->deadline - now) <= 0) {
			xfer_abandon(c, x, "timed out");
			if (!x->active)
				continue;
			left = x->deadline - now;
		}
		if (best < 0 || left < best)
			best = left;
	}
	return best > 100000 ? 100000 : (int)best;
}

void
cap_clip_close(struct cap *c)
{
	xfer_reset(&c->xfer[0]);
	xfer_reset(&c->xfer[1]);
	wipe_free(c->own_utf8, c->own_utf8_len);
	wipe_free(c->own_latin1, c->own_latin1_len);
	wipe_free(c->clip_msg, c->clip_msg_len);
	c->own_utf8 = c->own_latin1 = c->clip_msg = NULL;
	if (c->dpy != NULL && c->clipwin != None)
		XDestroyWindow(c->dpy, c->clipwin);
	c->clipwin = None;
}
