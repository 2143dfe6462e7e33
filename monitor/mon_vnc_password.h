/*
 * mon_vnc_password.h - the VNC password file moatd loads at start when
 * Authentication uses VncPassword. Runs as root in moatd; each
 * per-connection monitor is a fork of moatd and reads its inherited copy
 * through struct mon_ctx, like the RADIUS configuration.
 */
#ifndef MOAT_MON_VNC_PASSWORD_H
#define MOAT_MON_VNC_PASSWORD_H

#include <stddef.h>

#include "auth/vnc_password.h"
#include "policy/config.h"

/*
 * Loads VncPasswordFile (root's, mode 0600 or 0400, not a symbolic link;
 * see docs/authentication.md) into a new table in *out; logs a warning if
 * it holds no entry. Returns 0, or MOAT_ERR_CONFIG or MOAT_ERR_NOMEM with a
 * message naming the file in err (*out NULL).
 */
int mon_vnc_password_setup(const struct moat_config *cfg,
    struct vnc_password_db **out, char *err, size_t errlen);

/* Wipes and frees a table from mon_vnc_password_setup() (NULL is fine). */
void mon_vnc_password_free(struct vnc_password_db *db);

#endif
