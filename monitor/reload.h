/*
 * reload.h - moatd's configuration as generations: the one in force is
 * what the listener hands each monitor it forks; a reload (SIGHUP,
 * moatctl reload) builds a whole new generation with the checks of the
 * start and swaps it in only if every one of them passed. Runs as root in
 * moatd's listener; a monitor is a fork and keeps the generation current
 * at its accept.
 */
#ifndef MOAT_RELOAD_H
#define MOAT_RELOAD_H

#include <stddef.h>

#include "monitor.h"
#include "policy/config.h"

/* One configuration and what was built from its files. */
struct mon_gen {
	struct moat_config cfg;
	struct config_origin origin[CONFIG_PARAMS_MAX];
	struct radius_config radius;		/* when Authentication uses Radius */
	struct vnc_password_db *vnc_passwords;	/* when it uses VncPassword */
	struct mon_ctx ctx;			/* points into this generation */
};

/*
 * Reads the configuration at conf (config_load(): ownership, parsing,
 * config_check()) and checks or loads every file the schemes in
 * Authentication read: the certificate CA and CRL, the RADIUS secret, the
 * VNC password file, the Kerberos keytab (checked only: the one Kerberos
 * state of the process is set up by reload_apply() or the caller); flags
 * are RELOAD_*. Returns
 * 0 with a new generation in *out (free it with reload_free()), or a
 * negative MOAT_ERR_* with a message naming the file (and line) in err.
 */
int reload_build(const char *conf, unsigned flags, struct mon_gen **out,
    char *err, size_t errlen);

/* reload_build() flags */
#define RELOAD_START	0x01	/* moatd's start: open LogFile before the files are read */

/* Wipes and frees a generation (NULL is fine). */
void reload_free(struct mon_gen *g);

/*
 * At start: makes g the generation in force, its ctx a copy of base
 * (identity, moat-net, test build) pointing at g's configuration, RADIUS
 * and VNC passwords; conf is the path reload_apply() re-reads. Takes g.
 */
void reload_install(struct mon_gen *g, const struct mon_ctx *base,
    const char *conf);

/* The context of the generation in force (NULL before reload_install()). */
const struct mon_ctx *reload_ctx(void);

/*
 * Re-reads the configuration (reload_build(), then the Kerberos set-up if
 * Authentication uses it) and, if all of it is valid, puts the new
 * generation in force for connections accepted from now on; the
 * parameters that need a restart (reload_restart_only()) keep their
 * running values. Logs "configuration reloaded" with the parameters that
 * changed, or the error and that the running configuration stays; by
 * names who asked (for the log). Returns 0 or a negative MOAT_ERR_*, with
 * the same text in msg either way.
 */
int reload_apply(const char *by, char *msg, size_t msglen);

/*
 * moatctl check: builds a generation from the files on disk as
 * reload_apply() would, applies nothing, and writes "moatd -t"'s report
 * (or the error) into out. Returns 0 or a negative MOAT_ERR_*.
 */
int reload_check(char *out, size_t outlen);

/* Returns 1 if the parameter called name keeps its value until a restart. */
int reload_restart_only(const char *name);

#endif
