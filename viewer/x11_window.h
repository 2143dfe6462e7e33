/*
 * x11_window.h - moat-viewer's window (Xlib): shows the framebuffer and
 * forwards keys and the pointer. Kept apart so that the headless path
 * never opens a display. Runs in moat-viewer; trusts the local X server.
 */
#ifndef MOAT_VIEWER_X11_WINDOW_H
#define MOAT_VIEWER_X11_WINDOW_H

#include "viewer/rfb_client.h"

/*
 * Opens a window on $DISPLAY titled "moat-viewer: NAME" of the
 * framebuffer's size, then runs until the window is closed (returns 0) or
 * the session ends (returns its error): updates from the server are drawn,
 * key presses and releases and pointer motion and buttons are sent.
 * Returns MOAT_ERR_UNSUPPORTED when there is no display or it is not
 * 24-bit TrueColor with 8-bit channels.
 */
int viewer_window_run(struct viewer_rfb *s);

#endif
