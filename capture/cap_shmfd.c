/*
 * cap_shmfd.c - the framebuffer memfd shared with the X server as an
 * MIT-SHM segment (version 1.2's AttachFd, through the XCB side of the
 * Xlib connection), so that rows spanning the whole screen are captured
 * straight into the memfd: the X server writes them where moat-net reads
 * them, instead of into a SysV segment that moat-session then copies
 * (8 MB a frame at 1080p). Runs in moat-session as the desktop's owner;
 * the X server is the desktop itself, trusted as it is for every capture.
 *
 * The segment is attached before the memfd is sealed against new writable
 * mappings (cap_x11.c's fb_create()), so the server maps it writable and
 * nobody can later; moat-net still maps it read-only. A row written while
 * moat-net reads it is the same tearing as a copy's, healed by the damage
 * that reports it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <X11/Xlib-xcb.h>
#include <xcb/shm.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "cap.h"

int
cap_shmfd_attach(struct cap *c, int memfd, uint32_t *segp)
{
	const xcb_query_extension_reply_t *ext;
	xcb_shm_query_version_reply_t *ver;
	xcb_generic_error_t *err;
	xcb_connection_t *xc;
	uint32_t seg;
	int fd;

	if (!c->shm_ok || c->swap)
		return 0;
	xc = XGetXCBConnection(c->dpy);
	ext = xcb_get_extension_data(xc, &xcb_shm_id);
	if (ext == NULL || !ext->present)
		return 0;
	ver = xcb_shm_query_version_reply(xc, xcb_shm_query_version(xc), NULL);
	if (ver == NULL || ver->major_version < 1 ||
	    (ver->major_version == 1 && ver->minor_version < 2)) {
		debug_f("MIT-SHM %u.%u: no AttachFd, captures are copied",
		    ver != NULL ? ver->major_version : 0,
		    ver != NULL ? ver->minor_version : 0);
		free(ver);
		return 0;
	}
	free(ver);
	/* XCB sends the descriptor and closes it: give it a copy. */
	if ((fd = fcntl(memfd, F_DUPFD_CLOEXEC, 3)) == -1) {
		warn_f("dup of the framebuffer memfd: %s", strerror(errno));
		return 0;
	}
	seg = xcb_generate_id(xc);
	err = xcb_request_check(xc, xcb_shm_attach_fd_checked(xc, seg, fd, 0));
	if (err != NULL) {
		info_f("the X server cannot attach the framebuffer memfd (error "
		    "%u); captures are copied", err->error_code);
		free(err);
		return 0;
	}
	*segp = seg;
	info_f("framebuffer memfd attached to the X server (MIT-SHM "
	    "AttachFd): whole rows are captured straight into it");
	return 1;
}

int
cap_shmfd_get(struct cap *c, unsigned y, unsigned h)
{
	xcb_shm_get_image_reply_t *rep;
	xcb_generic_error_t *err = NULL;
	xcb_connection_t *xc = XGetXCBConnection(c->dpy);
	uint64_t want = (uint64_t)c->stride * h;

	if (!c->fbseg_ok || y >= c->height || h > c->height - y)
		return MOAT_ERR_INVALID;
	rep = xcb_shm_get_image_reply(xc, xcb_shm_get_image(xc,
	    (xcb_drawable_t)c->root, 0, (int16_t)y, (uint16_t)c->width,
	    (uint16_t)h, ~0u, XCB_IMAGE_FORMAT_Z_PIXMAP, c->fbseg,
	    (uint32_t)((size_t)y * c->stride)), &err);
	if (rep == NULL || err != NULL || rep->size != want) {
		warn_f("ShmGetImage of rows %u..%u into the memfd failed "
		    "(error %u, %u bytes)", y, y + h,
		    err != NULL ? err->error_code : 0,
		    rep != NULL ? rep->size : 0);
		free(rep);
		free(err);
		return MOAT_ERR_SYSTEM;
	}
	free(rep);
	return 0;
}

void
cap_shmfd_detach(struct cap *c)
{
	xcb_connection_t *xc;

	if (!c->fbseg_ok)
		return;
	xc = XGetXCBConnection(c->dpy);
	xcb_shm_detach(xc, c->fbseg);
	xcb_flush(xc);
	c->fbseg_ok = 0;
	c->fbseg = 0;
}
