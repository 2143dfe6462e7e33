/*
 * net_handshake.c - RFB 3.8 handshake in moat-net: version, the security
 * type (VeNCrypt with the X509Plain subtype over TLS 1.3, or the RSA-AES
 * types of net_ra2.c, at top level or, for RA2ne, also as VeNCrypt
 * subtypes, as the Encryption policy allows), relaying the
 * credentials to the monitor, and receiving its verdict. Runs in moat-net
 * inside its sandbox. moat-net never decides authentication: it only
 * forwards what the viewer sent and reports what the monitor answered.
 */
#include <sys/socket.h>
#include <sys/syscall.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "enc_pool.h"
#include "net_conn.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"
#include "privsep/log.h"
#include "rfb_conv.h"
#include "rfb_handshake.h"
#include "rfb_ra2.h"
#include "rfb_sasl.h"
#include "rfb_vencrypt.h"

#define RFB_SECURITY_RESULT_OK		0
#define RFB_SECURITY_RESULT_FAILED	1

static int
put_reason(struct buf *b, const char *reason)
{
	return buf_put_cstring(b, reason);
}

/* Refuses a 3.3 or 3.7 viewer with a reason it can show. */
static int
refuse_old_version(struct net_conn *c)
{
	const char *reason = "This server requires RFB 3.8 (encrypted "
	    "connections only)";
	struct buf b;
	int r;

	buf_init(&b, 512);
	if (c->minor == 3)
		r = buf_put_u32(&b, 0);
	else
		r = buf_put_u8(&b, 0);
	if (r == 0 && (r = put_reason(&b, reason)) == 0)
		r = net_io_write(&c->io, buf_ptr(&b), buf_len(&b));
	buf_free(&b);
	return MOAT_ERR_PROTOCOL;
}

int
net_send_security_failure(struct net_conn *c, const char *reason)
{
	struct buf b;

	buf_init(&b, 512);
	if (buf_put_u32(&b, RFB_SECURITY_RESULT_FAILED) == 0 &&
	    put_reason(&b, reason) == 0)
		(void)net_io_write(&c->io, buf_ptr(&b), buf_len(&b));
	buf_free(&b);
	return MOAT_ERR_AUTH;
}

/*
 * True if the monitor lets standard viewers log in with one user name and
 * one password (X509Plain, the RSA-AES types): only when the factors in
 * force need no more (docs/authentication.md).
 */
static int
offers_credentials(const struct net_conn *c)
{
	return (c->init.auth_channels & IPC_AUTHCH_CREDENTIALS) != 0;
}

/* True if the Encryption policy lets RA2ne_256 and RA2ne be offered. */
static int
offers_ra2ne(const struct net_conn *c)
{
	return offers_credentials(c) && c->init.have_ra2 &&
	    c->init.encryption == IPC_ENC_PREFER_OFF;
}

/*
 * VeNCrypt 0.2. The subtypes offered are X509Plain (where standard
 * credentials suffice), moat's X509Conversation, X509SASL where the
 * monitor offers Kerberos (net_sasl.c), and, where the policy offers RA2ne (Encryption=PreferOff), RA2ne_256 and RA2ne after them:
 * rfbproto allows plain security types as subtypes, and no ack byte
 * follows them. This is for noVNC, which takes the first top-level type
 * it knows (VeNCrypt, listed first) and then the first subtype it knows
 * (RA2ne); viewers that know X509Plain keep choosing it. The X509 subtypes
 * continue with TLS here; for an RA2ne subtype *chosen is set and the
 * caller runs the RSA-AES handshake on the plain stream. The messages are
 * built and parsed by rfb_vencrypt.c.
 */
static int
vencrypt_negotiate(struct net_conn *c, uint32_t *chosen)
{
	uint32_t offered[5];
	uint8_t storage[2 + sizeof(offered)], peer[RFB_VENCRYPT_VERSION_LEN];
	uint8_t rbuf[RFB_VENCRYPT_SUBTYPE_LEN], major = 0, minor = 0, ack;
	size_t n = 0;
	struct buf b;
	int r;

	if (offers_credentials(c))
		offered[n++] = RFB_VENCRYPT_X509PLAIN;
	if (c->init.auth_channels & IPC_AUTHCH_CONVERSATION)
		offered[n++] = RFB_VENCRYPT_X509CONVERSATION;
	/* Kerberos: the SASL subtype of gtk-vnc and QEMU (net_sasl.c). */
	if (c->init.auth_channels & IPC_AUTHCH_KERBEROS)
		offered[n++] = RFB_VENCRYPT_X509SASL;
	if (offers_ra2ne(c)) {
		offered[n++] = RFB_SEC_RA2NE_256;
		offered[n++] = RFB_SEC_RA2NE;
	}
	buf_init_fixed(&b, storage, sizeof(storage));
	if ((r = rfb_vencrypt_put_version(&b)) != 0 ||
	    (r = net_io_write(&c->io, buf_ptr(&b), buf_len(&b))) != 0 ||
	    (r = net_io_read_exact(&c->io, peer, sizeof(peer))) != 0)
		return r;
	buf_view(&b, peer, sizeof(peer));
	if ((r = rfb_vencrypt_parse_version(&b, &major, &minor)) != 0) {
		ack = RFB_VENCRYPT_ACK_REFUSED;
		(void)net_io_write(&c->io, &ack, 1);
		info_f("viewer offered VeNCrypt %u.%u; only 0.2 is supported",
		    major, minor);
		return r;
	}
	/* ack 0 (version accepted), U8 count, U32 subtypes */
	buf_init_fixed(&b, storage, sizeof(storage));
	if ((r = rfb_vencrypt_put_subtypes(&b, offered, n)) != 0 ||
	    (r = net_io_write(&c->io, buf_ptr(&b), buf_len(&b))) != 0 ||
	    (r = net_io_read_exact(&c->io, rbuf, sizeof(rbuf))) != 0)
		return r;
	buf_view(&b, rbuf, sizeof(rbuf));
	if ((r = rfb_vencrypt_parse_subtype(&b, offered, n, chosen)) != 0) {
		info_f("viewer chose VeNCrypt subtype %u, which was not offered",
		    *chosen);
		return r;
	}
	if (*chosen == RFB_SEC_RA2NE_256 || *chosen == RFB_SEC_RA2NE) {
		debug_f("viewer chose %s as a VeNCrypt subtype",
		    *chosen == RFB_SEC_RA2NE ? "RA2ne" : "RA2ne_256");
		return 0;
	}
	ack = RFB_VENCRYPT_ACK_TLS;	/* X509*: go ahead with TLS */
	if ((r = net_io_write(&c->io, &ack, 1)) != 0)
		return r;
	return net_tls_accept(c);
}

static void
report_security(struct net_conn *c, const char *name)
{
	struct ipc_net_security sec = { ipc_view_cstr(name),
	    ipc_view_cstr(SSL_get_version(c->io.ssl)),
	    ipc_view_cstr(SSL_get_cipher_name(c->io.ssl)) };

	(void)ipc_msg_send_net_security(NET_FD_MONITOR, &sec, -1);
}

static int
read_plain(struct net_conn *c, char **user, char **pass)
{
	uint8_t hdr[8], *p;
	uint32_t ulen, plen;
	struct buf b;
	int r;

	if ((r = net_io_read_exact(&c->io, hdr, 8)) != 0)
		return r;
	ulen = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) |
	    ((uint32_t)hdr[2] << 8) | hdr[3];
	plen = ((uint32_t)hdr[4] << 24) | ((uint32_t)hdr[5] << 16) |
	    ((uint32_t)hdr[6] << 8) | hdr[7];
	/* Bound both lengths before reading a byte of them. */
	if (ulen > RFB_PLAIN_MAX_USER || plen > RFB_PLAIN_MAX_PASS)
		return MOAT_ERR_TOO_LONG;
	buf_init(&b, rfb_plain_max_len());
	if ((r = buf_put_bytes(&b, hdr, 8)) != 0 ||
	    (r = buf_reserve(&b, ulen + plen, &p)) != 0 ||
	    (r = net_io_read_exact(&c->io, p, ulen + plen)) != 0) {
		buf_free(&b);
		return r;
	}
	r = rfb_parse_plain(&b, user, pass);
	buf_free(&b);
	return r;
}

#ifdef MOAT_SELFTEST
/* With a non-zero *arg: the syscall the seccomp filter forbids. */
static void
selftest_forbidden(void *arg)
{
	if (*(const int *)arg)
		(void)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}

/*
 * Test builds only: a viewer logging in as moat-selftest-sigsys makes
 * moat-net call a syscall its seccomp filter forbids, so tests can watch
 * the sandbox kill it (as moat-selftest-sigsys-worker, from the encoding
 * thread, enc_pool.h, where there is one); as moat-selftest-log-forge,
 * makes it log a line that tries to pass for an audit record, so tests can
 * watch the monitor escape it (tests/e2e/test_audit.sh). Compiled out of
 * production builds entirely.
 */
static void
selftest_trigger(struct net_conn *c, const char *user)
{
	static int yes = 1, no = 0;

	if (!(c->init.flags & IPC_NETF_SELFTEST))
		return;
	if (strcmp(user, "moat-selftest-sigsys") == 0)
		selftest_forbidden(&yes);
	if (strcmp(user, "moat-selftest-sigsys-worker") == 0 &&
	    enc_pool_parallel())
		enc_pool_run2(selftest_forbidden, &yes, &no);
	if (strcmp(user, "moat-selftest-log-forge") == 0)
		info_f("self-test: forged\nevent=login session=1 "
		    "peer_addr=127.0.0.1 user=root result=success\r\n");
}
#endif

/* Sends the credentials to the monitor and waits for its verdict. */
static int
ask_monitor(struct net_conn *c, char *user, char *pass, char *reason,
    size_t reasonlen)
{
	struct ipc_auth_password cred = { user, pass };
	struct ipc_msg m;
	int r;

	if ((r = ipc_msg_send_auth_password(NET_FD_MONITOR, &cred, -1)) != 0)
		return r;
	if ((r = ipc_recv(NET_FD_MONITOR, &m, 0)) != 0)
		return r;
	r = net_read_auth_result(c, &m, reason, reasonlen);
	ipc_msg_clear(&m);
	return r;
}

#ifdef MOAT_SELFTEST
/*
 * Test builds only (SECURITY.md, "Test-build hooks"): a viewer logging in
 * as one of these users makes moat-net misbehave towards the monitor the
 * way a compromised moat-net could, so that tests can watch the monitor
 * refuse it (tests/e2e/test_rogue_net.sh). The viewer's password then holds
 * "USER:PASSWORD", the real credentials the rogue relays where it asks
 * anything: were the monitor to let the misbehaviour through, that user
 * would be logged in and the test would see it. Each returns like
 * ask_monitor(): 0 as if the monitor had accepted (each waits for the
 * monitor's verdict first, and the session channel only a real verdict
 * brings follows the viewer's ClientInit), MOAT_ERR_AUTH with
 * the reason, or another negative error. Compiled out of production
 * builds entirely.
 */
enum selftest_rogue {
	ROGUE_ANSWER_EARLY,	/* an answer with no question open */
	ROGUE_DOUBLE_AUTH,	/* a password while a question is open */
	ROGUE_REPLAY_PASSWORD,	/* a second password after a refusal */
	ROGUE_RETRY_CONVERSE,	/* the conversation after a refused password */
	ROGUE_BAD_ANSWER,	/* a malformed message while a question is open */
	ROGUE_FAKE_RESULT,	/* the monitor's own verdict, sent to the monitor */
	ROGUE_FAKE_SESSION,	/* the monitor's attach request, with a descriptor */
	ROGUE_CLAIM_SUCCESS,	/* SecurityResult OK without asking at all */
	ROGUE_SASL_UNOFFERED,	/* the SASL exchange (Kerberos), offered or not */
	ROGUE_SASL_TWICE,	/* the SASL exchange again after its verdict */
	ROGUE_SASL_STEP_EARLY,	/* a SASL step with no exchange open */
};

static const struct {
	const char *user;
	enum selftest_rogue how;
} selftest_rogues[] = {
	{ "moat-selftest-answer-early", ROGUE_ANSWER_EARLY },
	{ "moat-selftest-double-auth", ROGUE_DOUBLE_AUTH },
	{ "moat-selftest-replay-password", ROGUE_REPLAY_PASSWORD },
	{ "moat-selftest-retry-converse", ROGUE_RETRY_CONVERSE },
	{ "moat-selftest-bad-answer", ROGUE_BAD_ANSWER },
	{ "moat-selftest-fake-result", ROGUE_FAKE_RESULT },
	{ "moat-selftest-fake-session", ROGUE_FAKE_SESSION },
	{ "moat-selftest-claim-success", ROGUE_CLAIM_SUCCESS },
	{ "moat-selftest-sasl-unoffered", ROGUE_SASL_UNOFFERED },
	{ "moat-selftest-sasl-twice", ROGUE_SASL_TWICE },
	{ "moat-selftest-sasl-step-early", ROGUE_SASL_STEP_EARLY },
};

/* A password no account has: the first, refused, attempt of a retry. */
#define ROGUE_WRONG_PASSWORD	"moat-selftest-wrong-password"

/* Receives the monitor's next message and reads it as its verdict. */
static int
rogue_verdict(struct net_conn *c, char *reason, size_t reasonlen)
{
	struct ipc_msg m;
	int r;

	if ((r = ipc_recv(NET_FD_MONITOR, &m, 0)) != 0)
		return r;
	r = net_read_auth_result(c, &m, reason, reasonlen);
	ipc_msg_clear(&m);
	return r;
}

/* Starts moat's conversation and waits for the monitor's first question. */
static int
rogue_converse_first(void)
{
	struct ipc_msg m;
	int r;

	struct ipc_auth_converse none = { { NULL, 0 } };

	if ((r = ipc_msg_send_auth_converse(NET_FD_MONITOR, &none)) != 0 ||
	    (r = ipc_recv(NET_FD_MONITOR, &m, 0)) != 0)
		return r;
	r = m.type == IPC_MON_AUTH_PROMPT ? 0 : MOAT_ERR_PROTOCOL;
	ipc_msg_clear(&m);
	return r;
}

/*
 * The conversation, answered by moat-net itself: the account for visible
 * questions, the password for hidden ones, until the verdict.
 */
static int
rogue_converse(struct net_conn *c, char *acct, char *pass, char *reason,
    size_t reasonlen)
{
	struct ipc_auth_converse none = { { NULL, 0 } };
	struct ipc_auth_prompt pr;
	struct ipc_auth_answer a;
	struct ipc_msg m;
	int r;

	if ((r = ipc_msg_send_auth_converse(NET_FD_MONITOR, &none)) != 0)
		return r;
	for (;;) {
		if ((r = ipc_recv(NET_FD_MONITOR, &m, 0)) != 0)
			return r;
		if (m.type != IPC_MON_AUTH_PROMPT) {
			r = net_read_auth_result(c, &m, reason, reasonlen);
			ipc_msg_clear(&m);
			return r;
		}
		r = ipc_msg_get_auth_prompt(&m.payload, &pr);
		ipc_msg_clear(&m);
		if (r != 0)
			return r;
		a.answer = pr.kind == IPC_PROMPT_SECRET ? pass : acct;
		if (pr.kind == IPC_PROMPT_ECHO || pr.kind == IPC_PROMPT_SECRET)
			r = ipc_msg_send_auth_answer(NET_FD_MONITOR, &a, -1);
		ipc_msg_free_auth_prompt(&pr);
		if (r != 0)
			return r;
	}
}

static int
rogue_run(struct net_conn *c, enum selftest_rogue how, char *acct,
    char *pass, char *reason, size_t reasonlen)
{
	static const uint8_t ok[4] = { 0, 0, 0, RFB_SECURITY_RESULT_OK };
	struct ipc_auth_password cred = { acct, pass };
	struct ipc_auth_answer a = { pass };
	struct ipc_auth_result res = { 1, "", acct };
	struct ipc_attach_session att = { IPC_PERM_ALL, acct, c->init.peer };
	struct ipc_sasl_start sasl = { ipc_view_cstr("GSSAPI"), 1,
	    ipc_view_cstr("not a GSSAPI token") };
	struct ipc_sasl_step step = { 1, ipc_view_cstr("not a GSSAPI token") };
	uint8_t hdr[IPC_HDR_LEN];
	int r;

	switch (how) {
	case ROGUE_ANSWER_EARLY:
		/* Then the normal request: only a refusal stops the login. */
		if ((r = ipc_msg_send_auth_answer(NET_FD_MONITOR, &a, -1)) != 0)
			return r;
		return ask_monitor(c, acct, pass, reason, reasonlen);
	case ROGUE_DOUBLE_AUTH:
		if ((r = rogue_converse_first()) != 0 ||
		    (r = ipc_msg_send_auth_password(NET_FD_MONITOR, &cred,
		    -1)) != 0)
			return r;
		return rogue_verdict(c, reason, reasonlen);
	case ROGUE_REPLAY_PASSWORD:
	case ROGUE_RETRY_CONVERSE:
		r = ask_monitor(c, acct, ROGUE_WRONG_PASSWORD, reason,
		    reasonlen);
		if (r != MOAT_ERR_AUTH)
			return r;
		if (how == ROGUE_RETRY_CONVERSE)
			return rogue_converse(c, acct, pass, reason, reasonlen);
		return ask_monitor(c, acct, pass, reason, reasonlen);
	case ROGUE_BAD_ANSWER:
		/* A header that announces more than any message may hold. */
		memset(hdr, 0, sizeof(hdr));
		hdr[1] = (uint8_t)((IPC_MAX_PAYLOAD + 1) >> 16);
		hdr[2] = (uint8_t)((IPC_MAX_PAYLOAD + 1) >> 8);
		hdr[3] = (uint8_t)(IPC_MAX_PAYLOAD + 1);
		hdr[5] = IPC_NET_AUTH_ANSWER;
		if ((r = rogue_converse_first()) != 0)
			return r;
		if (send(NET_FD_MONITOR, hdr, sizeof(hdr), MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(hdr))
			return MOAT_ERR_SYSTEM;
		return rogue_verdict(c, reason, reasonlen);
	/*
	 * These three then wait for the monitor's verdict, which never
	 * comes: the monitor ends them (or the login grace time does).
	 */
	case ROGUE_FAKE_RESULT:
		if ((r = ipc_msg_send_auth_result(NET_FD_MONITOR, &res,
		    -1)) != 0)
			return r;
		return rogue_verdict(c, reason, reasonlen);
	case ROGUE_FAKE_SESSION:
		/* The viewer's socket, offered as if it were a session channel. */
		if ((r = ipc_msg_send_attach_session(NET_FD_MONITOR, &att,
		    NET_FD_CLIENT)) != 0)
			return r;
		return rogue_verdict(c, reason, reasonlen);
	case ROGUE_CLAIM_SUCCESS:
		if ((r = net_io_write(&c->io, ok, sizeof(ok))) != 0)
			return r;
		return rogue_verdict(c, reason, reasonlen);
	case ROGUE_SASL_UNOFFERED:
		if ((r = ipc_msg_send_sasl_start(NET_FD_MONITOR, &sasl,
		    -1)) != 0)
			return r;
		return rogue_verdict(c, reason, reasonlen);
	case ROGUE_SASL_TWICE:
		/* A token no KDC issued: the first exchange is refused. */
		if ((r = ipc_msg_send_sasl_start(NET_FD_MONITOR, &sasl,
		    -1)) != 0 ||
		    (r = rogue_verdict(c, reason, reasonlen)) != MOAT_ERR_AUTH ||
		    (r = ipc_msg_send_sasl_start(NET_FD_MONITOR, &sasl,
		    -1)) != 0)
			return r;
		return rogue_verdict(c, reason, reasonlen);
	case ROGUE_SASL_STEP_EARLY:
		if ((r = ipc_msg_send_sasl_step(NET_FD_MONITOR, &step,
		    -1)) != 0)
			return r;
		return rogue_verdict(c, reason, reasonlen);
	}
	return MOAT_ERR_INVALID;
}

/*
 * ask_monitor() for test builds: the sigsys trigger, then for the users
 * above their misbehaviour, for any other user the normal request.
 */
static int
selftest_ask_monitor(struct net_conn *c, char *user, char *pass,
    char *reason, size_t reasonlen)
{
	char acct[256], *sep;
	size_t i;
	int r;

	selftest_trigger(c, user);
	if (!(c->init.flags & IPC_NETF_SELFTEST))
		return ask_monitor(c, user, pass, reason, reasonlen);
	for (i = 0; i < sizeof(selftest_rogues) / sizeof(selftest_rogues[0]);
	    i++) {
		if (strcmp(user, selftest_rogues[i].user) != 0)
			continue;
		info_f("self-test: acting as a compromised moat-net (%s)",
		    user + strlen("moat-selftest-"));
		if ((sep = strchr(pass, ':')) == NULL)
			sep = pass + strlen(pass);
		snprintf(acct, sizeof(acct), "%.*s", (int)(sep - pass), pass);
		r = rogue_run(c, selftest_rogues[i].how, acct,
		    *sep == ':' ? sep + 1 : sep, reason, reasonlen);
		OPENSSL_cleanse(acct, sizeof(acct));
		return r;
	}
	return ask_monitor(c, user, pass, reason, reasonlen);
}
#endif

static int
receive_session_channel(struct net_conn *c)
{
	struct ipc_session_channel sc;
	struct ipc_msg m;
	int r;

	if ((r = ipc_recv(NET_FD_MONITOR, &m, 1)) != 0)
		return r;
	if (m.type != IPC_MON_SESSION_CHANNEL || m.fd == -1 ||
	    (r = ipc_msg_get_session_channel(&m.payload, &sc)) != 0) {
		ipc_msg_clear(&m);
		return r != 0 ? r : MOAT_ERR_PROTOCOL;
	}
	c->perms = sc.perms;
	c->idle_timeout = sc.idle_timeout;
	c->sess_fd = ipc_msg_take_fd(&m);
	ipc_msg_clear(&m);
#ifdef MOAT_SELFTEST
	/*
	 * Test builds only (SECURITY.md, "Test-build hooks"): logged in as
	 * this user, moat-net forwards input its grant forbids, as a
	 * compromised one could; moat-session must still drop it
	 * (tests/e2e/test_permissions.sh).
	 */
	if ((c->init.flags & IPC_NETF_SELFTEST) &&
	    strcmp(c->user, "moat-selftest-forward-input") == 0) {
		info_f("self-test: forwarding input whatever the grant");
		c->selftest_forward_all = 1;
	}
#endif
	return 0;
}

/*
 * The security types offered, in order: VeNCrypt, then (where standard
 * credentials suffice) RA2_256 and RA2
 * (AlwaysMaximum: AES-256 only), and only with Encryption=PreferOff the
 * types that leave the session unencrypted after the login, RA2ne_256 and
 * RA2ne. The monitor re-checks the RSA-AES type it is asked to decrypt
 * for. Writes the types into list; returns how many.
 */
static size_t
offer_list(const struct net_conn *c, uint8_t list[5])
{
	size_t n = 0;

	list[n++] = RFB_SEC_VENCRYPT;
	if (c->init.have_ra2 && offers_credentials(c)) {
		list[n++] = RFB_SEC_RA2_256;
		if (c->init.encryption != IPC_ENC_ALWAYS_MAXIMUM)
			list[n++] = RFB_SEC_RA2;
		if (offers_ra2ne(c)) {
			list[n++] = RFB_SEC_RA2NE_256;
			list[n++] = RFB_SEC_RA2NE;
		}
	}
	return n;
}

int
net_handshake(struct net_conn *c)
{
	uint8_t types[5], list[1 + sizeof(types)], ver[RFB_VERSION_LEN];
	uint8_t sent, choice = 0, shared;
	char *user = NULL, *pass = NULL, reason[256];
	uint32_t subtype;
	size_t ntypes;
	struct buf b;
	int r;

	if ((r = net_io_write(&c->io, "RFB 003.008\n", RFB_VERSION_LEN)) != 0 ||
	    (r = net_io_read_exact(&c->io, ver, sizeof(ver))) != 0)
		return r;
	if ((r = rfb_parse_version(ver, &c->minor)) != 0) {
		info_f("viewer sent an invalid protocol version");
		return r;
	}
	if (c->minor != 8) {
		info_f("refusing RFB 3.%d viewer", c->minor);
		return refuse_old_version(c);
	}
	ntypes = offer_list(c, types);
	buf_init_fixed(&b, list, sizeof(list));
	if ((r = rfb_put_security_types(&b, types, ntypes)) != 0 ||
	    (r = net_io_write(&c->io, buf_ptr(&b), buf_len(&b))) != 0 ||
	    (r = net_io_read_exact(&c->io, &sent, 1)) != 0)
		return r;
	buf_view(&b, &sent, 1);
	if ((r = rfb_parse_security_choice(&b, types, ntypes, &choice)) != 0) {
		info_f("viewer chose security type %u, which was not offered",
		    choice);
		net_send_security_failure(c, "Security type not offered");
		return r;
	}
	if (choice == RFB_SEC_VENCRYPT) {
		if ((r = vencrypt_negotiate(c, &subtype)) != 0)
			return r;
		if (subtype == RFB_VENCRYPT_X509CONVERSATION) {
			report_security(c, "VeNCrypt X509Conversation");
			r = net_conv_run(c, reason, sizeof(reason));
			goto verdict;
		}
		if (subtype == RFB_VENCRYPT_X509SASL) {
			report_security(c, "VeNCrypt X509SASL");
			r = net_sasl_run(c, reason, sizeof(reason));
			goto verdict;
		}
		if (subtype == RFB_VENCRYPT_X509PLAIN) {
			report_security(c, "VeNCrypt X509Plain");
			if ((r = read_plain(c, &user, &pass)) != 0)
				return r;
		} else if ((r = net_ra2_handshake(c, (uint8_t)subtype, &user,
		    &pass)) != 0)
			return r;
	} else if ((r = net_ra2_handshake(c, choice, &user, &pass)) != 0)
		return r;
#ifdef MOAT_SELFTEST
	r = selftest_ask_monitor(c, user, pass, reason, sizeof(reason));
#else
	r = ask_monitor(c, user, pass, reason, sizeof(reason));
#endif
	OPENSSL_cleanse(pass, strlen(pass));
	free(pass);
	free(user);
 verdict:
	if (r == MOAT_ERR_AUTH)
		return net_send_security_failure(c, reason);
	if (r != 0)
		return r;
	{
		static const uint8_t ok[4] = { 0, 0, 0, RFB_SECURITY_RESULT_OK };

		if ((r = net_io_write(&c->io, ok, sizeof(ok))) != 0)
			return r;
	}
	/*
	 * ClientInit: the shared flag goes to the monitor, whose sharing
	 * policy decides whether the channel to the desktop comes at all.
	 */
	if ((r = net_io_read_exact(&c->io, &shared, 1)) != 0)
		return r;
	{
		struct ipc_client_init ci = { shared != 0 };

		if ((r = ipc_msg_send_client_init(NET_FD_MONITOR, &ci, -1)) != 0)
			return r;
	}
	return receive_session_channel(c);
}
