/*
 * mon_perms.c - resolves a user's rights from the Permissions policy (see
 * mon_perms.h). Runs as root in the per-connection monitor after the
 * monitor itself authenticated the user; trusts the system's user and
 * group databases and its own configuration, nothing from moat-net.
 */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "mon_perms.h"
#include "policy/permissions.h"
#include "privsep/log.h"

#define MON_PERMS_MAX_GROUPS	256

uint32_t
mon_perms_resolve(const struct moat_config *cfg, const char *user,
    const char **how)
{
	const struct perm_table *t = &cfg->permissions_table;
	gid_t gids[MON_PERMS_MAX_GROUPS];
	char *names[MON_PERMS_MAX_GROUPS];
	struct passwd *pw;
	struct group *gr;
	uint32_t rights;
	int n = MON_PERMS_MAX_GROUPS, i, k = 0;

	if (how != NULL)
		*how = "unknown user";
	if ((pw = getpwnam(user)) == NULL)
		return 0;
	if (t->n == 0) {
		if (how != NULL)
			*how = "default";
		return MON_PERMS_DEFAULT;
	}
	if (getgrouplist(user, pw->pw_gid, gids, &n) == -1) {
		/*
		 * More groups than we look at: a group entry we cannot see
		 * might take rights away, so fail closed (no rights at all).
		 */
		warn_f("user has more than %d groups; no rights granted",
		    MON_PERMS_MAX_GROUPS);
		if (how != NULL)
			*how = "too many groups";
		return 0;
	}
	for (i = 0; i < n; i++) {
		if ((gr = getgrgid(gids[i])) == NULL || gr->gr_name == NULL)
			continue;
		if ((names[k] = strdup(gr->gr_name)) != NULL)
			k++;
	}
	rights = perm_resolve(t, user, (const char *const *)names, (size_t)k,
	    MON_PERMS_DEFAULT, how);
	for (i = 0; i < k; i++)
		free(names[i]);
	return rights;
}
