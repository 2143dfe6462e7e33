/*
 * mon_sasl.h - the Kerberos factor: a SASL server with the one mechanism
 * GSSAPI, run by the per-connection monitor (root) as OpenSSH runs GSSAPI
 * in its monitor. moat-net only relays the viewer's SASL messages
 * (IPC_NET_SASL_START, IPC_NET_SASL_STEP) and the replies
 * (IPC_MON_SASL_REPLY); the ticket is checked against the service's keytab
 * and the principal mapped to an account here. See docs/kerberos.md.
 */
#ifndef MOAT_MON_SASL_H
#define MOAT_MON_SASL_H

#include <stddef.h>

#include "mon_auth.h"
#include "mon_conv.h"
#include "policy/config.h"
#include "privsep/ipc_msg.h"

/* At most this many steps after the start (GSSAPI with Kerberos needs 2). */
#define MON_SASL_MAX_STEPS	8

/*
 * Once in moatd, before any monitor forks, when Authentication uses
 * Kerberos: checks KerberosKeytab (a regular file owned by root, no group
 * or other permission bits, not a symbolic link) and that it holds a key
 * for the service principal KerberosService/HOST@KerberosRealm, where HOST
 * is the first DNS name of TlsNames (the name viewers connect to);
 * initialises Cyrus SASL with no configuration file, the mechanism list
 * GSSAPI and that keytab; learns the default realm of the Kerberos
 * configuration; and checks the GSSAPI mechanism is there. Returns 0, or
 * MOAT_ERR_CONFIG with a message in err.
 */
int mon_sasl_setup(const struct moat_config *cfg, char *err, size_t errlen);

/*
 * The checks of mon_sasl_setup() (keytab, service principal) without
 * changing what is in force: for "moatd -t", moatctl check and a reload
 * before it applies. mon_sasl_setup() itself changes nothing unless it
 * succeeds. Returns 0, or MOAT_ERR_CONFIG with a message in err.
 */
int mon_sasl_check(const struct moat_config *cfg, char *err, size_t errlen);

/*
 * One SASL exchange, after moat-net's IPC_NET_SASL_START st: runs the
 * server, sends each reply and waits for each step through io (other
 * messages go to io->other; every wait ends at io->deadline_ms), then
 * maps the principal (auth/kerberos_name.h) to an existing account, and
 * logs the factor's outcome. Returns 0 with the account in user;
 * MOAT_ERR_AUTH with a reason for the viewer (the details are logged);
 * MOAT_ERR_AGAIN when the login grace time ran out; MOAT_ERR_EOF if the
 * viewer left; another negative MOAT_ERR_* if moat-net broke the IPC
 * protocol (a mechanism that was not offered, a message out of order).
 */
int mon_sasl_run(const struct mon_auth_env *env, struct mon_conv *io,
    const struct ipc_sasl_start *st, char *user, size_t userlen,
    char *reason, size_t reasonlen);

#endif
