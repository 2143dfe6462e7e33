/*
 * x11_window.c - moat-viewer's Xlib window: an XImage over the session's
 * framebuffer (0x00RRGGBB, the layout of a 24-bit TrueColor visual), put
 * after every update; KeyPress/KeyRelease become KeyEvents with the
 * keysym Xlib looks up, motion and buttons become PointerEvents. Runs in
 * moat-viewer; trusts the local X server; the framebuffer's size was
 * bounded by rfb_client.c.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include "privsep/errors.h"
#include "viewer/x11_window.h"

struct win {
	Display *dpy;
	Window w;
	GC gc;
	XImage *img;
	Visual *vis;
	Atom wm_delete;
	uint16_t iw, ih;
};

static void
drop_image(struct win *x)
{
	if (x->img != NULL) {
		x->img->data = NULL;	/* the framebuffer is the session's */
		XDestroyImage(x->img);
		x->img = NULL;
	}
}

static int
make_image(struct win *x, struct viewer_rfb *s)
{
	const uint32_t probe = 1;

	drop_image(x);
	x->img = XCreateImage(x->dpy, x->vis, 24, ZPixmap, 0, (char *)s->fb,
	    s->w, s->h, 32, 4 * s->w);
	if (x->img == NULL)
		return MOAT_ERR_NOMEM;
	/* The pixels are host-order 32-bit words. */
	x->img->byte_order = *(const uint8_t *)&probe ? LSBFirst : MSBFirst;
	x->iw = s->w;
	x->ih = s->h;
	return 0;
}

static void
draw(struct win *x, struct viewer_rfb *s)
{
	if (x->iw != s->w || x->ih != s->h || x->img == NULL ||
	    x->img->data != (char *)s->fb) {
		if (make_image(x, s) != 0)
			return;
		XResizeWindow(x->dpy, x->w, s->w, s->h);
	}
	XPutImage(x->dpy, x->w, x->gc, x->img, 0, 0, 0, 0, s->w, s->h);
	XFlush(x->dpy);
}

static uint8_t
button_bit(unsigned b)
{
	return b >= 1 && b <= 8 ? (uint8_t)(1u << (b - 1)) : 0;
}

/* Returns 1 when the window was closed, 0 to go on, negative on error. */
static int
on_xevent(struct win *x, struct viewer_rfb *s, XEvent *ev)
{
	KeySym ks;
	char tmp[8];

	switch (ev->type) {
	case Expose:
		if (ev->xexpose.count == 0)
			draw(x, s);
		return 0;
	case KeyPress:
	case KeyRelease:
		(void)XLookupString(&ev->xkey, tmp, sizeof(tmp), &ks, NULL);
		if (ks == NoSymbol)
			return 0;
		return viewer_rfb_key(s, (uint32_t)ks, ev->type == KeyPress);
	case MotionNotify:
		return viewer_rfb_pointer(s, ev->xmotion.x, ev->xmotion.y,
		    s->buttons);
	case ButtonPress:
		return viewer_rfb_pointer(s, ev->xbutton.x, ev->xbutton.y,
		    s->buttons | button_bit(ev->xbutton.button));
	case ButtonRelease:
		return viewer_rfb_pointer(s, ev->xbutton.x, ev->xbutton.y,
		    s->buttons & (uint8_t)~button_bit(ev->xbutton.button));
	case ClientMessage:
		if ((Atom)ev->xclient.data.l[0] == x->wm_delete)
			return 1;
		return 0;
	default:
		return 0;
	}
}

int
viewer_window_run(struct viewer_rfb *s)
{
	struct win x;
	XVisualInfo vi;
	XSetWindowAttributes wa;
	struct pollfd p[2];
	char title[VIEWER_MAX_NAME + 32];
	XEvent ev;
	int r = 0, got, scr;

	memset(&x, 0, sizeof(x));
	if ((x.dpy = XOpenDisplay(NULL)) == NULL) {
		viewer_err("cannot open the display (is DISPLAY set?); "
		    "use --headless");
		return MOAT_ERR_UNSUPPORTED;
	}
	scr = DefaultScreen(x.dpy);
	if (!XMatchVisualInfo(x.dpy, scr, 24, TrueColor, &vi) ||
	    vi.red_mask != 0xff0000 || vi.green_mask != 0xff00 ||
	    vi.blue_mask != 0xff) {
		viewer_err("the display has no 24-bit TrueColor visual");
		XCloseDisplay(x.dpy);
		return MOAT_ERR_UNSUPPORTED;
	}
	x.vis = vi.visual;
	memset(&wa, 0, sizeof(wa));
	wa.colormap = XCreateColormap(x.dpy, RootWindow(x.dpy, scr), x.vis,
	    AllocNone);
	wa.background_pixel = 0;
	wa.border_pixel = 0;
	wa.event_mask = ExposureMask | KeyPressMask | KeyReleaseMask |
	    PointerMotionMask | ButtonPressMask | ButtonReleaseMask;
	x.w = XCreateWindow(x.dpy, RootWindow(x.dpy, scr), 0, 0, s->w, s->h, 0,
	    24, InputOutput, x.vis, CWColormap | CWBackPixel | CWBorderPixel |
	    CWEventMask, &wa);
	snprintf(title, sizeof(title), "moat-viewer: %s", s->name);
	XStoreName(x.dpy, x.w, title);
	x.wm_delete = XInternAtom(x.dpy, "WM_DELETE_WINDOW", False);
	XSetWMProtocols(x.dpy, x.w, &x.wm_delete, 1);
	x.gc = XCreateGC(x.dpy, x.w, 0, NULL);
	if ((r = make_image(&x, s)) != 0)
		goto out;
	XMapWindow(x.dpy, x.w);
	XFlush(x.dpy);
	while (r == 0) {
		while (r == 0 && XPending(x.dpy) > 0) {
			XNextEvent(x.dpy, &ev);
			r = on_xevent(&x, s, &ev);
		}
		if (r != 0)
			break;
		if ((r = viewer_rfb_wait(s, 0)) > 0) {
			if ((r = viewer_rfb_read(s, &got)) == 0 && got)
				draw(&x, s);
			continue;
		}
		if (r < 0)
			break;
		p[0].fd = ConnectionNumber(x.dpy);
		p[0].events = POLLIN;
		p[1].fd = s->c->fd;
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0) {
			r = MOAT_ERR_SYSTEM;
			break;
		}
		if (p[1].revents != 0 && (r = viewer_rfb_read(s, &got)) == 0 &&
		    got)
			draw(&x, s);
	}
	if (r == 1)
		r = 0;	/* closed by the user */
out:
	drop_image(&x);
	XFreeGC(x.dpy, x.gc);
	XDestroyWindow(x.dpy, x.w);
	XFreeColormap(x.dpy, wa.colormap);
	XCloseDisplay(x.dpy);
	return r;
}
