/*
 * refusal.h - moatd's listener telling viewers it refuses at accept time
 * (blacklist, connection caps) why, in RFB terms, without blocking its
 * loop. Runs as root in the listener.
 */
#ifndef MOAT_REFUSAL_H
#define MOAT_REFUSAL_H

#include <poll.h>

/* How many refused viewers are told why at the same time. */
#define REFUSAL_MAX	64

/*
 * Takes fd and starts telling its viewer reason (static text): sends the
 * server ProtocolVersion now, the reason once the viewer sent its own.
 * Without a free slot fd is just closed. Returns nothing: fd is the
 * table's (or closed) either way.
 */
void refusal_start(int fd, const char *reason);

/* Ends the refusals whose time is up; returns the poll timeout (ms) for the next, or -1. */
int refusal_expire(void);

/*
 * Fills pfd (room for REFUSAL_MAX) with the descriptors of the refusals
 * under way, for POLLIN; returns how many.
 */
int refusal_pollfds(struct pollfd *pfd);

/* p (from refusal_pollfds()) polled ready: reads from its viewer and goes on; returns nothing. */
void refusal_on_ready(const struct pollfd *p);

/* Closes every refusal under way (a forked monitor, moatd stopping); returns nothing. */
void refusal_close_all(void);

#endif
