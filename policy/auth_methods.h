/*
 * auth_methods.h - the "Authentication" parameter: which factors a viewer
 * must pass. Runs in moatd and moatctl (root) on configuration text.
 *
 * Grammar: alternatives separated by ',', each a list of schemes joined by
 * '+' that must all pass, in the order written (e.g. "SystemAuth+Radius",
 * "VncPassword+SystemAuth").
 * Scheme names are case-insensitive; blanks around separators are allowed.
 * Which alternative a connection uses follows from what the viewer can
 * present (docs/authentication.md), so an alternative that can never be
 * reached because an earlier one applies to the same viewers is an error.
 */
#ifndef MOAT_AUTH_METHODS_H
#define MOAT_AUTH_METHODS_H

#include <stddef.h>
#include <stdint.h>

enum auth_scheme {
	AUTH_SCHEME_SYSTEM = 1,		/* SystemAuth: PAM, full conversation */
	AUTH_SCHEME_RADIUS = 2,		/* Radius: RADIUS with challenges */
	AUTH_SCHEME_VNC_PASSWORD = 3,	/* VncPassword: moat's own per-user password */
	AUTH_SCHEME_CERTIFICATE = 4,	/* Certificate: an X.509 client certificate */
	AUTH_SCHEME_KERBEROS = 5,	/* Kerberos: GSSAPI through SASL, alone */
};

/*
 * What a viewer presents beyond answers to questions. An alternative
 * applies to a viewer that presents everything its schemes need; Kerberos
 * alternatives apply only to viewers that chose the SASL security type,
 * and the others only to viewers that did not.
 */
#define AUTH_NEED_CERTIFICATE	0x01	/* a client certificate chain in TLS */
#define AUTH_NEED_KERBEROS	0x02	/* the SASL GSSAPI exchange */

#define AUTH_MAX_ALTERNATIVES	4
#define AUTH_MAX_FACTORS	3
#define AUTH_METHODS_TEXT_MAX	128	/* canonical text, with its NUL */

struct auth_alternative {
	uint8_t n;				/* 1..AUTH_MAX_FACTORS */
	uint8_t factor[AUTH_MAX_FACTORS];	/* enum auth_scheme, in order */
};

struct auth_methods {
	uint8_t n;				/* 1..AUTH_MAX_ALTERNATIVES */
	struct auth_alternative alt[AUTH_MAX_ALTERNATIVES];
};

/* The allowed scheme names, for messages. */
#define AUTH_SCHEME_LIST	"SystemAuth, Radius, VncPassword, Certificate, Kerberos"

/* Returns the canonical name of scheme s, or "?" if there is none. */
const char *auth_scheme_name(unsigned s);

/*
 * Parses text[0..len) (need not be NUL-terminated) into *out. Returns 0, or
 * MOAT_ERR_CONFIG with a message naming the problem in err (never quoting
 * more than a bounded, escaped part of the input). *out is written only on
 * success.
 */
int auth_methods_parse(const char *text, size_t len, struct auth_methods *out,
    char *err, size_t errlen);

/*
 * Writes the canonical text of m ("SystemAuth+Radius,SystemAuth") into
 * buf. Returns 0, or MOAT_ERR_TOO_LONG if buflen is too small.
 */
int auth_methods_format(const struct auth_methods *m, char *buf, size_t buflen);

/* Returns 1 if any alternative of m uses scheme s, else 0. */
int auth_methods_uses(const struct auth_methods *m, unsigned s);

/* Returns what alternative a needs (AUTH_NEED_*). */
unsigned auth_alternative_needs(const struct auth_alternative *a);

/*
 * Returns the alternative that applies to a viewer presenting have
 * (AUTH_NEED_*): with AUTH_NEED_KERBEROS the Kerberos alternative, else
 * the first other alternative whose needs have holds. NULL if none does.
 */
const struct auth_alternative *auth_methods_select(const struct auth_methods *m,
    unsigned have);

#endif
