/*
 * rfb_conv.c - moat's conversation wire format (see rfb_conv.h). Runs in
 * moat-net (answers from the viewer) and moat-viewer (messages from the
 * server); pure, and every length is bounded before anything is copied.
 */
#include <string.h>

#include "privsep/errors.h"
#include "rfb_conv.h"

static uint32_t
get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

/* Writes U32 len (after a U8 kind if kind >= 0) and the bytes, all or nothing. */
static int
put_framed(struct buf *b, int kind, const char *text, size_t len)
{
	size_t hdr = kind >= 0 ? RFB_CONV_MESSAGE_HDR : RFB_CONV_ANSWER_HDR;
	uint8_t *p;
	int r;

	if ((r = buf_reserve(b, hdr + len, &p)) != 0)
		return r;
	if (kind >= 0)
		*p++ = (uint8_t)kind;
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	if (len > 0)
		memcpy(p + 4, text, len);
	return 0;
}

int
rfb_conv_put_message(struct buf *b, uint8_t kind, const char *text, size_t len)
{
	if (kind > RFB_CONV_PROVE || (kind == RFB_CONV_END && len > 0) ||
	    (len > 0 && (text == NULL || memchr(text, '\0', len) != NULL)))
		return MOAT_ERR_INVALID;
	if (len > RFB_CONV_MAX_TEXT)
		return MOAT_ERR_TOO_LONG;
	return put_framed(b, kind, text, len);
}

int
rfb_conv_parse_message(struct buf *in, uint8_t *kind, char **text)
{
	struct buf t = *in;	/* read on a copy: all or nothing */
	const uint8_t *p;
	uint32_t len;
	int r;

	*text = NULL;
	if (buf_peek(in, RFB_CONV_MESSAGE_HDR, &p) != 0)
		return MOAT_ERR_AGAIN;
	len = get_u32(p + 1);
	if (p[0] > RFB_CONV_PROVE || (p[0] == RFB_CONV_END && len != 0))
		return MOAT_ERR_PROTOCOL;
	if (len > RFB_CONV_MAX_TEXT)
		return MOAT_ERR_TOO_LONG;
	if (buf_len(in) < RFB_CONV_MESSAGE_HDR + (size_t)len)
		return MOAT_ERR_AGAIN;
	if ((r = buf_get_u8(&t, kind)) != 0 ||
	    (r = buf_get_cstring(&t, text, NULL, RFB_CONV_MAX_TEXT)) != 0)
		return r;
	*in = t;
	return 0;
}

int
rfb_conv_put_answer(struct buf *b, const char *answer, size_t len)
{
	if (len > 0 && (answer == NULL || memchr(answer, '\0', len) != NULL))
		return MOAT_ERR_INVALID;
	if (len > RFB_CONV_MAX_ANSWER)
		return MOAT_ERR_TOO_LONG;
	return put_framed(b, -1, answer, len);
}

int
rfb_conv_parse_answer(struct buf *in, char **answer)
{
	const uint8_t *p;
	uint32_t len;

	*answer = NULL;
	if (buf_peek(in, RFB_CONV_ANSWER_HDR, &p) != 0)
		return MOAT_ERR_AGAIN;
	if ((len = get_u32(p)) > RFB_CONV_MAX_ANSWER)
		return MOAT_ERR_TOO_LONG;
	if (buf_len(in) < RFB_CONV_ANSWER_HDR + (size_t)len)
		return MOAT_ERR_AGAIN;
	/* Bounded and complete: the copy rejects a NUL and consumes all or nothing. */
	return buf_get_cstring(in, answer, NULL, RFB_CONV_MAX_ANSWER);
}
