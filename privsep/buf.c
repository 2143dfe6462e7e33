/*
 * buf.c - bounded byte buffer. Runs in every process; trusts none of the
 * bytes it holds. See buf.h for the contract.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "errors.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_init_fixed(struct buf *b, void *storage, size_t n)
{
	memset(b, 0, sizeof(*b));
	b->data = storage;
	b->cap = b->max = n;
	b->fixed = 1;
}

void
buf_view(struct buf *b, const void *p, size_t len)
{
	memset(b, 0, sizeof(*b));
	b->data = (uint8_t *)p;
	b->len = b->cap = b->max = len;
	b->view = 1;
}

void
buf_free(struct buf *b)
{
	size_t max = b->max;

	if (b->fixed) {
		OPENSSL_cleanse(b->data, b->cap);
		b->off = b->len = 0;
		return;
	}
	if (!b->view && b->data != NULL) {
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	if (b->view)
		max = 0;
	buf_init(b, max);
}

void
buf_reset(struct buf *b)
{
	if (b->view) {
		b->off = b->len;
		return;
	}
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->len);
	b->off = b->len = 0;
}

size_t
buf_len(const struct buf *b)
{
	return b->len - b->off;
}

const uint8_t *
buf_ptr(const struct buf *b)
{
	return b->data + b->off;
}

int
buf_consume(struct buf *b, size_t n)
{
	if (n > buf_len(b))
		return MOAT_ERR_SHORT;
	b->off += n;
	if (b->off == b->len && !b->view)
		b->off = b->len = 0;
	return 0;
}

void
buf_compact(struct buf *b)
{
	if (b->view || b->off == 0)
		return;
	memmove(b->data, b->data + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

int
buf_expect_end(const struct buf *b)
{
	return buf_len(b) == 0 ? 0 : MOAT_ERR_TRAILING;
}

int
buf_peek(const struct buf *b, size_t n, const uint8_t **p)
{
	if (n > buf_len(b))
		return MOAT_ERR_SHORT;
	*p = buf_ptr(b);
	return 0;
}

int
buf_get_bytes(struct buf *b, void *out, size_t n)
{
	if (n > buf_len(b))
		return MOAT_ERR_SHORT;
	if (n > 0)
		memcpy(out, buf_ptr(b), n);
	return buf_consume(b, n);
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	return buf_get_bytes(b, v, 1);
}

int
buf_get_u16(struct buf *b, uint16_t *v)
{
	const uint8_t *p;
	int r;

	if ((r = buf_peek(b, 2, &p)) != 0)
		return r;
	*v = (uint16_t)((p[0] << 8) | p[1]);
	return buf_consume(b, 2);
}

int
buf_get_u32(struct buf *b, uint32_t *v)
{
	const uint8_t *p;
	int r;

	if ((r = buf_peek(b, 4, &p)) != 0)
		return r;
	*v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
	return buf_consume(b, 4);
}

int
buf_get_s32(struct buf *b, int32_t *v)
{
	uint32_t u;
	int r;

	if ((r = buf_get_u32(b, &u)) != 0)
		return r;
	memcpy(v, &u, sizeof(*v));
	return 0;
}

/* Validates a u32-length-prefixed string at the read position without consuming it. */
static int
peek_string(const struct buf *b, const uint8_t **p, size_t *lenp, size_t maxlen)
{
	const uint8_t *hdr;
	uint32_t n;

	if (buf_peek(b, 4, &hdr) != 0)
		return MOAT_ERR_SHORT;
	n = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) |
	    ((uint32_t)hdr[2] << 8) | hdr[3];
	if (n > maxlen)
		return MOAT_ERR_TOO_LONG;
	if ((size_t)n > buf_len(b) - 4)
		return MOAT_ERR_SHORT;
	*p = buf_ptr(b) + 4;
	*lenp = n;
	return 0;
}

int
buf_get_string_direct(struct buf *b, const uint8_t **p, size_t *lenp,
    size_t maxlen)
{
	size_t n;
	int r;

	if ((r = peek_string(b, p, &n, maxlen)) != 0)
		return r;
	if (lenp != NULL)
		*lenp = n;
	return buf_consume(b, 4 + n);
}

int
buf_get_cstring(struct buf *b, char **out, size_t *lenp, size_t maxlen)
{
	const uint8_t *p;
	size_t n;
	char *s;
	int r;

	if ((r = peek_string(b, &p, &n, maxlen)) != 0)
		return r;
	if (n > 0 && memchr(p, '\0', n) != NULL)
		return MOAT_ERR_INVALID;
	if ((s = malloc(n + 1)) == NULL)
		return MOAT_ERR_NOMEM;
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	*out = s;
	if (lenp != NULL)
		*lenp = n;
	return buf_consume(b, 4 + n);
}

int
buf_reserve(struct buf *b, size_t n, uint8_t **p)
{
	size_t need, ncap;
	uint8_t *nd;

	if (b->view)
		return MOAT_ERR_INVALID;
	if (n > b->max || b->len > b->max - n) {
		buf_compact(b);
		if (n > b->max || b->len > b->max - n)
			return MOAT_ERR_TOO_LONG;
	}
	need = b->len + n;
	if (need > b->cap && b->fixed)
		return MOAT_ERR_TOO_LONG;
	if (need > b->cap) {
		ncap = b->cap < 256 ? 256 : b->cap;
		while (ncap < need)
			ncap = ncap > b->max / 2 ? b->max : ncap * 2;
		if ((nd = malloc(ncap)) == NULL)
			return MOAT_ERR_NOMEM;
		if (b->data != NULL) {
			memcpy(nd, b->data, b->len);
			OPENSSL_cleanse(b->data, b->cap);
			free(b->data);
		}
		b->data = nd;
		b->cap = ncap;
	}
	*p = b->data + b->len;
	b->len += n;
	return 0;
}

int
buf_put_bytes(struct buf *b, const void *src, size_t n)
{
	uint8_t *p;
	int r;

	if ((r = buf_reserve(b, n, &p)) != 0)
		return r;
	if (n > 0)
		memcpy(p, src, n);
	return 0;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put_bytes(b, &v, 1);
}

int
buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t p[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return buf_put_bytes(b, p, 2);
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	return buf_put_bytes(b, p, 4);
}

int
buf_put_s32(struct buf *b, int32_t v)
{
	uint32_t u;

	memcpy(&u, &v, sizeof(u));
	return buf_put_u32(b, u);
}

int
buf_put_string(struct buf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return MOAT_ERR_TOO_LONG;
	if (b->len + 4 + n < b->len || buf_len(b) + 4 + n > b->max)
		return MOAT_ERR_TOO_LONG;
	if ((r = buf_put_u32(b, (uint32_t)n)) != 0)
		return r;
	return buf_put_bytes(b, p, n);
}

int
buf_put_cstring(struct buf *b, const char *s)
{
	return buf_put_string(b, s, strlen(s));
}
