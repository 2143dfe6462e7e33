/*
 * mon_auth.c - the factor engine (see mon_auth.h). Runs in the
 * per-connection monitor (root). moat-net only carries questions and
 * answers: which factors run, in which order, and whether each passed is
 * decided here, from policy and the back-ends' own results.
 */
#include <stdio.h>
#include <string.h>

#include "auth/auth_cert.h"
#include "auth/auth_pam.h"
#include "auth/auth_radius.h"
#include "auth/vnc_password.h"
#include "audit.h"
#include "listener.h"
#include "mon_auth.h"
#include "privsep/errors.h"
#include "privsep/ipc_types.h"
#include "privsep/log.h"

#define USER_PROMPT	"Username: "
#define REASON_NO_ALTERNATIVE	"This server asks for a client certificate " \
	"(a smartcard): connect with moat-viewer --cert and --key"

uint32_t
mon_auth_channels(const struct moat_config *cfg)
{
	const struct auth_alternative *plain;
	uint32_t ch = 0;
	size_t i;

	for (i = 0; i < cfg->auth.n; i++)
		if (!(auth_alternative_needs(&cfg->auth.alt[i]) &
		    AUTH_NEED_KERBEROS))
			ch |= IPC_AUTHCH_CONVERSATION;
	plain = auth_methods_select(&cfg->auth, 0);
	if (plain != NULL && plain->n == 1)
		ch |= IPC_AUTHCH_CREDENTIALS;
	if (auth_methods_uses(&cfg->auth, AUTH_SCHEME_CERTIFICATE))
		ch |= IPC_AUTHCH_CLIENT_CERT;
	if (auth_methods_uses(&cfg->auth, AUTH_SCHEME_KERBEROS))
		ch |= IPC_AUTHCH_KERBEROS;
	return ch;
}

static int
run_certificate(const struct mon_auth_env *env, const struct auth_conv *conv,
    char *name, size_t namelen, char *reason, size_t reasonlen)
{
	const struct moat_config *cfg = env->cfg;
	struct auth_cert_env ce = {
		.ca_file = cfg->certificate_ca_file,
		.crl_file = cfg->certificate_crl_file,
		.rule = cfg->certificate_user_rule,
		.domain = cfg->certificate_user_domain,
		.chain = env->client_chain,
		.chain_len = env->client_chain_len,
	};

	if (env->identity_sha256 == NULL)
		return MOAT_ERR_CONFIG;
	memcpy(ce.identity_sha256, env->identity_sha256, CERT_PROOF_HASH_LEN);
	return auth_cert_converse(&ce, env->peer, conv, name, namelen, reason,
	    reasonlen);
}

int
mon_auth_run(const struct mon_auth_env *env, unsigned have,
    const struct auth_conv *conv, char *user, size_t userlen, char *reason,
    size_t reasonlen)
{
	const struct moat_config *cfg = env->cfg;
	const struct auth_alternative *alt;
	char name[AUTH_ANSWER_MAX + 1], final[256], esc[300];
	unsigned i;
	int r;

	snprintf(reason, reasonlen, "Authentication failed");
	user[0] = '\0';
	name[0] = '\0';
	if ((alt = auth_methods_select(&cfg->auth, have)) == NULL) {
		/* Only alternatives with a certificate, and none came. */
		info_f("no alternative of Authentication applies to %s: it "
		    "sent no client certificate", env->peer);
		snprintf(reason, reasonlen, "%s", REASON_NO_ALTERNATIVE);
		return MOAT_ERR_AUTH;
	}
	if (alt->factor[0] != AUTH_SCHEME_CERTIFICATE &&
	    (r = conv->ask(conv->arg, AUTH_ASK_ECHO, USER_PROMPT, name,
	    sizeof(name))) != 0)
		return r == MOAT_ERR_UNSUPPORTED || r == MOAT_ERR_TOO_LONG ?
		    MOAT_ERR_AUTH : r;
	/* The name tried, for the failure log line; the final one on success. */
	snprintf(user, userlen, "%s", name);
	/* A name the blacklist holds is refused before any factor runs. */
	if (name[0] != '\0' &&
	    (r = listener_check_user(name, env->peer, reason, reasonlen)) != 0)
		return r;
	for (i = 0; i < alt->n; i++) {
		switch (alt->factor[i]) {
		case AUTH_SCHEME_SYSTEM:
			r = auth_pam_converse(cfg->pam_service, name,
			    env->rhost, conv, final, sizeof(final), reason,
			    reasonlen);
			if (r == 0)
				snprintf(name, sizeof(name), "%s", final);
			break;
		case AUTH_SCHEME_RADIUS:
			r = env->radius == NULL ? MOAT_ERR_CONFIG :
			    auth_radius_converse(env->radius, name, env->rhost,
			    i == 0, env->deadline_ms, conv, reason, reasonlen);
			break;
		case AUTH_SCHEME_VNC_PASSWORD:
			/* Loaded by moatd at start (mon_vnc_password.c). */
			r = env->vnc_passwords == NULL ? MOAT_ERR_CONFIG :
			    vnc_password_converse(env->vnc_passwords, name,
			    i == 0, conv, reason, reasonlen);
			break;
		case AUTH_SCHEME_CERTIFICATE:
			/* The account is the certificate's (or must be). */
			r = run_certificate(env, conv, name, sizeof(name),
			    reason, reasonlen);
			if (i == 0 && r == 0)
				snprintf(user, userlen, "%s", name);
			break;
		default:
			r = MOAT_ERR_INVALID;
			break;
		}
		log_escape(esc, sizeof(esc), name, strlen(name));
		info_f("factor %s for user \"%s\" from %s: %s",
		    auth_scheme_name(alt->factor[i]), esc, env->peer,
		    r == 0 ? "passed" : r == MOAT_ERR_AUTH ? "failed" :
		    moat_strerror(r));
		(void)audit_auth_factor(auth_scheme_name(alt->factor[i]), name,
		    r == 0 ? "success" : r == MOAT_ERR_AUTH ? "failure" :
		    "error", r == 0 ? NULL : r == MOAT_ERR_AUTH ||
		    r == MOAT_ERR_UNAVAILABLE ? reason : moat_strerror(r));
		if (r != 0)
			return r;
	}
	if (snprintf(user, userlen, "%s", name) >= (int)userlen)
		return MOAT_ERR_AUTH;
	reason[0] = '\0';
	return 0;
}
