/*
 * audit_verify.c - the strict flat-JSON reader and the hash-chain and
 * checkpoint verifier for moat's audit files (docs/audit-file-format.md).
 *
 * Runs in moatd's listener (root; it parses the event objects it writes
 * and the last line of a file it resumes) and in moatctl (audit verify and
 * audit show, run by the administrator on files of any origin). It trusts
 * nothing it reads: lines are bounded by AUDIT_LINE_MAX, objects must be
 * flat (strings, integers, true, false, null), member names plain
 * identifiers without duplicates, strings valid UTF-8 without raw control
 * bytes. The only thing it trusts is the public key it is given.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "audit_verify.h"

static const char zero_hash[AUDIT_HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* --- the flat JSON reader --- */

static void
skip_ws(const char *p, size_t len, size_t *i)
{
	while (*i < len && (p[*i] == ' ' || p[*i] == '\t'))
		(*i)++;
}

static int
is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* Length of the valid UTF-8 sequence at p[0..n), or 0 if invalid. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && is_cont(p[1]) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || !is_cont(p[1]) || !is_cont(p[2]))
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
			return 0;	/* overlong, surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || !is_cont(p[1]) || !is_cont(p[2]) || !is_cont(p[3]))
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
			return 0;	/* overlong, above U+10FFFF */
		return 4;
	}
	return 0;
}

/* Scans the string starting at the quote p[*i]; *s, *slen get its escaped body. */
static int
scan_string(const char *p, size_t len, size_t *i, const char **s, size_t *slen)
{
	size_t j = *i + 1, k, n;

	while (j < len) {
		unsigned char c = (unsigned char)p[j];

		if (c == '"') {
			*s = p + *i + 1;
			*slen = j - *i - 1;
			*i = j + 1;
			return 0;
		}
		if (c < 0x20)
			return MOAT_ERR_INVALID;
		if (c == '\\') {
			if (j + 1 >= len)
				return MOAT_ERR_INVALID;
			c = (unsigned char)p[j + 1];
			if (c == 'u') {
				if (j + 6 > len)
					return MOAT_ERR_INVALID;
				for (k = 2; k < 6; k++)
					if (OPENSSL_hexchar2int(
					    (unsigned char)p[j + k]) < 0)
						return MOAT_ERR_INVALID;
				j += 6;
			} else if (strchr("\"\\/bfnrt", c) != NULL && c != '\0')
				j += 2;
			else
				return MOAT_ERR_INVALID;
			continue;
		}
		if ((n = utf8_len((const unsigned char *)p + j, len - j)) == 0)
			return MOAT_ERR_INVALID;
		j += n;
	}
	return MOAT_ERR_INVALID;
}

/* Plain identifier: [A-Za-z0-9_]{1,AUDIT_JKEY_MAX}. */
static int
valid_key(const char *k, size_t n)
{
	size_t i;

	if (n == 0 || n > AUDIT_JKEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return 0;
	return 1;
}

static int
scan_int(const char *p, size_t len, size_t *i, int64_t *v)
{
	size_t j = *i, digits = 0;
	int neg = 0;
	int64_t x = 0;

	if (j < len && p[j] == '-') {
		neg = 1;
		j++;
	}
	if (j >= len || p[j] < '0' || p[j] > '9')
		return MOAT_ERR_INVALID;
	if (p[j] == '0' && j + 1 < len && p[j + 1] >= '0' && p[j + 1] <= '9')
		return MOAT_ERR_INVALID;	/* leading zero */
	while (j < len && p[j] >= '0' && p[j] <= '9') {
		if (++digits > 18)
			return MOAT_ERR_INVALID;
		x = x * 10 + (p[j] - '0');
		j++;
	}
	*v = neg ? -x : x;
	*i = j;
	return 0;
}

int
audit_json_parse(const char *p, size_t len, struct audit_jobj *o)
{
	struct audit_jfield *f;
	size_t i = 0, k;

	o->n = 0;
	if (len > AUDIT_LINE_MAX)
		return MOAT_ERR_TOO_LONG;
	if (len < 2 || p[0] != '{')
		return MOAT_ERR_INVALID;
	i = 1;
	skip_ws(p, len, &i);
	if (i < len && p[i] == '}')
		return i + 1 == len ? 0 : MOAT_ERR_INVALID;
	for (;;) {
		if (o->n >= AUDIT_JFIELDS_MAX)
			return MOAT_ERR_TOO_LONG;
		f = &o->f[o->n];
		memset(f, 0, sizeof(*f));
		if (i >= len || p[i] != '"' ||
		    scan_string(p, len, &i, &f->key, &f->keylen) != 0 ||
		    !valid_key(f->key, f->keylen))
			return MOAT_ERR_INVALID;
		for (k = 0; k < o->n; k++)
			if (o->f[k].keylen == f->keylen &&
			    memcmp(o->f[k].key, f->key, f->keylen) == 0)
				return MOAT_ERR_INVALID;	/* duplicate */
		skip_ws(p, len, &i);
		if (i >= len || p[i] != ':')
			return MOAT_ERR_INVALID;
		i++;
		skip_ws(p, len, &i);
		if (i >= len)
			return MOAT_ERR_INVALID;
		if (p[i] == '"') {
			f->type = AUDIT_J_STRING;
			if (scan_string(p, len, &i, &f->val, &f->vallen) != 0)
				return MOAT_ERR_INVALID;
		} else if (p[i] == '-' || (p[i] >= '0' && p[i] <= '9')) {
			f->type = AUDIT_J_INT;
			f->val = p + i;
			if (scan_int(p, len, &i, &f->num) != 0)
				return MOAT_ERR_INVALID;
			f->vallen = (size_t)(p + i - f->val);
		} else if (len - i >= 4 && memcmp(p + i, "true", 4) == 0) {
			f->type = AUDIT_J_TRUE;
			f->val = p + i;
			f->vallen = 4;
			i += 4;
		} else if (len - i >= 5 && memcmp(p + i, "false", 5) == 0) {
			f->type = AUDIT_J_FALSE;
			f->val = p + i;
			f->vallen = 5;
			i += 5;
		} else if (len - i >= 4 && memcmp(p + i, "null", 4) == 0) {
			f->type = AUDIT_J_NULL;
			f->val = p + i;
			f->vallen = 4;
			i += 4;
		} else
			return MOAT_ERR_INVALID;	/* nesting, floats, garbage */
		o->n++;
		skip_ws(p, len, &i);
		if (i >= len)
			return MOAT_ERR_INVALID;
		if (p[i] == '}')
			return i + 1 == len ? 0 : MOAT_ERR_INVALID;
		if (p[i] != ',')
			return MOAT_ERR_INVALID;
		i++;
		skip_ws(p, len, &i);
	}
}

static int
key_is(const struct audit_jfield *f, const char *key)
{
	size_t n = strlen(key);

	return f->keylen == n && memcmp(f->key, key, n) == 0;
}

const struct audit_jfield *
audit_obj_get(const struct audit_jobj *o, const char *key)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (key_is(&o->f[i], key))
			return &o->f[i];
	return NULL;
}

static size_t
put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The value of n hex digits already checked by is_hex(). */
static uint32_t
hexn(const char *p, size_t n)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 4 | (uint32_t)OPENSSL_hexchar2int((unsigned char)p[i]);
	return v;
}

static uint32_t
hex4(const char *p)
{
	return hexn(p, 4);
}

int
audit_json_unescape(const struct audit_jfield *f, char *out, size_t outlen)
{
	const char *s = f->val;
	size_t i = 0, o = 0, n;
	char tmp[8];
	uint32_t cp, lo;

	if (outlen == 0)
		return MOAT_ERR_INVALID;
	out[0] = '\0';
	if (f->type != AUDIT_J_STRING)
		return MOAT_ERR_INVALID;
	while (i < f->vallen) {
		if (s[i] != '\\') {
			tmp[0] = s[i++];
			n = 1;
		} else if (s[i + 1] != 'u') {
			/* the reader accepted only the valid escapes */
			switch (s[i + 1]) {
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'n': tmp[0] = '\n'; break;
			case 'r': tmp[0] = '\r'; break;
			case 't': tmp[0] = '\t'; break;
			default: tmp[0] = s[i + 1]; break;
			}
			n = 1;
			i += 2;
		} else {
			cp = hex4(s + i + 2);
			i += 6;
			if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= f->vallen &&
			    s[i] == '\\' && s[i + 1] == 'u' &&
			    (lo = hex4(s + i + 2)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			} else if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;	/* lone surrogate */
			if (cp == 0) {
				memcpy(tmp, "\\u0000", 6);
				n = 6;
			} else
				n = put_utf8(tmp, cp);
		}
		if (o + n >= outlen)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

int
audit_field_equals(const struct audit_jfield *f, const char *s)
{
	char buf[1024];
	size_t n = strlen(s);

	if (f == NULL || f->type != AUDIT_J_STRING || n >= sizeof(buf) - 8)
		return 0;
	/* Fast path: no escapes. */
	if (memchr(f->val, '\\', f->vallen) == NULL)
		return f->vallen == n && memcmp(f->val, s, n) == 0;
	if (audit_json_unescape(f, buf, sizeof(buf)) != 0)
		return 0;
	return strcmp(buf, s) == 0;
}

/* --- keys and hashes --- */

void
audit_sha256_hex(const void *p, size_t len, char out[AUDIT_HASH_HEX + 1])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char md[32];
	size_t i;

	if (EVP_Digest(p, len, md, NULL, EVP_sha256(), NULL) != 1)
		memset(md, 0, sizeof(md));	/* cannot match a real hash */
	for (i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[AUDIT_HASH_HEX] = '\0';
}

int
audit_key_id(EVP_PKEY *key, char out[AUDIT_KEYID_HEX + 1])
{
	unsigned char raw[32];
	char full[AUDIT_HASH_HEX + 1];
	size_t n = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(key, raw, &n) != 1 || n != sizeof(raw))
		return MOAT_ERR_CRYPTO;
	audit_sha256_hex(raw, n, full);
	memcpy(out, full, AUDIT_KEYID_HEX);
	out[AUDIT_KEYID_HEX] = '\0';
	return 0;
}

int
audit_key_load_public(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
	EVP_PKEY *k = NULL, *pub = NULL;
	unsigned char raw[32];
	size_t n = sizeof(raw);
	BIO *bio;

	*out = NULL;
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (k == NULL && BIO_reset(bio) == 0)
		k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (k == NULL || EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(k, raw, &n) != 1 || n != sizeof(raw) ||
	    (pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw,
	    n)) == NULL) {
		EVP_PKEY_free(k);
		snprintf(err, errlen, "%s: not a PEM Ed25519 private or public key",
		    path);
		return MOAT_ERR_CONFIG;
	}
	EVP_PKEY_free(k);
	*out = pub;
	return 0;
}

int
audit_record_check(const char *line, size_t len, uint64_t *seq,
    char hash[AUDIT_HASH_HEX + 1], int *final_cp)
{
	static struct audit_jobj o;
	const struct audit_jfield *h, *ev, *fin;
	char calc[AUDIT_HASH_HEX + 1];

	if (len + 1 > AUDIT_LINE_MAX || len < AUDIT_HASH_SUFFIX + 2 ||
	    memcmp(line + len - AUDIT_HASH_SUFFIX, ",\"hash\":\"", 9) != 0 ||
	    audit_json_parse(line, len, &o) != 0 || o.n < 4)
		return MOAT_ERR_INVALID;
	h = &o.f[o.n - 1];
	ev = audit_obj_get(&o, "event");
	if (!key_is(&o.f[0], "seq") || o.f[0].type != AUDIT_J_INT ||
	    o.f[0].num < 1 || !key_is(h, "hash") || h->type != AUDIT_J_STRING ||
	    h->vallen != AUDIT_HASH_HEX || h->val != line + len - AUDIT_HASH_HEX - 2 ||
	    ev == NULL)
		return MOAT_ERR_INVALID;
	audit_sha256_hex(line, len - AUDIT_HASH_SUFFIX, calc);
	if (memcmp(calc, h->val, AUDIT_HASH_HEX) != 0)
		return MOAT_ERR_INVALID;
	fin = audit_obj_get(&o, "final");
	*seq = (uint64_t)o.f[0].num;
	memcpy(hash, calc, sizeof(calc));
	*final_cp = audit_field_equals(ev, "checkpoint") && fin != NULL &&
	    fin->type == AUDIT_J_INT && fin->num == 1;
	return 0;
}

/* --- the verifier --- */

struct audit_verifier {
	EVP_PKEY *pub;
	char key_id[AUDIT_KEYID_HEX + 1];
	int flags;
	int failed;
	int have_prev;			/* a record has been read */
	uint64_t last_seq;
	char last_hash[AUDIT_HASH_HEX + 1];
	int last_final;			/* last record is a final checkpoint */
	uint64_t tail;			/* records since the last checkpoint */
	size_t nfiles;
	/* a previous file that did not end with a final checkpoint */
	int pending;
	char pend_file[256];
	uint64_t pend_line;
	char pend_msg[256];
	struct audit_verify_report rep;
};

int
audit_verifier_new(struct audit_verifier **out, EVP_PKEY *pub, int flags)
{
	struct audit_verifier *v;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return MOAT_ERR_NOMEM;
	if (pub != NULL) {
		if (audit_key_id(pub, v->key_id) != 0 || EVP_PKEY_up_ref(pub) != 1) {
			free(v);
			return MOAT_ERR_CRYPTO;
		}
		v->pub = pub;
	}
	v->flags = flags;
	*out = v;
	return 0;
}

void
audit_verifier_free(struct audit_verifier *v)
{
	if (v == NULL)
		return;
	EVP_PKEY_free(v->pub);
	free(v);
}

void
audit_verifier_report(const struct audit_verifier *v, struct audit_verify_report *rep)
{
	*rep = v->rep;
}

static int
fault(struct audit_verifier *v, int kind, const char *file, uint64_t line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fault(struct audit_verifier *v, int kind, const char *file, uint64_t line,
    const char *fmt, ...)
{
	va_list ap;

	v->failed = 1;
	v->rep.fault = kind;
	snprintf(v->rep.file, sizeof(v->rep.file), "%s", file);
	v->rep.line = line;
	va_start(ap, fmt);
	vsnprintf(v->rep.msg, sizeof(v->rep.msg), fmt, ap);
	va_end(ap);
	return MOAT_ERR_INVALID;
}

static int
is_hex(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

static int
unhex(const char *p, size_t n, unsigned char *out)
{
	size_t i;

	if (!is_hex(p, 2 * n))
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)hexn(p + 2 * i, 2);
	return 0;
}

/* Checks a checkpoint's signature; line[0..len) excludes the newline. */
static int
check_checkpoint(struct audit_verifier *v, const struct audit_jobj *o,
    const char *line, size_t len, const char *file, uint64_t ln)
{
	const struct audit_jfield *fin, *kid, *sig;
	unsigned char rawsig[64];
	size_t signed_len, ctxlen = strlen(AUDIT_SIG_CONTEXT);
	unsigned char *msg;
	EVP_MD_CTX *ctx;
	int ok;

	fin = audit_obj_get(o, "final");
	kid = audit_obj_get(o, "key_id");
	sig = o->n >= 3 ? &o->f[o->n - 2] : NULL;
	if (fin == NULL || fin->type != AUDIT_J_INT || (fin->num != 0 && fin->num != 1) ||
	    kid == NULL || kid->type != AUDIT_J_STRING ||
	    kid->vallen != AUDIT_KEYID_HEX || sig == NULL || !key_is(sig, "sig") ||
	    sig->type != AUDIT_J_STRING || sig->vallen != AUDIT_SIG_HEX ||
	    len < AUDIT_HASH_SUFFIX + AUDIT_SIG_FIELD + 1 ||
	    sig->val != line + len - AUDIT_HASH_SUFFIX - 1 - AUDIT_SIG_HEX ||
	    unhex(sig->val, sizeof(rawsig), rawsig) != 0)
		return fault(v, AUDIT_F_SYNTAX, file, ln, "malformed checkpoint");
	if (v->pub == NULL)
		return fault(v, AUDIT_F_SIGNATURE, file, ln, "no key to check the "
		    "checkpoint's signature");
	if (memcmp(kid->val, v->key_id, AUDIT_KEYID_HEX) != 0)
		return fault(v, AUDIT_F_SIGNATURE, file, ln, "checkpoint signed by "
		    "key %.16s, not by the key given (%s)", kid->val, v->key_id);
	signed_len = len - AUDIT_HASH_SUFFIX - AUDIT_SIG_FIELD;
	if ((msg = malloc(ctxlen + signed_len)) == NULL)
		return fault(v, AUDIT_F_IO, file, ln, "out of memory");
	memcpy(msg, AUDIT_SIG_CONTEXT, ctxlen);
	memcpy(msg + ctxlen, line, signed_len);
	ok = (ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, v->pub) == 1 &&
	    EVP_DigestVerify(ctx, rawsig, sizeof(rawsig), msg,
	    ctxlen + signed_len) == 1;
	EVP_MD_CTX_free(ctx);
	free(msg);
	if (!ok)
		return fault(v, AUDIT_F_SIGNATURE, file, ln, "bad checkpoint "
		    "signature (seq %llu)", (unsigned long long)v->last_seq + 1);
	v->last_final = fin->num == 1;
	v->rep.checkpoints++;
	return 0;
}

/* Verifies one complete line (without its newline), line number ln of file. */
static int
verify_line(struct audit_verifier *v, const char *line, size_t len,
    const char *file, uint64_t ln, int first_in_file)
{
	static struct audit_jobj o;	/* 64 members: keep it off the stack */
	const struct audit_jfield *seq, *prev, *hash, *ev, *pfs;
	char h[AUDIT_HASH_HEX + 1];
	uint64_t s;
	int r, is_link, is_start;

	if (len + 1 > AUDIT_LINE_MAX)
		return fault(v, AUDIT_F_SYNTAX, file, ln, "line longer than %d bytes",
		    AUDIT_LINE_MAX);
	if (len < AUDIT_HASH_SUFFIX + 2 ||
	    memcmp(line + len - AUDIT_HASH_SUFFIX, ",\"hash\":\"", 9) != 0 ||
	    audit_json_parse(line, len, &o) != 0 || o.n < 4)
		return fault(v, AUDIT_F_SYNTAX, file, ln, "not a well-formed audit "
		    "record");
	seq = &o.f[0];
	prev = &o.f[1];
	hash = &o.f[o.n - 1];
	ev = audit_obj_get(&o, "event");
	if (!key_is(seq, "seq") || seq->type != AUDIT_J_INT || seq->num < 1 ||
	    !key_is(prev, "prev") || prev->type != AUDIT_J_STRING ||
	    prev->vallen != AUDIT_HASH_HEX || !is_hex(prev->val, prev->vallen) ||
	    !key_is(hash, "hash") || hash->type != AUDIT_J_STRING ||
	    hash->vallen != AUDIT_HASH_HEX || !is_hex(hash->val, hash->vallen) ||
	    hash->val != line + len - AUDIT_HASH_HEX - 2 || ev == NULL ||
	    ev->type != AUDIT_J_STRING)
		return fault(v, AUDIT_F_SYNTAX, file, ln, "audit record without "
		    "valid seq, prev, event and hash fields");
	s = (uint64_t)seq->num;
	audit_sha256_hex(line, len - AUDIT_HASH_SUFFIX, h);
	if (memcmp(h, hash->val, AUDIT_HASH_HEX) != 0)
		return fault(v, AUDIT_F_MODIFIED, file, ln, "record modified "
		    "(seq %llu: its hash does not match its content)",
		    (unsigned long long)s);
	is_link = audit_field_equals(ev, "audit_link");
	is_start = audit_field_equals(ev, "audit_chain");
	if (!v->have_prev) {
		if (is_start) {
			if (s != 1 || memcmp(prev->val, zero_hash, AUDIT_HASH_HEX) != 0)
				return fault(v, AUDIT_F_START, file, ln, "chain start "
				    "record with seq %llu or a non-zero prev",
				    (unsigned long long)s);
		} else if (is_link)
			v->rep.starts_linked = 1;
		else
			return fault(v, AUDIT_F_START, file, ln, "the first record "
			    "(seq %llu) neither starts a chain nor links to an "
			    "earlier file: records deleted from the front?",
			    (unsigned long long)s);
		v->rep.first_seq = s;
	} else if (first_in_file) {
		pfs = audit_obj_get(&o, "prev_file_seq");
		if (!is_link)
			return fault(v, AUDIT_F_LINK, file, ln, "broken link between "
			    "files: the first record (seq %llu) is not a link to "
			    "the previous file (files out of order or from "
			    "different chains?)", (unsigned long long)s);
		if (pfs == NULL || pfs->type != AUDIT_J_INT ||
		    (uint64_t)pfs->num != v->last_seq || s != v->last_seq + 1 ||
		    memcmp(prev->val, v->last_hash, AUDIT_HASH_HEX) != 0)
			return fault(v, AUDIT_F_LINK, file, ln, "broken link between "
			    "files: this file continues seq %llu, the previous "
			    "file ends at seq %llu %s",
			    (unsigned long long)s - 1, (unsigned long long)v->last_seq,
			    s == v->last_seq + 1 ? "with another hash (spliced?)" :
			    "(files missing, out of order or from different chains?)");
		if (v->pending) {
			if (!audit_field_equals(audit_obj_get(&o, "reason"),
			    "recovered"))
				return fault(v, AUDIT_F_TRUNCATED, v->pend_file,
				    v->pend_line, "%s", v->pend_msg);
			v->pending = 0;
			v->rep.recovered++;
		}
	} else {
		if (s != v->last_seq + 1) {
			if (s <= v->last_seq)
				return fault(v, AUDIT_F_SEQUENCE, file, ln, "seq %llu "
				    "after seq %llu: record inserted, repeated or "
				    "reordered", (unsigned long long)s,
				    (unsigned long long)v->last_seq);
			return fault(v, AUDIT_F_SEQUENCE, file, ln, "seq %llu after "
			    "seq %llu: %llu record(s) deleted or reordered",
			    (unsigned long long)s, (unsigned long long)v->last_seq,
			    (unsigned long long)(s - v->last_seq - 1));
		}
		if (memcmp(prev->val, v->last_hash, AUDIT_HASH_HEX) != 0)
			return fault(v, AUDIT_F_SEQUENCE, file, ln, "seq %llu does not "
			    "follow the record before it (prev hash differs): "
			    "record replaced, inserted or reordered",
			    (unsigned long long)s);
		if (is_link || is_start)
			return fault(v, AUDIT_F_SEQUENCE, file, ln, "a %s record in "
			    "the middle of a file (spliced?)",
			    is_link ? "link" : "chain start");
	}
	if (audit_field_equals(ev, "checkpoint")) {
		if ((r = check_checkpoint(v, &o, line, len, file, ln)) != 0)
			return r;
		v->tail = 0;
	} else {
		v->last_final = 0;
		v->tail++;
	}
	v->have_prev = 1;
	v->last_seq = s;
	memcpy(v->last_hash, hash->val, AUDIT_HASH_HEX);
	v->rep.last_seq = s;
	v->rep.records++;
	return 0;
}

int
audit_verifier_file(struct audit_verifier *v, const char *name,
    const char *data, size_t len, int is_last)
{
	char file[256];
	const char *nl;
	size_t off = 0, n;
	uint64_t ln = 0, good_ln = 0;
	int r, live = is_last && (v->flags & AUDIT_VERIFY_LIVE);

	if (v->failed)
		return MOAT_ERR_INVALID;
	log_escape(file, sizeof(file), name, strnlen(name, 4096));
	v->nfiles++;
	if (len == 0) {
		if (live)
			return 0;	/* just created by a rotation */
		return fault(v, AUDIT_F_TRUNCATED, file, 0, "empty file (truncated)");
	}
	while (off < len) {
		ln++;
		n = len - off;
		if ((nl = memchr(data + off, '\n', n > AUDIT_LINE_MAX ?
		    AUDIT_LINE_MAX : n)) == NULL) {
			if (n >= AUDIT_LINE_MAX)
				return fault(v, AUDIT_F_SYNTAX, file, ln, "line "
				    "longer than %d bytes", AUDIT_LINE_MAX);
			if (live)
				break;	/* a line being written */
			if (is_last)
				return fault(v, AUDIT_F_TRUNCATED, file, ln,
				    "truncated record (the last line has no "
				    "newline): torn write or truncated file");
			v->pending = 1;
			snprintf(v->pend_file, sizeof(v->pend_file), "%s", file);
			v->pend_line = ln;
			snprintf(v->pend_msg, sizeof(v->pend_msg), "truncated "
			    "record (the last line has no newline) and the next "
			    "file does not record a recovery");
			return 0;
		}
		n = (size_t)(nl - (data + off));
		if ((r = verify_line(v, data + off, n, file, ln, good_ln == 0)) != 0)
			return r;
		good_ln = ln;
		off += n + 1;
	}
	if (good_ln == 0) {
		if (live)
			return 0;
		return fault(v, AUDIT_F_TRUNCATED, file, 1, "no complete record");
	}
	if (v->last_final)
		return 0;
	if (live) {
		v->rep.unsigned_tail = v->tail;
		return 0;
	}
	if (is_last)
		return fault(v, AUDIT_F_TRUNCATED, file, good_ln, "truncated or "
		    "still open after record %llu (seq %llu): no final checkpoint",
		    (unsigned long long)good_ln, (unsigned long long)v->last_seq);
	v->pending = 1;
	snprintf(v->pend_file, sizeof(v->pend_file), "%s", file);
	v->pend_line = good_ln;
	snprintf(v->pend_msg, sizeof(v->pend_msg), "truncated after record %llu "
	    "(seq %llu): no final checkpoint, and the next file does not record "
	    "a recovery", (unsigned long long)good_ln,
	    (unsigned long long)v->last_seq);
	return 0;
}

int
audit_read_file(const char *path, size_t max, char **data, size_t *len)
{
	struct stat st;
	char *d;
	size_t got = 0;
	ssize_t n;
	int fd;

	*data = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return MOAT_ERR_SYSTEM;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return MOAT_ERR_SYSTEM;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return MOAT_ERR_TOO_LONG;
	}
	/* One byte more than fstat promised, to notice a growing file. */
	if ((d = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return MOAT_ERR_NOMEM;
	}
	while (got < (size_t)st.st_size + 1) {
		n = read(fd, d + got, (size_t)st.st_size + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(d);
			close(fd);
			return MOAT_ERR_SYSTEM;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	/*
	 * A file that grew while read: keep what fstat promised (a line may
	 * be cut; live mode copes).
	 */
	if (got > (size_t)st.st_size)
		got = (size_t)st.st_size;
	*data = d;
	*len = got;
	return 0;
}

int
audit_verify_paths(const char *const *paths, size_t n, EVP_PKEY *pub, int flags,
    struct audit_verify_report *rep)
{
	struct audit_verifier *v;
	char *data, file[256];
	size_t len, i;
	int r;

	memset(rep, 0, sizeof(*rep));
	if ((r = audit_verifier_new(&v, pub, flags)) != 0) {
		rep->fault = AUDIT_F_IO;
		snprintf(rep->msg, sizeof(rep->msg), "%s", moat_strerror(r));
		return r;
	}
	for (i = 0; i < n; i++) {
		if ((r = audit_read_file(paths[i], (size_t)1 << 30, &data, &len)) != 0) {
			audit_verifier_report(v, rep);
			rep->fault = AUDIT_F_IO;
			log_escape(file, sizeof(file), paths[i], strnlen(paths[i], 4096));
			snprintf(rep->file, sizeof(rep->file), "%s", file);
			rep->line = 0;
			snprintf(rep->msg, sizeof(rep->msg), "cannot read: %s",
			    r == MOAT_ERR_SYSTEM ? strerror(errno) : moat_strerror(r));
			audit_verifier_free(v);
			return MOAT_ERR_SYSTEM;
		}
		r = audit_verifier_file(v, paths[i], data, len, i + 1 == n);
		free(data);
		if (r != 0)
			break;
	}
	audit_verifier_report(v, rep);
	audit_verifier_free(v);
	return r;
}
