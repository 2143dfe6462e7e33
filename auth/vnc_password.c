/*
 * vnc_password.c - the VNC password file and the VncPassword factor (see
 * vnc_password.h). Runs as root: in moatd (loading the file at start), in
 * its per-connection monitors (checking answers against the loaded copy)
 * and in moatctl (writing the file).
 *
 * Trusts the file only after secret_file_read() has checked that root
 * alone can have written it, and even then parses it strictly, through
 * privsep/buf.h, as if hostile: bounded lines and entries, valid names,
 * yescrypt hashes only. Trusts nothing about an answer: its length is
 * checked before it is hashed, every copy is wiped, and the comparison
 * runs in constant time. Passwords are never logged; user names and file
 * text are escaped when they are.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "secret_file.h"
#include "vnc_password.h"

#define QUOTE_MAX	48	/* file bytes quoted in a message */
#define PARAMS_MAX	16	/* yescrypt parameter characters */
#define SALT_MIN	11	/* 8 bytes */
#define SALT_MAX	86	/* 64 bytes, libxcrypt's limit */
#define DIGEST_LEN	43	/* 32 bytes */
#define TRIALS_MAX	16	/* distinct parameter strings in one file */
#define REASON_FAILED	"Authentication failed"

/*
 * What a user without an entry is checked against: a yescrypt hash at
 * VNC_PASSWORD_COST ("jBT" is cost 7; remake it if the cost changes) of 32
 * random bytes nobody kept. Whatever it matches, the user fails.
 */
static const char dummy_hash[] =
    "$y$jBT$9qnlt3FMvuOsv052U8Ew1.$8wO4wKN9XbWYn3mgOZdNXbiRgqIabGlROxEL6y/kbl7";
/* What an answer of an unacceptable length is replaced by. */
static const char placeholder[] = "moat-unacceptable-answer";

/*
 * The value 0..63 of a character of crypt(3)'s base 64
 * ("./0-9A-Za-z", in that order), or -1.
 */
static int
atoi64(unsigned char ch)
{
	if (ch == '.' || ch == '/')
		return ch - '.';
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 2;
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A' + 12;
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 38;
	return -1;
}

static int
all_b64(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (atoi64((unsigned char)p[i]) < 0)
			return 0;
	return 1;
}

/*
 * A string libxcrypt's yescrypt decodes to whole bytes: groups of four
 * characters give three bytes; a final group of two or three gives one or
 * two, with its unused high bits zero; a final group of one is invalid.
 */
static int
decodable(const char *p, size_t n)
{
	switch (n % 4) {
	case 1:
		return 0;
	case 2:
		return atoi64((unsigned char)p[n - 1]) < 4;
	case 3:
		return atoi64((unsigned char)p[n - 1]) < 16;
	default:
		return 1;
	}
}

int
vnc_password_valid_user(const char *user)
{
	size_t n = strnlen(user, VNC_PASSWORD_USER_MAX + 1), i;

	if (n == 0 || n > VNC_PASSWORD_USER_MAX || user[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)user[i];

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && ch != '.' && ch != '_' &&
		    ch != '-')
			return 0;
	}
	return 1;
}

/* The same test on p[0..n), which need not be NUL-terminated. */
static int
valid_user_n(const char *p, size_t n)
{
	char tmp[VNC_PASSWORD_USER_MAX + 1];

	if (n == 0 || n > VNC_PASSWORD_USER_MAX || memchr(p, '\0', n) != NULL)
		return 0;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return vnc_password_valid_user(tmp);
}

/* vnc_password_valid_hash() on p[0..n). */
static int
valid_hash_n(const char *p, size_t n)
{
	const char *params, *salt, *digest, *end = p + n, *d;
	size_t np, ns, nd;

	if (n > VNC_PASSWORD_HASH_MAX || n < 3 || memcmp(p, "$y$", 3) != 0)
		return 0;
	params = p + 3;
	if ((d = memchr(params, '$', (size_t)(end - params))) == NULL)
		return 0;
	np = (size_t)(d - params);
	salt = d + 1;
	if ((d = memchr(salt, '$', (size_t)(end - salt))) == NULL)
		return 0;
	ns = (size_t)(d - salt);
	digest = d + 1;
	nd = (size_t)(end - digest);
	return np >= 1 && np <= PARAMS_MAX && all_b64(params, np) &&
	    ns >= SALT_MIN && ns <= SALT_MAX && all_b64(salt, ns) &&
	    decodable(salt, ns) &&
	    nd == DIGEST_LEN && all_b64(digest, nd) && decodable(digest, nd);
}

int
vnc_password_valid_hash(const char *hash)
{
	return valid_hash_n(hash, strnlen(hash, VNC_PASSWORD_HASH_MAX + 1));
}

/* What a hash that is not yescrypt looks like, for the message. */
static const char *
hash_kind(const char *p, size_t n)
{
	static const struct {
		const char *prefix;
		const char *name;
	} kinds[] = {
		{ "$y$", "a malformed yescrypt hash" },
		{ "$1$", "an MD5-crypt hash" },
		{ "$5$", "a SHA-256-crypt hash" },
		{ "$6$", "a SHA-512-crypt hash" },
		{ "$2a$", "a bcrypt hash" },
		{ "$2b$", "a bcrypt hash" },
		{ "$2y$", "a bcrypt hash" },
		{ "$7$", "a scrypt hash" },
		{ "$gy$", "a gost-yescrypt hash" },
		{ "$sha1$", "a SHA-1-crypt hash" },
		{ "_", "a BSDi extended DES hash" },
	};
	size_t i, l;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		l = strlen(kinds[i].prefix);
		if (n >= l && memcmp(p, kinds[i].prefix, l) == 0)
			return kinds[i].name;
	}
	if (n == 13 && all_b64(p, n))
		return "a traditional DES crypt hash";
	if (n == 0)
		return "empty";
	if (p[0] == '!' || p[0] == '*')
		return "a locked-account marker, not a hash";
	return "not a crypt hash";
}

static const char *
quote(char *dst, size_t dstlen, const char *p, size_t n)
{
	size_t cut = n > QUOTE_MAX ? QUOTE_MAX : n, l;

	log_escape(dst, dstlen, p, cut);
	if (cut < n && (l = strlen(dst)) + 4 <= dstlen)
		memcpy(dst + l, "...", 4);
	return dst;
}

struct parse_ctx {
	const char *fname;	/* escaped */
	unsigned line;
	char *err;
	size_t errlen;
};

static int
perr(struct parse_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
perr(struct parse_ctx *x, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->err != NULL && x->errlen > 0)
		snprintf(x->err, x->errlen, "%s:%u: %s", x->fname, x->line, msg);
	return MOAT_ERR_CONFIG;
}

/* Checks one line p[0..n) (no '\n') and appends its entry to db. */
static int
parse_line(struct parse_ctx *x, struct vnc_password_db *db, const char *p,
    size_t n)
{
	char q[QUOTE_MAX * 4 + 8];
	const char *colon, *hash;
	size_t un, hn, i;
	struct vnc_password_entry *e;

	if (n == 0)
		return perr(x, "empty line; every line is USER:HASH");
	if (memchr(p, '\0', n) != NULL)
		return perr(x, "NUL byte in line");
	if (memchr(p, '\r', n) != NULL)
		return perr(x, "carriage return in line (lines end with \\n "
		    "alone)");
	if ((colon = memchr(p, ':', n)) == NULL)
		return perr(x, "expected USER:HASH, found '%s'",
		    quote(q, sizeof(q), p, n));
	un = (size_t)(colon - p);
	hash = colon + 1;
	hn = n - un - 1;
	if (un == 0)
		return perr(x, "missing user name before ':'");
	if (!valid_user_n(p, un))
		return perr(x, "invalid user name '%s' (1 to %d letters, digits, "
		    "'.', '_', '-'; not starting with '-')",
		    quote(q, sizeof(q), p, un), VNC_PASSWORD_USER_MAX);
	if (!valid_hash_n(hash, hn))
		return perr(x, "user %.*s: %s; only yescrypt hashes "
		    "($y$PARAMS$SALT$HASH) are accepted: set the password "
		    "again with moatctl password", (int)un, p,
		    hash_kind(hash, hn));
	for (i = 0; i < db->n; i++)
		if (strlen(db->e[i].user) == un &&
		    memcmp(db->e[i].user, p, un) == 0)
			return perr(x, "user %.*s appears twice (first at line "
			    "%zu)", (int)un, p, i + 1);
	e = &db->e[db->n++];
	memcpy(e->user, p, un);
	e->user[un] = '\0';
	memcpy(e->hash, hash, hn);
	e->hash[hn] = '\0';
	return 0;
}

int
vnc_password_parse(struct vnc_password_db *db, const char *fname,
    const char *text, size_t len, char *err, size_t errlen)
{
	char efname[256];
	struct parse_ctx x;
	struct buf b;
	const uint8_t *up;
	const char *p, *nl;
	size_t look, n;
	int r;

	db->n = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (fname == NULL)
		fname = "(vnc-passwords)";
	log_escape(efname, sizeof(efname), fname, strnlen(fname, PATH_MAX));
	x.fname = efname;
	x.line = 0;
	x.err = err;
	x.errlen = errlen;
	if (text == NULL && len != 0)
		return perr(&x, "no text");
	if (len > VNC_PASSWORD_FILE_MAX) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: file larger than %d bytes",
			    efname, VNC_PASSWORD_FILE_MAX);
		return MOAT_ERR_CONFIG;
	}
	buf_view(&b, text, len);
	while (buf_len(&b) > 0) {
		x.line++;
		look = buf_len(&b) < VNC_PASSWORD_LINE_MAX ? buf_len(&b) :
		    VNC_PASSWORD_LINE_MAX;
		if ((r = buf_peek(&b, look, &up)) != 0) {
			db->n = 0;
			return perr(&x, "internal error: %s", moat_strerror(r));
		}
		p = (const char *)up;
		if ((nl = memchr(p, '\n', look)) == NULL) {
			db->n = 0;
			if (look == VNC_PASSWORD_LINE_MAX)
				return perr(&x, "line longer than %d bytes",
				    VNC_PASSWORD_LINE_MAX - 1);
			return perr(&x, "the last line does not end with a "
			    "newline (a truncated file?)");
		}
		n = (size_t)(nl - p);
		if (db->n == VNC_PASSWORD_ENTRIES_MAX) {
			db->n = 0;
			return perr(&x, "more than %d entries",
			    VNC_PASSWORD_ENTRIES_MAX);
		}
		if ((r = parse_line(&x, db, p, n)) != 0 ||
		    (r = buf_consume(&b, n + 1)) != 0) {
			db->n = 0;
			return r == MOAT_ERR_CONFIG ? r :
			    perr(&x, "internal error: %s", moat_strerror(r));
		}
	}
	return 0;
}

int
vnc_password_format(const struct vnc_password_db *db, char *buf,
    size_t buflen, size_t *outlen)
{
	struct buf b;
	size_t i;
	int r;

	*outlen = 0;
	if (db->n > VNC_PASSWORD_ENTRIES_MAX)
		return MOAT_ERR_INVALID;
	buf_init_fixed(&b, buf, buflen);
	for (i = 0; i < db->n; i++) {
		const struct vnc_password_entry *e = &db->e[i];

		if (!vnc_password_valid_user(e->user) ||
		    !vnc_password_valid_hash(e->hash))
			return MOAT_ERR_INVALID;
		if ((r = buf_put_bytes(&b, e->user, strlen(e->user))) != 0 ||
		    (r = buf_put_u8(&b, ':')) != 0 ||
		    (r = buf_put_bytes(&b, e->hash, strlen(e->hash))) != 0 ||
		    (r = buf_put_u8(&b, '\n')) != 0)
			return r;
	}
	*outlen = buf_len(&b);
	return 0;
}

const struct vnc_password_entry *
vnc_password_find(const struct vnc_password_db *db, const char *user)
{
	size_t i;

	if (!vnc_password_valid_user(user))
		return NULL;
	for (i = 0; i < db->n && i < VNC_PASSWORD_ENTRIES_MAX; i++)
		if (strcmp(db->e[i].user, user) == 0)
			return &db->e[i];
	return NULL;
}

int
vnc_password_set(struct vnc_password_db *db, const char *user,
    const char *hash)
{
	struct vnc_password_entry *e;

	if (!vnc_password_valid_user(user) || !vnc_password_valid_hash(hash))
		return MOAT_ERR_INVALID;
	if ((e = (struct vnc_password_entry *)vnc_password_find(db,
	    user)) == NULL) {
		if (db->n >= VNC_PASSWORD_ENTRIES_MAX)
			return MOAT_ERR_TOO_LONG;
		e = &db->e[db->n++];
		snprintf(e->user, sizeof(e->user), "%s", user);
	}
	snprintf(e->hash, sizeof(e->hash), "%s", hash);
	return 0;
}

int
vnc_password_delete(struct vnc_password_db *db, const char *user)
{
	const struct vnc_password_entry *e;
	size_t i;

	if ((e = vnc_password_find(db, user)) == NULL)
		return MOAT_ERR_INVALID;
	i = (size_t)(e - db->e);
	memmove(&db->e[i], &db->e[i + 1], (db->n - i - 1) * sizeof(db->e[0]));
	db->n--;
	memset(&db->e[db->n], 0, sizeof(db->e[0]));
	return 0;
}

int
vnc_password_acceptable(const char *password, size_t len)
{
	return len >= VNC_PASSWORD_MIN && len <= VNC_PASSWORD_MAX &&
	    memchr(password, '\0', len) == NULL;
}

int
vnc_password_hash(const char *password, size_t len, char *out,
    size_t outlen)
{
	char pw[VNC_PASSWORD_MAX + 1], *setting, *h;
	struct crypt_data *cd;
	int r = MOAT_ERR_CRYPTO;

	if (!vnc_password_acceptable(password, len))
		return MOAT_ERR_INVALID;
	if (outlen < VNC_PASSWORD_HASH_MAX + 1)
		return MOAT_ERR_TOO_LONG;
	/* A NULL entropy source: libxcrypt reads the salt from getrandom(2). */
	if ((setting = crypt_gensalt_ra("$y$", VNC_PASSWORD_COST, NULL,
	    0)) == NULL)
		return MOAT_ERR_CRYPTO;
	if ((cd = calloc(1, sizeof(*cd))) == NULL) {
		free(setting);
		return MOAT_ERR_NOMEM;
	}
	memcpy(pw, password, len);
	pw[len] = '\0';
	if ((h = crypt_rn(pw, setting, cd, (int)sizeof(*cd))) != NULL &&
	    vnc_password_valid_hash(h)) {
		snprintf(out, outlen, "%s", h);
		r = 0;
	}
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	free(setting);
	return r;
}

int
vnc_password_verify(const struct vnc_password_db *db, const char *user,
    const char *password, size_t len)
{
	const struct vnc_password_entry *e = vnc_password_find(db, user);
	const char *setting = e != NULL ? e->hash : dummy_hash;
	char pw[VNC_PASSWORD_MAX + 1];
	struct crypt_data *cd;
	const char *h;
	size_t n = strlen(setting);
	int ok = vnc_password_acceptable(password, len), match = 0, r = 0;

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return MOAT_ERR_NOMEM;
	/* The same work whatever the answer: a full hash of something. */
	if (ok) {
		memcpy(pw, password, len);
		pw[len] = '\0';
	} else
		memcpy(pw, placeholder, sizeof(placeholder));
	if ((h = crypt_rn(pw, setting, cd, (int)sizeof(*cd))) == NULL)
		r = MOAT_ERR_CRYPTO;
	else
		match = strlen(h) == n && CRYPTO_memcmp(h, setting, n) == 0;
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	if (r != 0)
		return r;
	return e != NULL && ok && match ? 0 : MOAT_ERR_AUTH;
}

/* Length of the parameter string of a valid hash ("jBT" in "$y$jBT$..."). */
static size_t
params_len(const char *hash)
{
	return strcspn(hash + 3, "$");
}

/*
 * Hashes a fixed text once with each distinct parameter string of db (at
 * most TRIALS_MAX), so that a setting libxcrypt refuses (parameters out of
 * range, more memory than it can have) is found at start.
 */
static int
trial_hashes(const struct vnc_password_db *db, const char *epath, char *err,
    size_t errlen)
{
	struct crypt_data *cd;
	size_t i, k, trials = 0, pl;
	int r = 0;

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return moat_config_error(err, errlen, "%s: out of memory", epath);
	for (i = 0; i < db->n && r == 0; i++) {
		pl = params_len(db->e[i].hash);
		for (k = 0; k < i; k++)
			if (params_len(db->e[k].hash) == pl &&
			    memcmp(db->e[k].hash, db->e[i].hash, pl + 3) == 0)
				break;
		if (k < i)
			continue;
		if (++trials > TRIALS_MAX) {
			r = moat_config_error(err, errlen, "%s:%zu: more than %d different "
			    "yescrypt parameter strings; set the passwords "
			    "again with moatctl password", epath, i + 1,
			    TRIALS_MAX);
			break;
		}
		errno = 0;
		if (crypt_rn(placeholder, db->e[i].hash, cd,
		    (int)sizeof(*cd)) == NULL)
			r = moat_config_error(err, errlen, "%s:%zu: user %s: libxcrypt "
			    "cannot use the yescrypt parameters '%.*s' (%s)",
			    epath, i + 1, db->e[i].user, (int)pl,
			    db->e[i].hash + 3, errno != 0 ? strerror(errno) :
			    "refused");
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return r;
}

int
vnc_password_load(struct vnc_password_db *db, const char *path, char *err,
    size_t errlen)
{
	char epath[256];
	size_t got = 0;
	char *text;
	int r;

	db->n = 0;
	log_escape(epath, sizeof(epath), path, strnlen(path, PATH_MAX));
	if ((text = malloc(VNC_PASSWORD_FILE_MAX + 1)) == NULL)
		return moat_config_error(err, errlen, "%s: out of memory", epath);
	if ((r = secret_file_read(path, "VNC password file", text,
	    VNC_PASSWORD_FILE_MAX + 1, &got, err, errlen)) != 0)
		goto out;
	if (got > VNC_PASSWORD_FILE_MAX) {
		r = moat_config_error(err, errlen, "%s: VNC password file larger than %d "
		    "bytes", epath, VNC_PASSWORD_FILE_MAX);
		goto out;
	}
	if ((r = vnc_password_parse(db, path, text, got, err, errlen)) != 0)
		goto out;
	r = trial_hashes(db, epath, err, errlen);
out:
	OPENSSL_cleanse(text, VNC_PASSWORD_FILE_MAX + 1);
	free(text);
	if (r != 0) {
		OPENSSL_cleanse(db->e, db->n * sizeof(db->e[0]));
		db->n = 0;
		r = MOAT_ERR_CONFIG;
	}
	return r;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
vnc_password_save(const struct vnc_password_db *db, const char *path,
    char *err, size_t errlen)
{
	char tmp[PATH_MAX], copy[PATH_MAX], dir[PATH_MAX], epath[256], *text;
	size_t len;
	int fd = -1, dfd = -1, r;

	tmp[0] = '\0';
	log_escape(epath, sizeof(epath), path, strnlen(path, PATH_MAX));
	if (path[0] != '/' || strlen(path) + 8 > sizeof(tmp)) {
		moat_config_error(err, errlen, "%s: not an absolute path of at most %zu "
		    "bytes", epath, sizeof(tmp) - 8);
		return MOAT_ERR_INVALID;
	}
	if ((text = malloc(VNC_PASSWORD_FILE_MAX)) == NULL) {
		moat_config_error(err, errlen, "%s: out of memory", epath);
		return MOAT_ERR_NOMEM;
	}
	if ((r = vnc_password_format(db, text, VNC_PASSWORD_FILE_MAX,
	    &len)) != 0) {
		moat_config_error(err, errlen, "%s: cannot format the entries: %s", epath,
		    moat_strerror(r));
		goto out;
	}
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(dir, sizeof(dir), "%s", dirname(copy));
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	/* mkostemp: O_EXCL, mode 0600, in the file's own directory. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		moat_config_error(err, errlen, "%s: cannot create a new file beside it: %s",
		    epath, strerror(errno));
		r = MOAT_ERR_SYSTEM;
		tmp[0] = '\0';
		goto out;
	}
	r = MOAT_ERR_SYSTEM;
	if (fchown(fd, 0, 0) != 0 || fchmod(fd, 0600) != 0) {
		moat_config_error(err, errlen, "%s: cannot make the new file root's, mode "
		    "0600: %s", epath, strerror(errno));
		goto out;
	}
	if (write_all(fd, text, len) != 0 || fsync(fd) != 0) {
		moat_config_error(err, errlen, "%s: cannot write the new file: %s", epath,
		    strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		moat_config_error(err, errlen, "%s: cannot write the new file: %s", epath,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		moat_config_error(err, errlen, "%s: cannot replace it: %s", epath,
		    strerror(errno));
		goto out;
	}
	tmp[0] = '\0';	/* renamed: nothing to remove */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) != 0) {
		moat_config_error(err, errlen, "%s: replaced, but the directory could not "
		    "be synced: %s", epath, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	if (r != 0 && tmp[0] != '\0')
		unlink(tmp);
	OPENSSL_cleanse(text, VNC_PASSWORD_FILE_MAX);
	free(text);
	return r;
}

static void
set_reason(char *reason, size_t reasonlen, const char *s)
{
	if (reason != NULL && reasonlen > 0)
		snprintf(reason, reasonlen, "%s", s);
}

int
vnc_password_converse(const struct vnc_password_db *db, const char *user,
    int first_factor, const struct auth_conv *conv, char *reason,
    size_t reasonlen)
{
	char ans[AUTH_ANSWER_MAX + 1], euser[255 * 4 + 8];
	struct timespec last;
	const char *why;
	int r, known;

	set_reason(reason, reasonlen, REASON_FAILED);
	log_escape(euser, sizeof(euser), user, strnlen(user, 255));
	r = conv->ask(conv->arg, 1, first_factor ? "Password: " :
	    "VNC password: ", ans, sizeof(ans));
	clock_gettime(CLOCK_MONOTONIC, &last);
	if (r != 0 && r != MOAT_ERR_UNSUPPORTED && r != MOAT_ERR_TOO_LONG) {
		OPENSSL_cleanse(ans, sizeof(ans));
		return r;	/* the viewer went away, or the time is up */
	}
	known = vnc_password_find(db, user) != NULL;
	if (r != 0)
		why = "the viewer cannot answer";
	else {
		r = vnc_password_verify(db, user, ans,
		    strnlen(ans, sizeof(ans)));
		why = r == MOAT_ERR_AUTH ? (known ? "wrong password" :
		    "no VNC password set") : moat_strerror(r);
		if (r == 0 && getpwnam(user) == NULL) {
			why = "no such account";
			r = MOAT_ERR_AUTH;
		}
	}
	OPENSSL_cleanse(ans, sizeof(ans));
	if (r == 0) {
		set_reason(reason, reasonlen, "");
		return 0;
	}
	if (r == MOAT_ERR_AUTH || r == MOAT_ERR_UNSUPPORTED ||
	    r == MOAT_ERR_TOO_LONG)
		info_f("VncPassword: user '%s': %s", euser, why);
	else
		error_f("VncPassword: user '%s': cannot check the password: "
		    "%s", euser, why);
	auth_fail_delay(&last);
	return MOAT_ERR_AUTH;
}
