/*
 * cap.h - moat-session's shared state and the functions its files export to
 * each other (session_main.c, cap_x11.c, cap_input.c, cap_clipboard.c,
 * cap_cursor.c, cap_channel.c, cap_randr.c).
 *
 * Runs in moat-session, as the desktop's owner. It trusts moatd (root) for
 * the channels and the permissions it hands over on the registration
 * socket, and nothing that arrives on a channel from moat-net. One thread;
 * every X call happens on the event loop.
 */
#ifndef MOAT_CAP_H
#define MOAT_CAP_H

#include <stddef.h>
#include <stdint.h>

#include <X11/Xlib.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>

#include "cap_util.h"
#include "privsep/buf.h"
#include "privsep/ipc_msg.h"
#include "privsep/ipc_resize.h"

/* Concurrent viewers of one desktop. */
#define CAP_MAX_CHANNELS	32
/* Keys one channel may hold down at once. */
#define CAP_MAX_HELD_KEYS	64
/* Spare keycodes bound on demand to keysyms the keymap lacks. */
#define CAP_REMAP_SLOTS		8
/* An X selection transfer that makes no progress for this long is dropped. */
#define CAP_CLIP_TIMEOUT_MS	5000
/* Raw bytes kept from an X selection (converted output: IPC_MAX_CUT_TEXT). */
#define CAP_CLIP_READ_MAX	(2 * IPC_MAX_CUT_TEXT)
/* Bytes of an oversized INCR transfer read and discarded before giving up. */
#define CAP_CLIP_DRAIN_MAX	(64u * 1024 * 1024)

struct cap_held_key {
	uint32_t keysym;
	uint8_t keycode;
};

struct cap_channel {
	int fd;
	uint32_t id;
	uint32_t perms;			/* IPC_PERM_*, from moatd */
	uint32_t local;			/* IPC_LOCAL_*, from moatd (cap_local.c) */
	char user[IPC_MAX_NAME + 1];	/* escaped, for logs */
	char peer[IPC_MAX_NAME + 1];	/* escaped, for logs */
	int dead;			/* closed; freed after this iteration */
	int need_fb;			/* owed IPC_CAP_FRAMEBUFFER */
	int need_cursor;		/* owed the current cursor */
	int need_clip;			/* owed the current X clipboard */
	int req_pending;		/* an update request awaits its answer */
	int blocked;			/* a send hit EAGAIN: wait for POLLOUT */
	unsigned denied_logged;		/* IPC_PERM_* refusals already logged */
	int xt_unknown_logged;		/* an XT keycode without an entry was logged */
	int owe_resize;			/* resize_reply not sent yet */
	int owe_resize_notice;		/* resize_notice not sent yet */
	struct ipc_cap_resize_result resize_reply;	/* to its own request */
	struct ipc_cap_resize_result resize_notice;	/* another viewer's change */
	struct cap_rects pending;	/* damage not yet reported */
	struct cap_held_key keys[CAP_MAX_HELD_KEYS];
	unsigned nkeys;
	uint8_t buttons;		/* held buttons (bit i = button i+1) */
};

struct cap_remap {
	uint8_t keycode;	/* spare keycode, 0 if unused slot */
	uint32_t keysym;	/* keysym bound to it now, 0 if none */
	unsigned users;		/* held presses through this slot */
	unsigned long stamp;	/* last use, for replacement */
};

struct cap_clip_xfer {
	Atom selection;		/* CLIPBOARD or PRIMARY */
	Atom property;		/* our property the owner writes to */
	Atom target;		/* UTF8_STRING, then STRING as fallback */
	Atom dtype;		/* type of the data the owner sent */
	int active;		/* a conversion is in flight */
	int incr;		/* receiving INCR chunks */
	int again;		/* owner changed meanwhile: convert again */
	Time time;		/* timestamp of our ConvertSelection */
	long deadline;		/* ms (moat_monotonic_ms) */
	uint8_t *data;		/* received (at most CAP_CLIP_READ_MAX) */
	size_t len;
	size_t drained;		/* bytes seen past the limit */
	int truncated;
};

struct cap {
	/* X display */
	Display *dpy;
	int screen;
	Window root;
	Visual *visual;
	int depth;
	unsigned width, height;
	uint32_t rmask, gmask, bmask;
	int swap;			/* server byte order differs from ours */
	int damage_ev, damage_err, fixes_ev, fixes_err, shm_ok;
	Damage damage;
	XserverRegion region;
	int damage_flag;		/* DamageNotify since the last fetch */
	int xerror;			/* error caught inside a trap, or 0 */
	int trapping;

	/* framebuffer: one sealed memfd shared by every channel */
	int memfd;
	uint8_t *fb;
	size_t fbsize;
	uint32_t stride;
	uint32_t generation;		/* bumped on every capture */
	XShmSegmentInfo shm;
	XImage *shmimg;
	int shm_attached;
	uint32_t fbseg;			/* the memfd as an MIT-SHM segment (cap_shmfd.c) */
	int fbseg_ok;			/* 1: full-width rows go straight into it */

	/* input */
	int xtest_ok;
	int min_keycode, max_keycode, kpk;	/* core keymap cache */
	KeySym *keymap;
	uint8_t shift_keycodes[8];
	unsigned nshift;
	uint8_t is_modifier[256];		/* keycode is in the modifier map */
	unsigned nbuttons;			/* pointer buttons of the server */
	unsigned long key_drops;		/* keysyms we could not type */
	int xt_evdev;				/* keymap uses evdev keycodes (cap_xtkeys.h) */
	struct cap_remap remap[CAP_REMAP_SLOTS];
	unsigned long remap_clock;

	/* clipboard */
	Window clipwin;
	Atom a_clipboard, a_primary, a_targets, a_timestamp, a_utf8, a_text,
	    a_string, a_incr, a_multiple, a_atom, a_integer, a_stamp_prop;
	uint8_t *own_utf8;		/* text we own the selections with */
	size_t own_utf8_len;
	uint8_t *own_latin1;
	size_t own_latin1_len;
	Time own_time;			/* 0: we own nothing */
	struct cap_clip_xfer xfer[2];	/* [0] CLIPBOARD, [1] PRIMARY */
	/* latest X clipboard for viewers: an IPC_CAP_CLIPBOARD payload */
	uint8_t *clip_msg;
	size_t clip_msg_len;

	/* cursor: the encoded IPC_CAP_CURSOR payload */
	uint8_t *cursor_msg;
	size_t cursor_len;

	/* RandR, for SetDesktopSize (cap_randr.c) */
	int randr_ok;			/* RandR 1.2 or later */
	unsigned long randr_mode;	/* the mode moat created and uses, or 0 */
	unsigned long randr_output;	/* the output it was added to */

	/* the local display while viewers are connected (cap_local.c) */
	struct cap_local *local;

	/* channels to moat-net */
	struct cap_channel *ch[CAP_MAX_CHANNELS];
	unsigned nch;
	int reg_fd;
};

/* session_main.c */

/* cap_x11.c */
/*
 * Opens and checks the display and sets up capture; returns 0 or MOAT_ERR_*
 * after logging why.
 */
int cap_x11_open(struct cap *c, const char *display);
/* Starts catching X errors instead of logging them. */
void cap_x11_trap(struct cap *c);
/* Syncs, stops catching; returns the first X error code caught, or 0. */
int cap_x11_untrap(struct cap *c);
/* Handles a root ConfigureNotify; returns 0 or MOAT_ERR_* (fatal). */
int cap_x11_resize(struct cap *c, unsigned w, unsigned h);
/*
 * Moves the server's accumulated damage into every viewing channel's list;
 * returns 0 or MOAT_ERR_*.
 */
int cap_x11_fetch_damage(struct cap *c);
/*
 * cap_shmfd.c: a framebuffer memfd attached to the X server (MIT-SHM 1.2,
 * through XCB), so that full-width rows are captured straight into it.
 * attach, called before the memfd is sealed against new writable
 * mappings, returns 1 with the segment in *seg, or 0 when the server
 * cannot (captures are then copied, as before); get captures rows
 * [y, y + h) of the screen into c's segment, returns 0 or MOAT_ERR_*;
 * detach ends c's segment and is safe to repeat.
 */
int cap_shmfd_attach(struct cap *c, int memfd, uint32_t *seg);
int cap_shmfd_get(struct cap *c, unsigned y, unsigned h);
void cap_shmfd_detach(struct cap *c);

/* Copies the rectangles' screen pixels to the memfd; returns 0 or MOAT_ERR_*. */
int cap_x11_capture(struct cap *c, const struct cap_rect *r, unsigned n);
/* Encodes IPC_CAP_FRAMEBUFFER for the current memfd; returns 0 or MOAT_ERR_*. */
int cap_x11_fb_payload(struct cap *c, struct buf *b);
/* Releases the framebuffer, the SHM segment and the display. */
void cap_x11_close(struct cap *c);

/* cap_input.c */
/* Checks XTest, loads the keymap; returns 0 or MOAT_ERR_*. */
int cap_input_init(struct cap *c);
/* Reloads the keymap after a MappingNotify. */
void cap_input_mapping_changed(struct cap *c, XMappingEvent *ev);
/*
 * Injects one key event for ch (permission already checked): on the key
 * xtcode names (a QEMU extended key event's XT keycode) when the keymap
 * has it, else by keysym; 0: no keycode.
 */
void cap_input_key(struct cap *c, struct cap_channel *ch, int down,
    uint32_t keysym, uint16_t xtcode);
/* Injects pointer motion and button changes for ch (permission checked). */
void cap_input_pointer(struct cap *c, struct cap_channel *ch, uint8_t mask,
    unsigned x, unsigned y);
/* Releases every key and button ch holds. */
void cap_input_release_all(struct cap *c, struct cap_channel *ch);
/* Restores the keycodes remapped for unmapped keysyms. */
void cap_input_close(struct cap *c);

/* cap_clipboard.c */
/*
 * Creates the selection window and watches CLIPBOARD and PRIMARY; returns 0
 * or MOAT_ERR_*.
 */
int cap_clip_init(struct cap *c);
/* Takes CLIPBOARD and PRIMARY with Latin-1 text from a viewer. */
void cap_clip_from_client(struct cap *c, const uint8_t *text, size_t n);
/* Handles a selection-related event; returns 1 if it was one, 0 if not. */
int cap_clip_event(struct cap *c, XEvent *ev);
/* Abandons expired transfers; returns ms to the next deadline, or -1. */
int cap_clip_timeouts(struct cap *c);
/* Frees clipboard state. */
void cap_clip_close(struct cap *c);

/* cap_cursor.c */
/* Watches cursor changes and reads the cursor; returns 0 or MOAT_ERR_*. */
int cap_cursor_init(struct cap *c);
/* Reads the current cursor image and marks every channel to receive it. */
void cap_cursor_update(struct cap *c);

/* cap_randr.c */
/*
 * Checks for RandR 1.2, which SetDesktopSize needs; without it every
 * resize is refused. Returns 0 (a missing RandR is logged, not fatal).
 */
int cap_randr_init(struct cap *c);
/*
 * Makes the X screen w x h with RandR: the screen size and the CRTC of
 * the first connected output, in a mode of that size it has or moat adds.
 * Returns 0 when the screen is that size (nothing done if it already
 * was); MOAT_ERR_INVALID when the desktop uses several outputs or clones
 * (a one-screen layout cannot describe it); MOAT_ERR_UNSUPPORTED when the
 * X server cannot (no RandR 1.2, a size outside its range, no mode, a
 * refusal), with the configuration as it was. Either way why (whylen
 * bytes) says what happened.
 */
int cap_randr_resize(struct cap *c, unsigned w, unsigned h, char *why,
    size_t whylen);

/* cap_channel.c */
/*
 * Adopts a channel fd from moatd with its IPC_PERM_* and IPC_LOCAL_* bits;
 * returns 0 or MOAT_ERR_* (fd then closed).
 */
int cap_channel_open(struct cap *c, int fd, uint32_t id, uint32_t perms,
    uint32_t local, const char *user, size_t ulen, const char *peer,
    size_t plen);
/* Reads and handles what ch sent; closes it on a violation or EOF. */
void cap_channel_input(struct cap *c, struct cap_channel *ch);
/* Sends ch what it is owed (resize answers, framebuffer, cursor, clipboard). */
void cap_channel_flush(struct cap *c, struct cap_channel *ch);
/* Answers every update request that can be answered now. */
void cap_channels_answer(struct cap *c);
/* Closes ch (releases its input); it is freed by cap_channels_reap. */
void cap_channel_close(struct cap *c, struct cap_channel *ch, const char *why);
/* Frees closed channels. */
void cap_channels_reap(struct cap *c);
/* True if ch is owed anything cap_channel_flush() sends. */
int cap_channel_owed(const struct cap_channel *ch);
/* Marks every channel as owed the framebuffer and a full update. */
void cap_channels_new_fb(struct cap *c);
/* Mark every channel allowed to receive it as owed the cursor / clipboard. */
void cap_channels_want_cursor(struct cap *c);
void cap_channels_want_clip(struct cap *c);

#endif
