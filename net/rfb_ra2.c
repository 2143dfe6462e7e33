/*
 * rfb_ra2.c - RSA-AES handshake messages and record layer (see rfb_ra2.h).
 * Runs in moat-net inside its sandbox (and in the test client); pure code:
 * every byte parsed here comes from the network and is bounded before it
 * is used. Holds no long-term secret: the server's private key is the
 * monitor's.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "privsep/errors.h"
#include "rfb_handshake.h"
#include "rfb_ra2.h"

static const struct rfb_ra2_params ra2_params[] = {
	{ RFB_SEC_RA2, "RA2", "AES-128-EAX", 0, 16, 16, 20, 1 },
	{ RFB_SEC_RA2NE, "RA2ne", "AES-128-EAX", 0, 16, 16, 20, 0 },
	{ RFB_SEC_RA2_256, "RA2_256", "AES-256-EAX", 1, 32, 32, 32, 1 },
	{ RFB_SEC_RA2NE_256, "RA2ne_256", "AES-256-EAX", 1, 32, 32, 32, 0 },
};

static EVP_MD *md_sha1, *md_sha256;

const struct rfb_ra2_params *
rfb_ra2_params(uint8_t type)
{
	size_t i;

	for (i = 0; i < sizeof(ra2_params) / sizeof(ra2_params[0]); i++)
		if (ra2_params[i].type == type)
			return &ra2_params[i];
	return NULL;
}

int
rfb_ra2_pubkey_len(uint32_t bits, size_t *len)
{
	if (bits < RFB_RA2_MIN_BITS || bits > RFB_RA2_MAX_BITS)
		return MOAT_ERR_INVALID;
	*len = 4 + 2 * (((size_t)bits + 7) / 8);
	return 0;
}

int
rfb_ra2_parse_pubkey(struct buf *in, struct rfb_ra2_pubkey *k)
{
	const uint8_t *p;
	BIGNUM *n = NULL, *e = NULL;
	uint32_t bits;
	size_t len, ml;
	int r = MOAT_ERR_INVALID;

	if (buf_peek(in, 4, &p) != 0)
		return MOAT_ERR_AGAIN;
	bits = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
	/* Bound the size before asking for a byte of the key. */
	if (rfb_ra2_pubkey_len(bits, &len) != 0)
		return MOAT_ERR_INVALID;
	if (buf_peek(in, len, &p) != 0)
		return MOAT_ERR_AGAIN;
	ml = (len - 4) / 2;
	if ((n = BN_bin2bn(p + 4, (int)ml, NULL)) == NULL ||
	    (e = BN_bin2bn(p + 4 + ml, (int)ml, NULL)) == NULL) {
		r = MOAT_ERR_NOMEM;
		goto out;
	}
	if (BN_num_bits(n) != (int)bits || !BN_is_odd(n) ||
	    !BN_is_odd(e) || BN_num_bits(e) < 2 || BN_cmp(e, n) >= 0)
		goto out;
	k->bits = bits;
	k->mod_len = ml;
	k->blob_len = len;
	memcpy(k->blob, p, len);
	r = buf_consume(in, len);
out:
	BN_free(n);
	BN_free(e);
	return r;
}

/* Builds an EVP_PKEY from the public key's N and E. */
static int
pubkey_evp(const struct rfb_ra2_pubkey *k, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int r = MOAT_ERR_CRYPTO;

	*out = NULL;
	if ((n = BN_bin2bn(k->blob + 4, (int)k->mod_len, NULL)) == NULL ||
	    (e = BN_bin2bn(k->blob + 4 + k->mod_len, (int)k->mod_len, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto done;
	r = 0;
done:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return r;
}

int
rfb_ra2_put_encrypted_random(struct buf *out, const struct rfb_ra2_pubkey *k,
    const uint8_t *rnd, size_t len)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;
	uint8_t *dst;
	size_t outlen;
	int r;

	if (k->mod_len > UINT16_MAX || len + 11 > k->mod_len)
		return MOAT_ERR_INVALID;
	if ((r = buf_reserve(out, 2 + k->mod_len, &dst)) != 0)
		return r;
	dst[0] = (uint8_t)(k->mod_len >> 8);
	dst[1] = (uint8_t)k->mod_len;
	outlen = k->mod_len;
	r = MOAT_ERR_CRYPTO;
	if (pubkey_evp(k, &key) != 0 ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_encrypt(ctx, dst + 2, &outlen, rnd, len) != 1 ||
	    outlen != k->mod_len) {
		out->len -= 2 + k->mod_len;
		goto done;
	}
	r = 0;
done:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	return r;
}

int
rfb_ra2_parse_encrypted_random(struct buf *in, size_t mod_len, uint8_t *ct)
{
	const uint8_t *p;
	size_t len;

	if (buf_peek(in, 2, &p) != 0)
		return MOAT_ERR_AGAIN;
	len = ((size_t)p[0] << 8) | p[1];
	if (len != mod_len)
		return MOAT_ERR_INVALID;
	if (buf_peek(in, 2 + len, &p) != 0)
		return MOAT_ERR_AGAIN;
	memcpy(ct, p + 2, len);
	return buf_consume(in, 2 + len);
}

int
rfb_ra2_global_init(void)
{
	/* A 1024-bit odd "modulus" and e = 65537: enough to load RSA. */
	static struct rfb_ra2_pubkey warm;
	struct buf b;
	uint8_t rnd[16] = { 0 };
	int r;

	if ((r = rfb_eax_global_init()) != 0)
		return r;
	if (md_sha1 == NULL)
		md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	if (md_sha256 == NULL)
		md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (md_sha1 == NULL || md_sha256 == NULL)
		return MOAT_ERR_CRYPTO;
	warm.bits = 1024;
	warm.mod_len = 128;
	warm.blob_len = 4 + 256;
	warm.blob[2] = 0x04;
	warm.blob[4] = 0x80;
	warm.blob[4 + 127] = 0x01;
	warm.blob[4 + 128 + 125] = 0x01;
	warm.blob[4 + 128 + 127] = 0x01;
	buf_init(&b, 2 + 128);
	r = rfb_ra2_put_encrypted_random(&b, &warm, rnd, sizeof(rnd));
	buf_free(&b);
	return r;
}

int
rfb_ra2_hash(const struct rfb_ra2_params *p, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, uint8_t out[RFB_RA2_MAX_HASH])
{
	EVP_MD_CTX *ctx;
	unsigned int n = 0;
	int ok;

	if ((md_sha1 == NULL || md_sha256 == NULL) && rfb_ra2_global_init() != 0)
		return MOAT_ERR_CRYPTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return MOAT_ERR_NOMEM;
	ok = EVP_DigestInit_ex2(ctx, p->sha256 ? md_sha256 : md_sha1, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    EVP_DigestUpdate(ctx, b, blen) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == p->hash_len;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : MOAT_ERR_CRYPTO;
}

int
rfb_ra2_derive(const struct rfb_ra2_params *p, const uint8_t *server_random,
    const uint8_t *client_random, uint8_t client_key[RFB_RA2_MAX_KEY],
    uint8_t server_key[RFB_RA2_MAX_KEY])
{
	uint8_t h[RFB_RA2_MAX_HASH];
	int r;

	/* SHA-1 gives 20 bytes; AES-128 takes the first 16. */
	if ((r = rfb_ra2_hash(p, server_random, p->random_len, client_random,
	    p->random_len, h)) != 0)
		goto out;
	memcpy(client_key, h, p->key_len);
	if ((r = rfb_ra2_hash(p, client_random, p->random_len, server_random,
	    p->random_len, h)) != 0)
		goto out;
	memcpy(server_key, h, p->key_len);
out:
	OPENSSL_cleanse(h, sizeof(h));
	return r;
}

int
rfb_ra2_parse_credentials(struct buf *in, char **user, char **pass)
{
	const uint8_t *p;
	size_t ulen, plen;
	int r;

	if (buf_peek(in, 1, &p) != 0)
		return MOAT_ERR_AGAIN;
	ulen = p[0];
	if (buf_peek(in, 2 + ulen, &p) != 0)
		return MOAT_ERR_AGAIN;
	plen = p[1 + ulen];
	if (buf_peek(in, 2 + ulen + plen, &p) != 0)
		return MOAT_ERR_AGAIN;
	if ((r = rfb_copy_credentials(p + 1, ulen, p + 2 + ulen, plen, user,
	    pass)) != 0)
		return r;
	return buf_consume(in, 2 + ulen + plen);
}

int
rfb_ra2_dir_init(struct rfb_ra2_dir *d, const uint8_t *key, size_t keylen)
{
	memset(d->nonce, 0, sizeof(d->nonce));
	return rfb_eax_init(&d->eax, key, keylen);
}

void
rfb_ra2_dir_free(struct rfb_ra2_dir *d)
{
	rfb_eax_free(&d->eax);
	OPENSSL_cleanse(d->nonce, sizeof(d->nonce));
}

/* The next record's nonce: a 128-bit little-endian counter. */
static void
nonce_next(uint8_t nonce[RFB_RA2_NONCE_LEN])
{
	size_t i;

	for (i = 0; i < RFB_RA2_NONCE_LEN; i++)
		if (++nonce[i] != 0)
			break;
}

int
rfb_ra2_seal_record(struct rfb_ra2_dir *d, const uint8_t *pt, size_t len,
    struct buf *out)
{
	uint8_t *dst;
	int r;

	if (len > RFB_RA2_MAX_RECORD)
		return MOAT_ERR_TOO_LONG;
	if ((r = buf_reserve(out, RFB_RA2_OVERHEAD + len, &dst)) != 0)
		return r;
	dst[0] = (uint8_t)(len >> 8);
	dst[1] = (uint8_t)len;
	/* The length is the associated data. */
	if ((r = rfb_eax_seal(&d->eax, d->nonce, RFB_RA2_NONCE_LEN, dst, 2, pt,
	    len, dst + 2, dst + 2 + len)) != 0) {
		OPENSSL_cleanse(dst, RFB_RA2_OVERHEAD + len);
		out->len -= RFB_RA2_OVERHEAD + len;
		return r;
	}
	nonce_next(d->nonce);
	return 0;
}

size_t
rfb_ra2_record_size(const uint8_t hdr[2])
{
	return RFB_RA2_OVERHEAD + (((size_t)hdr[0] << 8) | hdr[1]);
}

int
rfb_ra2_open_record(struct rfb_ra2_dir *d, struct buf *in, struct buf *out)
{
	const uint8_t *p;
	uint8_t *dst;
	size_t len;
	int r;

	if (buf_peek(in, 2, &p) != 0)
		return MOAT_ERR_AGAIN;
	len = rfb_ra2_record_size(p) - RFB_RA2_OVERHEAD;
	if (buf_peek(in, RFB_RA2_OVERHEAD + len, &p) != 0)
		return MOAT_ERR_AGAIN;
	if (len == 0)
		dst = NULL;	/* an empty record: nothing to reserve */
	else if ((r = buf_reserve(out, len, &dst)) != 0)
		return r;
	/* rfb_eax_open() writes dst only after the tag checked. */
	if ((r = rfb_eax_open(&d->eax, d->nonce, RFB_RA2_NONCE_LEN, p, 2, p + 2,
	    len, p + 2 + len, dst)) != 0) {
		out->len -= len;
		return r;
	}
	nonce_next(d->nonce);
	return buf_consume(in, RFB_RA2_OVERHEAD + len);
}
