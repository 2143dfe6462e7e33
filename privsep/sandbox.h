/*
 * sandbox.h - confinement of moat-net, applied before it reads its first
 * network byte. Runs in moat-net (started as root by the monitor, with
 * every library it needs already loaded and warmed up).
 *
 * There is no unsandboxed mode: if any step fails, sandbox_enter() returns
 * a negative MOAT_ERR_* and the caller must exit at once.
 */
#ifndef MOAT_SANDBOX_H
#define MOAT_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

struct sandbox_conf {
	const char *empty_root;	/* chroot target: root-owned, not writable by others, empty */
	uid_t uid;		/* dedicated unprivileged user (never 0) */
	gid_t gid;		/* its primary group (never 0) */
	int max_fd;		/* highest descriptor number in use; RLIMIT_NOFILE = max_fd + 1 */
	size_t max_as;		/* RLIMIT_AS in bytes; 0 for the default (1 GiB) */
	int selftest;		/* MOAT_SELFTEST builds only: permit the forbidden-syscall trigger path */
};

/*
 * Enters the sandbox, in this order: verify that no descriptor above
 * max_fd is open and empty_root; a private network namespace where
 * permitted (the one sandbox_enter_thread() made, if any, else a new
 * one); chroot + chdir; Landlock (no rules)
 * where the kernel has it; drop to uid/gid with no supplementary groups and
 * an empty bounding set (libcap-ng), verifying that root cannot be
 * regained; rlimits (NOFILE, NPROC 0, FSIZE 0, CORE 0, AS); not dumpable;
 * no_new_privs; the seccomp allow-list with kill-process as default.
 * Returns 0 on success or a negative MOAT_ERR_* (the caller must exit).
 */
int sandbox_enter(const struct sandbox_conf *c);
/*
 * Confines the calling thread, which must be a thread of a process that
 * calls sandbox_enter() later from its main thread (after this returned),
 * while still root: what the kernel keeps per thread is applied here (a
 * new private network namespace, which sandbox_enter() then joins
 * instead of making its own, the same Landlock domain, no
 * capability in the bounding or ambient sets); sandbox_enter() then
 * changes the identity of every thread (which empties this thread's
 * capabilities) and synchronises its seccomp filter and no_new_privs to
 * every thread. Returns 0 or a negative MOAT_ERR_*; on error the process
 * must not go on.
 */
int sandbox_enter_thread(void);

/* Writes the seccomp allow-list as libseccomp PFC text to fd (for the golden-file test). Returns 0 or negative. */
int sandbox_export_pfc(int fd);

/* Checks that path is a directory owned by root, not writable by group or others, and empty. Returns 0 or MOAT_ERR_CONFIG. */
int sandbox_check_empty_root(const char *path);

#endif
