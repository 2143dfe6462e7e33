/*
 * test_kerberos_name.c - unit tests for the Kerberos factor's principal
 * mapping (auth/kerberos_name.c): NAME@REALM of KerberosRealm maps to
 * NAME, whether Cyrus SASL stripped the default realm or not; instances,
 * other realms, escaped separators, control bytes, names that are no
 * account names and over-long names do not. Test code.
 */
#include <string.h>

#include "auth/kerberos_name.h"
#include "privsep/errors.h"

#include "check.h"

static char user[64], full[512], why[256];

static int
map(const char *name, const char *def, const char *want)
{
	return kerberos_name_map(name, def, want, user, sizeof(user), full,
	    sizeof(full), why, sizeof(why));
}

int
main(void)
{
	static const char *const refused[] = {
		"alice/admin", "alice/admin@TEST.MOAT", "alice@OTHER.MOAT",
		"alice@test.moat", "alice@", "@TEST.MOAT", "a@b@TEST.MOAT",
		"al\\@ice", "al\\/ice@TEST.MOAT", "ali\nce", "al\177ice",
		"-alice", "al ice", "al:ice", "ali%ce", "",
		"abcdefghijklmnopqrstuvwxyz0123456", "host/x.test.moat",
		"alice@TEST.MOAT.", "al\xc3\xa9ice",
	};
	char big[400];
	size_t i;

	/* Stripped by SASL (the default realm) or not: the same account. */
	CHECK(map("alice", "TEST.MOAT", "TEST.MOAT") == 0 &&
	    strcmp(user, "alice") == 0 && strcmp(full, "alice@TEST.MOAT") == 0,
	    "%s %s", user, full);
	CHECK(map("alice@TEST.MOAT", "OTHER.MOAT", "TEST.MOAT") == 0 &&
	    strcmp(user, "alice") == 0 && strcmp(full, "alice@TEST.MOAT") == 0);
	CHECK(map("a.b_c-d", "TEST.MOAT", "TEST.MOAT") == 0 &&
	    strcmp(user, "a.b_c-d") == 0);
	CHECK(map("abcdefghijklmnopqrstuvwxyz012345", "TEST.MOAT",
	    "TEST.MOAT") == 0, "32 bytes is an account name");
	/* The default realm only counts when it is KerberosRealm. */
	CHECK(map("alice", "OTHER.MOAT", "TEST.MOAT") == MOAT_ERR_AUTH &&
	    strcmp(full, "alice@OTHER.MOAT") == 0 && user[0] == '\0' &&
	    strstr(why, "realm") != NULL, "%s", why);
	CHECK(map("alice", "", "TEST.MOAT") == MOAT_ERR_AUTH, "no default realm");
	CHECK(map("alice", NULL, "TEST.MOAT") == MOAT_ERR_AUTH);
	CHECK(map("alice/admin", "TEST.MOAT", "TEST.MOAT") == MOAT_ERR_AUTH &&
	    strstr(why, "instance") != NULL &&
	    strcmp(full, "alice/admin@TEST.MOAT") == 0, "%s", why);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		CHECK(map(refused[i], "TEST.MOAT", "TEST.MOAT") == MOAT_ERR_AUTH &&
		    user[0] == '\0' && why[0] != '\0', "'%s' refused", refused[i]);
	memset(big, 'a', sizeof(big));
	big[KERBEROS_NAME_MAX + 1] = '\0';
	CHECK(map(big, "TEST.MOAT", "TEST.MOAT") == MOAT_ERR_AUTH &&
	    full[0] == '\0', "over-long");
	CHECK(map(NULL, "TEST.MOAT", "TEST.MOAT") == MOAT_ERR_AUTH);
	/* Small output buffers are an error, never a cut name. */
	CHECK(kerberos_name_map("alice", "TEST.MOAT", "TEST.MOAT", user, 5,
	    full, sizeof(full), why, sizeof(why)) == MOAT_ERR_TOO_LONG);
	CHECK(kerberos_name_map("alice", "TEST.MOAT", "TEST.MOAT", user,
	    sizeof(user), full, 10, why, sizeof(why)) == MOAT_ERR_TOO_LONG);
	return check_summary();
}
