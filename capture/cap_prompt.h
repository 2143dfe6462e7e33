/*
 * cap_prompt.h - moat-session's approval prompt (QueryConnect): a small
 * window on the served display that asks the desktop's user to accept or
 * reject one viewer's connection, named by the authenticated user and the
 * peer address, with a countdown and a default action when nobody answers.
 *
 * Runs in moat-session as the desktop's owner. The questions come from
 * moatd (root) on the registration socket; the answers are the desktop
 * user's own clicks and keys. The prompt never blocks the event loop: each
 * open question is a window and a deadline, at most CAP_PROMPT_MAX at once.
 */
#ifndef MOAT_CAP_PROMPT_H
#define MOAT_CAP_PROMPT_H

#include <X11/Xlib.h>

#include "privsep/ipc_msg.h"

struct cap;

/* Questions open at once; one more is answered IPC_QUERY_BUSY unasked. */
#define CAP_PROMPT_MAX		4
/* The window's WM_NAME (the tests find it by this name). */
#define CAP_PROMPT_TITLE	"moat: connection request"

/*
 * Opens the prompt for q, or answers IPC_QUERY_BUSY when CAP_PROMPT_MAX
 * are open, an id is already open, or the window cannot be made. Returns
 * 0, or MOAT_ERR_* if the answer could not be sent to moatd.
 */
int cap_prompt_open(struct cap *c, const struct ipc_sess_query *q);

/*
 * Handles an X event for a prompt window (drawing, Return or a click on
 * Accept: accepted; Escape, a click on Reject or the window closed:
 * rejected); returns 1 if ev was one of them, 0 if not.
 */
int cap_prompt_event(struct cap *c, XEvent *ev);

/*
 * Answers the prompts whose time is up (IPC_QUERY_TIMED_OUT: moatd applies
 * the default) and redraws the countdowns. Returns the poll timeout in ms
 * until the next second of a countdown, or -1 with no prompt open.
 */
int cap_prompt_tick(struct cap *c);

/* Returns the number of prompts open. */
unsigned cap_prompt_count(void);

/*
 * A viewer (channel id) presses a key or a button: returns 1 if a prompt
 * is open, so the press must be dropped (logged once per channel while
 * prompts are open), else 0.
 */
int cap_prompt_holds(uint32_t channel_id);

/* Closes every prompt without answering (moat-session is exiting). */
void cap_prompt_close_all(struct cap *c);

#endif
