/*
 * kerberos_name.h - maps the Kerberos principal a SASL GSSAPI exchange
 * authenticated to a local account name (docs/kerberos.md). Runs as root
 * in the per-connection monitor; pure (no I/O, no lookups), so it is unit
 * tested on its own. The name is the viewer's, proven by its ticket, but
 * it is still checked byte by byte before it names an account.
 */
#ifndef MOAT_KERBEROS_NAME_H
#define MOAT_KERBEROS_NAME_H

#include <stddef.h>

#define KERBEROS_NAME_MAX	255	/* bytes of a principal moat maps */
#define KERBEROS_USER_MAX	32	/* bytes of an account name */

/*
 * name is the principal as Cyrus SASL's GSSAPI server reports it: "user"
 * when its realm is default_realm (the default realm of moatd's Kerberos
 * configuration; "" if it has none), else "user@REALM". Only a principal
 * of one component whose realm is exactly want_realm (KerberosRealm) maps,
 * to that component, which must be a plausible account name (letters,
 * digits, '.', '_', '-', not starting with '-', at most KERBEROS_USER_MAX
 * bytes): no instance ("alice/admin"), no other realm, no escaped
 * separators, no control bytes. The caller then checks the account
 * exists. Writes the principal with its realm ("alice@TEST.MOAT") into
 * full (for logs; "" if name is unusable). Returns 0 with the account in
 * user; MOAT_ERR_AUTH with the reason in why (fit for the log once
 * escaped); MOAT_ERR_TOO_LONG if an output buffer is too small.
 */
int kerberos_name_map(const char *name, const char *default_realm,
    const char *want_realm, char *user, size_t userlen, char *full,
    size_t fulllen, char *why, size_t whylen);

#endif
