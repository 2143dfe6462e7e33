/*
 * ip_filter.c - parsing and matching of IpClientAddresses and of address
 * lists (BlacklistExempt); see ip_filter.h for the grammar.
 *
 * Runs in moatd (root): the text comes from root-owned configuration
 * files, matching from accept(2). The text is parsed as if it were
 * hostile: every piece is bounded before it is copied, and what an error
 * message quotes is escaped and cut short. Pure (no I/O, no allocation),
 * so it is fuzzed directly (fuzz/fuzz_ip_filter.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "ip_filter.h"

#define QUOTE_MAX	64	/* input bytes quoted in a message */
#define RULE_FORMS	"+ADDRESS[/PREFIX], -ADDRESS[/PREFIX], " \
			"?ADDRESS[/PREFIX], +, - or ?"
#define ENTRY_FORMS	"ADDRESS[/PREFIX]"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int
ip_addr_from_sockaddr(const struct sockaddr *sa, size_t salen,
    struct ip_addr *out)
{
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;

	memset(out, 0, sizeof(*out));
	if (sa == NULL)
		return MOAT_ERR_INVALID;
	if (sa->sa_family == AF_INET && salen >= sizeof(*s4)) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		out->family = 4;
		memcpy(out->a, &s4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= sizeof(*s6)) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (memcmp(&s6->sin6_addr, v4mapped, sizeof(v4mapped)) == 0) {
			out->family = 4;
			memcpy(out->a, (const uint8_t *)&s6->sin6_addr + 12, 4);
		} else {
			out->family = 6;
			memcpy(out->a, &s6->sin6_addr, 16);
		}
		return 0;
	}
	return MOAT_ERR_INVALID;
}

int
ip_addr_parse(const char *s, size_t n, struct ip_addr *out)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	uint8_t a[16];

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(tmp) || memchr(s, '\0', n) != NULL)
		return MOAT_ERR_INVALID;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, a) == 1) {
		out->family = 4;
		memcpy(out->a, a, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, a) == 1) {
		if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
			out->family = 4;
			memcpy(out->a, a + 12, 4);
		} else {
			out->family = 6;
			memcpy(out->a, a, 16);
		}
		return 0;
	}
	return MOAT_ERR_INVALID;
}

void
ip_addr_format(const struct ip_addr *a, char *out, size_t outlen)
{
	char tmp[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, tmp,
	    sizeof(tmp)) == NULL)
		snprintf(tmp, sizeof(tmp), "?");
	snprintf(out, outlen, "%s", tmp);
}

/* Returns 1 if the first prefix bits of x and y are equal. */
static int
prefix_equal(const uint8_t *x, const uint8_t *y, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	uint8_t mask;

	if (memcmp(x, y, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (x[full] & mask) == (y[full] & mask);
}

/* Clears the bits of a beyond prefix (a holds 16 bytes). */
static void
mask_to(uint8_t *a, unsigned prefix, unsigned width)
{
	unsigned i;

	for (i = prefix; i < width; i++)
		a[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Escapes at most QUOTE_MAX bytes of p[0..n) into dst, marking a cut. */
static const char *
quote(char *dst, size_t dstlen, const char *p, size_t n)
{
	size_t cut = n > QUOTE_MAX ? QUOTE_MAX : n, l;

	log_escape(dst, dstlen, p, cut);
	if (cut < n && (l = strlen(dst)) + 4 <= dstlen)
		memcpy(dst + l, "...", 4);
	return dst;
}

/*
 * Parses ADDRESS[/PREFIX] p[0..n) into r's family, prefix and address.
 * what/idx/item name the rule for messages ("rule 3 '+x'").
 */
static int
parse_prefix(const char *p, size_t n, struct ip_rule *r, const char *what,
    unsigned idx, const char *item, char *why, size_t whylen)
{
	const char *slash = memchr(p, '/', n);
	size_t alen = slash != NULL ? (size_t)(slash - p) : n, i, plen;
	struct ip_addr a;
	char q[QUOTE_MAX * 4 + 8], net[INET6_ADDRSTRLEN];
	uint8_t raw[16];
	unsigned width, prefix, given, mapped = 0;

	if (ip_addr_parse(p, alen, &a) != 0)
		return moat_config_error(why, whylen, "%s %u '%s': '%s' is not "
		    "an IPv4 or IPv6 address", what, idx, item,
		    quote(q, sizeof(q), p, alen));
	/* An IPv4-mapped literal: its prefix counts in IPv6 bits. */
	if (a.family == 4 && memchr(p, ':', alen) != NULL)
		mapped = 1;
	width = a.family == 4 && !mapped ? 32 : 128;
	prefix = width;
	if (slash != NULL) {
		plen = n - alen - 1;
		if (plen == 0 || plen > 3)
			goto badprefix;
		for (i = 0, prefix = 0; i < plen; i++) {
			if (slash[1 + i] < '0' || slash[1 + i] > '9')
				goto badprefix;
			prefix = prefix * 10 + (unsigned)(slash[1 + i] - '0');
		}
		if (prefix > width || (plen > 1 && slash[1] == '0'))
			goto badprefix;
	}
	given = prefix;
	if (mapped && prefix < 96) {
		/* Wider than the IPv4-mapped range: an IPv6 rule after all. */
		a.family = 6;
		memmove(a.a + 12, a.a, 4);
		memcpy(a.a, v4mapped, sizeof(v4mapped));
	} else if (mapped)
		prefix -= 96;
	width = a.family == 4 ? 32 : 128;
	memcpy(raw, a.a, sizeof(raw));
	mask_to(a.a, prefix, width);
	if (memcmp(raw, a.a, sizeof(raw)) != 0) {
		ip_addr_format(&a, net, sizeof(net));
		return moat_config_error(why, whylen, "%s %u '%s': the address "
		    "has bits set beyond the /%u prefix (the network is %s/%u)",
		    what, idx, item, given, net, prefix);
	}
	r->family = a.family;
	r->prefix = (uint8_t)prefix;
	memcpy(r->a, a.a, sizeof(r->a));
	return 0;
badprefix:
	return moat_config_error(why, whylen, "%s %u '%s': the prefix length "
	    "must be a number 0..%u for %s", what, idx, item, width,
	    width == 32 ? "IPv4" : "IPv6");
}

/* The rules of IpClientAddresses (signed) or of an address list. */
static int
parse_list(const char *text, size_t len, struct ip_filter *f, int signed_,
    char *why, size_t whylen)
{
	const char *what = signed_ ? "rule" : "entry";
	const char *forms = signed_ ? RULE_FORMS : ENTRY_FORMS;
	char q[QUOTE_MAX * 4 + 8];
	size_t start = 0, i, n;
	unsigned idx = 0;
	int r, all = -1;

	memset(f, 0, sizeof(*f));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (text == NULL && len != 0)
		return moat_config_error(why, whylen, "no text");
	for (i = 0; i < len; i++)
		if (!is_blank(text[i]))
			break;
	if (i == len)
		return 0;	/* empty: no rules */
	for (i = 0; i <= len; i++) {
		const char *p;
		struct ip_rule rule;

		if (i < len && text[i] != ',')
			continue;
		p = text + start;
		n = i - start;
		start = i + 1;
		idx++;
		while (n > 0 && is_blank(p[0])) {
			p++;
			n--;
		}
		while (n > 0 && is_blank(p[n - 1]))
			n--;
		if (n == 0) {
			r = moat_config_error(why, whylen, "%s %u is empty; "
			    "allowed: %s", what, idx, forms);
			goto fail;
		}
		quote(q, sizeof(q), p, n);
		if (idx > IP_FILTER_MAX_RULES) {
			r = moat_config_error(why, whylen, "more than %d %ss",
			    IP_FILTER_MAX_RULES, what);
			goto fail;
		}
		memset(&rule, 0, sizeof(rule));
		if (signed_) {
			if (p[0] != '+' && p[0] != '-' && p[0] != '?') {
				r = moat_config_error(why, whylen, "rule %u '%s' "
				    "does not start with '+', '-' or '?'; "
				    "allowed: %s", idx, q, forms);
				goto fail;
			}
			if (all >= 0) {
				r = moat_config_error(why, whylen, "rule %u '%s' "
				    "can never match: rule %d '%c' before it "
				    "matches every address", idx, q, all + 1,
				    f->rule[all].action == IP_ACTION_ALLOW ?
				    '+' : f->rule[all].action == IP_ACTION_DENY ?
				    '-' : '?');
				goto fail;
			}
			rule.action = p[0] == '+' ? IP_ACTION_ALLOW :
			    p[0] == '-' ? IP_ACTION_DENY : IP_ACTION_QUERY;
			p++;
			n--;
			if (n == 0)
				all = (int)f->n;	/* a bare sign: every address */
			else if ((r = parse_prefix(p, n, &rule, what, idx, q, why,
			    whylen)) != 0)
				goto fail;
		} else {
			rule.action = IP_ACTION_ALLOW;
			if ((r = parse_prefix(p, n, &rule, what, idx, q, why,
			    whylen)) != 0)
				goto fail;
		}
		f->rule[f->n++] = rule;
	}
	return 0;
fail:
	memset(f, 0, sizeof(*f));
	return r;
}

int
ip_filter_parse(const char *text, size_t len, struct ip_filter *f,
    char *why, size_t whylen)
{
	return parse_list(text, len, f, 1, why, whylen);
}

int
ip_addr_list_parse(const char *text, size_t len, struct ip_filter *f,
    char *why, size_t whylen)
{
	return parse_list(text, len, f, 0, why, whylen);
}

static int
rule_matches(const struct ip_rule *r, const struct ip_addr *a)
{
	if (r->family == 0)
		return 1;
	return r->family == a->family && prefix_equal(r->a, a->a, r->prefix);
}

int
ip_filter_match(const struct ip_filter *f, const struct ip_addr *a,
    int *rule)
{
	unsigned i;

	for (i = 0; i < f->n && i < IP_FILTER_MAX_RULES; i++) {
		if (rule_matches(&f->rule[i], a)) {
			if (rule != NULL)
				*rule = (int)i;
			return f->rule[i].action;
		}
	}
	if (rule != NULL)
		*rule = -1;
	return IP_ACTION_ALLOW;
}

int
ip_addr_list_contains(const struct ip_filter *f, const struct ip_addr *a)
{
	unsigned i;

	for (i = 0; i < f->n && i < IP_FILTER_MAX_RULES; i++)
		if (rule_matches(&f->rule[i], a))
			return 1;
	return 0;
}

void
ip_rule_format(const struct ip_rule *r, char *out, size_t outlen)
{
	struct ip_addr a;
	char lit[INET6_ADDRSTRLEN];
	const char *sign = r->action == IP_ACTION_DENY ? "-" :
	    r->action == IP_ACTION_ALLOW ? "+" : "?";

	if (r->family == 0) {
		snprintf(out, outlen, "%s", sign);
		return;
	}
	a.family = r->family;
	memcpy(a.a, r->a, sizeof(a.a));
	ip_addr_format(&a, lit, sizeof(lit));
	if (r->prefix == (r->family == 4 ? 32 : 128))
		snprintf(out, outlen, "%s%s", sign, lit);
	else
		snprintf(out, outlen, "%s%s/%u", sign, lit, r->prefix);
}
