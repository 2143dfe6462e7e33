/*
 * enc_pool.h - moat-net's second encoding lane: one worker thread, started
 * before the sandbox is entered, that runs half of a large framebuffer
 * update while the main thread runs the other half. Without it (one CPU,
 * or never started, as in the tests and the fuzzers) both halves run on
 * the calling thread, one after the other, with the same result.
 */
#ifndef MOAT_ENC_POOL_H
#define MOAT_ENC_POOL_H

/*
 * Starts the worker if the machine has more than one CPU online; a no-op
 * when already started or with one CPU. The worker first runs confine
 * (when not NULL: moat-net passes sandbox_enter_thread) and enc_pool_start
 * waits for it. Call before sandbox_enter(): the sandbox forbids creating
 * threads. Returns 0, MOAT_ERR_SYSTEM, or confine's error (the worker has
 * then ended).
 */
int enc_pool_start(int (*confine)(void));

/*
 * enc_pool_start() in two steps, so that the caller does other work while
 * the worker confines itself: enc_pool_launch() creates the worker (the
 * same conditions; returns 0 or MOAT_ERR_SYSTEM) and enc_pool_wait()
 * waits for its confinement and returns what enc_pool_start() would
 * (0 at once when nothing was launched). Call both before sandbox_enter().
 */
int enc_pool_launch(int (*confine)(void));
int enc_pool_wait(void);

/* Returns 1 if the worker runs (updates are encoded on two cores), 0 if not. */
int enc_pool_parallel(void);

/*
 * Runs fn(a) on the worker and fn(b) on the calling thread, and returns
 * when both have returned (serially, a then b, without a worker). Not
 * reentrant: one caller at a time, never from fn.
 */
void enc_pool_run2(void (*fn)(void *), void *a, void *b);

#endif
