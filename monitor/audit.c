/*
 * audit.c - the audit sinks and the way records reach them (see audit.h
 * and docs/audit.md). Runs in moatd's listener, the one writer of the
 * audit file, syslog's and the journal's audit entries, and in each
 * monitor (root, a fork of the listener), which sends its records to the
 * listener over their socketpair. The records a monitor sends are trusted
 * as root's, but each is parsed (audit_check()) before it is written, and
 * every string in it was made printable when it was built.
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "audit.h"
#include "audit_file.h"
#include "privsep/clock.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"
#include "privsep/log.h"

#define JOURNAL_SOCKET		"/run/systemd/journal/socket"
#define JOURNAL_MAX_FIELDS	48
#define REOPEN_INTERVAL_MS	1000

/* ---- the listener's sinks ---- */

static struct audit_file *afile;	/* NULL: none, or out of order */
static int file_wanted;			/* AuditFile is set */
static int use_journal;
static int64_t last_reopen_ms;
static char file_path[CONFIG_PATH_MAX];
static char key_path[CONFIG_PATH_MAX];
static struct audit_file_opts file_opts;

/* ---- a monitor's channel ---- */

static int is_monitor;
static int mon_lis_fd = -1;
static uint32_t mon_session;
static char mon_addr[64];
static unsigned mon_port;
static char mon_fingerprint[65];

/* Creates the directory of path (one level, root's, 0700) if missing. */
static void
make_parent(const char *path)
{
	char dir[CONFIG_PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		warn_f("audit: creating %s: %s", dir, strerror(errno));
}

static int
open_file(void)
{
	int r;

	make_parent(file_path);
	make_parent(key_path);
	if ((r = audit_file_open(&afile, &file_opts)) != 0)
		afile = NULL;
	return r;
}

/* The journal entry of a record: its fields as MOAT_*, MESSAGE the kv text. */
static void
journal_send(const char *json, size_t len, const char *kv)
{
	static char store[AUDIT_RECORD_MAX * 2 + 4096];
	static struct audit_field f;
	struct iovec iov[JOURNAL_MAX_FIELDS + 6];
	const char *id = NULL;
	size_t pos = 0, o = 0, k;
	int n = 0, w;

	w = snprintf(store, sizeof(store), "MESSAGE=%s", kv);
	if (w < 0 || (size_t)w >= sizeof(store))
		return;
	iov[n++] = (struct iovec){ store, (size_t)w };
	o = (size_t)w;
	while (n < JOURNAL_MAX_FIELDS && audit_next_field(json, len, &pos,
	    &f) == 1) {
		if (strcmp(f.key, "event") == 0)
			id = audit_message_id(f.val);
		for (k = 0; f.key[k] != '\0'; k++)
			f.key[k] = (char)(f.key[k] >= 'a' && f.key[k] <= 'z' ?
			    f.key[k] - 'a' + 'A' : f.key[k]);
		w = snprintf(store + o, sizeof(store) - o, "MOAT_%s=%s", f.key,
		    f.val);
		if (w < 0 || (size_t)w >= sizeof(store) - o)
			break;
		iov[n++] = (struct iovec){ store + o, (size_t)w };
		o += (size_t)w;
	}
	if (id != NULL) {
		w = snprintf(store + o, sizeof(store) - o, "MESSAGE_ID=%s", id);
		if (w > 0 && (size_t)w < sizeof(store) - o) {
			iov[n++] = (struct iovec){ store + o, (size_t)w };
			o += (size_t)w;
		}
	}
	iov[n++] = (struct iovec){ "PRIORITY=6", 10 };
	iov[n++] = (struct iovec){ "SYSLOG_FACILITY=10", 18 };	/* authpriv */
	iov[n++] = (struct iovec){ "SYSLOG_IDENTIFIER=moatd", 23 };
	(void)sd_journal_sendv(iov, n);
}

int
audit_sink_open(const struct moat_config *cfg, char *err, size_t errlen)
{
	struct audit_rec rec;
	int r;

	use_journal = access(JOURNAL_SOCKET, F_OK) == 0;
	file_wanted = cfg->audit_file[0] != '\0';
	snprintf(file_path, sizeof(file_path), "%s", cfg->audit_file);
	snprintf(key_path, sizeof(key_path), "%s", cfg->audit_key);
	file_opts = (struct audit_file_opts){ file_path, key_path,
	    cfg->audit_checkpoint_interval, cfg->audit_rotate_size,
	    cfg->audit_rotate_keep };
	if (file_wanted && (r = open_file()) != 0) {
		snprintf(err, errlen, "AuditFile %s: cannot open it (%s; the "
		    "reason is logged)", file_path, moat_strerror(r));
		return r;
	}
	audit_begin(&rec, "audit_start", 0, "", 0);
	audit_cstr(&rec, "file", file_path);
	audit_cstr(&rec, "journal", use_journal ? "yes" : "no");
	(void)audit_emit(&rec, 1);
	return 0;
}

int
audit_sink_write(const char *json, size_t len, int sync)
{
	static char kv[AUDIT_RECORD_MAX * 2];
	int r;

	if (audit_to_kv(json, len, kv, sizeof(kv)) != 0)
		snprintf(kv, sizeof(kv), "event=invalid (an audit record that "
		    "does not parse was dropped)");
	if (use_journal)
		journal_send(json, len, kv);
	else
		syslog(LOG_AUTHPRIV | LOG_INFO, "%s", kv);
	if (!file_wanted)
		return 0;
	if (afile == NULL)
		return MOAT_ERR_SYSTEM;
	if ((r = audit_file_append(afile, json, len, sync)) != 0) {
		error_f("audit: AuditFile %s cannot take a record (%s): new "
		    "connections are refused until it can", file_path,
		    moat_strerror(r));
		if (r != MOAT_ERR_INVALID) {
			audit_file_close(afile);
			afile = NULL;
			last_reopen_ms = moat_monotonic_ms();
		}
	}
	return r;
}

int
audit_sink_usable(void)
{
	struct audit_rec rec;
	int64_t now;

	if (!file_wanted || afile != NULL)
		return 1;
	now = moat_monotonic_ms();
	if (now - last_reopen_ms < REOPEN_INTERVAL_MS)
		return 0;
	last_reopen_ms = now;
	if (open_file() != 0)
		return 0;
	info_f("audit: AuditFile %s is writable again", file_path);
	audit_begin(&rec, "audit_start", 0, "", 0);
	audit_cstr(&rec, "file", file_path);
	audit_cstr(&rec, "journal", use_journal ? "yes" : "no");
	audit_cstr(&rec, "reason", "resumed after a write failure; the "
	    "records in between are in syslog only");
	return audit_emit(&rec, 1) == 0;
}

int
audit_sink_rotate(char *msg, size_t msglen)
{
	int r;

	if (!file_wanted) {
		snprintf(msg, msglen, "there is no audit file (AuditFile is "
		    "empty)");
		return MOAT_ERR_CONFIG;
	}
	if (afile == NULL && !audit_sink_usable()) {
		snprintf(msg, msglen, "the audit file %s cannot be written",
		    file_path);
		return MOAT_ERR_SYSTEM;
	}
	if ((r = audit_file_rotate(afile)) != 0) {
		snprintf(msg, msglen, "rotating %s failed: %s", file_path,
		    moat_strerror(r));
		audit_file_close(afile);
		afile = NULL;
		last_reopen_ms = moat_monotonic_ms();
		return r;
	}
	snprintf(msg, msglen, "rotated %s (the previous file is %s.1)",
	    file_path, file_path);
	return 0;
}

void
audit_sink_close(const char *reason)
{
	struct audit_rec rec;

	audit_begin(&rec, "audit_stop", 0, "", 0);
	audit_cstr(&rec, "reason", reason);
	(void)audit_emit(&rec, 1);
	audit_file_close(afile);
	afile = NULL;
}

/* ---- emitting ---- */

/* A monitor's record: to the listener; with sync, its answer. */
static int
mon_send(const char *json, size_t len, int sync)
{
	struct ipc_mon_audit ma = { sync ? 1 : 0,
	    { (const uint8_t *)json, len } };
	struct ipc_audit_done done;
	struct ipc_msg m;
	int r;

	if ((r = ipc_msg_send_mon_audit(mon_lis_fd, &ma, -1)) != 0) {
		error_f("audit: a record could not reach moatd's listener "
		    "(%s): %.*s", moat_strerror(r), (int)(len > 900 ? 900 :
		    len), json);
		return r;
	}
	if (!sync)
		return 0;
	if ((r = ipc_recv(mon_lis_fd, &m, 0)) != 0)
		return r;
	if (m.type != IPC_LIS_AUDIT_DONE || m.fd != -1)
		r = MOAT_ERR_PROTOCOL;
	else if ((r = ipc_msg_get_audit_done(&m.payload, &done)) == 0 &&
	    !done.ok)
		r = MOAT_ERR_SYSTEM;
	ipc_msg_clear(&m);
	return r;
}

int
audit_emit(struct audit_rec *rec, int sync)
{
	const char *json;
	size_t len;

	json = audit_end(rec, &len);
	if (is_monitor)
		return mon_send(json, len, sync);
	return audit_sink_write(json, len, sync);
}

/* ---- in a monitor ---- */

void
audit_mon_init(int lis_fd, uint32_t session, const char *peer_addr,
    unsigned peer_port)
{
	is_monitor = 1;
	mon_lis_fd = lis_fd;
	mon_session = session;
	snprintf(mon_addr, sizeof(mon_addr), "%s", peer_addr);
	mon_port = peer_port;
	/*
	 * The listener's handle on the file is not ours to use: forgotten
	 * without a write (closing it would append a checkpoint).
	 */
	audit_file_forget(afile);
	afile = NULL;
	file_wanted = 0;
}

uint32_t
audit_mon_session(void)
{
	return is_monitor ? mon_session : 0;
}

void
audit_mon_begin(struct audit_rec *rec, const char *event)
{
	audit_begin(rec, event, mon_session, mon_addr, mon_port);
}

void
audit_mon_set_identity(const uint8_t sha256[32])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < 32; i++) {
		mon_fingerprint[2 * i] = hex[sha256[i] >> 4];
		mon_fingerprint[2 * i + 1] = hex[sha256[i] & 15];
	}
	mon_fingerprint[64] = '\0';
}

int
audit_security(const struct ipc_view *type,
    const struct ipc_view *tls_version, const struct ipc_view *cipher)
{
	struct audit_rec rec;

	audit_mon_begin(&rec, "security");
	audit_str(&rec, "security_type", type->p, type->len);
	audit_str(&rec, "tls_version", tls_version->p, tls_version->len);
	audit_str(&rec, "cipher", cipher->p, cipher->len);
	audit_cstr(&rec, "fingerprint", mon_fingerprint);
	return audit_emit(&rec, 0);
}

int
audit_auth_factor(const char *factor, const char *user, const char *result,
    const char *reason)
{
	struct audit_rec rec;

	audit_mon_begin(&rec, "auth_factor");
	audit_cstr(&rec, "factor", factor);
	audit_cstr(&rec, "user", user);
	audit_cstr(&rec, "result", result);
	if (reason != NULL && reason[0] != '\0')
		audit_cstr(&rec, "reason", reason);
	return audit_emit(&rec, 0);
}

int
audit_query(const char *user, const char *verdict, const char *how)
{
	struct audit_rec rec;

	audit_mon_begin(&rec, "query");
	audit_cstr(&rec, "user", user);
	audit_cstr(&rec, "verdict", verdict);
	audit_cstr(&rec, "how", how);
	return audit_emit(&rec, 0);
}
