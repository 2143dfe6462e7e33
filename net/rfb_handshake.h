/*
 * rfb_handshake.h - parsers for the bytes a viewer sends before the normal
 * phase: ProtocolVersion, security-type choice, VeNCrypt version and
 * subtype, Plain credentials, ClientInit. Runs in moat-net; trusts nothing.
 */
#ifndef MOAT_RFB_HANDSHAKE_H
#define MOAT_RFB_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"

#define RFB_VERSION_LEN		12
#define RFB_PLAIN_MAX_USER	255	/* moat's bound; TigerVNC's is 1023 */
#define RFB_PLAIN_MAX_PASS	1023

/*
 * Parses a 12-byte ProtocolVersion "RFB xxx.yyy\n". Returns 0 and sets
 * *minor to 3, 7 or 8 (unknown minors map as TigerVNC does: >= 8 -> 8,
 * 7 -> 7, otherwise 3); MOAT_ERR_PROTOCOL for anything else (major != 3,
 * non-digits, wrong punctuation).
 */
int rfb_parse_version(const uint8_t v[RFB_VERSION_LEN], int *minor);

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
