/*
 * test_auth_pam.c - tests auth/auth_pam.c against the real PAM stack with
 * pam_unix and real accounts.
 *
 * Test code, run as root. The host's /etc is never written: the program
 * re-execs itself in a private mount namespace where a tmpfs-backed
 * overlayfs covers /etc, creates its users and PAM service files there,
 * and the outer process then checks that the host /etc shows none of them.
 * The conversation function is also exercised directly through the
 * MOAT_SELFTEST hook (no root needed for that part).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "auth/auth_pam.h"

#define TEST_USER	"moattestuser"
#define TEST_EXPIRED	"moattestexp"
#define TEST_CHANGE	"moattestchg"
#define TEST_PASS	"S3cret-pass"
#define TEST_SERVICE	"moat-test"
#define TEST_SERVICE_ECHO "moat-test-echo"
#define OVERLAYFS_MAGIC	0x794c7630

#include "check.h"

/* --- the conversation function, directly --- */

#ifdef MOAT_SELFTEST
static void
free_resp(struct pam_response *resp, int n)
{
	int i;

	for (i = 0; resp != NULL && i < n; i++)
		free(resp[i].resp);
	free(resp);
}

static void
test_conv(void)
{
	struct pam_message m[PAM_MAX_NUM_MSG + 1];
	const struct pam_message *pm[PAM_MAX_NUM_MSG + 1];
	struct pam_response *resp;
	struct auth_creds creds;
	struct auth_conv conv;
	int i, r, err;

	for (i = 0; i <= PAM_MAX_NUM_MSG; i++) {
		m[i].msg_style = PAM_TEXT_INFO;
		m[i].msg = "hello";
		pm[i] = &m[i];
	}

	/* A hidden prompt gets the password, in memory the caller frees. */
	m[0].msg_style = PAM_PROMPT_ECHO_OFF;
	m[0].msg = "Password: ";
	auth_creds_conv(&conv, &creds, "alice", "pw1");
	resp = (struct pam_response *)1;
	r = auth_pam_selftest_conv(1, pm, &resp, &conv, &err);
	CHECK(r == PAM_SUCCESS && resp != NULL && resp[0].resp != NULL &&
	    strcmp(resp[0].resp, "pw1") == 0 && err == 0, "r=%d", r);
	free_resp(r == PAM_SUCCESS ? resp : NULL, 1);

	/* Prompt + error + info: the error message is kept as the reason. */
	m[1].msg_style = PAM_ERROR_MSG;
	m[1].msg = "Your code has expired";
	auth_creds_conv(&conv, &creds, "alice", "pw1");
	r = auth_pam_selftest_conv(3, pm, &resp, &conv, NULL);
	CHECK(r == PAM_SUCCESS && resp[1].resp == NULL && resp[2].resp == NULL &&
	    strcmp(creds.message, "Your code has expired") == 0, "r=%d '%s'",
	    r, creds.message);
	free_resp(r == PAM_SUCCESS ? resp : NULL, 3);

	/* A visible question gets the user name. */
	m[1].msg_style = PAM_PROMPT_ECHO_ON;
	m[1].msg = "login: ";
	auth_creds_conv(&conv, &creds, "alice", "pw1");
	r = auth_pam_selftest_conv(2, pm, &resp, &conv, NULL);
	CHECK(r == PAM_SUCCESS && strcmp(resp[0].resp, "pw1") == 0 &&
	    strcmp(resp[1].resp, "alice") == 0, "r=%d", r);
	free_resp(r == PAM_SUCCESS ? resp : NULL, 2);

	/* A second hidden question is more than the viewer can answer. */
	m[1].msg_style = PAM_PROMPT_ECHO_OFF;
	m[1].msg = "One-time code: ";
	auth_creds_conv(&conv, &creds, "alice", "pw1");
	resp = (struct pam_response *)1;
	r = auth_pam_selftest_conv(2, pm, &resp, &conv, &err);
	CHECK(r == PAM_CONV_ERR && resp == NULL && err == MOAT_ERR_UNSUPPORTED &&
	    strcmp(creds.message, AUTH_CREDS_TOO_FEW) == 0, "r=%d err=%d", r,
	    err);
	/* ... and once failed, the conversation stays failed. */

	/* Unknown styles are refused, nothing leaks. */
	m[1].msg_style = 99;
	auth_creds_conv(&conv, &creds, "alice", "pw1");
	r = auth_pam_selftest_conv(2, pm, &resp, &conv, &err);
	CHECK(r == PAM_CONV_ERR && resp == NULL && err == MOAT_ERR_UNSUPPORTED,
	    "r=%d", r);
	m[1].msg_style = PAM_TEXT_INFO;

	/* No password to give. */
	auth_creds_conv(&conv, &creds, "alice", NULL);
	r = auth_pam_selftest_conv(1, pm, &resp, &conv, NULL);
	CHECK(r == PAM_CONV_ERR && resp == NULL, "r=%d", r);

	/* Message counts: 0 and more than PAM_MAX_NUM_MSG are refused. */
	auth_creds_conv(&conv, &creds, "alice", "pw1");
	r = auth_pam_selftest_conv(0, pm, &resp, &conv, NULL);
	CHECK(r == PAM_CONV_ERR && resp == NULL, "r=%d", r);
	r = auth_pam_selftest_conv(-1, pm, &resp, &conv, NULL);
	CHECK(r == PAM_CONV_ERR && resp == NULL, "r=%d", r);
	r = auth_pam_selftest_conv(PAM_MAX_NUM_MSG + 1, pm, &resp, &conv, NULL);
	CHECK(r == PAM_CONV_ERR && resp == NULL, "r=%d", r);
	r = auth_pam_selftest_conv(1, NULL, &resp, &conv, NULL);
	CHECK(r == PAM_CONV_ERR && resp == NULL, "r=%d", r);
	r = auth_pam_selftest_conv(1, pm, &resp, NULL, NULL);
	CHECK(r == PAM_CONV_ERR && resp == NULL, "r=%d", r);

	/* The most messages allowed. */
	m[0].msg_style = PAM_TEXT_INFO;
	r = auth_pam_selftest_conv(PAM_MAX_NUM_MSG, pm, &resp, &conv, NULL);
	CHECK(r == PAM_SUCCESS, "r=%d", r);
	free_resp(r == PAM_SUCCESS ? resp : NULL, PAM_MAX_NUM_MSG);

	/* The last of many prompts fails: earlier answers are freed (valgrind). */
	m[0].msg_style = PAM_PROMPT_ECHO_OFF;
	m[PAM_MAX_NUM_MSG - 1].msg_style = PAM_PROMPT_ECHO_ON;
	auth_creds_conv(&conv, &creds, NULL, "pw1");
	r = auth_pam_selftest_conv(PAM_MAX_NUM_MSG, pm, &resp, &conv, NULL);
	CHECK(r == PAM_CONV_ERR && resp == NULL, "r=%d", r);
}
#endif

/* --- inside the namespace: real accounts --- */

static int
sh(const char *cmd)
{
	int st = system(cmd);

	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "command failed (%d): %s\n", st, cmd);
		return -1;
	}
	return 0;
}

static int
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one authentication; *secs gets how long it took. */
static int
try_auth(const char *service, const char *user, const char *pw, char *reason,
    size_t reasonlen, double *secs)
{
	double t0 = now();
	int r;

	memset(reason, 'X', reasonlen - 1);
	reason[reasonlen - 1] = '\0';
	r = auth_pam_password(service, user, pw, "192.0.2.7", reason, reasonlen);
	if (secs != NULL)
		*secs = now() - t0;
	return r;
}

#define FAILED "Authentication failed"

static int
inner(const char *dir)
{
	char opts[512], path[512], reason[128], longname[300], *longpw;
	struct statfs sfs;
	double t_wrong = 0, t_bad = 0, t_unknown = 0;
	int r;

	/* Scratch space that lives and dies with this namespace. */
	if (mount("moat-pamtest", dir, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=16m,mode=0700") != 0) {
		fprintf(stderr, "mount tmpfs on %s: %s\n", dir, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/up", dir);
	if (mkdir(path, 0755) != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/work", dir);
	if (mkdir(path, 0755) != 0)
		return 1;
	snprintf(opts, sizeof(opts), "lowerdir=/etc,upperdir=%s/up,workdir=%s/work",
	    dir, dir);
	if (mount("overlay", "/etc", "overlay", 0, opts) != 0) {
		fprintf(stderr, "mount overlay on /etc: %s\n", strerror(errno));
		return 1;
	}
	/* Never create accounts unless /etc really is the overlay. */
	if (statfs("/etc", &sfs) != 0 || (unsigned long)sfs.f_type !=
	    (unsigned long)OVERLAYFS_MAGIC) {
		fprintf(stderr, "/etc is not the overlay; refusing to go on\n");
		return 1;
	}

	/* -l: no lastlog/faillog entries, which live outside /etc. */
	if (sh("useradd -l -M -s /usr/sbin/nologin " TEST_USER) != 0 ||
	    sh("useradd -l -M -s /usr/sbin/nologin " TEST_EXPIRED) != 0 ||
	    sh("useradd -l -M -s /usr/sbin/nologin " TEST_CHANGE) != 0 ||
	    sh("printf '%s\\n' " TEST_USER ":" TEST_PASS " " TEST_EXPIRED ":"
	    TEST_PASS " " TEST_CHANGE ":" TEST_PASS " | chpasswd") != 0 ||
	    sh("chage -E 0 " TEST_EXPIRED) != 0 ||
	    sh("chage -d 0 " TEST_CHANGE) != 0 ||
	    write_text("/etc/pam.d/" TEST_SERVICE, "auth required pam_unix.so\n"
	    "account required pam_unix.so\n") != 0 ||
	    write_text("/etc/pam.d/" TEST_SERVICE_ECHO, "auth optional "
	    "pam_echo.so moat test notice for %u\nauth required pam_unix.so\n"
	    "account required pam_unix.so\n") != 0) {
		fprintf(stderr, "cannot set up the test accounts\n");
		return 1;
	}

	r = try_auth(TEST_SERVICE, TEST_USER, TEST_PASS, reason, sizeof(reason),
	    NULL);
	CHECK(r == 0 && reason[0] == '\0', "r=%d reason='%s'", r, reason);
	r = auth_pam_password(TEST_SERVICE, TEST_USER, TEST_PASS, NULL, reason,
	    sizeof(reason));
	CHECK(r == 0, "no rhost: r=%d", r);
	r = try_auth(TEST_SERVICE_ECHO, TEST_USER, TEST_PASS, reason,
	    sizeof(reason), NULL);
	CHECK(r == 0, "with PAM_TEXT_INFO: r=%d", r);

	r = try_auth(TEST_SERVICE, TEST_USER, "wrong-pass", reason,
	    sizeof(reason), &t_wrong);
	CHECK(r == MOAT_ERR_AUTH && strcmp(reason, FAILED) == 0,
	    "r=%d reason='%s'", r, reason);
	r = try_auth(TEST_SERVICE, "moatnosuchuser", TEST_PASS, reason,
	    sizeof(reason), &t_unknown);
	CHECK(r == MOAT_ERR_AUTH && strcmp(reason, FAILED) == 0,
	    "r=%d reason='%s'", r, reason);

	r = try_auth(TEST_SERVICE, TEST_EXPIRED, TEST_PASS, reason,
	    sizeof(reason), NULL);
	CHECK(r == MOAT_ERR_AUTH && strcmp(reason, "Account expired") == 0,
	    "r=%d reason='%s'", r, reason);
	/* Without the password the account state is not revealed. */
	r = try_auth(TEST_SERVICE, TEST_EXPIRED, "wrong-pass", reason,
	    sizeof(reason), NULL);
	CHECK(r == MOAT_ERR_AUTH && strcmp(reason, FAILED) == 0,
	    "r=%d reason='%s'", r, reason);
	r = try_auth(TEST_SERVICE, TEST_CHANGE, TEST_PASS, reason,
	    sizeof(reason), NULL);
	CHECK(r == MOAT_ERR_AUTH && strcmp(reason, "Password change required")
	    == 0, "r=%d reason='%s'", r, reason);

	r = try_auth(TEST_SERVICE, TEST_USER, "", reason, sizeof(reason), NULL);
	CHECK(r == MOAT_ERR_AUTH && strcmp(reason, FAILED) == 0,
	    "empty password: r=%d reason='%s'", r, reason);
	r = try_auth(TEST_SERVICE, TEST_USER, NULL, reason, sizeof(reason), NULL);
	CHECK(r == MOAT_ERR_AUTH && strcmp(reason, FAILED) == 0,
	    "NULL password: r=%d", r);

	/*
	 * Bad names never reach PAM as such, but PAM still runs; every
	 * failure is answered moat's fixed 2 s after the last answer (PAM's
	 * own randomised delays are off), so a wrong password, an unknown
	 * user and a refused name cost the same time.
	 */
	r = try_auth(TEST_SERVICE, TEST_USER "\n", TEST_PASS, reason,
	    sizeof(reason), &t_bad);
	CHECK(r == MOAT_ERR_AUTH && strcmp(reason, FAILED) == 0,
	    "newline: r=%d reason='%s'", r, reason);
	CHECK(t_bad >= 2.0 && t_wrong >= 2.0 && t_unknown >= 2.0, "bad name "
	    "%.3fs, wrong password %.3fs, unknown user %.3fs", t_bad, t_wrong,
	    t_unknown);
	printf("timing: wrong password %.3fs, unknown user %.3fs, invalid user "
	    "name %.3fs\n", t_wrong, t_unknown, t_bad);
	r = try_auth(TEST_SERVICE, "moat\x1b[2Jtest", TEST_PASS, reason,
	    sizeof(reason), NULL);
	CHECK(r == MOAT_ERR_AUTH, "escape: r=%d", r);
	memset(longname, 'a', 256);
	longname[256] = '\0';
	r = try_auth(TEST_SERVICE, longname, TEST_PASS, reason, sizeof(reason),
	    NULL);
	CHECK(r == MOAT_ERR_AUTH && strcmp(reason, FAILED) == 0, "256: r=%d", r);
	r = try_auth(TEST_SERVICE, "", TEST_PASS, reason, sizeof(reason), NULL);
	CHECK(r == MOAT_ERR_AUTH, "empty user: r=%d", r);
	r = try_auth(TEST_SERVICE, NULL, TEST_PASS, reason, sizeof(reason), NULL);
	CHECK(r == MOAT_ERR_AUTH, "NULL user: r=%d", r);
	if ((longpw = malloc(4001)) != NULL) {
		memset(longpw, 'p', 4000);
		longpw[4000] = '\0';
		r = try_auth(TEST_SERVICE, TEST_USER, longpw, reason,
		    sizeof(reason), NULL);
		CHECK(r == MOAT_ERR_AUTH, "long password: r=%d", r);
		free(longpw);
	}

	/* Internal errors and a short reason buffer. */
	r = auth_pam_password(NULL, TEST_USER, TEST_PASS, NULL, reason,
	    sizeof(reason));
	CHECK(r != 0 && r != MOAT_ERR_AUTH, "NULL service: r=%d", r);
	r = auth_pam_password(TEST_SERVICE, TEST_USER, "wrong-pass", NULL,
	    reason, 5);
	CHECK(r == MOAT_ERR_AUTH && strcmp(reason, "Auth") == 0, "'%s'", reason);
	r = auth_pam_password(TEST_SERVICE, TEST_USER, TEST_PASS, NULL, NULL, 0);
	CHECK(r == 0, "NULL reason: r=%d", r);

	printf("inner: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}

/* 1 if the host's file at path mentions s. */
static int
file_mentions(const char *path, const char *s)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int found = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, s) != NULL)
			found = 1;
	fclose(f);
	return found;
}

static int
host_clean(void)
{
	struct stat st;

	return !file_mentions("/etc/passwd", "moattest") &&
	    !file_mentions("/etc/shadow", "moattest") &&
	    !file_mentions("/etc/group", "moattest") &&
	    stat("/etc/pam.d/" TEST_SERVICE, &st) != 0 &&
	    stat("/etc/pam.d/" TEST_SERVICE_ECHO, &st) != 0;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/moat-pamtest.XXXXXX";
	pid_t pid;
	int st;

	if (argc == 3 && strcmp(argv[1], "--inner") == 0)
		return inner(argv[2]);

#ifdef MOAT_SELFTEST
	test_conv();
#else
	printf("conversation tests skipped: needs MOAT_SELFTEST\n");
#endif
	if (geteuid() != 0) {
		printf("skipped: needs root\n");
		printf("%d passed, %d failed\n", passed, failed);
		return failed == 0 ? 0 : 1;
	}

	CHECK(host_clean(), "the host /etc already holds test accounts");
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return 1;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		CHECK(0, "fork: %s", strerror(errno));
		rmdir(dir);
		return 1;
	}
	if (pid == 0) {
		/* Same as `unshare -m --propagation private`, then a fresh image. */
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
			fprintf(stderr, "unshare: %s\n", strerror(errno));
			_exit(2);
		}
		execl("/proc/self/exe", argv[0], "--inner", dir, (char *)NULL);
		fprintf(stderr, "exec: %s\n", strerror(errno));
		_exit(2);
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "inner test status %d", st);
	/* The accounts and service files existed only in the namespace. */
	CHECK(host_clean(), "the host /etc was modified");
	CHECK(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));

	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
