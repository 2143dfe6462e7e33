/*
 * content.c - bench/'s deterministic X content generator.
 *
 * Runs as a plain X client of the display being served (Xvfb for the
 * scrapers and moat, Xvnc's own display for Xvnc), started by bench/run.sh.
 * It trusts that display and nothing else; it reads no input but its
 * command line and the X events of its own window. Not part of moat.
 *
 * It maps one override-redirect window over the whole screen and draws a
 * mixed desktop generated from a fixed seed: a gradient background, two
 * "terminals" of generated text, a photographic-like texture (octave value
 * noise) and colour bars. Modes:
 *   static  the desktop, once;
 *   full    a full-screen change at -f FPS: 8 precomputed frames, each the
 *           desktop shifted horizontally by another 37 px and 3 levels
 *           brighter, so every pixel changes on every frame and no part of
 *           a frame is a copy of the previous one;
 *   scroll  terminal scrolling at -f lines/s: XCopyArea moves the screen
 *           up one 16-px line, then a new line of text is drawn;
 *   marker  the desktop; on each pointer motion a 32x32 magenta box is
 *           drawn with its top-left corner at the pointer (the old box is
 *           restored from the desktop): the input-to-display probe.
 * It prints "ready" on stdout once the first picture is on the screen, then
 * runs until killed.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>

#define LINE_H		16
#define NFRAMES		8
#define SHIFT_PX	37
#define BOX		32

struct img {
	XImage		*xi;
	XShmSegmentInfo	 shm;
	int		 use_shm;
};

static Display	*dpy;
static Window	 win;
static GC	 gc;
static int	 W, H;
static uint32_t	 rng_state;

static uint32_t
rng(void)
{
	/* xorshift32: the same sequence on every run and host. */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void
die(const char *msg)
{
	fprintf(stderr, "content: %s\n", msg);
	exit(1);
}

static void
img_alloc(struct img *im)
{
	Visual *vis = DefaultVisual(dpy, DefaultScreen(dpy));
	int depth = DefaultDepth(dpy, DefaultScreen(dpy));

	memset(im, 0, sizeof(*im));
	if (XShmQueryExtension(dpy)) {
		im->xi = XShmCreateImage(dpy, vis, depth, ZPixmap, NULL,
		    &im->shm, W, H);
		if (im->xi != NULL) {
			im->shm.shmid = shmget(IPC_PRIVATE,
			    (size_t)im->xi->bytes_per_line * H, IPC_CREAT | 0600);
			if (im->shm.shmid < 0)
				die("shmget");
			im->shm.shmaddr = im->xi->data = shmat(im->shm.shmid,
			    NULL, 0);
			im->shm.readOnly = True;
			if (!XShmAttach(dpy, &im->shm))
				die("XShmAttach");
			XSync(dpy, False);
			/* Removed now: freed when both sides detach. */
			shmctl(im->shm.shmid, IPC_RMID, NULL);
			im->use_shm = 1;
			return;
		}
	}
	im->xi = XCreateImage(dpy, vis, depth, ZPixmap, 0, NULL, W, H, 32, 0);
	if (im->xi == NULL)
		die("XCreateImage");
	im->xi->data = calloc((size_t)im->xi->bytes_per_line, H);
	if (im->xi->data == NULL)
		die("out of memory");
}

static void
img_put(struct img *im, int x, int y, int w, int h)
{
	if (im->use_shm)
		XShmPutImage(dpy, win, gc, im->xi, x, y, x, y, w, h, False);
	else
		XPutImage(dpy, win, gc, im->xi, x, y, x, y, w, h);
}

static uint32_t
rgb(int r, int g, int b)
{
	return (uint32_t)r << 16 | (uint32_t)g << 8 | (uint32_t)b;
}

static int
sat(int v)
{
	return v > 255 ? 255 : v;
}

static void
put(XImage *xi, int x, int y, uint32_t c)
{
	((uint32_t *)(void *)(xi->data + (size_t)y * xi->bytes_per_line))[x] = c;
}

/* Smooth value noise of one octave: a lattice of random values, bilinear. */
static void
noise_octave(float *acc, int w, int h, int cell, float amp)
{
	int gw = w / cell + 2, gh = h / cell + 2, x, y;
	float *g = malloc(sizeof(float) * gw * gh);

	if (g == NULL)
		die("out of memory");
	for (x = 0; x < gw * gh; x++)
		g[x] = (float)(rng() & 0xffff) / 65535.0f;
	for (y = 0; y < h; y++) {
		int gy = y / cell;
		float fy = (float)(y % cell) / cell;
		for (x = 0; x < w; x++) {
			int gx = x / cell;
			float fx = (float)(x % cell) / cell;
			float a = g[gy * gw + gx], b = g[gy * gw + gx + 1];
			float c = g[(gy + 1) * gw + gx], d = g[(gy + 1) * gw + gx + 1];
			float top = a + (b - a) * fx, bot = c + (d - c) * fx;
			acc[y * w + x] += amp * (top + (bot - top) * fy);
		}
	}
	free(g);
}

/* A photographic-like texture: three noise fields of 6 octaves each. */
static void
draw_photo(XImage *xi, int x0, int y0, int w, int h)
{
	float *ch[3];
	int c, o, x, y;

	for (c = 0; c < 3; c++) {
		ch[c] = calloc((size_t)w * h, sizeof(float));
		if (ch[c] == NULL)
			die("out of memory");
		for (o = 0; o < 6; o++)
			noise_octave(ch[c], w, h, 128 >> o, 1.0f / (float)(1 << o));
	}
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			int v[3];
			for (c = 0; c < 3; c++) {
				float f = ch[c][y * w + x] / 1.97f;
				/* Fine grain, as a camera sensor adds. */
				f = f * 230.0f + (float)(rng() % 25);
				v[c] = f < 0 ? 0 : f > 255 ? 255 : (int)f;
			}
			put(xi, x0 + x, y0 + y, rgb(v[0], (v[0] + v[1]) / 2, v[2]));
		}
	for (c = 0; c < 3; c++)
		free(ch[c]);
}

static const char *words[] = {
	"moat", "frame", "update", "tight", "zrle", "pixel", "buffer", "socket",
	"drwxr-xr-x", "-rw-r--r--", "root", "4096", "Nov", "22", "main.c",
	"encoder", "latency", "the", "of", "and", "to", "in", "is", "server",
	"client", "rectangle", "display", "session", "capture", "monitor",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static void
make_line(char *buf, size_t len, unsigned n)
{
	size_t off;

	off = (size_t)snprintf(buf, len, "%5u ", n);
	while (off + 12 < len) {
		const char *w = words[rng() % NWORDS];
		size_t l = strlen(w);
		if (off + l + 1 >= len)
			break;
		memcpy(buf + off, w, l);
		off += l;
		buf[off++] = ' ';
	}
	buf[off] = '\0';
}

static void
draw_terminal(int x, int y, int w, int h, unsigned long bg, unsigned long fg)
{
	char line[160];
	int ly, cols = w / 7 - 1;
	unsigned n = 0;

	if (cols > (int)sizeof(line) - 1)
		cols = sizeof(line) - 1;
	XSetForeground(dpy, gc, bg);
	XFillRectangle(dpy, win, gc, x, y, w, h);
	XSetForeground(dpy, gc, fg);
	for (ly = y + LINE_H; ly < y + h - 2; ly += LINE_H) {
		make_line(line, (size_t)cols, n++);
		XDrawString(dpy, win, gc, x + 4, ly - 4, line, (int)strlen(line));
	}
}

/*
 * Draws the desktop into the window and reads it back into IM (so the text
 * is what this X server's fonts make of it).
 */
static void
draw_desktop(struct img *im)
{
	XImage *xi = im->xi, *got;
	int x, y, i;

	/* Gradient background #204a87 -> #729fcf, diagonal. */
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++) {
			int t = (x + 2 * y) * 255 / (W + 2 * H);
			put(xi, x, y, rgb(0x20 + (0x72 - 0x20) * t / 255,
			    0x4a + (0x9f - 0x4a) * t / 255,
			    0x87 + (0xcf - 0x87) * t / 255));
		}
	draw_photo(xi, 1240, 60, 600, 600);
	/* Colour bars (a test card's flat areas). */
	for (i = 0; i < 8; i++) {
		uint32_t c = rgb(i & 4 ? 0xc0 : 0, i & 2 ? 0xc0 : 0, i & 1 ? 0xc0 : 0);
		for (y = 700; y < 760; y++)
			for (x = 1240 + i * 75; x < 1240 + (i + 1) * 75; x++)
				put(xi, x, y, c);
	}
	img_put(im, 0, 0, W, H);
	draw_terminal(40, 40, 1100, 520, 0xffffff, 0x000000);
	draw_terminal(80, 600, 980, 400, 0x1e1e1e, 0xd0d0d0);
	XSync(dpy, False);
	got = XGetImage(dpy, win, 0, 0, W, H, AllPlanes, ZPixmap);
	if (got == NULL)
		die("XGetImage");
	for (y = 0; y < H; y++)
		memcpy(xi->data + (size_t)y * xi->bytes_per_line,
		    got->data + (size_t)y * got->bytes_per_line, (size_t)W * 4);
	XDestroyImage(got);
}

static void
tick_sleep(struct timespec *next, long period_ns)
{
	next->tv_nsec += period_ns;
	while (next->tv_nsec >= 1000000000L) {
		next->tv_nsec -= 1000000000L;
		next->tv_sec++;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR)
		;
}

static void
run_full(struct img *desk, int fps)
{
	struct img fr[NFRAMES];
	struct timespec next;
	int k, y, n = 0;

	for (k = 0; k < NFRAMES; k++) {
		int s = (k + 1) * SHIFT_PX, x;
		int add = k * 3;
		img_alloc(&fr[k]);
		for (y = 0; y < H; y++) {
			uint32_t *dst = (uint32_t *)(void *)(fr[k].xi->data +
			    (size_t)y * fr[k].xi->bytes_per_line);
			uint32_t *src = (uint32_t *)(void *)(desk->xi->data +
			    (size_t)y * desk->xi->bytes_per_line);
			/*
			 * Shifted, and each frame 3 levels brighter than the
			 * last (saturating), so that no part of a frame is an
			 * exact copy of the previous one: a server's motion
			 * detection (CopyRect) cannot shortcut the change.
			 */
			for (x = 0; x < W; x++) {
				uint32_t p = src[(x + s) % W];
				dst[x] = rgb(sat((int)(p >> 16 & 0xff) + add),
				    sat((int)(p >> 8 & 0xff) + add),
				    sat((int)(p & 0xff) + add));
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		img_put(&fr[n++ % NFRAMES], 0, 0, W, H);
		XSync(dpy, False);
		tick_sleep(&next, 1000000000L / fps);
	}
}

static void
run_scroll(int lps)
{
	struct timespec next;
	char line[200];
	unsigned n = 1000;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		XCopyArea(dpy, win, win, gc, 0, LINE_H, W, H - LINE_H, 0, 0);
		XSetForeground(dpy, gc, 0x101010);
		XFillRectangle(dpy, win, gc, 0, H - LINE_H, W, LINE_H);
		XSetForeground(dpy, gc, 0x30e030);
		make_line(line, sizeof(line), n++);
		XDrawString(dpy, win, gc, 4, H - 4, line, (int)strlen(line));
		XSync(dpy, False);
		tick_sleep(&next, 1000000000L / lps);
	}
}

static void
run_marker(struct img *desk)
{
	XEvent ev;
	int bx = -1, by = -1;

	XSelectInput(dpy, win, PointerMotionMask);
	XSync(dpy, False);
	for (;;) {
		int x, y;

		XNextEvent(dpy, &ev);
		if (ev.type != MotionNotify)
			continue;
		/* Only the latest position matters. */
		while (XCheckTypedWindowEvent(dpy, win, MotionNotify, &ev))
			;
		x = ev.xmotion.x;
		y = ev.xmotion.y;
		if (bx >= 0)
			img_put(desk, bx, by, BOX, BOX);
		if (x > W - BOX)
			x = W - BOX;
		if (y > H - BOX)
			y = H - BOX;
		XSetForeground(dpy, gc, 0xff00ff);
		XFillRectangle(dpy, win, gc, x, y, BOX, BOX);
		XFlush(dpy);
		bx = x;
		by = y;
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: content [-d display] -m static|full|scroll|marker "
	    "[-f rate] [-s seed]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	XSetWindowAttributes wa;
	struct img desk;
	const char *display = NULL, *mode = "static";
	int ch, rate = 30;

	rng_state = 0x6d6f6174;	/* "moat" */
	while ((ch = getopt(argc, argv, "d:m:f:s:")) != -1) {
		switch (ch) {
		case 'd': display = optarg; break;
		case 'm': mode = optarg; break;
		case 'f': rate = atoi(optarg); break;
		case 's': rng_state = (uint32_t)strtoul(optarg, NULL, 0) | 1; break;
		default: usage();
		}
	}
	if (rate < 1 || rate > 1000)
		usage();
	if ((dpy = XOpenDisplay(display)) == NULL)
		die("cannot open the display");
	if (DefaultDepth(dpy, DefaultScreen(dpy)) != 24)
		die("the display must have depth 24");
	W = DisplayWidth(dpy, DefaultScreen(dpy));
	H = DisplayHeight(dpy, DefaultScreen(dpy));
	wa.override_redirect = True;
	wa.background_pixel = 0;
	win = XCreateWindow(dpy, DefaultRootWindow(dpy), 0, 0, W, H, 0,
	    CopyFromParent, InputOutput, CopyFromParent,
	    CWOverrideRedirect | CWBackPixel, &wa);
	XSelectInput(dpy, win, ExposureMask);
	XMapRaised(dpy, win);
	for (;;) {
		XEvent ev;
		XNextEvent(dpy, &ev);
		if (ev.type == Expose)
			break;
	}
	XSelectInput(dpy, win, 0);
	gc = XCreateGC(dpy, win, 0, NULL);
	XSetGraphicsExposures(dpy, gc, False);
	{
		XFontStruct *f = XLoadQueryFont(dpy, "-misc-fixed-medium-r-normal--13-120-75-75-c-70-iso8859-1");
		if (f == NULL)
			f = XLoadQueryFont(dpy, "fixed");
		if (f != NULL)
			XSetFont(dpy, gc, f->fid);
	}
	img_alloc(&desk);
	draw_desktop(&desk);
	XSync(dpy, False);
	printf("ready %dx%d\n", W, H);
	fflush(stdout);
	if (strcmp(mode, "full") == 0)
		run_full(&desk, rate);
	else if (strcmp(mode, "scroll") == 0)
		run_scroll(rate);
	else if (strcmp(mode, "marker") == 0)
		run_marker(&desk);
	else if (strcmp(mode, "static") != 0)
		usage();
	for (;;)
		pause();
}
