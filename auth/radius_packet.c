/*
 * radius_packet.c - encodes RADIUS Access-Requests and verifies replies
 * (RFC 2865, RFC 3579, RFC 5080; BLAST-RADIUS, CVE-2024-3596).
 *
 * Runs in the per-connection monitor (root). Trusts the shared secret and
 * the request parameters the monitor hands it (the user name and password
 * come from the network but were bounded by the monitor; they are bounded
 * again here). Trusts nothing in a reply: it is parsed through the bounded
 * buffer API, its Response Authenticator (MD5) and Message-Authenticator
 * (HMAC-MD5) are both checked in constant time, and only then are its
 * Reply-Message (made printable) and State (opaque bytes) handed out.
 * No I/O besides getrandom().
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "radius_packet.h"

#define ATTR_HDR	2	/* type + length */

const char *
radius_code_name(uint8_t code)
{
	switch (code) {
	case RADIUS_CODE_ACCESS_REQUEST:
		return "Access-Request";
	case RADIUS_CODE_ACCESS_ACCEPT:
		return "Access-Accept";
	case RADIUS_CODE_ACCESS_REJECT:
		return "Access-Reject";
	case RADIUS_CODE_ACCESS_CHALLENGE:
		return "Access-Challenge";
	default:
		return "unknown";
	}
}

/* --- crypto helpers --- */

/* One piece of a message that is hashed without being copied together. */
struct piece {
	const void *p;
	size_t n;
};

/* HMAC-MD5 under key over the pieces, in order. Returns 0 or MOAT_ERR_CRYPTO. */
static int
hmac_md5(uint8_t out[RADIUS_MA_LEN], const uint8_t *key, size_t keylen,
    const struct piece *v, size_t nv)
{
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	char digest[] = "MD5";
	size_t olen = 0, i;
	int r = MOAT_ERR_CRYPTO;

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return MOAT_ERR_CRYPTO;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, keylen, params) != 1)
		goto out;
	for (i = 0; i < nv; i++)
		if (EVP_MAC_update(ctx, v[i].p, v[i].n) != 1)
			goto out;
	if (EVP_MAC_final(ctx, out, &olen, RADIUS_MA_LEN) != 1 ||
	    olen != RADIUS_MA_LEN)
		goto out;
	r = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return r;
}

/* MD5 over the pieces, in order. Returns 0 or MOAT_ERR_CRYPTO. */
static int
md5(uint8_t out[16], const struct piece *v, size_t nv)
{
	EVP_MD_CTX *ctx;
	unsigned int olen = 0;
	size_t i;
	int r = MOAT_ERR_CRYPTO;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return MOAT_ERR_CRYPTO;
	if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
		goto out;
	for (i = 0; i < nv; i++)
		if (EVP_DigestUpdate(ctx, v[i].p, v[i].n) != 1)
			goto out;
	if (EVP_DigestFinal_ex(ctx, out, &olen) != 1 || olen != 16)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

int
radius_hide_password(uint8_t *out, size_t outlen, size_t *olen,
    const uint8_t *password, size_t len, const uint8_t *secret,
    size_t secret_len, const uint8_t authenticator[RADIUS_AUTH_LEN])
{
	uint8_t b[16];
	const uint8_t *prev = authenticator;
	size_t padded, i, j;
	int r;

	*olen = 0;
	if (len > RADIUS_PASSWORD_MAX)
		return MOAT_ERR_TOO_LONG;
	padded = len == 0 ? 16 : (len + 15) / 16 * 16;
	if (padded > outlen)
		return MOAT_ERR_TOO_LONG;
	for (i = 0; i < padded; i += 16) {
		struct piece v[2] = { { secret, secret_len }, { prev, 16 } };

		if ((r = md5(b, v, 2)) != 0) {
			OPENSSL_cleanse(out, padded);
			OPENSSL_cleanse(b, sizeof(b));
			return r;
		}
		for (j = 0; j < 16; j++)
			out[i + j] = (uint8_t)((i + j < len ? password[i + j] : 0) ^ b[j]);
		prev = out + i;
	}
	OPENSSL_cleanse(b, sizeof(b));
	*olen = padded;
	return 0;
}

/* --- the Access-Request --- */

/* Appends one attribute (value of 0..253 bytes). */
static int
put_attr(struct buf *b, uint8_t type, const void *value, size_t len)
{
	int r;

	if (len > RADIUS_VALUE_MAX)
		return MOAT_ERR_TOO_LONG;
	if ((r = buf_put_u8(b, type)) != 0 ||
	    (r = buf_put_u8(b, (uint8_t)(len + ATTR_HDR))) != 0 ||
	    (len > 0 && (r = buf_put_bytes(b, value, len)) != 0))
		return r;
	return 0;
}

/* A text attribute the request needs: 1..253 bytes, no control characters. */
static int
check_text(const char *s, int optional)
{
	size_t n, i;

	if (s == NULL || *s == '\0')
		return optional ? 0 : MOAT_ERR_INVALID;
	if ((n = strnlen(s, RADIUS_VALUE_MAX + 1)) > RADIUS_VALUE_MAX)
		return MOAT_ERR_TOO_LONG;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return MOAT_ERR_INVALID;
	return 0;
}

int
radius_request_build_with(struct radius_request *req,
    const struct radius_request_params *p, const uint8_t *secret,
    size_t secret_len, uint8_t id, const uint8_t authenticator[RADIUS_AUTH_LEN])
{
	static const uint8_t zero[RADIUS_MA_LEN];
	uint8_t hidden[RADIUS_PASSWORD_MAX], be[4];
	size_t pwlen, hlen, ma_off;
	struct piece v;
	uint32_t service;
	struct buf b;
	int r;

	memset(req, 0, sizeof(*req));
	if (secret == NULL || secret_len == 0 || secret_len > RADIUS_SECRET_MAX)
		return MOAT_ERR_INVALID;
	if ((r = check_text(p->user, 0)) != 0 ||
	    (r = check_text(p->nas_identifier, 0)) != 0 ||
	    (r = check_text(p->calling_station, 1)) != 0)
		return r;
	if (p->password == NULL)
		return MOAT_ERR_INVALID;
	if ((pwlen = strnlen(p->password, RADIUS_PASSWORD_MAX + 1)) >
	    RADIUS_PASSWORD_MAX)
		return MOAT_ERR_TOO_LONG;
	if (p->state != NULL &&
	    (p->state_len == 0 || p->state_len > RADIUS_STATE_MAX))
		return MOAT_ERR_INVALID;
	service = p->service_type != 0 ? p->service_type :
	    RADIUS_SERVICE_AUTHENTICATE_ONLY;

	req->id = id;
	memcpy(req->authenticator, authenticator, RADIUS_AUTH_LEN);
	if ((r = radius_hide_password(hidden, sizeof(hidden), &hlen,
	    (const uint8_t *)p->password, pwlen, secret, secret_len,
	    req->authenticator)) != 0)
		goto out;

	buf_init_fixed(&b, req->packet, sizeof(req->packet));
	/* The Length is written once every attribute is in. */
	if ((r = buf_put_u8(&b, RADIUS_CODE_ACCESS_REQUEST)) != 0 ||
	    (r = buf_put_u8(&b, id)) != 0 ||
	    (r = buf_put_u16(&b, 0)) != 0 ||
	    (r = buf_put_bytes(&b, req->authenticator, RADIUS_AUTH_LEN)) != 0)
		goto out;
	ma_off = buf_len(&b) + ATTR_HDR;
	if ((r = put_attr(&b, RADIUS_ATTR_MESSAGE_AUTHENTICATOR, zero,
	    sizeof(zero))) != 0 ||
	    (r = put_attr(&b, RADIUS_ATTR_USER_NAME, p->user,
	    strlen(p->user))) != 0 ||
	    (r = put_attr(&b, RADIUS_ATTR_USER_PASSWORD, hidden, hlen)) != 0 ||
	    (r = put_attr(&b, RADIUS_ATTR_NAS_IDENTIFIER, p->nas_identifier,
	    strlen(p->nas_identifier))) != 0)
		goto out;
	if (p->nas_ipv4 != NULL &&
	    (r = put_attr(&b, RADIUS_ATTR_NAS_IP_ADDRESS, p->nas_ipv4, 4)) != 0)
		goto out;
	if (p->nas_ipv6 != NULL &&
	    (r = put_attr(&b, RADIUS_ATTR_NAS_IPV6_ADDRESS, p->nas_ipv6, 16)) != 0)
		goto out;
	if (p->calling_station != NULL && *p->calling_station != '\0' &&
	    (r = put_attr(&b, RADIUS_ATTR_CALLING_STATION_ID, p->calling_station,
	    strlen(p->calling_station))) != 0)
		goto out;
	if (p->state != NULL &&
	    (r = put_attr(&b, RADIUS_ATTR_STATE, p->state, p->state_len)) != 0)
		goto out;
	be[0] = (uint8_t)(service >> 24);
	be[1] = (uint8_t)(service >> 16);
	be[2] = (uint8_t)(service >> 8);
	be[3] = (uint8_t)service;
	if ((r = put_attr(&b, RADIUS_ATTR_SERVICE_TYPE, be, 4)) != 0)
		goto out;
	req->len = buf_len(&b);
	if (req->len > RADIUS_PACKET_MAX) {
		r = MOAT_ERR_TOO_LONG;
		goto out;
	}
	req->packet[2] = (uint8_t)(req->len >> 8);
	req->packet[3] = (uint8_t)req->len;
	/* RFC 3579 §3.2: HMAC-MD5 over the packet, the attribute zeroed. */
	v.p = req->packet;
	v.n = req->len;
	r = hmac_md5(req->packet + ma_off, secret, secret_len, &v, 1);
out:
	OPENSSL_cleanse(hidden, sizeof(hidden));
	if (r != 0)
		radius_request_clear(req);
	return r;
}

int
radius_request_build(struct radius_request *req,
    const struct radius_request_params *p, const uint8_t *secret,
    size_t secret_len)
{
	uint8_t rnd[1 + RADIUS_AUTH_LEN];
	ssize_t n;
	int r;

	memset(req, 0, sizeof(*req));
	/* 17 bytes: getrandom() never returns short for requests <= 256. */
	do {
		n = getrandom(rnd, sizeof(rnd), 0);
	} while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(rnd))
		return MOAT_ERR_SYSTEM;
	r = radius_request_build_with(req, p, secret, secret_len, rnd[0],
	    rnd + 1);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return r;
}

void
radius_request_clear(struct radius_request *req)
{
	OPENSSL_cleanse(req, sizeof(*req));
}

/* --- the reply --- */

/*
 * Length of the well-formed UTF-8 sequence at s (n bytes left): 1..4, or
 * 0 if s does not start one (bad lead byte, overlong form, surrogate,
 * above U+10FFFF, or cut short).
 */
static size_t
utf8_seq(const uint8_t *s, size_t n)
{
	size_t want, i;
	uint8_t lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		want = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		want = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		want = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < want || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < want; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return want;
}

/*
 * Appends one Reply-Message value to rep->message (empty ones are
 * skipped): a '\n' before every value but the first; printable ASCII, '\n'
 * and well-formed UTF-8 other than C1 controls kept, every other byte (or
 * sequence) replaced by '?'.
 * Stops, setting message_truncated, when RADIUS_MESSAGE_MAX would be
 * passed; a sequence is never cut.
 */
static void
append_message(struct radius_reply *rep, const uint8_t *v, size_t n)
{
	size_t i = 0, k, room;

	if (rep->message_truncated || n == 0)
		return;
	if (rep->message_len > 0) {
		if (rep->message_len >= RADIUS_MESSAGE_MAX) {
			rep->message_truncated = 1;
			return;
		}
		rep->message[rep->message_len++] = '\n';
	}
	while (i < n) {
		room = RADIUS_MESSAGE_MAX - rep->message_len;
		k = utf8_seq(v + i, n - i);
		if (k == 1 && ((v[i] < 0x20 && v[i] != '\n') || v[i] == 0x7f))
			k = 0;
		/* U+0080..U+009F: C2 80..C2 9F. */
		if (k == 2 && v[i] == 0xc2 && v[i + 1] < 0xa0) {
			k = 0;
			i++;	/* the '?' below stands for both bytes */
		}
		if (room < (k == 0 ? 1 : k)) {
			rep->message_truncated = 1;
			break;
		}
		if (k == 0) {
			rep->message[rep->message_len++] = '?';
			i++;
		} else {
			memcpy(rep->message + rep->message_len, v + i, k);
			rep->message_len += k;
			i += k;
		}
	}
	rep->message[rep->message_len] = '\0';
}

static int
refuse(struct radius_reply *rep, const char **why, const char *reason, int r)
{
	OPENSSL_cleanse(rep, sizeof(*rep));
	if (why != NULL)
		*why = reason;
	return r;
}

int
radius_reply_verify(const struct radius_request *req, const uint8_t *pkt,
    size_t len, const uint8_t *secret, size_t secret_len, int allow_unsigned,
    struct radius_reply *rep, const char **why)
{
	static const uint8_t zero[RADIUS_MA_LEN];
	uint8_t code, id, type, alen, rauth[RADIUS_AUTH_LEN];
	uint8_t digest[16], mac[RADIUS_MA_LEN];
	const uint8_t *value;
	size_t ma_off = 0, nma = 0, nstate = 0;
	struct piece v[5];
	uint16_t length;
	struct buf b;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (why != NULL)
		*why = "ok";
	if (secret == NULL || secret_len == 0 || secret_len > RADIUS_SECRET_MAX)
		return refuse(rep, why, "no shared secret", MOAT_ERR_INVALID);
	if (len < RADIUS_HEADER_LEN)
		return refuse(rep, why, "shorter than a header", MOAT_ERR_PROTOCOL);
	if (len > RADIUS_PACKET_MAX)
		return refuse(rep, why, "longer than 4096 bytes", MOAT_ERR_PROTOCOL);

	buf_view(&b, pkt, len);
	if (buf_get_u8(&b, &code) != 0 || buf_get_u8(&b, &id) != 0 ||
	    buf_get_u16(&b, &length) != 0 ||
	    buf_get_bytes(&b, rauth, sizeof(rauth)) != 0)
		return refuse(rep, why, "short header", MOAT_ERR_PROTOCOL);
	if (length != len)
		return refuse(rep, why, "Length field differs from the datagram",
		    MOAT_ERR_PROTOCOL);
	if (code != RADIUS_CODE_ACCESS_ACCEPT &&
	    code != RADIUS_CODE_ACCESS_REJECT &&
	    code != RADIUS_CODE_ACCESS_CHALLENGE)
		return refuse(rep, why, "not an Accept, Reject or Challenge",
		    MOAT_ERR_PROTOCOL);
	if (id != req->id)
		return refuse(rep, why, "identifier of another request",
		    MOAT_ERR_PROTOCOL);

	/* Attribute framing; nothing is extracted before the checks pass. */
	while (buf_len(&b) > 0) {
		if (buf_get_u8(&b, &type) != 0 || buf_get_u8(&b, &alen) != 0)
			return refuse(rep, why, "truncated attribute header",
			    MOAT_ERR_PROTOCOL);
		if (alen < ATTR_HDR)
			return refuse(rep, why, "attribute length below 2",
			    MOAT_ERR_PROTOCOL);
		if (buf_peek(&b, alen - ATTR_HDR, &value) != 0)
			return refuse(rep, why, "attribute runs past the end",
			    MOAT_ERR_PROTOCOL);
		if (type == RADIUS_ATTR_MESSAGE_AUTHENTICATOR) {
			if (++nma > 1)
				return refuse(rep, why, "duplicate "
				    "Message-Authenticator", MOAT_ERR_PROTOCOL);
			if (alen != ATTR_HDR + RADIUS_MA_LEN)
				return refuse(rep, why, "Message-Authenticator "
				    "length is not 18", MOAT_ERR_PROTOCOL);
			ma_off = (size_t)(value - pkt);
		} else if (type == RADIUS_ATTR_STATE) {
			if (++nstate > 1)
				return refuse(rep, why, "duplicate State",
				    MOAT_ERR_PROTOCOL);
			if (alen == ATTR_HDR)
				return refuse(rep, why, "empty State",
				    MOAT_ERR_PROTOCOL);
		}
		if (buf_consume(&b, alen - ATTR_HDR) != 0)
			return refuse(rep, why, "attribute runs past the end",
			    MOAT_ERR_PROTOCOL);
	}

	/* RFC 2865 §3: MD5(Code+ID+Length+RequestAuth+Attributes+Secret). */
	v[0] = (struct piece){ pkt, 4 };
	v[1] = (struct piece){ req->authenticator, RADIUS_AUTH_LEN };
	v[2] = (struct piece){ pkt + RADIUS_HEADER_LEN, len - RADIUS_HEADER_LEN };
	v[3] = (struct piece){ secret, secret_len };
	if ((r = md5(digest, v, 4)) != 0)
		return refuse(rep, why, "MD5 failed", r);
	if (CRYPTO_memcmp(digest, rauth, RADIUS_AUTH_LEN) != 0)
		return refuse(rep, why, "wrong Response Authenticator",
		    MOAT_ERR_AUTH);

	if (nma == 0) {
		if (!allow_unsigned)
			return refuse(rep, why, "no Message-Authenticator",
			    MOAT_ERR_AUTH);
	} else {
		/*
		 * RFC 3579 §3.2: over the reply with the Request
		 * Authenticator in the header and the value zeroed.
		 */
		v[0] = (struct piece){ pkt, 4 };
		v[1] = (struct piece){ req->authenticator, RADIUS_AUTH_LEN };
		v[2] = (struct piece){ pkt + RADIUS_HEADER_LEN,
		    ma_off - RADIUS_HEADER_LEN };
		v[3] = (struct piece){ zero, RADIUS_MA_LEN };
		v[4] = (struct piece){ pkt + ma_off + RADIUS_MA_LEN,
		    len - ma_off - RADIUS_MA_LEN };
		if ((r = hmac_md5(mac, secret, secret_len, v, 5)) != 0)
			return refuse(rep, why, "HMAC-MD5 failed", r);
		if (CRYPTO_memcmp(mac, pkt + ma_off, RADIUS_MA_LEN) != 0)
			return refuse(rep, why, "wrong Message-Authenticator",
			    MOAT_ERR_AUTH);
		rep->signed_reply = 1;
	}

	/* Verified: now the content. */
	rep->code = code;
	buf_view(&b, pkt + RADIUS_HEADER_LEN, len - RADIUS_HEADER_LEN);
	while (buf_len(&b) > 0) {
		/* The framing was checked above; these cannot fail. */
		if (buf_get_u8(&b, &type) != 0 || buf_get_u8(&b, &alen) != 0 ||
		    alen < ATTR_HDR || buf_peek(&b, alen - ATTR_HDR, &value) != 0 ||
		    buf_consume(&b, alen - ATTR_HDR) != 0)
			return refuse(rep, why, "attribute framing",
			    MOAT_ERR_PROTOCOL);
		if (type == RADIUS_ATTR_REPLY_MESSAGE)
			append_message(rep, value, alen - ATTR_HDR);
		else if (type == RADIUS_ATTR_STATE) {
			memcpy(rep->state, value, alen - ATTR_HDR);
			rep->state_len = alen - ATTR_HDR;
		} else if (type == RADIUS_ATTR_PROMPT)
			rep->echo = alen == ATTR_HDR + 4 && value[0] == 0 &&
			    value[1] == 0 && value[2] == 0 && value[3] == 1;
	}
	return 0;
}
