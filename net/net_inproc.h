/*
 * net_inproc.h - moatd-inprocess only (MOAT_INPROCESS; never installed,
 * SECURITY.md): moat-net's code for one connection run as a second thread
 * of the per-connection monitor instead of an exec'd, sandboxed process,
 * to measure what the privilege separation costs (bench/). The thread
 * finds the viewer's socket and its channel to the monitor at the fixed
 * descriptor numbers moat-net uses (NET_FD_CLIENT, NET_FD_MONITOR), the
 * channel being privsep/ipc_inproc.c's in-memory one.
 */
#ifndef MOAT_NET_INPROC_H
#define MOAT_NET_INPROC_H

#include <sys/types.h>

/*
 * Puts /dev/null on NET_FD_CLIENT and NET_FD_MONITOR (close-on-exec), so
 * that nothing the daemon opens later takes those numbers; call first
 * thing in main(). Returns 0 or MOAT_ERR_SYSTEM.
 */
int net_inproc_reserve_fds(void);

/*
 * Starts moat-net's thread for the viewer on client_fd (duplicated onto
 * NET_FD_CLIENT; the caller still closes its own), with every signal
 * blocked in it. The monitor's end of the channel is returned in *mon_fd
 * and the thread's id in *tid. Returns 0 or a negative MOAT_ERR_*
 * (MOAT_ERR_INVALID if the reserved descriptors are gone).
 */
int net_inproc_start(int client_fd, int *mon_fd, pid_t *tid);

/*
 * Kills moat-net's thread as far as a thread can be: its channel fails
 * from now on and its viewer socket is shut down, so that it returns from
 * whatever it waits for, and ends.
 */
void net_inproc_kill(void);

/*
 * Waits for the thread to end (at most wait_ms if wait_ms >= 0) and
 * returns its exit status (0 returned from net_run(), 1 a fatal error);
 * *killed is 1 if net_inproc_kill() was called. Returns -1 if the wait
 * timed out (the thread still runs) or no thread was started.
 */
int net_inproc_join(int wait_ms, int *killed);

#endif
