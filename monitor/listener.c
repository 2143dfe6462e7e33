/*
 * listener.c - moatd's accept loop (see listener.h). Runs as root for the
 * life of the daemon. Trusts its monitors (root children); treats
 * moat-session registrations as coming from the user the kernel reports
 * (SO_PEERCRED), and serves a viewer only the desktop registered by the
 * very user the monitor authenticated.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"
#include "privsep/log.h"

#define MAX_SESSIONS	64
#define MAX_MONITORS	1000

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
};

static struct session_reg sessions[MAX_SESSIONS];
static struct monitor_ref monitors[MAX_MONITORS];
static uint32_t next_channel_id = 1;

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

static void
on_accept(const struct mon_ctx *ctx, int tcp_fd, int sess_listen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char peer[128];
	int fd, sv[2], i, slot = -1, one = 1;
	pid_t pid;

	if ((fd = accept4(tcp_fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC)) == -1)
		return;
	format_peer(&ss, peer, sizeof(peer));
	for (i = 0; i < MAX_MONITORS; i++)
		if (monitors[i].pid <= 0) {
			slot = i;
			break;
		}
	if (slot == -1 || count_monitors() >= (int)ctx->cfg->max_connections) {
		info_f("refused connection from %s: too many connections", peer);
		close(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_viewer_timeouts(fd);
	if (ipc_socketpair(sv) != 0) {
		close(fd);
		return;
	}
	if ((pid = fork()) == -1) {
		error_f("fork: %s", strerror(errno));
		close(fd);
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0) {
		/* The monitor keeps only its client and its listener channel. */
		close(tcp_fd);
		close(sess_listen);
		close(sv[0]);
		for (i = 0; i < MAX_SESSIONS; i++)
			if (sessions[i].fd > 0)
				close(sessions[i].fd);
		for (i = 0; i < MAX_MONITORS; i++)
			if (monitors[i].fd > 0)
				close(monitors[i].fd);
		signal(SIGCHLD, SIG_DFL);
		{
			sigset_t all;

			sigemptyset(&all);
			sigprocmask(SIG_SETMASK, &all, NULL);
		}
		monitor_run(ctx, fd, peer, sv[1]);
	}
	close(fd);
	close(sv[1]);
	monitors[slot].fd = sv[0];
	monitors[slot].pid = pid;
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

static void
drop_session(struct session_reg *s, const char *why)
{
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
	    ipc_view_cstr(req.user), ipc_view_cstr(req.peer) };
	r = ipc_msg_send_sess_channel_open(sessions[i].fd, &co, m.fd);
	if (r != 0) {
		drop_session(&sessions[i], "could not take a channel");
		attach_reply(mr->fd, 0, "The desktop session is not responding");
	} else
		attach_reply(mr->fd, 1, "");
out:
	ipc_msg_free_attach_session(&req);
	ipc_msg_clear(&m);
}

static void
reap_monitors(void)
{
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < MAX_MONITORS; i++) {
			if (monitors[i].pid != pid)
				continue;
			if (monitors[i].fd > 0)
				close(monitors[i].fd);
			monitors[i].pid = 0;
			monitors[i].fd = -1;
		}
		if (WIFSIGNALED(status))
			error_f("monitor %d killed by signal %d", (int)pid,
			    WTERMSIG(status));
		else
			debug_f("monitor %d exited with status %d", (int)pid,
			    WEXITSTATUS(status));
	}
}

int
listener_run(const struct mon_ctx *ctx, int tcp_fd, int sess_fd)
{
	struct pollfd pfd[3 + MAX_SESSIONS + MAX_MONITORS];
	int map[3 + MAX_SESSIONS + MAX_MONITORS];
	struct signalfd_siginfo si;
	sigset_t mask;
	int sfd, n, i, k;

	for (i = 0; i < MAX_MONITORS; i++)
		monitors[i].fd = -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1)
		fatal_f("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		n = 0;
		pfd[n].fd = sfd;
		pfd[n++].events = POLLIN;
		pfd[n].fd = tcp_fd;
		pfd[n++].events = POLLIN;
		pfd[n].fd = sess_fd;
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
		for (i = 0; i < n; i++)
			pfd[i].revents = 0;
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal_f("poll: %s", strerror(errno));
		}
		if (pfd[0].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					info_f("received signal %u; exiting",
					    si.ssi_signo);
					return 0;
				}
				reap_monitors();
			}
		}
		if (pfd[1].revents & POLLIN)
			on_accept(ctx, tcp_fd, sess_fd);
		if (pfd[2].revents & POLLIN)
			on_session_connect(sess_fd);
		for (i = 3; i < n; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (i < k) {
				if (sessions[map[i]].fd == pfd[i].fd)
					on_session_message(&sessions[map[i]]);
			} else if (monitors[map[i]].fd == pfd[i].fd)
				on_monitor_message(&monitors[map[i]]);
		}
	}
}
