/*
 * net_conv.c - moat's conversation in moat-net (VeNCrypt subtype
 * X509Conversation, docs/authentication.md): relays each message the
 * monitor sends to the viewer inside TLS, and the viewer's answer to each
 * question back, until the monitor's verdict. Runs in moat-net inside its
 * sandbox. It decides nothing: which questions are asked, how many, and
 * whether the answers pass is the monitor's; it only bounds what the
 * viewer sends before buffering it.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net_conn.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"
#include "privsep/log.h"
#include "rfb_conv.h"

/* Writes one conversation message to the viewer. */
static int
write_message(struct net_conn *c, uint8_t kind, const char *text)
{
	uint8_t storage[RFB_CONV_MESSAGE_HDR + RFB_CONV_MAX_TEXT];
	struct buf b;
	int r;

	buf_init_fixed(&b, storage, sizeof(storage));
	if ((r = rfb_conv_put_message(&b, kind, text, strlen(text))) == 0)
		r = net_io_write(&c->io, buf_ptr(&b), buf_len(&b));
	OPENSSL_cleanse(storage, sizeof(storage));
	return r;
}

/* Reads the viewer's answer, bounded before a byte of it is buffered. */
static int
read_answer(struct net_conn *c, char **answer)
{
	uint8_t storage[RFB_CONV_ANSWER_HDR + RFB_CONV_MAX_ANSWER], *p;
	struct buf b;
	size_t need;
	int r;

	buf_init_fixed(&b, storage, sizeof(storage));
	if ((r = buf_reserve(&b, RFB_CONV_ANSWER_HDR, &p)) != 0 ||
	    (r = net_io_read_exact(&c->io, p, RFB_CONV_ANSWER_HDR)) != 0)
		return r;
	if ((r = rfb_conv_parse_answer(&b, answer)) == MOAT_ERR_AGAIN) {
		/* The length is within bounds: read exactly the rest. */
		need = ((size_t)storage[0] << 24 | (size_t)storage[1] << 16 |
		    (size_t)storage[2] << 8 | storage[3]);
		if ((r = buf_reserve(&b, need, &p)) == 0 &&
		    (r = net_io_read_exact(&c->io, p, need)) == 0)
			r = rfb_conv_parse_answer(&b, answer);
	}
	OPENSSL_cleanse(storage, sizeof(storage));
	return r;
}

int
net_read_auth_result(struct net_conn *c, struct ipc_msg *m, char *reason,
    size_t reasonlen)
{
	struct ipc_auth_result res;
	int r;

	if (m->type != IPC_MON_AUTH_RESULT)
		return MOAT_ERR_PROTOCOL;
	if ((r = ipc_msg_get_auth_result(&m->payload, &res)) != 0)
		return r;
	snprintf(reason, reasonlen, "%s", res.reason);
	snprintf(c->user, sizeof(c->user), "%s", res.user);
	r = res.ok ? 0 : MOAT_ERR_AUTH;
	ipc_msg_free_auth_result(&res);
	return r;
}

#ifdef MOAT_SELFTEST
/*
 * Test builds only (SECURITY.md, "Test-build hooks"): a viewer whose client
 * certificate's subject commonName is SELFTEST_FORGE_PROOF makes moat-net
 * answer the monitor's proof-of-possession question itself, as a
 * compromised moat-net holding only the (public) certificate could; the
 * monitor must refuse it (tests/e2e/test_certificate.sh). The viewer,
 * which holds the key, never sees the question. Compiled out of
 * production builds entirely.
 */
#define SELFTEST_FORGE_PROOF	"moat-selftest-forge-proof"
/* Repeated 86 times: 258 bytes of 0x01 in base64, signature-sized. */
#define SELFTEST_FORGED_ANSWER	"AQEB"

static int selftest_forge_proof;

static void
selftest_check_forge(struct net_conn *c)
{
	char cn[64];
	X509 *x;

	if (!(c->init.flags & IPC_NETF_SELFTEST) || c->io.ssl == NULL ||
	    (x = SSL_get0_peer_certificate(c->io.ssl)) == NULL)
		return;
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)) > 0 &&
	    strcmp(cn, SELFTEST_FORGE_PROOF) == 0)
		selftest_forge_proof = 1;
}

/* Answers a proof question with a forgery; 1 if it did (r set), else 0. */
static int
selftest_forge_answer(uint8_t kind, int *r)
{
	char forged[4 * 86 + 1];
	struct ipc_auth_answer a;
	size_t i;

	if (!selftest_forge_proof || kind != IPC_PROMPT_PROVE)
		return 0;
	for (i = 0; i < 86; i++)
		memcpy(forged + 4 * i, SELFTEST_FORGED_ANSWER, 4);
	forged[4 * 86] = '\0';
	warn_f("TEST BUILD: answering the proof of possession without the "
	    "viewer");
	a.answer = forged;
	*r = ipc_msg_send_auth_answer(NET_FD_MONITOR, &a, -1);
	return 1;
}
#endif

/* Relays one question or message; answers a question. */
static int
relay_prompt(struct net_conn *c, struct ipc_msg *m)
{
	struct ipc_auth_prompt pr;
	struct ipc_auth_answer a;
	char *answer = NULL;
	uint8_t kind;
	int r;

	if ((r = ipc_msg_get_auth_prompt(&m->payload, &pr)) != 0)
		return r;
	/* IPC_PROMPT_* and RFB_CONV_* share their numbers (checked below). */
	kind = pr.kind;
#ifdef MOAT_SELFTEST
	if (selftest_forge_answer(kind, &r)) {
		ipc_msg_free_auth_prompt(&pr);
		return r;
	}
#endif
	r = write_message(c, kind, pr.text);
	ipc_msg_free_auth_prompt(&pr);
	if (r != 0 || (kind != IPC_PROMPT_ECHO && kind != IPC_PROMPT_SECRET &&
	    kind != IPC_PROMPT_PROVE))
		return r;
	if ((r = read_answer(c, &answer)) != 0) {
		if (r == MOAT_ERR_TOO_LONG || r == MOAT_ERR_INVALID)
			info_f("viewer sent an answer that is too long or holds "
			    "a NUL byte");
		return r;
	}
	a.answer = answer;
	r = ipc_msg_send_auth_answer(NET_FD_MONITOR, &a, -1);
	OPENSSL_cleanse(answer, strlen(answer));
	free(answer);
	return r;
}

_Static_assert(IPC_PROMPT_ECHO == RFB_CONV_ECHO &&
    IPC_PROMPT_SECRET == RFB_CONV_SECRET && IPC_PROMPT_INFO == RFB_CONV_INFO &&
    IPC_PROMPT_ERROR == RFB_CONV_ERROR && IPC_PROMPT_PROVE == RFB_CONV_PROVE,
    "prompt kinds match on both sides");

_Static_assert(NET_CLIENT_CHAIN_MAX * (4 + NET_CLIENT_CERT_MAX) <=
    IPC_MAX_CLIENT_CHAIN, "a client chain fits the IPC bound");

/* Starts the conversation, with the viewer's client certificates if any. */
static int
start_conversation(struct net_conn *c)
{
	struct ipc_auth_converse cv;
	struct buf chain;
	int r;

#ifdef MOAT_SELFTEST
	selftest_check_forge(c);
#endif
	buf_init(&chain, IPC_MAX_CLIENT_CHAIN);
	if ((r = net_tls_client_chain(c, &chain)) != 0) {
		info_f("viewer sent a client certificate chain beyond moat's "
		    "bounds (%d certificates of %d bytes)", NET_CLIENT_CHAIN_MAX,
		    NET_CLIENT_CERT_MAX);
		buf_free(&chain);
		return r;
	}
	cv.client_chain.p = buf_len(&chain) > 0 ? buf_ptr(&chain) : NULL;
	cv.client_chain.len = buf_len(&chain);
	r = ipc_msg_send_auth_converse(NET_FD_MONITOR, &cv);
	buf_free(&chain);
	return r;
}

int
net_conv_run(struct net_conn *c, char *reason, size_t reasonlen)
{
	struct ipc_msg m;
	int r;

	if ((r = start_conversation(c)) != 0)
		return r;
	for (;;) {
		if ((r = ipc_recv(NET_FD_MONITOR, &m, 0)) != 0)
			return r;
		if (m.type == IPC_MON_AUTH_PROMPT) {
			r = relay_prompt(c, &m);
			ipc_msg_clear(&m);
			if (r != 0)
				return r;
			continue;
		}
		r = net_read_auth_result(c, &m, reason, reasonlen);
		ipc_msg_clear(&m);
		if (r != 0 && r != MOAT_ERR_AUTH)
			return r;
		/* The conversation is over; the SecurityResult follows. */
		return write_message(c, RFB_CONV_END, "") == 0 ? r :
		    MOAT_ERR_EOF;
	}
}
