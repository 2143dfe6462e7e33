/*
 * net_run.h - moat-net's work for one connection, from the monitor's
 * configuration to its closing notice. The moat-net program runs it in a
 * process of its own (net/net_main.c's main(), which sets up logging and
 * exits afterwards); moatd-inprocess, the benchmark-only build without
 * privilege separation, runs it in a thread of the monitor
 * (net/net_inproc.c). Everything from the viewer is hostile.
 */
#ifndef MOAT_NET_RUN_H
#define MOAT_NET_RUN_H

#include "net_conn.h"

/*
 * Serves the viewer on NET_FD_CLIENT for the monitor on NET_FD_MONITOR,
 * sandboxed before the first network byte (except in moatd-inprocess),
 * until the connection ends, then returns. If the monitor's configuration
 * cannot be read, a library cannot be set up or the sandbox cannot be
 * entered it does not return: log_fatal() ends the process (in
 * moatd-inprocess, moat-net's thread) with status 1.
 */
void net_run(struct net_conn *c);

#endif
