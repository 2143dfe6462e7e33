/*
 * test_vault.c - moat-viewer's password vault (viewer/vault.c): round
 * trips with AES-128-GCM and AES-256-GCM, the key from PBKDF2 with at
 * least 600000 iterations; a wrong master password is rejected; every
 * truncation and every bit flip of a sealed vault fails closed (nothing
 * returned); no plaintext in the file; saving is mode 0600 and atomic: a
 * write that fails half-way (file size limit) or a crash that left a
 * temporary file behind leaves the old vault intact. Test code.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "privsep/errors.h"
#include "viewer/atomic.h"
#include "viewer/vault.h"

static char dir[] = "/tmp/test_vault.XXXXXX";

static int
open_with(const uint8_t *d, size_t len, const char *master, struct vault *v)
{
	struct vault_hdr h;
	uint8_t key[32];
	int r;

	if ((r = vault_parse_header(d, len, &h)) != 0)
		return r;
	if ((r = vault_derive_key(master, &h, key)) != 0)
		return r;
	return vault_open(d, len, key, v);
}

static int
contains(const uint8_t *d, size_t len, const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(d + i, s, n) == 0)
			return 1;
	return 0;
}

static void
test_round_trip(int aes256)
{
	struct vault v, back;
	struct buf out;
	const struct vault_entry *e;

	CHECK(vault_create(&v, "master pw", aes256) == 0);
	CHECK(v.hdr.iter >= 600000 && v.hdr.cipher == (aes256 ? 2 : 1));
	CHECK(vault_set(&v, "host.example:5900", "alice", "s3cret-one") == 0);
	CHECK(vault_set(&v, "[::1]:5901", "bob", "") == 0);
	CHECK(vault_set(&v, "host.example:5900", "alice", "s3cret-two") == 0 &&
	    v.n == 2, "replaces");
	buf_init(&out, VAULT_MAX_FILE);
	CHECK(vault_seal(&v, &out) == 0);
	CHECK(!contains(buf_ptr(&out), buf_len(&out), "s3cret-two") &&
	    !contains(buf_ptr(&out), buf_len(&out), "alice") &&
	    !contains(buf_ptr(&out), buf_len(&out), "host.example"),
	    "no plaintext in the sealed vault");
	CHECK(open_with(buf_ptr(&out), buf_len(&out), "master pw", &back) == 0);
	e = vault_find(&back, "host.example:5900");
	CHECK(back.n == 2 && e != NULL && strcmp(e->user, "alice") == 0 &&
	    strcmp(e->pass, "s3cret-two") == 0);
	e = vault_find(&back, "[::1]:5901");
	CHECK(e != NULL && strcmp(e->user, "bob") == 0 && e->pass[0] == '\0');
	vault_free(&back);
	CHECK(open_with(buf_ptr(&out), buf_len(&out), "master pw!", &back) ==
	    MOAT_ERR_AUTH && back.n == 0 && back.e == NULL,
	    "a wrong master password is rejected");
	buf_free(&out);
	vault_free(&v);
}

/* Every truncation and every bit flip fails, with nothing returned. */
static void
test_mutations(void)
{
	struct vault v, back;
	struct buf out;
	uint8_t key[32], *m;
	size_t len, i;
	int bit, r, ok = 1;

	CHECK(vault_create(&v, "m", 0) == 0);
	CHECK(vault_set(&v, "a:1", "u", "p1") == 0);
	CHECK(vault_set(&v, "b:2", "user", "password two") == 0);
	memcpy(key, v.key, sizeof(key));
	buf_init(&out, VAULT_MAX_FILE);
	CHECK(vault_seal(&v, &out) == 0);
	len = buf_len(&out);
	m = malloc(len);
	CHECK(vault_open(buf_ptr(&out), len, key, &back) == 0 && back.n == 2);
	vault_free(&back);
	for (i = 0; i < len; i++) {
		r = vault_open(buf_ptr(&out), i, key, &back);
		if (r == 0 || back.n != 0 || back.e != NULL) {
			ok = 0;
			fprintf(stderr, "truncation to %zu: %d\n", i, r);
		}
		vault_free(&back);
	}
	CHECK(ok, "every truncation fails closed");
	ok = 1;
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(m, buf_ptr(&out), len);
			m[i] ^= (uint8_t)(1 << bit);
			r = vault_open(m, len, key, &back);
			if (r == 0 || back.n != 0 || back.e != NULL) {
				ok = 0;
				fprintf(stderr, "flip %zu/%d: %d\n", i, bit, r);
			}
			vault_free(&back);
		}
	}
	CHECK(ok, "every bit flip fails closed");
	memcpy(m, buf_ptr(&out), len);
	m[10] = m[11] = m[12] = 0;
	m[13] = 1;	/* one iteration */
	CHECK(vault_open(m, len, key, &back) == MOAT_ERR_INVALID,
	    "a header weakening the KDF is refused");
	m = realloc(m, len + 1);
	CHECK(m != NULL);
	if (m != NULL) {
		memcpy(m, buf_ptr(&out), len);
		m[len] = 0;
		CHECK(vault_open(m, len + 1, key, &back) == MOAT_ERR_TRAILING,
		    "a trailing byte is refused");
	}
	free(m);
	buf_free(&out);
	vault_free(&v);
}

static void
test_limits(void)
{
	struct vault v;
	char big[VAULT_MAX_CRED + 2];

	memset(&v, 0, sizeof(v));
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	CHECK(vault_set(&v, "h:1", big, "p") == MOAT_ERR_TOO_LONG);
	CHECK(vault_set(&v, "h:1", "u", big) == MOAT_ERR_TOO_LONG);
	CHECK(vault_set(&v, "", "u", "p") == MOAT_ERR_INVALID);
	CHECK(vault_remove(&v, "h:1") == MOAT_ERR_INVALID);
	CHECK(vault_set(&v, "h:1", "u", "p") == 0 &&
	    vault_set(&v, "h:2", "u", "p") == 0 &&
	    vault_remove(&v, "h:1") == 0 && v.n == 1 &&
	    vault_find(&v, "h:2") != NULL && vault_find(&v, "h:1") == NULL);
	vault_free(&v);
}

static int
file_equals(const char *path, const unsigned char *want, size_t wlen)
{
	unsigned char *d;
	size_t len;
	int same;

	if (viewer_read_file(path, VAULT_MAX_FILE, &d, &len) != 0)
		return 0;
	same = len == wlen && memcmp(d, want, len) == 0;
	free(d);
	return same;
}

static void
test_files(void)
{
	char path[128], tmp[192];
	unsigned char *old;
	size_t oldlen;
	struct vault v, back;
	struct stat st;
	pid_t pid;
	int status;
	FILE *f;

	snprintf(path, sizeof(path), "%s/sub/vault", dir);
	CHECK(vault_load(path, "m", &back) == MOAT_ERR_EOF);
	CHECK(vault_create(&v, "m", 1) == 0);
	CHECK(vault_set(&v, "h:1", "u", "first password") == 0);
	CHECK(vault_save(path, &v) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(vault_load(path, "m", &back) == 0 && back.n == 1);
	vault_free(&back);
	CHECK(vault_load(path, "wrong", &back) == MOAT_ERR_AUTH);
	CHECK(viewer_read_file(path, VAULT_MAX_FILE, &old, &oldlen) == 0);

	/* A write that fails half-way: the old vault is intact. */
	CHECK(vault_set(&v, "h:2", "u2", "second password") == 0);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct rlimit rl = { 64, 64 };

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		_exit(vault_save(path, &v) == 0 ? 0 : 3);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 3,
	    "the limited write failed");
	CHECK(file_equals(path, old, oldlen), "the old vault is intact");
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)pid);
	CHECK(access(tmp, F_OK) != 0, "the failed write removed its temporary");

	/* A crash between write and rename left a temporary behind. */
	if ((pid = fork()) == 0) {
		pause();
		_exit(0);
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)pid);
	f = fopen(tmp, "w");
	CHECK(f != NULL && fwrite("MOATVLT1 half", 1, 13, f) == 13);
	if (f != NULL)
		fclose(f);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK(vault_load(path, "m", &back) == 0 && back.n == 1,
	    "after a crash the old vault still opens");
	vault_free(&back);
	CHECK(vault_save(path, &v) == 0 && vault_load(path, "m", &back) == 0 &&
	    back.n == 2, "and the next save works");
	vault_free(&back);
	unlink(tmp);

	/* Tampered and truncated files on disk fail closed. */
	f = fopen(path, "r+");
	CHECK(f != NULL && fseek(f, -1, SEEK_END) == 0 && fputc('X', f) != EOF);
	if (f != NULL)
		fclose(f);
	CHECK(vault_load(path, "m", &back) == MOAT_ERR_CRYPTO && back.n == 0);
	CHECK(truncate(path, 60) == 0);
	CHECK(vault_load(path, "m", &back) == MOAT_ERR_SHORT && back.n == 0);
	free(old);
	vault_free(&v);
}

int
main(void)
{
	char cmd[128];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_round_trip(0);
	test_round_trip(1);
	test_mutations();
	test_limits();
	test_files();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_summary();
}
