/*
 * cert_proof.h - the proof that a viewer holds the private key of the
 * client certificate it sent (the Certificate factor). Linked into the
 * monitor (root), which makes the challenge and verifies the answer, and
 * moat-viewer, which signs. The monitor cannot see the TLS handshake, so
 * it does not take moat-net's word that the viewer proved possession
 * there: it asks for a signature of its own, over a fresh challenge bound
 * to this server's identity, so that neither moat-net nor another server
 * the viewer talks to can replay or relay one.
 *
 * The challenge travels as a conversation question of kind PROVE
 * (net/rfb_conv.h): its text is the 32 random bytes in 64 lowercase hex
 * digits. The viewer signs the message
 *
 *   "moat certificate proof v1" (25 bytes ASCII) || 0x00
 *   || challenge (32 bytes)
 *   || SHA-256 of the server identity key's DER SubjectPublicKeyInfo
 *      (the key the viewer verified the server's TLS chain to, which it
 *      pinned; 32 bytes)
 *   || SHA-256 of the DER of the client certificate it sent (32 bytes)
 *
 * with the certificate's key: RSA (rsaEncryption, 2048 to 6120 bits, so
 * that the signature fits one answer) as RSASSA-PSS with
 * SHA-256, MGF1 with SHA-256 and a 32-byte salt; EC keys on P-256, P-384
 * or P-521 as ECDSA with SHA-256 (DER Ecdsa-Sig-Value); Ed25519 as pure
 * Ed25519. The answer is the signature in standard base64 with padding,
 * no line breaks. docs/authentication.md states the same for other
 * implementations.
 */
#ifndef MOAT_CERT_PROOF_H
#define MOAT_CERT_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define CERT_PROOF_CONTEXT	"moat certificate proof v1"
#define CERT_PROOF_CHALLENGE_LEN 32
#define CERT_PROOF_HASH_LEN	32
#define CERT_PROOF_TEXT_LEN	(2 * CERT_PROOF_CHALLENGE_LEN)	/* hex digits */
/* The signed message: context, NUL, challenge, two hashes. */
#define CERT_PROOF_MESSAGE_LEN	(sizeof(CERT_PROOF_CONTEXT) + \
	CERT_PROOF_CHALLENGE_LEN + 2 * CERT_PROOF_HASH_LEN)
#define CERT_PROOF_SIG_MAX	765	/* bytes: base64 of it fits an answer (1023) */
#define CERT_PROOF_ANSWER_MAX	1020	/* base64 characters of CERT_PROOF_SIG_MAX */

/* Writes the challenge as CERT_PROOF_TEXT_LEN lowercase hex digits and a NUL. */
void cert_proof_challenge_text(const uint8_t challenge[CERT_PROOF_CHALLENGE_LEN],
    char text[CERT_PROOF_TEXT_LEN + 1]);

/*
 * Parses a challenge text: exactly CERT_PROOF_TEXT_LEN lowercase hex
 * digits, NUL-terminated. Returns 0 or MOAT_ERR_PROTOCOL.
 */
int cert_proof_parse_challenge(const char *text,
    uint8_t challenge[CERT_PROOF_CHALLENGE_LEN]);

/* Writes the message to sign (CERT_PROOF_MESSAGE_LEN bytes) into out. */
void cert_proof_message(const uint8_t challenge[CERT_PROOF_CHALLENGE_LEN],
    const uint8_t identity_sha256[CERT_PROOF_HASH_LEN],
    const uint8_t *leaf_der, size_t leaf_len,
    uint8_t out[CERT_PROOF_MESSAGE_LEN]);

/*
 * Viewer side: signs the message for challenge_text (as received) with
 * key, the private key of the certificate leaf_der (which may live on a
 * smartcard), and writes the NUL-terminated base64 answer into answer
 * (answerlen > CERT_PROOF_ANSWER_MAX). Returns 0; MOAT_ERR_PROTOCOL for a
 * malformed challenge; MOAT_ERR_UNSUPPORTED for a key type or size not
 * listed above; MOAT_ERR_CRYPTO if signing failed (e.g. the card refused).
 */
int cert_proof_sign(EVP_PKEY *key, const char *challenge_text,
    const uint8_t identity_sha256[CERT_PROOF_HASH_LEN],
    const uint8_t *leaf_der, size_t leaf_len, char *answer, size_t answerlen);

/*
 * Monitor side: verifies answer (hostile: any NUL-terminated string) as
 * the signature of the message for challenge with the public key of the
 * certificate leaf_der (already verified by x509_client_verify()).
 * Returns 0 if it is valid; MOAT_ERR_AUTH if it is not, or is not strict
 * base64 of at most CERT_PROOF_SIG_MAX bytes, or the key type or size is
 * not one listed above; MOAT_ERR_NOMEM or MOAT_ERR_CRYPTO on an internal
 * failure.
 */
int cert_proof_verify(const uint8_t challenge[CERT_PROOF_CHALLENGE_LEN],
    const uint8_t identity_sha256[CERT_PROOF_HASH_LEN],
    const uint8_t *leaf_der, size_t leaf_len, const char *answer);

#endif
