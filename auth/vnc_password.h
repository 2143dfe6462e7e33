/*
 * vnc_password.h - passwords moat keeps itself (the VncPassword scheme):
 * one per account, in a root-only file (VncPasswordFile, default
 * /etc/moat/vnc-passwords) of lines "USER:HASH", HASH a yescrypt string
 * ("$y$PARAMS$SALT$HASH", libxcrypt). Runs as root: moatd loads the file
 * at start and its monitors verify answers against that copy; moatctl
 * writes the file. An answer to be checked comes from the network and is
 * hostile; the file is trusted once secret_file_read() has checked it, but
 * its text is parsed as if it were hostile (strictly: anything but
 * well-formed lines of valid names and yescrypt hashes is refused).
 */
#ifndef MOAT_VNC_PASSWORD_H
#define MOAT_VNC_PASSWORD_H

#include <stddef.h>

#include "auth_conv.h"

#define VNC_PASSWORD_MIN	6	/* bytes in a password */
#define VNC_PASSWORD_MAX	255
#define VNC_PASSWORD_USER_MAX	32	/* bytes in a user name (useradd's limit) */
#define VNC_PASSWORD_HASH_MAX	160	/* bytes in a stored hash */
#define VNC_PASSWORD_LINE_MAX	512	/* bytes in a line, its '\n' included */
#define VNC_PASSWORD_ENTRIES_MAX 4096
#define VNC_PASSWORD_FILE_MAX	(VNC_PASSWORD_ENTRIES_MAX * VNC_PASSWORD_LINE_MAX)
/*
 * The yescrypt cost of new hashes (libxcrypt's crypt_gensalt "$y$" count,
 * 1..11; its default is 5): 7 takes about 70 ms of CPU and 64 MiB of
 * memory per hash on a 2020s x86-64 core, twice the time and memory of 6.
 * The dummy hash in vnc_password.c is made at the same cost.
 */
#define VNC_PASSWORD_COST	7

struct vnc_password_entry {
	char user[VNC_PASSWORD_USER_MAX + 1];
	char hash[VNC_PASSWORD_HASH_MAX + 1];
};

/* A whole file: about 800 KiB, so callers keep it static or on the heap. */
struct vnc_password_db {
	size_t n;
	struct vnc_password_entry e[VNC_PASSWORD_ENTRIES_MAX];
};

/*
 * Returns 1 if user (NUL-terminated) is a name the file may hold: 1 to
 * VNC_PASSWORD_USER_MAX bytes of letters, digits, '.', '_', '-', not
 * starting with '-'; else 0.
 */
int vnc_password_valid_user(const char *user);

/*
 * Returns 1 if hash (NUL-terminated) is a well-formed yescrypt string as
 * crypt(3) makes them: "$y$", 1 to 16 parameter characters, '$', a salt
 * libxcrypt can decode of 8 to 64 bytes (11 to 86 characters), '$', and
 * the 43-character hash; else 0. DES, MD5, SHA-crypt, bcrypt and every
 * other format give 0.
 */
int vnc_password_valid_hash(const char *hash);

/*
 * Parses the text of a password file, text[0..len) (need not be
 * NUL-terminated), named fname in messages, into *db. Every line is
 * "USER:HASH\n" (the last one too), at most VNC_PASSWORD_LINE_MAX bytes,
 * with a valid user name, a valid yescrypt hash, no user twice, at most
 * VNC_PASSWORD_ENTRIES_MAX lines; nothing else (no blank lines, comments,
 * blanks or CR). An empty text is an empty file. Pure: no I/O, no
 * allocation. Returns 0, or MOAT_ERR_CONFIG with "FNAME:LINE: ..." in err
 * (a bounded, escaped message) and no entries in db.
 */
int vnc_password_parse(struct vnc_password_db *db, const char *fname,
    const char *text, size_t len, char *err, size_t errlen);

/*
 * Writes db as a password file's text into buf (buflen bytes): one
 * "USER:HASH\n" line per entry, in order; what vnc_password_parse() reads
 * back to the same entries. Returns 0 with the length in *outlen, or
 * MOAT_ERR_TOO_LONG if buf is too small, MOAT_ERR_INVALID if an entry is
 * not valid.
 */
int vnc_password_format(const struct vnc_password_db *db, char *buf,
    size_t buflen, size_t *outlen);

/* Returns user's entry in db, or NULL if there is none. */
const struct vnc_password_entry *vnc_password_find(
    const struct vnc_password_db *db, const char *user);

/*
 * Sets user's hash, replacing an entry or appending one. Returns 0;
 * MOAT_ERR_INVALID if user or hash is not valid; MOAT_ERR_TOO_LONG if db
 * is full.
 */
int vnc_password_set(struct vnc_password_db *db, const char *user,
    const char *hash);

/*
 * Removes user's entry, keeping the others in order. Returns 0, or
 * MOAT_ERR_INVALID if there is none.
 */
int vnc_password_delete(struct vnc_password_db *db, const char *user);

/*
 * Returns 1 if password[0..len) may be set as a password: VNC_PASSWORD_MIN
 * to VNC_PASSWORD_MAX bytes, no NUL; else 0.
 */
int vnc_password_acceptable(const char *password, size_t len);

/*
 * Makes a fresh yescrypt hash of password[0..len) (which must be
 * acceptable) at VNC_PASSWORD_COST with a random salt, into out (outlen
 * bytes, at least VNC_PASSWORD_HASH_MAX + 1). Returns 0; MOAT_ERR_INVALID
 * if the password is not acceptable; MOAT_ERR_CRYPTO if libxcrypt failed.
 * Every copy of the password it made is wiped.
 */
int vnc_password_hash(const char *password, size_t len, char *out,
    size_t outlen);

/*
 * Checks password[0..len) for user: hashes it with the setting of user's
 * entry and compares the result with the entry in constant time. A user
 * without an entry (or an invalid name) costs the same full hash, against
 * a fixed dummy hash; an answer outside VNC_PASSWORD_MIN..MAX bytes or
 * holding a NUL is hashed as a fixed placeholder and fails. Returns 0 if
 * it matches; MOAT_ERR_AUTH if not (no entry, wrong or unacceptable
 * password); MOAT_ERR_CRYPTO if libxcrypt cannot use the stored setting;
 * MOAT_ERR_NOMEM. Every copy of the password it made is wiped.
 */
int vnc_password_verify(const struct vnc_password_db *db, const char *user,
    const char *password, size_t len);

/*
 * Loads the file at path into *db: secret_file_read() (root's, mode 0600
 * or 0400, not a symbolic link), at most VNC_PASSWORD_FILE_MAX bytes,
 * vnc_password_parse(), then one trial hash per distinct yescrypt
 * parameter string so that a setting libxcrypt refuses fails here rather
 * than at a login. Returns 0, or MOAT_ERR_CONFIG with a message naming the
 * file in err (db then holds no entries).
 */
int vnc_password_load(struct vnc_password_db *db, const char *path,
    char *err, size_t errlen);

/*
 * Replaces the file at path with db's text, atomically: a new file in the
 * same directory (mode 0600, owner root), written and fsync'ed, renamed
 * over path, then the directory fsync'ed; on failure path is unchanged
 * and the new file removed. Returns 0, or a negative MOAT_ERR_* with a
 * message naming the file in err.
 */
int vnc_password_save(const struct vnc_password_db *db, const char *path,
    char *err, size_t errlen);

/*
 * The VncPassword factor: asks the password (prompt "Password: " when
 * this is the first factor, "VNC password: " after another) through conv,
 * checks it for user with vnc_password_verify(), and requires user to be
 * an existing account. Returns 0 if it passes; MOAT_ERR_AUTH with a reason
 * for the viewer, no earlier than AUTH_FAIL_DELAY_MS after the answer,
 * if it fails (an internal error counts as a failure, and is logged); the
 * conversation's error if the viewer went away or the time ran out. The
 * answer is wiped.
 */
int vnc_password_converse(const struct vnc_password_db *db, const char *user,
    int first_factor, const struct auth_conv *conv, char *reason,
    size_t reasonlen);

#endif
