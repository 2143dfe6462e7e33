/*
 * rfb_extclip.h - the ExtendedClipboard pseudo-encoding (0xC0A1E5CE):
 * parses the viewer's extended ClientCutText payloads (Caps, Request,
 * Peek, Notify, Provide with a bounded inflate) and builds the server's.
 * Runs in moat-net; trusts none of what it parses. Only the text format
 * is served; moat-session's clipboard text is Latin-1, the extended
 * format's is UTF-8 with CRLF line ends and a terminating NUL.
 */
#ifndef MOAT_RFB_EXTCLIP_H
#define MOAT_RFB_EXTCLIP_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"

#define RFB_EXTCLIP_TEXT	0x00000001U	/* format: UTF-8 text */
#define RFB_EXTCLIP_FORMATS	0x0000ffffU
#define RFB_EXTCLIP_CAPS	0x01000000U
#define RFB_EXTCLIP_REQUEST	0x02000000U
#define RFB_EXTCLIP_PEEK	0x04000000U
#define RFB_EXTCLIP_NOTIFY	0x08000000U
#define RFB_EXTCLIP_PROVIDE	0x10000000U
#define RFB_EXTCLIP_ACTIONS	0xff000000U

/* What the viewer assumes of a peer that sent no Caps (rfbproto). */
#define RFB_EXTCLIP_DEFAULT_ACTIONS	(RFB_EXTCLIP_REQUEST | \
    RFB_EXTCLIP_NOTIFY | RFB_EXTCLIP_PROVIDE)
#define RFB_EXTCLIP_DEFAULT_TEXT_MAX	(20u * 1024u * 1024u)

struct rfb_extclip {
	uint32_t flags;		/* the action bit and the format bits sent */
	uint32_t text_max;	/* Caps: the peer's size for text; 0 without text */
	uint8_t *text;		/* Provide with text: Latin-1, no NUL (malloc'd) */
	size_t text_len;
	int has_text;		/* Provide carried the text format */
};

/*
 * Parses one extended payload p (flags and data, len bytes, as
 * rfb_read_client_msg() returned it). Caps may list any actions (those
 * its sender supports); any other message must have exactly one known
 * action bit. Caps must hold exactly one U32 size per format bit;
 * Request, Peek and Notify nothing after the flags. A Provide with the
 * text bit is inflated (a fresh zlib stream) only as far as the text: its
 * U32 size, NUL included, must not exceed max_text, and the inflate
 * never writes more than 4 + that size nor reads past p + len; the text
 * is then converted to Latin-1 (characters beyond U+00FF and bad UTF-8
 * become '?', CRLF becomes LF, it ends at the first NUL). Returns 0
 * (x filled; free with rfb_extclip_clear()), MOAT_ERR_TOO_LONG for text
 * over max_text, MOAT_ERR_PROTOCOL for anything malformed or truncated,
 * or MOAT_ERR_NOMEM; on error x holds nothing to free.
 */
int rfb_extclip_parse(const uint8_t *p, size_t len, uint32_t max_text,
    struct rfb_extclip *x);

/* Wipes and frees x's text and zeroes x; safe on a zeroed x. */
void rfb_extclip_clear(struct rfb_extclip *x);

/*
 * Appends a ServerCutText message in the extended form: Caps announcing
 * text only with max_text as its size and the Request, Peek, Notify and
 * Provide actions. Returns 0 or a negative MOAT_ERR_* (out as it was).
 */
int rfb_extclip_put_caps(struct buf *out, uint32_t max_text);

/*
 * Appends an extended ServerCutText of just flags (Request, Peek or
 * Notify with its format bits). Returns 0 or a negative MOAT_ERR_*
 * (out as it was).
 */
int rfb_extclip_put_flags(struct buf *out, uint32_t flags);

/*
 * Appends an extended ServerCutText Provide of the text format: latin1
 * (len bytes, LF line ends) as UTF-8 with CRLF and a NUL, deflated in a
 * fresh zlib stream. Returns 0 or a negative MOAT_ERR_* (out as it was).
 */
int rfb_extclip_put_provide(struct buf *out, const uint8_t *latin1,
    size_t len);

#endif
