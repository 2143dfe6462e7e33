/*
 * conn.c - moat-viewer's transport: a TCP connection to the server, read
 * and written in the clear, through TLS (VeNCrypt) or through RSA-AES
 * records (net/rfb_ra2.c). Runs in moat-viewer; trusts nothing the server
 * sends: a record is buffered only after its length (at most 65535 bytes)
 * is known, and its plaintext is used only after its tag checked out.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "privsep/errors.h"
#include "viewer/viewer.h"

int
viewer_conn_open(struct viewer_conn *c, const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, r;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	buf_init(&c->rec, 2 + RFB_RA2_MAX_RECORD + RFB_EAX_TAG_LEN);
	buf_init(&c->pt, RFB_RA2_MAX_RECORD);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		viewer_err("%s port %s: %s", host, port, gai_strerror(r));
		return MOAT_ERR_SYSTEM;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		viewer_err("cannot connect to %s port %s: %s", host, port,
		    strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	c->fd = fd;
	return 0;
}

void
viewer_conn_close(struct viewer_conn *c)
{
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	SSL_CTX_free(c->ctx);
	c->ctx = NULL;
	if (c->ra2) {
		rfb_ra2_dir_free(&c->rx);
		rfb_ra2_dir_free(&c->tx);
		c->ra2 = 0;
	}
	buf_free(&c->rec);
	buf_free(&c->pt);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/*
 * Whether a failed TLS read was the server's alert refusing the client
 * certificate (in TLS 1.3 it comes after the viewer finished its side of
 * the handshake); prints the alert if so.
 */
static int
client_cert_refused(void)
{
	unsigned long e;
	int reason;

	while ((e = ERR_get_error()) != 0) {
		if (ERR_GET_LIB(e) != ERR_LIB_SSL)
			continue;
		reason = ERR_GET_REASON(e);
		if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
		    reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
		    reason == SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE ||
		    reason == SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED ||
		    reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED ||
		    reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN ||
		    reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA) {
			viewer_err("the server refused the client certificate "
			    "(TLS alert: %s)", ERR_reason_error_string(e));
			ERR_clear_error();
			return 1;
		}
	}
	return 0;
}

/* Reads exactly n bytes from the socket or the TLS session. */
static int
read_transport(struct viewer_conn *c, uint8_t *p, size_t n)
{
	ssize_t r;
	size_t got;
	int e;

	while (n > 0) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			if ((e = SSL_read_ex(c->ssl, p, n, &got)) != 1) {
				e = SSL_get_error(c->ssl, e);
				if (e == SSL_ERROR_ZERO_RETURN ||
				    (e == SSL_ERROR_SYSCALL && errno == 0))
					return MOAT_ERR_EOF;
				if (e == SSL_ERROR_SSL && client_cert_refused())
					return MOAT_ERR_AUTH;
				viewer_err("TLS read failed");
				return MOAT_ERR_CRYPTO;
			}
			p += got;
			n -= got;
			continue;
		}
		r = read(c->fd, p, n);
		if (r == 0)
			return MOAT_ERR_EOF;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return MOAT_ERR_SYSTEM;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_transport(struct viewer_conn *c, const uint8_t *p, size_t n)
{
	ssize_t w;
	size_t done;

	while (n > 0) {
		if (c->ssl != NULL) {
			if (SSL_write_ex(c->ssl, p, n, &done) != 1)
				return MOAT_ERR_CRYPTO;
			p += done;
			n -= done;
			continue;
		}
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return MOAT_ERR_SYSTEM;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one whole record and appends its plaintext to c->pt. */
static int
read_record(struct viewer_conn *c)
{
	uint8_t *p;
	size_t size;
	int r;

	buf_reset(&c->rec);
	if ((r = buf_reserve(&c->rec, 2, &p)) != 0 ||
	    (r = read_transport(c, p, 2)) != 0)
		return r;
	size = rfb_ra2_record_size(p);	/* at most 2 + 65535 + 16: rec's bound */
	if ((r = buf_reserve(&c->rec, size - 2, &p)) != 0 ||
	    (r = read_transport(c, p, size - 2)) != 0)
		return r;
	buf_compact(&c->pt);
	if ((r = rfb_ra2_open_record(&c->rx, &c->rec, &c->pt)) != 0) {
		viewer_err("a record from the server failed authentication");
		return MOAT_ERR_CRYPTO;
	}
	return 0;
}

int
viewer_conn_read(struct viewer_conn *c, void *p, size_t n)
{
	uint8_t *d = p;
	size_t k;
	int r;

	if (!c->ra2)
		return read_transport(c, d, n);
	while (n > 0) {
		while (buf_len(&c->pt) == 0)
			if ((r = read_record(c)) != 0)
				return r;
		k = buf_len(&c->pt) < n ? buf_len(&c->pt) : n;
		if ((r = buf_get_bytes(&c->pt, d, k)) != 0)
			return r;
		d += k;
		n -= k;
	}
	return 0;
}

int
viewer_conn_write(struct viewer_conn *c, const void *p, size_t n)
{
	const uint8_t *s = p;
	struct buf out;
	size_t k;
	int r = 0;

	if (!c->ra2)
		return write_transport(c, s, n);
	buf_init(&out, RFB_RA2_WRITE_RECORD + RFB_RA2_OVERHEAD);
	while (n > 0 && r == 0) {
		k = n > RFB_RA2_WRITE_RECORD ? RFB_RA2_WRITE_RECORD : n;
		buf_reset(&out);
		if ((r = rfb_ra2_seal_record(&c->tx, s, k, &out)) == 0)
			r = write_transport(c, buf_ptr(&out), buf_len(&out));
		s += k;
		n -= k;
	}
	buf_free(&out);
	return r;
}

int
viewer_conn_start_ra2(struct viewer_conn *c, const uint8_t *ckey,
    const uint8_t *skey, size_t klen)
{
	if (rfb_ra2_dir_init(&c->tx, ckey, klen) != 0)
		return MOAT_ERR_CRYPTO;
	if (rfb_ra2_dir_init(&c->rx, skey, klen) != 0) {
		rfb_ra2_dir_free(&c->tx);
		return MOAT_ERR_CRYPTO;
	}
	c->ra2 = 1;
	return 0;
}

int
viewer_security_result(struct viewer_conn *c)
{
	uint8_t b[4];
	uint32_t res;
	int r;

	if ((r = viewer_conn_read(c, b, 4)) != 0)
		return r;
	res = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	if (res == 0)
		return 0;
	return viewer_failure_reason(c, "the login");
}

int
viewer_failure_reason(struct viewer_conn *c, const char *what)
{
	uint8_t b[4];
	char reason[VIEWER_MAX_REASON + 1];
	uint32_t i, len;
	int r;

	if ((r = viewer_conn_read(c, b, 4)) != 0) {
		viewer_err("the server refused %s", what);
		return MOAT_ERR_AUTH;
	}
	len = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	if (len > VIEWER_MAX_REASON) {
		viewer_err("the server refused %s (reason of %u bytes)", what,
		    len);
		return MOAT_ERR_PROTOCOL;
	}
	if ((r = viewer_conn_read(c, reason, len)) != 0)
		return r;
	reason[len] = '\0';
	for (i = 0; i < len; i++)
		if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f)
			reason[i] = '?';
	viewer_err("the server refused %s: %s", what, reason);
	return MOAT_ERR_AUTH;
}
