/*
 * config.h - moatd's configuration: /etc/moat/moatd.conf plus the locked
 * policy files in /etc/moat/policy.d/ (files *.conf), which override it.
 *
 * Runs in moatd (root). Parsing is pure: it never acts on the values.
 * Format: one "Name=Value" per line, blanks around '=' ignored, '#' starts
 * a comment line. Unknown names, bad values and duplicates are errors that
 * name the file, the line and the allowed values.
 */
#ifndef MOAT_CONFIG_H
#define MOAT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "auth_methods.h"
#include "ip_filter.h"
#include "permissions.h"

#define CONFIG_PATH_MAX 256
/* At least config_param_count(): the size of an array of origins. */
#define CONFIG_PARAMS_MAX 64

enum config_encryption {
	CONFIG_ENC_ALWAYS_ON = 1,	/* matches IPC_ENC_* */
	CONFIG_ENC_PREFER_ON = 2,	/* a synonym of AlwaysOn, kept for compatibility */
	CONFIG_ENC_ALWAYS_MAXIMUM = 3,
	CONFIG_ENC_PREFER_OFF = 4,	/* also offers RA2ne: unencrypted after login */
};

/* CertificateUserRule; the values are those of auth/x509_client.h's X509_RULE_*. */
enum config_cert_rule {
	CONFIG_CERT_RULE_EMAIL = 1,	/* the rfc822Name of subjectAltName */
	CONFIG_CERT_RULE_UPN = 2,	/* the Microsoft UPN of subjectAltName */
	CONFIG_CERT_RULE_CN = 3,	/* the subject's commonName */
};

/* QueryConnectDefault: what an unanswered approval prompt does. */
enum config_query_default {
	CONFIG_QUERY_ACCEPT = 1,
	CONFIG_QUERY_REJECT = 2,
};

/* Where a value came from, for "moatd -t". */
struct config_origin {
	char file[CONFIG_PATH_MAX];	/* "" for the built-in default */
	unsigned line;
};

struct moat_config {
	char listen_address[64];		/* ListenAddress (default 0.0.0.0) */
	uint16_t listen_port;			/* ListenPort (default 5900) */
	char identity_key[CONFIG_PATH_MAX];	/* IdentityKey (default /etc/moat/identity.key) */
	char identity_cert[CONFIG_PATH_MAX];	/* IdentityCert (default /etc/moat/identity.crt) */
	char identity_rotation_cert[CONFIG_PATH_MAX];	/* IdentityRotationCert (default /etc/moat/identity-rotation.crt) */
	char tls_names[512];			/* TlsNames: comma-separated DNS names / IPs for the leaf SAN (default localhost,127.0.0.1,::1) */
	char empty_root[CONFIG_PATH_MAX];	/* EmptyRoot (default /var/empty/moat) */
	char net_user[64];			/* NetUser (default moat-net) */
	char net_binary[CONFIG_PATH_MAX];	/* NetBinary (default "": moat-net beside moatd) */
	char session_socket[CONFIG_PATH_MAX];	/* SessionSocket (default /run/moat/session.sock) */
	char control_socket[CONFIG_PATH_MAX];	/* ControlSocket (default "": control.sock beside SessionSocket) */
	char log_file[CONFIG_PATH_MAX];		/* LogFile (default "": syslog only) */
	char pam_service[64];			/* PamService (default moat) */
	char desktop_name[256];			/* DesktopName (default "": host name) */
	int encryption;				/* Encryption: AlwaysOn | PreferOn | AlwaysMaximum | PreferOff (default AlwaysOn) */
	uint32_t max_cut_text;			/* MaxCutText bytes, 0..262144 (default 262144) */
	uint32_t login_grace_time;		/* LoginGraceTime seconds, 1..600 (default 60) */
	uint32_t max_connections;		/* MaxConnections, 1..1000 (default 20) */
	char authentication[AUTH_METHODS_TEXT_MAX];	/* Authentication, canonical text (default SystemAuth) */
	struct auth_methods auth;		/* the same, parsed */
	char radius_servers[300];		/* RadiusServers (default "": none) */
	char radius_secret_file[CONFIG_PATH_MAX]; /* RadiusSecretFile (default "") */
	char radius_nas_identifier[64];		/* RadiusNasIdentifier (default moat) */
	uint32_t radius_timeout;		/* RadiusTimeout seconds, 1..60 (default 3) */
	uint32_t radius_retries;		/* RadiusRetries, 0..10 (default 2) */
	int radius_allow_unsigned;		/* RadiusAllowUnsigned yes/no (default no) */
	char vnc_password_file[CONFIG_PATH_MAX];	/* VncPasswordFile (default /etc/moat/vnc-passwords) */
	char certificate_ca_file[CONFIG_PATH_MAX];	/* CertificateCaFile (default "": none) */
	char certificate_crl_file[CONFIG_PATH_MAX];	/* CertificateCrlFile (default "": no CRL check) */
	int certificate_user_rule;		/* CertificateUserRule: email | upn | cn (default email) */
	char certificate_user_domain[254];	/* CertificateUserDomain (default "": any domain) */
	char kerberos_keytab[CONFIG_PATH_MAX];	/* KerberosKeytab (default /etc/moat/moat.keytab) */
	char kerberos_service[64];		/* KerberosService (default vnc) */
	char kerberos_realm[254];		/* KerberosRealm (default "": required with Kerberos) */
	uint32_t blacklist_threshold;		/* BlacklistThreshold, 0..1000 failures (default 5; 0: off) */
	uint32_t blacklist_timeout;		/* BlacklistTimeout seconds, 1..3600 (default 10) */
	char blacklist_exempt[1024];		/* BlacklistExempt: ADDRESS[/PREFIX],... (default "": none) */
	struct ip_filter blacklist_exempt_list;	/* the same, parsed */
	char ip_client_addresses[3072];		/* IpClientAddresses: +/-/?ADDRESS[/PREFIX],... (default "": allow all) */
	struct ip_filter ip_client_filter;	/* the same, parsed */
	uint32_t max_startups;			/* MaxStartups, 1..1000 unauthenticated connections (default 10) */
	uint32_t per_source_max_startups;	/* PerSourceMaxStartups, 1..1000 per address or /64 (default 3) */
	char permissions[PERM_TEXT_MAX + 1];	/* Permissions, canonical text (default "": everyone the default) */
	struct perm_table permissions_table;	/* the same, parsed */
	uint32_t idle_timeout;			/* IdleTimeout seconds, 0..604800 (default 3600; 0: off) */
	int always_shared;			/* AlwaysShared yes/no (default yes) */
	int never_shared;			/* NeverShared yes/no (default no; wins over AlwaysShared) */
	int disconnect_clients;			/* DisconnectClients yes/no (default yes) */
	int query_connect;			/* QueryConnect yes/no (default no) */
	uint32_t query_connect_timeout;		/* QueryConnectTimeout seconds, 1..600 (default 10) */
	int query_connect_default;		/* QueryConnectDefault: Accept | Reject (default Reject) */
	int blank_screen;			/* BlankScreen yes/no (default no) */
	int disable_local_inputs;		/* DisableLocalInputs yes/no (default no) */
	char audit_file[CONFIG_PATH_MAX];	/* AuditFile (default /var/log/moat/audit.jsonl; "": none) */
	char audit_key[CONFIG_PATH_MAX];	/* AuditKey (default /etc/moat/audit.key) */
	uint32_t audit_checkpoint_interval;	/* AuditCheckpointInterval records, 1..1000000 (default 100) */
	uint32_t audit_rotate_size;		/* AuditRotateSize bytes, 0..2^32-1 (default 10 MiB; 0: never) */
	uint32_t audit_rotate_keep;		/* AuditRotateKeep files, 1..1000 (default 10) */
};

/* One entry per parameter, in the order "moatd -t" prints them. */
struct config_param_info {
	const char *name;
	const char *allowed;	/* human-readable allowed values */
};

/* Fills c with the built-in defaults. */
void config_defaults(struct moat_config *c);

/*
 * Parses the text of one file (len bytes, need not be NUL-terminated) named
 * fname into c, recording origins in o (array indexed like config_params();
 * may be NULL). Parameters set in an earlier file of the same layer may not
 * repeat (duplicate) unless 'override' is set (policy layer over the main
 * file). On error returns MOAT_ERR_CONFIG and writes a message
 * "FILE:LINE: ..." into err (size errlen), leaving c partially updated:
 * callers parse into a copy and keep the old configuration on failure.
 */
int config_parse_text(struct moat_config *c, struct config_origin *o,
    const char *fname, const char *text, size_t len, int override,
    char *err, size_t errlen);

/*
 * Loads moatd.conf at path, then every *.conf in policy.d/ beside it in
 * lexical order (locked policy overrides). Checks each file and every
 * directory above it is root-owned and not writable by group or others,
 * opening with O_NOFOLLOW. Returns 0 or MOAT_ERR_CONFIG with err filled.
 * Starts from the built-in defaults; c and o (may be NULL) are written only
 * on success. A root-owned sticky directory (like /tmp) above the file is
 * accepted; the file and policy.d/ themselves never may be writable.
 */
int config_load(struct moat_config *c, struct config_origin *o, const char *path,
    char *err, size_t errlen);

/*
 * Checks what no single line can: every parameter a scheme in
 * Authentication needs is set (Radius: RadiusServers, RadiusSecretFile;
 * Certificate: CertificateCaFile; Kerberos: KerberosRealm);
 * CertificateUserDomain is not set with CertificateUserRule=cn, nor
 * CertificateCrlFile without CertificateCaFile. Returns 0, or
 * MOAT_ERR_CONFIG with "FILE:LINE: ..." (where the parameter at fault, or
 * Authentication, was set) in err. o may be NULL.
 */
int config_check(const struct moat_config *c, const struct config_origin *o,
    char *err, size_t errlen);

/* Number of parameters and their names/allowed values. */
size_t config_param_count(void);
const struct config_param_info *config_params(void);

/*
 * Returns 1 if parameter id (an index into config_params()) has the same
 * value in a and b, 0 if not (or id is out of range).
 */
int config_param_equal(const struct moat_config *a, const struct moat_config *b,
    size_t id);

/*
 * Copies the value of parameter id from src into dst (a no-op for an id
 * out of range). Only for parameters without a parsed companion field
 * (not Authentication, BlacklistExempt, IpClientAddresses, Permissions):
 * returns 0, or
 * MOAT_ERR_INVALID for those, leaving dst unchanged.
 */
int config_param_copy(struct moat_config *dst, const struct moat_config *src,
    size_t id);

/*
 * The control socket's path (moatd and moatctl): ControlSocket, or
 * "control.sock" in the directory of SessionSocket when it is empty.
 * Returns 0, or MOAT_ERR_CONFIG if it does not fit in out or in a UNIX
 * socket address (108 bytes).
 */
int config_control_socket(const struct moat_config *c, char *out,
    size_t outlen);

/* Returns the index of the parameter called name (exact case), or -1. */
int config_param_index(const char *name);

/* Writes "Name=Value  # from FILE:LINE|default" for every parameter to fd. */
void config_dump(const struct moat_config *c, const struct config_origin *o, int fd);

#endif
