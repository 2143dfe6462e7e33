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

/* A mapped account name: 1..32 bytes of [A-Za-z0-9._-], not starting with '-'. */
static int
plausible(const char *u)
{
	size_t i, n = strlen(u);

	if (n == 0 || n > KERBEROS_USER_MAX || u[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' &&
		    u[i] <= 'Z') || (u[i] >= '0' && u[i] <= '9') ||
		    u[i] == '.' || u[i] == '_' || u[i] == '-'))
			return 0;
	return 1;
}

/*
 * Deterministic mutation of mapped principals: every truncation and every
 * bit flip of every byte either maps to a plausible account that is the
 * principal's own first component (the realm being KerberosRealm), or is
 * refused with a reason.
 */
static void
test_mutation(void)
{
	static const char *const good[] = { "alice@TEST.MOAT", "a.b_c-d" };
	char text[64];
	unsigned bad = 0;
	size_t g, len, i, cut;
	int r;

	for (g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
		len = strlen(good[g]);
		for (i = 0; i <= len * 8; i++) {
			for (cut = i < len * 8 ? len : 0; cut <= len; cut++) {
				memcpy(text, good[g], len);
				if (i < len * 8)
					text[i / 8] = (char)(text[i / 8] ^
					    (1u << (i % 8)));
				text[cut] = '\0';
				r = map(text, "TEST.MOAT", "TEST.MOAT");
				if (r == 0 ? !plausible(user) ||
				    strncmp(text, user, strlen(user)) != 0 ||
				    (text[strlen(user)] != '\0' &&
				    strcmp(text + strlen(user), "@TEST.MOAT") != 0) :
				    r != MOAT_ERR_AUTH || user[0] != '\0' ||
				    why[0] == '\0')
					bad++;
			}
		}
	}
	CHECK(bad == 0, "%u mutations mapped wrongly or failed uncleanly", bad);
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
	test_mutation();
	return check_summary();
}
