/*
 * test_audit_file.c - the audit file writer (monitor/audit_file.c) and its
 * verifier (monitor/audit_verify.c): chains, checkpoints, resumption,
 * rotation (also while a reader verifies concurrently), and every kind of
 * tampering, each named at the right line. Test code; runs as root in
 * temporary directories under /tmp.
 *
 * With "--sample DIR" it writes a small rotated audit set and its key
 * into DIR for tests/e2e/test_audit_cli.sh; with "--corpus DIR" it writes
 * the seeds of fuzz/corpus/audit_verify (signed with the fuzz target's
 * fixed key).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "monitor/audit_file.h"
#include "monitor/audit_verify.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "check.h"

#define MAXFILES	2048

static char dir[64];
static char path[128], keypath[128];
static EVP_PKEY *pub;

/* The fuzz target's fixed key (fuzz/fuzz_audit_verify.c): seed bytes 1..32. */
static EVP_PKEY *
fixed_key(void)
{
	unsigned char seed[32];
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (unsigned char)(i + 1);
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
}

static void
write_key(const char *p, EVP_PKEY *k)
{
	FILE *f;
	int fd;

	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	f = fdopen(fd, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static void
new_dir(void)
{
	EVP_PKEY_free(pub);
	pub = NULL;
	snprintf(dir, sizeof(dir), "/tmp/moat-audit-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/log/audit.jsonl", dir);
	snprintf(keypath, sizeof(keypath), "%s/audit.key", dir);
}

static void
rm_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static struct audit_file *
open_af(uint32_t cp, uint64_t rot, uint32_t keep)
{
	struct audit_file_opts o = { path, keypath, cp, rot, keep };
	struct audit_file *af = NULL;
	int r;

	r = audit_file_open(&af, &o);
	CHECK(r == 0, "audit_file_open: %s", moat_strerror(r));
	if (pub == NULL && r == 0) {
		char err[256];

		CHECK(audit_key_load_public(keypath, &pub, err, sizeof(err)) == 0,
		    "%s", err);
	}
	return af;
}

static int
append_n(struct audit_file *af, int first, int n)
{
	char ev[256];
	int i, len, r;

	for (i = first; i < first + n; i++) {
		len = snprintf(ev, sizeof(ev), "{\"ts\":\"2026-11-23T01:02:%02d.%03dZ\","
		    "\"event\":\"%s\",\"session\":%d,\"peer_addr\":\"10.0.0.%d\","
		    "\"peer_port\":5900,\"user\":\"%s\",\"n\":%d}", i % 60, i % 1000,
		    i % 3 ? "connect" : "login", i, i % 250, i % 2 ? "alice" : "bob", i);
		if ((r = audit_file_append(af, ev, (size_t)len, i % 10 == 0)) != 0)
			return r;
	}
	return 0;
}

/* Lists PATH.k .. PATH.1, PATH (oldest first) into names; returns the count. */
static size_t
list_files(char names[][160], size_t max)
{
	struct stat st;
	size_t k = 0, n = 0, i;

	while (k + 1 < max) {
		snprintf(names[0], 160, "%s.%zu", path, k + 1);
		if (stat(names[0], &st) != 0)
			break;
		k++;
	}
	for (i = k; i >= 1; i--)
		snprintf(names[n++], 160, "%s.%zu", path, i);
	snprintf(names[n++], 160, "%s", path);
	return n;
}

static int
verify_set(struct audit_verify_report *rep, int flags)
{
	static char names[MAXFILES][160];
	const char *p[MAXFILES];
	size_t n, i;

	n = list_files(names, MAXFILES);
	for (i = 0; i < n; i++)
		p[i] = names[i];
	return audit_verify_paths(p, n, pub, flags, rep);
}

/* --- in-memory files as arrays of lines --- */

struct lines {
	char *l[4096];
	size_t n;
	int torn;	/* the last line has no newline */
};

static void
load_lines(const char *p, struct lines *L)
{
	char *data, *s, *nl;
	size_t len;

	memset(L, 0, sizeof(*L));
	if (audit_read_file(p, 1 << 26, &data, &len) != 0)
		return;
	s = data;
	while (s < data + len && L->n < 4096) {
		nl = memchr(s, '\n', (size_t)(data + len - s));
		if (nl == NULL) {
			L->l[L->n++] = strndup(s, (size_t)(data + len - s));
			L->torn = 1;
			break;
		}
		L->l[L->n++] = strndup(s, (size_t)(nl - s));
		s = nl + 1;
	}
	free(data);
}

static void
free_lines(struct lines *L)
{
	size_t i;

	for (i = 0; i < L->n; i++)
		free(L->l[i]);
	L->n = 0;
}

static char *
join(const struct lines *L, size_t *len)
{
	size_t i, n = 0;
	char *d;

	for (i = 0; i < L->n; i++)
		n += strlen(L->l[i]) + 1;
	d = malloc(n + 1);
	n = 0;
	for (i = 0; i < L->n; i++) {
		size_t k = strlen(L->l[i]);

		memcpy(d + n, L->l[i], k);
		n += k;
		if (i + 1 < L->n || !L->torn)
			d[n++] = '\n';
	}
	*len = n;
	return d;
}

/* Verifies up to three in-memory files; returns the report. */
static struct audit_verify_report
verify_mem(int flags, const struct lines *a, const struct lines *b,
    const struct lines *c)
{
	const struct lines *set[3] = { a, b, c };
	static const char *names[3] = { "A", "B", "C" };
	struct audit_verify_report rep;
	struct audit_verifier *v;
	size_t i, n, len;
	char *d;

	for (n = 0; n < 3 && set[n] != NULL; n++)
		;
	audit_verifier_new(&v, pub, flags);
	for (i = 0; i < n; i++) {
		d = join(set[i], &len);
		if (audit_verifier_file(v, names[i], d, len, i + 1 == n) != 0)
			i = n;	/* stop */
		free(d);
	}
	audit_verifier_report(v, &rep);
	audit_verifier_free(v);
	return rep;
}

/* Recomputes the hash of a (modified) line so that only the chain or the signature can tell. */
static void
rehash(char *line)
{
	size_t len = strlen(line);
	char h[AUDIT_HASH_HEX + 1];

	audit_sha256_hex(line, len - AUDIT_HASH_SUFFIX, h);
	memcpy(line + len - AUDIT_HASH_HEX - 2, h, AUDIT_HASH_HEX);
}

static void
expect(const struct audit_verify_report *rep, int fault, const char *file,
    uint64_t line, const char *what)
{
	CHECK(rep->fault == fault && strcmp(rep->file, file) == 0 &&
	    rep->line == line, "%s: want fault %d at %s:%llu, got %d at %s:%llu "
	    "(%s)", what, fault, file, (unsigned long long)line, rep->fault,
	    rep->file, (unsigned long long)rep->line, rep->msg);
}

static void
dup_lines(struct lines *dst, const struct lines *src)
{
	size_t i;

	*dst = *src;
	for (i = 0; i < src->n; i++)
		dst->l[i] = strdup(src->l[i]);
}

static void
del_line(struct lines *L, size_t i)
{
	free(L->l[i]);
	memmove(&L->l[i], &L->l[i + 1], (L->n - i - 1) * sizeof(L->l[0]));
	L->n--;
}

static void
test_basic_and_tampering(void)
{
	struct audit_verify_report rep;
	struct audit_file *af;
	struct lines L, T;
	char *p, *tmp;
	size_t i, cp = 0;

	new_dir();
	af = open_af(5, 0, 3);
	CHECK(append_n(af, 1, 20) == 0);
	CHECK(audit_file_seq(af) == 1 + 20 + 4, "seq %llu",
	    (unsigned long long)audit_file_seq(af));
	audit_file_close(af);
	CHECK(verify_set(&rep, 0) == 0, "%s:%llu %s", rep.file,
	    (unsigned long long)rep.line, rep.msg);
	/* chain start, 20 events, 4 periodic + 1 final checkpoint */
	CHECK(rep.records == 26 && rep.checkpoints == 5 && rep.last_seq == 26 &&
	    rep.first_seq == 1 && !rep.starts_linked, "records %llu cps %llu",
	    (unsigned long long)rep.records, (unsigned long long)rep.checkpoints);

	load_lines(path, &L);
	CHECK(L.n == 26 && !L.torn);
	rep = verify_mem(0, &L, NULL, NULL);
	CHECK(rep.fault == AUDIT_OK, "%s", rep.msg);

	/* edit one byte of a field */
	dup_lines(&T, &L);
	p = strstr(T.l[4], "\"user\":\"");
	CHECK(p != NULL);
	if (p != NULL)
		p[8] ^= 1;
	rep = verify_mem(0, &T, NULL, NULL);
	expect(&rep, AUDIT_F_MODIFIED, "A", 5, "edit");
	/* the same edit with the hash recomputed: the next record's prev tells */
	rehash(T.l[4]);
	rep = verify_mem(0, &T, NULL, NULL);
	expect(&rep, AUDIT_F_SEQUENCE, "A", 6, "edit+rehash");
	free_lines(&T);

	/* delete a line */
	dup_lines(&T, &L);
	del_line(&T, 4);
	rep = verify_mem(0, &T, NULL, NULL);
	expect(&rep, AUDIT_F_SEQUENCE, "A", 5, "delete");
	free_lines(&T);

	/* swap two lines */
	dup_lines(&T, &L);
	tmp = T.l[7];
	T.l[7] = T.l[8];
	T.l[8] = tmp;
	rep = verify_mem(0, &T, NULL, NULL);
	expect(&rep, AUDIT_F_SEQUENCE, "A", 8, "swap");
	free_lines(&T);

	/* insert a copied line */
	dup_lines(&T, &L);
	memmove(&T.l[6], &T.l[5], (T.n - 5) * sizeof(T.l[0]));
	T.l[5] = strdup(T.l[2]);
	T.n++;
	rep = verify_mem(0, &T, NULL, NULL);
	expect(&rep, AUDIT_F_SEQUENCE, "A", 6, "insert");
	free_lines(&T);

	/* duplicate the record just before */
	dup_lines(&T, &L);
	memmove(&T.l[6], &T.l[5], (T.n - 5) * sizeof(T.l[0]));
	T.l[5] = strdup(T.l[4]);
	T.n++;
	rep = verify_mem(0, &T, NULL, NULL);
	expect(&rep, AUDIT_F_SEQUENCE, "A", 6, "duplicate");
	free_lines(&T);

	/* truncate the last line in the middle */
	dup_lines(&T, &L);
	T.l[T.n - 1][40] = '\0';
	T.torn = 1;
	rep = verify_mem(0, &T, NULL, NULL);
	expect(&rep, AUDIT_F_TRUNCATED, "A", 26, "torn last line");
	/* live: a line being written is not an error */
	rep = verify_mem(AUDIT_VERIFY_LIVE, &T, NULL, NULL);
	CHECK(rep.fault == AUDIT_OK && rep.unsigned_tail == 1, "%s", rep.msg);
	free_lines(&T);

	/* truncate whole lines */
	dup_lines(&T, &L);
	del_line(&T, T.n - 1);
	rep = verify_mem(0, &T, NULL, NULL);
	expect(&rep, AUDIT_F_TRUNCATED, "A", 25, "truncated lines");
	CHECK(strstr(rep.msg, "truncated or still open after record 25") != NULL,
	    "%s", rep.msg);
	rep = verify_mem(AUDIT_VERIFY_LIVE, &T, NULL, NULL);
	CHECK(rep.fault == AUDIT_OK && rep.unsigned_tail == 1, "tail %llu %s",
	    (unsigned long long)rep.unsigned_tail, rep.msg);
	/* ending on a periodic (not final) checkpoint is truncated too */
	del_line(&T, T.n - 1);
	CHECK(strstr(T.l[T.n - 1], "\"final\":0") != NULL);
	rep = verify_mem(0, &T, NULL, NULL);
	expect(&rep, AUDIT_F_TRUNCATED, "A", 24, "truncated to a checkpoint");
	free_lines(&T);

	/* delete the first record */
	dup_lines(&T, &L);
	del_line(&T, 0);
	rep = verify_mem(0, &T, NULL, NULL);
	expect(&rep, AUDIT_F_START, "A", 1, "front deleted");
	free_lines(&T);

	/* bad signature: flip a byte of a checkpoint's signature, rehash */
	for (i = 0; i < L.n; i++)
		if (strstr(L.l[i], "\"event\":\"checkpoint\"") != NULL && ++cp == 2)
			break;
	dup_lines(&T, &L);
	p = strstr(T.l[i], "\"sig\":\"");
	CHECK(p != NULL);
	if (p != NULL)
		p[7 + 10] = p[7 + 10] == '0' ? '1' : '0';
	rehash(T.l[i]);
	rep = verify_mem(0, &T, NULL, NULL);
	expect(&rep, AUDIT_F_SIGNATURE, "A", i + 1, "bad signature");
	free_lines(&T);
	/* the final checkpoint, so no later prev can tell */
	dup_lines(&T, &L);
	p = strstr(T.l[T.n - 1], "\"sig\":\"");
	if (p != NULL)
		p[7 + 100] = p[7 + 100] == 'a' ? 'b' : 'a';
	rehash(T.l[T.n - 1]);
	rep = verify_mem(0, &T, NULL, NULL);
	expect(&rep, AUDIT_F_SIGNATURE, "A", 26, "bad final signature");
	free_lines(&T);

	/* another key */
	for (i = 0; i < L.n; i++)
		if (strstr(L.l[i], "\"event\":\"checkpoint\"") != NULL)
			break;
	{
		EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *save = pub;
		unsigned char raw[32];
		size_t rl = 32;

		EVP_PKEY_get_raw_public_key(other, raw, &rl);
		pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, rl);
		rep = verify_mem(0, &L, NULL, NULL);
		expect(&rep, AUDIT_F_SIGNATURE, "A", i + 1, "other key");
		EVP_PKEY_free(pub);
		EVP_PKEY_free(other);
		pub = save;
	}
	free_lines(&L);
	rm_dir();
}

/* Every single-byte change and every truncation of a small file is detected. */
static void
test_mutations(void)
{
	struct audit_verifier *v;
	struct audit_verify_report rep;
	struct audit_file *af;
	static const unsigned char flips[] = { 0x01, 0x20, 0x80, 0xff };
	char *data, *m;
	size_t len, i, k, undetected = 0;

	new_dir();
	af = open_af(2, 0, 3);
	CHECK(append_n(af, 1, 3) == 0);
	audit_file_close(af);
	CHECK(audit_read_file(path, 1 << 20, &data, &len) == 0);
	m = malloc(len);
	for (i = 0; i < len; i++)
		for (k = 0; k < sizeof(flips); k++) {
			memcpy(m, data, len);
			m[i] ^= (char)flips[k];
			audit_verifier_new(&v, pub, 0);
			if (audit_verifier_file(v, "M", m, len, 1) == 0) {
				undetected++;
				fprintf(stderr, "flip %02x at byte %zu undetected\n",
				    flips[k], i);
			}
			audit_verifier_report(v, &rep);
			audit_verifier_free(v);
		}
	CHECK(undetected == 0, "%zu byte flips undetected", undetected);
	undetected = 0;
	for (i = 0; i < len; i++) {
		audit_verifier_new(&v, pub, 0);
		if (audit_verifier_file(v, "M", data, i, 1) == 0)
			undetected++;
		audit_verifier_free(v);
	}
	CHECK(undetected == 0, "%zu truncations undetected", undetected);
	free(m);
	free(data);
	rm_dir();
}

static void
test_resume_and_recovery(void)
{
	struct audit_verify_report rep;
	struct audit_file *af;
	char p1[160];
	const char *two[2];
	pid_t pid;
	int st, fd;

	new_dir();
	af = open_af(100, 0, 3);
	CHECK(append_n(af, 1, 10) == 0);
	audit_file_close(af);
	/* clean reopen continues in the same file */
	af = open_af(100, 0, 3);
	CHECK(audit_file_seq(af) == 12);
	CHECK(append_n(af, 11, 10) == 0);
	audit_file_close(af);
	CHECK(verify_set(&rep, 0) == 0 && rep.records == 23 && rep.checkpoints == 2,
	    "%s records %llu", rep.msg, (unsigned long long)rep.records);

	/* a crash: the writer exits without closing */
	pid = fork();
	if (pid == 0) {
		af = open_af(100, 0, 3);
		append_n(af, 21, 5);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	CHECK(verify_set(&rep, 0) != 0 && rep.fault == AUDIT_F_TRUNCATED &&
	    rep.line == 28, "%s:%llu %s", rep.file, (unsigned long long)rep.line,
	    rep.msg);
	CHECK(verify_set(&rep, AUDIT_VERIFY_LIVE) == 0 && rep.unsigned_tail == 5,
	    "%s tail %llu", rep.msg, (unsigned long long)rep.unsigned_tail);
	af = open_af(100, 0, 3);
	audit_file_close(af);
	CHECK(verify_set(&rep, 0) == 0 && rep.records == 30, "%s records %llu",
	    rep.msg, (unsigned long long)rep.records);

	/* a torn last line */
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(write(fd, "{\"seq\":31,\"prev\":\"ab", 20) == 20);
	close(fd);
	CHECK(verify_set(&rep, 0) != 0 && rep.fault == AUDIT_F_TRUNCATED &&
	    rep.line == 31, "%s:%llu %s", rep.file, (unsigned long long)rep.line,
	    rep.msg);
	af = open_af(100, 0, 3);
	CHECK(af != NULL && audit_file_seq(af) == 32);	/* link + recovered */
	CHECK(append_n(af, 100, 3) == 0);
	audit_file_close(af);
	CHECK(verify_set(&rep, 0) == 0 && rep.recovered == 1 && rep.records == 36,
	    "%s records %llu", rep.msg, (unsigned long long)rep.records);
	/* the torn file alone is still reported */
	snprintf(p1, sizeof(p1), "%s.1", path);
	two[0] = p1;
	CHECK(audit_verify_paths(two, 1, pub, 0, &rep) != 0 &&
	    rep.fault == AUDIT_F_TRUNCATED && rep.line == 31);
	/* the new file alone starts with a link */
	two[0] = path;
	CHECK(audit_verify_paths(two, 1, pub, 0, &rep) == 0 && rep.starts_linked);

	/* a damaged last line: the writer refuses */
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(write(fd, "{\"seq\":1}\n", 10) == 10);
	close(fd);
	{
		struct audit_file_opts o = { path, keypath, 100, 0, 3 };

		CHECK(audit_file_open(&af, &o) == MOAT_ERR_INVALID);
	}
	/* loose key and file modes are refused */
	chmod(keypath, 0640);
	{
		struct audit_file_opts o = { path, keypath, 100, 0, 3 };

		CHECK(audit_file_open(&af, &o) == MOAT_ERR_CONFIG);
		chmod(keypath, 0600);
		chmod(dir, 0777);
		CHECK(audit_file_open(&af, &o) == MOAT_ERR_CONFIG);
		chmod(dir, 0700);
	}
	rm_dir();
}

static void
test_rotation_and_splice(void)
{
	static char names[MAXFILES][160], other[MAXFILES][160];
	struct audit_verify_report rep;
	struct audit_file *af;
	const char *p[MAXFILES];
	char keep_path[128], keep_dir[64];
	size_t n, i, no;

	new_dir();
	af = open_af(7, 3000, 50);
	CHECK(append_n(af, 1, 200) == 0);
	CHECK(audit_file_rotate(af) == 0);
	CHECK(append_n(af, 201, 3) == 0);
	audit_file_close(af);
	n = list_files(names, MAXFILES);
	CHECK(n > 5, "%zu files", n);
	CHECK(verify_set(&rep, 0) == 0 && rep.first_seq == 1, "%s:%llu %s",
	    rep.file, (unsigned long long)rep.line, rep.msg);
	for (i = 0; i < n; i++)
		p[i] = names[i];
	/* out of order */
	p[1] = names[2];
	p[2] = names[1];
	CHECK(audit_verify_paths(p, n, pub, 0, &rep) != 0 &&
	    rep.fault == AUDIT_F_LINK && rep.line == 1 &&
	    strcmp(rep.file, names[2]) == 0,
	    "%d %s:%llu %s", rep.fault, rep.file, (unsigned long long)rep.line,
	    rep.msg);
	/* a file missing in the middle */
	for (i = 0; i < n; i++)
		p[i] = names[i];
	p[2] = names[3];
	CHECK(audit_verify_paths(p, n - 1, pub, 0, &rep) != 0 &&
	    rep.fault == AUDIT_F_LINK && rep.line == 1);
	/* the oldest file missing: still intact, starts with a link */
	for (i = 0; i < n; i++)
		p[i] = names[i];
	CHECK(audit_verify_paths(p + 1, n - 1, pub, 0, &rep) == 0 &&
	    rep.starts_linked, "%s", rep.msg);

	/* splice: a second chain, with the same key, after the first */
	snprintf(keep_dir, sizeof(keep_dir), "%s", dir);
	snprintf(keep_path, sizeof(keep_path), "%s", keypath);
	new_dir();
	snprintf(keypath, sizeof(keypath), "%s", keep_path);
	af = open_af(7, 3000, 50);
	CHECK(append_n(af, 1, 100) == 0);
	audit_file_close(af);
	no = list_files(other, MAXFILES);
	CHECK(no > 2);
	p[0] = names[0];
	p[1] = other[1];
	CHECK(audit_verify_paths(p, 2, pub, 0, &rep) != 0 &&
	    rep.fault == AUDIT_F_LINK && rep.line == 1, "%s", rep.msg);
	p[0] = other[0];
	p[1] = names[1];
	CHECK(audit_verify_paths(p, 2, pub, 0, &rep) != 0 &&
	    rep.fault == AUDIT_F_LINK && rep.line == 1, "%s", rep.msg);
	/* the second chain's first file after the first chain's: seq 1 is no link */
	p[0] = names[0];
	p[1] = other[0];
	CHECK(audit_verify_paths(p, 2, pub, 0, &rep) != 0 &&
	    rep.fault == AUDIT_F_LINK && rep.line == 1, "%s", rep.msg);
	rm_dir();
	snprintf(dir, sizeof(dir), "%s", keep_dir);
	rm_dir();
}

static void
test_hostile_strings(void)
{
	static const char *bad[] = {
		"{\"event\":\"x\",\"user\":\"a\x01\"}",		/* raw control */
		"{\"event\":\"x\",\"user\":\"\xff\xfe\"}",	/* invalid UTF-8 */
		"{\"event\":\"x\",\"user\":\"\xc0\xaf\"}",	/* overlong */
		"{\"event\":\"x\",\"user\":\"\xed\xa0\x80\"}",	/* surrogate */
		"{\"event\":\"x\",\"user\":{\"a\":1}}",		/* nesting */
		"{\"event\":\"x\",\"n\":1.5}",			/* float */
		"{\"event\":\"x\",\"n\":01}",
		"{\"event\":\"x\",\"event\":\"y\"}",		/* duplicate */
		"{\"event\":\"x\",\"seq\":3}",			/* reserved */
		"{\"event\":\"x\",\"hash\":\"a\"}",
		"{\"event\":\"x\",\"user\":\"a\\q\"}",		/* bad escape */
		"{\"event\":\"x\",\"us er\":\"a\"}",		/* key */
		"{\"event\":\"x\"}\n",
		"{\"event\":\"x\",}",
		"[1]",
		"{}",						/* no event */
		"",
	};
	static const char *good[] = {
		"{\"event\":\"x\",\"user\":\"q\\\"uo\\\\te\\u0000\\u001b[31m\\n\"}",
		"{\"event\":\"x\",\"user\":\"\xc3\xa9\xe2\x80\xae\xf0\x9f\x98\x80\"}",
		"{ \"event\" : \"x\" , \"b\":true,\"c\":null,\"d\":-5 }",
	};
	struct audit_verify_report rep;
	struct audit_file *af;
	struct audit_jobj o;
	static const char alphabet[] = "{}\":,\\u0123456789abcdefseqprevhash\n";
	char out[256], junk[512];
	size_t i, k;

	new_dir();
	af = open_af(3, 0, 3);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(audit_file_append(af, bad[i], strlen(bad[i]), 0) != 0,
		    "bad[%zu] accepted", i);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(audit_file_append(af, good[i], strlen(good[i]), 1) == 0,
		    "good[%zu] refused", i);
	audit_file_close(af);
	CHECK(verify_set(&rep, 0) == 0, "%s", rep.msg);
	CHECK(audit_json_parse(good[0], strlen(good[0]), &o) == 0 &&
	    audit_json_unescape(audit_obj_get(&o, "user"), out, sizeof(out)) == 0 &&
	    strcmp(out, "q\"uo\\te\\u0000\x1b[31m\n") == 0, "%s", out);
	/* random junk lines never crash the verifier */
	srandom(7);
	for (i = 0; i < 2000; i++) {
		struct audit_verifier *v;
		size_t n = (size_t)random() % sizeof(junk);

		for (k = 0; k < n; k++)
			junk[k] = (char)(random() % 4 ?
			    alphabet[random() % (sizeof(alphabet) - 1)] : random());
		audit_verifier_new(&v, pub, i % 2);
		(void)audit_verifier_file(v, "J", junk, n, 1);
		audit_verifier_free(v);
	}
	CHECK(1);
	rm_dir();
}

/* Many records, a tiny rotation size, a concurrent reader: no record lost. */
static void
test_rotation_under_load(void)
{
	static char names[MAXFILES][160];
	static unsigned char seen_seq[40000], seen_n[20001];
	struct audit_verify_report rep;
	struct audit_file *af;
	struct lines L;
	const char *one[1];
	size_t n, i, j, passes = 0, fails = 0;
	uint64_t total = 0, seq;
	pid_t pid;
	int st, r, done = 0;

	new_dir();
	af = open_af(100, 0, 3);	/* create the key and the chain start */
	audit_file_close(af);
	pid = fork();
	if (pid == 0) {
		af = open_af(100, 65536, 1000);
		r = af == NULL ? 1 : append_n(af, 1, 20000);
		audit_file_close(af);
		_exit(r == 0 ? 0 : 1);
	}
	one[0] = path;
	while (!done) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			done = 1;
		if (audit_verify_paths(one, 1, pub, AUDIT_VERIFY_LIVE, &rep) == 0)
			passes++;
		else if (rep.fault != AUDIT_F_IO) {
			fails++;
			fprintf(stderr, "concurrent verify: %s:%llu %s\n", rep.file,
			    (unsigned long long)rep.line, rep.msg);
		}
	}
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(passes > 0 && fails == 0, "passes %zu fails %zu", passes, fails);
	CHECK(verify_set(&rep, 0) == 0, "%s:%llu %s", rep.file,
	    (unsigned long long)rep.line, rep.msg);
	n = list_files(names, MAXFILES);
	CHECK(n > 20, "%zu files", n);
	for (i = 0; i < n; i++) {
		load_lines(names[i], &L);
		for (j = 0; j < L.n; j++) {
			struct audit_jobj o;
			const struct audit_jfield *f;

			if (audit_json_parse(L.l[j], strlen(L.l[j]), &o) != 0)
				continue;
			seq = (uint64_t)o.f[0].num;
			if (seq < sizeof(seen_seq))
				seen_seq[seq]++;
			if ((f = audit_obj_get(&o, "n")) != NULL &&
			    f->num >= 1 && f->num <= 20000)
				seen_n[f->num]++;
			total++;
		}
		free_lines(&L);
	}
	CHECK(total == rep.last_seq, "total %llu last %llu",
	    (unsigned long long)total, (unsigned long long)rep.last_seq);
	for (i = 1, j = 0; i <= total && i < sizeof(seen_seq); i++)
		j += seen_seq[i] != 1;
	CHECK(j == 0, "%zu seqs not seen exactly once", j);
	for (i = 1, j = 0; i <= 20000; i++)
		j += seen_n[i] != 1;
	CHECK(j == 0, "%zu events not seen exactly once", j);
	rm_dir();
}

/* Writes a small rotated set signed with the fixed key, for the CLI test and the corpus. */
static int
write_sample(const char *d, int corpus)
{
	EVP_PKEY *k = fixed_key();
	struct audit_file *af;
	char cmd[512];
	const char *ev = "{\"ts\":\"2026-11-24T10:00:00.000Z\",\"event\":"
	    "\"refuse\",\"session\":0,\"peer_addr\":\"192.0.2.7\",\"peer_port\":"
	    "4242,\"user\":\"mal\\\"lory\\u001b[2J\",\"reason\":\"blacklisted\"}";

	snprintf(dir, sizeof(dir), "%s", d);
	snprintf(path, sizeof(path), "%s/audit.jsonl", d);
	snprintf(keypath, sizeof(keypath), "%s/audit.key", d);
	write_key(keypath, k);
	EVP_PKEY_free(k);
	af = open_af(4, corpus ? 900 : 1500, 10);
	if (af == NULL)
		return 1;
	append_n(af, 1, corpus ? 8 : 12);
	if (audit_file_append(af, ev, strlen(ev), 1) != 0)
		return 1;
	audit_file_close(af);
	if (corpus) {
		/* seeds: each file, and the set joined with NUL bytes */
		snprintf(cmd, sizeof(cmd), "cd %s && cat audit.jsonl.1 > seed-one && "
		    "ls audit.jsonl* | sort -r | "
		    "while read f; do cat $f; printf '\\0'; done > seed-set && "
		    "head -c 700 audit.jsonl.1 > seed-torn && "
		    "sed '3d' audit.jsonl.1 > seed-deleted && "
		    "sed 's/alice/alicf/' audit.jsonl.1 > seed-edited && "
		    "rm -f audit.jsonl* audit.key", d);
		return system(cmd) == 0 ? 0 : 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	log_init("test_audit_file", 0, 0);
	if (argc == 3 && strcmp(argv[1], "--sample") == 0)
		return write_sample(argv[2], 0);
	if (argc == 3 && strcmp(argv[1], "--corpus") == 0)
		return write_sample(argv[2], 1);
	test_basic_and_tampering();
	test_mutations();
	test_resume_and_recovery();
	test_rotation_and_splice();
	test_hostile_strings();
	test_rotation_under_load();
	EVP_PKEY_free(pub);
	return check_summary();
}
