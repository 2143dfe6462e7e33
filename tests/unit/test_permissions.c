/*
 * test_permissions.c - unit tests for the Permissions parser and resolver
 * (policy/permissions.c) and the sharing decision (policy/sharing.c).
 * Test code.
 */
#include <stdio.h>
#include <string.h>

#include "policy/permissions.h"
#include "policy/sharing.h"
#include "privsep/errors.h"

#include "check.h"

#define ALL	IPC_PERM_ALL		/* vkpcsr */
#define VKPCS	(ALL & ~IPC_PERM_RESIZE)	/* the default grant */
#define V	IPC_PERM_VIEW
#define K	IPC_PERM_KEYBOARD
#define P	IPC_PERM_POINTER
#define C	IPC_PERM_CLIP_TO_CLIENT
#define S	IPC_PERM_CLIP_TO_SERVER

static int
parse(const char *text, struct perm_table *t, char *why, size_t whylen)
{
	return perm_table_parse(text, strlen(text), t, why, whylen);
}

/* Parses text, formats it again and compares with want. */
static void
round_trip(const char *text, const char *want)
{
	struct perm_table t;
	char out[PERM_TEXT_MAX + 1], why[512];

	CHECK(parse(text, &t, why, sizeof(why)) == 0, "%s: %s", text, why);
	CHECK(perm_table_format(&t, out, sizeof(out)) == 0 &&
	    strcmp(out, want) == 0, "%s -> %s, not %s", text, out, want);
}

static void
bad(const char *text, const char *needle)
{
	struct perm_table t;
	char why[512];

	memset(&t, 0x5a, sizeof(t));
	CHECK(parse(text, &t, why, sizeof(why)) == MOAT_ERR_CONFIG,
	    "'%s' refused", text);
	CHECK(strstr(why, needle) != NULL, "'%s': %s", text, why);
	CHECK(t.n == 0x5a5a5a5au, "'%s' left the table alone", text);
}

static void
test_parse(void)
{
	struct perm_table t;
	char why[512], l[PERM_LETTERS_MAX], big[PERM_TEXT_MAX + 2];
	size_t i;

	CHECK(parse("", &t, why, sizeof(why)) == 0 && t.n == 0);
	CHECK(parse("alice:vkpcs,%admins:vk,bob:-", &t, why, sizeof(why)) == 0);
	CHECK(t.n == 3 && !t.e[0].is_group && strcmp(t.e[0].name, "alice") == 0 &&
	    t.e[0].rights == VKPCS);
	CHECK(t.e[1].is_group && strcmp(t.e[1].name, "admins") == 0 &&
	    t.e[1].rights == (V | K));
	CHECK(!t.e[2].is_group && t.e[2].rights == 0);
	/* r is a right moat-session enforces, like the five before it. */
	CHECK(parse("alice:vkpcsr", &t, why, sizeof(why)) == 0 &&
	    t.e[0].rights == ALL && (ALL & PERM_NAME_ONLY) == 0);
	/* Canonical order of letters; name-only rights kept. */
	round_trip("alice:skv", "alice:vks");
	round_trip("%g:Pfrv", "%g:vrfP");
	round_trip("a.b-c_d@EXAMPLE.ORG:v,host$:-", "a.b-c_d@EXAMPLE.ORG:v,host$:-");
	/* A user and a group may share a name. */
	round_trip("staff:v,%staff:vk", "staff:v,%staff:vk");

	bad("alice", "missing ':'");
	bad("alice:", "bad permission letters");
	bad("alice:x", "bad permission letters");
	bad("alice:vv", "bad permission letters");
	bad("alice:v-", "bad permission letters");
	bad("alice:V", "bad permission letters");
	bad(":v", "bad user name");
	bad("%:v", "bad group name");
	bad("-x:v", "bad user name");
	bad("al ice:v", "bad user name");
	bad("alice:v,", "empty entry");
	bad(",alice:v", "empty entry");
	bad("alice:v,,bob:v", "empty entry");
	bad("alice:v,alice:k", "user named twice");
	bad("%g:v,%g:k", "group named twice");
	bad("alice:v k", "bad permission letters");
	/* Bounds: names and the whole text. */
	memset(big, 'a', 65);
	memcpy(big + 65, ":v", 3);
	bad(big, "bad user name");
	big[64] = ':';
	big[65] = 'v';
	big[66] = '\0';
	CHECK(parse(big, &t, why, sizeof(why)) == 0 && t.n == 1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(parse(big, &t, why, sizeof(why)) == MOAT_ERR_CONFIG &&
	    strstr(why, "longer than") != NULL, "%s", why);
	/* 64 entries, not 65. */
	big[0] = '\0';
	for (i = 0; i < 65; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "%su%zu:v",
		    i == 0 ? "" : ",", i);
	CHECK(parse(big, &t, why, sizeof(why)) == MOAT_ERR_CONFIG &&
	    strstr(why, "more than 64") != NULL, "%s", why);
	*strrchr(big, ',') = '\0';
	CHECK(parse(big, &t, why, sizeof(why)) == 0 && t.n == 64);
	/* A message quotes the entry escaped. */
	bad("ali\x01" "ce:v", "ali\\x01ce");
	/* Letters. */
	CHECK(strcmp(perm_letters(0, l, sizeof(l)), "-") == 0);
	CHECK(strcmp(perm_letters(PERM_LETTERS_ALL, l, sizeof(l)),
	    "vkpcsrfPq") == 0, "%s", l);
	CHECK(strcmp(perm_letters(V | C, l, sizeof(l)), "vc") == 0);
	/* A format that does not fit fails and leaves "". */
	CHECK(parse("alice:vkpcs", &t, why, sizeof(why)) == 0);
	CHECK(perm_table_format(&t, l, 5) == MOAT_ERR_TOO_LONG && l[0] == '\0');
}

static void
test_resolve(void)
{
	static const char *const g_staff[] = { "users", "staff" };
	static const char *const g_both[] = { "viewers", "typists", "other" };
	static const char *const g_none[] = { "users" };
	struct perm_table t;
	const char *how = NULL;
	char why[512];

	CHECK(parse("alice:vc,%staff:vkp,%viewers:v,%typists:vks,bob:-", &t,
	    why, sizeof(why)) == 0);
	/* The user's own entry wins over every group. */
	CHECK(perm_resolve(&t, "alice", g_staff, 2, ALL, &how) == (V | C) &&
	    strcmp(how, "user") == 0);
	CHECK(perm_resolve(&t, "bob", g_staff, 2, ALL, &how) == 0 &&
	    strcmp(how, "user") == 0);
	/* One group. */
	CHECK(perm_resolve(&t, "carol", g_staff, 2, ALL, &how) == (V | K | P) &&
	    strcmp(how, "group") == 0);
	/* Several groups: the union. */
	CHECK(perm_resolve(&t, "dave", g_both, 3, ALL, &how) == (V | K | S) &&
	    strcmp(how, "group") == 0);
	/* Nobody listed: the default. */
	CHECK(perm_resolve(&t, "erin", g_none, 1, ALL, &how) == ALL &&
	    strcmp(how, "default") == 0);
	CHECK(perm_resolve(&t, "erin", NULL, 0, V, &how) == V &&
	    strcmp(how, "default") == 0);
	/* Names match exactly: case and prefixes count. */
	CHECK(perm_resolve(&t, "Alice", NULL, 0, ALL, NULL) == ALL);
	CHECK(perm_resolve(&t, "alic", NULL, 0, ALL, NULL) == ALL);
	/* A group entry that grants nothing still counts as listed. */
	CHECK(parse("%guests:-", &t, why, sizeof(why)) == 0);
	{
		static const char *const g[] = { "guests" };

		CHECK(perm_resolve(&t, "x", g, 1, ALL, &how) == 0 &&
		    strcmp(how, "group") == 0);
	}
	/* Rights come back as parsed; callers mask the name-only ones. */
	CHECK(parse("alice:vr", &t, why, sizeof(why)) == 0);
	CHECK(perm_resolve(&t, "alice", NULL, 0, ALL, NULL) ==
	    (V | IPC_PERM_RESIZE));
	CHECK(parse("alice:vf", &t, why, sizeof(why)) == 0);
	CHECK(perm_resolve(&t, "alice", NULL, 0, ALL, NULL) ==
	    (V | PERM_FILE_TRANSFER));
	/* An empty table: always the default. */
	CHECK(parse("", &t, why, sizeof(why)) == 0);
	CHECK(perm_resolve(&t, "alice", g_staff, 2, V | K, &how) == (V | K) &&
	    strcmp(how, "default") == 0);
}

static void
test_sharing(void)
{
	/* sharing_effective(always, never, viewer) */
	CHECK(sharing_effective(0, 0, 1) == 1 && sharing_effective(0, 0, 0) == 0);
	CHECK(sharing_effective(1, 0, 0) == 1 && sharing_effective(1, 0, 1) == 1);
	CHECK(sharing_effective(0, 1, 1) == 0 && sharing_effective(1, 1, 1) == 0);
	/* sharing_decide(shared, disconnect_clients, others) */
	CHECK(sharing_decide(1, 1, 3) == SHARING_JOIN);
	CHECK(sharing_decide(1, 0, 3) == SHARING_JOIN);
	CHECK(sharing_decide(0, 1, 0) == SHARING_JOIN);
	CHECK(sharing_decide(0, 0, 0) == SHARING_JOIN);
	CHECK(sharing_decide(0, 1, 1) == SHARING_TAKE_OVER);
	CHECK(sharing_decide(0, 0, 2) == SHARING_REFUSE);
	CHECK(strcmp(sharing_verdict_name(SHARING_REFUSE), "is refused") == 0);
}

/*
 * Deterministic mutation of known-good values: every truncation and every
 * bit flip of every byte must parse or fail cleanly with a message; what
 * parses must format to text that parses to the same table.
 */
static void
test_mutation(void)
{
	static const char *const good[] = {
		"alice:vkpcs,%admins:v,bob:-,%users:vkp",
		"moat-selftest-forward-input:v,%grp.x_y-z:cs",
	};
	struct perm_table t, again;
	char text[256], canon[1024], why[256];
	unsigned bad = 0, bit;
	size_t g, len, i, cut;
	int r;

	for (g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
		len = strlen(good[g]);
		for (i = 0; i <= len * 8; i++) {
			memcpy(text, good[g], len);
			cut = len;
			if (i < len * 8) {
				bit = (unsigned)(i % 8);
				text[i / 8] = (char)(text[i / 8] ^ (1u << bit));
			} else
				cut = 0;
			for (; cut <= len; cut += i < len * 8 ? len + 1 : 1) {
				why[0] = '\0';
				memset(&t, 0, sizeof(t));
				memset(&again, 0, sizeof(again));
				r = perm_table_parse(text, cut, &t, why, sizeof(why));
				if (r != 0) {
					if (r != MOAT_ERR_CONFIG || why[0] == '\0')
						bad++;
					continue;
				}
				if (perm_table_format(&t, canon, sizeof(canon)) != 0 ||
				    perm_table_parse(canon, strlen(canon), &again,
				    why, sizeof(why)) != 0 ||
				    memcmp(&t, &again, sizeof(t)) != 0)
					bad++;
			}
		}
	}
	CHECK(bad == 0, "%u mutations did not parse or fail cleanly", bad);
}

int
main(void)
{
	test_parse();
	test_mutation();
	test_resolve();
	test_sharing();
	return check_summary();
}
