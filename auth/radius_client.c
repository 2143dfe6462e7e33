/*
 * radius_client.c - RADIUS/UDP authentication exchanges for the second
 * factor: server list, shared-secret file, retries and deadlines.
 *
 * Runs in the per-connection monitor (root). Trusts its configuration and
 * the secret file once radius_secret_load() has checked (secret_file.c)
 * that only root can have written it. Trusts nothing that arrives on the
 * socket: every datagram must come from the server's address and port and
 * pass radius_reply_verify() (radius_packet.c), or it is dropped and the
 * wait goes on until the deadline. Logs to LOG_AUTHPRIV through privsep/log.h;
 * never logs the secret or the response, and escapes Reply-Message.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "radius_client.h"
#include "secret_file.h"
#include "privsep/clock.h"

#define SPEC_MAX	128	/* bytes in a server specification */
#define PATH_MAX_LEN	4096

const char *
radius_result_name(enum radius_result r)
{
	switch (r) {
	case RADIUS_RESULT_ACCEPT:
		return "accept";
	case RADIUS_RESULT_REJECT:
		return "reject";
	case RADIUS_RESULT_CHALLENGE:
		return "challenge";
	case RADIUS_RESULT_TIMEOUT:
	default:
		return "timeout";
	}
}

void
radius_config_init(struct radius_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->nas_identifier, sizeof(c->nas_identifier), "moat");
	c->timeout_ms = RADIUS_DEFAULT_TIMEOUT_MS;
	c->retries = RADIUS_DEFAULT_RETRIES;
}

void
radius_config_clear(struct radius_config *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

int
radius_config_add_server(struct radius_config *c, const char *spec,
    char *err, size_t errlen)
{
	char host[SPEC_MAX], espec[SPEC_MAX * 4], port[8];
	const char *p, *close_br, *portstr = NULL;
	struct addrinfo hints, *res = NULL;
	struct radius_server *s;
	size_t n;
	int r;

	n = strnlen(spec, SPEC_MAX);
	log_escape(espec, sizeof(espec), spec, n);
	if (n == 0 || n >= SPEC_MAX)
		return moat_config_error(err, errlen, "RADIUS server \"%s\": empty or longer "
		    "than %d bytes", espec, SPEC_MAX - 1);
	if (c->nservers >= RADIUS_SERVERS_MAX)
		return moat_config_error(err, errlen, "RADIUS server \"%s\": more than %d "
		    "servers", espec, RADIUS_SERVERS_MAX);
	if (spec[0] == '[') {
		if ((close_br = strchr(spec, ']')) == NULL)
			return moat_config_error(err, errlen, "RADIUS server \"%s\": missing "
			    "']'", espec);
		n = (size_t)(close_br - spec - 1);
		memcpy(host, spec + 1, n);
		host[n] = '\0';
		if (close_br[1] == ':')
			portstr = close_br + 2;
		else if (close_br[1] != '\0')
			return moat_config_error(err, errlen, "RADIUS server \"%s\": expected "
			    "\":PORT\" after ']'", espec);
	} else if ((p = strchr(spec, ':')) != NULL && strchr(p + 1, ':') == NULL) {
		/* One colon: IPv4 address and port. */
		n = (size_t)(p - spec);
		memcpy(host, spec, n);
		host[n] = '\0';
		portstr = p + 1;
	} else
		memcpy(host, spec, strlen(spec) + 1);	/* IPv4 or bare IPv6 */
	if (portstr != NULL) {
		if (*portstr == '\0' || strlen(portstr) > 5 ||
		    strspn(portstr, "0123456789") != strlen(portstr) ||
		    atoi(portstr) < 1 || atoi(portstr) > 65535)
			return moat_config_error(err, errlen, "RADIUS server \"%s\": port must "
			    "be 1..65535", espec);
		snprintf(port, sizeof(port), "%d", atoi(portstr));
	} else
		snprintf(port, sizeof(port), "%d", RADIUS_DEFAULT_PORT);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0 || res == NULL)
		return moat_config_error(err, errlen, "RADIUS server \"%s\": not a numeric "
		    "IPv4 or IPv6 address (host names are not resolved)", espec);
	if (res->ai_addrlen > sizeof(s->addr) ||
	    (res->ai_family != AF_INET && res->ai_family != AF_INET6)) {
		freeaddrinfo(res);
		return moat_config_error(err, errlen, "RADIUS server \"%s\": unsupported "
		    "address family", espec);
	}
	s = &c->servers[c->nservers];
	memset(s, 0, sizeof(*s));
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	if (getnameinfo((struct sockaddr *)&s->addr, s->addrlen, host,
	    sizeof(host), port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return moat_config_error(err, errlen, "RADIUS server \"%s\": cannot format "
		    "the address", espec);
	snprintf(s->name, sizeof(s->name), s->addr.ss_family == AF_INET6 ?
	    "[%s]:%s" : "%s:%s", host, port);
	c->nservers++;
	return 0;
}

int
radius_config_set_nas_address(struct radius_config *c, const char *addr,
    char *err, size_t errlen)
{
	char eaddr[SPEC_MAX * 4];

	if (inet_pton(AF_INET, addr, c->nas_ipv4) == 1) {
		c->has_nas_ipv4 = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, addr, c->nas_ipv6) == 1) {
		c->has_nas_ipv6 = 1;
		return 0;
	}
	log_escape(eaddr, sizeof(eaddr), addr, strnlen(addr, SPEC_MAX));
	return moat_config_error(err, errlen, "RADIUS NAS address \"%s\": not "
	    "a numeric IPv4 or IPv6 address", eaddr);
}

int
radius_secret_load(struct radius_config *c, const char *path,
    char *err, size_t errlen)
{
	uint8_t buf[RADIUS_SECRET_MAX + 3];
	char epath[256];
	size_t len;
	int r = MOAT_ERR_CONFIG;

	log_escape(epath, sizeof(epath), path, strnlen(path, PATH_MAX_LEN));
	OPENSSL_cleanse(c->secret, sizeof(c->secret));
	c->secret_len = 0;
	if (secret_file_read(path, "RADIUS secret file", buf, sizeof(buf),
	    &len, err, errlen) != 0)
		goto out;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > RADIUS_SECRET_MAX) {
		moat_config_error(err, errlen, "%s: RADIUS secret longer than %d bytes",
		    epath, RADIUS_SECRET_MAX);
		goto out;
	}
	if (len == 0) {
		moat_config_error(err, errlen, "%s: RADIUS secret file is empty", epath);
		goto out;
	}
	if (memchr(buf, '\0', len) != NULL || memchr(buf, '\n', len) != NULL ||
	    memchr(buf, '\r', len) != NULL) {
		moat_config_error(err, errlen, "%s: RADIUS secret holds a NUL, CR "
		    "or a second line; it must be one line", epath);
		goto out;
	}
	memcpy(c->secret, buf, len);
	c->secret_len = len;
	if (len < RADIUS_SECRET_MIN_GOOD)
		warn_f("%s: RADIUS secret is only %zu bytes; use at least %d "
		    "random bytes", epath, len, RADIUS_SECRET_MIN_GOOD);
	r = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

/* --- the exchange --- */

/* Same family, address and port (and IPv6 scope). */
static int
same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0 &&
		    a6->sin6_scope_id == b6->sin6_scope_id;
	return 0;
}

/* Counts a dropped datagram; logs the first of the exchange. */
static void
drop(struct radius_answer *a, const struct radius_server *s, const char *why)
{
	if (a->dropped++ == 0)
		warn_f("RADIUS server %s: dropped a reply (%s); still waiting",
		    s->name, why);
}

enum server_outcome {
	SERVER_ANSWERED,	/* a valid reply is in rep */
	SERVER_SILENT,		/* no valid reply before the last deadline */
	SERVER_UNREACHABLE,	/* ICMP port unreachable or a send error */
};

/*
 * Sends req to s up to 1 + retries times and waits for a valid reply, but
 * not past end (monotonic ms; 0: no overall limit). Returns 0 with
 * *outcome set, or a negative MOAT_ERR_* on a local failure.
 */
static int
ask_server(const struct radius_config *c, const struct radius_server *s,
    const struct radius_request *req, int64_t end, struct radius_reply *rep,
    struct radius_answer *a, enum server_outcome *outcome)
{
	/* One byte more than the largest packet, so an oversize one shows. */
	uint8_t dgram[RADIUS_PACKET_MAX + 1];
	struct sockaddr_storage from;
	socklen_t fromlen;
	struct pollfd pfd;
	int64_t deadline, left;
	unsigned int attempt;
	const char *why;
	ssize_t n;
	int fd, pr, r = 0;

	*outcome = SERVER_SILENT;
	if ((fd = socket(s->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		error_f("RADIUS server %s: socket: %s", s->name, strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	/* connect(): the kernel filters other peers and reports ICMP errors. */
	if (connect(fd, (const struct sockaddr *)&s->addr, s->addrlen) == -1) {
		warn_f("RADIUS server %s: connect: %s", s->name, strerror(errno));
		*outcome = SERVER_UNREACHABLE;
		goto out;
	}
	for (attempt = 0; attempt <= c->retries; attempt++) {
		if (end != 0 && moat_monotonic_ms() >= end)
			break;
		do {
			n = send(fd, req->packet, req->len, 0);
		} while (n == -1 && errno == EINTR);
		if (n != (ssize_t)req->len) {
			warn_f("RADIUS server %s: send: %s", s->name,
			    n == -1 ? strerror(errno) : "short write");
			*outcome = SERVER_UNREACHABLE;
			goto out;
		}
		a->sent++;
		deadline = moat_monotonic_ms() + c->timeout_ms;
		if (end != 0 && deadline > end)
			deadline = end;
		while ((left = deadline - moat_monotonic_ms()) > 0) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			pr = poll(&pfd, 1, (int)left);
			if (pr == -1 && errno == EINTR)
				continue;
			if (pr == -1) {
				error_f("RADIUS server %s: poll: %s", s->name,
				    strerror(errno));
				r = MOAT_ERR_SYSTEM;
				goto out;
			}
			if (pr == 0)
				break;
			fromlen = sizeof(from);
			memset(&from, 0, sizeof(from));
			n = recvfrom(fd, dgram, sizeof(dgram), MSG_TRUNC,
			    (struct sockaddr *)&from, &fromlen);
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n == -1 && errno == ECONNREFUSED) {
				warn_f("RADIUS server %s: port unreachable",
				    s->name);
				*outcome = SERVER_UNREACHABLE;
				goto out;
			}
			if (n == -1) {
				warn_f("RADIUS server %s: recv: %s", s->name,
				    strerror(errno));
				*outcome = SERVER_UNREACHABLE;
				goto out;
			}
			if (fromlen > sizeof(from) || !same_peer(&from, &s->addr)) {
				drop(a, s, "from another address or port");
				continue;
			}
			if ((size_t)n > RADIUS_PACKET_MAX) {
				drop(a, s, "longer than 4096 bytes");
				continue;
			}
			if (radius_reply_verify(req, dgram, (size_t)n, c->secret,
			    c->secret_len, c->allow_unsigned, rep, &why) != 0) {
				drop(a, s, why);
				continue;
			}
			*outcome = SERVER_ANSWERED;
			goto out;
		}
	}
out:
	OPENSSL_cleanse(dgram, sizeof(dgram));
	close(fd);
	return r;
}

/* The configuration and question, checked before anything is sent. */
static int
check_input(const struct radius_config *c, const struct radius_question *q)
{
	if (c->nservers == 0 || c->nservers > RADIUS_SERVERS_MAX) {
		error_f("RADIUS: no server configured");
		return MOAT_ERR_CONFIG;
	}
	if (c->secret_len == 0 || c->secret_len > RADIUS_SECRET_MAX) {
		error_f("RADIUS: no shared secret loaded");
		return MOAT_ERR_CONFIG;
	}
	if (c->timeout_ms == 0 || c->timeout_ms > RADIUS_TIMEOUT_MS_MAX ||
	    c->retries > RADIUS_RETRIES_MAX) {
		error_f("RADIUS: timeout must be 1..%d ms and retries 0..%d",
		    RADIUS_TIMEOUT_MS_MAX, RADIUS_RETRIES_MAX);
		return MOAT_ERR_CONFIG;
	}
	if (q->user == NULL || q->response == NULL) {
		error_f("RADIUS: no user or no response");
		return MOAT_ERR_CONFIG;
	}
	return 0;
}

int
radius_exchange(const struct radius_config *c,
    const struct radius_question *q, struct radius_answer *a)
{
	struct radius_request_params p;
	struct radius_request req;
	struct radius_reply rep;
	enum server_outcome outcome = SERVER_SILENT;
	char emsg[RADIUS_MESSAGE_MAX * 4 + 1];
	const struct radius_server *s = NULL;
	int64_t end = 0;
	size_t i;
	int r;

	memset(a, 0, sizeof(*a));
	a->result = RADIUS_RESULT_TIMEOUT;
	if ((r = check_input(c, q)) != 0)
		return r;
	memset(&p, 0, sizeof(p));
	p.user = q->user;
	p.password = q->response;
	p.state = q->state_len > 0 ? q->state : NULL;
	p.state_len = q->state_len;
	p.nas_identifier = c->nas_identifier;
	p.calling_station = q->calling_station;
	p.nas_ipv4 = c->has_nas_ipv4 ? c->nas_ipv4 : NULL;
	p.nas_ipv6 = c->has_nas_ipv6 ? c->nas_ipv6 : NULL;
	p.service_type = c->service_type;
	if (q->budget_ms != 0)
		end = moat_monotonic_ms() + q->budget_ms;

	for (i = 0; i < c->nservers; i++) {
		s = &c->servers[i];
		if (end != 0 && moat_monotonic_ms() >= end) {
			info_f("RADIUS: the exchange's time budget is spent");
			break;
		}
		/* A fresh identifier and Request Authenticator per server. */
		if ((r = radius_request_build(&req, &p, c->secret,
		    c->secret_len)) != 0) {
			info_f("RADIUS: cannot encode the Access-Request: %s",
			    moat_strerror(r));
			return r;
		}
		r = ask_server(c, s, &req, end, &rep, a, &outcome);
		radius_request_clear(&req);
		if (r != 0)
			return r;
		if (outcome == SERVER_ANSWERED)
			break;
		info_f("RADIUS server %s: %s; %s", s->name,
		    outcome == SERVER_SILENT ? "no valid reply" : "unreachable",
		    i + 1 < c->nservers ? "trying the next server" :
		    "no server left");
	}
	if (a->dropped > 1)
		warn_f("RADIUS: %u replies dropped in this exchange", a->dropped);
	if (outcome != SERVER_ANSWERED)
		return 0;

	snprintf(a->server, sizeof(a->server), "%s", s->name);
	a->signed_reply = rep.signed_reply;
	memcpy(a->message, rep.message, rep.message_len + 1);
	a->message_len = rep.message_len;
	memcpy(a->state, rep.state, rep.state_len);
	a->state_len = rep.state_len;
	a->echo = rep.echo;
	switch (rep.code) {
	case RADIUS_CODE_ACCESS_ACCEPT:
		a->result = RADIUS_RESULT_ACCEPT;
		break;
	case RADIUS_CODE_ACCESS_CHALLENGE:
		a->result = RADIUS_RESULT_CHALLENGE;
		break;
	default:
		a->result = RADIUS_RESULT_REJECT;
		break;
	}
	if (!rep.signed_reply)
		warn_f("RADIUS server %s: accepted an unsigned %s (no "
		    "Message-Authenticator) because policy allows unsigned "
		    "RADIUS replies; this exchange is open to BLAST-RADIUS "
		    "(CVE-2024-3596)", s->name, radius_code_name(rep.code));
	log_escape(emsg, sizeof(emsg), a->message, a->message_len);
	info_f("RADIUS server %s: %s%s%s%s", s->name, radius_code_name(rep.code),
	    a->message_len > 0 ? " \"" : "", emsg,
	    a->message_len > 0 ? "\"" : "");
	OPENSSL_cleanse(&rep, sizeof(rep));
	return 0;
}
