/*
 * rfb_reader.c - parser for RFB client->server messages of the normal
 * phase. Runs in moat-net, inside the sandbox; trusts none of its input.
 * Every variable length is checked against its bound as soon as its
 * prefix is buffered (SetDesktopSize by rfb_desktop.c), so a client can never make moat-net buffer more
 * than rfb_reader_max_msg() bytes. Nothing is consumed unless a whole,
 * valid message was parsed.
 */
#include <string.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "rfb_desktop.h"
#include "rfb_reader.h"

/* Top bit of a ClientCutText length: the ExtendedClipboard form (S32 < 0). */
#define CUT_TEXT_EXTENDED	0x80000000U
#define EXTCLIP_FLAGS_LEN	4
#define EXTCLIP_CAPS_MAX	(EXTCLIP_FLAGS_LEN + 4 * 16)
#define EXTCLIP_SLACK		64	/* zlib header, trailer and flushes */

#define LEN_SET_PIXEL_FORMAT	20
#define LEN_SET_ENCODINGS	4	/* + 4 * n */
#define LEN_FB_UPDATE_REQUEST	10
#define LEN_KEY_EVENT		8
#define LEN_POINTER_EVENT	6
#define LEN_CLIENT_CUT_TEXT	8	/* + length */
#define LEN_ENABLE_CU		10
#define LEN_CLIENT_FENCE	9	/* + length */
#define LEN_SET_DESKTOP_SIZE	8	/* + 16 * n */
#define LEN_SCREEN		16
#define LEN_QEMU_EXT_KEY	12

static int
bits_in_max(uint32_t max)
{
	int n = 0;

	while (max != 0) {
		n++;
		max >>= 1;
	}
	return n;
}

int
rfb_pixfmt_check(const struct rfb_pixfmt *pf)
{
	const uint16_t maxes[3] = { pf->red_max, pf->green_max, pf->blue_max };
	const uint8_t shifts[3] = { pf->red_shift, pf->green_shift,
	    pf->blue_shift };
	uint32_t seen = 0, m;
	int i, bits;

	if (pf->bpp != 8 && pf->bpp != 16 && pf->bpp != 32)
		return MOAT_ERR_INVALID;
	if (pf->depth == 0 || pf->depth > pf->bpp)
		return MOAT_ERR_INVALID;
	if (!pf->true_colour)
		return MOAT_ERR_INVALID;	/* colour maps are not served */
	for (i = 0; i < 3; i++) {
		/* 2^n - 1 with n >= 1 */
		if (maxes[i] == 0 ||
		    ((uint32_t)maxes[i] & ((uint32_t)maxes[i] + 1)) != 0)
			return MOAT_ERR_INVALID;
		bits = bits_in_max(maxes[i]);
		if ((int)shifts[i] + bits > pf->bpp)
			return MOAT_ERR_INVALID;
		m = (uint32_t)maxes[i] << shifts[i];
		if ((seen & m) != 0)
			return MOAT_ERR_INVALID;	/* channels overlap */
		seen |= m;
	}
	return 0;
}

size_t
rfb_extclip_max_payload(uint32_t max_cut_text)
{
	size_t n, bound;

	if (max_cut_text > CUT_TEXT_EXTENDED / 4)
		max_cut_text = CUT_TEXT_EXTENDED / 4;
	/* flags, then zlib data of a U32 size and the text (compressBound). */
	n = 4 + (size_t)max_cut_text;
	bound = EXTCLIP_FLAGS_LEN + n + (n >> 12) + (n >> 14) + (n >> 25) +
	    13 + EXTCLIP_SLACK;
	return bound > EXTCLIP_CAPS_MAX ? bound : EXTCLIP_CAPS_MAX;
}

size_t
rfb_reader_max_msg(const struct rfb_reader_limits *lim)
{
	size_t max = LEN_SET_PIXEL_FORMAT, n;
	uint32_t cut = lim->max_cut_text;

	if (cut > CUT_TEXT_EXTENDED - 1)
		cut = CUT_TEXT_EXTENDED - 1;
	if ((n = LEN_SET_ENCODINGS + 4 * (size_t)RFB_MAX_ENCODINGS) > max)
		max = n;
	if ((n = LEN_CLIENT_CUT_TEXT + (size_t)cut) > max)
		max = n;
	/* Whether or not ExtendedClipboard is on: the buffer is sized once. */
	if ((n = LEN_CLIENT_CUT_TEXT + rfb_extclip_max_payload(lim->max_cut_text))
	    > max)
		max = n;
	if ((n = LEN_CLIENT_FENCE + (size_t)RFB_MAX_FENCE) > max)
		max = n;
	if ((n = LEN_SET_DESKTOP_SIZE + LEN_SCREEN * (size_t)RFB_MAX_SCREENS) >
	    max)
		max = n;
	if (LEN_QEMU_EXT_KEY > max)
		max = LEN_QEMU_EXT_KEY;
	return max;
}

/* Skips n bytes of v; a short view means the message is incomplete. */
static int
skip(struct buf *v, size_t n)
{
	return buf_consume(v, n);
}

static int
read_pixfmt(struct buf *v, struct rfb_pixfmt *pf)
{
	uint8_t be, tc;
	int r;

	if ((r = skip(v, 3)) != 0 ||
	    (r = buf_get_u8(v, &pf->bpp)) != 0 ||
	    (r = buf_get_u8(v, &pf->depth)) != 0 ||
	    (r = buf_get_u8(v, &be)) != 0 ||
	    (r = buf_get_u8(v, &tc)) != 0 ||
	    (r = buf_get_u16(v, &pf->red_max)) != 0 ||
	    (r = buf_get_u16(v, &pf->green_max)) != 0 ||
	    (r = buf_get_u16(v, &pf->blue_max)) != 0 ||
	    (r = buf_get_u8(v, &pf->red_shift)) != 0 ||
	    (r = buf_get_u8(v, &pf->green_shift)) != 0 ||
	    (r = buf_get_u8(v, &pf->blue_shift)) != 0 ||
	    (r = skip(v, 3)) != 0)
		return r;
	pf->big_endian = be != 0;
	pf->true_colour = tc != 0;
	return rfb_pixfmt_check(pf);
}

static int
read_encodings(struct buf *v, struct rfb_client_msg *m)
{
	uint16_t n, i;
	int32_t e;
	int r;

	if ((r = skip(v, 1)) != 0 || (r = buf_get_u16(v, &n)) != 0)
		return r;
	if (n > RFB_MAX_ENCODINGS)
		return MOAT_ERR_TOO_LONG;
	if (buf_len(v) < 4 * (size_t)n)
		return MOAT_ERR_SHORT;
	m->u.encodings.count = n;
	m->u.encodings.kept = 0;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_s32(v, &e)) != 0)
			return r;
		if (i < RFB_KEEP_ENCODINGS)
			m->u.encodings.enc[m->u.encodings.kept++] = e;
	}
	return 0;
}

static int
read_rect(struct buf *v, uint16_t *x, uint16_t *y, uint16_t *w, uint16_t *h)
{
	int r;

	if ((r = buf_get_u16(v, x)) != 0 || (r = buf_get_u16(v, y)) != 0 ||
	    (r = buf_get_u16(v, w)) != 0 || (r = buf_get_u16(v, h)) != 0)
		return r;
	return 0;
}

static int
read_cut_text(struct buf *v, struct rfb_client_msg *m,
    const struct rfb_reader_limits *lim)
{
	const uint8_t *p;
	uint32_t len;
	int r;

	if ((r = skip(v, 3)) != 0 || (r = buf_get_u32(v, &len)) != 0)
		return r;
	if ((len & CUT_TEXT_EXTENDED) != 0) {
		if (!lim->ext_clipboard)
			return MOAT_ERR_TOO_LONG;
		/* S32 < 0: its absolute value, INT32_MIN included. */
		len = ~len + 1;
		if (len < EXTCLIP_FLAGS_LEN)
			return MOAT_ERR_PROTOCOL;
		if (len > rfb_extclip_max_payload(lim->max_cut_text))
			return MOAT_ERR_TOO_LONG;
		m->u.cut.extended = 1;
	} else if (len > lim->max_cut_text)
		return MOAT_ERR_TOO_LONG;
	if ((r = buf_peek(v, len, &p)) != 0 || (r = skip(v, len)) != 0)
		return r;
	m->u.cut.text = p;
	m->u.cut.len = len;
	return 0;
}

static int
read_fence(struct buf *v, struct rfb_client_msg *m)
{
	const uint8_t *p;
	uint8_t len;
	int r;

	if ((r = skip(v, 3)) != 0 ||
	    (r = buf_get_u32(v, &m->u.fence.flags)) != 0 ||
	    (r = buf_get_u8(v, &len)) != 0)
		return r;
	if (len > RFB_MAX_FENCE)
		return MOAT_ERR_TOO_LONG;
	if ((r = buf_peek(v, len, &p)) != 0 || (r = skip(v, len)) != 0)
		return r;
	m->u.fence.len = len;
	m->u.fence.payload = p;
	return 0;
}

/* Strictly, as moat-net reads it (rfb_desktop.c); the screens are not kept here. */
static int
read_desktop_size(struct buf *v, struct rfb_client_msg *m)
{
	struct rfb_desktop_size d;
	int r;

	if ((r = rfb_desktop_size_read(v, &d)) != 0)
		return r;
	m->u.desktop_size.w = d.w;
	m->u.desktop_size.h = d.h;
	m->u.desktop_size.nscreens = d.n;
	return 0;
}

static int
read_qemu(struct buf *v, struct rfb_client_msg *m)
{
	uint16_t down;
	int r;

	if ((r = buf_get_u8(v, &m->u.qemu.subtype)) != 0)
		return r;
	if (m->u.qemu.subtype != 0)
		return MOAT_ERR_PROTOCOL;
	if ((r = buf_get_u16(v, &down)) != 0 ||
	    (r = buf_get_u32(v, &m->u.qemu.keysym)) != 0 ||
	    (r = buf_get_u32(v, &m->u.qemu.keycode)) != 0)
		return r;
	m->u.qemu.down = down != 0;
	return 0;
}

static int
read_body(struct buf *v, uint8_t type, struct rfb_client_msg *m,
    const struct rfb_reader_limits *lim)
{
	uint8_t flag;
	int r;

	switch (type) {
	case RFB_SET_PIXEL_FORMAT:
		return read_pixfmt(v, &m->u.pixfmt);
	case RFB_SET_ENCODINGS:
		return read_encodings(v, m);
	case RFB_FB_UPDATE_REQUEST:
		if ((r = buf_get_u8(v, &flag)) != 0 ||
		    (r = read_rect(v, &m->u.update.x, &m->u.update.y,
		    &m->u.update.w, &m->u.update.h)) != 0)
			return r;
		m->u.update.incremental = flag != 0;
		return 0;
	case RFB_KEY_EVENT:
		if ((r = buf_get_u8(v, &flag)) != 0 || (r = skip(v, 2)) != 0 ||
		    (r = buf_get_u32(v, &m->u.key.keysym)) != 0)
			return r;
		m->u.key.down = flag != 0;
		return 0;
	case RFB_POINTER_EVENT:
		if ((r = buf_get_u8(v, &m->u.pointer.mask)) != 0 ||
		    (r = buf_get_u16(v, &m->u.pointer.x)) != 0 ||
		    (r = buf_get_u16(v, &m->u.pointer.y)) != 0)
			return r;
		return 0;
	case RFB_CLIENT_CUT_TEXT:
		return read_cut_text(v, m, lim);
	case RFB_ENABLE_CONTINUOUS_UPDATES:
		if ((r = buf_get_u8(v, &flag)) != 0 ||
		    (r = read_rect(v, &m->u.cu.x, &m->u.cu.y,
		    &m->u.cu.w, &m->u.cu.h)) != 0)
			return r;
		m->u.cu.enable = flag != 0;
		return 0;
	case RFB_CLIENT_FENCE:
		return read_fence(v, m);
	case RFB_SET_DESKTOP_SIZE:
		return read_desktop_size(v, m);
	case RFB_QEMU_CLIENT:
		return read_qemu(v, m);
	default:
		return MOAT_ERR_PROTOCOL;
	}
}

int
rfb_read_client_msg(struct buf *in, struct rfb_client_msg *m,
    const struct rfb_reader_limits *lim)
{
	struct rfb_client_msg tmp;
	struct buf v;
	uint8_t type;
	int r;

	if (buf_len(in) == 0)
		return MOAT_ERR_AGAIN;
	/* Parse a view of the unread bytes; in is touched only on success. */
	buf_view(&v, buf_ptr(in), buf_len(in));
	if ((r = buf_get_u8(&v, &type)) != 0)
		return r;
	memset(&tmp, 0, sizeof(tmp));
	tmp.type = type;
	if ((r = read_body(&v, type, &tmp, lim)) != 0)
		return r == MOAT_ERR_SHORT ? MOAT_ERR_AGAIN : r;
	if ((r = buf_consume(in, v.off)) != 0)
		return r;
	*m = tmp;
	return 0;
}
