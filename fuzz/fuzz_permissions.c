/*
 * fuzz_permissions.c - libFuzzer target for the Permissions parser and
 * resolver (policy/permissions.c). Test code. The input is the text; a
 * result other than success or MOAT_ERR_CONFIG with a message, a table
 * that does not format and re-parse to the same table, or a resolution
 * outside the parsed rights, is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/permissions.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct perm_table t, u;
	static char out[PERM_TEXT_MAX + 1];
	const char *groups[2], *how;
	char why[512];
	uint32_t r;
	int rc;

	why[0] = '\0';
	rc = perm_table_parse((const char *)data, size, &t, why, sizeof(why));
	if (rc != 0) {
		if (rc != MOAT_ERR_CONFIG || why[0] == '\0')
			abort();
		return 0;
	}
	if (t.n > PERM_MAX_ENTRIES)
		abort();
	/* Canonical text is never longer than the input: it re-parses. */
	if (perm_table_format(&t, out, sizeof(out)) != 0 ||
	    perm_table_parse(out, strlen(out), &u, why, sizeof(why)) != 0 ||
	    u.n != t.n || memcmp(u.e, t.e, sizeof(t.e[0]) * t.n) != 0)
		abort();
	if (t.n == 0)
		return 0;
	groups[0] = t.e[t.n - 1].name;
	groups[1] = "other";
	r = perm_resolve(&t, t.e[0].name, groups, 2, 0xdead0000u, &how);
	if (r != 0xdead0000u && (r & ~(uint32_t)PERM_LETTERS_ALL) != 0)
		abort();
	if (strcmp(how, "default") == 0 && r != 0xdead0000u)
		abort();
	return 0;
}
