/*
 * enc_pool.c - moat-net's encoding worker thread. Runs in moat-net, inside
 * its sandbox: the thread is created by enc_pool_start() before
 * sandbox_enter() and confines itself first (sandbox_enter_thread(): the
 * per-thread parts, a network namespace, Landlock, no bounding set);
 * sandbox_enter() on the main thread then changes every thread's identity
 * and synchronises the seccomp filter to every thread. The worker touches only the job it is handed; the
 * main thread waits for it before it reads the job's results, so all data
 * passes through the mutex below.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/errors.h"
#include "enc_pool.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t go, done;
	void (*fn)(void *);
	void *arg;
	int busy;		/* a job is handed over and not finished */
	int launched;		/* created; enc_pool_wait() not yet called */
	int started;
	int (*confine)(void);
	int confined;		/* 0: not yet; 1: done; < 0: confine's error */
} pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.go = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
};

static void *
worker(void *unused)
{
	void (*fn)(void *);
	void *arg, *p;
	int r;

	(void)unused;
	/*
	 * The first allocation gives this thread its malloc arena now, while
	 * every system call is still allowed.
	 */
	if ((p = malloc(64)) != NULL)
		free(p);
	r = pool.confine != NULL ? pool.confine() : 0;
	pthread_mutex_lock(&pool.lock);
	pool.confined = r != 0 ? (r < 0 ? r : MOAT_ERR_SYSTEM) : 1;
	pthread_cond_signal(&pool.done);
	if (r != 0) {
		pthread_mutex_unlock(&pool.lock);
		return NULL;
	}
	for (;;) {
		while (!pool.busy || pool.fn == NULL)
			pthread_cond_wait(&pool.go, &pool.lock);
		fn = pool.fn;
		arg = pool.arg;
		pthread_mutex_unlock(&pool.lock);
		fn(arg);
		pthread_mutex_lock(&pool.lock);
		pool.fn = NULL;
		pool.busy = 0;
		pthread_cond_signal(&pool.done);
	}
	return NULL;
}

int
enc_pool_launch(int (*confine)(void))
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int r;

	if (pool.started || pool.launched ||
	    sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return 0;
	pool.confine = confine;
	pool.confined = 0;
	if (pthread_attr_init(&attr) != 0)
		return MOAT_ERR_SYSTEM;
	/* Encoders use little stack: zlib and libjpeg keep their state on the heap. */
	(void)pthread_attr_setstacksize(&attr, 1024 * 1024);
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals go to the main thread only. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&t, &attr, worker, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		errno = r;
		return MOAT_ERR_SYSTEM;
	}
	pool.launched = 1;
	return 0;
}

int
enc_pool_wait(void)
{
	int r;

	if (!pool.launched)
		return 0;
	pthread_mutex_lock(&pool.lock);
	while (pool.confined == 0)
		pthread_cond_wait(&pool.done, &pool.lock);
	r = pool.confined;
	pthread_mutex_unlock(&pool.lock);
	pool.launched = 0;
	if (r != 1)
		return r;
	pool.started = 1;
	return 0;
}

int
enc_pool_start(int (*confine)(void))
{
	int r;

	if ((r = enc_pool_launch(confine)) != 0)
		return r;
	return enc_pool_wait();
}

int
enc_pool_parallel(void)
{
	return pool.started;
}

void
enc_pool_run2(void (*fn)(void *), void *a, void *b)
{
	if (!pool.started) {
		fn(a);
		fn(b);
		return;
	}
	pthread_mutex_lock(&pool.lock);
	pool.fn = fn;
	pool.arg = a;
	pool.busy = 1;
	pthread_cond_signal(&pool.go);
	pthread_mutex_unlock(&pool.lock);
	fn(b);
	pthread_mutex_lock(&pool.lock);
	while (pool.busy)
		pthread_cond_wait(&pool.done, &pool.lock);
	pthread_mutex_unlock(&pool.lock);
}
