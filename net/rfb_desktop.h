/*
 * rfb_desktop.h - the viewer's SetDesktopSize (RFB client message 251,
 * rfbproto "SetDesktopSize"): the strict parser and the layout check.
 * Runs in moat-net; trusts none of its input.
 *
 * Wire form: U8 251, U8 padding, U16 width, U16 height, U8
 * number-of-screens, U8 padding, then number-of-screens SCREENs of U32 id,
 * U16 x, U16 y, U16 width, U16 height, U32 flags.
 */
#ifndef MOAT_RFB_DESKTOP_H
#define MOAT_RFB_DESKTOP_H

#include <stdint.h>

#include "privsep/buf.h"
#include "rfb_types.h"

/* Width and height a viewer may ask for; outside 1..this closes it. */
#define RFB_MAX_DESKTOP_DIM	16384
/* The longest SetDesktopSize, type byte included. */
#define RFB_DESKTOP_SIZE_MAX_MSG	(8 + 16 * RFB_MAX_SCREENS)

struct rfb_screen {
	uint32_t id;
	uint16_t x, y, w, h;
	uint32_t flags;
};

/* One decoded SetDesktopSize. */
struct rfb_desktop_size {
	uint16_t w, h;
	uint8_t n;
	struct rfb_screen screens[RFB_MAX_SCREENS];
};

/*
 * Reads the body of a SetDesktopSize (what follows the type byte) from v
 * into d. Returns 0 when it is complete and well formed, consuming exactly
 * it; MOAT_ERR_SHORT when more bytes are needed; MOAT_ERR_INVALID when the
 * width or the height is outside 1..RFB_MAX_DESKTOP_DIM (known from its
 * first 5 bytes); MOAT_ERR_TOO_LONG when it announces more than
 * RFB_MAX_SCREENS screens (known from its first 6 bytes, before any screen
 * is buffered). On error v is unread and d unspecified.
 */
int rfb_desktop_size_read(struct buf *v, struct rfb_desktop_size *d);

/*
 * Parses one SetDesktopSize, type byte included, from the front of in,
 * with rfb_read_client_msg()'s contract: 0 consumes exactly the message;
 * MOAT_ERR_AGAIN (nothing consumed) when it is not complete yet;
 * MOAT_ERR_PROTOCOL when the type is not 251, MOAT_ERR_TOO_LONG or
 * MOAT_ERR_INVALID as rfb_desktop_size_read() (nothing consumed; the
 * client is closed).
 */
int rfb_read_set_desktop_size(struct buf *in, struct rfb_desktop_size *d);

/*
 * Returns 0 if d is a screen layout rfbproto allows: at least one screen,
 * each nonempty and inside d->w x d->h, no two with the same id;
 * MOAT_ERR_INVALID otherwise (answered with status 3, "invalid screen
 * layout", not a reason to close the client).
 */
int rfb_desktop_layout_check(const struct rfb_desktop_size *d);

#endif
