/*
 * kerberos_name.c - the principal-to-account rule of the Kerberos factor
 * (see kerberos_name.h). Runs as root in the per-connection monitor; pure.
 * The principal was proven by the KDC's ticket, but its bytes came from a
 * realm's database that moat does not control, so nothing is assumed
 * about them.
 */
#include <stdio.h>
#include <string.h>

#include "kerberos_name.h"
#include "privsep/errors.h"

static int
user_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

static int
fail(char *why, size_t whylen, const char *text)
{
	snprintf(why, whylen, "%s", text);
	return MOAT_ERR_AUTH;
}

int
kerberos_name_map(const char *name, const char *default_realm,
    const char *want_realm, char *user, size_t userlen, char *full,
    size_t fulllen, char *why, size_t whylen)
{
	const char *at, *realm;
	size_t n, local, i;

	user[0] = '\0';
	full[0] = '\0';
	why[0] = '\0';
	if (name == NULL || (n = strnlen(name, KERBEROS_NAME_MAX + 1)) == 0)
		return fail(why, whylen, "no principal name");
	if (n > KERBEROS_NAME_MAX)
		return fail(why, whylen, "the principal name is too long");
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch < 0x20 || ch == 0x7f || ch == '\\')
			return fail(why, whylen, "the principal name holds a "
			    "control character or an escaped separator");
	}
	if ((at = strchr(name, '@')) != NULL) {
		if (strchr(at + 1, '@') != NULL)
			return fail(why, whylen, "the principal name holds "
			    "more than one '@'");
		realm = at + 1;
		local = (size_t)(at - name);
	} else {
		realm = default_realm != NULL ? default_realm : "";
		local = n;
	}
	if (snprintf(full, fulllen, "%.*s@%s", (int)local, name, realm) >=
	    (int)fulllen)
		return MOAT_ERR_TOO_LONG;
	if (realm[0] == '\0' || want_realm == NULL ||
	    strcmp(realm, want_realm) != 0)
		return fail(why, whylen, "the principal is not of the realm "
		    "KerberosRealm names");
	if (local == 0)
		return fail(why, whylen, "the principal has an empty name");
	if (memchr(name, '/', local) != NULL)
		return fail(why, whylen, "the principal has more than one "
		    "component (an instance): only NAME@REALM maps to an "
		    "account");
	if (local > KERBEROS_USER_MAX || name[0] == '-')
		return fail(why, whylen, "the principal's name is no "
		    "account name");
	for (i = 0; i < local; i++)
		if (!user_char((unsigned char)name[i]))
			return fail(why, whylen, "the principal's name is no "
			    "account name");
	if (local >= userlen)
		return MOAT_ERR_TOO_LONG;
	memcpy(user, name, local);
	user[local] = '\0';
	return 0;
}
