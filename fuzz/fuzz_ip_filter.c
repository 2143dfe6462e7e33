/*
 * fuzz_ip_filter.c - libFuzzer target for IpClientAddresses and address
 * lists (policy/ip_filter.c). Test code. The first byte chooses the
 * grammar (even: IpClientAddresses, odd: an address list such as
 * BlacklistExempt), the next 16 are a peer address (IPv6, or IPv4 in the
 * first 4 bytes when the second byte is odd), the rest is the text. A
 * result other than success or MOAT_ERR_CONFIG with a message, a rule set
 * that does not re-format to the same rules, or a match that names a rule
 * that does not match, is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/ip_filter.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[IP_FILTER_MAX_RULES * IP_RULE_TEXT_MAX];
	struct ip_filter f, g;
	struct ip_addr a;
	char why[512], rule[IP_RULE_TEXT_MAX];
	size_t l = 0;
	unsigned i;
	int sign, r, k, act;

	if (size < 18)
		return 0;
	sign = !(data[0] & 1);
	memset(&a, 0, sizeof(a));
	a.family = data[1] & 1 ? 4 : 6;
	memcpy(a.a, data + 2, a.family == 4 ? 4 : 16);
	data += 18;
	size -= 18;
	why[0] = '\0';
	r = sign ? ip_filter_parse((const char *)data, size, &f, why, sizeof(why)) :
	    ip_addr_list_parse((const char *)data, size, &f, why, sizeof(why));
	if (r != 0) {
		if (r != MOAT_ERR_CONFIG || why[0] == '\0' || f.n != 0)
			abort();
		return 0;
	}
	if (f.n > IP_FILTER_MAX_RULES)
		abort();
	for (i = 0; i < f.n; i++) {
		ip_rule_format(&f.rule[i], rule, sizeof(rule));
		if (strlen(rule) >= IP_RULE_TEXT_MAX - 1)
			abort();
		l += (size_t)snprintf(text + l, sizeof(text) - l, "%s%s",
		    i ? "," : "", sign ? rule : rule + 1);
	}
	r = sign ? ip_filter_parse(text, l, &g, why, sizeof(why)) :
	    ip_addr_list_parse(text, l, &g, why, sizeof(why));
	if (r != 0 || memcmp(&f, &g, sizeof(f)) != 0)
		abort();
	act = ip_filter_match(&f, &a, &k);
	if (k < -1 || k >= (int)f.n || (k == -1 && act != IP_ACTION_ALLOW) ||
	    (k >= 0 && act != f.rule[k].action))
		abort();
	if ((k >= 0) != ip_addr_list_contains(&f, &a))
		abort();
	return 0;
}
