/*
 * vault.h - moat-viewer's password vault: remembered (user, password)
 * pairs per HOST:PORT in one file, mode 0600, replaced atomically, never
 * holding a plaintext byte of them. The key comes from a master password
 * through PBKDF2-HMAC-SHA256 (at least VAULT_MIN_ITER iterations, a
 * random 16-byte salt); each entry is sealed with AES-128-GCM (or
 * AES-256-GCM) under a fresh random nonce, with the whole header as
 * associated data, so that a changed header, a removed, reordered or
 * altered entry, or a truncated file fails closed.
 *
 * File layout (integers big-endian):
 *   header:   "MOATVLT1" | u8 version (1) | u8 cipher (1 = AES-128-GCM,
 *             2 = AES-256-GCM) | u32 iterations | salt[16] | u32 entries
 *   verifier: nonce[12] | tag[16]     GCM of nothing, AAD = header || "check"
 *   entry i:  nonce[12] | u32 len | ciphertext[len] | tag[16]
 *             AAD = header || u32 i; plaintext = u16 hostport length,
 *             hostport, u8 user length, user, u8 password length, password
 * Runs in moat-viewer; the file is parsed as untrusted (every length is
 * bounded before use) and decrypted secrets are wiped when freed.
 */
#ifndef MOAT_VIEWER_VAULT_H
#define MOAT_VIEWER_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/buf.h"

#define VAULT_MAGIC		"MOATVLT1"
#define VAULT_VERSION		1
#define VAULT_AES128_GCM	1
#define VAULT_AES256_GCM	2
#define VAULT_MIN_ITER		600000u
#define VAULT_MAX_ITER		100000000u
#define VAULT_SALT_LEN		16
#define VAULT_NONCE_LEN		12
#define VAULT_TAG_LEN		16
#define VAULT_HDR_LEN		(8 + 1 + 1 + 4 + VAULT_SALT_LEN + 4)
#define VAULT_MAX_ENTRIES	1024
#define VAULT_MAX_HOSTPORT	262
#define VAULT_MAX_CRED		255
#define VAULT_MAX_PT		(2 + VAULT_MAX_HOSTPORT + 1 + VAULT_MAX_CRED + 1 + VAULT_MAX_CRED)
#define VAULT_MAX_FILE		(VAULT_HDR_LEN + VAULT_NONCE_LEN + VAULT_TAG_LEN + \
	VAULT_MAX_ENTRIES * (VAULT_NONCE_LEN + 4 + VAULT_MAX_PT + VAULT_TAG_LEN))

struct vault_hdr {
	uint8_t cipher;
	uint32_t iter;
	uint8_t salt[VAULT_SALT_LEN];
	uint32_t count;
	uint8_t raw[VAULT_HDR_LEN];	/* the header's bytes: the AAD */
};

struct vault_entry {
	char hostport[VAULT_MAX_HOSTPORT + 1];
	char user[VAULT_MAX_CRED + 1];
	char pass[VAULT_MAX_CRED + 1];
};

struct vault {
	struct vault_hdr hdr;
	uint8_t key[32];		/* 16 or 32 bytes used */
	struct vault_entry *e;
	size_t n;
};

/*
 * Parses and checks the header of a vault file (magic, version, cipher,
 * iterations within VAULT_MIN_ITER..VAULT_MAX_ITER, entry count within
 * VAULT_MAX_ENTRIES). Returns 0, MOAT_ERR_SHORT if len is below the
 * header, or MOAT_ERR_INVALID.
 */
int vault_parse_header(const uint8_t *d, size_t len, struct vault_hdr *h);

/* Derives the key for h from master. Returns 0 or MOAT_ERR_CRYPTO. */
int vault_derive_key(const char *master, const struct vault_hdr *h,
    uint8_t key[32]);

/*
 * Opens a whole vault file's len bytes with key (derived for its header).
 * Returns 0 with the entries in *v (vault_free() wipes them);
 * MOAT_ERR_AUTH when the verifier fails (a wrong master password or a
 * changed header); MOAT_ERR_CRYPTO when an entry fails authentication;
 * MOAT_ERR_SHORT (truncated), MOAT_ERR_TRAILING, MOAT_ERR_INVALID or
 * MOAT_ERR_TOO_LONG for a malformed file. *v is empty on failure.
 */
int vault_open(const uint8_t *d, size_t len, const uint8_t key[32],
    struct vault *v);

/*
 * Makes an empty vault for master: fresh salt, VAULT_MIN_ITER
 * iterations, AES-256-GCM if aes256 else AES-128-GCM. Returns 0 or
 * MOAT_ERR_CRYPTO.
 */
int vault_create(struct vault *v, const char *master, int aes256);

/*
 * Appends the sealed file for *v to out (fresh nonces). Returns 0,
 * MOAT_ERR_CRYPTO or the buffer's error.
 */
int vault_seal(const struct vault *v, struct buf *out);

/* Returns the entry for hostport, or NULL. */
const struct vault_entry *vault_find(const struct vault *v, const char *hostport);
/*
 * Adds or replaces hostport's entry. Returns 0, MOAT_ERR_TOO_LONG for an
 * oversized field or a full vault, MOAT_ERR_INVALID for an empty
 * hostport, or MOAT_ERR_NOMEM.
 */
int vault_set(struct vault *v, const char *hostport, const char *user,
    const char *pass);
/* Removes hostport's entry. Returns 0, or MOAT_ERR_INVALID if there is none. */
int vault_remove(struct vault *v, const char *hostport);

/*
 * Reads and opens the vault at path with master. Returns 0, MOAT_ERR_EOF
 * when the file does not exist, or the errors above (a message saying
 * what is wrong was printed).
 */
int vault_load(const char *path, const char *master, struct vault *v);
/* Seals *v and writes it atomically (mode 0600). Returns 0 or negative (printed). */
int vault_save(const char *path, const struct vault *v);

/* Wipes the key and the entries and frees them. */
void vault_free(struct vault *v);

#endif
