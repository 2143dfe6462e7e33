/*
 * ra2_harness.h - the server side of an RSA-AES handshake without I/O, for
 * the fuzz target fuzz_ra2_handshake.c and the mutation tests of
 * tests/unit/test_ra2.c. Test code: it compiles in monitor/mon_rsa.c (the
 * implicit-rejection decrypt) and uses a FIXED 1024-bit test server key
 * and a fixed ServerRandom, so a viewer's byte stream can be replayed:
 *
 *   viewer key message, U16 length + encrypted ClientRandom, then records
 *   (key-confirmation hash, credentials) under ClientSessionKey.
 *
 * The key below is a test fixture, generated for this file; it protects
 * nothing.
 */
#ifndef MOAT_RA2_HARNESS_H
#define MOAT_RA2_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "monitor/mon_rsa.c"
#include "net/rfb_ra2.h"
#include "privsep/errors.h"

static const char ra2_test_key_pem[] =
	"-----BEGIN RSA PRIVATE KEY-----\n"
	"MIICXAIBAAKBgQD0krG1OpsWyhCyiNFrY5ntkrIe1ZmSqW4AdYPD9C11jIQCSgbX\n"
	"LAQm+tpZwzbNpbKSn8X7GP05gjeLrolKOXYmvbhUFKKjDAnjFAyGtYYZ0jN3IG76\n"
	"DZyh22OGJU/xYTXZi+85HnEgfnIwLPls+m1bUJnoJ9xkpeRP76e+JQCFyQIDAQAB\n"
	"AoGAF3wCjmlrPPv4MHyMx2gP/s0IR4exMHEOfALMvUM0HkZ44pNjJsQ2Pdv2nYnu\n"
	"OD8B76xh4WOb5SrI1KPU0QjFfHDLNxJ66INe9ABw8tK2LwgCdEB3ZEFOn72rrE5y\n"
	"r20rkffVmyCOu2iuQb1K6EVV8s4efWcX7EqG+d+qA310JKUCQQD7eM/CZMYKyziz\n"
	"avdL6qA8+qH0oRz2HmtPpYobrinqsDyShRtV+4GodfPaMGpfjnyFNh1XbHnNha4+\n"
	"97BghjSPAkEA+PoU1FZkyKPH+f9GxYtLcZtuQO6AG/kGPx/nCrCh682Hrp8AhwLI\n"
	"JmxqEPA+WqselAMdc9YCQjVdmzaToHM8JwJBANGyir01v5eco2mqFxHtUzXGYmtW\n"
	"NopeD2pZRnOSpk2YLMqZyJPIqPRLd89IdEu+y8NhvtH6GQ/zG7xSW3gCMa0CQHfE\n"
	"pVx3qsexsbMbD8pbdZFS+biWgl3ybwTSrevAiEPMfOaNak2IEwwYvvUi/HvVMUJ2\n"
	"NSbR3ghHb54IpP9cL6UCQFhv46M1+7/uDhyHu1guttpf/Qd9DIZzsaqkx99wdsjX\n"
	"lyip8pq/ibA3XmbG7+lCTdRl3+rspxT4u+n7XH5mclg=\n"
	"-----END RSA PRIVATE KEY-----\n";

/* The fixed ServerRandom (the first 16 bytes for RA2 and RA2ne). */
static const uint8_t ra2_test_server_random[32] = {
	0x52, 0x41, 0x32, 0x2d, 0x73, 0x65, 0x72, 0x76,
	0x65, 0x72, 0x2d, 0x72, 0x61, 0x6e, 0x64, 0x6f,
	0x6d, 0x2d, 0x66, 0x6f, 0x72, 0x2d, 0x74, 0x65,
	0x73, 0x74, 0x73, 0x2d, 0x6f, 0x6e, 0x6c, 0x79,
};

/* The monitor's implicit-rejection secret, fixed too. */
static const uint8_t ra2_test_secret[MON_RSA_SECRET_LEN] = { 7, 7, 7 };

/* Stages a replay reached; the outcome is the first failure or success. */
enum {
	RA2_AT_KEY = 1,		/* the viewer's public key */
	RA2_AT_RANDOM,		/* the encrypted ClientRandom */
	RA2_AT_HASH,		/* records up to the key-confirmation hash */
	RA2_AT_CREDENTIALS,	/* records up to the credentials */
	RA2_DONE,
};

struct ra2_outcome {
	int r;			/* 0: logged in (credentials parsed) */
	int stage;		/* RA2_AT_* where it stopped, RA2_DONE */
	char *user, *pass;	/* on success; caller frees */
	int leaked;		/* plaintext released by a record that failed */
	size_t records;		/* records opened */
};

static struct mon_identity ra2_test_id;

/* The fixed server key (loaded once). Returns NULL on failure. */
static const struct mon_identity *
ra2_test_identity(void)
{
	BIO *bio;

	if (ra2_test_id.key == NULL) {
		if ((bio = BIO_new_mem_buf(ra2_test_key_pem, -1)) == NULL)
			return NULL;
		ra2_test_id.key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	return ra2_test_id.key != NULL ? &ra2_test_id : NULL;
}

/* The server's public-key message for the fixed key. */
static int
ra2_test_server_blob(uint8_t *blob, size_t *len)
{
	const struct mon_identity *id = ra2_test_identity();

	return id == NULL ? MOAT_ERR_CRYPTO :
	    mon_rsa_public_blob(id, blob, MON_RSA_MAX_BLOB, len);
}

/* Opens records from in into pt until pt holds n bytes. */
static int
ra2_harness_fill(struct rfb_ra2_dir *rx, struct buf *in, struct buf *pt,
    size_t n, struct ra2_outcome *o)
{
	size_t before;
	int r;

	while (buf_len(pt) < n) {
		before = buf_len(pt);
		if ((r = rfb_ra2_open_record(rx, in, pt)) != 0) {
			if (buf_len(pt) != before)
				o->leaked = 1;
			return r;
		}
		o->records++;
	}
	return 0;
}

/*
 * Replays a viewer's handshake bytes for security type type against the
 * fixed server. Fills *o; returns o->r.
 */
static int
ra2_harness_run(uint8_t type, const uint8_t *data, size_t size,
    struct ra2_outcome *o)
{
	const struct rfb_ra2_params *p = rfb_ra2_params(type);
	const struct mon_identity *id = ra2_test_identity();
	static struct rfb_ra2_pubkey ck;
	uint8_t sblob[MON_RSA_MAX_BLOB], ct[RFB_RA2_MAX_MODULUS];
	uint8_t crnd[RFB_RA2_MAX_RANDOM], ckey[RFB_RA2_MAX_KEY];
	uint8_t skey[RFB_RA2_MAX_KEY], want[RFB_RA2_MAX_HASH];
	struct rfb_ra2_dir rx;
	struct buf in, pt;
	size_t sbl = 0, k;
	int r;

	memset(o, 0, sizeof(*o));
	o->stage = RA2_AT_KEY;
	if (p == NULL || id == NULL || (r = ra2_test_server_blob(sblob, &sbl)) != 0)
		return o->r = MOAT_ERR_INVALID;
	k = (sbl - 4) / 2;
	buf_view(&in, data, size);
	if ((r = rfb_ra2_parse_pubkey(&in, &ck)) != 0)
		return o->r = r;
	o->stage = RA2_AT_RANDOM;
	if ((r = rfb_ra2_parse_encrypted_random(&in, k, ct)) != 0)
		return o->r = r;
	if ((r = mon_rsa_decrypt_random(id, ra2_test_secret, ct, k, crnd,
	    p->random_len)) != 0 ||
	    (r = rfb_ra2_derive(p, ra2_test_server_random, crnd, ckey,
	    skey)) != 0 ||
	    (r = rfb_ra2_dir_init(&rx, ckey, p->key_len)) != 0)
		return o->r = r;
	o->stage = RA2_AT_HASH;
	buf_init(&pt, 4 * RFB_RA2_MAX_RECORD);
	if ((r = ra2_harness_fill(&rx, &in, &pt, p->hash_len, o)) != 0)
		goto out;
	if ((r = rfb_ra2_hash(p, ck.blob, ck.blob_len, sblob, sbl, want)) != 0)
		goto out;
	if (CRYPTO_memcmp(want, buf_ptr(&pt), p->hash_len) != 0) {
		r = MOAT_ERR_PROTOCOL;
		goto out;
	}
	(void)buf_consume(&pt, p->hash_len);
	o->stage = RA2_AT_CREDENTIALS;
	while ((r = rfb_ra2_parse_credentials(&pt, &o->user, &o->pass)) ==
	    MOAT_ERR_AGAIN) {
		if ((r = ra2_harness_fill(&rx, &in, &pt, buf_len(&pt) + 1,
		    o)) != 0)
			goto out;
	}
	if (r == 0)
		o->stage = RA2_DONE;
out:
	rfb_ra2_dir_free(&rx);
	buf_free(&pt);
	OPENSSL_cleanse(crnd, sizeof(crnd));
	OPENSSL_cleanse(ckey, sizeof(ckey));
	OPENSSL_cleanse(skey, sizeof(skey));
	return o->r = r;
}

#endif
