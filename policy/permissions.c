/*
 * permissions.c - parses the Permissions parameter and resolves a user's
 * rights from it (see permissions.h). Runs in moatd and in the monitor,
 * both root; the text comes from root-owned configuration files but is
 * parsed as if hostile: every entry and name is bounded, every letter
 * checked, and what is quoted in a message is escaped. Pure: no I/O, no
 * allocation.
 */
#include <stdio.h>
#include <string.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "permissions.h"

/* In the order perm_letters() writes them. */
static const struct {
	char letter;
	uint32_t right;
} letters[] = {
	{ 'v', IPC_PERM_VIEW },
	{ 'k', IPC_PERM_KEYBOARD },
	{ 'p', IPC_PERM_POINTER },
	{ 'c', IPC_PERM_CLIP_TO_CLIENT },
	{ 's', IPC_PERM_CLIP_TO_SERVER },
	{ 'r', PERM_RESIZE },
	{ 'f', PERM_FILE_TRANSFER },
	{ 'P', PERM_PRINTING },
	{ 'q', PERM_NO_QUERY },
};
#define NLETTERS (sizeof(letters) / sizeof(letters[0]))

static int
fail(char *why, size_t whylen, const char *what, const char *p, size_t n)
{
	char q[PERM_NAME_MAX * 4 + 8];

	if (why != NULL && whylen > 0) {
		log_escape(q, sizeof(q), p, n > PERM_NAME_MAX + 4 ?
		    PERM_NAME_MAX + 4 : n);
		snprintf(why, whylen, "%s in entry '%s'; entries are USER:LETTERS "
		    "or %%GROUP:LETTERS, LETTERS '-' or of v (view), k "
		    "(keyboard), p (pointer), c (clipboard to the viewer), s "
		    "(clipboard to the desktop), r (resize the desktop), f, P "
		    "(names only), q (no approval prompt)", what, q);
	}
	return MOAT_ERR_CONFIG;
}

/* Letters, digits and . _ - @ $, not starting with '-'. */
static int
valid_name(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > PERM_NAME_MAX || p[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-' || ch == '@' || ch == '$'))
			return 0;
	}
	return 1;
}

static int
parse_letters(const char *p, size_t n, uint32_t *out)
{
	uint32_t r = 0;
	size_t i, k;

	if (n == 1 && p[0] == '-') {
		*out = 0;
		return 0;
	}
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		for (k = 0; k < NLETTERS; k++)
			if (letters[k].letter == p[i])
				break;
		if (k == NLETTERS || (r & letters[k].right))
			return -1;	/* unknown or repeated */
		r |= letters[k].right;
	}
	*out = r;
	return 0;
}

int
perm_table_parse(const char *text, size_t len, struct perm_table *t,
    char *why, size_t whylen)
{
	struct perm_table nt;
	const char *p, *end, *comma, *colon, *name;
	size_t elen, nlen;
	uint32_t rights;
	unsigned i;
	int group;

	memset(&nt, 0, sizeof(nt));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (text == NULL && len != 0)
		return MOAT_ERR_CONFIG;
	if (len > PERM_TEXT_MAX) {
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "longer than %d bytes",
			    PERM_TEXT_MAX);
		return MOAT_ERR_CONFIG;
	}
	p = text;
	end = text + len;
	while (len > 0) {
		comma = memchr(p, ',', (size_t)(end - p));
		elen = comma != NULL ? (size_t)(comma - p) : (size_t)(end - p);
		if (elen == 0)
			return fail(why, whylen, "empty entry", p, 0);
		if ((colon = memchr(p, ':', elen)) == NULL)
			return fail(why, whylen, "missing ':'", p, elen);
		group = p[0] == '%';
		name = p + group;
		nlen = (size_t)(colon - name);
		if (!valid_name(name, nlen))
			return fail(why, whylen, group ? "bad group name" :
			    "bad user name", p, elen);
		if (parse_letters(colon + 1, elen - (size_t)(colon + 1 - p),
		    &rights) != 0)
			return fail(why, whylen, "bad permission letters", p,
			    elen);
		for (i = 0; i < nt.n; i++)
			if (nt.e[i].is_group == group &&
			    strlen(nt.e[i].name) == nlen &&
			    memcmp(nt.e[i].name, name, nlen) == 0)
				return fail(why, whylen, group ?
				    "group named twice" : "user named twice",
				    p, elen);
		if (nt.n == PERM_MAX_ENTRIES)
			return fail(why, whylen, "more than 64 entries", p, elen);
		memcpy(nt.e[nt.n].name, name, nlen);
		nt.e[nt.n].name[nlen] = '\0';
		nt.e[nt.n].is_group = group;
		nt.e[nt.n].rights = rights;
		nt.n++;
		if (comma == NULL)
			break;
		p = comma + 1;
		if (p == end)
			return fail(why, whylen, "empty entry", p, 0);
	}
	*t = nt;
	return 0;
}

const char *
perm_letters(uint32_t rights, char *out, size_t outlen)
{
	size_t i, n = 0;

	if (outlen == 0)
		return out;
	for (i = 0; i < NLETTERS && n + 1 < outlen; i++)
		if (rights & letters[i].right)
			out[n++] = letters[i].letter;
	if (n == 0 && outlen > 1)
		out[n++] = '-';
	out[n] = '\0';
	return out;
}

int
perm_table_format(const struct perm_table *t, char *out, size_t outlen)
{
	char l[PERM_LETTERS_MAX];
	size_t used = 0;
	unsigned i;
	int w;

	if (outlen == 0)
		return MOAT_ERR_TOO_LONG;
	out[0] = '\0';
	for (i = 0; i < t->n; i++) {
		w = snprintf(out + used, outlen - used, "%s%s%s:%s",
		    i == 0 ? "" : ",", t->e[i].is_group ? "%" : "",
		    t->e[i].name, perm_letters(t->e[i].rights, l, sizeof(l)));
		if (w < 0 || (size_t)w >= outlen - used) {
			out[0] = '\0';
			return MOAT_ERR_TOO_LONG;
		}
		used += (size_t)w;
	}
	return 0;
}

uint32_t
perm_resolve(const struct perm_table *t, const char *user,
    const char *const *groups, size_t ngroups, uint32_t dflt,
    const char **how)
{
	uint32_t r = 0;
	int found = 0;
	unsigned i;
	size_t g;

	for (i = 0; i < t->n; i++) {
		if (!t->e[i].is_group && strcmp(t->e[i].name, user) == 0) {
			if (how != NULL)
				*how = "user";
			return t->e[i].rights;
		}
	}
	for (i = 0; i < t->n; i++) {
		if (!t->e[i].is_group)
			continue;
		for (g = 0; g < ngroups; g++) {
			if (groups[g] != NULL &&
			    strcmp(t->e[i].name, groups[g]) == 0) {
				r |= t->e[i].rights;
				found = 1;
				break;
			}
		}
	}
	if (how != NULL)
		*how = found ? "group" : "default";
	return found ? r : dflt;
}
