/*
 * fuzz_audit_record.c - libFuzzer target for the audit record reader
 * (monitor/audit_event.c), which moatd's listener runs over every record
 * a monitor sends before writing it: audit_check(), audit_next_field() and
 * audit_to_kv() on any bytes. A record they accept must be one the
 * builder could have written: rebuilt field by field it must be the same
 * bytes (ts re-set), and its kv text must be one line. The input is also
 * built into a record as an untrusted string value, which must then be
 * accepted and read back as its printable form. abort() on a difference.
 * (The reader accepts integers only in canonical form, so an accepted
 * record has exactly one spelling.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/audit_event.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct audit_rec rec, again;
static struct audit_field f;
static char kv[AUDIT_RECORD_MAX * 2], pr[AUDIT_VALUE_MAX + 1];

/* Rebuilds an accepted record from its fields; returns 1 if identical. */
static int
rebuilds(const char *j, size_t len)
{
	size_t pos = 0, n;
	const char *out;
	int r;

	again.len = 0;
	again.full = 0;
	again.json[0] = '\0';
	if (put_raw(&again, "{", 1) != 0)
		abort();
	while ((r = audit_next_field(j, len, &pos, &f)) == 1) {
		if (!f.is_string)
			audit_int(&again, f.key, strtoll(f.val, NULL, 10));
		else {
			/* A value read back is printable already, '\\' included. */
			if (put_key(&again, f.key) != 0 ||
			    put_json_string(&again, f.val) != 0)
				return 1;	/* too long to rebuild: skip */
		}
	}
	if (r != 0)
		abort();
	out = audit_end(&again, &n);
	return n == len && memcmp(out, j, n) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *j = (const char *)data, *built;
	char event[32];
	uint32_t session;
	size_t len, pos = 0;
	int users = 0;

	if (size > AUDIT_RECORD_MAX)
		return 0;
	if (audit_check(j, size, event, sizeof(event), &session) == 0) {
		if (audit_to_kv(j, size, kv, sizeof(kv)) == 0 &&
		    (memchr(kv, '\n', strlen(kv)) != NULL ||
		    memchr(kv, '\r', strlen(kv)) != NULL))
			abort();
		if (!rebuilds(j, size))
			abort();
	}

	/* The input as a hostile value: one field, read back printable. */
	audit_begin_at(&rec, 0, "auth_factor", 1, "192.0.2.1", 1);
	audit_str(&rec, "user", data, size);
	built = audit_end(&rec, &len);
	if (audit_check(built, len, event, sizeof(event), &session) != 0 ||
	    strcmp(event, "auth_factor") != 0 || session != 1)
		abort();
	audit_printable(pr, sizeof(pr), data, size);
	while (audit_next_field(built, len, &pos, &f) == 1)
		if (strcmp(f.key, "user") == 0) {
			users++;
			if (strcmp(f.val, pr) != 0)
				abort();
		}
	if (users != 1 || audit_to_kv(built, len, kv, sizeof(kv)) != 0 ||
	    strchr(kv, '\n') != NULL)
		abort();
	return 0;
}
