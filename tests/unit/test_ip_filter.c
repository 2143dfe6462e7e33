/*
 * test_ip_filter.c - unit tests for IpClientAddresses and address lists
 * (policy/ip_filter.c): the grammar with its exact error messages, first
 * match wins, the default, IPv4 and IPv6 prefixes, IPv4-mapped peers, and
 * a deterministic mutation of known-good texts (every truncation, every
 * bit flip of every byte) whose results must parse cleanly or fail with a
 * message, and re-format to text that parses to the same rules. Test code.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "policy/ip_filter.h"
#include "privsep/errors.h"

#include "check.h"

static struct ip_filter f;
static char why[512];

static int
parse(const char *s)
{
	return ip_filter_parse(s, strlen(s), &f, why, sizeof(why));
}

static struct ip_addr
addr(const char *s)
{
	struct ip_addr a;

	if (ip_addr_parse(s, strlen(s), &a) != 0)
		memset(&a, 0xee, sizeof(a));
	return a;
}

/* The action for s and the 1-based rule that decided (0: the default). */
static int
match(const char *s, int *rule)
{
	struct ip_addr a = addr(s);
	int i, act;

	act = ip_filter_match(&f, &a, &i);
	*rule = i + 1;
	return act;
}

static void
expect_error(const char *text, const char *msg)
{
	int r = parse(text);

	CHECK(r == MOAT_ERR_CONFIG, "'%s' parsed", text);
	CHECK(strcmp(why, msg) == 0, "'%s': got \"%s\", want \"%s\"", text,
	    why, msg);
	CHECK(f.n == 0, "'%s': rules left after an error", text);
}

static void
test_grammar(void)
{
	char txt[IP_RULE_TEXT_MAX];

	CHECK(parse("") == 0 && f.n == 0, "empty: %s", why);
	CHECK(parse("  \t ") == 0 && f.n == 0, "blank: %s", why);
	CHECK(parse("+192.168.0.0/16, -10.1.2.3 ,+2001:db8::/32,-") == 0 &&
	    f.n == 4, "%s", why);
	CHECK(f.rule[0].action == IP_ACTION_ALLOW && f.rule[0].family == 4 &&
	    f.rule[0].prefix == 16, "rule 1");
	CHECK(f.rule[1].action == IP_ACTION_DENY && f.rule[1].prefix == 32,
	    "rule 2");
	CHECK(f.rule[2].family == 6 && f.rule[2].prefix == 32, "rule 3");
	CHECK(f.rule[3].family == 0 && f.rule[3].action == IP_ACTION_DENY,
	    "rule 4");
	ip_rule_format(&f.rule[0], txt, sizeof(txt));
	CHECK(strcmp(txt, "+192.168.0.0/16") == 0, "%s", txt);
	ip_rule_format(&f.rule[1], txt, sizeof(txt));
	CHECK(strcmp(txt, "-10.1.2.3") == 0, "%s", txt);
	ip_rule_format(&f.rule[2], txt, sizeof(txt));
	CHECK(strcmp(txt, "+2001:db8::/32") == 0, "%s", txt);
	ip_rule_format(&f.rule[3], txt, sizeof(txt));
	CHECK(strcmp(txt, "-") == 0, "%s", txt);

	/* IPv4-mapped rules mean IPv4. */
	CHECK(parse("-::ffff:10.0.0.0/104") == 0 && f.rule[0].family == 4 &&
	    f.rule[0].prefix == 8, "%s", why);
	CHECK(parse("+::ffff:127.0.0.1") == 0 && f.rule[0].family == 4 &&
	    f.rule[0].prefix == 32, "%s", why);
	CHECK(parse("+0.0.0.0/0,+::/0") == 0 && f.n == 2, "%s", why);

	expect_error("+1.2.3.4,,-", "rule 2 is empty; allowed: "
	    "+ADDRESS[/PREFIX], -ADDRESS[/PREFIX], ?ADDRESS[/PREFIX], +, - "
	    "or ?");
	expect_error("+1.2.3.4,", "rule 2 is empty; allowed: "
	    "+ADDRESS[/PREFIX], -ADDRESS[/PREFIX], ?ADDRESS[/PREFIX], +, - "
	    "or ?");
	/* '?': ask the desktop user (QueryConnect) for these addresses. */
	CHECK(parse("?192.168.1.0/24,+10.0.0.0/8,?") == 0 && f.n == 3 &&
	    f.rule[0].action == IP_ACTION_QUERY && f.rule[0].prefix == 24 &&
	    f.rule[1].action == IP_ACTION_ALLOW &&
	    f.rule[2].action == IP_ACTION_QUERY && f.rule[2].family == 0,
	    "%s", why);
	CHECK(parse("?::1") == 0 && f.rule[0].action == IP_ACTION_QUERY &&
	    f.rule[0].family == 6 && f.rule[0].prefix == 128, "%s", why);
	expect_error("?,-", "rule 2 '-' can never match: rule 1 '?' before "
	    "it matches every address");
	expect_error("?10.0.0.1/8", "rule 1 '?10.0.0.1/8': the address has "
	    "bits set beyond the /8 prefix (the network is 10.0.0.0/8)");
	expect_error("??10.0.0.0/8", "rule 1 '??10.0.0.0/8': '?10.0.0.0' is "
	    "not an IPv4 or IPv6 address");
	expect_error("10.0.0.1", "rule 1 '10.0.0.1' does not start with '+', "
	    "'-' or '?'; allowed: +ADDRESS[/PREFIX], -ADDRESS[/PREFIX], "
	    "?ADDRESS[/PREFIX], +, - or ?");
	expect_error("+example.com", "rule 1 '+example.com': 'example.com' "
	    "is not an IPv4 or IPv6 address");
	expect_error("+10.0.0.0/33", "rule 1 '+10.0.0.0/33': the prefix "
	    "length must be a number 0..32 for IPv4");
	expect_error("+::1/129", "rule 1 '+::1/129': the prefix length must "
	    "be a number 0..128 for IPv6");
	expect_error("+10.0.0.0/", "rule 1 '+10.0.0.0/': the prefix length "
	    "must be a number 0..32 for IPv4");
	expect_error("+10.0.0.0/08", "rule 1 '+10.0.0.0/08': the prefix "
	    "length must be a number 0..32 for IPv4");
	expect_error("+10.0.0.0/+8", "rule 1 '+10.0.0.0/+8': the prefix "
	    "length must be a number 0..32 for IPv4");
	expect_error("+10.1.2.3/8", "rule 1 '+10.1.2.3/8': the address has "
	    "bits set beyond the /8 prefix (the network is 10.0.0.0/8)");
	expect_error("-2001:db8::1/64", "rule 1 '-2001:db8::1/64': the "
	    "address has bits set beyond the /64 prefix (the network is "
	    "2001:db8::/64)");
	expect_error("-::ffff:10.1.0.0/104", "rule 1 '-::ffff:10.1.0.0/104': "
	    "the address has bits set beyond the /104 prefix (the network is "
	    "10.0.0.0/8)");
	expect_error("+,-10.0.0.1", "rule 2 '-10.0.0.1' can never match: "
	    "rule 1 '+' before it matches every address");
	expect_error("-,-", "rule 2 '-' can never match: rule 1 '-' before "
	    "it matches every address");
	expect_error("+1.2.3.4 5", "rule 1 '+1.2.3.4 5': '1.2.3.4 5' is not "
	    "an IPv4 or IPv6 address");
	expect_error("+\x1b[2J", "rule 1 '+\\x1b[2J': '\\x1b[2J' is not an "
	    "IPv4 or IPv6 address");
	{
		char big[64 * 12 + 32];
		size_t i, l = 0;

		for (i = 0; i < 65; i++)
			l += (size_t)snprintf(big + l, sizeof(big) - l, "%s+10.0.%zu.1",
			    i ? "," : "", i);
		expect_error(big, "more than 64 rules");
		big[strrchr(big, ',') - big] = '\0';
		CHECK(parse(big) == 0 && f.n == 64, "64 rules: %s", why);
	}
}

static void
test_match(void)
{
	int rule, act;

	CHECK(parse("") == 0, "%s", why);
	CHECK(match("192.0.2.1", &rule) == IP_ACTION_ALLOW && rule == 0,
	    "default allow");
	CHECK(parse("+192.168.1.0/24,-192.168.0.0/16,-10.0.0.1,"
	    "+2001:db8:1::/48,-2001:db8::/32") == 0, "%s", why);
	CHECK(match("192.168.1.77", &rule) == IP_ACTION_ALLOW && rule == 1, "x");
	CHECK(match("192.168.2.77", &rule) == IP_ACTION_DENY && rule == 2, "x");
	CHECK(match("10.0.0.1", &rule) == IP_ACTION_DENY && rule == 3, "x");
	CHECK(match("10.0.0.2", &rule) == IP_ACTION_ALLOW && rule == 0, "x");
	CHECK(match("2001:db8:1:ffff::9", &rule) == IP_ACTION_ALLOW &&
	    rule == 4, "x");
	CHECK(match("2001:db8:2::9", &rule) == IP_ACTION_DENY && rule == 5, "x");
	CHECK(match("2001:db9::1", &rule) == IP_ACTION_ALLOW && rule == 0, "x");
	/* An IPv4 rule never matches an IPv6 peer, nor the reverse. */
	CHECK(parse("-0.0.0.0/0") == 0, "%s", why);
	CHECK(match("::1", &rule) == IP_ACTION_ALLOW && rule == 0, "x");
	CHECK(match("::ffff:1.2.3.4", &rule) == IP_ACTION_DENY && rule == 1,
	    "mapped peer matched as IPv4");
	CHECK(parse("-::/0") == 0, "%s", why);
	CHECK(match("127.0.0.1", &rule) == IP_ACTION_ALLOW, "x");
	CHECK(match("fe80::1", &rule) == IP_ACTION_DENY, "x");
	/* Prefix lengths that are not multiples of 8. */
	CHECK(parse("-172.16.0.0/12,+") == 0, "%s", why);
	CHECK(match("172.31.255.255", &rule) == IP_ACTION_DENY, "x");
	CHECK(match("172.32.0.0", &rule) == IP_ACTION_ALLOW && rule == 2, "x");
	CHECK(match("172.15.255.255", &rule) == IP_ACTION_ALLOW, "x");
	/* The allow-then-deny-all shape. */
	CHECK(parse("+127.0.0.1,+::1,-") == 0, "%s", why);
	CHECK(match("127.0.0.1", &rule) == IP_ACTION_ALLOW && rule == 1, "x");
	CHECK(match("::1", &rule) == IP_ACTION_ALLOW && rule == 2, "x");
	act = match("127.0.0.2", &rule);
	CHECK(act == IP_ACTION_DENY && rule == 3, "x");
	/* '?': the first match decides, asking is its own action. */
	CHECK(parse("+127.0.0.1,?127.0.0.0/8,-10.0.0.0/8,?") == 0, "%s", why);
	CHECK(match("127.0.0.1", &rule) == IP_ACTION_ALLOW && rule == 1, "x");
	CHECK(match("127.0.0.2", &rule) == IP_ACTION_QUERY && rule == 2, "x");
	CHECK(match("10.1.2.3", &rule) == IP_ACTION_DENY && rule == 3, "x");
	CHECK(match("192.0.2.1", &rule) == IP_ACTION_QUERY && rule == 4, "x");
	CHECK(match("::1", &rule) == IP_ACTION_QUERY && rule == 4, "x");
	{
		char t[IP_RULE_TEXT_MAX];

		ip_rule_format(&f.rule[1], t, sizeof(t));
		CHECK(strcmp(t, "?127.0.0.0/8") == 0, "%s", t);
		ip_rule_format(&f.rule[3], t, sizeof(t));
		CHECK(strcmp(t, "?") == 0, "%s", t);
	}
}

static void
test_sockaddr(void)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	struct ip_addr a;
	char txt[64];

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	inet_pton(AF_INET, "198.51.100.7", &s4.sin_addr);
	CHECK(ip_addr_from_sockaddr((struct sockaddr *)&s4, sizeof(s4), &a) == 0 &&
	    a.family == 4, "v4");
	ip_addr_format(&a, txt, sizeof(txt));
	CHECK(strcmp(txt, "198.51.100.7") == 0, "%s", txt);
	CHECK(ip_addr_from_sockaddr((struct sockaddr *)&s4, sizeof(s4) - 1, &a) ==
	    MOAT_ERR_INVALID, "short");
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:198.51.100.7", &s6.sin6_addr);
	CHECK(ip_addr_from_sockaddr((struct sockaddr *)&s6, sizeof(s6), &a) == 0 &&
	    a.family == 4, "mapped");
	ip_addr_format(&a, txt, sizeof(txt));
	CHECK(strcmp(txt, "198.51.100.7") == 0, "%s", txt);
	inet_pton(AF_INET6, "2001:db8::5", &s6.sin6_addr);
	CHECK(ip_addr_from_sockaddr((struct sockaddr *)&s6, sizeof(s6), &a) == 0 &&
	    a.family == 6, "v6");
	ip_addr_format(&a, txt, sizeof(txt));
	CHECK(strcmp(txt, "2001:db8::5") == 0, "%s", txt);
	s6.sin6_family = AF_UNIX;
	CHECK(ip_addr_from_sockaddr((struct sockaddr *)&s6, sizeof(s6), &a) ==
	    MOAT_ERR_INVALID, "family");
	CHECK(ip_addr_parse("1.2.3.4\0", 8, &a) == MOAT_ERR_INVALID, "NUL");
}

static void
test_list(void)
{
	struct ip_addr a;

	CHECK(ip_addr_list_parse("", 0, &f, why, sizeof(why)) == 0 && f.n == 0,
	    "%s", why);
	a = addr("10.1.1.1");
	CHECK(!ip_addr_list_contains(&f, &a), "empty list contains");
	CHECK(ip_addr_list_parse("10.0.0.0/8, 2001:db8::/64,192.0.2.9", 35,
	    &f, why, sizeof(why)) == 0 && f.n == 3, "%s", why);
	CHECK(ip_addr_list_contains(&f, &a), "10/8");
	a = addr("2001:db8::abcd");
	CHECK(ip_addr_list_contains(&f, &a), "2001:db8::/64");
	a = addr("2001:db8:0:1::1");
	CHECK(!ip_addr_list_contains(&f, &a), "outside the /64");
	a = addr("192.0.2.9");
	CHECK(ip_addr_list_contains(&f, &a), "host");
	a = addr("192.0.2.8");
	CHECK(!ip_addr_list_contains(&f, &a), "neighbour");
	CHECK(ip_addr_list_parse("+10.0.0.0/8", 11, &f, why, sizeof(why)) ==
	    MOAT_ERR_CONFIG && strcmp(why, "entry 1 '+10.0.0.0/8': "
	    "'+10.0.0.0' is not an IPv4 or IPv6 address") == 0, "%s", why);
	CHECK(ip_addr_list_parse("10.0.0.1,", 9, &f, why, sizeof(why)) ==
	    MOAT_ERR_CONFIG && strcmp(why, "entry 2 is empty; allowed: "
	    "ADDRESS[/PREFIX]") == 0, "%s", why);
}

/* Parses s; if it parses, its re-formatted rules parse to the same rules. */
static int
round_trip(const char *s, size_t n, int signed_)
{
	struct ip_filter a, b;
	char text[IP_FILTER_MAX_RULES * IP_RULE_TEXT_MAX], rule[IP_RULE_TEXT_MAX];
	size_t l = 0;
	unsigned i;
	int r;

	why[0] = '\0';
	r = signed_ ? ip_filter_parse(s, n, &a, why, sizeof(why)) :
	    ip_addr_list_parse(s, n, &a, why, sizeof(why));
	if (r != 0)
		return r == MOAT_ERR_CONFIG && why[0] != '\0' && a.n == 0;
	for (i = 0; i < a.n; i++) {
		ip_rule_format(&a.rule[i], rule, sizeof(rule));
		l += (size_t)snprintf(text + l, sizeof(text) - l, "%s%s",
		    i ? "," : "", signed_ ? rule : rule + 1);
	}
	r = signed_ ? ip_filter_parse(text, l, &b, why, sizeof(why)) :
	    ip_addr_list_parse(text, l, &b, why, sizeof(why));
	return r == 0 && memcmp(&a, &b, sizeof(a)) == 0;
}

static void
test_mutation(void)
{
	static const char *const good[] = {
		"+192.168.1.0/24,-192.168.0.0/16,+2001:db8::/32,-",
		"-10.0.0.1, +::ffff:10.0.0.0/104 ,-fe80::/10,+",
		"+127.0.0.1,+::1,-",
	};
	char m[128];
	size_t g, i, n;
	unsigned bit, bad = 0;

	for (g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
		n = strlen(good[g]);
		CHECK(round_trip(good[g], n, 1), "good %zu: %s", g, why);
		for (i = 0; i <= n; i++)
			bad += !round_trip(good[g], i, 1);
		for (i = 0; i < n; i++)
			for (bit = 0; bit < 8; bit++) {
				memcpy(m, good[g], n);
				m[i] ^= (char)(1u << bit);
				bad += !round_trip(m, n, 1);
				bad += !round_trip(m, n, 0);
			}
	}
	CHECK(bad == 0, "%u mutations did not parse or fail cleanly", bad);
}

int
main(void)
{
	test_grammar();
	test_match();
	test_sockaddr();
	test_list();
	test_mutation();
	return check_summary();
}
