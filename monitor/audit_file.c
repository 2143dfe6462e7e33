/*
 * audit_file.c - writes the tamper-evident audit file: chained JSON lines,
 * signed checkpoints, rotation that continues the chain, and resumption
 * of an existing chain (format: docs/audit-file-format.md).
 *
 * Runs in moatd's listener (root), the single writer. It trusts the event
 * objects it is given only after the strict reader in audit_verify.c has
 * accepted them, the directories on the file's path only when root owns
 * them and nobody else can write them (every name opened relative to the
 * checked directory above it, never following a link), and the signing
 * key only when it is root's alone. The existing file's last line is
 * checked (syntax and its own hash) before the chain continues from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "audit_file.h"
#include "audit_verify.h"

#define AUDIT_ROTATE_KEEP_MAX	100000

struct audit_file {
	int dirfd;			/* the checked directory holding the files */
	int fd;				/* the live file (O_APPEND) or -1 */
	char name[NAME_MAX + 1];	/* its name in dirfd */
	char epath[PATH_MAX];		/* escaped full path, for messages */
	EVP_PKEY *key;
	char key_id[AUDIT_KEYID_HEX + 1];
	uint32_t checkpoint_every;
	uint64_t rotate_size;
	uint32_t rotate_keep;
	uint64_t seq;			/* last seq written */
	char hash[AUDIT_HASH_HEX + 1];	/* its hash */
	uint32_t since_checkpoint;	/* records since the last checkpoint */
	int last_final;			/* the last record is a final checkpoint */
	uint64_t size;			/* bytes in the live file */
	int broken;			/* a write failed: refuse further appends */
	char *line;			/* AUDIT_LINE_MAX bytes */
};

enum tail_state { TAIL_ABSENT, TAIL_EMPTY, TAIL_CLEAN, TAIL_TORN };

struct tail {
	int state;
	uint64_t seq;
	char hash[AUDIT_HASH_HEX + 1];
	int final;
	uint64_t torn_bytes;
};

static const char zero_hash[AUDIT_HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Root (or, for tests run unprivileged, we) must own st; nobody else may write it. */
static int
check_owner(const struct stat *st, int allow_sticky)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return -1;
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    !(allow_sticky && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX)))
		return -1;
	return 0;
}

/*
 * Walks the absolute path to the directory holding its last name, each
 * directory checked, optionally creating that last directory (mode 0700).
 * Returns 0 with *dirfd (O_RDONLY directory) and *base, or MOAT_ERR_CONFIG.
 */
static int
open_parent(const char *path, int create, int *dirfd, const char **base)
{
	char comp[NAME_MAX + 1];
	const char *p = path, *slash;
	struct stat st;
	int fd, nfd;
	size_t n;

	*dirfd = -1;
	if (path[0] != '/' || strlen(path) >= PATH_MAX) {
		error_f("audit: %s: need an absolute path", path);
		return MOAT_ERR_CONFIG;
	}
	if ((fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) != 0 || check_owner(&st, 1) != 0)
		goto bad;
	for (;;) {
		while (*p == '/')
			p++;
		if ((slash = strchr(p, '/')) == NULL)
			break;
		n = (size_t)(slash - p);
		if (n > NAME_MAX || (n == 2 && memcmp(p, "..", 2) == 0)) {
			errno = EINVAL;
			goto bad;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		p = slash;
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd == -1 && errno == ENOENT && create &&
		    strchr(p + 1, '/') == NULL) {
			if (mkdirat(fd, comp, 0700) != 0 && errno != EEXIST)
				goto bad;
			nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		}
		close(fd);
		fd = nfd;
		if (fd == -1 || fstat(fd, &st) != 0)
			goto bad;
		/* The directory holding the files may not even be sticky-writable. */
		if (check_owner(&st, strchr(p + 1, '/') != NULL) != 0) {
			errno = EPERM;
			goto bad;
		}
	}
	if (*p == '\0' || strlen(p) > NAME_MAX - 16 || strcmp(p, ".") == 0 ||
	    strcmp(p, "..") == 0) {
		errno = EINVAL;
		goto bad;
	}
	*dirfd = fd;
	*base = p;
	return 0;
bad:
	error_f("audit: %s: the path must be absolute, and every directory on "
	    "it owned by root and writable by nobody else: %s", path,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	return MOAT_ERR_CONFIG;
}

/* Writes a new Ed25519 key to name in dirfd, mode 0600, root's. */
static int
create_key(int dirfd, const char *name, const char *path, EVP_PKEY **out)
{
	EVP_PKEY *k;
	FILE *f;
	int fd, ok;

	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		error_f("audit: cannot generate the audit key");
		return MOAT_ERR_CRYPTO;
	}
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1 || fchmod(fd, 0600) != 0 ||
	    (geteuid() == 0 && fchown(fd, 0, 0) != 0) ||
	    (f = fdopen(fd, "w")) == NULL) {
		error_f("audit: %s: cannot create: %s", path, strerror(errno));
		if (fd != -1) {
			close(fd);
			unlinkat(dirfd, name, 0);
		}
		EVP_PKEY_free(k);
		return MOAT_ERR_SYSTEM;
	}
	ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1 &&
	    fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		error_f("audit: %s: cannot write", path);
		unlinkat(dirfd, name, 0);
		EVP_PKEY_free(k);
		return MOAT_ERR_SYSTEM;
	}
	info_f("audit: created the audit signing key %s", path);
	*out = k;
	return 0;
}

/* Loads (or creates) the signing key; it must be a regular file root's alone. */
static int
load_key(struct audit_file *af, const char *path)
{
	const char *base;
	struct stat st;
	FILE *f;
	int dirfd, fd, r;

	if ((r = open_parent(path, 0, &dirfd, &base)) != 0)
		return r;
	fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		r = create_key(dirfd, base, path, &af->key);
		close(dirfd);
		goto id;
	}
	close(dirfd);
	if (fd == -1 || fstat(fd, &st) != 0) {
		error_f("audit: %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return MOAT_ERR_CONFIG;
	}
	if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 077) != 0) {
		error_f("audit: %s: must be a regular file owned by root with "
		    "mode 0600 or stricter", path);
		close(fd);
		return MOAT_ERR_CONFIG;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return MOAT_ERR_SYSTEM;
	}
	af->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (af->key == NULL || EVP_PKEY_get_base_id(af->key) != EVP_PKEY_ED25519) {
		error_f("audit: %s: not a PEM Ed25519 private key", path);
		return MOAT_ERR_CONFIG;
	}
	r = 0;
id:
	if (r == 0 && audit_key_id(af->key, af->key_id) != 0)
		r = MOAT_ERR_CRYPTO;
	return r;
}

/*
 * Reads the state of the file name in dirfd from its end: absent, empty,
 * clean (ends with a newline) or torn, with the last complete line checked.
 * Returns 0 or MOAT_ERR_INVALID (damaged) / MOAT_ERR_SYSTEM.
 */
static int
read_tail(struct audit_file *af, const char *name, struct tail *t)
{
	struct stat st;
	size_t win, end, start, got = 0;
	off_t from;
	ssize_t n;
	char *nl, *buf;
	int fd, r = 0;

	memset(t, 0, sizeof(*t));
	if ((fd = openat(af->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT) {
			t->state = TAIL_ABSENT;
			return 0;
		}
		error_f("audit: %s: %s", name, strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 077) != 0) {
		error_f("audit: %s in the audit directory: must be a regular file "
		    "owned by root with mode 0600", name);
		close(fd);
		return MOAT_ERR_CONFIG;
	}
	if (st.st_size == 0) {
		close(fd);
		t->state = TAIL_EMPTY;
		return 0;
	}
	win = (uint64_t)st.st_size < (uint64_t)AUDIT_LINE_MAX * 2 ?
	    (size_t)st.st_size : (size_t)AUDIT_LINE_MAX * 2;
	from = st.st_size - (off_t)win;
	if ((buf = malloc(win)) == NULL) {
		close(fd);
		return MOAT_ERR_NOMEM;
	}
	while (got < win) {
		n = pread(fd, buf + got, win - got, from + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != win) {
		error_f("audit: %s: short read", name);
		r = MOAT_ERR_SYSTEM;
		goto out;
	}
	end = win;
	t->state = TAIL_CLEAN;
	if (buf[win - 1] != '\n') {
		t->state = TAIL_TORN;
		if ((nl = memrchr(buf, '\n', win)) == NULL) {
			error_f("audit: %s: no complete record at its end", name);
			r = MOAT_ERR_INVALID;
			goto out;
		}
		end = (size_t)(nl - buf) + 1;
		t->torn_bytes = win - end;
	}
	/* buf[end - 1] is the newline of the last complete line. */
	nl = end >= 2 ? memrchr(buf, '\n', end - 1) : NULL;
	if (nl != NULL)
		start = (size_t)(nl - buf) + 1;
	else if (from == 0)
		start = 0;
	else {
		error_f("audit: %s: last line too long", name);
		r = MOAT_ERR_INVALID;
		goto out;
	}
	if (audit_record_check(buf + start, end - 1 - start, &t->seq, t->hash,
	    &t->final) != 0) {
		error_f("audit: %s: its last complete record is damaged (run "
		    "moatctl audit verify, then move the file away)", name);
		r = MOAT_ERR_INVALID;
	}
out:
	free(buf);
	return r;
}

static void
now_iso(char out[64])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* Writes n bytes at the end of the live file; on failure the file is broken. */
static int
write_all(struct audit_file *af, const char *p, size_t n)
{
	ssize_t w;
	size_t off = 0;

	while (off < n) {
		w = write(af->fd, p + off, n - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			error_f("audit: %s: write failed: %s; audit records stop "
			    "here", af->epath, w == 0 ? "no progress" :
			    strerror(errno));
			af->broken = 1;
			return MOAT_ERR_SYSTEM;
		}
		off += (size_t)w;
	}
	af->size += n;
	return 0;
}

static int
sync_file(struct audit_file *af)
{
	if (fsync(af->fd) != 0) {
		error_f("audit: %s: fsync failed: %s", af->epath, strerror(errno));
		af->broken = 1;
		return MOAT_ERR_SYSTEM;
	}
	return 0;
}

/*
 * Chains and writes one record whose members (without braces) are
 * inner[0..n); with sign set, adds the checkpoint signature.
 */
static int
write_record(struct audit_file *af, const char *inner, size_t n, int sign)
{
	static const char hx[] = "0123456789abcdef";
	char h[AUDIT_HASH_HEX + 1];
	unsigned char sig[64];
	size_t len, siglen = sizeof(sig), ctxlen = strlen(AUDIT_SIG_CONTEXT), i;
	EVP_MD_CTX *ctx;
	int ok;

	if (af->broken)
		return MOAT_ERR_SYSTEM;
	/* Room for the prefix, the context, the signature and the hash. */
	if (n > AUDIT_LINE_MAX - 512)
		return MOAT_ERR_TOO_LONG;
	len = (size_t)snprintf(af->line, 128, "{\"seq\":%llu,\"prev\":\"%s\"",
	    (unsigned long long)af->seq + 1, af->hash);
	if (n > 0) {
		af->line[len++] = ',';
		memcpy(af->line + len, inner, n);
		len += n;
	}
	if (sign) {
		/* The signed bytes: the context, then the line so far. */
		memmove(af->line + ctxlen, af->line, len);
		memcpy(af->line, AUDIT_SIG_CONTEXT, ctxlen);
		ok = (ctx = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestSignInit(ctx, NULL, NULL, NULL, af->key) == 1 &&
		    EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)af->line,
		    ctxlen + len) == 1 && siglen == sizeof(sig);
		EVP_MD_CTX_free(ctx);
		memmove(af->line, af->line + ctxlen, len);
		if (!ok) {
			error_f("audit: signing a checkpoint failed");
			return MOAT_ERR_CRYPTO;
		}
		memcpy(af->line + len, ",\"sig\":\"", 8);
		len += 8;
		for (i = 0; i < sizeof(sig); i++) {
			af->line[len++] = hx[sig[i] >> 4];
			af->line[len++] = hx[sig[i] & 15];
		}
		af->line[len++] = '"';
	}
	audit_sha256_hex(af->line, len, h);
	len += (size_t)snprintf(af->line + len, AUDIT_HASH_SUFFIX + 2,
	    ",\"hash\":\"%s\"}\n", h);
	if ((ok = write_all(af, af->line, len)) != 0)
		return ok;
	af->seq++;
	memcpy(af->hash, h, sizeof(h));
	return 0;
}

/* The members every record moat writes itself begins with. */
static size_t
own_fields(char *out, size_t outlen, const char *event)
{
	char ts[64];
	int n;

	now_iso(ts);
	n = snprintf(out, outlen, "\"ts\":\"%s\",\"event\":\"%s\",\"session\":0,"
	    "\"peer_addr\":\"\",\"peer_port\":0", ts, event);
	return n < 0 || (size_t)n >= outlen ? 0 : (size_t)n;
}

/* Writes a signed checkpoint and flushes the file to disk. */
static int
checkpoint(struct audit_file *af, int final)
{
	char inner[256];
	size_t n;
	int r;

	n = own_fields(inner, sizeof(inner), "checkpoint");
	n += (size_t)snprintf(inner + n, sizeof(inner) - n,
	    ",\"final\":%d,\"key_id\":\"%s\"", final, af->key_id);
	if ((r = write_record(af, inner, n, 1)) != 0 || (r = sync_file(af)) != 0)
		return r;
	af->since_checkpoint = 0;
	af->last_final = final;
	return 0;
}

static int
write_own(struct audit_file *af, const char *event, const char *extra)
{
	char inner[512];
	size_t n;
	int r;

	n = own_fields(inner, sizeof(inner), event);
	n += (size_t)snprintf(inner + n, sizeof(inner) - n, "%s", extra);
	if ((r = write_record(af, inner, n, 0)) != 0)
		return r;
	af->since_checkpoint++;
	af->last_final = 0;
	return 0;
}

/* Creates the live file, which must not exist. */
static int
create_live(struct audit_file *af)
{
	af->fd = openat(af->dirfd, af->name, O_WRONLY | O_APPEND | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (af->fd == -1 || fchmod(af->fd, 0600) != 0 ||
	    (geteuid() == 0 && fchown(af->fd, 0, 0) != 0)) {
		error_f("audit: %s: cannot create: %s", af->epath, strerror(errno));
		af->broken = 1;
		return MOAT_ERR_SYSTEM;
	}
	af->size = 0;
	return 0;
}

/* Shifts PATH.i to PATH.i+1 (the oldest falls off) and PATH to PATH.1. */
static int
shift_files(struct audit_file *af)
{
	char from[sizeof(af->name) + 16], to[sizeof(af->name) + 16];
	uint32_t i, keep = af->rotate_keep == 0 ? 1 : af->rotate_keep;

	for (i = keep - 1; i >= 1; i--) {
		snprintf(from, sizeof(from), "%s.%u", af->name, i);
		snprintf(to, sizeof(to), "%s.%u", af->name, i + 1);
		if (renameat(af->dirfd, from, af->dirfd, to) != 0 && errno != ENOENT)
			goto bad;
	}
	snprintf(to, sizeof(to), "%s.1", af->name);
	if (renameat(af->dirfd, af->name, af->dirfd, to) != 0)
		goto bad;
	return 0;
bad:
	error_f("audit: %s: rotation failed: %s; audit records stop here",
	    af->epath, strerror(errno));
	af->broken = 1;
	return MOAT_ERR_SYSTEM;
}

/*
 * Moves the live file away (without a final checkpoint when it is torn)
 * and starts a new one with a link record; reason is "rotate" or
 * "recovered".
 */
static int
new_linked_file(struct audit_file *af, const char *reason, uint64_t torn_bytes)
{
	char extra[128];
	int r;

	if (af->fd != -1) {
		close(af->fd);
		af->fd = -1;
	}
	if ((r = shift_files(af)) != 0 || (r = create_live(af)) != 0)
		return r;
	snprintf(extra, sizeof(extra), ",\"prev_file_seq\":%llu,\"reason\":\"%s\"",
	    (unsigned long long)af->seq, reason);
	if ((r = write_own(af, "audit_link", extra)) != 0)
		return r;
	if (strcmp(reason, "recovered") == 0) {
		snprintf(extra, sizeof(extra), ",\"reason\":\"torn_line\","
		    "\"torn_bytes\":%llu", (unsigned long long)torn_bytes);
		if ((r = write_own(af, "audit_recovered", extra)) != 0)
			return r;
	}
	if ((r = sync_file(af)) != 0)
		return r;
	if (fsync(af->dirfd) != 0)
		warn_f("audit: fsync of the audit directory: %s", strerror(errno));
	return 0;
}

int
audit_file_open(struct audit_file **out, const struct audit_file_opts *o)
{
	struct audit_file *af;
	const char *base;
	struct tail t, t1;
	struct stat st;
	char name1[sizeof(af->name) + 16], extra[128];
	int r;

	*out = NULL;
	if (o->path == NULL || o->key_path == NULL ||
	    o->rotate_keep > AUDIT_ROTATE_KEEP_MAX)
		return MOAT_ERR_CONFIG;
	if ((af = calloc(1, sizeof(*af))) == NULL ||
	    (af->line = malloc(AUDIT_LINE_MAX + 256)) == NULL) {
		free(af);
		return MOAT_ERR_NOMEM;
	}
	af->fd = -1;
	af->dirfd = -1;
	af->checkpoint_every = o->checkpoint_every;
	af->rotate_size = o->rotate_size;
	af->rotate_keep = o->rotate_keep;
	memcpy(af->hash, zero_hash, sizeof(zero_hash));
	log_escape(af->epath, sizeof(af->epath), o->path, strnlen(o->path, PATH_MAX));
	if ((r = load_key(af, o->key_path)) != 0 ||
	    (r = open_parent(o->path, 1, &af->dirfd, &base)) != 0)
		goto fail;
	/* One writer per directory: a second moatd would fork the chain. */
	if (flock(af->dirfd, LOCK_EX | LOCK_NB) != 0) {
		error_f("audit: %s: its directory is locked by another moatd "
		    "(one audit file writer per directory)", af->epath);
		r = MOAT_ERR_CONFIG;
		goto fail;
	}
	snprintf(af->name, sizeof(af->name), "%s", base);
	snprintf(name1, sizeof(name1), "%s.1", af->name);
	if ((r = read_tail(af, af->name, &t)) != 0)
		goto fail;
	switch (t.state) {
	case TAIL_CLEAN:
		af->seq = t.seq;
		memcpy(af->hash, t.hash, sizeof(t.hash));
		af->fd = openat(af->dirfd, af->name, O_WRONLY | O_APPEND |
		    O_NOFOLLOW | O_CLOEXEC);
		if (af->fd == -1 || fstat(af->fd, &st) != 0) {
			error_f("audit: %s: %s", af->epath, strerror(errno));
			r = MOAT_ERR_SYSTEM;
			goto fail;
		}
		af->size = (uint64_t)st.st_size;
		af->last_final = t.final;
		if (!t.final) {
			/* The last run stopped without its final checkpoint. */
			snprintf(extra, sizeof(extra), ",\"reason\":\"unclean_close\","
			    "\"last_seq\":%llu", (unsigned long long)t.seq);
			if ((r = write_own(af, "audit_recovered", extra)) != 0 ||
			    (r = sync_file(af)) != 0)
				goto fail;
			warn_f("audit: %s: the last run did not close the file; "
			    "continuing the chain after seq %llu", af->epath,
			    (unsigned long long)t.seq);
		}
		break;
	case TAIL_TORN:
		af->seq = t.seq;
		memcpy(af->hash, t.hash, sizeof(t.hash));
		warn_f("audit: %s: ends with a torn record (%llu bytes); moving it "
		    "to %s.1 and continuing the chain after seq %llu", af->epath,
		    (unsigned long long)t.torn_bytes, af->epath,
		    (unsigned long long)t.seq);
		if ((r = new_linked_file(af, "recovered", t.torn_bytes)) != 0)
			goto fail;
		break;
	case TAIL_ABSENT:
	case TAIL_EMPTY:
		if ((r = read_tail(af, name1, &t1)) != 0)
			goto fail;
		if (t.state == TAIL_EMPTY && unlinkat(af->dirfd, af->name, 0) != 0) {
			r = MOAT_ERR_SYSTEM;
			goto fail;
		}
		if ((r = create_live(af)) != 0)
			goto fail;
		if (t1.state == TAIL_CLEAN || t1.state == TAIL_TORN) {
			/* Stopped between a rotation's rename and its link record. */
			af->seq = t1.seq;
			memcpy(af->hash, t1.hash, sizeof(t1.hash));
			snprintf(extra, sizeof(extra), ",\"prev_file_seq\":%llu,"
			    "\"reason\":\"%s\"", (unsigned long long)t1.seq,
			    t1.state == TAIL_CLEAN && t1.final ? "rotate" : "recovered");
			r = write_own(af, "audit_link", extra);
		} else {
			snprintf(extra, sizeof(extra), ",\"key_id\":\"%s\"",
			    af->key_id);
			r = write_own(af, "audit_chain", extra);
		}
		if (r != 0 || (r = sync_file(af)) != 0)
			goto fail;
		if (fsync(af->dirfd) != 0)
			warn_f("audit: fsync of the audit directory: %s",
			    strerror(errno));
		break;
	}
	*out = af;
	return 0;
fail:
	af->broken = 1;
	audit_file_close(af);
	return r;
}

int
audit_file_append(struct audit_file *af, const char *event_json, size_t len,
    int sync)
{
	static struct audit_jobj obj;
	size_t s = 0, e = len, i;
	int r;

	if (af->broken)
		return MOAT_ERR_SYSTEM;
	if (len > AUDIT_EVENT_MAX)
		return MOAT_ERR_TOO_LONG;
	if (audit_json_parse(event_json, len, &obj) != 0 ||
	    audit_obj_get(&obj, "event") == NULL ||
	    audit_obj_get(&obj, "event")->type != AUDIT_J_STRING)
		return MOAT_ERR_INVALID;
	for (i = 0; i < obj.n; i++) {
		static const char *const reserved[] = { "seq", "prev", "hash", "sig" };
		size_t k;

		for (k = 0; k < 4; k++)
			if (obj.f[i].keylen == strlen(reserved[k]) &&
			    memcmp(obj.f[i].key, reserved[k], obj.f[i].keylen) == 0)
				return MOAT_ERR_INVALID;
	}
	/* The members without the braces and the blanks next to them. */
	s = 1;
	e = len - 1;
	while (s < e && (event_json[s] == ' ' || event_json[s] == '\t'))
		s++;
	while (e > s && (event_json[e - 1] == ' ' || event_json[e - 1] == '\t'))
		e--;
	if ((r = write_record(af, event_json + s, e - s, 0)) != 0)
		return r;
	af->since_checkpoint++;
	af->last_final = 0;
	if (af->checkpoint_every > 0 && af->since_checkpoint >= af->checkpoint_every)
		r = checkpoint(af, 0);
	else if (sync)
		r = sync_file(af);
	if (r != 0)
		return r;
	if (af->rotate_size > 0 && af->size >= af->rotate_size)
		return audit_file_rotate(af);
	return 0;
}

int
audit_file_rotate(struct audit_file *af)
{
	int r;

	if (af->broken)
		return MOAT_ERR_SYSTEM;
	if ((r = checkpoint(af, 1)) != 0)
		return r;
	return new_linked_file(af, "rotate", 0);
}

void
audit_file_close(struct audit_file *af)
{
	if (af == NULL)
		return;
	if (!af->broken && af->fd != -1 && !af->last_final)
		(void)checkpoint(af, 1);
	audit_file_forget(af);
}

void
audit_file_forget(struct audit_file *af)
{
	if (af == NULL)
		return;
	if (af->fd != -1)
		close(af->fd);
	if (af->dirfd != -1)
		close(af->dirfd);
	EVP_PKEY_free(af->key);
	free(af->line);
	free(af);
}

uint64_t
audit_file_seq(const struct audit_file *af)
{
	return af->seq;
}
