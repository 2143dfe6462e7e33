/*
 * auth_radius.c - the Radius factor (see auth_radius.h). Runs in the
 * per-connection monitor (root). It trusts the RADIUS client's verdict on
 * each reply (Response Authenticator and Message-Authenticator checked
 * there) and nothing the viewer answers; the Reply-Message texts it shows
 * were made printable by the client and are escaped again when logged.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "auth_radius.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "privsep/clock.h"

#define REASON_FAILED	"Authentication failed"
#define REASON_TIMEOUT	"The authentication server did not answer"

static void
set_reason(char *reason, size_t reasonlen, const char *s)
{
	if (reason != NULL && reasonlen > 0)
		snprintf(reason, reasonlen, "%s", s);
}

int
auth_radius_converse(const struct radius_config *rc, const char *user,
    const char *rhost, int first_factor, int64_t deadline_ms,
    const struct auth_conv *conv, char *reason, size_t reasonlen)
{
	char ans[AUTH_ANSWER_MAX + 1], euser[300], emsg[RADIUS_MESSAGE_MAX * 4 + 8];
	uint8_t state[RADIUS_STATE_MAX];
	struct radius_question q;
	struct radius_answer a;
	struct timespec last;
	unsigned round;
	int64_t left;
	int r;

	set_reason(reason, reasonlen, REASON_FAILED);
	log_escape(euser, sizeof(euser), user, strnlen(user, 255));
	memset(&a, 0, sizeof(a));
	r = conv->ask(conv->arg, 1, first_factor ? "Password: " :
	    "RADIUS password: ", ans, sizeof(ans));
	clock_gettime(CLOCK_MONOTONIC, &last);
	for (round = 0; r == 0; round++) {
		memset(&q, 0, sizeof(q));
		q.user = user;
		q.response = ans;
		q.calling_station = rhost;
		if (round > 0) {
			/* A copy: the exchange rewrites a before it reads q. */
			memcpy(state, a.state, a.state_len);
			q.state = state;
			q.state_len = a.state_len;
		}
		if (deadline_ms > 0) {
			if ((left = deadline_ms - moat_monotonic_ms()) <= 0) {
				r = MOAT_ERR_AGAIN;	/* the grace time is up */
				break;
			}
			q.budget_ms = (unsigned)left;
		}
		r = radius_exchange(rc, &q, &a);
		OPENSSL_cleanse(ans, sizeof(ans));
		if (r == MOAT_ERR_INVALID || r == MOAT_ERR_TOO_LONG) {
			/* A name or answer RADIUS cannot carry: a failure. */
			info_f("Radius: user '%s' from %s: the user name or an "
			    "answer cannot be sent", euser, rhost);
			r = MOAT_ERR_AUTH;
			break;
		}
		if (r != 0)
			break;
		if (a.result != RADIUS_RESULT_CHALLENGE ||
		    round + 1 >= AUTH_RADIUS_MAX_ROUNDS)
			break;
		/* The challenge's text is the question. */
		r = conv->ask(conv->arg, !a.echo, a.message_len > 0 ? a.message :
		    "Response: ", ans, sizeof(ans));
		clock_gettime(CLOCK_MONOTONIC, &last);
	}
	OPENSSL_cleanse(ans, sizeof(ans));
	if (r == MOAT_ERR_UNSUPPORTED || r == MOAT_ERR_TOO_LONG)
		r = MOAT_ERR_AUTH;	/* the viewer cannot answer */
	if (r != 0 && r != MOAT_ERR_AUTH) {
		OPENSSL_cleanse(&a, sizeof(a));
		return r;
	}
	if (r == 0) {
		log_escape(emsg, sizeof(emsg), a.message, a.message_len);
		switch (a.result) {
		case RADIUS_RESULT_ACCEPT:
			info_f("Radius: user '%s' from %s: accepted by %s", euser,
			    rhost, a.server);
			set_reason(reason, reasonlen, "");
			OPENSSL_cleanse(&a, sizeof(a));
			return 0;
		case RADIUS_RESULT_REJECT:
			info_f("Radius: user '%s' from %s: rejected by %s%s%s",
			    euser, rhost, a.server, a.message_len ? ": " : "",
			    emsg);
			if (a.message_len > 0)
				(void)conv->tell(conv->arg, 1, a.message);
			break;
		case RADIUS_RESULT_CHALLENGE:
			info_f("Radius: user '%s' from %s: more than %d "
			    "challenges", euser, rhost, AUTH_RADIUS_MAX_ROUNDS - 1);
			break;
		case RADIUS_RESULT_TIMEOUT:
		default:
			error_f("Radius: user '%s' from %s: no server answered "
			    "(%u datagrams sent, %u dropped)", euser, rhost,
			    a.sent, a.dropped);
			set_reason(reason, reasonlen, REASON_TIMEOUT);
			/* An outage, not a wrong answer: the blacklist skips it. */
			OPENSSL_cleanse(&a, sizeof(a));
			auth_fail_delay(&last);
			return MOAT_ERR_UNAVAILABLE;
		}
	}
	OPENSSL_cleanse(&a, sizeof(a));
	auth_fail_delay(&last);
	return MOAT_ERR_AUTH;
}
