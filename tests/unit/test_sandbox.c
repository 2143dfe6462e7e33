/*
 * test_sandbox.c - unit test for privsep/sandbox.c.
 *
 * Runs as root (CI does). It forks children that enter the moat-net
 * sandbox and inspects them from outside, the way an auditor would
 * (/proc/PID/status, limits, root, ns/net, wait status); the children
 * report what works inside over a pipe and their exit status. The parent
 * trusts nothing a child says about its own confinement when /proc can
 * tell instead.
 *
 * Set MOAT_UPDATE_GOLDEN=1 to rewrite tests/golden/seccomp-moat-net.pfc
 * after a deliberate change to the allow-list (review the diff!).
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <seccomp.h>
#include <zlib.h>

#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/sandbox.h"

#define TEST_UID	65534	/* nobody */
#define TEST_GID	65534	/* nogroup */
#define CHILD_ALARM	30	/* seconds before a stuck child is killed */
#define WAIT_MS		20000	/* bound on any wait for a child */
#define GOLDEN_REL	"tests/golden/seccomp-moat-net.pfc"
#define FB_SIZE		(4 * 4096)

extern char **environ;

static int passed, failed;
static volatile long sink;	/* keeps results of forbidden calls "used" */
static int child_max_fd;	/* max_fd a child passed to sandbox_enter */

static void check(int, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* ---- helpers ---------------------------------------------------------- */

static char *
read_all_fd(int fd, size_t *lenp)
{
	size_t len = 0, cap = 4096;
	char *p = malloc(cap + 1), *np;
	ssize_t n;

	if (p == NULL)
		return NULL;
	for (;;) {
		if (len == cap) {
			cap *= 2;
			if ((np = realloc(p, cap + 1)) == NULL) {
				free(p);
				return NULL;
			}
			p = np;
		}
		n = read(fd, p + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(p);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	p[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return p;
}

static char *
read_file(const char *path, size_t *lenp)
{
	char *p;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	p = read_all_fd(fd, lenp);
	close(fd);
	return p;
}

/* The PFC text of the filter, or NULL. */
static char *
export_pfc(size_t *lenp)
{
	char *p;
	int fd;

	if ((fd = memfd_create("pfc", MFD_CLOEXEC)) == -1)
		return NULL;
	if (sandbox_export_pfc(fd) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return NULL;
	}
	p = read_all_fd(fd, lenp);
	close(fd);
	return p;
}

/* Waits up to WAIT_MS for fd to be readable; returns 1 if it is. */
static int
wait_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r;

	do {
		r = poll(&pfd, 1, WAIT_MS);
	} while (r < 0 && errno == EINTR);
	return r == 1;
}

/* Reaps pid; children carry an alarm, so this is bounded. */
static int
reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return st;
}

static const char *
describe_status(int st, char *buf, size_t len)
{
	if (st == -1)
		snprintf(buf, len, "waitpid failed");
	else if (WIFEXITED(st))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st),
		    strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "status 0x%x", st);
	return buf;
}

/*
 * fork() with the child's stdout and stderr on a pipe: inside the sandbox
 * RLIMIT_FSIZE is 0, so a child writing to a regular file (a CI log) would
 * die of SIGXFSZ. *outp receives the read end; drain_child() prints it.
 */
static pid_t
fork_captured(int *outp)
{
	int p[2];
	pid_t pid;

	*outp = -1;
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		if (dup2(p[1], STDOUT_FILENO) == -1 ||
		    dup2(p[1], STDERR_FILENO) == -1)
			_exit(95);
		close(p[0]);
		close(p[1]);
		return 0;
	}
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		return -1;
	}
	*outp = p[0];
	return pid;
}

/* Prints what an (exited) child wrote, indented. */
static void
drain_child(int fd)
{
	char *text, *line, *save = NULL;

	if (fd == -1)
		return;
	if ((text = read_all_fd(fd, NULL)) != NULL) {
		for (line = strtok_r(text, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			printf("    | %s\n", line);
		free(text);
	}
	close(fd);
}

static int
make_empty_root(char *path, size_t len)
{
	snprintf(path, len, "/tmp/moat-sandbox-XXXXXX");
	if (mkdtemp(path) == NULL)
		return -1;
	if (chown(path, 0, 0) != 0 || chmod(path, 0755) != 0) {
		rmdir(path);
		return -1;
	}
	return 0;
}

/* Highest open descriptor below 1024. */
static int
highest_fd(void)
{
	int fd, hi = -1;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			hi = fd;
	return hi;
}

/*
 * In a child: enters the sandbox with room for one more descriptor (as
 * moat-net keeps room for the session channel and the framebuffer). Exits
 * with 90 if sandbox_enter fails.
 */
static void
child_enter(const char *root)
{
	struct sandbox_conf c;
	int r;

	alarm(CHILD_ALARM);
	memset(&c, 0, sizeof(c));
	c.empty_root = root;
	c.uid = TEST_UID;
	c.gid = TEST_GID;
	c.max_fd = child_max_fd = highest_fd() + 2;
	c.max_as = 0;
	if ((r = sandbox_enter(&c)) != 0) {
		fprintf(stderr, "child: sandbox_enter: %s\n", moat_strerror(r));
		_exit(90);
	}
}

/* ---- 1. golden file --------------------------------------------------- */

static void
show_diff(const char *golden_path, const char *want, const char *got,
    const char *actual_path)
{
	const struct scmp_version *v;
	const char *w = want, *g = got;
	int line = 1, shown = 0;
	pid_t pid;
	char *argv[] = { "diff", "-u", (char *)golden_path,
	    (char *)actual_path, NULL };

	/* First difference, then the context a reviewer needs. */
	while (*w != '\0' && *g != '\0') {
		const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
		size_t wl = we ? (size_t)(we - w) : strlen(w);
		size_t gl = ge ? (size_t)(ge - g) : strlen(g);

		if (wl != gl || memcmp(w, g, wl) != 0) {
			printf("  first difference at line %d:\n"
			    "  - %.*s\n  + %.*s\n", line, (int)wl, w, (int)gl, g);
			shown = 1;
			break;
		}
		w += wl + (we ? 1 : 0);
		g += gl + (ge ? 1 : 0);
		line++;
	}
	if (!shown)
		printf("  one file is a prefix of the other (line %d)\n", line);
	printf("  unified diff (golden -> actual):\n");
	fflush(stdout);
	if (posix_spawnp(&pid, "diff", NULL, NULL, argv, environ) == 0)
		(void)reap(pid);
	else
		printf("  (run: diff -u %s %s)\n", golden_path, actual_path);
	printf("  If the change is deliberate: MOAT_UPDATE_GOLDEN=1 %s, "
	    "then review and commit the golden file.\n", "test_sandbox");
	v = seccomp_version();
	printf("  (golden generated with libseccomp 2.5.4; this is %u.%u.%u, "
	    "whose PFC layout may differ)\n", v->major, v->minor, v->micro);
}

static void
test_golden(void)
{
	const char *src = getenv("MOAT_SOURCE_DIR");
	const char *bld = getenv("MOAT_BUILD_DIR");
	char golden[PATH_MAX], actual[PATH_MAX];
	char *a, *b, *want;
	size_t alen, blen, wlen;
	int i, fd;

	a = export_pfc(&alen);
	check(a != NULL && alen > 0, "sandbox_export_pfc produced no text");
	if (a == NULL)
		return;
	check(strstr(a, "action KILL_PROCESS;\n# invalid architecture "
	    "action\naction KILL_PROCESS;") != NULL,
	    "default and bad-arch actions are not KILL_PROCESS");
	/* Deterministic: identical on every export, in-process and forked. */
	for (i = 0; i < 3; i++) {
		b = export_pfc(&blen);
		check(b != NULL && blen == alen && memcmp(a, b, alen) == 0,
		    "PFC export %d differs from the first", i + 2);
		free(b);
	}
	if (src == NULL) {
		check(0, "MOAT_SOURCE_DIR is not set; cannot find %s",
		    GOLDEN_REL);
		free(a);
		return;
	}
	snprintf(golden, sizeof(golden), "%s/%s", src, GOLDEN_REL);
	if (getenv("MOAT_UPDATE_GOLDEN") != NULL) {
		fd = open(golden, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		check(fd != -1 && write(fd, a, alen) == (ssize_t)alen &&
		    close(fd) == 0, "cannot write %s: %s", golden,
		    strerror(errno));
		printf("golden file rewritten: %s\n", golden);
		free(a);
		return;
	}
	want = read_file(golden, &wlen);
	if (want == NULL) {
		check(0, "cannot read golden file %s: %s", golden,
		    strerror(errno));
		free(a);
		return;
	}
	if (wlen == alen && memcmp(want, a, alen) == 0) {
		check(1, "golden");
	} else {
		snprintf(actual, sizeof(actual), "%s/seccomp-moat-net.pfc.actual",
		    bld != NULL ? bld : "/tmp");
		if ((fd = open(actual, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644)) != -1) {
			if (write(fd, a, alen) != (ssize_t)alen)
				printf("  short write to %s\n", actual);
			close(fd);
		}
		check(0, "seccomp allow-list differs from the golden file %s "
		    "(actual written to %s)", golden, actual);
		show_diff(golden, want, a, actual);
	}
	free(want);
	free(a);
}

/* ---- 2. the confined process seen from outside ----------------------- */

/* Value of "Key:\t..." in a /proc status text, or NULL. */
static const char *
status_field(const char *text, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	const char *p = text, *e;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
			p += klen + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			e = strchr(p, '\n');
			snprintf(out, outlen, "%.*s",
			    (int)(e ? (size_t)(e - p) : strlen(p)), p);
			/* Trim trailing blanks. */
			while (*out != '\0' && (out[strlen(out) - 1] == ' ' ||
			    out[strlen(out) - 1] == '\t'))
				out[strlen(out) - 1] = '\0';
			return out;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NULL;
}

/* Checks "<name>  soft  hard  unit" in /proc/PID/limits. */
static void
check_limit(const char *limits, const char *name, const char *want)
{
	const char *p = strstr(limits, name);
	char soft[32], hard[32];

	if (p == NULL) {
		check(0, "limits: no line \"%s\"", name);
		return;
	}
	p += strlen(name);
	if (sscanf(p, "%31s %31s", soft, hard) != 2) {
		check(0, "limits: cannot parse \"%s\"", name);
		return;
	}
	check(strcmp(soft, want) == 0 && strcmp(hard, want) == 0,
	    "limits: %s is %s/%s, want %s/%s", name, soft, hard, want, want);
}

/* Whether this environment lets root unshare the network namespace. */
static int
netns_available(void)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0)
		_exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
	st = reap(pid);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void
test_proc_view(void)
{
	char root[64], path[128], link[PATH_MAX], mynet[64], buf[256], sbuf[64];
	char want_ids[64], want_nofile[16];
	char *status = NULL, *limits = NULL;
	static const char *caps[] = { "CapInh", "CapPrm", "CapEff", "CapBnd",
	    "CapAmb" };
	int ready[2], hold[2], max_fd = -1, st, out;
	struct stat sst;
	ssize_t n;
	size_t i;
	pid_t pid;
	char c;

	if (make_empty_root(root, sizeof(root)) != 0) {
		check(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(hold, O_CLOEXEC) != 0) {
		check(0, "pipe: %s", strerror(errno));
		rmdir(root);
		return;
	}
	if ((pid = fork_captured(&out)) == 0) {
		close(ready[0]);
		close(hold[1]);
		child_enter(root);
		if (write(ready[1], &child_max_fd, sizeof(child_max_fd)) !=
		    (ssize_t)sizeof(child_max_fd))
			_exit(91);
		/* Blocks until the parent has looked; EOF releases us. */
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (!wait_readable(ready[0]) ||
	    read(ready[0], &max_fd, sizeof(max_fd)) != (ssize_t)sizeof(max_fd)) {
		check(0, "child never reported it was in the sandbox");
		goto out;
	}

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	status = read_file(path, NULL);
	check(status != NULL, "cannot read %s", path);
	if (status != NULL) {
		snprintf(want_ids, sizeof(want_ids), "%u\t%u\t%u\t%u",
		    TEST_UID, TEST_UID, TEST_UID, TEST_UID);
		check(status_field(status, "Uid", buf, sizeof(buf)) &&
		    strcmp(buf, want_ids) == 0, "Uid is \"%s\", want \"%s\"",
		    buf, want_ids);
		snprintf(want_ids, sizeof(want_ids), "%u\t%u\t%u\t%u",
		    TEST_GID, TEST_GID, TEST_GID, TEST_GID);
		check(status_field(status, "Gid", buf, sizeof(buf)) &&
		    strcmp(buf, want_ids) == 0, "Gid is \"%s\", want \"%s\"",
		    buf, want_ids);
		snprintf(sbuf, sizeof(sbuf), "%u", TEST_GID);
		check(status_field(status, "Groups", buf, sizeof(buf)) &&
		    (buf[0] == '\0' || strcmp(buf, sbuf) == 0),
		    "Groups is \"%s\", want empty or \"%s\"", buf, sbuf);
		for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
			check(status_field(status, caps[i], buf, sizeof(buf)) &&
			    strcmp(buf, "0000000000000000") == 0,
			    "%s is \"%s\", want all zero", caps[i], buf);
		check(status_field(status, "NoNewPrivs", buf, sizeof(buf)) &&
		    strcmp(buf, "1") == 0, "NoNewPrivs is \"%s\", want 1", buf);
		check(status_field(status, "Seccomp", buf, sizeof(buf)) &&
		    strcmp(buf, "2") == 0, "Seccomp is \"%s\", want 2", buf);
		check(status_field(status, "Seccomp_filters", buf, sizeof(buf)) &&
		    strcmp(buf, "1") == 0, "Seccomp_filters is \"%s\", want 1",
		    buf);
	}
	/* Not dumpable: the kernel hands /proc/PID to root. */
	check(stat(path, &sst) == 0 && sst.st_uid == 0,
	    "%s owned by uid %u, want 0 (PR_SET_DUMPABLE=0)", path,
	    (unsigned)sst.st_uid);

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	check(n > 0 && strcmp(link, root) == 0, "root is \"%s\", want \"%s\"",
	    link, root);
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	check(n > 0 && strcmp(link, root) == 0, "cwd is \"%s\", want \"%s\"",
	    link, root);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	i = (size_t)readlink("/proc/self/ns/net", mynet, sizeof(mynet) - 1);
	mynet[(ssize_t)i > 0 ? i : 0] = '\0';
	if (netns_available())
		check(n > 0 && strcmp(link, mynet) != 0,
		    "network namespace %s not private (parent %s)", link, mynet);
	else
		printf("skipped: private network namespace (unshare "
		    "refused here; sandbox_enter continues without it)\n");

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	limits = read_file(path, NULL);
	check(limits != NULL, "cannot read %s", path);
	if (limits != NULL) {
		snprintf(want_nofile, sizeof(want_nofile), "%d", max_fd + 1);
		check_limit(limits, "Max core file size", "0");
		check_limit(limits, "Max processes", "0");
		check_limit(limits, "Max file size", "0");
		check_limit(limits, "Max locked memory", "0");
		check_limit(limits, "Max open files", want_nofile);
		check_limit(limits, "Max address space", "1073741824");
	}
out:
	close(hold[1]);
	st = reap(pid);
	check(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "held child ended with %s", describe_status(st, buf, sizeof(buf)));
	drain_child(out);
	close(ready[0]);
	free(status);
	free(limits);
	rmdir(root);
}

/* ---- 2b. a thread confined first: one private network namespace ------- */

static int thread_hold = -1, thread_ready = -1;

/* The worker: confines itself, reports, then blocks until released. */
static void *
thread_worker(void *unused)
{
	char c;
	int r;

	(void)unused;
	r = sandbox_enter_thread();
	if (write(thread_ready, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(92);
	while (read(thread_hold, &c, 1) > 0)
		;
	return NULL;
}

/*
 * moat-net's shape with its encoding thread: the thread confines itself
 * (sandbox_enter_thread), then the main thread enters the sandbox. Seen
 * from /proc: both threads end in the same private network namespace
 * (sandbox_enter joins the thread's rather than making a second one), and
 * both have the seccomp filter, no_new_privs and the unprivileged ids.
 */
static void
test_thread(void)
{
	char root[64], path[320], net[2][PATH_MAX], mynet[64], buf[128];
	char want[64], *status;
	int ready[2], hold[2], wready[2], st, out, r = 1, t, ntask = 0;
	pthread_t th;
	DIR *d;
	struct dirent *de;
	ssize_t n;
	pid_t pid;
	char c;

	if (make_empty_root(root, sizeof(root)) != 0) {
		check(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(hold, O_CLOEXEC) != 0) {
		check(0, "pipe: %s", strerror(errno));
		rmdir(root);
		return;
	}
	if ((pid = fork_captured(&out)) == 0) {
		close(ready[0]);
		close(hold[1]);
		if (pipe2(wready, O_CLOEXEC) != 0)
			_exit(93);
		thread_hold = hold[0];
		thread_ready = wready[1];
		if (pthread_create(&th, NULL, thread_worker, NULL) != 0)
			_exit(93);
		/* Like enc_pool_start(): wait for the thread's confinement. */
		if (read(wready[0], &r, sizeof(r)) != (ssize_t)sizeof(r) ||
		    r != 0)
			_exit(94);
		close(wready[0]);
		close(wready[1]);
		child_enter(root);
		if (write(ready[1], "x", 1) != 1)
			_exit(91);
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (!wait_readable(ready[0]) || read(ready[0], &c, 1) != 1) {
		check(0, "threaded child never reported it was in the sandbox");
		goto out;
	}
	n = readlink("/proc/self/ns/net", mynet, sizeof(mynet) - 1);
	mynet[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", TEST_UID, TEST_UID,
	    TEST_UID, TEST_UID);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL) {
		check(0, "opendir %s: %s", path, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		t = ntask == 0 ? 0 : 1;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/ns/net",
		    (int)pid, de->d_name);
		n = readlink(path, net[t], sizeof(net[t]) - 1);
		net[t][n > 0 ? n : 0] = '\0';
		if (netns_available())
			check(n > 0 && strcmp(net[t], mynet) != 0, "thread %s: "
			    "network namespace %s not private", de->d_name,
			    net[t]);
		if (t == 1)
			check(strcmp(net[0], net[1]) == 0, "threads in two "
			    "network namespaces: %s and %s", net[0], net[1]);
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status",
		    (int)pid, de->d_name);
		ntask++;
		if ((status = read_file(path, NULL)) == NULL) {
			check(0, "cannot read %s", path);
			continue;
		}
		check(status_field(status, "Seccomp", buf, sizeof(buf)) &&
		    strcmp(buf, "2") == 0, "thread %s: Seccomp is \"%s\"",
		    de->d_name, buf);
		check(status_field(status, "NoNewPrivs", buf, sizeof(buf)) &&
		    strcmp(buf, "1") == 0, "thread %s: NoNewPrivs is \"%s\"",
		    de->d_name, buf);
		check(status_field(status, "Uid", buf, sizeof(buf)) &&
		    strcmp(buf, want) == 0, "thread %s: Uid is \"%s\"",
		    de->d_name, buf);
		free(status);
	}
	closedir(d);
	check(ntask == 2, "%d threads, want 2", ntask);
out:
	close(hold[1]);
	st = reap(pid);
	check(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "threaded child ended with %s", describe_status(st, buf,
	    sizeof(buf)));
	drain_child(out);
	close(ready[0]);
	rmdir(root);
}

/* ---- 3. forbidden operations kill the whole process ------------------- */

static int kill_memfd = -1;	/* created before sandbox_enter */

static void
forbid_socket(void)
{
	sink = socket(AF_INET, SOCK_STREAM, 0);
}

static void
forbid_memfd_write_map(void)
{
	sink = (long)mmap(NULL, FB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    kill_memfd, 0);
}

static void
forbid_exec_map(void)
{
	sink = (long)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void
forbid_exec_protect(void)
{
	static char page[4096] __attribute__((aligned(4096)));

	sink = mprotect(page, sizeof(page), PROT_READ | PROT_EXEC);
}

static void
forbid_shared_anon(void)
{
	sink = (long)mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
}

static void
forbid_fixed_map(void)
{
	sink = (long)mmap((void *)0x100000000UL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static void
forbid_execve(void)
{
	char *argv[] = { "sh", NULL };

	sink = execve("/bin/sh", argv, environ);
}

static void
forbid_fork(void)
{
	sink = fork();
}

static void
forbid_kill(void)
{
	sink = kill(getpid(), 0);
}

static void
forbid_ptrace(void)
{
	sink = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static void
forbid_setuid(void)
{
	sink = setuid(0);
}

static void
forbid_oob(void)
{
	sink = send(kill_memfd, "x", 1, MSG_OOB);
}

static void
forbid_ioctl(void)
{
	int on = 1;

	sink = ioctl(0, FIONBIO, &on);
}

static void
forbid_setsockopt(void)
{
	int sz = 1 << 20;

	sink = setsockopt(0, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static void
forbid_madvise(void)
{
	static char page[4096] __attribute__((aligned(4096)));

	sink = madvise(page, sizeof(page), MADV_HUGEPAGE);
}

static void
forbid_futex_shared(void)
{
	static int word;

	sink = syscall(SYS_futex, &word, 1 /* FUTEX_WAKE, not private */, 1,
	    NULL, NULL, 0);
}

static void
forbid_memfd_write(void)
{
	sink = write(kill_memfd, "x", 1);
}

#if defined(__x86_64__)
/* x32 ABI numbers carry bit 30; no allow-list row matches them. */
static void
forbid_x32(void)
{
	sink = syscall(0x40000000 | SYS_getpid);
}

/* The i386 entry point: another architecture, so the bad-arch action. */
static void
forbid_i386(void)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) /* getpid */ :
	    "memory");
	sink = ret;
}
#endif

static const struct {
	const char *name;
	void (*fn)(void);
	int sig;
} forbidden[] = {
	{ "socket(AF_INET, SOCK_STREAM)", forbid_socket, SIGSYS },
	{ "mmap(memfd, PROT_READ|PROT_WRITE, MAP_SHARED)",
	    forbid_memfd_write_map, SIGSYS },
	{ "mmap(PROT_READ|PROT_EXEC)", forbid_exec_map, SIGSYS },
	{ "mprotect(PROT_READ|PROT_EXEC)", forbid_exec_protect, SIGSYS },
	{ "mmap(MAP_SHARED|MAP_ANONYMOUS)", forbid_shared_anon, SIGSYS },
	{ "mmap(MAP_FIXED)", forbid_fixed_map, SIGSYS },
	{ "execve", forbid_execve, SIGSYS },
	{ "fork", forbid_fork, SIGSYS },
	{ "kill", forbid_kill, SIGSYS },
	{ "ptrace(PTRACE_TRACEME)", forbid_ptrace, SIGSYS },
	{ "setuid(0)", forbid_setuid, SIGSYS },
	{ "send(MSG_OOB)", forbid_oob, SIGSYS },
	{ "ioctl(FIONBIO)", forbid_ioctl, SIGSYS },
	{ "setsockopt(SO_SNDBUF)", forbid_setsockopt, SIGSYS },
	{ "madvise(MADV_HUGEPAGE)", forbid_madvise, SIGSYS },
	{ "futex(FUTEX_WAKE, shared)", forbid_futex_shared, SIGSYS },
	/* Not the filter: RLIMIT_FSIZE 0 makes any write to a file fatal. */
	{ "write(2) to the framebuffer memfd", forbid_memfd_write, SIGXFSZ },
#if defined(__x86_64__)
	{ "x32 getpid", forbid_x32, SIGSYS },
	{ "i386 getpid (int 0x80)", forbid_i386, SIGSYS },
#endif
};

#if defined(__x86_64__)
/* Whether this kernel runs i386 system calls at all (probed in a child). */
static int
i386_available(void)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		alarm(CHILD_ALARM);
		forbid_i386();
		_exit(sink == getpid() ? 0 : 1);
	}
	st = reap(pid);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}
#endif

static void
test_forbidden(void)
{
	char root[64], buf[128];
	size_t i;
	pid_t pid;
	int st, sv[2], out;

	if (make_empty_root(root, sizeof(root)) != 0) {
		check(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
#if defined(__x86_64__)
		if (forbidden[i].fn == forbid_i386 && !i386_available()) {
			printf("skipped: %s (no i386 emulation in this kernel)\n",
			    forbidden[i].name);
			continue;
		}
#endif
		if ((pid = fork_captured(&out)) == 0) {
			/* A socket for send(MSG_OOB); a memfd otherwise. */
			if (forbidden[i].fn == forbid_oob) {
				if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
					_exit(92);
				kill_memfd = sv[0];
			} else if ((kill_memfd = memfd_create("fb",
			    MFD_CLOEXEC)) == -1 ||
			    ftruncate(kill_memfd, FB_SIZE) != 0)
				_exit(92);
			child_enter(root);
			forbidden[i].fn();
			_exit(0);	/* survived: the filter let it through */
		}
		st = reap(pid);
		check(st != -1 && WIFSIGNALED(st) &&
		    WTERMSIG(st) == forbidden[i].sig,
		    "%s inside the sandbox: %s, want killed by signal %d (%s)",
		    forbidden[i].name, describe_status(st, buf, sizeof(buf)),
		    forbidden[i].sig, strsignal(forbidden[i].sig));
		drain_child(out);
	}
	rmdir(root);
}

/* ---- 4. what moat-net needs still works inside ---------------------- */

struct tls_fixture {
	EVP_PKEY *key;
	X509 *cert;
};

static int
make_tls_fixture(struct tls_fixture *t)
{
	X509_NAME *name;

	memset(t, 0, sizeof(*t));
	if ((t->key = EVP_EC_gen("P-256")) == NULL ||
	    (t->cert = X509_new()) == NULL)
		return -1;
	if (X509_set_version(t->cert, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(t->cert), 1) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(t->cert), -60) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(t->cert), 3600) == NULL ||
	    X509_set_pubkey(t->cert, t->key) != 1)
		return -1;
	name = X509_get_subject_name(t->cert);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"moat-sandbox-test", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(t->cert, name) != 1 ||
	    X509_sign(t->cert, t->key, EVP_sha256()) == 0)
		return -1;
	return 0;
}

static int
aes_gcm(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, const uint8_t *in,
    int inlen, uint8_t *out, uint8_t tag[16])
{
	static const uint8_t key[16] = "0123456789abcdef";
	static const uint8_t iv[12] = "moat-iv-1234";
	int n, m;

	if (EVP_EncryptInit_ex2(ctx, cipher, key, iv, NULL) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &n, in, inlen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + n, &m) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
		return -1;
	return n + m;
}

static int child_failures;

static void cfail(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
cfail(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* stderr is unbuffered: one write(2), allowed in the sandbox. */
	fprintf(stderr, "FAIL (inside sandbox): %s\n", msg);
	child_failures++;
}

#define CCHECK(cond, ...) do { if (!(cond)) cfail(__VA_ARGS__); } while (0)

/*
 * The sandboxed side of test 4: ipc = SEQPACKET IPC end, tcp = accepted
 * TCP connection (as moat-net's fd 3), ctx = warmed-up TLS server context.
 */
static void
inside_child(const char *root, int ipc, int tcp, SSL_CTX *sctx)
{
	static const uint8_t plain[64] = "framebuffer update, encrypted";
	uint8_t ref_ct[64], ref_tag[16], ct[64], tag[16], rnd[32], zero[32];
	uint8_t zin[8192], zout[8192 + 64], zback[8192];
	const EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *cctx;
	struct ipc_msg m;
	struct pollfd pfd;
	struct timespec ts, ts2;
	struct stat st;
	const uint8_t *fb;
	uLongf zlen, blen;
	char tlsbuf[16];
	int fd, fl, on = 1, soerr, seals, r, i;
	socklen_t sl;
	void *anon;
	char *big;
	void *(*volatile mallocp)(size_t) = malloc;
	SSL *ssl;

	/* Warm-up, as moat-net does before entering. */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1 ||
	    RAND_bytes(rnd, sizeof(rnd)) != 1 ||
	    (cipher = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL)) == NULL ||
	    (cctx = EVP_CIPHER_CTX_new()) == NULL ||
	    aes_gcm(cctx, cipher, plain, sizeof(plain), ref_ct, ref_tag) !=
	    (int)sizeof(plain) || (ssl = SSL_new(sctx)) == NULL)
		_exit(93);
	child_enter(root);

	/* Files: soft-denied, nothing on the path anyway. */
	errno = 0;
	fd = open("/etc/passwd", O_RDONLY);
	CCHECK(fd == -1 && (errno == EACCES || errno == ENOENT),
	    "open(/etc/passwd) = %d, errno %s", fd, strerror(errno));
	errno = 0;
	fd = openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
	CCHECK(fd == -1 && errno == EACCES, "openat(/) = %d, errno %s", fd,
	    strerror(errno));
	errno = 0;
	CCHECK(stat("/", &st) == -1 && errno == EACCES,
	    "stat(/) not refused with EACCES (%s)", strerror(errno));
	errno = 0;
	CCHECK(fstatat(AT_FDCWD, "", &st, AT_EMPTY_PATH) == -1 &&
	    errno == EACCES, "fstatat(AT_FDCWD, \"\") not refused (%s)",
	    strerror(errno));
	CCHECK(fstat(tcp, &st) == 0 && S_ISSOCK(st.st_mode),
	    "fstat(socket): %s", strerror(errno));
	CCHECK(isatty(STDIN_FILENO) == 0, "isatty did not answer 0");

	/* Memory: anonymous RW, malloc via mmap, realloc via mremap. */
	anon = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CCHECK(anon != MAP_FAILED, "anonymous mmap: %s", strerror(errno));
	if (anon != MAP_FAILED) {
		memset(anon, 0xa5, 65536);
		CCHECK(mprotect(anon, 4096, PROT_READ) == 0, "mprotect: %s",
		    strerror(errno));
		CCHECK(madvise(anon, 65536, MADV_DONTNEED) == 0, "madvise: %s",
		    strerror(errno));
		CCHECK(munmap(anon, 65536) == 0, "munmap: %s", strerror(errno));
	}
	big = malloc(1 << 20);
	CCHECK(big != NULL, "malloc(1 MiB)");
	if (big != NULL) {
		memset(big, 1, 1 << 20);
		big = realloc(big, 8 << 20);
		CCHECK(big != NULL, "realloc(8 MiB)");
		free(big);
	}
	big = mallocp((size_t)2 << 30);
	CCHECK(big == NULL, "malloc(2 GiB) succeeded despite RLIMIT_AS");
	free(big);

	/* Time and identity. */
	CCHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "clock_gettime");
	ts2.tv_sec = 0;
	ts2.tv_nsec = 1000;
	CCHECK(nanosleep(&ts2, NULL) == 0, "nanosleep: %s", strerror(errno));
	CCHECK(getpid() > 1 && gettid() > 1, "getpid/gettid");
	CCHECK(time(NULL) > 0, "time");

	/* Socket options and descriptor flags. */
	CCHECK(setsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0,
	    "setsockopt(TCP_NODELAY): %s", strerror(errno));
	sl = sizeof(soerr);
	CCHECK(getsockopt(tcp, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
	    soerr == 0, "getsockopt(SO_ERROR): %s", strerror(errno));
	fl = fcntl(ipc, F_GETFL);
	CCHECK(fl != -1 && fcntl(ipc, F_SETFL, fl | O_NONBLOCK) == 0 &&
	    fcntl(ipc, F_SETFL, fl) == 0, "fcntl(F_SETFL): %s",
	    strerror(errno));

	/* IPC both ways, with a sealed framebuffer memfd by SCM_RIGHTS. */
	CCHECK(ipc_send_raw(ipc, IPC_NET_LOG, "ready", 5, -1) == 0,
	    "ipc_send (sendmsg)");
	pfd.fd = ipc;
	pfd.events = POLLIN;
	ts.tv_sec = CHILD_ALARM;
	ts.tv_nsec = 0;
	r = ppoll(&pfd, 1, &ts, NULL);
	CCHECK(r == 1 && (pfd.revents & POLLIN), "ppoll = %d: %s", r,
	    strerror(errno));
	r = ipc_recv(ipc, &m, 1);
	CCHECK(r == 0 && m.type == IPC_CAP_FRAMEBUFFER && m.fd != -1,
	    "ipc_recv (recvfrom + recvmsg, SCM_RIGHTS): %s", moat_strerror(r));
	if (r == 0 && m.fd != -1) {
		fd = ipc_msg_take_fd(&m);
		CCHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0,
		    "received fd lacks FD_CLOEXEC (MSG_CMSG_CLOEXEC)");
		seals = fcntl(fd, F_GET_SEALS);
		CCHECK(seals == (F_SEAL_SHRINK | F_SEAL_GROW |
		    F_SEAL_FUTURE_WRITE | F_SEAL_SEAL),
		    "F_GET_SEALS = %d: %s", seals, strerror(errno));
		CCHECK(fstat(fd, &st) == 0 && st.st_size == FB_SIZE,
		    "fstat(memfd): %s", strerror(errno));
		fb = mmap(NULL, FB_SIZE, PROT_READ, MAP_SHARED, fd, 0);
		CCHECK(fb != MAP_FAILED, "mmap(memfd, PROT_READ, MAP_SHARED): "
		    "%s", strerror(errno));
		if (fb != MAP_FAILED) {
			for (i = 0; i < FB_SIZE; i++)
				if (fb[i] != (uint8_t)(i * 7))
					break;
			CCHECK(i == FB_SIZE, "framebuffer content differs at %d",
			    i);
			/* The seal, not the filter, stops upgrading to write. */
			errno = 0;
			CCHECK(mprotect((void *)fb, FB_SIZE,
			    PROT_READ | PROT_WRITE) == -1 && errno == EACCES,
			    "mprotect(sealed framebuffer, PROT_WRITE) not "
			    "refused (%s)", strerror(errno));
			munmap((void *)fb, FB_SIZE);
		}
		close(fd);
	}
	ipc_msg_clear(&m);

	/* Crypto after entering: RNG and AES-GCM (contexts made before). */
	memset(zero, 0, sizeof(zero));
	CCHECK(RAND_bytes(rnd, sizeof(rnd)) == 1 &&
	    memcmp(rnd, zero, sizeof(rnd)) != 0, "RAND_bytes");
	CCHECK(RAND_priv_bytes(rnd, sizeof(rnd)) == 1, "RAND_priv_bytes");
	r = aes_gcm(cctx, cipher, plain, sizeof(plain), ct, tag);
	CCHECK(r == (int)sizeof(plain) && memcmp(ct, ref_ct, sizeof(ct)) == 0 &&
	    memcmp(tag, ref_tag, sizeof(tag)) == 0,
	    "AES-128-GCM inside differs from outside (%d)", r);

	/* zlib, as the ZRLE encoder uses it. */
	for (i = 0; i < (int)sizeof(zin); i++)
		zin[i] = (uint8_t)(i / 64);
	zlen = sizeof(zout);
	blen = sizeof(zback);
	CCHECK(compress2(zout, &zlen, zin, sizeof(zin), 6) == Z_OK &&
	    uncompress(zback, &blen, zout, zlen) == Z_OK &&
	    blen == sizeof(zin) && memcmp(zback, zin, sizeof(zin)) == 0,
	    "zlib round trip");

	/* A TLS 1.3 handshake and a record each way, on fd "3". */
	if (SSL_set_fd(ssl, tcp) != 1 || (r = SSL_accept(ssl)) != 1) {
		cfail("SSL_accept = %d (%s)", r,
		    ERR_reason_error_string(ERR_peek_last_error()));
	} else {
		r = SSL_read(ssl, tlsbuf, sizeof(tlsbuf));
		CCHECK(r == 4 && memcmp(tlsbuf, "ping", 4) == 0,
		    "SSL_read = %d", r);
		CCHECK(SSL_write(ssl, "pong", 4) == 4, "SSL_write");
		CCHECK(SSL_version(ssl) == TLS1_3_VERSION, "not TLS 1.3");
		(void)SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	EVP_CIPHER_CTX_free(cctx);

	/* stdio to /dev/null or a pipe still works (fstat + isatty probe). */
	printf("sandboxed child: functional checks done\n");
	CCHECK(fflush(stdout) == 0, "fflush(stdout)");
	_exit(child_failures > 100 ? 100 : child_failures);
}

/* A sealed framebuffer the way moat-session will make it. */
static int
make_sealed_fb(void)
{
	uint8_t *p;
	int fd, i;

	if ((fd = memfd_create("moat-fb", MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1)
		return -1;
	if (ftruncate(fd, FB_SIZE) != 0 ||
	    (p = mmap(NULL, FB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0)) == MAP_FAILED) {
		close(fd);
		return -1;
	}
	for (i = 0; i < FB_SIZE; i++)
		p[i] = (uint8_t)(i * 7);
	munmap(p, FB_SIZE);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Listens on loopback and returns a connected pair (like accept()). */
static int
tcp_pair(int *client, int *server)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int l;

	*client = *server = -1;
	if ((l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &sl) != 0 ||
	    (*client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(*client, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    (*server = accept4(l, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		close(l);
		if (*client != -1)
			close(*client);
		*client = -1;
		return -1;
	}
	close(l);
	return 0;
}

static void
test_inside(void)
{
	struct tls_fixture t;
	struct timeval tv = { .tv_sec = WAIT_MS / 1000 };
	struct ipc_msg m;
	SSL_CTX *sctx = NULL, *cctx = NULL;
	SSL *ssl = NULL;
	X509 *peer;
	char root[64], buf[128];
	int ipc[2], cli, srv, fb = -1, r, st, out = -1;
	pid_t pid;

	if (make_empty_root(root, sizeof(root)) != 0) {
		check(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	if (make_tls_fixture(&t) != 0 ||
	    (sctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    (cctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate(sctx, t.cert) != 1 ||
	    SSL_CTX_use_PrivateKey(sctx, t.key) != 1) {
		check(0, "TLS fixture: %s",
		    ERR_reason_error_string(ERR_peek_last_error()));
		goto out;
	}
	if (ipc_socketpair(ipc) != 0 || tcp_pair(&cli, &srv) != 0 ||
	    (fb = make_sealed_fb()) == -1) {
		check(0, "fixture descriptors: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork_captured(&out)) == 0) {
		close(ipc[0]);
		close(cli);
		close(fb);
		inside_child(root, ipc[1], srv, sctx);
		_exit(99);
	}
	close(ipc[1]);
	close(srv);
	/* Bound every wait on the child's sockets. */
	setsockopt(ipc[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cli, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cli, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	r = ipc_recv(ipc[0], &m, 0);
	check(r == 0 && m.type == IPC_NET_LOG && buf_len(&m.payload) == 5,
	    "no \"ready\" message from the sandboxed child: %s",
	    moat_strerror(r));
	ipc_msg_clear(&m);
	if (r == 0) {
		r = ipc_send_raw(ipc[0], IPC_CAP_FRAMEBUFFER, "fb", 2, fb);
		check(r == 0, "sending the framebuffer: %s", moat_strerror(r));
		if ((ssl = SSL_new(cctx)) == NULL || SSL_set_fd(ssl, cli) != 1 ||
		    SSL_connect(ssl) != 1) {
			check(0, "TLS handshake with the sandboxed server: %s",
			    ERR_reason_error_string(ERR_peek_last_error()));
		} else {
			peer = SSL_get1_peer_certificate(ssl);
			check(peer != NULL && X509_cmp(peer, t.cert) == 0,
			    "server certificate differs");
			X509_free(peer);
			check(SSL_write(ssl, "ping", 4) == 4, "client SSL_write");
			r = SSL_read(ssl, buf, sizeof(buf));
			check(r == 4 && memcmp(buf, "pong", 4) == 0,
			    "client SSL_read = %d", r);
		}
	}
	close(ipc[0]);
	st = reap(pid);
	check(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "sandboxed child (functional checks) ended with %s",
	    describe_status(st, buf, sizeof(buf)));
	drain_child(out);
	SSL_free(ssl);
	close(cli);
out:
	if (fb != -1)
		close(fb);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	X509_free(t.cert);
	EVP_PKEY_free(t.key);
	rmdir(root);
}

/* ---- 5. sandbox_check_empty_root and refused configurations ---------- */

static void
test_empty_root_checks(void)
{
	char root[64], sub[128], link[128], file[128], missing[128];
	int fd;

	if (make_empty_root(root, sizeof(root)) != 0) {
		check(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	check(sandbox_check_empty_root(root) == 0, "good empty root refused");

	snprintf(file, sizeof(file), "%s/entry", root);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	check(fd != -1, "create %s", file);
	if (fd != -1)
		close(fd);
	check(sandbox_check_empty_root(root) == MOAT_ERR_CONFIG,
	    "non-empty directory accepted");
	unlink(file);

	snprintf(sub, sizeof(sub), "%s/.hidden", root);
	check(mkdir(sub, 0755) == 0, "mkdir %s", sub);
	check(sandbox_check_empty_root(root) == MOAT_ERR_CONFIG,
	    "directory with a hidden subdirectory accepted");
	rmdir(sub);

	check(chmod(root, 0775) == 0, "chmod");
	check(sandbox_check_empty_root(root) == MOAT_ERR_CONFIG,
	    "group-writable directory accepted");
	check(chmod(root, 0757) == 0, "chmod");
	check(sandbox_check_empty_root(root) == MOAT_ERR_CONFIG,
	    "other-writable directory accepted");
	check(chmod(root, 0755) == 0, "chmod");

	check(chown(root, TEST_UID, 0) == 0, "chown");
	check(sandbox_check_empty_root(root) == MOAT_ERR_CONFIG,
	    "directory owned by uid %u accepted", TEST_UID);
	check(chown(root, 0, 0) == 0, "chown");
	check(sandbox_check_empty_root(root) == 0, "restored root refused");

	snprintf(link, sizeof(link), "%s-link", root);
	check(symlink(root, link) == 0, "symlink");
	check(sandbox_check_empty_root(link) == MOAT_ERR_CONFIG,
	    "symlink to an empty root accepted");
	unlink(link);

	snprintf(file, sizeof(file), "%s-file", root);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	check(fd != -1, "create %s", file);
	if (fd != -1)
		close(fd);
	check(sandbox_check_empty_root(file) == MOAT_ERR_CONFIG,
	    "regular file accepted");
	unlink(file);

	snprintf(missing, sizeof(missing), "%s-missing", root);
	check(sandbox_check_empty_root(missing) == MOAT_ERR_CONFIG,
	    "missing path accepted");
	check(sandbox_check_empty_root("tmp") == MOAT_ERR_CONFIG,
	    "relative path accepted");
	check(sandbox_check_empty_root(NULL) == MOAT_ERR_CONFIG,
	    "NULL path accepted");
	rmdir(root);
}

/* sandbox_enter refuses bad configurations (run in children, in case). */
static void
test_bad_conf(void)
{
	static const struct {
		const char *what;
		uid_t uid;
		gid_t gid;
		int max_fd;
		int leak_fd;	/* a descriptor left open there, or 0 */
		int hide_proc;	/* /proc hidden: the check cannot list */
		int want;
	} cases[] = {
		{ "uid 0", 0, TEST_GID, 8, 0, 0, MOAT_ERR_INVALID },
		{ "gid 0", TEST_UID, 0, 8, 0, 0, MOAT_ERR_INVALID },
		{ "uid -1", (uid_t)-1, TEST_GID, 8, 0, 0, MOAT_ERR_INVALID },
		{ "gid -1", TEST_UID, (gid_t)-1, 8, 0, 0, MOAT_ERR_INVALID },
		{ "max_fd 1", TEST_UID, TEST_GID, 1, 0, 0, MOAT_ERR_INVALID },
		{ "descriptor open above max_fd", TEST_UID, TEST_GID, 8, 40, 0,
		    MOAT_ERR_FD },
		{ "descriptor open far above max_fd", TEST_UID, TEST_GID, 8,
		    900, 0, MOAT_ERR_FD },
		{ "descriptor open just above max_fd", TEST_UID, TEST_GID, 8,
		    9, 0, MOAT_ERR_FD },
		{ "descriptor above max_fd, /proc hidden", TEST_UID, TEST_GID,
		    8, 40, 1, MOAT_ERR_FD },
		/* The listing's own descriptor is then above max_fd. */
		{ "every descriptor up to max_fd open", TEST_UID, TEST_GID, 8,
		    -1, 0, 0 },
	};
	struct sandbox_conf c;
	char root[64], buf[128];
	size_t i;
	pid_t pid;
	int st, r, out, ok, k;

	if (make_empty_root(root, sizeof(root)) != 0) {
		check(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if ((pid = fork_captured(&out)) == 0) {
			alarm(CHILD_ALARM);
			memset(&c, 0, sizeof(c));
			c.empty_root = root;
			c.uid = cases[i].uid;
			c.gid = cases[i].gid;
			c.max_fd = cases[i].max_fd;
			if (cases[i].leak_fd > 0 &&
			    dup2(0, cases[i].leak_fd) != cases[i].leak_fd)
				_exit(94);
			if (cases[i].leak_fd < 0)
				closefrom(c.max_fd + 1);
			for (k = 0; cases[i].leak_fd < 0 && k <= c.max_fd; k++)
				if (fcntl(k, F_GETFD) == -1 && dup2(0, k) != k)
					_exit(94);
			/* Without /proc the check asks about every number. */
			if (cases[i].hide_proc && (unshare(CLONE_NEWNS) != 0 ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE,
			    NULL) != 0 ||
			    mount("none", "/proc", "tmpfs", 0, NULL) != 0 ||
			    open("/proc/self/fd", O_RDONLY | O_DIRECTORY) != -1))
				_exit(95);
			r = sandbox_enter(&c);
			_exit(r == cases[i].want ? 0 : 1);
		}
		st = reap(pid);
		ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
		check(ok, "sandbox_enter with %s: %s, want %s", cases[i].what,
		    describe_status(st, buf, sizeof(buf)),
		    moat_strerror(cases[i].want));
		if (!ok)
			drain_child(out);	/* the expected refusal is logged; show it only on failure */
		else
			close(out);
	}
	rmdir(root);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("test_sandbox must run as root (CI does)\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	test_golden();
	test_proc_view();
	test_thread();
	test_forbidden();
	test_inside();
	test_empty_root_checks();
	test_bad_conf();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
