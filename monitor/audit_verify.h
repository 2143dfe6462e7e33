/*
 * audit_verify.h - the strict reader and the chain verifier for moat's
 * audit files (format: docs/audit-file-format.md).
 *
 * Pure code shared by moatd's writer (monitor/audit_file.c, which parses
 * the event objects it is given and the last line it resumes from) and by
 * moatctl (audit verify, audit show). It trusts none of its input: every
 * line is bounded (AUDIT_LINE_MAX), every object must be one flat JSON
 * object of strings, integers, true, false and null, without nesting and
 * without duplicate keys; anything else is refused.
 */
#ifndef MOAT_AUDIT_VERIFY_H
#define MOAT_AUDIT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define AUDIT_LINE_MAX		65536	/* bytes of one line, newline included */
#define AUDIT_EVENT_MAX		16384	/* bytes of one event object given to the writer */
#define AUDIT_JFIELDS_MAX	64	/* members of one object */
#define AUDIT_JKEY_MAX		64	/* bytes of one member name (escaped form) */
#define AUDIT_HASH_HEX		64	/* hex digits of a SHA-256 */
#define AUDIT_SIG_HEX		128	/* hex digits of an Ed25519 signature */
#define AUDIT_KEYID_HEX		16	/* hex digits of a key id */
/* ',"hash":"' HEX '"}' : the fixed suffix every line ends with (before '\n'). */
#define AUDIT_HASH_SUFFIX	(9 + AUDIT_HASH_HEX + 2)
/* ',"sig":"' HEX '"' : precedes the hash suffix in every checkpoint. */
#define AUDIT_SIG_FIELD		(8 + AUDIT_SIG_HEX + 1)
/* Prepended to the signed bytes of a checkpoint (domain separation). */
#define AUDIT_SIG_CONTEXT	"moat-audit-checkpoint-v1\n"

enum audit_jtype {
	AUDIT_J_STRING = 1,
	AUDIT_J_INT,
	AUDIT_J_TRUE,
	AUDIT_J_FALSE,
	AUDIT_J_NULL,
};

/* One member; key and val point into the parsed text (strings: escaped form, without quotes). */
struct audit_jfield {
	const char *key;
	size_t keylen;
	const char *val;
	size_t vallen;
	int type;		/* enum audit_jtype */
	int64_t num;		/* AUDIT_J_INT only */
};

struct audit_jobj {
	struct audit_jfield f[AUDIT_JFIELDS_MAX];
	size_t n;
};

/*
 * Parses len bytes at p as one flat JSON object (no leading or trailing
 * bytes, no newline). Returns 0 with *o filled (pointers into p), or
 * MOAT_ERR_INVALID / MOAT_ERR_TOO_LONG.
 */
int audit_json_parse(const char *p, size_t len, struct audit_jobj *o);

/* Returns the member named key (plain ASCII, no escapes) or NULL. */
const struct audit_jfield *audit_obj_get(const struct audit_jobj *o, const char *key);

/*
 * Decodes the string value of f into out (NUL-terminated, cut at outlen-1)
 * as UTF-8; an escaped NUL becomes "\u0000" literally. Returns 0, or
 * MOAT_ERR_INVALID if f is not a string.
 */
int audit_json_unescape(const struct audit_jfield *f, char *out, size_t outlen);

/* Compares the string value of f with s after unescaping; returns 1 if equal, else 0. */
int audit_field_equals(const struct audit_jfield *f, const char *s);

/*
 * Loads a public key for verification from a PEM file holding an Ed25519
 * private key (AuditKey) or public key. Returns 0 with *out (caller frees
 * with EVP_PKEY_free) or a negative MOAT_ERR_* with err set.
 */
int audit_key_load_public(const char *path, EVP_PKEY **out, char *err, size_t errlen);

/* Writes the key id (AUDIT_KEYID_HEX hex digits and a NUL) of an Ed25519 key. Returns 0 or MOAT_ERR_CRYPTO. */
int audit_key_id(EVP_PKEY *key, char out[AUDIT_KEYID_HEX + 1]);

/* Computes SHA-256 of len bytes at p as lowercase hex (65 bytes with the NUL). */
void audit_sha256_hex(const void *p, size_t len, char out[AUDIT_HASH_HEX + 1]);

/*
 * Checks one line (without its newline) on its own: syntax, the chain
 * members and its own hash, not the chain or a signature. Returns 0 with
 * *seq, hash (hex, NUL-terminated) and *final_cp (1 for a final
 * checkpoint), or MOAT_ERR_INVALID.
 */
int audit_record_check(const char *line, size_t len, uint64_t *seq,
    char hash[AUDIT_HASH_HEX + 1], int *final_cp);

#define AUDIT_VERIFY_LIVE	0x1	/* the last file may still be written: accept an unsigned tail */

enum audit_fault {
	AUDIT_OK = 0,
	AUDIT_F_SYNTAX,		/* not a well-formed record */
	AUDIT_F_MODIFIED,	/* hash mismatch */
	AUDIT_F_SEQUENCE,	/* seq gap, repeat or prev mismatch: inserted, deleted or reordered */
	AUDIT_F_TRUNCATED,	/* torn line, or no final checkpoint */
	AUDIT_F_SIGNATURE,	/* bad or foreign checkpoint signature */
	AUDIT_F_LINK,		/* broken link between consecutive files */
	AUDIT_F_START,		/* the first file does not begin a chain or a link */
	AUDIT_F_IO,		/* a file could not be read */
};

struct audit_verify_report {
	int fault;		/* enum audit_fault; AUDIT_OK when intact */
	char file[256];		/* where the first fault is (escaped) */
	uint64_t line;		/* its line number, 1-based (0: the file as a whole) */
	char msg[512];		/* what is wrong, one line */
	uint64_t records;	/* records read before the fault (all when intact) */
	uint64_t checkpoints;	/* checkpoints whose signature verified */
	uint64_t first_seq;	/* seq of the first record given */
	uint64_t last_seq;	/* seq of the last good record */
	uint64_t unsigned_tail;	/* records after the last checkpoint (AUDIT_VERIFY_LIVE) */
	uint64_t recovered;	/* torn or unclosed tails the writer later recovered from */
	int starts_linked;	/* 1: the first file continues an earlier one not given */
};

struct audit_verifier;

/* Allocates a verifier that checks signatures with pub (kept referenced). Returns 0 or MOAT_ERR_NOMEM. */
int audit_verifier_new(struct audit_verifier **out, EVP_PKEY *pub, int flags);
/* Frees v (NULL is fine). */
void audit_verifier_free(struct audit_verifier *v);
/*
 * Feeds the whole content of one file (name for messages); files must come
 * oldest first, is_last set on the final one. Returns 0 while intact or
 * MOAT_ERR_INVALID at the first fault (the report says where); later calls
 * after a fault return MOAT_ERR_INVALID at once.
 */
int audit_verifier_file(struct audit_verifier *v, const char *name,
    const char *data, size_t len, int is_last);
/* Copies the report (complete once the last file has been fed). */
void audit_verifier_report(const struct audit_verifier *v, struct audit_verify_report *rep);

/*
 * Reads and verifies the files at paths[0..n-1] (oldest first). Returns 0
 * when the chain is intact, MOAT_ERR_INVALID at a fault, MOAT_ERR_SYSTEM if
 * a file cannot be read; *rep says which and where.
 */
int audit_verify_paths(const char *const *paths, size_t n, EVP_PKEY *pub, int flags,
    struct audit_verify_report *rep);

/*
 * Reads a whole audit file (at most max bytes) into a fresh buffer.
 * Returns 0 with *data (caller frees) and *len, MOAT_ERR_TOO_LONG or MOAT_ERR_SYSTEM.
 */
int audit_read_file(const char *path, size_t max, char **data, size_t *len);

#endif
