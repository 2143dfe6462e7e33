/*
 * cap_local.h - moat-session's control of the local display while viewers
 * are connected: BlankScreen (the X screen saver, blanking the outputs but
 * not the captured image) and DisableLocalInputs (the XInput2 "Device
 * Enabled" property of every physical keyboard and pointer). What X11 can
 * and cannot do here is in docs/local-display.md.
 *
 * Runs in moat-session as the desktop's owner; the IPC_LOCAL_* bits come
 * from moatd with each channel (policy), never from moat-net.
 */
#ifndef MOAT_CAP_LOCAL_H
#define MOAT_CAP_LOCAL_H

#include <X11/Xlib.h>

struct cap;

/*
 * Checks XInput2 and MIT-SCREEN-SAVER, undoes what an earlier moat-session
 * on this display left behind (killed before it could restore: the root
 * window properties _MOAT_DISABLED_DEVICES and _MOAT_SCREEN_SAVER), and
 * watches device hot-plugging and the screen saver; returns 0 or MOAT_ERR_*
 * (out of memory only: a display without an extension just cannot do the
 * matching feature, which is logged when a viewer asks for it).
 */
int cap_local_init(struct cap *c);

/*
 * Applies the union of the IPC_LOCAL_* bits of the open channels: blanks
 * and disables when the first channel asking for it opens, restores the
 * previous screen-saver settings and exactly the devices it disabled when
 * the last one closes. Cheap when nothing changed (call once per loop).
 */
void cap_local_update(struct cap *c);

/*
 * Handles an XInput2 hierarchy or screen-saver event (re-disables a device
 * plugged in or enabled meanwhile, re-blanks a screen that input woke);
 * returns 1 if ev was one of those, 0 if not.
 */
int cap_local_event(struct cap *c, XEvent *ev);

/* Restores everything (as if the last channel had closed) and frees. */
void cap_local_close(struct cap *c);

#endif
