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
};

/*
 * Parses one message from the front of in. Returns 0 and consumes exactly
 * that message; MOAT_ERR_AGAIN (nothing consumed) when the message is not
 * complete yet; MOAT_ERR_PROTOCOL, MOAT_ERR_TOO_LONG or MOAT_ERR_INVALID
 * (nothing consumed) for input that must close the client: unknown type,
 * bad pixel format, lengths over their bounds, unknown QEMU subtype.
 * A complete message never needs more than rfb_reader_max_msg(lim) bytes.
 */
int rfb_read_client_msg(struct buf *in, struct rfb_client_msg *m,
    const struct rfb_reader_limits *lim);

/* The largest complete message the reader may need buffered. */
size_t rfb_reader_max_msg(const struct rfb_reader_limits *lim);

/* Returns 0 if pf is a pixel format moat can serve, MOAT_ERR_INVALID otherwise. */
int rfb_pixfmt_check(const struct rfb_pixfmt *pf);

#endif
