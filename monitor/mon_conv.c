/*
 * mon_conv.c - moat's conversation, monitor side (see mon_conv.h). Runs in
 * the per-connection monitor (root). Trusts nothing moat-net sends: every
 * answer is bounded by the IPC codec, must come while a question is open,
 * and is wiped once copied out; every wait ends at the login deadline.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "mon_conv.h"
#include "privsep/errors.h"
#include "privsep/ipc_msg.h"
#include "privsep/clock.h"

/* Prompt texts longer than this are cut (module and RADIUS texts). */
#define CONV_TEXT_MAX	IPC_MAX_PROMPT

static int
send_prompt(struct mon_conv *c, uint8_t kind, const char *text)
{
	char cut[CONV_TEXT_MAX + 1];
	struct ipc_auth_prompt p;
	size_t n = strnlen(text != NULL ? text : "", CONV_TEXT_MAX);

	memcpy(cut, text != NULL ? text : "", n);
	cut[n] = '\0';
	p.kind = kind;
	p.text = cut;
	return ipc_msg_send_auth_prompt(c->ipc, &p, -1);
}

/* Waits for the answer to the open question; handles other messages. */
static int
wait_answer(struct mon_conv *c, char *ans, size_t anslen)
{
	struct ipc_auth_answer a;
	struct pollfd pfd;
	struct ipc_msg m;
	int64_t left;
	size_t n;
	int r;

	for (;;) {
		if ((left = c->deadline_ms - moat_monotonic_ms()) <= 0)
			return MOAT_ERR_AGAIN;	/* the login grace time is up */
		pfd.fd = c->ipc;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left)) < 0) {
			if (errno == EINTR)
				continue;
			return MOAT_ERR_SYSTEM;
		}
		if (r == 0)
			continue;
		if ((r = ipc_recv(c->ipc, &m, 0)) != 0)
			return r;
		if (m.type != IPC_NET_AUTH_ANSWER) {
			r = c->other(c->arg, &m);
			ipc_msg_clear(&m);
			if (r != 0)
				return r;
			continue;
		}
		r = ipc_msg_get_auth_answer(&m.payload, &a);
		ipc_msg_clear(&m);
		if (r != 0)
			return r;
		n = strlen(a.answer);
		if (n >= anslen)
			r = MOAT_ERR_TOO_LONG;
		else
			memcpy(ans, a.answer, n + 1);
		ipc_msg_free_auth_answer(&a);	/* wipes it */
		return r;
	}
}

static int
conv_ask(void *arg, int kind, const char *text, char *ans, size_t anslen)
{
	struct mon_conv *c = arg;
	int r;

	if ((r = send_prompt(c, kind == AUTH_ASK_PROVE ? IPC_PROMPT_PROVE :
	    kind == AUTH_ASK_SECRET ? IPC_PROMPT_SECRET : IPC_PROMPT_ECHO,
	    text)) != 0)
		return r;
	return wait_answer(c, ans, anslen);
}

static int
conv_tell(void *arg, int error, const char *text)
{
	struct mon_conv *c = arg;

	return send_prompt(c, error ? IPC_PROMPT_ERROR : IPC_PROMPT_INFO, text);
}

void
mon_conv_init(struct auth_conv *conv, struct mon_conv *c)
{
	conv->ask = conv_ask;
	conv->tell = conv_tell;
	conv->arg = c;
}
