/*
 * monitor.c - the per-connection monitor. Runs as root, one per viewer
 * connection, forked by moatd's listener. It execs moat-net and answers
 * its IPC requests through per-phase dispatch tables: each request is
 * allowed only in certain phases, some only once; anything else ends the
 * connection and is logged. It decides authentication (PAM), grants the
 * session's permissions, asks the listener to attach the desktop session,
 * and writes the connection's log records. moat-net is untrusted: every
 * field it sends is bounded and re-checked here, and it may never pass a
 * descriptor to the monitor.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "audit.h"
#include "auth/auth_conv.h"
#include "mon_auth.h"
#include "mon_conv.h"
#include "mon_perms.h"
#include "policy/sharing.h"
#include "listener.h"
#include "mon_rsa.h"
#include "mon_sasl.h"
#include "monitor.h"
#include "policy/permissions.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"
#include "privsep/log.h"
#include "privsep/clock.h"
#ifdef MOAT_INPROCESS
#include "mon_inproc.h"	/* moatd-inprocess: moat-net is a thread here */
#endif

#define MON_ONCE	0x01	/* may be sent at most once per connection */
#define MON_AUTH	0x02	/* starts the authentication: one such row per connection */

enum mon_phase {
	PHASE_PREAUTH = 0,	/* before the monitor accepted a login */
	PHASE_SESSION = 1,	/* authenticated: the desktop is attached */
	PHASE_CLOSING = 2,	/* moat-net said it is closing */
};

struct mon_conn {
	const struct mon_ctx *ctx;
	int ipc;		/* to moat-net */
	int lis;		/* to the listener */
	pid_t net_pid;
	char peer[128];		/* "ADDRESS port N", for logs */
	char rhost[128];	/* ADDRESS alone, for PAM_RHOST and RADIUS */
	char user[256];		/* authenticated user (escaped when logged) */
	enum mon_phase phase;
	int exit_status;
	unsigned used;		/* bit per MON_ONCE row already used */
	int auth_started;	/* a MON_AUTH row was used */
	struct mon_auth_env env;	/* what the factors need; its deadline_ms
					 * is the login grace time */
	time_t start;
	uint32_t close_reason;
	char close_detail[128];
	uint64_t bytes_in, bytes_out;
	/* What moatctl sessions lists (IPC_MON_SESSION_INFO), escaped. */
	char sec_type[IPC_MAX_SECURITY_TEXT + 1];
	char sec_tls[IPC_MAX_SECURITY_TEXT + 1];
	char sec_cipher[IPC_MAX_SECURITY_TEXT + 1];
	int info_sent;
	/* Authenticated, until the viewer's ClientInit: moat-net's end of its
	 * desktop channel, held back until sharing policy let the viewer in. */
	int chan_fd;
	struct ipc_session_channel chan;
	char end_reason[400];	/* the monitor ended the session: why */
	const char *end_kind;	/* and how, for the audit record (docs/audit.md) */
	int64_t start_ms;	/* accepted at (CLOCK_MONOTONIC) */
	int net_status;		/* moat-net's wait status, once net_reaped */
	int net_reaped;
	int lis_ended;		/* the listener ended the connection (or went away) */
	int net_stopped;	/* so moat-net was killed here before its login */
	/* RSA-AES implicit rejection: this process's own secret */
	uint8_t rsa_secret[MON_RSA_SECRET_LEN];
};

struct mon_dispatch {
	uint16_t type;
	unsigned flags;
	int (*handler)(struct mon_conn *, struct ipc_msg *);
};

static int mon_answer_log(struct mon_conn *, struct ipc_msg *);
static int mon_answer_security(struct mon_conn *, struct ipc_msg *);
static int mon_answer_auth_password(struct mon_conn *, struct ipc_msg *);
static int mon_answer_auth_converse(struct mon_conn *, struct ipc_msg *);
static int mon_answer_sasl_start(struct mon_conn *, struct ipc_msg *);
static int mon_answer_rsa_decrypt(struct mon_conn *, struct ipc_msg *);
static int mon_answer_closing(struct mon_conn *, struct ipc_msg *);
static int mon_answer_client_init(struct mon_conn *, struct ipc_msg *);

static const struct mon_dispatch mon_dispatch_preauth[] = {
	{ IPC_NET_LOG, 0, mon_answer_log },
	{ IPC_NET_SECURITY, MON_ONCE, mon_answer_security },
	{ IPC_NET_RSA_DECRYPT, MON_ONCE, mon_answer_rsa_decrypt },
	{ IPC_NET_AUTH_PASSWORD, MON_ONCE | MON_AUTH, mon_answer_auth_password },
	{ IPC_NET_AUTH_CONVERSE, MON_ONCE | MON_AUTH, mon_answer_auth_converse },
	{ IPC_NET_SASL_START, MON_ONCE | MON_AUTH, mon_answer_sasl_start },
	{ IPC_NET_CLOSING, MON_ONCE, mon_answer_closing },
	{ 0, 0, NULL }
};

static const struct mon_dispatch mon_dispatch_session[] = {
	{ IPC_NET_LOG, 0, mon_answer_log },
	{ IPC_NET_CLIENT_INIT, MON_ONCE, mon_answer_client_init },
	{ IPC_NET_CLOSING, MON_ONCE, mon_answer_closing },
	{ 0, 0, NULL }
};

static const struct mon_dispatch mon_dispatch_closing[] = {
	{ IPC_NET_LOG, 0, mon_answer_log },
	{ 0, 0, NULL }
};

static const struct mon_dispatch *const mon_tables[] = {
	mon_dispatch_preauth, mon_dispatch_session, mon_dispatch_closing
};
static const char *const mon_phase_names[] = { "preauth", "session", "closing" };

static int
mon_answer_log(struct mon_conn *mc, struct ipc_msg *m)
{
	struct ipc_net_log lm;
	char esc[1100];
	int r;

	if ((r = ipc_msg_get_net_log(&m->payload, &lm)) != 0)
		return r;
	log_escape(esc, sizeof(esc), lm.text.p, lm.text.len);
	log_msg(lm.level, NULL, "moat-net[%d] %s: %s", (int)mc->net_pid,
	    mc->peer, esc);
	return 0;
}

static int
mon_answer_security(struct mon_conn *mc, struct ipc_msg *m)
{
	struct ipc_net_security sec;
	const struct ipc_view *v[3] = { &sec.type, &sec.tls_version, &sec.cipher };
	char e[3][80];
	int i, r;

	if ((r = ipc_msg_get_net_security(&m->payload, &sec)) != 0)
		return r;
	for (i = 0; i < 3; i++)
		log_escape(e[i], sizeof(e[i]), v[i]->p, v[i]->len);
	log_escape(mc->sec_type, sizeof(mc->sec_type), sec.type.p, sec.type.len);
	log_escape(mc->sec_tls, sizeof(mc->sec_tls), sec.tls_version.p,
	    sec.tls_version.len);
	log_escape(mc->sec_cipher, sizeof(mc->sec_cipher), sec.cipher.p,
	    sec.cipher.len);
	if (e[1][0] != '\0')
		info_f("connection from %s: security %s, %s, %s", mc->peer,
		    e[0], e[1], e[2]);
	else	/* RA2: no TLS */
		info_f("connection from %s: security %s, %s", mc->peer, e[0],
		    e[2]);
	(void)audit_security(&sec.type, &sec.tls_version, &sec.cipher);
	return 0;
}

/*
 * The identity key's one private operation for this connection (MON_ONCE):
 * the viewer's RSA-AES ClientRandom. The monitor decides the random's size
 * from the declared type, refuses a type policy does not offer and a
 * ciphertext that is not exactly its modulus size, and answers a bad
 * padding with a pseudo-random value (mon_rsa.c) rather than an error.
 */
static int
mon_answer_rsa_decrypt(struct mon_conn *mc, struct ipc_msg *m)
{
	const struct moat_config *cfg = mc->ctx->cfg;
	struct ipc_rsa_decrypt rq;
	struct ipc_rsa_result res;
	uint8_t rnd[IPC_MAX_RSA_RANDOM];
	size_t want;
	int r;

	if ((r = ipc_msg_get_rsa_decrypt(&m->payload, &rq)) != 0)
		return r;
	if ((want = mon_rsa_random_len(cfg->encryption, rq.sec_type)) == 0) {
		error_f("moat-net[%d] for %s asked to decrypt for security type "
		    "%u, which policy does not offer; ending the connection",
		    (int)mc->net_pid, mc->peer, rq.sec_type);
		return MOAT_ERR_UNPERMITTED;
	}
	if (mc->ctx->id->key == NULL ||
	    rq.ciphertext.len != (size_t)EVP_PKEY_get_size(mc->ctx->id->key)) {
		error_f("moat-net[%d] for %s sent an RSA ciphertext of %zu "
		    "bytes, not the identity modulus size", (int)mc->net_pid,
		    mc->peer, rq.ciphertext.len);
		return MOAT_ERR_INVALID;
	}
	if ((r = mon_rsa_decrypt_random(mc->ctx->id, mc->rsa_secret,
	    rq.ciphertext.p, rq.ciphertext.len, rnd, want)) != 0)
		return r;
	res.random = (struct ipc_view){ rnd, want };
	r = ipc_msg_send_rsa_result(mc->ipc, &res, -1);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return r;
}

/*
 * IPC_LIS_DISCONNECT: the listener ends this connection, because an
 * administrator ran moatctl disconnect (uid: theirs) or because moatd is
 * stopping (LISTENER_SHUTDOWN_UID). Notes why for the disconnect record;
 * the main loop ends the connection. Returns 0 or the message's error.
 */
static int
on_lis_disconnect(struct mon_conn *mc, struct ipc_msg *m)
{
	struct ipc_lis_disconnect dc;
	int r;

	if ((r = ipc_msg_get_lis_disconnect(&m->payload, &dc)) != 0)
		return r;
	if (dc.uid == LISTENER_SHUTDOWN_UID) {
		snprintf(mc->end_reason, sizeof(mc->end_reason),
		    "moatd shutting down");
		mc->end_kind = "shutdown";
	} else {
		snprintf(mc->end_reason, sizeof(mc->end_reason), "disconnected "
		    "by administrator (uid %u, moatctl)", (unsigned)dc.uid);
		mc->end_kind = "admin";
	}
	mc->lis_ended = 1;
	info_f("connection from %s: %s", mc->peer, mc->end_reason);
	return 0;
}

/*
 * The listener's answer to a request of this monitor's (blocking). A
 * notice to end the connection that came first (moatd stopping before it
 * learnt this login's outcome) is noted for the main loop and the wait
 * goes on. Returns ipc_recv()'s result; m is the answer.
 */
static int
lis_answer(struct mon_conn *mc, struct ipc_msg *m)
{
	int r;

	while ((r = ipc_recv(mc->lis, m, 0)) == 0 &&
	    m->type == IPC_LIS_DISCONNECT) {
		r = on_lis_disconnect(mc, m);
		ipc_msg_clear(m);
		if (r != 0)
			return r;
	}
	return r;
}

/* Asks moatd's listener to connect the user's desktop session; returns moat-net's end or negative. */
static int
attach_session(struct mon_conn *mc, uint32_t perms, char *why, size_t whylen)
{
	struct ipc_attach_session req = { perms, mc->user, mc->peer };
	struct ipc_attach_result res;
	struct ipc_msg m;
	int sv[2], r;

	if ((r = ipc_socketpair(sv)) != 0)
		return r;
	r = ipc_msg_send_attach_session(mc->lis, &req, sv[1]);
	close(sv[1]);
	if (r == 0 && (r = lis_answer(mc, &m)) == 0) {
		if (m.type != IPC_LIS_ATTACH_RESULT)
			r = MOAT_ERR_PROTOCOL;
		else if ((r = ipc_msg_get_attach_result(&m.payload, &res)) == 0) {
			if (!res.ok) {
				snprintf(why, whylen, "%s", res.reason);
				r = MOAT_ERR_UNSUPPORTED;
			}
			ipc_msg_free_attach_result(&res);
		}
		ipc_msg_clear(&m);
	}
	if (r != 0) {
		close(sv[0]);
		return r;
	}
	return sv[0];
}

/* The listener answers within the prompt's timeout and its own margin. */
#define MON_QUERY_WAIT_MARGIN_MS	30000
/* After a refusal by the prompt: time for the viewer to read why and close. */
#define MON_QUERY_CLOSE_MS		10000

/*
 * QueryConnect (docs/access-control.md): when policy says so, asks the
 * desktop user, through the listener and moat-session, to approve this
 * authenticated connection. Returns 0 to go on, or MOAT_ERR_AUTH with the
 * reason the viewer is shown in why. Any failure to get an answer
 * refuses; only an unanswered prompt takes QueryConnectDefault.
 */
static int
query_desktop_user(struct mon_conn *mc, uint32_t rights, const char *esc,
    char *why, size_t whylen)
{
	const struct moat_config *cfg = mc->ctx->cfg;
	int rule = listener_query_rule(), r;
	struct ipc_query q;
	struct ipc_query_result res;
	struct ipc_msg m;
	struct pollfd pfd;
	const char *outcome, *verdict = "rejected", *how;
	char asked[64];

	if (!cfg->query_connect && rule == 0)
		return 0;
	if (rule != 0)
		snprintf(asked, sizeof(asked), "IpClientAddresses rule %d", rule);
	else
		snprintf(asked, sizeof(asked), "QueryConnect");
	if (rights & PERM_NO_QUERY) {
		info_f("approval prompt for user \"%s\" from %s: not asked "
		    "(%s; Permissions q)", esc, mc->peer, asked);
		(void)audit_query(mc->user, "bypassed", "Permissions q");
		return 0;
	}
	q = (struct ipc_query){ cfg->query_connect_timeout,
	    cfg->query_connect_default == CONFIG_QUERY_ACCEPT ?
	    IPC_QUERY_ACCEPTED : IPC_QUERY_REJECTED,
	    { (const uint8_t *)mc->user, strnlen(mc->user, IPC_MAX_NAME) },
	    ipc_view_cstr(mc->peer) };
	info_f("asking the desktop user to approve user \"%s\" from %s (%s, "
	    "%us)", esc, mc->peer, asked, (unsigned)q.timeout);
	res.verdict = IPC_QUERY_NO_DESKTOP;
	pfd = (struct pollfd){ mc->lis, POLLIN, 0 };
	if ((r = ipc_msg_send_query(mc->lis, &q, -1)) == 0) {
		do {
			r = poll(&pfd, 1, (int)q.timeout * 1000 +
			    MON_QUERY_WAIT_MARGIN_MS);
		} while (r == -1 && errno == EINTR);
		if (r == 1 && lis_answer(mc, &m) == 0) {
			if (m.type != IPC_LIS_QUERY_RESULT ||
			    ipc_msg_get_query_result(&m.payload, &res) != 0) {
				error_f("listener sent %s for the approval "
				    "query", ipc_type_name(m.type));
				res.verdict = IPC_QUERY_NO_DESKTOP;
			}
			ipc_msg_clear(&m);
		}
	}
	r = MOAT_ERR_AUTH;
	how = "desktop user";
	switch (res.verdict) {
	case IPC_QUERY_ACCEPTED:
		outcome = "accepted";
		verdict = "accepted";
		r = 0;
		break;
	case IPC_QUERY_REJECTED:
		outcome = "rejected";
		snprintf(why, whylen, "Connection rejected by the desktop user");
		break;
	case IPC_QUERY_TIMED_OUT:
		how = "no answer, QueryConnectDefault";
		if (cfg->query_connect_default == CONFIG_QUERY_ACCEPT) {
			outcome = "no answer, accepted (QueryConnectDefault)";
			verdict = "accepted";
			r = 0;
			break;
		}
		outcome = "no answer, rejected (QueryConnectDefault)";
		snprintf(why, whylen, "Connection rejected: the desktop user "
		    "did not answer");
		break;
	case IPC_QUERY_BUSY:
		outcome = "refused unasked, too many prompts open";
		how = "too many prompts open";
		snprintf(why, whylen, "The desktop user has too many "
		    "connection requests open; try again later");
		break;
	default:
		outcome = "refused, no desktop session to ask";
		how = "no desktop session to ask";
		snprintf(why, whylen, "No desktop session is running for "
		    "this user");
		break;
	}
	info_f("approval prompt for user \"%s\" from %s: %s", esc, mc->peer,
	    outcome);
	(void)audit_query(mc->user, verdict, how);
	/*
	 * LoginGraceTime bounded the login, not the desktop user's decision:
	 * a refused viewer gets its reason and time to close, and is not
	 * counted as having run out of grace time.
	 */
	if (mc->env.deadline_ms < moat_monotonic_ms() + MON_QUERY_CLOSE_MS)
		mc->env.deadline_ms = moat_monotonic_ms() + MON_QUERY_CLOSE_MS;
	return r;
}

static int
send_auth_result(struct mon_conn *mc, int ok, const char *reason)
{
	struct ipc_auth_result res = { ok ? 1 : 0, (char *)reason,
	    ok ? mc->user : "" };

	return ipc_msg_send_auth_result(mc->ipc, &res, -1);
}

/*
 * A login refused: its audit record (result "error" when a back-end did
 * not answer, r MOAT_ERR_UNAVAILABLE, else "failure"), then moat-net is
 * told why.
 */
static int
refuse_login(struct mon_conn *mc, const char *user, int r, const char *why)
{
	struct audit_rec rec;

	audit_mon_begin(&rec, "login");
	audit_cstr(&rec, "user", user);
	audit_cstr(&rec, "result", r == MOAT_ERR_UNAVAILABLE ? "error" :
	    "failure");
	audit_cstr(&rec, "reason", why);
	(void)audit_emit(&rec, 0);
	return send_auth_result(mc, 0, why);
}

/* A login granted: its record, synchronously (the listener fsyncs it). */
static int
audit_login_granted(struct mon_conn *mc, uint32_t perms, const char *how)
{
	struct audit_rec rec;
	char letters[PERM_LETTERS_MAX];

	audit_mon_begin(&rec, "login");
	audit_cstr(&rec, "user", mc->user);
	audit_cstr(&rec, "result", "success");
	audit_cstr(&rec, "permissions", perm_letters(perms, letters,
	    sizeof(letters)));
	audit_int(&rec, "permissions_mask", perms);
	audit_cstr(&rec, "permissions_from", how);
	audit_cstr(&rec, "security_type", mc->sec_type);
	return audit_emit(&rec, 1);
}

/*
 * Ends an authentication: on success (r == 0, user set) attaches the desktop
 * and hands moat-net its channel; otherwise tells moat-net why not.
 */
static int
finish_auth(struct mon_conn *mc, int r, const char *user, const char *reason)
{
	struct ipc_session_channel sc = { 0, mc->ctx->cfg->idle_timeout };
	char why[256], esc[300], letters[PERM_LETTERS_MAX];
	const char *how = "";
	uint32_t rights;
	int fd;

	/* The blacklist learns every decision (policy/penalty.h). */
	if (listener_report_outcome(mc->lis, r, user, reason) != 0)
		error_f("could not report the authentication outcome for %s",
		    mc->peer);
	log_escape(esc, sizeof(esc), user, strlen(user));
	if (r != 0) {
		mc->exit_status = MON_EXIT_AUTH_FAILED;
		info_f("authentication failed for user \"%s\" from %s: %s", esc,
		    mc->peer, r == MOAT_ERR_AUTH || r == MOAT_ERR_UNAVAILABLE ?
		    reason : moat_strerror(r));
		return refuse_login(mc, user, r, r == MOAT_ERR_AUTH ||
		    r == MOAT_ERR_UNAVAILABLE ? reason : "Authentication failed");
	}
	snprintf(mc->user, sizeof(mc->user), "%s", user);
	info_f("authentication succeeded for user \"%s\" from %s", esc, mc->peer);
	/* Permissions (docs/permissions.md): moat-session enforces this grant. */
	rights = mon_perms_resolve(mc->ctx->cfg, mc->user, &how);
	sc.perms = rights & IPC_PERM_ALL;
	if (!(sc.perms & IPC_PERM_VIEW)) {
		info_f("user \"%s\" from %s refused: Permissions grant %s (%s), "
		    "no right to view the desktop", esc, mc->peer,
		    perm_letters(rights, letters, sizeof(letters)), how);
		mc->exit_status = MON_EXIT_AUTH_FAILED;
		return refuse_login(mc, user, MOAT_ERR_AUTH,
		    "You are not permitted to view this desktop");
	}
	if (query_desktop_user(mc, rights, esc, why, sizeof(why)) != 0) {
		mc->exit_status = MON_EXIT_AUTH_FAILED;
		return refuse_login(mc, user, MOAT_ERR_AUTH, why);
	}
	if ((fd = attach_session(mc, sc.perms, why, sizeof(why))) < 0) {
		if (fd != MOAT_ERR_UNSUPPORTED)
			snprintf(why, sizeof(why), "The desktop session "
			    "could not be attached");
		info_f("no desktop for user \"%s\" from %s: %s", esc, mc->peer, why);
		mc->exit_status = MON_EXIT_AUTH_FAILED;
		return refuse_login(mc, user, MOAT_ERR_AUTH, why);
	}
	info_f("user \"%s\" from %s granted permissions %s (0x%02x, %s)", esc,
	    mc->peer, perm_letters(sc.perms, letters, sizeof(letters)),
	    sc.perms, how);
	/* On disk before the session may start (docs/audit.md). */
	if (audit_login_granted(mc, sc.perms, how) != 0) {
		error_f("user \"%s\" from %s refused: the audit record of the "
		    "login could not be written", esc, mc->peer);
		close(fd);
		mc->exit_status = MON_EXIT_ERROR;
		return send_auth_result(mc, 0, "The server cannot record this "
		    "session; try again later");
	}
	/* The channel follows the viewer's ClientInit (mon_answer_client_init). */
	if ((r = send_auth_result(mc, 1, "")) != 0) {
		close(fd);
		return r;
	}
	mc->chan_fd = fd;
	mc->chan = sc;
	mc->phase = PHASE_SESSION;
	mc->exit_status = MON_EXIT_OK;
	return 0;
}

/*
 * The viewer's ClientInit shared flag (once, after the login): AlwaysShared
 * and NeverShared applied here, the verdict the listener's, which knows the
 * desktop's other viewers (policy/sharing.h). Only then does moat-net get
 * its channel; a refused viewer never sees the desktop.
 */
static int
mon_answer_client_init(struct mon_conn *mc, struct ipc_msg *m)
{
	const struct moat_config *cfg = mc->ctx->cfg;
	struct ipc_client_init ci;
	struct ipc_sharing sh;
	struct ipc_attach_result res;
	struct ipc_msg lm;
	int r;

	if ((r = ipc_msg_get_client_init(&m->payload, &ci)) != 0)
		return r;
	if (mc->chan_fd < 0)
		return MOAT_ERR_UNPERMITTED;
	sh.shared = (uint8_t)sharing_effective(cfg->always_shared,
	    cfg->never_shared, ci.shared);
	sh.disconnect_clients = cfg->disconnect_clients ? 1 : 0;
	if ((r = ipc_msg_send_sharing(mc->lis, &sh, -1)) != 0 ||
	    (r = ipc_recv(mc->lis, &lm, 0)) != 0)
		return r;
	if (lm.type == IPC_LIS_DISCONNECT) {
		/* Ended meanwhile (an administrator, moatd stopping). */
		r = on_lis_disconnect(mc, &lm);
		ipc_msg_clear(&lm);
		return r;
	}
	if (lm.type != IPC_LIS_ATTACH_RESULT) {
		/* Ended meanwhile (another viewer). */
		snprintf(mc->end_reason, sizeof(mc->end_reason), "ended "
		    "before the session started (%s)", ipc_type_name(lm.type));
		ipc_msg_clear(&lm);
		return 0;
	}
	r = ipc_msg_get_attach_result(&lm.payload, &res);
	ipc_msg_clear(&lm);
	if (r != 0)
		return r;
	if (!res.ok) {
		info_f("connection from %s refused: %s", mc->peer, res.reason);
		snprintf(mc->end_reason, sizeof(mc->end_reason),
		    "refused by sharing policy - %.*s", 300, res.reason);
		mc->end_kind = "sharing";
		ipc_msg_free_attach_result(&res);
		return 0;
	}
	ipc_msg_free_attach_result(&res);
	r = ipc_msg_send_session_channel(mc->ipc, &mc->chan, mc->chan_fd);
	close(mc->chan_fd);
	mc->chan_fd = -1;
	return r;
}

/*
 * A message from the listener in the main loop (no request is open): it
 * ends the connection, in the session (moatctl disconnect, another
 * viewer's exclusive access, moatd stopping) or before it (moatd
 * stopping), or the listener is gone.
 */
static int
on_listener(struct mon_conn *mc)
{
	struct ipc_taken_over to;
	struct ipc_msg m;
	char esc[300];
	int r;

	if ((r = ipc_recv(mc->lis, &m, 0)) != 0) {
		snprintf(mc->end_reason, sizeof(mc->end_reason),
		    "moatd went away");
		mc->lis_ended = 1;
		return 0;
	}
	if (m.type == IPC_LIS_TAKEN_OVER && mc->phase == PHASE_SESSION &&
	    (r = ipc_msg_get_taken_over(&m.payload, &to)) == 0) {
		log_escape(esc, sizeof(esc), to.peer.p, to.peer.len);
		snprintf(mc->end_reason, sizeof(mc->end_reason), "exclusive "
		    "access taken by the viewer at %s (DisconnectClients)", esc);
		mc->end_kind = "takeover";
	} else if (m.type == IPC_LIS_DISCONNECT &&
	    (r = on_lis_disconnect(mc, &m)) == 0) {
		/* moatctl disconnect (monitor/control.c), moatd stopping */
	} else {
		error_f("listener sent %s in phase %s; ending the connection",
		    ipc_type_name(m.type), mon_phase_names[mc->phase]);
		snprintf(mc->end_reason, sizeof(mc->end_reason),
		    "internal error");
	}
	ipc_msg_clear(&m);
	return 0;
}

/*
 * A standard viewer's one user name and password (VeNCrypt Plain,
 * RSA-AES): the factors in force are answered from them, and a factor
 * that asks more fails with a reason saying which viewer can answer.
 */
static int
mon_answer_auth_password(struct mon_conn *mc, struct ipc_msg *m)
{
	const struct moat_config *cfg = mc->ctx->cfg;
	struct ipc_auth_password ap;
	struct auth_creds creds;
	struct auth_conv conv;
	char reason[256], user[256];
	int r;

	if (!(mon_auth_channels(cfg) & IPC_AUTHCH_CREDENTIALS)) {
		error_f("moat-net[%d] for %s sent a password, which policy "
		    "does not let it offer; ending the connection",
		    (int)mc->net_pid, mc->peer);
		return MOAT_ERR_UNPERMITTED;
	}
	if ((r = ipc_msg_get_auth_password(&m->payload, &ap)) != 0)
		return r;
	auth_creds_conv(&conv, &creds, ap.user, ap.password);
	r = mon_auth_run(&mc->env, 0, &conv, user, sizeof(user), reason,
	    sizeof(reason));
	if (r != 0 && creds.message[0] != '\0')
		snprintf(reason, sizeof(reason), "%s", creds.message);
	explicit_bzero(&creds, sizeof(creds));
	ipc_msg_free_auth_password(&ap);	/* wipes the password */
	return finish_auth(mc, r, user, reason);
}

/* While a question is open: moat-net's log lines and closing notice. */
static int
conv_other(void *arg, struct ipc_msg *m)
{
	struct mon_conn *mc = arg;
	int r;

	if (m->type == IPC_NET_LOG)
		return mon_answer_log(mc, m);
	if (m->type == IPC_NET_CLOSING) {
		mc->used |= 1u << IPC_NET_CLOSING % 32;
		if ((r = mon_answer_closing(mc, m)) != 0)
			return r;
		return MOAT_ERR_EOF;
	}
	error_f("moat-net[%d] for %s sent %s (%u) while a question was open; "
	    "ending the connection", (int)mc->net_pid, mc->peer,
	    ipc_type_name(m->type), m->type);
	return MOAT_ERR_UNPERMITTED;
}

/*
 * The conversation as the factors see it: mon_conv.c's, remembering the
 * first way moat-net broke the IPC protocol while a question was open. A
 * factor may take an error of ask() for a viewer that cannot answer (a
 * header announcing more than the IPC limit looks like a too-long answer)
 * and fail the login; the connection must end all the same.
 */
struct conv_guard {
	struct auth_conv relay;
	int broken;		/* moat-net's IPC error, or 0 */
};

static int
conv_guard_ask(void *arg, int kind, const char *text, char *ans,
    size_t anslen)
{
	struct conv_guard *g = arg;
	int r;

	r = g->relay.ask(g->relay.arg, kind, text, ans, anslen);
	switch (r) {
	case MOAT_ERR_UNPERMITTED:
	case MOAT_ERR_PROTOCOL:
	case MOAT_ERR_FD:
	case MOAT_ERR_SHORT:
	case MOAT_ERR_TRAILING:
	case MOAT_ERR_INVALID:
	case MOAT_ERR_TOO_LONG:	/* the codec bounds every answer */
		if (g->broken == 0)
			g->broken = r;
		break;
	}
	return r;
}

static int
conv_guard_tell(void *arg, int error, const char *text)
{
	struct conv_guard *g = arg;

	return g->relay.tell(g->relay.arg, error, text);
}

/*
 * moat's conversation: the factors ask their questions one by one and
 * moat-net relays each to the viewer.
 */
static int
mon_answer_auth_converse(struct mon_conn *mc, struct ipc_msg *m)
{
	struct mon_conv c = { mc->ipc, mc->env.deadline_ms, conv_other, mc };
	struct conv_guard g = { .broken = 0 };
	struct auth_conv conv = { conv_guard_ask, conv_guard_tell, &g };
	struct mon_auth_env env = mc->env;
	struct ipc_auth_converse cv;
	char reason[256], user[256];
	int r;

	if ((r = ipc_msg_get_auth_converse(&m->payload, &cv)) != 0)
		return r;
	if (cv.client_chain.len > 0 &&
	    !(mon_auth_channels(mc->ctx->cfg) & IPC_AUTHCH_CLIENT_CERT)) {
		error_f("moat-net[%d] for %s sent a client certificate, which "
		    "policy does not let it ask for; ending the connection",
		    (int)mc->net_pid, mc->peer);
		return MOAT_ERR_UNPERMITTED;
	}
	/* A view into m, which outlives the conversation. */
	env.client_chain = cv.client_chain.len > 0 ? cv.client_chain.p : NULL;
	env.client_chain_len = cv.client_chain.len;
	mon_conv_init(&g.relay, &c);
	r = mon_auth_run(&env, env.client_chain != NULL ?
	    AUTH_NEED_CERTIFICATE : 0, &conv, user, sizeof(user), reason,
	    sizeof(reason));
	if (g.broken != 0)
		return g.broken;	/* whatever the factor made of it */
	switch (r) {
	case MOAT_ERR_EOF:	/* the viewer left mid-conversation */
		mc->exit_status = MON_EXIT_NOAUTH;
		mc->phase = PHASE_CLOSING;
		return 0;
	case MOAT_ERR_AGAIN:	/* the grace time is up: the main loop ends it */
		return 0;
	case MOAT_ERR_UNPERMITTED:
	case MOAT_ERR_PROTOCOL:
	case MOAT_ERR_FD:
	case MOAT_ERR_SHORT:
	case MOAT_ERR_TRAILING:
	case MOAT_ERR_INVALID:
		return r;	/* moat-net broke the IPC protocol */
	}
	return finish_auth(mc, r, user, reason);
}

/*
 * Kerberos: the viewer chose the SASL security type; the SASL server runs
 * here (mon_sasl.c), moat-net only relays its messages. Each step is
 * accepted only while mon_sasl_run() waits for it; anywhere else it is an
 * unpermitted request.
 */
static int
mon_answer_sasl_start(struct mon_conn *mc, struct ipc_msg *m)
{
	struct mon_conv io = { mc->ipc, mc->env.deadline_ms, conv_other, mc };
	struct ipc_sasl_start st;
	char reason[256], user[256];
	int r;

	if (!(mon_auth_channels(mc->ctx->cfg) & IPC_AUTHCH_KERBEROS)) {
		error_f("moat-net[%d] for %s started SASL (Kerberos), which "
		    "policy does not let it offer; ending the connection",
		    (int)mc->net_pid, mc->peer);
		return MOAT_ERR_UNPERMITTED;
	}
	if ((r = ipc_msg_get_sasl_start(&m->payload, &st)) != 0)
		return r;
	r = mon_sasl_run(&mc->env, &io, &st, user, sizeof(user), reason,
	    sizeof(reason));
	if (r == 0 || r == MOAT_ERR_AUTH)
		(void)audit_auth_factor("Kerberos", user, r == 0 ? "success" :
		    "failure", r == 0 ? NULL : reason);
	switch (r) {
	case 0:
	case MOAT_ERR_AUTH:
		return finish_auth(mc, r, user, reason);
	case MOAT_ERR_EOF:	/* the viewer left mid-exchange */
		mc->exit_status = MON_EXIT_NOAUTH;
		mc->phase = PHASE_CLOSING;
		return 0;
	case MOAT_ERR_AGAIN:	/* the grace time is up: the main loop ends it */
		return 0;
	}
	return r;	/* moat-net broke the IPC protocol */
}

static int
mon_answer_closing(struct mon_conn *mc, struct ipc_msg *m)
{
	struct ipc_net_closing cl;
	int r;

	if ((r = ipc_msg_get_net_closing(&m->payload, &cl)) != 0)
		return r;
	mc->close_reason = cl.reason;
	log_escape(mc->close_detail, sizeof(mc->close_detail), cl.detail.p,
	    cl.detail.len);
	mc->bytes_in = cl.bytes_in;
	mc->bytes_out = cl.bytes_out;
	/* A viewer that broke RFB before authenticating: a blacklist penalty. */
	if (cl.reason == IPC_CLOSE_PROTOCOL && mc->phase == PHASE_PREAUTH &&
	    !mc->auth_started)
		(void)listener_report_outcome(mc->lis, MOAT_ERR_PROTOCOL, "", NULL);
	mc->phase = PHASE_CLOSING;
	return 0;
}

/* Finds the row for m in the current phase's table; enforces MON_ONCE. */
static int
dispatch(struct mon_conn *mc, struct ipc_msg *m)
{
	const struct mon_dispatch *t = mon_tables[mc->phase];
	unsigned i;

	for (i = 0; t[i].handler != NULL; i++) {
		if (t[i].type != m->type)
			continue;
		if (t[i].flags & MON_AUTH) {
			if (mc->auth_started)
				break;
			mc->auth_started = 1;
		}
		if (t[i].flags & MON_ONCE) {
			if (mc->used & (1u << m->type % 32))
				break;
			mc->used |= 1u << m->type % 32;
		}
		return t[i].handler(mc, m);
	}
	error_f("moat-net[%d] for %s sent unpermitted request %s (%u) in phase "
	    "%s; ending the connection", (int)mc->net_pid, mc->peer,
	    ipc_type_name(m->type), m->type, mon_phase_names[mc->phase]);
	return MOAT_ERR_UNPERMITTED;
}

static int
send_init(struct mon_conn *mc)
{
	const struct moat_config *cfg = mc->ctx->cfg;
	char *chain = NULL, *key = NULL, host[256];
	const char *name = cfg->desktop_name;
	uint8_t rsa_public[MON_RSA_MAX_BLOB];
	size_t rsa_len = 0;
	struct ipc_net_init in;
	int r;

	/*
	 * Only the PUBLIC half of the identity key, for RSA-AES; without an
	 * RSA identity moat-net offers VeNCrypt alone.
	 */
	if (mon_rsa_public_blob(mc->ctx->id, rsa_public, sizeof(rsa_public),
	    &rsa_len) != 0)
		rsa_len = 0;
	if ((r = mon_identity_issue_leaf(mc->ctx->id, cfg->tls_names, &chain, &key)) != 0)
		return r;
	if (name[0] == '\0') {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "moat");
		host[sizeof(host) - 1] = '\0';
		name = host;
	}
	in = (struct ipc_net_init){
		.flags = mc->ctx->selftest ? IPC_NETF_SELFTEST : 0,
		.desktop_name = (char *)name,
		.cert_pem = chain,
		.key_pem = key,
		.encryption = (uint8_t)cfg->encryption,
		.max_cut_text = cfg->max_cut_text,
		.login_grace = cfg->login_grace_time,
		.peer = mc->peer,
		.uid = (uint32_t)mc->ctx->net_uid,
		.gid = (uint32_t)mc->ctx->net_gid,
		.empty_root = (char *)cfg->empty_root,
		.rsa_public = { rsa_public, rsa_len },
		.auth_channels = mon_auth_channels(cfg),
	};
	r = ipc_msg_send_net_init(mc->ipc, &in, -1);	/* wipes its copy */
	OPENSSL_cleanse(key, strlen(key));
	free(key);
	free(chain);
	return r;
}

static const char *
close_reason_name(uint32_t r)
{
	switch (r) {
	case IPC_CLOSE_CLIENT: return "viewer disconnected";
	case IPC_CLOSE_PROTOCOL: return "protocol violation";
	case IPC_CLOSE_AUTH_FAILED: return "authentication failed";
	case IPC_CLOSE_GRACE: return "login grace time exceeded";
	case IPC_CLOSE_SESSION: return "desktop session ended";
	case IPC_CLOSE_ERROR: return "internal error";
	case IPC_CLOSE_IDLE: return "idle timeout";
	case IPC_CLOSE_STALLED: return "viewer stalled";
	}
	return "connection lost";
}

/* Ends moat-net at once: it broke the IPC protocol or ran out of grace time. */
static void
end_net(struct mon_conn *mc)
{
#ifdef MOAT_INPROCESS
	(void)mc;
	mon_inproc_kill_net();
#else
	kill(mc->net_pid, SIGKILL);
#endif
}

static void
reap_net(struct mon_conn *mc)
{
	int status;
	pid_t p;

#ifdef MOAT_INPROCESS
	status = mon_inproc_reap();
	p = mc->net_pid;
#else
	do {
		p = waitpid(mc->net_pid, &status, 0);
	} while (p == -1 && errno == EINTR);
#endif
	if (p != mc->net_pid)
		return;
	mc->net_status = status;
	mc->net_reaped = 1;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
	    mc->net_stopped)
		debug_f("moat-net[%d] for %s ended (killed: the listener ended "
		    "the connection before the login)", (int)mc->net_pid,
		    mc->peer);
	else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		error_f("moat-net[%d] for %s was killed by signal %d (%s)%s",
		    (int)mc->net_pid, mc->peer, sig, strsignal(sig),
		    sig == SIGSYS ? ": sandbox violation (forbidden system call)" : "");
		if (sig != SIGKILL || mc->exit_status != MON_EXIT_GRACE)
			mc->exit_status = MON_EXIT_CRASH;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
	    mc->exit_status != MON_EXIT_IPC) {
		error_f("moat-net[%d] for %s exited with status %d",
		    (int)mc->net_pid, mc->peer, WEXITSTATUS(status));
		if (mc->exit_status == MON_EXIT_NOAUTH || mc->exit_status == MON_EXIT_OK)
			mc->exit_status = MON_EXIT_ERROR;
	}
}

/*
 * The connection's one disconnect record (docs/audit.md): why it ended,
 * how long it lasted, and the bytes moat-net counted (-1: unknown, moat-net
 * ended without its closing notice). before is the exit status the monitor
 * had chosen before it reaped moat-net.
 */
static void
audit_disconnect(struct mon_conn *mc, int before)
{
	struct audit_rec rec;
	char why[600];
	const char *kind = mc->end_kind;
	int closed = (mc->used & (1u << IPC_NET_CLOSING % 32)) != 0, sig;

	if (mc->end_reason[0] != '\0')
		snprintf(why, sizeof(why), "%s", mc->end_reason);
	else if (before == MON_EXIT_GRACE) {
		snprintf(why, sizeof(why), "login grace time exceeded");
		kind = "grace";
	} else if (before == MON_EXIT_IPC) {
		snprintf(why, sizeof(why), "moat-net broke the IPC protocol");
		kind = "ipc";
	} else if (mc->net_reaped && WIFSIGNALED(mc->net_status)) {
		sig = WTERMSIG(mc->net_status);
		snprintf(why, sizeof(why), "moat-net killed by signal %d (%s%s)",
		    sig, sig == SIGSYS ? "SIGSYS: seccomp" : strsignal(sig),
		    sig == SIGSYS ? ", a forbidden system call" : "");
		kind = "net_killed";
	} else if (closed) {
		snprintf(why, sizeof(why), "%s%s%s",
		    close_reason_name(mc->close_reason),
		    mc->close_detail[0] ? " - " : "", mc->close_detail);
		kind = mc->close_reason == IPC_CLOSE_IDLE ? "idle" :
		    mc->close_reason == IPC_CLOSE_STALLED ? "stalled" :
		    mc->close_reason == IPC_CLOSE_CLIENT ? "viewer" : "closed";
	} else {
		snprintf(why, sizeof(why), "moat-net ended without a closing "
		    "notice");
		kind = "net_exit";
	}
	audit_mon_begin(&rec, "disconnect");
	audit_cstr(&rec, "user", mc->user);
	audit_cstr(&rec, "kind", kind != NULL ? kind : "other");
	audit_cstr(&rec, "reason", why);
	audit_int(&rec, "duration_ms", moat_monotonic_ms() - mc->start_ms);
	audit_int(&rec, "bytes_in", closed ? (int64_t)mc->bytes_in : -1);
	audit_int(&rec, "bytes_out", closed ? (int64_t)mc->bytes_out : -1);
	audit_cstr(&rec, "recorded_by", "monitor");
	(void)audit_emit(&rec, 0);
}

/* Once logged in: tells the listener what moatctl sessions shows. */
static void
report_session(struct mon_conn *mc)
{
	struct ipc_session_info si = { mc->chan.perms & IPC_PERM_ALL,
	    { (const uint8_t *)mc->user, strnlen(mc->user, IPC_MAX_NAME) },
	    ipc_view_cstr(mc->peer),	/* 128 bytes: below IPC_MAX_PEER */
	    ipc_view_cstr(mc->sec_type), ipc_view_cstr(mc->sec_tls),
	    ipc_view_cstr(mc->sec_cipher) };

	mc->info_sent = 1;
	if (ipc_msg_send_session_info(mc->lis, &si, -1) != 0)
		error_f("could not report the session of %s to the listener",
		    mc->peer);
}

/*
 * One message from moat-net: dispatched, then what follows any request.
 * Clears m. Returns 1 if the connection ends (moat-net was killed if it
 * broke the protocol), 0 to go on.
 */
static int
on_net_message(struct mon_conn *mc, struct ipc_msg *m)
{
	int r;

	r = dispatch(mc, m);
	ipc_msg_clear(m);
	if (r != 0) {
		if (r != MOAT_ERR_UNPERMITTED)
			error_f("moat-net[%d] for %s: malformed %s; "
			    "ending the connection", (int)mc->net_pid,
			    mc->peer, moat_strerror(r));
		mc->exit_status = MON_EXIT_IPC;
		end_net(mc);
		return 1;
	}
	if (mc->phase == PHASE_SESSION && !mc->info_sent)
		report_session(mc);
	return mc->end_reason[0] != '\0';
}

#ifdef MOAT_INPROCESS
static int mon_inproc_ended;	/* a direct call ended the connection */

/*
 * moatd-inprocess: moat-net's thread calls this for a message it sends
 * while the monitor's thread waits in its main loop (privsep/ipc_inproc.h):
 * the same handling, in that thread. A request that opens a conversation
 * must wait for moat-net's answers, so it goes to the monitor's thread.
 */
static int
mon_inproc_direct(void *arg, struct ipc_msg *m)
{
	struct mon_conn *mc = arg;
	enum mon_phase phase = mc->phase;

	if (m->type == IPC_NET_AUTH_CONVERSE || m->type == IPC_NET_SASL_START)
		return MOAT_ERR_AGAIN;
	if (on_net_message(mc, m)) {
		mon_inproc_ended = 1;
		return 1;
	}
	return mc->phase != phase;	/* the main loop waits for other things now */
}
#endif

void
monitor_run(const struct mon_ctx *ctx, int client_fd, const char *peer, int lis_fd)
{
	struct catchphrase_id idesc;
	struct mon_conn mc;
	struct ipc_msg m;
	struct pollfd pfd[2];
#ifndef MOAT_INPROCESS
	int sv[2];
#endif
	int r, timeout;
	int64_t now;
	char user[300];

	memset(&mc, 0, sizeof(mc));
	mc.ctx = ctx;
	mc.lis = lis_fd;
	mc.start = time(NULL);
	mc.start_ms = moat_monotonic_ms();
	mc.exit_status = MON_EXIT_NOAUTH;
	mc.chan_fd = -1;
	snprintf(mc.peer, sizeof(mc.peer), "%s", peer);
	snprintf(mc.rhost, sizeof(mc.rhost), "%.*s", (int)strcspn(mc.peer, " "),
	    mc.peer);
	info_f("connection from %s accepted", mc.peer);
	/* After the fork: every monitor has its own. */
	if (RAND_bytes(mc.rsa_secret, sizeof(mc.rsa_secret)) != 1)
		fatal_f("no random bytes for the RSA-AES secret");
#ifdef MOAT_INPROCESS
	if ((r = mon_inproc_spawn(client_fd, mon_inproc_direct, &mc, &mc.ipc,
	    &mc.net_pid)) != 0)
		fatal_fr(r, "starting moat-net's thread");
	close(client_fd);
#else
	if ((r = ipc_socketpair(sv)) != 0)
		fatal_fr(r, "socketpair");
	if ((mc.net_pid = mon_spawn_net(ctx->net_binary, client_fd, sv[1])) < 0)
		fatal_fr(mc.net_pid, "starting moat-net");
	close(client_fd);
	close(sv[1]);
	mc.ipc = sv[0];
#endif
	if ((r = send_init(&mc)) != 0) {
		error_fr(r, "configuring moat-net for %s", mc.peer);
		end_net(&mc);
		reap_net(&mc);
		_exit(MON_EXIT_ERROR);
	}
	if (mon_identity_describe(ctx->id, &idesc) != 0)
		fatal_f("cannot describe the identity key");
	audit_mon_set_identity(idesc.key_sha256);
	mc.env = (struct mon_auth_env){
		.cfg = ctx->cfg,
		.identity_sha256 = idesc.key_sha256,
		.radius = ctx->radius,
		.vnc_passwords = ctx->vnc_passwords,
		.rhost = mc.rhost,
		.peer = mc.peer,
		.deadline_ms = moat_monotonic_ms() +
		    (int64_t)ctx->cfg->login_grace_time * 1000,
	};
	for (;;) {
		timeout = -1;
		if (mc.phase == PHASE_PREAUTH) {
			now = moat_monotonic_ms();
			if (now >= mc.env.deadline_ms) {
				info_f("connection from %s: login grace time "
				    "exceeded", mc.peer);
				mc.exit_status = MON_EXIT_GRACE;
				mc.close_reason = IPC_CLOSE_GRACE;
				end_net(&mc);
				break;
			}
			timeout = (int)(mc.env.deadline_ms - now);
		}
		pfd[0].fd = mc.ipc;
		pfd[0].events = POLLIN;
		/*
		 * The listener may end the connection (sharing, moatctl, moatd
		 * stopping) until moat-net closes it; no request is open here.
		 */
		pfd[1].fd = mc.lis;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
#ifdef MOAT_INPROCESS
		r = mon_inproc_poll(pfd, mc.phase != PHASE_CLOSING ? 2 : 1,
		    timeout);
		if (mon_inproc_ended || (r < 0 && errno != EINTR))
			break;
#else
		if ((r = poll(pfd, mc.phase != PHASE_CLOSING ? 2 : 1,
		    timeout)) < 0 && errno != EINTR)
			break;
#endif
		if (r <= 0)
			continue;
		if (mc.phase != PHASE_CLOSING && pfd[1].revents != 0) {
			(void)on_listener(&mc);
			if (mc.end_reason[0] != '\0')
				break;
		}
		if (pfd[0].revents == 0)
			continue;
		if ((r = ipc_recv(mc.ipc, &m, 0)) != 0) {
			if (r == MOAT_ERR_EOF)
				break;
			error_f("moat-net[%d] for %s: bad IPC message (%s); "
			    "ending the connection", (int)mc.net_pid, mc.peer,
			    moat_strerror(r));
			mc.exit_status = MON_EXIT_IPC;
			end_net(&mc);
			break;
		}
		if (on_net_message(&mc, &m))
			break;
	}
	/*
	 * Ended by the listener before the login: moat-net may be waiting
	 * for the viewer, not for its channel, so it is killed.
	 */
	if (mc.lis_ended && mc.phase == PHASE_PREAUTH) {
		mc.net_stopped = 1;
		end_net(&mc);
	}
	/* Ending the session ourselves: moat-net sees its channel close. */
	if (mc.chan_fd >= 0)
		close(mc.chan_fd);
#ifdef MOAT_INPROCESS
	mon_inproc_close();
#else
	close(mc.ipc);
#endif
	OPENSSL_cleanse(mc.rsa_secret, sizeof(mc.rsa_secret));
	r = mc.exit_status;	/* before reap_net(): did we end moat-net? */
	reap_net(&mc);
	audit_disconnect(&mc, r);
	log_escape(user, sizeof(user), mc.user, strlen(mc.user));
	info_f("disconnect: %s user \"%s\" after %lds, %llu bytes in, %llu bytes "
	    "out: %s%s%s", mc.peer, user, (long)(time(NULL) - mc.start),
	    (unsigned long long)mc.bytes_in, (unsigned long long)mc.bytes_out,
	    mc.end_reason[0] != '\0' ? mc.end_reason :
	    close_reason_name(mc.close_reason),
	    mc.close_detail[0] ? " - " : "", mc.close_detail);
	_exit(mc.exit_status);
}
