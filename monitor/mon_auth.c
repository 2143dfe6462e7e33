/*
 * mon_auth.c - the factor engine (see mon_auth.h). Runs in the
 * per-connection monitor (root). moat-net only carries questions and
 * answers: which factors run, in which order, and whether each passed is
 * decided here, from policy and the back-ends' own results.
 */
#include <stdio.h>
#include <string.h>

#include "auth/auth_pam.h"
#include "auth/auth_radius.h"
#include "auth/vnc_password.h"
#include "listener.h"
#include "mon_auth.h"
#include "privsep/errors.h"
#include "privsep/ipc_types.h"
#include "privsep/log.h"

#define USER_PROMPT	"Username: "

/*
 * The alternative that applies: the first one, since every scheme moat has
 * needs nothing but answers (the parser refuses alternatives that could
 * never apply).
 */
static const struct auth_alternative *
in_force(const struct moat_config *cfg)
{
	return &cfg->auth.alt[0];
}

uint32_t
mon_auth_channels(const struct moat_config *cfg)
{
	return in_force(cfg)->n == 1 ?
	    IPC_AUTHCH_CONVERSATION | IPC_AUTHCH_CREDENTIALS :
	    IPC_AUTHCH_CONVERSATION;
}

int
mon_auth_run(const struct mon_auth_env *env, const struct auth_conv *conv,
    char *user, size_t userlen, char *reason, size_t reasonlen)
{
	const struct moat_config *cfg = env->cfg;
	const struct auth_alternative *alt = in_force(cfg);
	char name[AUTH_ANSWER_MAX + 1], final[256], esc[300];
	unsigned i;
	int r;

	snprintf(reason, reasonlen, "Authentication failed");
	user[0] = '\0';
	if ((r = conv->ask(conv->arg, 0, USER_PROMPT, name, sizeof(name))) != 0)
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
		default:
			r = MOAT_ERR_INVALID;
			break;
		}
		info_f("factor %s for user \"%s\" from %s: %s",
		    auth_scheme_name(alt->factor[i]), esc, env->peer,
		    r == 0 ? "passed" : r == MOAT_ERR_AUTH ? "failed" :
		    moat_strerror(r));
		if (r != 0)
			return r;
	}
	if (snprintf(user, userlen, "%s", name) >= (int)userlen)
		return MOAT_ERR_AUTH;
	reason[0] = '\0';
	return 0;
}
