/*
 * radius_client.h - one RADIUS authentication round trip over UDP with
 * Message-Authenticator sent and required (see docs/radius.md). Linked
 * only into moatd's monitor (root). The configuration and the shared
 * secret are trusted; the user name, the response and the State come from
 * the viewer (via moat-net) or from a server reply and are bounded here.
 */
#ifndef MOAT_RADIUS_CLIENT_H
#define MOAT_RADIUS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth/radius_packet.h"

#define RADIUS_SERVERS_MAX	4
#define RADIUS_DEFAULT_PORT	1812
#define RADIUS_DEFAULT_TIMEOUT_MS 3000
#define RADIUS_DEFAULT_RETRIES	2
#define RADIUS_TIMEOUT_MS_MAX	60000
#define RADIUS_RETRIES_MAX	10
#define RADIUS_SECRET_MIN_GOOD	16	/* shorter secrets are accepted with a warning */
#define RADIUS_SERVER_NAME_MAX	64

struct radius_server {
	struct sockaddr_storage addr;		/* numeric address and port */
	socklen_t addrlen;
	char name[RADIUS_SERVER_NAME_MAX];	/* "192.0.2.1:1812", "[::1]:1812" */
};

/* Filled by the monitor from its configuration; see radius_config_init(). */
struct radius_config {
	struct radius_server servers[RADIUS_SERVERS_MAX];	/* tried in order */
	size_t nservers;
	uint8_t secret[RADIUS_SECRET_MAX];	/* one secret for every server */
	size_t secret_len;
	char nas_identifier[RADIUS_VALUE_MAX + 1];	/* NAS-Identifier, required */
	int has_nas_ipv4;			/* 1: send NAS-IP-Address */
	uint8_t nas_ipv4[4];
	int has_nas_ipv6;			/* 1: send NAS-IPv6-Address */
	uint8_t nas_ipv6[16];
	unsigned int timeout_ms;	/* wait for a reply to each datagram, 1..60000 */
	unsigned int retries;		/* resends to one server after the first, 0..10 */
	uint32_t service_type;		/* 0: Authenticate-Only (8) */
	int allow_unsigned;		/* policy: accept replies without Message-Authenticator */
};

/* One question to the server. Pointers are borrowed. */
struct radius_question {
	const char *user;		/* User-Name, 1..253 bytes, no control characters */
	const char *response;		/* password, or the answer to a challenge, 0..128 bytes */
	const uint8_t *state;		/* State of the Challenge answered, or NULL */
	size_t state_len;
	const char *calling_station;	/* the viewer's address (Calling-Station-Id), or NULL */
	unsigned int budget_ms;		/* overall limit (e.g. the login grace left); 0: none */
};

enum radius_result {
	RADIUS_RESULT_TIMEOUT = 0,	/* no server gave a valid reply in time */
	RADIUS_RESULT_ACCEPT,
	RADIUS_RESULT_REJECT,
	RADIUS_RESULT_CHALLENGE,	/* ask the user message, answer with state */
};

struct radius_answer {
	enum radius_result result;
	/* Reply-Message lines, joined by '\n', printable, NUL-terminated. */
	char message[RADIUS_MESSAGE_MAX + 1];
	size_t message_len;
	uint8_t state[RADIUS_STATE_MAX];	/* for the next round of a Challenge */
	size_t state_len;
	int echo;			/* 1: the server asked to show the answer (Prompt = Echo) */
	int signed_reply;		/* 0 only when allow_unsigned let an unsigned reply in */
	char server[RADIUS_SERVER_NAME_MAX];	/* the server that answered, or "" */
	unsigned int sent;		/* datagrams sent, retransmissions included */
	unsigned int dropped;		/* datagrams received and dropped */
};

/* Sets c to no servers, no secret, NAS-Identifier "moat" and the default timing. */
void radius_config_init(struct radius_config *c);
/* Wipes the secret and everything else in c. */
void radius_config_clear(struct radius_config *c);

/*
 * Appends a server given as a numeric address with an optional port:
 * "192.0.2.1", "192.0.2.1:1812", "2001:db8::1", "[2001:db8::1]:1812",
 * "[fe80::1%eth0]:1812" (port 1812 when absent). No names are resolved.
 * Returns 0, or MOAT_ERR_CONFIG with a message in err (errlen bytes).
 */
int radius_config_add_server(struct radius_config *c, const char *spec,
    char *err, size_t errlen);

/*
 * Sets the NAS-IP-Address (an IPv4 address) or NAS-IPv6-Address (an IPv6
 * one) sent in every request. Returns 0, or MOAT_ERR_CONFIG with err set.
 */
int radius_config_set_nas_address(struct radius_config *c, const char *addr,
    char *err, size_t errlen);

/*
 * Loads the shared secret from path: a regular file (not a symbolic link)
 * owned by root with no group or other permission bits (0600 or 0400),
 * holding one line of 1..256 bytes without NUL or CR; one final "\n" is
 * not part of the secret. Secrets shorter than 16 bytes are accepted with
 * a warning in the log. Returns 0, or MOAT_ERR_CONFIG with a message that
 * names the file in err.
 */
int radius_secret_load(struct radius_config *c, const char *path,
    char *err, size_t errlen);

/*
 * Asks the configured servers in order, each with a fresh Access-Request
 * (fresh identifier and Request Authenticator) on its own connected UDP
 * socket, sent 1 + retries times, waiting timeout_ms after each send
 * (monotonic clock); q->budget_ms, when not 0, bounds the whole exchange,
 * which otherwise takes at most nservers * (1 + retries) * timeout_ms. A datagram from another address or port, with another
 * identifier, or failing radius_reply_verify() is dropped (counted; the
 * first is logged) and the wait goes on. A server that answers with ICMP
 * port unreachable is left for the next one. The first valid reply ends the
 * exchange. Returns 0 with a->result ACCEPT, REJECT, CHALLENGE or TIMEOUT
 * (no valid reply from any server); MOAT_ERR_CONFIG if c is unusable;
 * MOAT_ERR_INVALID or MOAT_ERR_TOO_LONG if q cannot be encoded (a user
 * name or response out of bounds: count it as a failed attempt); another
 * negative MOAT_ERR_* on a local failure; on every error nothing was sent
 * or a->result stays TIMEOUT. Logs every accepted unsigned reply as a
 * warning naming the server; never logs the secret or the response.
 */
int radius_exchange(const struct radius_config *c,
    const struct radius_question *q, struct radius_answer *a);

/* Returns "accept", "reject", "challenge" or "timeout". */
const char *radius_result_name(enum radius_result r);

#endif
