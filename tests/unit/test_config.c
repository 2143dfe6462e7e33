/*
 * test_config.c - unit tests for policy/config_parse.c and config_load.c.
 *
 * Test code; runs as root in CI (the ownership checks need chown and
 * root-owned trees under /tmp) and skips those parts otherwise. Trusts
 * the library only as far as each check goes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privsep/errors.h"
#include "policy/config.h"

#include "check.h"

static char err[2048];

static int
parse_as(const char *fname, struct moat_config *c, struct config_origin *o,
    const char *text, size_t len, int override)
{
	return config_parse_text(c, o, fname, text, len, override, err,
	    sizeof(err));
}

/* Parses text from defaults as "t.conf"; returns the result, err set. */
static int
parse_fresh(const char *text, struct moat_config *c, struct config_origin *o)
{
	config_defaults(c);
	memset(o, 0, sizeof(*o) * config_param_count());
	return parse_as("t.conf", c, o, text, strlen(text), 0);
}

static void
expect_error(const char *text, const char *want, int line)
{
	struct config_origin o[CONFIG_PARAMS_MAX];
	struct moat_config c;
	int r = parse_fresh(text, &c, o);

	if (r == MOAT_ERR_CONFIG && strcmp(err, want) == 0)
		passed++;
	else {
		failed++;
		fprintf(stderr, "FAIL %s:%d: r=%d\n  got:  '%s'\n  want: '%s'\n",
		    __FILE__, line, r, err, want);
	}
}

/* Parses "Name=value" alone; 1 if accepted. */
static int
accepts(const char *name, const char *value, struct moat_config *c)
{
	struct config_origin o[CONFIG_PARAMS_MAX];
	char text[8192];

	snprintf(text, sizeof(text), "%s=%s\n", name, value);
	return parse_fresh(text, c, o) == 0;
}

#define EXPECT_ERROR(text, want) expect_error((text), (want), __LINE__)

static void
test_defaults(void)
{
	const struct config_param_info *p = config_params();
	struct moat_config c;
	size_t i;

	config_defaults(&c);
	CHECK(strcmp(c.listen_address, "0.0.0.0") == 0, "%s", c.listen_address);
	CHECK(c.listen_port == 5900, "%u", c.listen_port);
	CHECK(strcmp(c.identity_key, "/etc/moat/identity.key") == 0, "x");
	CHECK(strcmp(c.identity_cert, "/etc/moat/identity.crt") == 0, "x");
	CHECK(strcmp(c.identity_rotation_cert,
	    "/etc/moat/identity-rotation.crt") == 0, "x");
	CHECK(strcmp(c.tls_names, "localhost,127.0.0.1,::1") == 0, "x");
	CHECK(strcmp(c.empty_root, "/var/empty/moat") == 0, "x");
	CHECK(strcmp(c.net_user, "moat-net") == 0, "x");
	CHECK(c.net_binary[0] == '\0', "x");
	CHECK(strcmp(c.session_socket, "/run/moat/session.sock") == 0, "x");
	CHECK(c.log_file[0] == '\0', "x");
	CHECK(strcmp(c.pam_service, "moat") == 0, "x");
	CHECK(c.desktop_name[0] == '\0', "x");
	CHECK(c.encryption == CONFIG_ENC_ALWAYS_ON, "%d", c.encryption);
	CHECK(c.max_cut_text == 262144, "%u", c.max_cut_text);
	CHECK(c.login_grace_time == 60, "%u", c.login_grace_time);
	CHECK(c.max_connections == 20, "%u", c.max_connections);

	CHECK(config_param_count() == 54, "%zu", config_param_count());
	for (i = 0; i < config_param_count(); i++)
		CHECK(p[i].name != NULL && p[i].allowed != NULL &&
		    p[i].allowed[0] != '\0', "param %zu", i);
	CHECK(strcmp(p[0].name, "ListenAddress") == 0, "%s", p[0].name);
	CHECK(strcmp(p[15].name, "MaxConnections") == 0, "%s", p[15].name);
	CHECK(strcmp(p[17].name, "IdentityRotationCert") == 0, "%s", p[17].name);
	CHECK(strcmp(p[23].name, "RadiusAllowUnsigned") == 0, "%s", p[23].name);
	CHECK(strcmp(p[24].name, "VncPasswordFile") == 0, "%s", p[24].name);
	CHECK(strcmp(c.vnc_password_file, "/etc/moat/vnc-passwords") == 0, "%s",
	    c.vnc_password_file);
	CHECK(strcmp(p[25].name, "CertificateCaFile") == 0 &&
	    strcmp(p[28].name, "CertificateUserDomain") == 0, "%s", p[25].name);
	CHECK(c.certificate_ca_file[0] == '\0' &&
	    c.certificate_crl_file[0] == '\0' &&
	    c.certificate_user_rule == CONFIG_CERT_RULE_EMAIL &&
	    c.certificate_user_domain[0] == '\0', "certificate defaults");
	CHECK(strcmp(p[29].name, "KerberosKeytab") == 0 &&
	    strcmp(p[30].name, "KerberosService") == 0 &&
	    strcmp(p[31].name, "KerberosRealm") == 0, "%s", p[29].name);
	CHECK(strcmp(c.kerberos_keytab, "/etc/moat/moat.keytab") == 0 &&
	    strcmp(c.kerberos_service, "vnc") == 0 &&
	    c.kerberos_realm[0] == '\0', "kerberos defaults");
	CHECK(strcmp(p[32].name, "BlacklistThreshold") == 0 &&
	    strcmp(p[35].name, "IpClientAddresses") == 0 &&
	    strcmp(p[37].name, "PerSourceMaxStartups") == 0 &&
	    strcmp(p[38].name, "ControlSocket") == 0, "%s", p[32].name);
	CHECK(c.control_socket[0] == '\0', "ControlSocket default");
	CHECK(c.blacklist_threshold == 5 && c.blacklist_timeout == 10 &&
	    c.blacklist_exempt[0] == '\0' && c.blacklist_exempt_list.n == 0 &&
	    c.ip_client_addresses[0] == '\0' && c.ip_client_filter.n == 0 &&
	    c.max_startups == 10 && c.per_source_max_startups == 3,
	    "access-control defaults");
	CHECK(c.radius_servers[0] == '\0' && c.radius_secret_file[0] == '\0' &&
	    strcmp(c.radius_nas_identifier, "moat") == 0 &&
	    c.radius_timeout == 3 && c.radius_retries == 2 &&
	    c.radius_allow_unsigned == 0, "radius defaults");

	/* The defaults themselves must pass validation. */
	{
		char text[4096];
		FILE *f;
		int fds[2], r;
		ssize_t n;
		size_t len = 0;
		struct moat_config c2;
		struct config_origin o[CONFIG_PARAMS_MAX];
		char *line, *save;

		CHECK(pipe(fds) == 0, "pipe");
		config_dump(&c, NULL, fds[1]);
		close(fds[1]);
		while ((n = read(fds[0], text + len, sizeof(text) - 1 - len)) > 0)
			len += (size_t)n;
		close(fds[0]);
		text[len] = '\0';
		CHECK(strstr(text, "ListenPort=5900  # default\n") != NULL,
		    "%s", text);
		CHECK(strstr(text, "NetBinary=  # default\n") != NULL, "%s", text);
		CHECK(strstr(text, "Encryption=AlwaysOn  # default\n") != NULL,
		    "%s", text);
		/* Strip the comments (and empty values) and re-parse: a round trip. */
		f = fmemopen(NULL, 8192, "w+");
		CHECK(f != NULL, "fmemopen");
		for (line = strtok_r(text, "\n", &save); line != NULL && f != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			char *hash = strstr(line, "  # ");

			if (hash != NULL)
				*hash = '\0';
			if (line[strlen(line) - 1] != '=')
				fprintf(f, "%s\n", line);
		}
		if (f != NULL) {
			char back[8192];

			fflush(f);
			len = (size_t)ftell(f);
			rewind(f);
			len = fread(back, 1, len, f);
			back[len] = '\0';
			fclose(f);
			config_defaults(&c2);
			memset(o, 0, sizeof(o));
			r = parse_as("dump.conf", &c2, o, back, len, 0);
			CHECK(r == 0, "%s", err);
			CHECK(memcmp(&c, &c2, sizeof(c)) == 0, "round trip differs");
		}
	}
}

static const char full_text[] =
    "# moatd.conf used by the tests\n"
    "\n"
    "   ListenAddress = ::1   \n"
    "listenport=5901\n"
    "IDENTITYKEY=/etc/moat/k.pem\n"
    "\tIdentityCert\t=\t/etc/moat/c.pem\t\n"
    "TlsNames=vnc.example.org,10.0.0.1,::1\n"
    "EmptyRoot=/var/empty\n"
    "  # indented comment\n"
    "NetUser=_moat.net-1\n"
    "NetBinary=/usr/libexec/moat-net\n"
    "SessionSocket=/run/moat/s.sock\r\n"
    "LogFile=\n"
    "PamService=moat-test\n"
    "DesktopName=B\xc3\xbcro # 3 = x\n"
    "Encryption=alwaysmaximum\n"
    "MaxCutText=0\n"
    "LoginGraceTime=600\n"
    "MaxConnections=1000";	/* no final newline */

static void
test_full_file(void)
{
	struct config_origin o[CONFIG_PARAMS_MAX];
	struct moat_config c;
	int r;

	r = parse_fresh(full_text, &c, o);
	CHECK(r == 0, "%s", err);
	CHECK(strcmp(c.listen_address, "::1") == 0, "'%s'", c.listen_address);
	CHECK(c.listen_port == 5901, "%u", c.listen_port);
	CHECK(strcmp(c.identity_key, "/etc/moat/k.pem") == 0, "x");
	CHECK(strcmp(c.identity_cert, "/etc/moat/c.pem") == 0, "'%s'",
	    c.identity_cert);
	CHECK(strcmp(c.tls_names, "vnc.example.org,10.0.0.1,::1") == 0, "x");
	CHECK(strcmp(c.empty_root, "/var/empty") == 0, "x");
	CHECK(strcmp(c.net_user, "_moat.net-1") == 0, "x");
	CHECK(strcmp(c.net_binary, "/usr/libexec/moat-net") == 0, "x");
	CHECK(strcmp(c.session_socket, "/run/moat/s.sock") == 0, "'%s'",
	    c.session_socket);
	CHECK(c.log_file[0] == '\0', "x");
	CHECK(strcmp(c.pam_service, "moat-test") == 0, "x");
	CHECK(strcmp(c.desktop_name, "B\xc3\xbcro # 3 = x") == 0, "'%s'",
	    c.desktop_name);
	CHECK(c.encryption == CONFIG_ENC_ALWAYS_MAXIMUM, "%d", c.encryption);
	CHECK(c.max_cut_text == 0, "%u", c.max_cut_text);
	CHECK(c.login_grace_time == 600, "%u", c.login_grace_time);
	CHECK(c.max_connections == 1000, "%u", c.max_connections);
	CHECK(strcmp(o[0].file, "t.conf") == 0 && o[0].line == 3, "%s:%u",
	    o[0].file, o[0].line);
	CHECK(o[1].line == 4 && o[9].line == 13 && o[15].line == 19,
	    "%u %u %u", o[1].line, o[9].line, o[15].line);

	/* Only comments and blank lines: all defaults, no origins. */
	r = parse_fresh("# nothing\n\n   \n\t# more\n", &c, o);
	CHECK(r == 0 && c.listen_port == 5900 && o[1].file[0] == '\0', "%s", err);
	r = parse_fresh("", &c, o);
	CHECK(r == 0, "%s", err);
}

static void
test_errors(void)
{
	char big[8192], want[512];
	struct moat_config c;
	struct config_origin o[CONFIG_PARAMS_MAX];
	char *huge;
	int r;

	EXPECT_ERROR("ListenPort=5900\n\nFoo=bar\n",
	    "t.conf:3: unknown parameter 'Foo'; known parameters: ListenAddress, "
	    "ListenPort, IdentityKey, IdentityCert, TlsNames, EmptyRoot, NetUser, "
	    "NetBinary, SessionSocket, LogFile, PamService, DesktopName, "
	    "Encryption, MaxCutText, LoginGraceTime, MaxConnections, "
	    "Authentication, IdentityRotationCert, RadiusServers, "
	    "RadiusSecretFile, RadiusNasIdentifier, RadiusTimeout, "
	    "RadiusRetries, RadiusAllowUnsigned, VncPasswordFile, "
	    "CertificateCaFile, CertificateCrlFile, CertificateUserRule, "
	    "CertificateUserDomain, KerberosKeytab, KerberosService, "
	    "KerberosRealm, BlacklistThreshold, BlacklistTimeout, "
	    "BlacklistExempt, IpClientAddresses, MaxStartups, "
	    "PerSourceMaxStartups, ControlSocket, Permissions, IdleTimeout, "
	    "AlwaysShared, NeverShared, DisconnectClients, QueryConnect, "
	    "QueryConnectTimeout, QueryConnectDefault, BlankScreen, "
	    "DisableLocalInputs, AuditFile, AuditKey, AuditCheckpointInterval, "
	    "AuditRotateSize, AuditRotateKeep");
	EXPECT_ERROR("# x\nEncryption = x\n",
	    "t.conf:2: Encryption: invalid value 'x'; allowed: AlwaysOn, "
	    "PreferOn, AlwaysMaximum, PreferOff");
	EXPECT_ERROR("ListenPort=5900\n# c\nListenAddress=::\nlistenport = 5901\n",
	    "t.conf:4: duplicate parameter 'ListenPort' (first set at t.conf:1)");
	EXPECT_ERROR("ListenPort=5900\nListenAddress\n",
	    "t.conf:2: expected Name=Value");
	EXPECT_ERROR("\n = 5\n", "t.conf:2: missing parameter name before '='");
	EXPECT_ERROR("ListenPort=70000\n",
	    "t.conf:1: ListenPort: invalid value '70000'; allowed: 1..65535");
	EXPECT_ERROR("\n\nListenAddress=localhost\n",
	    "t.conf:3: ListenAddress: invalid value 'localhost'; allowed: an "
	    "IPv4 or IPv6 address literal");
	EXPECT_ERROR("IdentityKey=etc/k\n",
	    "t.conf:1: IdentityKey: invalid value 'etc/k'; allowed: an absolute "
	    "path");
	EXPECT_ERROR("DesktopName=a\x01z\n",
	    "t.conf:1: DesktopName: control character in value 'a\\x01z'");
	EXPECT_ERROR("Fo\x1bo=1\n",
	    "t.conf:1: unknown parameter 'Fo\\x1bo'; known parameters: "
	    "ListenAddress, ListenPort, IdentityKey, IdentityCert, TlsNames, "
	    "EmptyRoot, NetUser, NetBinary, SessionSocket, LogFile, PamService, "
	    "DesktopName, Encryption, MaxCutText, LoginGraceTime, MaxConnections, "
	    "Authentication, IdentityRotationCert, RadiusServers, "
	    "RadiusSecretFile, RadiusNasIdentifier, RadiusTimeout, "
	    "RadiusRetries, RadiusAllowUnsigned, VncPasswordFile, "
	    "CertificateCaFile, CertificateCrlFile, CertificateUserRule, "
	    "CertificateUserDomain, KerberosKeytab, KerberosService, "
	    "KerberosRealm, BlacklistThreshold, BlacklistTimeout, "
	    "BlacklistExempt, IpClientAddresses, MaxStartups, "
	    "PerSourceMaxStartups, ControlSocket, Permissions, IdleTimeout, "
	    "AlwaysShared, NeverShared, DisconnectClients, QueryConnect, "
	    "QueryConnectTimeout, QueryConnectDefault, BlankScreen, "
	    "DisableLocalInputs, AuditFile, AuditKey, AuditCheckpointInterval, "
	    "AuditRotateSize, AuditRotateKeep");

	/* Line length: 4096 bytes is fine, 4097 is not. */
	memset(big, '#', 4096);
	big[4096] = '\n';
	big[4097] = '\0';
	r = parse_fresh(big, &c, o);
	CHECK(r == 0, "%s", err);
	memcpy(big, "ListenPort=1\n", 13);
	memset(big + 13, '#', 4097);
	memcpy(big + 13 + 4097, "\n", 2);
	EXPECT_ERROR(big, "t.conf:2: line longer than 4096 bytes");

	/* String too long: the field bound is named. */
	memcpy(big, "DesktopName=", 12);
	memset(big + 12, 'd', 255);
	big[12 + 255] = '\0';
	r = parse_fresh(big, &c, o);
	CHECK(r == 0 && strlen(c.desktop_name) == 255, "%s", err);
	memset(big + 12, 'd', 256);
	big[12 + 256] = '\0';
	EXPECT_ERROR(big, "t.conf:1: DesktopName: value too long (256 bytes; "
	    "maximum 255)");
	snprintf(big, sizeof(big), "IdentityKey=/%0300d\n", 0);
	EXPECT_ERROR(big, "t.conf:1: IdentityKey: value too long (301 bytes; "
	    "maximum 255)");

	/* Attacker-ish values are escaped and cut to 64 bytes plus "...". */
	memcpy(big, "ListenPort=", 11);
	memset(big + 11, 'A', 3000);
	big[11 + 3000] = '\0';
	snprintf(want, sizeof(want), "t.conf:1: ListenPort: invalid value "
	    "'%.64s...'; allowed: 1..65535", big + 11);
	EXPECT_ERROR(big, want);
	memset(big + 11, '\\', 100);
	big[11 + 100] = '\0';
	r = parse_fresh(big, &c, o);
	CHECK(r == MOAT_ERR_CONFIG && strstr(err, "'\\x5c\\x5c") != NULL &&
	    strlen(err) < 400, "%s", err);

	/* NUL bytes are refused wherever they are. */
	{
		static const char nul[] = "ListenPort=5900\n# ok\nDesktop\0Name=x\n";
		config_defaults(&c);
		memset(o, 0, sizeof(o));
		r = parse_as("t.conf", &c, o, nul, sizeof(nul) - 1, 0);
		CHECK(r == MOAT_ERR_CONFIG &&
		    strcmp(err, "t.conf:3: NUL byte in line") == 0, "%s", err);
		r = parse_as("t.conf", &c, o, "# \0\n", 4, 0);
		CHECK(r == MOAT_ERR_CONFIG &&
		    strcmp(err, "t.conf:1: NUL byte in line") == 0, "%s", err);
	}

	/* More than 1 MiB of text is refused before parsing. */
	huge = malloc(1024 * 1024 + 1);
	CHECK(huge != NULL, "malloc");
	if (huge != NULL) {
		memset(huge, '\n', 1024 * 1024 + 1);
		config_defaults(&c);
		r = parse_as("t.conf", &c, NULL, huge, 1024 * 1024, 0);
		CHECK(r == 0, "%s", err);
		r = parse_as("t.conf", &c, NULL, huge, 1024 * 1024 + 1, 0);
		CHECK(r == MOAT_ERR_CONFIG && strcmp(err,
		    "t.conf: file larger than 1048576 bytes") == 0, "%s", err);
		free(huge);
	}

	/* A file name with control characters is escaped too. */
	config_defaults(&c);
	r = parse_as("a\nb.conf", &c, NULL, "x\n", 2, 0);
	CHECK(r == MOAT_ERR_CONFIG &&
	    strcmp(err, "a\\x0ab.conf:1: expected Name=Value") == 0, "%s", err);
}

static void
test_values(void)
{
	struct moat_config c;
	static const char *bad_ints[] = { "", "+5900", "-1", "0x10", "5900abc",
	    "5 900", "0", "65536", "99999999999999999999999999", "5900.0",
	    "\xd9\xa1", NULL };
	size_t i;

	for (i = 0; bad_ints[i] != NULL; i++)
		CHECK(!accepts("ListenPort", bad_ints[i], &c), "'%s'", bad_ints[i]);
	CHECK(accepts("ListenPort", "1", &c) && c.listen_port == 1, "x");
	CHECK(accepts("ListenPort", "65535", &c) && c.listen_port == 65535, "x");
	CHECK(accepts("ListenPort", "005901", &c) && c.listen_port == 5901, "x");
	CHECK(accepts("MaxCutText", "262144", &c), "x");
	CHECK(!accepts("MaxCutText", "262145", &c), "x");
	CHECK(!accepts("MaxCutText", "4294967296", &c), "x");
	CHECK(accepts("LoginGraceTime", "1", &c) && c.login_grace_time == 1, "x");
	CHECK(!accepts("LoginGraceTime", "0", &c), "x");
	CHECK(!accepts("LoginGraceTime", "601", &c), "x");
	CHECK(!accepts("MaxConnections", "0", &c), "x");
	CHECK(!accepts("MaxConnections", "1001", &c), "x");

	CHECK(accepts("Encryption", "AlwaysOn", &c) &&
	    c.encryption == CONFIG_ENC_ALWAYS_ON, "x");
	CHECK(accepts("Encryption", "PreferOn", &c) &&
	    c.encryption == CONFIG_ENC_PREFER_ON, "x");
	CHECK(accepts("Encryption", "AlwaysMaximum", &c) &&
	    c.encryption == CONFIG_ENC_ALWAYS_MAXIMUM, "x");
	CHECK(accepts("Encryption", "PreferOff", &c) &&
	    c.encryption == CONFIG_ENC_PREFER_OFF, "x");
	CHECK(accepts("Encryption", "preferoff", &c) &&
	    c.encryption == CONFIG_ENC_PREFER_OFF, "x");
	CHECK(!accepts("Encryption", "PreferOffX", &c), "x");
	CHECK(!accepts("Encryption", "AlwaysOff", &c), "x");
	CHECK(!accepts("Encryption", "Off", &c), "x");
	/* moatd -t names the value it parsed. */
	{
		char text[4096];
		int fds[2];
		ssize_t n;
		size_t len = 0;

		CHECK(accepts("Encryption", "preferOFF", &c), "x");
		CHECK(pipe(fds) == 0, "pipe");
		config_dump(&c, NULL, fds[1]);
		close(fds[1]);
		while ((n = read(fds[0], text + len, sizeof(text) - 1 - len)) > 0)
			len += (size_t)n;
		close(fds[0]);
		text[len] = '\0';
		CHECK(strstr(text, "\nEncryption=PreferOff  # default\n") != NULL,
		    "%s", text);
	}
	CHECK(!accepts("Encryption", "Always", &c), "x");
	CHECK(!accepts("Encryption", "AlwaysOnX", &c), "x");
	CHECK(!accepts("Encryption", "", &c), "x");

	CHECK(accepts("ListenAddress", "127.0.0.1", &c), "x");
	CHECK(accepts("ListenAddress", "::", &c), "x");
	CHECK(accepts("ListenAddress", "2001:db8::1", &c), "x");
	CHECK(!accepts("ListenAddress", "1.2.3", &c), "x");
	CHECK(!accepts("ListenAddress", "fe80::1%eth0", &c), "x");
	CHECK(!accepts("ListenAddress", "", &c), "x");
	CHECK(!accepts("ListenAddress", "256.0.0.1", &c), "x");

	CHECK(accepts("NetBinary", "", &c) && c.net_binary[0] == '\0', "x");
	CHECK(accepts("LogFile", "/var/log/moat.log", &c), "x");
	CHECK(!accepts("LogFile", "moat.log", &c), "x");
	CHECK(!accepts("IdentityCert", "", &c), "x");
	CHECK(!accepts("IdentityRotationCert", "", &c), "x");
	CHECK(!accepts("IdentityRotationCert", "etc/r.crt", &c), "x");
	CHECK(accepts("IdentityRotationCert", "/etc/moat/r.crt", &c) &&
	    strcmp(c.identity_rotation_cert, "/etc/moat/r.crt") == 0, "x");
	CHECK(!accepts("EmptyRoot", "", &c), "x");
	CHECK(!accepts("SessionSocket", "run/x", &c), "x");

	CHECK(accepts("TlsNames", "localhost", &c), "x");
	CHECK(accepts("TlsNames", "a-b.example,2001:db8::5,192.0.2.1", &c), "x");
	CHECK(!accepts("TlsNames", "", &c), "x");
	CHECK(!accepts("TlsNames", "a,,b", &c), "x");
	CHECK(!accepts("TlsNames", "a, b", &c), "x");
	CHECK(!accepts("TlsNames", "-a.example", &c), "x");
	CHECK(!accepts("TlsNames", "a_b.example", &c), "x");
	CHECK(!accepts("TlsNames", "a.example,", &c), "x");

	CHECK(!accepts("NetUser", "", &c), "x");
	CHECK(!accepts("NetUser", "-moat", &c), "x");
	CHECK(!accepts("NetUser", "mo at", &c), "x");
	CHECK(!accepts("PamService", "..", &c), "x");
	CHECK(!accepts("PamService", "../etc", &c), "x");
	CHECK(!accepts("PamService", "", &c), "x");
	CHECK(accepts("PamService", "moat.v2", &c), "x");

	CHECK(accepts("DesktopName", "", &c), "x");
	CHECK(accepts("DesktopName", "  padded  ", &c) &&
	    strcmp(c.desktop_name, "padded") == 0, "'%s'", c.desktop_name);
	CHECK(accepts("DesktopName", "\xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x96\xa5", &c),
	    "x");
	CHECK(!accepts("DesktopName", "\xff", &c), "x");
	CHECK(!accepts("DesktopName", "\xc0\xaf", &c), "overlong");
	CHECK(!accepts("DesktopName", "\xed\xa0\x80", &c), "surrogate");
	CHECK(!accepts("DesktopName", "\xc2\x85", &c), "C1 control");
	CHECK(!accepts("DesktopName", "a\x7f", &c), "DEL");
}

/* The Radius parameters and the check that ties them to Authentication. */
static void
test_radius(void)
{
	static const char *const good_servers[] = {
		"192.0.2.1", "192.0.2.1:1812", "[::1]", "[2001:db8::1]:1645",
		"192.0.2.1,192.0.2.2:1,[::1]:65535,10.0.0.1",
	};
	static const char *const bad_servers[] = {
		"radius.example.org", "192.0.2.1:0", "192.0.2.1:65536", "::1",
		"[::1", "[::1]:", "192.0.2.1:", "1.2.3.4,", ",1.2.3.4",
		"1.2.3.4,1.2.3.5,1.2.3.6,1.2.3.7,1.2.3.8", "[192.0.2.1]:1812",
		"192.0.2.1:18a2", "300.1.1.1", "[::1]x",
	};
	struct config_origin o[CONFIG_PARAMS_MAX];
	struct moat_config c;
	char text[512], err[512];
	size_t i;
	int r;

	for (i = 0; i < sizeof(good_servers) / sizeof(good_servers[0]); i++) {
		config_defaults(&c);
		snprintf(text, sizeof(text), "RadiusServers=%s\n", good_servers[i]);
		r = config_parse_text(&c, NULL, "t.conf", text, strlen(text), 0,
		    err, sizeof(err));
		CHECK(r == 0 && strcmp(c.radius_servers, good_servers[i]) == 0,
		    "'%s': %s", good_servers[i], err);
	}
	for (i = 0; i < sizeof(bad_servers) / sizeof(bad_servers[0]); i++) {
		config_defaults(&c);
		snprintf(text, sizeof(text), "RadiusServers=%s\n", bad_servers[i]);
		r = config_parse_text(&c, NULL, "t.conf", text, strlen(text), 0,
		    err, sizeof(err));
		CHECK(r == MOAT_ERR_CONFIG && strstr(err, "t.conf:1: "
		    "RadiusServers: invalid value") != NULL, "'%s' accepted",
		    bad_servers[i]);
	}
	config_defaults(&c);
	snprintf(text, sizeof(text), "RadiusAllowUnsigned=Yes\nRadiusTimeout=60\n"
	    "RadiusRetries=0\nRadiusNasIdentifier=nas-1.example\n");
	CHECK(config_parse_text(&c, NULL, "t.conf", text, strlen(text), 0, err,
	    sizeof(err)) == 0 && c.radius_allow_unsigned == 1 &&
	    c.radius_timeout == 60 && c.radius_retries == 0 &&
	    strcmp(c.radius_nas_identifier, "nas-1.example") == 0, "%s", err);
	EXPECT_ERROR("RadiusAllowUnsigned=1\n", "t.conf:1: RadiusAllowUnsigned: "
	    "invalid value '1'; allowed: yes, no");
	EXPECT_ERROR("RadiusTimeout=0\n", "t.conf:1: RadiusTimeout: invalid "
	    "value '0'; allowed: 1..60 (seconds per datagram)");

	/* Authentication with Radius needs both; the error names its line. */
	config_defaults(&c);
	memset(o, 0, sizeof(o));
	snprintf(text, sizeof(text), "ListenPort=5901\nAuthentication=SystemAuth+Radius\n");
	CHECK(config_parse_text(&c, o, "/etc/moat/moatd.conf", text, strlen(text),
	    0, err, sizeof(err)) == 0, "%s", err);
	CHECK(config_check(&c, o, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strcmp(err, "/etc/moat/moatd.conf:2: Authentication uses Radius, "
	    "but RadiusServers is not set") == 0, "'%s'", err);
	snprintf(text, sizeof(text), "RadiusServers=192.0.2.1\n");
	CHECK(config_parse_text(&c, o, "/etc/moat/policy.d/r.conf", text,
	    strlen(text), 1, err, sizeof(err)) == 0, "%s", err);
	CHECK(config_check(&c, o, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strstr(err, "but RadiusSecretFile is not set") != NULL, "'%s'", err);
	snprintf(text, sizeof(text), "RadiusSecretFile=/etc/moat/radius.secret\n");
	CHECK(config_parse_text(&c, o, "/etc/moat/policy.d/s.conf", text,
	    strlen(text), 1, err, sizeof(err)) == 0, "%s", err);
	CHECK(config_check(&c, o, err, sizeof(err)) == 0, "%s", err);
	/* Without Radius in Authentication nothing is required. */
	config_defaults(&c);
	CHECK(config_check(&c, NULL, err, sizeof(err)) == 0, "%s", err);
}

/* VncPasswordFile: an absolute path; Authentication=VncPassword needs no more. */
static void
test_vnc_password_file(void)
{
	struct moat_config c;
	char text[512], err[512];
	int r;

	config_defaults(&c);
	snprintf(text, sizeof(text), "Authentication=VncPassword\n"
	    "VncPasswordFile=/etc/moat/vnc.pw\n");
	r = config_parse_text(&c, NULL, "t.conf", text, strlen(text), 0, err,
	    sizeof(err));
	CHECK(r == 0 && strcmp(c.vnc_password_file, "/etc/moat/vnc.pw") == 0 &&
	    c.auth.alt[0].factor[0] == AUTH_SCHEME_VNC_PASSWORD, "%s", err);
	CHECK(config_check(&c, NULL, err, sizeof(err)) == 0, "%s", err);
	EXPECT_ERROR("VncPasswordFile=vnc-passwords\n", "t.conf:1: "
	    "VncPasswordFile: invalid value 'vnc-passwords'; allowed: an "
	    "absolute path (a root-only file of USER:HASH lines written by "
	    "moatctl password)");
	EXPECT_ERROR("VncPasswordFile=\n", "t.conf:1: VncPasswordFile: invalid "
	    "value ''; allowed: an absolute path (a root-only file of USER:HASH "
	    "lines written by moatctl password)");
}

/* The Kerberos* parameters and the realm Authentication=Kerberos needs. */
static void
test_kerberos(void)
{
	static const char *const good_realms[] = {
		"TEST.MOAT", "EXAMPLE.COM", "corp", "AD-1.EXAMPLE.ORG",
	};
	static const char *const bad_realms[] = {
		"TEST MOAT", "@TEST.MOAT", "TEST.MOAT.", "A/B", "a\\b",
		"T_EST.MOAT", "-TEST.MOAT",
	};
	struct config_origin o[CONFIG_PARAMS_MAX];
	struct moat_config c;
	char text[512], err[512];
	size_t i;
	int r;

	config_defaults(&c);
	memset(o, 0, sizeof(o));
	snprintf(text, sizeof(text), "KerberosKeytab=/etc/moat/vnc.keytab\n"
	    "KerberosService = rfb\nKerberosRealm=TEST.MOAT\n");
	r = config_parse_text(&c, o, "t.conf", text, strlen(text), 0, err,
	    sizeof(err));
	CHECK(r == 0 && strcmp(c.kerberos_keytab, "/etc/moat/vnc.keytab") == 0 &&
	    strcmp(c.kerberos_service, "rfb") == 0 &&
	    strcmp(c.kerberos_realm, "TEST.MOAT") == 0, "%s", err);
	CHECK(o[29].line == 1 && o[30].line == 2 && o[31].line == 3,
	    "%u %u %u", o[29].line, o[30].line, o[31].line);
	for (i = 0; i < sizeof(good_realms) / sizeof(good_realms[0]); i++)
		CHECK(accepts("KerberosRealm", good_realms[i], &c) &&
		    strcmp(c.kerberos_realm, good_realms[i]) == 0,
		    "'%s'", good_realms[i]);
	for (i = 0; i < sizeof(bad_realms) / sizeof(bad_realms[0]); i++)
		CHECK(!accepts("KerberosRealm", bad_realms[i], &c),
		    "'%s' accepted", bad_realms[i]);
	EXPECT_ERROR("KerberosKeytab=\n", "t.conf:1: KerberosKeytab: invalid "
	    "value ''; allowed: an absolute path (a root-only keytab holding "
	    "the service principal's keys)");
	EXPECT_ERROR("KerberosService=vnc/host\n", "t.conf:1: KerberosService: "
	    "invalid value 'vnc/host'; allowed: a service name (letters, "
	    "digits, '.', '_', '-'): the first component of the service "
	    "principal");
	EXPECT_ERROR("KerberosRealm=TEST@MOAT\n", "t.conf:1: KerberosRealm: "
	    "invalid value 'TEST@MOAT'; allowed: a realm name (letters, "
	    "digits, '.', '-', as a DNS name; case matters), or empty");

	/* Authentication=Kerberos needs the realm; the error names its line. */
	config_defaults(&c);
	memset(o, 0, sizeof(o));
	snprintf(text, sizeof(text), "\n\nAuthentication=Kerberos,SystemAuth\n");
	CHECK(config_parse_text(&c, o, "/etc/moat/moatd.conf", text,
	    strlen(text), 0, err, sizeof(err)) == 0, "%s", err);
	CHECK(config_check(&c, o, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strcmp(err, "/etc/moat/moatd.conf:3: Authentication uses "
	    "Kerberos, but KerberosRealm is not set") == 0, "'%s'", err);
	snprintf(text, sizeof(text), "KerberosRealm=TEST.MOAT\n");
	CHECK(config_parse_text(&c, o, "/etc/moat/policy.d/k.conf", text,
	    strlen(text), 1, err, sizeof(err)) == 0, "%s", err);
	CHECK(config_check(&c, o, err, sizeof(err)) == 0, "%s", err);
	/* Without Kerberos in Authentication no realm is needed. */
	config_defaults(&c);
	CHECK(config_check(&c, NULL, err, sizeof(err)) == 0, "%s", err);
	{
		char out[8192];
		int fds[2];
		ssize_t n;

		CHECK(pipe(fds) == 0);
		config_dump(&c, NULL, fds[1]);
		close(fds[1]);
		n = read(fds[0], out, sizeof(out) - 1);
		close(fds[0]);
		out[n > 0 ? n : 0] = '\0';
		CHECK(strstr(out, "\nKerberosKeytab=/etc/moat/moat.keytab  "
		    "# default\nKerberosService=vnc  # default\nKerberosRealm=  "
		    "# default\n") != NULL, "%s", out);
	}
}

/* The Certificate* parameters and the checks that tie them together. */
static void
test_certificate(void)
{
	static const char *const good_domains[] = {
		"example.com", "EXAMPLE.com", "corp", "a-b.c1.example",
	};
	static const char *const bad_domains[] = {
		"exa mple.com", "-x.example.com", "example.com.", ".example.com",
		"a..b", "x_y.example", "alice@example.com", "*.example.com",
	};
	struct config_origin o[CONFIG_PARAMS_MAX];
	struct moat_config c;
	char text[512], err[512];
	size_t i;
	int r;

	config_defaults(&c);
	memset(o, 0, sizeof(o));
	snprintf(text, sizeof(text), "CertificateCaFile=/etc/moat/card-ca.pem\n"
	    "CertificateCrlFile = /etc/moat/card-ca.crl\n"
	    "CertificateUserRule=UPN\nCertificateUserDomain=corp.example\n");
	r = config_parse_text(&c, o, "t.conf", text, strlen(text), 0, err,
	    sizeof(err));
	CHECK(r == 0 && strcmp(c.certificate_ca_file, "/etc/moat/card-ca.pem") ==
	    0 && strcmp(c.certificate_crl_file, "/etc/moat/card-ca.crl") == 0 &&
	    c.certificate_user_rule == CONFIG_CERT_RULE_UPN &&
	    strcmp(c.certificate_user_domain, "corp.example") == 0, "%s", err);
	CHECK(o[26].line == 2 && o[27].line == 3, "%u %u", o[26].line,
	    o[27].line);
	CHECK(config_check(&c, o, err, sizeof(err)) == 0, "%s", err);
	{
		/* moatd -t prints the rule by name. */
		char out[8192];
		int fds[2];
		ssize_t n;

		CHECK(pipe(fds) == 0);
		config_dump(&c, o, fds[1]);
		close(fds[1]);
		n = read(fds[0], out, sizeof(out) - 1);
		close(fds[0]);
		out[n > 0 ? n : 0] = '\0';
		CHECK(strstr(out, "\nCertificateUserRule=upn  # from t.conf:3\n") !=
		    NULL && strstr(out, "\nCertificateUserDomain=corp.example  "
		    "# from t.conf:4\n") != NULL, "%s", out);
	}
	CHECK(accepts("CertificateUserRule", "cn", &c) &&
	    c.certificate_user_rule == CONFIG_CERT_RULE_CN, "cn");
	CHECK(accepts("CertificateUserRule", "Email", &c) &&
	    c.certificate_user_rule == CONFIG_CERT_RULE_EMAIL, "email");
	CHECK(accepts("CertificateCaFile", "", &c) &&
	    c.certificate_ca_file[0] == '\0', "empty");
	for (i = 0; i < sizeof(good_domains) / sizeof(good_domains[0]); i++)
		CHECK(accepts("CertificateUserDomain", good_domains[i], &c) &&
		    strcmp(c.certificate_user_domain, good_domains[i]) == 0,
		    "'%s'", good_domains[i]);
	for (i = 0; i < sizeof(bad_domains) / sizeof(bad_domains[0]); i++)
		CHECK(!accepts("CertificateUserDomain", bad_domains[i], &c),
		    "'%s' accepted", bad_domains[i]);
	EXPECT_ERROR("CertificateUserRule=sAMAccountName\n", "t.conf:1: "
	    "CertificateUserRule: invalid value 'sAMAccountName'; allowed: "
	    "email, upn, cn");
	EXPECT_ERROR("CertificateCaFile=ca.pem\n", "t.conf:1: CertificateCaFile: "
	    "invalid value 'ca.pem'; allowed: an absolute path (PEM CA "
	    "certificates that client certificates must chain to), or empty");
	EXPECT_ERROR("CertificateUserDomain=@example.com\n", "t.conf:1: "
	    "CertificateUserDomain: invalid value '@example.com'; allowed: a "
	    "DNS name that the e-mail address or UPN must end in, or empty for "
	    "any");

	/* A domain with the cn rule; a CRL without CAs. */
	config_defaults(&c);
	memset(o, 0, sizeof(o));
	snprintf(text, sizeof(text), "CertificateUserRule=cn\n"
	    "CertificateUserDomain=example.com\n");
	CHECK(config_parse_text(&c, o, "/etc/moat/moatd.conf", text,
	    strlen(text), 0, err, sizeof(err)) == 0, "%s", err);
	CHECK(config_check(&c, o, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strcmp(err, "/etc/moat/moatd.conf:2: CertificateUserDomain applies "
	    "to CertificateUserRule email and upn, not to cn") == 0, "'%s'", err);
	config_defaults(&c);
	memset(o, 0, sizeof(o));
	snprintf(text, sizeof(text), "CertificateCrlFile=/etc/moat/c.crl\n");
	CHECK(config_parse_text(&c, o, "/etc/moat/moatd.conf", text,
	    strlen(text), 0, err, sizeof(err)) == 0, "%s", err);
	CHECK(config_check(&c, o, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strcmp(err, "/etc/moat/moatd.conf:1: CertificateCrlFile is set but "
	    "CertificateCaFile is not") == 0, "'%s'", err);
	CHECK(config_check(&c, NULL, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strncmp(err, "(default): ", 11) == 0, "'%s'", err);

	/* The Certificate factor needs its CA file. */
	config_defaults(&c);
	memset(o, 0, sizeof(o));
	snprintf(text, sizeof(text), "\nAuthentication=Certificate,SystemAuth\n");
	CHECK(config_parse_text(&c, o, "/etc/moat/moatd.conf", text,
	    strlen(text), 0, err, sizeof(err)) == 0, "%s", err);
	CHECK(config_check(&c, o, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strcmp(err, "/etc/moat/moatd.conf:2: Authentication uses "
	    "Certificate, but CertificateCaFile is not set") == 0, "'%s'", err);
	snprintf(text, sizeof(text), "CertificateCaFile=/etc/moat/card-ca.pem\n");
	CHECK(config_parse_text(&c, o, "/etc/moat/policy.d/c.conf", text,
	    strlen(text), 1, err, sizeof(err)) == 0, "%s", err);
	CHECK(config_check(&c, o, err, sizeof(err)) == 0, "%s", err);
}

/* BlacklistThreshold, BlacklistTimeout, BlacklistExempt, IpClientAddresses, MaxStartups. */
static void
test_access_control(void)
{
	struct moat_config c;

	CHECK(accepts("BlacklistThreshold", "0", &c) &&
	    c.blacklist_threshold == 0, "0: off");
	CHECK(accepts("BlacklistThreshold", "1000", &c), "x");
	CHECK(!accepts("BlacklistThreshold", "1001", &c), "x");
	CHECK(accepts("BlacklistTimeout", "3600", &c) &&
	    c.blacklist_timeout == 3600, "x");
	CHECK(!accepts("BlacklistTimeout", "0", &c), "x");
	CHECK(!accepts("BlacklistTimeout", "3601", &c), "x");
	CHECK(accepts("MaxStartups", "1", &c) && c.max_startups == 1, "x");
	CHECK(!accepts("MaxStartups", "10:30:100", &c), "x");
	CHECK(accepts("PerSourceMaxStartups", "1000", &c) &&
	    c.per_source_max_startups == 1000, "x");
	CHECK(!accepts("PerSourceMaxStartups", "0", &c), "x");

	CHECK(accepts("IpClientAddresses", "+192.168.0.0/16, -10.0.0.1,+::1,-",
	    &c) && c.ip_client_filter.n == 4 &&
	    strcmp(c.ip_client_addresses, "+192.168.0.0/16, -10.0.0.1,+::1,-") ==
	    0, "%u", c.ip_client_filter.n);
	CHECK(accepts("IpClientAddresses", "", &c) && c.ip_client_filter.n == 0,
	    "empty");
	CHECK(accepts("BlacklistExempt", "10.0.0.0/8,2001:db8::/64", &c) &&
	    c.blacklist_exempt_list.n == 2, "exempt");
	CHECK(accepts("IpClientAddresses", "?10.0.0.0/8,+", &c) &&
	    c.ip_client_filter.n == 2 &&
	    c.ip_client_filter.rule[0].action == IP_ACTION_QUERY, "%s", err);
	EXPECT_ERROR("\nIpClientAddresses=+10.0.0.0/8,10.1.0.0/16\n",
	    "t.conf:2: IpClientAddresses: rule 2 '10.1.0.0/16' does not start "
	    "with '+', '-' or '?'; allowed: +ADDRESS[/PREFIX], "
	    "-ADDRESS[/PREFIX], ?ADDRESS[/PREFIX], +, - or ?");
	EXPECT_ERROR("IpClientAddresses=-192.168.1.1/24\n",
	    "t.conf:1: IpClientAddresses: rule 1 '-192.168.1.1/24': the address "
	    "has bits set beyond the /24 prefix (the network is 192.168.1.0/24)");
	EXPECT_ERROR("BlacklistExempt=localhost\n",
	    "t.conf:1: BlacklistExempt: entry 1 'localhost': 'localhost' is not "
	    "an IPv4 or IPv6 address");
	EXPECT_ERROR("BlacklistTimeout=0\n",
	    "t.conf:1: BlacklistTimeout: invalid value '0'; allowed: 1..3600 "
	    "(seconds of the first refusal; doubled on each further failure, at "
	    "most 3600)");
	EXPECT_ERROR("BlacklistThreshold=-1\n",
	    "t.conf:1: BlacklistThreshold: invalid value '-1'; allowed: 0..1000 "
	    "(failed authentications before an address or user is refused; 0: "
	    "off)");
	/* A policy file overrides the main file's rules, parsed again. */
	{
		struct config_origin o[CONFIG_PARAMS_MAX];
		const char *t1 = "IpClientAddresses=+\n";
		const char *t2 = "IpClientAddresses=+127.0.0.1,-\n";

		config_defaults(&c);
		memset(o, 0, sizeof(o));
		CHECK(parse_as("main.conf", &c, o, t1, strlen(t1), 0) == 0 &&
		    parse_as("policy.conf", &c, o, t2, strlen(t2), 1) == 0 &&
		    c.ip_client_filter.n == 2 &&
		    c.ip_client_filter.rule[1].action == IP_ACTION_DENY, "%s", err);
	}
}

static void
test_override(void)
{
	struct config_origin o[CONFIG_PARAMS_MAX];
	struct moat_config c;
	int r;

	r = parse_fresh("ListenPort=5901\nMaxConnections=5\n", &c, o);
	CHECK(r == 0, "%s", err);
	/* Same layer: a second main-layer file may not repeat a parameter. */
	r = parse_as("second.conf", &c, o, "\nListenPort=5902\n", 16, 0);
	CHECK(r == MOAT_ERR_CONFIG && strcmp(err, "second.conf:2: duplicate "
	    "parameter 'ListenPort' (first set at t.conf:1)") == 0, "%s", err);
	/* The policy layer overrides. */
	r = parse_fresh("ListenPort=5901\nMaxConnections=5\n", &c, o);
	r = parse_as("policy.conf", &c, o, "# locked\nListenPort=5999\n", 24, 1);
	CHECK(r == 0 && c.listen_port == 5999 && c.max_connections == 5, "%s", err);
	CHECK(strcmp(o[1].file, "policy.conf") == 0 && o[1].line == 2, "%s:%u",
	    o[1].file, o[1].line);
	CHECK(strcmp(o[15].file, "t.conf") == 0 && o[15].line == 2, "%s:%u",
	    o[15].file, o[15].line);
	/* ... but not twice within one policy file. */
	r = parse_as("p2.conf", &c, o, "ListenPort=1\nListenPort=2\n", 26, 1);
	CHECK(r == MOAT_ERR_CONFIG && strcmp(err, "p2.conf:2: duplicate "
	    "parameter 'ListenPort' (first set at p2.conf:1)") == 0, "%s", err);
}

/* --- config_load: files on disk --- */

static char root[64];

static int
put_file(const char *path, const char *text, mode_t mode, uid_t uid)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	if (fd == -1 || write(fd, text, len) != (ssize_t)len ||
	    fchown(fd, uid, 0) != 0 || fchmod(fd, mode) != 0) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	return close(fd);
}

static int
run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int
load(const char *rel, struct moat_config *c, struct config_origin *o)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	config_defaults(c);
	memset(o, 0, sizeof(*o) * config_param_count());
	return config_load(c, o, path, err, sizeof(err));
}

/* err must be "ROOT/rel: tail" */
static int
err_is(const char *rel, const char *tail)
{
	char want[1024];

	snprintf(want, sizeof(want), "%s/%s: %s", root, rel, tail);
	if (strcmp(err, want) == 0)
		return 1;
	fprintf(stderr, "  got:  '%s'\n  want: '%s'\n", err, want);
	return 0;
}

static void
test_load(void)
{
	struct config_origin o[CONFIG_PARAMS_MAX];
	struct moat_config c;
	char p[512], want[1024];
	int r;

	if (geteuid() != 0) {
		printf("config_load ownership tests skipped: needs root\n");
		return;
	}
	snprintf(root, sizeof(root), "/tmp/moat-cfgtest.XXXXXX");
	if (mkdtemp(root) == NULL || chmod(root, 0755) != 0) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(p, sizeof(p), "%s/etc", root);
	CHECK(mkdir(p, 0755) == 0, "mkdir");
	snprintf(p, sizeof(p), "%s/etc/moatd.conf", root);
	CHECK(put_file(p, "ListenPort=5901\nMaxConnections=7\nLogFile=/x\n",
	    0644, 0) == 0, "put");

	/* A good file without policy.d. */
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == 0 && c.listen_port == 5901 && c.max_connections == 7, "%s", err);
	CHECK(strcmp(o[1].file, p) == 0 && o[1].line == 1, "%s", o[1].file);

	/* Relative and missing paths. */
	config_defaults(&c);
	r = config_load(&c, o, "etc/moatd.conf", err, sizeof(err));
	CHECK(r == MOAT_ERR_CONFIG && strcmp(err, "etc/moatd.conf: "
	    "configuration path must be absolute") == 0, "%s", err);
	r = load("etc/none.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/none.conf",
	    "cannot open: No such file or directory"), "%s", err);

	/* policy.d overrides, in lexical order, only *.conf. */
	snprintf(p, sizeof(p), "%s/etc/policy.d", root);
	CHECK(mkdir(p, 0755) == 0, "mkdir");
	snprintf(p, sizeof(p), "%s/etc/policy.d/20-port.conf", root);
	CHECK(put_file(p, "# locked\nListenPort=6000\n", 0644, 0) == 0, "put");
	snprintf(p, sizeof(p), "%s/etc/policy.d/10-enc.conf", root);
	CHECK(put_file(p, "Encryption=AlwaysMaximum\n", 0600, 0) == 0, "put");
	snprintf(p, sizeof(p), "%s/etc/policy.d/README", root);
	CHECK(put_file(p, "not a config\n", 0644, 0) == 0, "put");
	snprintf(p, sizeof(p), "%s/etc/policy.d/.hidden.conf", root);
	CHECK(put_file(p, "garbage\n", 0644, 0) == 0, "put");
	snprintf(p, sizeof(p), "%s/etc/policy.d/30.conf.bak", root);
	CHECK(put_file(p, "garbage\n", 0666, 65534) == 0, "put");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == 0 && c.listen_port == 6000 && c.max_connections == 7 &&
	    c.encryption == CONFIG_ENC_ALWAYS_MAXIMUM, "%s", err);
	snprintf(p, sizeof(p), "%s/etc/policy.d/20-port.conf", root);
	CHECK(strcmp(o[1].file, p) == 0 && o[1].line == 2, "%s:%u", o[1].file,
	    o[1].line);

	/* The same parameter in two policy files is a duplicate. */
	snprintf(p, sizeof(p), "%s/etc/policy.d/15-port.conf", root);
	CHECK(put_file(p, "\n\nlistenport=6001\n", 0644, 0) == 0, "put");
	config_defaults(&c);
	c.listen_port = 1234;
	r = config_load(&c, o, (snprintf(p, sizeof(p), "%s/etc/moatd.conf", root),
	    p), err, sizeof(err));
	snprintf(want, sizeof(want), "duplicate parameter 'ListenPort' "
	    "(first set at %s/etc/policy.d/15-port.conf:3)", root);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/policy.d/20-port.conf:2",
	    want), "%s", err);
	CHECK(c.listen_port == 1234, "config changed on failure");
	run("rm -f %s/etc/policy.d/15-port.conf", root);

	/* A bad value in a policy file names that file. */
	snprintf(p, sizeof(p), "%s/etc/policy.d/40-bad.conf", root);
	CHECK(put_file(p, "MaxCutText=-1\n", 0644, 0) == 0, "put");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/policy.d/40-bad.conf:1",
	    "MaxCutText: invalid value '-1'; allowed: 0..262144"), "%s", err);
	unlink(p);

	/* Group- and other-writable, non-root-owned files. */
	snprintf(p, sizeof(p), "%s/etc/moatd.conf", root);
	CHECK(chmod(p, 0664) == 0, "chmod");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/moatd.conf",
	    "writable by group or others (mode 0664)"), "%s", err);
	CHECK(chmod(p, 0646) == 0, "chmod");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/moatd.conf",
	    "writable by group or others (mode 0646)"), "%s", err);
	CHECK(chmod(p, 0644) == 0 && chown(p, 65534, 0) == 0, "chown");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/moatd.conf",
	    "owned by uid 65534, not by root"), "%s", err);
	CHECK(chown(p, 0, 0) == 0, "chown");
	CHECK(load("etc/moatd.conf", &c, o) == 0, "%s", err);

	/* The same for a policy file and for policy.d itself. */
	snprintf(p, sizeof(p), "%s/etc/policy.d/10-enc.conf", root);
	CHECK(chown(p, 65534, 65534) == 0, "chown");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/policy.d/10-enc.conf",
	    "owned by uid 65534, not by root"), "%s", err);
	CHECK(chown(p, 0, 0) == 0 && chmod(p, 0620) == 0, "chown");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/policy.d/10-enc.conf",
	    "writable by group or others (mode 0620)"), "%s", err);
	CHECK(chmod(p, 0600) == 0, "chmod");
	snprintf(p, sizeof(p), "%s/etc/policy.d", root);
	CHECK(chmod(p, 01777) == 0, "chmod");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/policy.d",
	    "writable by group or others (mode 1777)"), "%s", err);
	CHECK(chmod(p, 0755) == 0 && chown(p, 65534, 0) == 0, "chmod");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/policy.d",
	    "owned by uid 65534, not by root"), "%s", err);
	CHECK(chown(p, 0, 0) == 0, "chown");
	CHECK(load("etc/moatd.conf", &c, o) == 0, "%s", err);

	/* Directories above the file: writable, foreign-owned, sticky. */
	snprintf(p, sizeof(p), "%s/etc", root);
	CHECK(chmod(p, 0775) == 0, "chmod");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc",
	    "writable by group or others (mode 0775)"), "%s", err);
	CHECK(chmod(p, 0755) == 0 && chown(p, 65534, 0) == 0, "chown");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc",
	    "owned by uid 65534, not by root"), "%s", err);
	CHECK(chown(p, 0, 0) == 0, "chown");
	CHECK(chmod(root, 0757) == 0, "chmod");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && strcmp(err, (snprintf(want, sizeof(want),
	    "%s: writable by group or others (mode 0757)", root), want)) == 0,
	    "%s", err);
	/* A root-owned sticky directory above (like /tmp itself) is accepted. */
	CHECK(chmod(root, 01777) == 0, "chmod");
	CHECK(load("etc/moatd.conf", &c, o) == 0, "%s", err);
	CHECK(chmod(root, 0755) == 0, "chmod");

	/* Symbolic links: the file, a directory on the path, a policy file. */
	run("ln -s %s/etc/moatd.conf %s/etc/link.conf", root, root);
	r = load("etc/link.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/link.conf",
	    "is a symbolic link"), "%s", err);
	run("ln -s %s/etc %s/etclink", root, root);
	r = load("etclink/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etclink",
	    "symbolic link in the path of the configuration"), "%s", err);
	run("ln -s %s/etc/policy.d/10-enc.conf %s/etc/policy.d/50-link.conf",
	    root, root);
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/policy.d/50-link.conf",
	    "is a symbolic link"), "%s", err);
	run("rm -f %s/etc/policy.d/50-link.conf", root);
	run("mv %s/etc/policy.d %s/etc/policy.real && ln -s %s/etc/policy.real "
	    "%s/etc/policy.d", root, root, root, root);
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/policy.d",
	    "is a symbolic link"), "%s", err);
	run("rm -f %s/etc/policy.d && mv %s/etc/policy.real %s/etc/policy.d",
	    root, root, root);
	CHECK(load("etc/moatd.conf", &c, o) == 0, "%s", err);

	/* Not regular files: a FIFO must not block, a directory is refused. */
	snprintf(p, sizeof(p), "%s/etc/fifo.conf", root);
	CHECK(mkfifo(p, 0600) == 0, "mkfifo");
	r = load("etc/fifo.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/fifo.conf",
	    "not a regular file"), "%s", err);
	snprintf(p, sizeof(p), "%s/etc/policy.d/60-dir.conf", root);
	CHECK(mkdir(p, 0755) == 0, "mkdir");
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/policy.d/60-dir.conf",
	    "not a regular file"), "%s", err);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/etc/policy.d", root);
	run("mv %s %s.x && touch %s", p, p, p);
	r = load("etc/moatd.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/policy.d", "not a directory"),
	    "%s", err);
	run("rm -f %s && mv %s.x %s", p, p, p);

	/* Size is bounded before reading (a sparse 2 MiB file). */
	snprintf(p, sizeof(p), "%s/etc/big.conf", root);
	CHECK(put_file(p, "", 0644, 0) == 0 && truncate(p, 2 * 1024 * 1024) == 0,
	    "truncate");
	r = load("etc/big.conf", &c, o);
	CHECK(r == MOAT_ERR_CONFIG && err_is("etc/big.conf",
	    "file larger than 1048576 bytes"), "%s", err);

	/* An error in the main file leaves c untouched. */
	snprintf(p, sizeof(p), "%s/etc/bad.conf", root);
	CHECK(put_file(p, "ListenPort=5999\nBogus\n", 0644, 0) == 0, "put");
	config_defaults(&c);
	r = config_load(&c, o, p, err, sizeof(err));
	CHECK(r == MOAT_ERR_CONFIG && c.listen_port == 5900 &&
	    err_is("etc/bad.conf:2", "expected Name=Value"), "%s", err);

	run("rm -rf %s", root);
}

/*
 * Deterministic mutation of a valid file: every single-byte deletion and
 * every bit flip must parse or fail with MOAT_ERR_CONFIG and a message
 * that starts with the file name and holds no raw control character.
 */
static void
test_mutations(void)
{
	static const char fname[] = "mut.conf";
	size_t len = sizeof(full_text) - 1, i, k, bad = 0, ok = 0, total = 0;
	struct config_origin o[CONFIG_PARAMS_MAX];
	struct moat_config c;
	char text[sizeof(full_text)];
	int r, bit;

	for (i = 0; i <= len; i++) {
		for (bit = -1; bit < 8; bit++) {
			size_t n = len;

			if (i == len && bit != -1)
				break;
			memcpy(text, full_text, len);
			if (bit == -1) {
				if (i == len)
					continue;
				memmove(text + i, text + i + 1, len - i - 1);
				n = len - 1;
			} else
				text[i] = (char)(text[i] ^ (1 << bit));
			config_defaults(&c);
			memset(o, 0, sizeof(o));
			memset(err, 'Z', sizeof(err));
			r = config_parse_text(&c, o, fname, text, n, 0, err,
			    sizeof(err));
			total++;
			if (r == 0) {
				ok++;
				continue;
			}
			if (r != MOAT_ERR_CONFIG || memchr(err, '\0',
			    sizeof(err)) == NULL || strncmp(err, "mut.conf:",
			    9) != 0) {
				if (bad++ < 5)
					fprintf(stderr, "mutation %zu/%d: r=%d "
					    "'%.200s'\n", i, bit, r, err);
				continue;
			}
			for (k = 0; err[k] != '\0'; k++) {
				if ((unsigned char)err[k] < 0x20 ||
				    (unsigned char)err[k] >= 0x7f) {
					if (bad++ < 5)
						fprintf(stderr, "mutation %zu/%d: "
						    "raw byte in '%s'\n", i, bit, err);
					break;
				}
			}
		}
	}
	CHECK(bad == 0, "%zu of %zu mutations misbehaved", bad, total);
	CHECK(total == len + 8 * len, "%zu", total);
	/* Both outcomes must occur, or the test tests nothing. */
	CHECK(ok > 0 && ok < total, "ok=%zu total=%zu", ok, total);
	printf("mutations: %zu inputs, %zu parsed, %zu refused\n", total, ok,
	    total - ok);
}

/* Permissions, IdleTimeout and sharing (docs/permissions.md). */
static void
test_sessions(void)
{
	struct config_origin o[CONFIG_PARAMS_MAX];
	struct moat_config c, d;
	int r, id;

	config_defaults(&c);
	CHECK(c.permissions[0] == '\0' && c.permissions_table.n == 0 &&
	    c.idle_timeout == 3600 && c.always_shared == 1 &&
	    c.never_shared == 0 && c.disconnect_clients == 1,
	    "session defaults");
	r = parse_fresh("Permissions = alice:skv, %staff:vkp\n", &c, o);
	CHECK(r != 0, "blanks inside the value are refused");
	r = parse_fresh("Permissions=alice:skv,%staff:vkp,bob:-\n"
	    "IdleTimeout=0\nAlwaysShared=no\nNeverShared=yes\n"
	    "DisconnectClients=no\n", &c, o);
	CHECK(r == 0, "%s", err);
	/* Stored canonical, parsed beside. */
	CHECK(strcmp(c.permissions, "alice:vks,%staff:vkp,bob:-") == 0, "%s",
	    c.permissions);
	CHECK(c.permissions_table.n == 3 &&
	    c.permissions_table.e[1].is_group &&
	    c.permissions_table.e[2].rights == 0, "table");
	CHECK(c.idle_timeout == 0 && c.always_shared == 0 &&
	    c.never_shared == 1 && c.disconnect_clients == 0, "values");
	CHECK(parse_fresh("IdleTimeout=604800\n", &c, o) == 0 &&
	    c.idle_timeout == 604800, "%s", err);
	EXPECT_ERROR("IdleTimeout=604801\n",
	    "t.conf:1: IdleTimeout: invalid value '604801'; allowed: "
	    "0..604800 (seconds without input from the viewer before it is "
	    "disconnected; 0: never)");
	EXPECT_ERROR("AlwaysShared=maybe\n",
	    "t.conf:1: AlwaysShared: invalid value 'maybe'; allowed: yes, no");
	EXPECT_ERROR("\nPermissions=alice:vx\n",
	    "t.conf:2: Permissions: bad permission letters in entry 'alice:vx'; "
	    "entries are USER:LETTERS or %GROUP:LETTERS, LETTERS '-' or of v "
	    "(view), k (keyboard), p (pointer), c (clipboard to the viewer), s "
	    "(clipboard to the desktop), r (resize the desktop), f, P (names "
	    "only), q (no approval prompt)");
	EXPECT_ERROR("Permissions=alice:v,alice:k\n",
	    "t.conf:1: Permissions: user named twice in entry 'alice:k'; "
	    "entries are USER:LETTERS or %GROUP:LETTERS, LETTERS '-' or of v "
	    "(view), k (keyboard), p (pointer), c (clipboard to the viewer), s "
	    "(clipboard to the desktop), r (resize the desktop), f, P (names "
	    "only), q (no approval prompt)");
	/* Locked policy overrides moatd.conf, table included. */
	CHECK(parse_fresh("Permissions=alice:vkpcs\n", &c, o) == 0, "%s", err);
	CHECK(parse_as("policy.d/10.conf", &c, o, "Permissions=alice:v\n", 20,
	    1) == 0, "%s", err);
	CHECK(strcmp(c.permissions, "alice:v") == 0 &&
	    c.permissions_table.n == 1 &&
	    c.permissions_table.e[0].rights == IPC_PERM_VIEW &&
	    strcmp(o[config_param_index("Permissions")].file,
	    "policy.d/10.conf") == 0, "%s", c.permissions);
	/* Permissions has a parsed companion: not copied field by field. */
	id = config_param_index("Permissions");
	config_defaults(&d);
	CHECK(id >= 0 && config_param_copy(&d, &c, (size_t)id) ==
	    MOAT_ERR_INVALID && d.permissions[0] == '\0', "copy refused");
	CHECK(config_param_copy(&d, &c, (size_t)config_param_index(
	    "IdleTimeout")) == 0, "IdleTimeout copies");
}

/* QueryConnect, QueryConnectTimeout, QueryConnectDefault (docs/access-control.md). */
static void
test_query_connect(void)
{
	struct config_origin o[CONFIG_PARAMS_MAX];
	struct moat_config c;
	int r;

	config_defaults(&c);
	CHECK(c.query_connect == 0 && c.query_connect_timeout == 10 &&
	    c.query_connect_default == CONFIG_QUERY_REJECT, "query defaults");
	r = parse_fresh("QueryConnect=yes\nQueryConnectTimeout=600\n"
	    "QueryConnectDefault=accept\n", &c, o);
	CHECK(r == 0 && c.query_connect == 1 && c.query_connect_timeout == 600 &&
	    c.query_connect_default == CONFIG_QUERY_ACCEPT, "%s", err);
	CHECK(parse_fresh("QueryConnectDefault=Reject\nQueryConnectTimeout=1\n",
	    &c, o) == 0 && c.query_connect_default == CONFIG_QUERY_REJECT &&
	    c.query_connect_timeout == 1, "%s", err);
	EXPECT_ERROR("\n\nQueryConnectDefault=Ask\n",
	    "t.conf:3: QueryConnectDefault: invalid value 'Ask'; allowed: "
	    "Accept, Reject (what an unanswered prompt does)");
	EXPECT_ERROR("QueryConnectTimeout=0\n",
	    "t.conf:1: QueryConnectTimeout: invalid value '0'; allowed: 1..600 "
	    "(seconds the approval prompt waits for an answer)");
	EXPECT_ERROR("QueryConnectTimeout=601\n",
	    "t.conf:1: QueryConnectTimeout: invalid value '601'; allowed: "
	    "1..600 (seconds the approval prompt waits for an answer)");
	EXPECT_ERROR("QueryConnect=ask\n",
	    "t.conf:1: QueryConnect: invalid value 'ask'; allowed: yes, no (ask "
	    "the desktop user to approve every connection; users with the "
	    "Permissions letter q are not asked)");
	EXPECT_ERROR("QueryConnect=yes\nQueryConnect=no\n",
	    "t.conf:2: duplicate parameter 'QueryConnect' (first set at "
	    "t.conf:1)");
	/* The bypass letter. */
	CHECK(parse_fresh("Permissions=alice:vq,%staff:vkpcs\n", &c, o) == 0 &&
	    c.permissions_table.e[0].rights == (IPC_PERM_VIEW | PERM_NO_QUERY) &&
	    strcmp(c.permissions, "alice:vq,%staff:vkpcs") == 0, "%s", err);
	/* Locked policy overrides the main file. */
	CHECK(parse_fresh("QueryConnect=no\n", &c, o) == 0 &&
	    parse_as("policy.d/10.conf", &c, o, "QueryConnect=yes\n", 17, 1) ==
	    0 && c.query_connect == 1 && strcmp(o[config_param_index(
	    "QueryConnect")].file, "policy.d/10.conf") == 0, "%s", err);
}

/* BlankScreen, DisableLocalInputs (docs/local-display.md). */
static void
test_local_display(void)
{
	static const char text[] = "BlankScreen=yes\nDisableLocalInputs=Yes\n";
	struct config_origin o[CONFIG_PARAMS_MAX];
	struct moat_config c;
	char m[sizeof(text)];
	size_t i, n, errs = 0;
	int bit, r;

	config_defaults(&c);
	CHECK(c.blank_screen == 0 && c.disable_local_inputs == 0,
	    "local display defaults");
	r = parse_fresh(text, &c, o);
	CHECK(r == 0 && c.blank_screen == 1 && c.disable_local_inputs == 1 &&
	    o[config_param_index("DisableLocalInputs")].line == 2, "%s", err);
	CHECK(parse_fresh("BlankScreen=no\nDisableLocalInputs=no\n", &c, o) ==
	    0 && c.blank_screen == 0 && c.disable_local_inputs == 0, "%s", err);
	EXPECT_ERROR("\nBlankScreen=off\n",
	    "t.conf:2: BlankScreen: invalid value 'off'; allowed: yes, no "
	    "(while a viewer is connected, blank the local monitors through "
	    "the X screen saver; docs/local-display.md)");
	EXPECT_ERROR("DisableLocalInputs=\n",
	    "t.conf:1: DisableLocalInputs: invalid value ''; allowed: yes, no "
	    "(while a viewer is connected, disable the local keyboards and "
	    "pointers; docs/local-display.md)");
	EXPECT_ERROR("BlankScreen=yes\nBlankScreen=yes\n",
	    "t.conf:2: duplicate parameter 'BlankScreen' (first set at "
	    "t.conf:1)");
	/* DisconnectAction needs logind, which moat does not use (yet). */
	CHECK(parse_fresh("DisconnectAction=Lock\n", &c, o) == MOAT_ERR_CONFIG,
	    "DisconnectAction accepted");
	/* Locked policy overrides the main file. */
	CHECK(parse_fresh("DisableLocalInputs=no\n", &c, o) == 0 &&
	    parse_as("policy.d/10.conf", &c, o, "DisableLocalInputs=yes\n", 23,
	    1) == 0 && c.disable_local_inputs == 1, "%s", err);
	/*
	 * Every bit flip and every one-byte deletion either parses to 0/1
	 * values or fails naming the file and line.
	 */
	for (i = 0; i < sizeof(text) - 1; i++) {
		for (bit = -1; bit < 8; bit++) {
			n = sizeof(text) - 1;
			memcpy(m, text, n);
			if (bit == -1) {
				memmove(m + i, m + i + 1, n - i - 1);
				n--;
			} else
				m[i] = (char)(m[i] ^ (1 << bit));
			config_defaults(&c);
			r = config_parse_text(&c, NULL, "t.conf", m, n, 0, err,
			    sizeof(err));
			if (r == 0)
				CHECK(c.blank_screen <= 1 &&
				    c.disable_local_inputs <= 1, "mutant value");
			else if (r != MOAT_ERR_CONFIG ||
			    strncmp(err, "t.conf:", 7) != 0)
				errs++;
		}
	}
	CHECK(errs == 0, "%zu mutants failed without FILE:LINE", errs);
}

/* AuditFile and its companions (docs/audit.md). */
static void
test_audit(void)
{
	struct config_origin o[64];
	struct moat_config c;
	static char out[65536];
	FILE *f;
	size_t n;

	config_defaults(&c);
	CHECK(strcmp(c.audit_file, "/var/log/moat/audit.jsonl") == 0 &&
	    strcmp(c.audit_key, "/etc/moat/audit.key") == 0 &&
	    c.audit_checkpoint_interval == 100 &&
	    c.audit_rotate_size == 10485760 && c.audit_rotate_keep == 10,
	    "audit defaults");
	CHECK(parse_fresh("AuditFile=/srv/audit/a.jsonl\nAuditKey=/srv/k\n"
	    "AuditCheckpointInterval=1\nAuditRotateSize=0\n"
	    "AuditRotateKeep=1000\n", &c, o) == 0, "%s", err);
	CHECK(strcmp(c.audit_file, "/srv/audit/a.jsonl") == 0 &&
	    strcmp(c.audit_key, "/srv/k") == 0 &&
	    c.audit_checkpoint_interval == 1 && c.audit_rotate_size == 0 &&
	    c.audit_rotate_keep == 1000, "audit values");
	CHECK(parse_fresh("AuditFile=\nAuditRotateSize=4294967295\n", &c, o) ==
	    0 && c.audit_file[0] == '\0' && c.audit_rotate_size == 4294967295u,
	    "%s", err);
	EXPECT_ERROR("AuditFile=audit.jsonl\n",
	    "t.conf:1: AuditFile: invalid value 'audit.jsonl'; allowed: an "
	    "absolute path (the hash-chained audit file, docs/audit.md), or "
	    "empty for none (syslog and the journal only)");
	EXPECT_ERROR("AuditKey=\n",
	    "t.conf:1: AuditKey: invalid value ''; allowed: an absolute path "
	    "(the root-only Ed25519 key that signs the audit file's "
	    "checkpoints; created when missing)");
	EXPECT_ERROR("AuditCheckpointInterval=0\n",
	    "t.conf:1: AuditCheckpointInterval: invalid value '0'; allowed: "
	    "1..1000000 (records between two signed checkpoints)");
	EXPECT_ERROR("AuditRotateSize=4294967296\n",
	    "t.conf:1: AuditRotateSize: invalid value '4294967296'; allowed: "
	    "0..4294967295 (bytes of the audit file before it is rotated; 0: "
	    "never by size)");
	EXPECT_ERROR("AuditRotateKeep=0\n",
	    "t.conf:1: AuditRotateKeep: invalid value '0'; allowed: 1..1000 "
	    "(rotated audit files kept: AuditFile.1 ... AuditFile.N)");
	/* moatd -t shows them. */
	CHECK(parse_fresh("AuditRotateKeep=7\n", &c, o) == 0, "%s", err);
	if ((f = tmpfile()) == NULL)
		abort();
	config_dump(&c, o, fileno(f));
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	CHECK(strstr(out, "AuditFile=/var/log/moat/audit.jsonl  # default") != NULL &&
	    strstr(out, "AuditKey=/etc/moat/audit.key") != NULL &&
	    strstr(out, "AuditCheckpointInterval=100") != NULL &&
	    strstr(out, "AuditRotateSize=10485760") != NULL &&
	    strstr(out, "AuditRotateKeep=7  # from t.conf:1") != NULL, "%s", out);
}

int
main(void)
{
	test_defaults();
	test_sessions();
	test_query_connect();
	test_local_display();
	test_audit();
	test_full_file();
	test_errors();
	test_radius();
	test_vnc_password_file();
	test_certificate();
	test_kerberos();
	test_access_control();
	test_values();
	test_override();
	test_load();
	test_mutations();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
