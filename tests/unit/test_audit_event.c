/*
 * test_audit_event.c - audit records (monitor/audit_event.c): the
 * printable form of hostile strings, the exact JSON a record is, the
 * syslog key=value text, the parser the listener runs over every record a
 * monitor sends, and that nothing a viewer or moat-net sends can add a
 * field, end a record or start a line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "monitor/audit_event.c"
#include "privsep/log.h"

/* 2026-11-23T01:02:03.456Z */
#define T0	1795395723456LL

static void
test_printable(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ "alice", 5, "alice" },
		{ "", 0, "" },
		{ "a\nb", 3, "a\\x0ab" },
		{ "tab\there", 8, "tab\\x09here" },
		{ "back\\slash", 10, "back\\x5cslash" },
		{ "quote\"", 6, "quote\"" },
		{ "nul\0x", 5, "nul\\x00x" },
		{ "del\x7f", 4, "del\\x7f" },
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },		/* é */
		{ "\xe6\x97\xa5", 3, "\xe6\x97\xa5" },		/* 日 */
		{ "\xf0\x9f\x94\x92", 4, "\xf0\x9f\x94\x92" },	/* a 4-byte character */
		{ "\xff", 1, "\\xff" },
		{ "\xc0\x80", 2, "\\xc0\\x80" },		/* overlong NUL */
		{ "\xe0\x80\xaf", 3, "\\xe0\\x80\\xaf" },	/* overlong '/' */
		{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" },	/* a surrogate */
		{ "\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80" },	/* > U+10FFFF */
		{ "\xc2\x85", 2, "\\xc2\\x85" },		/* C1 NEL */
		{ "\xc3", 1, "\\xc3" },				/* cut short */
		{ "\xe2\x80\xa8", 3, "\xe2\x80\xa8" },		/* U+2028: printable */
		{ "\x1b[31m", 5, "\\x1b[31m" },
	};
	char out[AUDIT_VALUE_MAX + 1], big[AUDIT_VALUE_IN_MAX + 100];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = audit_printable(out, sizeof(out), cases[i].in, cases[i].len);
		CHECK(strcmp(out, cases[i].want) == 0 && n == strlen(out),
		    "case %zu: got '%s' want '%s'", i, out, cases[i].want);
	}
	/* At most AUDIT_VALUE_IN_MAX input bytes, each at most 4 out. */
	memset(big, 0x01, sizeof(big));
	n = audit_printable(out, sizeof(out), big, sizeof(big));
	CHECK(n == AUDIT_VALUE_IN_MAX * 4, "%zu", n);
	/* A small destination is cut at a whole character, NUL-terminated. */
	n = audit_printable(out, 7, "ab\ncd", 5);
	CHECK(strcmp(out, "ab\\x0a") == 0 && n == 6, "'%s'", out);
	n = audit_printable(out, 4, "a\xe6\x97\xa5", 4);
	CHECK(strcmp(out, "a") == 0 && n == 1, "'%s'", out);
	n = audit_printable(out, 1, "abc", 3);
	CHECK(out[0] == '\0' && n == 0);
}

static void
test_record(void)
{
	static struct audit_rec rec;
	static struct audit_field f;
	char event[32], kv[4096];
	const char *j;
	uint32_t session;
	size_t len, pos = 0;
	int k = 0;

	audit_begin_at(&rec, T0, "login", 3, "192.0.2.1", 40000);
	audit_cstr(&rec, "user", "alice");
	audit_int(&rec, "bytes_in", -1);
	audit_int(&rec, "duration_ms", 1234567890123LL);
	j = audit_end(&rec, &len);
	CHECK(strcmp(j, "{\"ts\":\"2026-11-23T01:02:03.456Z\",\"event\":"
	    "\"login\",\"session\":3,\"peer_addr\":\"192.0.2.1\","
	    "\"peer_port\":40000,\"user\":\"alice\",\"bytes_in\":-1,"
	    "\"duration_ms\":1234567890123}") == 0, "%s", j);
	CHECK(len == strlen(j));
	CHECK(audit_check(j, len, event, sizeof(event), &session) == 0 &&
	    strcmp(event, "login") == 0 && session == 3);
	CHECK(audit_to_kv(j, len, kv, sizeof(kv)) == 0 &&
	    strcmp(kv, "event=login session=3 peer_addr=192.0.2.1 "
	    "peer_port=40000 user=alice bytes_in=-1 "
	    "duration_ms=1234567890123") == 0, "%s", kv);
	while (audit_next_field(j, len, &pos, &f) == 1)
		k++;
	CHECK(k == 8 && pos == len, "%d fields", k);

	/* A record not tied to a connection. */
	audit_begin_at(&rec, 0, "reload", 0, NULL, 0);
	j = audit_end(&rec, &len);
	CHECK(strcmp(j, "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"event\":"
	    "\"reload\",\"session\":0,\"peer_addr\":\"\",\"peer_port\":0}") ==
	    0, "%s", j);
	CHECK(audit_to_kv(j, len, kv, sizeof(kv)) == 0 &&
	    strcmp(kv, "event=reload session=0 peer_addr=\"\" peer_port=0") ==
	    0, "%s", kv);
}

/* What a viewer or moat-net may put in a string: never a new field or line. */
static void
test_hostile(void)
{
	static const char *const hostile[] = {
		"\nevent=login user=root",
		"x\",\"event\":\"login\",\"user\":\"root",
		"x\\\",\"user\":\"root",
		"a\r\nMOAT_EVENT=login\n",
		"user=root session=1",
		"\"quoted\" = value",
		"\xc0\xa2,\"user\":\"root\"",
	};
	static struct audit_rec rec;
	static struct audit_field f;
	char event[32], kv[8192], esc[300];
	const char *j;
	uint32_t session;
	size_t i, len, pos;
	int users, fields;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		audit_begin_at(&rec, T0, "auth_factor", 9, "192.0.2.1", 1);
		audit_cstr(&rec, "user", hostile[i]);
		audit_cstr(&rec, "result", "failure");
		j = audit_end(&rec, &len);
		CHECK(strchr(j, '\n') == NULL && strchr(j, '\r') == NULL,
		    "case %zu: one line", i);
		CHECK(audit_check(j, len, event, sizeof(event), &session) ==
		    0 && strcmp(event, "auth_factor") == 0 && session == 9,
		    "case %zu: %s", i, j);
		pos = 0;
		users = fields = 0;
		while (audit_next_field(j, len, &pos, &f) == 1) {
			fields++;
			if (strcmp(f.key, "user") == 0) {
				users++;
				audit_printable(esc, sizeof(esc), hostile[i],
				    strlen(hostile[i]));
				CHECK(strcmp(f.val, esc) == 0, "case %zu: "
				    "'%s' read back as '%s'", i, esc, f.val);
			}
		}
		CHECK(users == 1 && fields == 7, "case %zu: %d fields", i,
		    fields);
		CHECK(audit_to_kv(j, len, kv, sizeof(kv)) == 0 &&
		    strchr(kv, '\n') == NULL && strchr(kv, '\r') == NULL,
		    "case %zu", i);
		/* The kv text keeps one user= at the record's place. */
		CHECK(strstr(kv, "event=auth_factor session=9 ") == kv &&
		    strstr(kv, " result=failure") != NULL, "case %zu: %s", i,
		    kv);
	}
	/* The exact kv quoting of a value with blanks, '"' and '='. */
	audit_begin_at(&rec, T0, "login", 1, "::1", 2);
	audit_cstr(&rec, "user", "a \"b\"=c");
	j = audit_end(&rec, &len);
	CHECK(audit_to_kv(j, len, kv, sizeof(kv)) == 0 && strcmp(kv,
	    "event=login session=1 peer_addr=::1 peer_port=2 "
	    "user=\"a \\x22b\\x22=c\"") == 0, "%s", kv);
	/* moat-net's log lines are escaped the same way before the monitor logs them. */
	log_escape(esc, sizeof(esc), hostile[0], strlen(hostile[0]));
	CHECK(strcmp(esc, "\\x0aevent=login user=root") == 0, "%s", esc);
}

static void
test_overflow(void)
{
	static struct audit_rec rec;
	static struct audit_field f;
	char big[AUDIT_VALUE_IN_MAX], event[32], key[16];
	const char *j;
	uint32_t session;
	size_t len, pos = 0;
	int i, truncated = 0;

	memset(big, '\x01', sizeof(big));	/* 4 bytes each when printable */
	audit_begin_at(&rec, T0, "disconnect", 5, "192.0.2.1", 1);
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "f%d", i);
		audit_str(&rec, key, big, sizeof(big));
	}
	audit_int(&rec, "bytes_in", 7);
	j = audit_end(&rec, &len);
	CHECK(len < AUDIT_RECORD_MAX && len == strlen(j), "%zu", len);
	CHECK(audit_check(j, len, event, sizeof(event), &session) == 0 &&
	    session == 5);
	while (audit_next_field(j, len, &pos, &f) == 1)
		if (strcmp(f.key, "truncated") == 0 && strcmp(f.val, "1") == 0)
			truncated = 1;
	CHECK(truncated, "a record that lost a field says so");
}

static void
test_parser_refuses(void)
{
	static const char *const bad[] = {
		"",
		"{",
		"}",
		"{}x",
		"[]",
		"{\"ts\":\"x\"",
		"{\"ts\":\"x\",}",
		"{\"Ts\":\"x\"}",
		"{\"ts\":\"a\nb\"}",
		"{\"ts\":\"a\\nb\"}",
		"{\"ts\":\"a\\u0041\"}",
		"{\"ts\":x}",
		"{\"ts\":-}",
		"{\"ts\":12345678901234567890}",
		"{\"ts\":1.5}",
		"{\"ts\":true}",
		"{ \"ts\":1}",
		"{\"\":1}",
		"{\"ts\":\"x}",
		"{\"abcdefghijklmnopqrstuvwxyz012345\":1}",
		"{\"ts\":007}",
		"{\"ts\":-0}",
	};
	static struct audit_field f;
	size_t i, pos;
	int r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pos = 0;
		while ((r = audit_next_field(bad[i], strlen(bad[i]), &pos,
		    &f)) == 1)
			;
		CHECK(r == MOAT_ERR_INVALID, "case %zu: '%s' refused", i,
		    bad[i]);
	}
}

static void
test_check_refuses(void)
{
	static const char *const bad[] = {
		"{}",
		/* common fields missing, misordered or mistyped */
		"{\"ts\":\"t\",\"event\":\"login\",\"session\":1,"
		    "\"peer_addr\":\"a\"}",
		"{\"event\":\"login\",\"ts\":\"t\",\"session\":1,"
		    "\"peer_addr\":\"a\",\"peer_port\":1}",
		"{\"ts\":\"t\",\"event\":\"login\",\"session\":\"1\","
		    "\"peer_addr\":\"a\",\"peer_port\":1}",
		"{\"ts\":\"t\",\"event\":\"\",\"session\":1,"
		    "\"peer_addr\":\"a\",\"peer_port\":1}",
		"{\"ts\":\"t\",\"event\":\"login\",\"session\":4294967296,"
		    "\"peer_addr\":\"a\",\"peer_port\":1}",
		"{\"ts\":\"t\",\"event\":\"login\",\"session\":-1,"
		    "\"peer_addr\":\"a\",\"peer_port\":1}",
		"{\"ts\":\"t\",\"event\":\"abcdefghijklmnopqrstuvwxyz0123456\","
		    "\"session\":1,\"peer_addr\":\"a\",\"peer_port\":1}",
	};
	static const char good[] = "{\"ts\":\"t\",\"event\":\"login\","
	    "\"session\":4294967295,\"peer_addr\":\"a\",\"peer_port\":1}";
	char event[32], withnul[sizeof(good)];
	uint32_t session;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(audit_check(bad[i], strlen(bad[i]), event, sizeof(event),
		    &session) == MOAT_ERR_INVALID, "case %zu", i);
	CHECK(audit_check(good, strlen(good), event, sizeof(event),
	    &session) == 0 && session == 4294967295u);
	memcpy(withnul, good, sizeof(good));
	withnul[20] = '\0';
	CHECK(audit_check(withnul, strlen(good), event, sizeof(event),
	    &session) == MOAT_ERR_INVALID);
}

static void
test_message_ids(void)
{
	static const char *const events[] = { "connect", "refuse",
	    "security", "auth_factor", "login", "query", "sharing",
	    "disconnect", "reload", "blacklist", "moatctl", "debug",
	    "audit_start", "audit_stop" };
	size_t i, k, n = sizeof(events) / sizeof(events[0]);

	for (i = 0; i < n; i++) {
		const char *id = audit_message_id(events[i]);

		CHECK(id != NULL && strlen(id) == 32 &&
		    strspn(id, "0123456789abcdef") == 32, "%s", events[i]);
		for (k = 0; id != NULL && k < i; k++)
			CHECK(strcmp(id, audit_message_id(events[k])) != 0,
			    "%s and %s share an id", events[i], events[k]);
	}
	CHECK(audit_message_id("checkpoint") == NULL);
}

int
main(void)
{
	test_printable();
	test_record();
	test_hostile();
	test_overflow();
	test_parser_refuses();
	test_check_refuses();
	test_message_ids();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
