/*
 * auth_conv.c - the credentials conversation (see auth_conv.h): answers a
 * factor's questions from the one user name and password a standard viewer
 * sent; and the fixed failure delay every factor uses. Runs in the monitor (root); the strings came from the network and
 * are copied only within the caller's bounds.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "privsep/errors.h"
#include "auth_conv.h"

static int
creds_answer(const char *s, char *ans, size_t anslen)
{
	size_t n = strnlen(s, AUTH_ANSWER_MAX + 1);

	if (n > AUTH_ANSWER_MAX || n >= anslen)
		return MOAT_ERR_TOO_LONG;
	memcpy(ans, s, n);
	ans[n] = '\0';
	return 0;
}

static int
creds_ask(void *arg, int kind, const char *text, char *ans, size_t anslen)
{
	struct auth_creds *c = arg;
	int secret = kind == AUTH_ASK_SECRET;
	int *used = secret ? &c->password_used : &c->user_used;
	const char *s = secret ? c->password : c->user;

	(void)text;
	_Static_assert(sizeof(AUTH_CREDS_TOO_FEW) <= sizeof(c->message),
	    "the message fits");
	if (kind == AUTH_ASK_PROVE || *used || s == NULL) {
		c->too_few = 1;
		memcpy(c->message, AUTH_CREDS_TOO_FEW, sizeof(AUTH_CREDS_TOO_FEW));
		return MOAT_ERR_UNSUPPORTED;
	}
	*used = 1;
	return creds_answer(s, ans, anslen);
}

static int
creds_tell(void *arg, int error, const char *text)
{
	struct auth_creds *c = arg;
	size_t n;

	if (!error || c->too_few || text == NULL)
		return 0;
	n = strnlen(text, AUTH_MESSAGE_MAX);
	memcpy(c->message, text, n);
	c->message[n] = '\0';
	return 0;
}

void
auth_creds_conv(struct auth_conv *conv, struct auth_creds *creds,
    const char *user, const char *password)
{
	memset(creds, 0, sizeof(*creds));
	creds->user = user;
	creds->password = password;
	conv->ask = creds_ask;
	conv->tell = creds_tell;
	conv->arg = creds;
}

void
auth_fail_delay(const struct timespec *since)
{
	struct timespec until = *since;

	until.tv_sec += AUTH_FAIL_DELAY_MS / 1000;
	until.tv_nsec += (long)(AUTH_FAIL_DELAY_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until,
	    NULL) == EINTR)
		;
}
