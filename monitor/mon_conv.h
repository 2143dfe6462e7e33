/*
 * mon_conv.h - moat's conversation, monitor side: each question a factor
 * asks goes to moat-net as IPC_MON_AUTH_PROMPT and the viewer's answer
 * comes back as IPC_NET_AUTH_ANSWER. Runs in the per-connection monitor
 * (root); moat-net is untrusted, so an answer is accepted only while a
 * question is open, and only before the login deadline.
 */
#ifndef MOAT_MON_CONV_H
#define MOAT_MON_CONV_H

#include <stdint.h>
#include <sys/types.h>

#include "auth/auth_conv.h"
#include "privsep/ipc.h"

struct mon_conv {
	int ipc;		/* to moat-net */
	int64_t deadline_ms;	/* CLOCK_MONOTONIC, the login grace time */
	/*
	 * Handles any other message moat-net sends while a question is open
	 * (its log lines, its closing notice). Returns 0 to keep waiting,
	 * MOAT_ERR_EOF if the viewer is gone, or another negative error (the
	 * message was not permitted).
	 */
	int (*other)(void *arg, struct ipc_msg *m);
	void *arg;
};

/* Sets up conv to relay through c (owned by the caller). */
void mon_conv_init(struct auth_conv *conv, struct mon_conv *c);


#endif
