/*
 * rfb_handshake.c - handshake parsers (see rfb_handshake.h). Runs in
 * moat-net inside its sandbox; every byte comes from the network.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "privsep/errors.h"
#include "rfb_handshake.h"

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

size_t
rfb_plain_max_len(void)
{
	return 8 + RFB_PLAIN_MAX_USER + RFB_PLAIN_MAX_PASS;
}

int
rfb_parse_plain(struct buf *in, char **user, char **pass)
{
	const uint8_t *p;
	uint32_t ulen, plen;
	char *u, *pw;

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
	if (ulen == 0 || memchr(p + 8, '\0', ulen) != NULL ||
	    memchr(p + 8 + ulen, '\0', plen) != NULL)
		return MOAT_ERR_INVALID;
	if ((u = malloc(ulen + 1)) == NULL)
		return MOAT_ERR_NOMEM;
	if ((pw = malloc(plen + 1)) == NULL) {
		free(u);
		return MOAT_ERR_NOMEM;
	}
	memcpy(u, p + 8, ulen);
	u[ulen] = '\0';
	memcpy(pw, p + 8 + ulen, plen);
	pw[plen] = '\0';
	*user = u;
	*pass = pw;
	return buf_consume(in, 8 + (size_t)ulen + plen);
}
