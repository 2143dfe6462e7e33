/*
 * control.c - moatd's control socket (see control.h and docs/moatctl.md).
 * Runs as root in moatd's listener, single-threaded, between accepts.
 *
 * Trust: only root may connect (the socket is 0600 in a root-owned
 * directory), and every connection's peer credentials (SO_PEERCRED, from
 * the kernel) must say uid 0 all the same; anything else is refused and
 * logged. Even root's request is parsed only by the IPC codec
 * (IPC_CTL_REQUEST, bounded fields), one request per connection, read and
 * answered with 2-second timeouts so that a stuck client cannot hold the
 * listener. The session records come from the monitors (root children of
 * this process), which report them once, after authentication
 * (IPC_MON_SESSION_INFO); strings that started as a viewer's bytes are
 * escaped before they are kept.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "control.h"
#include "listener.h"
#include "policy/penalty.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/log.h"
#include "reload.h"

#define CONTROL_MAX_SESSIONS	1000	/* as many as the listener's monitors */
#define CONTROL_TIMEOUT_S	2	/* to read the request, to send each message */

struct ctl_session {
	pid_t pid;		/* the monitor; 0: free slot */
	uint32_t id;		/* what moatctl names it by */
	time_t since;		/* the login */
	uint32_t perms;
	int disconnecting;	/* the administrator asked */
	char user[IPC_MAX_NAME + 1];		/* escaped */
	char peer[IPC_MAX_PEER + 1];		/* escaped */
	char security[IPC_MAX_SECURITY_TEXT + 1];	/* escaped */
	char tls_version[IPC_MAX_SECURITY_TEXT + 1];
	char cipher[IPC_MAX_SECURITY_TEXT + 1];
};

/* The caller of the request being served, for the log lines. */
struct ctl_caller {
	int fd;
	uid_t uid;
	pid_t pid;
};

static struct ctl_session sessions[CONTROL_MAX_SESSIONS];
static int listen_fd = -1;
static char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static dev_t socket_dev;
static ino_t socket_ino;
static char reply_text[IPC_MAX_CTL_TEXT + 1];
/* The last reply of the request being served, for its audit record. */
static int last_ok;
static char last_text[512];

/* The directory of the socket: root's, not writable by others. */
static int
check_directory(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(socket_path)], *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		snprintf(err, errlen, "ControlSocket %s is not an absolute path",
		    path);
		return MOAT_ERR_CONFIG;
	}
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	/* Like SessionSocket's directory: created when missing. */
	if (mkdir(dir, 0755) == 0 && chmod(dir, 0755) != 0) {
		snprintf(err, errlen, "ControlSocket: chmod %s: %s", dir,
		    strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	if (lstat(dir, &st) != 0) {
		snprintf(err, errlen, "ControlSocket: %s: %s", dir,
		    strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(err, errlen, "ControlSocket: %s must be a directory "
		    "owned by root and writable only by root", dir);
		return MOAT_ERR_CONFIG;
	}
	return 0;
}

/* Returns 1 if a moatd answers on the socket at sun now. */
static int
socket_is_live(const struct sockaddr_un *sun)
{
	int fd, live;

	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

int
control_open(const struct moat_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, r;

	if (config_control_socket(cfg, socket_path, sizeof(socket_path)) != 0) {
		snprintf(err, errlen, "ControlSocket: the path is too long");
		return MOAT_ERR_CONFIG;
	}
	if ((r = check_directory(socket_path, err, errlen)) != 0)
		return r;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, socket_path, strlen(socket_path));
	if (lstat(socket_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "ControlSocket %s exists and is "
			    "not a socket", socket_path);
			return MOAT_ERR_CONFIG;
		}
		if (socket_is_live(&sun)) {
			snprintf(err, errlen, "ControlSocket %s is in use by "
			    "another moatd%s", socket_path,
			    cfg->control_socket[0] == '\0' ? " (set "
			    "ControlSocket, or another SessionSocket directory, "
			    "for this one)" : "");
			/* The default path: this moatd may run without. */
			return cfg->control_socket[0] == '\0' ?
			    MOAT_ERR_AGAIN : MOAT_ERR_CONFIG;
		}
		(void)unlink(socket_path);
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "ControlSocket: socket: %s",
		    strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	/* Never reachable by others, not even between bind and chmod. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r != 0 || chmod(socket_path, 0600) != 0 || listen(fd, 8) != 0 ||
	    lstat(socket_path, &st) != 0) {
		snprintf(err, errlen, "listening on %s: %s", socket_path,
		    strerror(errno));
		close(fd);
		return MOAT_ERR_SYSTEM;
	}
#ifdef MOAT_SELFTEST
	/*
	 * Test-build hook (SECURITY.md): leave the socket open to every user
	 * so that an end-to-end test reaches the peer-credential check with
	 * an unprivileged caller.
	 */
	if (getenv("MOAT_TEST_CONTROL_SOCKET_OPEN") != NULL) {
		(void)chmod(socket_path, 0666);
		warn_f("TEST BUILD: control socket %s is open to every user; "
		    "only the peer-credential check refuses them", socket_path);
	}
#endif
	socket_dev = st.st_dev;
	socket_ino = st.st_ino;
	listen_fd = fd;
	info_f("control socket %s ready (root only)", socket_path);
	return 0;
}

int
control_fd(void)
{
	return listen_fd;
}

void
control_close(int unlink_path)
{
	struct stat st;

	if (listen_fd == -1)
		return;
	close(listen_fd);
	listen_fd = -1;
	if (unlink_path && lstat(socket_path, &st) == 0 &&
	    st.st_dev == socket_dev && st.st_ino == socket_ino)
		(void)unlink(socket_path);
}

int
control_peer_allowed(uid_t uid)
{
	return uid == 0;
}

/* ---- sessions, as the monitors report them ---- */

static void
copy_escaped(char *dst, size_t dstlen, const struct ipc_view *v)
{
	log_escape(dst, dstlen, v->p, v->len);
}

int
control_on_session_info(pid_t pid, uint32_t id,
    const struct ipc_session_info *si)
{
	struct ctl_session *s = NULL;
	size_t i;

	for (i = 0; i < CONTROL_MAX_SESSIONS; i++) {
		if (sessions[i].pid == pid)
			return MOAT_ERR_UNPERMITTED;
		if (s == NULL && sessions[i].pid == 0)
			s = &sessions[i];
	}
	if (s == NULL)
		return MOAT_ERR_NOMEM;
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->id = id;
	s->since = time(NULL);
	s->perms = si->perms;
	copy_escaped(s->user, sizeof(s->user), &si->user);
	copy_escaped(s->peer, sizeof(s->peer), &si->peer);
	copy_escaped(s->security, sizeof(s->security), &si->security);
	copy_escaped(s->tls_version, sizeof(s->tls_version), &si->tls_version);
	copy_escaped(s->cipher, sizeof(s->cipher), &si->cipher);
	debug_f("session %u: user \"%s\" from %s (monitor %d)", s->id, s->user,
	    s->peer, (int)pid);
	return 0;
}

void
control_on_monitor_exit(pid_t pid)
{
	size_t i;

	for (i = 0; i < CONTROL_MAX_SESSIONS; i++)
		if (sessions[i].pid == pid)
			memset(&sessions[i], 0, sizeof(sessions[i]));
}

/* ---- answering one request ---- */

static int
reply(const struct ctl_caller *c, int ok, const char *text)
{
	size_t n = strlen(text);
	struct ipc_ctl_reply rp = { ok ? 1 : 0,
	    { (const uint8_t *)text, n < IPC_MAX_CTL_TEXT ? n :
	    IPC_MAX_CTL_TEXT } };

	last_ok = ok;
	snprintf(last_text, sizeof(last_text), "%s", text);
	return ipc_msg_send_ctl_reply(c->fd, &rp, -1);
}

static void
do_sessions(const struct ctl_caller *c)
{
	struct ipc_ctl_session cs;
	char text[64];
	size_t i, n = 0;

	for (i = 0; i < CONTROL_MAX_SESSIONS; i++) {
		const struct ctl_session *s = &sessions[i];

		if (s->pid == 0)
			continue;
		cs = (struct ipc_ctl_session){ s->id, (uint32_t)s->pid,
		    (uint64_t)s->since, s->perms, ipc_view_cstr(s->user),
		    ipc_view_cstr(s->peer), ipc_view_cstr(s->security),
		    ipc_view_cstr(s->tls_version), ipc_view_cstr(s->cipher) };
		if (ipc_msg_send_ctl_session(c->fd, &cs, -1) != 0) {
			warn_f("control: uid %u (pid %d): sessions: the caller "
			    "stopped reading", (unsigned)c->uid, (int)c->pid);
			return;
		}
		n++;
	}
	info_f("control: uid %u (pid %d): sessions: %zu listed",
	    (unsigned)c->uid, (int)c->pid, n);
	snprintf(text, sizeof(text), "%zu session%s", n, n == 1 ? "" : "s");
	(void)reply(c, 1, text);
}

/* Asks the monitor of s to end it; its monitor logs "by administrator". */
static void
disconnect_one(const struct ctl_caller *c, struct ctl_session *s)
{
	struct ipc_lis_disconnect d = { (uint32_t)c->uid };
	int fd;

	info_f("control: uid %u (pid %d): disconnect session %u: user \"%s\" "
	    "from %s", (unsigned)c->uid, (int)c->pid, s->id, s->user, s->peer);
	s->disconnecting = 1;
	fd = listener_monitor_fd(s->pid);
	if (fd < 0 || ipc_msg_send_lis_disconnect(fd, &d, -1) != 0) {
		/* Without its channel the monitor cannot be asked: end it. */
		warn_f("control: monitor %d of session %u cannot be reached; "
		    "terminating it", (int)s->pid, s->id);
		(void)kill(s->pid, SIGTERM);
	}
}

static void
do_disconnect(const struct ctl_caller *c, uint32_t id)
{
	char text[IPC_MAX_NAME + IPC_MAX_PEER + 64];
	size_t i, n = 0;

	for (i = 0; i < CONTROL_MAX_SESSIONS; i++) {
		struct ctl_session *s = &sessions[i];

		if (s->pid == 0 || (id != 0 && s->id != id))
			continue;
		disconnect_one(c, s);
		n++;
		if (id != 0) {
			snprintf(text, sizeof(text), "disconnected session %u "
			    "(user \"%s\" from %s)", s->id, s->user, s->peer);
			(void)reply(c, 1, text);
			return;
		}
	}
	if (id != 0) {
		info_f("control: uid %u (pid %d): disconnect session %u: no "
		    "such session", (unsigned)c->uid, (int)c->pid, id);
		snprintf(text, sizeof(text), "no session %u", id);
		(void)reply(c, 0, text);
		return;
	}
	info_f("control: uid %u (pid %d): disconnect all: %zu session%s",
	    (unsigned)c->uid, (int)c->pid, n, n == 1 ? "" : "s");
	snprintf(text, sizeof(text), "disconnected %zu session%s", n,
	    n == 1 ? "" : "s");
	(void)reply(c, 1, text);
}

static int64_t
monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* An address key (policy/penalty.h): IPv4, or an IPv6 /64. */
static void
format_addr_key(const struct penalty_key *k, char *out, size_t outlen)
{
	struct ip_addr a;
	char text[64];

	memset(&a, 0, sizeof(a));
	a.family = k->b[0];
	if (a.family == 4 && k->len == 5) {
		memcpy(a.a, k->b + 1, 4);
		ip_addr_format(&a, out, outlen);
	} else if (a.family == 6 && k->len == 9) {
		memcpy(a.a, k->b + 1, 8);
		ip_addr_format(&a, text, sizeof(text));
		snprintf(out, outlen, "%s/64", text);
	} else
		log_escape(out, outlen, k->b, k->len);
}

/* Sends the live entries of t as kind; returns how many, or -1. */
static long
show_table(const struct ctl_caller *c, struct penalty_table *t, uint8_t kind,
    int64_t now, time_t wall)
{
	struct ipc_ctl_blacklist_entry be;
	struct penalty_entry *e;
	struct penalty_key k;
	char text[IPC_MAX_NAME + 1];
	long n = 0;
	size_t i;

	for (i = 0; i < t->nslots; i++) {
		e = &t->slot[i];
		if (e->key.len == 0)
			continue;
		k = e->key;
		(void)penalty_blocked(t, &k, now);	/* frees a stale entry */
		if (e->key.len == 0)
			continue;
		if (kind == IPC_CTLKEY_ADDRESS)
			format_addr_key(&e->key, text, sizeof(text));
		else
			log_escape(text, sizeof(text), e->key.b, e->key.len);
		be = (struct ipc_ctl_blacklist_entry){ kind,
		    ipc_view_cstr(text), e->failures, e->probation ? 1 : 0,
		    e->blocked_until > now ?
		    (uint64_t)(wall + (e->blocked_until - now)) : 0 };
		if (ipc_msg_send_ctl_blacklist_entry(c->fd, &be, -1) != 0)
			return -1;
		n++;
	}
	return n;
}

static void
do_blacklist_show(const struct ctl_caller *c)
{
	struct penalty_table *at, *ut;
	char text[160];
	long na, nu;

	listener_blacklist_tables(&at, &ut);
	if ((na = show_table(c, at, IPC_CTLKEY_ADDRESS, monotonic_s(),
	    time(NULL))) < 0 || (nu = show_table(c, ut, IPC_CTLKEY_USER,
	    monotonic_s(), time(NULL))) < 0) {
		warn_f("control: uid %u (pid %d): blacklist show: the caller "
		    "stopped reading", (unsigned)c->uid, (int)c->pid);
		return;
	}
	info_f("control: uid %u (pid %d): blacklist show: %ld address%s, %ld "
	    "user%s", (unsigned)c->uid, (int)c->pid, na, na == 1 ? "" : "es",
	    nu, nu == 1 ? "" : "s");
	snprintf(text, sizeof(text), "%ld address%s, %ld user%s%s", na,
	    na == 1 ? "" : "es", nu, nu == 1 ? "" : "s", at->threshold == 0 ?
	    " (the blacklist is off: BlacklistThreshold=0)" : "");
	(void)reply(c, 1, text);
}

/* The audit record of a blacklist change made by an administrator. */
static void
audit_cleared(const struct ctl_caller *c, const char *kind, const char *key)
{
	struct audit_rec rec;

	audit_begin(&rec, "blacklist", 0, "", 0);
	audit_cstr(&rec, "action", "cleared");
	audit_cstr(&rec, "key_kind", kind);
	audit_cstr(&rec, "key", key);
	audit_int(&rec, "admin_uid", (int64_t)c->uid);
	(void)audit_emit(&rec, 0);
}

/* Forgets k in t; returns 1 if it was there. */
static int
forget(struct penalty_table *t, const struct penalty_key *k)
{
	size_t i;
	int found = 0;

	for (i = 0; i < t->nslots; i++) {
		struct penalty_entry *e = &t->slot[i];

		if (e->key.len != 0 && e->key.len == k->len &&
		    memcmp(e->key.b, k->b, k->len) == 0) {
			memset(e, 0, sizeof(*e));
			found = 1;
		}
	}
	return found;
}

static size_t
count_entries(const struct penalty_table *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->nslots; i++)
		if (t->slot[i].key.len != 0)
			n++;
	return n;
}

static void
do_blacklist_clear(const struct ctl_caller *c, const struct ipc_view *key)
{
	struct penalty_table *at, *ut;
	struct penalty_key k;
	struct ip_addr a;
	char raw[IPC_MAX_NAME + 1], esc[IPC_MAX_NAME * 4 + 1], text[1200];
	size_t n, na, nu;
	int found = 0;

	listener_blacklist_tables(&at, &ut);
	if (key->len == 0) {
		na = count_entries(at);
		nu = count_entries(ut);
		penalty_init(at, at->slot, at->nslots, at->threshold,
		    at->timeout);
		penalty_init(ut, ut->slot, ut->nslots, ut->threshold,
		    ut->timeout);
		audit_cleared(c, "all", "");
		info_f("control: uid %u (pid %d): blacklist clear: all (%zu "
		    "address%s, %zu user%s)", (unsigned)c->uid, (int)c->pid, na,
		    na == 1 ? "" : "es", nu, nu == 1 ? "" : "s");
		snprintf(text, sizeof(text), "cleared the blacklist (%zu "
		    "address%s, %zu user%s)", na, na == 1 ? "" : "es", nu,
		    nu == 1 ? "" : "s");
		(void)reply(c, 1, text);
		return;
	}
	log_escape(esc, sizeof(esc), key->p, key->len);
	if (memchr(key->p, '\0', key->len) != NULL) {
		(void)reply(c, 0, "a key holds a NUL byte");
		return;
	}
	memcpy(raw, key->p, key->len);
	raw[key->len] = '\0';
	/* An address (an IPv6 one may carry the /64 that show prints)... */
	n = key->len;
	if (n > 3 && strcmp(raw + n - 3, "/64") == 0 && strchr(raw, ':') != NULL)
		n -= 3;
	if (ip_addr_parse(raw, n, &a) == 0) {
		penalty_key_addr(&k, &a, NULL);
		if ((found = forget(at, &k)) != 0)
			audit_cleared(c, "address", esc);
	}
	/* ... or a user name (a name may look like anything). */
	if (penalty_key_user(&k, raw) == 0 && forget(ut, &k)) {
		found = 1;
		audit_cleared(c, "user", esc);
	}
	info_f("control: uid %u (pid %d): blacklist clear \"%s\": %s",
	    (unsigned)c->uid, (int)c->pid, esc, found ? "cleared" :
	    "not in the blacklist");
	snprintf(text, sizeof(text), found ? "cleared %s" :
	    "%s is not in the blacklist", esc);
	(void)reply(c, found, text);
}

static void
do_reload(const struct ctl_caller *c)
{
	char by[64];
	int r;

	snprintf(by, sizeof(by), "moatctl, uid %u pid %d", (unsigned)c->uid,
	    (int)c->pid);
	r = reload_apply(by, reply_text, sizeof(reply_text));
	(void)reply(c, r == 0, reply_text);
}

static void
do_check(const struct ctl_caller *c)
{
	char head[1100];
	int r;

	r = reload_check(reply_text, sizeof(reply_text));
	if (r == 0)
		info_f("control: uid %u (pid %d): check: the configuration "
		    "on disk is valid", (unsigned)c->uid, (int)c->pid);
	else {
		snprintf(head, sizeof(head), "%.*s", (int)sizeof(head) - 1,
		    reply_text);
		info_f("control: uid %u (pid %d): check: %s", (unsigned)c->uid,
		    (int)c->pid, head);
	}
	(void)reply(c, r == 0, reply_text);
}

/* moatctl debug on|off: the listener's level, which new monitors inherit. */
static void
do_debug(const struct ctl_caller *c, int on)
{
	struct audit_rec rec;
	int was;

	was = log_set_debug(on);
	info_f("control: uid %u (pid %d): debug logging %s (was %s)",
	    (unsigned)c->uid, (int)c->pid, on ? "on" : "off",
	    was ? "on" : "off");
	audit_begin(&rec, "debug", 0, "", 0);
	audit_cstr(&rec, "state", on ? "on" : "off");
	audit_cstr(&rec, "previous", was ? "on" : "off");
	audit_int(&rec, "admin_uid", (int64_t)c->uid);
	(void)audit_emit(&rec, 0);
	(void)reply(c, 1, on ? "debug logging on (moatd and the connections "
	    "accepted from now on)" : "debug logging off (moatd and the "
	    "connections accepted from now on)");
}

/* moatctl audit rotate */
static void
do_audit_rotate(const struct ctl_caller *c)
{
	char msg[CONFIG_PATH_MAX * 2 + 64];
	int r;

	r = audit_sink_rotate(msg, sizeof(msg));
	info_f("control: uid %u (pid %d): audit rotate: %s", (unsigned)c->uid,
	    (int)c->pid, msg);
	(void)reply(c, r == 0, msg);
}

static const char *
command_name(unsigned command)
{
	switch (command) {
	case IPC_CTLCMD_SESSIONS: return "sessions";
	case IPC_CTLCMD_DISCONNECT: return "disconnect";
	case IPC_CTLCMD_BLACKLIST_SHOW: return "blacklist_show";
	case IPC_CTLCMD_BLACKLIST_CLEAR: return "blacklist_clear";
	case IPC_CTLCMD_RELOAD: return "reload";
	case IPC_CTLCMD_CHECK: return "check";
	case IPC_CTLCMD_DEBUG_ON: return "debug_on";
	case IPC_CTLCMD_DEBUG_OFF: return "debug_off";
	case IPC_CTLCMD_AUDIT_ROTATE: return "audit_rotate";
	}
	return "invalid";
}

/* The audit record of one moatctl request, after its reply (docs/audit.md). */
static void
audit_request(const struct ctl_caller *c, const char *command,
    const struct ipc_ctl_request *rq)
{
	struct audit_rec rec;

	audit_begin(&rec, "moatctl", 0, "", 0);
	audit_cstr(&rec, "command", command);
	audit_int(&rec, "admin_uid", (int64_t)c->uid);
	audit_int(&rec, "admin_pid", (int64_t)c->pid);
	if (rq != NULL && rq->command == IPC_CTLCMD_DISCONNECT)
		audit_int(&rec, "target_session", rq->id);
	if (rq != NULL && rq->key.len > 0)
		audit_str(&rec, "key", rq->key.p, rq->key.len);
	audit_cstr(&rec, "result", last_ok ? "ok" : "failed");
	audit_cstr(&rec, "detail", last_text);
	(void)audit_emit(&rec, 0);
}

static void
serve(const struct ctl_caller *c)
{
	struct ipc_ctl_request rq;
	struct ipc_msg m;
	int r;

	last_ok = 0;
	last_text[0] = '\0';
	if ((r = ipc_recv(c->fd, &m, 0)) != 0) {
		warn_f("control: uid %u (pid %d): no request (%s)",
		    (unsigned)c->uid, (int)c->pid, moat_strerror(r));
		return;
	}
	if (m.type != IPC_CTL_REQUEST ||
	    (r = ipc_msg_get_ctl_request(&m.payload, &rq)) != 0) {
		warn_f("control: uid %u (pid %d): invalid request %s (%u)",
		    (unsigned)c->uid, (int)c->pid, ipc_type_name(m.type), m.type);
		(void)reply(c, 0, "invalid request");
		audit_request(c, "invalid", NULL);
		ipc_msg_clear(&m);
		return;
	}
	switch (rq.command) {
	case IPC_CTLCMD_SESSIONS:
		do_sessions(c);
		break;
	case IPC_CTLCMD_DISCONNECT:
		do_disconnect(c, rq.id);
		break;
	case IPC_CTLCMD_BLACKLIST_SHOW:
		do_blacklist_show(c);
		break;
	case IPC_CTLCMD_BLACKLIST_CLEAR:
		do_blacklist_clear(c, &rq.key);	/* a view into m */
		break;
	case IPC_CTLCMD_RELOAD:
		do_reload(c);
		break;
	case IPC_CTLCMD_CHECK:
		do_check(c);
		break;
	case IPC_CTLCMD_DEBUG_ON:
	case IPC_CTLCMD_DEBUG_OFF:
		do_debug(c, rq.command == IPC_CTLCMD_DEBUG_ON);
		break;
	case IPC_CTLCMD_AUDIT_ROTATE:
		do_audit_rotate(c);
		break;
	}
	audit_request(c, command_name(rq.command), &rq);
	ipc_msg_clear(&m);
}

void
control_on_connect(void)
{
	struct timeval tv = { CONTROL_TIMEOUT_S, 0 };
	struct ctl_caller c;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int fd;

	if (listen_fd == -1 ||
	    (fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
	    cl != sizeof(cred)) {
		error_f("control: no peer credentials: %s", strerror(errno));
		close(fd);
		return;
	}
	c = (struct ctl_caller){ fd, cred.uid, cred.pid };
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    ipc_tune_socket(fd) != 0) {
		error_f("control: cannot set up a connection: %s",
		    strerror(errno));
		close(fd);
		return;
	}
	if (!control_peer_allowed(cred.uid)) {
		warn_f("control: refused a connection from uid %u (pid %d): "
		    "only root may use the control socket", (unsigned)cred.uid,
		    (int)cred.pid);
		/*
		 * Its request is dropped unread (a closing socket with
		 * unread data would make the caller's read fail before it
		 * sees the reply).
		 */
		(void)recv(fd, &cl, sizeof(cl), MSG_TRUNC);
		(void)reply(&c, 0, "permission denied: only root may use "
		    "moatd's control socket");
		audit_request(&c, "denied", NULL);
		close(fd);
		return;
	}
	serve(&c);
	close(fd);
}
