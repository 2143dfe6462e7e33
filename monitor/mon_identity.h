/*
 * mon_identity.h - the server's long-term identity (an RSA-2048 key and a
 * self-signed CA certificate viewers pin) and the short-lived per-connection
 * TLS leaf certificates it signs. Runs in moatd and its monitors, and in
 * moatctl (all root; built once as the moat_identity library). The identity
 * private key never leaves these processes; moat-net receives only a leaf
 * key that is valid for one connection and one day.
 */
#ifndef MOAT_MON_IDENTITY_H
#define MOAT_MON_IDENTITY_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "privsep/catchphrase.h"

struct mon_identity {
	EVP_PKEY *key;		/* NULL after mon_identity_open() without a key path */
	X509 *cert;
};

/*
 * Loads the identity key and certificate; if neither file exists, creates
 * both (key mode 0600). Returns 0 or MOAT_ERR_CONFIG/CRYPTO with err filled.
 */
int mon_identity_load(struct mon_identity *id, const char *key_path,
    const char *cert_path, char *err, size_t errlen);

/*
 * Creates a new identity: an RSA-2048 key written to key_path (mode 0600)
 * and a self-signed CA certificate for it written to cert_path (mode 0644).
 * Refuses, writing nothing, if either path exists; on a later failure
 * removes what it wrote. Returns 0 or MOAT_ERR_CONFIG/CRYPTO with err filled.
 */
int mon_identity_create(struct mon_identity *id, const char *key_path,
    const char *cert_path, char *err, size_t errlen);

/*
 * Loads an existing identity, never creating one. With key_path NULL only
 * the certificate is loaded (id->key stays NULL: enough for the public
 * forms, not for issuing leaves); otherwise the key must pass the same
 * checks as in mon_identity_load() and match the certificate. Returns 0 or
 * MOAT_ERR_CONFIG/SYSTEM with err filled.
 */
int mon_identity_open(struct mon_identity *id, const char *key_path,
    const char *cert_path, char *err, size_t errlen);

/* Writes "SHA256:XX:XX:..." of the identity certificate (DER) into out. Returns 0 or negative. */
int mon_identity_fingerprint(const struct mon_identity *id, char *out, size_t outlen);

/*
 * Fills *desc with the public forms of the certificate's key: its SHA-256,
 * the catchphrase and the RealVNC fingerprint (privsep/catchphrase.h).
 * Returns 0 or a negative MOAT_ERR_*.
 */
int mon_identity_describe(const struct mon_identity *id, struct catchphrase_id *desc);

/*
 * Issues a fresh P-256 leaf key and certificate for one connection, valid
 * for the comma-separated names (DNS names or IP literals) and signed by the
 * identity key. *chain_pem (leaf + identity cert) and *key_pem are
 * NUL-terminated heap strings; the caller wipes key_pem and frees both.
 * Returns 0, MOAT_ERR_INVALID (no private key loaded, or no usable name)
 * or MOAT_ERR_CRYPTO.
 */
int mon_identity_issue_leaf(const struct mon_identity *id, const char *names,
    char **chain_pem, char **key_pem);

/* Frees the key and certificate (either may be NULL) and zeroes *id. */
void mon_identity_free(struct mon_identity *id);

#endif
