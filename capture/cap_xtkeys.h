/*
 * cap_xtkeys.h - the physical keys of QEMU extended key events: rfbproto's
 * XT keycodes to Linux evdev KEY_* codes (capture/cap_xtkeys.c, a fixed
 * table, no X dependency).
 *
 * Runs in moat-session. The keycodes come from a viewer through moat-net
 * and are trusted for nothing: any value is looked up, never indexed with
 * unchecked.
 */
#ifndef MOAT_CAP_XTKEYS_H
#define MOAT_CAP_XTKEYS_H

#include <stdint.h>

/*
 * An X server whose keymap uses evdev keycodes (XKB keycodes "evdev", what
 * Xorg, Xvfb, Xwayland and Xvnc load by default) numbers a key's X keycode
 * as its evdev code plus this offset.
 */
#define CAP_XT_EVDEV_OFFSET	8

/*
 * Returns the Linux evdev KEY_* code of XT keycode xt as rfbproto's "QEMU
 * Extended Key Event Message" encodes it (a set-1 make code below 0x80 as
 * is; 0xE0 followed by a code below 0x80 as 0x80 | code), or 0 when the
 * table has no entry for it (a code of no standard key, or above 0xFF).
 */
unsigned cap_xt_to_evdev(uint32_t xt);

/*
 * Returns 1 if name, the XKB keycodes component of a keymap (e.g.
 * "evdev+aliases(qwerty)"), names evdev keycodes; 0 if not or if name is
 * NULL.
 */
int cap_xt_keycodes_are_evdev(const char *name);

#endif
