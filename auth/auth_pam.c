/*
 * auth_pam.c - the SystemAuth factor: system accounts through PAM, with
 * the full conversation (every question and message of the stack goes to
 * the viewer through an auth_conv).
 *
 * Runs in the per-connection monitor (root; pam_unix needs it to read
 * /etc/shadow). The user name and every answer arrive from the network
 * via moat-net and are hostile: a bad user name never reaches PAM (a fixed
 * dummy name does, and the viewer is still asked the same questions), every
 * failure is answered a fixed time after the last answer, and the answer
 * never says whether the account exists. Trusts the PAM stack the
 * administrator configured and nothing a module reports beyond its return
 * codes and PAM_USER.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "auth_conv.h"
#include "auth_pam.h"

#define AUTH_USER_MAX		255	/* bytes in a user name */
#define AUTH_TTY		"moat"
/* Run through PAM when the requested name is unusable; never accepted. */
#define AUTH_DUMMY_USER		"moat-invalid-user"

#define REASON_FAILED		"Authentication failed"
#define REASON_EXPIRED		"Account expired"
#define REASON_NEW_AUTHTOK	"Password change required"

struct conv_ctx {
	const struct auth_conv *conv;
	int error;		/* the first ask()/tell() failure, or 0 */
	struct timespec last;	/* when the viewer last answered */
};

static void
free_responses(struct pam_response *resp, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (resp[i].resp != NULL) {
			explicit_bzero(resp[i].resp, strlen(resp[i].resp));
			free(resp[i].resp);
		}
	}
	free(resp);
}

/*
 * The PAM conversation: each question goes to the viewer through ctx's
 * auth_conv (hidden for PAM_PROMPT_ECHO_OFF), each message is shown, and
 * unknown styles are refused. On any failure frees what it allocated,
 * remembers the first error and returns PAM_CONV_ERR; never exits and
 * never calls back into PAM.
 */
static int
conv_relay(int n, const struct pam_message **msg, struct pam_response **resp,
    void *appdata)
{
	struct conv_ctx *ctx = appdata;
	struct pam_response *reply;
	char ans[AUTH_ANSWER_MAX + 1];
	const char *text;
	int i, r = 0, style;

	if (resp == NULL)
		return PAM_CONV_ERR;
	*resp = NULL;
	if (ctx == NULL || ctx->conv == NULL || msg == NULL || n <= 0 ||
	    n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if (ctx->error != 0)
		return PAM_CONV_ERR;	/* the viewer is already gone */
	if ((reply = calloc((size_t)n, sizeof(*reply))) == NULL)
		return PAM_CONV_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i] == NULL)
			goto fail;
		text = msg[i]->msg != NULL ? msg[i]->msg : "";
		style = msg[i]->msg_style;
		switch (style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			r = ctx->conv->ask(ctx->conv->arg,
			    style == PAM_PROMPT_ECHO_OFF, text, ans, sizeof(ans));
			clock_gettime(CLOCK_MONOTONIC, &ctx->last);
			if (r == 0 && (reply[i].resp = strdup(ans)) == NULL)
				r = MOAT_ERR_NOMEM;
			explicit_bzero(ans, sizeof(ans));
			break;
		case PAM_TEXT_INFO:
		case PAM_ERROR_MSG:
			r = ctx->conv->tell(ctx->conv->arg,
			    style == PAM_ERROR_MSG, text);
			break;
		default:
			r = MOAT_ERR_UNSUPPORTED;
			break;
		}
		if (r != 0)
			goto fail;
	}
	*resp = reply;
	return PAM_SUCCESS;
 fail:
	if (ctx->error == 0)
		ctx->error = r != 0 ? r : MOAT_ERR_INVALID;
	free_responses(reply, n);
	return PAM_CONV_ERR;
}

/*
 * libpam's failure delay hook: moat applies its own fixed one instead
 * (auth_fail_delay()), so a wrong password, an unknown user and a refused
 * name all take the same time.
 */
static void
no_fail_delay(int retval, unsigned usec, void *appdata)
{
	(void)retval;
	(void)usec;
	(void)appdata;
}

#ifdef MOAT_SELFTEST
int
auth_pam_selftest_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, const struct auth_conv *conv, int *error)
{
	struct conv_ctx ctx;
	int r;

	memset(&ctx, 0, sizeof(ctx));
	ctx.conv = conv;
	r = conv_relay(n, msg, resp, &ctx);
	if (error != NULL)
		*error = ctx.error;
	return r;
}
#endif

static int
valid_user(const char *user)
{
	size_t i, n;

	if (user == NULL)
		return 0;
	n = strnlen(user, AUTH_USER_MAX + 1);
	if (n == 0 || n > AUTH_USER_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)user[i];

		if (ch < 0x20 || ch == 0x7f)
			return 0;
	}
	return 1;
}

static void
set_reason(char *reason, size_t reasonlen, const char *s)
{
	size_t n;

	if (reason == NULL || reasonlen == 0)
		return;
	n = strlen(s);
	if (n >= reasonlen)
		n = reasonlen - 1;
	memcpy(reason, s, n);
	reason[n] = '\0';
}

int
auth_pam_converse(const char *service, const char *user, const char *rhost,
    const struct auth_conv *conv, char *final_user, size_t final_len,
    char *reason, size_t reasonlen)
{
	struct pam_conv pc;
	struct conv_ctx ctx;
	pam_handle_t *h = NULL;
	const void *item = NULL;
	const char *pam_user;
	char euser[AUTH_USER_MAX * 4 + 8], erhost[256], efinal[AUTH_USER_MAX * 4 + 8];
	int fake = 0, r, pr = PAM_SUCCESS;

	set_reason(reason, reasonlen, REASON_FAILED);
	if (final_user != NULL && final_len > 0)
		final_user[0] = '\0';
	if (service == NULL || service[0] == '\0' || conv == NULL)
		return MOAT_ERR_INVALID;
	log_escape(euser, sizeof(euser), user != NULL ? user : "(null)",
	    user != NULL ? strnlen(user, AUTH_USER_MAX + 1) : 6);
	log_escape(erhost, sizeof(erhost), rhost != NULL ? rhost : "-",
	    rhost != NULL ? strnlen(rhost, 128) : 1);
	/* A refused name still goes through PAM, under the dummy name. */
	fake = !valid_user(user);

	memset(&ctx, 0, sizeof(ctx));
	ctx.conv = conv;
	clock_gettime(CLOCK_MONOTONIC, &ctx.last);
	pc.conv = conv_relay;
	pc.appdata_ptr = &ctx;

	if ((pr = pam_start(service, fake ? AUTH_DUMMY_USER : user, &pc,
	    &h)) != PAM_SUCCESS) {
		error_f("pam_start(%s) failed: %d", service, pr);
		h = NULL;
		r = pr == PAM_BUF_ERR ? MOAT_ERR_NOMEM : MOAT_ERR_SYSTEM;
		goto out;
	}
	if ((rhost != NULL &&
	    (pr = pam_set_item(h, PAM_RHOST, rhost)) != PAM_SUCCESS) ||
	    (pr = pam_set_item(h, PAM_TTY, AUTH_TTY)) != PAM_SUCCESS ||
	    (pr = pam_set_item(h, PAM_FAIL_DELAY,
	    (const void *)no_fail_delay)) != PAM_SUCCESS) {
		error_f("pam_set_item: %s", pam_strerror(h, pr));
		r = MOAT_ERR_SYSTEM;
		goto out;
	}

	pr = pam_authenticate(h, PAM_DISALLOW_NULL_AUTHTOK);
	if (ctx.error != 0 && ctx.error != MOAT_ERR_UNSUPPORTED &&
	    ctx.error != MOAT_ERR_TOO_LONG) {
		/* The viewer went away or ran out of time mid-conversation. */
		info_f("user '%s' from %s: conversation ended: %s", euser,
		    erhost, moat_strerror(ctx.error));
		r = ctx.error;
		goto out;
	}
	if (fake) {
		/* Whatever the stack said about the dummy, the input was refused. */
		info_f("user '%s' from %s: refused: invalid user name", euser,
		    erhost);
		r = MOAT_ERR_AUTH;
		goto out;
	}
	if (pr != PAM_SUCCESS) {
		info_f("user '%s' from %s: %s", euser, erhost,
		    ctx.error == MOAT_ERR_UNSUPPORTED ? "the viewer cannot "
		    "answer every question" : ctx.error == MOAT_ERR_TOO_LONG ?
		    "an answer was too long" : pam_strerror(h, pr));
		r = MOAT_ERR_AUTH;
		goto out;
	}
	pr = pam_acct_mgmt(h, PAM_DISALLOW_NULL_AUTHTOK);
	if (pr != PAM_SUCCESS) {
		info_f("user '%s' from %s: account: %s", euser, erhost,
		    pam_strerror(h, pr));
		if (pr == PAM_NEW_AUTHTOK_REQD)
			set_reason(reason, reasonlen, REASON_NEW_AUTHTOK);
		else if (pr == PAM_ACCT_EXPIRED)
			set_reason(reason, reasonlen, REASON_EXPIRED);
		r = MOAT_ERR_AUTH;
		goto out;
	}
	/*
	 * The name PAM ends with is the one that logs in (a module may map
	 * it); it must still be a valid name of an existing account.
	 */
	if ((pr = pam_get_item(h, PAM_USER, &item)) != PAM_SUCCESS ||
	    (pam_user = item) == NULL || !valid_user(pam_user) ||
	    getpwnam(pam_user) == NULL) {
		error_f("user '%s' from %s: PAM ended with no usable user name",
		    euser, erhost);
		r = MOAT_ERR_AUTH;
		goto out;
	}
	if (strcmp(pam_user, user) != 0) {
		log_escape(efinal, sizeof(efinal), pam_user, strlen(pam_user));
		info_f("user '%s' from %s: PAM mapped the name to '%s'", euser,
		    erhost, efinal);
	}
	if (final_user != NULL &&
	    snprintf(final_user, final_len, "%s", pam_user) >= (int)final_len) {
		error_f("user '%s' from %s: the final user name is too long",
		    euser, erhost);
		final_user[0] = '\0';
		r = MOAT_ERR_AUTH;
		goto out;
	}
	info_f("user '%s' from %s: accepted", euser, erhost);
	set_reason(reason, reasonlen, "");
	r = 0;
 out:
	if (h != NULL)
		pam_end(h, pr);
	if (r == MOAT_ERR_AUTH)
		auth_fail_delay(&ctx.last);
	explicit_bzero(&ctx, sizeof(ctx));
	return r;
}

int
auth_pam_password(const char *service, const char *user, const char *password,
    const char *rhost, char *reason, size_t reasonlen)
{
	struct auth_conv conv;
	struct auth_creds creds;
	int r;

	auth_creds_conv(&conv, &creds, user, password);
	r = auth_pam_converse(service, user, rhost, &conv, NULL, 0, reason,
	    reasonlen);
	explicit_bzero(&creds, sizeof(creds));
	return r;
}
