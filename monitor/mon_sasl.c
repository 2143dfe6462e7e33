/*
 * mon_sasl.c - the Kerberos factor's SASL server (see mon_sasl.h). Runs
 * as root: mon_sasl_setup() in moatd at start, mon_sasl_run() in each
 * per-connection monitor. It trusts its root-owned configuration and
 * keytab; everything moat-net relays is the viewer's and hostile: the
 * GSSAPI tokens are parsed here, by MIT Kerberos through Cyrus SASL's
 * GSSAPI plugin, each one bounded by the IPC codec (IPC_MAX_SASL_DATA),
 * their number by MON_SASL_MAX_STEPS and their time by the login
 * deadline. No SASL security layer is negotiated: TLS protects the
 * session, so the external SSF is the cipher's and max_ssf is 0.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <krb5.h>
#include <sasl/sasl.h>

#include "auth/kerberos_name.h"
#include "mon_sasl.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/log.h"
#include "privsep/clock.h"

#define SASL_MECH	"GSSAPI"
#define MON_SASL_APPNAME	"moat"
/* The directory Cyrus SASL would search for "moat.conf": none, on purpose. */
#define SASL_NO_CONFDIR	"/nonexistent/moat-sasl"
#define REASON_FAILED	"Kerberos authentication failed"
#define REASON_UNMAPPED	"Kerberos authentication failed: the principal " \
	"does not map to an account on this server"

/*
 * What moatd learnt at start (or at the last reload); each monitor is a
 * fork and reads its copy.
 */
struct sasl_state {
	int ready;
	char keytab[CONFIG_PATH_MAX];
	char service[64];
	char host[256];			/* the service principal's host */
	char realm[254];		/* KerberosRealm */
	char default_realm[256];	/* the Kerberos configuration's */
};
static struct sasl_state st;

/*
 * Every option Cyrus SASL or its GSSAPI plugin asks for is answered here,
 * so no configuration file is consulted (on_confpath() and
 * on_verifyfile() keep it from being read at all): the mechanism list and
 * the keytab; nothing for anything else.
 */
static int
on_getopt(void *context, const char *plugin, const char *option,
    const char **result, unsigned *len)
{
	(void)context;
	*result = NULL;
	if (strcmp(option, "mech_list") == 0)
		*result = SASL_MECH;
	else if (plugin != NULL && strcmp(plugin, "GSSAPI") == 0 &&
	    strcmp(option, "keytab") == 0)
		*result = st.keytab;
	if (len != NULL)
		*len = *result != NULL ? (unsigned)strlen(*result) : 0;
	return SASL_OK;
}

/*
 * sasl.h says the library frees the path, so it is a copy (2.1.28 does
 * not, once per moatd: tools/lsan.supp).
 */
static int
on_confpath(void *context, char **path)
{
	(void)context;
	return (*path = strdup(SASL_NO_CONFDIR)) != NULL ? SASL_OK : SASL_NOMEM;
}

/*
 * Which files Cyrus SASL may use: of its plugin directory only the GSSAPI
 * plugin is loaded (no other mechanism's code enters the monitor), and no
 * configuration or password file at all.
 */
static int
on_verifyfile(void *context, const char *file, sasl_verify_type_t type)
{
	const char *base;

	(void)context;
	if (type != SASL_VRFY_PLUGIN || file == NULL)
		return SASL_CONTINUE;
	base = strrchr(file, '/') != NULL ? strrchr(file, '/') + 1 : file;
	return strncmp(base, "libgssapiv2.so", 14) == 0 ? SASL_OK :
	    SASL_CONTINUE;
}

/* The library's and the plugin's messages; they may quote names. */
static int
on_log(void *context, int level, const char *message)
{
	char esc[1024];
	size_t n;

	(void)context;
	if (message == NULL)
		return SASL_OK;
	n = strlen(message);
	while (n > 0 && (message[n - 1] == '\n' || message[n - 1] == '\r'))
		n--;
	log_escape(esc, sizeof(esc), message, n);
	if (level <= SASL_LOG_ERR)
		error_f("SASL: %s", esc);
	else if (level <= SASL_LOG_FAIL)
		info_f("SASL: %s", esc);
	else
		debug_f("SASL: %s", esc);
	return SASL_OK;
}

/* Acting as another user (an authorization id) is never allowed. */
static int
on_authorize(sasl_conn_t *conn, void *context, const char *requested,
    unsigned rlen, const char *authid, unsigned alen, const char *realm,
    unsigned urlen, struct propctx *props)
{
	(void)context;
	(void)realm;
	(void)urlen;
	(void)props;
	if (rlen == 0 || (rlen == alen && memcmp(requested, authid, alen) == 0))
		return SASL_OK;
	sasl_seterror(conn, 0, "an authorization identity other than the "
	    "principal was requested");
	return SASL_NOAUTHZ;
}

static const sasl_callback_t callbacks[] = {
	{ SASL_CB_GETOPT, (int (*)(void))(void *)on_getopt, NULL },
	{ SASL_CB_GETCONFPATH, (int (*)(void))(void *)on_confpath, NULL },
	{ SASL_CB_VERIFYFILE, (int (*)(void))(void *)on_verifyfile, NULL },
	{ SASL_CB_LOG, (int (*)(void))(void *)on_log, NULL },
	{ SASL_CB_PROXY_POLICY, (int (*)(void))(void *)on_authorize, NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

/* The first DNS name of TlsNames, else the host name. */
static int
service_host(const struct moat_config *cfg, char *out, size_t outlen)
{
	char names[sizeof(cfg->tls_names)], *item, *save = NULL;
	unsigned char addr[16];

	snprintf(names, sizeof(names), "%s", cfg->tls_names);
	for (item = strtok_r(names, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if (inet_pton(AF_INET, item, addr) == 1 ||
		    inet_pton(AF_INET6, item, addr) == 1)
			continue;
		snprintf(out, outlen, "%s", item);
		return 0;
	}
	if (gethostname(out, outlen) != 0)
		return MOAT_ERR_SYSTEM;
	out[outlen - 1] = '\0';
	return 0;
}

/* KerberosKeytab: root's, a regular file, no group or other bits. */
static int
check_keytab(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) ==
	    -1) {
		snprintf(err, errlen, "KerberosKeytab %s: %s", path,
		    strerror(errno));
		return MOAT_ERR_CONFIG;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != 0 ||
	    (sb.st_mode & 077) != 0) {
		close(fd);
		snprintf(err, errlen, "KerberosKeytab %s: must be a regular "
		    "file owned by root with mode 0600 or 0400", path);
		return MOAT_ERR_CONFIG;
	}
	close(fd);
	return 0;
}

/*
 * Learns the default realm and checks the keytab holds a key for the
 * service principal, so a wrong name shows at start, not at the first
 * login.
 */
static int
check_krb5(struct sasl_state *s, char *err, size_t errlen)
{
	char ktname[CONFIG_PATH_MAX + 8], *def = NULL;
	krb5_context kc;
	krb5_keytab kt = NULL;
	krb5_principal pr = NULL;
	krb5_keytab_entry ent;
	krb5_error_code ke;
	const char *msg;
	int r = MOAT_ERR_CONFIG;

	if ((ke = krb5_init_context(&kc)) != 0) {
		snprintf(err, errlen, "cannot read the Kerberos configuration "
		    "(error %ld)", (long)ke);
		return MOAT_ERR_CONFIG;
	}
	s->default_realm[0] = '\0';
	if (krb5_get_default_realm(kc, &def) == 0) {
		snprintf(s->default_realm, sizeof(s->default_realm), "%s", def);
		krb5_free_default_realm(kc, def);
	}
	snprintf(ktname, sizeof(ktname), "FILE:%s", s->keytab);
	if ((ke = krb5_kt_resolve(kc, ktname, &kt)) != 0 ||
	    (ke = krb5_build_principal(kc, &pr, (unsigned)strlen(s->realm),
	    s->realm, s->service, s->host, (char *)NULL)) != 0 ||
	    (ke = krb5_kt_get_entry(kc, kt, pr, 0, 0, &ent)) != 0) {
		msg = krb5_get_error_message(kc, ke);
		snprintf(err, errlen, "KerberosKeytab %s holds no key for "
		    "%s/%s@%s (the service principal: KerberosService, the "
		    "first DNS name of TlsNames, KerberosRealm): %s", s->keytab,
		    s->service, s->host, s->realm, msg);
		krb5_free_error_message(kc, msg);
	} else {
		krb5_free_keytab_entry_contents(kc, &ent);
		r = 0;
	}
	if (pr != NULL)
		krb5_free_principal(kc, pr);
	if (kt != NULL)
		krb5_kt_close(kc, kt);
	krb5_free_context(kc);
	return r;
}

/* Fills s from cfg and checks the keytab and the service principal. */
static int
stage(const struct moat_config *cfg, struct sasl_state *s, char *err,
    size_t errlen)
{
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(s->keytab, sizeof(s->keytab), "%s", cfg->kerberos_keytab);
	snprintf(s->service, sizeof(s->service), "%s", cfg->kerberos_service);
	snprintf(s->realm, sizeof(s->realm), "%s", cfg->kerberos_realm);
	if (service_host(cfg, s->host, sizeof(s->host)) != 0) {
		snprintf(err, errlen, "no host name for the Kerberos service "
		    "principal");
		return MOAT_ERR_CONFIG;
	}
	if ((r = check_keytab(s->keytab, err, errlen)) != 0 ||
	    (r = check_krb5(s, err, errlen)) != 0)
		return r;
	return 0;
}

int
mon_sasl_check(const struct moat_config *cfg, char *err, size_t errlen)
{
	struct sasl_state s;

	return stage(cfg, &s, err, errlen);
}

int
mon_sasl_setup(const struct moat_config *cfg, char *err, size_t errlen)
{
	struct sasl_state next, old = st;
	sasl_conn_t *conn = NULL;
	const char *list = NULL;
	int r;

	if ((r = stage(cfg, &next, err, errlen)) != 0)
		return r;
	/* The callbacks read st: in force while SASL is tried, undone on failure. */
	st = next;
	if ((r = sasl_server_init(callbacks, MON_SASL_APPNAME)) != SASL_OK) {
		snprintf(err, errlen, "cannot initialise Cyrus SASL: %s",
		    sasl_errstring(r, NULL, NULL));
		st = old;
		return MOAT_ERR_CONFIG;
	}
	if ((r = sasl_server_new(st.service, st.host, NULL, NULL, NULL,
	    callbacks, 0, &conn)) != SASL_OK ||
	    (r = sasl_listmech(conn, NULL, "", ",", "", &list, NULL,
	    NULL)) != SASL_OK || strcmp(list, SASL_MECH) != 0) {
		snprintf(err, errlen, "the SASL mechanism GSSAPI is not "
		    "available (Debian: libsasl2-modules-gssapi-mit): %s",
		    r != SASL_OK ? sasl_errstring(r, NULL, NULL) : list);
		if (conn != NULL)
			sasl_dispose(&conn);
		st = old;
		return MOAT_ERR_CONFIG;
	}
	sasl_dispose(&conn);
	st.ready = 1;
	info_f("Kerberos: service principal %s/%s@%s, keytab %s, default "
	    "realm %s", st.service, st.host, st.realm, st.keytab,
	    st.default_realm[0] != '\0' ? st.default_realm : "(none)");
	return 0;
}

/* Sends one reply: the server's output and whether it is done. */
static int
send_reply(struct mon_conv *io, const char *out, unsigned outlen,
    int complete)
{
	struct ipc_sasl_reply rp = { complete ? 1 : 0,
	    { (const uint8_t *)out, out != NULL ? outlen : 0 } };

	return ipc_msg_send_sasl_reply(io->ipc, &rp, -1);
}

/*
 * Waits for the viewer's next step, until the deadline; other messages go
 * to io->other. Returns 0 with the step decoded into *sp (a view into
 * *m, which the caller clears), or an error.
 */
static int
wait_step(struct mon_conv *io, struct ipc_msg *m, struct ipc_sasl_step *sp)
{
	struct pollfd pfd;
	int64_t left;
	int r;

	for (;;) {
		if ((left = io->deadline_ms - moat_monotonic_ms()) <= 0)
			return MOAT_ERR_AGAIN;	/* the login grace time is up */
		pfd.fd = io->ipc;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left)) < 0) {
			if (errno == EINTR)
				continue;
			return MOAT_ERR_SYSTEM;
		}
		if (r == 0)
			continue;
		if ((r = ipc_recv(io->ipc, m, 0)) != 0)
			return r;
		if (m->type == IPC_NET_SASL_STEP) {
			if ((r = ipc_msg_get_sasl_step(&m->payload, sp)) != 0)
				ipc_msg_clear(m);
			return r;
		}
		r = io->other(io->arg, m);
		ipc_msg_clear(m);
		if (r != 0)
			return r;
	}
}

/* Logs the factor's outcome the way mon_auth.c logs every factor. */
static void
log_factor(const struct mon_auth_env *env, const char *name, int passed)
{
	char esc[KERBEROS_NAME_MAX * 4 + 1];

	log_escape(esc, sizeof(esc), name, strlen(name));
	info_f("factor %s for user \"%s\" from %s: %s",
	    auth_scheme_name(AUTH_SCHEME_KERBEROS), esc, env->peer,
	    passed ? "passed" : "failed");
}

/* After SASL_OK: the principal, its account, and that the account exists. */
static int
map_user(sasl_conn_t *conn, const struct mon_auth_env *env, char *user,
    size_t userlen, char *reason, size_t reasonlen)
{
	char full[KERBEROS_NAME_MAX + 300], why[256], esc[1200];
	const void *authid = NULL, *authz = NULL;
	struct passwd *pw;
	int r;

	if (sasl_getprop(conn, SASL_AUTHUSER, &authid) != SASL_OK ||
	    authid == NULL || sasl_getprop(conn, SASL_USERNAME, &authz) !=
	    SASL_OK || authz == NULL || strcmp(authid, authz) != 0) {
		log_factor(env, "", 0);
		info_f("Kerberos for %s: no single authenticated principal",
		    env->peer);
		snprintf(reason, reasonlen, "%s", REASON_FAILED);
		return MOAT_ERR_AUTH;
	}
	r = kerberos_name_map(authid, st.default_realm, st.realm, user,
	    userlen, full, sizeof(full), why, sizeof(why));
	if (r == 0 && ((pw = getpwnam(user)) == NULL ||
	    strcmp(pw->pw_name, user) != 0)) {
		snprintf(why, sizeof(why), "no account of that name exists");
		r = MOAT_ERR_AUTH;
	}
	log_factor(env, r == 0 ? user : full[0] != '\0' ? full : authid,
	    r == 0);
	if (r != 0) {
		log_escape(esc, sizeof(esc), full[0] != '\0' ? full : authid,
		    strlen(full[0] != '\0' ? full : authid));
		info_f("Kerberos principal \"%s\" from %s refused: %s", esc,
		    env->peer, r == MOAT_ERR_AUTH ? why : moat_strerror(r));
		/* The name tried, for the failure line (mon_auth.h). */
		snprintf(user, userlen, "%s", full[0] != '\0' ? full :
		    (const char *)authid);
		snprintf(reason, reasonlen, "%s", REASON_UNMAPPED);
		return MOAT_ERR_AUTH;
	}
	return 0;
}

/* A SASL failure: logged with the library's detail, a plain reason out. */
static int
sasl_failed(sasl_conn_t *conn, const struct mon_auth_env *env, int sr,
    char *reason, size_t reasonlen)
{
	const char *detail = conn != NULL ? sasl_errdetail(conn) : NULL;
	char esc[1024];

	if (detail == NULL)
		detail = sasl_errstring(sr, NULL, NULL);
	log_escape(esc, sizeof(esc), detail, strlen(detail));
	log_factor(env, "", 0);
	info_f("Kerberos for %s failed: %s", env->peer, esc);
	snprintf(reason, reasonlen, "%s", REASON_FAILED);
	return MOAT_ERR_AUTH;
}

int
mon_sasl_run(const struct mon_auth_env *env, struct mon_conv *io,
    const struct ipc_sasl_start *start, char *user, size_t userlen,
    char *reason, size_t reasonlen)
{
	sasl_security_properties_t sp;
	sasl_ssf_t ssf;
	sasl_conn_t *conn = NULL;
	struct ipc_sasl_step step;
	struct ipc_msg m;
	const char *out = NULL, *in;
	unsigned outlen = 0, steps = 0;
	int sr, r;

	user[0] = '\0';
	snprintf(reason, reasonlen, "%s", REASON_FAILED);
	if (start->mech.len != strlen(SASL_MECH) ||
	    memcmp(start->mech.p, SASL_MECH, start->mech.len) != 0) {
		error_f("moat-net for %s relayed a SASL mechanism that was "
		    "not offered; ending the connection", env->peer);
		return MOAT_ERR_UNPERMITTED;
	}
	if (!st.ready) {
		error_f("Kerberos is not set up in this moatd");
		log_factor(env, "", 0);
		return MOAT_ERR_AUTH;
	}
	if ((sr = sasl_server_new(st.service, st.host, NULL, NULL, NULL,
	    callbacks, 0, &conn)) != SASL_OK)
		return sasl_failed(NULL, env, sr, reason, reasonlen);
	/* TLS carries the session: its key size is the external SSF. */
	ssf = env->cfg->encryption == CONFIG_ENC_ALWAYS_MAXIMUM ? 256 : 128;
	memset(&sp, 0, sizeof(sp));
	sp.min_ssf = 0;
	sp.max_ssf = 0;
	sp.maxbufsize = 8192;
	sp.security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT;
	if ((sr = sasl_setprop(conn, SASL_SSF_EXTERNAL, &ssf)) != SASL_OK ||
	    (sr = sasl_setprop(conn, SASL_SEC_PROPS, &sp)) != SASL_OK) {
		r = sasl_failed(conn, env, sr, reason, reasonlen);
		goto out;
	}
	/* SASL tells "no output" (NULL) from "empty output" (""). */
	in = start->has_data ? (start->data.len > 0 ?
	    (const char *)start->data.p : "") : NULL;
	sr = sasl_server_start(conn, SASL_MECH, in,
	    (unsigned)start->data.len, &out, &outlen);
	for (;;) {
		if (sr != SASL_OK && sr != SASL_CONTINUE) {
			r = sasl_failed(conn, env, sr, reason, reasonlen);
			goto out;
		}
		if (outlen > IPC_MAX_SASL_DATA) {
			error_f("Kerberos for %s: the SASL server's output of "
			    "%u bytes exceeds the IPC bound", env->peer, outlen);
			log_factor(env, "", 0);
			r = MOAT_ERR_AUTH;
			goto out;
		}
		if ((r = send_reply(io, out, outlen, sr == SASL_OK)) != 0)
			goto out;
		if (sr == SASL_OK)
			break;
		if (++steps > MON_SASL_MAX_STEPS) {
			info_f("Kerberos for %s: more than %d SASL steps",
			    env->peer, MON_SASL_MAX_STEPS);
			log_factor(env, "", 0);
			r = MOAT_ERR_AUTH;
			goto out;
		}
		if ((r = wait_step(io, &m, &step)) != 0)
			goto out;
		in = step.has_data ? (step.data.len > 0 ?
		    (const char *)step.data.p : "") : NULL;
		out = NULL;
		outlen = 0;
		sr = sasl_server_step(conn, in, (unsigned)step.data.len, &out,
		    &outlen);
		ipc_msg_clear(&m);	/* wipes the token */
	}
	r = map_user(conn, env, user, userlen, reason, reasonlen);
 out:
	sasl_dispose(&conn);
	return r;
}
