/*
 * radius_packet.h - RADIUS Access-Request encoding and reply verification
 * (RFC 2865, RFC 3579 Message-Authenticator, RFC 5080). Pure: no I/O
 * besides getrandom() for the Request Authenticator and the identifier.
 * Linked only into moatd's monitor (root). The shared secret and the
 * configuration are trusted; every byte of a reply is hostile until
 * radius_reply_verify() has accepted it, and Reply-Message and State stay
 * untrusted strings after that (bounded, made printable, opaque).
 */
#ifndef MOAT_RADIUS_PACKET_H
#define MOAT_RADIUS_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define RADIUS_CODE_ACCESS_REQUEST	1
#define RADIUS_CODE_ACCESS_ACCEPT	2
#define RADIUS_CODE_ACCESS_REJECT	3
#define RADIUS_CODE_ACCESS_CHALLENGE	11

#define RADIUS_ATTR_USER_NAME		1
#define RADIUS_ATTR_USER_PASSWORD	2
#define RADIUS_ATTR_NAS_IP_ADDRESS	4
#define RADIUS_ATTR_SERVICE_TYPE	6
#define RADIUS_ATTR_REPLY_MESSAGE	18
#define RADIUS_ATTR_STATE		24
#define RADIUS_ATTR_CALLING_STATION_ID	31
#define RADIUS_ATTR_NAS_IDENTIFIER	32
#define RADIUS_ATTR_PROMPT		76	/* RFC 2869 §5.10 */
#define RADIUS_ATTR_MESSAGE_AUTHENTICATOR 80
#define RADIUS_ATTR_NAS_IPV6_ADDRESS	95

#define RADIUS_SERVICE_AUTHENTICATE_ONLY 8	/* RFC 2865 §5.6, the default */

#define RADIUS_HEADER_LEN	20
#define RADIUS_PACKET_MAX	4096	/* RFC 2865 §3 */
#define RADIUS_AUTH_LEN		16	/* Request/Response Authenticator */
#define RADIUS_MA_LEN		16	/* Message-Authenticator value (HMAC-MD5) */
#define RADIUS_VALUE_MAX	253	/* bytes in one attribute's value */
#define RADIUS_PASSWORD_MAX	128	/* RFC 2865 §5.2: hidden password, padded */
#define RADIUS_STATE_MAX	RADIUS_VALUE_MAX
#define RADIUS_MESSAGE_MAX	1024	/* bytes of Reply-Message kept, joined */
#define RADIUS_SECRET_MAX	256	/* bytes in a shared secret */

/* What goes into one Access-Request. Pointers are borrowed. */
struct radius_request_params {
	const char *user;		/* User-Name: 1..253 bytes, no NUL */
	const char *password;		/* User-Password: 0..128 bytes */
	const uint8_t *state;		/* State from a Challenge, or NULL */
	size_t state_len;		/* 1..253 when state is set */
	const char *nas_identifier;	/* NAS-Identifier: 1..253 bytes */
	const char *calling_station;	/* Calling-Station-Id, or NULL */
	const uint8_t *nas_ipv4;	/* NAS-IP-Address (4 bytes), or NULL */
	const uint8_t *nas_ipv6;	/* NAS-IPv6-Address (16 bytes), or NULL */
	uint32_t service_type;		/* Service-Type; 0 = Authenticate-Only */
};

/*
 * One encoded Access-Request, kept to verify the reply it gets. The packet
 * holds the hidden password: radius_request_clear() wipes it.
 */
struct radius_request {
	uint8_t id;
	uint8_t authenticator[RADIUS_AUTH_LEN];
	uint8_t packet[RADIUS_PACKET_MAX];
	size_t len;
};

/* The verified content of a reply. */
struct radius_reply {
	uint8_t code;			/* RADIUS_CODE_ACCESS_ACCEPT, _REJECT or _CHALLENGE */
	int signed_reply;		/* 1: carried a verified Message-Authenticator */
	/* Reply-Message attributes joined by '\n', printable, NUL-terminated. */
	char message[RADIUS_MESSAGE_MAX + 1];
	size_t message_len;
	int message_truncated;		/* 1: more text arrived than RADIUS_MESSAGE_MAX */
	uint8_t state[RADIUS_STATE_MAX];	/* opaque bytes */
	size_t state_len;		/* 0: no State attribute */
	int echo;			/* 1: Prompt = Echo (show the answer typed) */
};

/*
 * Encodes an Access-Request into req with a fresh identifier and Request
 * Authenticator from getrandom(): Message-Authenticator first (HMAC-MD5
 * under secret over the packet with it zeroed), then User-Name, the
 * User-Password hidden per RFC 2865 §5.2, NAS-Identifier, the optional
 * NAS address, Calling-Station-Id and State, and Service-Type. Returns 0,
 * MOAT_ERR_INVALID or MOAT_ERR_TOO_LONG for a parameter out of bounds,
 * MOAT_ERR_SYSTEM if getrandom() fails, MOAT_ERR_CRYPTO if OpenSSL does.
 */
int radius_request_build(struct radius_request *req,
    const struct radius_request_params *p, const uint8_t *secret,
    size_t secret_len);

/*
 * As radius_request_build(), with the identifier and Request Authenticator
 * given instead of drawn (tests and the fuzz target: reproducible bytes).
 */
int radius_request_build_with(struct radius_request *req,
    const struct radius_request_params *p, const uint8_t *secret,
    size_t secret_len, uint8_t id, const uint8_t authenticator[RADIUS_AUTH_LEN]);

/* Wipes req (the hidden password is in its packet). */
void radius_request_clear(struct radius_request *req);

/*
 * Writes into out (outlen bytes) the RFC 2865 §5.2 hiding of password
 * (len bytes, at most RADIUS_PASSWORD_MAX) under secret and the Request
 * Authenticator: the password padded with NULs to a multiple of 16 (16 for
 * an empty one), each block XORed with MD5(secret + previous block).
 * Returns 0 with *olen set, MOAT_ERR_TOO_LONG if the password or the
 * result does not fit, MOAT_ERR_CRYPTO if MD5 fails.
 */
int radius_hide_password(uint8_t *out, size_t outlen, size_t *olen,
    const uint8_t *password, size_t len, const uint8_t *secret,
    size_t secret_len, const uint8_t authenticator[RADIUS_AUTH_LEN]);

/*
 * Verifies pkt (len bytes, the whole UDP payload) as the reply to req and
 * fills rep. Refused: a Length field other than len (trailing bytes are not
 * tolerated, since nothing authenticates them), len outside 20..4096, a
 * code other than Accept, Reject or Challenge, another identifier, an
 * attribute shorter than 2 bytes or running past the end, a wrong
 * Response Authenticator, more than one Message-Authenticator or one whose
 * length is not 18 or whose HMAC is wrong, more than one State or an empty
 * one. A Prompt attribute (4 bytes, 1 = Echo) sets rep->echo; any other
 * Prompt leaves it 0. A reply without Message-Authenticator is refused unless
 * allow_unsigned is set. Reply-Message and State are extracted only from
 * a reply that passed. Returns 0, MOAT_ERR_PROTOCOL (malformed or not for
 * req), MOAT_ERR_AUTH (an authenticator failed, or unsigned and not
 * allowed) or MOAT_ERR_CRYPTO; on error rep is zeroed and *why (if why is
 * not NULL) names the failed check in a static string.
 */
int radius_reply_verify(const struct radius_request *req, const uint8_t *pkt,
    size_t len, const uint8_t *secret, size_t secret_len, int allow_unsigned,
    struct radius_reply *rep, const char **why);

/* Returns "Access-Accept", "Access-Reject", ... or "unknown" for code. */
const char *radius_code_name(uint8_t code);

#endif
