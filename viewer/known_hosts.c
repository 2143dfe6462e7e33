/*
 * known_hosts.c - parsing, lookup and atomic saving of moat-viewer's
 * known-hosts file (format in known_hosts.h). Runs in moat-viewer; the
 * file is treated as untrusted input: its size, each line's length and
 * the number of entries are bounded before anything is stored, and any
 * malformed line makes the whole file fail (never half-trusted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "privsep/catchphrase.h"
#include "privsep/errors.h"
#include "viewer/atomic.h"
#include "viewer/known_hosts.h"
#include "viewer/viewer.h"

#define FP_PREFIX	"SHA256:"
#define FP_PREFIX_LEN	7
#define FP_LEN		(FP_PREFIX_LEN + 3 * KH_KEY_LEN - 1)

int
known_hosts_parse_fp(const char *s, size_t len, uint8_t out[KH_KEY_LEN])
{
	size_t i;
	int hi, lo;

	if (len != FP_LEN || memcmp(s, FP_PREFIX, FP_PREFIX_LEN) != 0)
		return MOAT_ERR_INVALID;
	s += FP_PREFIX_LEN;
	for (i = 0; i < KH_KEY_LEN; i++) {
		hi = OPENSSL_hexchar2int((unsigned char)s[3 * i]);
		lo = OPENSSL_hexchar2int((unsigned char)s[3 * i + 1]);
		if (hi < 0 || lo < 0)
			return MOAT_ERR_INVALID;
		if (i + 1 < KH_KEY_LEN && s[3 * i + 2] != ':')
			return MOAT_ERR_INVALID;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
known_hosts_check_hostport(const char *s, size_t len)
{
	size_t i, colon = len, port_len;
	unsigned long port = 0;

	if (len < 3 || len > KH_MAX_HOSTPORT)
		return MOAT_ERR_INVALID;
	for (i = 0; i < len; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '#')
			return MOAT_ERR_INVALID;
		if (s[i] == ':')
			colon = i;
	}
	if (colon == len || colon == 0)
		return MOAT_ERR_INVALID;
	port_len = len - colon - 1;
	if (port_len == 0 || port_len > 5 || s[colon + 1] == '0')
		return MOAT_ERR_INVALID;
	for (i = colon + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return MOAT_ERR_INVALID;
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	return port >= 1 && port <= 65535 ? 0 : MOAT_ERR_INVALID;
}

const struct kh_entry *
known_hosts_find(const struct known_hosts *kh, const char *hostport)
{
	size_t i;

	for (i = 0; i < kh->n; i++)
		if (strcmp(kh->e[i].hostport, hostport) == 0)
			return &kh->e[i];
	return NULL;
}

int
known_hosts_set(struct known_hosts *kh, const char *hostport,
    const uint8_t key[KH_KEY_LEN])
{
	struct kh_entry *e;
	size_t len = strlen(hostport);

	if (known_hosts_check_hostport(hostport, len) != 0)
		return MOAT_ERR_INVALID;
	if ((e = (struct kh_entry *)known_hosts_find(kh, hostport)) == NULL) {
		if (kh->n >= KH_MAX_ENTRIES)
			return MOAT_ERR_TOO_LONG;
		if ((e = realloc(kh->e, (kh->n + 1) * sizeof(*e))) == NULL)
			return MOAT_ERR_NOMEM;
		kh->e = e;
		e = &kh->e[kh->n++];
		memcpy(e->hostport, hostport, len + 1);
	}
	memcpy(e->key, key, KH_KEY_LEN);
	return 0;
}

void
known_hosts_free(struct known_hosts *kh)
{
	free(kh->e);
	kh->e = NULL;
	kh->n = 0;
}

/* One line (no newline): blank, comment, or "HOST:PORT SHA256:...". */
static int
parse_line(const char *l, size_t len, struct known_hosts *kh)
{
	char hp[KH_MAX_HOSTPORT + 1];
	uint8_t key[KH_KEY_LEN];
	const char *sp;
	size_t hl;

	if (len == 0 || l[0] == '#')
		return 0;
	if ((sp = memchr(l, ' ', len)) == NULL)
		return MOAT_ERR_INVALID;
	hl = (size_t)(sp - l);
	if (known_hosts_check_hostport(l, hl) != 0 ||
	    known_hosts_parse_fp(sp + 1, len - hl - 1, key) != 0)
		return MOAT_ERR_INVALID;
	memcpy(hp, l, hl);
	hp[hl] = '\0';
	if (known_hosts_find(kh, hp) != NULL)
		return MOAT_ERR_INVALID;	/* a duplicate: which one is true? */
	return known_hosts_set(kh, hp, key);
}

int
known_hosts_parse(const uint8_t *data, size_t len, struct known_hosts *kh,
    size_t *bad_line)
{
	const char *p = (const char *)data, *nl;
	size_t line = 0, ll;
	int r = 0;

	kh->e = NULL;
	kh->n = 0;
	if (bad_line != NULL)
		*bad_line = 0;
	if (len > KH_MAX_FILE)
		return MOAT_ERR_TOO_LONG;
	while (len > 0) {
		line++;
		nl = memchr(p, '\n', len);
		ll = nl != NULL ? (size_t)(nl - p) : len;
		if (ll > KH_MAX_LINE)
			r = MOAT_ERR_TOO_LONG;
		else if (memchr(p, '\0', ll) != NULL)
			r = MOAT_ERR_INVALID;
		else
			r = parse_line(p, ll, kh);
		if (r != 0) {
			if (bad_line != NULL)
				*bad_line = line;
			known_hosts_free(kh);
			return r;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
		len -= ll + 1;
	}
	return 0;
}

int
known_hosts_load(const char *path, struct known_hosts *kh)
{
	unsigned char *data;
	size_t len, line;
	int r;

	kh->e = NULL;
	kh->n = 0;
	if ((r = viewer_read_file(path, KH_MAX_FILE, &data, &len)) ==
	    MOAT_ERR_EOF)
		return 0;
	if (r == MOAT_ERR_TOO_LONG) {
		viewer_err("%s: larger than %u bytes", path, KH_MAX_FILE);
		return r;
	}
	if (r != 0) {
		viewer_err("%s: cannot read", path);
		return r;
	}
	r = known_hosts_parse(data, len, kh, &line);
	free(data);
	if (r != 0)
		viewer_err("%s:%zu: %s; fix or remove the line", path, line,
		    r == MOAT_ERR_TOO_LONG ? "line too long" :
		    "malformed or duplicate entry");
	return r;
}

int
known_hosts_save(const char *path, const struct known_hosts *kh)
{
	static const char head[] = "# moat-viewer known hosts: HOST:PORT "
	    "SHA256 of the identity key\n";
	char fp[CATCHPHRASE_FP_LEN], *out;
	size_t i, off, cap = sizeof(head) + kh->n * (KH_MAX_LINE + 1);
	int n, r;

	if ((out = malloc(cap)) == NULL)
		return MOAT_ERR_NOMEM;
	memcpy(out, head, sizeof(head) - 1);
	off = sizeof(head) - 1;
	for (i = 0; i < kh->n; i++) {
		if (catchphrase_hex_fp(kh->e[i].key, KH_KEY_LEN, fp,
		    sizeof(fp)) != 0) {
			free(out);
			return MOAT_ERR_INVALID;
		}
		n = snprintf(out + off, cap - off, "%s %s\n", kh->e[i].hostport,
		    fp);
		if (n < 0 || (size_t)n >= cap - off) {
			free(out);
			return MOAT_ERR_TOO_LONG;
		}
		off += (size_t)n;
	}
	r = viewer_atomic_write(path, out, off);
	free(out);
	return r;
}
