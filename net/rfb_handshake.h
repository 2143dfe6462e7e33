/*
 * rfb_handshake.h - parsers for the bytes a viewer sends before the normal
 * phase: ProtocolVersion, security-type choice, Plain credentials; and the
 * builder of the security-type list they answer. The VeNCrypt version and
 * subtype are rfb_vencrypt.h's, the RSA-AES messages rfb_ra2.h's. Runs in
 * moat-net; pure (no I/O); trusts nothing it parses.
 */
#ifndef MOAT_RFB_HANDSHAKE_H
#define MOAT_RFB_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"

#define RFB_VERSION_LEN		12
#define RFB_PLAIN_MAX_USER	255	/* moat's bound; TigerVNC's is 1023 */
#define RFB_PLAIN_MAX_PASS	1023
#define RFB_MAX_SECURITY_TYPES	255	/* U8 count */

/*
 * Parses a 12-byte ProtocolVersion "RFB xxx.yyy\n". Returns 0 and sets
 * *minor to 3, 7 or 8 (unknown minors map as TigerVNC does: >= 8 -> 8,
 * 7 -> 7, otherwise 3); MOAT_ERR_PROTOCOL for anything else (major != 3,
 * non-digits, wrong punctuation).
 */
int rfb_parse_version(const uint8_t v[RFB_VERSION_LEN], int *minor);

/*
 * Appends the security types offered (RFB 3.8): U8 n, then the n types.
 * Returns 0; MOAT_ERR_INVALID if n is 0 or above RFB_MAX_SECURITY_TYPES or
 * a type is 0 (Invalid); or out's error (out unchanged on any failure).
 */
int rfb_put_security_types(struct buf *out, const uint8_t *types, size_t n);

/*
 * Parses the viewer's security-type choice (U8) against the n types
 * offered. Returns 0 and consumes it if it is not 0 and one of them;
 * MOAT_ERR_AGAIN if in is empty; MOAT_ERR_PROTOCOL if it was not offered
 * (nothing consumed on failure). *type gets the byte whenever there was
 * one, so a refusal can name it.
 */
int rfb_parse_security_choice(struct buf *in, const uint8_t *offered,
    size_t n, uint8_t *type);

/*
 * Parses the VeNCrypt Plain credentials: U32 ulen, U32 plen, user, pass.
 * Returns 0 with fresh NUL-terminated copies (caller wipes and frees);
 * MOAT_ERR_AGAIN if incomplete (nothing consumed); MOAT_ERR_TOO_LONG if a
 * length exceeds RFB_PLAIN_MAX_*; MOAT_ERR_INVALID for embedded NULs or an
 * empty user name.
 */
int rfb_parse_plain(struct buf *in, char **user, char **pass);

/*
 * Copies a user name (ulen bytes, not empty) and a password (plen bytes)
 * into fresh NUL-terminated strings (caller wipes and frees). Returns 0,
 * MOAT_ERR_INVALID for an empty user or an embedded NUL, or MOAT_ERR_NOMEM.
 * Shared by the VeNCrypt Plain and RSA-AES credential parsers.
 */
int rfb_copy_credentials(const uint8_t *u, size_t ulen, const uint8_t *p,
    size_t plen, char **user, char **pass);

/* Bytes the Plain message needs at most (for the read bound). */
size_t rfb_plain_max_len(void);

#endif
