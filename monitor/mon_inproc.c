/*
 * mon_inproc.c - moatd-inprocess only (see mon_inproc.h): the program's
 * main(), and what the monitor does to its moat-net when moat-net is a
 * thread of its own process. Runs as root; nothing separates the monitor
 * from the code that parses the viewer's bytes in this build, which exists
 * only to measure what the separation costs (bench/) and is never
 * installed (SECURITY.md).
 */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "mon_inproc.h"
#include "net/net_inproc.h"
#include "privsep/errors.h"
#include "privsep/log.h"

/* How long a killed moat-net thread may take to notice before the monitor goes on. */
#define MON_INPROC_KILL_WAIT_MS	5000

int
mon_inproc_spawn(int client_fd, ipc_inproc_direct_fn fn, void *arg,
    int *ipc, pid_t *tid)
{
	int r;

	if ((r = net_inproc_start(client_fd, ipc, tid)) != 0)
		return r;
	/* Direct calls begin when the monitor first waits (mon_inproc_poll()). */
	ipc_inproc_set_direct(fn, arg);
	debug_f("moat-net runs in thread %d of this monitor, unsandboxed "
	    "(moatd-inprocess)", (int)*tid);
	return 0;
}

int
mon_inproc_poll(struct pollfd *pfd, nfds_t n, int timeout)
{
	nfds_t i;
	int r, saved;

	ipc_inproc_monitor_idle();
	r = poll(pfd, n, timeout);
	saved = errno;
	if (ipc_inproc_monitor_busy() > 0 && r > 0) {
		/* moat-net's thread ran the monitor: what woke us may be gone. */
		for (i = 0; i < n; i++)
			pfd[i].revents = 0;
		r = poll(pfd, n, 0);
		saved = errno;
	}
	errno = saved;
	return r;
}

void
mon_inproc_kill_net(void)
{
	net_inproc_kill();
}

void
mon_inproc_close(void)
{
	ipc_inproc_close_monitor(0);
}

int
mon_inproc_reap(void)
{
	int killed, status;

	(void)ipc_inproc_net_status(&killed);
	status = net_inproc_join(killed ? MON_INPROC_KILL_WAIT_MS : -1,
	    &killed);
	if (killed && status < 0)	/* it goes when this process exits */
		warn_f("moat-net's thread did not end within %d ms of being "
		    "killed", MON_INPROC_KILL_WAIT_MS);
	if (killed)
		return W_EXITCODE(0, SIGKILL);
	return W_EXITCODE(status < 0 ? 1 : status & 0xff, 0);
}

int
main(int argc, char **argv)
{
	int i, found = 0;

	/* Taken out of argv: moatd's own options follow as usual. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], MON_INPROC_FLAG) != 0)
			continue;
		found = 1;
		memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) *
		    sizeof(*argv));
		argc--;
		i--;
	}
	if (!found) {
		fprintf(stderr, "moatd-inprocess: refusing to start. This is "
		    "an insecure benchmark build of moatd: moat-net's code "
		    "runs inside each monitor, as root, without its sandbox. "
		    "It exists only to measure what the privilege separation "
		    "costs (bench/run.sh) and must never serve real users; "
		    "give %s to run it anyway.\n", MON_INPROC_FLAG);
		return 2;
	}
	/* Before anything else opens a descriptor: moat-net's fixed numbers. */
	if (net_inproc_reserve_fds() != 0) {
		fprintf(stderr, "moatd-inprocess: cannot reserve descriptors: "
		    "%s\n", strerror(errno));
		return 1;
	}
	log_init("moatd", 1, 0);
	error_f("INSECURE BENCHMARK BUILD (moatd-inprocess): moat-net runs "
	    "in each monitor as root with no sandbox (no exec, no seccomp, "
	    "no chroot, no uid change); for measuring only, never for real "
	    "users");
	return moatd_main(argc, argv);
}
