/*
 * fuzz_cert_proof.c - libFuzzer target for auth/cert_proof.c: the
 * monitor's check of a viewer's proof-of-possession answer (hostile text)
 * and the viewer's parse of a challenge (hostile text).
 *
 * Input: a selector byte, then the payload (cut at its first NUL, as a
 * C string arrives).
 *  sel & 1 == 1: the payload is a challenge text; if it parses, it must
 *     be exactly the 64 lowercase hex digits cert_proof_challenge_text()
 *     writes for the bytes it gave.
 *  sel & 1 == 0: the payload is an answer, verified against the leaf of
 *     harness key (sel >> 1) % 3 (fuzz/cert_proof_harness.h: RSA-2048,
 *     P-256, Ed25519) for the harness challenge and identity. An answer
 *     that verifies must be canonical base64 (it decodes and encodes back
 *     to itself) of at most CERT_PROOF_SIG_MAX bytes, and must fail for
 *     another challenge, another identity, and another key's leaf.
 * The seeds (fuzz/corpus/cert_proof) include a valid answer for each key,
 * written by tests/unit/test_cert_proof.c. Any broken promise aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth/cert_proof.h"
#include "fuzz/cert_proof_harness.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cert_proof_harness h;
static int ready;

static void
challenge(const char *text)
{
	uint8_t c[CERT_PROOF_CHALLENGE_LEN];
	char back[CERT_PROOF_TEXT_LEN + 1];
	int r;

	if ((r = cert_proof_parse_challenge(text, c)) != 0) {
		if (r != MOAT_ERR_PROTOCOL)
			abort();
		return;
	}
	cert_proof_challenge_text(c, back);
	if (strcmp(back, text) != 0)
		abort();
}

static void
answer(unsigned k, const char *text)
{
	uint8_t other[CERT_PROOF_HASH_LEN], sig[CERT_PROOF_SIG_MAX + 3];
	unsigned char back[CERT_PROOF_ANSWER_MAX + 2];
	size_t n = strlen(text);
	int r, len;

	r = cert_proof_verify(cph_challenge, cph_identity, h.der[k], h.len[k],
	    text);
	if (r != 0) {
		if (r != MOAT_ERR_AUTH)
			abort();
		return;
	}
	/* Accepted: strict base64 of a bounded signature, bound to all. */
	if (n == 0 || n > CERT_PROOF_ANSWER_MAX || n % 4 != 0 ||
	    (len = EVP_DecodeBlock(sig, (const unsigned char *)text,
	    (int)n)) < 0)
		abort();
	len -= (text[n - 1] == '=') + (text[n - 2] == '=');
	if (len <= 0 || len > CERT_PROOF_SIG_MAX ||
	    EVP_EncodeBlock(back, sig, len) != (int)n ||
	    memcmp(back, text, n) != 0)
		abort();
	memcpy(other, cph_challenge, sizeof(other));
	other[0] ^= 1;
	if (cert_proof_verify(other, cph_identity, h.der[k], h.len[k],
	    text) != MOAT_ERR_AUTH)
		abort();
	memcpy(other, cph_identity, sizeof(other));
	other[31] ^= 0x80;
	if (cert_proof_verify(cph_challenge, other, h.der[k], h.len[k],
	    text) != MOAT_ERR_AUTH)
		abort();
	if (cert_proof_verify(cph_challenge, cph_identity,
	    h.der[(k + 1) % CPH_NKEYS], h.len[(k + 1) % CPH_NKEYS],
	    text) != MOAT_ERR_AUTH)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	uint8_t sel;

	if (!ready) {
		if (cph_setup(&h) != 0)
			abort();
		ready = 1;
	}
	if (size < 1 || size - 1 > 4 * CERT_PROOF_ANSWER_MAX)
		return 0;
	sel = data[0];
	/* An exact-size heap copy, NUL-terminated. */
	if ((text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (sel & 1)
		challenge(text);
	else
		answer((unsigned)(sel >> 1) % CPH_NKEYS, text);
	free(text);
	return 0;
}
