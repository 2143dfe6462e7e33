/*
 * ip_filter.h - the IpClientAddresses rules (which viewer addresses moatd
 * accepts) and the plain address lists such as BlacklistExempt. Runs in
 * moatd (root) on configuration text; pure: no I/O, no allocation.
 *
 * IpClientAddresses grammar: a comma-separated ordered list of rules,
 *   +ADDRESS[/PREFIX]   allow the addresses in this prefix
 *   -ADDRESS[/PREFIX]   deny them
 *   ?ADDRESS[/PREFIX]   allow them, but only after the desktop user
 *                       approved the connection (QueryConnect's prompt,
 *                       even when QueryConnect=no)
 *   +, - or ?           allow / deny / ask for every address
 * IPv4 or IPv6 literals; no PREFIX means the one address (/32, /128).
 * Blanks around a rule are ignored. The first rule that matches decides;
 * an address no rule matches is allowed. An address may not have bits set
 * beyond its prefix, and a rule after a bare '+' or '-' can never match,
 * so both are errors. ('+' lets a connection in without a prompt unless
 * QueryConnect=yes asks for every connection; see docs/access-control.md.)
 * IPv6 rules inside ::ffff:0:0/96 are stored as the IPv4 rules they mean,
 * and IPv4-mapped IPv6 peers are matched as IPv4 (ip_addr_from_sockaddr).
 *
 * An address list (BlacklistExempt) is the same without the sign:
 * a comma-separated list of ADDRESS[/PREFIX].
 */
#ifndef MOAT_IP_FILTER_H
#define MOAT_IP_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#define IP_FILTER_MAX_RULES	64
#define IP_RULE_TEXT_MAX	56	/* "+" + an IPv6 literal + "/128" + NUL */

enum ip_action {
	IP_ACTION_ALLOW = 1,
	IP_ACTION_DENY = 2,
	IP_ACTION_QUERY = 3,	/* allow once the desktop user approved */
};

/* A peer address: IPv4 in a[0..3], IPv6 in a[0..15]. */
struct ip_addr {
	uint8_t family;		/* 4 or 6 */
	uint8_t a[16];
};

struct ip_rule {
	uint8_t action;		/* IP_ACTION_* */
	uint8_t family;		/* 4 or 6; 0: every address (a bare sign) */
	uint8_t prefix;		/* 0..32 or 0..128 */
	uint8_t a[16];		/* no bits set beyond prefix */
};

struct ip_filter {
	unsigned n;
	struct ip_rule rule[IP_FILTER_MAX_RULES];
};

/*
 * Converts a socket address (AF_INET, or AF_INET6 with IPv4-mapped
 * addresses turned into IPv4) into out. Returns 0, or MOAT_ERR_INVALID for
 * another family or a short salen.
 */
int ip_addr_from_sockaddr(const struct sockaddr *sa, size_t salen,
    struct ip_addr *out);

/*
 * Parses an IPv4 or IPv6 literal s[0..n) (not NUL-terminated) into out,
 * IPv4-mapped IPv6 as IPv4. Returns 0 or MOAT_ERR_INVALID.
 */
int ip_addr_parse(const char *s, size_t n, struct ip_addr *out);

/* Writes a's literal (NUL-terminated, at most 46 bytes) into out. */
void ip_addr_format(const struct ip_addr *a, char *out, size_t outlen);

/*
 * Parses IpClientAddresses text[0..len) into f (empty text: no rules).
 * Returns 0, or MOAT_ERR_CONFIG with a message naming the rule (1-based)
 * and the allowed forms in why; f is then empty.
 */
int ip_filter_parse(const char *text, size_t len, struct ip_filter *f,
    char *why, size_t whylen);

/*
 * Parses an address list (ADDRESS[/PREFIX],...) into f, every entry with
 * action IP_ACTION_ALLOW (empty text: no entries). Returns 0, or
 * MOAT_ERR_CONFIG with a message naming the entry (1-based) in why.
 */
int ip_addr_list_parse(const char *text, size_t len, struct ip_filter *f,
    char *why, size_t whylen);

/*
 * Returns the action of the first rule of f that matches a and sets
 * *rule to its index (0-based), or returns IP_ACTION_ALLOW with *rule -1
 * when no rule matches. rule may be NULL.
 */
int ip_filter_match(const struct ip_filter *f, const struct ip_addr *a,
    int *rule);

/* Returns 1 if an entry of the address list f contains a, else 0. */
int ip_addr_list_contains(const struct ip_filter *f, const struct ip_addr *a);

/*
 * Writes rule r as it would be written in IpClientAddresses ("-" or
 * "+10.0.0.0/8"), at most IP_RULE_TEXT_MAX bytes with the NUL.
 */
void ip_rule_format(const struct ip_rule *r, char *out, size_t outlen);

#endif
