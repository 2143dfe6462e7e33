/*
 * audit.h - moat's audit records (docs/audit.md): who connected, from
 * where, when, how, with what rights and for how long.
 *
 * One record is one flat JSON object (struct audit_rec): "ts", "event",
 * "session", "peer_addr", "peer_port" first, then the event's fields,
 * each a string or an integer. Every string value is made printable
 * first (audit_printable()), so a record never holds a control byte,
 * invalid UTF-8 or a raw backslash, whatever a viewer sent.
 *
 * Only moatd's listener writes records (the hash-chained file of
 * monitor/audit_file.h, syslog LOG_AUTHPRIV as key=value text, and the
 * journal with native fields under systemd). A monitor builds its records
 * and sends them to the listener (IPC_MON_AUDIT); moat-net and
 * moat-session have no way to write one.
 */
#ifndef MOAT_AUDIT_H
#define MOAT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "policy/config.h"

#define AUDIT_RECORD_MAX	16384u	/* bytes of one record's JSON */
#define AUDIT_VALUE_IN_MAX	1024u	/* input bytes of one string value kept */
#define AUDIT_VALUE_MAX		(AUDIT_VALUE_IN_MAX * 4u)	/* its printable form */
#define AUDIT_KEY_MAX		31u	/* a field name: [a-z0-9_], 1..31 */

struct audit_rec {
	char json[AUDIT_RECORD_MAX];
	size_t len;
	int full;		/* a field did not fit and was left out */
};

/* ---- building a record (pure; any process) ---- */

/*
 * Starts rec: the time now (UTC, milliseconds), event (a fixed name from
 * docs/audit.md), session (0: not tied to a connection) and the peer
 * (NULL/"" and 0: none).
 */
void audit_begin(struct audit_rec *rec, const char *event, uint32_t session,
    const char *peer_addr, unsigned peer_port);
/* As audit_begin() at ms milliseconds since the epoch (tests). */
void audit_begin_at(struct audit_rec *rec, int64_t ms, const char *event,
    uint32_t session, const char *peer_addr, unsigned peer_port);
/* Adds key (a fixed name) with the printable form of len untrusted bytes. */
void audit_str(struct audit_rec *rec, const char *key, const void *s,
    size_t len);
/* audit_str() of a C string; NULL is "". */
void audit_cstr(struct audit_rec *rec, const char *key, const char *s);
void audit_int(struct audit_rec *rec, const char *key, int64_t v);
/* Closes the object; returns the JSON text (NUL-terminated), its length in *len. */
const char *audit_end(struct audit_rec *rec, size_t *len);

/*
 * Writes the printable form of len untrusted bytes to dst (dstlen >= 1,
 * always NUL-terminated): at most AUDIT_VALUE_IN_MAX input bytes; valid
 * UTF-8 without control characters is kept, every other byte (C0 and C1
 * controls, DEL, invalid or overlong UTF-8, surrogates, and '\\' itself)
 * becomes the four characters \xHH, as log_escape() does. Returns the
 * length written (cut at a whole character when dst is full).
 */
size_t audit_printable(char *dst, size_t dstlen, const void *src, size_t len);

/* ---- reading a record back (the listener, tests) ---- */

struct audit_field {
	char key[AUDIT_KEY_MAX + 1];
	char val[AUDIT_VALUE_MAX + 1];	/* the string, or the integer's digits */
	int is_string;
};

/*
 * Reads the next field of record json[0..len) from *pos (0 to start).
 * Only what audit_end() produces is accepted: a flat object of
 * lower-case keys with strings (escapes \" and \\ only, no control byte)
 * or integers. Returns 1 with f filled, 0 at the end of the object,
 * MOAT_ERR_INVALID for anything else.
 */
int audit_next_field(const char *json, size_t len, size_t *pos,
    struct audit_field *f);
/*
 * Checks that json[0..len) is a whole record that starts with the common
 * fields in order; copies the event name (<= 31 bytes) and the session.
 * Returns 0 or MOAT_ERR_INVALID.
 */
int audit_check(const char *json, size_t len, char *event, size_t eventlen,
    uint32_t *session);
/*
 * The syslog text of a record: "event=login session=3 peer_addr=..."
 * (ts left out: syslog stamps its own), a value quoted when it is empty
 * or holds a blank, '"' or '=' (a '"' inside written \x22). Returns 0 or
 * MOAT_ERR_INVALID / MOAT_ERR_TOO_LONG.
 */
int audit_to_kv(const char *json, size_t len, char *out, size_t outlen);
/* The journal MESSAGE_ID of an event type (32 hex digits), or NULL. */
const char *audit_message_id(const char *event);

/* ---- writing (moatd's listener only) ---- */

/*
 * Opens the sinks: the file AuditFile (monitor/audit_file.h) unless it is
 * "", syslog, and the journal when /run/systemd/journal/socket exists.
 * Writes an audit_start record. Returns 0 or a negative MOAT_ERR_* with
 * err filled (the file could not be opened: moatd does not start).
 */
int audit_sink_open(const struct moat_config *cfg, char *err, size_t errlen);
/*
 * Writes one record to every sink (sync: fsync the file before
 * returning). Returns 0, or a negative MOAT_ERR_* when the file could not
 * take it: the file is then out of order (audit_sink_usable() is 0) until
 * a later attempt to reopen it succeeds.
 */
int audit_sink_write(const char *json, size_t len, int sync);
/*
 * 1 if records reach the file (or there is no AuditFile); else tries to
 * reopen it, at most once a second, and returns 1 if that worked.
 */
int audit_sink_usable(void);
/* moatctl audit rotate. Returns 0 or a negative MOAT_ERR_*, msg filled. */
int audit_sink_rotate(char *msg, size_t msglen);
/* Writes audit_stop with reason and closes the file. */
void audit_sink_close(const char *reason);

/*
 * Emits rec (audit_end() is called here): in the listener, to the sinks;
 * in a monitor (after audit_mon_init()), to the listener, and when sync,
 * waits for its answer. Returns 0, or a negative MOAT_ERR_* when the
 * record did not reach the file (a sync caller then must not let the
 * event take effect).
 */
int audit_emit(struct audit_rec *rec, int sync);

/* ---- in a monitor ---- */

/*
 * Makes this process a monitor: records go to the listener on lis_fd,
 * and audit_mon_begin() fills in session and the peer. Called once in the
 * child, before monitor_run().
 */
void audit_mon_init(int lis_fd, uint32_t session, const char *peer_addr,
    unsigned peer_port);
/* This monitor's session id (0 in the listener). */
uint32_t audit_mon_session(void);
/* audit_begin() with this monitor's session and peer. */
void audit_mon_begin(struct audit_rec *rec, const char *event);
/* The SHA-256 of the identity public key, for the security record. */
void audit_mon_set_identity(const uint8_t sha256[32]);

/* The records a monitor writes (docs/audit.md); each returns audit_emit()'s result. */
struct ipc_view;
/* moat-net's security type, TLS version and cipher (untrusted bytes). */
int audit_security(const struct ipc_view *type,
    const struct ipc_view *tls_version, const struct ipc_view *cipher);
/* One factor's verdict: result "success", "failure" or "error". */
int audit_auth_factor(const char *factor, const char *user,
    const char *result, const char *reason);
/*
 * The approval prompt's outcome (QueryConnect): verdict "accepted",
 * "rejected" or "timeout" (how it was decided: "user", "default"...).
 */
int audit_query(const char *user, const char *verdict, const char *how);

#endif
