/*
 * config_parse.c - the parameter table of moatd.conf and of the *.conf
 * files in policy.d/: defaults, validation and "moatd -t" output.
 *
 * Runs in moatd (root). The text comes from root-owned files, but it is
 * parsed as if it were hostile: every line is bounded, every value checked
 * against its type and range, and every piece of the input quoted in an
 * error message is escaped and cut short. Parsing is pure (no I/O, no
 * allocation), so it is fuzzed directly (fuzz/fuzz_config.c); the file
 * checks live in config_load.c.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "config.h"

#define CONFIG_LINE_MAX		4096		/* bytes per line, without '\n' */
#define CONFIG_FILE_MAX		(1024 * 1024)	/* bytes per file */
#define CONFIG_QUOTE_MAX	64		/* input bytes quoted in a message */

enum param_type {
	PT_ADDRESS,	/* IPv4 or IPv6 literal */
	PT_UINT,	/* decimal integer in [min, max] */
	PT_ENUM,	/* one of enum_names(id) */
	PT_PATH,	/* absolute path */
	PT_PATH_EMPTY,	/* absolute path or "" */
	PT_NAMELIST,	/* comma-separated DNS names / IP literals */
	PT_USER,	/* system user name */
	PT_SERVICE,	/* PAM service name */
	PT_TEXT,	/* UTF-8 text, may be empty */
	PT_AUTH,	/* the Authentication grammar (policy/auth_methods.h) */
	PT_BOOL,	/* yes | no */
	PT_SERVERS,	/* comma-separated ADDRESS[:PORT] or [IPv6][:PORT], at most 4 */
	PT_DOMAIN_EMPTY,	/* DNS name or "" */
	PT_IPRULES,	/* IpClientAddresses rules (policy/ip_filter.h), or "" */
	PT_ADDRLIST,	/* ADDRESS[/PREFIX] list (policy/ip_filter.h), or "" */
	PT_PERMS,	/* Permissions entries (policy/permissions.h), or "" */
};

enum param_id {
	P_LISTEN_ADDRESS,
	P_LISTEN_PORT,
	P_IDENTITY_KEY,
	P_IDENTITY_CERT,
	P_TLS_NAMES,
	P_EMPTY_ROOT,
	P_NET_USER,
	P_NET_BINARY,
	P_SESSION_SOCKET,
	P_LOG_FILE,
	P_PAM_SERVICE,
	P_DESKTOP_NAME,
	P_ENCRYPTION,
	P_MAX_CUT_TEXT,
	P_LOGIN_GRACE_TIME,
	P_MAX_CONNECTIONS,
	P_AUTHENTICATION,
	P_IDENTITY_ROTATION_CERT,
	P_RADIUS_SERVERS,
	P_RADIUS_SECRET_FILE,
	P_RADIUS_NAS_IDENTIFIER,
	P_RADIUS_TIMEOUT,
	P_RADIUS_RETRIES,
	P_RADIUS_ALLOW_UNSIGNED,
	P_VNC_PASSWORD_FILE,
	P_CERTIFICATE_CA_FILE,
	P_CERTIFICATE_CRL_FILE,
	P_CERTIFICATE_USER_RULE,
	P_CERTIFICATE_USER_DOMAIN,
	P_KERBEROS_KEYTAB,
	P_KERBEROS_SERVICE,
	P_KERBEROS_REALM,
	P_BLACKLIST_THRESHOLD,
	P_BLACKLIST_TIMEOUT,
	P_BLACKLIST_EXEMPT,
	P_IP_CLIENT_ADDRESSES,
	P_MAX_STARTUPS,
	P_PER_SOURCE_MAX_STARTUPS,
	P_CONTROL_SOCKET,
	P_PERMISSIONS,
	P_IDLE_TIMEOUT,
	P_ALWAYS_SHARED,
	P_NEVER_SHARED,
	P_DISCONNECT_CLIENTS,
	P_QUERY_CONNECT,
	P_QUERY_CONNECT_TIMEOUT,
	P_QUERY_CONNECT_DEFAULT,
	P_BLANK_SCREEN,
	P_DISABLE_LOCAL_INPUTS,
	P_AUDIT_FILE,
	P_AUDIT_KEY,
	P_AUDIT_CHECKPOINT_INTERVAL,
	P_AUDIT_ROTATE_SIZE,
	P_AUDIT_ROTATE_KEEP,
	P_COUNT
};

struct param {
	enum param_type type;
	size_t off;		/* offset of the field in struct moat_config */
	size_t size;		/* size of a char[] field (strings) */
	size_t width;		/* sizeof an integer field (2 or 4) */
	uint32_t min, max;	/* integer range */
};

#define STR(field, t) \
	{ (t), offsetof(struct moat_config, field), \
	  sizeof(((struct moat_config *)0)->field), 0, 0, 0 }
#define NUM(field, t, lo, hi) \
	{ (t), offsetof(struct moat_config, field), 0, \
	  sizeof(((struct moat_config *)0)->field), (lo), (hi) }

static const struct param params[P_COUNT] = {
	[P_LISTEN_ADDRESS] = STR(listen_address, PT_ADDRESS),
	[P_LISTEN_PORT] = NUM(listen_port, PT_UINT, 1, 65535),
	[P_IDENTITY_KEY] = STR(identity_key, PT_PATH),
	[P_IDENTITY_CERT] = STR(identity_cert, PT_PATH),
	[P_TLS_NAMES] = STR(tls_names, PT_NAMELIST),
	[P_EMPTY_ROOT] = STR(empty_root, PT_PATH),
	[P_NET_USER] = STR(net_user, PT_USER),
	[P_NET_BINARY] = STR(net_binary, PT_PATH_EMPTY),
	[P_SESSION_SOCKET] = STR(session_socket, PT_PATH),
	[P_LOG_FILE] = STR(log_file, PT_PATH_EMPTY),
	[P_PAM_SERVICE] = STR(pam_service, PT_SERVICE),
	[P_DESKTOP_NAME] = STR(desktop_name, PT_TEXT),
	[P_ENCRYPTION] = NUM(encryption, PT_ENUM, CONFIG_ENC_ALWAYS_ON,
	    CONFIG_ENC_PREFER_OFF),
	[P_MAX_CUT_TEXT] = NUM(max_cut_text, PT_UINT, 0, 262144),
	[P_LOGIN_GRACE_TIME] = NUM(login_grace_time, PT_UINT, 1, 600),
	[P_MAX_CONNECTIONS] = NUM(max_connections, PT_UINT, 1, 1000),
	[P_AUTHENTICATION] = STR(authentication, PT_AUTH),
	[P_IDENTITY_ROTATION_CERT] = STR(identity_rotation_cert, PT_PATH),
	[P_RADIUS_SERVERS] = STR(radius_servers, PT_SERVERS),
	[P_RADIUS_SECRET_FILE] = STR(radius_secret_file, PT_PATH_EMPTY),
	[P_RADIUS_NAS_IDENTIFIER] = STR(radius_nas_identifier, PT_SERVICE),
	[P_RADIUS_TIMEOUT] = NUM(radius_timeout, PT_UINT, 1, 60),
	[P_RADIUS_RETRIES] = NUM(radius_retries, PT_UINT, 0, 10),
	[P_RADIUS_ALLOW_UNSIGNED] = NUM(radius_allow_unsigned, PT_BOOL, 0, 1),
	[P_VNC_PASSWORD_FILE] = STR(vnc_password_file, PT_PATH),
	[P_CERTIFICATE_CA_FILE] = STR(certificate_ca_file, PT_PATH_EMPTY),
	[P_CERTIFICATE_CRL_FILE] = STR(certificate_crl_file, PT_PATH_EMPTY),
	[P_CERTIFICATE_USER_RULE] = NUM(certificate_user_rule, PT_ENUM,
	    CONFIG_CERT_RULE_EMAIL, CONFIG_CERT_RULE_CN),
	[P_CERTIFICATE_USER_DOMAIN] = STR(certificate_user_domain,
	    PT_DOMAIN_EMPTY),
	[P_KERBEROS_KEYTAB] = STR(kerberos_keytab, PT_PATH),
	[P_KERBEROS_SERVICE] = STR(kerberos_service, PT_SERVICE),
	[P_KERBEROS_REALM] = STR(kerberos_realm, PT_DOMAIN_EMPTY),
	[P_BLACKLIST_THRESHOLD] = NUM(blacklist_threshold, PT_UINT, 0, 1000),
	[P_BLACKLIST_TIMEOUT] = NUM(blacklist_timeout, PT_UINT, 1, 3600),
	[P_BLACKLIST_EXEMPT] = STR(blacklist_exempt, PT_ADDRLIST),
	[P_IP_CLIENT_ADDRESSES] = STR(ip_client_addresses, PT_IPRULES),
	[P_MAX_STARTUPS] = NUM(max_startups, PT_UINT, 1, 1000),
	[P_PER_SOURCE_MAX_STARTUPS] = NUM(per_source_max_startups, PT_UINT, 1,
	    1000),
	[P_CONTROL_SOCKET] = STR(control_socket, PT_PATH_EMPTY),
	[P_PERMISSIONS] = STR(permissions, PT_PERMS),
	[P_IDLE_TIMEOUT] = NUM(idle_timeout, PT_UINT, 0, 604800),
	[P_ALWAYS_SHARED] = NUM(always_shared, PT_BOOL, 0, 1),
	[P_NEVER_SHARED] = NUM(never_shared, PT_BOOL, 0, 1),
	[P_DISCONNECT_CLIENTS] = NUM(disconnect_clients, PT_BOOL, 0, 1),
	[P_QUERY_CONNECT] = NUM(query_connect, PT_BOOL, 0, 1),
	[P_QUERY_CONNECT_TIMEOUT] = NUM(query_connect_timeout, PT_UINT, 1, 600),
	[P_QUERY_CONNECT_DEFAULT] = NUM(query_connect_default, PT_ENUM,
	    CONFIG_QUERY_ACCEPT, CONFIG_QUERY_REJECT),
	[P_BLANK_SCREEN] = NUM(blank_screen, PT_BOOL, 0, 1),
	[P_DISABLE_LOCAL_INPUTS] = NUM(disable_local_inputs, PT_BOOL, 0, 1),
	[P_AUDIT_FILE] = STR(audit_file, PT_PATH_EMPTY),
	[P_AUDIT_KEY] = STR(audit_key, PT_PATH),
	[P_AUDIT_CHECKPOINT_INTERVAL] = NUM(audit_checkpoint_interval, PT_UINT,
	    1, 1000000),
	[P_AUDIT_ROTATE_SIZE] = NUM(audit_rotate_size, PT_UINT, 0, 4294967295u),
	[P_AUDIT_ROTATE_KEEP] = NUM(audit_rotate_keep, PT_UINT, 1, 1000),
};

#define A_PATH		"an absolute path"
#define A_PATH_EMPTY	"an absolute path, or empty for the built-in default"

static const struct config_param_info infos[P_COUNT] = {
	[P_LISTEN_ADDRESS] = { "ListenAddress", "an IPv4 or IPv6 address literal" },
	[P_LISTEN_PORT] = { "ListenPort", "1..65535" },
	[P_IDENTITY_KEY] = { "IdentityKey", A_PATH },
	[P_IDENTITY_CERT] = { "IdentityCert", A_PATH },
	[P_TLS_NAMES] = { "TlsNames",
	    "comma-separated DNS names or IP address literals, no blanks" },
	[P_EMPTY_ROOT] = { "EmptyRoot", A_PATH },
	[P_NET_USER] = { "NetUser",
	    "a user name (letters, digits, '.', '_', '-'; not starting with '-')" },
	[P_NET_BINARY] = { "NetBinary", A_PATH_EMPTY },
	[P_SESSION_SOCKET] = { "SessionSocket", A_PATH },
	[P_LOG_FILE] = { "LogFile", A_PATH_EMPTY },
	[P_PAM_SERVICE] = { "PamService",
	    "a PAM service name (letters, digits, '.', '_', '-')" },
	[P_DESKTOP_NAME] = { "DesktopName",
	    "UTF-8 text without control characters, or empty for the host name" },
	[P_ENCRYPTION] = { "Encryption",
	    "AlwaysOn, PreferOn, AlwaysMaximum, PreferOff" },
	[P_MAX_CUT_TEXT] = { "MaxCutText", "0..262144" },
	[P_LOGIN_GRACE_TIME] = { "LoginGraceTime", "1..600" },
	[P_MAX_CONNECTIONS] = { "MaxConnections", "1..1000" },
	[P_AUTHENTICATION] = { "Authentication", "schemes " AUTH_SCHEME_LIST
	    "; '+' joins factors that must all pass, ',' separates alternatives" },
	[P_IDENTITY_ROTATION_CERT] = { "IdentityRotationCert", A_PATH },
	[P_RADIUS_SERVERS] = { "RadiusServers", "up to 4 comma-separated "
	    "ADDRESS or ADDRESS:PORT (IPv6 as [ADDRESS]:PORT), numeric; port "
	    "1812 if none" },
	[P_RADIUS_SECRET_FILE] = { "RadiusSecretFile", "an absolute path (a "
	    "root-only file holding the shared secret), or empty" },
	[P_RADIUS_NAS_IDENTIFIER] = { "RadiusNasIdentifier",
	    "letters, digits, '.', '_', '-'" },
	[P_RADIUS_TIMEOUT] = { "RadiusTimeout", "1..60 (seconds per datagram)" },
	[P_RADIUS_RETRIES] = { "RadiusRetries", "0..10" },
	[P_RADIUS_ALLOW_UNSIGNED] = { "RadiusAllowUnsigned", "yes, no" },
	[P_VNC_PASSWORD_FILE] = { "VncPasswordFile", "an absolute path (a "
	    "root-only file of USER:HASH lines written by moatctl password)" },
	[P_CERTIFICATE_CA_FILE] = { "CertificateCaFile", "an absolute path (PEM "
	    "CA certificates that client certificates must chain to), or empty" },
	[P_CERTIFICATE_CRL_FILE] = { "CertificateCrlFile", "an absolute path "
	    "(PEM CRLs, one for every CA), or empty for no revocation check" },
	[P_CERTIFICATE_USER_RULE] = { "CertificateUserRule", "email, upn, cn" },
	[P_CERTIFICATE_USER_DOMAIN] = { "CertificateUserDomain", "a DNS name that "
	    "the e-mail address or UPN must end in, or empty for any" },
	[P_KERBEROS_KEYTAB] = { "KerberosKeytab", "an absolute path (a "
	    "root-only keytab holding the service principal's keys)" },
	[P_KERBEROS_SERVICE] = { "KerberosService", "a service name (letters, "
	    "digits, '.', '_', '-'): the first component of the service "
	    "principal" },
	[P_KERBEROS_REALM] = { "KerberosRealm", "a realm name (letters, "
	    "digits, '.', '-', as a DNS name; case matters), or empty" },
	[P_BLACKLIST_THRESHOLD] = { "BlacklistThreshold", "0..1000 (failed "
	    "authentications before an address or user is refused; 0: off)" },
	[P_BLACKLIST_TIMEOUT] = { "BlacklistTimeout", "1..3600 (seconds of "
	    "the first refusal; doubled on each further failure, at most 3600)" },
	[P_BLACKLIST_EXEMPT] = { "BlacklistExempt", "comma-separated "
	    "ADDRESS[/PREFIX] (IPv4 or IPv6) never refused by the blacklist, "
	    "or empty" },
	[P_IP_CLIENT_ADDRESSES] = { "IpClientAddresses", "comma-separated "
	    "rules +ADDRESS[/PREFIX] (allow), -ADDRESS[/PREFIX] (deny), "
	    "?ADDRESS[/PREFIX] (allow once the desktop user approved), +, - or ? "
	    "(every address), the first match deciding; empty: allow all" },
	[P_MAX_STARTUPS] = { "MaxStartups", "1..1000 (connections not yet "
	    "authenticated, in all)" },
	[P_PER_SOURCE_MAX_STARTUPS] = { "PerSourceMaxStartups", "1..1000 "
	    "(connections not yet authenticated from one IPv4 address or "
	    "IPv6 /64)" },
	[P_CONTROL_SOCKET] = { "ControlSocket", "an absolute path (moatctl's "
	    "root-only socket), or empty for control.sock in the directory of "
	    "SessionSocket" },
	[P_PERMISSIONS] = { "Permissions", "comma-separated USER:LETTERS or "
	    "%GROUP:LETTERS, LETTERS '-' (none) or of v (view), k (keyboard), "
	    "p (pointer), c (clipboard to the viewer), s (clipboard to the "
	    "desktop), r (resize the desktop), f, P (names only, grant "
	    "nothing), q (connect without the QueryConnect prompt); empty: "
	    "every right but r (docs/permissions.md)" },
	[P_IDLE_TIMEOUT] = { "IdleTimeout", "0..604800 (seconds without "
	    "input from the viewer before it is disconnected; 0: never)" },
	[P_ALWAYS_SHARED] = { "AlwaysShared", "yes, no" },
	[P_NEVER_SHARED] = { "NeverShared", "yes, no" },
	[P_DISCONNECT_CLIENTS] = { "DisconnectClients", "yes, no" },
	[P_QUERY_CONNECT] = { "QueryConnect", "yes, no (ask the desktop user "
	    "to approve every connection; users with the Permissions letter q "
	    "are not asked)" },
	[P_QUERY_CONNECT_TIMEOUT] = { "QueryConnectTimeout", "1..600 (seconds "
	    "the approval prompt waits for an answer)" },
	[P_QUERY_CONNECT_DEFAULT] = { "QueryConnectDefault", "Accept, Reject "
	    "(what an unanswered prompt does)" },
	[P_BLANK_SCREEN] = { "BlankScreen", "yes, no (while a viewer is "
	    "connected, blank the local monitors through the X screen saver; "
	    "docs/local-display.md)" },
	[P_DISABLE_LOCAL_INPUTS] = { "DisableLocalInputs", "yes, no (while a "
	    "viewer is connected, disable the local keyboards and pointers; "
	    "docs/local-display.md)" },
	[P_AUDIT_FILE] = { "AuditFile", "an absolute path (the hash-chained "
	    "audit file, docs/audit.md), or empty for none (syslog and the "
	    "journal only)" },
	[P_AUDIT_KEY] = { "AuditKey", "an absolute path (the root-only "
	    "Ed25519 key that signs the audit file's checkpoints; created "
	    "when missing)" },
	[P_AUDIT_CHECKPOINT_INTERVAL] = { "AuditCheckpointInterval",
	    "1..1000000 (records between two signed checkpoints)" },
	[P_AUDIT_ROTATE_SIZE] = { "AuditRotateSize", "0..4294967295 (bytes "
	    "of the audit file before it is rotated; 0: never by size)" },
	[P_AUDIT_ROTATE_KEEP] = { "AuditRotateKeep", "1..1000 (rotated "
	    "audit files kept: AuditFile.1 ... AuditFile.N)" },
};

/* Indexed by enum config_encryption. */
static const char *const enc_names[] = {
	[CONFIG_ENC_ALWAYS_ON] = "AlwaysOn",
	[CONFIG_ENC_PREFER_ON] = "PreferOn",
	[CONFIG_ENC_ALWAYS_MAXIMUM] = "AlwaysMaximum",
	[CONFIG_ENC_PREFER_OFF] = "PreferOff",
};

/* Indexed by enum config_cert_rule. */
static const char *const cert_rule_names[] = {
	[CONFIG_CERT_RULE_EMAIL] = "email",
	[CONFIG_CERT_RULE_UPN] = "upn",
	[CONFIG_CERT_RULE_CN] = "cn",
};

/* Indexed by enum config_query_default. */
static const char *const query_default_names[] = {
	[CONFIG_QUERY_ACCEPT] = "Accept",
	[CONFIG_QUERY_REJECT] = "Reject",
};

/* The names of a PT_ENUM parameter's values, indexed by value. */
static const char *const *
enum_names(size_t id)
{
	if (id == P_QUERY_CONNECT_DEFAULT)
		return query_default_names;
	return id == P_CERTIFICATE_USER_RULE ? cert_rule_names : enc_names;
}

size_t
config_param_count(void)
{
	return P_COUNT;
}

const struct config_param_info *
config_params(void)
{
	return infos;
}

static void
set_str(char *dst, size_t dstlen, const char *s)
{
	snprintf(dst, dstlen, "%s", s);
}

void
config_defaults(struct moat_config *c)
{
	memset(c, 0, sizeof(*c));
	set_str(c->listen_address, sizeof(c->listen_address), "0.0.0.0");
	c->listen_port = 5900;
	set_str(c->identity_key, sizeof(c->identity_key), "/etc/moat/identity.key");
	set_str(c->identity_cert, sizeof(c->identity_cert), "/etc/moat/identity.crt");
	set_str(c->identity_rotation_cert, sizeof(c->identity_rotation_cert),
	    "/etc/moat/identity-rotation.crt");
	set_str(c->tls_names, sizeof(c->tls_names), "localhost,127.0.0.1,::1");
	set_str(c->empty_root, sizeof(c->empty_root), "/var/empty/moat");
	set_str(c->net_user, sizeof(c->net_user), "moat-net");
	c->net_binary[0] = '\0';
	set_str(c->session_socket, sizeof(c->session_socket), "/run/moat/session.sock");
	c->log_file[0] = '\0';
	set_str(c->pam_service, sizeof(c->pam_service), "moat");
	c->desktop_name[0] = '\0';
	c->encryption = CONFIG_ENC_ALWAYS_ON;
	c->max_cut_text = 262144;
	c->login_grace_time = 60;
	c->max_connections = 20;
	set_str(c->authentication, sizeof(c->authentication), "SystemAuth");
	c->radius_servers[0] = '\0';
	c->radius_secret_file[0] = '\0';
	set_str(c->radius_nas_identifier, sizeof(c->radius_nas_identifier), "moat");
	c->radius_timeout = 3;
	c->radius_retries = 2;
	c->radius_allow_unsigned = 0;
	set_str(c->vnc_password_file, sizeof(c->vnc_password_file),
	    "/etc/moat/vnc-passwords");
	c->certificate_ca_file[0] = '\0';
	c->certificate_crl_file[0] = '\0';
	c->certificate_user_rule = CONFIG_CERT_RULE_EMAIL;
	c->certificate_user_domain[0] = '\0';
	set_str(c->kerberos_keytab, sizeof(c->kerberos_keytab),
	    "/etc/moat/moat.keytab");
	set_str(c->kerberos_service, sizeof(c->kerberos_service), "vnc");
	c->kerberos_realm[0] = '\0';
	c->blacklist_threshold = 5;
	c->blacklist_timeout = 10;
	c->blacklist_exempt[0] = '\0';
	c->ip_client_addresses[0] = '\0';
	c->max_startups = 10;
	c->per_source_max_startups = 3;
	c->permissions[0] = '\0';
	c->idle_timeout = 3600;
	c->always_shared = 1;
	c->never_shared = 0;
	c->disconnect_clients = 1;
	c->query_connect = 0;
	c->query_connect_timeout = 10;
	c->query_connect_default = CONFIG_QUERY_REJECT;
	c->blank_screen = 0;
	c->disable_local_inputs = 0;
	set_str(c->audit_file, sizeof(c->audit_file),
	    "/var/log/moat/audit.jsonl");
	set_str(c->audit_key, sizeof(c->audit_key), "/etc/moat/audit.key");
	c->audit_checkpoint_interval = 100;
	c->audit_rotate_size = 10u * 1024u * 1024u;
	c->audit_rotate_keep = 10;
	c->auth.n = 1;
	c->auth.alt[0].n = 1;
	c->auth.alt[0].factor[0] = AUTH_SCHEME_SYSTEM;
}

/* --- small pure helpers --- */

static int
is_blank(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static int
is_control(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

static int
is_alnum(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

static unsigned char
ascii_lower(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (unsigned char)(ch - 'A' + 'a') : ch;
}

/* Case-insensitive (ASCII) comparison of p[0..n) with NUL-terminated s. */
static int
name_eq(const char *p, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\0' ||
		    ascii_lower((unsigned char)p[i]) != ascii_lower((unsigned char)s[i]))
			return 0;
	}
	return s[n] == '\0';
}

static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && is_blank((unsigned char)(*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_blank((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

/*
 * Escapes at most CONFIG_QUOTE_MAX bytes of untrusted p[0..n) into dst,
 * marking a cut with "...".
 */
static const char *
quote(char *dst, size_t dstlen, const char *p, size_t n)
{
	size_t cut = n > CONFIG_QUOTE_MAX ? CONFIG_QUOTE_MAX : n;
	size_t l;

	log_escape(dst, dstlen, p, cut);
	if (cut < n && (l = strlen(dst)) + 4 <= dstlen)
		memcpy(dst + l, "...", 4);
	return dst;
}

/* Accepts well-formed UTF-8 without C1 control characters. */
static int
valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	uint32_t cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			need = 1;
		else if ((s[i] & 0xf0) == 0xe0)
			need = 2;
		else if ((s[i] & 0xf8) == 0xf0)
			need = 3;
		else
			return 0;
		cp = s[i] & (0x3fu >> need);
		min = need == 1 ? 0x80 : need == 2 ? 0x800 : 0x10000;
		if (n - i - 1 < need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* One label-dotted DNS name (RFC 1123 host name), 1..253 bytes. */
static int
valid_dns_name(const char *p, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '.') {
			if (label == 0 || p[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_alnum(ch) && ch != '-')
			return 0;
		if (ch == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && p[n - 1] != '-';
}

static int
valid_ip_literal(const char *p, size_t n)
{
	char tmp[64];
	unsigned char addr[16];

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET, tmp, addr) == 1 ||
	    inet_pton(AF_INET6, tmp, addr) == 1;
}

static int
valid_name_list(const char *p, size_t n)
{
	size_t start = 0, i;

	if (n == 0)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != ',')
			continue;
		if (!valid_dns_name(p + start, i - start) &&
		    !valid_ip_literal(p + start, i - start))
			return 0;
		start = i + 1;
	}
	return 1;
}

/* A decimal port 1..65535. */
static int
valid_port(const char *p, size_t n)
{
	uint32_t port;
	size_t i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0, port = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		port = port * 10 + (uint32_t)(p[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

/* IPv4[:PORT] or [IPv6][:PORT], numeric only. */
static int
valid_server(const char *p, size_t n)
{
	const char *c, *close;
	char tmp[64];
	unsigned char addr[16];

	if (n > 0 && p[0] == '[') {
		if ((close = memchr(p, ']', n)) == NULL ||
		    (size_t)(close - p - 1) >= sizeof(tmp))
			return 0;
		memcpy(tmp, p + 1, (size_t)(close - p - 1));
		tmp[close - p - 1] = '\0';
		if (inet_pton(AF_INET6, tmp, addr) != 1)
			return 0;
		c = close + 1;
		return c == p + n || (*c == ':' &&
		    valid_port(c + 1, n - (size_t)(c + 1 - p)));
	}
	if ((c = memchr(p, ':', n)) == NULL)
		c = p + n;
	if ((size_t)(c - p) >= sizeof(tmp))
		return 0;
	memcpy(tmp, p, (size_t)(c - p));
	tmp[c - p] = '\0';
	if (inet_pton(AF_INET, tmp, addr) != 1)
		return 0;
	return c == p + n || valid_port(c + 1, n - (size_t)(c + 1 - p));
}

static int
valid_server_list(const char *p, size_t n)
{
	size_t start = 0, i, count = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != ',')
			continue;
		if (++count > 4 || !valid_server(p + start, i - start))
			return 0;
		start = i + 1;
	}
	return 1;
}

/* Letters, digits, '.', '_', '-'; not empty; 'nodash': may not start with '-'. */
static int
valid_word(const char *p, size_t n, int nodash)
{
	size_t i;

	if (n == 0 || (nodash && p[0] == '-'))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (!is_alnum(ch) && ch != '.' && ch != '_' && ch != '-')
			return 0;
	}
	return 1;
}

/* Decimal digits only: no sign, no blanks, no base prefix, no overflow. */
static int
parse_uint(const char *p, size_t n, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* --- the parser --- */

struct parse_ctx {
	const char *fname;	/* escaped file name, for messages */
	unsigned line;
	char *err;
	size_t errlen;
};

static int
perr(struct parse_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
perr(struct parse_ctx *x, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->err != NULL && x->errlen > 0)
		snprintf(x->err, x->errlen, "%s:%u: %s", x->fname, x->line, msg);
	return MOAT_ERR_CONFIG;
}

static int
bad_value(struct parse_ctx *x, size_t id, const char *v, size_t n)
{
	char q[CONFIG_QUOTE_MAX * 4 + 8];

	return perr(x, "%s: invalid value '%s'; allowed: %s", infos[id].name,
	    quote(q, sizeof(q), v, n), infos[id].allowed);
}

/* Validates v[0..n) for parameter id and stores it into c. */
static int
set_value(struct parse_ctx *x, struct moat_config *c, size_t id,
    const char *v, size_t n)
{
	const struct param *pp = &params[id];
	char *field = (char *)c + pp->off;
	char q[CONFIG_QUOTE_MAX * 4 + 8];
	uint32_t u = 0;
	size_t i;
	int ok;

	if (pp->type == PT_UINT || pp->type == PT_ENUM || pp->type == PT_BOOL) {
		if (pp->type == PT_UINT)
			ok = parse_uint(v, n, pp->min, pp->max, &u) == 0;
		else if (pp->type == PT_BOOL) {
			u = name_eq(v, n, "yes");
			ok = u == 1 || name_eq(v, n, "no");
		} else {
			ok = 0;
			for (u = pp->min; u <= pp->max; u++) {
				if (name_eq(v, n, enum_names(id)[u])) {
					ok = 1;
					break;
				}
			}
		}
		if (!ok)
			return bad_value(x, id, v, n);
		if (pp->width == sizeof(uint16_t)) {
			uint16_t s = (uint16_t)u;
			memcpy(field, &s, sizeof(s));
		} else if (pp->type == PT_ENUM || pp->type == PT_BOOL) {
			int e = (int)u;
			memcpy(field, &e, sizeof(e));
		} else
			memcpy(field, &u, sizeof(u));
		return 0;
	}

	/* Strings: bounded by the field, no control characters. */
	if (n >= pp->size)
		return perr(x, "%s: value too long (%zu bytes; maximum %zu)",
		    infos[id].name, n, pp->size - 1);
	for (i = 0; i < n; i++) {
		if (is_control((unsigned char)v[i]))
			return perr(x, "%s: control character in value '%s'",
			    infos[id].name, quote(q, sizeof(q), v, n));
	}
	switch (pp->type) {
	case PT_ADDRESS:
		ok = valid_ip_literal(v, n);
		break;
	case PT_PATH:
		ok = n > 0 && v[0] == '/';
		break;
	case PT_PATH_EMPTY:
		ok = n == 0 || v[0] == '/';
		break;
	case PT_NAMELIST:
		ok = valid_name_list(v, n);
		break;
	case PT_SERVERS:
		ok = n == 0 || valid_server_list(v, n);
		break;
	case PT_DOMAIN_EMPTY:
		ok = n == 0 || valid_dns_name(v, n);
		break;
	case PT_USER:
		ok = valid_word(v, n, 1);
		break;
	case PT_SERVICE:
		ok = valid_word(v, n, 0) && !(n == 1 && v[0] == '.') &&
		    !(n == 2 && v[0] == '.' && v[1] == '.');
		break;
	case PT_TEXT:
		ok = valid_utf8((const unsigned char *)v, n);
		break;
	case PT_IPRULES:
	case PT_ADDRLIST: {
		char why[256];
		struct ip_filter f;

		if ((pp->type == PT_IPRULES ? ip_filter_parse(v, n, &f, why,
		    sizeof(why)) : ip_addr_list_parse(v, n, &f, why,
		    sizeof(why))) != 0)
			return perr(x, "%s: %s", infos[id].name, why);
		if (pp->type == PT_IPRULES)
			c->ip_client_filter = f;
		else
			c->blacklist_exempt_list = f;
		ok = 1;
		break;
	}
	case PT_PERMS: {
		char why[512];
		struct perm_table t;

		if (perm_table_parse(v, n, &t, why, sizeof(why)) != 0)
			return perr(x, "%s: %s", infos[id].name, why);
		c->permissions_table = t;
		/* Stored canonical, so "moatd -t" shows what is in effect. */
		return perm_table_format(&t, field, pp->size) == 0 ? 0 :
		    perr(x, "%s: value too long", infos[id].name);
	}
	case PT_AUTH: {
		char why[256];
		struct auth_methods m;

		if (auth_methods_parse(v, n, &m, why, sizeof(why)) != 0)
			return perr(x, "%s: %s", infos[id].name, why);
		c->auth = m;
		/* Stored canonical, so "moatd -t" shows what is in effect. */
		return auth_methods_format(&m, field, pp->size) == 0 ? 0 :
		    perr(x, "%s: value too long", infos[id].name);
	}
	default:
		ok = 0;
		break;
	}
	if (!ok)
		return bad_value(x, id, v, n);
	memcpy(field, v, n);
	field[n] = '\0';
	return 0;
}

static int
unknown_param(struct parse_ctx *x, const char *name, size_t n)
{
	char known[1024], q[CONFIG_QUOTE_MAX * 4 + 8];
	size_t i, l = 0;

	known[0] = '\0';
	for (i = 0; i < P_COUNT; i++) {
		int w = snprintf(known + l, sizeof(known) - l, "%s%s",
		    i == 0 ? "" : ", ", infos[i].name);

		if (w < 0 || (size_t)w >= sizeof(known) - l)
			break;
		l += (size_t)w;
	}
	return perr(x, "unknown parameter '%s'; known parameters: %s",
	    quote(q, sizeof(q), name, n), known);
}

int
config_parse_text(struct moat_config *c, struct config_origin *o,
    const char *fname, const char *text, size_t len, int override,
    char *err, size_t errlen)
{
	char efname[CONFIG_PATH_MAX * 4];
	unsigned first_line[P_COUNT];
	struct parse_ctx x;
	struct buf b;
	size_t i;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (fname == NULL)
		fname = "(config)";
	log_escape(efname, sizeof(efname), fname, strlen(fname));
	x.fname = efname;
	x.line = 0;
	x.err = err;
	x.errlen = errlen;
	if (text == NULL && len != 0)
		return perr(&x, "no text");
	if (len > CONFIG_FILE_MAX) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: file larger than %d bytes",
			    efname, CONFIG_FILE_MAX);
		return MOAT_ERR_CONFIG;
	}
	memset(first_line, 0, sizeof(first_line));

	buf_view(&b, text, len);
	while (buf_len(&b) > 0) {
		const char *line = (const char *)buf_ptr(&b), *nl, *eq;
		const char *name, *val;
		size_t linelen, nlen, vlen, id;

		x.line++;
		nl = memchr(line, '\n', buf_len(&b));
		linelen = nl != NULL ? (size_t)(nl - line) : buf_len(&b);
		if ((r = buf_consume(&b, linelen + (nl != NULL))) != 0)
			return perr(&x, "internal error: %s", moat_strerror(r));
		if (linelen > CONFIG_LINE_MAX)
			return perr(&x, "line longer than %d bytes",
			    CONFIG_LINE_MAX);
		if (memchr(line, '\0', linelen) != NULL)
			return perr(&x, "NUL byte in line");

		trim(&line, &linelen);
		if (linelen == 0 || line[0] == '#')
			continue;
		if ((eq = memchr(line, '=', linelen)) == NULL)
			return perr(&x, "expected Name=Value");
		name = line;
		nlen = (size_t)(eq - line);
		val = eq + 1;
		vlen = linelen - nlen - 1;
		trim(&name, &nlen);
		trim(&val, &vlen);
		if (nlen == 0)
			return perr(&x, "missing parameter name before '='");

		for (id = 0; id < P_COUNT; id++)
			if (name_eq(name, nlen, infos[id].name))
				break;
		if (id == P_COUNT)
			return unknown_param(&x, name, nlen);

		if (first_line[id] != 0)
			return perr(&x, "duplicate parameter '%s' (first set at "
			    "%s:%u)", infos[id].name, efname, first_line[id]);
		if (!override && o != NULL && o[id].file[0] != '\0') {
			char ofile[CONFIG_PATH_MAX * 4];

			log_escape(ofile, sizeof(ofile), o[id].file,
			    strnlen(o[id].file, sizeof(o[id].file)));
			return perr(&x, "duplicate parameter '%s' (first set at "
			    "%s:%u)", infos[id].name, ofile, o[id].line);
		}
		if ((r = set_value(&x, c, id, val, vlen)) != 0)
			return r;
		first_line[id] = x.line;
	}

	/* Record origins only once the whole file is known to be good. */
	for (i = 0; o != NULL && i < P_COUNT; i++) {
		if (first_line[i] == 0)
			continue;
		snprintf(o[i].file, sizeof(o[i].file), "%s", fname);
		o[i].line = first_line[i];
	}
	return 0;
}

/* "FILE:LINE" where parameter id was set, or "(default)". */
static const char *
origin_text(const struct config_origin *o, size_t id, char *dst, size_t dstlen)
{
	char f[CONFIG_PATH_MAX * 4];

	if (o == NULL || o[id].file[0] == '\0')
		snprintf(dst, dstlen, "(default)");
	else {
		log_escape(f, sizeof(f), o[id].file,
		    strnlen(o[id].file, CONFIG_PATH_MAX));
		snprintf(dst, dstlen, "%s:%u", f, o[id].line);
	}
	return dst;
}

int
config_check(const struct moat_config *c, const struct config_origin *o,
    char *err, size_t errlen)
{
	const char *missing = NULL, *scheme = NULL;
	char where[CONFIG_PATH_MAX * 4 + 16];

	/* The Certificate* parameters (auth/x509_client.c checks them again). */
	if (c->certificate_user_domain[0] != '\0' &&
	    c->certificate_user_rule == CONFIG_CERT_RULE_CN) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: CertificateUserDomain applies "
			    "to CertificateUserRule email and upn, not to cn",
			    origin_text(o, P_CERTIFICATE_USER_DOMAIN, where,
			    sizeof(where)));
		return MOAT_ERR_CONFIG;
	}
	if (c->certificate_crl_file[0] != '\0' &&
	    c->certificate_ca_file[0] == '\0') {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: CertificateCrlFile is set but "
			    "CertificateCaFile is not", origin_text(o,
			    P_CERTIFICATE_CRL_FILE, where, sizeof(where)));
		return MOAT_ERR_CONFIG;
	}
	if (auth_methods_uses(&c->auth, AUTH_SCHEME_RADIUS)) {
		scheme = "Radius";
		if (c->radius_servers[0] == '\0')
			missing = "RadiusServers";
		else if (c->radius_secret_file[0] == '\0')
			missing = "RadiusSecretFile";
	}
	if (missing == NULL &&
	    auth_methods_uses(&c->auth, AUTH_SCHEME_CERTIFICATE) &&
	    c->certificate_ca_file[0] == '\0') {
		scheme = "Certificate";
		missing = "CertificateCaFile";
	}
	if (missing == NULL &&
	    auth_methods_uses(&c->auth, AUTH_SCHEME_KERBEROS) &&
	    c->kerberos_realm[0] == '\0') {
		scheme = "Kerberos";
		missing = "KerberosRealm";
	}
	if (missing == NULL)
		return 0;
	if (o != NULL && o[P_AUTHENTICATION].file[0] != '\0') {
		log_escape(where, sizeof(where) - 16, o[P_AUTHENTICATION].file,
		    strnlen(o[P_AUTHENTICATION].file, CONFIG_PATH_MAX));
		snprintf(where + strlen(where), 16, ":%u",
		    o[P_AUTHENTICATION].line);
	} else
		snprintf(where, sizeof(where), "(default)");
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: Authentication uses %s, but %s is "
		    "not set", where, scheme, missing);
	return MOAT_ERR_CONFIG;
}

int
config_param_equal(const struct moat_config *a, const struct moat_config *b,
    size_t id)
{
	const struct param *pp;
	size_t n;

	if (id >= P_COUNT)
		return 0;
	pp = &params[id];
	if (pp->size > 0) {
		n = strnlen((const char *)a + pp->off, pp->size);
		return n == strnlen((const char *)b + pp->off, pp->size) &&
		    memcmp((const char *)a + pp->off, (const char *)b + pp->off,
		    n) == 0;
	}
	return memcmp((const char *)a + pp->off, (const char *)b + pp->off,
	    pp->width) == 0;
}

int
config_param_copy(struct moat_config *dst, const struct moat_config *src,
    size_t id)
{
	const struct param *pp;

	if (id >= P_COUNT)
		return 0;
	pp = &params[id];
	if (pp->type == PT_AUTH || pp->type == PT_IPRULES ||
	    pp->type == PT_ADDRLIST || pp->type == PT_PERMS)
		return MOAT_ERR_INVALID;
	memcpy((char *)dst + pp->off, (const char *)src + pp->off,
	    pp->size > 0 ? pp->size : pp->width);
	return 0;
}

int
config_control_socket(const struct moat_config *c, char *out, size_t outlen)
{
	const char *slash;
	int n;

	if (c->control_socket[0] != '\0')
		n = snprintf(out, outlen, "%s", c->control_socket);
	else if ((slash = strrchr(c->session_socket, '/')) == NULL)
		return MOAT_ERR_CONFIG;
	else
		n = snprintf(out, outlen, "%.*s/control.sock",
		    (int)(slash - c->session_socket), c->session_socket);
	/* sizeof(struct sockaddr_un.sun_path) on Linux */
	if (n < 0 || (size_t)n >= outlen || n >= 108)
		return MOAT_ERR_CONFIG;
	return 0;
}

int
config_param_index(const char *name)
{
	size_t i;

	for (i = 0; i < P_COUNT; i++)
		if (strcmp(infos[i].name, name) == 0)
			return (int)i;
	return -1;
}

void
config_dump(const struct moat_config *c, const struct config_origin *o, int fd)
{
	char ofile[CONFIG_PATH_MAX * 4], val[4096];
	size_t i, k;

	for (i = 0; i < P_COUNT; i++) {
		const struct param *pp = &params[i];
		const char *field = (const char *)c + pp->off;
		uint32_t u;
		uint16_t s;
		int e;

		switch (pp->type) {
		case PT_UINT:
			if (pp->width == sizeof(uint16_t)) {
				memcpy(&s, field, sizeof(s));
				u = s;
			} else
				memcpy(&u, field, sizeof(u));
			snprintf(val, sizeof(val), "%u", u);
			break;
		case PT_ENUM:
			memcpy(&e, field, sizeof(e));
			snprintf(val, sizeof(val), "%s",
			    e >= (int)pp->min && e <= (int)pp->max ?
			    enum_names(i)[e] : "(invalid)");
			break;
		case PT_BOOL:
			memcpy(&e, field, sizeof(e));
			snprintf(val, sizeof(val), "%s", e ? "yes" : "no");
			break;
		default:
			/*
			 * Parsed values hold no control characters; a struct
			 * filled some other way still cannot forge lines.
			 */
			snprintf(val, sizeof(val), "%.*s",
			    (int)strnlen(field, pp->size), field);
			for (k = 0; val[k] != '\0'; k++)
				if (is_control((unsigned char)val[k]))
					val[k] = '?';
			break;
		}
		if (o == NULL || o[i].file[0] == '\0')
			dprintf(fd, "%s=%s  # default\n", infos[i].name, val);
		else {
			log_escape(ofile, sizeof(ofile), o[i].file,
			    strnlen(o[i].file, sizeof(o[i].file)));
			dprintf(fd, "%s=%s  # from %s:%u\n", infos[i].name, val,
			    ofile, o[i].line);
		}
	}
}
