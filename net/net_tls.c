/*
 * net_tls.c - TLS 1.3 for the VeNCrypt X509 subtypes. Runs in moat-net.
 * The certificate chain and the per-connection leaf key come from the
 * monitor (trusted); the server's long-term identity key never reaches
 * this process (see SECURITY.md). The leaf key is wiped after loading.
 * Where policy has a Certificate factor, viewers are asked for a client
 * certificate; moat-net verifies nothing about it beyond what TLS itself
 * does, and hands the chain to the monitor, which decides.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "net_conn.h"
#include "privsep/errors.h"
#include "privsep/ipc_msg.h"
#include "privsep/ipc_types.h"
#include "privsep/log.h"

/*
 * Any client certificate is let through the handshake: whether it is
 * trusted, and whose it is, only the monitor decides (mon_cert.c), and it
 * also demands its own proof that the viewer holds the key.
 */
static int
accept_any_client_cert(int preverify, X509_STORE_CTX *ctx)
{
	(void)preverify;
	(void)ctx;
	return 1;
}

static int
load_chain(SSL_CTX *ctx, const char *pem)
{
	X509 *x;
	BIO *bio;
	int n = 0, r = MOAT_ERR_CRYPTO;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return MOAT_ERR_NOMEM;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (n == 0) {
			if (SSL_CTX_use_certificate(ctx, x) != 1) {
				X509_free(x);
				goto out;
			}
			X509_free(x);
		} else if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			goto out;
		}
		n++;
	}
	ERR_clear_error();
	r = n > 0 ? 0 : MOAT_ERR_CRYPTO;
out:
	BIO_free(bio);
	return r;
}

/*
 * Parses the leaf key. PEM_read_bio_PrivateKey() tries every decoder
 * OpenSSL has (0.4 ms of each connection's start); the monitor's leaf key
 * is P-256 in PKCS#8, so its DER goes to the EC decoder alone, and only
 * another form takes the general way. The DER copy is wiped. Returns the
 * key or NULL.
 */
static EVP_PKEY *
load_key(const char *pem)
{
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *key = NULL;
	long len = 0;
	BIO *bio;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	if (PEM_read_bio_ex(bio, &name, &header, &der, &len,
	    PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE) == 1 &&
	    strcmp(name, PEM_STRING_PKCS8INF) == 0 &&
	    (header == NULL || header[0] == '\0') &&
	    len > 0) {
		p = der;
		key = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, len);
		if (key != NULL && p != der + len) {
			EVP_PKEY_free(key);	/* trailing bytes */
			key = NULL;
		}
	}
	if (der != NULL)
		OPENSSL_secure_clear_free(der, (size_t)len);
	OPENSSL_secure_free(name);
	OPENSSL_secure_free(header);
	if (key == NULL) {
		ERR_clear_error();
		if (BIO_reset(bio) == 1)
			key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	}
	BIO_free(bio);
	return key;
}

int
net_tls_setup(struct net_conn *c)
{
	const char *suites;
	EVP_PKEY *key;
	SSL_CTX *ctx;
	int r;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return MOAT_ERR_CRYPTO;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	/* Forward secrecy: TLS 1.3 key exchange is always ephemeral (EC)DHE. */
	suites = c->init.encryption == IPC_ENC_ALWAYS_MAXIMUM ?
	    "TLS_AES_256_GCM_SHA384" :
	    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";
	if (SSL_CTX_set_ciphersuites(ctx, suites) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if ((r = load_chain(ctx, c->init.cert_pem)) != 0)
		goto fail;
	if (c->init.auth_channels & IPC_AUTHCH_CLIENT_CERT) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_client_cert);
		/* Bounds what TLS buffers of the viewer's Certificate message. */
		SSL_CTX_set_max_cert_list(ctx, IPC_MAX_CLIENT_CHAIN);
	}
	key = load_key(c->init.key_pem);
	OPENSSL_cleanse(c->init.key_pem, strlen(c->init.key_pem));
	if (key == NULL)
		goto fail;
	r = SSL_CTX_use_PrivateKey(ctx, key);
	EVP_PKEY_free(key);
	if (r != 1 || SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	c->tls = ctx;
	return 0;
fail:
	error_f("TLS setup failed: %s",
	    ERR_reason_error_string(ERR_peek_last_error()));
	SSL_CTX_free(ctx);
	return MOAT_ERR_CRYPTO;
}

int
net_tls_accept(struct net_conn *c)
{
	unsigned long e;
	SSL *ssl;
	int r;

	if ((ssl = SSL_new(c->tls)) == NULL)
		return MOAT_ERR_CRYPTO;
	if (SSL_set_fd(ssl, c->io.fd) != 1) {
		SSL_free(ssl);
		return MOAT_ERR_CRYPTO;
	}
	ERR_clear_error();
	if ((r = SSL_accept(ssl)) != 1) {
		e = ERR_peek_last_error();
		SSL_free(ssl);
		/*
		 * A viewer that hangs up or sends an alert (it did not trust
		 * this server's identity, say) ended the connection: no
		 * protocol violation, for which the listener would count a
		 * penalty. Anything else is a malformed handshake.
		 */
		if (e == 0 || (ERR_GET_LIB(e) == ERR_LIB_SSL &&
		    ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET)) {
			info_f("TLS handshake ended by the viewer: %s",
			    e ? ERR_reason_error_string(e) : "connection closed");
			return MOAT_ERR_EOF;
		}
		info_f("TLS handshake failed: %s", ERR_reason_error_string(e));
		return MOAT_ERR_CRYPTO;
	}
	c->io.ssl = ssl;
	return 0;
}

/*
 * Frames the chain the viewer sent (leaf first) for IPC_NET_AUTH_CONVERSE:
 * each certificate's DER as u32 length + bytes. Returns 0 with *len 0 if
 * there is none; MOAT_ERR_TOO_LONG past NET_CLIENT_CHAIN_MAX certificates
 * or NET_CLIENT_CERT_MAX bytes in one (the monitor's bounds).
 */
int
net_tls_client_chain(struct net_conn *c, struct buf *out)
{
	STACK_OF(X509) *rest;
	X509 *x;
	uint8_t *p;
	int i, n, len, r;

	if (c->io.ssl == NULL ||
	    (x = SSL_get0_peer_certificate(c->io.ssl)) == NULL)
		return 0;
	rest = SSL_get_peer_cert_chain(c->io.ssl);	/* without the leaf here */
	n = rest != NULL ? sk_X509_num(rest) : 0;
	for (i = -1; i < n; i++) {
		if (i >= 0 && (x = sk_X509_value(rest, i)) == NULL)
			return MOAT_ERR_CRYPTO;
		if (i + 1 >= NET_CLIENT_CHAIN_MAX)
			return MOAT_ERR_TOO_LONG;
		if ((len = i2d_X509(x, NULL)) <= 0)
			return MOAT_ERR_CRYPTO;
		if (len > NET_CLIENT_CERT_MAX)
			return MOAT_ERR_TOO_LONG;
		if ((r = buf_put_u32(out, (uint32_t)len)) != 0 ||
		    (r = buf_reserve(out, (size_t)len, &p)) != 0)
			return r;
		if (i2d_X509(x, &p) != len)
			return MOAT_ERR_CRYPTO;
	}
	return 0;
}
