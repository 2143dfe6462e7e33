/*
 * auth_conv.h - how an authentication factor asks the viewer questions.
 * Linked only into the monitor (root). Every answer comes from the network
 * through moat-net and is a hostile string: bounded, NUL-terminated, and
 * never more than the factor asked for.
 *
 * A factor (PAM, RADIUS) calls ask() for each question and tell() for each
 * message. The monitor provides two conversations: moat's conversation
 * subtype relays each question to the viewer (monitor/mon_conv.c), and the
 * credentials conversation below answers from the one user name and one
 * password a standard viewer sent (VeNCrypt Plain, RSA-AES).
 */
#ifndef MOAT_AUTH_CONV_H
#define MOAT_AUTH_CONV_H

#include <stddef.h>
#include <time.h>

#define AUTH_ANSWER_MAX		1023	/* bytes in one answer (IPC_MAX_PASSWORD) */
#define AUTH_MESSAGE_MAX	255	/* bytes kept of a message shown on failure */

/* What a question asks for. */
#define AUTH_ASK_ECHO	0	/* a visible answer (a user name) */
#define AUTH_ASK_SECRET	1	/* a hidden answer (a password, a one-time code) */
#define AUTH_ASK_PROVE	2	/* a signature of the challenge text (auth/cert_proof.h) */

struct auth_conv {
	/*
	 * Asks question text of kind AUTH_ASK_*. Writes the NUL-terminated
	 * answer, at most AUTH_ANSWER_MAX bytes, into ans (anslen >
	 * AUTH_ANSWER_MAX). Returns 0; MOAT_ERR_UNSUPPORTED if this viewer
	 * cannot answer it (the failure reason is then in the conversation's
	 * message); another negative MOAT_ERR_* if the viewer is gone or the
	 * time is up.
	 */
	int (*ask)(void *arg, int kind, const char *text, char *ans,
	    size_t anslen);
	/* Shows message text (error: an error message). Returns 0 or negative. */
	int (*tell)(void *arg, int error, const char *text);
	void *arg;
};

/*
 * The credentials conversation: a standard viewer's user name answers the
 * first visible question, its password the first hidden one; any further
 * question, and any proof, is MOAT_ERR_UNSUPPORTED with AUTH_CREDS_TOO_FEW
 * as the message.
 * Messages are not shown (the viewer has nowhere to show them) but the last
 * error message is kept, as the reason a failure gives.
 */
#define AUTH_CREDS_TOO_FEW	"This server asks more than a user name and a " \
	"password: connect with a viewer that supports moat's conversation " \
	"(moat-viewer)"

struct auth_creds {
	const char *user;	/* not owned */
	const char *password;	/* not owned */
	int user_used, password_used, too_few;
	char message[AUTH_MESSAGE_MAX + 1];	/* last error message, or "" */
};

/*
 * Every failed factor is answered this long after the viewer's last
 * answer, whatever the back-end took, so its timing tells nothing.
 */
#define AUTH_FAIL_DELAY_MS	2000

/* Sleeps until AUTH_FAIL_DELAY_MS after *since (CLOCK_MONOTONIC). */
void auth_fail_delay(const struct timespec *since);

/* Sets up conv to answer from creds (both owned by the caller). */
void auth_creds_conv(struct auth_conv *conv, struct auth_creds *creds,
    const char *user, const char *password);

#endif
