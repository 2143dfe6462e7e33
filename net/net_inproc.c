/*
 * net_inproc.c - moatd-inprocess only: moat-net's thread in the
 * per-connection monitor (see net_inproc.h). Runs as root in the monitor
 * process with no sandbox, no exec and no change of identity: the viewer's
 * bytes are parsed by the same moat-net code as in the moat-net program,
 * but a bug in it here reaches everything the monitor holds. A benchmark
 * build, never installed (SECURITY.md).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "net_conn.h"
#include "net_inproc.h"
#include "net_run.h"
#include "privsep/errors.h"
#include "privsep/ipc_inproc.h"
#include "privsep/log.h"

/* The one connection of this monitor process (net_main.c's conn). */
static struct net_conn conn;

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int started;
	pid_t tid;		/* 0 until the thread runs */
	int client_open;	/* NET_FD_CLIENT still holds the viewer's socket */
} th = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
};

int
net_inproc_reserve_fds(void)
{
	int nul, r = 0;

	if ((nul = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return MOAT_ERR_SYSTEM;
	if ((nul != NET_FD_CLIENT &&
	    dup3(nul, NET_FD_CLIENT, O_CLOEXEC) == -1) ||
	    (nul != NET_FD_MONITOR &&
	    dup3(nul, NET_FD_MONITOR, O_CLOEXEC) == -1))
		r = MOAT_ERR_SYSTEM;
	if (nul != NET_FD_CLIENT && nul != NET_FD_MONITOR)
		close(nul);
	return r;
}

/* 1 if fd is still net_inproc_reserve_fds()'s /dev/null. */
static int
reserved(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	    st.st_rdev == makedev(1, 3);
}

static void *
net_thread(void *unused)
{
	(void)unused;
	(void)pthread_setname_np(pthread_self(), "moat-net");
	pthread_mutex_lock(&th.mu);
	th.tid = gettid();
	pthread_cond_broadcast(&th.cv);
	pthread_mutex_unlock(&th.mu);
	/* This thread's lines go to the monitor, as moat-net's (privsep/log.c). */
	log_set_ipc(NET_FD_MONITOR);
	net_run(&conn);
	/* What moat-net's exit does: the viewer and moat-session see it go. */
	pthread_mutex_lock(&th.mu);
	if (conn.sess_fd >= 0)
		close(conn.sess_fd);
	conn.sess_fd = -1;
	if (th.client_open)
		close(NET_FD_CLIENT);
	th.client_open = 0;
	pthread_mutex_unlock(&th.mu);
	ipc_inproc_net_exit(0);
}

int
net_inproc_start(int client_fd, int *mon_fd, pid_t *tid)
{
	sigset_t all, old;
	int r;

	if (client_fd == NET_FD_CLIENT || client_fd == NET_FD_MONITOR ||
	    !reserved(NET_FD_CLIENT) || !reserved(NET_FD_MONITOR))
		return MOAT_ERR_INVALID;
	if (dup3(client_fd, NET_FD_CLIENT, O_CLOEXEC) == -1)
		return MOAT_ERR_SYSTEM;
	if ((r = ipc_inproc_open(NET_FD_MONITOR, mon_fd)) != 0)
		return r;
	th.client_open = 1;
	/* Signals stay the monitor's: the thread (and its encoder) block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&th.thread, NULL, net_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		errno = r;
		return MOAT_ERR_SYSTEM;
	}
	pthread_mutex_lock(&th.mu);
	th.started = 1;
	while (th.tid == 0)
		pthread_cond_wait(&th.cv, &th.mu);
	*tid = th.tid;
	pthread_mutex_unlock(&th.mu);
	return 0;
}

void
net_inproc_kill(void)
{
	ipc_inproc_close_monitor(1);
	pthread_mutex_lock(&th.mu);
	if (th.client_open)
		(void)shutdown(NET_FD_CLIENT, SHUT_RDWR);
	pthread_mutex_unlock(&th.mu);
}

int
net_inproc_join(int wait_ms, int *killed)
{
	struct timespec ts;
	int r, status;

	*killed = 0;
	if (!th.started)
		return -1;
	if (wait_ms < 0)
		r = pthread_join(th.thread, NULL);
	else {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (long)(wait_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		r = pthread_timedjoin_np(th.thread, NULL, &ts);
	}
	status = ipc_inproc_net_status(killed);
	if (r != 0)
		return -1;	/* still running */
	th.started = 0;
	return status;
}
