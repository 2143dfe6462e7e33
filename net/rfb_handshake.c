/*
 * rfb_handshake.c - handshake parsers (see rfb_handshake.h). Runs in
 * moat-net inside its sandbox; every byte comes from the network.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "privsep/errors.h"
#include "rfb_handshake.h"
#include "rfb_types.h"

static int
digits3(const uint8_t *p, int *out)
{
	int i, v = 0;

	for (i = 0; i < 3; i++) {
		if (p[i] < '0' || p[i] > '9')
			return MOAT_ERR_PROTOCOL;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

int
rfb_parse_version(const uint8_t v[RFB_VERSION_LEN], int *minor)
{
	int maj, min;

	if (memcmp(v, "RFB ", 4) != 0 || v[7] != '.' || v[11] != '\n')
		return MOAT_ERR_PROTOCOL;
	if (digits3(v + 4, &maj) != 0 || digits3(v + 8, &min) != 0)
		return MOAT_ERR_PROTOCOL;
	if (maj != 3)
		return MOAT_ERR_PROTOCOL;
	*minor = min >= 8 ? 8 : (min == 7 ? 7 : 3);
	return 0;
}

int
rfb_put_security_types(struct buf *out, const uint8_t *types, size_t n)
{
	uint8_t *p;
	int r;

	if (n == 0 || n > RFB_MAX_SECURITY_TYPES ||
	    memchr(types, RFB_SEC_INVALID, n) != NULL)
		return MOAT_ERR_INVALID;
	/* One reservation, so a failure appends nothing. */
	if ((r = buf_reserve(out, 1 + n, &p)) != 0)
		return r;
	p[0] = (uint8_t)n;
	memcpy(p + 1, types, n);
	return 0;
}

int
rfb_parse_security_choice(struct buf *in, const uint8_t *offered, size_t n,
    uint8_t *type)
{
	const uint8_t *p;

	if (buf_peek(in, 1, &p) != 0)
		return MOAT_ERR_AGAIN;
	*type = p[0];
	if (p[0] == RFB_SEC_INVALID || n == 0 ||
	    memchr(offered, p[0], n) == NULL)
		return MOAT_ERR_PROTOCOL;
	return buf_consume(in, 1);
}

size_t
rfb_plain_max_len(void)
{
	return 8 + RFB_PLAIN_MAX_USER + RFB_PLAIN_MAX_PASS;
}

int
rfb_copy_credentials(const uint8_t *u, size_t ulen, const uint8_t *p,
    size_t plen, char **user, char **pass)
{
	char *cu, *cp;

	if (ulen == 0 || memchr(u, '\0', ulen) != NULL ||
	    memchr(p, '\0', plen) != NULL)
		return MOAT_ERR_INVALID;
	if ((cu = malloc(ulen + 1)) == NULL)
		return MOAT_ERR_NOMEM;
	if ((cp = malloc(plen + 1)) == NULL) {
		free(cu);
		return MOAT_ERR_NOMEM;
	}
	memcpy(cu, u, ulen);
	cu[ulen] = '\0';
	memcpy(cp, p, plen);
	cp[plen] = '\0';
	*user = cu;
	*pass = cp;
	return 0;
}

int
rfb_parse_plain(struct buf *in, char **user, char **pass)
{
	const uint8_t *p;
	uint32_t ulen, plen;
	int r;

	if (buf_peek(in, 8, &p) != 0)
		return MOAT_ERR_AGAIN;
	ulen = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
	plen = ((uint32_t)p[4] << 24) | ((uint32_t)p[5] << 16) |
	    ((uint32_t)p[6] << 8) | p[7];
	if (ulen > RFB_PLAIN_MAX_USER || plen > RFB_PLAIN_MAX_PASS)
		return MOAT_ERR_TOO_LONG;
	if (buf_len(in) < 8 + (size_t)ulen + plen)
		return MOAT_ERR_AGAIN;
	if ((r = rfb_copy_credentials(p + 8, ulen, p + 8 + ulen, plen, user,
	    pass)) != 0)
		return r;
	return buf_consume(in, 8 + (size_t)ulen + plen);
}
