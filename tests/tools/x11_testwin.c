/*
 * x11_testwin.c - a tiny X client for the capture tests (test-only; never
 * installed). It draws known patterns and records the input moat-session
 * injects, so tests need neither xsetroot nor a window manager.
 *
 *   x11_testwin root RRGGBB                 paint the root background, exit
 *   x11_testwin rect X Y W H RRGGBB         show a solid window until killed
 *   x11_testwin input X Y W H FILE          show a focused window (hand cursor)
 *                                           until killed; typed text goes to
 *                                           FILE, button events to FILE.ptr
 *   x11_testwin resize W H                  resize the screen through RandR
 *
 * "ready" is printed on stdout once a window is mapped (and focused).
 * Runs as the test's user against a test X server; trusts that server.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <X11/Xlibint.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/cursorfont.h>
#include <X11/keysym.h>
#include <X11/extensions/randr.h>
#include <X11/extensions/randrproto.h>

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: x11_testwin root RRGGBB | rect X Y W H RRGGBB | "
	    "input X Y W H FILE | resize W H\n");
	exit(2);
}

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "x11_testwin: %s\n", what);
	exit(1);
}

static long
num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < 0 || v > 65535)
		usage();
	return v;
}

static unsigned long
scale(unsigned v8, unsigned long mask)
{
	int shift = 0, bits = 0;
	unsigned long v;

	if (mask == 0)
		return 0;
	while (!((mask >> shift) & 1))
		shift++;
	while ((mask >> (shift + bits)) & 1)
		bits++;
	v = bits >= 8 ? (unsigned long)v8 << (bits - 8) : v8 >> (8 - bits);
	return (v << shift) & mask;
}

static unsigned long
pixel_of(Display *dpy, const char *hex)
{
	Visual *v = DefaultVisual(dpy, DefaultScreen(dpy));
	unsigned long rgb;
	char *end;

	if (strlen(hex) != 6)
		usage();
	rgb = strtoul(hex, &end, 16);
	if (*end != '\0')
		usage();
	if (v->class != TrueColor)
		die("needs a TrueColor visual");
	return scale((rgb >> 16) & 0xff, v->red_mask) |
	    scale((rgb >> 8) & 0xff, v->green_mask) |
	    scale(rgb & 0xff, v->blue_mask);
}

static Window
make_window(Display *dpy, long x, long y, long w, long h, unsigned long px,
    long events)
{
	XSetWindowAttributes wa;
	Window win;
	XEvent ev;

	memset(&wa, 0, sizeof(wa));
	wa.override_redirect = True;
	wa.background_pixel = px;
	wa.event_mask = events | StructureNotifyMask | ExposureMask;
	win = XCreateWindow(dpy, DefaultRootWindow(dpy), (int)x, (int)y,
	    (unsigned)w, (unsigned)h, 0, CopyFromParent, InputOutput,
	    CopyFromParent, CWOverrideRedirect | CWBackPixel | CWEventMask, &wa);
	XMapRaised(dpy, win);
	do {
		XNextEvent(dpy, &ev);
	} while (ev.type != Expose || ev.xexpose.window != win);
	XSync(dpy, False);
	return win;
}

static void
append(const char *path, const char *s, size_t n)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) == -1)
		die("cannot open output file");
	if (write(fd, s, n) != (ssize_t)n)
		die("write");
	close(fd);
}

static void
run_input(Display *dpy, long x, long y, long w, long h, const char *file)
{
	char ptrfile[4096], buf[64], line[96];
	Window win;
	XEvent ev;
	KeySym ks;
	int n;

	if (snprintf(ptrfile, sizeof(ptrfile), "%s.ptr", file) >=
	    (int)sizeof(ptrfile))
		die("path too long");
	win = make_window(dpy, x, y, w, h, pixel_of(dpy, "808080"),
	    KeyPressMask | ButtonPressMask | ButtonReleaseMask);
	XDefineCursor(dpy, win, XCreateFontCursor(dpy, XC_hand2));
	XSetInputFocus(dpy, win, RevertToPointerRoot, CurrentTime);
	XSync(dpy, False);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		XNextEvent(dpy, &ev);
		switch (ev.type) {
		case MappingNotify:
			XRefreshKeyboardMapping(&ev.xmapping);
			break;
		case KeyPress:
			n = XLookupString(&ev.xkey, buf, sizeof(buf), &ks, NULL);
			if (ks == XK_Return || ks == XK_KP_Enter)
				append(file, "\n", 1);
			else if (n > 0)
				append(file, buf, (size_t)n);
			break;
		case ButtonPress:
		case ButtonRelease:
			n = snprintf(line, sizeof(line), "%s %u %d %d\n",
			    ev.type == ButtonPress ? "press" : "release",
			    ev.xbutton.button, ev.xbutton.x_root,
			    ev.xbutton.y_root);
			append(ptrfile, line, (size_t)n);
			break;
		}
	}
}

/*
 * RandR 1.2, spoken directly (no libXrandr headers here): switch every CRTC
 * off (a CRTC larger than the new size makes SetScreenSize fail), then set
 * the screen size, as "xrandr --fb" does.
 */
static void
run_resize(Display *dpy, long w, long h)
{
	xRRQueryVersionReq *qv;
	xRRQueryVersionReply rep;
	xRRGetScreenResourcesReq *gr;
	xRRGetScreenResourcesReply grep;
	xRRSetCrtcConfigReq *sc;
	xRRSetCrtcConfigReply screp;
	xRRSetScreenSizeReq *ss;
	CARD32 *crtcs;
	unsigned long nbytes;
	unsigned i;
	int op, ev, err;

	if (!XQueryExtension(dpy, RANDR_NAME, &op, &ev, &err))
		die("no RANDR extension");
	LockDisplay(dpy);
	GetReq(RRQueryVersion, qv);
	qv->reqType = (CARD8)op;
	qv->randrReqType = X_RRQueryVersion;
	qv->majorVersion = 1;
	qv->minorVersion = 2;
	if (!_XReply(dpy, (xReply *)&rep, 0, xTrue))
		die("RRQueryVersion failed");
	GetReq(RRGetScreenResources, gr);
	gr->reqType = (CARD8)op;
	gr->randrReqType = X_RRGetScreenResources;
	gr->window = DefaultRootWindow(dpy);
	if (!_XReply(dpy, (xReply *)&grep, 0, xFalse))
		die("RRGetScreenResources failed");
	nbytes = (unsigned long)grep.length * 4;
	if (nbytes < (unsigned long)grep.nCrtcs * 4 || nbytes > 1 << 20 ||
	    (crtcs = malloc(nbytes + 4)) == NULL)
		die("odd RRGetScreenResources reply");
	_XRead(dpy, (char *)crtcs, (long)nbytes);
	for (i = 0; i < grep.nCrtcs; i++) {
		GetReq(RRSetCrtcConfig, sc);
		sc->reqType = (CARD8)op;
		sc->randrReqType = X_RRSetCrtcConfig;
		sc->crtc = crtcs[i];
		sc->timestamp = grep.timestamp;
		sc->configTimestamp = grep.configTimestamp;
		sc->x = 0;
		sc->y = 0;
		sc->mode = None;
		sc->rotation = RR_Rotate_0;
		if (!_XReply(dpy, (xReply *)&screp, 0, xTrue) ||
		    screp.status != RRSetConfigSuccess)
			die("RRSetCrtcConfig failed");
	}
	free(crtcs);
	GetReq(RRSetScreenSize, ss);
	ss->reqType = (CARD8)op;
	ss->randrReqType = X_RRSetScreenSize;
	ss->window = DefaultRootWindow(dpy);
	ss->width = (CARD16)w;
	ss->height = (CARD16)h;
	ss->widthInMillimeters = (CARD32)(w * 254 / 960);
	ss->heightInMillimeters = (CARD32)(h * 254 / 960);
	UnlockDisplay(dpy);
	SyncHandle();
	XSync(dpy, False);
}

int
main(int argc, char **argv)
{
	Display *dpy;

	if (argc < 2)
		usage();
	if ((dpy = XOpenDisplay(NULL)) == NULL)
		die("cannot open display");
	if (strcmp(argv[1], "root") == 0 && argc == 3) {
		XSetWindowBackground(dpy, DefaultRootWindow(dpy),
		    pixel_of(dpy, argv[2]));
		XClearWindow(dpy, DefaultRootWindow(dpy));
		XSync(dpy, False);
	} else if (strcmp(argv[1], "rect") == 0 && argc == 7) {
		(void)make_window(dpy, num(argv[2]), num(argv[3]), num(argv[4]),
		    num(argv[5]), pixel_of(dpy, argv[6]), 0);
		printf("ready\n");
		fflush(stdout);
		for (;;) {
			XEvent ev;

			XNextEvent(dpy, &ev);
		}
	} else if (strcmp(argv[1], "input") == 0 && argc == 7) {
		run_input(dpy, num(argv[2]), num(argv[3]), num(argv[4]),
		    num(argv[5]), argv[6]);
	} else if (strcmp(argv[1], "resize") == 0 && argc == 4) {
		run_resize(dpy, num(argv[2]), num(argv[3]));
	} else
		usage();
	XCloseDisplay(dpy);
	return 0;
}
