/*
 * test_cert_proof.c - tests auth/cert_proof.c, the Certificate factor's
 * proof of possession: sign and verify round trips with RSA-2048 (PSS),
 * P-256, P-384, P-521 and Ed25519 keys made here; refusals for a flipped
 * signature bit, another challenge, identity or leaf, PKCS#1 v1.5 and
 * PSS with a 20-byte salt, non-canonical base64, RSA-1024 and other
 * unlisted keys, malformed challenge texts; and deterministic mutation of
 * every bit of valid answers and of a leaf's DER. Test code.
 *
 * MOAT_CERT_PROOF_WRITE_SEEDS=DIR writes the seeds of
 * fuzz/fuzz_cert_proof.c into DIR (fuzz/corpus/cert_proof).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "auth/cert_proof.h"
#include "fuzz/cert_proof_harness.h"
#include "privsep/errors.h"

#include "check.h"

#define ANSWER_SIZE	(CERT_PROOF_ANSWER_MAX + 1)

static uint8_t challenge[CERT_PROOF_CHALLENGE_LEN];
static uint8_t identity[CERT_PROOF_HASH_LEN];
static char text[CERT_PROOF_TEXT_LEN + 1];
static EVP_PKEY *issuer;		/* Ed25519: signs every test leaf */

/* A key and its self-signed leaf. */
struct party {
	const char *name;
	EVP_PKEY *key;
	uint8_t *der;
	size_t len;
};

static int
make_party(struct party *p, const char *name, EVP_PKEY *key)
{
	p->name = name;
	p->key = key;
	p->der = NULL;
	p->len = 0;
	if (key == NULL)
		return -1;
	p->len = cph_make_leaf(key, issuer, 7, &p->der);
	return p->len > 0 ? 0 : -1;
}

static void
free_party(struct party *p)
{
	EVP_PKEY_free(p->key);
	free(p->der);
}

static int
sign(const struct party *p, char *answer)
{
	return cert_proof_sign(p->key, text, identity, p->der, p->len, answer,
	    ANSWER_SIZE);
}

static int
verify(const struct party *p, const char *answer)
{
	return cert_proof_verify(challenge, identity, p->der, p->len, answer);
}

/*
 * Signs the message for p with RSA and the given padding and salt length,
 * independently of cert_proof_sign(); base64 into answer.
 */
static int
rsa_sign_with(const struct party *p, int padding, int salt, char *answer)
{
	uint8_t msg[CERT_PROOF_MESSAGE_LEN], sig[1024];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx;
	size_t siglen = sizeof(sig);
	int ok;

	cert_proof_message(challenge, identity, p->der, p->len, msg);
	ok = ctx != NULL &&
	    EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, p->key) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, padding) > 0 &&
	    (padding != RSA_PKCS1_PSS_PADDING ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) > 0) &&
	    EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) == 1 &&
	    EVP_EncodeBlock((unsigned char *)answer, sig, (int)siglen) > 0;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static void
test_challenge_text(void)
{
	uint8_t c[CERT_PROOF_CHALLENGE_LEN], z[CERT_PROOF_CHALLENGE_LEN];
	char t[CERT_PROOF_TEXT_LEN + 2], bad[CERT_PROOF_TEXT_LEN + 2];
	size_t i;

	for (i = 0; i < sizeof(c); i++)
		c[i] = (uint8_t)(i * 37 + 5);
	cert_proof_challenge_text(c, t);
	CHECK(strlen(t) == CERT_PROOF_TEXT_LEN);
	CHECK(strncmp(t, "052a4f74", 8) == 0, "%s", t);
	memset(z, 0, sizeof(z));
	CHECK(cert_proof_parse_challenge(t, z) == 0 &&
	    memcmp(z, c, sizeof(c)) == 0);

	/* Uppercase hex is refused, wherever it is. */
	for (i = 0; i < CERT_PROOF_TEXT_LEN; i++) {
		memcpy(bad, t, sizeof(t));
		if (bad[i] >= 'a' && bad[i] <= 'f') {
			bad[i] = (char)(bad[i] - 'a' + 'A');
			CHECK(cert_proof_parse_challenge(bad, z) ==
			    MOAT_ERR_PROTOCOL, "uppercase at %zu", i);
		}
		memcpy(bad, t, sizeof(t));
		bad[i] = 'g';
		CHECK(cert_proof_parse_challenge(bad, z) == MOAT_ERR_PROTOCOL);
		bad[i] = ' ';
		CHECK(cert_proof_parse_challenge(bad, z) == MOAT_ERR_PROTOCOL);
	}
	memcpy(bad, t, sizeof(t));
	bad[CERT_PROOF_TEXT_LEN - 1] = '\0';	/* 63 digits */
	CHECK(cert_proof_parse_challenge(bad, z) == MOAT_ERR_PROTOCOL);
	memcpy(bad, t, sizeof(t));
	bad[CERT_PROOF_TEXT_LEN] = '0';		/* 65 digits */
	bad[CERT_PROOF_TEXT_LEN + 1] = '\0';
	CHECK(cert_proof_parse_challenge(bad, z) == MOAT_ERR_PROTOCOL);
	memcpy(bad, t, sizeof(t));
	bad[CERT_PROOF_TEXT_LEN] = '\n';
	bad[CERT_PROOF_TEXT_LEN + 1] = '\0';
	CHECK(cert_proof_parse_challenge(bad, z) == MOAT_ERR_PROTOCOL);
	CHECK(cert_proof_parse_challenge("", z) == MOAT_ERR_PROTOCOL);
	CHECK(cert_proof_parse_challenge(NULL, z) == MOAT_ERR_PROTOCOL);
	CHECK(memcmp(z, c, sizeof(c)) == 0, "a failed parse wrote nothing");
}

static void
test_message(void)
{
	uint8_t m[CERT_PROOF_MESSAGE_LEN], h[32];
	static const uint8_t leaf[3] = { 1, 2, 3 };

	CHECK(CERT_PROOF_MESSAGE_LEN == 26 + 32 + 32 + 32);
	cert_proof_message(challenge, identity, leaf, sizeof(leaf), m);
	CHECK(memcmp(m, "moat certificate proof v1", 25) == 0 && m[25] == 0);
	CHECK(memcmp(m + 26, challenge, 32) == 0);
	CHECK(memcmp(m + 58, identity, 32) == 0);
	SHA256(leaf, sizeof(leaf), h);
	CHECK(memcmp(m + 90, h, 32) == 0);
}

/* Round trip, then every refusal that needs no special key. */
static void
test_party(const struct party *p, const struct party *twin)
{
	char a[ANSWER_SIZE], b[ANSWER_SIZE];
	uint8_t other[32];
	size_t n;

	CHECK(sign(p, a) == 0, "%s signs", p->name);
	n = strlen(a);
	CHECK(n > 0 && n <= CERT_PROOF_ANSWER_MAX && n % 4 == 0, "%s", p->name);
	CHECK(verify(p, a) == 0, "%s verifies", p->name);

	/* A flipped bit in the signature itself. */
	memcpy(b, a, sizeof(b));
	b[n / 2] = b[n / 2] == 'A' ? 'B' : 'A';
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "%s flipped", p->name);
	/* Another challenge, identity, leaf (same type, another key). */
	memcpy(other, challenge, 32);
	other[5] ^= 0x10;
	CHECK(cert_proof_verify(other, identity, p->der, p->len, a) ==
	    MOAT_ERR_AUTH, "%s challenge", p->name);
	memcpy(other, identity, 32);
	other[31] ^= 1;
	CHECK(cert_proof_verify(challenge, other, p->der, p->len, a) ==
	    MOAT_ERR_AUTH, "%s identity", p->name);
	CHECK(cert_proof_verify(challenge, identity, twin->der, twin->len, a) ==
	    MOAT_ERR_AUTH, "%s other leaf", p->name);
	/* The leaf with a byte after it, or cut. */
	CHECK(cert_proof_verify(challenge, identity, p->der, p->len - 1, a) ==
	    MOAT_ERR_AUTH);
	CHECK(cert_proof_verify(challenge, identity, p->der, 0, a) ==
	    MOAT_ERR_AUTH);
	/* The signature of the twin's leaf, with the twin's key, verifies for it. */
	CHECK(sign(twin, b) == 0 && verify(twin, b) == 0 && verify(p, b) ==
	    MOAT_ERR_AUTH, "%s twin", p->name);
	/* A malformed challenge text is the viewer's to refuse. */
	CHECK(cert_proof_sign(p->key, "ABCD", identity, p->der, p->len, b,
	    sizeof(b)) == MOAT_ERR_PROTOCOL);
	CHECK(cert_proof_sign(p->key, text, identity, p->der, p->len, b,
	    CERT_PROOF_ANSWER_MAX) == MOAT_ERR_INVALID);
}

/* Base64 that is not strict: every variant is refused before decoding. */
static void
test_base64(const struct party *p)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char a[ANSWER_SIZE], b[4 * ANSWER_SIZE + 8];
	size_t n, i;

	CHECK(sign(p, a) == 0);
	n = strlen(a);
	CHECK(verify(p, a) == 0);
	/* These tests need padding to play with: P-256 may give none. */
	if (a[n - 1] == '=') {
		/* Missing padding. */
		memcpy(b, a, n + 1);
		b[n - 1] = '\0';
		CHECK(verify(p, b) == MOAT_ERR_AUTH, "one '=' missing");
		while (n > 0 && b[strlen(b) - 1] == '=')
			b[strlen(b) - 1] = '\0';
		CHECK(verify(p, b) == MOAT_ERR_AUTH, "no padding");
		/* Non-zero bits under the padding (another spelling). */
		memcpy(b, a, n + 1);
		i = n - (a[n - 2] == '=' ? 3 : 2);
		b[i] = alphabet[(strchr(alphabet, b[i]) - alphabet) | 1];
		CHECK(verify(p, b) == MOAT_ERR_AUTH, "non-canonical last char");
	}
	/* Extra '=' (and extra "===="). */
	snprintf(b, sizeof(b), "%s=", a);
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "extra =");
	snprintf(b, sizeof(b), "%s====", a);
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "extra ====");
	/* Whitespace and newlines anywhere. */
	snprintf(b, sizeof(b), " %s", a);
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "leading space");
	snprintf(b, sizeof(b), "%s\n", a);
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "trailing newline");
	snprintf(b, sizeof(b), "%s    ", a);
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "trailing spaces");
	snprintf(b, sizeof(b), "%.4s\n%s", a, a + 4);
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "inner newline");
	snprintf(b, sizeof(b), "%.4s\r\n%s", a, a + 4);
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "inner CRLF");
	snprintf(b, sizeof(b), "%.8s    %s", a, a + 8);
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "inner spaces");
	/* Invalid characters: URL-safe alphabet, '.', high bytes, '=' inside. */
	memcpy(b, a, n + 1);
	b[3] = '-';
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "'-'");
	b[3] = '_';
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "'_'");
	b[3] = '.';
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "'.'");
	b[3] = (char)0xc3;
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "high byte");
	b[3] = '=';
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "'=' inside");
	/* Empty, and too long (a valid answer repeated past the bound). */
	CHECK(verify(p, "") == MOAT_ERR_AUTH);
	memset(b, 'A', CERT_PROOF_ANSWER_MAX + 4);
	b[CERT_PROOF_ANSWER_MAX + 4] = '\0';
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "too long");
	b[CERT_PROOF_ANSWER_MAX] = '\0';	/* at the bound: decodes, wrong */
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "at the bound");
	snprintf(b, sizeof(b), "%s%s%s%s", a, a, a, a);
	CHECK(verify(p, b) == MOAT_ERR_AUTH, "repeated");
	CHECK(verify(p, NULL) == MOAT_ERR_AUTH);
}

/* RSA signatures the contract does not allow. */
static void
test_rsa_variants(const struct party *rsa)
{
	char a[ANSWER_SIZE];

	CHECK(rsa_sign_with(rsa, RSA_PKCS1_PSS_PADDING, 32, a) == 0 &&
	    verify(rsa, a) == 0, "independent PSS-32 signature verifies");
	CHECK(rsa_sign_with(rsa, RSA_PKCS1_PADDING, 0, a) == 0 &&
	    verify(rsa, a) == MOAT_ERR_AUTH, "PKCS#1 v1.5 refused");
	CHECK(rsa_sign_with(rsa, RSA_PKCS1_PSS_PADDING, 20, a) == 0 &&
	    verify(rsa, a) == MOAT_ERR_AUTH, "PSS salt 20 refused");
	CHECK(rsa_sign_with(rsa, RSA_PKCS1_PSS_PADDING,
	    RSA_PSS_SALTLEN_MAX, a) == 0 &&
	    verify(rsa, a) == MOAT_ERR_AUTH, "PSS maximal salt refused");
}

/* Keys outside the contract: refused by sign and by verify. */
static void
test_unsupported(const struct party *good)
{
	struct party p;
	char a[ANSWER_SIZE];

	/* RSA-1024: sign refuses; a signature made anyway does not verify. */
	if (make_party(&p, "rsa-1024", EVP_RSA_gen(1024)) == 0) {
		CHECK(sign(&p, a) == MOAT_ERR_UNSUPPORTED, "rsa-1024 sign");
		CHECK(rsa_sign_with(&p, RSA_PKCS1_PSS_PADDING, 32, a) == 0 &&
		    verify(&p, a) == MOAT_ERR_AUTH, "rsa-1024 verify");
	} else
		CHECK(0, "cannot make an RSA-1024 key");
	free_party(&p);
	/* Curves not listed: secp256k1, P-224. */
	if (make_party(&p, "secp256k1", EVP_EC_gen("secp256k1")) == 0) {
		CHECK(sign(&p, a) == MOAT_ERR_UNSUPPORTED, "secp256k1 sign");
		CHECK(verify(&p, "AAAA") == MOAT_ERR_AUTH);
	} else
		CHECK(0, "cannot make a secp256k1 key");
	free_party(&p);
	if (make_party(&p, "P-224", EVP_EC_gen("P-224")) == 0)
		CHECK(sign(&p, a) == MOAT_ERR_UNSUPPORTED, "P-224 sign");
	else
		CHECK(0, "cannot make a P-224 key");
	free_party(&p);
	/* Ed448 (also a pure signature, but not listed). */
	if (make_party(&p, "Ed448", EVP_PKEY_Q_keygen(NULL, NULL, "ED448")) ==
	    0)
		CHECK(sign(&p, a) == MOAT_ERR_UNSUPPORTED, "Ed448 sign");
	else
		CHECK(0, "cannot make an Ed448 key");
	free_party(&p);
	/* A key that does not belong to the leaf makes a proof that fails. */
	CHECK(cert_proof_sign(good->key, text, identity, good->der, good->len,
	    a, sizeof(a)) == 0);
	CHECK(cert_proof_sign(NULL, text, identity, good->der, good->len, a,
	    sizeof(a)) == MOAT_ERR_UNSUPPORTED);
}

/* Every bit flip of a valid answer and of the leaf's DER is refused. */
static void
test_mutations(const struct party *p)
{
	char a[ANSWER_SIZE], b[ANSWER_SIZE];
	uint8_t *der;
	size_t n, i;
	int bit, bad = 0, r;

	if (sign(p, a) != 0 || verify(p, a) != 0) {
		CHECK(0, "%s: no valid answer to mutate", p->name);
		return;
	}
	n = strlen(a);
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(b, a, n + 1);
			b[i] = (char)(b[i] ^ (1 << bit));
			if ((r = verify(p, b)) != MOAT_ERR_AUTH) {
				if (bad++ < 5)
					fprintf(stderr, "%s: answer bit %zu.%d "
					    "gave %d\n", p->name, i, bit, r);
			}
		}
	}
	/* Every truncation, too. */
	for (i = 0; i < n; i++) {
		memcpy(b, a, n + 1);
		b[i] = '\0';
		if (verify(p, b) != MOAT_ERR_AUTH)
			bad++;
	}
	if ((der = malloc(p->len)) == NULL) {
		CHECK(0, "malloc");
		return;
	}
	for (i = 0; i < p->len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(der, p->der, p->len);
			der[i] ^= (uint8_t)(1 << bit);
			if ((r = cert_proof_verify(challenge, identity, der,
			    p->len, a)) != MOAT_ERR_AUTH) {
				if (bad++ < 5)
					fprintf(stderr, "%s: leaf bit %zu.%d "
					    "gave %d\n", p->name, i, bit, r);
			}
		}
	}
	for (i = 1; i < p->len; i++)
		if (cert_proof_verify(challenge, identity, p->der, i, a) !=
		    MOAT_ERR_AUTH)
			bad++;
	free(der);
	CHECK(bad == 0, "%s: %d mutations accepted", p->name, bad);
	CHECK(verify(p, a) == 0, "%s: the original still verifies", p->name);
}

/* The fuzz target's seeds: a valid answer per harness key, and others. */
static void
write_seeds(const char *dir)
{
	struct cert_proof_harness h;
	char t[CERT_PROOF_TEXT_LEN + 1], a[ANSWER_SIZE], path[4096];
	static const char *const names[CPH_NKEYS] = { "rsa", "p256", "ed25519" };
	FILE *f;
	int i;

	memset(&h, 0, sizeof(h));
	CHECK(cph_setup(&h) == 0, "harness");
	cert_proof_challenge_text(cph_challenge, t);
	for (i = 0; i < CPH_NKEYS; i++) {
		CHECK(cert_proof_sign(h.key[i], t, cph_identity, h.der[i],
		    h.len[i], a, sizeof(a)) == 0 &&
		    cert_proof_verify(cph_challenge, cph_identity, h.der[i],
		    h.len[i], a) == 0, "harness %s", names[i]);
		if (dir == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/answer-%s", dir, names[i]);
		if ((f = fopen(path, "wb")) == NULL) {
			CHECK(0, "%s", path);
			continue;
		}
		fputc(i << 1, f);
		fputs(a, f);
		fclose(f);
	}
	if (dir != NULL) {
		snprintf(path, sizeof(path), "%s/challenge", dir);
		if ((f = fopen(path, "wb")) != NULL) {
			fputc(1, f);
			fputs(t, f);
			fclose(f);
		}
	}
	for (i = 0; i < CPH_NKEYS; i++) {
		EVP_PKEY_free(h.key[i]);
		free(h.der[i]);
	}
}

int
main(void)
{
	struct party rsa, rsa2, p256, p256b, p384, p384b, p521, p521b, ed, ed2;

	if ((issuer = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    RAND_bytes(challenge, sizeof(challenge)) != 1 ||
	    RAND_bytes(identity, sizeof(identity)) != 1)
		return 1;
	cert_proof_challenge_text(challenge, text);
	test_challenge_text();
	test_message();

	CHECK(make_party(&rsa, "rsa-2048", EVP_RSA_gen(2048)) == 0);
	CHECK(make_party(&rsa2, "rsa-2048b", EVP_RSA_gen(2048)) == 0);
	CHECK(make_party(&p256, "P-256", EVP_EC_gen("P-256")) == 0);
	CHECK(make_party(&p256b, "P-256b", EVP_EC_gen("P-256")) == 0);
	CHECK(make_party(&p384, "P-384", EVP_EC_gen("P-384")) == 0);
	CHECK(make_party(&p384b, "P-384b", EVP_EC_gen("P-384")) == 0);
	CHECK(make_party(&p521, "P-521", EVP_EC_gen("P-521")) == 0);
	CHECK(make_party(&p521b, "P-521b", EVP_EC_gen("P-521")) == 0);
	CHECK(make_party(&ed, "Ed25519",
	    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == 0);
	CHECK(make_party(&ed2, "Ed25519b",
	    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == 0);
	if (failed)
		return check_summary();

	test_party(&rsa, &rsa2);
	test_party(&p256, &p256b);
	test_party(&p384, &p384b);
	test_party(&p521, &p521b);
	test_party(&ed, &ed2);
	/* A proof with the key of another leaf of the same type. */
	{
		char a[ANSWER_SIZE];

		CHECK(cert_proof_sign(rsa2.key, text, identity, rsa.der,
		    rsa.len, a, sizeof(a)) == 0 && verify(&rsa, a) ==
		    MOAT_ERR_AUTH, "another key for the leaf");
	}
	test_base64(&rsa);
	test_base64(&p256);
	test_base64(&ed);
	test_rsa_variants(&rsa);
	test_unsupported(&p256);
	test_mutations(&rsa);
	test_mutations(&p256);
	test_mutations(&ed);
	write_seeds(getenv("MOAT_CERT_PROOF_WRITE_SEEDS"));

	free_party(&rsa);
	free_party(&rsa2);
	free_party(&p256);
	free_party(&p256b);
	free_party(&p384);
	free_party(&p384b);
	free_party(&p521);
	free_party(&p521b);
	free_party(&ed);
	free_party(&ed2);
	EVP_PKEY_free(issuer);
	return check_summary();
}
