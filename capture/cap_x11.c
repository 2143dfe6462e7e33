/*
 * cap_x11.c - moat-session's screen capture: opens the X display, checks
 * its pixel format, keeps the framebuffer memfd (sealed so that moat-net can
 * only map it read-only and never shrink it) and fills it from the damaged
 * parts of the root window with MIT-SHM (XGetImage when SHM is missing).
 *
 * Runs in moat-session as the desktop's owner. It trusts the X server it
 * was pointed at for pixels and geometry (and still clips every rectangle
 * to the screen before copying); no input from moat-net reaches this file
 * except the choice of when to capture.
 */
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <X11/Xlib-xcb.h>
#include <X11/Xutil.h>
#include <xcb/shm.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "cap.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010	/* Linux 5.1 */
#endif

/* Many small rectangles are captured as their bounding box instead. */
#define CAP_MAX_SEPARATE_GETS	64

static struct cap *x_ctx;	/* for the Xlib error callbacks */

static int
on_x_error(Display *dpy, XErrorEvent *e)
{
	char text[128];

	if (x_ctx != NULL && x_ctx->trapping) {
		if (x_ctx->xerror == 0)
			x_ctx->xerror = e->error_code;
		return 0;
	}
	XGetErrorText(dpy, e->error_code, text, sizeof(text));
	/* Requestor windows vanish, owners die: never fatal. */
	warn_f("X error: %s (request %u.%u, resource 0x%lx)", text,
	    e->request_code, e->minor_code, e->resourceid);
	return 0;
}

static int
on_x_io_error(Display *dpy)
{
	fatal_f("lost the connection to the X display");
}

void
cap_x11_trap(struct cap *c)
{
	XSync(c->dpy, False);
	c->xerror = 0;
	c->trapping = 1;
}

int
cap_x11_untrap(struct cap *c)
{
	int e;

	XSync(c->dpy, False);
	c->trapping = 0;
	e = c->xerror;
	c->xerror = 0;
	return e;
}

static int
host_is_lsb(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 1;
}

static void
shm_destroy(struct cap *c)
{
	if (c->shmimg == NULL)
		return;
	if (c->shm_attached) {
		XShmDetach(c->dpy, &c->shm);
		XSync(c->dpy, False);
		c->shm_attached = 0;
	}
	if (c->shm.shmaddr != NULL && c->shm.shmaddr != (char *)-1)
		shmdt(c->shm.shmaddr);
	/* libXext's destroy frees only the XImage; detach data and obdata anyway. */
	c->shmimg->data = NULL;
	c->shmimg->obdata = NULL;
	XDestroyImage(c->shmimg);
	c->shmimg = NULL;
	memset(&c->shm, 0, sizeof(c->shm));
}

/*
 * Creates a SysV segment of mode 0600 for a w x h screen, attaches both
 * sides and removes its id at once. Falls back to XGetImage on failure.
 */
static void
shm_create(struct cap *c, unsigned w, unsigned h)
{
	XImage *img;
	size_t size;
	int e;

	if (!c->shm_ok)
		return;
	memset(&c->shm, 0, sizeof(c->shm));
	c->shm.shmid = -1;
	img = XShmCreateImage(c->dpy, c->visual, (unsigned)c->depth, ZPixmap,
	    NULL, &c->shm, w, h);
	if (img == NULL || img->bits_per_pixel != 32 ||
	    img->bytes_per_line != (int)(w * 4)) {
		warn_f("XShmCreateImage unusable; falling back to XGetImage");
		if (img != NULL) {
			img->obdata = NULL;
			XDestroyImage(img);
		}
		c->shm_ok = 0;
		return;
	}
	c->shmimg = img;
	size = (size_t)img->bytes_per_line * (size_t)img->height;
	c->shm.shmid = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
	if (c->shm.shmid == -1) {
		warn_f("shmget %zu bytes: %s; falling back to XGetImage", size,
		    strerror(errno));
		goto fail;
	}
	c->shm.shmaddr = shmat(c->shm.shmid, NULL, 0);
	if (c->shm.shmaddr == (char *)-1) {
		warn_f("shmat: %s; falling back to XGetImage", strerror(errno));
		shmctl(c->shm.shmid, IPC_RMID, NULL);
		goto fail;
	}
	img->data = c->shm.shmaddr;
	c->shm.readOnly = False;
	cap_x11_trap(c);
	XShmAttach(c->dpy, &c->shm);
	e = cap_x11_untrap(c);
	/* Both sides are attached (or the server refused): remove the id now. */
	shmctl(c->shm.shmid, IPC_RMID, NULL);
	if (e != 0) {
		warn_f("the X server cannot attach our SHM segment (error %d); "
		    "falling back to XGetImage", e);
		goto fail;
	}
	c->shm_attached = 1;
	debug_f("SHM segment of %zu bytes attached (mode 0600, removed)", size);
	return;
fail:
	shm_destroy(c);
	c->shm_ok = 0;
}

static void
fb_unmap(struct cap *c)
{
	cap_shmfd_detach(c);
	if (c->fb != NULL)
		munmap(c->fb, c->fbsize);
	if (c->memfd != -1)
		close(c->memfd);
	c->fb = NULL;
	c->memfd = -1;
	c->fbsize = 0;
}

/* Makes a sealed memfd for a w x h screen and maps it for ourselves. */
static int
fb_create(struct cap *c, unsigned w, unsigned h)
{
	size_t size = (size_t)w * h * 4;
	uint32_t seg = 0;
	uint8_t *map;
	int fd, direct;

	fd = memfd_create("moat-fb", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1) {
		error_f("memfd_create: %s", strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	if (ftruncate(fd, (off_t)size) != 0) {
		error_f("ftruncate memfd to %zu: %s", size, strerror(errno));
		close(fd);
		return MOAT_ERR_SYSTEM;
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		error_f("mmap memfd: %s", strerror(errno));
		close(fd);
		return MOAT_ERR_SYSTEM;
	}
	/* The X server's mapping for full-width rows, before the seal. */
	direct = cap_shmfd_attach(c, fd, &seg);
	/* Our mapping stays writable; nobody can map it writable again. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) != 0) {
		error_f("sealing the framebuffer memfd: %s (needs Linux 5.1)",
		    strerror(errno));
		if (direct)
			xcb_shm_detach(XGetXCBConnection(c->dpy), seg);
		munmap(map, size);
		close(fd);
		return MOAT_ERR_SYSTEM;
	}
	fb_unmap(c);
	c->fbseg = seg;
	c->fbseg_ok = direct;
	c->memfd = fd;
	c->fb = map;
	c->fbsize = size;
	c->stride = w * 4;
	c->width = w;
	c->height = h;
	return 0;
}

/* Copies w x h 32-bit pixels (rows sstride bytes apart) to the memfd at x, y. */
static void
copy_block(struct cap *c, const uint8_t *src, size_t sstride, unsigned x,
    unsigned y, unsigned w, unsigned h)
{
	unsigned row, i;

	for (row = 0; row < h; row++) {
		uint8_t *dst = c->fb + (size_t)(y + row) * c->stride +
		    (size_t)x * 4;
		const uint8_t *s = src + (size_t)row * sstride;

		if (!c->swap) {
			memcpy(dst, s, (size_t)w * 4);
			continue;
		}
		for (i = 0; i < w; i++) {
			dst[4 * i] = s[4 * i + 3];
			dst[4 * i + 1] = s[4 * i + 2];
			dst[4 * i + 2] = s[4 * i + 1];
			dst[4 * i + 3] = s[4 * i];
		}
	}
}

static int
capture_one(struct cap *c, unsigned x, unsigned y, unsigned w, unsigned h)
{
	XImage *img;
	int e, ok;

	/*
	 * Both requests are round trips: an error arrives in place of the
	 * reply, so a trap without the usual XSync suffices here.
	 */
	/* Whole rows: the X server writes them into the memfd itself. */
	if (c->fbseg_ok && x == 0 && w == c->width) {
		if (cap_shmfd_get(c, y, h) == 0)
			return 0;
		warn_f("capturing into the memfd failed; copying from now on");
		cap_shmfd_detach(c);
	}
	c->xerror = 0;
	c->trapping = 1;
	if (c->shm_ok && c->shmimg != NULL) {
		c->shmimg->width = (int)w;
		c->shmimg->height = (int)h;
		c->shmimg->bytes_per_line = (int)(w * 4);
		ok = XShmGetImage(c->dpy, c->root, c->shmimg, (int)x, (int)y,
		    AllPlanes);
		c->trapping = 0;
		e = c->xerror;
		if (!ok || e != 0) {
			warn_f("XShmGetImage %ux%u+%u+%u failed (error %d)",
			    w, h, x, y, e);
			return MOAT_ERR_SYSTEM;
		}
		copy_block(c, (const uint8_t *)c->shm.shmaddr, (size_t)w * 4,
		    x, y, w, h);
		return 0;
	}
	img = XGetImage(c->dpy, c->root, (int)x, (int)y, w, h, AllPlanes,
	    ZPixmap);
	c->trapping = 0;
	e = c->xerror;
	if (img == NULL) {
		warn_f("XGetImage %ux%u+%u+%u failed (error %d)", w, h, x, y,
		    e);
		return MOAT_ERR_SYSTEM;
	}
	if (img->bits_per_pixel != 32 || img->bytes_per_line < (int)(w * 4) ||
	    img->width != (int)w || img->height != (int)h) {
		warn_f("XGetImage returned an unexpected layout");
		XDestroyImage(img);
		return MOAT_ERR_INVALID;
	}
	copy_block(c, (const uint8_t *)img->data, (size_t)img->bytes_per_line,
	    x, y, w, h);
	XDestroyImage(img);
	return 0;
}

int
cap_x11_capture(struct cap *c, const struct cap_rect *r, unsigned n)
{
	struct cap_rects all;
	struct cap_rect bb;
	unsigned i;
	int rv = 0, e;

	if (n > CAP_MAX_SEPARATE_GETS) {
		cap_rects_clear(&all);
		for (i = 0; i < n; i++)
			(void)cap_rects_add(&all, r[i].x, r[i].y, r[i].w,
			    r[i].h, c->width, c->height);
		if (cap_rects_bounds(&all, &bb) != 0)
			return 0;
		r = &bb;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		unsigned x = r[i].x, y = r[i].y, w = r[i].w, h = r[i].h;

		/* Never trust a rectangle to lie on the screen. */
		if (x >= c->width || y >= c->height || w == 0 || h == 0)
			continue;
		if (w > c->width - x)
			w = c->width - x;
		if (h > c->height - y)
			h = c->height - y;
		/*
		 * Half the width or more: the whole rows, which go straight
		 * into the memfd, cost less than copying the part.
		 */
		if (c->fbseg_ok && w >= c->width / 2) {
			x = 0;
			w = c->width;
		}
		if ((e = capture_one(c, x, y, w, h)) != 0)
			rv = e;
	}
	c->generation++;
	return rv;
}

int
cap_x11_fetch_damage(struct cap *c)
{
	XRectangle *rects, bounds;
	unsigned i, j;
	int n = 0;

	c->damage_flag = 0;
	XDamageSubtract(c->dpy, c->damage, None, c->region);
	rects = XFixesFetchRegionAndBounds(c->dpy, c->region, &n, &bounds);
	if (rects == NULL && n != 0)
		return MOAT_ERR_SYSTEM;
	for (j = 0; j < c->nch; j++) {
		struct cap_channel *ch = c->ch[j];

		if (ch->dead || !(ch->perms & IPC_PERM_VIEW))
			continue;
		if ((unsigned)n > IPC_MAX_DAMAGE_RECTS) {
			(void)cap_rects_add(&ch->pending, bounds.x, bounds.y,
			    bounds.width, bounds.height, c->width, c->height);
			continue;
		}
		for (i = 0; i < (unsigned)n; i++)
			(void)cap_rects_add(&ch->pending, rects[i].x,
			    rects[i].y, rects[i].width, rects[i].height,
			    c->width, c->height);
	}
	if (rects != NULL)
		XFree(rects);
	return 0;
}

int
cap_x11_fb_payload(struct cap *c, struct buf *b)
{
	struct ipc_cap_framebuffer f = { (uint16_t)c->width,
	    (uint16_t)c->height, c->stride, (uint32_t)c->fbsize, 32,
	    (uint8_t)c->depth, c->rmask, c->gmask, c->bmask };

	return ipc_msg_put_cap_framebuffer(b, &f);
}

static int
geometry_ok(unsigned w, unsigned h)
{
	/* u16 on the wire; stride and size must fit a u32. */
	return w > 0 && h > 0 && w <= UINT16_MAX && h <= UINT16_MAX &&
	    (uint64_t)w * h * 4 <= UINT32_MAX;
}

/* Creates framebuffer and SHM for w x h and fills the framebuffer. */
static int
setup_screen(struct cap *c, unsigned w, unsigned h)
{
	struct cap_rect full;
	int r;

	if (!geometry_ok(w, h)) {
		error_f("unsupported screen size %ux%u", w, h);
		return MOAT_ERR_UNSUPPORTED;
	}
	shm_destroy(c);
	if ((r = fb_create(c, w, h)) != 0)
		return r;
	shm_create(c, w, h);
	full.x = full.y = 0;
	full.w = (uint16_t)w;
	full.h = (uint16_t)h;
	(void)cap_x11_capture(c, &full, 1);
	return 0;
}

int
cap_x11_resize(struct cap *c, unsigned w, unsigned h)
{
	int r;

	if (w == c->width && h == c->height)
		return 0;
	info_f("screen resized from %ux%u to %ux%u", c->width, c->height, w, h);
	if ((r = setup_screen(c, w, h)) != 0)
		return r;
	cap_channels_new_fb(c);
	return 0;
}

static int
check_format(struct cap *c)
{
	XPixmapFormatValues *pf;
	int i, n, bpp = 0;

	if (c->visual->class != TrueColor) {
		error_f("the default visual is not TrueColor (class %d); "
		    "moat-session needs a 24- or 32-bit TrueColor screen",
		    c->visual->class);
		return MOAT_ERR_UNSUPPORTED;
	}
	if ((pf = XListPixmapFormats(c->dpy, &n)) == NULL) {
		error_f("XListPixmapFormats failed");
		return MOAT_ERR_SYSTEM;
	}
	for (i = 0; i < n; i++)
		if (pf[i].depth == c->depth)
			bpp = pf[i].bits_per_pixel;
	XFree(pf);
	if ((c->depth != 24 && c->depth != 32) || bpp != 32) {
		error_f("screen depth %d uses %d bits per pixel; moat-session "
		    "needs depth 24 or 32 with 32 bits per pixel", c->depth,
		    bpp);
		return MOAT_ERR_UNSUPPORTED;
	}
	c->rmask = (uint32_t)c->visual->red_mask;
	c->gmask = (uint32_t)c->visual->green_mask;
	c->bmask = (uint32_t)c->visual->blue_mask;
	if (c->rmask == 0 || c->gmask == 0 || c->bmask == 0 ||
	    (c->rmask & c->gmask) || (c->rmask & c->bmask) ||
	    (c->gmask & c->bmask)) {
		error_f("unusable visual masks %08x/%08x/%08x",
		    c->rmask, c->gmask, c->bmask);
		return MOAT_ERR_UNSUPPORTED;
	}
	/* The memfd holds native-endian u32 pixels whatever the server's order. */
	c->swap = (ImageByteOrder(c->dpy) == LSBFirst) != host_is_lsb();
	return 0;
}

int
cap_x11_open(struct cap *c, const char *display)
{
	XWindowAttributes wa;
	int maj, min, r, flags, xfd;
	Bool pixmaps;

	x_ctx = c;
	c->memfd = -1;
	XSetErrorHandler(on_x_error);
	XSetIOErrorHandler(on_x_io_error);
	if ((c->dpy = XOpenDisplay(display)) == NULL) {
		if (display == NULL && (display = getenv("DISPLAY")) == NULL)
			display = "(DISPLAY unset)";
		error_f("cannot open X display \"%s\"", display);
		return MOAT_ERR_SYSTEM;
	}
	xfd = ConnectionNumber(c->dpy);
	if ((flags = fcntl(xfd, F_GETFD)) != -1)
		(void)fcntl(xfd, F_SETFD, flags | FD_CLOEXEC);
	c->screen = DefaultScreen(c->dpy);
	c->root = RootWindow(c->dpy, c->screen);
	c->visual = DefaultVisual(c->dpy, c->screen);
	c->depth = DefaultDepth(c->dpy, c->screen);
	if ((r = check_format(c)) != 0)
		return r;
	if (!XDamageQueryExtension(c->dpy, &c->damage_ev, &c->damage_err) ||
	    !XDamageQueryVersion(c->dpy, &maj, &min)) {
		error_f("the X server lacks the DAMAGE extension");
		return MOAT_ERR_UNSUPPORTED;
	}
	if (!XFixesQueryExtension(c->dpy, &c->fixes_ev, &c->fixes_err) ||
	    !XFixesQueryVersion(c->dpy, &maj, &min) || maj < 2) {
		error_f("the X server lacks XFIXES 2.0");
		return MOAT_ERR_UNSUPPORTED;
	}
	c->shm_ok = XShmQueryExtension(c->dpy) &&
	    XShmQueryVersion(c->dpy, &maj, &min, &pixmaps);
	if (!c->shm_ok)
		info_f("no MIT-SHM on this display: capturing with XGetImage");
	if (!XGetWindowAttributes(c->dpy, c->root, &wa)) {
		error_f("cannot read the root window's geometry");
		return MOAT_ERR_SYSTEM;
	}
	XSelectInput(c->dpy, c->root, StructureNotifyMask);
	c->damage = XDamageCreate(c->dpy, c->root, XDamageReportNonEmpty);
	c->region = XFixesCreateRegion(c->dpy, NULL, 0);
	if ((r = setup_screen(c, (unsigned)wa.width, (unsigned)wa.height)) != 0)
		return r;
	info_f("display %s: %ux%u depth %d, masks %08x/%08x/%08x, %s",
	    DisplayString(c->dpy), c->width, c->height, c->depth, c->rmask,
	    c->gmask, c->bmask, c->shm_ok ? "MIT-SHM" : "XGetImage");
	return 0;
}

void
cap_x11_close(struct cap *c)
{
	if (c->dpy == NULL)
		return;
	shm_destroy(c);
	fb_unmap(c);
	if (c->damage != None)
		XDamageDestroy(c->dpy, c->damage);
	if (c->region != None)
		XFixesDestroyRegion(c->dpy, c->region);
	XCloseDisplay(c->dpy);
	c->dpy = NULL;
	x_ctx = NULL;
}
