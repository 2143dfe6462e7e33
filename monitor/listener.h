/*
 * listener.h - moatd's long-lived listener: accepts viewers and forks one
 * monitor per connection, accepts moat-session registrations, and routes
 * a monitor's request for a desktop channel to the session of the user it
 * authenticated. Runs as root; never reads RFB bytes.
 */
#ifndef MOAT_LISTENER_H
#define MOAT_LISTENER_H

#include "monitor.h"

/* Binds the viewer socket and the session registration socket. Returns 0 or negative, err filled. */
int listener_open(const struct moat_config *cfg, int *tcp_fd, int *sess_fd,
    char *err, size_t errlen);

/*
 * Serves until SIGTERM/SIGINT, then drains: closes tcp_fd, sess_fd and the
 * control socket, tells every monitor to end its connection, serves them
 * until all are gone or 5 s have passed (a second signal ends the wait),
 * and kills the rest (their disconnect records are the listener's).
 * Returns the process exit status.
 */
int listener_run(const struct mon_ctx *ctx, int tcp_fd, int sess_fd);

/*
 * The uid field of an IPC_LIS_DISCONNECT that means "moatd is shutting
 * down" rather than "an administrator (this uid) ran moatctl disconnect".
 * (uid_t)-1 is no user's: setuid(-1) is "no change", and moatctl's uid
 * comes from the kernel's peer credentials.
 */
#define LISTENER_SHUTDOWN_UID	0xffffffffu

/*
 * A reloaded configuration is in force (monitor/reload.c): the blacklist
 * tables take its BlacklistThreshold and BlacklistTimeout, keeping their
 * entries; everything else the listener reads from the configuration at
 * each accept.
 */
void listener_configure(const struct moat_config *cfg);

/* The channel to the monitor process pid, or -1 (monitor/control.c). */
int listener_monitor_fd(pid_t pid);

/* The blacklist tables, for moatctl blacklist (monitor/control.c). */
struct penalty_table;
void listener_blacklist_tables(struct penalty_table **addr,
    struct penalty_table **user);

/* The reason a blacklisted viewer is shown (RFB failure reason). */
#define LISTENER_BLOCKED_REASON	"Too many authentication failures"

/*
 * In a monitor: the user-name half of the blacklist, as the listener had
 * it when it accepted this connection (the monitor's fork-time copy).
 * Returns 0 if user may try to authenticate; otherwise logs the refusal
 * (peer names the connection) and returns MOAT_ERR_AUTH with
 * LISTENER_BLOCKED_REASON in reason. To be called once the user name is
 * known and before any factor runs; the attempt then counts neither for
 * the address nor for the user.
 */
int listener_check_user(const char *user, const char *peer, char *reason,
    size_t reasonlen);

/*
 * In a monitor: returns the 1-based index of the IpClientAddresses '?'
 * rule its connection matched when the listener accepted it (the desktop
 * user must approve it, QueryConnect or not), or 0 if none did.
 */
int listener_query_rule(void);

/*
 * In a monitor: tells the listener (lis_fd) how the authentication ended,
 * right after it is decided, at most once per connection: r == 0 is a
 * success (clears the address and the user), a refusal by
 * listener_check_user() is not counted, MOAT_ERR_PROTOCOL is a penalty for
 * the address (the viewer broke RFB before authenticating), any other r is
 * a failure counted for the address and for user (the name tried; may be
 * ""). Returns 0 or ipc_send()'s error.
 */
int listener_report_outcome(int lis_fd, int r, const char *user,
    const char *reason);

#endif
