/*
 * test_known_hosts.c - moat-viewer's known-hosts parser and writer
 * (viewer/known_hosts.c): a valid file parses to the expected entries;
 * every truncation and every bit flip of it either fails cleanly or
 * parses to entries that are themselves valid and survive a save/load
 * round trip; bounds (line length, duplicates, malformed fingerprints,
 * ports) are enforced; saving is atomic and mode 0600 and leaves no
 * temporary file. Test code.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "privsep/errors.h"
#include "viewer/known_hosts.h"

#define FP_A "SHA256:27:70:FC:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:" \
	"DD:EE:FF:01:23:45:67:89:AB:CD:EF:10:E6:C4:A6:01"
#define FP_B "SHA256:d9:dc:44:00:00:00:00:00:00:00:00:00:00:00:00:00:" \
	"00:00:00:00:00:00:00:00:00:00:00:00:00:99:c6:4d"

static const char valid[] =
    "# moat-viewer known hosts\n"
    "\n"
    "server.example.org:5900 " FP_A "\n"
    "[::1]:5901 " FP_B "\n"
    "127.0.0.1:65535 " FP_A "\n";

static int
parse(const char *s, size_t len, struct known_hosts *kh, size_t *line)
{
	return known_hosts_parse((const uint8_t *)s, len, kh, line);
}

static int
valid_entries(const struct known_hosts *kh)
{
	size_t i;

	for (i = 0; i < kh->n; i++)
		if (known_hosts_check_hostport(kh->e[i].hostport,
		    strlen(kh->e[i].hostport)) != 0)
			return 0;
	return 1;
}

static int
same(const struct known_hosts *a, const struct known_hosts *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->e[i].hostport, b->e[i].hostport) != 0 ||
		    memcmp(a->e[i].key, b->e[i].key, KH_KEY_LEN) != 0)
			return 0;
	return 1;
}

static char dir[] = "/tmp/test_known_hosts.XXXXXX";

/* A parsed mutation must round-trip through save and load. */
static int
round_trip(const struct known_hosts *kh)
{
	char path[128];
	struct known_hosts back;
	int ok;

	snprintf(path, sizeof(path), "%s/rt", dir);
	if (known_hosts_save(path, kh) != 0 || known_hosts_load(path, &back) != 0)
		return 0;
	ok = same(kh, &back);
	known_hosts_free(&back);
	return ok;
}

static void
test_valid(void)
{
	struct known_hosts kh;
	const struct kh_entry *e;
	size_t line;

	CHECK(parse(valid, strlen(valid), &kh, &line) == 0);
	CHECK(kh.n == 3);
	e = known_hosts_find(&kh, "server.example.org:5900");
	CHECK(e != NULL && e->key[0] == 0x27 && e->key[31] == 0x01);
	e = known_hosts_find(&kh, "[::1]:5901");
	CHECK(e != NULL && e->key[0] == 0xd9 && e->key[31] == 0x4d);
	CHECK(known_hosts_find(&kh, "server.example.org:5901") == NULL);
	CHECK(round_trip(&kh));
	known_hosts_free(&kh);
	CHECK(parse("", 0, &kh, &line) == 0 && kh.n == 0);
}

static void
test_invalid(void)
{
	static const char *bad[] = {
		"host:5900 " FP_A " trailing\n",
		"host:5900  " FP_A "\n",
		"host " FP_A "\n",
		"host:0 " FP_A "\n",
		"host:65536 " FP_A "\n",
		"host:05900 " FP_A "\n",
		":5900 " FP_A "\n",
		"host:5900 SHA1:00\n",
		"host:5900 " FP_A "0\n",
		"host:5900\n",
		"host:5900 " FP_A "\nhost:5900 " FP_B "\n",
		"ho\tst:5900 " FP_A "\n",
		"host:5900 sha256:27:70:FC:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:"
		    "DD:EE:FF:01:23:45:67:89:AB:CD:EF:10:E6:C4:A6:01\n",
		"host:5900 SHA256:27-70:FC:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:"
		    "DD:EE:FF:01:23:45:67:89:AB:CD:EF:10:E6:C4:A6:01\n",
	};
	struct known_hosts kh;
	char big[KH_MAX_LINE + 64];
	size_t i, line;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(parse(bad[i], strlen(bad[i]), &kh, &line) ==
		    MOAT_ERR_INVALID, "case %zu", i);
		CHECK(kh.n == 0 && kh.e == NULL);
	}
	CHECK(parse(bad[10], strlen(bad[10]), &kh, &line) != 0 && line == 2,
	    "a duplicate is reported on its line");
	memset(big, '#', sizeof(big));
	CHECK(parse(big, KH_MAX_LINE, &kh, &line) == 0, "a line at the bound");
	CHECK(parse(big, KH_MAX_LINE + 1, &kh, &line) == MOAT_ERR_TOO_LONG &&
	    line == 1);
	CHECK(parse("host:5900 " FP_A "\0\n", strlen("host:5900 " FP_A) + 2,
	    &kh, &line) == MOAT_ERR_INVALID, "an embedded NUL");
	CHECK(parse(big, KH_MAX_FILE + 1, &kh, &line) == MOAT_ERR_TOO_LONG);
}

static void
test_mutations(void)
{
	struct known_hosts kh;
	char buf[sizeof(valid)];
	size_t len = strlen(valid), i, line, ok = 0;
	int bit;

	for (i = 0; i <= len; i++) {	/* every truncation */
		memcpy(buf, valid, i);
		if (parse(buf, i, &kh, &line) == 0) {
			ok++;
			CHECK(valid_entries(&kh) && round_trip(&kh),
			    "truncation at %zu", i);
			known_hosts_free(&kh);
		} else
			CHECK(kh.n == 0 && kh.e == NULL && line >= 1);
	}
	CHECK(ok > 0 && ok < len, "some truncations parse, most do not");
	for (i = 0; i < len; i++) {	/* every bit flip */
		for (bit = 0; bit < 8; bit++) {
			memcpy(buf, valid, len);
			buf[i] ^= (char)(1 << bit);
			if (parse(buf, len, &kh, &line) == 0) {
				CHECK(valid_entries(&kh) && round_trip(&kh),
				    "flip at %zu bit %d", i, bit);
				known_hosts_free(&kh);
			} else
				CHECK(kh.n == 0 && kh.e == NULL && line >= 1);
		}
	}
}

static void
test_save(void)
{
	struct known_hosts kh = { NULL, 0 }, back;
	uint8_t key[KH_KEY_LEN];
	char path[192], sub[128], tmp[256];
	struct stat st;
	struct dirent *d;
	DIR *dd;
	int n = 0;

	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	snprintf(path, sizeof(path), "%s/known_hosts", sub);
	memset(key, 0x5a, sizeof(key));
	CHECK(known_hosts_load(path, &back) == 0 && back.n == 0,
	    "a missing file is an empty list");
	CHECK(known_hosts_set(&kh, "bad host:1", key) == MOAT_ERR_INVALID);
	CHECK(known_hosts_set(&kh, "h:1", key) == 0);
	CHECK(known_hosts_save(path, &kh) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(stat(sub, &st) == 0 && (st.st_mode & 07777) == 0700);
	key[0] = 1;
	CHECK(known_hosts_set(&kh, "h:1", key) == 0 && kh.n == 1, "replaces");
	CHECK(known_hosts_set(&kh, "h:2", key) == 0 && kh.n == 2);
	CHECK(known_hosts_save(path, &kh) == 0);
	CHECK(known_hosts_load(path, &back) == 0 && same(&kh, &back));
	known_hosts_free(&back);
	if ((dd = opendir(sub)) != NULL) {
		while ((d = readdir(dd)) != NULL)
			if (d->d_name[0] != '.')
				n++;
		closedir(dd);
	}
	CHECK(n == 1, "no temporary file left beside it");
	/* A directory in the way: the save fails and the file is untouched. */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	CHECK(mkdir(tmp, 0700) == 0);
	CHECK(known_hosts_save(path, &kh) == MOAT_ERR_SYSTEM);
	CHECK(known_hosts_load(path, &back) == 0 && same(&kh, &back));
	known_hosts_free(&back);
	rmdir(tmp);
	known_hosts_free(&kh);
}

int
main(void)
{
	char cmd[128];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_valid();
	test_invalid();
	test_mutations();
	test_save();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_summary();
}
