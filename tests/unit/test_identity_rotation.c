/*
 * test_identity_rotation.c - unit tests for the identity key rotation
 * (monitor/mon_identity.c and viewer/rotation.c, compiled in here: unit
 * tests link neither moatd nor moat-viewer). New identities are named
 * after their key and allow one intermediate CA; the cross certificate has
 * the documented profile; moatd's check accepts it and refuses a wrong
 * key, an expired or not yet valid one, a non-CA one, one signed by
 * another key, a previous certificate that is not self-signed or holds the
 * current key; the chain a connection gets carries the cross and previous
 * certificates only during the overlap and verifies with OpenSSL against
 * either the old or the new CA (and, as the reason for pathlen:1, fails
 * against an old CA limited to pathlen:0); --overlap parsing and bounds;
 * the files rotate writes (modes, atomic replacement, refusal to rotate
 * again during an overlap without force, a rotation file that does not
 * match); and moat-viewer's rules: the signer of the leaf is the
 * identity, a rotation is vouched only by a currently valid CA
 * certificate with the new key signed by the pinned key. Test code.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/mon_identity.c"
#include "viewer/rotation.c"

#include "check.h"

static struct mon_identity ida, idb, idc;	/* old, new, unrelated */
static uint8_t ha[32], hb[32], hc[32];	/* their key hashes */

/* A certificate for subj's key, signed by signer, with the given profile. */
static X509 *
make_cert(const struct mon_identity *signer, X509 *subj, const char *bc,
    long nb, long na)
{
	X509 *x = X509_new();

	if (x == NULL || X509_set_version(x, 2) != 1 || set_serial(x) != 0 ||
	    X509_set_subject_name(x, X509_get_subject_name(subj)) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(ida.cert)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), nb) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), na) == NULL ||
	    X509_set_pubkey(x, X509_get0_pubkey(subj)) != 1 ||
	    (bc != NULL && add_ext(x, ida.cert, NID_basic_constraints, bc) != 0) ||
	    add_ext(x, ida.cert, NID_subject_key_identifier, "hash") != 0 ||
	    X509_sign(x, signer->key, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static STACK_OF(X509) *
stack_of(X509 *a, X509 *b, X509 *c)
{
	STACK_OF(X509) *s = sk_X509_new_null();

	if (a != NULL)
		sk_X509_push(s, a);
	if (b != NULL)
		sk_X509_push(s, b);
	if (c != NULL)
		sk_X509_push(s, c);
	return s;
}

/* Parses a PEM chain into a stack (caller frees with sk_X509_pop_free). */
static STACK_OF(X509) *
parse_chain(const char *pem)
{
	STACK_OF(X509) *s = sk_X509_new_null();
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x;

	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(s, x);
	ERR_clear_error();
	BIO_free(b);
	return s;
}

/*
 * Standard OpenSSL verification, as a stock viewer does it: chain[0] is
 * the leaf, the rest untrusted, anchor the only trusted certificate.
 * Returns the X509_V_* result.
 */
static int
stock_verify(STACK_OF(X509) *chain, X509 *anchor)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int r;

	X509_STORE_add_cert(st, anchor);
	X509_STORE_CTX_init(ctx, st, sk_X509_value(chain, 0), chain);
	X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), "localhost", 0);
	r = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return r;
}

static void
test_new_identity(void)
{
	char want[16], host[256];
	const char *cn;
	X509_NAME_ENTRY *e;
	BASIC_CONSTRAINTS *bc;

	snprintf(want, sizeof(want), " %02X%02X%02X%02X", hb[0], hb[1], hb[2], hb[3]);
	e = X509_NAME_get_entry(X509_get_subject_name(idb.cert), 0);
	cn = e != NULL ? (const char *)ASN1_STRING_get0_data(X509_NAME_ENTRY_get_data(e)) : "";
	CHECK(strncmp(cn, "moat identity ", 14) == 0, "%s", cn);
	CHECK(strlen(cn) > 9 && strcmp(cn + strlen(cn) - 9, want) == 0,
	    "the name ends with the key's first 8 hex digits: %s / %s", cn, want);
	if (gethostname(host, sizeof(host)) == 0) {
		host[40] = '\0';
		CHECK(strstr(cn, host) != NULL, "%s has the host name %s", cn, host);
	}
	CHECK(X509_NAME_cmp(X509_get_subject_name(ida.cert),
	    X509_get_subject_name(idb.cert)) != 0, "two identities, two names");
	bc = X509_get_ext_d2i(idb.cert, NID_basic_constraints, NULL, NULL);
	CHECK(bc != NULL && bc->ca && bc->pathlen != NULL &&
	    ASN1_INTEGER_get(bc->pathlen) == 1, "CA:TRUE pathlen:1");
	BASIC_CONSTRAINTS_free(bc);
	CHECK(X509_self_signed(idb.cert, 1) == 1, "self-signed");
}

static void
test_cross_profile(X509 *cross)
{
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	AUTHORITY_KEYID *akid;
	const ASN1_OCTET_STRING *skid_b, *skid_a, *skid_x;
	time_t now = time(NULL), t;
	int crit;

	CHECK(X509_NAME_cmp(X509_get_subject_name(cross),
	    X509_get_subject_name(idb.cert)) == 0, "subject = the new CA's");
	CHECK(X509_NAME_cmp(X509_get_issuer_name(cross),
	    X509_get_subject_name(ida.cert)) == 0, "issuer = the old CA's subject");
	CHECK(EVP_PKEY_eq(X509_get0_pubkey(cross), idb.key) == 1, "the new key");
	CHECK(X509_verify(cross, ida.key) == 1, "signed by the old key");
	CHECK(X509_verify(cross, idb.key) != 1, "not by the new key");
	ERR_clear_error();
	CHECK(X509_get_signature_nid(cross) == NID_sha256WithRSAEncryption,
	    "SHA-256: %d", X509_get_signature_nid(cross));
	bc = X509_get_ext_d2i(cross, NID_basic_constraints, &crit, NULL);
	CHECK(bc != NULL && bc->ca && crit == 1 && bc->pathlen != NULL &&
	    ASN1_INTEGER_get(bc->pathlen) == 0, "critical CA:TRUE pathlen:0");
	BASIC_CONSTRAINTS_free(bc);
	ku = X509_get_ext_d2i(cross, NID_key_usage, &crit, NULL);
	CHECK(ku != NULL && crit == 1 && X509_get_key_usage(cross) == KU_KEY_CERT_SIGN,
	    "critical keyUsage keyCertSign only: %x", X509_get_key_usage(cross));
	ASN1_BIT_STRING_free(ku);
	skid_b = X509_get0_subject_key_id(idb.cert);
	skid_a = X509_get0_subject_key_id(ida.cert);
	skid_x = X509_get0_subject_key_id(cross);
	CHECK(skid_b != NULL && skid_x != NULL &&
	    ASN1_OCTET_STRING_cmp(skid_b, skid_x) == 0, "SKID = the new key's");
	akid = X509_get_ext_d2i(cross, NID_authority_key_identifier, NULL, NULL);
	CHECK(akid != NULL && akid->keyid != NULL && skid_a != NULL &&
	    ASN1_OCTET_STRING_cmp(akid->keyid, skid_a) == 0, "AKID = the old key's");
	AUTHORITY_KEYID_free(akid);
	CHECK(cert_time(X509_get0_notBefore(cross), &t) == 0 &&
	    t >= now - 3600 - 60 && t <= now - 3600 + 60, "notBefore an hour ago");
	CHECK(cert_time(X509_get0_notAfter(cross), &t) == 0 &&
	    t >= now + 7200 - 60 && t <= now + 7200 + 60, "notAfter = overlap");
}

static void
test_checks(X509 *cross)
{
	char err[256];
	time_t now = time(NULL);
	X509 *x;

	CHECK(mon_identity_rotation_check(idb.cert, cross, ida.cert, now, err,
	    sizeof(err)) == 0, "%s", err);
	CHECK(mon_identity_rotation_check(idc.cert, cross, ida.cert, now, err,
	    sizeof(err)) == MOAT_ERR_INVALID && strstr(err, "does not hold") != NULL,
	    "another identity key: %s", err);
	CHECK(mon_identity_rotation_check(idb.cert, cross, ida.cert, now + 7300,
	    err, sizeof(err)) == MOAT_ERR_INVALID && strstr(err, "expired at") != NULL,
	    "expired: %s", err);
	CHECK(mon_identity_rotation_check(idb.cert, cross, ida.cert, now - 7200,
	    err, sizeof(err)) == MOAT_ERR_INVALID &&
	    strstr(err, "not valid before") != NULL, "not yet valid: %s", err);
	x = make_cert(&ida, idb.cert, "critical,CA:FALSE", -60, 3600);
	CHECK(x != NULL && mon_identity_rotation_check(idb.cert, x, ida.cert, now,
	    err, sizeof(err)) == MOAT_ERR_INVALID && strstr(err, "not a CA") != NULL,
	    "CA:FALSE: %s", err);
	X509_free(x);
	x = make_cert(&ida, idb.cert, NULL, -60, 3600);
	CHECK(x != NULL && mon_identity_rotation_check(idb.cert, x, ida.cert, now,
	    err, sizeof(err)) == MOAT_ERR_INVALID && strstr(err, "not a CA") != NULL,
	    "no basicConstraints: %s", err);
	X509_free(x);
	x = make_cert(&idc, idb.cert, "critical,CA:TRUE,pathlen:0", -60, 3600);
	CHECK(x != NULL && mon_identity_rotation_check(idb.cert, x, ida.cert, now,
	    err, sizeof(err)) == MOAT_ERR_INVALID && strstr(err, "not signed") != NULL,
	    "signed by another key: %s", err);
	X509_free(x);
	CHECK(mon_identity_rotation_check(idb.cert, cross, idc.cert, now, err,
	    sizeof(err)) == MOAT_ERR_INVALID && strstr(err, "not signed") != NULL,
	    "another previous certificate: %s", err);
	CHECK(mon_identity_rotation_check(idb.cert, cross, idb.cert, now, err,
	    sizeof(err)) == MOAT_ERR_INVALID && strstr(err, "current key") != NULL,
	    "the previous certificate holds the current key: %s", err);
	CHECK(mon_identity_rotation_check(idb.cert, cross, cross, now, err,
	    sizeof(err)) == MOAT_ERR_INVALID && strstr(err, "self-signed") != NULL,
	    "a previous certificate that is not self-signed: %s", err);
	CHECK(mon_identity_rotation_check(idb.cert, NULL, ida.cert, now, err,
	    sizeof(err)) == MOAT_ERR_INVALID, "no cross certificate");

	CHECK(mon_identity_cross(&ida, &idb, 0, &x) == MOAT_ERR_INVALID && x == NULL,
	    "overlap 0 refused");
	CHECK(mon_identity_cross(&ida, &idb, MON_ROTATION_OVERLAP_MAX + 1, &x) ==
	    MOAT_ERR_INVALID, "overlap over 400 days refused");
	{
		struct mon_identity pub = { .cert = ida.cert };

		CHECK(mon_identity_cross(&pub, &idb, 3600, &x) == MOAT_ERR_INVALID,
		    "no old private key");
	}
}

static void
test_overlap(void)
{
	static const struct { const char *s; long v; } ok[] = {
		{ "30d", 2592000 }, { "12h", 43200 }, { "90s", 90 }, { "5m", 300 },
		{ "1s", 1 }, { "400d", 34560000 }, { "34560000s", 34560000 },
		{ "007h", 25200 },
	};
	static const char *const bad[] = {
		"", "d", "10", "0s", "0d", "401d", "34560001s", "10x", "10dd",
		"-5d", "+5d", " 5d", "5d ", "5 d", "99999999999999999999d",
		"9600h1", "1.5d", "1D",
	};
	size_t i;
	long v;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		CHECK(mon_identity_parse_overlap(ok[i].s, &v) == 0 && v == ok[i].v,
		    "%s -> %ld", ok[i].s, v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(mon_identity_parse_overlap(bad[i], &v) == MOAT_ERR_INVALID,
		    "'%s' refused", bad[i]);
}

/* The chain a connection gets, during and after the overlap. */
static void
test_chain(X509 *cross)
{
	struct mon_identity id = idb;	/* borrowed: not freed here */
	STACK_OF(X509) *chain;
	char *pem, *key;
	time_t now = time(NULL);

	id.rot_cross = cross;
	id.rot_prev = ida.cert;
	id.rot_until = now + 3600;
	id.rot_logged = NULL;
	CHECK(mon_identity_issue_leaf(&id, "localhost,127.0.0.1", &pem, &key) == 0,
	    "leaf during the overlap");
	chain = parse_chain(pem);
	CHECK(sk_X509_num(chain) == 3, "leaf, cross, previous: %d", sk_X509_num(chain));
	if (sk_X509_num(chain) == 3) {
		CHECK(X509_cmp(sk_X509_value(chain, 1), cross) == 0, "cross second");
		CHECK(X509_cmp(sk_X509_value(chain, 2), ida.cert) == 0, "previous third");
		CHECK(stock_verify(chain, ida.cert) == X509_V_OK,
		    "OpenSSL verifies it with the OLD CA as anchor: %s",
		    X509_verify_cert_error_string(stock_verify(chain, ida.cert)));
		CHECK(stock_verify(chain, idb.cert) == X509_V_OK,
		    "OpenSSL verifies it with the NEW CA as anchor: %s",
		    X509_verify_cert_error_string(stock_verify(chain, idb.cert)));
		CHECK(stock_verify(chain, idc.cert) != X509_V_OK,
		    "but not with another CA");
	}
	sk_X509_pop_free(chain, X509_free);
	OPENSSL_cleanse(key, strlen(key));
	free(key);
	free(pem);

	id.rot_until = now - 1;		/* the overlap is over */
	CHECK(mon_identity_issue_leaf(&id, "localhost", &pem, &key) == 0,
	    "leaf after the overlap");
	chain = parse_chain(pem);
	CHECK(sk_X509_num(chain) == 2 &&
	    X509_cmp(sk_X509_value(chain, 1), idb.cert) == 0,
	    "leaf and identity certificate only");
	sk_X509_pop_free(chain, X509_free);
	OPENSSL_cleanse(key, strlen(key));
	free(key);
	free(pem);
}

/*
 * Why new identities say pathlen:1: an old CA limited to pathlen:0 allows
 * no intermediate CA, and the cross certificate is one.
 */
static void
test_pathlen_reason(void)
{
	struct mon_identity old0 = { .key = NULL }, lid;
	STACK_OF(X509) *chain;
	X509 *cross;
	char *pem, *key;

	old0.key = ida.key;
	EVP_PKEY_up_ref(ida.key);
	old0.cert = X509_new();
	if (old0.cert == NULL || X509_set_version(old0.cert, 2) != 1 ||
	    set_serial(old0.cert) != 0 ||
	    X509_set_subject_name(old0.cert, X509_get_subject_name(ida.cert)) != 1 ||
	    X509_set_issuer_name(old0.cert, X509_get_subject_name(ida.cert)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(old0.cert), -60) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(old0.cert), 86400) == NULL ||
	    X509_set_pubkey(old0.cert, ida.key) != 1 ||
	    add_ext(old0.cert, old0.cert, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0") != 0 ||
	    add_ext(old0.cert, old0.cert, NID_subject_key_identifier, "hash") != 0 ||
	    X509_sign(old0.cert, ida.key, EVP_sha256()) == 0) {
		CHECK(0, "cannot make a pathlen:0 CA");
		mon_identity_free(&old0);
		return;
	}
	CHECK(mon_identity_cross(&old0, &idb, 3600, &cross) == 0, "cross");
	lid = idb;
	lid.rot_cross = cross;
	lid.rot_prev = old0.cert;
	lid.rot_until = time(NULL) + 3600;
	lid.rot_logged = NULL;
	CHECK(mon_identity_issue_leaf(&lid, "localhost", &pem, &key) == 0, "leaf");
	chain = parse_chain(pem);
	CHECK(stock_verify(chain, old0.cert) == X509_V_ERR_PATH_LENGTH_EXCEEDED,
	    "a pathlen:0 old CA refuses the cross chain: %s",
	    X509_verify_cert_error_string(stock_verify(chain, old0.cert)));
	/* moat-viewer's own rule still sees the vouching. */
	{
		struct viewer_chain_id vid;
		time_t until;

		CHECK(viewer_chain_signer(sk_X509_value(chain, 0), chain, &vid) == 0 &&
		    viewer_rotation_vouched(&vid, chain, ha, time(NULL), &until) == 0,
		    "moat-viewer learns the rotation from a pathlen:0 identity");
	}
	sk_X509_pop_free(chain, X509_free);
	OPENSSL_cleanse(key, strlen(key));
	free(key);
	free(pem);
	X509_free(cross);
	mon_identity_free(&old0);
}

/* moat-viewer's side: who signed the leaf, and is a rotation vouched for. */
static void
test_viewer(X509 *cross)
{
	struct mon_identity id = idb;
	struct viewer_chain_id vid;
	STACK_OF(X509) *chain, *s;
	X509 *leaf, *x, *self;
	time_t now = time(NULL), until = 0, want;
	char *pem, *key;
	EVP_PKEY *k;

	id.rot_cross = cross;
	id.rot_prev = ida.cert;
	id.rot_until = now + 3600;
	id.rot_logged = NULL;
	if (mon_identity_issue_leaf(&id, "localhost", &pem, &key) != 0) {
		CHECK(0, "leaf");
		return;
	}
	chain = parse_chain(pem);
	OPENSSL_cleanse(key, strlen(key));
	free(key);
	free(pem);
	leaf = sk_X509_value(chain, 0);

	CHECK(viewer_chain_signer(leaf, chain, &vid) == 0 &&
	    X509_cmp(vid.signer, cross) == 0 && memcmp(vid.key, hb, 32) == 0,
	    "the identity is the key that signed the leaf (the new key)");
	CHECK(cert_time(X509_get0_notAfter(cross), &want) == 0, "x");
	CHECK(viewer_rotation_vouched(&vid, chain, ha, now, &until) == 0 &&
	    until == want, "the old pin vouches for it until the overlap ends");
	CHECK(viewer_rotation_vouched(&vid, chain, hc, now, &until) ==
	    MOAT_ERR_CRYPTO, "another pin does not");
	CHECK(viewer_rotation_vouched(&vid, chain, ha, now + 7300, &until) ==
	    MOAT_ERR_CRYPTO, "an expired cross certificate does not");
	CHECK(viewer_rotation_vouched(&vid, chain, ha, now - 7200, &until) ==
	    MOAT_ERR_CRYPTO, "a not yet valid one does not");

	/* Without the previous certificate the pinned key is not presented. */
	s = stack_of(leaf, cross, NULL);
	CHECK(viewer_chain_signer(leaf, s, &vid) == 0 &&
	    viewer_rotation_vouched(&vid, s, ha, now, &until) == MOAT_ERR_CRYPTO,
	    "no pinned key in the chain: no rotation");
	sk_X509_free(s);

	/* Forged: the same names, signed by another key; the real old CA sent. */
	x = make_cert(&idc, idb.cert, "critical,CA:TRUE,pathlen:0", -60, 3600);
	s = stack_of(leaf, x, ida.cert);
	CHECK(viewer_chain_signer(leaf, s, &vid) == 0 && memcmp(vid.key, hb, 32) == 0 &&
	    viewer_rotation_vouched(&vid, s, ha, now, &until) == MOAT_ERR_CRYPTO,
	    "a cross certificate signed by another key is refused");
	sk_X509_free(s);
	X509_free(x);
	/* Signed by the pinned key but not a CA. */
	x = make_cert(&ida, idb.cert, "critical,CA:FALSE", -60, 3600);
	s = stack_of(leaf, x, ida.cert);
	CHECK(viewer_chain_signer(leaf, s, &vid) == 0 &&
	    viewer_rotation_vouched(&vid, s, ha, now, &until) == MOAT_ERR_CRYPTO,
	    "a non-CA certificate does not vouch");
	sk_X509_free(s);
	X509_free(x);
	/* Signed by the pinned key, CA, but expired. */
	x = make_cert(&ida, idb.cert, "critical,CA:TRUE,pathlen:0", -7200, -60);
	s = stack_of(leaf, x, ida.cert);
	CHECK(viewer_chain_signer(leaf, s, &vid) == 0 &&
	    viewer_rotation_vouched(&vid, s, ha, now, &until) == MOAT_ERR_CRYPTO,
	    "an expired vouching certificate does not vouch");
	sk_X509_free(s);
	X509_free(x);
	/* The pinned key vouched for ANOTHER key (C), while B signed the leaf. */
	x = make_cert(&ida, idc.cert, "critical,CA:TRUE,pathlen:0", -60, 3600);
	s = stack_of(leaf, x, ida.cert);
	sk_X509_push(s, idb.cert);
	CHECK(viewer_chain_signer(leaf, s, &vid) == 0 && memcmp(vid.key, hb, 32) == 0 &&
	    viewer_rotation_vouched(&vid, s, ha, now, &until) == MOAT_ERR_CRYPTO,
	    "vouching for another key does not count");
	sk_X509_free(s);
	X509_free(x);

	/* The usual chain: the self-signed identity certificate signed it. */
	s = stack_of(leaf, idb.cert, NULL);
	CHECK(viewer_chain_signer(leaf, s, &vid) == 0 && vid.signer == idb.cert &&
	    memcmp(vid.key, hb, 32) == 0, "the identity certificate signed it");
	sk_X509_free(s);
	/* With both the cross and the self-signed certificate, the latter. */
	s = stack_of(leaf, cross, idb.cert);
	CHECK(viewer_chain_signer(leaf, s, &vid) == 0 && vid.signer == idb.cert,
	    "a self-signed signer is preferred");
	sk_X509_free(s);
	/* Nobody presented signed it. */
	s = stack_of(leaf, ida.cert, idc.cert);
	CHECK(viewer_chain_signer(leaf, s, &vid) == MOAT_ERR_INVALID,
	    "no presented key signed the leaf");
	sk_X509_free(s);
	/* A certificate with the right names but another key is not the signer. */
	x = make_cert(&ida, idc.cert, "critical,CA:TRUE", -60, 3600);
	X509_set_subject_name(x, X509_get_subject_name(idb.cert));
	X509_sign(x, ida.key, EVP_sha256());
	s = stack_of(leaf, x, NULL);
	CHECK(viewer_chain_signer(leaf, s, &vid) == MOAT_ERR_INVALID,
	    "names alone do not make a signer");
	sk_X509_free(s);
	X509_free(x);
	/* A self-signed leaf alone is its own signer. */
	k = EVP_EC_gen("P-256");
	self = X509_new();
	if (k != NULL && self != NULL && X509_set_version(self, 2) == 1 &&
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(self), "CN",
	    MBSTRING_UTF8, (const unsigned char *)"self", -1, -1, 0) == 1 &&
	    X509_set_issuer_name(self, X509_get_subject_name(self)) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(self), -60) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(self), 3600) != NULL &&
	    X509_set_pubkey(self, k) == 1 && X509_sign(self, k, EVP_sha256()) != 0) {
		s = stack_of(self, NULL, NULL);
		CHECK(viewer_chain_signer(self, s, &vid) == 0 && vid.signer == self,
		    "a self-signed leaf");
		sk_X509_free(s);
	} else
		CHECK(0, "cannot make a self-signed leaf");
	X509_free(self);
	EVP_PKEY_free(k);
	sk_X509_pop_free(chain, X509_free);
}

static int
file_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static int
count_files(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	while (dp != NULL && (d = readdir(dp)) != NULL)
		if (d->d_name[0] != '.')
			n++;
	if (dp != NULL)
		closedir(dp);
	return n;
}

/* The files: rotate, load, refuse, force. Needs root (owner checks). */
static void
test_files(void)
{
	char dir[] = "/tmp/test_rotation.XXXXXX", key[300], crt[300], rot[300];
	char err[1024], cmd[400];
	struct mon_identity a, cur, b, c, d, again;
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(key, sizeof(key), "%s/identity.key", dir);
	snprintf(crt, sizeof(crt), "%s/identity.crt", dir);
	snprintf(rot, sizeof(rot), "%s/identity-rotation.crt", dir);
	CHECK(mon_identity_create(&a, key, crt, err, sizeof(err)) == 0, "%s", err);
	CHECK(mon_identity_open(&cur, key, crt, err, sizeof(err)) == 0, "%s", err);
	CHECK(mon_identity_rotation_load(&cur, rot, err, sizeof(err)) == 0 &&
	    cur.rot_cross == NULL, "no rotation file: nothing in effect");

	CHECK(mon_identity_rotate(&cur, key, crt, crt, 3600, 0, &b, err,
	    sizeof(err)) == MOAT_ERR_CONFIG, "the same file twice is refused");
	CHECK(mon_identity_rotate(&cur, key, crt, rot, 3600, 0, &b, err,
	    sizeof(err)) == 0, "rotate: %s", err);
	CHECK(b.rot_cross != NULL && b.rot_prev != NULL &&
	    X509_cmp(b.rot_prev, a.cert) == 0, "the new identity carries its rotation");
	CHECK(file_mode(key) == 0600, "key 0600: %o", file_mode(key));
	CHECK(file_mode(crt) == 0644, "certificate 0644: %o", file_mode(crt));
	CHECK(file_mode(rot) == 0644, "rotation certificate 0644: %o", file_mode(rot));
	CHECK(count_files(dir) == 3, "no temporary file left: %d", count_files(dir));
	mon_identity_free(&cur);

	/* What moatd loads now. */
	CHECK(mon_identity_open(&cur, key, crt, err, sizeof(err)) == 0, "%s", err);
	CHECK(EVP_PKEY_eq(cur.key, b.key) == 1 && EVP_PKEY_eq(cur.key, a.key) != 1,
	    "the key file holds the new key");
	CHECK(mon_identity_rotation_load(&cur, rot, err, sizeof(err)) == 0 &&
	    cur.rot_cross != NULL && X509_cmp(cur.rot_prev, a.cert) == 0 &&
	    cur.rot_until > time(NULL) + 3500 && cur.rot_logged != NULL,
	    "the rotation is in effect: %s", err);
	{
		struct catchphrase_id prev, ad;
		char until[40];

		CHECK(mon_identity_rotation_describe(&cur, &prev, until,
		    sizeof(until)) == 0 && mon_identity_describe(&a, &ad) == 0 &&
		    strcmp(prev.words, ad.words) == 0 && strstr(until, " UTC") != NULL,
		    "describe names the previous catchphrase");
	}

	/* Rotating again during the overlap needs force. */
	CHECK(mon_identity_rotate(&cur, key, crt, rot, 3600, 0, &c, err,
	    sizeof(err)) == MOAT_ERR_CONFIG && strstr(err, "--force") != NULL,
	    "a second rotation during the overlap is refused: %s", err);
	CHECK(mon_identity_open(&again, key, crt, err, sizeof(err)) == 0 &&
	    EVP_PKEY_eq(again.key, b.key) == 1, "and changed nothing");
	mon_identity_free(&again);
	CHECK(mon_identity_rotate(&cur, key, crt, rot, 60, 1, &c, err,
	    sizeof(err)) == 0, "with force it rotates: %s", err);
	CHECK(count_files(dir) == 3, "no temporary file left: %d", count_files(dir));

	/* The old identity (b) does not match the rotation file for c. */
	CHECK(mon_identity_rotation_load(&b, rot, err, sizeof(err)) ==
	    MOAT_ERR_CONFIG && strstr(err, "does not hold") != NULL,
	    "a rotation file for another key is not used: %s", err);

	/* A file others may write is not used. */
	chmod(rot, 0664);
	mon_identity_free(&again);
	CHECK(mon_identity_open(&again, key, crt, err, sizeof(err)) == 0, "%s", err);
	CHECK(mon_identity_rotation_load(&again, rot, err, sizeof(err)) ==
	    MOAT_ERR_CONFIG && strstr(err, "writable") != NULL, "%s", err);
	chmod(rot, 0644);
	/* Three certificates are not a rotation file. */
	if ((f = fopen(rot, "a")) != NULL) {
		PEM_write_X509(f, a.cert);
		fclose(f);
	}
	CHECK(mon_identity_rotation_load(&again, rot, err, sizeof(err)) ==
	    MOAT_ERR_CONFIG && strstr(err, "two PEM certificates") != NULL, "%s", err);
	CHECK(mon_identity_rotate(&again, key, crt, rot, 60, 0, &d, err,
	    sizeof(err)) == MOAT_ERR_CONFIG && strstr(err, "--force") != NULL,
	    "an unreadable rotation file is not replaced without force: %s", err);
	mon_identity_free(&again);

	mon_identity_free(&a);
	mon_identity_free(&b);
	mon_identity_free(&c);
	mon_identity_free(&cur);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
}

int
main(void)
{
	char err[256];
	X509 *cross = NULL;

	CHECK(generate_identity(&ida, err, sizeof(err)) == 0, "%s", err);
	CHECK(generate_identity(&idb, err, sizeof(err)) == 0, "%s", err);
	CHECK(generate_identity(&idc, err, sizeof(err)) == 0, "%s", err);
	if (failed)
		return check_summary();
	CHECK(viewer_cert_key_sha256(ida.cert, ha) == 0 &&
	    viewer_cert_key_sha256(idb.cert, hb) == 0 &&
	    viewer_cert_key_sha256(idc.cert, hc) == 0, "key hashes");
	test_new_identity();
	CHECK(mon_identity_cross(&ida, &idb, 7200, &cross) == 0, "cross");
	if (cross != NULL) {
		test_cross_profile(cross);
		test_checks(cross);
		test_chain(cross);
		test_viewer(cross);
	}
	test_pathlen_reason();
	test_overlap();
	if (geteuid() == 0)
		test_files();
	else
		printf("not root: the file tests (owner root) were skipped\n");
	X509_free(cross);
	mon_identity_free(&ida);
	mon_identity_free(&idb);
	mon_identity_free(&idc);
	return check_summary();
}
