/*
 * mon_identity.h - the server's long-term identity (an RSA-2048 key and a
 * self-signed CA certificate viewers pin) and the short-lived per-connection
 * TLS leaf certificates it signs; and its rotation, in which a cross
 * certificate signed by the previous key vouches for the new one during an
 * overlap period (docs/identity.md, "Rotating the identity key"). Runs in
 * moatd and its monitors, and in moatctl (all root; built once as the
 * moat_identity library). The identity private key never leaves these
 * processes; moat-net receives only a leaf key that is valid for one
 * connection and one day.
 */
#ifndef MOAT_MON_IDENTITY_H
#define MOAT_MON_IDENTITY_H

#include <sys/types.h>

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "privsep/catchphrase.h"

/* Bounds of `moatctl identity rotate --overlap`, in seconds. */
#define MON_ROTATION_OVERLAP_MIN	1L
#define MON_ROTATION_OVERLAP_MAX	(400L * 86400)
#define MON_ROTATION_OVERLAP_DEFAULT	(30L * 86400)

struct mon_identity {
	EVP_PKEY *key;		/* NULL after mon_identity_open() without a key path */
	X509 *cert;
	/* The rotation in effect (mon_identity_rotation_load()), else NULLs: */
	X509 *rot_cross;	/* this key's cross certificate, signed by the previous key */
	X509 *rot_prev;		/* the previous identity certificate */
	time_t rot_until;	/* rot_cross's notAfter: the end of the overlap */
	int *rot_logged;	/* shared with forked monitors: expiry already logged */
};

/*
 * Loads the identity key and certificate; if neither file exists, creates
 * both (key mode 0600). Returns 0 or MOAT_ERR_CONFIG/CRYPTO with err filled.
 */
int mon_identity_load(struct mon_identity *id, const char *key_path,
    const char *cert_path, char *err, size_t errlen);

/*
 * Creates a new identity: an RSA-2048 key written to key_path (mode 0600)
 * and a self-signed CA certificate for it written to cert_path (mode 0644).
 * Refuses, writing nothing, if either path exists; on a later failure
 * removes what it wrote. Returns 0 or MOAT_ERR_CONFIG/CRYPTO with err filled.
 */
int mon_identity_create(struct mon_identity *id, const char *key_path,
    const char *cert_path, char *err, size_t errlen);

/*
 * Loads an existing identity, never creating one. With key_path NULL only
 * the certificate is loaded (id->key stays NULL: enough for the public
 * forms, not for issuing leaves); otherwise the key must pass the same
 * checks as in mon_identity_load() and match the certificate. Returns 0 or
 * MOAT_ERR_CONFIG/SYSTEM with err filled.
 */
int mon_identity_open(struct mon_identity *id, const char *key_path,
    const char *cert_path, char *err, size_t errlen);

/* Writes "SHA256:XX:XX:..." of the identity certificate (DER) into out. Returns 0 or negative. */
int mon_identity_fingerprint(const struct mon_identity *id, char *out, size_t outlen);

/*
 * Fills *desc with the public forms of the certificate's key: its SHA-256,
 * the catchphrase and the RealVNC fingerprint (privsep/catchphrase.h).
 * Returns 0 or a negative MOAT_ERR_*.
 */
int mon_identity_describe(const struct mon_identity *id, struct catchphrase_id *desc);

/*
 * Issues a fresh P-256 leaf key and certificate for one connection, valid
 * for the comma-separated names (DNS names or IP literals) and signed by the
 * identity key. *chain_pem and *key_pem are NUL-terminated heap strings;
 * the caller wipes key_pem and frees both. The chain is leaf + identity
 * certificate, or, while a rotation is in effect and its cross certificate
 * has not expired, leaf + cross certificate + previous identity certificate
 * (an expiry noticed here is logged once for all monitors). In a monitor
 * forked with a pooled leaf (mon_identity_pool_forked()), the first call
 * hands that leaf over instead if it still fits (same identity, names and
 * chain, young enough), and drops it either way. Returns 0,
 * MOAT_ERR_INVALID (no private key loaded, or no usable name) or
 * MOAT_ERR_CRYPTO.
 */
int mon_identity_issue_leaf(const struct mon_identity *id, const char *names,
    char **chain_pem, char **key_pem);

/*
 * Leaves issued ahead of time by moatd's listener, so that a connection
 * does not wait for (and its monitor does not pay for) its leaf. Each is
 * handed to one forked monitor and dropped from the listener at that fork:
 * never two connections for one leaf.
 */
#define MON_LEAF_POOL_SIZE	4
#define MON_LEAF_POOL_AGE	600	/* seconds a pooled leaf may wait */

/*
 * Milliseconds until mon_identity_pool_fill() has work for id and names
 * (0: now, a slot is free or holds a leaf that no longer fits), or -1 if
 * never (no private key).
 */
int mon_identity_pool_due(const struct mon_identity *id, const char *names);

/*
 * Drops pooled leaves that no longer fit id and names, then issues one
 * into a free slot. Returns 1 if it issued one, 0 if the pool is full, or
 * the errors of mon_identity_issue_leaf().
 */
int mon_identity_pool_fill(const struct mon_identity *id, const char *names);

/* Before a fork: reserves the oldest pooled leaf, if any, for the child. Returns nothing. */
void mon_identity_pool_reserve(void);

/*
 * After that fork, with fork()'s result: the child (0) keeps only the
 * reserved leaf for mon_identity_issue_leaf() and wipes the others; the
 * parent (> 0) wipes and drops the reserved one; a failed fork (< 0) only
 * ends the reservation. Returns nothing.
 */
void mon_identity_pool_forked(pid_t pid);

/* Wipes and frees every pooled leaf. Returns nothing. */
void mon_identity_pool_clear(void);

/*
 * Parses an overlap duration: a decimal number and a unit s, m, h or d
 * ("90s", "12h", "30d"), between MON_ROTATION_OVERLAP_MIN and _MAX
 * seconds. Returns 0 with *secs set, or MOAT_ERR_INVALID.
 */
int mon_identity_parse_overlap(const char *s, long *secs);

/*
 * Makes the cross certificate of a rotation from old (key and certificate)
 * to new (certificate): subject and public key of new's certificate,
 * issuer old's subject, AKID old's key, SKID new's key, basicConstraints
 * critical CA:TRUE pathlen:0, keyUsage critical keyCertSign, valid from
 * an hour ago for overlap seconds, signed by old's key with SHA-256.
 * Returns 0 with *cross set (caller frees), MOAT_ERR_INVALID (no old
 * private key, overlap out of bounds) or MOAT_ERR_CRYPTO.
 */
int mon_identity_cross(const struct mon_identity *old,
    const struct mon_identity *new, long overlap, X509 **cross);

/*
 * Checks that cross vouches, at time now, for the key of the identity
 * certificate cert on behalf of the previous identity certificate prev:
 * cross holds cert's public key, has basicConstraints CA:TRUE, is within
 * its validity period, names prev's subject as issuer and verifies with
 * prev's key; prev is self-signed and holds another key. Returns 0, or
 * MOAT_ERR_INVALID with err saying which check failed (an expiry reads
 * "expired at YYYY-MM-DD HH:MM:SS UTC").
 */
int mon_identity_rotation_check(X509 *cert, X509 *cross, X509 *prev,
    time_t now, char *err, size_t errlen);

/*
 * Loads the rotation certificate file at path (the cross certificate, then
 * the previous identity certificate, in PEM; a regular file owned by root
 * and writable by nobody else) into id if it passes
 * mon_identity_rotation_check() for id->cert now. Returns 0 when the file
 * does not exist (nothing set) or when the rotation is in effect
 * (id->rot_* set); MOAT_ERR_CONFIG with err filled when the file exists
 * but cannot be used (id unchanged).
 */
int mon_identity_rotation_load(struct mon_identity *id, const char *path,
    char *err, size_t errlen);

/*
 * Fills *prev with the public forms of the previous key and until with
 * the end of the overlap ("YYYY-MM-DD HH:MM:SS UTC") of the rotation in
 * effect. Returns 0, MOAT_ERR_INVALID when no rotation is in effect, or
 * the errors of catchphrase_describe().
 */
int mon_identity_rotation_describe(const struct mon_identity *id,
    struct catchphrase_id *prev, char *until, size_t untillen);

/*
 * Rotates the identity old (loaded with its key by mon_identity_open()):
 * generates a new key and its self-signed CA certificate and the cross
 * certificate vouching for it (mon_identity_cross()), and replaces
 * key_path (mode 0600), cert_path and rot_path (0644), each through a
 * temporary file in the same directory (owner root, fsync, rename, fsync
 * of the directory), the rotation certificate first and the key last.
 * Refuses, writing nothing, while rot_path holds a cross certificate that
 * has not expired (or cannot be read) unless force is set. On success *new
 * holds the new identity with its rotation in effect (*new's rot_logged
 * is NULL). Returns 0, MOAT_ERR_CONFIG or MOAT_ERR_CRYPTO with err filled.
 */
int mon_identity_rotate(const struct mon_identity *old, const char *key_path,
    const char *cert_path, const char *rot_path, long overlap, int force,
    struct mon_identity *new, char *err, size_t errlen);

/*
 * Writes t as "YYYY-MM-DD HH:MM:SS UTC" into out. Returns 0 or
 * MOAT_ERR_TOO_LONG.
 */
int mon_identity_format_time(time_t t, char *out, size_t outlen);

/* Frees the key, the certificates and the shared flag (any may be NULL) and zeroes *id. */
void mon_identity_free(struct mon_identity *id);

#endif
