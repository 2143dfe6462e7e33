/*
 * rotation.h - which identity key a VeNCrypt server's certificate chain
 * presents (the key that signed the leaf), and whether the chain vouches
 * for a rotation from the key the viewer pinned to that key: a currently
 * valid CA:TRUE certificate holding the new key, signed by the pinned key
 * (docs/identity.md, "Rotating the identity key"). Runs in moat-viewer;
 * every certificate it looks at is the server's, so each conclusion rests
 * on a signature check, never on names alone.
 */
#ifndef MOAT_VIEWER_ROTATION_H
#define MOAT_VIEWER_ROTATION_H

#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

struct viewer_chain_id {
	X509 *signer;		/* the presented certificate whose key signed the leaf (borrowed) */
	uint8_t key[32];	/* SHA-256 of that key's DER SubjectPublicKeyInfo */
};

/*
 * Writes the SHA-256 of x's DER SubjectPublicKeyInfo into out. Returns 0
 * or MOAT_ERR_CRYPTO.
 */
int viewer_cert_key_sha256(X509 *x, uint8_t out[32]);

/*
 * Finds among the presented certificates (chain, which may hold the leaf
 * too) one that issued leaf (names, key identifiers and key usage agree)
 * and whose key verifies leaf's signature, preferring a self-signed one;
 * a self-signed leaf with no such issuer is its own signer. Returns 0 with
 * *id filled, or MOAT_ERR_INVALID when no presented key signed the leaf.
 */
int viewer_chain_signer(X509 *leaf, STACK_OF(X509) *chain,
    struct viewer_chain_id *id);

/*
 * Returns 0, with *until set to the vouching certificate's notAfter, when
 * chain holds a certificate that has id->signer's public key, carries
 * basicConstraints CA:TRUE, is valid at now, and verifies with the public
 * key of a presented certificate whose key SHA-256 is pin; otherwise
 * MOAT_ERR_CRYPTO (a forged, expired or missing vouching certificate).
 */
int viewer_rotation_vouched(const struct viewer_chain_id *id,
    STACK_OF(X509) *chain, const uint8_t pin[32], time_t now, time_t *until);

#endif
