/*
 * net_io.c - moat-net's byte transport to the viewer: the TCP socket,
 * through TLS once it is negotiated. Runs in moat-net; the bytes are
 * hostile, this file only moves them.
 */
#include <errno.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net_conn.h"
#include "privsep/errors.h"

static int
ssl_err(SSL *ssl, int r)
{
	int e = SSL_get_error(ssl, r);

	if (e == SSL_ERROR_ZERO_RETURN ||
	    (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
		return MOAT_ERR_EOF;
	return MOAT_ERR_CRYPTO;
}

static int
io_read(struct net_io *io, void *p, size_t n)
{
	ssize_t r;
	int sr;

	if (io->ssl != NULL) {
		ERR_clear_error();
		sr = SSL_read(io->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		if (sr <= 0)
			return ssl_err(io->ssl, sr);
		io->bytes_in += (uint64_t)sr;
		return sr;
	}
	do {
		r = read(io->fd, p, n);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return MOAT_ERR_EOF;
	if (r < 0)
		return errno == ECONNRESET ? MOAT_ERR_EOF : MOAT_ERR_SYSTEM;
	io->bytes_in += (uint64_t)r;
	return (int)r;
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

int
net_io_write(struct net_io *io, const void *p, size_t n)
{
	const uint8_t *d = p;
	ssize_t w;
	int sr;

	while (n > 0) {
		if (io->ssl != NULL) {
			ERR_clear_error();
			sr = SSL_write(io->ssl, d, n > 1u << 30 ? 1 << 30 : (int)n);
			if (sr <= 0)
				return ssl_err(io->ssl, sr);
			w = sr;
		} else {
			do {
				w = write(io->fd, d, n);
			} while (w < 0 && errno == EINTR);
			if (w < 0)
				return (errno == EPIPE || errno == ECONNRESET) ?
				    MOAT_ERR_EOF : MOAT_ERR_SYSTEM;
		}
		io->bytes_out += (uint64_t)w;
		d += w;
		n -= (size_t)w;
	}
	return 0;
}

int
net_io_pending(struct net_io *io)
{
	return io->ssl != NULL && SSL_pending(io->ssl) > 0;
}
