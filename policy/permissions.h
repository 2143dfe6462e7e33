/*
 * permissions.h - the Permissions policy parameter: which rights a viewer
 * gets on the desktop it logs in to, per user and per group.
 *
 * Runs in moatd (parsing the configuration) and in the monitor (resolving
 * a grant after authentication). Pure: no I/O, no allocation; the text
 * comes from root-owned files but is parsed as if hostile (fuzzed by
 * fuzz/fuzz_permissions.c).
 *
 * Syntax (docs/permissions.md): comma-separated entries USER:LETTERS or
 * %GROUP:LETTERS, no blanks. LETTERS is "-" (no rights at all) or one or
 * more of
 *   v view the desktop          k keyboard            p pointer
 *   c clipboard to the viewer   s clipboard to the desktop
 *   r resize the desktop (SetDesktopSize; not in the default grant)
 *   f file transfer, P printing: accepted names that grant nothing,
 *     because moat has neither feature yet.
 *   q connect without the approval prompt (QueryConnect, and '?' rules
 *     of IpClientAddresses): the monitor's decision, never sent to
 *     moat-session.
 */
#ifndef MOAT_PERMISSIONS_H
#define MOAT_PERMISSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/ipc_types.h"

/* r: moat-session enforces it like the other IPC_PERM_* rights. */
#define PERM_RESIZE		IPC_PERM_RESIZE
/* Name-only rights: parsed and shown, never granted (no such feature yet). */
#define PERM_FILE_TRANSFER	0x0200
#define PERM_PRINTING		0x0400
#define PERM_NAME_ONLY		(PERM_FILE_TRANSFER | PERM_PRINTING)
/* The monitor's: this user is let in without asking the desktop user. */
#define PERM_NO_QUERY		0x0800
/* Every right a Permissions entry can name. */
#define PERM_LETTERS_ALL	(IPC_PERM_ALL | PERM_NAME_ONLY | PERM_NO_QUERY)

#define PERM_MAX_ENTRIES	64
#define PERM_NAME_MAX		64	/* bytes of a user or group name */
#define PERM_TEXT_MAX		2048	/* bytes of the whole value */
#define PERM_LETTERS_MAX	16	/* "vkpcsrfPq" + NUL, with room */

struct perm_entry {
	char name[PERM_NAME_MAX + 1];	/* without the '%' of a group */
	int is_group;
	uint32_t rights;		/* within PERM_LETTERS_ALL; 0 is "-" */
};

struct perm_table {
	unsigned n;
	struct perm_entry e[PERM_MAX_ENTRIES];
};

/*
 * Parses text[0..len) (may be empty: no entries) into t. Returns 0, or
 * MOAT_ERR_CONFIG with a message naming the entry at fault in why (may be
 * NULL); t is written only on success. A user or group named twice is an
 * error.
 */
int perm_table_parse(const char *text, size_t len, struct perm_table *t,
    char *why, size_t whylen);

/*
 * Writes the canonical text of t (entries in order, letters in the order
 * "vkpcsrfPq", "-" for none) into out. Returns 0, or MOAT_ERR_TOO_LONG if
 * it does not fit (out is then empty).
 */
int perm_table_format(const struct perm_table *t, char *out, size_t outlen);

/*
 * The rights of user, a member of the ngroups groups named in groups: the
 * user's own entry if there is one (it wins over every group); otherwise
 * the union of the entries of the groups listed; otherwise dflt. *how (may
 * be NULL) is set to "user", "group" or "default". Returns the rights
 * (within PERM_LETTERS_ALL, or dflt as given).
 */
uint32_t perm_resolve(const struct perm_table *t, const char *user,
    const char *const *groups, size_t ngroups, uint32_t dflt,
    const char **how);

/*
 * Writes the letters of rights ("-" for none) into out (at least
 * PERM_LETTERS_MAX bytes). Returns out.
 */
const char *perm_letters(uint32_t rights, char *out, size_t outlen);

#endif
