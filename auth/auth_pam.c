/*
 * auth_pam.c - password authentication of system accounts through PAM.
 *
 * Runs in the per-connection monitor (root; pam_unix needs it to read
 * /etc/shadow). The user name and password arrive from the network via
 * moat-net and are hostile: a bad user name never reaches PAM (a fixed
 * dummy name does, with a junk password of the same length, so the reply
 * takes as long as for a real user), and the answer never says whether
 * the account exists. Trusts the PAM stack the administrator configured
 * and nothing a module reports beyond its return codes and PAM_USER.
 */
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "auth_pam.h"

#define AUTH_USER_MAX		255	/* bytes in a user name */
#define AUTH_PASSWORD_MAX	1024	/* bytes in a password */
#define AUTH_INFO_MAX		8	/* PAM_TEXT_INFO/ERROR_MSG kept */
#define AUTH_INFO_LEN		256	/* bytes kept of each */
#define AUTH_TTY		"moat"
/* Run through PAM when the requested name is unusable; never accepted. */
#define AUTH_DUMMY_USER		"moat-invalid-user"

#define REASON_FAILED		"Authentication failed"
#define REASON_EXPIRED		"Account expired"
#define REASON_NEW_AUTHTOK	"Password change required"

struct conv_ctx {
	const char *password;			/* answer to PAM_PROMPT_ECHO_OFF */
	char info[AUTH_INFO_MAX][AUTH_INFO_LEN];	/* module messages (unused yet) */
	size_t ninfo;
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
 * The PAM conversation: answers hidden prompts with the password, keeps a
 * bounded copy of informational messages and refuses everything else. On
 * any failure frees what it allocated and returns PAM_CONV_ERR; never
 * exits and never calls back into PAM.
 */
static int
conv_password(int n, const struct pam_message **msg, struct pam_response **resp,
    void *appdata)
{
	struct conv_ctx *ctx = appdata;
	struct pam_response *reply;
	size_t len;
	int i;

	if (resp == NULL)
		return PAM_CONV_ERR;
	*resp = NULL;
	if (ctx == NULL || msg == NULL || n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((reply = calloc((size_t)n, sizeof(*reply))) == NULL)
		return PAM_CONV_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i] == NULL)
			goto fail;
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			if (ctx->password == NULL ||
			    (reply[i].resp = strdup(ctx->password)) == NULL)
				goto fail;
			break;
		case PAM_TEXT_INFO:
		case PAM_ERROR_MSG:
			if (ctx->ninfo < AUTH_INFO_MAX && msg[i]->msg != NULL) {
				len = strnlen(msg[i]->msg, AUTH_INFO_LEN - 1);
				memcpy(ctx->info[ctx->ninfo], msg[i]->msg, len);
				ctx->info[ctx->ninfo][len] = '\0';
				ctx->ninfo++;
			}
			break;
		default:
			/* PAM_PROMPT_ECHO_ON (a visible question) and unknown styles. */
			goto fail;
		}
	}
	*resp = reply;
	return PAM_SUCCESS;
 fail:
	free_responses(reply, n);
	return PAM_CONV_ERR;
}

#ifdef MOAT_SELFTEST
int
auth_pam_selftest_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, const char *password, size_t *ninfo)
{
	struct conv_ctx ctx;
	int r;

	memset(&ctx, 0, sizeof(ctx));
	ctx.password = password;
	r = conv_password(n, msg, resp, &ctx);
	if (ninfo != NULL)
		*ninfo = ctx.ninfo;
	explicit_bzero(&ctx, sizeof(ctx));
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
auth_pam_password(const char *service, const char *user, const char *password,
    const char *rhost, char *reason, size_t reasonlen)
{
	struct pam_conv conv;
	struct conv_ctx ctx;
	pam_handle_t *h = NULL;
	const void *item = NULL;
	const char *pam_user;
	char euser[AUTH_USER_MAX * 4 + 8], erhost[256];
	char *pw = NULL;
	size_t pwlen, i;
	int fake = 0, r, pr = PAM_SUCCESS;

	set_reason(reason, reasonlen, REASON_FAILED);
	if (service == NULL || service[0] == '\0')
		return MOAT_ERR_INVALID;
	log_escape(euser, sizeof(euser), user != NULL ? user : "(null)",
	    user != NULL ? strnlen(user, AUTH_USER_MAX + 1) : 6);
	log_escape(erhost, sizeof(erhost), rhost != NULL ? rhost : "-",
	    rhost != NULL ? strnlen(rhost, 128) : 1);

	/*
	 * Work on our own copy of the password so it can be wiped; a
	 * refused name or password still goes through PAM, under the dummy
	 * name with junk of the same (bounded) length.
	 */
	pwlen = password != NULL ? strnlen(password, AUTH_PASSWORD_MAX + 1) : 0;
	if (!valid_user(user) || pwlen == 0 || pwlen > AUTH_PASSWORD_MAX) {
		fake = 1;
		if (pwlen == 0)
			pwlen = 8;
		else if (pwlen > AUTH_PASSWORD_MAX)
			pwlen = AUTH_PASSWORD_MAX;
	}
	if ((pw = malloc(pwlen + 1)) == NULL)
		return MOAT_ERR_NOMEM;
	if (fake) {
		for (i = 0; i < pwlen; i++)
			pw[i] = "\b\n\r\177INCORRECT"[i % 14];
	} else
		memcpy(pw, password, pwlen);
	pw[pwlen] = '\0';

	memset(&ctx, 0, sizeof(ctx));
	ctx.password = pw;
	conv.conv = conv_password;
	conv.appdata_ptr = &ctx;

	if ((pr = pam_start(service, fake ? AUTH_DUMMY_USER : user, &conv,
	    &h)) != PAM_SUCCESS) {
		error_f("pam_start(%s) failed: %d", service, pr);
		h = NULL;
		r = pr == PAM_BUF_ERR ? MOAT_ERR_NOMEM : MOAT_ERR_SYSTEM;
		goto out;
	}
	if (rhost != NULL &&
	    (pr = pam_set_item(h, PAM_RHOST, rhost)) != PAM_SUCCESS) {
		error_f("pam_set_item(PAM_RHOST): %s", pam_strerror(h, pr));
		r = MOAT_ERR_SYSTEM;
		goto out;
	}
	if ((pr = pam_set_item(h, PAM_TTY, AUTH_TTY)) != PAM_SUCCESS) {
		error_f("pam_set_item(PAM_TTY): %s", pam_strerror(h, pr));
		r = MOAT_ERR_SYSTEM;
		goto out;
	}

	pr = pam_authenticate(h, PAM_DISALLOW_NULL_AUTHTOK);
	if (fake) {
		/* Whatever the stack said about the dummy, the input was refused. */
		info_f("user '%s' from %s: refused: invalid user name or empty "
		    "or overlong password", euser, erhost);
		r = MOAT_ERR_AUTH;
		goto out;
	}
	if (pr != PAM_SUCCESS) {
		info_f("user '%s' from %s: %s", euser, erhost,
		    pam_strerror(h, pr));
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
	/* A module may have replaced the user name; only the asked one counts. */
	if ((pr = pam_get_item(h, PAM_USER, &item)) != PAM_SUCCESS ||
	    (pam_user = item) == NULL || strcmp(pam_user, user) != 0) {
		error_f("user '%s' from %s: PAM changed the user name", euser,
		    erhost);
		r = MOAT_ERR_AUTH;
		goto out;
	}
	info_f("user '%s' from %s: accepted", euser, erhost);
	set_reason(reason, reasonlen, "");
	r = 0;
 out:
	if (h != NULL)
		pam_end(h, pr);
	for (i = 0; i < ctx.ninfo; i++) {
		char einfo[AUTH_INFO_LEN * 4];

		debug_f("PAM message: %s", log_escape(einfo, sizeof(einfo),
		    ctx.info[i], strlen(ctx.info[i])));
	}
	explicit_bzero(pw, pwlen);
	free(pw);
	explicit_bzero(&ctx, sizeof(ctx));
	return r;
}
