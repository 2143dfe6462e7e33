/*
 * mon_inproc.h - moatd-inprocess only (MOAT_INPROCESS; never installed,
 * SECURITY.md): the monitor's side of running moat-net's code in a second
 * thread of the monitor process (net/net_inproc.c) over the in-memory
 * channel (privsep/ipc_inproc.c), and the program's main(), which refuses
 * to start without --insecure-inprocess. Each function stands for the
 * system call the monitor makes on the real moat-net (monitor/monitor.c).
 * Runs as root in moatd-inprocess.
 */
#ifndef MOAT_MON_INPROC_H
#define MOAT_MON_INPROC_H

#include <sys/types.h>

#include <poll.h>

#include "privsep/ipc_inproc.h"

/* The flag without which moatd-inprocess does not start. */
#define MON_INPROC_FLAG	"--insecure-inprocess"

/* moatd.c's main(), compiled under this name (monitor/mon_inproc_moatd.c); returns its exit status. */
int moatd_main(int argc, char **argv);

/*
 * For mon_spawn_net() and the socketpair: starts moat-net's thread for
 * the viewer on client_fd (the caller still closes client_fd), with fn(arg)
 * as the monitor's direct handler. The monitor's end of the channel is
 * returned in *ipc and the thread's id in *tid. Returns 0 or a negative
 * MOAT_ERR_*.
 */
int mon_inproc_spawn(int client_fd, ipc_inproc_direct_fn fn, void *arg,
    int *ipc, pid_t *tid);
/*
 * For the poll(2) of the monitor's main loop: the same, but moat-net's
 * thread may call the monitor directly while it waits; the revents are
 * those after any such call. Returns what poll(2) returns.
 */
int mon_inproc_poll(struct pollfd *pfd, nfds_t n, int timeout);
/* For kill(SIGKILL) of moat-net. */
void mon_inproc_kill_net(void);
/* For close() of the monitor's end of the channel. */
void mon_inproc_close(void);
/* For waitpid() of moat-net: returns its wait status (killed by SIGKILL after mon_inproc_kill_net()). */
int mon_inproc_reap(void);

#endif
