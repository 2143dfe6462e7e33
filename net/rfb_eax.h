/*
 * rfb_eax.h - AES-EAX authenticated encryption (Bellare, Rogaway, Wagner),
 * built from OpenSSL's AES-CTR and CMAC, for the RSA-AES security types.
 * Runs in moat-net (and in the test client); pure: no I/O. The key is a
 * session key; nothing here parses network input except rfb_eax_open(),
 * which verifies the tag in constant time before it writes any plaintext.
 */
#ifndef MOAT_RFB_EAX_H
#define MOAT_RFB_EAX_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define RFB_EAX_TAG_LEN		16
#define RFB_EAX_BLOCK		16

struct rfb_eax {
	EVP_CIPHER_CTX *ctr;	/* AES-CTR under the key; IV set per message */
	EVP_MAC_CTX *omac;	/* CMAC under the key, never updated: dup'ed per use */
};

/*
 * Fetches AES-128/256-CTR, AES-128/256-CBC and CMAC once (call before the
 * sandbox: fetching may need the provider store). Returns 0 or
 * MOAT_ERR_CRYPTO; later calls return the first result.
 */
int rfb_eax_global_init(void);

/*
 * Keys e with a 16- or 32-byte AES key (fetching first if needed). Returns 0,
 * MOAT_ERR_INVALID for another key length, or MOAT_ERR_NOMEM/CRYPTO with e
 * left empty.
 */
int rfb_eax_init(struct rfb_eax *e, const uint8_t *key, size_t keylen);

/* Frees what rfb_eax_init() allocated (key schedules are wiped by OpenSSL); e is left empty. */
void rfb_eax_free(struct rfb_eax *e);

/*
 * Encrypts len bytes of pt into ct (same length; may be the same buffer)
 * under nonce and associated data aad, and writes the 16-byte tag. Returns
 * 0 or MOAT_ERR_CRYPTO.
 */
int rfb_eax_seal(struct rfb_eax *e, const uint8_t *nonce, size_t nlen,
    const uint8_t *aad, size_t alen, const uint8_t *pt, size_t len,
    uint8_t *ct, uint8_t tag[RFB_EAX_TAG_LEN]);

/*
 * Checks tag over nonce, aad and the len bytes of ct in constant time and
 * only then decrypts ct into pt (may be the same buffer). Returns 0, or
 * MOAT_ERR_CRYPTO when the tag does not match (pt untouched) or OpenSSL
 * fails.
 */
int rfb_eax_open(struct rfb_eax *e, const uint8_t *nonce, size_t nlen,
    const uint8_t *aad, size_t alen, const uint8_t *ct, size_t len,
    const uint8_t tag[RFB_EAX_TAG_LEN], uint8_t *pt);

#endif
