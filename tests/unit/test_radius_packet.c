/*
 * test_radius_packet.c - tests auth/radius_packet.c (Access-Request
 * encoding, reply verification) and the pure parts of auth/radius_client.c
 * (server specifications, the secret file, a loopback exchange with a
 * forked responder).
 *
 * Test code. Expected bytes come from RFC 2865 §7.1 and from an independent
 * Python computation (shown next to each vector); replies are signed with
 * OpenSSL one-shots in fuzz/radius_harness.h, never with the code under
 * test. The recorded replies of a real FreeRADIUS 3.2.1 in
 * fuzz/corpus/radius_reply/rec-* must verify, and every single-bit flip and
 * every truncation of them and of the synthetic good replies must be
 * refused. Run as root for the secret-file ownership checks.
 *
 * MOAT_RADIUS_WRITE_SEEDS=DIR writes the synthetic replies as fuzz seeds
 * (syn-*) into DIR (fuzz/corpus/radius_reply).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "privsep/errors.h"
#include "auth/radius_client.h"
#include "auth/radius_packet.h"
#include "fuzz/radius_harness.h"

#include "check.h"

#define SECRET		RADIUS_HARNESS_SECRET
#define SECRET_LEN	strlen(RADIUS_HARNESS_SECRET)

/* ---------- helpers ---------- */

struct pkt {
	uint8_t d[8192];
	size_t n;
};

static void
pkt_start(struct pkt *p, uint8_t code)
{
	memset(p, 0, sizeof(*p));
	p->d[0] = code;
	p->n = RADIUS_HEADER_LEN;
}

static void
pkt_attr(struct pkt *p, uint8_t type, const void *v, size_t len)
{
	p->d[p->n++] = type;
	p->d[p->n++] = (uint8_t)(len + 2);
	memcpy(p->d + p->n, v, len);
	p->n += len;
}

static void
pkt_ma(struct pkt *p)
{
	static const uint8_t zero[16];

	pkt_attr(p, RADIUS_ATTR_MESSAGE_AUTHENTICATOR, zero, sizeof(zero));
}

/* Signs p as the reply to variant v's request. */
static void
pkt_sign(struct pkt *p, const struct radius_request *req)
{
	if (radius_harness_sign(p->d, p->n, req->id, req->authenticator,
	    SECRET) != 0)
		abort();
}

/* Recomputes only the Response Authenticator (the header's id and Length stay). */
static void
pkt_fix_rauth(struct pkt *p, const struct radius_request *req)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n;

	memcpy(p->d + 4, req->authenticator, 16);
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, p->d, p->n) != 1 ||
	    EVP_DigestUpdate(ctx, SECRET, SECRET_LEN) != 1 ||
	    EVP_DigestFinal_ex(ctx, p->d + 4, &n) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
}

static int
verify(const struct radius_request *req, const uint8_t *d, size_t n,
    int allow, struct radius_reply *rep, const char **why)
{
	uint8_t *copy = malloc(n > 0 ? n : 1);	/* exact size, for ASan */
	const char *w;
	int r;

	if (copy == NULL)
		abort();
	memcpy(copy, d, n);
	r = radius_reply_verify(req, copy, n, (const uint8_t *)SECRET,
	    SECRET_LEN, allow, rep, why != NULL ? why : &w);
	free(copy);
	return r;
}

static int
is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/*
 * Every single-bit flip and every truncation of a good reply must be
 * refused, with the reply zeroed. Returns the number of mutations tried.
 */
static size_t
mutate_all(const char *name, const struct radius_request *req,
    const uint8_t *d, size_t n, int allow)
{
	struct radius_reply rep;
	uint8_t *m;
	size_t i, bit, tried = 0, accepted = 0, dirty = 0;

	if ((m = malloc(n)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(m, d, n);
			m[i] ^= (uint8_t)(1u << bit);
			tried++;
			if (verify(req, m, n, allow, &rep, NULL) == 0)
				accepted++;
			else if (!is_zero(&rep, sizeof(rep)))
				dirty++;
		}
	}
	for (i = 0; i < n; i++) {
		tried++;
		if (verify(req, d, i, allow, &rep, NULL) == 0)
			accepted++;
		else if (!is_zero(&rep, sizeof(rep)))
			dirty++;
	}
	free(m);
	CHECK(accepted == 0, "%s: %zu of %zu mutations accepted", name,
	    accepted, tried);
	CHECK(dirty == 0, "%s: %zu refusals left data in the reply", name, dirty);
	return tried;
}

static const char *seed_dir;

static void
write_seed(const char *name, uint8_t sel, const struct pkt *p)
{
	char path[4096];
	FILE *f;

	if (seed_dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/syn-%s", seed_dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(&sel, 1, 1, f) != 1 || fwrite(p->d, 1, p->n, f) != p->n ||
	    fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* ---------- RFC 2865 §7.1 ---------- */

/*
 * RFC 2865 §7.1: secret "xyzzy5461", Request Authenticator below, user
 * "nemo", password "arctangent". The Access-Request's User-Password
 * attribute and the whole Access-Accept are copied from the RFC.
 */
static const uint8_t rfc_auth[16] = {
	0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57,
	0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22, 0x7a,
};
static const uint8_t rfc_hidden[16] = {
	0x0d, 0xbe, 0x70, 0x8d, 0x93, 0xd4, 0x13, 0xce,
	0x31, 0x96, 0xe4, 0x3f, 0x78, 0x2a, 0x0a, 0xee,
};
static const uint8_t rfc_accept[38] = {
	0x02, 0x00, 0x00, 0x26, 0x86, 0xfe, 0x22, 0x0e, 0x76, 0x24, 0xba, 0x2a,
	0x10, 0x05, 0xf6, 0xbf, 0x9b, 0x55, 0xe0, 0xb2, 0x06, 0x06, 0x00, 0x00,
	0x00, 0x01, 0x0f, 0x06, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x06, 0xc0, 0xa8,
	0x01, 0x03,
};

static void
test_rfc2865(void)
{
	const uint8_t *secret = (const uint8_t *)"xyzzy5461";
	struct radius_request_params p;
	struct radius_request req;
	struct radius_reply rep;
	uint8_t out[RADIUS_PASSWORD_MAX];
	const char *why;
	size_t olen;
	int r;

	r = radius_hide_password(out, sizeof(out), &olen,
	    (const uint8_t *)"arctangent", 10, secret, 9, rfc_auth);
	CHECK(r == 0 && olen == 16 && memcmp(out, rfc_hidden, 16) == 0,
	    "RFC 2865 §7.1 User-Password");

	/* The same hiding inside a whole request built by the code under test. */
	memset(&p, 0, sizeof(p));
	p.user = "nemo";
	p.password = "arctangent";
	p.nas_identifier = "moat-test";
	r = radius_request_build_with(&req, &p, secret, 9, 0, rfc_auth);
	CHECK(r == 0);
	/* Message-Authenticator (18), User-Name "nemo" (6), then User-Password. */
	CHECK(req.packet[20 + 18 + 6] == RADIUS_ATTR_USER_PASSWORD &&
	    req.packet[20 + 18 + 7] == 18 &&
	    memcmp(req.packet + 20 + 18 + 8, rfc_hidden, 16) == 0,
	    "User-Password in the request");

	/* The RFC's Access-Accept has no Message-Authenticator. */
	r = radius_reply_verify(&req, rfc_accept, sizeof(rfc_accept), secret, 9,
	    1, &rep, &why);
	CHECK(r == 0 && rep.code == RADIUS_CODE_ACCESS_ACCEPT &&
	    rep.signed_reply == 0, "RFC Access-Accept, unsigned allowed: %s", why);
	r = radius_reply_verify(&req, rfc_accept, sizeof(rfc_accept), secret, 9,
	    0, &rep, &why);
	CHECK(r == MOAT_ERR_AUTH && strcmp(why, "no Message-Authenticator") == 0,
	    "RFC Access-Accept without Message-Authenticator refused: %s", why);
	r = radius_reply_verify(&req, rfc_accept, sizeof(rfc_accept),
	    (const uint8_t *)"xyzzy5462", 9, 1, &rep, &why);
	CHECK(r == MOAT_ERR_AUTH, "another secret: %s", why);
	mutate_all("RFC Access-Accept", &req, rfc_accept, sizeof(rfc_accept), 1);
	radius_request_clear(&req);
	CHECK(is_zero(&req, sizeof(req)), "radius_request_clear wipes");
}

/* ---------- the Access-Request ---------- */

/*
 * Computed with Python 3 (hashlib, hmac), independently of moat:
 *
 *   def hide(pw, secret, auth):
 *       p = pw + b"\0" * ((16 - len(pw) % 16) % 16 if pw else 16)
 *       out, prev = b"", auth
 *       for i in range(0, len(p), 16):
 *           b = hashlib.md5(secret + prev).digest()
 *           c = bytes(x ^ y for x, y in zip(p[i:i+16], b)); out += c; prev = c
 *       return out
 *   def a(t, v): return bytes([t, len(v) + 2]) + v
 *   secret = b"s3cr3t-for-the-layout-test"
 *   auth = bytes(range(0xa0, 0xb0)); ident = 0x5a
 *   body = (a(80, b"\0"*16) + a(1, b"alice")
 *       + a(2, hide(b"correct horse battery staple", secret, auth))
 *       + a(32, b"moat-test") + a(4, bytes([192,0,2,1]))
 *       + a(95, ipaddress.ip_address("2001:db8::1").packed)
 *       + a(31, b"198.51.100.7") + a(24, bytes([1,2,3]))
 *       + a(6, struct.pack("!I", 8)))
 *   pkt = struct.pack("!BBH", 1, ident, 20 + len(body)) + auth + body
 *   mac = hmac.new(secret, pkt, hashlib.md5).digest()
 *   pkt = pkt[:22] + mac + pkt[38:]
 */
static const uint8_t layout_expected[139] = {
	0x01, 0x5a, 0x00, 0x8b, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0x50, 0x12, 0x46, 0x18,
	0x3c, 0xa1, 0x18, 0x96, 0x09, 0xe5, 0xbe, 0x35, 0xf3, 0xb2, 0x60, 0x52,
	0x0c, 0x11, 0x01, 0x07, 0x61, 0x6c, 0x69, 0x63, 0x65, 0x02, 0x22, 0xa0,
	0x70, 0x7d, 0xf2, 0x75, 0xb7, 0x9b, 0xd1, 0x0e, 0x64, 0x12, 0xe5, 0x81,
	0x9c, 0x88, 0x81, 0xe8, 0x63, 0x08, 0xcb, 0xe8, 0xd2, 0x48, 0x41, 0xce,
	0xbf, 0x74, 0x3d, 0x08, 0x3f, 0x93, 0xfb, 0x20, 0x0b, 0x6d, 0x6f, 0x61,
	0x74, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x04, 0x06, 0xc0, 0x00, 0x02, 0x01,
	0x5f, 0x12, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x1f, 0x0e, 0x31, 0x39, 0x38, 0x2e,
	0x35, 0x31, 0x2e, 0x31, 0x30, 0x30, 0x2e, 0x37, 0x18, 0x05, 0x01, 0x02,
	0x03, 0x06, 0x06, 0x00, 0x00, 0x00, 0x08,
};
/* The same script: hide(b"", ...) and hide(bytes(range(0x20, 0xa0)), ...). */
static const char layout_empty_hex[] = "c31f0f8010d4eff1660b6096e4bceae0";
static const char layout_128_hex[] =
    "e33e2da334f1c9d64e224abdc891c4cf0cd28371c3342bec9d35edd1eca66532"
    "cb7dd1efa369c73785628e788d63527d56af701c938ee8b38e3e07b78cc49d0b"
    "c130de329ccf9ca2035f4d8f781a0bd1a994b896dc01ac6af3ab6e840b3fbd4f"
    "51311126c0c9e88917d0f48ffc27e9f3d97623cdd4dbec41e0c976812ba69c46";

static void
hex_to(const char *hex, uint8_t *out, size_t n)
{
	size_t i;
	unsigned int v;

	for (i = 0; i < n; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (uint8_t)v;
	}
}

static void
test_request(void)
{
	const char *secret = "s3cr3t-for-the-layout-test";
	static const uint8_t ip4[4] = { 192, 0, 2, 1 };
	static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t state[3] = { 1, 2, 3 };
	uint8_t auth[16], out[RADIUS_PASSWORD_MAX], want[RADIUS_PASSWORD_MAX];
	uint8_t md[EVP_MAX_MD_SIZE], saved[16], longstate[RADIUS_STATE_MAX + 1];
	char pw128[RADIUS_PASSWORD_MAX + 2], user[RADIUS_VALUE_MAX + 2];
	struct radius_request_params p;
	struct radius_request req, req2;
	unsigned int mdlen;
	size_t i, olen;
	int r;

	for (i = 0; i < 16; i++)
		auth[i] = (uint8_t)(0xa0 + i);
	memset(&p, 0, sizeof(p));
	p.user = "alice";
	p.password = "correct horse battery staple";
	p.nas_identifier = "moat-test";
	p.nas_ipv4 = ip4;
	p.nas_ipv6 = ip6;
	p.calling_station = "198.51.100.7";
	p.state = state;
	p.state_len = sizeof(state);
	r = radius_request_build_with(&req, &p, (const uint8_t *)secret,
	    strlen(secret), 0x5a, auth);
	CHECK(r == 0 && req.len == sizeof(layout_expected) &&
	    memcmp(req.packet, layout_expected, req.len) == 0,
	    "request bytes equal the independent computation (len %zu)", req.len);
	CHECK(req.id == 0x5a && memcmp(req.authenticator, auth, 16) == 0);

	/* Message-Authenticator first, and its HMAC checks with OpenSSL's HMAC(). */
	CHECK(req.packet[20] == RADIUS_ATTR_MESSAGE_AUTHENTICATOR &&
	    req.packet[21] == 18, "Message-Authenticator is the first attribute");
	memcpy(saved, req.packet + 22, 16);
	memset(req.packet + 22, 0, 16);
	HMAC(EVP_md5(), secret, (int)strlen(secret), req.packet, req.len, md,
	    &mdlen);
	CHECK(mdlen == 16 && memcmp(md, saved, 16) == 0, "request HMAC-MD5");

	/* Empty and 128-byte passwords. */
	r = radius_hide_password(out, sizeof(out), &olen, (const uint8_t *)"", 0,
	    (const uint8_t *)secret, strlen(secret), auth);
	hex_to(layout_empty_hex, want, 16);
	CHECK(r == 0 && olen == 16 && memcmp(out, want, 16) == 0, "empty password");
	for (i = 0; i < 128; i++)
		pw128[i] = (char)(0x20 + i);
	r = radius_hide_password(out, sizeof(out), &olen, (const uint8_t *)pw128,
	    128, (const uint8_t *)secret, strlen(secret), auth);
	hex_to(layout_128_hex, want, 128);
	CHECK(r == 0 && olen == 128 && memcmp(out, want, 128) == 0,
	    "128-byte password");
	CHECK(radius_hide_password(out, sizeof(out), &olen,
	    (const uint8_t *)pw128, 129, (const uint8_t *)secret, strlen(secret),
	    auth) == MOAT_ERR_TOO_LONG, "129-byte password refused");
	CHECK(radius_hide_password(out, 16, &olen, (const uint8_t *)pw128, 17,
	    (const uint8_t *)secret, strlen(secret), auth) == MOAT_ERR_TOO_LONG,
	    "output room is checked");

	/* Bounds. */
	memset(&p, 0, sizeof(p));
	p.user = "u";
	p.password = "pw";
	p.nas_identifier = "moat";
	CHECK(radius_request_build(&req, &p, (const uint8_t *)secret,
	    strlen(secret)) == 0 && radius_request_build(&req2, &p,
	    (const uint8_t *)secret, strlen(secret)) == 0 &&
	    memcmp(req.authenticator, req2.authenticator, 16) != 0,
	    "fresh Request Authenticators");
	CHECK(req.len == (size_t)(req.packet[2] << 8 | req.packet[3]));
	/* Service-Type Authenticate-Only is the last attribute by default. */
	CHECK(req.packet[req.len - 6] == RADIUS_ATTR_SERVICE_TYPE &&
	    req.packet[req.len - 1] == RADIUS_SERVICE_AUTHENTICATE_ONLY);
	memset(user, 'u', sizeof(user));
	user[RADIUS_VALUE_MAX] = '\0';
	p.user = user;
	CHECK(radius_request_build(&req, &p, (const uint8_t *)secret,
	    strlen(secret)) == 0, "253-byte user name");
	user[RADIUS_VALUE_MAX] = 'u';
	user[RADIUS_VALUE_MAX + 1] = '\0';
	CHECK(radius_request_build(&req, &p, (const uint8_t *)secret,
	    strlen(secret)) == MOAT_ERR_TOO_LONG, "254-byte user name");
	CHECK(is_zero(&req, sizeof(req)), "a refused request is wiped");
	p.user = "";
	CHECK(radius_request_build(&req, &p, (const uint8_t *)secret,
	    strlen(secret)) == MOAT_ERR_INVALID, "empty user name");
	p.user = "ali\nce";
	CHECK(radius_request_build(&req, &p, (const uint8_t *)secret,
	    strlen(secret)) == MOAT_ERR_INVALID, "control character in user name");
	p.user = "alice";
	pw128[128] = '\0';
	p.password = pw128;
	CHECK(radius_request_build(&req, &p, (const uint8_t *)secret,
	    strlen(secret)) == 0, "128-byte password in a request");
	pw128[128] = 'x';
	pw128[129] = '\0';
	CHECK(radius_request_build(&req, &p, (const uint8_t *)secret,
	    strlen(secret)) == MOAT_ERR_TOO_LONG, "129-byte password in a request");
	p.password = "pw";
	p.state = longstate;
	p.state_len = 0;
	CHECK(radius_request_build(&req, &p, (const uint8_t *)secret,
	    strlen(secret)) == MOAT_ERR_INVALID, "empty State");
	memset(longstate, 7, sizeof(longstate));
	p.state_len = RADIUS_STATE_MAX;
	CHECK(radius_request_build(&req, &p, (const uint8_t *)secret,
	    strlen(secret)) == 0, "253-byte State");
	p.state_len = RADIUS_STATE_MAX + 1;
	CHECK(radius_request_build(&req, &p, (const uint8_t *)secret,
	    strlen(secret)) == MOAT_ERR_INVALID, "254-byte State");
	p.state = NULL;
	p.nas_identifier = NULL;
	CHECK(radius_request_build(&req, &p, (const uint8_t *)secret,
	    strlen(secret)) == MOAT_ERR_INVALID, "no NAS-Identifier");
	p.nas_identifier = "moat";
	CHECK(radius_request_build(&req, &p, (const uint8_t *)"", 0) ==
	    MOAT_ERR_INVALID, "empty secret");
	radius_request_clear(&req);
	radius_request_clear(&req2);
}

/* ---------- replies: recorded from FreeRADIUS ---------- */

static const char challenge_text[] =
    "Enter the 6-digit code\nfrom your authenticator app";

static void
test_recorded(void)
{
	char dir[4096], path[8192];
	struct radius_request reqs[4];
	struct radius_reply rep;
	const char *src = getenv("MOAT_SOURCE_DIR"), *why;
	struct dirent *de;
	uint8_t data[RADIUS_PACKET_MAX + 2];
	size_t n, seen = 0, mutations = 0;
	unsigned int v, i;
	FILE *f;
	DIR *d;
	int r;

	for (i = 0; i < 4; i++)
		if (radius_harness_request(i, &reqs[i]) != 0)
			abort();
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/radius_reply",
	    src != NULL ? src : ".");
	if ((d = opendir(dir)) == NULL) {
		CHECK(0, "cannot open %s (set MOAT_SOURCE_DIR)", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "rec-freeradius-", 15) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			abort();
		n = fread(data, 1, sizeof(data), f);
		fclose(f);
		seen++;
		if (n < 2) {
			CHECK(0, "%s is empty", de->d_name);
			continue;
		}
		v = RADIUS_HARNESS_VARIANT(data[0]);
		CHECK(data[0] == (v << 1), "%s: recorded seeds need no flags",
		    de->d_name);
		r = verify(&reqs[v], data + 1, n - 1, 0, &rep, &why);
		CHECK(r == 0 && rep.signed_reply == 1, "%s verifies: %s",
		    de->d_name, why);
		if (strstr(de->d_name, "challenge") != NULL) {
			CHECK(rep.code == RADIUS_CODE_ACCESS_CHALLENGE &&
			    strcmp(rep.message, challenge_text) == 0 &&
			    rep.state_len == sizeof(radius_harness_state) &&
			    memcmp(rep.state, radius_harness_state,
			    sizeof(radius_harness_state)) == 0,
			    "%s: message \"%s\", State", de->d_name, rep.message);
		} else if (strstr(de->d_name, "reject") != NULL)
			CHECK(rep.code == RADIUS_CODE_ACCESS_REJECT, "%s",
			    de->d_name);
		else
			CHECK(rep.code == RADIUS_CODE_ACCESS_ACCEPT, "%s",
			    de->d_name);
		/* Against another request (id and authenticator) it fails. */
		CHECK(verify(&reqs[(v + 1) & 3], data + 1, n - 1, 1, &rep,
		    NULL) != 0, "%s against another request", de->d_name);
		mutations += mutate_all(de->d_name, &reqs[v], data + 1, n - 1, 0);
		mutations += mutate_all(de->d_name, &reqs[v], data + 1, n - 1, 1);
	}
	closedir(d);
	CHECK(seen >= 5, "%zu recorded FreeRADIUS replies (want 5)", seen);
	printf("recorded replies: %zu, mutations refused: %zu\n", seen, mutations);
	for (i = 0; i < 4; i++)
		radius_request_clear(&reqs[i]);
}

/* ---------- replies: synthetic ---------- */

static void
test_synthetic(void)
{
	static const uint8_t ma_like[18] = { RADIUS_ATTR_MESSAGE_AUTHENTICATOR, 18 };
	struct radius_request reqs[4], *req;
	struct radius_reply rep;
	struct pkt p, q;
	const char *why;
	uint8_t st[2] = { 0xaa, 0xbb }, big[250];
	size_t i, mutations = 0;
	int r;

	for (i = 0; i < 4; i++)
		if (radius_harness_request((unsigned int)i, &reqs[i]) != 0)
			abort();
	req = &reqs[3];

	/* Good Accept, Message-Authenticator last (as FreeRADIUS 3.2.1 sends it). */
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, "Welcome", 7);
	pkt_ma(&p);
	pkt_sign(&p, req);
	r = verify(req, p.d, p.n, 0, &rep, &why);
	CHECK(r == 0 && rep.code == RADIUS_CODE_ACCESS_ACCEPT &&
	    rep.signed_reply && strcmp(rep.message, "Welcome") == 0 &&
	    rep.message_len == 7 && rep.state_len == 0 && rep.echo == 0,
	    "signed Accept: %s", why);
	write_seed("accept-ma-last", 3 << 1, &p);
	mutations += mutate_all("accept-ma-last", req, p.d, p.n, 0);
	mutations += mutate_all("accept-ma-last", req, p.d, p.n, 1);

	/* Message-Authenticator first is fine too. */
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_ma(&p);
	pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, "Welcome", 7);
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 0, &rep, &why) == 0, "MA first: %s", why);
	write_seed("accept-ma-first", 3 << 1, &p);

	/* Misplaced: the same signed reply with the attributes swapped. */
	memcpy(&q, &p, sizeof(q));
	memcpy(q.d + 20, p.d + 38, 9);
	memcpy(q.d + 29, p.d + 20, 18);
	r = verify(req, q.d, q.n, 0, &rep, &why);
	CHECK(r == MOAT_ERR_AUTH, "moved Message-Authenticator: %s", why);
	pkt_fix_rauth(&q, req);
	r = verify(req, q.d, q.n, 0, &rep, &why);
	CHECK(r == MOAT_ERR_AUTH && strcmp(why, "wrong Message-Authenticator") == 0,
	    "moved Message-Authenticator, Response Authenticator fixed: %s", why);
	write_seed("accept-ma-moved", 3 << 1, &q);

	/* Reject with a message; Challenge with State and two messages. */
	pkt_start(&p, RADIUS_CODE_ACCESS_REJECT);
	pkt_ma(&p);
	pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, "Wrong password", 14);
	pkt_sign(&p, req);
	r = verify(req, p.d, p.n, 0, &rep, &why);
	CHECK(r == 0 && rep.code == RADIUS_CODE_ACCESS_REJECT &&
	    strcmp(rep.message, "Wrong password") == 0, "signed Reject: %s", why);
	write_seed("reject", 3 << 1, &p);
	mutations += mutate_all("reject", req, p.d, p.n, 0);

	pkt_start(&p, RADIUS_CODE_ACCESS_CHALLENGE);
	pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, "Code?", 5);
	pkt_attr(&p, RADIUS_ATTR_STATE, st, 2);
	pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, "", 0);
	pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, "6 digits", 8);
	pkt_attr(&p, 26, "\0\0\x01\x37\x01\x03x", 7);	/* a Vendor-Specific, ignored */
	pkt_attr(&p, RADIUS_ATTR_PROMPT, "\0\0\0\x01", 4);	/* Echo */
	pkt_ma(&p);
	pkt_sign(&p, req);
	r = verify(req, p.d, p.n, 0, &rep, &why);
	CHECK(r == 0 && rep.code == RADIUS_CODE_ACCESS_CHALLENGE &&
	    strcmp(rep.message, "Code?\n6 digits") == 0 && rep.state_len == 2 &&
	    memcmp(rep.state, st, 2) == 0 && rep.echo == 1,
	    "signed Challenge: %s \"%s\"", why, rep.message);
	/* Prompt No-Echo (0) and an unknown value (2) mean "hidden". */
	p.d[p.n - 18 - 1] = 0;
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 0, &rep, &why) == 0 && rep.echo == 0,
	    "Prompt No-Echo: %s", why);
	p.d[p.n - 18 - 1] = 2;
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 0, &rep, &why) == 0 && rep.echo == 0,
	    "Prompt 2: %s", why);
	p.d[p.n - 18 - 1] = 1;
	pkt_sign(&p, req);
	write_seed("challenge", 3 << 1, &p);
	write_seed("resign-challenge", 3 << 1 | RADIUS_HARNESS_RESIGN, &p);
	mutations += mutate_all("challenge", req, p.d, p.n, 0);

	/* Wrong identifier (otherwise correctly signed for it). */
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_ma(&p);
	if (radius_harness_sign(p.d, p.n, (uint8_t)(req->id + 1),
	    req->authenticator, SECRET) != 0)
		abort();
	r = verify(req, p.d, p.n, 1, &rep, &why);
	CHECK(r == MOAT_ERR_PROTOCOL && strcmp(why,
	    "identifier of another request") == 0, "wrong id: %s", why);
	write_seed("wrong-id", 3 << 1 | 1, &p);

	/* Signed for another Request Authenticator. */
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_ma(&p);
	if (radius_harness_sign(p.d, p.n, req->id, reqs[0].authenticator,
	    SECRET) != 0)
		abort();
	r = verify(req, p.d, p.n, 1, &rep, &why);
	CHECK(r == MOAT_ERR_AUTH && strcmp(why, "wrong Response Authenticator") == 0,
	    "wrong authenticator: %s", why);
	write_seed("wrong-authenticator", 3 << 1 | 1, &p);

	/* Signed with another secret. */
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_ma(&p);
	if (radius_harness_sign(p.d, p.n, req->id, req->authenticator,
	    "another-secret") != 0)
		abort();
	CHECK(verify(req, p.d, p.n, 1, &rep, &why) == MOAT_ERR_AUTH,
	    "another secret: %s", why);

	/* No Message-Authenticator: refused unless allowed. */
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, "unsigned", 8);
	pkt_sign(&p, req);
	r = verify(req, p.d, p.n, 0, &rep, &why);
	CHECK(r == MOAT_ERR_AUTH && strcmp(why, "no Message-Authenticator") == 0,
	    "unsigned refused: %s", why);
	CHECK(is_zero(&rep, sizeof(rep)));
	r = verify(req, p.d, p.n, 1, &rep, &why);
	CHECK(r == 0 && rep.signed_reply == 0 &&
	    strcmp(rep.message, "unsigned") == 0, "unsigned allowed: %s", why);
	write_seed("unsigned", 3 << 1, &p);
	write_seed("unsigned-allowed", 3 << 1 | 1, &p);
	mutations += mutate_all("unsigned-allowed", req, p.d, p.n, 1);

	/* A Message-Authenticator look-alike inside a Reply-Message is text. */
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, ma_like, sizeof(ma_like));
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 0, &rep, &why) == MOAT_ERR_AUTH,
	    "MA inside a value is not an MA: %s", why);

	/* Bad Message-Authenticator (Response Authenticator right). */
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_ma(&p);
	pkt_sign(&p, req);
	p.d[22 + 5] ^= 0x10;
	pkt_fix_rauth(&p, req);
	r = verify(req, p.d, p.n, 1, &rep, &why);
	CHECK(r == MOAT_ERR_AUTH && strcmp(why, "wrong Message-Authenticator") == 0,
	    "bad MA: %s", why);
	write_seed("bad-ma", 3 << 1 | 1, &p);

	/* Duplicate Message-Authenticator. */
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_ma(&p);
	pkt_ma(&p);
	pkt_sign(&p, req);
	r = verify(req, p.d, p.n, 1, &rep, &why);
	CHECK(r == MOAT_ERR_PROTOCOL && strcmp(why,
	    "duplicate Message-Authenticator") == 0, "duplicate MA: %s", why);
	write_seed("duplicate-ma", 3 << 1 | 1, &p);

	/* Message-Authenticator of length 17 and 19. */
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_attr(&p, RADIUS_ATTR_MESSAGE_AUTHENTICATOR, big, 15);
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 1, &rep, &why) == MOAT_ERR_PROTOCOL,
	    "MA length 17: %s", why);
	write_seed("ma-length-17", 3 << 1 | 1, &p);
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_attr(&p, RADIUS_ATTR_MESSAGE_AUTHENTICATOR, big, 17);
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 1, &rep, &why) == MOAT_ERR_PROTOCOL,
	    "MA length 19: %s", why);

	/* Attribute lengths: 0, 1, past the end, a lone trailing byte. */
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_ma(&p);
	p.d[p.n++] = RADIUS_ATTR_REPLY_MESSAGE;
	p.d[p.n++] = 0;
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 1, &rep, &why) == MOAT_ERR_PROTOCOL &&
	    strcmp(why, "attribute length below 2") == 0, "length 0: %s", why);
	write_seed("attr-length-0", 3 << 1 | 1, &p);
	p.d[p.n - 1] = 1;
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 1, &rep, &why) == MOAT_ERR_PROTOCOL,
	    "length 1: %s", why);
	p.d[p.n - 1] = 3;
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 1, &rep, &why) == MOAT_ERR_PROTOCOL &&
	    strcmp(why, "attribute runs past the end") == 0, "past end: %s", why);
	write_seed("attr-past-end", 3 << 1 | 1, &p);
	p.n--;
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 1, &rep, &why) == MOAT_ERR_PROTOCOL &&
	    strcmp(why, "truncated attribute header") == 0, "lone byte: %s", why);

	/* Length field and datagram size must agree. */
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_ma(&p);
	pkt_sign(&p, req);
	p.d[p.n++] = 0;		/* one trailing byte outside the signed packet */
	CHECK(verify(req, p.d, p.n, 0, &rep, &why) == MOAT_ERR_PROTOCOL &&
	    strcmp(why, "Length field differs from the datagram") == 0,
	    "trailing byte: %s", why);
	write_seed("trailing-byte", 3 << 1, &p);
	CHECK(verify(req, p.d, 19, 0, &rep, &why) == MOAT_ERR_PROTOCOL,
	    "19 bytes: %s", why);
	CHECK(verify(req, p.d, 0, 0, &rep, &why) == MOAT_ERR_PROTOCOL, "0 bytes");

	/* Codes other than Accept, Reject, Challenge. */
	{
		static const uint8_t codes[] = { 0, 1, 4, 5, 12, 13, 255 };

		for (i = 0; i < sizeof(codes); i++) {
			pkt_start(&p, codes[i]);
			pkt_ma(&p);
			pkt_sign(&p, req);
			CHECK(verify(req, p.d, p.n, 1, &rep, &why) ==
			    MOAT_ERR_PROTOCOL, "code %u: %s", codes[i], why);
		}
		write_seed("code-access-request", 3 << 1 | 1, &p);
	}

	/* Duplicate and empty State. */
	pkt_start(&p, RADIUS_CODE_ACCESS_CHALLENGE);
	pkt_ma(&p);
	pkt_attr(&p, RADIUS_ATTR_STATE, st, 2);
	pkt_attr(&p, RADIUS_ATTR_STATE, st, 1);
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 1, &rep, &why) == MOAT_ERR_PROTOCOL &&
	    strcmp(why, "duplicate State") == 0, "duplicate State: %s", why);
	write_seed("duplicate-state", 3 << 1 | 1, &p);
	pkt_start(&p, RADIUS_CODE_ACCESS_CHALLENGE);
	pkt_ma(&p);
	pkt_attr(&p, RADIUS_ATTR_STATE, st, 0);
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 1, &rep, &why) == MOAT_ERR_PROTOCOL &&
	    strcmp(why, "empty State") == 0, "empty State: %s", why);

	/* A 253-byte State is kept whole. */
	memset(big, 0x5c, sizeof(big));
	pkt_start(&p, RADIUS_CODE_ACCESS_CHALLENGE);
	pkt_ma(&p);
	pkt_attr(&p, RADIUS_ATTR_STATE, big, 250);
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 0, &rep, &why) == 0 && rep.state_len == 250 &&
	    memcmp(rep.state, big, 250) == 0, "250-byte State: %s", why);

	/* Exactly 4096 bytes pass (message cut at 1024); 4097 are refused. */
	pkt_start(&p, RADIUS_CODE_ACCESS_REJECT);
	pkt_ma(&p);
	memset(big, 'x', sizeof(big));
	while (p.n + 2 + 250 <= RADIUS_PACKET_MAX)
		pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, big, 250);
	pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, big,
	    RADIUS_PACKET_MAX - p.n - 2);
	pkt_sign(&p, req);
	CHECK(p.n == RADIUS_PACKET_MAX);
	r = verify(req, p.d, p.n, 0, &rep, &why);
	CHECK(r == 0 && rep.message_len == RADIUS_MESSAGE_MAX &&
	    rep.message_truncated && strlen(rep.message) == RADIUS_MESSAGE_MAX &&
	    rep.message[250] == '\n' && rep.message[251] == 'x',
	    "4096 bytes: %s, %zu", why, rep.message_len);
	write_seed("max-size", 3 << 1, &p);
	pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, "", 0);
	p.n -= 1;	/* 4097: one byte of an attribute header past 4096 */
	pkt_sign(&p, req);
	CHECK(p.n == RADIUS_PACKET_MAX + 1);
	CHECK(verify(req, p.d, p.n, 1, &rep, &why) == MOAT_ERR_PROTOCOL &&
	    strcmp(why, "longer than 4096 bytes") == 0, "4097 bytes: %s", why);

	printf("synthetic mutations refused: %zu\n", mutations);
	for (i = 0; i < 4; i++)
		radius_request_clear(&reqs[i]);
}

/* ---------- Reply-Message sanitising ---------- */

static void
message_case(const struct radius_request *req, const char *name,
    const char *in, size_t inlen, const char *want)
{
	struct radius_reply rep;
	const char *why;
	struct pkt p;

	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_ma(&p);
	pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, in, inlen);
	pkt_sign(&p, req);
	CHECK(verify(req, p.d, p.n, 0, &rep, &why) == 0 &&
	    strcmp(rep.message, want) == 0 && rep.message_len == strlen(want),
	    "%s: got \"%s\" (%s)", name, rep.message, why);
	write_seed(name, 3 << 1, &p);
}

static void
test_messages(void)
{
	struct radius_request req;
	struct radius_reply rep;
	const char *why;
	struct pkt p;
	uint8_t e[252];
	size_t i;

	if (radius_harness_request(3, &req) != 0)
		abort();
#define MSG(name, in, want) message_case(&req, name, in, sizeof(in) - 1, want)
	MSG("msg-controls", "a\x1b[31mb\x07" "c\rd\te\x7f" "f\ng",
	    "a?[31mb?c?d?e?f\ng");
	MSG("msg-nul", "a\0b", "a?b");
	MSG("msg-utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	MSG("msg-c1", "a\xc2\x9b" "1m\xc2\x85", "a?1m?");
	MSG("msg-bad-utf8", "\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xff|\xe2\x82",
	    "??|???|????|?|??");
	MSG("msg-cut-utf8", "ok\xe2\x82", "ok??");
#undef MSG

	/* The 1024-byte cut never splits a UTF-8 sequence. */
	memset(e, 0, sizeof(e));
	for (i = 0; i + 1 < 251; i += 2) {
		e[i] = 0xc3;
		e[i + 1] = 0xa9;	/* U+00E9, 2 bytes */
	}
	pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
	pkt_ma(&p);
	/* 2 + 4 * (1 + 250) + 1: 17 bytes of room are left for 2-byte sequences. */
	pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, "xy", 2);
	for (i = 0; i < 5; i++)
		pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, e, 250);
	pkt_sign(&p, &req);
	CHECK(verify(&req, p.d, p.n, 0, &rep, &why) == 0 &&
	    rep.message_truncated && rep.message_len == RADIUS_MESSAGE_MAX - 1 &&
	    (unsigned char)rep.message[rep.message_len - 1] == 0xa9,
	    "cut at a sequence boundary: %zu bytes (%s)", rep.message_len, why);
	write_seed("msg-cut-boundary", 3 << 1, &p);
	write_seed("resign-msg-cut-boundary", 3 << 1 | RADIUS_HARNESS_RESIGN, &p);
	radius_request_clear(&req);
}

/* ---------- client configuration ---------- */

static void
test_servers(void)
{
	struct radius_config c;
	char err[256];

	radius_config_init(&c);
	CHECK(c.timeout_ms == RADIUS_DEFAULT_TIMEOUT_MS &&
	    c.retries == RADIUS_DEFAULT_RETRIES &&
	    strcmp(c.nas_identifier, "moat") == 0 && c.nservers == 0);
	CHECK(radius_config_add_server(&c, "127.0.0.1", err, sizeof(err)) == 0 &&
	    strcmp(c.servers[0].name, "127.0.0.1:1812") == 0, "%s", c.servers[0].name);
	CHECK(radius_config_add_server(&c, "192.0.2.1:1645", err, sizeof(err)) == 0 &&
	    strcmp(c.servers[1].name, "192.0.2.1:1645") == 0, "%s", c.servers[1].name);
	CHECK(radius_config_add_server(&c, "[::1]:18121", err, sizeof(err)) == 0 &&
	    strcmp(c.servers[2].name, "[::1]:18121") == 0 &&
	    c.servers[2].addr.ss_family == AF_INET6, "%s", c.servers[2].name);
	CHECK(radius_config_add_server(&c, "2001:db8::1", err, sizeof(err)) == 0 &&
	    strcmp(c.servers[3].name, "[2001:db8::1]:1812") == 0, "%s",
	    c.servers[3].name);
	CHECK(radius_config_add_server(&c, "192.0.2.9", err, sizeof(err)) ==
	    MOAT_ERR_CONFIG && strstr(err, "more than 4") != NULL, "%s", err);
	radius_config_init(&c);
	CHECK(radius_config_add_server(&c, "localhost", err, sizeof(err)) ==
	    MOAT_ERR_CONFIG && strstr(err, "localhost") != NULL, "%s", err);
	CHECK(radius_config_add_server(&c, "127.0.0.1:0", err, sizeof(err)) ==
	    MOAT_ERR_CONFIG, "%s", err);
	CHECK(radius_config_add_server(&c, "127.0.0.1:65536", err, sizeof(err)) ==
	    MOAT_ERR_CONFIG, "%s", err);
	CHECK(radius_config_add_server(&c, "127.0.0.1:", err, sizeof(err)) ==
	    MOAT_ERR_CONFIG, "%s", err);
	CHECK(radius_config_add_server(&c, "127.0.0.1:18x", err, sizeof(err)) ==
	    MOAT_ERR_CONFIG, "%s", err);
	CHECK(radius_config_add_server(&c, ":1812", err, sizeof(err)) ==
	    MOAT_ERR_CONFIG, "%s", err);
	CHECK(radius_config_add_server(&c, "[::1", err, sizeof(err)) ==
	    MOAT_ERR_CONFIG, "%s", err);
	CHECK(radius_config_add_server(&c, "[::1]x", err, sizeof(err)) ==
	    MOAT_ERR_CONFIG, "%s", err);
	CHECK(radius_config_add_server(&c, "", err, sizeof(err)) ==
	    MOAT_ERR_CONFIG, "%s", err);
	CHECK(radius_config_add_server(&c, "1.2.3.4\n", err, sizeof(err)) ==
	    MOAT_ERR_CONFIG && strstr(err, "\\x0a") != NULL, "escaped: %s", err);
	CHECK(c.nservers == 0);
	CHECK(radius_config_set_nas_address(&c, "192.0.2.1", err, sizeof(err)) == 0 &&
	    c.has_nas_ipv4 && c.nas_ipv4[0] == 192 && c.nas_ipv4[3] == 1);
	CHECK(radius_config_set_nas_address(&c, "2001:db8::2", err, sizeof(err)) == 0 &&
	    c.has_nas_ipv6 && c.nas_ipv6[15] == 2);
	CHECK(radius_config_set_nas_address(&c, "host", err, sizeof(err)) ==
	    MOAT_ERR_CONFIG, "%s", err);
	radius_config_clear(&c);
}

static int
write_file(const char *path, const void *data, size_t n, mode_t mode)
{
	int fd;

	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		return -1;
	if (write(fd, data, n) != (ssize_t)n || fchmod(fd, mode) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void
test_secret_file(void)
{
	char dir[] = "/tmp/moat-radius-test.XXXXXX", f[256], l[256], e[256];
	char longsec[RADIUS_SECRET_MAX + 2];
	struct radius_config c;
	char err[512];
	int r;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(f, sizeof(f), "%s/secret", dir);
	snprintf(l, sizeof(l), "%s/link", dir);
	snprintf(e, sizeof(e), "%s/missing", dir);
	radius_config_init(&c);

	CHECK(write_file(f, "0123456789abcdef-secret\n", 24, 0600) == 0);
	r = radius_secret_load(&c, f, err, sizeof(err));
	if (geteuid() == 0) {
		CHECK(r == 0 && c.secret_len == 23 &&
		    memcmp(c.secret, "0123456789abcdef-secret", 23) == 0,
		    "0600, trailing newline dropped: %s", r ? err : "");
		CHECK(write_file(f, " spaced secret kept whole ", 26, 0400) == 0 &&
		    radius_secret_load(&c, f, err, sizeof(err)) == 0 &&
		    c.secret_len == 26 && c.secret[0] == ' ', "0400, spaces kept");
		CHECK(write_file(f, "short", 5, 0600) == 0 &&
		    radius_secret_load(&c, f, err, sizeof(err)) == 0 &&
		    c.secret_len == 5, "a short secret is accepted with a warning");
		memset(longsec, 'k', sizeof(longsec));
		CHECK(write_file(f, longsec, RADIUS_SECRET_MAX, 0600) == 0 &&
		    radius_secret_load(&c, f, err, sizeof(err)) == 0 &&
		    c.secret_len == RADIUS_SECRET_MAX, "256 bytes");
		CHECK(write_file(f, longsec, RADIUS_SECRET_MAX + 1, 0600) == 0 &&
		    radius_secret_load(&c, f, err, sizeof(err)) == MOAT_ERR_CONFIG &&
		    c.secret_len == 0 && strstr(err, f) != NULL, "257 bytes: %s", err);
		CHECK(write_file(f, "secret-with-good-length", 23, 0600) == 0 &&
		    chown(f, 65534, 65534) == 0 &&
		    radius_secret_load(&c, f, err, sizeof(err)) == MOAT_ERR_CONFIG &&
		    strstr(err, "not by root") != NULL && strstr(err, f) != NULL,
		    "owned by another user: %s", err);
	} else
		printf("not root: skipping the owner and success checks\n");
	CHECK(write_file(f, "secret-with-good-length", 23, 0640) == 0 &&
	    radius_secret_load(&c, f, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strstr(err, "0640") != NULL && strstr(err, f) != NULL,
	    "group-readable: %s", err);
	CHECK(write_file(f, "secret-with-good-length", 23, 0604) == 0 &&
	    radius_secret_load(&c, f, err, sizeof(err)) == MOAT_ERR_CONFIG,
	    "other-readable: %s", err);
	CHECK(write_file(f, "", 0, 0600) == 0 &&
	    radius_secret_load(&c, f, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    (geteuid() != 0 || strstr(err, "empty") != NULL), "empty: %s", err);
	CHECK(write_file(f, "\n", 1, 0600) == 0 &&
	    radius_secret_load(&c, f, err, sizeof(err)) == MOAT_ERR_CONFIG,
	    "only a newline: %s", err);
	CHECK(write_file(f, "line-one\nline-two\n", 18, 0600) == 0 &&
	    radius_secret_load(&c, f, err, sizeof(err)) == MOAT_ERR_CONFIG,
	    "two lines: %s", err);
	CHECK(write_file(f, "secret\r\n", 8, 0600) == 0 &&
	    radius_secret_load(&c, f, err, sizeof(err)) == MOAT_ERR_CONFIG,
	    "CR: %s", err);
	CHECK(write_file(f, "sec\0ret", 7, 0600) == 0 &&
	    radius_secret_load(&c, f, err, sizeof(err)) == MOAT_ERR_CONFIG,
	    "NUL: %s", err);
	CHECK(write_file(f, "secret-with-good-length", 23, 0600) == 0 &&
	    symlink(f, l) == 0 &&
	    radius_secret_load(&c, l, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strstr(err, "symbolic link") != NULL, "symbolic link: %s", err);
	CHECK(radius_secret_load(&c, e, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strstr(err, e) != NULL, "missing: %s", err);
	CHECK(radius_secret_load(&c, dir, err, sizeof(err)) == MOAT_ERR_CONFIG,
	    "a directory: %s", err);
	CHECK(c.secret_len == 0 && is_zero(c.secret, sizeof(c.secret)),
	    "a refused file leaves no secret");
	unlink(f);
	unlink(l);
	rmdir(dir);
	radius_config_clear(&c);
}

/* ---------- a loopback exchange with a forked responder ---------- */

enum responder_mode { RESP_ACCEPT, RESP_NOISY, RESP_SILENT };

/*
 * The child: answers every Access-Request whose Message-Authenticator is
 * first and right (checked with OpenSSL's HMAC()) with a signed Accept;
 * RESP_NOISY sends a reply with another identifier first. Never returns.
 */
static void __attribute__((noreturn))
responder(int fd, enum responder_mode mode)
{
	uint8_t in[RADIUS_PACKET_MAX], md[EVP_MAX_MD_SIZE], ma[16];
	struct sockaddr_storage peer;
	socklen_t plen;
	unsigned int mdlen;
	struct pkt p;
	ssize_t n;

	for (;;) {
		plen = sizeof(peer);
		n = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&peer, &plen);
		if (n < 38 || mode == RESP_SILENT)
			continue;
		if (in[20] != RADIUS_ATTR_MESSAGE_AUTHENTICATOR || in[21] != 18)
			continue;
		memcpy(ma, in + 22, 16);
		memset(in + 22, 0, 16);
		HMAC(EVP_md5(), SECRET, (int)SECRET_LEN, in, (size_t)n, md, &mdlen);
		if (CRYPTO_memcmp(md, ma, 16) != 0)
			continue;
		if (mode == RESP_NOISY) {
			pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
			pkt_ma(&p);
			radius_harness_sign(p.d, p.n, (uint8_t)(in[1] + 1), in + 4,
			    SECRET);
			sendto(fd, p.d, p.n, 0, (struct sockaddr *)&peer, plen);
		}
		pkt_start(&p, RADIUS_CODE_ACCESS_ACCEPT);
		pkt_attr(&p, RADIUS_ATTR_REPLY_MESSAGE, "hello", 5);
		pkt_ma(&p);
		radius_harness_sign(p.d, p.n, in[1], in + 4, SECRET);
		sendto(fd, p.d, p.n, 0, (struct sockaddr *)&peer, plen);
	}
}

/* Binds a UDP socket on 127.0.0.1; returns it and its port in *port. */
static int
udp_bound(int *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0)
		abort();
	*port = ntohs(sin.sin_port);
	return fd;
}

static pid_t
start_responder(enum responder_mode mode, int *port)
{
	int fd = udp_bound(port);
	pid_t pid = fork();

	if (pid == -1)
		abort();
	if (pid == 0)
		responder(fd, mode);
	close(fd);
	return pid;
}

static void
stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
add_port(struct radius_config *c, int port)
{
	char spec[64], err[256];

	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	if (radius_config_add_server(c, spec, err, sizeof(err)) != 0)
		abort();
}

static void
test_exchange(void)
{
	struct radius_config c;
	struct radius_question q;
	struct radius_answer a;
	int port, dead_port, silent_fd, silent_port, fd;
	int64_t t0;
	pid_t pid;
	int r;

	memset(&q, 0, sizeof(q));
	q.user = "alice";
	q.response = "pw";
	q.calling_station = "192.0.2.7";

	/* Configuration errors send nothing. */
	radius_config_init(&c);
	CHECK(radius_exchange(&c, &q, &a) == MOAT_ERR_CONFIG &&
	    a.result == RADIUS_RESULT_TIMEOUT && a.sent == 0, "no server");
	add_port(&c, 9);
	CHECK(radius_exchange(&c, &q, &a) == MOAT_ERR_CONFIG && a.sent == 0,
	    "no secret");
	memcpy(c.secret, SECRET, SECRET_LEN);
	c.secret_len = SECRET_LEN;
	c.timeout_ms = 0;
	CHECK(radius_exchange(&c, &q, &a) == MOAT_ERR_CONFIG, "timeout 0");
	c.timeout_ms = 1000;
	q.user = "bad\x01user";
	CHECK(radius_exchange(&c, &q, &a) == MOAT_ERR_INVALID && a.sent == 0,
	    "user with a control character");
	q.user = "alice";
	radius_config_clear(&c);

	/* A dead port, a silent server, then a live one: failover. */
	fd = udp_bound(&dead_port);
	close(fd);
	silent_fd = udp_bound(&silent_port);
	pid = start_responder(RESP_ACCEPT, &port);
	radius_config_init(&c);
	memcpy(c.secret, SECRET, SECRET_LEN);
	c.secret_len = SECRET_LEN;
	c.timeout_ms = 150;
	c.retries = 1;
	add_port(&c, dead_port);
	add_port(&c, silent_port);
	add_port(&c, port);
	t0 = ms_now();
	r = radius_exchange(&c, &q, &a);
	CHECK(r == 0 && a.result == RADIUS_RESULT_ACCEPT && a.signed_reply &&
	    strcmp(a.message, "hello") == 0 && a.sent == 4 && a.dropped == 0,
	    "failover: r=%d result=%s sent=%u", r, radius_result_name(a.result),
	    a.sent);
	/* Two waits on the silent server, none on the dead one. */
	CHECK(ms_now() - t0 >= 300 && ms_now() - t0 < 2000, "failover took %lld ms",
	    (long long)(ms_now() - t0));
	stop(pid);

	/* Only the silent server: TIMEOUT after 1 + retries sends. */
	radius_config_init(&c);
	memcpy(c.secret, SECRET, SECRET_LEN);
	c.secret_len = SECRET_LEN;
	c.timeout_ms = 100;
	c.retries = 2;
	add_port(&c, silent_port);
	t0 = ms_now();
	r = radius_exchange(&c, &q, &a);
	CHECK(r == 0 && a.result == RADIUS_RESULT_TIMEOUT && a.sent == 3 &&
	    a.server[0] == '\0', "timeout: sent %u", a.sent);
	CHECK(ms_now() - t0 >= 300, "waited %lld ms", (long long)(ms_now() - t0));

	/* The overall budget ends the exchange before the timing would. */
	c.timeout_ms = 1000;
	add_port(&c, silent_port);	/* a second server: never reached */
	q.budget_ms = 250;
	t0 = ms_now();
	r = radius_exchange(&c, &q, &a);
	CHECK(r == 0 && a.result == RADIUS_RESULT_TIMEOUT && a.sent == 1 &&
	    ms_now() - t0 >= 250 && ms_now() - t0 < 1000,
	    "budget: sent %u in %lld ms", a.sent, (long long)(ms_now() - t0));
	q.budget_ms = 0;
	close(silent_fd);

	/* A reply with another identifier is dropped and the wait goes on. */
	pid = start_responder(RESP_NOISY, &port);
	radius_config_init(&c);
	memcpy(c.secret, SECRET, SECRET_LEN);
	c.secret_len = SECRET_LEN;
	c.timeout_ms = 2000;
	add_port(&c, port);
	r = radius_exchange(&c, &q, &a);
	CHECK(r == 0 && a.result == RADIUS_RESULT_ACCEPT && a.dropped == 1 &&
	    a.sent == 1, "noisy: result=%s dropped=%u",
	    radius_result_name(a.result), a.dropped);
	/*
	 * The wrong secret: the responder drops the request (its
	 * Message-Authenticator fails, as at FreeRADIUS); the exchange times out.
	 */
	memcpy(c.secret, "another-secret-of-some-length", 29);
	c.secret_len = 29;
	c.timeout_ms = 200;
	c.retries = 0;
	r = radius_exchange(&c, &q, &a);
	CHECK(r == 0 && a.result == RADIUS_RESULT_TIMEOUT, "wrong secret: %s",
	    radius_result_name(a.result));
	stop(pid);
	radius_config_clear(&c);
}

int
main(void)
{
	seed_dir = getenv("MOAT_RADIUS_WRITE_SEEDS");
	signal(SIGPIPE, SIG_IGN);
	test_rfc2865();
	test_request();
	test_recorded();
	test_synthetic();
	test_messages();
	test_servers();
	test_secret_file();
	test_exchange();
	CHECK(strcmp(radius_code_name(11), "Access-Challenge") == 0 &&
	    strcmp(radius_result_name(RADIUS_RESULT_CHALLENGE), "challenge") == 0);
	return check_summary();
}
