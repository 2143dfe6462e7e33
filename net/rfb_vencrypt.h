/*
 * rfb_vencrypt.h - the VeNCrypt security type (19) up to its subtype:
 * builders for what the server sends (its version, the version ack with the
 * subtypes offered) and parsers for what the viewer sends (its version, its
 * subtype choice). Runs in moat-net; pure (no I/O); trusts nothing it parses.
 *
 *   server: U8 major 0, U8 minor 2
 *   viewer: U8 major, U8 minor            (only 0.2 is accepted)
 *   server: U8 ack 0, U8 n, n * U32 subtypes  (or U8 0xff: refused, close)
 *   viewer: U32 subtype                   (must be one offered)
 *   server: U8 1 for a TLS subtype, then TLS; nothing for a plain type
 */
#ifndef MOAT_RFB_VENCRYPT_H
#define MOAT_RFB_VENCRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"

#define RFB_VENCRYPT_MAJOR		0
#define RFB_VENCRYPT_MINOR		2
#define RFB_VENCRYPT_VERSION_LEN	2	/* U8 major, U8 minor */
#define RFB_VENCRYPT_SUBTYPE_LEN	4	/* U32 */
#define RFB_VENCRYPT_MAX_SUBTYPES	255	/* U8 count */
#define RFB_VENCRYPT_ACK_OK		0	/* version accepted; subtypes follow */
#define RFB_VENCRYPT_ACK_REFUSED	0xff	/* version refused; the server closes */
#define RFB_VENCRYPT_ACK_TLS		1	/* after a TLS subtype: start TLS */

/*
 * Appends the server's version, 0.2. Returns 0 or out's error (out
 * unchanged on failure).
 */
int rfb_vencrypt_put_version(struct buf *out);

/*
 * Appends the version ack (RFB_VENCRYPT_ACK_OK), U8 n and the n subtypes
 * offered as U32s. Returns 0; MOAT_ERR_INVALID if n is 0 or above
 * RFB_VENCRYPT_MAX_SUBTYPES or a subtype is 0; or out's error (out
 * unchanged on any failure).
 */
int rfb_vencrypt_put_subtypes(struct buf *out, const uint32_t *subtypes,
    size_t n);

/*
 * Parses the viewer's version (U8 major, U8 minor). Returns 0 and consumes
 * it if it is 0.2; MOAT_ERR_AGAIN if fewer than 2 bytes are there;
 * MOAT_ERR_PROTOCOL for any other version (nothing consumed on failure).
 * *major and *minor get the version whenever both bytes were there, so a
 * refusal can name it.
 */
int rfb_vencrypt_parse_version(struct buf *in, uint8_t *major,
    uint8_t *minor);

/*
 * Parses the viewer's subtype choice (U32) against the n subtypes offered.
 * Returns 0 and consumes it if it is not 0 and one of them; MOAT_ERR_AGAIN
 * if fewer than 4 bytes are there; MOAT_ERR_PROTOCOL if it was not offered
 * (nothing consumed on failure). *subtype gets the value whenever all 4
 * bytes were there, so a refusal can name it.
 */
int rfb_vencrypt_parse_subtype(struct buf *in, const uint32_t *offered,
    size_t n, uint32_t *subtype);

#endif
