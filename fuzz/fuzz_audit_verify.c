/*
 * fuzz_audit_verify.c - the audit file reader and verifier
 * (monitor/audit_verify.c) on hostile files. The input is one or more
 * files separated by NUL bytes, verified as one rotated set (strict and
 * live) with a fixed Ed25519 key (seed bytes 1..32, the key
 * tests/unit/test_audit_file.c --corpus signs the seeds with); every line
 * also goes through the reader, the unescaper and the one-line check.
 * Test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "monitor/audit_verify.h"

#define FUZZ_FILES_MAX	8

static EVP_PKEY *
fuzz_key(void)
{
	static EVP_PKEY *pub;
	unsigned char seed[32], raw[32];
	size_t n = sizeof(raw);
	EVP_PKEY *k;
	int i;

	if (pub != NULL)
		return pub;
	for (i = 0; i < 32; i++)
		seed[i] = (unsigned char)(i + 1);
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (k == NULL || EVP_PKEY_get_raw_public_key(k, raw, &n) != 1)
		abort();
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, n);
	EVP_PKEY_free(k);
	if (pub == NULL)
		abort();
	return pub;
}

static void
lines(const char *d, size_t len)
{
	static struct audit_jobj o;
	char out[512], h[AUDIT_HASH_HEX + 1];
	const char *nl;
	uint64_t seq;
	size_t i, n;
	int fin;

	while (len > 0) {
		nl = memchr(d, '\n', len);
		n = nl != NULL ? (size_t)(nl - d) : len;
		if (audit_json_parse(d, n, &o) == 0)
			for (i = 0; i < o.n; i++)
				(void)audit_json_unescape(&o.f[i], out, sizeof(out));
		(void)audit_record_check(d, n, &seq, h, &fin);
		if (nl == NULL)
			break;
		len -= n + 1;
		d += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *start[FUZZ_FILES_MAX], *p = (const char *)data, *z;
	size_t len[FUZZ_FILES_MAX], nfiles = 0, left = size, i;
	struct audit_verify_report rep;
	struct audit_verifier *v;
	int flags, r = 0;

	/* A trailing NUL ends the last file rather than starting an empty one. */
	while (nfiles < FUZZ_FILES_MAX && (left > 0 || nfiles == 0)) {
		z = memchr(p, '\0', left);
		start[nfiles] = p;
		len[nfiles] = z != NULL ? (size_t)(z - p) : left;
		left -= len[nfiles] + (z != NULL);
		p += len[nfiles] + (z != NULL);
		nfiles++;
	}
	for (flags = 0; flags <= AUDIT_VERIFY_LIVE; flags += AUDIT_VERIFY_LIVE) {
		if (audit_verifier_new(&v, fuzz_key(), flags) != 0)
			abort();
		for (i = 0; i < nfiles; i++)
			if ((r = audit_verifier_file(v, "F", start[i], len[i],
			    i + 1 == nfiles)) != 0)
				break;
		audit_verifier_report(v, &rep);
		if ((r == 0) != (rep.fault == AUDIT_OK))
			abort();	/* the status and the report disagree */
		audit_verifier_free(v);
	}
	for (i = 0; i < nfiles; i++)
		lines(start[i], len[i]);
	return 0;
}
