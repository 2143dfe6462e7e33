/*
 * cap_local.c - moat-session's hold on the local display while viewers are
 * connected. BlankScreen forces the X screen saver on with blanking
 * preferred: the server blanks its outputs (the video driver's SaveScreen,
 * DPMS off on RandR 1.2 drivers) and leaves the framebuffer, which moat
 * captures, as it was; if the server could only draw a saver window (which
 * viewers would see) or an external saver owns the screen, moat undoes it
 * and says so. Input injected through XTEST wakes the saver like any input:
 * every ScreenSaverNotify "off" re-forces it. DisableLocalInputs sets the
 * XInput2 property "Device Enabled" to 0 on every slave keyboard and
 * pointer that is not an XTEST device (moat injects through those), also
 * on devices plugged in or re-enabled meanwhile, and re-enables exactly
 * those when the last viewer leaves. What is undone lives in two root
 * window properties until then, so that the next moat-session on this
 * display restores what a killed one could not. docs/local-display.md.
 *
 * Runs in moat-session as the desktop's owner, on the one event loop. It
 * trusts the X server (device lists, properties it reads back: still
 * bounded), and the IPC_LOCAL_* bits moatd sent with each channel; nothing
 * from moat-net reaches this file.
 */
#include <stdlib.h>
#include <string.h>

#include <X11/Xatom.h>
#include <X11/extensions/XInput2.h>
#include <X11/extensions/scrnsaver.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "cap.h"
#include "cap_local.h"

/* Devices one session disables at most (more are left alone, and logged). */
#define LOCAL_MAX_DEVICES	64

struct cap_local {
	int xi_ok, xi_opcode;
	int ss_ok, ss_event;
	Atom a_enabled;		/* "Device Enabled" */
	Atom a_xtest;		/* "XTEST Device" */
	Atom a_devices;		/* _MOAT_DISABLED_DEVICES on the root */
	Atom a_saver;		/* _MOAT_SCREEN_SAVER on the root */
	uint32_t active;	/* IPC_LOCAL_* in force */
	int blank_failed;	/* no MIT-SCREEN-SAVER: never retried */
	int blank_refused;	/* refused until no channel wants it */
	int inputs_failed;
	int saved[4];		/* timeout, interval, prefer, allow */
	int dev[LOCAL_MAX_DEVICES];	/* ids we disabled */
	unsigned ndev;
};

static const char *
ss_kind_name(int kind)
{
	switch (kind) {
	case ScreenSaverBlanked:
		return "blanked";
	case ScreenSaverInternal:
		return "internal (a saver window)";
	case ScreenSaverExternal:
		return "external (another client's saver)";
	}
	return "unknown";
}

/* "Device Enabled" of device id: 1, 0, or -1 if unknown (gone, no such). */
static int
device_enabled(struct cap *c, int id)
{
	struct cap_local *l = c->local;
	unsigned long n = 0, after = 0;
	unsigned char *data = NULL;
	int format = 0, v = -1;
	Atom type = None;

	cap_x11_trap(c);
	if (XIGetProperty(c->dpy, id, l->a_enabled, 0, 1, False, XA_INTEGER,
	    &type, &format, &n, &after, &data) == Success && data != NULL &&
	    type == XA_INTEGER && format == 8 && n == 1)
		v = data[0] != 0;
	if (data != NULL)
		XFree(data);
	if (cap_x11_untrap(c) != 0)
		return -1;
	return v;
}

/* Returns 1 if device id carries "XTEST Device" = 1 (moat's injectors). */
static int
device_is_xtest(struct cap *c, int id)
{
	struct cap_local *l = c->local;
	unsigned long n = 0, after = 0;
	unsigned char *data = NULL;
	int format = 0, v = 0;
	Atom type = None;

	cap_x11_trap(c);
	if (XIGetProperty(c->dpy, id, l->a_xtest, 0, 1, False, XA_INTEGER,
	    &type, &format, &n, &after, &data) == Success && data != NULL &&
	    type == XA_INTEGER && format == 8 && n == 1)
		v = data[0] != 0;
	if (data != NULL)
		XFree(data);
	(void)cap_x11_untrap(c);
	return v;
}

/* Sets "Device Enabled"; returns 0 or MOAT_ERR_SYSTEM (X error). */
static int
device_set_enabled(struct cap *c, int id, int on)
{
	unsigned char v = on ? 1 : 0;

	cap_x11_trap(c);
	XIChangeProperty(c->dpy, id, c->local->a_enabled, XA_INTEGER, 8,
	    PropModeReplace, &v, 1);
	return cap_x11_untrap(c) == 0 ? 0 : MOAT_ERR_SYSTEM;
}

/* Returns 1 if use is a slave (attached or floating) device. */
static int
is_slave(int use)
{
	return use == XISlavePointer || use == XISlaveKeyboard ||
	    use == XIFloatingSlave;
}

/* Publishes the ids we disabled on the root (deleted when none). */
static void
devices_publish(struct cap *c)
{
	struct cap_local *l = c->local;
	long ids[LOCAL_MAX_DEVICES];
	unsigned i;

	if (l->ndev == 0) {
		XDeleteProperty(c->dpy, c->root, l->a_devices);
		return;
	}
	for (i = 0; i < l->ndev; i++)
		ids[i] = l->dev[i];
	XChangeProperty(c->dpy, c->root, l->a_devices, XA_INTEGER, 32,
	    PropModeReplace, (unsigned char *)ids, (int)l->ndev);
}

static int
recorded(struct cap_local *l, int id)
{
	unsigned i;

	for (i = 0; i < l->ndev; i++)
		if (l->dev[i] == id)
			return 1;
	return 0;
}

/* Disables device id if it is an enabled non-XTEST slave; 1 if it did. */
static int
disable_one(struct cap *c, int id, int use, const char *name)
{
	struct cap_local *l = c->local;

	if (!is_slave(use) || device_is_xtest(c, id) ||
	    device_enabled(c, id) != 1)
		return 0;
	if (!recorded(l, id) && l->ndev == LOCAL_MAX_DEVICES) {
		warn_f("DisableLocalInputs: more than %u devices; '%s' (id %d) "
		    "stays enabled", LOCAL_MAX_DEVICES, name, id);
		return 0;
	}
	if (device_set_enabled(c, id, 0) != 0) {
		warn_f("DisableLocalInputs: cannot disable '%s' (id %d)", name,
		    id);
		return 0;
	}
	if (!recorded(l, id))
		l->dev[l->ndev++] = id;
	info_f("DisableLocalInputs: disabled local input device '%s' (id %d)",
	    name, id);
	return 1;
}

/* disable_one() for device id, looked up by id; 1 if it disabled it. */
static int
disable_id(struct cap *c, int id)
{
	XIDeviceInfo *info;
	int n = 0, r = 0;

	cap_x11_trap(c);
	info = XIQueryDevice(c->dpy, id, &n);
	if (cap_x11_untrap(c) == 0 && info != NULL && n == 1 &&
	    info[0].deviceid == id)
		r = disable_one(c, id, info[0].use, info[0].name);
	if (info != NULL)
		XIFreeDeviceInfo(info);
	return r;
}

static void
inputs_off(struct cap *c)
{
	struct cap_local *l = c->local;
	XIDeviceInfo *info;
	int i, n = 0;

	if (!l->xi_ok) {
		if (!l->inputs_failed)
			warn_f("DisableLocalInputs: the X server has no "
			    "XInput 2; local keyboards and pointers stay "
			    "enabled");
		l->inputs_failed = 1;
		return;
	}
	cap_x11_trap(c);
	info = XIQueryDevice(c->dpy, XIAllDevices, &n);
	(void)cap_x11_untrap(c);
	for (i = 0; info != NULL && i < n; i++)
		(void)disable_one(c, info[i].deviceid, info[i].use,
		    info[i].name);
	if (info != NULL)
		XIFreeDeviceInfo(info);
	devices_publish(c);
	l->active |= IPC_LOCAL_NO_INPUTS;
}

/* Re-enables listed ids that are still disabled non-XTEST slaves. */
static unsigned
enable_listed(struct cap *c, const long *ids, unsigned n)
{
	XIDeviceInfo *info;
	unsigned i, done = 0;
	int k, cnt = 0;

	for (i = 0; i < n; i++) {
		if (ids[i] < 2 || ids[i] > 255)
			continue;
		cap_x11_trap(c);
		info = XIQueryDevice(c->dpy, (int)ids[i], &cnt);
		if (cap_x11_untrap(c) != 0 || info == NULL) {
			if (info != NULL)
				XIFreeDeviceInfo(info);
			continue;	/* unplugged meanwhile */
		}
		for (k = 0; k < cnt; k++) {
			if (info[k].deviceid != (int)ids[i] ||
			    !is_slave(info[k].use) ||
			    device_is_xtest(c, info[k].deviceid) ||
			    device_enabled(c, info[k].deviceid) != 0)
				continue;
			if (device_set_enabled(c, info[k].deviceid, 1) == 0) {
				info_f("DisableLocalInputs: re-enabled local "
				    "input device '%s' (id %d)", info[k].name,
				    info[k].deviceid);
				done++;
			} else
				warn_f("DisableLocalInputs: cannot re-enable "
				    "'%s' (id %d)", info[k].name,
				    info[k].deviceid);
		}
		XIFreeDeviceInfo(info);
	}
	return done;
}

static void
inputs_on(struct cap *c)
{
	struct cap_local *l = c->local;
	long ids[LOCAL_MAX_DEVICES];
	unsigned i;

	for (i = 0; i < l->ndev; i++)
		ids[i] = l->dev[i];
	(void)enable_listed(c, ids, l->ndev);
	l->ndev = 0;
	devices_publish(c);
	l->active &= ~(uint32_t)IPC_LOCAL_NO_INPUTS;
}

/* Turns the saver off and puts the settings v (as XGetScreenSaver) back. */
static void
saver_restore(struct cap *c, const int *v)
{
	XForceScreenSaver(c->dpy, ScreenSaverReset);
	XSetScreenSaver(c->dpy, v[0], v[1], v[2], v[3]);
	XDeleteProperty(c->dpy, c->root, c->local->a_saver);
}

static int
saver_query(struct cap *c, int *state, int *kind)
{
	XScreenSaverInfo *si;
	Status ok;

	if ((si = XScreenSaverAllocInfo()) == NULL)
		return MOAT_ERR_NOMEM;
	cap_x11_trap(c);
	ok = XScreenSaverQueryInfo(c->dpy, c->root, si);
	if (cap_x11_untrap(c) != 0 || !ok) {
		XFree(si);
		return MOAT_ERR_SYSTEM;
	}
	*state = si->state;
	*kind = si->kind;
	XFree(si);
	return 0;
}

static void
blank_on(struct cap *c)
{
	struct cap_local *l = c->local;
	long v[4];
	int i, state = -1, kind = -1;

	if (l->blank_failed || l->blank_refused)
		return;
	if (!l->ss_ok) {
		warn_f("BlankScreen: the X server has no MIT-SCREEN-SAVER "
		    "extension; the local screen stays visible");
		l->blank_failed = 1;
		return;
	}
	XGetScreenSaver(c->dpy, &l->saved[0], &l->saved[1], &l->saved[2],
	    &l->saved[3]);
	for (i = 0; i < 4; i++)
		v[i] = l->saved[i];
	XChangeProperty(c->dpy, c->root, l->a_saver, XA_INTEGER, 32,
	    PropModeReplace, (unsigned char *)v, 4);
	XSetScreenSaver(c->dpy, l->saved[0], l->saved[1], PreferBlanking,
	    l->saved[3]);
	XForceScreenSaver(c->dpy, ScreenSaverActive);
	if (saver_query(c, &state, &kind) != 0 || state != ScreenSaverOn ||
	    kind != ScreenSaverBlanked) {
		warn_f("BlankScreen: the X server cannot blank its outputs "
		    "without changing the captured image (saver state %d, "
		    "kind %s); the local screen stays visible", state,
		    ss_kind_name(kind));
		saver_restore(c, l->saved);
		l->blank_refused = 1;
		return;
	}
	info_f("BlankScreen: local screen blanked (X screen saver, kind "
	    "blanked)");
	l->active |= IPC_LOCAL_BLANK_SCREEN;
}

static void
blank_off(struct cap *c)
{
	struct cap_local *l = c->local;

	saver_restore(c, l->saved);
	l->active &= ~(uint32_t)IPC_LOCAL_BLANK_SCREEN;
	info_f("BlankScreen: local screen restored");
}

/* Undoes what a moat-session killed on this display left behind. */
static void
restore_leftovers(struct cap *c)
{
	struct cap_local *l = c->local;
	unsigned long n = 0, after = 0;
	unsigned char *data = NULL;
	int format = 0, v[4], i;
	Atom type = None;
	unsigned done;

	if (XGetWindowProperty(c->dpy, c->root, l->a_devices, 0,
	    LOCAL_MAX_DEVICES, True, XA_INTEGER, &type, &format, &n, &after,
	    &data) == Success && data != NULL && type == XA_INTEGER &&
	    format == 32 && n <= LOCAL_MAX_DEVICES) {
		done = enable_listed(c, (const long *)(void *)data,
		    (unsigned)n);
		warn_f("DisableLocalInputs: an earlier moat-session left %lu "
		    "local input device(s) disabled; re-enabled %u", n, done);
	}
	if (data != NULL)
		XFree(data);
	data = NULL;
	if (XGetWindowProperty(c->dpy, c->root, l->a_saver, 0, 4, True,
	    XA_INTEGER, &type, &format, &n, &after, &data) == Success &&
	    data != NULL && type == XA_INTEGER && format == 32 && n == 4) {
		for (i = 0; i < 4; i++)
			v[i] = (int)((const long *)(void *)data)[i];
		if (v[0] >= -1 && v[0] <= 32767 && v[1] >= -1 &&
		    v[1] <= 32767 && v[2] >= 0 && v[2] <= 2 && v[3] >= 0 &&
		    v[3] <= 2) {
			saver_restore(c, v);
			warn_f("BlankScreen: an earlier moat-session left the "
			    "screen blanked; screen saver settings restored");
		}
	}
	if (data != NULL)
		XFree(data);
	XDeleteProperty(c->dpy, c->root, l->a_devices);
	XDeleteProperty(c->dpy, c->root, l->a_saver);
}

int
cap_local_init(struct cap *c)
{
	struct cap_local *l;
	unsigned char mask[XIMaskLen(XI_LASTEVENT)];
	XIEventMask em;
	int ev, err, major = 2, minor = 0;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return MOAT_ERR_NOMEM;
	c->local = l;
	l->a_enabled = XInternAtom(c->dpy, "Device Enabled", False);
	l->a_xtest = XInternAtom(c->dpy, "XTEST Device", False);
	l->a_devices = XInternAtom(c->dpy, "_MOAT_DISABLED_DEVICES", False);
	l->a_saver = XInternAtom(c->dpy, "_MOAT_SCREEN_SAVER", False);
	if (XQueryExtension(c->dpy, "XInputExtension", &l->xi_opcode, &ev,
	    &err) && XIQueryVersion(c->dpy, &major, &minor) == Success) {
		l->xi_ok = 1;
		memset(mask, 0, sizeof(mask));
		XISetMask(mask, XI_HierarchyChanged);
		em.deviceid = XIAllDevices;
		em.mask_len = sizeof(mask);
		em.mask = mask;
		XISelectEvents(c->dpy, c->root, &em, 1);
	}
	if (XScreenSaverQueryExtension(c->dpy, &l->ss_event, &err)) {
		l->ss_ok = 1;
		XScreenSaverSelectInput(c->dpy, c->root, ScreenSaverNotifyMask);
	}
	restore_leftovers(c);
	debug_f("local display control: XInput2 %s, MIT-SCREEN-SAVER %s",
	    l->xi_ok ? "yes" : "no", l->ss_ok ? "yes" : "no");
	return 0;
}

void
cap_local_update(struct cap *c)
{
	struct cap_local *l = c->local;
	uint32_t want = 0;
	unsigned i;

	if (l == NULL)
		return;
	for (i = 0; i < c->nch; i++)
		if (!c->ch[i]->dead)
			want |= c->ch[i]->local;
	if ((want & IPC_LOCAL_NO_INPUTS) && !(l->active & IPC_LOCAL_NO_INPUTS) &&
	    !l->inputs_failed)
		inputs_off(c);
	else if (!(want & IPC_LOCAL_NO_INPUTS) &&
	    (l->active & IPC_LOCAL_NO_INPUTS))
		inputs_on(c);
	if ((want & IPC_LOCAL_BLANK_SCREEN) &&
	    !(l->active & IPC_LOCAL_BLANK_SCREEN))
		blank_on(c);
	else if (!(want & IPC_LOCAL_BLANK_SCREEN) &&
	    (l->active & IPC_LOCAL_BLANK_SCREEN))
		blank_off(c);
	/* Tried again for the next first viewer (the saver may have changed). */
	if (!(want & IPC_LOCAL_BLANK_SCREEN))
		l->blank_refused = 0;
}

static void
on_hierarchy(struct cap *c, const XIHierarchyEvent *he)
{
	struct cap_local *l = c->local;
	unsigned i, o;
	int k, changed = 0;

	for (k = 0; k < he->num_info; k++) {
		const XIHierarchyInfo *hi = &he->info[k];

		if (hi->flags & XISlaveRemoved) {
			for (i = 0, o = 0; i < l->ndev; i++)
				if (l->dev[i] != hi->deviceid)
					l->dev[o++] = l->dev[i];
			changed |= o != l->ndev;
			l->ndev = o;
		}
		if ((hi->flags & (XISlaveAdded | XIDeviceEnabled)) &&
		    hi->enabled && is_slave(hi->use))
			changed |= disable_id(c, hi->deviceid);
	}
	if (changed)
		devices_publish(c);
}

int
cap_local_event(struct cap *c, XEvent *ev)
{
	struct cap_local *l = c->local;

	if (l == NULL)
		return 0;
	if (l->ss_ok && ev->type == l->ss_event + ScreenSaverNotify) {
		const XScreenSaverNotifyEvent *se =
		    (const XScreenSaverNotifyEvent *)ev;

		if (!(l->active & IPC_LOCAL_BLANK_SCREEN))
			return 1;
		/* Input (ours through XTEST too) woke it: blank again. */
		if (se->state == ScreenSaverOff)
			XForceScreenSaver(c->dpy, ScreenSaverActive);
		/* A saver window now (an external saver appeared): viewers
		 * would see it, so stop. */
		else if (se->state == ScreenSaverOn &&
		    se->kind != ScreenSaverBlanked) {
			warn_f("BlankScreen: the screen saver turned %s; "
			    "the local screen is no longer blanked",
			    ss_kind_name(se->kind));
			saver_restore(c, l->saved);
			l->active &= ~(uint32_t)IPC_LOCAL_BLANK_SCREEN;
			l->blank_refused = 1;
		}
		return 1;
	}
	if (l->xi_ok && ev->type == GenericEvent &&
	    ev->xcookie.extension == l->xi_opcode) {
		if (ev->xcookie.evtype != XI_HierarchyChanged)
			return 1;
		if (!XGetEventData(c->dpy, &ev->xcookie))
			return 1;
		if (l->active & IPC_LOCAL_NO_INPUTS)
			on_hierarchy(c, ev->xcookie.data);
		XFreeEventData(c->dpy, &ev->xcookie);
		return 1;
	}
	return 0;
}

void
cap_local_close(struct cap *c)
{
	struct cap_local *l = c->local;

	if (l == NULL)
		return;
	if (l->active & IPC_LOCAL_NO_INPUTS)
		inputs_on(c);
	if (l->active & IPC_LOCAL_BLANK_SCREEN)
		blank_off(c);
	XSync(c->dpy, False);
	explicit_bzero(l, sizeof(*l));
	free(l);
	c->local = NULL;
}
