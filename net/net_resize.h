/*
 * net_resize.h - moat-net's part of SetDesktopSize: it forwards a viewer's
 * shape-checked request to moat-session, which decides, and turns the
 * answers (this viewer's, and other viewers' changes) into
 * ExtendedDesktopSize rectangles with the reason and status rfbproto
 * gives them. Runs in moat-net (one viewer per process).
 */
#ifndef MOAT_NET_RESIZE_H
#define MOAT_NET_RESIZE_H

#include "rfb_desktop.h"

struct net_conn;
struct ipc_msg;

/*
 * Handles the viewer's SetDesktopSize d. A viewer that did not list
 * ExtendedDesktopSize is ignored (it cannot read an answer). Without the
 * resize right, with an invalid layout or with a request outstanding the
 * viewer is owed the answer at once (status 1, 3 or 2); otherwise the
 * request goes to moat-session. Returns 0, or a negative MOAT_ERR_* when
 * the channel failed (the connection then closes).
 */
int net_resize_request(struct net_conn *c, const struct rfb_desktop_size *d);

/*
 * Handles moat-session's IPC_CAP_RESIZE_RESULT m. Returns 0, or
 * MOAT_ERR_PROTOCOL when it is malformed or answers no request.
 */
int net_resize_result(struct net_conn *c, struct ipc_msg *m);

/*
 * Called when a new framebuffer of another size arrived (c->fb_resized
 * set): a resize this viewer was told of (reason 1 or 2) replaces the
 * plain resize announcement with an ExtendedDesktopSize of that reason in
 * the next update.
 */
void net_resize_fb_changed(struct net_conn *c);

/*
 * Called after SetEncodings: a viewer that no longer lists
 * ExtendedDesktopSize gets no owed ExtendedDesktopSize rectangle; a size
 * change it announced is announced the plain way instead.
 */
void net_resize_encodings_changed(struct net_conn *c);

#endif
