/*
 * sandbox.c - confinement of moat-net (see sandbox.h).
 *
 * Runs in moat-net, as root, once, before the first network byte is read
 * and after every library it needs has been loaded and warmed up. It trusts
 * only its caller's sandbox_conf (which the monitor derived from root-owned
 * configuration) and the kernel; everything it sets up it verifies from the
 * kernel's point of view instead of trusting library return codes.
 * Landlock, the network namespace, the capability sets, no_new_privs and
 * the seccomp filter are per-thread: a thread made before the sandbox
 * first confines itself (sandbox_enter_thread()), and sandbox_enter() then
 * joins its network namespace, changes every thread's ids and loads the
 * filter on every thread at once (TSYNC).
 *
 * sandbox_export_pfc() runs in the unit test only; it builds the very same
 * filter through the same function, without loading it.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cap-ng.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "sandbox.h"

#define SANDBOX_DEFAULT_AS	((size_t)1 << 30)	/* 1 GiB */
#define SANDBOX_MAX_FD_LIMIT	1023	/* sanity bound on conf->max_fd */
#define SANDBOX_FD_SCAN_LIMIT	65536	/* highest descriptor scanned for leaks */

/*
 * Landlock, defined here because Debian 12's kernel headers (6.1) predate
 * the network rights (ABI 4), ioctl on devices (ABI 5) and scopes (ABI 6).
 * The kernel ABI is stable, so these values never change.
 */
struct sandbox_landlock_attr {
	uint64_t handled_access_fs;	/* ABI 1 */
	uint64_t handled_access_net;	/* ABI 4 */
	uint64_t scoped;		/* ABI 6 */
};
#define LL_CREATE_RULESET_VERSION	(1U << 0)
#define LL_FS_ABI1		((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER		(1ULL << 13)		/* ABI 2 */
#define LL_FS_TRUNCATE		(1ULL << 14)		/* ABI 3 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)		/* ABI 5 */
#define LL_NET_BIND_TCP		(1ULL << 0)		/* ABI 4 */
#define LL_NET_CONNECT_TCP	(1ULL << 1)		/* ABI 4 */
#define LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)		/* ABI 6 */
#define LL_SCOPE_SIGNAL		(1ULL << 1)		/* ABI 6 */

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT			47
#define PR_CAP_AMBIENT_IS_SET		1
#define PR_CAP_AMBIENT_CLEAR_ALL	4
#endif

/* ---- the seccomp allow-list ---------------------------------------- */

enum sc_kind {
	SC_ALLOW,
	SC_ERRNO,
};

struct sc_rule {
	int nr;				/* SCMP_SYS(name) */
	enum sc_kind kind;
	int err;			/* errno returned for SC_ERRNO */
	unsigned int nargs;
	struct scmp_arg_cmp args[2];	/* ANDed */
};

#define NOT(x)		(~(scmp_datum_t)(x))
#define ARG(n, o, a, b)	{ .arg = (n), .op = (o), .datum_a = (a), .datum_b = (b) }
/* Argument n equals v. */
#define EQ(n, v)	ARG(n, SCMP_CMP_EQ, (scmp_datum_t)(v), 0)
/* Argument n has no bit outside the set allowed. */
#define ONLY(n, allowed) ARG(n, SCMP_CMP_MASKED_EQ, NOT(allowed), 0)
/* Argument n, ignoring the bits in opt, is exactly v. */
#define EXACTLY(n, v, opt) ARG(n, SCMP_CMP_MASKED_EQ, NOT(opt), (scmp_datum_t)(v))

#define ALLOW(name)		{ SCMP_SYS(name), SC_ALLOW, 0, 0, { { 0 } } }
#define ALLOW1(name, a)		{ SCMP_SYS(name), SC_ALLOW, 0, 1, { a } }
#define ALLOW2(name, a, b)	{ SCMP_SYS(name), SC_ALLOW, 0, 2, { a, b } }
#define DENY(name, e)		{ SCMP_SYS(name), SC_ERRNO, (e), 0, { { 0 } } }
#define DENY1(name, e, a)	{ SCMP_SYS(name), SC_ERRNO, (e), 1, { a } }

#define SEND_FLAGS	(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE)
#define RECV_FLAGS	(MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC | MSG_WAITALL | \
			MSG_CMSG_CLOEXEC)
#define FD_MAX_ARG	((scmp_datum_t)INT_MAX)

/*
 * Everything not listed kills the whole process (SCMP_ACT_KILL_PROCESS).
 * The reason for each row is in SECURITY.md; keep the two in step, and
 * regenerate tests/golden/seccomp-moat-net.pfc with every change here.
 */
static const struct sc_rule sandbox_rules[] = {
	/* I/O on descriptors it already holds. */
	ALLOW(read),
	ALLOW(readv),
	ALLOW(write),
	ALLOW(writev),
	ALLOW2(sendto, ONLY(3, SEND_FLAGS), EQ(4, 0)),
	ALLOW1(sendmsg, ONLY(2, SEND_FLAGS)),
	ALLOW1(recvfrom, ONLY(3, RECV_FLAGS)),
	ALLOW1(recvmsg, ONLY(2, RECV_FLAGS)),
	ALLOW(ppoll),
	ALLOW(poll),
	ALLOW(shutdown),
	ALLOW(close),
	ALLOW2(setsockopt, EQ(1, IPPROTO_TCP), EQ(2, TCP_NODELAY)),
	ALLOW2(getsockopt, EQ(1, SOL_SOCKET), EQ(2, SO_ERROR)),
	ALLOW2(getsockopt, EQ(1, SOL_SOCKET), EQ(2, SO_TYPE)),
	ALLOW1(fcntl, EQ(1, F_GETFL)),
	ALLOW1(fcntl, EQ(1, F_SETFL)),
	ALLOW1(fcntl, EQ(1, F_GETFD)),
	ALLOW1(fcntl, EQ(1, F_SETFD)),
	ALLOW1(fcntl, EQ(1, F_GET_SEALS)),
	ALLOW(fstat),
	/* glibc's fstat(fd): newfstatat(fd, "", st, AT_EMPTY_PATH). */
	ALLOW2(newfstatat, ARG(0, SCMP_CMP_LE, FD_MAX_ARG, 0),
	    EQ(3, AT_EMPTY_PATH)),

	/* Memory: never executable; shared mappings only read-only. */
	ALLOW(brk),
	ALLOW(munmap),
	ALLOW1(mremap, ONLY(3, MREMAP_MAYMOVE)),
	ALLOW2(mmap, ONLY(2, PROT_READ | PROT_WRITE),
	    EXACTLY(3, MAP_PRIVATE | MAP_ANONYMOUS, MAP_NORESERVE)),
	ALLOW2(mmap, EQ(2, PROT_READ), EQ(3, MAP_SHARED)),
	ALLOW1(mprotect, ONLY(2, PROT_READ | PROT_WRITE)),
	ALLOW1(madvise, EQ(2, MADV_NORMAL)),
	ALLOW1(madvise, EQ(2, MADV_DONTNEED)),
	ALLOW1(madvise, EQ(2, MADV_FREE)),
	ALLOW1(madvise, EQ(2, MADV_DONTDUMP)),
	ALLOW1(madvise, EQ(2, MADV_WIPEONFORK)),

	/* Time, randomness, signals, identity of itself, exit. */
	ALLOW(clock_gettime),
	ALLOW(gettimeofday),
	ALLOW(time),
	ALLOW(clock_nanosleep),
	ALLOW(nanosleep),
	ALLOW(getrandom),
	ALLOW(rt_sigprocmask),
	ALLOW(rt_sigreturn),
	ALLOW(restart_syscall),
	ALLOW1(futex, EXACTLY(1, FUTEX_WAIT | FUTEX_PRIVATE_FLAG,
	    FUTEX_CLOCK_REALTIME)),
	ALLOW1(futex, EXACTLY(1, FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
	    FUTEX_CLOCK_REALTIME)),
	ALLOW1(futex, EXACTLY(1, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
	    FUTEX_CLOCK_REALTIME)),
	ALLOW1(futex, EXACTLY(1, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG,
	    FUTEX_CLOCK_REALTIME)),
	ALLOW(getpid),
	ALLOW(gettid),
	ALLOW(exit),
	ALLOW(exit_group),

	/*
	 * Soft denials: library probes for files fail gracefully. Landlock
	 * and the empty root would refuse them too; the filter answers first
	 * so the kernel never walks a path for moat-net.
	 */
	DENY(open, EACCES),
	DENY(openat, EACCES),
	DENY(openat2, EACCES),
	DENY(creat, EACCES),
	DENY(stat, EACCES),
	DENY(lstat, EACCES),
	DENY(statx, EACCES),
	DENY(access, EACCES),
	DENY(faccessat, EACCES),
	DENY(faccessat2, EACCES),
	DENY(readlink, EACCES),
	DENY(readlinkat, EACCES),
	/* newfstatat with a path or a directory fd: the complement of the allow row. */
	DENY1(newfstatat, EACCES, ARG(0, SCMP_CMP_GT, FD_MAX_ARG, 0)),
	DENY1(newfstatat, EACCES, ARG(3, SCMP_CMP_NE, AT_EMPTY_PATH, 0)),
	/* stdio asks isatty() before buffering stdout (/dev/null). */
	DENY1(ioctl, ENOTTY, EQ(1, TCGETS)),
};

/*
 * Builds the moat-net filter into *out (default: kill the process; any
 * architecture other than the native one: kill the process). Returns 0 or
 * MOAT_ERR_SYSTEM. The one constructor for sandbox_enter and the golden test.
 */
static int
sandbox_build_filter(scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx;
	const struct sc_rule *r;
	uint32_t action;
	size_t i;
	int rc;

	*out = NULL;
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		error_f("seccomp_init failed");
		return MOAT_ERR_SYSTEM;
	}
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0) {
		error_f("seccomp_attr_set: %s", strerror(-rc));
		seccomp_release(ctx);
		return MOAT_ERR_SYSTEM;
	}
	for (i = 0; i < sizeof(sandbox_rules) / sizeof(sandbox_rules[0]); i++) {
		r = &sandbox_rules[i];
		if (r->nr < 0)
			continue;	/* no such system call on this architecture */
		action = r->kind == SC_ALLOW ? SCMP_ACT_ALLOW :
		    SCMP_ACT_ERRNO((uint16_t)r->err);
		rc = seccomp_rule_add_exact_array(ctx, action, r->nr, r->nargs,
		    r->args);
		if (rc != 0) {
			char *name = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, r->nr);

			error_f("seccomp rule %zu (%s): %s", i,
			    name != NULL ? name : "?", strerror(-rc));
			free(name);
			seccomp_release(ctx);
			return MOAT_ERR_SYSTEM;
		}
	}
	*out = ctx;
	return 0;
}

int
sandbox_export_pfc(int fd)
{
	scmp_filter_ctx ctx;
	int r;

	if ((r = sandbox_build_filter(&ctx)) != 0)
		return r;
	r = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	if (r != 0) {
		error_f("seccomp_export_pfc: %s", strerror(-r));
		return MOAT_ERR_SYSTEM;
	}
	return 0;
}

/* ---- the empty root ------------------------------------------------- */

/*
 * Opens path without following a final symlink and checks it through the
 * descriptor, so the directory checked is the one later entered. Returns
 * 0 with *dfd set, or MOAT_ERR_CONFIG.
 */
static int
sandbox_open_empty_root(const char *path, int *dfd)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, lfd, entries = 0;

	*dfd = -1;
	if (path == NULL || path[0] != '/') {
		error_f("empty root must be an absolute path");
		return MOAT_ERR_CONFIG;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		error_f("empty root %s: %s", path, strerror(errno));
		return MOAT_ERR_CONFIG;
	}
	if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
		error_f("empty root %s: not a directory", path);
		goto fail;
	}
	if (st.st_uid != 0) {
		error_f("empty root %s: owned by uid %u, not root", path,
		    (unsigned)st.st_uid);
		goto fail;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		error_f("empty root %s: mode %04o is group or other writable",
		    path, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	/* A second descriptor for readdir: closedir() closes it. */
	if ((lfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (d = fdopendir(lfd)) == NULL) {
		error_f("empty root %s: %s", path, strerror(errno));
		if (lfd != -1)
			close(lfd);
		goto fail;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			entries++;
	}
	if (errno != 0) {
		error_f("empty root %s: readdir: %s", path, strerror(errno));
		closedir(d);
		goto fail;
	}
	closedir(d);
	if (entries != 0) {
		error_f("empty root %s: not empty (%d entries)", path, entries);
		goto fail;
	}
	*dfd = fd;
	return 0;
fail:
	close(fd);
	return MOAT_ERR_CONFIG;
}

int
sandbox_check_empty_root(const char *path)
{
	int r, fd;

	if ((r = sandbox_open_empty_root(path, &fd)) != 0)
		return r;
	close(fd);
	return 0;
}

/* ---- steps of sandbox_enter ------------------------------------------ */

/*
 * A new network namespace for the calling thread. Returns 1 if it is in
 * one now, 0 if the kernel refused and it goes on without, or
 * MOAT_ERR_SYSTEM.
 */
static int
sandbox_netns(void)
{
	if (unshare(CLONE_NEWNET) == 0)
		return 1;
	if (errno == EPERM || errno == EINVAL) {
		/* Containers often refuse; socket creation is killed anyway. */
		warn_f("unshare(CLONE_NEWNET): %s; continuing without a "
		    "private network namespace", strerror(errno));
		return 0;
	}
	error_f("unshare(CLONE_NEWNET): %s", strerror(errno));
	return MOAT_ERR_SYSTEM;
}

/*
 * A thread confined by sandbox_enter_thread() in a network namespace of
 * its own, or 0. sandbox_enter() moves the calling thread into that
 * namespace rather than making another one: a namespace costs 0.4 ms to
 * make and more than 1 ms of the kernel's time to tear down, for every
 * connection.
 */
static pid_t sandbox_netns_tid;

/*
 * The calling thread's private network namespace: the one of the thread
 * sandbox_enter_thread() confined, if it can be joined (setns needs root,
 * which the caller still is), else a new one. Returns 1 if the thread is
 * in a private namespace now, 0 if it goes on without (sandbox_netns()),
 * or a negative MOAT_ERR_*.
 */
static int
sandbox_netns_shared(void)
{
	char path[64];
	int fd, err;

	if (sandbox_netns_tid > 0 && sandbox_netns_tid != gettid()) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/ns/net",
		    (int)sandbox_netns_tid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
			err = setns(fd, CLONE_NEWNET) == 0 ? 0 : errno;
			close(fd);
			if (err == 0)
				return 1;
		} else
			err = errno;
		debug_f("joining the network namespace of thread %d: %s; "
		    "making one", (int)sandbox_netns_tid, strerror(err));
	}
	return sandbox_netns();
}

static int
sandbox_chroot(int dfd, const char *path)
{
	struct stat want, got;

	if (fstat(dfd, &want) != 0 || fchdir(dfd) != 0 || chroot(".") != 0 ||
	    chdir("/") != 0) {
		error_f("chroot %s: %s", path, strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	if (stat("/", &got) != 0 || got.st_dev != want.st_dev ||
	    got.st_ino != want.st_ino) {
		error_f("chroot %s: / is not the empty root", path);
		return MOAT_ERR_SYSTEM;
	}
	return 0;
}

/* Landlock with every right of the kernel's ABI handled and no rule. */
static int
sandbox_landlock(void)
{
	struct sandbox_landlock_attr attr;
	size_t size;
	long abi;
	int fd;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);
	if (abi < 0) {
		if (errno == ENOSYS || errno == EOPNOTSUPP) {
			info_f("Landlock unavailable (%s); relying on the empty "
			    "root and seccomp", strerror(errno));
			return 0;
		}
		error_f("landlock ABI query: %s", strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = LL_FS_ABI1;
	size = sizeof(attr.handled_access_fs);
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = offsetof(struct sandbox_landlock_attr, scoped);
	}
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0) {
		error_f("landlock_create_ruleset (ABI %ld): %s", abi,
		    strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	/* Still root: CAP_SYS_ADMIN stands in for no_new_privs here. */
	if (syscall(SYS_landlock_restrict_self, fd, 0) != 0) {
		error_f("landlock_restrict_self: %s", strerror(errno));
		close(fd);
		return MOAT_ERR_SYSTEM;
	}
	close(fd);
	debug_f("Landlock ABI %ld enforced", abi);
	return 0;
}

/* Drops the bounding set as far as the kernel knows capabilities. */
static int
sandbox_drop_bounding(void)
{
	int i;

	for (i = 0; i < 64; i++) {
		if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				return 0;	/* past the kernel's last cap */
			break;
		}
		if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) != 0)
			break;
	}
	error_f("dropping bounding capability %d: %s", i, strerror(errno));
	return MOAT_ERR_SYSTEM;
}

/* Verifies, from the kernel, that no capability is left in any set. */
static int
sandbox_verify_no_caps(void)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int i, r;

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	if (syscall(SYS_capget, &hdr, data) != 0) {
		error_f("capget: %s", strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		if (data[i].effective != 0 || data[i].permitted != 0 ||
		    data[i].inheritable != 0) {
			error_f("capabilities left: eff %08x prm %08x inh %08x "
			    "(word %d)", data[i].effective, data[i].permitted,
			    data[i].inheritable, i);
			return MOAT_ERR_SYSTEM;
		}
	}
	for (i = 0; i < 64; i++) {
		if ((r = prctl(PR_CAPBSET_READ, i, 0, 0, 0)) < 0)
			break;
		if (r != 0) {
			error_f("capability %d still in the bounding set", i);
			return MOAT_ERR_SYSTEM;
		}
	}
	for (i = 0; i < 64; i++) {
		if ((r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, i, 0, 0)) < 0)
			break;
		if (r != 0) {
			error_f("capability %d still in the ambient set", i);
			return MOAT_ERR_SYSTEM;
		}
	}
	return 0;
}

/*
 * Verifies the identity change the way OpenSSH's permanently_set_uid()
 * does: root must not be regainable, and every id must be the new one.
 */
static int
sandbox_verify_ids(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];
	int n;

	if (setgid(0) != -1 || setegid(0) != -1) {
		error_f("was able to restore gid 0");
		return MOAT_ERR_SYSTEM;
	}
	if (setuid(0) != -1 || seteuid(0) != -1) {
		error_f("was able to restore uid 0");
		return MOAT_ERR_SYSTEM;
	}
	if (setgroups(0, NULL) != -1) {
		error_f("was able to change supplementary groups");
		return MOAT_ERR_SYSTEM;
	}
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0) {
		error_f("getresuid/getresgid: %s", strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	if (ru != uid || eu != uid || su != uid ||
	    rg != gid || eg != gid || sg != gid) {
		error_f("ids are uid %u/%u/%u gid %u/%u/%u, want %u/%u",
		    (unsigned)ru, (unsigned)eu, (unsigned)su, (unsigned)rg,
		    (unsigned)eg, (unsigned)sg, (unsigned)uid, (unsigned)gid);
		return MOAT_ERR_SYSTEM;
	}
	n = getgroups(2, groups);
	if (n < 0 || n > 1 || (n == 1 && groups[0] != gid)) {
		error_f("supplementary groups remain (%d)", n);
		return MOAT_ERR_SYSTEM;
	}
	return 0;
}

static int
sandbox_drop_identity(uid_t uid, gid_t gid)
{
	int r;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
	    errno != EINVAL) {
		error_f("clearing ambient capabilities: %s", strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	/*
	 * libcap-ng clears the bounding set only up to the last capability
	 * it knows of (read from /proc, which the empty root hides); drop
	 * every one the kernel has first, while CAP_SETPCAP is still held.
	 */
	if ((r = sandbox_drop_bounding()) != 0)
		return r;
	capng_clear(CAPNG_SELECT_BOTH | CAPNG_SELECT_AMBIENT);
	r = capng_change_id((int)uid, (int)gid,
	    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING | CAPNG_CLEAR_AMBIENT);
	if (r != 0) {
		error_f("capng_change_id(%u, %u) failed with %d (%s)",
		    (unsigned)uid, (unsigned)gid, r, strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	if ((r = sandbox_verify_no_caps()) != 0 ||
	    (r = sandbox_verify_ids(uid, gid)) != 0)
		return r;
	return 0;
}

/*
 * The descriptors the kernel lists in /proc/self/fd (procfs, checked by
 * its magic number; the directory's own descriptor left out): returns 0
 * if none is above max_fd, MOAT_ERR_FD if one is, or 1 if the list
 * cannot be had or read (the caller then asks about every number). One
 * directory read instead of a system call per possible descriptor: with
 * RLIMIT_NOFILE at 20000 the scan cost 2 ms of every connection.
 */
static int
sandbox_list_fds(int max_fd)
{
	struct statfs sfs;
	struct dirent *de;
	char *end;
	long n;
	DIR *d;
	int dfd, r = 0;

	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return 1;
	if (fstatfs(dfd, &sfs) != 0 || sfs.f_type != PROC_SUPER_MAGIC ||
	    (d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return 1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n = strtol(de->d_name, &end, 10);
		if (end == de->d_name || *end != '\0' || n < 0 || n > INT_MAX) {
			r = 1;	/* not the listing expected: scan instead */
			break;
		}
		if (n == dfd || n <= max_fd)
			continue;
		error_f("descriptor %ld is open above max_fd %d", n, max_fd);
		r = MOAT_ERR_FD;
		break;
	}
	if (de == NULL && errno != 0)
		r = 1;
	closedir(d);
	return r;
}

/* Fails if any descriptor above max_fd is open: RLIMIT_NOFILE would lie. */
static int
sandbox_check_fds(int max_fd)
{
	struct rlimit rl;
	rlim_t end;
	int fd, r;

	if ((r = sandbox_list_fds(max_fd)) != 1)
		return r;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		error_f("getrlimit: %s", strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	end = rl.rlim_cur;
	if (end == RLIM_INFINITY || end > SANDBOX_FD_SCAN_LIMIT)
		end = SANDBOX_FD_SCAN_LIMIT;
	for (fd = max_fd + 1; (rlim_t)fd < end; fd++) {
		if (fcntl(fd, F_GETFD) != -1) {
			error_f("descriptor %d is open above max_fd %d", fd,
			    max_fd);
			return MOAT_ERR_FD;
		}
	}
	return 0;
}

static int
sandbox_rlimits(int max_fd, size_t max_as)
{
	static const struct {
		int res;
		const char *name;
	} zero[] = {
		{ RLIMIT_NPROC, "NPROC" },
		{ RLIMIT_FSIZE, "FSIZE" },
		{ RLIMIT_CORE, "CORE" },
		{ RLIMIT_MEMLOCK, "MEMLOCK" },
	};
	struct rlimit rl;
	size_t i;

	rl.rlim_cur = rl.rlim_max = (rlim_t)max_fd + 1;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		error_f("setrlimit(NOFILE, %d): %s", max_fd + 1, strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	rl.rlim_cur = rl.rlim_max = (rlim_t)max_as;
	if (setrlimit(RLIMIT_AS, &rl) != 0) {
		error_f("setrlimit(AS, %zu): %s", max_as, strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
		rl.rlim_cur = rl.rlim_max = 0;
		if (setrlimit(zero[i].res, &rl) != 0) {
			error_f("setrlimit(%s, 0): %s", zero[i].name,
			    strerror(errno));
			return MOAT_ERR_SYSTEM;
		}
	}
	return 0;
}

static int
sandbox_seccomp(void)
{
	scmp_filter_ctx ctx;
	int r;

	if ((r = sandbox_build_filter(&ctx)) != 0)
		return r;
	/*
	 * Every thread gets the filter (and no_new_privs) at once, or the
	 * load fails: moat-net's encoding thread is older than the filter.
	 */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0) {
		error_f("seccomp_attr_set(TSYNC): %s", strerror(-r));
		seccomp_release(ctx);
		return MOAT_ERR_SYSTEM;
	}
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r != 0) {
		error_f("seccomp_load: %s", strerror(-r));
		return MOAT_ERR_SYSTEM;
	}
	return 0;
}

int
sandbox_enter_thread(void)
{
	int r;

	if (geteuid() != 0) {
		error_f("a thread must be confined while root (euid %u)",
		    (unsigned)geteuid());
		return MOAT_ERR_UNPERMITTED;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
	    errno != EINVAL) {
		error_f("clearing ambient capabilities: %s", strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	if ((r = sandbox_netns()) < 0)
		return r;
	if (r == 1 && sandbox_netns_tid == 0)
		sandbox_netns_tid = gettid();
	if ((r = sandbox_landlock()) != 0 ||
	    (r = sandbox_drop_bounding()) != 0)
		return r;
	return 0;
}

int
sandbox_enter(const struct sandbox_conf *c)
{
	size_t max_as;
	int r, dfd;

	if (c == NULL || c->empty_root == NULL)
		return MOAT_ERR_INVALID;
	if (c->uid == 0 || c->gid == 0 || c->uid == (uid_t)-1 ||
	    c->gid == (gid_t)-1 || c->uid > INT_MAX || c->gid > INT_MAX) {
		error_f("refusing uid %u gid %u", (unsigned)c->uid,
		    (unsigned)c->gid);
		return MOAT_ERR_INVALID;
	}
	if (c->max_fd < STDERR_FILENO || c->max_fd > SANDBOX_MAX_FD_LIMIT) {
		error_f("max_fd %d out of range", c->max_fd);
		return MOAT_ERR_INVALID;
	}
#ifndef MOAT_SELFTEST
	if (c->selftest) {
		error_f("self-test requested in a production build");
		return MOAT_ERR_INVALID;
	}
#endif
	max_as = c->max_as != 0 ? c->max_as : SANDBOX_DEFAULT_AS;
	if (geteuid() != 0) {
		error_f("must start as root (euid %u)", (unsigned)geteuid());
		return MOAT_ERR_UNPERMITTED;
	}

	if ((r = sandbox_check_fds(c->max_fd)) != 0 ||
	    (r = sandbox_open_empty_root(c->empty_root, &dfd)) != 0)
		return r;
	/* Let libcap-ng read the process state while /proc is visible. */
	if (capng_get_caps_process() != 0) {
		error_f("capng_get_caps_process failed");
		close(dfd);
		return MOAT_ERR_SYSTEM;
	}
	if ((r = sandbox_netns_shared()) < 0 ||
	    (r = sandbox_chroot(dfd, c->empty_root)) != 0) {
		close(dfd);
		return r;
	}
	close(dfd);
	if ((r = sandbox_landlock()) != 0 ||
	    (r = sandbox_drop_identity(c->uid, c->gid)) != 0 ||
	    (r = sandbox_rlimits(c->max_fd, max_as)) != 0)
		return r;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		error_f("prctl: %s", strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	if ((r = sandbox_seccomp()) != 0)
		return r;
	return 0;
}
