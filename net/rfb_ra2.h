/*
 * rfb_ra2.h - the RSA-AES security types (RA2 5, RA2ne 6, RA2_256 129,
 * RA2ne_256 130; rfbproto "RSA-AES Security Type"): parsers for what the
 * viewer sends, builders for what the server sends, key derivation, and
 * the AES-EAX record layer. Runs in moat-net (and in the test client);
 * pure: no I/O. Everything parsed here comes from the network and is
 * bounded before it is buffered or used.
 *
 * The server's RSA key is the identity key: its private half never reaches
 * moat-net; the ClientRandom is decrypted by the monitor (monitor/mon_rsa.c).
 */
#ifndef MOAT_RFB_RA2_H
#define MOAT_RFB_RA2_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"
#include "rfb_eax.h"

#define RFB_SEC_RA2		5
#define RFB_SEC_RA2NE		6
#define RFB_SEC_RA2_256		129
#define RFB_SEC_RA2NE_256	130

#define RFB_RA2_MIN_BITS	1024
#define RFB_RA2_MAX_BITS	8192
#define RFB_RA2_MAX_MODULUS	(RFB_RA2_MAX_BITS / 8)
#define RFB_RA2_MAX_KEY_BLOB	(4 + 2 * RFB_RA2_MAX_MODULUS)
#define RFB_RA2_MAX_RANDOM	32
#define RFB_RA2_MAX_HASH	32
#define RFB_RA2_MAX_KEY		32
#define RFB_RA2_NONCE_LEN	16
#define RFB_RA2_MAX_RECORD	65535	/* plaintext bytes one record may carry */
#define RFB_RA2_WRITE_RECORD	8192	/* what moat puts in one record (as TigerVNC) */
#define RFB_RA2_OVERHEAD	(2 + RFB_EAX_TAG_LEN)
#define RFB_RA2_SUBTYPE_USER_PASS 1
#define RFB_RA2_MAX_CRED	255	/* U8 lengths */

/* What distinguishes the four types. */
struct rfb_ra2_params {
	uint8_t type;
	const char *name;		/* "RA2", "RA2ne", "RA2_256", "RA2ne_256" */
	const char *cipher;		/* "AES-128-EAX" or "AES-256-EAX" */
	int sha256;			/* 0: SHA-1 */
	size_t random_len;		/* 16 or 32 */
	size_t key_len;			/* AES key: 16 or 32 */
	size_t hash_len;		/* 20 or 32 */
	int all_encrypted;		/* 0: plaintext from SecurityResult on */
};

/* A public key as sent on the wire: U32 bits, N, E (each mod_len bytes). */
struct rfb_ra2_pubkey {
	uint32_t bits;
	size_t mod_len;			/* ceil(bits / 8) */
	size_t blob_len;		/* 4 + 2 * mod_len */
	uint8_t blob[RFB_RA2_MAX_KEY_BLOB];
};

/* One direction of the record layer. */
struct rfb_ra2_dir {
	struct rfb_eax eax;
	uint8_t nonce[RFB_RA2_NONCE_LEN];	/* little-endian record counter */
};

/* Returns the parameters of an RSA-AES type, or NULL for any other type. */
const struct rfb_ra2_params *rfb_ra2_params(uint8_t type);

/*
 * Fetches the digests and ciphers and runs one RSA public-key encryption,
 * so that nothing needs loading once sandboxed. Returns 0 or
 * MOAT_ERR_CRYPTO.
 */
int rfb_ra2_global_init(void);

/*
 * Returns 0 and sets *len to the length of a public-key message of bits
 * bits, or MOAT_ERR_INVALID outside RFB_RA2_MIN_BITS..RFB_RA2_MAX_BITS.
 */
int rfb_ra2_pubkey_len(uint32_t bits, size_t *len);

/*
 * Parses a public-key message from in into k (keeping its exact bytes).
 * Returns 0 and consumes it; MOAT_ERR_AGAIN if incomplete (nothing
 * consumed); MOAT_ERR_INVALID for a size outside 1024..8192 bits, a
 * modulus that is even or not exactly that many bits, or an exponent that
 * is even, below 3 or not below the modulus (nothing consumed).
 */
int rfb_ra2_parse_pubkey(struct buf *in, struct rfb_ra2_pubkey *k);

/*
 * Encrypts len random bytes to key k (RSA PKCS#1 v1.5) and appends the
 * message: U16 mod_len, ciphertext. Returns 0, MOAT_ERR_INVALID if len
 * does not fit the key, MOAT_ERR_CRYPTO, or the buffer's error (out
 * unchanged on failure).
 */
int rfb_ra2_put_encrypted_random(struct buf *out, const struct rfb_ra2_pubkey *k,
    const uint8_t *rnd, size_t len);

/*
 * Parses the viewer's encrypted random: U16 length, which must equal
 * mod_len, then that many bytes, copied to ct. Returns 0 and consumes;
 * MOAT_ERR_AGAIN if incomplete; MOAT_ERR_INVALID for another length
 * (nothing consumed either way).
 */
int rfb_ra2_parse_encrypted_random(struct buf *in, size_t mod_len, uint8_t *ct);

/*
 * out = H(a || b) with the type's hash (20 or 32 bytes, p->hash_len).
 * Returns 0 or MOAT_ERR_CRYPTO.
 */
int rfb_ra2_hash(const struct rfb_ra2_params *p, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, uint8_t out[RFB_RA2_MAX_HASH]);

/*
 * Session keys (p->key_len bytes each): client_key = H(ServerRandom ||
 * ClientRandom) protects viewer-to-server records, server_key =
 * H(ClientRandom || ServerRandom) server-to-viewer ones. Returns 0 or
 * MOAT_ERR_CRYPTO.
 */
int rfb_ra2_derive(const struct rfb_ra2_params *p, const uint8_t *server_random,
    const uint8_t *client_random, uint8_t client_key[RFB_RA2_MAX_KEY],
    uint8_t server_key[RFB_RA2_MAX_KEY]);

/*
 * Parses the credentials: U8 ulen, user, U8 plen, password. Returns 0 with
 * fresh NUL-terminated copies (caller wipes and frees) and consumes them;
 * MOAT_ERR_AGAIN if incomplete; MOAT_ERR_INVALID for an empty user name or
 * an embedded NUL (nothing consumed either way).
 */
int rfb_ra2_parse_credentials(struct buf *in, char **user, char **pass);

/* Keys one direction with a 16- or 32-byte key, counter 0. Returns 0 or negative. */
int rfb_ra2_dir_init(struct rfb_ra2_dir *d, const uint8_t *key, size_t keylen);
/* Frees a direction and wipes its counter. */
void rfb_ra2_dir_free(struct rfb_ra2_dir *d);

/*
 * Appends one record carrying len (<= RFB_RA2_MAX_RECORD) plaintext bytes
 * to out and advances the counter. Returns 0, MOAT_ERR_TOO_LONG (len or
 * out's bound), or MOAT_ERR_CRYPTO; out unchanged on failure.
 */
int rfb_ra2_seal_record(struct rfb_ra2_dir *d, const uint8_t *pt, size_t len,
    struct buf *out);

/* Returns the total size of the record whose first two bytes are hdr. */
size_t rfb_ra2_record_size(const uint8_t hdr[2]);

/*
 * If in starts with a whole record, checks its tag and only then appends
 * its plaintext to out, consumes it and advances the counter: returns 0.
 * MOAT_ERR_AGAIN if the record is incomplete; MOAT_ERR_CRYPTO for a bad
 * tag (a tampered, replayed, reordered or truncated record);
 * MOAT_ERR_TOO_LONG if out cannot take the plaintext. On any failure
 * nothing is consumed and nothing is appended.
 */
int rfb_ra2_open_record(struct rfb_ra2_dir *d, struct buf *in, struct buf *out);

#endif
