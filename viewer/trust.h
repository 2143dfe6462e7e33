/*
 * trust.h - whose identity key moat-viewer accepts for a server: a key
 * pinned in advance (--fingerprint SHA256:..., or --ca CERT), else the one
 * the known-hosts file remembers for HOST:PORT, else (trust on first use)
 * the presented one once the user accepted its catchphrase (or
 * --accept-new), which is then remembered; or, over VeNCrypt, a new key
 * the pinned one vouched for (a rotation), which then replaces it. Runs in
 * moat-viewer; decides before any credential is sent.
 */
#ifndef MOAT_VIEWER_TRUST_H
#define MOAT_VIEWER_TRUST_H

#include <stdint.h>
#include <time.h>

#include "viewer/known_hosts.h"

struct viewer_trust {
	const char *hostport;		/* the known-hosts key */
	const char *kh_path;		/* the known-hosts file */
	int accept_new;			/* --accept-new */
	int have_pin;			/* pin holds the expected key */
	int pin_source;			/* TRUST_PIN_* */
	uint8_t pin[KH_KEY_LEN];
	uint8_t presented[KH_KEY_LEN];	/* what the server showed */
	int have_presented;
	int ra2;			/* the key came over RSA-AES (no vouching possible) */
};

#define TRUST_PIN_NONE		0	/* first use */
#define TRUST_PIN_OPTION	1	/* --fingerprint or --ca */
#define TRUST_PIN_KNOWN		2	/* the known-hosts file */

/*
 * Fills *t: the pin from fingerprint (if not NULL), else from the CA
 * certificate ca_file (if not NULL), else from the known-hosts file at
 * kh_path. Returns 0, or MOAT_ERR_INVALID / the known-hosts errors (a
 * message was printed).
 */
int viewer_trust_setup(struct viewer_trust *t, const char *kh_path,
    const char *hostport, const char *fingerprint, const char *ca_file,
    int accept_new);

/*
 * Decides on the key the server presented (SHA-256 of its DER
 * SubjectPublicKeyInfo). With a pin: 0 if equal, else MOAT_ERR_CRYPTO after
 * a warning naming the expected and the presented catchphrase. On first
 * use: shows the catchphrase, asks (unless accept_new), and on yes records
 * the key in the known-hosts file; returns 0, or MOAT_ERR_CRYPTO when
 * refused or MOAT_ERR_SYSTEM when the file cannot be written. A key
 * pinned by option is recorded too when the file has no entry yet.
 */
int viewer_trust_check(struct viewer_trust *t, const uint8_t presented[KH_KEY_LEN]);

/*
 * Accepts a rotation: the pinned key vouched, until until, for the
 * presented key (the caller checked the signature). Prints a notice naming
 * the previous and the new catchphrase and the end of the overlap, and
 * records the new key for the host in the known-hosts file (replacing the
 * pinned one; with a pin given by option, only when the file has no entry
 * or the previous key). Returns 0, or MOAT_ERR_SYSTEM when the file cannot
 * be written.
 */
int viewer_trust_rotated(struct viewer_trust *t,
    const uint8_t presented[KH_KEY_LEN], time_t until);

/*
 * Prints the mismatch warning for t->presented (after a failed TLS
 * verification, or from viewer_trust_check()); over RSA-AES (t->ra2) it
 * adds that a rotation can only be learnt over VeNCrypt.
 */
void viewer_trust_warn(const struct viewer_trust *t);

#endif
