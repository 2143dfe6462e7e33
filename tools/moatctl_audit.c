/*
 * moatctl_audit.c - "moatctl audit verify" and "moatctl audit show": read
 * moat's audit files (docs/audit-file-format.md) offline.
 *
 * Runs in moatctl, as whoever calls it (root, to read the files and the
 * signing key). It trusts none of the files it reads: every line goes
 * through the bounded strict reader of monitor/audit_verify.c, and every
 * string it prints is escaped (control characters, bidirectional and
 * other invisible format characters become \uXXXX). It trusts the key
 * named by --key or by AuditKey in a configuration config_load() accepted.
 * It writes nothing and talks to nobody.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "monitor/audit_verify.h"
#include "policy/config.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "moatctl_audit.h"

#define AUDIT_FILE_READ_MAX	((size_t)1 << 30)
#define DEFAULT_CONFIG		"/etc/moat/moatd.conf"

enum {
	OPT_KEY = 300, OPT_LIVE, OPT_USER, OPT_ADDRESS, OPT_SINCE, OPT_UNTIL,
	OPT_EVENT, OPT_JSON
};

static void
audit_usage(void)
{
	fprintf(stderr,
	    "usage: moatctl audit verify [-f moatd.conf | --key FILE] [--live] "
	    "FILE...\n"
	    "       moatctl audit show [--user U] [--address A] [--since T] "
	    "[--until T]\n"
	    "                          [--event E] [--json] FILE...\n"
	    "           FILEs oldest first (AuditFile.N ... AuditFile.1 "
	    "AuditFile);\n"
	    "           T: 2026-11-23T01:02:03Z or 2026-11-23T01:02:03.456Z "
	    "(UTC)\n");
	exit(2);
}

/* --- verify --- */

static int
audit_verify_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, OPT_KEY },
		{ "live", no_argument, NULL, OPT_LIVE },
		{ NULL, 0, NULL, 0 }
	};
	static struct moat_config cfg;
	struct audit_verify_report rep;
	const char *conf = DEFAULT_CONFIG, *key = NULL;
	char err[1024];
	EVP_PKEY *pub = NULL;
	int ch, flags = 0, r;

	while ((ch = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			conf = optarg;
			break;
		case OPT_KEY:
			key = optarg;
			break;
		case OPT_LIVE:
			flags |= AUDIT_VERIFY_LIVE;
			break;
		default:
			audit_usage();
		}
	}
	if (optind >= argc)
		audit_usage();
	if (key == NULL) {
		config_defaults(&cfg);
		if (config_load(&cfg, NULL, conf, err, sizeof(err)) != 0) {
			fprintf(stderr, "moatctl: %s\nmoatctl: AuditKey is in that "
			    "configuration; name the key with --key\n", err);
			return 1;
		}
		key = cfg.audit_key;
	}
	if (audit_key_load_public(key, &pub, err, sizeof(err)) != 0) {
		fprintf(stderr, "moatctl: audit: %s\n", err);
		return 1;
	}
	r = audit_verify_paths((const char *const *)argv + optind,
	    (size_t)(argc - optind), pub, flags, &rep);
	EVP_PKEY_free(pub);
	if (r != 0) {
		if (rep.line > 0)
			printf("audit: %s:%llu: %s\n", rep.file,
			    (unsigned long long)rep.line, rep.msg);
		else
			printf("audit: %s: %s\n", rep.file, rep.msg);
		printf("audit: FAILED after %llu good records\n",
		    (unsigned long long)rep.records);
		return 1;
	}
	printf("audit: %llu records, %llu checkpoints, chain intact (seq %llu-%llu)\n",
	    (unsigned long long)rep.records, (unsigned long long)rep.checkpoints,
	    (unsigned long long)rep.first_seq, (unsigned long long)rep.last_seq);
	if (rep.starts_linked)
		printf("audit: note: the first file continues an earlier file not "
		    "given (rotated away?); records before seq %llu are not "
		    "checked\n", (unsigned long long)rep.first_seq);
	if (rep.recovered > 0)
		printf("audit: note: %llu crash recovery(ies): a file ended torn or "
		    "without its final checkpoint and the next file records the "
		    "recovery\n", (unsigned long long)rep.recovered);
	if (flags & AUDIT_VERIFY_LIVE)
		printf("audit: unsigned tail of %llu records after the last "
		    "checkpoint (chained, not yet signed)\n",
		    (unsigned long long)rep.unsigned_tail);
	return 0;
}

/* --- show --- */

struct show_filter {
	const char *user;
	const char *address;
	const char *event;
	int64_t since;		/* ms since the epoch, or INT64_MIN */
	int64_t until;		/* exclusive, or INT64_MAX */
	int json;
};

static int
digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/*
 * Parses "YYYY-MM-DDTHH:MM:SS[.mmm]Z" (n bytes at s) as milliseconds since
 * the epoch. Returns 0 or -1.
 */
static int
parse_ts(const char *s, size_t n, int64_t *ms)
{
	struct tm tm;
	int y, mo, d, h, mi, se, frac = 0;
	time_t t;

	if ((n != 20 && n != 24) || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[n - 1] != 'Z' ||
	    digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &se) ||
	    (n == 24 && (s[19] != '.' || digits(s + 20, 3, &frac))))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}

/* Code point of the valid UTF-8 sequence at p (the reader checked it); *n its length. */
static uint32_t
utf8_cp(const unsigned char *p, size_t *n)
{
	if (p[0] < 0xe0) {
		*n = 2;
		return (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	}
	if (p[0] < 0xf0) {
		*n = 3;
		return (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 |
		    (p[2] & 0x3f);
	}
	*n = 4;
	return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
	    (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
}

/*
 * Characters a terminal should never receive raw: C1 controls, bidi and
 * invisible format characters.
 */
static int
hidden_cp(uint32_t cp)
{
	return cp < 0xa0 || cp == 0xad || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) ||
	    cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb);
}

/*
 * Prints a string member in its JSON-escaped form (ASCII escapes stay as
 * they are), quoted unless it is a plain word; hidden non-ASCII
 * characters become \uXXXX.
 */
static void
print_value(const struct audit_jfield *f)
{
	const unsigned char *p = (const unsigned char *)f->val;
	size_t i, n;
	uint32_t cp;
	int quote = f->vallen == 0;

	if (f->type != AUDIT_J_STRING) {
		fwrite(f->val, 1, f->vallen, stdout);
		return;
	}
	for (i = 0; i < f->vallen && !quote; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9') || strchr("._:@/+-", p[i]) != NULL))
			quote = 1;
	if (quote)
		putchar('"');
	for (i = 0; i < f->vallen; i += n) {
		if (p[i] < 0x80) {
			putchar(p[i]);
			n = 1;
			continue;
		}
		cp = utf8_cp(p + i, &n);
		if (hidden_cp(cp)) {
			if (cp > 0xffff)
				printf("\\u%04x\\u%04x", 0xd800 + ((cp - 0x10000) >> 10),
				    0xdc00 + ((cp - 0x10000) & 0x3ff));
			else
				printf("\\u%04x", cp);
		} else
			fwrite(p + i, 1, n, stdout);
	}
	if (quote)
		putchar('"');
}

static void
print_text(const struct audit_jobj *o)
{
	const struct audit_jfield *ts = audit_obj_get(o, "ts"),
	    *seq = audit_obj_get(o, "seq"), *ev = audit_obj_get(o, "event");
	static const char *const skip[] = { "ts", "seq", "event", "prev", "hash",
	    "sig" };
	size_t i, k;

	if (ts != NULL)
		print_value(ts);
	else
		fputs("-", stdout);
	if (seq != NULL && seq->type == AUDIT_J_INT)
		printf(" #%lld", (long long)seq->num);
	putchar(' ');
	if (ev != NULL)
		print_value(ev);
	for (i = 0; i < o->n; i++) {
		for (k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
			if (o->f[i].keylen == strlen(skip[k]) &&
			    memcmp(o->f[i].key, skip[k], o->f[i].keylen) == 0)
				break;
		if (k < sizeof(skip) / sizeof(skip[0]))
			continue;
		printf(" %.*s=", (int)o->f[i].keylen, o->f[i].key);
		print_value(&o->f[i]);
	}
	putchar('\n');
}

static int
matches(const struct audit_jobj *o, const struct show_filter *sf)
{
	const struct audit_jfield *ts;
	int64_t ms;

	if (sf->user != NULL && !audit_field_equals(audit_obj_get(o, "user"),
	    sf->user))
		return 0;
	if (sf->address != NULL && !audit_field_equals(audit_obj_get(o,
	    "peer_addr"), sf->address))
		return 0;
	if (sf->event != NULL && !audit_field_equals(audit_obj_get(o, "event"),
	    sf->event))
		return 0;
	if (sf->since != INT64_MIN || sf->until != INT64_MAX) {
		ts = audit_obj_get(o, "ts");
		if (ts == NULL || ts->type != AUDIT_J_STRING ||
		    parse_ts(ts->val, ts->vallen, &ms) != 0 ||
		    ms < sf->since || ms >= sf->until)
			return 0;
	}
	return 1;
}

/* Shows the matching records of one file; returns 0, or 1 if a line was unreadable. */
static int
show_file(const char *path, const struct show_filter *sf)
{
	static struct audit_jobj o;
	char *data, epath[512];
	const char *p, *nl;
	size_t len, n;
	uint64_t ln = 0;
	int r, bad = 0;

	log_escape(epath, sizeof(epath), path, strnlen(path, 4096));
	if ((r = audit_read_file(path, AUDIT_FILE_READ_MAX, &data, &len)) != 0) {
		fprintf(stderr, "moatctl: audit: %s: cannot read: %s\n", epath,
		    r == MOAT_ERR_SYSTEM ? strerror(errno) : moat_strerror(r));
		return 1;
	}
	for (p = data; p < data + len; p = nl + 1) {
		ln++;
		n = (size_t)(data + len - p);
		if ((nl = memchr(p, '\n', n)) == NULL) {
			fprintf(stderr, "moatctl: audit: %s:%llu: incomplete last "
			    "line skipped\n", epath, (unsigned long long)ln);
			break;
		}
		n = (size_t)(nl - p);
		if (n + 1 > AUDIT_LINE_MAX || audit_json_parse(p, n, &o) != 0) {
			fprintf(stderr, "moatctl: audit: %s:%llu: not a valid record, "
			    "skipped\n", epath, (unsigned long long)ln);
			bad = 1;
			continue;
		}
		if (!matches(&o, sf))
			continue;
		if (sf->json) {
			fwrite(p, 1, n, stdout);
			putchar('\n');
		} else
			print_text(&o);
	}
	free(data);
	return bad;
}

static int
audit_show_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, OPT_USER },
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "event", required_argument, NULL, OPT_EVENT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 }
	};
	struct show_filter sf = { NULL, NULL, NULL, INT64_MIN, INT64_MAX, 0 };
	int ch, i, st = 0;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_USER:
			sf.user = optarg;
			break;
		case OPT_ADDRESS:
			sf.address = optarg;
			break;
		case OPT_EVENT:
			sf.event = optarg;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (parse_ts(optarg, strlen(optarg), ch == OPT_SINCE ?
			    &sf.since : &sf.until) != 0) {
				fprintf(stderr, "moatctl: audit: %s: want a UTC time "
				    "like 2026-11-23T01:02:03Z or "
				    "2026-11-23T01:02:03.456Z\n", optarg);
				return 2;
			}
			break;
		case OPT_JSON:
			sf.json = 1;
			break;
		default:
			audit_usage();
		}
	}
	if (optind >= argc)
		audit_usage();
	for (i = optind; i < argc; i++)
		st |= show_file(argv[i], &sf);
	if (fflush(stdout) != 0)
		return 1;
	return st;
}

int
moatctl_audit_main(int argc, char **argv)
{
	if (argc < 1)
		audit_usage();
	if (strcmp(argv[0], "verify") == 0)
		return audit_verify_cmd(argc, argv);
	if (strcmp(argv[0], "show") == 0)
		return audit_show_cmd(argc, argv);
	audit_usage();
	return 2;
}
