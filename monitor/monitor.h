/*
 * monitor.h - the per-connection monitor and the pieces of moatd it uses.
 * Runs as root. It never reads a byte from the viewer: it talks to moat-net
 * over IPC only and re-checks everything moat-net says.
 */
#ifndef MOAT_MONITOR_H
#define MOAT_MONITOR_H

#include <sys/types.h>

#include "auth/radius_client.h"
#include "auth/vnc_password.h"
#include "mon_identity.h"
#include "policy/config.h"

/* Exit statuses of a monitor process, read by moatd's listener. */
#define MON_EXIT_OK		0	/* authenticated session ended */
#define MON_EXIT_NOAUTH		1	/* closed before authenticating */
#define MON_EXIT_CRASH		4	/* moat-net crashed or was killed by its sandbox */
#define MON_EXIT_AUTH_FAILED	5	/* authentication failed */
#define MON_EXIT_GRACE		6	/* login grace time exceeded */
#define MON_EXIT_IPC		7	/* moat-net broke the IPC protocol */
#define MON_EXIT_ERROR		8	/* internal error */

struct mon_ctx {
	const struct moat_config *cfg;
	const struct mon_identity *id;
	const char *net_binary;	/* absolute path of moat-net */
	uid_t net_uid;
	gid_t net_gid;
	int selftest;		/* MOAT_SELFTEST build */
	const struct radius_config *radius;	/* NULL unless Authentication uses Radius */
	const struct vnc_password_db *vnc_passwords;	/* NULL unless it uses VncPassword */
};

/*
 * Runs the monitor for one accepted connection (in a child of moatd):
 * execs moat-net, answers its requests, writes the audit lines, and exits
 * the process with a MON_EXIT_* status. lis_fd is the IPC channel to the
 * listener (for attaching the desktop session). Never returns.
 */
void monitor_run(const struct mon_ctx *m, int client_fd, const char *peer, int lis_fd)
    __attribute__((noreturn));

/*
 * Forks and execs moat-net with client_fd as fd 3 and ipc_fd as fd 4,
 * /dev/null as 0-2, every other descriptor closed and an empty environment.
 * Returns the child's pid or a negative MOAT_ERR_*.
 */
pid_t mon_spawn_net(const char *binary, int client_fd, int ipc_fd);

#endif
