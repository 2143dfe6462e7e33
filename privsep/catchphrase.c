/*
 * catchphrase.c - the catchphrase, the public-key hash and the RealVNC
 * fingerprint of a server identity (see catchphrase.h and
 * docs/identity.md). Linked into moatd, moatctl and viewers; pure code
 * that trusts nothing: its inputs are public keys, and every length is
 * checked before it is used.
 *
 * The word table is generated at configure time from
 * data/bip39-english.txt (data/bip39.cmake checks the file's published
 * SHA-256 first), so the list exists once in the tree, as data.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "buf.h"
#include "catchphrase.h"
#include "errors.h"

#include "bip39_english.h"	/* static const char bip39_english[2048][9] */

_Static_assert(sizeof(bip39_english) / sizeof(bip39_english[0]) ==
    CATCHPHRASE_LIST_SIZE, "the BIP-39 list has 2048 words");
_Static_assert(CATCHPHRASE_WORDS * CATCHPHRASE_WORD_BITS <=
    CATCHPHRASE_DIGEST_MIN * 8, "66 bits fit in the digest bytes used");

const char *
catchphrase_word(unsigned idx)
{
	if (idx >= CATCHPHRASE_LIST_SIZE)
		return NULL;
	return bip39_english[idx];
}

int
catchphrase_indices(const uint8_t *digest, size_t len,
    uint16_t idx[CATCHPHRASE_WORDS])
{
	uint64_t acc = 0;
	unsigned i, have = 0, used = 0;

	if (len < CATCHPHRASE_DIGEST_MIN)
		return MOAT_ERR_SHORT;
	/* Feed bytes into a bit accumulator; take 11 bits whenever available. */
	for (i = 0; used < CATCHPHRASE_WORDS; ) {
		if (have < CATCHPHRASE_WORD_BITS) {
			acc = (acc << 8) | digest[i++];
			have += 8;
			continue;
		}
		have -= CATCHPHRASE_WORD_BITS;
		idx[used++] = (uint16_t)((acc >> have) & 0x7ff);
		acc &= ((uint64_t)1 << have) - 1;	/* keep the unused bits */
	}
	return 0;
}

int
catchphrase_words(const uint8_t *digest, size_t len, char *out, size_t outlen)
{
	uint16_t idx[CATCHPHRASE_WORDS];
	size_t o = 0, wl;
	unsigned i;
	int r;

	if (outlen > 0)
		out[0] = '\0';
	if ((r = catchphrase_indices(digest, len, idx)) != 0)
		return r;
	for (i = 0; i < CATCHPHRASE_WORDS; i++) {
		wl = strlen(bip39_english[idx[i]]);
		/* separator (if any), the word, and room for the final NUL */
		if ((i > 0 ? 1 : 0) + wl + 1 > outlen - o) {
			if (outlen > 0)
				out[0] = '\0';
			return MOAT_ERR_TOO_LONG;
		}
		if (i > 0)
			out[o++] = ' ';
		memcpy(out + o, bip39_english[idx[i]], wl);
		o += wl;
		out[o] = '\0';
	}
	return 0;
}

int
catchphrase_hex_fp(const uint8_t *md, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char prefix[] = "SHA256";
	size_t i, o;

	/* "SHA256" + ":XX" per byte + NUL */
	if (outlen < sizeof(prefix) || (outlen - sizeof(prefix)) / 3 < len) {
		if (outlen > 0)
			out[0] = '\0';
		return MOAT_ERR_TOO_LONG;
	}
	memcpy(out, prefix, sizeof(prefix) - 1);
	o = sizeof(prefix) - 1;
	for (i = 0; i < len; i++) {
		out[o++] = ':';
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 0x0f];
	}
	out[o] = '\0';
	return 0;
}

/* Advances *p past leading zero bytes, shortening *len. */
static void
strip_zeros(const uint8_t **p, size_t *len)
{
	while (*len > 0 && **p == 0) {
		(*p)++;
		(*len)--;
	}
}

int
catchphrase_ra2_pubkey(const uint8_t *n, size_t nlen, const uint8_t *e,
    size_t elen, uint8_t *out, size_t outlen, size_t *outlen_used)
{
	struct buf b;
	uint8_t *pad;
	int r;

	*outlen_used = 0;
	strip_zeros(&n, &nlen);
	strip_zeros(&e, &elen);
	if (nlen == 0 || nlen > CATCHPHRASE_RSA_MAX_BYTES || elen == 0 ||
	    elen > nlen)
		return MOAT_ERR_INVALID;
	buf_init_fixed(&b, out, outlen);
	if ((r = buf_put_u32(&b, (uint32_t)nlen * 8)) != 0 ||
	    (r = buf_put_bytes(&b, n, nlen)) != 0 ||
	    (r = buf_reserve(&b, nlen - elen, &pad)) != 0 ||
	    (r = buf_put_bytes(&b, e, elen)) != 0)
		return r;
	memset(pad, 0, nlen - elen);
	*outlen_used = buf_len(&b);
	return 0;
}

int
catchphrase_realvnc(const uint8_t *n, size_t nlen, const uint8_t *e,
    size_t elen, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t blob[4 + 2 * CATCHPHRASE_RSA_MAX_BYTES];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	size_t bloblen, i, o = 0;
	int r;

	if (outlen > 0)
		out[0] = '\0';
	if ((r = catchphrase_ra2_pubkey(n, nlen, e, elen, blob, sizeof(blob),
	    &bloblen)) != 0)
		return r;
	if (outlen < CATCHPHRASE_REALVNC_LEN)
		return MOAT_ERR_TOO_LONG;
	if (EVP_Digest(blob, bloblen, md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen < 8)
		return MOAT_ERR_CRYPTO;
	for (i = 0; i < 8; i++) {
		if (i > 0)
			out[o++] = '-';
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 0x0f];
	}
	out[o] = '\0';
	return 0;
}

/* RealVNC fingerprint of an RSA EVP_PKEY. */
static int
describe_rsa(const EVP_PKEY *key, char *out, size_t outlen)
{
	uint8_t n[CATCHPHRASE_RSA_MAX_BYTES], e[CATCHPHRASE_RSA_MAX_BYTES];
	BIGNUM *bn = NULL, *be = NULL;
	int nlen, elen, r = MOAT_ERR_CRYPTO;

	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &bn) != 1 ||
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &be) != 1)
		goto out;
	nlen = BN_num_bytes(bn);
	elen = BN_num_bytes(be);
	if (nlen <= 0 || nlen > (int)sizeof(n) || elen <= 0 || elen > (int)sizeof(e)) {
		r = MOAT_ERR_INVALID;
		goto out;
	}
	if (BN_bn2bin(bn, n) != nlen || BN_bn2bin(be, e) != elen)
		goto out;
	r = catchphrase_realvnc(n, (size_t)nlen, e, (size_t)elen, out, outlen);
out:
	BN_free(bn);
	BN_free(be);
	return r;
}

int
catchphrase_describe(const EVP_PKEY *key, struct catchphrase_id *id)
{
	unsigned char *der = NULL;
	unsigned int mdlen;
	int derlen, r;

	memset(id, 0, sizeof(*id));
	if ((derlen = i2d_PUBKEY(key, &der)) <= 0)
		return MOAT_ERR_CRYPTO;
	r = EVP_Digest(der, (size_t)derlen, id->key_sha256, &mdlen,
	    EVP_sha256(), NULL) == 1 && mdlen == sizeof(id->key_sha256) ?
	    0 : MOAT_ERR_CRYPTO;
	OPENSSL_free(der);
	if (r != 0)
		return r;
	if ((r = catchphrase_hex_fp(id->key_sha256, sizeof(id->key_sha256),
	    id->key_fp, sizeof(id->key_fp))) != 0 ||
	    (r = catchphrase_words(id->key_sha256, sizeof(id->key_sha256),
	    id->words, sizeof(id->words))) != 0)
		return r;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
		return describe_rsa(key, id->realvnc, sizeof(id->realvnc));
	return 0;
}
