/*
 * conn_ra2.c - moat-viewer's RSA-AES client (RA2 5, RA2_256 129; the
 * community RFB specification, "RSA-AES Security Type"): it has the
 * server's RSA key judged (viewer/trust.c) before anything else,
 * sends its own key and encrypted random, derives the session keys,
 * confirms them both ways and sends the credentials inside AES-EAX
 * records. The protocol pieces are moat's (net/rfb_ra2.c, net/rfb_eax.c).
 * Runs in moat-viewer; trusts nothing the server sends: the key message
 * is bounded (1024..8192 bits) before it is read, the encrypted random's
 * length must equal our modulus, and every record's tag is checked.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "privsep/catchphrase.h"
#include "privsep/errors.h"
#include "viewer/trust.h"
#include "viewer/viewer.h"

/* An EVP_PKEY for the public key in a wire blob (bits || N || E). */
static EVP_PKEY *
key_from_blob(const struct rfb_ra2_pubkey *k)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *n = BN_bin2bn(k->blob + 4, (int)k->mod_len, NULL);
	BIGNUM *e = BN_bin2bn(k->blob + 4 + k->mod_len, (int)k->mod_len, NULL);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY *key = NULL;

	if (bld != NULL && n != NULL && e != NULL && ctx != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1 &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    EVP_PKEY_fromdata_init(ctx) == 1)
		(void)EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return key;
}

/* Our key's wire blob, the same size as the server's. */
static int
blob_of(EVP_PKEY *key, struct rfb_ra2_pubkey *k)
{
	uint8_t nb[RFB_RA2_MAX_MODULUS], eb[RFB_RA2_MAX_MODULUS];
	BIGNUM *n = NULL, *e = NULL;
	int r = MOAT_ERR_CRYPTO, nl, el;

	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
	    BN_num_bytes(n) <= RFB_RA2_MAX_MODULUS &&
	    (nl = BN_bn2bin(n, nb)) > 0 && (el = BN_bn2bin(e, eb)) > 0 &&
	    catchphrase_ra2_pubkey(nb, (size_t)nl, eb, (size_t)el, k->blob,
	    sizeof(k->blob), &k->blob_len) == 0) {
		k->mod_len = (k->blob_len - 4) / 2;
		k->bits = (uint32_t)(8 * k->mod_len);
		r = 0;
	}
	BN_free(n);
	BN_free(e);
	return r;
}

/* Reads the server's key message and has trust decide on it. */
static int
read_server_key(struct viewer_conn *c, struct viewer_trust *trust,
    struct rfb_ra2_pubkey *sk, EVP_PKEY **skey)
{
	uint8_t *p;
	struct catchphrase_id id;
	struct buf b;
	uint32_t bits;
	size_t len;
	int r;

	buf_init(&b, RFB_RA2_MAX_KEY_BLOB);
	if ((r = buf_reserve(&b, 4, &p)) != 0 ||
	    (r = viewer_conn_read(c, p, 4)) != 0)
		goto out;
	bits = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	if (rfb_ra2_pubkey_len(bits, &len) != 0) {
		viewer_err("the server's RSA key has %u bits; 1024 to 8192 "
		    "are accepted", bits);
		r = MOAT_ERR_PROTOCOL;
		goto out;
	}
	if ((r = buf_reserve(&b, len - 4, &p)) != 0 ||
	    (r = viewer_conn_read(c, p, len - 4)) != 0)
		goto out;
	if (rfb_ra2_parse_pubkey(&b, sk) != 0 ||
	    (*skey = key_from_blob(sk)) == NULL) {
		viewer_err("the server sent a malformed RSA key");
		r = MOAT_ERR_PROTOCOL;
		goto out;
	}
	if ((r = catchphrase_describe(*skey, &id)) != 0)
		goto out;
	fprintf(stderr, "moat-viewer: RealVNC fingerprint %s\n", id.realvnc);
	trust->ra2 = 1;		/* a changed key's warning says what RA2 cannot do */
	r = viewer_trust_check(trust, id.key_sha256);
out:
	buf_free(&b);
	return r;
}

/* Reads the server's random, encrypted to our key, and decrypts it. */
static int
read_server_random(struct viewer_conn *c, EVP_PKEY *ours, size_t mod_len,
    size_t want, uint8_t *out)
{
	uint8_t ct[RFB_RA2_MAX_MODULUS], pt[RFB_RA2_MAX_MODULUS], *p;
	EVP_PKEY_CTX *ctx = NULL;
	struct buf b;
	size_t outl = sizeof(pt);
	int r;

	buf_init(&b, 2 + RFB_RA2_MAX_MODULUS);
	if ((r = buf_reserve(&b, 2, &p)) != 0 ||
	    (r = viewer_conn_read(c, p, 2)) != 0)
		goto out;
	if ((((size_t)p[0] << 8) | p[1]) != mod_len) {
		viewer_err("the server's random has the wrong size");
		r = MOAT_ERR_PROTOCOL;
		goto out;
	}
	if ((r = buf_reserve(&b, mod_len, &p)) != 0 ||
	    (r = viewer_conn_read(c, p, mod_len)) != 0 ||
	    (r = rfb_ra2_parse_encrypted_random(&b, mod_len, ct)) != 0)
		goto out;
	r = MOAT_ERR_CRYPTO;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ours, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_decrypt(ctx, pt, &outl, ct, mod_len) != 1 ||
	    outl != want) {
		viewer_err("cannot decrypt the server's random");
		goto out;
	}
	memcpy(out, pt, want);
	r = 0;
out:
	OPENSSL_cleanse(pt, sizeof(pt));
	EVP_PKEY_CTX_free(ctx);
	buf_free(&b);
	return r;
}

static int
send_credentials(struct viewer_conn *c, uint8_t sub, const char *user,
    const char *pass)
{
	size_t ul = strlen(user), pl = strlen(pass);
	struct buf b;
	int r;

	if (sub != RFB_RA2_SUBTYPE_USER_PASS)
		ul = 0;		/* subtype 2: password only */
	if (ul > RFB_RA2_MAX_CRED || pl > RFB_RA2_MAX_CRED)
		return MOAT_ERR_TOO_LONG;
	buf_init(&b, 2 + 2 * RFB_RA2_MAX_CRED);
	if ((r = buf_put_u8(&b, (uint8_t)ul)) == 0 &&
	    (r = buf_put_bytes(&b, user, ul)) == 0 &&
	    (r = buf_put_u8(&b, (uint8_t)pl)) == 0 &&
	    (r = buf_put_bytes(&b, pass, pl)) == 0)
		r = viewer_conn_write(c, buf_ptr(&b), buf_len(&b));
	buf_free(&b);	/* wipes */
	return r;
}

int
viewer_ra2(struct viewer_conn *c, const struct viewer_auth *a)
{
	const struct rfb_ra2_params *prm = rfb_ra2_params((uint8_t)a->type);
	static struct rfb_ra2_pubkey sk, ck;
	uint8_t crnd[RFB_RA2_MAX_RANDOM], srnd[RFB_RA2_MAX_RANDOM];
	uint8_t ckey[RFB_RA2_MAX_KEY], skey[RFB_RA2_MAX_KEY];
	uint8_t h[RFB_RA2_MAX_HASH], want[RFB_RA2_MAX_HASH], sub;
	EVP_PKEY *spub = NULL, *ours = NULL;
	struct buf out;
	int r;

	if (prm == NULL || !prm->all_encrypted)
		return MOAT_ERR_INVALID;
	buf_init(&out, RFB_RA2_MAX_KEY_BLOB + 2 + RFB_RA2_MAX_MODULUS);
	if ((r = read_server_key(c, a->trust, &sk, &spub)) != 0)
		goto out;
	r = MOAT_ERR_CRYPTO;
	if ((ours = EVP_RSA_gen(sk.bits)) == NULL || blob_of(ours, &ck) != 0 ||
	    ck.mod_len != sk.mod_len ||
	    RAND_bytes(crnd, (int)prm->random_len) != 1) {
		viewer_err("cannot make a %u-bit RSA key", sk.bits);
		goto out;
	}
	if ((r = buf_put_bytes(&out, ck.blob, ck.blob_len)) != 0 ||
	    (r = rfb_ra2_put_encrypted_random(&out, &sk, crnd,
	    prm->random_len)) != 0 ||
	    (r = viewer_conn_write(c, buf_ptr(&out), buf_len(&out))) != 0)
		goto out;
	if ((r = read_server_random(c, ours, ck.mod_len, prm->random_len,
	    srnd)) != 0 ||
	    (r = rfb_ra2_derive(prm, srnd, crnd, ckey, skey)) != 0 ||
	    (r = viewer_conn_start_ra2(c, ckey, skey, prm->key_len)) != 0)
		goto out;
	/* Key confirmation: ours is H(ClientKey || ServerKey). */
	if ((r = rfb_ra2_hash(prm, ck.blob, ck.blob_len, sk.blob, sk.blob_len,
	    h)) != 0 ||
	    (r = rfb_ra2_hash(prm, sk.blob, sk.blob_len, ck.blob, ck.blob_len,
	    want)) != 0 ||
	    (r = viewer_conn_write(c, h, prm->hash_len)) != 0 ||
	    (r = viewer_conn_read(c, h, prm->hash_len)) != 0)
		goto out;
	if (CRYPTO_memcmp(h, want, prm->hash_len) != 0) {
		viewer_err("the server's key-confirmation hash does not match");
		r = MOAT_ERR_CRYPTO;
		goto out;
	}
	if ((r = viewer_conn_read(c, &sub, 1)) != 0)
		goto out;
	if (sub != 1 && sub != 2) {
		viewer_err("unknown RSA-AES subtype %u", sub);
		r = MOAT_ERR_PROTOCOL;
		goto out;
	}
	/* Asked only now, once the server's key checked out. */
	if (viewer_creds_get(a->creds, 1) != 0) {
		viewer_err("no usable user name and password");
		r = MOAT_ERR_INVALID;
		goto out;
	}
	if ((r = send_credentials(c, sub, a->creds->user, a->creds->pass)) != 0)
		goto out;
	r = viewer_security_result(c);
	if (r == 0)
		fprintf(stderr, "moat-viewer: %s, %s\n", prm->name, prm->cipher);
out:
	OPENSSL_cleanse(crnd, sizeof(crnd));
	OPENSSL_cleanse(srnd, sizeof(srnd));
	OPENSSL_cleanse(ckey, sizeof(ckey));
	OPENSSL_cleanse(skey, sizeof(skey));
	EVP_PKEY_free(spub);
	EVP_PKEY_free(ours);
	buf_free(&out);
	return r;
}
