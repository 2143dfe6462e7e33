/*
 * control.h - moatd's control socket, the administrator's interface that
 * moatctl talks to (docs/moatctl.md): list and end sessions, show and
 * clear the blacklist, reload and check the configuration. Runs as root in
 * moatd's listener. Only root may use it: the socket is 0600 in a
 * root-owned directory, and the kernel's peer credentials of every
 * connection must say uid 0.
 */
#ifndef MOAT_CONTROL_H
#define MOAT_CONTROL_H

#include <sys/types.h>

#include <stddef.h>

#include "policy/config.h"
#include "privsep/ipc_msg.h"

/*
 * Binds and listens on the control socket (config_control_socket();
 * SOCK_SEQPACKET, mode 0600).
 * Its directory is created root-owned 0755 when missing and must be a
 * directory owned by root and not writable by group or others. A socket
 * another moatd still answers on is not taken over: MOAT_ERR_CONFIG if
 * ControlSocket names it, MOAT_ERR_AGAIN if it is the default path (the
 * caller may then run without a control socket). Returns 0 or a negative
 * MOAT_ERR_* with a message in err.
 */
int control_open(const struct moat_config *cfg, char *err, size_t errlen);

/* The listening descriptor, or -1 when there is none. */
int control_fd(void);

/*
 * Closes the listening socket; with unlink_path, also removes the socket
 * file if it is still the one bound here (at moatd's exit; a forked
 * monitor only closes).
 */
void control_close(int unlink_path);

/*
 * The listening socket is readable: accepts one connection, checks its
 * peer credentials (uid 0), reads its one request (bounded in time),
 * answers and closes it. Every request is logged with the caller's uid
 * and pid.
 */
void control_on_connect(void);

/*
 * Returns 1 if a peer with credentials uid may use the control socket
 * (root only), 0 if not.
 */
int control_peer_allowed(uid_t uid);

/*
 * IPC_MON_SESSION_INFO from monitor pid: records its session (the user,
 * peer, permissions, security type and cipher, since now) for moatctl
 * sessions under id, the session id the listener gave the connection at
 * accept (the one its audit records and logs carry). Returns 0,
 * MOAT_ERR_UNPERMITTED if pid already reported one, MOAT_ERR_NOMEM if the
 * table is full.
 */
int control_on_session_info(pid_t pid, uint32_t id,
    const struct ipc_session_info *si);

/* Monitor pid has exited: forgets its session. */
void control_on_monitor_exit(pid_t pid);

#endif
