/*
 * mon_identity.h - the server's long-term identity (an RSA-2048 key and a
 * self-signed CA certificate viewers pin) and the short-lived per-connection
 * TLS leaf certificates it signs. Runs in moatd and its monitors (root).
 * The identity private key never leaves this process; moat-net receives
 * only a leaf key that is valid for one connection and one day.
 */
#ifndef MOAT_MON_IDENTITY_H
#define MOAT_MON_IDENTITY_H

#include <openssl/evp.h>
#include <openssl/x509.h>

struct mon_identity {
	EVP_PKEY *key;
	X509 *cert;
};

/*
 * Loads the identity key and certificate; if neither file exists, creates
 * both (key mode 0600). Returns 0 or MOAT_ERR_CONFIG/CRYPTO with err filled.
 */
int mon_identity_load(struct mon_identity *id, const char *key_path,
    const char *cert_path, char *err, size_t errlen);

/* Writes "SHA256:xx:xx:..." of the identity certificate (DER) into out. Returns 0 or negative. */
int mon_identity_fingerprint(const struct mon_identity *id, char *out, size_t outlen);

/*
 * Issues a fresh P-256 leaf key and certificate for one connection, valid
 * for the comma-separated names (DNS names or IP literals) and signed by the
 * identity key. *chain_pem (leaf + identity cert) and *key_pem are
 * NUL-terminated heap strings; the caller wipes key_pem and frees both.
 * Returns 0 or MOAT_ERR_CRYPTO.
 */
int mon_identity_issue_leaf(const struct mon_identity *id, const char *names,
    char **chain_pem, char **key_pem);

void mon_identity_free(struct mon_identity *id);

#endif
