/*
 * known_hosts.h - moat-viewer's known-hosts file: which identity key each
 * server (HOST:PORT) showed when it was first trusted. One entry a line:
 *   HOST:PORT SHA256:XX:XX:...:XX
 * the full SHA-256 of the identity key's DER SubjectPublicKeyInfo
 * (docs/identity.md, "Public key SHA-256"); '#' comments and blank lines
 * are kept out. Runs in moat-viewer; the file is the user's but is parsed
 * as untrusted: bounded line length and entry count, strict syntax, no
 * duplicates. Written atomically (temporary file, fsync, rename), mode 0600.
 */
#ifndef MOAT_VIEWER_KNOWN_HOSTS_H
#define MOAT_VIEWER_KNOWN_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#define KH_MAX_LINE	512		/* bytes of a line, newline excluded */
#define KH_MAX_HOSTPORT	262		/* "[" host "]:" port */
#define KH_MAX_ENTRIES	4096
#define KH_MAX_FILE	(KH_MAX_ENTRIES * (KH_MAX_LINE + 1))
#define KH_KEY_LEN	32

struct kh_entry {
	char hostport[KH_MAX_HOSTPORT + 1];
	uint8_t key[KH_KEY_LEN];
};

struct known_hosts {
	struct kh_entry *e;
	size_t n;
};

/*
 * Parses "SHA256:" followed by 32 colon-separated hex pairs (either case)
 * into out. Returns 0 or MOAT_ERR_INVALID.
 */
int known_hosts_parse_fp(const char *s, size_t len, uint8_t out[KH_KEY_LEN]);

/*
 * Returns 0 if s (len bytes) is a usable HOST:PORT key: 1..KH_MAX_HOSTPORT
 * printable bytes without spaces or '#', ending in ':' and a port 1..65535;
 * MOAT_ERR_INVALID otherwise.
 */
int known_hosts_check_hostport(const char *s, size_t len);

/*
 * Parses a whole file's len bytes into *kh (empty on entry). Returns 0;
 * MOAT_ERR_TOO_LONG for a file, line or entry count over its bound;
 * MOAT_ERR_INVALID for a malformed line or a duplicate host (*bad_line,
 * if not NULL, gets its 1-based number). *kh is empty on failure.
 */
int known_hosts_parse(const uint8_t *data, size_t len, struct known_hosts *kh,
    size_t *bad_line);

/*
 * Loads path into *kh; a missing file is an empty list. Returns 0, the
 * errors of known_hosts_parse() (a message naming file and line is
 * printed), or MOAT_ERR_SYSTEM.
 */
int known_hosts_load(const char *path, struct known_hosts *kh);

/* Returns the entry for hostport, or NULL. */
const struct kh_entry *known_hosts_find(const struct known_hosts *kh,
    const char *hostport);

/*
 * Adds or replaces the entry for hostport. Returns 0, MOAT_ERR_INVALID for
 * a bad hostport, MOAT_ERR_TOO_LONG when full, or MOAT_ERR_NOMEM.
 */
int known_hosts_set(struct known_hosts *kh, const char *hostport,
    const uint8_t key[KH_KEY_LEN]);

/*
 * Writes *kh to path atomically: a fresh temporary file beside it (mode
 * 0600), fsync, rename over path, fsync of the directory; the parent
 * directory is created 0700 if missing. Returns 0 or MOAT_ERR_SYSTEM
 * (errno set; path untouched).
 */
int known_hosts_save(const char *path, const struct known_hosts *kh);

/* Frees the entries. */
void known_hosts_free(struct known_hosts *kh);

#endif
