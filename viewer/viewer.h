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

/* What a security handshake needs from the command line. */
struct viewer_auth {
	struct viewer_trust *trust;	/* decides on the server's identity key */
	const char *host;		/* name checked against the leaf certificate */
	const char *user;
	const char *pass;
	const char *const *answers;	/* --answer values, for further questions */
	size_t nanswers;
	int type;			/* RFB security type to use */
	uint32_t subtype;		/* VeNCrypt subtype; 0: the conversation if offered, else X509Plain */
};

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
 * they are on). Returns 0, MOAT_ERR_EOF, MOAT_ERR_SYSTEM, or
 * MOAT_ERR_CRYPTO for a record that failed authentication.
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
 * Loads the PEM certificate at path and computes the SHA-256 of its public
 * key (DER SubjectPublicKeyInfo). Returns 0 or MOAT_ERR_INVALID (printed).
 */
int viewer_ca_key_sha256(const char *path, uint8_t out[32]);

/*
 * VeNCrypt X509Plain: negotiates 0.2 and the subtype, runs TLS 1.3
 * verifying the chain up to the certificate whose key signed the leaf and
 * the name a->host, has a->trust accept that key (the pinned one, one
 * accepted on first use, or one the pinned key vouched for: a rotation,
 * which updates the known-hosts file), sends the credentials and reads the
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
 * (a->user for the first visible one, a->pass for the first hidden one,
 * then a->answers in order, then the terminal), shows each message, and
 * reads the SecurityResult. Returns as viewer_vencrypt().
 */
int viewer_conversation(struct viewer_conn *c, const struct viewer_auth *a);

#endif
