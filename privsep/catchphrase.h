/*
 * catchphrase.h - the human-comparable forms of a server identity: the
 * six-word catchphrase, the SHA-256 of the public key, and the RealVNC
 * fingerprint RSA-AES viewers show. docs/identity.md defines each one
 * precisely so that viewers and scripts can recompute them.
 *
 * Pure code shared by moatd, moatctl and viewers: no I/O, no allocation
 * that outlives a call, nothing read from disk. Inputs are public keys,
 * never secrets.
 *
 * Catchphrase: SHA-256 over the DER encoding of the key's
 * SubjectPublicKeyInfo; its first 66 bits, read big-endian, are six 11-bit
 * indices into the BIP-39 English word list; the words are joined by
 * single spaces ("abandon ability able ...").
 */
#ifndef MOAT_CATCHPHRASE_H
#define MOAT_CATCHPHRASE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define CATCHPHRASE_WORDS	6	/* words in a catchphrase */
#define CATCHPHRASE_WORD_BITS	11	/* bits per word (2048 words) */
#define CATCHPHRASE_LIST_SIZE	2048	/* entries in the BIP-39 list */
#define CATCHPHRASE_DIGEST_MIN	9	/* digest bytes needed for 66 bits */
#define CATCHPHRASE_LEN		64	/* buffer for a catchphrase (at most 54 with NUL) */
#define CATCHPHRASE_FP_LEN	112	/* buffer for "SHA256:XX:...:XX" of 32 bytes (103 with NUL) */
#define CATCHPHRASE_REALVNC_LEN	24	/* buffer for "xx-xx-xx-xx-xx-xx-xx-xx" with NUL */
#define CATCHPHRASE_RSA_MAX_BYTES 1024	/* largest RSA modulus handled: 8192 bits, as RSA-AES viewers */

/* Everything `moatctl identity show` prints about a public key. */
struct catchphrase_id {
	uint8_t key_sha256[32];			/* SHA-256 of the DER SubjectPublicKeyInfo */
	char key_fp[CATCHPHRASE_FP_LEN];	/* the same as "SHA256:AA:BB:...", upper-case hex */
	char words[CATCHPHRASE_LEN];		/* the catchphrase */
	char realvnc[CATCHPHRASE_REALVNC_LEN];	/* RealVNC fingerprint; "" when the key is not RSA */
};

/* Returns word idx of the BIP-39 English list, or NULL when idx >= 2048. */
const char *catchphrase_word(unsigned idx);

/*
 * Splits the first 66 bits of digest (len >= 9 bytes) into six 11-bit
 * big-endian indices, most significant first. Returns 0, or
 * MOAT_ERR_SHORT when len < 9.
 */
int catchphrase_indices(const uint8_t *digest, size_t len,
    uint16_t idx[CATCHPHRASE_WORDS]);

/*
 * Writes the six words for digest (len >= 9 bytes) into out, lower case,
 * separated by single spaces. Returns 0, MOAT_ERR_SHORT when len < 9 or
 * MOAT_ERR_TOO_LONG when outlen is too small (out is then "").
 */
int catchphrase_words(const uint8_t *digest, size_t len, char *out,
    size_t outlen);

/*
 * Writes "SHA256:" followed by the len bytes of md as colon-separated
 * upper-case hex pairs into out. Returns 0 or MOAT_ERR_TOO_LONG when
 * outlen is too small (out is then "").
 */
int catchphrase_hex_fp(const uint8_t *md, size_t len, char *out, size_t outlen);

/*
 * Builds the RSA-AES (RA2) server public-key message into out:
 * U32 bit length (8 x the modulus length in bytes) || N || E, N and E
 * big-endian, both as long as the modulus (E left-padded with zeros).
 * n and e may carry leading zero bytes. *outlen_used receives the length.
 * Returns 0, MOAT_ERR_INVALID for a zero modulus, a modulus above 8192
 * bits, a zero exponent or one longer than the modulus, or
 * MOAT_ERR_TOO_LONG when outlen is too small.
 */
int catchphrase_ra2_pubkey(const uint8_t *n, size_t nlen, const uint8_t *e,
    size_t elen, uint8_t *out, size_t outlen, size_t *outlen_used);

/*
 * Writes the RealVNC fingerprint of the RSA key (n, e) into out: the
 * first 8 bytes of SHA-1 over catchphrase_ra2_pubkey()'s bytes, as
 * "xx-xx-xx-xx-xx-xx-xx-xx" in lower-case hex. Returns 0, the errors of
 * catchphrase_ra2_pubkey(), MOAT_ERR_TOO_LONG when outlen < 24, or
 * MOAT_ERR_CRYPTO.
 */
int catchphrase_realvnc(const uint8_t *n, size_t nlen, const uint8_t *e,
    size_t elen, char *out, size_t outlen);

/*
 * Fills *id for the public half of key (any algorithm; the private half,
 * if present, is not used): SHA-256 of its DER SubjectPublicKeyInfo, the
 * catchphrase, and for RSA keys the RealVNC fingerprint. Returns 0,
 * MOAT_ERR_INVALID for an RSA key catchphrase_ra2_pubkey() refuses, or
 * MOAT_ERR_CRYPTO / MOAT_ERR_NOMEM.
 */
int catchphrase_describe(const EVP_PKEY *key, struct catchphrase_id *id);

#endif
