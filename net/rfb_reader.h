/*
 * rfb_reader.h - parser for RFB client->server messages in the normal
 * (post-initialisation) phase. Runs in moat-net; trusts none of its input.
 */
#ifndef MOAT_RFB_READER_H
#define MOAT_RFB_READER_H

#include "privsep/buf.h"
#include "rfb_types.h"

struct rfb_reader_limits {
	uint32_t max_cut_text;	/* ClientCutText longer than this closes the client */
	uint8_t ext_clipboard;	/* ExtendedClipboard negotiated: negative lengths allowed */
};

/*
 * The longest ExtendedClipboard payload (flags and data, the absolute value
 * of the negative length) accepted when MaxCutText is max_cut_text: a Caps
 * message, or a Provide whose zlib data holds max_cut_text bytes of text in
 * the worst case of deflate's expansion. Longer ones close the client.
 */
size_t rfb_extclip_max_payload(uint32_t max_cut_text);

/*
 * Parses one message from the front of in. Returns 0 and consumes exactly
 * that message; MOAT_ERR_AGAIN (nothing consumed) when the message is not
 * complete yet; MOAT_ERR_PROTOCOL, MOAT_ERR_TOO_LONG or MOAT_ERR_INVALID
 * (nothing consumed) for input that must close the client: unknown type,
 * bad pixel format, lengths over their bounds, a SetDesktopSize width or
 * height outside 1..RFB_MAX_DESKTOP_DIM (rfb_desktop.h), unknown QEMU subtype, a
 * negative ClientCutText length when lim->ext_clipboard is 0 (with it, the
 * message is returned with cut.extended set and cut.text/len covering the
 * flags and data, at least 4 and at most rfb_extclip_max_payload() bytes).
 * A complete message never needs more than rfb_reader_max_msg(lim) bytes.
 */
int rfb_read_client_msg(struct buf *in, struct rfb_client_msg *m,
    const struct rfb_reader_limits *lim);

/* The largest complete message the reader may need buffered. */
size_t rfb_reader_max_msg(const struct rfb_reader_limits *lim);

/* Returns 0 if pf is a pixel format moat can serve, MOAT_ERR_INVALID otherwise. */
int rfb_pixfmt_check(const struct rfb_pixfmt *pf);

#endif
