/*
 * test_penalty.c - unit tests for the blacklist tables (policy/penalty.c)
 * with a fixed clock: the threshold, the block and its expiry, the one
 * probation attempt, doubling up to the cap, success clearing, IPv4 by
 * address and IPv6 by /64, user names bounded, the exempt list, the
 * table-full rule, forgetting, and a table that is off. Test code.
 */
#include <stdio.h>
#include <string.h>

#include "policy/penalty.h"
#include "privsep/errors.h"

#include "check.h"

static struct penalty_entry slots[8];
static struct penalty_table t;

static struct penalty_key
akey(const char *s)
{
	struct ip_addr a;
	struct penalty_key k;

	if (ip_addr_parse(s, strlen(s), &a) != 0)
		memset(&a, 0, sizeof(a));
	penalty_key_addr(&k, &a, NULL);
	return k;
}

static struct penalty_key
ukey(const char *s)
{
	struct penalty_key k;

	penalty_key_user(&k, s);
	return k;
}

/* n failures of k at now; returns the last status. */
static struct penalty_status
fail_n(struct penalty_key k, int n, int64_t now)
{
	struct penalty_status st;

	memset(&st, 0, sizeof(st));
	while (n-- > 0)
		CHECK(penalty_fail(&t, &k, now, &st) == 0, "fail");
	return st;
}

static void
test_threshold_and_doubling(void)
{
	struct penalty_key k = akey("192.0.2.1");
	struct penalty_status st;
	int64_t left;

	penalty_init(&t, slots, 8, 5, 10);
	st = fail_n(k, 4, 100);
	CHECK(st.failures == 4 && st.blocked == 0, "4 failures: %u %lld",
	    st.failures, (long long)st.blocked);
	CHECK(penalty_admit(&t, &k, 100, NULL) == PENALTY_ALLOW, "below");
	st = fail_n(k, 1, 101);
	CHECK(st.failures == 5 && st.blocked == 10, "5th: %lld",
	    (long long)st.blocked);
	CHECK(penalty_blocked(&t, &k, 101) == 10, "blocked");
	CHECK(penalty_admit(&t, &k, 110, &left) == PENALTY_REFUSE && left == 1,
	    "refused at 110, left %lld", (long long)left);
	/* Expired at 111: one probation attempt, then refusals. */
	CHECK(penalty_blocked(&t, &k, 111) == 0, "expired");
	CHECK(penalty_admit(&t, &k, 111, NULL) == PENALTY_PROBATION, "probation");
	CHECK(penalty_admit(&t, &k, 112, &left) == PENALTY_REFUSE && left == 1,
	    "second attempt during probation");
	CHECK(penalty_blocked(&t, &k, 112) == 1, "probation running");
	/* The probation attempt fails: 20 s. */
	st = fail_n(k, 1, 115);
	CHECK(st.blocked == 20, "doubled: %lld", (long long)st.blocked);
	CHECK(penalty_admit(&t, &k, 134, NULL) == PENALTY_REFUSE, "134");
	CHECK(penalty_admit(&t, &k, 135, NULL) == PENALTY_PROBATION, "135");
	/* The viewer left before authenticating: probation again. */
	penalty_end_probation(&t, &k);
	CHECK(penalty_admit(&t, &k, 136, NULL) == PENALTY_PROBATION, "again");
	st = fail_n(k, 1, 140);
	CHECK(st.blocked == 40, "40: %lld", (long long)st.blocked);
	/* A failure that arrives while blocked (a concurrent attempt) doubles too. */
	st = fail_n(k, 1, 141);
	CHECK(st.blocked == 80, "80: %lld", (long long)st.blocked);
	/* Up to the cap. */
	st = fail_n(k, 10, 150);
	CHECK(st.blocked == PENALTY_MAX_TIMEOUT, "cap: %lld",
	    (long long)st.blocked);
	st = fail_n(k, 1, 151);
	CHECK(st.blocked == PENALTY_MAX_TIMEOUT, "stays at the cap");
	/* Success forgets everything. */
	CHECK(penalty_admit(&t, &k, 151 + PENALTY_MAX_TIMEOUT, NULL) ==
	    PENALTY_PROBATION, "after the cap");
	penalty_success(&t, &k);
	CHECK(penalty_count(&t, 151 + PENALTY_MAX_TIMEOUT) == 0, "cleared");
	st = fail_n(k, 1, 5000);
	CHECK(st.failures == 1 && st.blocked == 0, "counting from 0");
}

static void
test_keys(void)
{
	struct penalty_key a, b;
	struct ip_filter ex;
	struct ip_addr ip;
	char why[256], longname[200];

	penalty_init(&t, slots, 8, 2, 10);
	/* IPv6 by /64. */
	fail_n(akey("2001:db8:1:2::1"), 1, 10);
	fail_n(akey("2001:db8:1:2:ffff::9"), 1, 10);
	a = akey("2001:db8:1:2:abcd::1");
	CHECK(penalty_blocked(&t, &a, 10) == 10, "same /64 blocked");
	a = akey("2001:db8:1:3::1");
	CHECK(penalty_blocked(&t, &a, 10) == 0, "next /64 not blocked");
	/* IPv4 by address; mapped equals plain. */
	fail_n(akey("198.51.100.1"), 1, 10);
	fail_n(akey("::ffff:198.51.100.1"), 1, 10);
	a = akey("198.51.100.1");
	CHECK(penalty_blocked(&t, &a, 10) == 10, "v4 blocked");
	a = akey("198.51.100.2");
	CHECK(penalty_blocked(&t, &a, 10) == 0, "neighbour not blocked");
	/* An IPv4 key never equals an IPv6 key with the same first bytes. */
	a = akey("::c633:6401");
	CHECK(penalty_blocked(&t, &a, 10) == 0, "v6 lookalike");

	/* User names: exact, bounded. */
	fail_n(ukey("alice"), 2, 10);
	b = ukey("alice");
	CHECK(penalty_blocked(&t, &b, 10) == 10, "alice blocked");
	b = ukey("Alice");
	CHECK(penalty_blocked(&t, &b, 10) == 0, "case matters");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	b = ukey(longname);
	CHECK(b.len == PENALTY_USER_MAX, "bounded: %u", b.len);
	CHECK(penalty_key_user(&b, "") == 1 && b.len == 0, "empty untracked");
	CHECK(penalty_fail(&t, &b, 10, NULL) == 0 &&
	    penalty_blocked(&t, &b, 10) == 0, "untracked never blocked");

	/* The exempt list. */
	CHECK(ip_addr_list_parse("203.0.113.0/24,2001:db8:ff::/48", 31, &ex,
	    why, sizeof(why)) == 0, "%s", why);
	ip_addr_parse("203.0.113.9", 11, &ip);
	CHECK(penalty_key_addr(&a, &ip, &ex) == 1 && a.len == 0, "exempt");
	fail_n(a, 5, 10);
	CHECK(penalty_admit(&t, &a, 10, NULL) == PENALTY_ALLOW, "never blocked");
	ip_addr_parse("203.0.114.9", 11, &ip);
	CHECK(penalty_key_addr(&a, &ip, &ex) == 0 && a.len == 5, "not exempt");
}

static void
test_table_full(void)
{
	struct penalty_key k;
	char s[32];
	int i;

	penalty_init(&t, slots, 8, 3, 10);
	/* 8 keys with one failure each, the oldest 10.0.0.0. */
	for (i = 0; i < 8; i++) {
		snprintf(s, sizeof(s), "10.0.0.%d", i);
		fail_n(akey(s), 1, 100 + i);
	}
	CHECK(penalty_count(&t, 108) == 8, "8");
	/* A ninth evicts the oldest, which was not blocked. */
	fail_n(akey("10.0.1.1"), 1, 110);
	k = akey("10.0.0.0");
	fail_n(k, 2, 111);
	CHECK(penalty_blocked(&t, &k, 111) == 0,
	    "10.0.0.0 was evicted: 2 failures do not block");
	/* That evicted 10.0.0.1 (the oldest then). Block every key. */
	k = akey("10.0.0.1");
	CHECK(penalty_blocked(&t, &k, 111) == 0 && penalty_count(&t, 111) == 8,
	    "8 keys");
	for (i = 0; i < 8; i++)
		fail_n(slots[i].key, 3, 112);
	for (i = 0; i < 8; i++)
		CHECK(penalty_blocked(&t, &slots[i].key, 112) > 0, "slot %d", i);
	/* Full of blocked keys: a new key is not tracked, none is evicted. */
	k = akey("192.0.2.200");
	CHECK(penalty_fail(&t, &k, 113, NULL) == MOAT_ERR_NOMEM, "full");
	for (i = 0; i < 8; i++)
		CHECK(penalty_blocked(&t, &slots[i].key, 113) > 0 &&
		    slots[i].key.len == 5 && slots[i].key.b[1] == 10,
		    "slot %d kept", i);
	/* Once blocks expire, the oldest can be replaced. */
	CHECK(penalty_fail(&t, &k, 200, NULL) == 0 && penalty_count(&t, 200) == 8,
	    "room again");
}

static void
test_forget_and_off(void)
{
	struct penalty_key k = akey("192.0.2.50");
	struct penalty_status st;

	penalty_init(&t, slots, 8, 3, 10);
	fail_n(k, 2, 1000);
	fail_n(k, 1, 1000 + PENALTY_FORGET);
	CHECK(penalty_blocked(&t, &k, 1000 + PENALTY_FORGET) == 0,
	    "two old failures forgotten");
	st = fail_n(k, 2, 1000 + PENALTY_FORGET + 1);
	CHECK(st.blocked == 10, "three recent failures block");
	/* A key blocked before keeps its level until forgotten. */
	st = fail_n(k, 1, 1000 + PENALTY_FORGET + 20);
	CHECK(st.blocked == 20, "level kept: %lld", (long long)st.blocked);
	st = fail_n(k, 1, 1000 + 2 * PENALTY_FORGET + 100);
	CHECK(st.failures == 1 && st.blocked == 0, "level forgotten");

	penalty_init(&t, slots, 8, 0, 10);
	st = fail_n(k, 50, 1);
	CHECK(st.failures == 0 && st.blocked == 0 &&
	    penalty_admit(&t, &k, 1, NULL) == PENALTY_ALLOW, "off");
	penalty_init(&t, slots, 8, 1, 0);
	CHECK(t.timeout == 1, "timeout clamped up");
	penalty_init(&t, slots, 8, 1, 999999);
	CHECK(t.timeout == PENALTY_MAX_TIMEOUT, "timeout clamped down");
	st = fail_n(k, 1, 1);
	CHECK(st.blocked == PENALTY_MAX_TIMEOUT, "threshold 1 blocks at once");
}

int
main(void)
{
	test_threshold_and_doubling();
	test_keys();
	test_table_full();
	test_forget_and_off();
	return check_summary();
}
