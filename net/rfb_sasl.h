/*
 * rfb_sasl.h - the wire format of the SASL security type as gtk-vnc and
 * QEMU speak it, here as the VeNCrypt subtype X509SASL (263): after TLS,
 *
 *   server: U32 n, n bytes: the mechanism list ("GSSAPI"; no NUL counted)
 *   viewer: U32 n (1..100), n bytes: the mechanism chosen;
 *           U32 n, n bytes: its first SASL output
 *   server: U32 n, n bytes: SASL output; U8 complete (0 or 1)
 *   viewer: (while complete is 0) U32 n, n bytes: its next SASL output
 *   server: ... until complete is 1, then the RFB SecurityResult
 *
 * A SASL output of n > 0 bytes on the wire is n - 1 bytes of data and one
 * terminator, dropped whatever its value (gtk-vnc sends the byte after
 * its buffer, which need not be 0); n = 0 is no output at all, which SASL
 * tells apart from an empty one (n = 1). No SASL security layer follows:
 * TLS protects the session. Runs in moat-net; pure (no I/O); trusts
 * nothing it parses and bounds every length before a byte of it is
 * buffered.
 */
#ifndef MOAT_RFB_SASL_H
#define MOAT_RFB_SASL_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"

#define RFB_VENCRYPT_X509SASL	263	/* SASL inside X.509-authenticated TLS */

#define RFB_SASL_MAX_MECHLIST	300	/* gtk-vnc's bound on the server's list */
#define RFB_SASL_MAX_MECH	100	/* QEMU's bound on the mechanism chosen */
#define RFB_SASL_MAX_DATA	65536	/* moat's bound on one SASL output, without the terminator */
#define RFB_SASL_LEN		4	/* each U32 length */
/* The longest message a viewer sends: the start. */
#define RFB_SASL_MAX_START \
	(2 * RFB_SASL_LEN + RFB_SASL_MAX_MECH + RFB_SASL_MAX_DATA + 1)

/* One SASL output, a view into the parsed buffer. */
struct rfb_sasl_data {
	int present;		/* 0: no output at all (wire length 0) */
	const uint8_t *p;	/* len bytes, terminator dropped */
	size_t len;		/* <= RFB_SASL_MAX_DATA */
};

/*
 * Appends the mechanism list (U32 length, bytes). Returns 0;
 * MOAT_ERR_INVALID if it is empty or holds a NUL; MOAT_ERR_TOO_LONG past
 * RFB_SASL_MAX_MECHLIST; or b's error (b unchanged on failure).
 */
int rfb_sasl_put_mechlist(struct buf *b, const char *list, size_t len);

/*
 * Parses the viewer's start: the mechanism (1..RFB_SASL_MAX_MECH bytes of
 * A-Z, 0-9, '-', '_', as RFC 4422 names are) and its first output. Returns
 * 0, consuming it, with views into in (valid while in's bytes are);
 * MOAT_ERR_AGAIN if incomplete, with *need the total the message needs as
 * far as its lengths are known (read up to it and call again);
 * MOAT_ERR_TOO_LONG for a length past its bound; MOAT_ERR_PROTOCOL for an
 * empty mechanism or one with other bytes. Nothing is consumed on failure.
 */
int rfb_sasl_parse_start(struct buf *in, struct rfb_sasl_data *mech,
    struct rfb_sasl_data *data, size_t *need);

/*
 * Parses one step of the viewer (U32 length, bytes). Returns as
 * rfb_sasl_parse_start() (no MOAT_ERR_PROTOCOL).
 */
int rfb_sasl_parse_step(struct buf *in, struct rfb_sasl_data *data,
    size_t *need);

/*
 * Appends the server's output (U32 length + 1, the bytes and a 0, or
 * U32 0 when len is 0) and U8 complete. Returns 0; MOAT_ERR_INVALID if
 * complete is not 0 or 1 or p is NULL with len > 0; MOAT_ERR_TOO_LONG past
 * RFB_SASL_MAX_DATA; or b's error (b unchanged on failure).
 */
int rfb_sasl_put_reply(struct buf *b, const uint8_t *p, size_t len,
    uint8_t complete);

/*
 * The viewer's side, for tests and fuzzing: appends a start (mechanism,
 * then data as a viewer frames it: absent when !present) or a step.
 * Return as the puts above; MOAT_ERR_INVALID for an empty or unnamed
 * mechanism.
 */
int rfb_sasl_put_start(struct buf *b, const char *mech,
    const struct rfb_sasl_data *data);
int rfb_sasl_put_step(struct buf *b, const struct rfb_sasl_data *data);

#endif
