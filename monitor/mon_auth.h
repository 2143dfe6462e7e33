/*
 * mon_auth.h - runs the factors policy demands ("Authentication") for one
 * connection. Runs in the per-connection monitor (root); every answer
 * comes from the viewer through an auth_conv and is hostile.
 */
#ifndef MOAT_MON_AUTH_H
#define MOAT_MON_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth_conv.h"
#include "auth/radius_client.h"
#include "auth/vnc_password.h"
#include "policy/config.h"

/* What the factors of one connection need besides the answers. */
struct mon_auth_env {
	const struct moat_config *cfg;
	const struct radius_config *radius;	/* NULL unless a factor is Radius */
	const struct vnc_password_db *vnc_passwords; /* NULL unless a factor is VncPassword */
	const uint8_t *identity_sha256;	/* this server's identity key (cert_proof.h) */
	const uint8_t *client_chain;	/* the viewer's TLS client chain, framed; NULL: none */
	size_t client_chain_len;
	const char *rhost;	/* the viewer's address (PAM_RHOST, Calling-Station-Id) */
	const char *peer;	/* "ADDRESS port N", for logs */
	int64_t deadline_ms;	/* the login grace time, CLOCK_MONOTONIC */
};

/*
 * Which ways of authenticating moat-net may offer viewers (IPC_AUTHCH_*):
 * moat's conversation wherever an alternative other than Kerberos exists;
 * the credentials of standard viewers (one user name and one password)
 * only when the alternative that applies to them has a single factor and
 * needs no certificate, since a second factor always needs a second
 * answer; a request for client certificates where a factor is Certificate.
 */
uint32_t mon_auth_channels(const struct moat_config *cfg);

/*
 * Runs the factors of the alternative that applies to a viewer presenting
 * have (AUTH_NEED_*; the caller knows whether a client chain came), in
 * order, through conv: first asks for the user name, unless the first
 * factor is Certificate, whose account comes from the certificate. Every
 * factor must pass, and a later factor sees the user name an earlier one
 * ended with. VncPassword checks against the passwords moatd loaded at
 * start (mon_vnc_password.h). Returns 0 with the authenticated user in
 * user (on failure user holds the name tried, for logs, or "");
 * MOAT_ERR_AUTH with a reason that may be shown to the viewer; another
 * negative MOAT_ERR_* if the viewer went away, the time ran out or an
 * internal error occurred.
 */
int mon_auth_run(const struct mon_auth_env *env, unsigned have,
    const struct auth_conv *conv, char *user, size_t userlen, char *reason,
    size_t reasonlen);

#endif
