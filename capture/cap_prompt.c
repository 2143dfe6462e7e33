/*
 * cap_prompt.c - the approval prompt of QueryConnect (see cap_prompt.h).
 *
 * Runs in moat-session as the desktop's owner, on its one event loop. It
 * trusts moatd (root) for the questions, but the user name and the peer
 * address in them originate from the network side, so only printable
 * ASCII of them is drawn, cut short. The answer is the desktop user's:
 * while a prompt is open, cap_channel.c holds back the viewers' key and
 * button presses, so that a connected viewer cannot answer it through the
 * desktop it sees. Each prompt is an override-redirect window that keeps
 * its deadline; nothing here waits.
 */
#include <stdio.h>
#include <string.h>

#include <X11/XKBlib.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/keysym.h>

#include "cap.h"
#include "cap_prompt.h"
#include "privsep/clock.h"
#include "privsep/errors.h"
#include "privsep/log.h"

#define PROMPT_W	440
#define PROMPT_H	160
#define PROMPT_TEXT_MAX	48	/* characters of the user or the address drawn */
#define BUTTON_W	150
#define BUTTON_H	34
#define BUTTON_Y	112
#define ACCEPT_X	50
#define REJECT_X	(PROMPT_W - 50 - BUTTON_W)

struct prompt {
	int used;
	uint32_t id;
	uint8_t dflt;			/* IPC_QUERY_ACCEPTED or _REJECTED */
	int64_t deadline_ms;
	long shown;			/* seconds last drawn in the countdown */
	Window win;
	Window prev_focus;		/* what had the keyboard before it */
	int prev_revert;
	GC gc;
	int mapped;
	/* Keys already down when it appeared: their presses (autorepeat)
	 * answer nothing until they were released. */
	char held[32];
	char user[PROMPT_TEXT_MAX + 4];
	char peer[PROMPT_TEXT_MAX + 4];
};

static struct prompt prompts[CAP_PROMPT_MAX];
static unsigned nprompts;
/* Channels whose presses were dropped since prompts opened (for the log). */
static uint32_t held_ids[8];
static unsigned nheld;
static XFontStruct *font;
static Atom wm_delete;

/* Printable ASCII of s[0..n), at most PROMPT_TEXT_MAX characters, else '?'. */
static void
printable(char *out, const uint8_t *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n && k < PROMPT_TEXT_MAX; i++)
		out[k++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	if (i < n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
}

static int
send_answer(struct cap *c, uint32_t id, uint8_t verdict)
{
	struct ipc_sess_query_result res = { id, verdict };
	int r;

	if ((r = ipc_msg_send_sess_query_result(c->reg_fd, &res, -1)) != 0)
		error_fr(r, "answering approval query %u", (unsigned)id);
	return r;
}

static const char *
verdict_name(uint8_t v)
{
	switch (v) {
	case IPC_QUERY_ACCEPTED: return "accepted";
	case IPC_QUERY_REJECTED: return "rejected";
	case IPC_QUERY_TIMED_OUT: return "not answered in time";
	}
	return "refused";
}

static void
destroy(struct cap *c, struct prompt *p)
{
	Window focus;
	int revert;

	cap_x11_trap(c);	/* the window may be gone already */
	/* The keyboard goes back where it was, if the prompt still has it. */
	XGetInputFocus(c->dpy, &focus, &revert);
	if (p->mapped && focus == p->win && p->prev_focus != None)
		XSetInputFocus(c->dpy, p->prev_focus, p->prev_revert,
		    CurrentTime);
	XFreeGC(c->dpy, p->gc);
	XDestroyWindow(c->dpy, p->win);
	(void)cap_x11_untrap(c);
	memset(p, 0, sizeof(*p));
	if (--nprompts == 0)
		nheld = 0;
}

/* Answers p with verdict and removes its window. */
static void
finish(struct cap *c, struct prompt *p, uint8_t verdict)
{
	info_f("approval prompt %u for user \"%s\" from %s: %s",
	    (unsigned)p->id, p->user, p->peer, verdict_name(verdict));
	(void)send_answer(c, p->id, verdict);
	destroy(c, p);
}

static long
seconds_left(const struct prompt *p, int64_t now)
{
	return p->deadline_ms > now ? (long)((p->deadline_ms - now + 999) / 1000) :
	    0;
}

static void
text(struct cap *c, struct prompt *p, int x, int y, const char *s)
{
	XDrawString(c->dpy, p->win, p->gc, x, y, s, (int)strlen(s));
}

static void
button(struct cap *c, struct prompt *p, int x, const char *label, int dflt)
{
	int w = font != NULL ? XTextWidth(font, label, (int)strlen(label)) :
	    (int)strlen(label) * 6;

	XDrawRectangle(c->dpy, p->win, p->gc, x, BUTTON_Y, BUTTON_W, BUTTON_H);
	if (dflt)	/* the default action: a double frame */
		XDrawRectangle(c->dpy, p->win, p->gc, x + 3, BUTTON_Y + 3,
		    BUTTON_W - 6, BUTTON_H - 6);
	text(c, p, x + (BUTTON_W - w) / 2, BUTTON_Y + BUTTON_H / 2 + 5, label);
}

static void
draw(struct cap *c, struct prompt *p)
{
	char line[160];

	p->shown = seconds_left(p, moat_monotonic_ms());
	XClearWindow(c->dpy, p->win);
	text(c, p, 16, 24, "A viewer asks to connect to this desktop.");
	snprintf(line, sizeof(line), "User:  %s", p->user);
	text(c, p, 16, 48, line);
	snprintf(line, sizeof(line), "From:  %s", p->peer);
	text(c, p, 16, 68, line);
	snprintf(line, sizeof(line), "%s in %ld s unless you answer "
	    "(Return: accept, Escape: reject).", p->dflt == IPC_QUERY_ACCEPTED ?
	    "Accepted" : "Rejected", p->shown);
	text(c, p, 16, 94, line);
	button(c, p, ACCEPT_X, "Accept", p->dflt == IPC_QUERY_ACCEPTED);
	button(c, p, REJECT_X, "Reject", p->dflt != IPC_QUERY_ACCEPTED);
}

static struct prompt *
find(Window w)
{
	unsigned i;

	for (i = 0; i < CAP_PROMPT_MAX; i++)
		if (prompts[i].used && prompts[i].win == w)
			return &prompts[i];
	return NULL;
}

int
cap_prompt_open(struct cap *c, const struct ipc_sess_query *q)
{
	XSetWindowAttributes wa;
	XSizeHints hints;
	struct prompt *p = NULL;
	unsigned i, off;
	int x, y;

	for (i = 0; i < CAP_PROMPT_MAX; i++) {
		if (prompts[i].used && prompts[i].id == q->id) {
			error_f("approval query %u is already open",
			    (unsigned)q->id);
			return send_answer(c, q->id, IPC_QUERY_BUSY);
		}
		if (!prompts[i].used && p == NULL)
			p = &prompts[i];
	}
	if (p == NULL) {
		warn_f("%u approval prompts are open; refusing another",
		    CAP_PROMPT_MAX);
		return send_answer(c, q->id, IPC_QUERY_BUSY);
	}
	memset(p, 0, sizeof(*p));
	printable(p->user, q->user.p, q->user.len);
	printable(p->peer, q->peer.p, q->peer.len);
	p->id = q->id;
	p->dflt = q->dflt;
	p->deadline_ms = moat_monotonic_ms() + (int64_t)q->timeout * 1000;
	if (font == NULL)
		font = XLoadQueryFont(c->dpy, "fixed");
	if (wm_delete == None) {
		wm_delete = XInternAtom(c->dpy, "WM_DELETE_WINDOW", False);
		/* Autorepeat without fake releases: a held key stays held. */
		(void)XkbSetDetectableAutoRepeat(c->dpy, True, NULL);
	}
	/* Centred, each further prompt a little lower and to the right. */
	off = (unsigned)(p - prompts) * 24;
	x = ((int)c->width - PROMPT_W) / 2 + (int)off;
	y = ((int)c->height - PROMPT_H) / 2 + (int)off;
	memset(&wa, 0, sizeof(wa));
	wa.override_redirect = True;
	wa.background_pixel = WhitePixel(c->dpy, c->screen);
	wa.border_pixel = BlackPixel(c->dpy, c->screen);
	wa.event_mask = ExposureMask | KeyPressMask | KeyReleaseMask |
	    ButtonPressMask | StructureNotifyMask;
	cap_x11_trap(c);
	p->win = XCreateWindow(c->dpy, c->root, x < 0 ? 0 : x, y < 0 ? 0 : y,
	    PROMPT_W, PROMPT_H, 2, CopyFromParent, InputOutput, CopyFromParent,
	    CWOverrideRedirect | CWBackPixel | CWBorderPixel | CWEventMask, &wa);
	XStoreName(c->dpy, p->win, CAP_PROMPT_TITLE);
	memset(&hints, 0, sizeof(hints));
	hints.flags = PMinSize | PMaxSize;
	hints.min_width = hints.max_width = PROMPT_W;
	hints.min_height = hints.max_height = PROMPT_H;
	XSetWMNormalHints(c->dpy, p->win, &hints);
	XSetWMProtocols(c->dpy, p->win, &wm_delete, 1);
	p->gc = XCreateGC(c->dpy, p->win, 0, NULL);
	XSetForeground(c->dpy, p->gc, BlackPixel(c->dpy, c->screen));
	XSetBackground(c->dpy, p->gc, WhitePixel(c->dpy, c->screen));
	if (font != NULL)
		XSetFont(c->dpy, p->gc, font->fid);
	XMapRaised(c->dpy, p->win);
	if (cap_x11_untrap(c) != 0) {
		error_f("cannot show the approval prompt");
		cap_x11_trap(c);
		XDestroyWindow(c->dpy, p->win);
		(void)cap_x11_untrap(c);
		memset(p, 0, sizeof(*p));
		return send_answer(c, q->id, IPC_QUERY_BUSY);
	}
	/* Before anyone can see it: what is down now answers nothing. */
	XQueryKeymap(c->dpy, p->held);
	p->used = 1;
	nprompts++;
	info_f("approval prompt %u: user \"%s\" from %s, %u s, default %s",
	    (unsigned)p->id, p->user, p->peer, (unsigned)q->timeout,
	    p->dflt == IPC_QUERY_ACCEPTED ? "accept" : "reject");
	return 0;
}

int
cap_prompt_event(struct cap *c, XEvent *ev)
{
	struct prompt *p;
	KeySym ks;
	unsigned k;
	int x, y;

	if (nprompts == 0 || (p = find(ev->xany.window)) == NULL)
		return 0;
	switch (ev->type) {
	case Expose:
		if (ev->xexpose.count == 0)
			draw(c, p);
		break;
	case MapNotify:
		/* Viewable now: the newest prompt takes the keyboard. */
		p->mapped = 1;
		cap_x11_trap(c);
		XGetInputFocus(c->dpy, &p->prev_focus, &p->prev_revert);
		if (find(p->prev_focus) != NULL)	/* another prompt's */
			p->prev_focus = None;
		XSetInputFocus(c->dpy, p->win, RevertToPointerRoot, CurrentTime);
		(void)cap_x11_untrap(c);
		break;
	case KeyRelease:
		k = ev->xkey.keycode;
		p->held[k / 8 % 32] &= (char)~(1 << (k % 8));
		break;
	case KeyPress:
		k = ev->xkey.keycode;
		if (p->held[k / 8 % 32] & (1 << (k % 8)))
			break;
		ks = XLookupKeysym(&ev->xkey, 0);
		if (ks == XK_Return || ks == XK_KP_Enter)
			finish(c, p, IPC_QUERY_ACCEPTED);
		else if (ks == XK_Escape)
			finish(c, p, IPC_QUERY_REJECTED);
		break;
	case ButtonPress:
		if (ev->xbutton.button != Button1)
			break;
		x = ev->xbutton.x;
		y = ev->xbutton.y;
		if (y < BUTTON_Y || y > BUTTON_Y + BUTTON_H)
			break;
		if (x >= ACCEPT_X && x <= ACCEPT_X + BUTTON_W)
			finish(c, p, IPC_QUERY_ACCEPTED);
		else if (x >= REJECT_X && x <= REJECT_X + BUTTON_W)
			finish(c, p, IPC_QUERY_REJECTED);
		break;
	case ClientMessage:
		if ((Atom)ev->xclient.data.l[0] == wm_delete)
			finish(c, p, IPC_QUERY_REJECTED);
		break;
	case DestroyNotify:
		/* Closed by someone else (xkill): nobody accepted. */
		if (ev->xdestroywindow.window == p->win) {
			info_f("approval prompt %u was closed", (unsigned)p->id);
			(void)send_answer(c, p->id, IPC_QUERY_REJECTED);
			p->win = None;
			XFreeGC(c->dpy, p->gc);
			memset(p, 0, sizeof(*p));
			if (--nprompts == 0)
				nheld = 0;
		}
		break;
	}
	return 1;
}

int
cap_prompt_tick(struct cap *c)
{
	int64_t now = moat_monotonic_ms(), next = -1, t;
	unsigned i;

	for (i = 0; i < CAP_PROMPT_MAX; i++) {
		struct prompt *p = &prompts[i];

		if (!p->used)
			continue;
		if (now >= p->deadline_ms) {
			finish(c, p, IPC_QUERY_TIMED_OUT);
			continue;
		}
		if (p->mapped && seconds_left(p, now) != p->shown)
			draw(c, p);
		/* The next whole second of the countdown (or the deadline). */
		t = (p->deadline_ms - now) % 1000;
		if (t == 0)
			t = 1000;
		if (next == -1 || t < next)
			next = t;
	}
	return (int)next;
}

unsigned
cap_prompt_count(void)
{
	return nprompts;
}

int
cap_prompt_holds(uint32_t channel_id)
{
	unsigned i;

	if (nprompts == 0)
		return 0;
	for (i = 0; i < nheld; i++)
		if (held_ids[i] == channel_id)
			return 1;
	if (nheld < sizeof(held_ids) / sizeof(held_ids[0]))
		held_ids[nheld++] = channel_id;
	info_f("channel %u: the viewer's key and button presses are dropped "
	    "while an approval prompt is open", (unsigned)channel_id);
	return 1;
}

void
cap_prompt_close_all(struct cap *c)
{
	unsigned i;

	for (i = 0; i < CAP_PROMPT_MAX; i++)
		if (prompts[i].used)
			destroy(c, &prompts[i]);
	if (font != NULL) {
		XFreeFont(c->dpy, font);
		font = NULL;
	}
}
