/*
 * mon_rsa.c - RSA-AES with the identity key (see mon_rsa.h). Runs in the
 * monitor as root. The only input from outside is a ciphertext that
 * moat-net relays from the viewer: its size is checked against the key,
 * it is decrypted at most once per connection (the dispatch table's
 * MON_ONCE), and a bad padding is never reported: the answer is then a
 * pseudo-random value derived from the ciphertext and a per-process secret
 * (implicit rejection), selected without branching on secret data, so
 * neither moat-net nor the viewer learns whether the padding was valid
 * (Bleichenbacher's oracle) until a key-confirmation hash fails anyway.
 *
 * OpenSSL 3.0 has no implicit rejection of its own, so the block is
 * decrypted raw (RSA_NO_PADDING; OpenSSL blinds the private operation)
 * and the PKCS#1 v1.5 type 2 checks are done here in constant time.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "mon_rsa.h"
#include "privsep/errors.h"
#include "privsep/ipc_types.h"

int
mon_rsa_public_blob(const struct mon_identity *id, uint8_t *out,
    size_t outlen, size_t *len)
{
	BIGNUM *n = NULL, *e = NULL;
	size_t bits, k;
	int r = MOAT_ERR_CRYPTO;

	if (id->key == NULL || EVP_PKEY_get_base_id(id->key) != EVP_PKEY_RSA)
		return MOAT_ERR_INVALID;
	if (EVP_PKEY_get_bn_param(id->key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(id->key, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		goto out;
	bits = (size_t)BN_num_bits(n);
	k = (bits + 7) / 8;
	if (bits < 1024 || bits > 8192 || BN_num_bytes(e) > (int)k) {
		r = MOAT_ERR_INVALID;
		goto out;
	}
	if (outlen < 4 + 2 * k) {
		r = MOAT_ERR_TOO_LONG;
		goto out;
	}
	out[0] = (uint8_t)(bits >> 24);
	out[1] = (uint8_t)(bits >> 16);
	out[2] = (uint8_t)(bits >> 8);
	out[3] = (uint8_t)bits;
	if (BN_bn2binpad(n, out + 4, (int)k) != (int)k ||
	    BN_bn2binpad(e, out + 4 + k, (int)k) != (int)k)
		goto out;
	*len = 4 + 2 * k;
	r = 0;
out:
	BN_free(n);
	BN_free(e);
	return r;
}

size_t
mon_rsa_random_len(int enc, uint8_t sec_type)
{
	switch (sec_type) {
	case 5:		/* RA2 */
		return enc == IPC_ENC_ALWAYS_ON || enc == IPC_ENC_PREFER_ON ||
		    enc == IPC_ENC_PREFER_OFF ? 16 : 0;
	case 129:	/* RA2_256 */
		return enc == IPC_ENC_ALWAYS_ON || enc == IPC_ENC_PREFER_ON ||
		    enc == IPC_ENC_ALWAYS_MAXIMUM || enc == IPC_ENC_PREFER_OFF ?
		    32 : 0;
	case 6:		/* RA2ne */
		return enc == IPC_ENC_PREFER_OFF ? 16 : 0;
	case 130:	/* RA2ne_256 */
		return enc == IPC_ENC_PREFER_OFF ? 32 : 0;
	}
	return 0;
}

/* All-ones when x (a byte value) is zero, else 0; no branch. */
static unsigned
ct_is_zero(unsigned x)
{
	return 0u - ((~x & (x - 1)) >> (sizeof(unsigned) * 8 - 1));
}

unsigned
mon_rsa_pkcs1_type2_mask(const uint8_t *em, size_t k, size_t mlen)
{
	size_t i, sep;
	unsigned good;

	/* Sizes are public: branching on them leaks nothing. */
	if (mlen > k || k - mlen < 11)
		return 0;
	sep = k - mlen - 1;
	good = ct_is_zero(em[0]) & ct_is_zero(em[1] ^ 2u);
	/*
	 * The padding before the separator must hold no zero: a zero there
	 * would end it early, i.e. a longer message than mlen.
	 */
	for (i = 2; i < sep; i++)
		good &= ~ct_is_zero(em[i]);
	good &= ct_is_zero(em[sep]);
	return good;
}

int
mon_rsa_decrypt_random(const struct mon_identity *id,
    const uint8_t secret[MON_RSA_SECRET_LEN], const uint8_t *ct, size_t ctlen,
    uint8_t *out, size_t outlen)
{
	uint8_t em[1024], syn[32];
	EVP_PKEY_CTX *ctx = NULL;
	unsigned int synlen = 0;
	unsigned good;
	size_t k, emlen, i;
	int decrypted;

	if (id->key == NULL || EVP_PKEY_get_base_id(id->key) != EVP_PKEY_RSA)
		return MOAT_ERR_INVALID;
	k = (size_t)EVP_PKEY_get_size(id->key);
	if (ctlen != k || k > sizeof(em) || (outlen != 16 && outlen != 32) ||
	    k < outlen + 11)
		return MOAT_ERR_INVALID;
	/* The answer for a bad padding, computed every time. */
	if (HMAC(EVP_sha256(), secret, MON_RSA_SECRET_LEN, ct, ctlen, syn,
	    &synlen) == NULL || synlen != sizeof(syn))
		return MOAT_ERR_CRYPTO;
	emlen = k;
	decrypted = (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, id->key, NULL)) != NULL &&
	    EVP_PKEY_decrypt_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) == 1 &&
	    EVP_PKEY_decrypt(ctx, em, &emlen, ct, ctlen) == 1 && emlen == k;
	EVP_PKEY_CTX_free(ctx);
	if (!decrypted) {
		/*
		 * Only a ciphertext not below the modulus fails here, which
		 * anyone can see from the public key: no secret in the branch.
		 */
		ERR_clear_error();
		memset(em, 0, sizeof(em));
	}
	good = mon_rsa_pkcs1_type2_mask(em, k, outlen);
	for (i = 0; i < outlen; i++)
		out[i] = (uint8_t)((em[k - outlen + i] & good) | (syn[i] & ~good));
	OPENSSL_cleanse(em, sizeof(em));
	OPENSSL_cleanse(syn, sizeof(syn));
	return 0;
}
