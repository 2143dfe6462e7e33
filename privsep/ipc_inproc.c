/*
 * ipc_inproc.c - the in-memory monitor <-> moat-net channel of
 * moatd-inprocess (see ipc_inproc.h). Compiled only into that benchmark
 * program. Runs in both threads of one monitor process (root) and trusts
 * both: moat-net's code is not separated from the monitor's in this build.
 *
 * One mutex guards everything below; one condition variable announces any
 * change (a message queued, an end closed, the monitor's turn freed). The
 * descriptors are eventfds used only to be polled: the monitor's counts
 * while its queue holds a message (or moat-net's end is closed, or a
 * direct call asked it to look again), moat-net's once the monitor closed.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "ipc_inproc.h"
#include "log.h"

struct item {
	struct item *next;
	uint16_t type;
	int fd;			/* owned descriptor or -1 */
	size_t n;		/* payload bytes */
	uint8_t *raw;		/* IPC_HDR_LEN bytes (zero), then the payload:
				 * what struct ipc_msg owns once received */
};

struct queue {
	struct item *head, *tail;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int opened;
	int mon_fd, net_fd;		/* the eventfds (net_fd at its fixed number) */
	struct queue to_mon, to_net;
	int mon_closed, net_closed, killed;
	int mon_rung;			/* mon_fd counts */
	int mon_look;			/* a direct call asked the monitor to look */
	int turn;			/* someone runs monitor code */
	int direct_calls;		/* since the monitor went idle */
	int net_status;
	ipc_inproc_direct_fn direct;
	void *arg;
} ch = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
	.mon_fd = -1,
	.net_fd = -1,
};

/* The ends' numbers, read without the lock by every ipc_send()/ipc_recv(). */
static atomic_int own_mon = -1, own_net = -1;

static void
item_free(struct item *it)
{
	if (it->fd != -1)
		close(it->fd);
	if (it->raw != NULL) {
		explicit_bzero(it->raw, IPC_HDR_LEN + it->n);
		free(it->raw);
	}
	free(it);
}

static void
queue_put(struct queue *q, struct item *it)
{
	it->next = NULL;
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
}

static struct item *
queue_take(struct queue *q)
{
	struct item *it = q->head;

	if (it != NULL && (q->head = it->next) == NULL)
		q->tail = NULL;
	return it;
}

static void
queue_drop(struct queue *q)
{
	struct item *it;

	while ((it = queue_take(q)) != NULL)
		item_free(it);
}

/* Makes the monitor's descriptor readable (locked). */
static void
mon_ring(void)
{
	if (ch.mon_rung || ch.mon_fd == -1)
		return;
	(void)eventfd_write(ch.mon_fd, 1);
	ch.mon_rung = 1;
}

/* Makes it not readable once nothing is left for the monitor (locked). */
static void
mon_unring(void)
{
	eventfd_t v;

	if (!ch.mon_rung || ch.to_mon.head != NULL || ch.net_closed ||
	    ch.mon_look || ch.mon_fd == -1)
		return;
	(void)eventfd_read(ch.mon_fd, &v);
	ch.mon_rung = 0;
}

int
ipc_inproc_open(int net_fd, int *mon_fd)
{
	int m, n;

	pthread_mutex_lock(&ch.mu);
	if (ch.opened) {
		pthread_mutex_unlock(&ch.mu);
		return MOAT_ERR_INVALID;
	}
	if ((m = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		pthread_mutex_unlock(&ch.mu);
		return MOAT_ERR_SYSTEM;
	}
	if ((n = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    (n != net_fd && dup3(n, net_fd, O_CLOEXEC) == -1)) {
		if (n != -1)
			close(n);
		close(m);
		pthread_mutex_unlock(&ch.mu);
		return MOAT_ERR_SYSTEM;
	}
	if (n != net_fd)
		close(n);
	ch.opened = 1;
	ch.mon_fd = m;
	ch.net_fd = net_fd;
	ch.turn = 1;		/* the monitor's thread runs */
	atomic_store(&own_mon, m);
	atomic_store(&own_net, net_fd);
	pthread_mutex_unlock(&ch.mu);
	*mon_fd = m;
	return 0;
}

void
ipc_inproc_set_direct(ipc_inproc_direct_fn fn, void *arg)
{
	pthread_mutex_lock(&ch.mu);
	ch.direct = fn;
	ch.arg = arg;
	pthread_mutex_unlock(&ch.mu);
}

void
ipc_inproc_monitor_idle(void)
{
	pthread_mutex_lock(&ch.mu);
	ch.turn = 0;
	ch.direct_calls = 0;
	pthread_cond_broadcast(&ch.cv);
	pthread_mutex_unlock(&ch.mu);
}

int
ipc_inproc_monitor_busy(void)
{
	int n;

	pthread_mutex_lock(&ch.mu);
	while (ch.turn)
		pthread_cond_wait(&ch.cv, &ch.mu);
	ch.turn = 1;
	n = ch.direct_calls;
	ch.mon_look = 0;
	mon_unring();
	pthread_mutex_unlock(&ch.mu);
	return n;
}

void
ipc_inproc_close_monitor(int kill)
{
	pthread_mutex_lock(&ch.mu);
	if (kill) {
		ch.killed = 1;
		queue_drop(&ch.to_net);	/* what a killed process had not read */
	}
	if (!ch.mon_closed) {
		ch.mon_closed = 1;
		if (ch.net_fd != -1)
			(void)eventfd_write(ch.net_fd, 1);
	}
	/*
	 * A kill may come from moat-net's thread (a direct call): the monitor
	 * still holds its descriptor then, and closes it itself later. Once
	 * closed, the number may be reused: no longer the channel's.
	 */
	if (!kill && ch.mon_fd != -1) {
		atomic_store(&own_mon, -1);
		close(ch.mon_fd);
		ch.mon_fd = -1;
	}
	pthread_cond_broadcast(&ch.cv);
	pthread_mutex_unlock(&ch.mu);
}

void
ipc_inproc_net_exit(int status)
{
	pthread_mutex_lock(&ch.mu);
	if (!ch.net_closed) {
		ch.net_closed = 1;
		ch.net_status = status;
		queue_drop(&ch.to_net);
		mon_ring();
		atomic_store(&own_net, -1);
		ch.net_fd = -1;	/* its eventfd stays open: the number is not reused */
	}
	pthread_cond_broadcast(&ch.cv);
	pthread_mutex_unlock(&ch.mu);
	pthread_exit(NULL);
}

int
ipc_inproc_net_status(int *killed)
{
	int s;

	pthread_mutex_lock(&ch.mu);
	*killed = ch.killed;
	s = ch.net_status;
	pthread_mutex_unlock(&ch.mu);
	return s;
}

int
ipc_inproc_owns(int sock)
{
	return sock >= 0 && (sock == atomic_load_explicit(&own_mon,
	    memory_order_relaxed) || sock == atomic_load_explicit(&own_net,
	    memory_order_relaxed));
}

/* Copies a message for a queue (the descriptor is duplicated: the sender keeps its own). */
static int
item_new(uint16_t type, const void *p, size_t n, int fd, struct item **out)
{
	struct item *it;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return MOAT_ERR_NOMEM;
	it->type = type;
	it->n = n;
	it->fd = -1;
	if ((it->raw = calloc(1, IPC_HDR_LEN + n)) == NULL) {
		free(it);
		return MOAT_ERR_NOMEM;
	}
	if (n > 0)
		memcpy(it->raw + IPC_HDR_LEN, p, n);
	if (fd >= 0 && (it->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		it->fd = -1;
		item_free(it);
		return MOAT_ERR_SYSTEM;
	}
	*out = it;
	return 0;
}

/*
 * moat-net's message to the monitor, as a call in this thread (locked on
 * entry; unlocked on return unless declined). Returns 0 if it was handled,
 * MOAT_ERR_EOF if it was handled and the handler killed moat-net (which
 * then finds its channel closed and its socket shut down, and ends), or
 * MOAT_ERR_AGAIN if the handler declined it (the lock is held again).
 */
static int
call_monitor(uint16_t type, const void *p, size_t n)
{
	ipc_inproc_direct_fn fn = ch.direct;
	void *arg = ch.arg;
	int net_fd = ch.net_fd, r, killed;
	struct ipc_msg m;

	ch.turn = 1;
	pthread_mutex_unlock(&ch.mu);
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.fd = -1;
	buf_view(&m.payload, p, n);
	/* The monitor's code logs as the monitor, and its fatal errors end the process. */
	log_set_ipc(-1);
	r = fn(arg, &m);
	log_set_ipc(net_fd);
	pthread_mutex_lock(&ch.mu);
	ch.turn = 0;
	pthread_cond_broadcast(&ch.cv);
	if (r == MOAT_ERR_AGAIN)
		return r;
	ch.direct_calls++;
	if (r != 0) {
		ch.mon_look = 1;
		mon_ring();
	}
	killed = ch.killed;
	pthread_mutex_unlock(&ch.mu);
	return killed ? MOAT_ERR_EOF : 0;
}

int
ipc_inproc_send(int sock, uint16_t type, const void *p, size_t n, int fd)
{
	struct item *it;
	int to_mon, r;

	pthread_mutex_lock(&ch.mu);
	to_mon = sock == ch.net_fd;
	/* The peer is gone (EPIPE), or this end was closed. */
	if ((!to_mon && sock != ch.mon_fd) || ch.mon_closed ||
	    (!to_mon && ch.net_closed)) {
		pthread_mutex_unlock(&ch.mu);
		return MOAT_ERR_EOF;
	}
	if (to_mon && !ch.turn && ch.to_mon.head == NULL && fd < 0 &&
	    ch.direct != NULL && (r = call_monitor(type, p, n)) != MOAT_ERR_AGAIN)
		return r;
	if ((r = item_new(type, p, n, fd, &it)) != 0) {
		pthread_mutex_unlock(&ch.mu);
		return r;
	}
	if (to_mon) {
		queue_put(&ch.to_mon, it);
		mon_ring();
	} else
		queue_put(&ch.to_net, it);
	pthread_cond_broadcast(&ch.cv);
	pthread_mutex_unlock(&ch.mu);
	return 0;
}

int
ipc_inproc_recv(int sock, struct ipc_msg *m, int allow_fd)
{
	struct queue *q;
	struct item *it;
	int from_net;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	pthread_mutex_lock(&ch.mu);
	from_net = sock == ch.mon_fd;
	if (!from_net && sock != ch.net_fd) {
		pthread_mutex_unlock(&ch.mu);
		return MOAT_ERR_EOF;
	}
	q = from_net ? &ch.to_mon : &ch.to_net;
	/* A closed peer's messages are still read, then EOF; a killed moat-net reads nothing. */
	while (q->head == NULL && !(from_net ? ch.net_closed : ch.mon_closed))
		pthread_cond_wait(&ch.cv, &ch.mu);
	if ((!from_net && ch.killed) || (it = queue_take(q)) == NULL) {
		pthread_mutex_unlock(&ch.mu);
		return MOAT_ERR_EOF;
	}
	if (from_net)
		mon_unring();
	pthread_mutex_unlock(&ch.mu);
	if (it->fd != -1 && !allow_fd) {
		item_free(it);
		return MOAT_ERR_FD;
	}
	/* ipc_msg_clear() wipes and frees raw, and closes fd, as for a socket's message. */
	m->type = it->type;
	m->fd = it->fd;
	m->raw = it->raw;
	buf_view(&m->payload, it->raw + IPC_HDR_LEN, it->n);
	free(it);
	return 0;
}
