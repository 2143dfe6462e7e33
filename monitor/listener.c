/*
 * listener.c - moatd's accept loop (see listener.h). Runs as root for the
 * life of the daemon. Trusts its monitors (root children); treats
 * moat-session registrations as coming from the user the kernel reports
 * (SO_PEERCRED), and serves a viewer only the desktop registered by the
 * very user the monitor authenticated.
 *
 * At accept time, before any RFB byte, it applies IpClientAddresses, the
 * blacklist (policy/penalty.h: counters of failed authentications and
 * penalties per address and per user name, fed by the monitors' outcome
 * messages and exit statuses) and the caps on connections not yet
 * authenticated (docs/access-control.md). A blacklisted or capped viewer
 * is refused with an RFB failure reason (monitor/refusal.c); the few bytes
 * of that exchange are read without blocking the accept loop and only
 * compared, never parsed further.
 *
 * The configuration each accept uses is monitor/reload.c's generation in
 * force (SIGHUP reloads it); moatctl's requests are served between
 * accepts by monitor/control.c. When nothing has happened for a moment it
 * issues TLS leaf certificates ahead of time (monitor/mon_identity.c's
 * pool); each is handed to the one monitor forked next and dropped here.
 *
 * SIGTERM or SIGINT stops it in two steps (the drain): it closes its
 * listening sockets, tells every monitor to end its connection
 * (IPC_LIS_DISCONNECT from LISTENER_SHUTDOWN_UID) and goes on serving them,
 * so that their disconnect records reach the audit file, until the last
 * one is gone or DRAIN_MS has passed (a second signal cuts that short);
 * then it kills what is left and writes their disconnect records itself.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "control.h"
#include "listener.h"
#include "policy/ip_filter.h"
#include "policy/penalty.h"
#include "policy/sharing.h"
#include "privsep/buf.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"
#include "privsep/log.h"
#include "refusal.h"
#include "reload.h"
#include "privsep/clock.h"

#define MAX_SESSIONS	64
#define MAX_MONITORS	1000
#define LEAF_FILL_IDLE_MS	20	/* quiet time before leaves are issued ahead */
#define LEAF_FILL_RETRY_MS	10000	/* after issuing one failed */
#define DRAIN_MS	5000	/* stopping: how long the monitors get to end */
#define DRAIN_REAP_MS	2000	/* and to be reaped once killed */

struct session_reg {
	int fd;
	uid_t uid;
	pid_t pid;
	char display[64];
	int registered;
};

struct monitor_ref {
	int fd;
	pid_t pid;
	struct penalty_key akey;	/* its address in the blacklist (len 0: exempt) */
	struct penalty_key source;	/* its address or /64, for PerSourceMaxStartups */
	char addr[INET6_ADDRSTRLEN];	/* for logs */
	int outcome;			/* IPC_OUTCOME_* once reported; 0 before */
	int probation;			/* the probation attempt of its address */
	int attached;			/* its channel went to desktop_uid's session */
	int viewing;			/* sharing accepted: counts as a viewer */
	uid_t desktop_uid;
	char peer[IPC_MAX_PEER + 1];	/* its viewer, for the others' logs */
	uint32_t session;		/* its session id: audit records, moatctl */
	char paddr[INET6_ADDRSTRLEN];	/* its viewer's address and port, */
	unsigned pport;			/* for audit records */
	int64_t start_ms;		/* accepted at (CLOCK_MONOTONIC) */
	int audit_closed;		/* it sent its disconnect record */
	char user[IPC_MAX_NAME + 1];	/* the user its login record granted */
	int query_rule;			/* IpClientAddresses '?' rule (1-based) it matched, or 0 */
	int query_asked;		/* sent its one IPC_MON_QUERY */
	uint32_t query_id;		/* the prompt open for it in moat-session, or 0 */
	int query_sess;			/* index in sessions[] of that session */
	int64_t query_deadline_ms;	/* when the listener stops waiting for it */
	int in_session;			/* sent IPC_MON_SESSION_INFO: reads this channel */
	int told_to_stop;		/* sent the shutdown IPC_LIS_DISCONNECT */
	int stop_killed;		/* killed when the drain ended */
};

static struct session_reg sessions[MAX_SESSIONS];
static struct monitor_ref monitors[MAX_MONITORS];
static uint32_t next_channel_id = 1;
static uint32_t next_session_id = 1;	/* one per accepted connection */
static uint32_t next_query_id = 1;
/* In a monitor: the '?' rule its connection matched (listener_query_rule()). */
static int child_query_rule;
/* Stopping: the signal that started the drain (0: serving), and its end. */
static int stop_signal;
static int64_t drain_deadline_ms;

/*
 * The blacklist. A monitor is a fork of the listener, so it holds a copy
 * of the user table as of its accept (listener_check_user()).
 */
static struct penalty_entry addr_slots[PENALTY_ADDR_SLOTS];
static struct penalty_entry user_slots[PENALTY_USER_SLOTS];
static struct penalty_table addr_table, user_table;

static int64_t
now_s(void)
{
	return moat_monotonic_ms() / 1000;
}

int
listener_open(const struct moat_config *cfg, int *tcp_fd, int *sess_fd,
    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	socklen_t sl;
	int fd, one = 1, r;
	char dir[CONFIG_PATH_MAX], *slash;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cfg->listen_address,
	    &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(cfg->listen_port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, cfg->listen_address,
	    &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(cfg->listen_port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		snprintf(err, errlen, "ListenAddress %s is not an IP address",
		    cfg->listen_address);
		return MOAT_ERR_CONFIG;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 64) != 0) {
		snprintf(err, errlen, "listening on %s port %u: %s",
		    cfg->listen_address, cfg->listen_port, strerror(errno));
		if (fd != -1)
			close(fd);
		return MOAT_ERR_SYSTEM;
	}
	*tcp_fd = fd;

	memset(&sun, 0, sizeof(sun));
	if (strlen(cfg->session_socket) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "SessionSocket path is too long");
		close(*tcp_fd);
		return MOAT_ERR_CONFIG;
	}
	snprintf(dir, sizeof(dir), "%s", cfg->session_socket);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		/* Desktop users must reach the socket: 0755 despite umask 077. */
		if (mkdir(dir, 0755) == 0)
			r = chmod(dir, 0755);
		else
			r = errno == EEXIST ? 0 : -1;
		if (r != 0) {
			snprintf(err, errlen, "creating %s: %s", dir, strerror(errno));
			close(*tcp_fd);
			return MOAT_ERR_SYSTEM;
		}
	}
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, cfg->session_socket, strlen(cfg->session_socket));
	(void)unlink(cfg->session_socket);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(cfg->session_socket, 0666) != 0 || listen(fd, 16) != 0) {
		snprintf(err, errlen, "listening on %s: %s", cfg->session_socket,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		close(*tcp_fd);
		return MOAT_ERR_SYSTEM;
	}
	*sess_fd = fd;
	return 0;
}

static void
format_peer(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(out, outlen, "%s port %u", a, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(out, outlen, "%s port %u", a, ntohs(s->sin6_port));
	}
}

/*
 * A viewer that accepts no data for VIEWER_SEND_TIMEOUT seconds, or whose
 * host stops answering keepalives, is disconnected: moat-net's blocked write
 * fails instead of holding the connection slot forever. (moat-net cannot
 * set socket options itself; its sandbox allows only TCP_NODELAY.)
 */
#define VIEWER_SEND_TIMEOUT	60
#define VIEWER_KEEPIDLE		60
#define VIEWER_KEEPINTVL	10
#define VIEWER_KEEPCNT		6

static void
set_viewer_timeouts(int fd)
{
	struct timeval tv = { VIEWER_SEND_TIMEOUT, 0 };
	int one = 1, idle = VIEWER_KEEPIDLE, intvl = VIEWER_KEEPINTVL,
	    cnt = VIEWER_KEEPCNT;

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static int
count_monitors(void)
{
	int i, n = 0;

	for (i = 0; i < MAX_MONITORS; i++)
		if (monitors[i].pid > 0)
			n++;
	return n;
}

/* Connections not yet authenticated: in all, and from source. */
static void
count_unauthenticated(const struct penalty_key *source, unsigned *all,
    unsigned *same)
{
	int i;

	*all = *same = 0;
	for (i = 0; i < MAX_MONITORS; i++) {
		if (monitors[i].pid <= 0 || monitors[i].outcome == IPC_OUTCOME_SUCCESS)
			continue;
		(*all)++;
		if (monitors[i].source.len == source->len &&
		    memcmp(monitors[i].source.b, source->b, source->len) == 0)
			(*same)++;
	}
}

/* The viewer's address and port alone, for audit records. */
static void
peer_parts(const struct sockaddr_storage *ss, char *addr, size_t addrlen,
    unsigned *port)
{
	snprintf(addr, addrlen, "?");
	*port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, addr, (socklen_t)addrlen);
		*port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, addr, (socklen_t)addrlen);
		*port = ntohs(s->sin6_port);
	}
}

/* The audit record of a connection refused at accept time (docs/audit.md). */
static void
audit_refuse(const struct monitor_ref *mr, const char *reason,
    const char *detail)
{
	struct audit_rec rec;

	audit_begin(&rec, "refuse", mr->session, mr->paddr, mr->pport);
	audit_cstr(&rec, "reason", reason);
	audit_cstr(&rec, "detail", detail);
	(void)audit_emit(&rec, 0);
}

/* A blacklist change (docs/audit.md): key is printable already. */
static void
audit_blacklist(const struct monitor_ref *mr, const char *action,
    const char *kind, const char *key, int64_t seconds, unsigned failures)
{
	struct audit_rec rec;

	audit_begin(&rec, "blacklist", mr != NULL ? mr->session : 0,
	    mr != NULL ? mr->paddr : "", mr != NULL ? mr->pport : 0);
	audit_cstr(&rec, "action", action);
	audit_cstr(&rec, "key_kind", kind);
	audit_cstr(&rec, "key", key);
	if (seconds > 0)
		audit_int(&rec, "blocked_s", seconds);
	audit_int(&rec, "failures", failures);
	(void)audit_emit(&rec, 0);
}

/*
 * IpClientAddresses, then the blacklist, then the caps. Returns 1 if the
 * connection may go on (a monitor is forked), 0 if it was refused (and fd
 * closed or handed to the refusal table).
 */
static int
admit(const struct moat_config *cfg, int fd, const struct sockaddr_storage *ss,
    socklen_t sl, const char *peer, struct monitor_ref *mr)
{
	struct ip_addr a;
	char rule[IP_RULE_TEXT_MAX];
	unsigned all, same;
	int64_t left;
	int idx;

	if (ip_addr_from_sockaddr((const struct sockaddr *)ss, sl, &a) != 0) {
		error_f("refused connection from %s: not an IP address", peer);
		audit_refuse(mr, "not_ip", "not an IP address");
		close(fd);
		return 0;
	}
	switch (ip_filter_match(&cfg->ip_client_filter, &a, &idx)) {
	case IP_ACTION_DENY:
		ip_rule_format(&cfg->ip_client_filter.rule[idx], rule, sizeof(rule));
		info_f("refused connection from %s: IpClientAddresses rule %d (%s)",
		    peer, idx + 1, rule);
		{
			char d[IP_RULE_TEXT_MAX + 64];

			snprintf(d, sizeof(d), "IpClientAddresses rule %d (%s)",
			    idx + 1, rule);
			audit_refuse(mr, "ip_filter", d);
		}
		close(fd);	/* not one byte */
		return 0;
	case IP_ACTION_QUERY:
		/* The monitor asks the desktop user once the login succeeded. */
		mr->query_rule = idx + 1;
		break;
	}
	ip_addr_format(&a, mr->addr, sizeof(mr->addr));
	penalty_key_addr(&mr->akey, &a, &cfg->blacklist_exempt_list);
	penalty_key_addr(&mr->source, &a, NULL);
	if ((left = penalty_blocked(&addr_table, &mr->akey, now_s())) > 0) {
		info_f("refused connection from %s: too many authentication "
		    "failures (blocked for %lld more seconds)", peer,
		    (long long)left);
		audit_refuse(mr, "blacklist",
		    "too many authentication failures");
		refusal_start(fd, LISTENER_BLOCKED_REASON);
		return 0;
	}
	count_unauthenticated(&mr->source, &all, &same);
	if (all >= cfg->max_startups) {
		info_f("refused connection from %s: %u connections are not yet "
		    "authenticated (MaxStartups=%u)", peer, all, cfg->max_startups);
		audit_refuse(mr, "max_startups", "MaxStartups reached");
		refusal_start(fd, "Too many connections are waiting to "
		    "authenticate; try again later");
		return 0;
	}
	if (same >= cfg->per_source_max_startups) {
		info_f("refused connection from %s: %u connections from %s are "
		    "not yet authenticated (PerSourceMaxStartups=%u)", peer, same,
		    mr->addr, cfg->per_source_max_startups);
		audit_refuse(mr, "per_source_max_startups",
		    "PerSourceMaxStartups reached");
		refusal_start(fd, "Too many connections from your address are "
		    "waiting to authenticate; try again later");
		return 0;
	}
	if (penalty_admit(&addr_table, &mr->akey, now_s(), NULL) ==
	    PENALTY_PROBATION) {
		mr->probation = 1;
		info_f("blacklist: connection from %s is the probation attempt "
		    "of %s", peer, mr->addr);
	}
	return 1;
}

static void
on_accept(const struct mon_ctx *ctx, int tcp_fd, int sess_listen)
{
	struct sockaddr_storage ss;
	struct monitor_ref mr;
	socklen_t sl = sizeof(ss);
	char peer[128];
	int fd, sv[2], i, slot = -1, one = 1;
	pid_t pid;

	if ((fd = accept4(tcp_fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC)) == -1)
		return;
	format_peer(&ss, peer, sizeof(peer));
	memset(&mr, 0, sizeof(mr));
	mr.session = next_session_id++;
	if (next_session_id == 0)
		next_session_id = 1;
	peer_parts(&ss, mr.paddr, sizeof(mr.paddr), &mr.pport);
	mr.start_ms = moat_monotonic_ms();
	for (i = 0; i < MAX_MONITORS; i++)
		if (monitors[i].pid <= 0) {
			slot = i;
			break;
		}
	if (slot == -1 || count_monitors() >= (int)ctx->cfg->max_connections) {
		info_f("refused connection from %s: too many connections", peer);
		audit_refuse(&mr, "max_connections", "MaxConnections reached");
		close(fd);
		return;
	}
	/* Never unaudited: without the audit file, no new connection. */
	if (!audit_sink_usable()) {
		error_f("refused connection from %s: the audit file cannot be "
		    "written", peer);
		audit_refuse(&mr, "audit_unavailable", "the audit file cannot "
		    "be written");
		close(fd);
		return;
	}
	if (!admit(ctx->cfg, fd, &ss, sl, peer, &mr))
		return;
	{
		struct audit_rec rec;

		audit_begin(&rec, "connect", mr.session, mr.paddr, mr.pport);
		audit_int(&rec, "probation", mr.probation);
		(void)audit_emit(&rec, 0);
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_viewer_timeouts(fd);
	if (ipc_socketpair(sv) != 0) {
		error_f("socketpair for a monitor: %s", strerror(errno));
		goto fail;
	}
	mon_identity_pool_reserve();	/* the child's leaf, if one is ready */
	pid = fork();
	mon_identity_pool_forked(pid);
	if (pid == -1) {
		error_f("fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	if (pid == 0) {
		/* The monitor keeps only its client and its listener channel. */
		close(tcp_fd);
		close(sess_listen);
		control_close(0);
		close(sv[0]);
		for (i = 0; i < MAX_SESSIONS; i++)
			if (sessions[i].fd > 0)
				close(sessions[i].fd);
		for (i = 0; i < MAX_MONITORS; i++)
			if (monitors[i].fd > 0)
				close(monitors[i].fd);
		refusal_close_all();
		signal(SIGCHLD, SIG_DFL);
		/*
		 * moatd's stop signal, sent to its whole process group or
		 * cgroup, is the listener's to act on: it tells each monitor
		 * to end (the drain). moat-net inherits this.
		 */
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		{
			sigset_t all;

			sigemptyset(&all);
			sigprocmask(SIG_SETMASK, &all, NULL);
		}
		child_query_rule = mr.query_rule;
		audit_mon_init(sv[1], mr.session, mr.paddr, mr.pport);
		monitor_run(ctx, fd, peer, sv[1]);
	}
	close(fd);
	close(sv[1]);
	mr.fd = sv[0];
	mr.pid = pid;
	monitors[slot] = mr;
	return;
fail:
	if (mr.probation)
		penalty_end_probation(&addr_table, &mr.akey);
	close(fd);
}

static void
on_session_connect(int sess_listen)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int fd, i;

	if ((fd = accept4(sess_listen, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
	    ipc_tune_socket(fd) != 0) {
		close(fd);
		return;
	}
	for (i = 0; i < MAX_SESSIONS; i++)
		if (sessions[i].fd <= 0)
			break;
	if (i == MAX_SESSIONS) {
		warn_f("too many desktop sessions; refusing uid %u", (unsigned)cred.uid);
		close(fd);
		return;
	}
	memset(&sessions[i], 0, sizeof(sessions[i]));
	sessions[i].fd = fd;
	sessions[i].uid = cred.uid;
	sessions[i].pid = cred.pid;
}

/*
 * QueryConnect (docs/access-control.md): the listener relays a monitor's
 * IPC_MON_QUERY to the desktop session of its user and the answer back,
 * and stops waiting at the prompt's timeout plus QUERY_MARGIN_MS, so that
 * a hung moat-session cannot hold a connection. Answers the monitor's
 * open question with verdict and forgets it.
 */
#define QUERY_MARGIN_MS	5000

static void
query_answer(struct monitor_ref *mr, uint8_t verdict)
{
	struct ipc_query_result res = { verdict };

	mr->query_id = 0;
	if (mr->fd > 0 && ipc_msg_send_query_result(mr->fd, &res, -1) != 0)
		error_f("could not answer the approval query of monitor %d",
		    (int)mr->pid);
}

/* The questions whose time is up; returns the poll timeout for the next. */
static int
expire_queries(void)
{
	int64_t now = moat_monotonic_ms(), next = -1;
	int i;

	for (i = 0; i < MAX_MONITORS; i++) {
		if (monitors[i].pid <= 0 || monitors[i].query_id == 0)
			continue;
		if (now >= monitors[i].query_deadline_ms) {
			info_f("desktop session did not answer the approval "
			    "prompt for %s in time", monitors[i].peer);
			query_answer(&monitors[i], IPC_QUERY_TIMED_OUT);
			continue;
		}
		if (next == -1 || monitors[i].query_deadline_ms - now < next)
			next = monitors[i].query_deadline_ms - now;
	}
	return (int)next;
}

/* IPC_MON_QUERY: once per monitor, after its user authenticated. */
static void
on_query(struct monitor_ref *mr, struct ipc_msg *m)
{
	struct ipc_sess_query sq;
	struct ipc_query q;
	struct passwd *pw;
	char user[IPC_MAX_NAME + 1];
	int i;

	if (m->fd != -1 || mr->query_asked ||
	    mr->outcome != IPC_OUTCOME_SUCCESS ||
	    ipc_msg_get_query(&m->payload, &q) != 0 || q.user.len == 0 ||
	    memchr(q.user.p, '\0', q.user.len) != NULL) {
		error_f("monitor %d sent an invalid %s", (int)mr->pid,
		    ipc_type_name(m->type));
		query_answer(mr, IPC_QUERY_NO_DESKTOP);
		return;
	}
	mr->query_asked = 1;
	memcpy(user, q.user.p, q.user.len);
	user[q.user.len] = '\0';
	if ((pw = getpwnam(user)) == NULL) {
		query_answer(mr, IPC_QUERY_NO_DESKTOP);
		return;
	}
	for (i = 0; i < MAX_SESSIONS; i++)
		if (sessions[i].registered && sessions[i].uid == pw->pw_uid)
			break;
	if (i == MAX_SESSIONS) {
		query_answer(mr, IPC_QUERY_NO_DESKTOP);
		return;
	}
	if (next_query_id == 0)
		next_query_id = 1;
	sq = (struct ipc_sess_query){ next_query_id++, q.timeout, q.dflt,
	    q.user, q.peer };
	if (ipc_msg_send_sess_query(sessions[i].fd, &sq, -1) != 0) {
		error_f("could not ask the desktop session of uid %u",
		    (unsigned)sessions[i].uid);
		query_answer(mr, IPC_QUERY_NO_DESKTOP);
		return;
	}
	mr->query_id = sq.id;
	mr->query_sess = i;
	mr->query_deadline_ms = moat_monotonic_ms() +
	    (int64_t)q.timeout * 1000 + QUERY_MARGIN_MS;
	log_escape(mr->peer, sizeof(mr->peer), q.peer.p, q.peer.len);
}

/* IPC_SESS_QUERY_RESULT from s; returns 0 or MOAT_ERR_* (s broke the protocol). */
static int
on_query_result(struct session_reg *s, struct ipc_msg *m)
{
	struct ipc_sess_query_result res;
	int i, r;

	if ((r = ipc_msg_get_sess_query_result(&m->payload, &res)) != 0)
		return r;
	for (i = 0; i < MAX_MONITORS; i++) {
		if (monitors[i].pid <= 0 || monitors[i].query_id == 0 ||
		    monitors[i].query_id != res.id ||
		    &sessions[monitors[i].query_sess] != s)
			continue;
		query_answer(&monitors[i], res.verdict);
		return 0;
	}
	/* Its viewer left, or the listener stopped waiting: no one to tell. */
	debug_f("answer to approval query %u, which is no longer open",
	    (unsigned)res.id);
	return 0;
}

static void
drop_session(struct session_reg *s, const char *why)
{
	int i;

	/* Its open questions have no one left to answer them. */
	for (i = 0; i < MAX_MONITORS; i++)
		if (monitors[i].pid > 0 && monitors[i].query_id != 0 &&
		    &sessions[monitors[i].query_sess] == s)
			query_answer(&monitors[i], IPC_QUERY_NO_DESKTOP);
	if (s->registered)
		info_f("desktop session %s of uid %u (pid %d) %s", s->display,
		    (unsigned)s->uid, (int)s->pid, why);
	close(s->fd);
	memset(s, 0, sizeof(*s));
}

static void
on_session_message(struct session_reg *s)
{
	struct ipc_sess_register reg;
	struct ipc_msg m;
	int r, i;

	if ((r = ipc_recv(s->fd, &m, 0)) != 0) {
		drop_session(s, r == MOAT_ERR_EOF ? "ended" : "sent a bad message");
		return;
	}
	if (m.type == IPC_SESS_QUERY_RESULT && s->registered) {
		r = m.fd == -1 ? on_query_result(s, &m) : MOAT_ERR_FD;
		ipc_msg_clear(&m);
		if (r != 0)
			drop_session(s, "sent an invalid approval answer");
		return;
	}
	if (m.type != IPC_SESS_REGISTER || s->registered ||
	    ipc_msg_get_sess_register(&m.payload, &reg) != 0) {
		ipc_msg_clear(&m);
		drop_session(s, "broke the registration protocol");
		return;
	}
	log_escape(s->display, sizeof(s->display), reg.display.p,
	    reg.display.len);
	ipc_msg_clear(&m);
	/* One desktop per user: a new registration replaces the old one. */
	for (i = 0; i < MAX_SESSIONS; i++)
		if (&sessions[i] != s && sessions[i].registered &&
		    sessions[i].uid == s->uid)
			drop_session(&sessions[i], "replaced by a new registration");
	s->registered = 1;
	info_f("desktop session %s registered by uid %u (pid %d), %ux%u",
	    s->display, (unsigned)s->uid, (int)s->pid, reg.width, reg.height);
}

static void
attach_reply(int fd, int ok, const char *reason)
{
	struct ipc_attach_result res = { ok ? 1 : 0, (char *)reason };

	(void)ipc_msg_send_attach_result(fd, &res, -1);
}

/* Counts one failure or penalty of mr's address (and of user, if any). */
static void
count_failure(struct monitor_ref *mr, const char *what, const char *user)
{
	struct penalty_status st, ust;
	struct penalty_key uk;
	char esc[300];
	int64_t now = now_s();

	mr->probation = 0;
	if (addr_table.threshold == 0)
		return;
	if (penalty_fail(&addr_table, &mr->akey, now, &st) != 0)
		warn_f("blacklist: table full of blocked addresses: %s from %s "
		    "is not counted", what, mr->addr);
	else if (mr->akey.len == 0)
		info_f("blacklist: %s from %s (exempt: not counted)", what,
		    mr->addr);
	else
		info_f("blacklist: %s from %s (%u counted)", what, mr->addr,
		    st.failures);
	if (mr->akey.len != 0 && st.blocked > 0) {
		info_f("blacklist: %s refused for %lld seconds", mr->addr,
		    (long long)st.blocked);
		audit_blacklist(mr, "blocked", "address", mr->addr, st.blocked,
		    st.failures);
	}
	if (user == NULL || penalty_key_user(&uk, user) != 0)
		return;
	log_escape(esc, sizeof(esc), user, strlen(user));
	if (penalty_fail(&user_table, &uk, now, &ust) != 0)
		warn_f("blacklist: table full of blocked users: %s for user "
		    "\"%s\" is not counted", what, esc);
	else if (ust.blocked > 0) {
		info_f("blacklist: user \"%s\" refused for %lld seconds after "
		    "%u failures", esc, (long long)ust.blocked, ust.failures);
		audit_blacklist(mr, "blocked", "user", esc, ust.blocked,
		    ust.failures);
	}
}

/* IPC_MON_AUTH_OUTCOME: at most one per monitor. */
static int
on_auth_outcome(struct monitor_ref *mr, struct ipc_msg *m)
{
	struct ipc_auth_outcome ao;
	struct penalty_key uk;
	char user[IPC_MAX_NAME + 1];
	size_t n;
	int r;

	if ((r = ipc_msg_get_auth_outcome(&m->payload, &ao)) != 0)
		return r;
	if (mr->outcome != 0)
		return MOAT_ERR_UNPERMITTED;
	mr->outcome = ao.outcome;
	memcpy(user, ao.user.p, ao.user.len);
	user[ao.user.len] = '\0';
	if (memchr(ao.user.p, '\0', ao.user.len) != NULL)
		return MOAT_ERR_INVALID;
	switch (ao.outcome) {
	case IPC_OUTCOME_SUCCESS:
		n = penalty_count(&addr_table, now_s());
		penalty_success(&addr_table, &mr->akey);
		if (penalty_count(&addr_table, now_s()) < n) {
			info_f("blacklist: %s cleared by a successful "
			    "authentication", mr->addr);
			audit_blacklist(mr, "unblocked", "address", mr->addr,
			    0, 0);
		}
		if (penalty_key_user(&uk, user) == 0)
			penalty_success(&user_table, &uk);
		mr->probation = 0;
		break;
	case IPC_OUTCOME_FAILURE:
		count_failure(mr, "authentication failure", user);
		break;
	case IPC_OUTCOME_UNAVAILABLE:
		info_f("blacklist: %s not counted: an authentication service "
		    "did not answer", mr->addr);
		/* FALLTHROUGH */
	case IPC_OUTCOME_REFUSED:
		if (mr->probation)
			penalty_end_probation(&addr_table, &mr->akey);
		mr->probation = 0;
		break;
	case IPC_OUTCOME_PROTOCOL:
		count_failure(mr, "penalty (protocol violation before login)",
		    NULL);
		break;
	}
	return 0;
}

/*
 * IPC_MON_SHARING, once per attached monitor (policy/sharing.h): counts
 * the other viewers of the same desktop and joins, refuses, or tells each
 * of the others to end (IPC_LIS_TAKEN_OVER) before answering.
 */
static void
on_sharing(struct monitor_ref *mr, struct ipc_msg *m)
{
	struct ipc_taken_over to;
	struct ipc_sharing sh;
	enum sharing_verdict v;
	unsigned others = 0;
	int i;

	if (m->fd != -1 || !mr->attached || mr->viewing ||
	    ipc_msg_get_sharing(&m->payload, &sh) != 0) {
		error_f("monitor %d sent an invalid %s", (int)mr->pid,
		    ipc_type_name(m->type));
		attach_reply(mr->fd, 0, "internal error");
		return;
	}
	for (i = 0; i < MAX_MONITORS; i++)
		if (&monitors[i] != mr && monitors[i].pid > 0 &&
		    monitors[i].viewing &&
		    monitors[i].desktop_uid == mr->desktop_uid)
			others++;
	v = sharing_decide(sh.shared, sh.disconnect_clients, others);
	info_f("viewer %s asks for %s access with %u other viewer%s of the "
	    "desktop of uid %u: it %s", mr->peer, sh.shared ? "shared" :
	    "exclusive", others, others == 1 ? "" : "s",
	    (unsigned)mr->desktop_uid, sharing_verdict_name(v));
	{
		struct audit_rec rec;

		audit_begin(&rec, "sharing", mr->session, mr->paddr, mr->pport);
		audit_cstr(&rec, "access", sh.shared ? "shared" : "exclusive");
		audit_int(&rec, "others", others);
		audit_cstr(&rec, "verdict", sharing_verdict_name(v));
		(void)audit_emit(&rec, 0);
	}
	if (v == SHARING_REFUSE) {
		attach_reply(mr->fd, 0, "The desktop is in use by another "
		    "viewer (exclusive access refused)");
		return;
	}
	to.peer = ipc_view_cstr(mr->peer);
	for (i = 0; v == SHARING_TAKE_OVER && i < MAX_MONITORS; i++) {
		if (&monitors[i] == mr || monitors[i].pid <= 0 ||
		    !monitors[i].viewing ||
		    monitors[i].desktop_uid != mr->desktop_uid)
			continue;
		monitors[i].viewing = 0;
		if (monitors[i].fd > 0)
			(void)ipc_msg_send_taken_over(monitors[i].fd, &to, -1);
	}
	mr->viewing = 1;
	attach_reply(mr->fd, 1, "");
}

/*
 * Stopping: tells monitor mr to end its connection (the monitor records
 * it, kind "shutdown"). Not yet if it logged its user in and has not
 * reached the session: it is waiting for the listener's answers (its
 * login record's acknowledgement among them), so its
 * IPC_MON_SESSION_INFO brings the notice instead. A monitor told before
 * its outcome reached the listener reads the notice while it waits for
 * the desktop channel (monitor/monitor.c), before it sends that record.
 */
static void
tell_stop(struct monitor_ref *mr)
{
	struct ipc_lis_disconnect d = { LISTENER_SHUTDOWN_UID };

	if (mr->pid <= 0 || mr->fd <= 0 || mr->told_to_stop ||
	    (mr->outcome == IPC_OUTCOME_SUCCESS && !mr->in_session))
		return;
	mr->told_to_stop = 1;
	if (ipc_msg_send_lis_disconnect(mr->fd, &d, -1) != 0)
		debug_f("monitor %d did not take the notice to stop",
		    (int)mr->pid);
}

/* IPC_MON_SESSION_INFO: the session moatctl lists (monitor/control.c). */
static void
on_session_info(struct monitor_ref *mr, struct ipc_msg *m)
{
	struct ipc_session_info si;
	int r;

	/* Sent from its session, valid or not: it reads this channel now. */
	mr->in_session = 1;
	if (m->fd != -1 || mr->outcome != IPC_OUTCOME_SUCCESS ||
	    (r = ipc_msg_get_session_info(&m->payload, &si)) != 0 ||
	    (r = control_on_session_info(mr->pid, mr->session, &si)) != 0)
		error_f("monitor %d sent an invalid %s; its session is not "
		    "listed", (int)mr->pid, ipc_type_name(m->type));
	if (stop_signal != 0)
		tell_stop(mr);
}

/* BlankScreen and DisableLocalInputs in force, as IPC_LOCAL_* bits. */
static uint32_t
local_display_flags(void)
{
	const struct mon_ctx *ctx = reload_ctx();
	uint32_t f = 0;

	if (ctx == NULL)
		return 0;
	if (ctx->cfg->blank_screen)
		f |= IPC_LOCAL_BLANK_SCREEN;
	if (ctx->cfg->disable_local_inputs)
		f |= IPC_LOCAL_NO_INPUTS;
	return f;
}

/* The events a monitor records; the others are the listener's own. */
static int
monitor_event(const char *event)
{
	static const char *const ok[] = { "security", "auth_factor", "login",
	    "query", "disconnect" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(ok[i], event) == 0)
			return 1;
	return 0;
}

/*
 * IPC_MON_AUDIT: a record of the monitor's own connection, written to
 * every sink; with sync, answered once it is on disk (or not).
 */
static void
on_audit(struct monitor_ref *mr, struct ipc_msg *m)
{
	static struct audit_field f;
	struct ipc_audit_done done = { 0 };
	struct ipc_mon_audit ma;
	const char *json;
	char event[32];
	uint32_t session;
	size_t pos = 0;

	if (m->fd != -1 || ipc_msg_get_mon_audit(&m->payload, &ma) != 0) {
		error_f("monitor %d sent an invalid %s; dropped", (int)mr->pid,
		    ipc_type_name(m->type));
		return;
	}
	json = (const char *)ma.record.p;
	if (audit_check(json, ma.record.len, event, sizeof(event),
	    &session) != 0 || session != mr->session ||
	    !monitor_event(event)) {
		error_f("monitor %d sent an audit record that is not one of "
		    "its own; dropped", (int)mr->pid);
	} else {
		if (strcmp(event, "disconnect") == 0)
			mr->audit_closed = 1;
		while (strcmp(event, "login") == 0 &&
		    audit_next_field(json, ma.record.len, &pos, &f) == 1)
			if (strcmp(f.key, "user") == 0)
				snprintf(mr->user, sizeof(mr->user), "%.*s",
				    (int)sizeof(mr->user) - 1, f.val);
		done.ok = audit_sink_write(json, ma.record.len, ma.sync) == 0;
	}
	if (ma.sync)
		(void)ipc_msg_send_audit_done(mr->fd, &done, -1);
}

/*
 * A monitor is gone without its disconnect record (it crashed or was
 * killed): the listener writes one, with what it knows.
 */
static void
audit_monitor_gone(const struct monitor_ref *mr, int status)
{
	struct audit_rec rec;
	char why[300];

	if (mr->audit_closed || mr->session == 0)
		return;
	if (WIFSIGNALED(status) && mr->stop_killed && drain_deadline_ms == 0)
		snprintf(why, sizeof(why), "monitor killed by signal %d (%s): "
		    "moatd shutting down (signal %d), the monitor had not "
		    "ended its connection at the second signal",
		    WTERMSIG(status), strsignal(WTERMSIG(status)), stop_signal);
	else if (WIFSIGNALED(status) && mr->stop_killed)
		snprintf(why, sizeof(why), "monitor killed by signal %d (%s): "
		    "moatd shutting down (signal %d), the monitor had not "
		    "ended its connection within %d ms", WTERMSIG(status),
		    strsignal(WTERMSIG(status)), stop_signal, DRAIN_MS);
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "monitor killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(why, sizeof(why), "monitor exited with status %d "
		    "without recording the disconnect", WEXITSTATUS(status));
	audit_begin(&rec, "disconnect", mr->session, mr->paddr, mr->pport);
	audit_cstr(&rec, "user", mr->user);
	audit_cstr(&rec, "reason", why);
	audit_int(&rec, "duration_ms", moat_monotonic_ms() - mr->start_ms);
	audit_int(&rec, "bytes_in", -1);
	audit_int(&rec, "bytes_out", -1);
	audit_cstr(&rec, "recorded_by", "listener");
	(void)audit_emit(&rec, 0);
}

static void
on_monitor_message(struct monitor_ref *mr)
{
	struct ipc_attach_session req = { 0, NULL, NULL };
	struct ipc_sess_channel_open co;
	struct ipc_msg m;
	struct passwd *pw;
	int i, r;

	if ((r = ipc_recv(mr->fd, &m, 1)) != 0) {
		close(mr->fd);
		mr->fd = -1;
		return;
	}
	if (m.type == IPC_MON_AUDIT) {
		on_audit(mr, &m);
		goto out;
	}
	if (m.type == IPC_MON_SESSION_INFO) {
		on_session_info(mr, &m);
		goto out;
	}
	if (m.type == IPC_MON_AUTH_OUTCOME) {
		if (m.fd != -1 || (r = on_auth_outcome(mr, &m)) != 0) {
			/* A monitor is root code: this is a bug; fail closed. */
			error_f("monitor %d sent an invalid %s; closing its "
			    "channel", (int)mr->pid, ipc_type_name(m.type));
			close(mr->fd);
			mr->fd = -1;
		}
		goto out;
	}
	if (m.type == IPC_MON_SHARING) {
		on_sharing(mr, &m);
		goto out;
	}
	if (m.type == IPC_MON_QUERY) {
		on_query(mr, &m);
		goto out;
	}
	if (m.type != IPC_MON_ATTACH_SESSION || m.fd == -1 ||
	    ipc_msg_get_attach_session(&m.payload, &req) != 0) {
		error_f("monitor %d sent an invalid request", (int)mr->pid);
		attach_reply(mr->fd, 0, "internal error");
		goto out;
	}
	if ((pw = getpwnam(req.user)) == NULL) {
		attach_reply(mr->fd, 0, "No desktop session for this user");
		goto out;
	}
	for (i = 0; i < MAX_SESSIONS; i++)
		if (sessions[i].registered && sessions[i].uid == pw->pw_uid)
			break;
	if (i == MAX_SESSIONS) {
		attach_reply(mr->fd, 0, "No desktop session is running for this user");
		goto out;
	}
	co = (struct ipc_sess_channel_open){ next_channel_id++, req.perms,
	    ipc_view_cstr(req.user), ipc_view_cstr(req.peer),
	    local_display_flags() };
	r = ipc_msg_send_sess_channel_open(sessions[i].fd, &co, m.fd);
	if (r != 0) {
		drop_session(&sessions[i], "could not take a channel");
		attach_reply(mr->fd, 0, "The desktop session is not responding");
	} else {
		mr->attached = 1;
		mr->desktop_uid = pw->pw_uid;
		snprintf(mr->peer, sizeof(mr->peer), "%s", req.peer);
		attach_reply(mr->fd, 1, "");
	}
out:
	ipc_msg_free_attach_session(&req);
	ipc_msg_clear(&m);
}

/*
 * The penalties a monitor's exit status carries: moat-net crashed or was
 * killed by its sandbox, broke the IPC protocol, or let the login grace
 * time run out; a failure it exited with but never reported (its message
 * was lost). A viewer that left before authenticating is not counted.
 */
static void
on_monitor_exit(struct monitor_ref *mr, int status)
{
	const char *what = NULL;

	if (WIFSIGNALED(status))
		what = "monitor crash";
	else if (WIFEXITED(status)) {
		switch (WEXITSTATUS(status)) {
		case MON_EXIT_CRASH:
			what = "penalty (moat-net crashed)";
			break;
		case MON_EXIT_IPC:
			what = "penalty (moat-net broke the IPC protocol)";
			break;
		case MON_EXIT_GRACE:
			what = "penalty (login grace time exceeded)";
			break;
		case MON_EXIT_AUTH_FAILED:
			if (mr->outcome == 0)
				what = "authentication failure";
			break;
		}
	}
	if (what != NULL)
		count_failure(mr, what, NULL);
	else if (mr->probation)
		penalty_end_probation(&addr_table, &mr->akey);
}

static void
reap_monitors(void)
{
	int status, i, ours;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		ours = 0;
		for (i = 0; i < MAX_MONITORS; i++) {
			if (monitors[i].pid != pid)
				continue;
			/* Its last message (the outcome) may still be queued. */
			while (monitors[i].fd > 0 &&
			    poll(&(struct pollfd){ monitors[i].fd, POLLIN, 0 }, 1,
			    0) == 1)
				on_monitor_message(&monitors[i]);
			/* Killed here when the drain ended: no penalty. */
			ours = monitors[i].stop_killed;
			if (!ours)
				on_monitor_exit(&monitors[i], status);
			audit_monitor_gone(&monitors[i], status);
			control_on_monitor_exit(pid);
			if (monitors[i].fd > 0)
				close(monitors[i].fd);
			memset(&monitors[i], 0, sizeof(monitors[i]));
			monitors[i].fd = -1;
		}
		if (WIFSIGNALED(status) && ours)
			info_f("monitor %d killed (moatd is stopping)",
			    (int)pid);
		else if (WIFSIGNALED(status))
			error_f("monitor %d killed by signal %d", (int)pid,
			    WTERMSIG(status));
		else
			debug_f("monitor %d exited with status %d", (int)pid,
			    WEXITSTATUS(status));
	}
}

/*
 * SIGTERM or SIGINT: stops taking anything new (the listening sockets and
 * the control socket are closed, so connects are refused at once; the
 * refused viewers still being told why are closed) and tells every
 * monitor to end its connection. Their channels turn non-blocking: no
 * monitor can hold the drain in a send.
 */
static void
drain_begin(int signo, int *tcp_fd, int *sess_fd)
{
	int i, n = count_monitors(), fl;

	stop_signal = signo;
	drain_deadline_ms = moat_monotonic_ms() + DRAIN_MS;
	info_f("received signal %d; stopping: ending %d connection%s (their "
	    "monitors have %d ms to record the disconnect)", signo, n,
	    n == 1 ? "" : "s", DRAIN_MS);
	close(*tcp_fd);
	*tcp_fd = -1;
	close(*sess_fd);
	*sess_fd = -1;
	control_close(1);
	refusal_close_all();
	for (i = 0; i < MAX_MONITORS; i++) {
		if (monitors[i].pid <= 0 || monitors[i].fd <= 0)
			continue;
		if ((fl = fcntl(monitors[i].fd, F_GETFL)) != -1)
			(void)fcntl(monitors[i].fd, F_SETFL, fl | O_NONBLOCK);
		tell_stop(&monitors[i]);
	}
}

/*
 * The drain is over (DRAIN_MS passed, or a second signal): kills the
 * monitors still running and reaps them, waiting DRAIN_REAP_MS at most;
 * reap_monitors() writes their disconnect records.
 */
static void
drain_end(int sfd)
{
	struct signalfd_siginfo si;
	int64_t left, until;
	int i, n = count_monitors();

	if (drain_deadline_ms == 0)
		warn_f("%d monitor%s still running at the second signal; "
		    "killing %s", n, n == 1 ? "" : "s", n == 1 ? "it" : "them");
	else
		warn_f("%d monitor%s still running after %d ms; killing %s",
		    n, n == 1 ? "" : "s", DRAIN_MS, n == 1 ? "it" : "them");
	for (i = 0; i < MAX_MONITORS; i++)
		if (monitors[i].pid > 0) {
			monitors[i].stop_killed = 1;
			(void)kill(monitors[i].pid, SIGKILL);
		}
	until = moat_monotonic_ms() + DRAIN_REAP_MS;
	for (;;) {
		reap_monitors();
		if ((n = count_monitors()) == 0)
			return;
		if ((left = until - moat_monotonic_ms()) <= 0)
			break;
		/* Whatever the signal (SIGCHLD, most likely), look again. */
		if (poll(&(struct pollfd){ sfd, POLLIN, 0 }, 1,
		    (int)left) == 1 && read(sfd, &si, sizeof(si)) < 0 &&
		    errno != EINTR)
			break;
	}
	error_f("%d killed monitor%s not reaped within %d ms; their "
	    "disconnect records are missing", n, n == 1 ? "" : "s",
	    DRAIN_REAP_MS);
}

int
listener_run(const struct mon_ctx *ctx, int tcp_fd, int sess_fd)
{
	struct pollfd pfd[4 + MAX_SESSIONS + MAX_MONITORS + REFUSAL_MAX];
	int map[4 + MAX_SESSIONS + MAX_MONITORS];
	char reloaded[2048];
	struct signalfd_siginfo si;
	sigset_t mask;
	int sfd, n, i, k, kr, timeout, ready, fill, wait, filled = 0;
	int64_t now, fill_after = 0;

	for (i = 0; i < MAX_MONITORS; i++)
		monitors[i].fd = -1;
	penalty_init(&addr_table, addr_slots, PENALTY_ADDR_SLOTS,
	    ctx->cfg->blacklist_threshold, ctx->cfg->blacklist_timeout);
	penalty_init(&user_table, user_slots, PENALTY_USER_SLOTS,
	    ctx->cfg->blacklist_threshold, ctx->cfg->blacklist_timeout);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1)
		fatal_f("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		if (stop_signal != 0) {
			if (count_monitors() == 0)
				break;
			if (moat_monotonic_ms() >= drain_deadline_ms) {
				drain_end(sfd);
				break;
			}
		}
		/* A reload swaps the configuration for the next accepts. */
		if (reload_ctx() != NULL)
			ctx = reload_ctx();
		n = 0;
		pfd[n].fd = sfd;
		pfd[n++].events = POLLIN;
		pfd[n].fd = tcp_fd;
		pfd[n++].events = POLLIN;
		pfd[n].fd = sess_fd;
		pfd[n++].events = POLLIN;
		pfd[n].fd = control_fd();	/* -1: none, poll skips it */
		pfd[n++].events = POLLIN;
		for (i = 0; i < MAX_SESSIONS; i++)
			if (sessions[i].fd > 0) {
				map[n] = i;
				pfd[n].fd = sessions[i].fd;
				pfd[n++].events = POLLIN;
			}
		k = n;
		for (i = 0; i < MAX_MONITORS; i++)
			if (monitors[i].fd > 0) {
				map[n] = i;
				pfd[n].fd = monitors[i].fd;
				pfd[n++].events = POLLIN;
			}
		kr = n;
		timeout = refusal_expire();
		if ((i = expire_queries()) >= 0 && (timeout < 0 || i < timeout))
			timeout = i;
		/*
		 * Leaves for the next connections are issued once nothing
		 * has happened for LEAF_FILL_IDLE_MS (then one after another
		 * while nothing else is waiting), off the connections' path.
		 */
		fill = stop_signal != 0 ? -1 :
		    mon_identity_pool_due(ctx->id, ctx->cfg->tls_names);
		if (stop_signal != 0 && ((now = drain_deadline_ms -
		    moat_monotonic_ms()) < timeout || timeout < 0))
			timeout = now < 0 ? 0 : (int)now;
		if (fill >= 0) {
			wait = filled ? 0 : LEAF_FILL_IDLE_MS;
			if ((now = moat_monotonic_ms()) < fill_after &&
			    fill_after - now > wait)
				wait = (int)(fill_after - now);
			if (fill < wait)
				fill = wait;
			if (timeout < 0 || fill < timeout)
				timeout = fill;
		}
		for (i = 0; i < n; i++)
			pfd[i].revents = 0;
		n += refusal_pollfds(&pfd[n]);
		if ((ready = poll(pfd, (nfds_t)n, timeout)) < 0) {
			if (errno == EINTR)
				continue;
			fatal_f("poll: %s", strerror(errno));
		}
		filled = 0;
		if (ready == 0 && fill >= 0 &&
		    (now = moat_monotonic_ms()) >= fill_after &&
		    mon_identity_pool_due(ctx->id, ctx->cfg->tls_names) == 0) {
			if ((i = mon_identity_pool_fill(ctx->id,
			    ctx->cfg->tls_names)) < 0) {
				debug_f("issuing a TLS leaf ahead of time: %s",
				    moat_strerror(i));
				fill_after = now + LEAF_FILL_RETRY_MS;
			}
			filled = i == 1;
			continue;
		}
		if (pfd[0].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if ((si.ssi_signo == SIGTERM ||
				    si.ssi_signo == SIGINT) && stop_signal == 0)
					drain_begin((int)si.ssi_signo, &tcp_fd,
					    &sess_fd);
				else if (si.ssi_signo == SIGTERM ||
				    si.ssi_signo == SIGINT) {
					info_f("received signal %u again; "
					    "ending the remaining connections "
					    "now", si.ssi_signo);
					drain_deadline_ms = 0;
				} else if (si.ssi_signo == SIGHUP &&
				    stop_signal != 0)
					info_f("SIGHUP ignored: moatd is "
					    "stopping");
				else if (si.ssi_signo == SIGHUP) {
					(void)reload_apply("SIGHUP", reloaded,
					    sizeof(reloaded));
					ctx = reload_ctx();	/* the old one is freed */
				} else
					reap_monitors();
			}
		}
		/* (closed meanwhile if a stop signal came in) */
		if ((pfd[1].revents & POLLIN) && tcp_fd != -1)
			on_accept(ctx, tcp_fd, sess_fd);
		if ((pfd[2].revents & POLLIN) && sess_fd != -1)
			on_session_connect(sess_fd);
		if ((pfd[3].revents & POLLIN) && control_fd() != -1) {
			control_on_connect();
			ctx = reload_ctx();	/* moatctl reload frees the old one */
		}
		for (i = 4; i < n; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (i < k) {
				if (sessions[map[i]].fd == pfd[i].fd)
					on_session_message(&sessions[map[i]]);
			} else if (i < kr) {
				if (monitors[map[i]].fd == pfd[i].fd)
					on_monitor_message(&monitors[map[i]]);
			} else
				refusal_on_ready(&pfd[i]);
		}
	}
	if (count_monitors() == 0)
		info_f("stopped: every connection has ended");
	return 0;
}

void
listener_configure(const struct moat_config *cfg)
{
	penalty_configure(&addr_table, cfg->blacklist_threshold,
	    cfg->blacklist_timeout);
	penalty_configure(&user_table, cfg->blacklist_threshold,
	    cfg->blacklist_timeout);
}

int
listener_monitor_fd(pid_t pid)
{
	int i;

	for (i = 0; i < MAX_MONITORS; i++)
		if (monitors[i].pid == pid && pid > 0)
			return monitors[i].fd > 0 ? monitors[i].fd : -1;
	return -1;
}

void
listener_blacklist_tables(struct penalty_table **addr,
    struct penalty_table **user)
{
	*addr = &addr_table;
	*user = &user_table;
}

/* ---- in a monitor (a fork of the listener) ---- */

int
listener_query_rule(void)
{
	return child_query_rule;
}

int
listener_check_user(const char *user, const char *peer, char *reason,
    size_t reasonlen)
{
	struct penalty_key k;
	char esc[300];
	int64_t left;

	if (penalty_key_user(&k, user) != 0 ||
	    (left = penalty_blocked(&user_table, &k, now_s())) <= 0)
		return 0;
	log_escape(esc, sizeof(esc), user, strlen(user));
	info_f("authentication refused for user \"%s\" from %s: too many "
	    "authentication failures (blocked for %lld more seconds)", esc,
	    peer, (long long)left);
	snprintf(reason, reasonlen, "%s", LISTENER_BLOCKED_REASON);
	return MOAT_ERR_AUTH;
}

int
listener_report_outcome(int lis_fd, int r, const char *user,
    const char *reason)
{
	struct penalty_key k;
	struct ipc_auth_outcome ao;
	size_t n = strnlen(user, IPC_MAX_NAME);

	ao.outcome = IPC_OUTCOME_FAILURE;
	if (r == 0)
		ao.outcome = IPC_OUTCOME_SUCCESS;
	else if (r == MOAT_ERR_PROTOCOL)
		ao.outcome = IPC_OUTCOME_PROTOCOL;
	else if (r == MOAT_ERR_UNAVAILABLE)
		ao.outcome = IPC_OUTCOME_UNAVAILABLE;
	else if (r == MOAT_ERR_AUTH && reason != NULL &&
	    strcmp(reason, LISTENER_BLOCKED_REASON) == 0 &&
	    penalty_key_user(&k, user) == 0 &&
	    penalty_blocked(&user_table, &k, now_s()) > 0)
		ao.outcome = IPC_OUTCOME_REFUSED;
	ao.user = (struct ipc_view){ (const uint8_t *)user, n };
	return ipc_msg_send_auth_outcome(lis_fd, &ao, -1);
}
