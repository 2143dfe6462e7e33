/*
 * viewer.h - moat-viewer's shared types: the connection (a TCP socket,
 * optionally wrapped in TLS or in RSA-AES records), the options the
 * security types need, and the error reporting every viewer file uses.
 * Runs in moat-viewer, with the user's privileges; everything read from
 * the connection is the server's and is bounded before it is buffered.
 */
#ifndef MOAT_VIEWER_H
#define MOAT_VIEWER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "net/rfb_ra2.h"
#include "privsep/buf.h"

#define VIEWER_MAX_CRED		255	/* user name and password bytes */
#define VIEWER_MAX_REASON	1024	/* a server's refusal reason */
#define VIEWER_MAX_ANSWERS	16	/* --answer options */

/* The transport: TCP, then TLS (VeNCrypt) or RSA-AES records. */
struct viewer_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	int ra2;			/* 1: RSA-AES records both ways */
	struct rfb_ra2_dir rx, tx;
	struct buf rec;			/* one raw record being read */
	struct buf pt;			/* plaintext not yet consumed */
};

struct viewer_trust;
struct viewer_client_key;

/* VeNCrypt subtypes moat-viewer speaks (and RFB_VENCRYPT_X509CONVERSATION). */
#define VIEWER_VENCRYPT_X509NONE	260
#define VIEWER_VENCRYPT_X509PLAIN	262

/*
 * The user name and password, fetched when a security type first needs
 * them (viewer/creds.c); the conversation records here what the terminal
 * answered to its first visible and first hidden question.
 */
struct viewer_creds {
	const char *vault_path;		/* NULL: no vault */
	const char *target;		/* HOST:PORT, the vault's key */
	int state;			/* 0 not fetched, 1 fetched, -1 failed */
	int have_user, have_pass;
	char user[VIEWER_MAX_CRED + 2];
	char pass[VIEWER_MAX_CRED + 2];
};

/* What a security handshake needs from the command line. */
struct viewer_auth {
	struct viewer_trust *trust;	/* decides on the server's identity key */
	const char *host;		/* name checked against the leaf certificate */
	struct viewer_creds *creds;
	const struct viewer_client_key *ck;	/* --cert/--key, or NULL */
	const char *const *answers;	/* --answer values, for further questions */
	size_t nanswers;
	int type;			/* RFB security type to use */
	uint32_t subtype;		/* VeNCrypt subtype; 0: X509Conversation,
					 * X509Plain, X509None, the first offered */
};

/*
 * Fetches the credentials once: MOAT_USER / MOAT_PASSWORD, else the
 * vault's entry for cr->target (asking its master password), and with ask
 * set prompts on the terminal for what is still missing. Returns 0, or -1
 * (no terminal, an empty user name, or a damaged vault or wrong master
 * password, which fail every later call too).
 */
int viewer_creds_get(struct viewer_creds *cr, int ask);
/* Wipes the user name and password. */
void viewer_creds_wipe(struct viewer_creds *cr);
/* The vault's master password: MOAT_MASTER or asked. Returns 0 or -1. */
int viewer_master_password(char *out, size_t outlen);

/*
 * Asks "what: " on the terminal and reads one line into out (echo off when
 * secret). Returns 0, or -1 with a message when there is no terminal or
 * the answer does not fit outlen - 1 bytes.
 */
int viewer_prompt(const char *what, int secret, char *out, size_t outlen);

/* Prints "moat-viewer: " and the message on stderr. */
void viewer_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Connects to host:port over TCP. Returns 0, or MOAT_ERR_SYSTEM (a message
 * was printed).
 */
int viewer_conn_open(struct viewer_conn *c, const char *host, const char *port);
/* Closes the TLS session and the socket and wipes the record keys. */
void viewer_conn_close(struct viewer_conn *c);
/*
 * Reads exactly n bytes of the RFB stream (through TLS or records once
 * they are on). Returns 0, MOAT_ERR_EOF, MOAT_ERR_SYSTEM,
 * MOAT_ERR_CRYPTO for a record that failed authentication, or
 * MOAT_ERR_AUTH when the server's TLS alert refused the client
 * certificate (printed).
 */
int viewer_conn_read(struct viewer_conn *c, void *p, size_t n);
/* Writes n bytes of the RFB stream. Returns 0 or a negative MOAT_ERR_*. */
int viewer_conn_write(struct viewer_conn *c, const void *p, size_t n);
/*
 * Starts RSA-AES records with the two session keys (klen bytes each).
 * Returns 0 or MOAT_ERR_CRYPTO.
 */
int viewer_conn_start_ra2(struct viewer_conn *c, const uint8_t *ckey,
    const uint8_t *skey, size_t klen);

/*
 * Reads a SecurityResult. Returns 0 for success; MOAT_ERR_AUTH after
 * printing the server's reason; another negative error on a broken
 * connection or a reason longer than VIEWER_MAX_REASON.
 */
int viewer_security_result(struct viewer_conn *c);

/*
 * Reads a failure reason (U32 length, text) and prints "the server
 * refused WHAT: REASON". Returns MOAT_ERR_AUTH; another negative error on
 * a reason longer than VIEWER_MAX_REASON or a broken connection.
 */
int viewer_failure_reason(struct viewer_conn *c, const char *what);

/*
 * Loads the PEM certificate at path and computes the SHA-256 of its public
 * key (DER SubjectPublicKeyInfo). Returns 0 or MOAT_ERR_INVALID (printed).
 */
int viewer_ca_key_sha256(const char *path, uint8_t out[32]);

/*
 * VeNCrypt: negotiates 0.2 and the subtype (X509Conversation, X509Plain
 * or X509None), runs TLS 1.3 verifying the chain up to the certificate
 * whose key signed the leaf and the name a->host, has a->trust accept that
 * key (the pinned one, one accepted on first use, or one the pinned key
 * vouched for: a rotation, which updates the known-hosts file), presents
 * the client certificate a->ck if any, then runs the conversation, sends
 * the Plain credentials, or (X509None) nothing, and reads the
 * SecurityResult. Returns 0 when logged in; MOAT_ERR_AUTH when refused;
 * MOAT_ERR_CRYPTO when the server's identity is not the pinned one
 * (nothing secret was sent); another negative error otherwise.
 */
int viewer_vencrypt(struct viewer_conn *c, const struct viewer_auth *a);

/*
 * RSA-AES (RA2 or RA2_256): has a->trust decide on the server's key
 * before anything else is sent, exchanges randoms, confirms keys, sends the credentials
 * inside records and reads the SecurityResult. Returns as
 * viewer_vencrypt().
 */
int viewer_ra2(struct viewer_conn *c, const struct viewer_auth *a);

/*
 * moat's conversation (X509Conversation), inside TLS: answers each question
 * (the stored user name for the first visible one and password for the
 * first hidden one, then a->answers in order, then the terminal), answers
 * a proof question (RFB_CONV_PROVE) by signing with a->ck bound to
 * identity (the SHA-256 of the server identity key the TLS chain verified
 * to), shows each message, and reads the SecurityResult. Returns as
 * viewer_vencrypt(); MOAT_ERR_UNSUPPORTED if a proof is asked without
 * a->ck.
 */
int viewer_conversation(struct viewer_conn *c, const struct viewer_auth *a,
    const uint8_t identity[32]);

#endif
