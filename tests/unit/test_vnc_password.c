/*
 * test_vnc_password.c - the VNC password file and the VncPassword factor
 * (auth/vnc_password.c): the strict parser (good and bad files, messages
 * with FILE:LINE, every bit flip and truncation of a good file, hashes of
 * other formats made by libxcrypt itself), hashing and verification
 * (right, wrong, unknown, out of range; an unknown user costs a full
 * hash), the file checks shared with the RADIUS secret, the atomic save,
 * and the factor's questions and failure delay. Test code.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "auth/auth_conv.h"
#include "auth/vnc_password.h"
#include "privsep/errors.h"
#include "check.h"

/* Cost-1 yescrypt hashes (fast) of "alice-pw-1", "bob-pw-22", "carol-pw-333". */
#define H_ALICE	"$y$j75$WPnjjLLSyYSjAdy7c59iM.$fUE98o/KFa/tvJvyDGsHQOvC9F.M/.qxKRHipIWTBj3"
#define H_BOB	"$y$j75$WfM/jYewqj8Eb05L/JKmB/$SFYQOOszGiMGayEKufV9xQk7GSeHDJwSXx5B339kG5A"
#define H_CAROL	"$y$j75$RZBee47waEaZt6FSgQP.x/$OBqihhDos/nTILQW2O2JAWT/9r74LyBu4dmxxeGpfc3"

static const char good_text[] =
    "alice:" H_ALICE "\n"
    "bob.smith-2:" H_BOB "\n"
    "_carol:" H_CAROL "\n";

static struct vnc_password_db db, db2;
static char err[1024];

static int
parse(const char *text, size_t len)
{
	err[0] = '\0';
	return vnc_password_parse(&db, "t", text, len, err, sizeof(err));
}

/* text must be refused with exactly want. */
#define BAD(text, want) do {						\
	int r_ = parse((text), strlen(text));				\
	CHECK(r_ == MOAT_ERR_CONFIG && strcmp(err, (want)) == 0 &&	\
	    db.n == 0, "%d '%s', want '%s'", r_, err, (want));		\
} while (0)

static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A hash of pw made by libxcrypt with prefix ("$6$", "" for DES) and count. */
static int
make_hash(const char *prefix, unsigned long count, const char *pw, char *out,
    size_t outlen)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;
	const char *h;

	if (crypt_gensalt_rn(prefix, count, NULL, 0, setting,
	    sizeof(setting)) == NULL)
		return -1;
	memset(&cd, 0, sizeof(cd));
	if ((h = crypt_rn(pw, setting, &cd, sizeof(cd))) == NULL)
		return -1;
	snprintf(out, outlen, "%s", h);
	return 0;
}

static void
test_parse_good(void)
{
	char out[1024];
	size_t len;

	CHECK(parse(good_text, strlen(good_text)) == 0, "%s", err);
	CHECK(db.n == 3 && strcmp(db.e[0].user, "alice") == 0 &&
	    strcmp(db.e[1].user, "bob.smith-2") == 0 &&
	    strcmp(db.e[2].user, "_carol") == 0 &&
	    strcmp(db.e[0].hash, H_ALICE) == 0 &&
	    strcmp(db.e[2].hash, H_CAROL) == 0, "%zu entries", db.n);
	CHECK(vnc_password_format(&db, out, sizeof(out), &len) == 0 &&
	    len == strlen(good_text) && memcmp(out, good_text, len) == 0,
	    "formats back to the same text");
	CHECK(vnc_password_format(&db, out, 40, &len) == MOAT_ERR_TOO_LONG,
	    "a short buffer");
	CHECK(parse("", 0) == 0 && db.n == 0, "an empty file: %s", err);
	CHECK(vnc_password_find(&db, "alice") == NULL);
	CHECK(parse(good_text, strlen(good_text)) == 0 &&
	    vnc_password_find(&db, "bob.smith-2") == &db.e[1] &&
	    vnc_password_find(&db, "Alice") == NULL &&
	    vnc_password_find(&db, "alic") == NULL &&
	    vnc_password_find(&db, "") == NULL, "lookups are exact");
}

static void
test_parse_bad(void)
{
	char line[2048], want[1024], h[256];
	size_t i;

	BAD("alice:" H_ALICE, "t:1: the last line does not end with a "
	    "newline (a truncated file?)");
	BAD("alice:" H_ALICE "\n\n", "t:2: empty line; every line is "
	    "USER:HASH");
	BAD("alice:" H_ALICE "\r\n", "t:1: carriage return in line (lines "
	    "end with \\n alone)");
	BAD("alice:" H_ALICE "\nbob:" H_BOB "\nalice:" H_CAROL "\n",
	    "t:3: user alice appears twice (first at line 1)");
	BAD("# comment\n", "t:1: expected USER:HASH, found '# comment'");
	BAD(":" H_ALICE "\n", "t:1: missing user name before ':'");
	BAD("-alice:" H_ALICE "\n", "t:1: invalid user name '-alice' (1 to 32 "
	    "letters, digits, '.', '_', '-'; not starting with '-')");
	BAD("al ice:" H_ALICE "\n", "t:1: invalid user name 'al ice' (1 to 32 "
	    "letters, digits, '.', '_', '-'; not starting with '-')");
	BAD("al\x1bice:" H_ALICE "\n", "t:1: invalid user name 'al\\x1bice' "
	    "(1 to 32 letters, digits, '.', '_', '-'; not starting with '-')");
	BAD("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:" H_ALICE "\n", "t:1: invalid "
	    "user name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' (1 to 32 letters, "
	    "digits, '.', '_', '-'; not starting with '-')");
	BAD("alice: " H_ALICE "\n", "t:1: user alice: not a crypt hash; only "
	    "yescrypt hashes ($y$PARAMS$SALT$HASH) are accepted: set the "
	    "password again with moatctl password");
	BAD("alice:\n", "t:1: user alice: empty; only yescrypt hashes "
	    "($y$PARAMS$SALT$HASH) are accepted: set the password again with "
	    "moatctl password");
	BAD("alice:!" H_ALICE "\n", "t:1: user alice: a locked-account marker, "
	    "not a hash; only yescrypt hashes ($y$PARAMS$SALT$HASH) are "
	    "accepted: set the password again with moatctl password");
	CHECK(parse("alice:x\0y\n", 10) == MOAT_ERR_CONFIG &&
	    strcmp(err, "t:1: NUL byte in line") == 0, "%s", err);

	/* Malformed yescrypt strings: each piece is checked. */
	{
		static const char *const bad_y[] = {
			"$y$$WPnjjLLSyYSjAdy7c59iM.$fUE98o/KFa/tvJvyDGsHQOvC9F.M/.qxKRHipIWTBj3",	/* no params */
			"$y$j75j75j75j75j75jj$WPnjjLLSyYSjAdy7c59iM.$fUE98o/KFa/tvJvyDGsHQOvC9F.M/.qxKRHipIWTBj3",	/* 17 */
			"$y$j7!$WPnjjLLSyYSjAdy7c59iM.$fUE98o/KFa/tvJvyDGsHQOvC9F.M/.qxKRHipIWTBj3",
			"$y$j75$WPnjjLLSyY$fUE98o/KFa/tvJvyDGsHQOvC9F.M/.qxKRHipIWTBj3",	/* 10-char salt */
			"$y$j75$WPnjjLLSyYSjAdy7c59iM.a$fUE98o/KFa/tvJvyDGsHQOvC9F.M/.qxKRHipIWTBj3",	/* 23: %4 == 3, 'a' >= 16 */
			"$y$j75$WPnjjLLSyYSjAdy7c59iMz$fUE98o/KFa/tvJvyDGsHQOvC9F.M/.qxKRHipIWTBj3",	/* 22: 'z' >= 4 */
			"$y$j75$WPnjjLLSyYSjAdy7c59iM.$fUE98o/KFa/tvJvyDGsHQOvC9F.M/.qxKRHipIWTBjz",	/* last digest char */
			"$y$j75$WPnjjLLSyYSjAdy7c59iM.$fUE98o/KFa/tvJvyDGsHQOvC9F.M/.qxKRHipIWTBj",	/* 42 */
			"$y$j75$WPnjjLLSyYSjAdy7c59iM.$fUE98o/KFa/tvJvyDGsHQOvC9F.M/.qxKRHipIWTBj3.",	/* 44 */
			"$y$j75$WPnjjLLSyYSjAdy7c59iM.$fUE98o/KFa/tvJvyDGsHQOv*9F.M/.qxKRHipIWTBj3",
			"$y$j75$WPnjjLLSyYSjAdy7c59iM.fUE98o/KFa/tvJvyDGsHQOvC9F.M/.qxKRHipIWTBj3",	/* one '$' short */
			"$y$j75",
		};

		for (i = 0; i < sizeof(bad_y) / sizeof(bad_y[0]); i++) {
			snprintf(line, sizeof(line), "ok:" H_BOB "\nalice:%s\n",
			    bad_y[i]);
			CHECK(!vnc_password_valid_hash(bad_y[i]), "%s", bad_y[i]);
			CHECK(parse(line, strlen(line)) == MOAT_ERR_CONFIG &&
			    strncmp(err, "t:2: user alice: a malformed yescrypt "
			    "hash; ", 40) == 0 && db.n == 0, "%s: %s", bad_y[i],
			    err);
		}
	}

	/* Hashes of every other format, made by libxcrypt itself. */
	{
		static const struct {
			const char *prefix, *kind;
		} other[] = {
			{ "", "a traditional DES crypt hash" },
			{ "_", "a BSDi extended DES hash" },
			{ "$1$", "an MD5-crypt hash" },
			{ "$5$", "a SHA-256-crypt hash" },
			{ "$6$", "a SHA-512-crypt hash" },
			{ "$2b$", "a bcrypt hash" },
			{ "$7$", "a scrypt hash" },
			{ "$gy$", "a gost-yescrypt hash" },
			{ "$sha1$", "a SHA-1-crypt hash" },
		};

		for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
			if (make_hash(other[i].prefix, 0, "pw123456", h,
			    sizeof(h)) != 0) {
				printf("libxcrypt cannot make '%s' hashes: "
				    "skipped\n", other[i].prefix);
				continue;
			}
			snprintf(line, sizeof(line), "alice:%s\n", h);
			snprintf(want, sizeof(want), "t:1: user alice: %s; only "
			    "yescrypt hashes ($y$PARAMS$SALT$HASH) are accepted: "
			    "set the password again with moatctl password",
			    other[i].kind);
			CHECK(!vnc_password_valid_hash(h), "%s", h);
			BAD(line, want);
		}
		/* And yescrypt at every cost is accepted. */
		for (i = 1; i <= 4; i++) {
			CHECK(make_hash("$y$", i, "pw123456", h, sizeof(h)) == 0 &&
			    vnc_password_valid_hash(h), "cost %zu: %s", i, h);
		}
	}

	/* A line of 511 bytes and its '\n' is read whole; 512 are too long. */
	memset(line, 'a', 511);
	line[511] = '\n';
	line[512] = '\0';
	CHECK(parse(line, 512) == MOAT_ERR_CONFIG &&
	    strstr(err, "t:1: expected USER:HASH, found 'aaaa") == err &&
	    strstr(err, "...'") != NULL, "511: %s", err);
	memset(line, 'a', 512);
	line[512] = '\n';
	line[513] = '\0';
	BAD(line, "t:1: line longer than 511 bytes");
}

static void
test_limits(void)
{
	static char text[VNC_PASSWORD_FILE_MAX + 64];
	size_t len = 0, i;
	int r;

	for (i = 0; i < VNC_PASSWORD_ENTRIES_MAX; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "u%zu:%s\n", i, H_ALICE);
	r = parse(text, len);
	CHECK(r == 0 && db.n == VNC_PASSWORD_ENTRIES_MAX, "4096 entries: %s",
	    err);
	CHECK(vnc_password_set(&db, "one-more", H_BOB) == MOAT_ERR_TOO_LONG,
	    "a full table takes no more");
	CHECK(vnc_password_set(&db, "u7", H_BOB) == 0 &&
	    strcmp(vnc_password_find(&db, "u7")->hash, H_BOB) == 0,
	    "but replaces");
	len += (size_t)snprintf(text + len, sizeof(text) - len, "u%zu:%s\n", i,
	    H_ALICE);
	r = parse(text, len);
	CHECK(r == MOAT_ERR_CONFIG && strcmp(err, "t:4097: more than 4096 "
	    "entries") == 0 && db.n == 0, "4097 entries: %s", err);
	memset(text, 'x', VNC_PASSWORD_FILE_MAX + 1);
	r = parse(text, VNC_PASSWORD_FILE_MAX + 1);
	CHECK(r == MOAT_ERR_CONFIG && strcmp(err, "t: file larger than "
	    "2097152 bytes") == 0, "%s", err);
}

/*
 * Every single-bit flip and every truncation of a good file: parsed or
 * refused with "mut:LINE: ..."; whatever parses formats back to exactly
 * its bytes; a truncation parses exactly when it ends at a line's end.
 * Inputs are exact-size heap copies, so a sanitizer build catches any
 * read past the end.
 */
static void
test_mutations(void)
{
	size_t n = strlen(good_text), i, bit, len, ok = 0, refused = 0;
	size_t bad_msg = 0, bad_trip = 0, bad_trunc = 0;
	char out[1024], *copy;

	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit++) {
			if ((copy = malloc(n)) == NULL)
				continue;
			memcpy(copy, good_text, n);
			copy[i] ^= (char)(1u << bit);
			err[0] = '\0';
			if (vnc_password_parse(&db, "mut", copy, n, err,
			    sizeof(err)) == 0) {
				ok++;
				if (vnc_password_format(&db, out, sizeof(out),
				    &len) != 0 || len != n ||
				    memcmp(out, copy, n) != 0)
					bad_trip++;
			} else {
				refused++;
				if (strncmp(err, "mut:", 4) != 0 ||
				    err[4] < '1' || err[4] > '3' || db.n != 0)
					bad_msg++;
			}
			free(copy);
		}
	}
	CHECK(ok > 0 && refused > 0, "%zu flips parsed, %zu refused", ok,
	    refused);
	CHECK(bad_msg == 0, "%zu refusals without mut:LINE", bad_msg);
	CHECK(bad_trip == 0, "%zu flips did not round-trip", bad_trip);
	for (len = 0; len <= n; len++) {
		int at_end = len == 0 || good_text[len - 1] == '\n', r;

		if ((copy = malloc(len ? len : 1)) == NULL)
			continue;
		memcpy(copy, good_text, len);
		r = vnc_password_parse(&db, "mut", copy, len, err, sizeof(err));
		if ((r == 0) != at_end || (r != 0 && (strncmp(err, "mut:", 4) != 0 ||
		    strstr(err, "newline") == NULL)))
			bad_trunc++;
		free(copy);
	}
	CHECK(bad_trunc == 0, "%zu truncations misjudged", bad_trunc);
}

static void
test_table(void)
{
	CHECK(parse(good_text, strlen(good_text)) == 0, "%s", err);
	CHECK(vnc_password_set(&db, "alice", H_CAROL) == 0 && db.n == 3 &&
	    strcmp(db.e[0].hash, H_CAROL) == 0, "replaced in place");
	CHECK(vnc_password_set(&db, "dave", H_BOB) == 0 && db.n == 4 &&
	    strcmp(db.e[3].user, "dave") == 0, "appended");
	CHECK(vnc_password_set(&db, "-x", H_BOB) == MOAT_ERR_INVALID &&
	    vnc_password_set(&db, "x", "$6$abc$def") == MOAT_ERR_INVALID &&
	    db.n == 4, "invalid entries are refused");
	CHECK(vnc_password_delete(&db, "bob.smith-2") == 0 && db.n == 3 &&
	    strcmp(db.e[0].user, "alice") == 0 &&
	    strcmp(db.e[1].user, "_carol") == 0 &&
	    strcmp(db.e[2].user, "dave") == 0, "deleted, order kept");
	CHECK(vnc_password_delete(&db, "bob.smith-2") == MOAT_ERR_INVALID,
	    "deleting twice");
	CHECK(vnc_password_valid_user("a") && vnc_password_valid_user("A.b_c-1") &&
	    !vnc_password_valid_user("") && !vnc_password_valid_user("a:b") &&
	    !vnc_password_valid_user("a b") && !vnc_password_valid_user("-a") &&
	    !vnc_password_valid_user("\xc3\xa9") &&
	    vnc_password_valid_user("abcdefghijabcdefghijabcdefghijab") &&
	    !vnc_password_valid_user("abcdefghijabcdefghijabcdefghijabc"),
	    "user names");
}

static void
test_hash_verify(void)
{
	char h[VNC_PASSWORD_HASH_MAX + 1], h2[VNC_PASSWORD_HASH_MAX + 1];
	char big[300], five[] = "12345";
	double t0, known, wrong, unknown, invalid, range;
	int r;

	CHECK(vnc_password_hash("abcdef", 6, h, sizeof(h)) == 0 &&
	    strncmp(h, "$y$jBT$", 7) == 0 && vnc_password_valid_hash(h),
	    "cost 7: %s", h);
	CHECK(vnc_password_hash("abcdef", 6, h2, sizeof(h2)) == 0 &&
	    strcmp(h, h2) != 0, "a fresh salt each time");
	CHECK(vnc_password_hash("abcde", 5, h2, sizeof(h2)) == MOAT_ERR_INVALID,
	    "5 bytes refused");
	memset(big, 'p', sizeof(big));
	CHECK(vnc_password_hash(big, 255, h2, sizeof(h2)) == 0, "255 bytes");
	CHECK(vnc_password_hash(big, 256, h2, sizeof(h2)) == MOAT_ERR_INVALID,
	    "256 bytes refused");
	CHECK(vnc_password_hash("abc\0def", 7, h2, sizeof(h2)) ==
	    MOAT_ERR_INVALID, "a NUL refused");
	CHECK(vnc_password_hash("abcdef", 6, h2, 100) == MOAT_ERR_TOO_LONG,
	    "a short output buffer");

	CHECK(parse(good_text, strlen(good_text)) == 0, "%s", err);
	CHECK(vnc_password_verify(&db, "alice", "alice-pw-1", 10) == 0,
	    "right password");
	CHECK(vnc_password_verify(&db, "alice", "alice-pw-2", 10) == MOAT_ERR_AUTH,
	    "wrong password");
	CHECK(vnc_password_verify(&db, "alice", "alice-pw-1x", 11) ==
	    MOAT_ERR_AUTH, "a longer one");
	CHECK(vnc_password_verify(&db, "alice", "alice-pw-", 9) == MOAT_ERR_AUTH,
	    "a prefix");
	CHECK(vnc_password_verify(&db, "alice", "bob-pw-22", 9) == MOAT_ERR_AUTH,
	    "another user's password");
	CHECK(vnc_password_verify(&db, "bob.smith-2", "bob-pw-22", 9) == 0,
	    "bob's own");
	CHECK(vnc_password_verify(&db, "nobody", "alice-pw-1", 10) ==
	    MOAT_ERR_AUTH, "unknown user");
	CHECK(vnc_password_verify(&db, "bad name", "alice-pw-1", 10) ==
	    MOAT_ERR_AUTH, "invalid name");
	/* Out of range fails even where the stored hash would match. */
	CHECK(make_hash("$y$", 1, five, h, sizeof(h)) == 0 &&
	    vnc_password_set(&db, "erin", h) == 0 &&
	    vnc_password_verify(&db, "erin", five, 5) == MOAT_ERR_AUTH,
	    "a 5-byte password never passes");
	big[299] = '\0';
	CHECK(make_hash("$y$", 1, big, h, sizeof(h)) == 0 &&
	    vnc_password_set(&db, "erin", h) == 0 &&
	    vnc_password_verify(&db, "erin", big, 299) == MOAT_ERR_AUTH,
	    "a 299-byte password never passes");
	CHECK(vnc_password_verify(&db, "alice", "alice-pw-1\0x", 12) ==
	    MOAT_ERR_AUTH, "an answer with a NUL");
	/* A syntactically valid setting libxcrypt refuses. */
	CHECK(vnc_password_set(&db, "frank", "$y$zzz$WPnjjLLSyYSjAdy7c59iM.$"
	    "fUE98o/KFa/tvJvyDGsHQOvC9F.M/.qxKRHipIWTBj3") == 0 &&
	    vnc_password_verify(&db, "frank", "whatever", 8) == MOAT_ERR_CRYPTO,
	    "unusable parameters are an error, not a pass");

	/*
	 * An unknown user costs a full hash at moat's cost. CPU time, so a
	 * busy machine slows both alike; the best of three runs of each.
	 * Not an equality test: only that no path skips the hash.
	 */
	CHECK(vnc_password_hash("the-right-one", 13, h, sizeof(h)) == 0 &&
	    vnc_password_set(&db, "timed", h) == 0, "timed entry");
	known = wrong = unknown = invalid = range = 1e9;
	for (int i = 0; i < 3; i++) {
		double d;

		t0 = cpu_ms();
		r = vnc_password_verify(&db, "timed", "the-right-one", 13);
		d = cpu_ms() - t0;
		CHECK(r == 0);
		known = d < known ? d : known;
		t0 = cpu_ms();
		(void)vnc_password_verify(&db, "timed", "the-wrong-one", 13);
		d = cpu_ms() - t0;
		wrong = d < wrong ? d : wrong;
		t0 = cpu_ms();
		(void)vnc_password_verify(&db, "no-such-user", "the-right-one", 13);
		d = cpu_ms() - t0;
		unknown = d < unknown ? d : unknown;
		t0 = cpu_ms();
		(void)vnc_password_verify(&db, "in valid", "the-right-one", 13);
		d = cpu_ms() - t0;
		invalid = d < invalid ? d : invalid;
		t0 = cpu_ms();
		(void)vnc_password_verify(&db, "timed", "short", 5);
		d = cpu_ms() - t0;
		range = d < range ? d : range;
	}
	printf("verify CPU ms (best of 3): right %.1f, wrong %.1f, unknown user "
	    "%.1f, invalid name %.1f, 5-byte answer %.1f\n", known, wrong,
	    unknown, invalid, range);
	CHECK(known >= 5.0, "a cost-7 hash takes %.1f ms of CPU", known);
	CHECK(wrong >= known / 2 && unknown >= known / 2 &&
	    invalid >= known / 2 && range >= known / 2,
	    "every path runs a full hash");
}

/* ---------- files ---------- */

static int
write_file(const char *path, const void *data, size_t n, mode_t mode)
{
	int fd;

	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		return -1;
	if (write(fd, data, n) != (ssize_t)n || fchmod(fd, mode) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static size_t
count_entries(const char *dir)
{
	struct dirent *d;
	size_t n = 0;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((d = readdir(dp)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	closedir(dp);
	return n;
}

static void
test_files(void)
{
	char dir[] = "/tmp/moat-vncpw-test.XXXXXX", f[256], l[256], e[256];
	char text[1024], back[1024], bad[512];
	struct stat st, st2;
	size_t len;
	int fd;
	ssize_t n;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(f, sizeof(f), "%s/vnc-passwords", dir);
	snprintf(l, sizeof(l), "%s/link", dir);
	snprintf(e, sizeof(e), "%s/missing", dir);

	if (geteuid() == 0) {
		CHECK(write_file(f, good_text, strlen(good_text), 0600) == 0 &&
		    vnc_password_load(&db, f, err, sizeof(err)) == 0 &&
		    db.n == 3, "0600: %s", err);
		CHECK(write_file(f, good_text, strlen(good_text), 0400) == 0 &&
		    vnc_password_load(&db, f, err, sizeof(err)) == 0 &&
		    db.n == 3, "0400: %s", err);
		CHECK(write_file(f, good_text, strlen(good_text), 0600) == 0 &&
		    chown(f, 65534, 65534) == 0 &&
		    vnc_password_load(&db, f, err, sizeof(err)) ==
		    MOAT_ERR_CONFIG && strstr(err, "not by root") != NULL &&
		    strstr(err, f) != NULL && db.n == 0, "owner: %s", err);
		snprintf(bad, sizeof(bad), "alice:" H_ALICE "\nbob:$1$abc$def\n");
		CHECK(write_file(f, bad, strlen(bad), 0600) == 0 &&
		    vnc_password_load(&db, f, err, sizeof(err)) ==
		    MOAT_ERR_CONFIG && strncmp(err, f, strlen(f)) == 0 &&
		    strstr(err, ":2: user bob: an MD5-crypt hash") != NULL &&
		    db.n == 0, "FILE:LINE: %s", err);
		snprintf(bad, sizeof(bad), "alice:" H_ALICE "\nfrank:$y$zzz$"
		    "WPnjjLLSyYSjAdy7c59iM.$fUE98o/KFa/tvJvyDGsHQOvC9F.M/."
		    "qxKRHipIWTBj3\n");
		CHECK(write_file(f, bad, strlen(bad), 0600) == 0 &&
		    vnc_password_load(&db, f, err, sizeof(err)) ==
		    MOAT_ERR_CONFIG && strstr(err, ":2: user frank: libxcrypt "
		    "cannot use the yescrypt parameters 'zzz'") != NULL &&
		    db.n == 0, "trial hash: %s", err);
		CHECK(write_file(f, "", 0, 0600) == 0 &&
		    vnc_password_load(&db, f, err, sizeof(err)) == 0 &&
		    db.n == 0, "an empty file: %s", err);
	} else
		printf("not root: skipping the owner and success checks\n");
	CHECK(write_file(f, good_text, strlen(good_text), 0644) == 0 &&
	    vnc_password_load(&db, f, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strstr(err, "VNC password file has mode 0644") != NULL &&
	    strstr(err, f) != NULL && db.n == 0, "0644: %s", err);
	CHECK(write_file(f, good_text, strlen(good_text), 0640) == 0 &&
	    vnc_password_load(&db, f, err, sizeof(err)) == MOAT_ERR_CONFIG,
	    "0640: %s", err);
	CHECK(write_file(f, good_text, strlen(good_text), 0600) == 0 &&
	    symlink(f, l) == 0 &&
	    vnc_password_load(&db, l, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strstr(err, "symbolic link") != NULL, "symbolic link: %s", err);
	CHECK(vnc_password_load(&db, e, err, sizeof(err)) == MOAT_ERR_CONFIG &&
	    strstr(err, e) != NULL && strstr(err, "No such file") != NULL,
	    "missing: %s", err);
	CHECK(vnc_password_load(&db, dir, err, sizeof(err)) == MOAT_ERR_CONFIG,
	    "a directory: %s", err);
	unlink(l);

	/* The atomic save: the new file replaces the old, nothing is left. */
	if (geteuid() == 0) {
		CHECK(parse(good_text, strlen(good_text)) == 0);
		CHECK(write_file(f, "old\n", 4, 0644) == 0 &&
		    stat(f, &st) == 0, "an old file");
		CHECK(vnc_password_save(&db, f, err, sizeof(err)) == 0, "%s",
		    err);
		CHECK(stat(f, &st2) == 0 && st2.st_ino != st.st_ino &&
		    (st2.st_mode & 07777) == 0600 && st2.st_uid == 0,
		    "a new inode, mode %04o", (unsigned)(st2.st_mode & 07777));
		CHECK(count_entries(dir) == 1, "no temporary file left");
		CHECK(vnc_password_format(&db, text, sizeof(text), &len) == 0);
		fd = open(f, O_RDONLY);
		n = fd >= 0 ? read(fd, back, sizeof(back)) : -1;
		if (fd >= 0)
			close(fd);
		CHECK(n == (ssize_t)len && memcmp(back, text, len) == 0,
		    "the file holds the entries");
		CHECK(vnc_password_load(&db2, f, err, sizeof(err)) == 0 &&
		    db2.n == db.n && memcmp(db2.e, db.e, db.n *
		    sizeof(db.e[0])) == 0, "and loads back: %s", err);
		snprintf(bad, sizeof(bad), "%s/no/such/dir/f", dir);
		CHECK(vnc_password_save(&db, bad, err, sizeof(err)) ==
		    MOAT_ERR_SYSTEM && strstr(err, bad) != NULL,
		    "no directory: %s", err);
		CHECK(vnc_password_save(&db, "relative", err, sizeof(err)) ==
		    MOAT_ERR_INVALID, "a relative path");
		CHECK(count_entries(dir) == 1, "still nothing left");
	}
	unlink(f);
	rmdir(dir);
}

/* ---------- the factor ---------- */

struct fake_viewer {
	const char *answer;	/* NULL: the viewer cannot answer */
	int fail;		/* ask() returns this instead */
	int asked, secret;
	char prompt[64];
};

static int
fake_ask(void *arg, int secret, const char *text, char *ans, size_t anslen)
{
	struct fake_viewer *v = arg;

	v->asked++;
	v->secret = secret;
	snprintf(v->prompt, sizeof(v->prompt), "%s", text);
	if (v->fail != 0)
		return v->fail;
	if (v->answer == NULL)
		return MOAT_ERR_UNSUPPORTED;
	if (strlen(v->answer) >= anslen)
		return MOAT_ERR_TOO_LONG;
	memcpy(ans, v->answer, strlen(v->answer) + 1);
	return 0;
}

static int
fake_tell(void *arg, int error, const char *text)
{
	return 0;
}

static int
converse(const char *user, int first, struct fake_viewer *v, int64_t *ms)
{
	struct auth_conv conv = { fake_ask, fake_tell, v };
	char reason[256];
	int64_t t0 = mono_ms();
	int r;

	reason[0] = 'x';
	reason[1] = '\0';
	r = vnc_password_converse(&db, user, first, &conv, reason,
	    sizeof(reason));
	*ms = mono_ms() - t0;
	CHECK(r == 0 ? reason[0] == '\0' : r != MOAT_ERR_AUTH ||
	    strcmp(reason, "Authentication failed") == 0, "reason '%s'", reason);
	return r;
}

static void
test_converse(void)
{
	struct fake_viewer v;
	int64_t ms;

	/* root always exists; "moatnosuchaccount" never does. */
	db.n = 0;
	CHECK(vnc_password_set(&db, "root", H_ALICE) == 0 &&
	    vnc_password_set(&db, "moatnosuchaccount", H_BOB) == 0);

	memset(&v, 0, sizeof(v));
	v.answer = "alice-pw-1";
	CHECK(converse("root", 1, &v, &ms) == 0, "the right password");
	CHECK(v.asked == 1 && v.secret == 1 &&
	    strcmp(v.prompt, "Password: ") == 0, "asked '%s'", v.prompt);
	CHECK(ms < AUTH_FAIL_DELAY_MS, "a pass is not delayed (%lld ms)",
	    (long long)ms);

	memset(&v, 0, sizeof(v));
	v.answer = "alice-pw-1";
	CHECK(converse("root", 0, &v, &ms) == 0 &&
	    strcmp(v.prompt, "VNC password: ") == 0,
	    "after another factor: '%s'", v.prompt);

	memset(&v, 0, sizeof(v));
	v.answer = "alice-pw-2";
	CHECK(converse("root", 1, &v, &ms) == MOAT_ERR_AUTH, "wrong password");
	CHECK(ms >= AUTH_FAIL_DELAY_MS, "answered after %lld ms",
	    (long long)ms);

	memset(&v, 0, sizeof(v));
	v.answer = "bob-pw-22";
	CHECK(converse("moatnosuchaccount", 1, &v, &ms) == MOAT_ERR_AUTH &&
	    ms >= AUTH_FAIL_DELAY_MS,
	    "the right password of an entry without an account fails");

	memset(&v, 0, sizeof(v));
	v.answer = NULL;
	CHECK(converse("root", 0, &v, &ms) == MOAT_ERR_AUTH &&
	    ms >= AUTH_FAIL_DELAY_MS, "a viewer that cannot answer fails");

	memset(&v, 0, sizeof(v));
	v.fail = MOAT_ERR_EOF;
	CHECK(converse("root", 1, &v, &ms) == MOAT_ERR_EOF &&
	    ms < AUTH_FAIL_DELAY_MS, "a viewer that left: at once");
}

int
main(void)
{
	test_parse_good();
	test_parse_bad();
	test_limits();
	test_mutations();
	test_table();
	test_hash_verify();
	test_files();
	test_converse();
	return check_summary();
}
