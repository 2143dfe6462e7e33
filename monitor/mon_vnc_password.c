/*
 * mon_vnc_password.c - holds the VNC password file's entries from moatd's
 * start (see mon_vnc_password.h). Runs as root in moatd and, by
 * inheritance, in every per-connection monitor. The file is checked and
 * parsed by vnc_password_load() (auth/vnc_password.c); the copy lives only
 * in moatd and its monitors, never in moat-net, which is exec'd.
 *
 * The file is read once, at start, rather than once per connection: a
 * monitor then reads nothing from disk, a file broken or made unsafe while
 * moatd runs cannot turn logins into errors, and moatd refuses to start
 * rather than serve with a file it cannot use. A change (moatctl password)
 * takes effect at the next reload (monitor/reload.c), which refuses a file
 * it cannot use and keeps the copy in force, or restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mon_vnc_password.h"
#include "privsep/errors.h"
#include "privsep/log.h"

int
mon_vnc_password_setup(const struct moat_config *cfg,
    struct vnc_password_db **out, char *err, size_t errlen)
{
	struct vnc_password_db *db;
	char epath[256];
	int r;

	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		snprintf(err, errlen, "VncPasswordFile: out of memory");
		return MOAT_ERR_NOMEM;
	}
	if ((r = vnc_password_load(db, cfg->vnc_password_file, err,
	    errlen)) != 0) {
		free(db);
		return r;
	}
	log_escape(epath, sizeof(epath), cfg->vnc_password_file,
	    strnlen(cfg->vnc_password_file, sizeof(cfg->vnc_password_file)));
	if (db->n == 0)
		warn_f("%s: the VNC password file holds no password: nobody can "
		    "pass the VncPassword factor (set one with moatctl password "
		    "USER)", epath);
	else
		info_f("%s: %zu VNC password%s loaded", epath, db->n,
		    db->n == 1 ? "" : "s");
	*out = db;
	return 0;
}

void
mon_vnc_password_free(struct vnc_password_db *db)
{
	if (db == NULL)
		return;
	OPENSSL_cleanse(db, sizeof(*db));
	free(db);
}
