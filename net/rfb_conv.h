/*
 * rfb_conv.h - the wire format of moat's conversation, the VeNCrypt
 * subtype X509Conversation (docs/authentication.md): after TLS, the server
 * sends messages (U8 kind, U32 length, UTF-8 text) and the viewer answers
 * each question (U32 length, bytes); kind 0 ends it and the RFB
 * SecurityResult follows. Pure (no I/O), shared by moat-net (which parses
 * answers) and moat-viewer (which parses messages); each side trusts
 * nothing it parses.
 */
#ifndef MOAT_RFB_CONV_H
#define MOAT_RFB_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"

/* The VeNCrypt subtype: "MOAT" in ASCII, far from the registered ones. */
#define RFB_VENCRYPT_X509CONVERSATION	0x4d4f4154u

/* Message kinds */
#define RFB_CONV_END		0	/* no text; the SecurityResult follows */
#define RFB_CONV_ECHO		1	/* a question; the answer may be shown */
#define RFB_CONV_SECRET		2	/* a question; the answer is hidden */
#define RFB_CONV_INFO		3	/* a message to show */
#define RFB_CONV_ERROR		4	/* an error message to show */
#define RFB_CONV_PROVE		5	/* a question: the text is a challenge to
					 * sign with the client certificate's key,
					 * the answer the signature (auth/cert_proof.h) */

#define RFB_CONV_MAX_TEXT	1024	/* bytes of one message's text */
#define RFB_CONV_MAX_ANSWER	1023	/* bytes of one answer */
#define RFB_CONV_MAX_QUESTIONS	16	/* questions a viewer answers per login */

/*
 * Appends one server message. Returns 0; MOAT_ERR_INVALID for an unknown
 * kind, text with a NUL, or text for END; MOAT_ERR_TOO_LONG past
 * RFB_CONV_MAX_TEXT; or b's error (b unchanged on failure).
 */
int rfb_conv_put_message(struct buf *b, uint8_t kind, const char *text,
    size_t len);

/*
 * Parses one server message (viewer side). Returns 0, consuming it, with
 * *kind and a fresh NUL-terminated *text (caller frees; "" for END);
 * MOAT_ERR_AGAIN if incomplete; MOAT_ERR_TOO_LONG if the length exceeds
 * RFB_CONV_MAX_TEXT (known from the header alone); MOAT_ERR_PROTOCOL for an
 * unknown kind or an END with text; MOAT_ERR_INVALID for a NUL in the
 * text; MOAT_ERR_NOMEM. Nothing is consumed on failure.
 */
int rfb_conv_parse_message(struct buf *in, uint8_t *kind, char **text);

/* Appends one answer (U32 length, bytes). Same errors as the put above. */
int rfb_conv_put_answer(struct buf *b, const char *answer, size_t len);

/*
 * Parses one answer (server side). Returns 0, consuming it, with a fresh
 * NUL-terminated *answer (caller wipes and frees); MOAT_ERR_AGAIN if
 * incomplete; MOAT_ERR_TOO_LONG past RFB_CONV_MAX_ANSWER (known from the
 * length alone); MOAT_ERR_INVALID for a NUL byte; MOAT_ERR_NOMEM. Nothing
 * is consumed on failure.
 */
int rfb_conv_parse_answer(struct buf *in, char **answer);

/* The header bytes before a message's text (5) or an answer's bytes (4). */
#define RFB_CONV_MESSAGE_HDR	5
#define RFB_CONV_ANSWER_HDR	4

#endif
