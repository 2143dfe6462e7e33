/*
 * rfb_eax.c - AES-EAX from AES-CTR and CMAC (see rfb_eax.h). Runs in
 * moat-net and in the test client; pure computation, no I/O. The tag is
 * checked with CRYPTO_memcmp over the ciphertext before any byte of
 * plaintext is produced, so a forged record never yields plaintext.
 *
 * EAX (Bellare, Rogaway, Wagner 2004), with OMAC^t(M) = CMAC(K, [t]_16 || M):
 *   N' = OMAC^0(nonce), H' = OMAC^1(aad), C = AES-CTR(K, IV = N')(M),
 *   tag = N' ^ H' ^ OMAC^2(C).
 */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "privsep/errors.h"
#include "rfb_eax.h"

static EVP_CIPHER *ctr128, *ctr256, *cbc128, *cbc256;
static EVP_MAC *cmac;
static int global_state;	/* 0 not tried, 1 ready, negative: failed */

int
rfb_eax_global_init(void)
{
	if (global_state != 0)
		return global_state > 0 ? 0 : global_state;
	ctr128 = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
	ctr256 = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
	/* CMAC fetches its CBC cipher by name: keep both in the store. */
	cbc128 = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
	cbc256 = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	if (ctr128 == NULL || ctr256 == NULL || cbc128 == NULL ||
	    cbc256 == NULL || cmac == NULL) {
		global_state = MOAT_ERR_CRYPTO;
		return global_state;
	}
	global_state = 1;
	return 0;
}

void
rfb_eax_free(struct rfb_eax *e)
{
	EVP_CIPHER_CTX_free(e->ctr);
	EVP_MAC_CTX_free(e->omac);
	e->ctr = NULL;
	e->omac = NULL;
}

int
rfb_eax_init(struct rfb_eax *e, const uint8_t *key, size_t keylen)
{
	OSSL_PARAM params[2];
	int r;

	e->ctr = NULL;
	e->omac = NULL;
	if (keylen != 16 && keylen != 32)
		return MOAT_ERR_INVALID;
	if ((r = rfb_eax_global_init()) != 0)
		return r;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
	    keylen == 16 ? "AES-128-CBC" : "AES-256-CBC", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((e->ctr = EVP_CIPHER_CTX_new()) == NULL ||
	    (e->omac = EVP_MAC_CTX_new(cmac)) == NULL) {
		rfb_eax_free(e);
		return MOAT_ERR_NOMEM;
	}
	if (EVP_EncryptInit_ex2(e->ctr, keylen == 16 ? ctr128 : ctr256, key,
	    NULL, NULL) != 1 ||
	    EVP_MAC_init(e->omac, key, keylen, params) != 1) {
		rfb_eax_free(e);
		return MOAT_ERR_CRYPTO;
	}
	return 0;
}

/* out = CMAC(K, [t]_16 || m). */
static int
omac(struct rfb_eax *e, uint8_t t, const uint8_t *m, size_t len,
    uint8_t out[RFB_EAX_BLOCK])
{
	uint8_t block[RFB_EAX_BLOCK] = { 0 };
	EVP_MAC_CTX *c;
	size_t outl = 0;
	int ok;

	block[RFB_EAX_BLOCK - 1] = t;
	if ((c = EVP_MAC_CTX_dup(e->omac)) == NULL)
		return MOAT_ERR_NOMEM;
	ok = EVP_MAC_update(c, block, sizeof(block)) == 1 &&
	    (len == 0 || EVP_MAC_update(c, m, len) == 1) &&
	    EVP_MAC_final(c, out, &outl, RFB_EAX_BLOCK) == 1 &&
	    outl == RFB_EAX_BLOCK;
	EVP_MAC_CTX_free(c);
	return ok ? 0 : MOAT_ERR_CRYPTO;
}

/* AES-CTR from the initial counter block iv over len bytes (in place allowed). */
static int
ctr_xor(struct rfb_eax *e, const uint8_t iv[RFB_EAX_BLOCK], const uint8_t *in,
    size_t len, uint8_t *out)
{
	int outl;

	if (len > INT_MAX)
		return MOAT_ERR_TOO_LONG;
	if (EVP_EncryptInit_ex2(e->ctr, NULL, NULL, iv, NULL) != 1)
		return MOAT_ERR_CRYPTO;
	if (len == 0)
		return 0;
	if (EVP_EncryptUpdate(e->ctr, out, &outl, in, (int)len) != 1 ||
	    outl != (int)len)
		return MOAT_ERR_CRYPTO;
	return 0;
}

/* N' and H' of the header part of the tag. */
static int
nonce_header(struct rfb_eax *e, const uint8_t *nonce, size_t nlen,
    const uint8_t *aad, size_t alen, uint8_t n[RFB_EAX_BLOCK],
    uint8_t h[RFB_EAX_BLOCK])
{
	int r;

	if (e->ctr == NULL || e->omac == NULL)
		return MOAT_ERR_INVALID;
	if ((r = omac(e, 0, nonce, nlen, n)) != 0)
		return r;
	return omac(e, 1, aad, alen, h);
}

int
rfb_eax_seal(struct rfb_eax *e, const uint8_t *nonce, size_t nlen,
    const uint8_t *aad, size_t alen, const uint8_t *pt, size_t len,
    uint8_t *ct, uint8_t tag[RFB_EAX_TAG_LEN])
{
	uint8_t n[RFB_EAX_BLOCK], h[RFB_EAX_BLOCK], c[RFB_EAX_BLOCK];
	size_t i;
	int r;

	if ((r = nonce_header(e, nonce, nlen, aad, alen, n, h)) != 0 ||
	    (r = ctr_xor(e, n, pt, len, ct)) != 0 ||
	    (r = omac(e, 2, ct, len, c)) != 0)
		return r;
	for (i = 0; i < RFB_EAX_TAG_LEN; i++)
		tag[i] = n[i] ^ h[i] ^ c[i];
	return 0;
}

int
rfb_eax_open(struct rfb_eax *e, const uint8_t *nonce, size_t nlen,
    const uint8_t *aad, size_t alen, const uint8_t *ct, size_t len,
    const uint8_t tag[RFB_EAX_TAG_LEN], uint8_t *pt)
{
	uint8_t n[RFB_EAX_BLOCK], h[RFB_EAX_BLOCK], c[RFB_EAX_BLOCK];
	uint8_t want[RFB_EAX_TAG_LEN];
	size_t i;
	int r;

	if ((r = nonce_header(e, nonce, nlen, aad, alen, n, h)) != 0 ||
	    (r = omac(e, 2, ct, len, c)) != 0)
		return r;
	for (i = 0; i < RFB_EAX_TAG_LEN; i++)
		want[i] = n[i] ^ h[i] ^ c[i];
	/* Authenticate first: not one byte of plaintext for a forgery. */
	r = CRYPTO_memcmp(want, tag, RFB_EAX_TAG_LEN) == 0 ? 0 : MOAT_ERR_CRYPTO;
	OPENSSL_cleanse(want, sizeof(want));
	if (r != 0)
		return r;
	return ctr_xor(e, n, ct, len, pt);
}
