/*
 * net_io.c - moat-net's byte transport to the viewer: the TCP socket,
 * through TLS once it is negotiated (VeNCrypt), or through the RSA-AES
 * EAX record layer (RA2, RA2_256; during the login of RA2ne too). Runs in
 * moat-net; the bytes are hostile. TLS is OpenSSL's; the record layer's
 * parsing is net/rfb_ra2.c, which releases a record's plaintext only
 * after its tag checked, so a tampered, replayed, reordered or truncated
 * record ends the connection without a byte of it being used.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net_conn.h"
#include "privsep/clock.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "rfb_ra2.h"

#define RA2_WRITE_BATCH	8	/* records per write(2) */

struct net_ra2 {
	struct rfb_ra2_dir rx;	/* viewer to server: ClientSessionKey */
	struct rfb_ra2_dir tx;	/* server to viewer: ServerSessionKey */
	struct buf rec;		/* the record being received */
	struct buf pt;		/* plaintext of a checked record, not yet read */
	struct buf wr;		/* sealed records being written */
};

static int
ssl_err(SSL *ssl, int r)
{
	int e = SSL_get_error(ssl, r);

	if (e == SSL_ERROR_ZERO_RETURN ||
	    (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
		return MOAT_ERR_EOF;
	return MOAT_ERR_CRYPTO;
}

/* One read(2) from the socket. Returns bytes read (> 0) or negative. */
static int
sock_read(struct net_io *io, void *p, size_t n)
{
	ssize_t r;

	do {
		r = read(io->fd, p, n);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return MOAT_ERR_EOF;
	if (r < 0)
		return errno == ECONNRESET ? MOAT_ERR_EOF : MOAT_ERR_SYSTEM;
	return (int)r;
}

static int
sock_read_exact(struct net_io *io, uint8_t *p, size_t n)
{
	int r;

	while (n > 0) {
		if ((r = sock_read(io, p, n)) < 0)
			return r;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Waits until the socket is ready for ev (POLLOUT, or POLLIN when TLS must
 * read to write), the watched descriptor has input (NET_ERR_ENDED), or the
 * monotonic time deadline passes with stall_ms set (NET_ERR_STALLED).
 * Returns 0 when the socket is ready (or in error: the retry reports it).
 * The first wait of a write (*waited 0) is logged at debug level.
 */
static int
wait_ready(struct net_io *io, short ev, int64_t deadline, size_t n_left,
    int *waited)
{
	struct pollfd pfd[2];
	int64_t left;
	int n, tmo;

	if (!*waited) {
		*waited = 1;
		debug_f("the viewer's socket is full; waiting to write %zu "
		    "more bytes", n_left);
	}
	for (;;) {
		tmo = -1;
		if (io->stall_ms > 0) {
			if ((left = deadline - moat_monotonic_ms()) <= 0)
				return NET_ERR_STALLED;
			tmo = left > INT_MAX ? INT_MAX : (int)left;
		}
		pfd[0].fd = io->fd;
		pfd[0].events = ev;
		pfd[0].revents = 0;
		pfd[1].fd = io->watch_fd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		n = io->watch_fd >= 0 ? 2 : 1;
		if (poll(pfd, (nfds_t)n, tmo) < 0) {
			if (errno == EINTR)
				continue;
			return MOAT_ERR_SYSTEM;
		}
		if (n == 2 && pfd[1].revents != 0)
			return NET_ERR_ENDED;
		if (pfd[0].revents != 0)
			return 0;
	}
}

/* The socket is non-blocking while net_io_write() runs (see there). */
static int
sock_write_all(struct net_io *io, const uint8_t *d, size_t n)
{
	int64_t deadline = moat_monotonic_ms() + io->stall_ms;
	ssize_t w;
	int r, waited = 0;

	while (n > 0) {
		do {
			w = write(io->fd, d, n);
		} while (w < 0 && errno == EINTR);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((r = wait_ready(io, POLLOUT, deadline, n,
			    &waited)) != 0)
				return r;
			continue;
		}
		if (w < 0)
			return (errno == EPIPE || errno == ECONNRESET) ?
			    MOAT_ERR_EOF : MOAT_ERR_SYSTEM;
		d += w;
		n -= (size_t)w;
		/* Progress: the stall limit starts over. */
		deadline = moat_monotonic_ms() + io->stall_ms;
	}
	return 0;
}

/*
 * Reads exactly one record from the socket (header first, so nothing
 * beyond it is read) and opens it into s->pt.
 */
static int
ra2_read_record(struct net_io *io)
{
	struct net_ra2 *s = io->ra2;
	uint8_t hdr[2], *p;
	size_t body;
	int r;

	buf_reset(&s->rec);
	if ((r = sock_read_exact(io, hdr, 2)) != 0)
		return r;
	body = rfb_ra2_record_size(hdr) - 2;
	if ((r = buf_put_bytes(&s->rec, hdr, 2)) != 0 ||
	    (r = buf_reserve(&s->rec, body, &p)) != 0 ||
	    (r = sock_read_exact(io, p, body)) != 0)
		return r;
	if ((r = rfb_ra2_open_record(&s->rx, &s->rec, &s->pt)) != 0) {
		if (r == MOAT_ERR_CRYPTO)
			info_f("viewer sent an RSA-AES record that failed "
			    "authentication (tampered, replayed, reordered or "
			    "truncated)");
		return r;
	}
	return 0;
}

static int
ra2_read(struct net_io *io, void *p, size_t n)
{
	struct net_ra2 *s = io->ra2;
	size_t avail;
	int r;

	while (buf_len(&s->pt) == 0) {
		if ((r = ra2_read_record(io)) != 0)
			return r;
	}
	avail = buf_len(&s->pt);
	if (avail > n)
		avail = n;
	if (avail > INT32_MAX)
		avail = INT32_MAX;
	memcpy(p, buf_ptr(&s->pt), avail);
	/* The credentials pass through here: leave no copy behind. */
	OPENSSL_cleanse(s->pt.data + s->pt.off, avail);
	(void)buf_consume(&s->pt, avail);
	io->bytes_in += avail;
	return (int)avail;
}

static int
ra2_write(struct net_io *io, const uint8_t *d, size_t n)
{
	struct net_ra2 *s = io->ra2;
	size_t chunk, k;
	int r;

	while (n > 0) {
		buf_reset(&s->wr);
		for (k = 0; k < RA2_WRITE_BATCH && n > 0; k++) {
			chunk = n > RFB_RA2_WRITE_RECORD ? RFB_RA2_WRITE_RECORD : n;
			if ((r = rfb_ra2_seal_record(&s->tx, d, chunk, &s->wr)) != 0)
				return r;
			io->bytes_out += chunk;
			d += chunk;
			n -= chunk;
		}
		if ((r = sock_write_all(io, buf_ptr(&s->wr), buf_len(&s->wr))) != 0)
			return r;
	}
	return 0;
}

static int
io_read(struct net_io *io, void *p, size_t n)
{
	int sr;

	if (io->ssl != NULL) {
		ERR_clear_error();
		sr = SSL_read(io->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		if (sr <= 0)
			return ssl_err(io->ssl, sr);
		io->bytes_in += (uint64_t)sr;
		return sr;
	}
	if (io->ra2 != NULL)
		return ra2_read(io, p, n);
	if ((sr = sock_read(io, p, n)) > 0)
		io->bytes_in += (uint64_t)sr;
	return sr;
}

int
net_io_read_exact(struct net_io *io, void *p, size_t n)
{
	uint8_t *d = p;
	int r;

	while (n > 0) {
		if ((r = io_read(io, d, n)) < 0)
			return r;
		d += r;
		n -= (size_t)r;
	}
	return 0;
}

int
net_io_read_some(struct net_io *io, struct buf *b, size_t n)
{
	uint8_t *p;
	int r;

	if ((r = buf_reserve(b, n, &p)) != 0)
		return r;
	r = io_read(io, p, n);
	/* Give back the part of the reservation that was not filled. */
	b->len -= n - (r > 0 ? (size_t)r : 0);
	return r;
}

/* SSL_write() of all n bytes on the non-blocking socket. */
static int
ssl_write_all(struct net_io *io, const uint8_t *d, size_t n)
{
	BIO *wbio = SSL_get_wbio(io->ssl);
	uint64_t before;
	int64_t deadline = moat_monotonic_ms() + io->stall_ms;
	int sr, e, r, waited = 0;

	while (n > 0) {
		ERR_clear_error();
		before = BIO_number_written(wbio);
		/* Retried with the same arguments, as OpenSSL requires. */
		sr = SSL_write(io->ssl, d, n > 1u << 30 ? 1 << 30 : (int)n);
		if (BIO_number_written(wbio) != before)
			deadline = moat_monotonic_ms() + io->stall_ms;
		if (sr > 0) {
			io->bytes_out += (uint64_t)sr;
			d += sr;
			n -= (size_t)sr;
			continue;
		}
		e = SSL_get_error(io->ssl, sr);
		if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
			return ssl_err(io->ssl, sr);
		if ((r = wait_ready(io, e == SSL_ERROR_WANT_READ ? POLLIN :
		    POLLOUT, deadline, n, &waited)) != 0)
			return r;
	}
	return 0;
}

/*
 * Writes with the socket non-blocking, so that a viewer that stops
 * reading cannot hold moat-net in write(2): the wait is poll(2) with the
 * stall limit and the watched descriptor. Reads keep blocking semantics,
 * so the flag is set only for the duration of the write.
 */
int
net_io_write(struct net_io *io, const void *p, size_t n)
{
	const uint8_t *d = p;
	int fl, r;

	if (n == 0)
		return 0;
	if ((fl = fcntl(io->fd, F_GETFL)) == -1 ||
	    (!(fl & O_NONBLOCK) && fcntl(io->fd, F_SETFL, fl | O_NONBLOCK) == -1))
		return MOAT_ERR_SYSTEM;
	if (io->ra2 != NULL)
		r = ra2_write(io, d, n);
	else if (io->ssl != NULL)
		r = ssl_write_all(io, d, n);
	else if ((r = sock_write_all(io, d, n)) == 0)
		io->bytes_out += n;
	if (!(fl & O_NONBLOCK) && fcntl(io->fd, F_SETFL, fl) == -1 && r == 0)
		r = MOAT_ERR_SYSTEM;
	return r;
}

int
net_io_pending(struct net_io *io)
{
	if (io->ra2 != NULL)
		return buf_len(&io->ra2->pt) > 0;
	return io->ssl != NULL && SSL_pending(io->ssl) > 0;
}

int
net_io_ra2_start(struct net_io *io, const uint8_t *rx_key,
    const uint8_t *tx_key, size_t keylen)
{
	struct net_ra2 *s;
	int r;

	if (io->ra2 != NULL || io->ssl != NULL)
		return MOAT_ERR_INVALID;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MOAT_ERR_NOMEM;
	if ((r = rfb_ra2_dir_init(&s->rx, rx_key, keylen)) != 0) {
		free(s);
		return r;
	}
	if ((r = rfb_ra2_dir_init(&s->tx, tx_key, keylen)) != 0) {
		rfb_ra2_dir_free(&s->rx);
		free(s);
		return r;
	}
	buf_init(&s->rec, RFB_RA2_OVERHEAD + RFB_RA2_MAX_RECORD);
	buf_init(&s->pt, RFB_RA2_MAX_RECORD);
	buf_init(&s->wr, RA2_WRITE_BATCH * (RFB_RA2_OVERHEAD +
	    RFB_RA2_WRITE_RECORD));
	io->ra2 = s;
	return 0;
}

int
net_io_ra2_stop(struct net_io *io)
{
	struct net_ra2 *s = io->ra2;
	int r;

	if (s == NULL)
		return 0;
	/* Plaintext from here on: nothing may have been sent ahead. */
	r = buf_len(&s->pt) > 0 ? MOAT_ERR_PROTOCOL : 0;
	rfb_ra2_dir_free(&s->rx);
	rfb_ra2_dir_free(&s->tx);
	buf_free(&s->rec);
	buf_free(&s->pt);
	buf_free(&s->wr);
	free(s);
	io->ra2 = NULL;
	return r;
}
