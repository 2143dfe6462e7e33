/*
 * rfb_extclip.c - ExtendedClipboard (0xC0A1E5CE) payloads: the viewer's
 * Caps, Request, Peek, Notify and Provide, and the server's. Runs in
 * moat-net, inside the sandbox; trusts none of what it parses. The
 * payload's length was bounded by rfb_read_client_msg(); the inflate of a
 * Provide is bounded again here, by MaxCutText on its output and by the
 * payload on its input, and stops after the text (the only format moat
 * announces), so a zip bomb costs at most MaxCutText bytes of memory.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "rfb_extclip.h"
#include "rfb_types.h"

#define KNOWN_ACTIONS	(RFB_EXTCLIP_CAPS | RFB_EXTCLIP_REQUEST | \
    RFB_EXTCLIP_PEEK | RFB_EXTCLIP_NOTIFY | RFB_EXTCLIP_PROVIDE)
#define SERVER_ACTIONS	KNOWN_ACTIONS
#define MSG_HEADER_LEN	8	/* type, 3 pad, S32 length */

void
rfb_extclip_clear(struct rfb_extclip *x)
{
	if (x->text != NULL) {
		explicit_bzero(x->text, x->text_len);
		free(x->text);
	}
	memset(x, 0, sizeof(*x));
}

/*
 * Inflates exactly n bytes into out. Returns 0, or MOAT_ERR_PROTOCOL if
 * the stream is corrupt or ends (or its input runs out) before n bytes.
 */
static int
inflate_exact(z_stream *zs, uint8_t *out, size_t n)
{
	int zr;

	zs->next_out = out;
	zs->avail_out = (uInt)n;
	while (zs->avail_out > 0) {
		zr = inflate(zs, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			return zs->avail_out == 0 ? 0 : MOAT_ERR_PROTOCOL;
		if (zr != Z_OK)		/* Z_BUF_ERROR: truncated */
			return MOAT_ERR_PROTOCOL;
	}
	return 0;
}

/* Decodes one UTF-8 sequence at s[0..n); returns its length, 0 if invalid. */
static size_t
utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint32_t v, min;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		v = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		v = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		v = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* Converts s (UTF-8, CRLF, NUL-terminated or not) in place to Latin-1 with LF; returns the new length. */
static size_t
utf8_to_latin1(uint8_t *s, size_t n)
{
	size_t i = 0, o = 0, k;
	uint32_t cp;

	while (i < n && s[i] != 0) {
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
			i++;
			continue;
		}
		if ((k = utf8_decode(s + i, n - i, &cp)) == 0) {
			s[o++] = '?';
			i++;
			continue;
		}
		s[o++] = cp <= 0xff ? (uint8_t)cp : '?';
		i += k;
	}
	return o;
}

static int
parse_provide(struct buf *v, uint32_t max_text, struct rfb_extclip *x)
{
	z_stream zs;
	uint8_t hdr[4];
	uint32_t size;
	int r;

	if (!(x->flags & RFB_EXTCLIP_TEXT))
		return 0;	/* formats moat never announced: ignored */
	memset(&zs, 0, sizeof(zs));
	zs.next_in = (Bytef *)(uintptr_t)buf_ptr(v);
	zs.avail_in = (uInt)buf_len(v);
	if (inflateInit(&zs) != Z_OK)
		return MOAT_ERR_NOMEM;
	if ((r = inflate_exact(&zs, hdr, sizeof(hdr))) != 0)
		goto out;
	size = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (size > max_text) {
		r = MOAT_ERR_TOO_LONG;
		goto out;
	}
	if ((x->text = malloc(size > 0 ? size : 1)) == NULL) {
		r = MOAT_ERR_NOMEM;
		goto out;
	}
	x->text_len = size;
	if ((r = inflate_exact(&zs, x->text, size)) != 0)
		goto out;
	x->text_len = utf8_to_latin1(x->text, size);
	x->has_text = 1;
 out:
	inflateEnd(&zs);
	return r;
}

int
rfb_extclip_parse(const uint8_t *p, size_t len, uint32_t max_text,
    struct rfb_extclip *x)
{
	struct buf v;
	uint32_t flags, action, size;
	int bit, r;

	memset(x, 0, sizeof(*x));
	buf_view(&v, p, len);
	if (buf_get_u32(&v, &flags) != 0)
		return MOAT_ERR_PROTOCOL;
	/* Caps lists the actions its sender supports; others carry one. */
	action = flags & RFB_EXTCLIP_ACTIONS;
	if (action & RFB_EXTCLIP_CAPS)
		action = RFB_EXTCLIP_CAPS;
	else if (action == 0 || (action & (action - 1)) != 0 ||
	    (action & ~KNOWN_ACTIONS) != 0)
		return MOAT_ERR_PROTOCOL;
	x->flags = flags;
	switch (action) {
	case RFB_EXTCLIP_CAPS:
		for (bit = 0; bit < 16; bit++) {
			if (!(flags & (1U << bit)))
				continue;
			if (buf_get_u32(&v, &size) != 0)
				return MOAT_ERR_PROTOCOL;
			if (bit == 0)
				x->text_max = size;
		}
		break;
	case RFB_EXTCLIP_PROVIDE:
		if ((r = parse_provide(&v, max_text, x)) != 0) {
			rfb_extclip_clear(x);
			return r;
		}
		return 0;	/* the formats after the text are not read */
	}
	return buf_expect_end(&v) == 0 ? 0 : MOAT_ERR_PROTOCOL;
}

/* Appends the extended ServerCutText of flags and data (built whole first). */
static int
put_msg(struct buf *out, uint32_t flags, const uint8_t *data, size_t len)
{
	struct buf m;
	int r;

	if (len > INT32_MAX - 4)
		return MOAT_ERR_TOO_LONG;
	buf_init(&m, MSG_HEADER_LEN + 4 + len);
	if ((r = buf_put_u8(&m, RFB_SERVER_CUT_TEXT)) == 0 &&
	    (r = buf_put_bytes(&m, "\0\0\0", 3)) == 0 &&
	    (r = buf_put_s32(&m, -(int32_t)(4 + len))) == 0 &&
	    (r = buf_put_u32(&m, flags)) == 0 &&
	    (len == 0 || (r = buf_put_bytes(&m, data, len)) == 0))
		r = buf_put_bytes(out, buf_ptr(&m), buf_len(&m));
	buf_free(&m);
	return r;
}

int
rfb_extclip_put_caps(struct buf *out, uint32_t max_text)
{
	uint8_t size[4] = { (uint8_t)(max_text >> 24), (uint8_t)(max_text >> 16),
	    (uint8_t)(max_text >> 8), (uint8_t)max_text };

	return put_msg(out, RFB_EXTCLIP_CAPS | SERVER_ACTIONS |
	    RFB_EXTCLIP_TEXT, size, sizeof(size));
}

int
rfb_extclip_put_flags(struct buf *out, uint32_t flags)
{
	return put_msg(out, flags, NULL, 0);
}

int
rfb_extclip_put_provide(struct buf *out, const uint8_t *latin1, size_t len)
{
	uint8_t *plain, *z;
	size_t i, o, cap;
	uLongf zlen;
	int r;

	if (len > (SIZE_MAX - 5) / 2 || len > INT32_MAX / 4)
		return MOAT_ERR_TOO_LONG;
	cap = 4 + 2 * len + 1;	/* U32 size, every byte doubled, NUL */
	if ((plain = malloc(cap)) == NULL)
		return MOAT_ERR_NOMEM;
	o = 4;
	for (i = 0; i < len; i++) {
		if (latin1[i] == '\n' && (i == 0 || latin1[i - 1] != '\r'))
			plain[o++] = '\r';
		if (latin1[i] < 0x80)
			plain[o++] = latin1[i];
		else {
			plain[o++] = 0xc0 | (latin1[i] >> 6);
			plain[o++] = 0x80 | (latin1[i] & 0x3f);
		}
	}
	plain[o++] = 0;
	plain[0] = (uint8_t)((o - 4) >> 24);
	plain[1] = (uint8_t)((o - 4) >> 16);
	plain[2] = (uint8_t)((o - 4) >> 8);
	plain[3] = (uint8_t)(o - 4);
	zlen = compressBound((uLong)o);
	if ((z = malloc(zlen)) == NULL) {
		r = MOAT_ERR_NOMEM;
		goto out;
	}
	if (compress2(z, &zlen, plain, (uLong)o, Z_DEFAULT_COMPRESSION) != Z_OK)
		r = MOAT_ERR_NOMEM;
	else
		r = put_msg(out, RFB_EXTCLIP_PROVIDE | RFB_EXTCLIP_TEXT, z,
		    zlen);
	explicit_bzero(z, zlen);
	free(z);
 out:
	explicit_bzero(plain, cap);
	free(plain);
	return r;
}
