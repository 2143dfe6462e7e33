/*
 * x509_client.h - the Certificate factor's checks: an X.509 client
 * certificate chain, as a viewer sent it in the TLS handshake, verified
 * against the configured CAs and CRLs and mapped to a local account name
 * (docs/certificates.md states the rules). Linked only into the monitor
 * (root) and moatctl. The CA and CRL files are trusted once their owner
 * and mode are checked, though their text is parsed strictly; every byte
 * of the chain comes from the viewer through moat-net, which verifies
 * nothing that matters, and is hostile.
 */
#ifndef MOAT_X509_CLIENT_H
#define MOAT_X509_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#define X509_CLIENT_CHAIN_MAX	8	/* certificates a viewer may send */
#define X509_CLIENT_CERT_MAX	16384	/* bytes in one DER certificate */
/* The framed chain of x509_client_chain_split(): lengths and certificates. */
#define X509_CLIENT_BLOB_MAX	(X509_CLIENT_CHAIN_MAX * (4 + X509_CLIENT_CERT_MAX))
#define X509_CLIENT_USER_MAX	32	/* bytes in a mapped account name */
#define X509_CLIENT_DOMAIN_MAX	253	/* bytes in CertificateUserDomain */
#define X509_CLIENT_CA_MAX	64	/* certificates in the CA file */
#define X509_CLIENT_CRL_MAX	64	/* CRLs in the CRL file */
#define X509_CLIENT_CA_FILE_MAX	(1024 * 1024)
#define X509_CLIENT_CRL_FILE_MAX (16 * 1024 * 1024)
#define X509_CLIENT_TEXT_MAX	256	/* subject, issuer, serial texts */
#define X509_CLIENT_WHY_MAX	512

/* CertificateUserRule; the values are those of CONFIG_CERT_RULE_*. */
enum x509_user_rule {
	X509_RULE_EMAIL = 1,	/* the one rfc822Name of subjectAltName */
	X509_RULE_UPN = 2,	/* the one Microsoft UPN otherName of subjectAltName */
	X509_RULE_CN = 3,	/* the one commonName of the subject */
};

/* What verification trusts: built by x509_client_config_load*(). */
struct x509_client_config {
	X509_STORE *store;	/* the CA certificates and CRLs; NULL: not loaded */
	size_t ncas;		/* certificates from the CA file */
	size_t ncrls;		/* CRLs from the CRL file; 0: no revocation check */
	enum x509_user_rule rule;
	char domain[X509_CLIENT_DOMAIN_MAX + 1];	/* "": any domain */
};

/*
 * What x509_client_verify() found. Every text is NUL-terminated and holds
 * only printable ASCII (untrusted bytes escaped as by log_escape()), so it
 * may go into a log line as it is; none of it may go to the viewer, which
 * is told only "Authentication failed".
 */
struct x509_client_result {
	char user[X509_CLIENT_USER_MAX + 1];	/* "" unless verification returned 0 */
	char subject[X509_CLIENT_TEXT_MAX];	/* the leaf's subject (RFC 2253), or "" */
	char issuer[X509_CLIENT_TEXT_MAX];	/* the leaf's issuer, or "" */
	char serial[X509_CLIENT_TEXT_MAX];	/* the leaf's serial number in hex, or "" */
	char sha256[2 * 32 + 1];		/* SHA-256 of the leaf's DER in hex, or "" */
	char why[X509_CLIENT_WHY_MAX];		/* on failure: the reason, for the log */
};

/* One chain as pointers into a caller's buffer, leaf first. */
struct x509_client_chain {
	const uint8_t *der[X509_CLIENT_CHAIN_MAX];
	size_t len[X509_CLIENT_CHAIN_MAX];
	size_t n;
};

/* Sets cfg to "not loaded": no store, rule email, no domain. */
void x509_client_config_init(struct x509_client_config *cfg);
/* Frees what cfg holds and sets it to "not loaded"; cfg may be unloaded. */
void x509_client_config_free(struct x509_client_config *cfg);

/*
 * Loads the configuration from files: ca_file, an absolute path to PEM
 * CERTIFICATE blocks (1..X509_CLIENT_CA_MAX CA certificates, at least one
 * self-signed), and crl_file (NULL or "": no revocation check), an
 * absolute path to PEM X509 CRL blocks (1..X509_CLIENT_CRL_MAX, each with
 * a nextUpdate, one for every CA of the CA file). Each file, and every
 * directory above it, must be owned by root and not writable by group or
 * others (a root-owned sticky directory such as /tmp is allowed above the
 * file); the file must be a regular file, not a symbolic link. domain
 * (NULL or "": any) is a DNS name and is allowed only with the email and
 * upn rules. On success cfg (which must be initialised; what it held is
 * freed) holds the new configuration and 0 is returned; otherwise cfg is
 * left unloaded and MOAT_ERR_CONFIG is returned with a message naming the
 * file in err (MOAT_ERR_NOMEM on an allocation failure).
 */
int x509_client_config_load(struct x509_client_config *cfg,
    const char *ca_file, const char *crl_file, enum x509_user_rule rule,
    const char *domain, char *err, size_t errlen);

/*
 * The same from PEM text already read: ca_name and crl_name name the
 * texts in messages; crl_pem NULL means no revocation check. No file
 * checks. Returns as x509_client_config_load().
 */
int x509_client_config_load_mem(struct x509_client_config *cfg,
    const char *ca_name, const void *ca_pem, size_t ca_len,
    const char *crl_name, const void *crl_pem, size_t crl_len,
    enum x509_user_rule rule, const char *domain, char *err, size_t errlen);

/*
 * Splits the chain moat-net forwards, blob[0..len): 1 to
 * X509_CLIENT_CHAIN_MAX records "U32 length | length bytes" (big-endian,
 * as buf_put_string() writes them), each 1..X509_CLIENT_CERT_MAX bytes,
 * leaf first, nothing after the last. Nothing is parsed as X.509 here.
 * Returns 0 with chain pointing into blob, or MOAT_ERR_INVALID (no
 * record, or an empty one), MOAT_ERR_TOO_LONG (too many or too large),
 * MOAT_ERR_SHORT (a record cut short) or MOAT_ERR_TRAILING, with chain->n 0.
 */
int x509_client_chain_split(const uint8_t *blob, size_t len,
    struct x509_client_chain *chain);

/*
 * Verifies the chain der[0..n) (DER certificates as the viewer sent them,
 * leaf first) at time now against cfg, then maps the leaf to an account
 * name by cfg's rule (docs/certificates.md, in that order). Returns 0 with
 * res->user set to a valid account name (1..X509_CLIENT_USER_MAX bytes of
 * letters, digits, '.', '_', '-', not starting with '-', not all digits,
 * not "." or ".."), which the caller must still look up: whether the
 * account exists is not checked here. Returns MOAT_ERR_AUTH when the
 * chain or the mapping is refused, with the reason in res->why;
 * MOAT_ERR_CONFIG if cfg is not loaded; MOAT_ERR_NOMEM or MOAT_ERR_CRYPTO
 * on an internal failure (res->why says which). res->user is "" unless
 * 0 is returned; the leaf's subject, issuer, serial and fingerprint are
 * filled whenever the leaf parsed, for the audit record.
 */
int x509_client_verify(const struct x509_client_config *cfg,
    const uint8_t *const *der, const size_t *derlen, size_t n, time_t now,
    struct x509_client_result *res);

/*
 * Maps a certificate, verified or not, to an account name by rule with the
 * domain check (domain NULL or "": any), without looking at its validity
 * or its issuer. Returns 0 with the name in user (userlen bytes, at least
 * X509_CLIENT_USER_MAX + 1), or MOAT_ERR_AUTH with the reason in why;
 * user is "" on failure. Exposed for tests and fuzzing; callers use
 * x509_client_verify().
 */
int x509_client_map_user(X509 *leaf, enum x509_user_rule rule,
    const char *domain, char *user, size_t userlen, char *why, size_t whylen);

/* Returns "email", "upn", "cn" or "(invalid)". */
const char *x509_user_rule_name(enum x509_user_rule rule);

#endif
