/*
 * rfb_sasl.c - the SASL security type's wire format (see rfb_sasl.h).
 * Runs in moat-net, which parses what the viewer sends and relays it to
 * the monitor; pure, and every length is bounded before a byte it covers
 * is read.
 */
#include <string.h>

#include "privsep/errors.h"
#include "rfb_sasl.h"

static uint32_t
get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static void
set_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RFC 4422, 3.1: upper-case letters, digits, '-' and '_'. */
static int
mech_char(uint8_t ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	    ch == '-' || ch == '_';
}

/*
 * Reads one SASL output framed as a viewer frames it, starting at offset
 * *off of the unread bytes of in, and advances *off past it. Returns 0;
 * MOAT_ERR_AGAIN with *need; MOAT_ERR_TOO_LONG.
 */
static int
frame_at(const struct buf *in, size_t *off, struct rfb_sasl_data *d,
    size_t *need)
{
	const uint8_t *p;
	uint32_t n;

	*need = *off + RFB_SASL_LEN;
	if (buf_peek(in, *need, &p) != 0)
		return MOAT_ERR_AGAIN;
	if ((n = get_u32(p + *off)) > RFB_SASL_MAX_DATA + 1u)
		return MOAT_ERR_TOO_LONG;
	*need += n;
	if (buf_peek(in, *need, &p) != 0)
		return MOAT_ERR_AGAIN;
	d->present = n > 0;
	d->p = p + *off + RFB_SASL_LEN;
	d->len = n > 0 ? n - 1 : 0;	/* the terminator is dropped */
	*off = *need;
	return 0;
}

int
rfb_sasl_parse_start(struct buf *in, struct rfb_sasl_data *mech,
    struct rfb_sasl_data *data, size_t *need)
{
	struct rfb_sasl_data m, d;
	const uint8_t *p;
	size_t off, i;
	uint32_t n;
	int r;

	memset(mech, 0, sizeof(*mech));
	memset(data, 0, sizeof(*data));
	*need = RFB_SASL_LEN;
	if (buf_peek(in, RFB_SASL_LEN, &p) != 0)
		return MOAT_ERR_AGAIN;
	if ((n = get_u32(p)) > RFB_SASL_MAX_MECH)
		return MOAT_ERR_TOO_LONG;
	if (n == 0)
		return MOAT_ERR_PROTOCOL;
	*need = RFB_SASL_LEN + n;
	if (buf_peek(in, *need, &p) != 0)
		return MOAT_ERR_AGAIN;
	for (i = 0; i < n; i++)
		if (!mech_char(p[RFB_SASL_LEN + i]))
			return MOAT_ERR_PROTOCOL;
	m = (struct rfb_sasl_data){ 1, p + RFB_SASL_LEN, n };
	off = *need;
	if ((r = frame_at(in, &off, &d, need)) != 0)
		return r;
	if ((r = buf_consume(in, off)) != 0)
		return r;
	*mech = m;
	*data = d;
	return 0;
}

int
rfb_sasl_parse_step(struct buf *in, struct rfb_sasl_data *data, size_t *need)
{
	struct rfb_sasl_data d;
	size_t off = 0;
	int r;

	memset(data, 0, sizeof(*data));
	if ((r = frame_at(in, &off, &d, need)) != 0)
		return r;
	if ((r = buf_consume(in, off)) != 0)
		return r;
	*data = d;
	return 0;
}

int
rfb_sasl_put_mechlist(struct buf *b, const char *list, size_t len)
{
	uint8_t *p;
	int r;

	if (len == 0 || list == NULL || memchr(list, '\0', len) != NULL)
		return MOAT_ERR_INVALID;
	if (len > RFB_SASL_MAX_MECHLIST)
		return MOAT_ERR_TOO_LONG;
	if ((r = buf_reserve(b, RFB_SASL_LEN + len, &p)) != 0)
		return r;
	set_u32(p, (uint32_t)len);
	memcpy(p + RFB_SASL_LEN, list, len);
	return 0;
}

/*
 * Appends one SASL output as the protocol frames it: U32 len + 1, the
 * bytes and a 0; or U32 0 when absent. Checks first, writes all or
 * nothing.
 */
static int
put_frame(struct buf *b, int present, const uint8_t *d, size_t len,
    int tail, uint8_t tailv)
{
	size_t n = present ? len + 1 : 0;
	uint8_t *p;
	int r;

	if ((!present && len > 0) || (len > 0 && d == NULL))
		return MOAT_ERR_INVALID;
	if (len > RFB_SASL_MAX_DATA)
		return MOAT_ERR_TOO_LONG;
	if ((r = buf_reserve(b, RFB_SASL_LEN + n + (tail ? 1 : 0), &p)) != 0)
		return r;
	set_u32(p, (uint32_t)n);
	if (len > 0)
		memcpy(p + RFB_SASL_LEN, d, len);
	if (present)
		p[RFB_SASL_LEN + len] = 0;
	if (tail)
		p[RFB_SASL_LEN + n] = tailv;
	return 0;
}

int
rfb_sasl_put_reply(struct buf *b, const uint8_t *p, size_t len,
    uint8_t complete)
{
	if (complete > 1)
		return MOAT_ERR_INVALID;
	/* The server's empty output is no output (as QEMU sends it). */
	return put_frame(b, len > 0, p, len, 1, complete);
}

int
rfb_sasl_put_start(struct buf *b, const char *mech,
    const struct rfb_sasl_data *data)
{
	size_t n = mech != NULL ? strlen(mech) : 0, i, before = buf_len(b);
	int r;

	if (n == 0)
		return MOAT_ERR_INVALID;
	if (n > RFB_SASL_MAX_MECH)
		return MOAT_ERR_TOO_LONG;
	for (i = 0; i < n; i++)
		if (!mech_char((uint8_t)mech[i]))
			return MOAT_ERR_INVALID;
	if (data->len > RFB_SASL_MAX_DATA)
		return MOAT_ERR_TOO_LONG;
	if ((!data->present && data->len > 0) ||
	    (data->len > 0 && data->p == NULL))
		return MOAT_ERR_INVALID;
	if ((r = buf_put_u32(b, (uint32_t)n)) != 0 ||
	    (r = buf_put_bytes(b, mech, n)) != 0 ||
	    (r = put_frame(b, data->present, data->p, data->len, 0, 0)) != 0) {
		/* Only buffer space can fail here: drop the partial start. */
		b->len = b->off + before;
		return r;
	}
	return 0;
}

int
rfb_sasl_put_step(struct buf *b, const struct rfb_sasl_data *data)
{
	return put_frame(b, data->present, data->p, data->len, 0, 0);
}
