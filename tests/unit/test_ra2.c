/*
 * test_ra2.c - unit and mutation tests for the RSA-AES handshake and record
 * layer (net/rfb_ra2.c), replayed through the server side of
 * fuzz/ra2_harness.h (fixed test server key, the monitor's implicit-
 * rejection decrypt). Test code.
 *
 *  - The recorded handshakes in fuzz/corpus/ra2_handshake/ (one per type,
 *    and one with the hash split over two records and the credentials sent
 *    in two pieces between empty records) log in; so do transcripts built
 *    here with fresh client keys. Every truncation of each is "need more"
 *    and every single bit flip fails; neither ever logs in or releases a
 *    byte of plaintext from a record that failed.
 *  - Records: every truncation is "need more" and every bit flip fails
 *    with nothing consumed, nothing released and the counter unchanged; a
 *    replayed or reordered record fails; empty and 65535-byte records work;
 *    the nonce is a 128-bit little-endian counter (checked against EAX
 *    with hand-made nonces), separate per direction.
 *  - Parsers: key sizes 1024..8192 only, malformed keys, the random's
 *    length, the credentials' bounds; key derivation against a direct
 *    computation of H(SR || CR) and H(CR || SR).
 *
 * MOAT_RA2_WRITE_SEEDS=DIR writes fresh seeds for fuzz_ra2_handshake and
 * fuzz_ra2_record into DIR/ra2_handshake and DIR/ra2_record.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "fuzz/ra2_harness.h"
#include "net/rfb_ra2.h"

#include "check.h"

#define MAX_T	4096

static const uint8_t all_types[4] = { 5, 6, 129, 130 };
static EVP_PKEY *client_key;	/* 1024 bits: the tests run many RSA operations */

/* bits || N || E of key. */
static size_t
blob_of(EVP_PKEY *key, uint8_t *blob)
{
	BIGNUM *n = NULL, *e = NULL;
	size_t bits, k;

	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		abort();
	bits = (size_t)BN_num_bits(n);
	k = (bits + 7) / 8;
	blob[0] = 0;
	blob[1] = 0;
	blob[2] = (uint8_t)(bits >> 8);
	blob[3] = (uint8_t)bits;
	BN_bn2binpad(n, blob + 4, (int)k);
	BN_bn2binpad(e, blob + 4 + k, (int)k);
	BN_free(n);
	BN_free(e);
	return 4 + 2 * k;
}

static void
digest2(int sha256, const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
    uint8_t *out)
{
	uint8_t cat[2 * MAX_T];

	memcpy(cat, a, al);
	memcpy(cat + al, b, bl);
	if (EVP_Digest(cat, al + bl, out, NULL, sha256 ? EVP_sha256() :
	    EVP_sha1(), NULL) != 1)
		abort();
}

/* The viewer's side, written here again: one record under key/nonce. */
static size_t
seal_one(struct rfb_eax *e, uint8_t nonce[16], const uint8_t *p, size_t len,
    uint8_t *out)
{
	int i;

	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	if (rfb_eax_seal(e, nonce, 16, out, 2, p, len, out + 2, out + 2 + len) != 0)
		abort();
	for (i = 0; i < 16 && ++nonce[i] == 0; i++)
		;
	return 2 + len + 16;
}

/*
 * A viewer's handshake for type: key, encrypted random, then the hash and
 * the credentials in records (split != 0: hash in two records, credentials
 * in two, with empty records between). Returns its length.
 */
static size_t
transcript(uint8_t type, EVP_PKEY *ck, const char *user, const char *pass,
    int split, uint8_t *out)
{
	const struct rfb_ra2_params *p = rfb_ra2_params(type);
	uint8_t sblob[MON_RSA_MAX_BLOB], cblob[MAX_T], crnd[32], h[32];
	uint8_t key[32], nonce[16] = { 0 }, cred[600];
	EVP_PKEY_CTX *ctx;
	struct rfb_eax e;
	size_t sbl, cbl, k, n, outl, cl, i;

	if (ra2_test_server_blob(sblob, &sbl) != 0)
		abort();
	k = (sbl - 4) / 2;
	cbl = blob_of(ck, cblob);
	memcpy(out, cblob, cbl);
	n = cbl;
	for (i = 0; i < p->random_len; i++)
		crnd[i] = (uint8_t)(0xc0 + i);
	out[n++] = (uint8_t)(k >> 8);
	out[n++] = (uint8_t)k;
	outl = k;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ra2_test_identity()->key,
	    NULL)) == NULL || EVP_PKEY_encrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_encrypt(ctx, out + n, &outl, crnd, p->random_len) != 1)
		abort();
	EVP_PKEY_CTX_free(ctx);
	n += k;
	/* ClientSessionKey = H(ServerRandom || ClientRandom) */
	digest2(p->sha256, ra2_test_server_random, p->random_len, crnd,
	    p->random_len, h);
	memcpy(key, h, p->key_len);
	if (rfb_eax_init(&e, key, p->key_len) != 0)
		abort();
	digest2(p->sha256, cblob, cbl, sblob, sbl, h);
	cl = 0;
	cred[cl++] = (uint8_t)strlen(user);
	memcpy(cred + cl, user, strlen(user));
	cl += strlen(user);
	cred[cl++] = (uint8_t)strlen(pass);
	memcpy(cred + cl, pass, strlen(pass));
	cl += strlen(pass);
	if (!split) {
		n += seal_one(&e, nonce, h, p->hash_len, out + n);
		n += seal_one(&e, nonce, cred, cl, out + n);
	} else {
		n += seal_one(&e, nonce, h, 5, out + n);
		n += seal_one(&e, nonce, NULL, 0, out + n);
		n += seal_one(&e, nonce, h + 5, p->hash_len - 5, out + n);
		n += seal_one(&e, nonce, cred, 3, out + n);
		n += seal_one(&e, nonce, NULL, 0, out + n);
		n += seal_one(&e, nonce, cred + 3, cl - 3, out + n);
	}
	rfb_eax_free(&e);
	return n;
}

/* Every truncation needs more; every bit flip fails; none leaks. */
static void
mutate(uint8_t type, uint8_t *t, size_t n, const char *what)
{
	struct ra2_outcome o;
	size_t i, k;
	int again = 0, logged_in = 0, leaked = 0;

	for (i = 0; i < n; i++) {
		ra2_harness_run(type, t, i, &o);
		if (o.r != MOAT_ERR_AGAIN)
			again++;
		logged_in += o.r == 0;
		leaked += o.leaked;
		free(o.user);
		free(o.pass);
	}
	CHECK(again == 0 && logged_in == 0 && leaked == 0,
	    "%s: %d truncations did not need more, %d logged in, %d leaked",
	    what, again, logged_in, leaked);
	logged_in = leaked = 0;
	for (k = 0; k < n * 8; k++) {
		t[k / 8] ^= (uint8_t)(1u << (k % 8));
		ra2_harness_run(type, t, n, &o);
		logged_in += o.r == 0;
		leaked += o.leaked;
		free(o.user);
		free(o.pass);
		t[k / 8] ^= (uint8_t)(1u << (k % 8));
	}
	CHECK(logged_in == 0 && leaked == 0,
	    "%s: of %zu bit flips %d logged in, %d leaked", what, n * 8,
	    logged_in, leaked);
	/* The untouched transcript still logs in. */
	ra2_harness_run(type, t, n, &o);
	CHECK(o.r == 0, "%s: intact after the mutations", what);
	free(o.user);
	free(o.pass);
}

static void
expect_login(uint8_t type, const uint8_t *t, size_t n, const char *user,
    const char *pass, const char *what)
{
	struct ra2_outcome o;

	ra2_harness_run(type, t, n, &o);
	CHECK(o.r == 0 && o.stage == RA2_DONE && o.user != NULL &&
	    strcmp(o.user, user) == 0 && strcmp(o.pass, pass) == 0 &&
	    !o.leaked, "%s: logs in (r=%d stage %d)", what, o.r, o.stage);
	free(o.user);
	free(o.pass);
}

static void
test_transcripts(void)
{
	static uint8_t t[MAX_T];
	char what[64];
	size_t n, i;
	int split;

	for (i = 0; i < 4; i++) {
		for (split = 0; split <= 1; split++) {
			n = transcript(all_types[i], client_key, "alice",
			    "correct horse", split, t);
			snprintf(what, sizeof(what), "type %u%s", all_types[i],
			    split ? " split" : "");
			expect_login(all_types[i], t, n, "alice", "correct horse",
			    what);
			/* Another type's server refuses it. */
			{
				struct ra2_outcome o;

				ra2_harness_run(all_types[(i + 2) % 4], t, n, &o);
				CHECK(o.r != 0, "%s read as another type", what);
				free(o.user);
				free(o.pass);
			}
		}
	}
	/* Longest credentials; an empty user name is refused. */
	{
		char u[256], p[256];
		struct ra2_outcome o;

		memset(u, 'u', 255);
		u[255] = '\0';
		memset(p, 'p', 255);
		p[255] = '\0';
		n = transcript(129, client_key, u, p, 0, t);
		expect_login(129, t, n, u, p, "255-byte user and password");
		n = transcript(129, client_key, "", "pw", 0, t);
		ra2_harness_run(129, t, n, &o);
		CHECK(o.r == MOAT_ERR_INVALID && o.stage == RA2_AT_CREDENTIALS,
		    "an empty user name: %d", o.r);
	}
}

/* The recorded handshakes: fixed bytes from fuzz/corpus/ra2_handshake. */
static void
test_recorded(void)
{
	const char *src = getenv("MOAT_SOURCE_DIR");
	static uint8_t t[MAX_T];
	char dir[4096], path[4096 + 300];
	struct dirent *de;
	int count = 0;
	size_t n;
	FILE *f;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/ra2_handshake",
	    src != NULL ? src : ".");
	if ((d = opendir(dir)) == NULL) {
		CHECK(0, "cannot open %s", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "login-", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		n = fread(t, 1, sizeof(t), f);
		fclose(f);
		CHECK(n > 1, "%s", de->d_name);
		if (n <= 1)
			continue;
		expect_login(all_types[t[0] & 3], t + 1, n - 1, "alice",
		    "correct horse", de->d_name);
		mutate(all_types[t[0] & 3], t + 1, n - 1, de->d_name);
		count++;
	}
	closedir(d);
	CHECK(count >= 5, "%d recorded handshakes", count);
}

/* ---- records ---- */

static const uint8_t rkey[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

static void
test_records(void)
{
	struct rfb_ra2_dir tx, rx;
	struct buf out, in, pt;
	uint8_t msg[100], rec[200], save[16], *big;
	size_t n, i, k;
	int bad;

	RAND_bytes(msg, sizeof(msg));
	CHECK(rfb_ra2_dir_init(&tx, rkey, 32) == 0);
	CHECK(rfb_ra2_dir_init(&rx, rkey, 32) == 0);
	buf_init(&out, 1 << 20);
	CHECK(rfb_ra2_seal_record(&tx, msg, sizeof(msg), &out) == 0 &&
	    buf_len(&out) == sizeof(msg) + RFB_RA2_OVERHEAD);
	n = buf_len(&out);
	memcpy(rec, buf_ptr(&out), n);
	CHECK(rec[0] == 0 && rec[1] == 100, "U16 length first");
	CHECK(tx.nonce[0] == 1, "the counter moved");
	buf_init(&pt, 1 << 20);
	/* Truncations: need more, nothing consumed. */
	bad = 0;
	for (i = 0; i < n; i++) {
		buf_view(&in, rec, i);
		if (rfb_ra2_open_record(&rx, &in, &pt) != MOAT_ERR_AGAIN ||
		    buf_len(&in) != i || buf_len(&pt) != 0 || rx.nonce[0] != 0)
			bad++;
	}
	CHECK(bad == 0, "%d truncations misbehaved", bad);
	/* Bit flips: a bad tag (or a length asking for more), nothing released. */
	bad = 0;
	for (k = 0; k < n * 8; k++) {
		rec[k / 8] ^= (uint8_t)(1u << (k % 8));
		buf_view(&in, rec, n);
		i = (size_t)rfb_ra2_open_record(&rx, &in, &pt);
		if ((int)i == 0 || buf_len(&in) != n || buf_len(&pt) != 0 ||
		    rx.nonce[0] != 0)
			bad++;
		rec[k / 8] ^= (uint8_t)(1u << (k % 8));
	}
	CHECK(bad == 0, "%d bit flips misbehaved", bad);
	/* The record itself opens; a replay does not. */
	buf_view(&in, rec, n);
	CHECK(rfb_ra2_open_record(&rx, &in, &pt) == 0 && buf_len(&in) == 0 &&
	    buf_len(&pt) == sizeof(msg) && memcmp(buf_ptr(&pt), msg,
	    sizeof(msg)) == 0 && rx.nonce[0] == 1);
	buf_reset(&pt);
	buf_view(&in, rec, n);
	CHECK(rfb_ra2_open_record(&rx, &in, &pt) == MOAT_ERR_CRYPTO &&
	    buf_len(&pt) == 0, "a replayed record fails");
	/* Reordered: records 2 and 3 swapped. */
	buf_reset(&out);
	CHECK(rfb_ra2_seal_record(&tx, msg, 10, &out) == 0);
	n = buf_len(&out);
	CHECK(rfb_ra2_seal_record(&tx, msg + 10, 10, &out) == 0);
	memcpy(rec, buf_ptr(&out) + n, n);
	memcpy(rec + n, buf_ptr(&out), n);
	buf_view(&in, rec, 2 * n);
	CHECK(rfb_ra2_open_record(&rx, &in, &pt) == MOAT_ERR_CRYPTO &&
	    buf_len(&pt) == 0, "a reordered record fails");
	buf_view(&in, buf_ptr(&out), buf_len(&out));
	CHECK(rfb_ra2_open_record(&rx, &in, &pt) == 0 &&
	    rfb_ra2_open_record(&rx, &in, &pt) == 0 && buf_len(&pt) == 20 &&
	    memcmp(buf_ptr(&pt), msg, 20) == 0, "in order they open");
	/* Empty and maximal records; too big to seal; too big to hold. */
	if ((big = malloc(RFB_RA2_MAX_RECORD + 1)) == NULL)
		abort();
	RAND_bytes(big, RFB_RA2_MAX_RECORD);
	buf_reset(&out);
	buf_reset(&pt);
	CHECK(rfb_ra2_seal_record(&tx, NULL, 0, &out) == 0 &&
	    rfb_ra2_seal_record(&tx, big, RFB_RA2_MAX_RECORD, &out) == 0);
	CHECK(rfb_ra2_seal_record(&tx, big, RFB_RA2_MAX_RECORD + 1, &out) ==
	    MOAT_ERR_TOO_LONG, "65536 bytes do not fit a record");
	buf_view(&in, buf_ptr(&out), buf_len(&out));
	CHECK(rfb_ra2_open_record(&rx, &in, &pt) == 0 && buf_len(&pt) == 0,
	    "an empty record");
	{
		struct buf small;

		memcpy(save, rx.nonce, 16);
		buf_init(&small, RFB_RA2_MAX_RECORD - 1);
		CHECK(rfb_ra2_open_record(&rx, &in, &small) == MOAT_ERR_TOO_LONG &&
		    buf_len(&in) == RFB_RA2_MAX_RECORD + RFB_RA2_OVERHEAD &&
		    memcmp(save, rx.nonce, 16) == 0, "no room: nothing consumed");
		buf_free(&small);
	}
	CHECK(rfb_ra2_open_record(&rx, &in, &pt) == 0 &&
	    buf_len(&pt) == RFB_RA2_MAX_RECORD &&
	    memcmp(buf_ptr(&pt), big, RFB_RA2_MAX_RECORD) == 0,
	    "a 65535-byte record");
	free(big);
	rfb_ra2_dir_free(&tx);
	rfb_ra2_dir_free(&rx);
	buf_free(&out);
	buf_free(&pt);
}

/* The nonce: record i is sealed under i as a 16-byte little-endian number. */
static void
test_nonce(void)
{
	struct rfb_ra2_dir tx;
	struct rfb_eax e;
	struct buf out;
	uint8_t nonce[16], pt[4], m[4] = { 1, 2, 3, 4 };
	const uint8_t *r;
	unsigned i;
	int bad = 0;

	CHECK(rfb_ra2_dir_init(&tx, rkey, 16) == 0);
	CHECK(rfb_eax_init(&e, rkey, 16) == 0);
	buf_init(&out, 1 << 16);
	for (i = 0; i < 300; i++) {
		buf_reset(&out);
		if (rfb_ra2_seal_record(&tx, m, sizeof(m), &out) != 0)
			bad++;
		memset(nonce, 0, sizeof(nonce));
		nonce[0] = (uint8_t)i;
		nonce[1] = (uint8_t)(i >> 8);
		r = buf_ptr(&out);
		if (rfb_eax_open(&e, nonce, 16, r, 2, r + 2, 4, r + 6, pt) != 0 ||
		    memcmp(pt, m, 4) != 0)
			bad++;
	}
	CHECK(bad == 0, "%d records not under their little-endian counter", bad);
	/* Carry through all 16 bytes. */
	memset(tx.nonce, 0xff, 16);
	buf_reset(&out);
	CHECK(rfb_ra2_seal_record(&tx, m, 4, &out) == 0);
	memset(nonce, 0, 16);
	CHECK(memcmp(tx.nonce, nonce, 16) == 0, "the counter wraps to zero");
	rfb_eax_free(&e);
	rfb_ra2_dir_free(&tx);
	buf_free(&out);
}

/* ---- parsers ---- */

static void
test_pubkey(void)
{
	static uint8_t b[MAX_T];
	struct rfb_ra2_pubkey k;
	struct buf in;
	size_t n, len, i;
	EVP_PKEY *key;

	CHECK(rfb_ra2_pubkey_len(1023, &len) == MOAT_ERR_INVALID);
	CHECK(rfb_ra2_pubkey_len(8193, &len) == MOAT_ERR_INVALID);
	CHECK(rfb_ra2_pubkey_len(0, &len) == MOAT_ERR_INVALID);
	CHECK(rfb_ra2_pubkey_len(UINT32_MAX, &len) == MOAT_ERR_INVALID);
	CHECK(rfb_ra2_pubkey_len(1024, &len) == 0 && len == 4 + 256);
	CHECK(rfb_ra2_pubkey_len(8192, &len) == 0 && len == 4 + 2048);
	CHECK(rfb_ra2_pubkey_len(2047, &len) == 0 && len == 4 + 512);
	n = blob_of(client_key, b);
	buf_view(&in, b, n);
	CHECK(rfb_ra2_parse_pubkey(&in, &k) == 0 && k.bits == 1024 &&
	    k.mod_len == 128 && k.blob_len == n && memcmp(k.blob, b, n) == 0 &&
	    buf_len(&in) == 0);
	for (i = 0; i < n; i++) {
		buf_view(&in, b, i);
		if (rfb_ra2_parse_pubkey(&in, &k) != MOAT_ERR_AGAIN ||
		    buf_len(&in) != i)
			break;
	}
	CHECK(i == n, "truncation at %zu", i);
	/* The size is refused before the key arrives. */
	b[2] = 0x03;
	b[3] = 0xff;
	buf_view(&in, b, 4);
	CHECK(rfb_ra2_parse_pubkey(&in, &k) == MOAT_ERR_INVALID, "1023 bits");
	b[2] = 0x20;
	b[3] = 0x01;
	buf_view(&in, b, 4);
	CHECK(rfb_ra2_parse_pubkey(&in, &k) == MOAT_ERR_INVALID, "8193 bits");
	n = blob_of(client_key, b);
#define BAD(what) do {							\
		buf_view(&in, b, n);					\
		CHECK(rfb_ra2_parse_pubkey(&in, &k) == MOAT_ERR_INVALID &&	\
		    buf_len(&in) == n, what);				\
		n = blob_of(client_key, b);				\
	} while (0)
	b[4 + 127] &= 0xfe;
	BAD("even modulus");
	b[4] &= 0x7f;	/* a 1023-bit modulus in a key said to have 1024 */
	BAD("modulus shorter than declared");
	memset(b + 4 + 128, 0, 128);
	b[4 + 255] = 1;
	BAD("e = 1");
	b[4 + 255] = 0;
	BAD("e = 0");
	b[4 + 255] ^= 1;	/* 65537 -> 65536 */
	BAD("even e");
	memcpy(b + 4 + 128, b + 4, 128);
	BAD("e = n");
	memset(b + 4 + 128, 0xff, 128);
	BAD("e > n");
#undef BAD
	/* An 8192-bit modulus is accepted (built, not generated). */
	memset(b, 0, sizeof(b));
	b[2] = 0x20;
	b[4] = 0x80;
	b[4 + 1023] = 0x01;
	b[4 + 1024 + 1023] = 0x03;
	buf_view(&in, b, 4 + 2048);
	CHECK(rfb_ra2_parse_pubkey(&in, &k) == 0 && k.mod_len == 1024);
	/* And a server encrypts to any parsed key. */
	if ((key = EVP_RSA_gen(1536)) == NULL)
		abort();
	n = blob_of(key, b);
	buf_view(&in, b, n);
	CHECK(rfb_ra2_parse_pubkey(&in, &k) == 0 && k.mod_len == 192);
	{
		struct buf out;
		uint8_t rnd[32] = { 9 }, dec[192];
		EVP_PKEY_CTX *ctx;
		size_t dl = sizeof(dec);

		buf_init(&out, 4096);
		CHECK(rfb_ra2_put_encrypted_random(&out, &k, rnd, 32) == 0 &&
		    buf_len(&out) == 2 + 192 && buf_ptr(&out)[0] == 0 &&
		    buf_ptr(&out)[1] == 192);
		ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
		CHECK(ctx != NULL && EVP_PKEY_decrypt_init(ctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_decrypt(ctx, dec, &dl, buf_ptr(&out) + 2, 192) == 1 &&
		    dl == 32 && memcmp(dec, rnd, 32) == 0,
		    "PKCS#1 v1.5 to the viewer's key");
		EVP_PKEY_CTX_free(ctx);
		buf_free(&out);
	}
	EVP_PKEY_free(key);
}

static void
test_random_and_credentials(void)
{
	uint8_t m[300], ct[256];
	struct buf in;
	char *u = NULL, *p = NULL;

	memset(m, 0x33, sizeof(m));
	m[0] = 0;
	m[1] = 128;
	buf_view(&in, m, 2 + 128);
	CHECK(rfb_ra2_parse_encrypted_random(&in, 128, ct) == 0 &&
	    buf_len(&in) == 0 && ct[0] == 0x33);
	buf_view(&in, m, 2 + 127);
	CHECK(rfb_ra2_parse_encrypted_random(&in, 128, ct) == MOAT_ERR_AGAIN);
	buf_view(&in, m, 1);
	CHECK(rfb_ra2_parse_encrypted_random(&in, 128, ct) == MOAT_ERR_AGAIN);
	m[1] = 127;
	buf_view(&in, m, 2 + 128);
	CHECK(rfb_ra2_parse_encrypted_random(&in, 128, ct) == MOAT_ERR_INVALID &&
	    buf_len(&in) == 130, "a length other than the modulus");
	m[0] = 1;
	m[1] = 0;
	buf_view(&in, m, 2);
	CHECK(rfb_ra2_parse_encrypted_random(&in, 128, ct) == MOAT_ERR_INVALID,
	    "refused before the bytes arrive");

	memcpy(m, "\x05" "alice" "\x02" "pw", 9);
	buf_view(&in, m, 9);
	CHECK(rfb_ra2_parse_credentials(&in, &u, &p) == 0 &&
	    strcmp(u, "alice") == 0 && strcmp(p, "pw") == 0 && buf_len(&in) == 0);
	free(u);
	free(p);
	for (size_t i = 0; i < 9; i++) {
		buf_view(&in, m, i);
		CHECK(rfb_ra2_parse_credentials(&in, &u, &p) == MOAT_ERR_AGAIN &&
		    buf_len(&in) == i);
	}
	memcpy(m, "\x05" "al\0ce" "\x02" "pw", 9);
	buf_view(&in, m, 9);
	CHECK(rfb_ra2_parse_credentials(&in, &u, &p) == MOAT_ERR_INVALID);
	memcpy(m, "\x05" "alice" "\x02" "p\0", 9);
	buf_view(&in, m, 9);
	CHECK(rfb_ra2_parse_credentials(&in, &u, &p) == MOAT_ERR_INVALID);
	memcpy(m, "\x00" "\x02" "pw", 4);
	buf_view(&in, m, 4);
	CHECK(rfb_ra2_parse_credentials(&in, &u, &p) == MOAT_ERR_INVALID,
	    "an empty user name");
	memcpy(m, "\x01" "a" "\x00", 3);
	buf_view(&in, m, 3);
	CHECK(rfb_ra2_parse_credentials(&in, &u, &p) == 0 && p[0] == '\0',
	    "an empty password is the monitor's to refuse");
	free(u);
	free(p);
}

static void
test_derive(void)
{
	uint8_t sr[32], cr[32], ck[32], sk[32], want[32];
	size_t i;

	RAND_bytes(sr, sizeof(sr));
	RAND_bytes(cr, sizeof(cr));
	for (i = 0; i < 4; i++) {
		const struct rfb_ra2_params *p = rfb_ra2_params(all_types[i]);

		CHECK(rfb_ra2_derive(p, sr, cr, ck, sk) == 0);
		digest2(p->sha256, sr, p->random_len, cr, p->random_len, want);
		CHECK(memcmp(ck, want, p->key_len) == 0, "client key, type %u",
		    p->type);
		digest2(p->sha256, cr, p->random_len, sr, p->random_len, want);
		CHECK(memcmp(sk, want, p->key_len) == 0, "server key, type %u",
		    p->type);
	}
	CHECK(rfb_ra2_params(5)->random_len == 16 &&
	    rfb_ra2_params(5)->key_len == 16 && rfb_ra2_params(5)->hash_len == 20 &&
	    rfb_ra2_params(5)->all_encrypted);
	CHECK(rfb_ra2_params(130)->random_len == 32 &&
	    rfb_ra2_params(130)->key_len == 32 && !rfb_ra2_params(130)->all_encrypted);
	CHECK(rfb_ra2_params(19) == NULL && rfb_ra2_params(13) == NULL &&
	    rfb_ra2_params(133) == NULL, "only the four types");
}

static void
write_file(const char *dir, const char *name, uint8_t sel, const uint8_t *p,
    size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(&sel, 1, 1, f) != 1 ||
	    fwrite(p, 1, n, f) != n || fclose(f) != 0)
		abort();
}

/* MOAT_RA2_WRITE_SEEDS=DIR: fresh seeds for both fuzz targets. */
static void
write_seeds(const char *root)
{
	static uint8_t t[MAX_T];
	char dir[4096], name[64];
	struct rfb_ra2_dir tx;
	struct buf out;
	uint8_t m[64];
	size_t n, i;

	snprintf(dir, sizeof(dir), "%s/ra2_handshake", root);
	mkdir(dir, 0755);
	for (i = 0; i < 4; i++) {
		n = transcript(all_types[i], client_key, "alice",
		    "correct horse", 0, t);
		snprintf(name, sizeof(name), "login-type%u", all_types[i]);
		write_file(dir, name, (uint8_t)i, t, n);
	}
	n = transcript(129, client_key, "alice", "correct horse", 1, t);
	write_file(dir, "login-type129-split", 2, t, n);
	snprintf(dir, sizeof(dir), "%s/ra2_record", root);
	mkdir(dir, 0755);
	for (i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	for (i = 0; i < 2; i++) {
		rfb_ra2_dir_init(&tx, rkey, i ? 32 : 16);
		buf_init(&out, 4096);
		rfb_ra2_seal_record(&tx, m, 10, &out);
		rfb_ra2_seal_record(&tx, NULL, 0, &out);
		rfb_ra2_seal_record(&tx, m, sizeof(m), &out);
		snprintf(name, sizeof(name), "three-records-aes%s",
		    i ? "256" : "128");
		write_file(dir, name, (uint8_t)(i | 0x0e), buf_ptr(&out),
		    buf_len(&out));
		buf_free(&out);
		rfb_ra2_dir_free(&tx);
	}
}

int
main(void)
{
	const char *seeds = getenv("MOAT_RA2_WRITE_SEEDS");

	if (ra2_test_identity() == NULL || rfb_ra2_global_init() != 0 ||
	    (client_key = EVP_RSA_gen(1024)) == NULL)
		return 1;
	if (seeds != NULL) {
		write_seeds(seeds);
		return 0;
	}
	test_derive();
	test_pubkey();
	test_random_and_credentials();
	test_records();
	test_nonce();
	test_transcripts();
	test_recorded();
	EVP_PKEY_free(client_key);
	return check_summary();
}
