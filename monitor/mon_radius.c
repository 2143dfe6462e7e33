/*
 * mon_radius.c - turns the Radius* parameters into the RADIUS client's
 * configuration at moatd's start (see mon_radius.h). Runs as root in
 * moatd; the secret file is checked and read by radius_secret_load() and
 * the copy lives only in moatd and its monitors, never in moat-net.
 */
#include <stdio.h>
#include <string.h>

#include "mon_radius.h"
#include "privsep/errors.h"
#include "privsep/log.h"

int
mon_radius_setup(const struct moat_config *cfg, struct radius_config *rc,
    char *err, size_t errlen)
{
	char spec[sizeof(cfg->radius_servers)], *item, *save = NULL;
	int r;

	radius_config_init(rc);
	snprintf(spec, sizeof(spec), "%s", cfg->radius_servers);
	for (item = strtok_r(spec, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if ((r = radius_config_add_server(rc, item, err, errlen)) != 0)
			goto fail;
	}
	if (rc->nservers == 0) {
		snprintf(err, errlen, "RadiusServers: no server");
		r = MOAT_ERR_CONFIG;
		goto fail;
	}
	if ((r = radius_secret_load(rc, cfg->radius_secret_file, err,
	    errlen)) != 0)
		goto fail;
	snprintf(rc->nas_identifier, sizeof(rc->nas_identifier), "%s",
	    cfg->radius_nas_identifier);
	rc->timeout_ms = cfg->radius_timeout * 1000u;
	rc->retries = cfg->radius_retries;
	rc->allow_unsigned = cfg->radius_allow_unsigned != 0;
	if (rc->allow_unsigned)
		error_f("RadiusAllowUnsigned=yes: RADIUS replies without a "
		    "Message-Authenticator are accepted, which leaves RADIUS "
		    "open to forged replies (BLAST-RADIUS, CVE-2024-3596); "
		    "every such reply is logged");
	return 0;
 fail:
	radius_config_clear(rc);
	return r;
}
