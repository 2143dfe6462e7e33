/*
 * test_catchphrase.c - unit tests for privsep/catchphrase.c: the word table
 * against data/bip39-english.txt, the 66-bit split at every bit position
 * and 11-bit boundary, buffer bounds, the RSA-AES public-key layout, and
 * known vectors for three keys.
 *
 * Test code. The known vectors were computed once, independently of this
 * code, with the openssl CLI and python3 (docs/identity.md shows the
 * commands): SHA-256 of `openssl pkey -pubin -outform DER`, its first 9
 * bytes as a big integer shifted right by 6, six 11-bit fields; and
 * SHA-1 over struct.pack(">I", 8*L) + N + E with N, E L bytes long.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "privsep/catchphrase.h"
#include "privsep/errors.h"

#include "check.h"

/* The published SHA-256 of the BIP-39 English list (bitcoin/bips, bip-0039). */
#define BIP39_ENGLISH_SHA256 \
	"2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"

struct vector {
	const char *name;
	const char *pem;	/* SubjectPublicKeyInfo */
	const char *key_sha256;	/* hex of SHA-256(DER SubjectPublicKeyInfo) */
	const char *words;
	const char *realvnc;	/* "" for a key that is not RSA */
};

static const struct vector vectors[] = {
	{
		"RSA-2048, e=65537",
		"-----BEGIN PUBLIC KEY-----\n"
		"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAmUPRRaDmyh+wCDETCXXI\n"
		"3zBtKMq6LBj2DEwnyV3TSCLSIL1tm/Yqvv84Uxg47c/n47BDFtFH1pvozFbvymXE\n"
		"QkR2WxlS+e7dpxi1oPSbE98jd7vGXsfFzay+gvzXx3ALpXtg1U27+WSs8IroplDr\n"
		"htFKr7X18QEBecovhjz7t0fJdb7aauLfKPQOVJJQ1FLiIcU14Z7seNTopcmrNhGp\n"
		"YtLLPPCINr/MT7chUYe5G02Dc3U24c9tErPGQq/OnLQE4t7bOShA2mPjZQKBuMhi\n"
		"jgXe7kLVLDNYRfR3Hnm3802wQU9edMP/E+YpYk1lDt5SGl7IZtr2bju9hP67WHYq\n"
		"twIDAQAB\n"
		"-----END PUBLIC KEY-----\n",
		"c7ab4e6f2df1d269881c310a5fbbdaae480ef795e8a5053540fa7c201553d264",
		"sibling foil orange fossil brush crumble",
		"e5-c2-48-f4-bd-77-34-26",
	},
	{
		"RSA-1024, e=3 (short exponent, left-padded)",
		"-----BEGIN PUBLIC KEY-----\n"
		"MIGdMA0GCSqGSIb3DQEBAQUAA4GLADCBhwKBgQDObydk62DSnO3kYS7WJz3+2rmX\n"
		"EDXgQ2iMS4iRThdSVSlhyC/DYsXr/OtcALpRGSc9O0qLzOmQgZyg3gINZILOZqXy\n"
		"JNtQq53bN7w4OYhtvlFC3EhdFE9jkr8pgq73j/KtrP17AQcYRbdKN2ppj5oCycYi\n"
		"P473FhkYFt0pwX9g4wIBAw==\n"
		"-----END PUBLIC KEY-----\n",
		"deb2356f2de604349cbbfdf241c461990d85a645431dfb441655fb85686d4a11",
		"team museum forward forward gate bottom",
		"09-1c-03-a1-54-68-1f-10",
	},
	{
		"EC P-256 (catchphrase only)",
		"-----BEGIN PUBLIC KEY-----\n"
		"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEAlMQ0IoxdZKMMtocOub35lmSXu+t\n"
		"z7zHvEnO0FpIU4uB/+M1hZ4/EuxWWC6/9JhQdJIszNLNPMLZWE+yDhprnw==\n"
		"-----END PUBLIC KEY-----\n",
		"5003082a6afc37a4197d0b102dfb83c6034d0cffd2cb931cb9620d9ba52b7a86",
		"exotic blue appear sting sell spirit",
		"",
	},
};

static EVP_PKEY *
read_pub(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b != NULL ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return k;
}

static void
to_hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* The word table equals data/bip39-english.txt line by line, and that
 * file is the published list. */
static void
test_word_list(void)
{
	char path[4096], line[64], hex[65];
	unsigned char md[32];
	const char *src = getenv("MOAT_SOURCE_DIR");
	unsigned i = 0, mismatches = 0;
	unsigned int mdlen;
	size_t n, total = 0;
	char *text = NULL;
	FILE *f;

	CHECK(strcmp(catchphrase_word(0), "abandon") == 0);
	CHECK(strcmp(catchphrase_word(1), "ability") == 0);
	CHECK(strcmp(catchphrase_word(2046), "zone") == 0);
	CHECK(strcmp(catchphrase_word(2047), "zoo") == 0);
	CHECK(catchphrase_word(2048) == NULL);
	CHECK(catchphrase_word((unsigned)-1) == NULL);

	CHECK(src != NULL, "MOAT_SOURCE_DIR is not set (run through ctest)");
	if (src == NULL)
		return;
	snprintf(path, sizeof(path), "%s/data/bip39-english.txt", src);
	f = fopen(path, "r");
	CHECK(f != NULL, "cannot open %s", path);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (catchphrase_word(i) == NULL ||
		    strcmp(catchphrase_word(i), line) != 0)
			mismatches++;
		i++;
	}
	CHECK(i == 2048, "%u lines in %s", i, path);
	CHECK(mismatches == 0, "%u words differ from %s", mismatches, path);
	rewind(f);
	text = malloc(65536);
	CHECK(text != NULL);
	if (text != NULL) {
		while ((n = fread(text + total, 1, 65536 - total, f)) > 0)
			total += n;
		CHECK(EVP_Digest(text, total, md, &mdlen, EVP_sha256(), NULL) == 1);
		to_hex(md, sizeof(md), hex);
		CHECK(strcmp(hex, BIP39_ENGLISH_SHA256) == 0,
		    "%s has SHA-256 %s", path, hex);
	}
	free(text);
	fclose(f);
}

/* Bit i of d, counting from the most significant bit of d[0]. */
static unsigned
bit(const uint8_t *d, unsigned i)
{
	return (d[i / 8] >> (7 - i % 8)) & 1;
}

/* A naive reference: word w is bits 11w .. 11w+10. */
static void
naive_indices(const uint8_t *d, uint16_t idx[6])
{
	unsigned w, b;

	for (w = 0; w < 6; w++) {
		idx[w] = 0;
		for (b = 0; b < 11; b++)
			idx[w] = (uint16_t)((idx[w] << 1) | bit(d, 11 * w + b));
	}
}

static void
test_indices(void)
{
	uint8_t d[32];
	uint16_t idx[6], ref[6];
	char out[CATCHPHRASE_LEN];
	unsigned pos, w, trial, bad;

	memset(d, 0, sizeof(d));
	CHECK(catchphrase_indices(d, 8, idx) == MOAT_ERR_SHORT);
	CHECK(catchphrase_words(d, 8, out, sizeof(out)) == MOAT_ERR_SHORT);
	CHECK(catchphrase_words(d, 9, out, sizeof(out)) == 0 &&
	    strcmp(out, "abandon abandon abandon abandon abandon abandon") == 0, "%s", out);
	memset(d, 0xff, 9);
	CHECK(catchphrase_words(d, 9, out, sizeof(out)) == 0 &&
	    strcmp(out, "zoo zoo zoo zoo zoo zoo") == 0, "%s", out);

	/* Only the first 66 bits count: the 6 low bits of byte 8 and every
	 * later byte are ignored. */
	memset(d, 0, sizeof(d));
	d[8] = 0x3f;
	memset(d + 9, 0xff, sizeof(d) - 9);
	CHECK(catchphrase_words(d, sizeof(d), out, sizeof(out)) == 0 &&
	    strcmp(out, "abandon abandon abandon abandon abandon abandon") == 0, "%s", out);
	d[8] = 0x40;	/* bit 65: the last bit of word 6 */
	CHECK(catchphrase_indices(d, sizeof(d), idx) == 0 && idx[5] == 1 &&
	    idx[0] == 0 && idx[4] == 0);

	/* Every one of the 66 bit positions lands in the right word at the
	 * right weight: bit 11w is the top bit (1024) of word w, bit 11w+10
	 * its lowest (1), so each 11-bit boundary is crossed exactly. */
	bad = 0;
	for (pos = 0; pos < 66; pos++) {
		memset(d, 0, sizeof(d));
		d[pos / 8] = (uint8_t)(0x80 >> (pos % 8));
		if (catchphrase_indices(d, 9, idx) != 0) {
			bad++;
			continue;
		}
		for (w = 0; w < 6; w++)
			if (idx[w] != (w == pos / 11 ? 1u << (10 - pos % 11) : 0u)) {
				bad++;
				fprintf(stderr, "bit %u: word %u = %u\n", pos, w, idx[w]);
			}
	}
	CHECK(bad == 0, "%u wrong indices over the 66 single-bit digests", bad);

	/* Each word all ones, the others zero: "zoo" in exactly one place. */
	for (w = 0; w < 6; w++) {
		char expect[CATCHPHRASE_LEN] = "";
		unsigned k;

		memset(d, 0, sizeof(d));
		for (pos = 11 * w; pos < 11 * w + 11; pos++)
			d[pos / 8] |= (uint8_t)(0x80 >> (pos % 8));
		for (k = 0; k < 6; k++) {
			strcat(expect, k ? " " : "");
			strcat(expect, k == w ? "zoo" : "abandon");
		}
		CHECK(catchphrase_words(d, 9, out, sizeof(out)) == 0 &&
		    strcmp(out, expect) == 0, "word %u: %s", w, out);
		/* and the complement: the word zero between all-ones neighbours */
		for (pos = 0; pos < 9; pos++)
			d[pos] = (uint8_t)~d[pos];
		CHECK(catchphrase_indices(d, 9, idx) == 0 && idx[w] == 0 &&
		    idx[(w + 1) % 6] == 2047, "complement of word %u", w);
	}

	/* Against the naive bit-by-bit reference on pseudo-random digests. */
	bad = 0;
	srand(1);
	for (trial = 0; trial < 2000; trial++) {
		for (pos = 0; pos < 9; pos++)
			d[pos] = (uint8_t)rand();
		naive_indices(d, ref);
		if (catchphrase_indices(d, 9, idx) != 0 ||
		    memcmp(idx, ref, sizeof(ref)) != 0)
			bad++;
	}
	CHECK(bad == 0, "%u of 2000 digests differ from the naive split", bad);
}

static void
test_bounds(void)
{
	uint8_t d[9], md[32];
	char out[CATCHPHRASE_FP_LEN];
	unsigned i;

	/* "abandon" x 6 needs 47 characters and the NUL. */
	memset(d, 0, sizeof(d));
	CHECK(catchphrase_words(d, 9, out, 48) == 0 && strlen(out) == 47);
	CHECK(catchphrase_words(d, 9, out, 47) == MOAT_ERR_TOO_LONG && out[0] == '\0');
	CHECK(catchphrase_words(d, 9, out, 0) == MOAT_ERR_TOO_LONG);
	/* The longest words have 8 letters: six of them fit CATCHPHRASE_LEN. */
	{
		unsigned longest = 0;
		uint16_t w;

		for (i = 0; i < 2048; i++)
			if (strlen(catchphrase_word(i)) > strlen(catchphrase_word(longest)))
				longest = i;
		CHECK(strlen(catchphrase_word(longest)) == 8);
		w = (uint16_t)longest;
		memset(d, 0, sizeof(d));
		for (i = 0; i < 66; i++)
			if ((w >> (10 - i % 11)) & 1)
				d[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		CHECK(catchphrase_words(d, 9, out, CATCHPHRASE_LEN) == 0 &&
		    strlen(out) == 6 * 8 + 5, "%s", out);
	}

	for (i = 0; i < sizeof(md); i++)
		md[i] = (uint8_t)(i * 17 + 1);
	CHECK(catchphrase_hex_fp(md, 32, out, 103) == 0 &&
	    strcmp(out, "SHA256:01:12:23:34:45:56:67:78:89:9A:AB:BC:CD:DE:EF:00:"
	    "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:10") == 0, "%s", out);
	CHECK(catchphrase_hex_fp(md, 32, out, 102) == MOAT_ERR_TOO_LONG && out[0] == '\0');
	CHECK(catchphrase_hex_fp(md, 0, out, 7) == 0 && strcmp(out, "SHA256") == 0);
}

/* The RSA-AES public-key message layout and its error cases. */
static void
test_ra2_layout(void)
{
	static const uint8_t n[] = { 0x00, 0x00, 0x01, 0x02 };	/* 9 bits, 2 bytes */
	static const uint8_t e[] = { 0x00, 0x03 };
	static const uint8_t want[] = { 0, 0, 0, 16, 0x01, 0x02, 0x00, 0x03 };
	static const uint8_t zero[] = { 0, 0 };
	static const uint8_t big_e[] = { 1, 2, 3 };
	uint8_t out[64], *huge;
	char fp[CATCHPHRASE_REALVNC_LEN], fp2[CATCHPHRASE_REALVNC_LEN];
	size_t used = 99;

	CHECK(catchphrase_ra2_pubkey(n, sizeof(n), e, sizeof(e), out,
	    sizeof(out), &used) == 0 && used == sizeof(want) &&
	    memcmp(out, want, sizeof(want)) == 0);
	CHECK(catchphrase_ra2_pubkey(n, sizeof(n), e, sizeof(e), out, 7,
	    &used) == MOAT_ERR_TOO_LONG && used == 0);
	CHECK(catchphrase_ra2_pubkey(zero, sizeof(zero), e, sizeof(e), out,
	    sizeof(out), &used) == MOAT_ERR_INVALID);
	CHECK(catchphrase_ra2_pubkey(n, sizeof(n), zero, sizeof(zero), out,
	    sizeof(out), &used) == MOAT_ERR_INVALID);
	CHECK(catchphrase_ra2_pubkey(n, sizeof(n), big_e, sizeof(big_e), out,
	    sizeof(out), &used) == MOAT_ERR_INVALID);
	CHECK(catchphrase_realvnc(n, sizeof(n), e, sizeof(e), fp, 23) ==
	    MOAT_ERR_TOO_LONG);
	/* Leading zeros of n and e do not change the fingerprint. */
	CHECK(catchphrase_realvnc(n, sizeof(n), e, sizeof(e), fp, sizeof(fp)) == 0);
	CHECK(catchphrase_realvnc(n + 2, 2, e + 1, 1, fp2, sizeof(fp2)) == 0 &&
	    strcmp(fp, fp2) == 0, "%s vs %s", fp, fp2);
	/* 8192 bits is the largest modulus, as for RSA-AES viewers. */
	huge = calloc(1, 1025);
	CHECK(huge != NULL);
	if (huge != NULL) {
		huge[1] = 0x80;
		CHECK(catchphrase_realvnc(huge + 1, 1024, e, sizeof(e), fp,
		    sizeof(fp)) == 0);
		huge[0] = 0x01;
		CHECK(catchphrase_realvnc(huge, 1025, e, sizeof(e), fp,
		    sizeof(fp)) == MOAT_ERR_INVALID);
		free(huge);
	}
}

/* Rebuilds an RSA public key from N and E alone, as an RSA-AES viewer
 * that never sees a certificate must. */
static EVP_PKEY *
rsa_from_ne(const EVP_PKEY *k)
{
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *out = NULL;

	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
	    (bld = OSSL_PARAM_BLD_new()) != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1 &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) != NULL &&
	    EVP_PKEY_fromdata_init(ctx) == 1)
		(void)EVP_PKEY_fromdata(ctx, &out, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return out;
}

static void
test_vectors(void)
{
	struct catchphrase_id id, id2;
	char hex[65], fp[CATCHPHRASE_FP_LEN];
	EVP_PKEY *k, *k2;
	size_t i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];

		k = read_pub(v->pem);
		CHECK(k != NULL, "%s: cannot parse the key", v->name);
		if (k == NULL)
			continue;
		CHECK(catchphrase_describe(k, &id) == 0, "%s", v->name);
		to_hex(id.key_sha256, sizeof(id.key_sha256), hex);
		CHECK(strcmp(hex, v->key_sha256) == 0, "%s: key SHA-256 %s", v->name, hex);
		CHECK(strcmp(id.words, v->words) == 0, "%s: words \"%s\"", v->name, id.words);
		CHECK(strcmp(id.realvnc, v->realvnc) == 0, "%s: RealVNC \"%s\"",
		    v->name, id.realvnc);
		CHECK(catchphrase_hex_fp(id.key_sha256, 32, fp, sizeof(fp)) == 0 &&
		    strcmp(fp, id.key_fp) == 0 && strncmp(fp, "SHA256:", 7) == 0);
		if (v->realvnc[0] != '\0') {
			/* From N and E only: the same catchphrase. */
			k2 = rsa_from_ne(k);
			CHECK(k2 != NULL, "%s: rebuild from N, E", v->name);
			if (k2 != NULL) {
				CHECK(catchphrase_describe(k2, &id2) == 0 &&
				    memcmp(&id, &id2, sizeof(id)) == 0,
				    "%s: the key rebuilt from N and E differs", v->name);
				EVP_PKEY_free(k2);
			}
		}
		EVP_PKEY_free(k);
	}
}

int
main(void)
{
	test_word_list();
	test_indices();
	test_bounds();
	test_ra2_layout();
	test_vectors();
	return check_summary();
}
