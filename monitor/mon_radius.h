/*
 * mon_radius.h - the RADIUS client configuration moatd builds from its
 * parameters when Authentication uses Radius. Runs as root in moatd.
 */
#ifndef MOAT_MON_RADIUS_H
#define MOAT_MON_RADIUS_H

#include <stddef.h>

#include "auth/radius_client.h"
#include "policy/config.h"

/*
 * Fills rc from RadiusServers, RadiusSecretFile (root-only; see
 * docs/radius.md), RadiusNasIdentifier, RadiusTimeout, RadiusRetries and
 * RadiusAllowUnsigned (logged as a warning when set). Returns 0, or a
 * negative MOAT_ERR_* with a message naming the parameter or file in err
 * (rc cleared).
 */
int mon_radius_setup(const struct moat_config *cfg, struct radius_config *rc,
    char *err, size_t errlen);

#endif
