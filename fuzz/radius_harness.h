/*
 * radius_harness.h - the fixed Access-Requests that fuzz/fuzz_radius_reply.c
 * and tests/unit/test_radius_packet.c verify replies against, and the
 * selector byte that starts every seed of fuzz/corpus/radius_reply. Test
 * code; it holds the test-only shared secret of tests/e2e/test_radius.sh.
 *
 * Seed layout: one selector byte, then one reply datagram.
 *   bit 0     allow_unsigned
 *   bits 1-2  request variant (radius_harness_variants[])
 *   bit 3     re-sign: before verifying, the harness sets the identifier
 *             and Length, fills any 18-byte Message-Authenticator and the
 *             Response Authenticator for the (fuzzed) content, so the
 *             fuzzer reaches the attribute extraction behind the MD5 and
 *             HMAC checks
 * The recorded seeds (rec-*) were answered by a real FreeRADIUS 3.2.1 to
 * requests with exactly these identifiers and Request Authenticators
 * (tests/tools/radius_fake.py record; see fuzz/README.md).
 */
#ifndef MOAT_RADIUS_HARNESS_H
#define MOAT_RADIUS_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/radius_packet.h"

#define RADIUS_HARNESS_SECRET	"moat-test-secret-0123456789"
#define RADIUS_HARNESS_ALLOW_UNSIGNED	0x01
#define RADIUS_HARNESS_VARIANT(sel)	(((sel) >> 1) & 3)
#define RADIUS_HARNESS_RESIGN	0x08

struct radius_harness_variant {
	uint8_t id;
	uint8_t authenticator[RADIUS_AUTH_LEN];
	const char *user;
	const char *password;
	const uint8_t *state;
	size_t state_len;
};

static const uint8_t radius_harness_state[] = {
	0x00, 0xff, 0x0a, 'm', 'o', 'a', 't', '-', 'o', 't', 'p',
};

static const struct radius_harness_variant radius_harness_variants[4] = {
	{ 0x11, { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f },
	    "alice", "alice-pw", NULL, 0 },
	{ 0x22, { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f },
	    "bob", "bob-pw", NULL, 0 },
	{ 0x33, { 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
	    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f },
	    "bob", "123456", radius_harness_state, sizeof(radius_harness_state) },
	{ 0x44, { 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
	    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f },
	    "synthetic", "fake-pw", NULL, 0 },
};

/* Builds variant v's Access-Request. Returns radius_request_build_with()'s result. */
static inline int
radius_harness_request(unsigned int v, struct radius_request *req)
{
	const struct radius_harness_variant *hv = &radius_harness_variants[v & 3];
	struct radius_request_params p;

	memset(&p, 0, sizeof(p));
	p.user = hv->user;
	p.password = hv->password;
	p.state = hv->state;
	p.state_len = hv->state_len;
	p.nas_identifier = "moat-fuzz";
	p.calling_station = "192.0.2.7";
	return radius_request_build_with(req, &p,
	    (const uint8_t *)RADIUS_HARNESS_SECRET, strlen(RADIUS_HARNESS_SECRET),
	    hv->id, hv->authenticator);
}

/*
 * Signs a reply in place the way a server does, with OpenSSL one-shots and
 * none of radius_packet.c: sets the identifier to id and the Length to len,
 * fills the first 18-byte Message-Authenticator found by walking the
 * attributes (HMAC-MD5 with req_auth in the header and the value zeroed),
 * then the Response Authenticator MD5(Code+ID+Length+req_auth+Attributes+
 * secret). Does nothing to a packet shorter than a header or longer than
 * 65535 bytes. Returns 0, or -1 if OpenSSL fails.
 */
static inline int
radius_harness_sign(uint8_t *pkt, size_t len, uint8_t id,
    const uint8_t req_auth[RADIUS_AUTH_LEN], const char *secret)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i = RADIUS_HEADER_LEN, ma = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if (len < RADIUS_HEADER_LEN || len > 65535)
		return 0;
	pkt[1] = id;
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	memcpy(pkt + 4, req_auth, RADIUS_AUTH_LEN);
	while (i + 2 <= len && pkt[i + 1] >= 2 && i + pkt[i + 1] <= len) {
		if (ma == 0 && pkt[i] == RADIUS_ATTR_MESSAGE_AUTHENTICATOR &&
		    pkt[i + 1] == 18)
			ma = i + 2;
		i += pkt[i + 1];
	}
	if (ma != 0) {
		memset(pkt + ma, 0, RADIUS_MA_LEN);
		if (HMAC(EVP_md5(), secret, (int)strlen(secret), pkt, len, md,
		    &mdlen) == NULL || mdlen != RADIUS_MA_LEN)
			return -1;
		memcpy(pkt + ma, md, RADIUS_MA_LEN);
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, pkt, len) == 1 &&
	    EVP_DigestUpdate(ctx, secret, strlen(secret)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 16;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	memcpy(pkt + 4, md, RADIUS_AUTH_LEN);
	return 0;
}

#endif
