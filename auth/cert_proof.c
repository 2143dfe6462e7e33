/*
 * cert_proof.c - the Certificate factor's proof of possession
 * (auth/cert_proof.h): the signed message, the signature with the client
 * certificate's key (moat-viewer, which trusts its own key and nothing the
 * server sends but the challenge, which it checks), and its verification
 * (the monitor, as root, which trusts nothing of the answer: strict base64
 * of bounded length is checked before anything is decoded). The leaf
 * certificate the monitor passes was verified before; it is parsed again
 * here, bounded by its length, only for its public key.
 */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "auth/cert_proof.h"
#include "privsep/errors.h"

#define PROOF_RSA_MIN_BITS	2048
#define PROOF_RSA_MAX_BITS	(8 * CERT_PROOF_SIG_MAX)	/* 6120: the signature fits an answer */
#define PROOF_PSS_SALT		32

_Static_assert(CERT_PROOF_ANSWER_MAX == 4 * (CERT_PROOF_SIG_MAX / 3),
    "the answer bound is the base64 length of the signature bound");
_Static_assert(CERT_PROOF_SIG_MAX % 3 == 0, "no padding at the bound");

enum proof_kind {
	PROOF_NONE,
	PROOF_RSA,
	PROOF_ECDSA,
	PROOF_ED25519,
};

/*
 * The kind of signature key stands for, or PROOF_NONE for a type or size
 * not allowed: RSA (rsaEncryption) of 2048 to 6120 bits, so that the
 * signature fits CERT_PROOF_SIG_MAX, EC on P-256, P-384 or P-521 (named curves),
 * Ed25519.
 */
static enum proof_kind
key_kind(const EVP_PKEY *key)
{
	char group[64];
	size_t glen = 0;
	int bits, nid;

	switch (EVP_PKEY_get_id(key)) {
	case EVP_PKEY_RSA:
		bits = EVP_PKEY_get_bits(key);
		if (bits < PROOF_RSA_MIN_BITS || bits > PROOF_RSA_MAX_BITS ||
		    (size_t)(bits + 7) / 8 > CERT_PROOF_SIG_MAX)
			return PROOF_NONE;
		return PROOF_RSA;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(key, group, sizeof(group),
		    &glen) != 1 || glen == 0 || glen >= sizeof(group)) {
			ERR_clear_error();
			return PROOF_NONE;
		}
		group[glen] = '\0';
		if ((nid = OBJ_sn2nid(group)) == NID_undef)
			nid = EC_curve_nist2nid(group);
		if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 &&
		    nid != NID_secp521r1)
			return PROOF_NONE;
		return PROOF_ECDSA;
	case EVP_PKEY_ED25519:
		return PROOF_ED25519;
	default:
		return PROOF_NONE;
	}
}

void
cert_proof_challenge_text(const uint8_t challenge[CERT_PROOF_CHALLENGE_LEN],
    char text[CERT_PROOF_TEXT_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < CERT_PROOF_CHALLENGE_LEN; i++) {
		text[2 * i] = hex[challenge[i] >> 4];
		text[2 * i + 1] = hex[challenge[i] & 0x0f];
	}
	text[CERT_PROOF_TEXT_LEN] = '\0';
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
cert_proof_parse_challenge(const char *text,
    uint8_t challenge[CERT_PROOF_CHALLENGE_LEN])
{
	uint8_t out[CERT_PROOF_CHALLENGE_LEN];
	size_t i;
	int hi, lo;

	if (text == NULL ||
	    strnlen(text, CERT_PROOF_TEXT_LEN + 1) != CERT_PROOF_TEXT_LEN)
		return MOAT_ERR_PROTOCOL;
	for (i = 0; i < CERT_PROOF_CHALLENGE_LEN; i++) {
		if ((hi = hex_digit(text[2 * i])) < 0 ||
		    (lo = hex_digit(text[2 * i + 1])) < 0)
			return MOAT_ERR_PROTOCOL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(challenge, out, sizeof(out));
	return 0;
}

void
cert_proof_message(const uint8_t challenge[CERT_PROOF_CHALLENGE_LEN],
    const uint8_t identity_sha256[CERT_PROOF_HASH_LEN],
    const uint8_t *leaf_der, size_t leaf_len,
    uint8_t out[CERT_PROOF_MESSAGE_LEN])
{
	uint8_t *p = out;

	memcpy(p, CERT_PROOF_CONTEXT, sizeof(CERT_PROOF_CONTEXT));	/* and NUL */
	p += sizeof(CERT_PROOF_CONTEXT);
	memcpy(p, challenge, CERT_PROOF_CHALLENGE_LEN);
	p += CERT_PROOF_CHALLENGE_LEN;
	memcpy(p, identity_sha256, CERT_PROOF_HASH_LEN);
	p += CERT_PROOF_HASH_LEN;
	SHA256(leaf_der, leaf_len, p);
}

/*
 * Sets up ctx to sign (verify == 0) or verify with key as kind demands.
 * Returns 0 or MOAT_ERR_CRYPTO.
 */
static int
digest_init(EVP_MD_CTX *ctx, EVP_PKEY *key, enum proof_kind kind, int verify)
{
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = kind == PROOF_ED25519 ? NULL : EVP_sha256();
	int ok;

	ok = verify ? EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key) :
	    EVP_DigestSignInit(ctx, &pctx, md, NULL, key);
	if (ok != 1)
		return MOAT_ERR_CRYPTO;
	if (kind == PROOF_RSA &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PROOF_PSS_SALT) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0))
		return MOAT_ERR_CRYPTO;
	return 0;
}

int
cert_proof_sign(EVP_PKEY *key, const char *challenge_text,
    const uint8_t identity_sha256[CERT_PROOF_HASH_LEN],
    const uint8_t *leaf_der, size_t leaf_len, char *answer, size_t answerlen)
{
	uint8_t challenge[CERT_PROOF_CHALLENGE_LEN], msg[CERT_PROOF_MESSAGE_LEN];
	uint8_t sig[CERT_PROOF_SIG_MAX];
	EVP_MD_CTX *ctx = NULL;
	enum proof_kind kind;
	size_t siglen;
	int r;

	if (answer == NULL || answerlen <= CERT_PROOF_ANSWER_MAX)
		return MOAT_ERR_INVALID;
	answer[0] = '\0';
	if ((r = cert_proof_parse_challenge(challenge_text, challenge)) != 0)
		return r;
	if (key == NULL || (kind = key_kind(key)) == PROOF_NONE)
		return MOAT_ERR_UNSUPPORTED;
	cert_proof_message(challenge, identity_sha256, leaf_der, leaf_len, msg);
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = MOAT_ERR_NOMEM;
		goto out;
	}
	r = MOAT_ERR_CRYPTO;
	if (digest_init(ctx, key, kind, 0) != 0 ||
	    EVP_DigestSign(ctx, NULL, &siglen, msg, sizeof(msg)) != 1)
		goto out;
	if (siglen > sizeof(sig)) {
		r = MOAT_ERR_UNSUPPORTED;
		goto out;
	}
	siglen = sizeof(sig);
	if (EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) != 1 ||
	    siglen == 0 || siglen > sizeof(sig))
		goto out;
	/* 4 * ceil(siglen / 3) <= CERT_PROOF_ANSWER_MAX characters and a NUL. */
	if (EVP_EncodeBlock((unsigned char *)answer, sig, (int)siglen) <= 0)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(msg, sizeof(msg));
	OPENSSL_cleanse(challenge, sizeof(challenge));
	return r;
}

/* The value of one standard base64 character, or -1. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decodes answer if it is canonical standard base64 with padding, no
 * other characters, of at most CERT_PROOF_ANSWER_MAX characters. Returns
 * the number of bytes written to out (CERT_PROOF_SIG_MAX bytes), or -1.
 */
static int
strict_b64_decode(const char *answer, uint8_t out[CERT_PROOF_SIG_MAX])
{
	size_t n, i, pad = 0;
	int last, v;

	n = strnlen(answer, CERT_PROOF_ANSWER_MAX + 1);
	if (n == 0 || n > CERT_PROOF_ANSWER_MAX || n % 4 != 0)
		return -1;
	if (answer[n - 1] == '=')
		pad = answer[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++)
		if (b64_value((unsigned char)answer[i]) < 0)
			return -1;
	/* The bits the padding drops must be zero: one spelling per value. */
	if (pad > 0) {
		last = b64_value((unsigned char)answer[n - pad - 1]);
		if ((pad == 2 && (last & 0x0f) != 0) ||
		    (pad == 1 && (last & 0x03) != 0))
			return -1;
	}
	/* Decodes in full groups: 3 bytes per 4 characters, padding as zeros. */
	if ((v = EVP_DecodeBlock(out, (const unsigned char *)answer,
	    (int)n)) < 0 || (size_t)v != 3 * (n / 4))
		return -1;
	return (int)(3 * (n / 4) - pad);
}

int
cert_proof_verify(const uint8_t challenge[CERT_PROOF_CHALLENGE_LEN],
    const uint8_t identity_sha256[CERT_PROOF_HASH_LEN],
    const uint8_t *leaf_der, size_t leaf_len, const char *answer)
{
	uint8_t msg[CERT_PROOF_MESSAGE_LEN], sig[CERT_PROOF_SIG_MAX];
	const unsigned char *p = leaf_der;
	EVP_MD_CTX *ctx = NULL;
	enum proof_kind kind;
	EVP_PKEY *key;
	X509 *leaf = NULL;
	int r = MOAT_ERR_AUTH, siglen;

	if (answer == NULL || leaf_der == NULL || leaf_len == 0 ||
	    leaf_len > LONG_MAX ||
	    (siglen = strict_b64_decode(answer, sig)) <= 0)
		goto out;
	if ((leaf = d2i_X509(NULL, &p, (long)leaf_len)) == NULL ||
	    p != leaf_der + leaf_len ||
	    (key = X509_get0_pubkey(leaf)) == NULL ||
	    (kind = key_kind(key)) == PROOF_NONE)
		goto out;
	cert_proof_message(challenge, identity_sha256, leaf_der, leaf_len, msg);
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = MOAT_ERR_NOMEM;
		goto out;
	}
	if (digest_init(ctx, key, kind, 1) != 0) {
		r = MOAT_ERR_CRYPTO;
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, (size_t)siglen, msg, sizeof(msg)) == 1)
		r = 0;
out:
	EVP_MD_CTX_free(ctx);
	X509_free(leaf);
	OPENSSL_cleanse(msg, sizeof(msg));
	OPENSSL_cleanse(sig, sizeof(sig));
	ERR_clear_error();
	return r;
}
