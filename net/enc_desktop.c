/*
 * enc_desktop.c - rectangle headers and the DesktopSize / ExtendedDesktopSize
 * / DesktopName pseudo-rectangles and the empty ones (LastRect, the QEMU
 * extended key event confirmation). Runs in moat-net; writes only values its caller chose
 * (the framebuffer size, moat's own reason/status codes and the desktop
 * name the monitor configured).
 */
#include <string.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "encoder.h"

#define RECT_HEADER_LEN		12
#define EXT_DESKTOP_DATA_LEN	(4 + 16)	/* nscreens + pad, one SCREEN */

int
rfb_put_rect_header(struct buf *out, uint16_t x, uint16_t y, uint16_t w,
    uint16_t h, int32_t enc)
{
	uint8_t hdr[RECT_HEADER_LEN];
	struct buf b;

	/* Built in local storage so out never holds half a header. */
	buf_init_fixed(&b, hdr, sizeof(hdr));
	if (buf_put_u16(&b, x) != 0 || buf_put_u16(&b, y) != 0 ||
	    buf_put_u16(&b, w) != 0 || buf_put_u16(&b, h) != 0 ||
	    buf_put_s32(&b, enc) != 0)
		return MOAT_ERR_INVALID;	/* cannot happen: 12 bytes */
	return buf_put_bytes(out, hdr, sizeof(hdr));
}

int
enc_desktop_size(struct buf *out, uint16_t w, uint16_t h)
{
	return rfb_put_rect_header(out, 0, 0, w, h, RFB_ENC_DESKTOP_SIZE);
}

int
enc_ext_desktop_size(struct buf *out, uint16_t reason, uint16_t status,
    uint16_t w, uint16_t h)
{
	uint8_t msg[RECT_HEADER_LEN + EXT_DESKTOP_DATA_LEN];
	struct buf b;

	buf_init_fixed(&b, msg, sizeof(msg));
	if (rfb_put_rect_header(&b, reason, status, w, h,
	    RFB_ENC_EXT_DESKTOP_SIZE) != 0 ||
	    buf_put_u8(&b, 1) != 0 ||		/* number-of-screens */
	    buf_put_u8(&b, 0) != 0 || buf_put_u16(&b, 0) != 0 ||	/* pad */
	    buf_put_u32(&b, 0) != 0 ||		/* screen id */
	    buf_put_u16(&b, 0) != 0 || buf_put_u16(&b, 0) != 0 ||	/* x, y */
	    buf_put_u16(&b, w) != 0 || buf_put_u16(&b, h) != 0 ||
	    buf_put_u32(&b, 0) != 0)		/* flags */
		return MOAT_ERR_INVALID;	/* cannot happen: fixed size */
	return buf_put_bytes(out, msg, sizeof(msg));
}

int
enc_pseudo_empty(struct buf *out, int32_t enc)
{
	return rfb_put_rect_header(out, 0, 0, 0, 0, enc);
}

int
enc_desktop_name(struct buf *out, const char *name)
{
	uint8_t msg[RECT_HEADER_LEN + 4 + RFB_MAX_DESKTOP_NAME];
	size_t len = strlen(name);
	struct buf b;

	if (len > RFB_MAX_DESKTOP_NAME) {
		/* Cut at a character boundary of the UTF-8 name. */
		len = RFB_MAX_DESKTOP_NAME;
		while (len > 0 && ((uint8_t)name[len] & 0xc0) == 0x80)
			len--;
	}
	/* Built in local storage so out never holds half a rectangle. */
	buf_init_fixed(&b, msg, sizeof(msg));
	if (rfb_put_rect_header(&b, 0, 0, 0, 0, RFB_ENC_DESKTOP_NAME) != 0 ||
	    buf_put_string(&b, name, len) != 0)
		return MOAT_ERR_INVALID;	/* cannot happen: sized above */
	return buf_put_bytes(out, buf_ptr(&b), buf_len(&b));
}
