/*
 * fuzz_x509_client.c - libFuzzer target for auth/x509_client.c: the chain
 * framing moat-net forwards, the account mapping, and the whole
 * verification of a certificate the fuzzer shapes.
 *
 * Input: a selector byte, then the payload; sel & 3 picks the mode.
 *  0  framing: the payload is a chain as moat-net forwards it (U32 length
 *     | DER, repeated). A split must give 1..8 records of 1..16384 bytes
 *     that frame back to exactly the payload; the records are then
 *     verified against the harness CA, which must refuse them (nothing
 *     the fuzzer writes carries the harness CA's signature).
 *  1  mapping: the payload is one DER certificate; if OpenSSL parses it,
 *     x509_client_map_user() runs under every rule, with and without a
 *     domain. A name it yields must be a valid account name and, for the
 *     e-mail and UPN rules, appear followed by '@' in the certificate.
 *  2, 3  re-signed: the payload is one DER certificate; if it parses, the
 *     harness makes it the harness CA's (issuer name, authority key
 *     identifier, signature), so that the fuzzer reaches every check
 *     behind the signature. Bit 2 of sel adds the harness CRL (revoking
 *     serial HARNESS_REVOKED), bits 3-4 pick the rule (email, upn, cn,
 *     email with domain example.com). An accepted certificate must be
 *     valid at NOW, not a CA, fit for TLS client use, not revoked, and
 *     map to the same valid name as x509_client_map_user() gives.
 * The harness CA (EC P-256) is made once at start; every input is an
 * exact-size heap copy. Any broken promise aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth/x509_client.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same instant as tests/unit/test_x509_client.c, whose seeds these are. */
#define NOW		((time_t)1800000000)
#define HARNESS_REVOKED	300	/* test_x509_client.c's revoked leaf */

static EVP_PKEY *cakey;
static X509 *ca;
/* [with CRL][rule 0..3] */
static struct x509_client_config cfgs[2][4];
static int ready;

static void
must(int ok)
{
	if (!ok)
		abort();
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* The harness CA, its CRL, and a configuration per rule, with and without. */
static void
setup(void)
{
	static const enum x509_user_rule rules[4] = { X509_RULE_EMAIL,
	    X509_RULE_UPN, X509_RULE_CN, X509_RULE_EMAIL };
	X509_CRL *crl = NULL;
	X509_REVOKED *rv = NULL;
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = NULL;
	BIO *bca = NULL, *bcrl = NULL;
	char *pca, *pcrl, err[512];
	long nca, ncrl;
	int i, k;

	must((cakey = EVP_EC_gen("P-256")) != NULL && (ca = X509_new()) != NULL);
	must(X509_set_version(ca, 2) &&
	    ASN1_INTEGER_set(X509_get_serialNumber(ca), 1) &&
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(ca), "CN",
	    MBSTRING_ASC, (const unsigned char *)"Fuzz Root CA", -1, -1, 0) &&
	    X509_set_issuer_name(ca, X509_get_subject_name(ca)) &&
	    X509_time_adj_ex(X509_getm_notBefore(ca), -3650, 0,
	    &(time_t){ NOW }) != NULL &&
	    X509_time_adj_ex(X509_getm_notAfter(ca), 3650, 0,
	    &(time_t){ NOW }) != NULL &&
	    X509_set_pubkey(ca, cakey) &&
	    add_ext(ca, ca, NID_subject_key_identifier, "hash") &&
	    add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE") &&
	    add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign") &&
	    X509_sign(ca, cakey, EVP_sha256()) > 0);

	must((crl = X509_CRL_new()) != NULL && (t = ASN1_TIME_new()) != NULL &&
	    (rv = X509_REVOKED_new()) != NULL && (sn = ASN1_INTEGER_new()) !=
	    NULL);
	must(X509_CRL_set_version(crl, 1) &&
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) &&
	    X509_time_adj_ex(t, -1, 0, &(time_t){ NOW }) != NULL &&
	    X509_CRL_set1_lastUpdate(crl, t) &&
	    X509_time_adj_ex(t, 7, 0, &(time_t){ NOW }) != NULL &&
	    X509_CRL_set1_nextUpdate(crl, t) &&
	    ASN1_INTEGER_set(sn, HARNESS_REVOKED) &&
	    X509_REVOKED_set_serialNumber(rv, sn) &&
	    X509_REVOKED_set_revocationDate(rv, t) &&
	    X509_CRL_add0_revoked(crl, rv) && X509_CRL_sort(crl) &&
	    X509_CRL_sign(crl, cakey, EVP_sha256()) > 0);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);

	must((bca = BIO_new(BIO_s_mem())) != NULL &&
	    (bcrl = BIO_new(BIO_s_mem())) != NULL &&
	    PEM_write_bio_X509(bca, ca) == 1 &&
	    PEM_write_bio_X509_CRL(bcrl, crl) == 1);
	nca = BIO_get_mem_data(bca, &pca);
	ncrl = BIO_get_mem_data(bcrl, &pcrl);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 4; i++) {
			x509_client_config_init(&cfgs[k][i]);
			must(x509_client_config_load_mem(&cfgs[k][i], "ca", pca,
			    (size_t)nca, "crl", k ? pcrl : NULL,
			    k ? (size_t)ncrl : 0, rules[i],
			    i == 3 ? "example.com" : NULL, err, sizeof(err)) == 0);
		}
	}
	BIO_free(bca);
	BIO_free(bcrl);
	X509_CRL_free(crl);
	ready = 1;
}

/* The account-name rule, written again independently of the library. */
static int
name_ok(const char *u)
{
	size_t n = strlen(u), i, digits = 0, dots = 0;

	if (n == 0 || n > X509_CLIENT_USER_MAX || u[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (u[i] >= '0' && u[i] <= '9')
			digits++;
		else if (u[i] == '.')
			dots++;
		else if (!((u[i] >= 'a' && u[i] <= 'z') ||
		    (u[i] >= 'A' && u[i] <= 'Z') || u[i] == '_' || u[i] == '-'))
			return 0;
	}
	return digits < n && !(dots == n && n <= 2);
}

/* Every text of a result is NUL-terminated printable ASCII. */
static void
check_result(const struct x509_client_result *res, int r)
{
	const char *f[] = { res->user, res->subject, res->issuer, res->serial,
	    res->sha256, res->why };
	size_t i, k, sz[] = { sizeof(res->user), sizeof(res->subject),
	    sizeof(res->issuer), sizeof(res->serial), sizeof(res->sha256),
	    sizeof(res->why) };

	for (i = 0; i < 6; i++) {
		if (memchr(f[i], '\0', sz[i]) == NULL)
			abort();
		for (k = 0; f[i][k] != '\0'; k++)
			if ((unsigned char)f[i][k] < 0x20 ||
			    (unsigned char)f[i][k] > 0x7e)
				abort();
	}
	if (r == 0 ? !name_ok(res->user) || res->why[0] != '\0' :
	    res->user[0] != '\0' || res->why[0] == '\0')
		abort();
}

static void
framing(const uint8_t *p, size_t n)
{
	struct x509_client_chain ch;
	struct x509_client_result res;
	struct buf b;
	size_t i;
	int r;

	if (x509_client_chain_split(p, n, &ch) != 0) {
		if (ch.n != 0)
			abort();
		return;
	}
	if (ch.n == 0 || ch.n > X509_CLIENT_CHAIN_MAX)
		abort();
	buf_init(&b, X509_CLIENT_BLOB_MAX);
	for (i = 0; i < ch.n; i++) {
		if (ch.len[i] == 0 || ch.len[i] > X509_CLIENT_CERT_MAX ||
		    ch.der[i] < p || ch.der[i] + ch.len[i] > p + n ||
		    buf_put_string(&b, ch.der[i], ch.len[i]) != 0)
			abort();
	}
	if (buf_len(&b) != n || memcmp(buf_ptr(&b), p, n) != 0)
		abort();
	buf_free(&b);
	r = x509_client_verify(&cfgs[1][0], ch.der, ch.len, ch.n, NOW, &res);
	check_result(&res, r);
	if (r == 0)
		abort();	/* nothing here is signed by the harness CA */
}

static void
mapping(const uint8_t *p, size_t n)
{
	static const enum x509_user_rule rules[3] = { X509_RULE_EMAIL,
	    X509_RULE_UPN, X509_RULE_CN };
	char user[X509_CLIENT_USER_MAX + 1], why[X509_CLIENT_WHY_MAX], at[40];
	const unsigned char *q = p;
	X509 *x;
	size_t i, d;
	int r;

	if ((x = d2i_X509(NULL, &q, (long)n)) == NULL) {
		ERR_clear_error();
		return;
	}
	for (i = 0; i < 3; i++) {
		for (d = 0; d < 2; d++) {
			r = x509_client_map_user(x, rules[i],
			    d ? "example.com" : NULL, user, sizeof(user), why,
			    sizeof(why));
			if (memchr(why, '\0', sizeof(why)) == NULL)
				abort();
			if (r != 0) {
				if (r != MOAT_ERR_AUTH || user[0] != '\0' ||
				    why[0] == '\0')
					abort();
				continue;
			}
			if (!name_ok(user))
				abort();
			if (rules[i] != X509_RULE_CN) {
				snprintf(at, sizeof(at), "%s@", user);
				if (memmem(p, n, at, strlen(at)) == NULL)
					abort();
			}
		}
	}
	X509_free(x);
	ERR_clear_error();
}

static void
resigned(uint8_t sel, const uint8_t *p, size_t n)
{
	const struct x509_client_config *cfg = &cfgs[(sel >> 2) & 1][(sel >> 3) & 3];
	char user[X509_CLIENT_USER_MAX + 1], why[X509_CLIENT_WHY_MAX];
	struct x509_client_result res;
	const unsigned char *q = p;
	unsigned char *der = NULL, *w;
	const ASN1_INTEGER *serial;
	X509 *x;
	size_t len;
	int i, r, dl;

	if ((x = d2i_X509(NULL, &q, (long)n)) == NULL)
		goto out;
	while ((i = X509_get_ext_by_NID(x, NID_authority_key_identifier, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, i));
	if (!X509_set_issuer_name(x, X509_get_subject_name(ca)) ||
	    !add_ext(x, ca, NID_authority_key_identifier, "keyid:always") ||
	    X509_sign(x, cakey, EVP_sha256()) <= 0 ||
	    (dl = i2d_X509(x, NULL)) <= 0)
		goto out;
	len = (size_t)dl;
	if ((der = malloc(len)) == NULL)
		goto out;
	w = der;
	if (i2d_X509(x, &w) != dl)
		abort();
	r = x509_client_verify(cfg, (const uint8_t *const *)&der, &len, 1, NOW,
	    &res);
	check_result(&res, r);
	if (r != 0)
		goto out;
	/* Accepted: every promise of docs/certificates.md holds. */
	serial = X509_get0_serialNumber(x);
	if (X509_cmp_time(X509_get0_notBefore(x), &(time_t){ NOW }) > 0 ||
	    X509_cmp_time(X509_get0_notAfter(x), &(time_t){ NOW }) < 0 ||
	    (X509_get_extension_flags(x) & EXFLAG_CA) != 0 ||
	    X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0) != 1 ||
	    ((sel & 4) != 0 && ASN1_INTEGER_get(serial) == HARNESS_REVOKED))
		abort();
	if (x509_client_map_user(x, cfg->rule, cfg->domain, user, sizeof(user),
	    why, sizeof(why)) != 0 || strcmp(user, res.user) != 0)
		abort();
 out:
	ERR_clear_error();
	free(der);
	X509_free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel, *p;
	size_t n;

	if (!ready)
		setup();
	if (size < 1 || size - 1 > X509_CLIENT_BLOB_MAX)
		return 0;
	sel = data[0];
	n = size - 1;
	/* Exact size (malloc(0) may return NULL: keep one byte). */
	if ((p = malloc(n > 0 ? n : 1)) == NULL)
		return 0;
	memcpy(p, data + 1, n);
	switch (sel & 3) {
	case 0:
		framing(p, n);
		break;
	case 1:
		mapping(p, n);
		break;
	default:
		resigned(sel, p, n);
		break;
	}
	free(p);
	return 0;
}
