/*
 * mon_perms.h - the rights a viewer gets after authenticating: the
 * Permissions policy (policy/permissions.h) resolved for the user and the
 * groups the system says the user is in. Runs as root in the monitor.
 */
#ifndef MOAT_MON_PERMS_H
#define MOAT_MON_PERMS_H

#include <stddef.h>
#include <stdint.h>

#include "policy/config.h"

/*
 * The grant when Permissions names neither the user nor any of its groups:
 * vkpcs, every right but resizing the desktop (r), which changes the
 * desktop for its owner and every other viewer, so policy must name it.
 */
#define MON_PERMS_DEFAULT	(IPC_PERM_VIEW | IPC_PERM_KEYBOARD | \
    IPC_PERM_POINTER | IPC_PERM_CLIP_TO_CLIENT | IPC_PERM_CLIP_TO_SERVER)

/*
 * Resolves the rights of user (an account name the monitor authenticated)
 * from cfg's Permissions: the user's own entry, else the union of the
 * entries of its groups (getgrouplist(3): the primary group and every
 * supplementary one), else MON_PERMS_DEFAULT. *how (may be NULL) says
 * which ("user", "group", "default"). A user the system does not know
 * gets no rights. Returns the rights (within PERM_LETTERS_ALL; only the
 * IPC_PERM_ALL bits can be granted).
 */
uint32_t mon_perms_resolve(const struct moat_config *cfg, const char *user,
    const char **how);

#endif
