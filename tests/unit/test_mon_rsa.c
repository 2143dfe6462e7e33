/*
 * test_mon_rsa.c - unit tests for the monitor's RSA-AES operations
 * (monitor/mon_rsa.c, compiled in here: unit tests do not link moatd).
 * The public blob parses as a viewer would parse it; an OpenSSL-made
 * PKCS#1 v1.5 ciphertext decrypts to its random for 16 and 32 bytes; the
 * padding checker accepts exactly the valid type 2 blocks (every header
 * byte, every padding position and the separator varied; shortest legal
 * padding; sizes too small); a bad block, a wrong message length and a
 * ciphertext not below the modulus all yield, with the same return value,
 * HMAC-SHA256(secret, ciphertext) - the same on every call, different
 * under another secret; wrong sizes are refused; the offer table follows
 * the Encryption level. Test code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "monitor/mon_rsa.c"
#include "net/rfb_ra2.h"

#include "check.h"

static struct mon_identity id;
static uint8_t secret[MON_RSA_SECRET_LEN], secret2[MON_RSA_SECRET_LEN];
static size_t k;

/* A raw RSA encryption of the k-byte block em with the public key. */
static void
raw_encrypt(const uint8_t *em, uint8_t *ct)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, id.key, NULL);
	size_t n = k;

	if (c == NULL || EVP_PKEY_encrypt_init(c) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING) != 1 ||
	    EVP_PKEY_encrypt(c, ct, &n, em, k) != 1 || n != k)
		abort();
	EVP_PKEY_CTX_free(c);
}

/* A PKCS#1 v1.5 ciphertext made by OpenSSL. */
static void
pkcs1_encrypt(const uint8_t *m, size_t mlen, uint8_t *ct)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, id.key, NULL);
	size_t n = k;

	if (c == NULL || EVP_PKEY_encrypt_init(c) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_encrypt(c, ct, &n, m, mlen) != 1 || n != k)
		abort();
	EVP_PKEY_CTX_free(c);
}

static void
synthetic(const uint8_t *sec, const uint8_t *ct, uint8_t out[32])
{
	unsigned int n;

	if (HMAC(EVP_sha256(), sec, MON_RSA_SECRET_LEN, ct, k, out, &n) == NULL)
		abort();
}

/* A valid type 2 block of size kk carrying m[0..mlen). */
static void
make_block(uint8_t *em, size_t kk, const uint8_t *m, size_t mlen)
{
	size_t i;

	em[0] = 0;
	em[1] = 2;
	for (i = 2; i < kk - mlen - 1; i++)
		em[i] = (uint8_t)(1 + (i * 37) % 255);
	em[kk - mlen - 1] = 0;
	memcpy(em + kk - mlen, m, mlen);
}

static void
test_blob(void)
{
	uint8_t blob[MON_RSA_MAX_BLOB];
	struct rfb_ra2_pubkey pk;
	BIGNUM *n = NULL, *bn;
	struct buf b;
	size_t len = 0;

	CHECK(mon_rsa_public_blob(&id, blob, sizeof(blob), &len) == 0 &&
	    len == 4 + 2 * 256);
	CHECK(blob[0] == 0 && blob[1] == 0 && blob[2] == 0x08 && blob[3] == 0,
	    "2048 bits");
	buf_view(&b, blob, len);
	CHECK(rfb_ra2_parse_pubkey(&b, &pk) == 0 && pk.mod_len == 256 &&
	    buf_len(&b) == 0, "a viewer parses it");
	CHECK(EVP_PKEY_get_bn_param(id.key, OSSL_PKEY_PARAM_RSA_N, &n) == 1);
	bn = BN_bin2bn(blob + 4, 256, NULL);
	CHECK(bn != NULL && BN_cmp(bn, n) == 0, "N");
	BN_free(bn);
	BN_free(n);
	CHECK(blob[4 + 256 + 253] == 1 && blob[4 + 256 + 254] == 0 &&
	    blob[4 + 256 + 255] == 1 && blob[4 + 256] == 0, "E = 65537, padded");
	CHECK(mon_rsa_public_blob(&id, blob, len - 1, &len) == MOAT_ERR_TOO_LONG);
	{
		struct mon_identity none = { .key = NULL };

		CHECK(mon_rsa_public_blob(&none, blob, sizeof(blob), &len) ==
		    MOAT_ERR_INVALID);
	}
}

static void
test_valid(void)
{
	uint8_t m[32], ct[256], out[32], em[256];
	size_t mlen;
	int i;

	for (mlen = 16; mlen <= 32; mlen += 16) {
		for (i = 0; i < 20; i++) {
			RAND_bytes(m, sizeof(m));
			pkcs1_encrypt(m, mlen, ct);
			memset(out, 0, sizeof(out));
			CHECK(mon_rsa_decrypt_random(&id, secret, ct, k, out,
			    mlen) == 0 && memcmp(out, m, mlen) == 0,
			    "OpenSSL's ciphertext of %zu bytes decrypts", mlen);
		}
		/* A block made here (fixed padding bytes) is valid too. */
		RAND_bytes(m, sizeof(m));
		make_block(em, k, m, mlen);
		raw_encrypt(em, ct);
		CHECK(mon_rsa_decrypt_random(&id, secret, ct, k, out, mlen) == 0 &&
		    memcmp(out, m, mlen) == 0);
	}
}

/* Decrypting ct must give HMAC(secret, ct), twice, and another value under secret2. */
static void
expect_synthetic(const uint8_t *ct, size_t mlen, const char *what)
{
	uint8_t out[32], out2[32], want[32], want2[32];

	synthetic(secret, ct, want);
	synthetic(secret2, ct, want2);
	CHECK(mon_rsa_decrypt_random(&id, secret, ct, k, out, mlen) == 0 &&
	    memcmp(out, want, mlen) == 0, "%s: the synthetic random", what);
	CHECK(mon_rsa_decrypt_random(&id, secret, ct, k, out2, mlen) == 0 &&
	    memcmp(out2, out, mlen) == 0, "%s: the same answer again", what);
	CHECK(mon_rsa_decrypt_random(&id, secret2, ct, k, out2, mlen) == 0 &&
	    memcmp(out2, want2, mlen) == 0 && memcmp(out2, out, mlen) != 0,
	    "%s: another secret, another answer", what);
}

static void
test_invalid(void)
{
	uint8_t m[40], ct[256], em[256];
	char what[64];
	size_t i;

	RAND_bytes(m, sizeof(m));
	/* Right padding, wrong length: 15, 17, 31 and 33 bytes. */
	pkcs1_encrypt(m, 17, ct);
	expect_synthetic(ct, 16, "17 bytes for 16");
	pkcs1_encrypt(m, 15, ct);
	expect_synthetic(ct, 16, "15 bytes for 16");
	pkcs1_encrypt(m, 33, ct);
	expect_synthetic(ct, 32, "33 bytes for 32");
	pkcs1_encrypt(m, 31, ct);
	expect_synthetic(ct, 32, "31 bytes for 32");
	pkcs1_encrypt(m, 32, ct);
	expect_synthetic(ct, 16, "32 bytes for 16");
	/* Bad headers. */
	make_block(em, k, m, 16);
	em[0] = 1;
	raw_encrypt(em, ct);
	expect_synthetic(ct, 16, "first byte 1");
	make_block(em, k, m, 16);
	em[1] = 1;	/* signature padding */
	raw_encrypt(em, ct);
	expect_synthetic(ct, 16, "block type 1");
	make_block(em, k, m, 16);
	em[1] = 0;
	raw_encrypt(em, ct);
	expect_synthetic(ct, 16, "block type 0");
	/* No separator: the byte before the message is not zero. */
	make_block(em, k, m, 16);
	em[k - 17] = 0x55;
	raw_encrypt(em, ct);
	expect_synthetic(ct, 16, "no separator");
	/* A zero early in the padding (a longer message). */
	make_block(em, k, m, 16);
	em[9] = 0;
	raw_encrypt(em, ct);
	expect_synthetic(ct, 16, "padding of 7 bytes");
	make_block(em, k, m, 32);
	em[2] = 0;
	raw_encrypt(em, ct);
	expect_synthetic(ct, 32, "empty padding");
	/* All zero, and a ciphertext not below the modulus. */
	memset(em, 0, sizeof(em));
	raw_encrypt(em, ct);
	expect_synthetic(ct, 16, "all zero");
	memset(ct, 0xff, sizeof(ct));
	expect_synthetic(ct, 32, "ciphertext above the modulus");
	for (i = 0; i < 3; i++) {
		RAND_bytes(ct, sizeof(ct));
		ct[0] &= 0x7f;
		snprintf(what, sizeof(what), "random ciphertext %zu", i);
		expect_synthetic(ct, 16, what);
	}
}

static void
test_mask(void)
{
	uint8_t em[300], m[32];
	size_t kk, mlen, i;
	unsigned v;
	int bad;

	RAND_bytes(m, sizeof(m));
	for (mlen = 16; mlen <= 32; mlen += 16) {
		/* The shortest legal padding: 8 bytes. */
		kk = mlen + 11;
		make_block(em, kk, m, mlen);
		CHECK(mon_rsa_pkcs1_type2_mask(em, kk, mlen) == ~0u,
		    "k = mlen + 11 is valid");
		CHECK(mon_rsa_pkcs1_type2_mask(em, kk - 1, mlen) == 0 &&
		    mon_rsa_pkcs1_type2_mask(em, mlen, mlen) == 0 &&
		    mon_rsa_pkcs1_type2_mask(em, 3, mlen) == 0,
		    "too small for the message");
		for (kk = mlen + 11; kk <= 300; kk += 41) {
			make_block(em, kk, m, mlen);
			CHECK(mon_rsa_pkcs1_type2_mask(em, kk, mlen) == ~0u);
			/* Every value of the two header bytes. */
			bad = 0;
			for (v = 0; v < 256; v++) {
				em[0] = (uint8_t)v;
				if (mon_rsa_pkcs1_type2_mask(em, kk, mlen) !=
				    (v == 0 ? ~0u : 0))
					bad++;
			}
			em[0] = 0;
			for (v = 0; v < 256; v++) {
				em[1] = (uint8_t)v;
				if (mon_rsa_pkcs1_type2_mask(em, kk, mlen) !=
				    (v == 2 ? ~0u : 0))
					bad++;
			}
			em[1] = 2;
			/* A zero anywhere in the padding; every separator value. */
			for (i = 2; i < kk - mlen - 1; i++) {
				v = em[i];
				em[i] = 0;
				if (mon_rsa_pkcs1_type2_mask(em, kk, mlen) != 0)
					bad++;
				em[i] = 0xff;
				if (mon_rsa_pkcs1_type2_mask(em, kk, mlen) != ~0u)
					bad++;
				em[i] = (uint8_t)v;
			}
			for (v = 0; v < 256; v++) {
				em[kk - mlen - 1] = (uint8_t)v;
				if (mon_rsa_pkcs1_type2_mask(em, kk, mlen) !=
				    (v == 0 ? ~0u : 0))
					bad++;
			}
			em[kk - mlen - 1] = 0;
			/* The message itself may hold anything, zeros too. */
			memset(em + kk - mlen, 0, mlen);
			if (mon_rsa_pkcs1_type2_mask(em, kk, mlen) != ~0u)
				bad++;
			CHECK(bad == 0, "k %zu, mlen %zu: %d wrong answers", kk,
			    mlen, bad);
		}
	}
}

static void
test_sizes(void)
{
	uint8_t ct[257] = { 0 }, out[33];

	CHECK(mon_rsa_decrypt_random(&id, secret, ct, k - 1, out, 16) ==
	    MOAT_ERR_INVALID);
	CHECK(mon_rsa_decrypt_random(&id, secret, ct, k + 1, out, 16) ==
	    MOAT_ERR_INVALID);
	CHECK(mon_rsa_decrypt_random(&id, secret, ct, k, out, 20) ==
	    MOAT_ERR_INVALID);
	CHECK(mon_rsa_decrypt_random(&id, secret, ct, k, out, 0) ==
	    MOAT_ERR_INVALID);
	CHECK(mon_rsa_decrypt_random(&id, secret, ct, k, out, 33) ==
	    MOAT_ERR_INVALID);
}

static void
test_offer(void)
{
	static const uint8_t types[] = { 5, 6, 129, 130, 0, 1, 2, 19, 13, 133 };
	/* Rows: AlwaysOn, PreferOn, AlwaysMaximum, PreferOff; columns: types. */
	static const size_t want[4][10] = {
		{ 16, 0, 32, 0, 0, 0, 0, 0, 0, 0 },
		{ 16, 0, 32, 0, 0, 0, 0, 0, 0, 0 },
		{ 0, 0, 32, 0, 0, 0, 0, 0, 0, 0 },
		{ 16, 16, 32, 32, 0, 0, 0, 0, 0, 0 },
	};
	int enc;
	size_t t;

	for (enc = IPC_ENC_ALWAYS_ON; enc <= IPC_ENC_PREFER_OFF; enc++)
		for (t = 0; t < sizeof(types); t++)
			CHECK(mon_rsa_random_len(enc, types[t]) ==
			    want[enc - 1][t], "level %d type %u", enc, types[t]);
	CHECK(mon_rsa_random_len(0, 5) == 0 && mon_rsa_random_len(5, 129) == 0);
}

int
main(void)
{
	if ((id.key = EVP_RSA_gen(2048)) == NULL)
		return 1;
	k = (size_t)EVP_PKEY_get_size(id.key);
	RAND_bytes(secret, sizeof(secret));
	RAND_bytes(secret2, sizeof(secret2));
	test_blob();
	test_valid();
	test_invalid();
	test_mask();
	test_sizes();
	test_offer();
	EVP_PKEY_free(id.key);
	return check_summary();
}
