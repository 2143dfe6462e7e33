/*
 * client_key.h - moat-viewer's client certificate and its private key,
 * for moat's Certificate factor: PEM files, or objects on a smartcard
 * (PKCS#11 URIs, through libp11's OpenSSL engine and the PKCS#11 module
 * named on the command line). Runs in moat-viewer, with the user's
 * privileges; trusts the user's options and the token.
 */
#ifndef MOAT_VIEWER_CLIENT_KEY_H
#define MOAT_VIEWER_CLIENT_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

/* Debian's OpenSC module, for real smartcards. */
#define VIEWER_PKCS11_MODULE	"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
#define VIEWER_PIN_MAX		256	/* bytes of a PIN */

/* Where the certificate and key come from (the command line). */
struct viewer_client_key_opts {
	const char *cert;	/* PEM file or "pkcs11:" URI of a certificate */
	const char *key;	/* PEM file or "pkcs11:" URI of a private key */
	const char *module;	/* PKCS#11 module; NULL: VIEWER_PKCS11_MODULE */
	const char *pin_file;	/* the PIN's file (first line); NULL: ask */
};

/* A loaded certificate and key that were checked to belong together. */
struct viewer_client_key {
	X509 *cert;
	EVP_PKEY *key;
	uint8_t *der;		/* the certificate's DER, as TLS sends it */
	size_t derlen;
	ENGINE *engine;		/* libp11's engine, when a URI was used */
};

/*
 * Loads the certificate and key (logging in to the token with the PIN
 * from o->pin_file or asked on the terminal, which then is wiped), and
 * proves they belong together by signing a random proof with the key and
 * verifying it with the certificate (auth/cert_proof.h). Returns 0; or,
 * with a message printed, MOAT_ERR_AUTH if the smartcard refused the
 * PIN, MOAT_ERR_UNSUPPORTED for a key type cert_proof.h does not allow,
 * MOAT_ERR_INVALID otherwise. ck is empty on failure.
 */
int viewer_client_key_load(struct viewer_client_key *ck,
    const struct viewer_client_key_opts *o);

/* Frees what viewer_client_key_load() loaded (and logs out of the token). */
void viewer_client_key_free(struct viewer_client_key *ck);

#endif
