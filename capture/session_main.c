/*
 * session_main.c - moat-session: the capture and input helper that runs as
 * the desktop's owner inside the user's X session. It hardens itself, opens
 * the display, registers with moatd over a UNIX socket and then serves the
 * per-viewer channels moatd hands it, in one poll loop without threads.
 *
 * Runs as the desktop's owner (never root in production). Trusts moatd
 * (root, on the registration socket) for channel descriptors and
 * permissions, and the X server it was pointed at. Trusts nothing that
 * arrives on a channel from moat-net (see cap_channel.c). A broken message
 * from moatd or the loss of the registration socket ends the process.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/log.h"
#include "cap.h"
#include "cap_local.h"
#include "cap_prompt.h"
#include "privsep/clock.h"

#define REG_MSGS_PER_WAKEUP 16

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: moat-session --socket PATH [--display :N] "
	    "[--debug]\n");
	exit(2);
}

/* No core dumps, no ptrace by our own uid, private files, no setuid gains. */
static void
harden(void)
{
	struct rlimit rl = { 0, 0 };

	umask(077);
	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		fatal_f("setrlimit RLIMIT_CORE: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		fatal_f("prctl PR_SET_DUMPABLE: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		fatal_f("prctl PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
}

static int
signals_fd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		fatal_f("signalfd: %s", strerror(errno));
	return fd;
}

static int
connect_moatd(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatal_f("socket path too long");
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		fatal_f("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		fatal_f("cannot connect to moatd at %s: %s", path,
		    strerror(errno));
	if (ipc_tune_socket(fd) != 0)
		debug_f("cannot resize the registration socket's buffers");
	return fd;
}

static void
send_register(struct cap *c)
{
	struct ipc_sess_register reg = { ipc_view_cstr(DisplayString(c->dpy)),
	    (uint16_t)c->width, (uint16_t)c->height };
	int r, flags;

	if (reg.display.len > IPC_MAX_DISPLAY_NAME)
		fatal_f("display name too long");
	if ((r = ipc_msg_send_sess_register(c->reg_fd, &reg, -1)) != 0)
		fatal_fr(r, "registering with moatd");
	if ((flags = fcntl(c->reg_fd, F_GETFL)) == -1 ||
	    fcntl(c->reg_fd, F_SETFL, flags | O_NONBLOCK) == -1)
		fatal_f("fcntl: %s", strerror(errno));
}

/*
 * Handles IPC_SESS_CHANNEL_OPEN; returns 0, or MOAT_ERR_* if moatd broke
 * the protocol.
 */
static int
channel_open_msg(struct cap *c, struct ipc_msg *m)
{
	struct ipc_sess_channel_open co;
	int r, fd;

	if ((fd = ipc_msg_take_fd(m)) == -1) {
		error_f("channel open without a descriptor");
		return MOAT_ERR_FD;
	}
	/* Unknown permission bits are "invalid value" here. */
	if ((r = ipc_msg_get_sess_channel_open(&m->payload, &co)) != 0) {
		error_fr(r, "malformed channel open");
		close(fd);
		return r;
	}
	/* A refused channel (too many, duplicate id) is not moatd's violation. */
	(void)cap_channel_open(c, fd, co.id, co.perms, co.local,
	    (const char *)co.user.p,
	    co.user.len, (const char *)co.peer.p, co.peer.len);
	return 0;
}

/* Reads from moatd; returns 0, or the exit status (0x100 for 0) to exit with. */
static int
reg_input(struct cap *c)
{
	struct ipc_msg m;
	unsigned i;
	int r;

	for (i = 0; i < REG_MSGS_PER_WAKEUP; i++) {
		if ((r = ipc_recv(c->reg_fd, &m, 1)) == MOAT_ERR_AGAIN)
			return 0;
		if (r == MOAT_ERR_EOF) {
			info_f("moatd closed the registration socket; exiting");
			return 0x100;	/* normal end: exit status 0 */
		}
		if (r != 0) {
			error_fr(r, "receiving from moatd");
			return 1;
		}
		if (m.type == IPC_SESS_QUERY) {
			struct ipc_sess_query q;

			/* QueryConnect: the answer follows from the prompt. */
			if (m.fd != -1 ||
			    (r = ipc_msg_get_sess_query(&m.payload, &q)) != 0) {
				error_f("malformed approval query from moatd");
				r = 1;
			} else
				r = cap_prompt_open(c, &q) != 0;
			ipc_msg_clear(&m);
			if (r != 0)
				return 1;
			continue;
		}
		if (m.type != IPC_SESS_CHANNEL_OPEN) {
			error_f("unexpected %s (%u) from moatd",
			    ipc_type_name(m.type), (unsigned)m.type);
			ipc_msg_clear(&m);
			return 1;
		}
		r = channel_open_msg(c, &m);
		ipc_msg_clear(&m);
		if (r != 0)
			return 1;
	}
	return 0;
}

static void
dispatch_x(struct cap *c, XEvent *ev)
{
	if (ev->type == c->damage_ev + XDamageNotify) {
		c->damage_flag = 1;
		return;
	}
	if (ev->type == c->fixes_ev + XFixesCursorNotify) {
		cap_cursor_update(c);
		return;
	}
	if (cap_clip_event(c, ev) || cap_local_event(c, ev) ||
	    cap_prompt_event(c, ev))
		return;
	switch (ev->type) {
	case ConfigureNotify:
		if (ev->xconfigure.window == c->root &&
		    cap_x11_resize(c, (unsigned)ev->xconfigure.width,
		    (unsigned)ev->xconfigure.height) != 0)
			fatal_f("cannot follow the screen resize");
		break;
	case MappingNotify:
		cap_input_mapping_changed(c, &ev->xmapping);
		break;
	}
}

/* Serves until told to stop; returns the process exit status. */
static int
run(struct cap *c, int sigfd)
{
	struct pollfd pfd[3 + CAP_MAX_CHANNELS];
	struct cap_channel *pch[CAP_MAX_CHANNELS];
	struct signalfd_siginfo si;
	unsigned i, n, nch;
	XEvent ev;
	int timeout, r;

	for (;;) {
		while (XPending(c->dpy)) {
			XNextEvent(c->dpy, &ev);
			dispatch_x(c, &ev);
		}
		for (i = 0; i < c->nch; i++) {
			struct cap_channel *ch = c->ch[i];

			if (!ch->dead && !ch->blocked && cap_channel_owed(ch))
				cap_channel_flush(c, ch);
		}
		cap_channels_answer(c);
		cap_channels_reap(c);
		cap_local_update(c);
		timeout = cap_clip_timeouts(c);
		if ((r = cap_prompt_tick(c)) >= 0 && (timeout < 0 || r < timeout))
			timeout = r;
		/* Round trips above may have queued events: handle them first. */
		if (XEventsQueued(c->dpy, QueuedAlready) > 0)
			continue;
		XFlush(c->dpy);

		pfd[0].fd = ConnectionNumber(c->dpy);
		pfd[0].events = POLLIN;
		pfd[1].fd = c->reg_fd;
		pfd[1].events = POLLIN;
		pfd[2].fd = sigfd;
		pfd[2].events = POLLIN;
		n = 3;
		nch = c->nch;
		for (i = 0; i < nch; i++) {
			pch[i] = c->ch[i];
			pfd[n].fd = pch[i]->fd;
			pfd[n].events = POLLIN;
			if (pch[i]->blocked)
				pfd[n].events |= POLLOUT;
			n++;
		}
		for (i = 0; i < n; i++)
			pfd[i].revents = 0;
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fatal_f("poll: %s", strerror(errno));
		}
		if (pfd[2].revents & POLLIN) {
			if (read(sigfd, &si, sizeof(si)) ==
			    (ssize_t)sizeof(si)) {
				info_f("signal %u received; exiting",
				    si.ssi_signo);
				return 0;
			}
		}
		if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    (r = reg_input(c)) != 0)
			return r & 0xff;
		for (i = 0; i < nch; i++) {
			struct cap_channel *ch = pch[i];
			short re = pfd[3 + i].revents;

			if (ch->dead)
				continue;
			if (re & POLLOUT) {
				ch->blocked = 0;
				cap_channel_flush(c, ch);
			}
			if (re & (POLLIN | POLLHUP | POLLERR))
				cap_channel_input(c, ch);
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "display", required_argument, NULL, 'd' },
		{ "debug", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct cap cap;
	struct cap *c = &cap;
	const char *sockpath = NULL, *display = NULL;
	unsigned i;
	int ch, debug = 0, sigfd, r, status;

	/* Nothing inherited beyond stdio; stdio itself must exist. */
	closefrom(STDERR_FILENO + 1);
	for (r = 0; r <= STDERR_FILENO; r++)
		if (fcntl(r, F_GETFD) == -1 &&
		    open("/dev/null", r == 0 ? O_RDONLY : O_WRONLY) != r)
			return 1;
	while ((ch = getopt_long(argc, argv, "s:d:Dh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sockpath = optarg;
			break;
		case 'd':
			display = optarg;
			break;
		case 'D':
			debug = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || sockpath == NULL)
		usage();
	log_init("moat-session", 1, debug);
	harden();
	sigfd = signals_fd();
	c->reg_fd = -1;
	c->memfd = -1;
	if ((r = cap_x11_open(c, display)) != 0)
		fatal_fr(r, "cannot capture this display");
	if ((r = cap_input_init(c)) != 0)
		fatal_fr(r, "cannot inject input on this display");
	if ((r = cap_clip_init(c)) != 0 || (r = cap_cursor_init(c)) != 0 ||
	    (r = cap_local_init(c)) != 0 || (r = cap_randr_init(c)) != 0)
		fatal_fr(r, "display setup");
	c->reg_fd = connect_moatd(sockpath);
	send_register(c);
	info_f("registered display %s (%ux%u) with moatd",
	    DisplayString(c->dpy), c->width, c->height);

	status = run(c, sigfd);

	for (i = 0; i < c->nch; i++)
		cap_channel_close(c, c->ch[i], "moat-session exiting");
	cap_channels_reap(c);
	cap_prompt_close_all(c);
	cap_local_close(c);
	cap_input_close(c);
	cap_clip_close(c);
	free(c->cursor_msg);
	cap_x11_close(c);
	close(c->reg_fd);
	close(sigfd);
	return status;
}
