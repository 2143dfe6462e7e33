/*
 * rfb_vencrypt.c - VeNCrypt version and subtype negotiation (see
 * rfb_vencrypt.h). Runs in moat-net inside its sandbox; pure code. The
 * viewer's version and subtype come from the network; the offered list is
 * moat-net's own, built from the monitor's policy.
 */
#include "privsep/errors.h"
#include "rfb_vencrypt.h"

int
rfb_vencrypt_put_version(struct buf *out)
{
	static const uint8_t version[RFB_VENCRYPT_VERSION_LEN] = {
		RFB_VENCRYPT_MAJOR, RFB_VENCRYPT_MINOR
	};

	return buf_put_bytes(out, version, sizeof(version));
}

int
rfb_vencrypt_put_subtypes(struct buf *out, const uint32_t *subtypes, size_t n)
{
	uint8_t *p;
	size_t i;
	int r;

	if (n == 0 || n > RFB_VENCRYPT_MAX_SUBTYPES)
		return MOAT_ERR_INVALID;
	for (i = 0; i < n; i++)
		if (subtypes[i] == 0)
			return MOAT_ERR_INVALID;
	/* One reservation, so a failure appends nothing. */
	if ((r = buf_reserve(out, 2 + RFB_VENCRYPT_SUBTYPE_LEN * n, &p)) != 0)
		return r;
	*p++ = RFB_VENCRYPT_ACK_OK;
	*p++ = (uint8_t)n;
	for (i = 0; i < n; i++) {
		*p++ = (uint8_t)(subtypes[i] >> 24);
		*p++ = (uint8_t)(subtypes[i] >> 16);
		*p++ = (uint8_t)(subtypes[i] >> 8);
		*p++ = (uint8_t)subtypes[i];
	}
	return 0;
}

int
rfb_vencrypt_parse_version(struct buf *in, uint8_t *major, uint8_t *minor)
{
	const uint8_t *p;

	if (buf_peek(in, RFB_VENCRYPT_VERSION_LEN, &p) != 0)
		return MOAT_ERR_AGAIN;
	*major = p[0];
	*minor = p[1];
	if (p[0] != RFB_VENCRYPT_MAJOR || p[1] != RFB_VENCRYPT_MINOR)
		return MOAT_ERR_PROTOCOL;
	return buf_consume(in, RFB_VENCRYPT_VERSION_LEN);
}

int
rfb_vencrypt_parse_subtype(struct buf *in, const uint32_t *offered, size_t n,
    uint32_t *subtype)
{
	const uint8_t *p;
	uint32_t v;
	size_t i;

	if (buf_peek(in, RFB_VENCRYPT_SUBTYPE_LEN, &p) != 0)
		return MOAT_ERR_AGAIN;
	v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
	*subtype = v;
	if (v == 0)
		return MOAT_ERR_PROTOCOL;
	for (i = 0; i < n; i++)
		if (offered[i] == v)
			return buf_consume(in, RFB_VENCRYPT_SUBTYPE_LEN);
	return MOAT_ERR_PROTOCOL;
}
