/*
 * conn_vencrypt.c - moat-viewer's VeNCrypt client: version 0.2, the
 * subtype (moat's X509Conversation, X509Plain or X509None), TLS 1.3 with
 * the server's chain verified up to the certificate whose key signed the
 * leaf (and the leaf's name to the host connected to), whose key
 * viewer/trust.c must accept (pinned, known, accepted on first use, or
 * vouched for by the pinned key during a rotation: viewer/rotation.c),
 * with the user's client certificate (viewer/client_key.c) if one was
 * given; then the conversation (conn_conv.c), the Plain credentials, or
 * for X509None nothing, and the SecurityResult.
 * Runs in moat-viewer; trusts nothing the server sends; the credentials
 * leave only after the identity checked out.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "net/rfb_conv.h"
#include "privsep/errors.h"
#include "viewer/client_key.h"
#include "viewer/rotation.h"
#include "viewer/trust.h"
#include "viewer/viewer.h"

#define VENCRYPT_MAX_SUBTYPES	255

int
viewer_ca_key_sha256(const char *path, uint8_t out[32])
{
	X509 *x = NULL;
	FILE *f;
	int r = MOAT_ERR_INVALID;

	if ((f = fopen(path, "r")) == NULL) {
		viewer_err("%s: cannot open", path);
		return MOAT_ERR_INVALID;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		viewer_err("%s: not a PEM certificate", path);
	else if (viewer_cert_key_sha256(x, out) != 0)
		viewer_err("%s: cannot hash its public key", path);
	else
		r = 0;
	X509_free(x);
	return r;
}

/* The state of one TLS verification (the callback's argument). */
struct verify_state {
	struct viewer_trust *trust;
	STACK_OF(X509) *anchors;	/* the one accepted anchor, for the store */
	int mismatch;			/* the signer's key is not the pin, unvouched */
	int have_root;
	uint8_t root[32];		/* the server's identity key (signed the leaf) */
	int rotated;			/* the pinned key vouched for root */
	time_t until;			/* rotated: end of the vouching certificate */
};

/*
 * During chain verification: the anchor stands for a key the viewer
 * trusts (pinned, or being accepted on first use), so its own validity
 * period is not what is trusted; every other certificate's still counts
 * (a rotation's vouching certificate was checked before, in
 * viewer_rotation_vouched()).
 */
static int
on_verify_cert(int ok, X509_STORE_CTX *ctx)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	int e = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);

	if (ok)
		return 1;
	return (e == X509_V_ERR_CERT_HAS_EXPIRED ||
	    e == X509_V_ERR_CERT_NOT_YET_VALID) && chain != NULL &&
	    depth > 0 && depth == sk_X509_num(chain) - 1 &&
	    depth >= X509_STORE_CTX_get_num_untrusted(ctx);
}

/*
 * Replaces OpenSSL's chain building. The server's identity key is the key
 * that signed the leaf (viewer_chain_signer()). If it is the pinned key,
 * or nothing is pinned yet, the certificate carrying it is the trust
 * anchor; if another key is pinned, it must have vouched for this one
 * (viewer_rotation_vouched()), else the connection is refused as a changed
 * identity. The chain is then verified up to the anchor with the usual
 * checks (the leaf's signature and validity, the host name set with
 * SSL_set1_host).
 */
static int
on_verify(X509_STORE_CTX *ctx, void *arg)
{
	struct verify_state *vs = arg;
	struct viewer_trust *t = vs->trust;
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(ctx);
	struct viewer_chain_id id;

	if (viewer_chain_signer(X509_STORE_CTX_get0_cert(ctx), chain, &id) != 0) {
		vs->mismatch = t->have_pin;	/* the warning says "(none)" */
		X509_STORE_CTX_set_error(ctx,
		    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
		return 0;
	}
	memcpy(t->presented, id.key, 32);	/* for the warning */
	t->have_presented = 1;
	if (t->have_pin && CRYPTO_memcmp(id.key, t->pin, 32) != 0) {
		if (viewer_rotation_vouched(&id, chain, t->pin, time(NULL),
		    &vs->until) != 0) {
			vs->mismatch = 1;
			X509_STORE_CTX_set_error(ctx,
			    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
			return 0;
		}
		vs->rotated = 1;
	}
	memcpy(vs->root, id.key, 32);
	vs->have_root = 1;
	if (vs->anchors == NULL && (vs->anchors = sk_X509_new_null()) == NULL)
		return 0;
	while (sk_X509_num(vs->anchors) > 0)
		(void)sk_X509_pop(vs->anchors);
	if (sk_X509_push(vs->anchors, id.signer) <= 0)
		return 0;
	X509_STORE_CTX_set0_trusted_stack(ctx, vs->anchors);
	/* The anchor may be a cross certificate, not self-signed. */
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
	    X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_CTX_set_verify_cb(ctx, on_verify_cert);
	return X509_verify_cert(ctx) == 1;
}

/*
 * TLS 1.3 with the server's identity checked; the client certificate if
 * the user gave one. Fills identity with the SHA-256 of the identity key
 * the chain verified to. Returns 0, MOAT_ERR_CRYPTO (printed), or
 * MOAT_ERR_SYSTEM.
 */
static int
start_tls(struct viewer_conn *c, const struct viewer_auth *a,
    uint8_t identity[32])
{
	struct verify_state vs;
	long v;
	int r = MOAT_ERR_CRYPTO;

	memset(&vs, 0, sizeof(vs));
	vs.trust = a->trust;
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(c->ctx, TLS1_3_VERSION) != 1) {
		viewer_err("cannot set up TLS");
		return MOAT_ERR_CRYPTO;
	}
	if (a->ck != NULL &&
	    (SSL_CTX_use_certificate(c->ctx, a->ck->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(c->ctx, a->ck->key) != 1)) {
		viewer_err("cannot use the client certificate and key for TLS");
		return MOAT_ERR_CRYPTO;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(c->ctx, on_verify, &vs);
	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set1_host(c->ssl, a->host) != 1) {
		viewer_err("cannot set up TLS");
		goto out;
	}
	ERR_clear_error();
	if (SSL_connect(c->ssl) != 1) {
		v = SSL_get_verify_result(c->ssl);
		if (vs.mismatch)
			viewer_trust_warn(a->trust);
		else if (v != X509_V_OK)
			viewer_err("the server's certificate does not verify: "
			    "%s", X509_verify_cert_error_string(v));
		else
			viewer_err("TLS handshake failed");
		goto out;
	}
	if (SSL_get_verify_result(c->ssl) != X509_V_OK || !vs.have_root)
		goto out;
	/* The chain verified to vs.root; is that key the one to trust? */
	if ((r = vs.rotated ? viewer_trust_rotated(a->trust, vs.root, vs.until) :
	    viewer_trust_check(a->trust, vs.root)) != 0)
		goto out;
	fprintf(stderr, "moat-viewer: %s, %s\n", SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl));
	memcpy(identity, vs.root, 32);
	r = 0;
out:
	/* The callback is done: it may not see vs once we return. */
	SSL_CTX_set_cert_verify_callback(c->ctx, NULL, NULL);
	sk_X509_free(vs.anchors);
	return r == MOAT_ERR_SYSTEM ? r : r != 0 ? MOAT_ERR_CRYPTO : 0;
}

static int
send_plain(struct viewer_conn *c, const char *user, const char *pass)
{
	size_t ul = strlen(user), pl = strlen(pass);
	struct buf b;
	int r;

	buf_init(&b, 8 + 2 * VIEWER_MAX_CRED);
	if ((r = buf_put_u32(&b, (uint32_t)ul)) != 0 ||
	    (r = buf_put_u32(&b, (uint32_t)pl)) != 0 ||
	    (r = buf_put_bytes(&b, user, ul)) != 0 ||
	    (r = buf_put_bytes(&b, pass, pl)) != 0 ||
	    (r = viewer_conn_write(c, buf_ptr(&b), buf_len(&b))) != 0) {
		buf_free(&b);
		return r;
	}
	buf_free(&b);	/* wipes */
	return 0;
}

static const char *
subtype_name(uint32_t sub)
{
	switch (sub) {
	case VIEWER_VENCRYPT_X509NONE:
		return "X509None";
	case VIEWER_VENCRYPT_X509PLAIN:
		return "X509Plain";
	case RFB_VENCRYPT_X509CONVERSATION:
		return "X509Conversation";
	default:
		return "an unknown subtype";
	}
}

/*
 * The subtype to use among those offered: the one asked for; with a
 * client certificate the conversation (only it carries the proof);
 * else X509Conversation, X509Plain, X509None, the first offered.
 * Returns it, or 0 (printed).
 */
static uint32_t
choose(const struct viewer_auth *a, int conv, int plain, int none)
{
	uint32_t want = a->subtype;

	if (want == 0 && a->ck != NULL)
		want = RFB_VENCRYPT_X509CONVERSATION;
	if (want != 0) {
		if ((want == RFB_VENCRYPT_X509CONVERSATION && conv) ||
		    (want == VIEWER_VENCRYPT_X509PLAIN && plain) ||
		    (want == VIEWER_VENCRYPT_X509NONE && none))
			return want;
		if (a->ck != NULL)
			viewer_err("the server does not offer X509Conversation, "
			    "which a client certificate needs");
		else
			viewer_err("the server does not offer %s",
			    subtype_name(want));
		return 0;
	}
	if (conv)
		return RFB_VENCRYPT_X509CONVERSATION;
	if (plain)
		return VIEWER_VENCRYPT_X509PLAIN;
	if (none)
		return VIEWER_VENCRYPT_X509NONE;
	viewer_err("the server offers none of X509Conversation, X509Plain, "
	    "X509None");
	return 0;
}

int
viewer_vencrypt(struct viewer_conn *c, const struct viewer_auth *a)
{
	static const uint8_t version[2] = { 0, 2 };
	uint8_t peer[2], ack, n, list[4 * VENCRYPT_MAX_SUBTYPES], choice[4];
	uint8_t identity[32];
	int r, plain = 0, conv = 0, none = 0, i;
	uint32_t sub, want;

	if ((r = viewer_conn_read(c, peer, 2)) != 0)
		return r;
	if (peer[0] != 0 || peer[1] < 2) {
		viewer_err("the server speaks VeNCrypt %u.%u, not 0.2",
		    peer[0], peer[1]);
		return MOAT_ERR_PROTOCOL;
	}
	if ((r = viewer_conn_write(c, version, 2)) != 0 ||
	    (r = viewer_conn_read(c, &ack, 1)) != 0)
		return r;
	if (ack != 0) {
		viewer_err("the server refused VeNCrypt 0.2");
		return MOAT_ERR_PROTOCOL;
	}
	if ((r = viewer_conn_read(c, &n, 1)) != 0 ||
	    (r = viewer_conn_read(c, list, 4 * (size_t)n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		sub = (uint32_t)list[4 * i] << 24 | (uint32_t)list[4 * i + 1] << 16 |
		    (uint32_t)list[4 * i + 2] << 8 | list[4 * i + 3];
		plain |= sub == VIEWER_VENCRYPT_X509PLAIN;
		conv |= sub == RFB_VENCRYPT_X509CONVERSATION;
		none |= sub == VIEWER_VENCRYPT_X509NONE;
	}
	if ((want = choose(a, conv, plain, none)) == 0)
		return MOAT_ERR_PROTOCOL;
	choice[0] = (uint8_t)(want >> 24);
	choice[1] = (uint8_t)(want >> 16);
	choice[2] = (uint8_t)(want >> 8);
	choice[3] = (uint8_t)want;
	if ((r = viewer_conn_write(c, choice, 4)) != 0 ||
	    (r = viewer_conn_read(c, &ack, 1)) != 0)
		return r;
	if (ack != 1) {
		viewer_err("the server refused the subtype");
		return MOAT_ERR_PROTOCOL;
	}
	fprintf(stderr, "moat-viewer: VeNCrypt %s\n", subtype_name(want));
	if ((r = start_tls(c, a, identity)) != 0)
		return r;
	if (want == RFB_VENCRYPT_X509CONVERSATION)
		return viewer_conversation(c, a, identity);
	if (want == VIEWER_VENCRYPT_X509PLAIN) {
		/* Asked only now, once the server's identity checked out. */
		if (viewer_creds_get(a->creds, 1) != 0) {
			viewer_err("no usable user name and password");
			return MOAT_ERR_INVALID;
		}
		if ((r = send_plain(c, a->creds->user, a->creds->pass)) != 0)
			return r;
	}
	/* X509None: TLS only; no credentials. */
	return viewer_security_result(c);
}
