/*
 * audit_event.c - building and reading audit records (see audit.h). Pure
 * functions, run in moatd's listener and in every monitor (root). The
 * strings they take come from viewers, moat-net and desktop users and are
 * trusted for nothing: each is bounded and made printable before it is
 * quoted. The parser reads only what the builder writes; the listener runs
 * it over every record a monitor sends before writing it anywhere.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "privsep/errors.h"

#define AUDIT_TAIL_RESERVE	32u	/* ,"truncated":1} and the NUL */

static const char hexdig[] = "0123456789abcdef";

/* Length of the valid, non-control UTF-8 character at s[0..n), or 0. */
static size_t
utf8_char(const unsigned char *s, size_t n)
{
	size_t want, i;
	unsigned char c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		want = 2;
	else if (c >= 0xe0 && c <= 0xef)
		want = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		want = 4;
	else
		return 0;
	if (n < want)
		return 0;
	for (i = 1; i < want; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (c == 0xc2 && s[1] < 0xa0)		/* C1 controls U+0080..U+009F */
		return 0;
	if (c == 0xe0 && s[1] < 0xa0)		/* overlong */
		return 0;
	if (c == 0xed && s[1] >= 0xa0)		/* surrogates */
		return 0;
	if (c == 0xf0 && s[1] < 0x90)		/* overlong */
		return 0;
	if (c == 0xf4 && s[1] >= 0x90)		/* above U+10FFFF */
		return 0;
	return want;
}

size_t
audit_printable(char *dst, size_t dstlen, const void *src, size_t len)
{
	const unsigned char *s = src;
	size_t i = 0, o = 0, n;

	if (dstlen == 0)
		return 0;
	if (len > AUDIT_VALUE_IN_MAX)
		len = AUDIT_VALUE_IN_MAX;
	while (i < len) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)c;
			i++;
		} else if (c >= 0x80 && (n = utf8_char(s + i, len - i)) > 0) {
			if (o + n >= dstlen)
				break;
			memcpy(dst + o, s + i, n);
			o += n;
			i += n;
		} else {
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hexdig[c >> 4];
			dst[o++] = hexdig[c & 15];
			i++;
		}
	}
	dst[o] = '\0';
	return o;
}

/* Appends n raw bytes, keeping room for the tail; returns 0 or -1. */
static int
put_raw(struct audit_rec *rec, const char *s, size_t n)
{
	if (rec->len + n + AUDIT_TAIL_RESERVE > sizeof(rec->json))
		return -1;
	memcpy(rec->json + rec->len, s, n);
	rec->len += n;
	rec->json[rec->len] = '\0';
	return 0;
}

/* Appends ,"key": (or "key": first); key is a fixed name. */
static int
put_key(struct audit_rec *rec, const char *key)
{
	char k[AUDIT_KEY_MAX + 8];
	int n;

	n = snprintf(k, sizeof(k), "%s\"%s\":", rec->len > 1 ? "," : "", key);
	if (n < 0 || (size_t)n >= sizeof(k))
		return -1;
	return put_raw(rec, k, (size_t)n);
}

/* Appends a printable string as a JSON string ("" and \ escaped). */
static int
put_json_string(struct audit_rec *rec, const char *p)
{
	char tmp[2 * AUDIT_VALUE_MAX + 3];
	size_t o = 0;

	tmp[o++] = '"';
	for (; *p != '\0' && o + 3 < sizeof(tmp); p++) {
		if (*p == '"' || *p == '\\')
			tmp[o++] = '\\';
		tmp[o++] = *p;
	}
	tmp[o++] = '"';
	return put_raw(rec, tmp, o);
}

void
audit_begin_at(struct audit_rec *rec, int64_t ms, const char *event,
    uint32_t session, const char *peer_addr, unsigned peer_port)
{
	char ts[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	rec->len = 0;
	rec->full = 0;
	rec->json[0] = '\0';
	(void)put_raw(rec, "{", 1);
	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	audit_cstr(rec, "ts", ts);
	audit_cstr(rec, "event", event);
	audit_int(rec, "session", session);
	audit_cstr(rec, "peer_addr", peer_addr);
	audit_int(rec, "peer_port", peer_port);
}

void
audit_begin(struct audit_rec *rec, const char *event, uint32_t session,
    const char *peer_addr, unsigned peer_port)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	audit_begin_at(rec, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
	    event, session, peer_addr, peer_port);
}

void
audit_str(struct audit_rec *rec, const char *key, const void *s, size_t len)
{
	char v[AUDIT_VALUE_MAX + 1];
	size_t mark = rec->len;

	audit_printable(v, sizeof(v), s != NULL ? s : "", s != NULL ? len : 0);
	if (put_key(rec, key) != 0 || put_json_string(rec, v) != 0) {
		rec->len = mark;
		rec->json[mark] = '\0';
		rec->full = 1;
	}
}

void
audit_cstr(struct audit_rec *rec, const char *key, const char *s)
{
	audit_str(rec, key, s, s != NULL ? strlen(s) : 0);
}

void
audit_int(struct audit_rec *rec, const char *key, int64_t v)
{
	char t[32];
	size_t mark = rec->len;
	int n;

	n = snprintf(t, sizeof(t), "%lld", (long long)v);
	if (put_key(rec, key) != 0 || put_raw(rec, t, (size_t)n) != 0) {
		rec->len = mark;
		rec->json[mark] = '\0';
		rec->full = 1;
	}
}

const char *
audit_end(struct audit_rec *rec, size_t *len)
{
	/* put_raw() always left AUDIT_TAIL_RESERVE bytes for this. */
	if (rec->full) {
		memcpy(rec->json + rec->len, ",\"truncated\":1", 14);
		rec->len += 14;
		rec->full = 0;
	}
	rec->json[rec->len++] = '}';
	rec->json[rec->len] = '\0';
	if (len != NULL)
		*len = rec->len;
	return rec->json;
}

/* ---- reading ---- */

/* The value of at most 19 decimal digits (audit_next_field() checked them). */
static unsigned long long
strtoull_digits(const char *s)
{
	unsigned long long v = 0;

	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned)(*s - '0');
	return v;
}

int
audit_next_field(const char *j, size_t len, size_t *pos,
    struct audit_field *f)
{
	size_t p = *pos, k = 0, o = 0, digits = 0;

	if (p == 0) {
		if (len < 2 || j[0] != '{')
			return MOAT_ERR_INVALID;
		p = 1;
		if (j[p] == '}')
			goto end;
	} else {
		if (p >= len)
			return MOAT_ERR_INVALID;
		if (j[p] == '}')
			goto end;
		if (j[p] != ',')
			return MOAT_ERR_INVALID;
		p++;
	}
	if (p >= len || j[p++] != '"')
		return MOAT_ERR_INVALID;
	while (p < len && j[p] != '"') {
		char c = j[p++];

		if (k >= AUDIT_KEY_MAX || !((c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_'))
			return MOAT_ERR_INVALID;
		f->key[k++] = c;
	}
	f->key[k] = '\0';
	if (k == 0 || p + 2 >= len || j[p] != '"' || j[p + 1] != ':')
		return MOAT_ERR_INVALID;
	p += 2;
	if (j[p] == '"') {
		f->is_string = 1;
		for (p++; p < len && j[p] != '"'; p++) {
			unsigned char c = (unsigned char)j[p];

			if (c < 0x20 || c == 0x7f)
				return MOAT_ERR_INVALID;
			if (c == '\\') {
				if (p + 1 >= len || (j[p + 1] != '"' &&
				    j[p + 1] != '\\'))
					return MOAT_ERR_INVALID;
				c = (unsigned char)j[++p];
			}
			if (o >= AUDIT_VALUE_MAX)
				return MOAT_ERR_INVALID;
			f->val[o++] = (char)c;
		}
		if (p >= len)
			return MOAT_ERR_INVALID;
		p++;
	} else {
		f->is_string = 0;
		if (j[p] == '-')
			f->val[o++] = j[p++];
		while (p < len && j[p] >= '0' && j[p] <= '9' && digits < 19) {
			f->val[o++] = j[p++];
			digits++;
		}
		if (digits == 0 || (p < len && j[p] >= '0' && j[p] <= '9'))
			return MOAT_ERR_INVALID;
		/* Canonical, as the builder writes it: no "-0", no leading 0. */
		if ((digits > 1 && f->val[o - digits] == '0') ||
		    (f->val[0] == '-' && digits == 1 && f->val[1] == '0'))
			return MOAT_ERR_INVALID;
	}
	f->val[o] = '\0';
	*pos = p;
	return 1;
 end:
	if (p + 1 != len)
		return MOAT_ERR_INVALID;
	*pos = len;
	return 0;
}

int
audit_check(const char *json, size_t len, char *event, size_t eventlen,
    uint32_t *session)
{
	static const struct { const char *key; int is_string; } common[] = {
		{ "ts", 1 }, { "event", 1 }, { "session", 0 },
		{ "peer_addr", 1 }, { "peer_port", 0 },
	};
	static struct audit_field f;
	unsigned long long v;
	size_t pos = 0, i = 0;
	int r;

	if (len == 0 || memchr(json, '\0', len) != NULL)
		return MOAT_ERR_INVALID;
	while ((r = audit_next_field(json, len, &pos, &f)) == 1) {
		if (i < 5) {
			if (strcmp(f.key, common[i].key) != 0 ||
			    f.is_string != common[i].is_string)
				return MOAT_ERR_INVALID;
			if (i == 1) {
				if (f.val[0] == '\0' ||
				    strlen(f.val) >= eventlen)
					return MOAT_ERR_INVALID;
				snprintf(event, eventlen, "%s", f.val);
			} else if (i == 2) {
				if (f.val[0] == '-' ||
				    (v = strtoull_digits(f.val)) > UINT32_MAX)
					return MOAT_ERR_INVALID;
				*session = (uint32_t)v;
			}
		}
		i++;
	}
	return r == 0 && i >= 5 ? 0 : MOAT_ERR_INVALID;
}

int
audit_to_kv(const char *json, size_t len, char *out, size_t outlen)
{
	static struct audit_field f;
	size_t pos = 0, o = 0, need, i;
	const char *v;
	int r, quote;

	if (outlen == 0)
		return MOAT_ERR_TOO_LONG;
	out[0] = '\0';
	while ((r = audit_next_field(json, len, &pos, &f)) == 1) {
		if (strcmp(f.key, "ts") == 0)
			continue;
		v = f.val;
		quote = f.is_string && (v[0] == '\0' ||
		    strpbrk(v, " \"=") != NULL);
		/* Worst case: every byte a '"' written as \x22. */
		need = strlen(f.key) + 4 + 4 * strlen(v) + 1;
		if (o + need >= outlen)
			return MOAT_ERR_TOO_LONG;
		o += (size_t)snprintf(out + o, outlen - o, "%s%s=%s",
		    o > 0 ? " " : "", f.key, quote ? "\"" : "");
		for (i = 0; v[i] != '\0'; i++) {
			if (v[i] == '"') {
				memcpy(out + o, "\\x22", 4);
				o += 4;
			} else
				out[o++] = v[i];
		}
		if (quote)
			out[o++] = '"';
		out[o] = '\0';
	}
	return r == 0 ? 0 : MOAT_ERR_INVALID;
}

/* One fixed MESSAGE_ID per event type (docs/audit.md). */
static const struct {
	const char *event;
	const char *id;
} message_ids[] = {
	{ "connect", "bddf06cf9797e96cbf5310e5cf944167" },
	{ "refuse", "3e62243977cfbaa94ad3d9d785ccb2b5" },
	{ "security", "2bfb57710dcc35b96da2833505de3a66" },
	{ "auth_factor", "02b8ab92215c0da7647475f3edcc93a9" },
	{ "login", "7cc0b0ddc7aea0f10d91cfad940f6389" },
	{ "query", "e6a03cbaef3c385c82ab743584f1f972" },
	{ "sharing", "b0dc6cd3d0784e7eea3a55af4370261f" },
	{ "disconnect", "efe08203a211caa45c64c073232bcd85" },
	{ "reload", "2971e510b0abcfc7050ac38e4f940726" },
	{ "blacklist", "b6472ea279099f5b874447a80f21af85" },
	{ "moatctl", "35efdeb38bbaab4f07d8c73bdc712962" },
	{ "debug", "5190370329516ff05e59d8a1afd59e99" },
	{ "audit_start", "37b1f9f4b0e0bf416a5ec13ef6d94e3a" },
	{ "audit_stop", "bed20462b9e06bdfd5636ed926e28bfe" },
};

const char *
audit_message_id(const char *event)
{
	size_t i;

	for (i = 0; i < sizeof(message_ids) / sizeof(message_ids[0]); i++)
		if (strcmp(message_ids[i].event, event) == 0)
			return message_ids[i].id;
	return NULL;
}
