/*
 * auth_methods.c - parser of the "Authentication" parameter (see
 * auth_methods.h). Runs in moatd and moatctl (root). The text comes from
 * root-owned configuration files but is parsed as if hostile: bounded,
 * pure (no I/O, no allocation), every quoted piece escaped and cut short.
 */
#include <stdio.h>
#include <string.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "auth_methods.h"

#define QUOTE_MAX	48	/* input bytes quoted in a message */

struct scheme {
	const char *name;
	/*
	 * What the viewer must present beyond answers to prompts
	 * (AUTH_NEED_*): an alternative applies to a viewer that has all of
	 * its schemes' needs.
	 */
	unsigned needs;
};

/* Indexed by enum auth_scheme. */
static const struct scheme schemes[] = {
	[AUTH_SCHEME_SYSTEM] = { "SystemAuth", 0 },
	[AUTH_SCHEME_RADIUS] = { "Radius", 0 },
	[AUTH_SCHEME_VNC_PASSWORD] = { "VncPassword", 0 },
	[AUTH_SCHEME_CERTIFICATE] = { "Certificate", AUTH_NEED_CERTIFICATE },
	[AUTH_SCHEME_KERBEROS] = { "Kerberos", AUTH_NEED_KERBEROS },
};
#define NSCHEMES (sizeof(schemes) / sizeof(schemes[0]))

const char *
auth_scheme_name(unsigned s)
{
	return s > 0 && s < NSCHEMES && schemes[s].name != NULL ?
	    schemes[s].name : "?";
}

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static char
lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* Index of the scheme named p[0..n) (ASCII case-insensitive), or 0. */
static unsigned
lookup(const char *p, size_t n)
{
	unsigned s;
	size_t i;

	for (s = 1; s < NSCHEMES; s++) {
		const char *name = schemes[s].name;

		if (name == NULL || strlen(name) != n)
			continue;
		for (i = 0; i < n && lower(p[i]) == lower(name[i]); i++)
			;
		if (i == n)
			return s;
	}
	return 0;
}

static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && is_blank((*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_blank((*p)[*n - 1]))
		(*n)--;
}

static const char *
quote(char *dst, size_t dstlen, const char *p, size_t n)
{
	size_t cut = n > QUOTE_MAX ? QUOTE_MAX : n, l;

	log_escape(dst, dstlen, p, cut);
	if (cut < n && (l = strlen(dst)) + 4 <= dstlen)
		memcpy(dst + l, "...", 4);
	return dst;
}

/* Writes "<pre>'<quoted p[0..n)>'<post>" (the quote only if n > 0). */
static int
fail(char *err, size_t errlen, const char *pre, const char *p, size_t n,
    const char *post)
{
	char q[QUOTE_MAX * 4 + 8];

	if (err != NULL && errlen > 0) {
		if (n > 0)
			snprintf(err, errlen, "%s'%s'%s", pre,
			    quote(q, sizeof(q), p, n), post);
		else
			snprintf(err, errlen, "%s%s", pre, post);
	}
	return MOAT_ERR_CONFIG;
}

unsigned
auth_alternative_needs(const struct auth_alternative *a)
{
	unsigned i, needs = 0;

	for (i = 0; i < a->n; i++)
		needs |= schemes[a->factor[i]].needs;
	return needs;
}

static int
auth_methods_uses_one(const struct auth_alternative *a, unsigned s)
{
	unsigned k;

	for (k = 0; k < a->n && k < AUTH_MAX_FACTORS; k++)
		if (a->factor[k] == s)
			return 1;
	return 0;
}

/* Parses one alternative p[0..n) ("SystemAuth+Radius") into *a. */
static int
parse_alternative(const char *p, size_t n, struct auth_alternative *a,
    char *err, size_t errlen)
{
	const char *f;
	size_t start = 0, i, fn;
	unsigned s, k;

	trim(&p, &n);
	if (n == 0)
		return fail(err, errlen, "empty alternative (two commas, or "
		    "a comma at either end)", "", 0, "");
	memset(a, 0, sizeof(*a));
	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != '+')
			continue;
		f = p + start;
		fn = i - start;
		start = i + 1;
		trim(&f, &fn);
		if (fn == 0)
			return fail(err, errlen, "empty factor in ", p, n,
			    " (a '+' with no scheme beside it)");
		if ((s = lookup(f, fn)) == 0)
			return fail(err, errlen, "unknown scheme ", f, fn,
			    "; allowed: " AUTH_SCHEME_LIST);
		for (k = 0; k < a->n; k++) {
			if (a->factor[k] == s) {
				char q[QUOTE_MAX * 4 + 8];

				if (err != NULL && errlen > 0)
					snprintf(err, errlen, "%s appears "
					    "twice in '%s'", schemes[s].name,
					    quote(q, sizeof(q), p, n));
				return MOAT_ERR_CONFIG;
			}
		}
		if (a->n == AUTH_MAX_FACTORS)
			return fail(err, errlen, "more than 3 factors in ", p,
			    n, "");
		a->factor[a->n++] = (uint8_t)s;
	}
	/* The SASL exchange carries no questions: nothing can follow it. */
	if (a->n > 1 && auth_methods_uses_one(a, AUTH_SCHEME_KERBEROS))
		return fail(err, errlen, "Kerberos must be an alternative of "
		    "its own, not a factor with others, in ", p, n, "");
	return 0;
}

int
auth_methods_parse(const char *text, size_t len, struct auth_methods *out,
    char *err, size_t errlen)
{
	struct auth_methods m;
	size_t start = 0, i, k;
	char a1[AUTH_METHODS_TEXT_MAX], a2[AUTH_METHODS_TEXT_MAX];
	struct auth_methods one;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL || len == 0)
		return fail(err, errlen, "no scheme given; allowed: "
		    AUTH_SCHEME_LIST ", joined with '+' (all must pass) and "
		    "',' (alternatives)", "", 0, "");
	if (memchr(text, '\0', len) != NULL)
		return fail(err, errlen, "NUL byte in value", "", 0, "");
	memset(&m, 0, sizeof(m));
	for (i = 0; i <= len; i++) {
		if (i < len && text[i] != ',')
			continue;
		if (m.n == AUTH_MAX_ALTERNATIVES)
			return fail(err, errlen, "more than 4 alternatives in ",
			    text, len, "");
		if ((r = parse_alternative(text + start, i - start,
		    &m.alt[m.n], err, errlen)) != 0)
			return r;
		m.n++;
		start = i + 1;
	}
	/*
	 * A connection uses the first alternative whose needs the viewer
	 * meets; a later one whose needs include an earlier one's is never
	 * reached (that includes a repeated alternative). Kerberos
	 * alternatives are chosen by the security type, apart from the rest.
	 */
	for (i = 1; i < m.n; i++) {
		for (k = 0; k < i; k++) {
			unsigned ni = auth_alternative_needs(&m.alt[i]);
			unsigned nk = auth_alternative_needs(&m.alt[k]);

			if ((nk & ni) != nk ||
			    ((ni ^ nk) & AUTH_NEED_KERBEROS) != 0)
				continue;
			one.n = 1;
			one.alt[0] = m.alt[i];
			(void)auth_methods_format(&one, a1, sizeof(a1));
			one.alt[0] = m.alt[k];
			(void)auth_methods_format(&one, a2, sizeof(a2));
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "alternative '%s' can "
				    "never be used: '%s' before it applies to "
				    "every viewer it would", a1, a2);
			return MOAT_ERR_CONFIG;
		}
	}
	*out = m;
	return 0;
}

int
auth_methods_format(const struct auth_methods *m, char *buf, size_t buflen)
{
	size_t used = 0, i, k;
	int w;

	if (buflen == 0)
		return MOAT_ERR_TOO_LONG;
	buf[0] = '\0';
	for (i = 0; i < m->n && i < AUTH_MAX_ALTERNATIVES; i++) {
		for (k = 0; k < m->alt[i].n && k < AUTH_MAX_FACTORS; k++) {
			w = snprintf(buf + used, buflen - used, "%s%s",
			    k > 0 ? "+" : i > 0 ? "," : "",
			    auth_scheme_name(m->alt[i].factor[k]));
			if (w < 0 || (size_t)w >= buflen - used)
				return MOAT_ERR_TOO_LONG;
			used += (size_t)w;
		}
	}
	return 0;
}

int
auth_methods_uses(const struct auth_methods *m, unsigned s)
{
	size_t i;

	for (i = 0; i < m->n && i < AUTH_MAX_ALTERNATIVES; i++)
		if (auth_methods_uses_one(&m->alt[i], s))
			return 1;
	return 0;
}

const struct auth_alternative *
auth_methods_select(const struct auth_methods *m, unsigned have)
{
	unsigned needs;
	size_t i;

	for (i = 0; i < m->n && i < AUTH_MAX_ALTERNATIVES; i++) {
		needs = auth_alternative_needs(&m->alt[i]);
		if ((needs & have) == needs &&
		    (needs & AUTH_NEED_KERBEROS) == (have & AUTH_NEED_KERBEROS))
			return &m->alt[i];
	}
	return NULL;
}
