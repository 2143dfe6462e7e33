/*
 * ipc_inproc.h - moatd-inprocess only (compiled with MOAT_INPROCESS into
 * that benchmark program, never into moatd, moat-net or anything
 * installed; SECURITY.md): the monitor <-> moat-net channel of one
 * connection when moat-net's code runs in a second thread of the monitor
 * process instead of a sandboxed process of its own. privsep/ipc.c hands
 * every send and receive on the channel's two descriptors to this file
 * instead of the socket; the code on either side is unchanged.
 *
 * moat-net -> monitor: a direct call where possible. While the monitor's
 * thread waits in its main loop (between ipc_inproc_monitor_idle() and
 * ipc_inproc_monitor_busy()) and nothing is queued, ipc_send() on
 * moat-net's end runs the monitor's handler right away, in moat-net's
 * thread, on the sender's own buffer: no copy, no system call, the same
 * dispatch tables. Otherwise the message is queued for the monitor's
 * thread, and the monitor's descriptor (an eventfd) turns readable: when
 * the monitor is busy (e.g. a conversation is open and it waits for the
 * answer), when the handler declines (a request that starts a
 * conversation), or when the message carries a descriptor.
 * monitor -> moat-net: always queued; moat-net's blocking receive waits
 * on a condition variable. moat-net's descriptor (an eventfd at the fixed
 * number moat-net polls) turns readable only when the monitor closes its
 * end: the monitor sends nothing once the session runs, so moat-net's
 * "the monitor ended us" reading of it is unchanged.
 *
 * Runs in both threads of a moatd-inprocess monitor (root). It trusts both
 * sides: this build has no privilege separation at all.
 */
#ifndef MOAT_IPC_INPROC_H
#define MOAT_IPC_INPROC_H

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

/*
 * The monitor's handler for one message from moat-net, called in
 * moat-net's thread with the monitor's turn held. Returns 0 when handled,
 * 1 when handled and the monitor's thread must look again (its wait set
 * changed, or the connection ends: its descriptor turns readable until it
 * next takes its turn), or MOAT_ERR_AGAIN, having touched nothing, to
 * have the message queued for the monitor's thread instead.
 */
typedef int (*ipc_inproc_direct_fn)(void *arg, struct ipc_msg *m);

/*
 * Opens the one channel of this process: moat-net's end gets descriptor
 * number net_fd (replacing whatever was there), the monitor's end is
 * returned in *mon_fd. The monitor's thread holds its turn from here on.
 * Returns 0, or MOAT_ERR_INVALID if a channel is open, or MOAT_ERR_SYSTEM.
 */
int ipc_inproc_open(int net_fd, int *mon_fd);
/* Sets the monitor's direct handler (NULL, the default: queue everything). */
void ipc_inproc_set_direct(ipc_inproc_direct_fn fn, void *arg);
/* The monitor's thread is about to wait: moat-net may call it directly. */
void ipc_inproc_monitor_idle(void);
/*
 * The monitor's thread waits for any direct call to end and takes its turn
 * back. Returns the number of direct calls made since ipc_inproc_monitor_idle().
 */
int ipc_inproc_monitor_busy(void);
/*
 * Closes the monitor's end (what close() of its socket does): moat-net's
 * receives see MOAT_ERR_EOF once its queue is empty, and its descriptor
 * turns readable. With kill, moat-net is to stop at once: its sends fail
 * too and ipc_inproc_net_status() reports it killed. May be called from
 * either thread; the second call only adds kill.
 */
void ipc_inproc_close_monitor(int kill);
/*
 * Ends moat-net's thread (the caller's) with exit status status: its end
 * closes (the monitor reads what is queued, then MOAT_ERR_EOF). Never returns.
 */
void ipc_inproc_net_exit(int status) __attribute__((noreturn));
/* moat-net's exit status (once its thread ended); *killed is 1 if the monitor killed it. */
int ipc_inproc_net_status(int *killed);

/* ipc.c's hooks: 1 if sock is an end of the open channel, else 0. */
int ipc_inproc_owns(int sock);
/* ipc_send_raw() on an end; the same contract (n is already bounded). */
int ipc_inproc_send(int sock, uint16_t type, const void *p, size_t n, int fd);
/* ipc_recv() on an end; the same contract (blocks; never MOAT_ERR_AGAIN). */
int ipc_inproc_recv(int sock, struct ipc_msg *m, int allow_fd);

#endif
