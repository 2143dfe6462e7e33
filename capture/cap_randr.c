/*
 * cap_randr.c - moat-session's desktop resize for SetDesktopSize: sets the
 * X screen's size and the CRTC of its first connected output with RandR
 * 1.2, in a mode of that size the output has or one moat creates (and
 * removes again once it is not used).
 *
 * Runs in moat-session as the desktop's owner. It trusts the X server for
 * its configuration. The size comes from a viewer through moat-net, so it
 * is used only after cap_channel.c decoded it (1..16384 each way) and
 * found the channel's grant holding IPC_PERM_RESIZE; here it is checked
 * again against the X server's own range. A change the X server refuses
 * is rolled back: the screen keeps its size and its mode.
 */
#include <stdio.h>
#include <string.h>

#include <X11/extensions/Xrandr.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "cap.h"

/* The physical size announced for a new screen size: 96 dots per inch. */
#define CAP_RANDR_DPI_X10	960

/* What the resize found out about the display; freed by rr_free(). */
struct rr {
	XRRScreenResources *res;
	XRROutputInfo *out;
	XRRCrtcInfo *crtc;
	RROutput output;
	RRCrtc crtc_id;
	unsigned old_w, old_h;		/* the screen's size before */
};

static void
rr_free(struct rr *rr)
{
	if (rr->crtc != NULL)
		XRRFreeCrtcInfo(rr->crtc);
	if (rr->out != NULL)
		XRRFreeOutputInfo(rr->out);
	if (rr->res != NULL)
		XRRFreeScreenResources(rr->res);
	memset(rr, 0, sizeof(*rr));
}

int
cap_randr_init(struct cap *c)
{
	int ev, err, maj = 0, min = 0;

	c->randr_ok = 0;
	c->randr_mode = 0;
	c->randr_output = 0;
	if (!XRRQueryExtension(c->dpy, &ev, &err) ||
	    !XRRQueryVersion(c->dpy, &maj, &min) ||
	    maj < 1 || (maj == 1 && min < 2)) {
		info_f("the display has no RandR 1.2 (version %d.%d): viewers "
		    "cannot resize it", maj, min);
		return 0;
	}
	c->randr_ok = 1;
	debug_f("RandR %d.%d: viewers with the resize right may resize the "
	    "desktop", maj, min);
	return 0;
}

/* The width and height of mode id in res, or 0 x 0. */
static void
mode_size(const XRRScreenResources *res, RRMode id, unsigned *w, unsigned *h)
{
	int i;

	*w = *h = 0;
	for (i = 0; i < res->nmode; i++)
		if (res->modes[i].id == id) {
			*w = res->modes[i].width;
			*h = res->modes[i].height;
		}
}

/* A mode of w x h that rr's output lists, or None. */
static RRMode
find_mode(const struct rr *rr, unsigned w, unsigned h)
{
	unsigned mw, mh;
	int j;

	for (j = 0; j < rr->out->nmode; j++) {
		mode_size(rr->res, rr->out->modes[j], &mw, &mh);
		if (mw == w && mh == h)
			return rr->out->modes[j];
	}
	return None;
}

/*
 * Finds the first connected output that drives a CRTC and checks that the
 * desktop uses no other CRTC and no clone. Returns 0, or MOAT_ERR_* with
 * why set.
 */
static int
find_output(struct cap *c, struct rr *rr, char *why, size_t whylen)
{
	XRRCrtcInfo *ci;
	int i, others = 0;

	if ((rr->res = XRRGetScreenResourcesCurrent(c->dpy, c->root)) == NULL) {
		snprintf(why, whylen, "the X server gave no RandR resources");
		return MOAT_ERR_UNSUPPORTED;
	}
	for (i = 0; i < rr->res->noutput && rr->out == NULL; i++) {
		XRROutputInfo *oi = XRRGetOutputInfo(c->dpy, rr->res,
		    rr->res->outputs[i]);

		if (oi == NULL)
			continue;
		if (oi->connection == RR_Connected && oi->crtc != None) {
			rr->out = oi;
			rr->output = rr->res->outputs[i];
			rr->crtc_id = oi->crtc;
		} else
			XRRFreeOutputInfo(oi);
	}
	if (rr->out == NULL) {
		snprintf(why, whylen, "no connected output drives a CRTC");
		return MOAT_ERR_UNSUPPORTED;
	}
	if ((rr->crtc = XRRGetCrtcInfo(c->dpy, rr->res, rr->crtc_id)) == NULL) {
		snprintf(why, whylen, "the X server gave no CRTC information");
		return MOAT_ERR_UNSUPPORTED;
	}
	for (i = 0; i < rr->res->ncrtc; i++) {
		if (rr->res->crtcs[i] == rr->crtc_id)
			continue;
		if ((ci = XRRGetCrtcInfo(c->dpy, rr->res,
		    rr->res->crtcs[i])) == NULL)
			continue;
		if (ci->mode != None)
			others++;
		XRRFreeCrtcInfo(ci);
	}
	if (others > 0 || rr->crtc->noutput != 1) {
		snprintf(why, whylen, "the desktop uses %d outputs%s; moat "
		    "resizes a desktop of one output only", others + 1,
		    rr->crtc->noutput != 1 ? " with clones" : "");
		return MOAT_ERR_INVALID;
	}
	if (rr->crtc->rotation != RR_Rotate_0) {
		snprintf(why, whylen, "the output is rotated or reflected");
		return MOAT_ERR_UNSUPPORTED;
	}
	return 0;
}

/* Creates a w x h mode and adds it to rr's output; None if the server refuses. */
static RRMode
create_mode(struct cap *c, struct rr *rr, unsigned w, unsigned h)
{
	char name[32];
	XRRModeInfo mi;
	RRMode mode;

	/* Plausible 60 Hz timings: a virtual output scans nothing out. */
	snprintf(name, sizeof(name), "%ux%u_moat", w, h);
	memset(&mi, 0, sizeof(mi));
	mi.width = w;
	mi.height = h;
	mi.hSyncStart = w + 48;
	mi.hSyncEnd = w + 80;
	mi.hTotal = w + 160;
	mi.vSyncStart = h + 3;
	mi.vSyncEnd = h + 9;
	mi.vTotal = h + 30;
	/* 60 Hz, or less where the clock would not fit the protocol's 32 bits. */
	mi.dotClock = (unsigned long)mi.hTotal * mi.vTotal * 60;
	if (mi.dotClock > UINT32_MAX)
		mi.dotClock = UINT32_MAX;
	mi.name = name;
	mi.nameLength = (unsigned)strlen(name);
	mi.modeFlags = RR_HSyncPositive | RR_VSyncNegative;
	cap_x11_trap(c);
	mode = XRRCreateMode(c->dpy, c->root, &mi);
	if (cap_x11_untrap(c) != 0 || mode == None)
		return None;
	cap_x11_trap(c);
	XRRAddOutputMode(c->dpy, rr->output, mode);
	if (cap_x11_untrap(c) != 0) {
		cap_x11_trap(c);
		XRRDestroyMode(c->dpy, mode);
		(void)cap_x11_untrap(c);
		return None;
	}
	return mode;
}

/* Removes mode (one moat created) from output and destroys it; errors ignored. */
static void
drop_mode(struct cap *c, unsigned long output, unsigned long mode)
{
	cap_x11_trap(c);
	XRRDeleteOutputMode(c->dpy, (RROutput)output, (RRMode)mode);
	XRRDestroyMode(c->dpy, (RRMode)mode);
	if (cap_x11_untrap(c) != 0)
		debug_f("mode 0x%lx could not be removed", mode);
}

static int
mm(unsigned px)
{
	unsigned v = px * 254u / CAP_RANDR_DPI_X10;

	return v > 0 ? (int)v : 1;
}

/*
 * Sets the screen to w x h and the CRTC to mode, under a server grab: the
 * CRTC is switched off first if its mode would not fit the new size.
 * Returns 0, or the first X error code (or -1 for a refused CRTC
 * configuration); the caller rolls back.
 */
static int
apply(struct cap *c, struct rr *rr, unsigned w, unsigned h, RRMode mode)
{
	unsigned cw, ch;
	Status st;
	int e;

	mode_size(rr->res, rr->crtc->mode, &cw, &ch);
	cap_x11_trap(c);
	if ((unsigned)rr->crtc->x + cw > w || (unsigned)rr->crtc->y + ch > h) {
		st = XRRSetCrtcConfig(c->dpy, rr->res, rr->crtc_id, CurrentTime,
		    0, 0, None, RR_Rotate_0, NULL, 0);
		if (st != RRSetConfigSuccess) {
			(void)cap_x11_untrap(c);
			return -1;
		}
	}
	XRRSetScreenSize(c->dpy, c->root, (int)w, (int)h, mm(w), mm(h));
	if ((e = cap_x11_untrap(c)) != 0)
		return e;
	cap_x11_trap(c);
	st = XRRSetCrtcConfig(c->dpy, rr->res, rr->crtc_id, CurrentTime, 0, 0,
	    mode, RR_Rotate_0, &rr->output, 1);
	e = cap_x11_untrap(c);
	return e != 0 ? e : st != RRSetConfigSuccess ? -1 : 0;
}

/*
 * Puts back the screen size and CRTC rr found (with fresh resources: the
 * attempt may have moved the configuration's timestamp); errors are
 * logged.
 */
static void
roll_back(struct cap *c, struct rr *rr)
{
	XRRScreenResources *res;
	Status st = RRSetConfigFailed;
	int e;

	cap_x11_trap(c);
	XRRSetScreenSize(c->dpy, c->root, (int)rr->old_w, (int)rr->old_h,
	    mm(rr->old_w), mm(rr->old_h));
	if ((res = XRRGetScreenResourcesCurrent(c->dpy, c->root)) != NULL) {
		st = XRRSetCrtcConfig(c->dpy, res, rr->crtc_id, CurrentTime,
		    rr->crtc->x, rr->crtc->y, rr->crtc->mode,
		    rr->crtc->rotation, rr->crtc->outputs, rr->crtc->noutput);
		XRRFreeScreenResources(res);
	}
	if ((e = cap_x11_untrap(c)) != 0 || st != RRSetConfigSuccess)
		error_f("could not restore the screen to %ux%u (X error %d, "
		    "status %d)", rr->old_w, rr->old_h, e, (int)st);
}

int
cap_randr_resize(struct cap *c, unsigned w, unsigned h, char *why,
    size_t whylen)
{
	int minw, minh, maxw, maxh, e, r;
	XWindowAttributes wa;
	RRMode mode, created = None;
	struct rr rr;

	memset(&rr, 0, sizeof(rr));
	snprintf(why, whylen, "done");
	if (!c->randr_ok) {
		snprintf(why, whylen, "the X server has no RandR 1.2");
		return MOAT_ERR_UNSUPPORTED;
	}
	if (!XGetWindowAttributes(c->dpy, c->root, &wa)) {
		snprintf(why, whylen, "cannot read the screen's size");
		return MOAT_ERR_UNSUPPORTED;
	}
	rr.old_w = (unsigned)wa.width;
	rr.old_h = (unsigned)wa.height;
	if (rr.old_w == w && rr.old_h == h) {
		snprintf(why, whylen, "the screen is %ux%u already", w, h);
		return 0;
	}
	if (!XRRGetScreenSizeRange(c->dpy, c->root, &minw, &minh, &maxw,
	    &maxh)) {
		snprintf(why, whylen, "the X server gave no screen size range");
		return MOAT_ERR_UNSUPPORTED;
	}
	if ((int)w < minw || (int)w > maxw || (int)h < minh || (int)h > maxh) {
		snprintf(why, whylen, "%ux%u is outside the X server's screen "
		    "sizes (%dx%d to %dx%d)", w, h, minw, minh, maxw, maxh);
		return MOAT_ERR_UNSUPPORTED;
	}
	if ((r = find_output(c, &rr, why, whylen)) != 0)
		goto out;
	if ((mode = find_mode(&rr, w, h)) == None) {
		if ((mode = created = create_mode(c, &rr, w, h)) == None) {
			snprintf(why, whylen, "output %s has no %ux%u mode and "
			    "the X server would not create one",
			    rr.out->name, w, h);
			r = MOAT_ERR_UNSUPPORTED;
			goto out;
		}
		/* Fresh resources: the new mode and the current timestamps. */
		XRRFreeScreenResources(rr.res);
		rr.res = XRRGetScreenResourcesCurrent(c->dpy, c->root);
		if (rr.res == NULL) {
			snprintf(why, whylen, "the X server gave no RandR "
			    "resources");
			r = MOAT_ERR_UNSUPPORTED;
			goto out;
		}
	}
	XGrabServer(c->dpy);
	if ((e = apply(c, &rr, w, h, mode)) != 0) {
		roll_back(c, &rr);
		XUngrabServer(c->dpy);
		XFlush(c->dpy);
		snprintf(why, whylen, "the X server refused %ux%u on output %s "
		    "(%s %d)", w, h, rr.out->name, e > 0 ? "X error" : "status",
		    e);
		r = MOAT_ERR_UNSUPPORTED;
		goto out;
	}
	XUngrabServer(c->dpy);
	XFlush(c->dpy);
	snprintf(why, whylen, "output %s now %ux%u%s", rr.out->name, w, h,
	    created != None ? " (mode added)" : "");
	/* One mode of moat's at a time: the one the output uses now, if any. */
	if (c->randr_mode != 0 && c->randr_mode != mode)
		drop_mode(c, c->randr_output, c->randr_mode);
	if (created != None || c->randr_mode != mode) {
		c->randr_mode = created;
		c->randr_output = created != None ? rr.output : 0;
	}
	created = None;
	r = 0;
 out:
	if (created != None)
		drop_mode(c, rr.output, created);
	rr_free(&rr);
	return r;
}
