/*
 * test_auth_methods.c - the Authentication parameter's grammar
 * (policy/auth_methods.c) and its place in the configuration. Test code.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/auth_methods.h"
#include "policy/config.h"
#include "privsep/errors.h"
#include "check.h"

static int
parse(const char *s, struct auth_methods *m, char *err, size_t errlen)
{
	return auth_methods_parse(s, strlen(s), m, err, errlen);
}

/* s must parse, and its canonical text must be want. */
static void
good(const char *s, const char *want)
{
	struct auth_methods m, again;
	char err[256], text[AUTH_METHODS_TEXT_MAX];
	int r;

	r = parse(s, &m, err, sizeof(err));
	CHECK(r == 0, "'%s': %s", s, err);
	if (r != 0)
		return;
	CHECK(auth_methods_format(&m, text, sizeof(text)) == 0, "%s", s);
	CHECK(strcmp(text, want) == 0, "'%s' -> '%s', want '%s'", s, text, want);
	/* The canonical text parses to the same thing. */
	CHECK(parse(text, &again, err, sizeof(err)) == 0 &&
	    memcmp(&again, &m, sizeof(m)) == 0, "%s", text);
}

/* s must be refused with a message containing what. */
static void
bad(const char *s, const char *what)
{
	struct auth_methods m;
	char err[256];
	int r;

	memset(&m, 0x5a, sizeof(m));
	r = parse(s, &m, err, sizeof(err));
	CHECK(r == MOAT_ERR_CONFIG, "'%s' accepted", s);
	CHECK(strstr(err, what) != NULL, "'%s': message '%s' lacks '%s'", s,
	    err, what);
	CHECK(((unsigned char *)&m)[0] == 0x5a, "'%s': output written on error", s);
}

static void
test_grammar(void)
{
	struct auth_methods m;
	char err[256];

	good("SystemAuth", "SystemAuth");
	good("systemauth", "SystemAuth");
	good("Radius", "Radius");
	good("SystemAuth+Radius", "SystemAuth+Radius");
	good(" Radius + SystemAuth ", "Radius+SystemAuth");
	good("VncPassword", "VncPassword");
	good("vncpassword", "VncPassword");
	good("VncPassword+SystemAuth", "VncPassword+SystemAuth");
	good("SystemAuth + vncPASSWORD+radius", "SystemAuth+VncPassword+Radius");

	CHECK(parse("SystemAuth+Radius", &m, err, sizeof(err)) == 0);
	CHECK(m.n == 1 && m.alt[0].n == 2 &&
	    m.alt[0].factor[0] == AUTH_SCHEME_SYSTEM &&
	    m.alt[0].factor[1] == AUTH_SCHEME_RADIUS);
	CHECK(auth_methods_uses(&m, AUTH_SCHEME_RADIUS) == 1);
	CHECK(parse("SystemAuth", &m, err, sizeof(err)) == 0);
	CHECK(auth_methods_uses(&m, AUTH_SCHEME_RADIUS) == 0);
	CHECK(auth_methods_uses(&m, AUTH_SCHEME_VNC_PASSWORD) == 0);
	CHECK(parse("VncPassword+SystemAuth", &m, err, sizeof(err)) == 0);
	CHECK(m.n == 1 && m.alt[0].n == 2 &&
	    m.alt[0].factor[0] == AUTH_SCHEME_VNC_PASSWORD &&
	    m.alt[0].factor[1] == AUTH_SCHEME_SYSTEM);
	CHECK(auth_methods_uses(&m, AUTH_SCHEME_VNC_PASSWORD) == 1);
	CHECK(auth_methods_uses(&m, AUTH_SCHEME_RADIUS) == 0);
	CHECK(strcmp(auth_scheme_name(AUTH_SCHEME_VNC_PASSWORD),
	    "VncPassword") == 0);

	bad("", "no scheme");
	bad("Smartcard", "unknown scheme 'Smartcard'; allowed: SystemAuth, "
	    "Radius, VncPassword, Certificate, Kerberos");
	bad("VncAuth", "unknown scheme");
	bad("VncPasswd", "unknown scheme");
	bad("VncPassword+vncpassword", "VncPassword appears twice");
	/* Needs nothing but answers either: a later alternative is dead. */
	bad("VncPassword,SystemAuth", "alternative 'SystemAuth' can never be "
	    "used: 'VncPassword' before it");
	bad("SystemAuth+Radius+VncPassword+SystemAuth", "appears twice");
	bad("Radius+VncPassword+SystemAuth+Radius", "appears twice");
	bad("SystemAuth+", "empty factor");
	bad("+Radius", "empty factor");
	bad("SystemAuth++Radius", "empty factor");
	bad("SystemAuth,", "empty alternative");
	bad(",SystemAuth", "empty alternative");
	bad("SystemAuth,,Radius", "empty alternative");
	bad("SystemAuth+SystemAuth", "SystemAuth appears twice");
	bad("Radius+SystemAuth+radius", "Radius appears twice");
	/* Both alternatives need only answers to prompts: the second is dead. */
	bad("SystemAuth,SystemAuth+Radius", "alternative 'SystemAuth+Radius' "
	    "can never be used: 'SystemAuth' before it");
	bad("SystemAuth,SystemAuth", "can never be used");
	bad("SystemAuth;Radius", "unknown scheme");
	bad("System\x01" "Auth", "unknown scheme 'System\\x01Auth'");
	bad("SystemAuth+Radius+SystemAuth", "appears twice");
	CHECK(auth_methods_parse("SystemAuth\0x", 12, &m, err, sizeof(err)) ==
	    MOAT_ERR_CONFIG && strstr(err, "NUL") != NULL, "%s", err);
	CHECK(strcmp(auth_scheme_name(99), "?") == 0);

	/* Certificate needs a chain: alternatives after it can apply. */
	good("Certificate", "Certificate");
	good("certificate+SystemAuth", "Certificate+SystemAuth");
	good("SystemAuth+Certificate", "SystemAuth+Certificate");
	good("Certificate,SystemAuth", "Certificate,SystemAuth");
	good("Certificate+Radius,VncPassword", "Certificate+Radius,VncPassword");
	bad("SystemAuth,Certificate", "alternative 'Certificate' can never be "
	    "used: 'SystemAuth' before it");
	bad("Certificate,Certificate+SystemAuth", "alternative "
	    "'Certificate+SystemAuth' can never be used: 'Certificate'");
	/* Kerberos is chosen by the security type, and stands alone. */
	good("Kerberos", "Kerberos");
	good("Kerberos,SystemAuth+Radius", "Kerberos,SystemAuth+Radius");
	good("SystemAuth,Kerberos", "SystemAuth,Kerberos");
	good("Certificate+SystemAuth,Kerberos,SystemAuth",
	    "Certificate+SystemAuth,Kerberos,SystemAuth");
	bad("Kerberos+SystemAuth", "Kerberos must be an alternative of its own");
	bad("SystemAuth+kerberos", "Kerberos must be an alternative of its own");
	bad("Kerberos,Kerberos", "alternative 'Kerberos' can never be used");
}

/* Which alternative applies to which viewer. */
static void
test_select(void)
{
	struct auth_methods m;
	char err[256];

	CHECK(parse("Certificate+SystemAuth,Kerberos,Radius", &m, err,
	    sizeof(err)) == 0, "%s", err);
	CHECK(auth_methods_select(&m, 0) == &m.alt[2]);
	CHECK(auth_methods_select(&m, AUTH_NEED_CERTIFICATE) == &m.alt[0]);
	CHECK(auth_methods_select(&m, AUTH_NEED_KERBEROS) == &m.alt[1]);
	CHECK(auth_methods_select(&m, AUTH_NEED_KERBEROS |
	    AUTH_NEED_CERTIFICATE) == &m.alt[1]);
	CHECK(auth_alternative_needs(&m.alt[0]) == AUTH_NEED_CERTIFICATE);
	CHECK(auth_alternative_needs(&m.alt[2]) == 0);
	CHECK(parse("Certificate", &m, err, sizeof(err)) == 0);
	CHECK(auth_methods_select(&m, 0) == NULL, "no certificate: nothing applies");
	CHECK(auth_methods_select(&m, AUTH_NEED_KERBEROS) == NULL);
	CHECK(auth_methods_select(&m, AUTH_NEED_CERTIFICATE) == &m.alt[0]);
	CHECK(parse("SystemAuth", &m, err, sizeof(err)) == 0);
	/* A chain nobody asked for changes nothing. */
	CHECK(auth_methods_select(&m, AUTH_NEED_CERTIFICATE) == &m.alt[0]);
	CHECK(auth_methods_select(&m, AUTH_NEED_KERBEROS) == NULL);
	CHECK(strcmp(auth_scheme_name(0), "?") == 0);
}

/* A long hostile value: the message quotes a bounded part of it. */
static void
test_bounded_messages(void)
{
	struct auth_methods m;
	char err[256], *s;

	s = malloc(5001);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	memset(s, 'A', 5000);
	s[5000] = '\0';
	CHECK(parse(s, &m, err, sizeof(err)) == MOAT_ERR_CONFIG);
	CHECK(strlen(err) < 200 && strstr(err, "...") != NULL, "%s", err);
	free(s);
}

/*
 * Every single-byte change and every truncation of good values parses or
 * is refused with a message; whatever parses formats back to text that
 * parses to the same thing. Inputs are exact-size heap copies, so a
 * sanitizer build catches any read past the end.
 */
static void
test_mutations(void)
{
	static const char *const seeds[] = {
		"SystemAuth", "SystemAuth+Radius", " radius + systemauth ",
		"VncPassword+SystemAuth",
	};
	static const char subst[] = { '+', ',', ' ', '\t', '\0', 'x', 'R', 0x7f };
	struct auth_methods m, again;
	char err[256], text[AUTH_METHODS_TEXT_MAX];
	size_t si, i, k, n, ok = 0, refused = 0, bad_msg = 0, bad_trip = 0;
	char *copy;

	for (si = 0; si < sizeof(seeds) / sizeof(seeds[0]); si++) {
		n = strlen(seeds[si]);
		for (i = 0; i <= n; i++) {
			for (k = 0; k <= sizeof(subst); k++) {
				size_t len = k == sizeof(subst) ? i : n;

				if ((copy = malloc(len ? len : 1)) == NULL)
					continue;
				memcpy(copy, seeds[si], len);
				if (k < sizeof(subst) && i < n)
					copy[i] = subst[k];
				err[0] = '\0';
				if (auth_methods_parse(copy, len, &m, err,
				    sizeof(err)) == 0) {
					ok++;
					if (auth_methods_format(&m, text,
					    sizeof(text)) != 0 ||
					    parse(text, &again, err,
					    sizeof(err)) != 0 ||
					    memcmp(&m, &again, sizeof(m)) != 0)
						bad_trip++;
				} else {
					refused++;
					if (err[0] == '\0')
						bad_msg++;
				}
				free(copy);
			}
		}
	}
	CHECK(ok > 0 && refused > 0, "%zu parsed, %zu refused", ok, refused);
	CHECK(bad_msg == 0, "%zu refusals without a message", bad_msg);
	CHECK(bad_trip == 0, "%zu values did not round-trip", bad_trip);
}

/* The parameter in a configuration file, with file and line in errors. */
static void
test_config(void)
{
	struct moat_config c;
	char err[512];
	const char *t;

	config_defaults(&c);
	CHECK(strcmp(c.authentication, "SystemAuth") == 0, "%s", c.authentication);
	CHECK(c.auth.n == 1 && c.auth.alt[0].n == 1 &&
	    c.auth.alt[0].factor[0] == AUTH_SCHEME_SYSTEM);

	t = "ListenPort=5901\nAuthentication = systemauth + RADIUS\n";
	CHECK(config_parse_text(&c, NULL, "/etc/moat/moatd.conf", t, strlen(t),
	    0, err, sizeof(err)) == 0, "%s", err);
	CHECK(strcmp(c.authentication, "SystemAuth+Radius") == 0, "%s",
	    c.authentication);
	CHECK(c.auth.alt[0].n == 2 && c.auth.alt[0].factor[1] == AUTH_SCHEME_RADIUS);

	config_defaults(&c);
	t = "\nAuthentication=SystemAuth+Kerberos\n";
	CHECK(config_parse_text(&c, NULL, "/etc/moat/moatd.conf", t, strlen(t),
	    0, err, sizeof(err)) == MOAT_ERR_CONFIG);
	CHECK(strstr(err, "/etc/moat/moatd.conf:2: Authentication: Kerberos "
	    "must be an alternative of its own") != NULL, "%s", err);
	/* The refused value left the default in place. */
	CHECK(c.auth.n == 1 && c.auth.alt[0].n == 1 &&
	    c.auth.alt[0].factor[0] == AUTH_SCHEME_SYSTEM);

	config_defaults(&c);
	t = "Authentication=VncPassword\n";
	CHECK(config_parse_text(&c, NULL, "/etc/moat/moatd.conf", t, strlen(t),
	    0, err, sizeof(err)) == 0, "%s", err);
	CHECK(strcmp(c.authentication, "VncPassword") == 0 &&
	    c.auth.alt[0].factor[0] == AUTH_SCHEME_VNC_PASSWORD, "%s",
	    c.authentication);
	/* VncPasswordFile has a default, so nothing else is required. */
	CHECK(config_check(&c, NULL, err, sizeof(err)) == 0, "%s", err);
}

int
main(void)
{
	test_grammar();
	test_select();
	test_bounded_messages();
	test_mutations();
	test_config();
	return check_summary();
}
