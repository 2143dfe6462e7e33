/*
 * test_x509_client.c - tests auth/x509_client.c, the Certificate factor's
 * chain verification and account mapping, with certificates and CRLs made
 * here at run time with OpenSSL's C API (and, once, with the openssl
 * command as the smartcard recipe of auth-test-infra.md §5c makes them):
 * a root and an issuing CA, leaves with e-mail, UPN and CN variants,
 * expired and not yet valid leaves, wrong key usages, a leaf from another
 * CA of the same name, revoked leaves and CAs, expired and future CRLs,
 * chains longer than the bounds, garbage, every truncation and every bit
 * flip of a good leaf, ambiguous certificates and names that are not
 * account names. The configuration loader's file tests need root (they
 * are skipped otherwise: files a user writes never pass). Test code.
 *
 * MOAT_X509_WRITE_SEEDS=DIR writes fuzz seeds for fuzz/fuzz_x509_client.c
 * into DIR (fuzz/corpus/x509_client).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth/x509_client.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

#include "check.h"

/* The verification time of every test (2027-01-15); fuzz_x509_client.c too. */
#define NOW	((time_t)1800000000)
#define DAY	86400L

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *seed_dir;
static char tmpdir[64];
static EVP_PKEY *kroot, *kint, *kevil, *kleaf;
static X509 *root, *inter, *evil;

/* ---------- making certificates ---------- */

struct spec {
	const char *subject;	/* "/K=V/K=V", "" for an empty subject */
	int ca;			/* basicConstraints critical,CA:TRUE */
	const char *san;	/* subjectAltName in openssl.cnf syntax, or NULL */
	const char *eku;	/* extendedKeyUsage, or NULL for none */
	const char *ku;		/* keyUsage, or NULL for the default */
	long nb, na;		/* validity, seconds from NOW */
	long serial;
	const EVP_MD *md;	/* NULL: SHA-256 */
	int no_akid;		/* 1: no authorityKeyIdentifier */
};

static int
add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	int ok;

	if (e == NULL)
		return 0;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* "/K=V/K=V": a '/' not followed by "K=" belongs to the value ("/CN=../root"). */
static int
set_name(X509_NAME *n, const char *spec)
{
	char buf[512], *item, *eq, *next, *end;

	snprintf(buf, sizeof(buf), "%s", spec);
	item = buf[0] == '/' ? buf + 1 : buf;
	while (*item != '\0') {
		for (next = strchr(item, '/'); next != NULL;
		    next = strchr(next + 1, '/')) {
			end = strchr(next + 1, '/');
			eq = strchr(next + 1, '=');
			if (eq != NULL && (end == NULL || eq < end))
				break;
		}
		if (next != NULL)
			*next = '\0';
		if ((eq = strchr(item, '=')) == NULL)
			return 0;
		*eq = '\0';
		if (X509_NAME_add_entry_by_txt(n, item, MBSTRING_UTF8,
		    (const unsigned char *)eq + 1, -1, -1, 0) != 1)
			return 0;
		if (next == NULL)
			break;
		item = next + 1;
	}
	return 1;
}

/*
 * A certificate for key's public half, issued by issuer with ikey (issuer
 * NULL: self-signed with key). Aborts the test run on failure.
 */
static X509 *
mkcert(const struct spec *s, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey)
{
	X509V3_CTX v3;
	X509 *x;
	int ok;

	if ((x = X509_new()) == NULL)
		abort();
	ok = X509_set_version(x, 2) &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial) &&
	    set_name(X509_get_subject_name(x), s->subject) &&
	    X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : X509_get_subject_name(x)) &&
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, s->nb,
	    &(time_t){ NOW }) != NULL &&
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, s->na,
	    &(time_t){ NOW }) != NULL &&
	    X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ok = ok && add_ext(x, &v3, NID_subject_key_identifier, "hash");
	if (!s->no_akid)
		ok = ok && add_ext(x, &v3, NID_authority_key_identifier,
		    "keyid:always");
	if (s->ca)
		ok = ok && add_ext(x, &v3, NID_basic_constraints,
		    "critical,CA:TRUE") && add_ext(x, &v3, NID_key_usage,
		    s->ku != NULL ? s->ku : "critical,keyCertSign,cRLSign");
	else
		ok = ok && add_ext(x, &v3, NID_key_usage,
		    s->ku != NULL ? s->ku : "critical,digitalSignature");
	if (s->eku != NULL)
		ok = ok && add_ext(x, &v3, NID_ext_key_usage, s->eku);
	if (s->san != NULL)
		ok = ok && add_ext(x, &v3, NID_subject_alt_name, s->san);
	ok = ok && X509_sign(x, issuer != NULL ? ikey : key,
	    s->md != NULL ? s->md : EVP_sha256()) > 0;
	if (!ok) {
		fprintf(stderr, "cannot make certificate %s\n", s->subject);
		abort();
	}
	return x;
}

/* A leaf for kleaf issued by issuer (ikey). */
static X509 *
leaf(const char *subject, const char *san, const char *eku, long serial,
    X509 *issuer, EVP_PKEY *ikey)
{
	struct spec s = { subject, 0, san, eku, NULL, -DAY, 365 * DAY, serial,
	    NULL, 0 };

	return mkcert(&s, kleaf, issuer, ikey);
}

static X509 *
ca_cert(const char *subject, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
    long serial)
{
	struct spec s = { subject, 1, NULL, NULL, NULL, -30 * DAY, 3650 * DAY,
	    serial, NULL, 0 };

	return mkcert(&s, key, issuer, ikey);
}

/* A leaf whose subjectAltName holds one rfc822Name of raw bytes. */
static X509 *
leaf_raw_email(const void *email, size_t len, long serial)
{
	struct spec s = { "/O=Moat Test/CN=raw", 0, NULL, "clientAuth", NULL,
	    -DAY, 365 * DAY, serial, NULL, 0 };
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
	X509 *x;

	s.no_akid = 0;
	/* Build unsigned, add the SAN, then sign again. */
	x = mkcert(&s, kleaf, root, kroot);
	if (gens == NULL || g == NULL || ia5 == NULL ||
	    ASN1_STRING_set(ia5, email, (int)len) != 1)
		abort();
	GENERAL_NAME_set0_value(g, GEN_EMAIL, ia5);
	if (sk_GENERAL_NAME_push(gens, g) <= 0 ||
	    X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_APPEND) != 1 || X509_sign(x, kroot, EVP_sha256()) <= 0)
		abort();
	GENERAL_NAMES_free(gens);
	return x;
}

/* A CRL of issuer (signed with key) revoking serials[0..n). next 0: none. */
static X509_CRL *
mkcrl(X509 *issuer, EVP_PKEY *key, long last, long next, const long *serials,
    size_t n, int delta)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509V3_CTX v3;
	size_t i;
	int ok;

	ok = crl != NULL && t != NULL && num != NULL &&
	    X509_CRL_set_version(crl, 1) &&
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) &&
	    X509_time_adj_ex(t, 0, last, &(time_t){ NOW }) != NULL &&
	    X509_CRL_set1_lastUpdate(crl, t);
	if (ok && next != 0)
		ok = X509_time_adj_ex(t, 0, next, &(time_t){ NOW }) != NULL &&
		    X509_CRL_set1_nextUpdate(crl, t);
	for (i = 0; ok && i < n; i++) {
		X509_REVOKED *rv = X509_REVOKED_new();
		ASN1_INTEGER *sn = ASN1_INTEGER_new();

		ok = rv != NULL && sn != NULL &&
		    ASN1_INTEGER_set(sn, serials[i]) &&
		    X509_REVOKED_set_serialNumber(rv, sn) &&
		    X509_time_adj_ex(t, 0, -3600, &(time_t){ NOW }) != NULL &&
		    X509_REVOKED_set_revocationDate(rv, t) &&
		    X509_CRL_add0_revoked(crl, rv);
		ASN1_INTEGER_free(sn);
		if (!ok)
			X509_REVOKED_free(rv);
	}
	X509V3_set_ctx(&v3, issuer, NULL, NULL, crl, 0);
	ok = ok && ASN1_INTEGER_set(num, 1) &&
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
	if (delta)
		ok = ok && X509_CRL_add1_ext_i2d(crl, NID_delta_crl, num, 1,
		    0) == 1;
	ok = ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, key, EVP_sha256()) > 0;
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	if (!ok)
		abort();
	return crl;
}

/* ---------- PEM text ---------- */

struct text {
	char *p;
	size_t n;
};

static void
text_add(struct text *t, const char *s, size_t n)
{
	if ((t->p = realloc(t->p, t->n + n + 1)) == NULL)
		abort();
	memcpy(t->p + t->n, s, n);
	t->n += n;
	t->p[t->n] = '\0';
}

static void
text_cert(struct text *t, X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	if (b == NULL || PEM_write_bio_X509(b, x) != 1)
		abort();
	n = BIO_get_mem_data(b, &p);
	text_add(t, p, (size_t)n);
	BIO_free(b);
}

static void
text_crl(struct text *t, X509_CRL *c)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	if (b == NULL || PEM_write_bio_X509_CRL(b, c) != 1)
		abort();
	n = BIO_get_mem_data(b, &p);
	text_add(t, p, (size_t)n);
	BIO_free(b);
}

static void
text_free(struct text *t)
{
	free(t->p);
	t->p = NULL;
	t->n = 0;
}

/* ---------- running the verifier ---------- */

static struct x509_client_result res;

/* The DER of x in an exact-size heap copy (so ASan sees an overread). */
static uint8_t *
der_of(X509 *x, size_t *lenp)
{
	unsigned char *p;
	uint8_t *d;
	int n;

	if ((n = i2d_X509(x, NULL)) <= 0 || (d = malloc((size_t)n)) == NULL)
		abort();
	p = d;
	i2d_X509(x, &p);
	*lenp = (size_t)n;
	return d;
}

static int
run(const struct x509_client_config *cfg, X509 *const *chain, size_t n)
{
	uint8_t *der[16];
	size_t len[16], i;
	int r;

	for (i = 0; i < n; i++)
		der[i] = der_of(chain[i], &len[i]);
	r = x509_client_verify(cfg, (const uint8_t *const *)der, len, n, NOW,
	    &res);
	for (i = 0; i < n; i++)
		free(der[i]);
	return r;
}

#define ACCEPT(cfg, want, ...) do {					\
	X509 *c_[] = { __VA_ARGS__ };					\
	int r_ = run((cfg), c_, NELEM(c_));				\
	CHECK(r_ == 0 && strcmp(res.user, (want)) == 0,			\
	    "%d user '%s' why '%s', want '%s'", r_, res.user, res.why,	\
	    (want));							\
} while (0)

#define REFUSE(cfg, sub, ...) do {					\
	X509 *c_[] = { __VA_ARGS__ };					\
	int r_ = run((cfg), c_, NELEM(c_));				\
	CHECK(r_ == MOAT_ERR_AUTH && res.user[0] == '\0' &&		\
	    strstr(res.why, (sub)) != NULL,				\
	    "%d user '%s' why '%s', want '%s'", r_, res.user, res.why,	\
	    (sub));							\
} while (0)

static char err[1024];

/* Loads cfg from PEM texts (crl NULL: none); checks it succeeded. */
static void
load(struct x509_client_config *cfg, const struct text *ca,
    const struct text *crl, enum x509_user_rule rule, const char *domain)
{
	int r;

	r = x509_client_config_load_mem(cfg, "ca.pem", ca->p, ca->n,
	    "crl.pem", crl != NULL ? crl->p : NULL, crl != NULL ? crl->n : 0,
	    rule, domain, err, sizeof(err));
	CHECK(r == 0 && cfg->store != NULL, "%d %s", r, err);
}

/* Loading must fail with a message holding want. */
static void
load_bad(const struct text *ca, const struct text *crl,
    enum x509_user_rule rule, const char *domain, const char *want)
{
	struct x509_client_config cfg;
	int r;

	x509_client_config_init(&cfg);
	r = x509_client_config_load_mem(&cfg, "ca.pem", ca->p, ca->n,
	    "crl.pem", crl != NULL ? crl->p : NULL, crl != NULL ? crl->n : 0,
	    rule, domain, err, sizeof(err));
	CHECK(r == MOAT_ERR_CONFIG && cfg.store == NULL &&
	    strstr(err, want) != NULL, "%d '%s', want '%s'", r, err, want);
	x509_client_config_free(&cfg);
}

/* ---------- seeds ---------- */

static void
write_seed(const char *name, uint8_t sel, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	if (seed_dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(&sel, 1, 1, f) != 1 || fwrite(p, 1, n, f) != n ||
	    fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

/*
 * Seeds of leaf x for the mapping mode (0x01) and the re-signing mode
 * (0x02), without and with the CRL (0x04), under the rule of
 * fuzz_x509_client.c's selector bits 3-4 (0 email, 1 upn, 2 cn, 3 email
 * with domain example.com).
 */
static void
seed_leaf(const char *name, X509 *x, unsigned rule)
{
	char n[256];
	uint8_t *d;
	size_t len;

	if (seed_dir == NULL)
		return;
	d = der_of(x, &len);
	snprintf(n, sizeof(n), "map-%s", name);
	write_seed(n, 0x01, d, len);
	snprintf(n, sizeof(n), "resign-%s", name);
	write_seed(n, (uint8_t)(0x02 | rule << 3), d, len);
	snprintf(n, sizeof(n), "resign-crl-%s", name);
	write_seed(n, (uint8_t)(0x06 | rule << 3), d, len);
	free(d);
}

/* A framed chain (U32 length | DER)..., as moat-net forwards it. */
static void
frame(struct buf *b, X509 *const *chain, size_t n)
{
	uint8_t *d;
	size_t len, i;

	buf_init(b, X509_CLIENT_BLOB_MAX + 64);
	for (i = 0; i < n; i++) {
		d = der_of(chain[i], &len);
		if (buf_put_string(b, d, len) != 0)
			abort();
		free(d);
	}
}

/* ---------- the tests ---------- */

static void
setup(void)
{
	if ((kroot = EVP_EC_gen("P-256")) == NULL ||
	    (kint = EVP_EC_gen("P-256")) == NULL ||
	    (kevil = EVP_EC_gen("P-256")) == NULL ||
	    (kleaf = EVP_EC_gen("P-256")) == NULL)
		abort();
	root = ca_cert("/O=Moat Test/CN=Test Root CA", kroot, NULL, NULL, 1);
	inter = ca_cert("/O=Moat Test/CN=Test Issuing CA", kint, root, kroot,
	    2);
	/* Another CA with the same name as the root. */
	evil = ca_cert("/O=Moat Test/CN=Test Root CA", kevil, NULL, NULL, 1);
}

static void
test_mapping(void)
{
	struct x509_client_config email, email_dom, upn, upn_dom, cn;
	struct text ca = { 0 };
	X509 *x;

	text_cert(&ca, root);
	x509_client_config_init(&email);
	x509_client_config_init(&email_dom);
	x509_client_config_init(&upn);
	x509_client_config_init(&upn_dom);
	x509_client_config_init(&cn);
	load(&email, &ca, NULL, X509_RULE_EMAIL, NULL);
	load(&email_dom, &ca, NULL, X509_RULE_EMAIL, "example.com");
	load(&upn, &ca, NULL, X509_RULE_UPN, NULL);
	load(&upn_dom, &ca, NULL, X509_RULE_UPN, "corp.example");
	load(&cn, &ca, NULL, X509_RULE_CN, NULL);

	/* e-mail */
	x = leaf("/O=Moat Test/CN=Alice Example", "email:alice@example.com",
	    "clientAuth", 100, root, kroot);
	ACCEPT(&email, "alice", x);
	ACCEPT(&email_dom, "alice", x);
	REFUSE(&upn, "no UPN in the subjectAltName", x);
	REFUSE(&cn, "is not a valid account name", x);	/* "Alice Example" */
	CHECK(strstr(res.subject, "CN=Alice Example") != NULL &&
	    strstr(res.issuer, "CN=Test Root CA") != NULL &&
	    strcmp(res.serial, "64") == 0 && strlen(res.sha256) == 64,
	    "'%s' '%s' '%s' '%s'", res.subject, res.issuer, res.serial,
	    res.sha256);
	seed_leaf("email", x, 3);
	X509_free(x);

	x = leaf("/CN=a", "email:alice.b_c-d@EXAMPLE.Com,DNS:host.example.com,"
	    "otherName:msUPN;UTF8:zed@corp.example", "clientAuth", 101, root,
	    kroot);
	ACCEPT(&email_dom, "alice.b_c-d", x);	/* domain case-insensitive */
	ACCEPT(&upn_dom, "zed", x);		/* the other kinds ignored */
	X509_free(x);

	x = leaf("/CN=a", "email:alice@example.com,email:bob@example.com",
	    "clientAuth", 102, root, kroot);
	REFUSE(&email, "2 e-mail addresses in the subjectAltName", x);
	seed_leaf("two-emails", x, 0);
	X509_free(x);
	x = leaf("/CN=a", "email:alice@example.com,email:alice@example.com",
	    "clientAuth", 103, root, kroot);
	REFUSE(&email, "2 e-mail addresses", x);
	X509_free(x);

	x = leaf("/CN=a", "email:alice@example.com.evil.test", "clientAuth",
	    104, root, kroot);
	ACCEPT(&email, "alice", x);
	REFUSE(&email_dom, "is not in the domain 'example.com'", x);
	X509_free(x);
	x = leaf("/CN=a", "email:alice@sub.example.com", "clientAuth", 105,
	    root, kroot);
	REFUSE(&email_dom, "is not in the domain", x);
	X509_free(x);
	x = leaf("/CN=a", "email:alice@example.com@example.com", "clientAuth",
	    106, root, kroot);
	REFUSE(&email, "exactly one '@'", x);
	X509_free(x);
	x = leaf("/CN=a", "email:alice", "clientAuth", 107, root, kroot);
	REFUSE(&email, "exactly one '@'", x);
	X509_free(x);
	x = leaf("/CN=a", "email:@example.com", "clientAuth", 108, root, kroot);
	REFUSE(&email, "empty part", x);
	X509_free(x);

	/* The subject's emailAddress is not an e-mail address for the rule. */
	x = leaf("/CN=alice/emailAddress=alice@example.com", NULL, "clientAuth",
	    109, root, kroot);
	REFUSE(&email, "no subjectAltName", x);
	ACCEPT(&cn, "alice", x);
	X509_free(x);
	x = leaf("/CN=a", "DNS:alice.example.com", "clientAuth", 110, root,
	    kroot);
	REFUSE(&email, "no e-mail address in the subjectAltName", x);
	X509_free(x);

	/* Local parts that are not account names. */
	{
		static const struct {
			const char *local;
			int ok;
		} names[] = {
			{ "../root", 0 }, { "-x", 0 }, { "x-", 1 }, { "12345", 0 },
			{ "1a", 1 }, { ".", 0 }, { "..", 0 }, { "...", 1 },
			{ "a/b", 0 }, { "a\\b", 0 }, { "a+b", 0 }, { "a%b", 0 },
			{ "a:b", 0 }, { "root", 1 }, { "_x", 1 },
		};
		size_t i;

		for (i = 0; i < NELEM(names); i++) {
			char san[128];

			snprintf(san, sizeof(san), "email:%s@example.com",
			    names[i].local);
			x = leaf("/CN=a", san, "clientAuth", 120 + (long)i, root,
			    kroot);
			if (names[i].ok)
				ACCEPT(&email_dom, names[i].local, x);
			else
				REFUSE(&email_dom, "valid account name", x);
			if (i == 0)
				seed_leaf("email-dotdot", x, 3);
			X509_free(x);
		}
	}
	{
		char san[128], want[40];

		memset(want, 'a', 32);
		want[32] = '\0';
		snprintf(san, sizeof(san), "email:%s@example.com", want);
		x = leaf("/CN=a", san, "clientAuth", 141, root, kroot);
		ACCEPT(&email_dom, want, x);	/* 32 bytes: the limit */
		X509_free(x);
		snprintf(san, sizeof(san), "email:%sa@example.com", want);
		x = leaf("/CN=a", san, "clientAuth", 142, root, kroot);
		REFUSE(&email_dom, "valid account name", x);
		X509_free(x);
		memset(want, 'b', 39);
		want[39] = '\0';
		snprintf(san, sizeof(san), "email:%sx@example.com", want);
		x = leaf("/CN=a", san, "clientAuth", 143, root, kroot);
		REFUSE(&email_dom, "valid account name", x);	/* 40 bytes */
		X509_free(x);
	}

	/* Bytes other than printable ASCII. */
	x = leaf_raw_email("alice\0x@example.com", 19, 150);
	REFUSE(&email, "printable ASCII", x);
	seed_leaf("email-nul", x, 0);
	X509_free(x);
	x = leaf_raw_email("al ice@example.com", 18, 151);
	REFUSE(&email, "printable ASCII", x);
	X509_free(x);
	x = leaf_raw_email("\xc3\xa9lise@example.com", 19, 152);
	REFUSE(&email, "printable ASCII", x);
	X509_free(x);
	x = leaf_raw_email("alice@example.com\n", 18, 153);
	REFUSE(&email, "printable ASCII", x);
	X509_free(x);

	/* UPN */
	x = leaf("/CN=Bob", "otherName:msUPN;UTF8:bob@corp.example,"
	    "email:robert@example.com", "clientAuth", 160, root, kroot);
	ACCEPT(&upn, "bob", x);
	ACCEPT(&upn_dom, "bob", x);
	ACCEPT(&email, "robert", x);
	seed_leaf("upn", x, 1);
	X509_free(x);
	x = leaf("/CN=Bob", "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:bob@evil.example",
	    "clientAuth", 161, root, kroot);
	ACCEPT(&upn, "bob", x);
	REFUSE(&upn_dom, "is not in the domain 'corp.example'", x);
	seed_leaf("upn-bad-domain", x, 1);
	X509_free(x);
	x = leaf("/CN=Bob", "otherName:msUPN;IA5:bob@corp.example",
	    "clientAuth", 162, root, kroot);
	REFUSE(&upn, "not a UTF8String", x);
	X509_free(x);
	x = leaf("/CN=Bob", "otherName:msUPN;UTF8:bob@corp.example,"
	    "otherName:msUPN;UTF8:root@corp.example", "clientAuth", 163, root,
	    kroot);
	REFUSE(&upn, "2 UPNs", x);
	seed_leaf("two-upns", x, 1);
	X509_free(x);
	x = leaf("/CN=Bob", "otherName:1.3.6.1.4.1.311.25.1;UTF8:bob@corp.example",
	    "clientAuth", 164, root, kroot);
	REFUSE(&upn, "no UPN", x);	/* another otherName */
	X509_free(x);
	x = leaf("/CN=Bob", "otherName:msUPN;UTF8:../root@corp.example",
	    "clientAuth", 165, root, kroot);
	REFUSE(&upn_dom, "valid account name", x);
	X509_free(x);

	/* CN */
	x = leaf("/O=Moat Test/CN=carol", NULL, "clientAuth", 170, root, kroot);
	ACCEPT(&cn, "carol", x);
	REFUSE(&email, "no subjectAltName", x);
	seed_leaf("cn", x, 2);
	X509_free(x);
	x = leaf("/CN=carol/CN=root", NULL, "clientAuth", 171, root, kroot);
	REFUSE(&cn, "more than one commonName", x);
	seed_leaf("two-cns", x, 2);
	X509_free(x);
	x = leaf("/O=Moat Test", "email:x@example.com", "clientAuth", 172, root,
	    kroot);
	REFUSE(&cn, "no commonName", x);
	X509_free(x);
	x = leaf("/CN=../root", NULL, "clientAuth", 173, root, kroot);
	REFUSE(&cn, "is not a valid account name", x);
	X509_free(x);
	x = leaf("/CN=-x", NULL, "clientAuth", 174, root, kroot);
	REFUSE(&cn, "is not a valid account name", x);
	X509_free(x);
	x = leaf("/CN=zo\xc3\xab", NULL, "clientAuth", 175, root, kroot);
	REFUSE(&cn, "is not a valid account name", x);
	X509_free(x);
	x = leaf("/CN=aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd", NULL,
	    "clientAuth", 176, root, kroot);
	REFUSE(&cn, "is not a valid account name", x);	/* 40 bytes */
	X509_free(x);

	/* The mapping alone, on nothing. */
	{
		char user[X509_CLIENT_USER_MAX + 1] = "x", why[256];

		CHECK(x509_client_map_user(NULL, X509_RULE_EMAIL, NULL, user,
		    sizeof(user), why, sizeof(why)) == MOAT_ERR_AUTH &&
		    user[0] == '\0');
	}
	x509_client_config_free(&email);
	x509_client_config_free(&email_dom);
	x509_client_config_free(&upn);
	x509_client_config_free(&upn_dom);
	x509_client_config_free(&cn);
	text_free(&ca);
}

static void
test_chain(void)
{
	struct x509_client_config cfg, cfg2;
	struct text ca = { 0 }, ca2 = { 0 };
	struct spec s;
	EVP_PKEY *k1024;
	X509 *x, *xi, *ss, *other_int;
	const char *san = "email:alice@example.com";

	text_cert(&ca, root);
	x509_client_config_init(&cfg);
	load(&cfg, &ca, NULL, X509_RULE_EMAIL, "example.com");

	/* Through the issuing CA: the viewer must send it. */
	xi = leaf("/CN=Alice", san, "clientAuth", 200, inter, kint);
	ACCEPT(&cfg, "alice", xi, inter);
	ACCEPT(&cfg, "alice", xi, inter, root);	/* the root sent too */
	REFUSE(&cfg, "unable to get local issuer certificate", xi);
	/* ... unless the CA file holds it. */
	text_cert(&ca2, root);
	text_cert(&ca2, inter);
	x509_client_config_init(&cfg2);
	load(&cfg2, &ca2, NULL, X509_RULE_EMAIL, NULL);
	CHECK(cfg2.ncas == 2 && cfg2.ncrls == 0);
	ACCEPT(&cfg2, "alice", xi);
	x509_client_config_free(&cfg2);
	text_free(&ca2);
	if (seed_dir != NULL) {
		struct buf b;
		X509 *c3[] = { xi, inter, root };

		frame(&b, c3, 2);
		write_seed("frame-leaf-inter", 0x00, buf_ptr(&b), buf_len(&b));
		buf_free(&b);
		frame(&b, c3, 3);
		write_seed("frame-leaf-inter-root", 0x00, buf_ptr(&b),
		    buf_len(&b));
		buf_free(&b);
	}

	/* Validity at NOW. */
	memset(&s, 0, sizeof(s));
	s.subject = "/CN=Alice";
	s.san = san;
	s.eku = "clientAuth";
	s.serial = 210;
	s.nb = -2 * DAY;
	s.na = -1;
	x = mkcert(&s, kleaf, root, kroot);
	REFUSE(&cfg, "certificate has expired", x);
	seed_leaf("expired", x, 0);
	X509_free(x);
	s.nb = 60;
	s.na = DAY;
	x = mkcert(&s, kleaf, root, kroot);
	REFUSE(&cfg, "certificate is not yet valid", x);
	X509_free(x);
	s.nb = 0;	/* valid from exactly NOW */
	x = mkcert(&s, kleaf, root, kroot);
	ACCEPT(&cfg, "alice", x);
	X509_free(x);
	/* An expired issuing CA. */
	{
		struct spec si = { "/O=Moat Test/CN=Old CA", 1, NULL, NULL, NULL,
		    -30 * DAY, -DAY, 211, NULL, 0 };
		X509 *old = mkcert(&si, kint, root, kroot);

		x = leaf("/CN=Alice", san, "clientAuth", 212, old, kint);
		REFUSE(&cfg, "certificate has expired", x, old);
		X509_free(x);
		X509_free(old);
	}

	/* Key usages. */
	x = leaf("/CN=Alice", san, "serverAuth", 220, root, kroot);
	REFUSE(&cfg, "unsuitable certificate purpose", x);
	seed_leaf("eku-server", x, 0);
	X509_free(x);
	x = leaf("/CN=Alice", san, NULL, 221, root, kroot);
	ACCEPT(&cfg, "alice", x);		/* no EKU: any use */
	X509_free(x);
	x = leaf("/CN=Alice", san, "serverAuth,clientAuth", 222, root, kroot);
	ACCEPT(&cfg, "alice", x);
	X509_free(x);
	x = leaf("/CN=Alice", san, "anyExtendedKeyUsage", 223, root, kroot);
	REFUSE(&cfg, "unsuitable certificate purpose", x);
	X509_free(x);
	memset(&s, 0, sizeof(s));
	s.subject = "/CN=Alice";
	s.san = san;
	s.eku = "clientAuth";
	s.ku = "critical,keyEncipherment";
	s.nb = -DAY;
	s.na = DAY;
	s.serial = 224;
	x = mkcert(&s, kleaf, root, kroot);
	REFUSE(&cfg, "unsuitable certificate purpose", x);
	X509_free(x);
	/* An issuing CA restricted to servers. */
	{
		struct spec si = { "/O=Moat Test/CN=Server CA", 1, NULL,
		    "serverAuth", NULL, -30 * DAY, 30 * DAY, 225, NULL, 0 };
		X509 *sca = mkcert(&si, kint, root, kroot);

		x = leaf("/CN=Alice", san, "clientAuth", 226, sca, kint);
		REFUSE(&cfg, "unsuitable certificate purpose", x, sca);
		X509_free(x);
		X509_free(sca);
	}
	/* A CA certificate as the client's. */
	memset(&s, 0, sizeof(s));
	s.subject = "/CN=Alice";
	s.san = san;
	s.ca = 1;
	s.eku = "clientAuth";
	s.ku = "critical,digitalSignature,keyCertSign";
	s.nb = -DAY;
	s.na = DAY;
	s.serial = 227;
	x = mkcert(&s, kleaf, root, kroot);
	REFUSE(&cfg, "is a CA certificate", x);
	X509_free(x);

	/* Another CA, with the same name as the root. */
	x = leaf("/CN=Alice", san, "clientAuth", 230, evil, kevil);
	REFUSE(&cfg, "depth 0", x);
	REFUSE(&cfg, "depth", x, evil);		/* sending it does not help */
	seed_leaf("other-ca", x, 0);
	X509_free(x);
	memset(&s, 0, sizeof(s));
	s.subject = "/CN=Alice";
	s.san = san;
	s.eku = "clientAuth";
	s.nb = -DAY;
	s.na = DAY;
	s.serial = 231;
	s.no_akid = 1;
	x = mkcert(&s, kleaf, evil, kevil);
	REFUSE(&cfg, "depth 0", x);
	X509_free(x);
	/* An intermediate of the other CA under the right name. */
	other_int = ca_cert("/O=Moat Test/CN=Test Issuing CA", kevil, evil,
	    kevil, 2);
	x = leaf("/CN=Alice", san, "clientAuth", 232, other_int, kevil);
	REFUSE(&cfg, "depth", x, other_int);
	X509_free(x);
	X509_free(other_int);
	/* A self-signed client certificate. */
	memset(&s, 0, sizeof(s));
	s.subject = "/CN=Alice";
	s.san = san;
	s.eku = "clientAuth";
	s.nb = -DAY;
	s.na = DAY;
	s.serial = 233;
	ss = mkcert(&s, kleaf, NULL, NULL);
	REFUSE(&cfg, "self-signed certificate", ss);
	X509_free(ss);

	/* Weak keys and digests. */
	if ((k1024 = EVP_RSA_gen(1024)) == NULL)
		abort();
	memset(&s, 0, sizeof(s));
	s.subject = "/CN=Alice";
	s.san = san;
	s.eku = "clientAuth";
	s.nb = -DAY;
	s.na = DAY;
	s.serial = 240;
	x = mkcert(&s, k1024, root, kroot);
	REFUSE(&cfg, "key too weak", x);
	X509_free(x);
	EVP_PKEY_free(k1024);
	s.serial = 241;
	s.md = EVP_sha1();
	x = mkcert(&s, kleaf, root, kroot);
	REFUSE(&cfg, "too weak", x);
	X509_free(x);
	{
		EVP_PKEY *k2048 = EVP_RSA_gen(2048);

		if (k2048 == NULL)
			abort();
		s.md = NULL;
		s.serial = 242;
		x = mkcert(&s, k2048, root, kroot);
		ACCEPT(&cfg, "alice", x);	/* an RSA-2048 card key */
		X509_free(x);
		EVP_PKEY_free(k2048);
	}

	/* Not configured. */
	x509_client_config_init(&cfg2);
	{
		X509 *c1[] = { xi };

		CHECK(run(&cfg2, c1, 1) == MOAT_ERR_CONFIG && res.user[0] == '\0');
	}
	X509_free(xi);
	x509_client_config_free(&cfg);
	text_free(&ca);
}

static void
test_revocation(void)
{
	struct x509_client_config cfg;
	struct text ca = { 0 }, crl = { 0 };
	X509_CRL *croot, *cint;
	X509 *x, *good, *bad, *rinter;
	static const long rev_root[] = { 300, 77 };
	static const long rev_int[] = { 301 };
	const char *san = "email:alice@example.com";

	text_cert(&ca, root);
	good = leaf("/CN=Alice", san, "clientAuth", 310, root, kroot);
	bad = leaf("/CN=Alice", san, "clientAuth", 300, root, kroot);

	/* The root's CRL only. */
	croot = mkcrl(root, kroot, -DAY, 7 * DAY, rev_root, 2, 0);
	text_crl(&crl, croot);
	x509_client_config_init(&cfg);
	load(&cfg, &ca, &crl, X509_RULE_EMAIL, NULL);
	CHECK(cfg.ncrls == 1);
	ACCEPT(&cfg, "alice", good);
	REFUSE(&cfg, "certificate revoked", bad);
	seed_leaf("revoked", bad, 0);
	/* Through the issuing CA, whose own CRL is missing. */
	x = leaf("/CN=Alice", san, "clientAuth", 311, inter, kint);
	REFUSE(&cfg, "unable to get certificate CRL", x, inter);
	x509_client_config_free(&cfg);

	/* Both CRLs. */
	cint = mkcrl(inter, kint, -DAY, 7 * DAY, rev_int, 1, 0);
	text_crl(&crl, cint);
	load(&cfg, &ca, &crl, X509_RULE_EMAIL, NULL);
	CHECK(cfg.ncrls == 2);
	ACCEPT(&cfg, "alice", x, inter);
	X509_free(x);
	x = leaf("/CN=Alice", san, "clientAuth", 301, inter, kint);
	REFUSE(&cfg, "certificate revoked", x, inter);
	X509_free(x);
	/* A revoked issuing CA (serial 77 on the root's CRL). */
	rinter = ca_cert("/O=Moat Test/CN=Test Issuing CA", kint, root, kroot,
	    77);
	x = leaf("/CN=Alice", san, "clientAuth", 312, rinter, kint);
	REFUSE(&cfg, "certificate revoked", x, rinter);
	CHECK(strstr(res.why, "depth 1") != NULL, "%s", res.why);
	X509_free(x);
	X509_free(rinter);
	x509_client_config_free(&cfg);
	X509_CRL_free(cint);
	text_free(&crl);

	/* The issuing CA's CRL signed by someone else (not in the CA file). */
	text_crl(&crl, croot);
	cint = mkcrl(inter, kevil, -DAY, 7 * DAY, NULL, 0, 0);
	text_crl(&crl, cint);
	load(&cfg, &ca, &crl, X509_RULE_EMAIL, NULL);
	x = leaf("/CN=Alice", san, "clientAuth", 313, inter, kint);
	REFUSE(&cfg, "CRL signature failure", x, inter);
	X509_free(x);
	x509_client_config_free(&cfg);
	X509_CRL_free(cint);
	X509_CRL_free(croot);
	text_free(&crl);

	/* The root is checked too: its CRL listing itself refuses everyone. */
	{
		static const long self[] = { 1 };

		croot = mkcrl(root, kroot, -DAY, 7 * DAY, self, 1, 0);
		text_crl(&crl, croot);
		load(&cfg, &ca, &crl, X509_RULE_EMAIL, NULL);
		REFUSE(&cfg, "certificate revoked", good);
		CHECK(strstr(res.why, "depth 1") != NULL, "%s", res.why);
		x509_client_config_free(&cfg);
		X509_CRL_free(croot);
		text_free(&crl);
	}

	/* An expired CRL refuses everyone; so does one not yet valid. */
	croot = mkcrl(root, kroot, -8 * DAY, -1, NULL, 0, 0);
	text_crl(&crl, croot);
	load(&cfg, &ca, &crl, X509_RULE_EMAIL, NULL);
	REFUSE(&cfg, "CRL has expired", good);
	x509_client_config_free(&cfg);
	X509_CRL_free(croot);
	text_free(&crl);
	croot = mkcrl(root, kroot, 3600, 7 * DAY, NULL, 0, 0);
	text_crl(&crl, croot);
	load(&cfg, &ca, &crl, X509_RULE_EMAIL, NULL);
	REFUSE(&cfg, "CRL is not yet valid", good);
	x509_client_config_free(&cfg);
	X509_CRL_free(croot);
	text_free(&crl);

	/* Loading: CRLs that can never be used are refused at once. */
	croot = mkcrl(root, kroot, -DAY, 0, NULL, 0, 0);
	text_crl(&crl, croot);
	load_bad(&ca, &crl, X509_RULE_EMAIL, NULL, "has no nextUpdate");
	X509_CRL_free(croot);
	text_free(&crl);
	croot = mkcrl(root, kroot, -DAY, DAY, NULL, 0, 1);
	text_crl(&crl, croot);
	load_bad(&ca, &crl, X509_RULE_EMAIL, NULL, "is a delta CRL");
	X509_CRL_free(croot);
	text_free(&crl);
	croot = mkcrl(root, kevil, -DAY, DAY, NULL, 0, 0);
	text_crl(&crl, croot);
	load_bad(&ca, &crl, X509_RULE_EMAIL, NULL, "is not signed by the CA");
	X509_CRL_free(croot);
	text_free(&crl);
	cint = mkcrl(inter, kint, -DAY, DAY, NULL, 0, 0);
	text_crl(&crl, cint);
	load_bad(&ca, &crl, X509_RULE_EMAIL, NULL, "no CRL issued by CA "
	    "CN=Test Root CA,O=Moat Test");
	X509_CRL_free(cint);
	text_free(&crl);
	text_add(&crl, "junk\n", 5);
	load_bad(&ca, &crl, X509_RULE_EMAIL, NULL, "no CRL");
	text_free(&crl);
	text_add(&crl, "", 0);
	text_cert(&crl, root);
	load_bad(&ca, &crl, X509_RULE_EMAIL, NULL, "only X509 CRL blocks");
	text_free(&crl);

	X509_free(good);
	X509_free(bad);
	text_free(&ca);
}

/* A chain root -> n intermediates -> leaf: chain[0] the leaf, chain[n+1] root. */
static void
make_chain(X509 **chain, EVP_PKEY **keys, size_t n)
{
	X509 *issuer = root;
	EVP_PKEY *ikey = kroot;
	char name[64];
	size_t i;

	for (i = 0; i < n; i++) {
		if ((keys[i] = EVP_EC_gen("P-256")) == NULL)
			abort();
		snprintf(name, sizeof(name), "/O=Moat Test/CN=Level %zu CA", i + 1);
		chain[n - i] = ca_cert(name, keys[i], issuer, ikey,
		    400 + (long)i);
		issuer = chain[n - i];
		ikey = keys[i];
	}
	chain[0] = leaf("/CN=Alice", "email:alice@example.com", "clientAuth",
	    450, issuer, ikey);
	chain[n + 1] = root;
}

static void
test_bounds(void)
{
	struct x509_client_config cfg, cfg8;
	struct text ca = { 0 }, ca8 = { 0 };
	X509 *chain[12];
	EVP_PKEY *keys[10];
	X509 *x;
	uint8_t *d, *big;
	const uint8_t *dp[X509_CLIENT_CHAIN_MAX + 1];
	size_t len, lens[X509_CLIENT_CHAIN_MAX + 1], i, k, refused, bits;
	int r, bad;

	text_cert(&ca, root);
	x509_client_config_init(&cfg);
	load(&cfg, &ca, NULL, X509_RULE_EMAIL, NULL);

	/* Eight sent (leaf and seven CAs): the limit. */
	make_chain(chain, keys, 7);
	{
		int r_ = run(&cfg, chain, 8);

		CHECK(r_ == 0 && strcmp(res.user, "alice") == 0, "%d %s", r_,
		    res.why);
	}
	if (seed_dir != NULL) {
		struct buf b;

		frame(&b, chain, 8);
		write_seed("frame-eight", 0x00, buf_ptr(&b), buf_len(&b));
		buf_free(&b);
	}
	for (i = 0; i < 7; i++) {
		X509_free(chain[7 - i]);
		EVP_PKEY_free(keys[i]);
	}
	X509_free(chain[0]);

	/* Nine sent: refused before anything is parsed. */
	make_chain(chain, keys, 8);
	{
		int r_ = run(&cfg, chain, 9);

		CHECK(r_ == MOAT_ERR_AUTH && strstr(res.why, "at most 8") != NULL &&
		    res.subject[0] == '\0', "%d %s", r_, res.why);
	}
	/* Eight sent, but the chain built is deeper than the bound. */
	text_cert(&ca8, root);
	text_cert(&ca8, chain[8]);	/* level 1 in the CA file */
	x509_client_config_init(&cfg8);
	load(&cfg8, &ca8, NULL, X509_RULE_EMAIL, NULL);
	{
		int r_ = run(&cfg8, chain, 8);

		CHECK(r_ == MOAT_ERR_AUTH &&
		    strstr(res.why, "certificate chain too long") != NULL,
		    "%d %s", r_, res.why);
		r_ = run(&cfg8, chain, 7);	/* one level fewer sent */
		CHECK(r_ == MOAT_ERR_AUTH, "%d %s", r_, res.why);
	}
	x509_client_config_free(&cfg8);
	text_free(&ca8);
	for (i = 0; i < 8; i++) {
		X509_free(chain[8 - i]);
		EVP_PKEY_free(keys[i]);
	}
	X509_free(chain[0]);

	/* Garbage, empty, oversized, trailing bytes, not DER. */
	x = leaf("/CN=Alice", "email:alice@example.com", "clientAuth", 500,
	    root, kroot);
	d = der_of(x, &len);
	dp[0] = (const uint8_t *)"hello";
	lens[0] = 5;
	r = x509_client_verify(&cfg, dp, lens, 1, NOW, &res);
	CHECK(r == MOAT_ERR_AUTH && strstr(res.why, "not a DER") != NULL,
	    "%d %s", r, res.why);
	write_seed("frame-garbage", 0x00, "\0\0\0\5hello", 9);
	lens[0] = 0;
	r = x509_client_verify(&cfg, dp, lens, 1, NOW, &res);
	CHECK(r == MOAT_ERR_AUTH && strstr(res.why, "empty") != NULL, "%d %s",
	    r, res.why);
	r = x509_client_verify(&cfg, dp, lens, 0, NOW, &res);
	CHECK(r == MOAT_ERR_AUTH && strstr(res.why, "no client certificate") !=
	    NULL, "%d %s", r, res.why);
	if ((big = malloc(X509_CLIENT_CERT_MAX + 1)) == NULL)
		abort();
	memset(big, 0x30, X509_CLIENT_CERT_MAX + 1);
	dp[0] = big;
	lens[0] = X509_CLIENT_CERT_MAX + 1;
	r = x509_client_verify(&cfg, dp, lens, 1, NOW, &res);
	CHECK(r == MOAT_ERR_AUTH && strstr(res.why, "larger than 16384") !=
	    NULL, "%d %s", r, res.why);
	free(big);
	/* A good leaf followed by a bad second certificate. */
	dp[0] = d;
	lens[0] = len;
	dp[1] = (const uint8_t *)"\x30\x00";
	lens[1] = 2;
	r = x509_client_verify(&cfg, dp, lens, 2, NOW, &res);
	CHECK(r == MOAT_ERR_AUTH && strstr(res.why, "certificate 1 of the "
	    "chain is not a DER") != NULL && res.sha256[0] != '\0', "%d %s",
	    r, res.why);
	if ((big = malloc(len + 1)) == NULL)
		abort();
	memcpy(big, d, len);
	big[len] = 0;
	dp[0] = big;
	lens[0] = len + 1;
	r = x509_client_verify(&cfg, dp, lens, 1, NOW, &res);
	CHECK(r == MOAT_ERR_AUTH && strstr(res.why, "not a DER") != NULL,
	    "%d %s", r, res.why);
	free(big);
	/* The outer length in a longer form than DER allows. */
	CHECK(d[0] == 0x30 && d[1] == 0x82);
	if ((big = malloc(len + 1)) == NULL)
		abort();
	big[0] = 0x30;
	big[1] = 0x83;
	big[2] = 0;
	memcpy(big + 3, d + 2, len - 2);
	dp[0] = big;
	lens[0] = len + 1;
	r = x509_client_verify(&cfg, dp, lens, 1, NOW, &res);
	CHECK(r == MOAT_ERR_AUTH && strstr(res.why, "not a DER") != NULL,
	    "%d %s", r, res.why);
	free(big);
	dp[0] = d;
	lens[0] = len;
	r = x509_client_verify(&cfg, dp, lens, 1, NOW, &res);
	CHECK(r == 0 && strcmp(res.user, "alice") == 0, "%d %s", r, res.why);

	/* Every truncation, in an exact-size copy. */
	bad = 0;
	for (k = 0; k < len; k++) {
		if ((big = malloc(k > 0 ? k : 1)) == NULL)
			abort();
		memcpy(big, d, k);
		dp[0] = big;
		lens[0] = k;
		r = x509_client_verify(&cfg, dp, lens, 1, NOW, &res);
		if (r != MOAT_ERR_AUTH || res.user[0] != '\0')
			bad++;
		free(big);
	}
	CHECK(bad == 0, "%d of %zu truncations not refused", bad, len);
	/* Every single-bit flip. */
	bad = 0;
	refused = 0;
	if ((big = malloc(len)) == NULL)
		abort();
	for (bits = 0; bits < len * 8; bits++) {
		memcpy(big, d, len);
		big[bits / 8] ^= (uint8_t)(1u << (bits % 8));
		dp[0] = big;
		lens[0] = len;
		r = x509_client_verify(&cfg, dp, lens, 1, NOW, &res);
		if (r != MOAT_ERR_AUTH || res.user[0] != '\0')
			bad++;
		else
			refused++;
	}
	free(big);
	CHECK(bad == 0 && refused == len * 8, "%d of %zu bit flips not refused",
	    bad, len * 8);
	printf("leaf of %zu bytes: %zu truncations and %zu bit flips refused\n",
	    len, len, refused);

	/* The framing moat-net forwards. */
	{
		struct x509_client_chain ch;
		struct buf b;
		X509 *c2[] = { x, root };
		uint8_t hdr[4] = { 0, 0, 0, 0 };
		size_t blen;
		uint8_t *blob;

		frame(&b, c2, 2);
		blen = buf_len(&b);
		if ((blob = malloc(blen + 8)) == NULL)
			abort();
		memcpy(blob, buf_ptr(&b), blen);
		CHECK(x509_client_chain_split(blob, blen, &ch) == 0 &&
		    ch.n == 2 && ch.len[0] == len && ch.der[0] == blob + 4 &&
		    memcmp(ch.der[0], d, len) == 0);
		r = x509_client_verify(&cfg, ch.der, ch.len, ch.n, NOW, &res);
		CHECK(r == 0 && strcmp(res.user, "alice") == 0, "%d %s", r,
		    res.why);
		/* Every cut but the one after the leaf's record is refused. */
		for (k = 0; k < blen; k++) {
			r = x509_client_chain_split(blob, k, &ch);
			if (k == 4 + len ? r != 0 || ch.n != 1 :
			    r == 0 || ch.n != 0)
				break;
		}
		CHECK(k == blen, "truncation at %zu", k);
		blob[blen] = 0;
		CHECK(x509_client_chain_split(blob, blen + 1, &ch) ==
		    MOAT_ERR_SHORT && ch.n == 0);
		CHECK(x509_client_chain_split(hdr, 4, &ch) == MOAT_ERR_INVALID);
		CHECK(x509_client_chain_split(NULL, 0, &ch) == MOAT_ERR_INVALID);
		hdr[2] = 0x40;
		hdr[3] = 0x01;		/* 16385 */
		CHECK(x509_client_chain_split(hdr, 4, &ch) == MOAT_ERR_TOO_LONG);
		buf_free(&b);
		free(blob);
		/* Nine records. */
		buf_init(&b, 1024);
		for (i = 0; i < 9; i++)
			CHECK(buf_put_string(&b, "\x30\x00", 2) == 0);
		CHECK(x509_client_chain_split(buf_ptr(&b), buf_len(&b), &ch) ==
		    MOAT_ERR_TOO_LONG && ch.n == 0);
		CHECK(x509_client_chain_split(buf_ptr(&b), 8 * 6, &ch) == 0 &&
		    ch.n == 8);
		buf_free(&b);
	}
	free(d);
	X509_free(x);
	x509_client_config_free(&cfg);
	text_free(&ca);
}

static void
test_load_mem(void)
{
	struct text ca = { 0 }, t = { 0 };
	struct x509_client_config cfg;
	X509 *x;
	size_t i;
	int r;

	text_cert(&ca, root);
	/* Text around the blocks, as "openssl x509 -text" writes it. */
	text_add(&t, "Certificate:\n    Data: ...\n", 27);
	text_cert(&t, root);
	text_add(&t, "trailing words\n", 15);
	x509_client_config_init(&cfg);
	load(&cfg, &t, NULL, X509_RULE_EMAIL, NULL);
	CHECK(cfg.ncas == 1 && cfg.rule == X509_RULE_EMAIL &&
	    cfg.domain[0] == '\0');
	x509_client_config_free(&cfg);
	text_free(&t);

	load_bad(&ca, NULL, X509_RULE_CN, "example.com", "applies to the email "
	    "and upn rules only");
	load_bad(&ca, NULL, X509_RULE_EMAIL, "exa mple.com", "is not a DNS name");
	load_bad(&ca, NULL, X509_RULE_EMAIL, "-x.example.com", "is not a DNS");
	load_bad(&ca, NULL, X509_RULE_EMAIL, "example.com.", "is not a DNS");
	load_bad(&ca, NULL, (enum x509_user_rule)7, NULL, "unknown rule");
	text_add(&t, "", 0);
	load_bad(&t, NULL, X509_RULE_EMAIL, NULL, "no certificate");
	text_free(&t);
	/* Only the issuing CA: no root to end a chain. */
	text_cert(&t, inter);
	load_bad(&t, NULL, X509_RULE_EMAIL, NULL, "no self-signed CA");
	text_free(&t);
	/* A leaf in the CA file. */
	x = leaf("/CN=Alice", "email:alice@example.com", "clientAuth", 600,
	    root, kroot);
	text_cert(&t, root);
	text_cert(&t, x);
	load_bad(&t, NULL, X509_RULE_EMAIL, NULL, "certificate 2 (CN=Alice) is "
	    "not a CA certificate");
	text_free(&t);
	X509_free(x);
	/* A private key. */
	{
		BIO *b = BIO_new(BIO_s_mem());
		char *p;
		long n;

		if (b == NULL || PEM_write_bio_PrivateKey(b, kleaf, NULL, NULL, 0,
		    NULL, NULL) != 1)
			abort();
		text_cert(&t, root);
		n = BIO_get_mem_data(b, &p);
		text_add(&t, p, (size_t)n);
		BIO_free(b);
		load_bad(&t, NULL, X509_RULE_EMAIL, NULL, "'PRIVATE KEY' block");
		text_free(&t);
	}
	/* A block cut short. */
	text_cert(&t, root);
	t.n -= 40;
	t.p[t.n] = '\0';
	load_bad(&t, NULL, X509_RULE_EMAIL, NULL, "malformed PEM");
	text_free(&t);
	/* A root whose self-signature is broken. */
	text_cert(&t, root);
	{
		char *line = strstr(t.p, "\n") + 1 + 200;

		*line = *line == 'A' ? 'B' : 'A';
	}
	r = x509_client_config_load_mem(&cfg, "ca.pem", t.p, t.n, NULL, NULL, 0,
	    X509_RULE_EMAIL, NULL, err, sizeof(err));
	CHECK(r == MOAT_ERR_CONFIG, "%d %s", r, err);
	text_free(&t);
	/* 65 certificates. */
	for (i = 0; i < X509_CLIENT_CA_MAX + 1; i++)
		text_cert(&t, root);
	load_bad(&t, NULL, X509_RULE_EMAIL, NULL, "more than 64 certificates");
	text_free(&t);
	/* A failed load leaves a loaded cfg unloaded. */
	load(&cfg, &ca, NULL, X509_RULE_UPN, "corp.example");
	CHECK(cfg.rule == X509_RULE_UPN && strcmp(cfg.domain, "corp.example") == 0);
	r = x509_client_config_load_mem(&cfg, "ca.pem", "x", 1, NULL, NULL, 0,
	    X509_RULE_EMAIL, NULL, err, sizeof(err));
	CHECK(r == MOAT_ERR_CONFIG && cfg.store == NULL);
	x509_client_config_free(&cfg);
	CHECK(strcmp(x509_user_rule_name(X509_RULE_UPN), "upn") == 0 &&
	    strcmp(x509_user_rule_name((enum x509_user_rule)0), "(invalid)") == 0);
	text_free(&ca);
}

static int
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd;

	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)) == -1)
		return -1;
	if (write(fd, p, n) != (ssize_t)n || fchmod(fd, mode) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* x509_client_config_load() must fail with a message holding want. */
static void
file_bad(const char *ca, const char *crl, const char *want)
{
	struct x509_client_config cfg;
	int r;

	x509_client_config_init(&cfg);
	r = x509_client_config_load(&cfg, ca, crl, X509_RULE_EMAIL, NULL, err,
	    sizeof(err));
	CHECK(r == MOAT_ERR_CONFIG && cfg.store == NULL &&
	    strstr(err, want) != NULL, "%d '%s', want '%s'", r, err, want);
}

static void
test_files(void)
{
	struct x509_client_config cfg;
	struct text ca = { 0 }, crl = { 0 };
	char capath[256], crlpath[256], sub[256], subca[256], p[300];
	X509_CRL *c;
	int r;

	text_cert(&ca, root);
	c = mkcrl(root, kroot, -DAY, 7 * DAY, NULL, 0, 0);
	text_crl(&crl, c);
	X509_CRL_free(c);
	snprintf(capath, sizeof(capath), "%s/ca.pem", tmpdir);
	snprintf(crlpath, sizeof(crlpath), "%s/crl.pem", tmpdir);
	CHECK(write_file(capath, ca.p, ca.n, 0644) == 0);
	CHECK(write_file(crlpath, crl.p, crl.n, 0644) == 0);

	x509_client_config_init(&cfg);
	r = x509_client_config_load(&cfg, capath, crlpath, X509_RULE_EMAIL,
	    "example.com", err, sizeof(err));
	CHECK(r == 0 && cfg.ncas == 1 && cfg.ncrls == 1, "%d %s", r, err);
	r = x509_client_config_load(&cfg, capath, "", X509_RULE_EMAIL, NULL,
	    err, sizeof(err));
	CHECK(r == 0 && cfg.ncrls == 0, "%d %s", r, err);
	x509_client_config_free(&cfg);

	file_bad("", NULL, "CertificateCaFile is not set");
	file_bad(NULL, NULL, "CertificateCaFile is not set");
	file_bad("ca.pem", NULL, "must be an absolute path");
	snprintf(p, sizeof(p), "%s/missing.pem", tmpdir);
	file_bad(p, NULL, "missing.pem: cannot open the CA file");
	file_bad(capath, p, "missing.pem: cannot open the CRL file");
	file_bad(tmpdir, NULL, "not a regular file");
	snprintf(p, sizeof(p), "%s/", tmpdir);
	file_bad(p, NULL, "names a directory");

	/* Writable by others; by the group. */
	CHECK(chmod(capath, 0666) == 0);
	file_bad(capath, NULL, "ca.pem: CA file is writable by group or others "
	    "(mode 0666)");
	CHECK(chmod(capath, 0664) == 0);
	file_bad(capath, NULL, "writable by group or others");
	CHECK(chmod(capath, 0644) == 0);
	CHECK(chmod(crlpath, 0646) == 0);
	file_bad(capath, crlpath, "crl.pem: CRL file is writable");
	CHECK(chmod(crlpath, 0644) == 0);

	/* A symbolic link, as the file and in the path. */
	snprintf(p, sizeof(p), "%s/link.pem", tmpdir);
	CHECK(symlink(capath, p) == 0);
	file_bad(p, NULL, "is a symbolic link");
	unlink(p);
	snprintf(p, sizeof(p), "%s/linkdir", tmpdir);
	CHECK(symlink(tmpdir, p) == 0);
	snprintf(p, sizeof(p), "%s/linkdir/ca.pem", tmpdir);
	file_bad(p, NULL, "symbolic link in the path");
	snprintf(p, sizeof(p), "%s/linkdir", tmpdir);
	unlink(p);

	/* A FIFO does not hang the loader. */
	snprintf(p, sizeof(p), "%s/fifo", tmpdir);
	CHECK(mkfifo(p, 0600) == 0);
	file_bad(p, NULL, "not a regular file");
	unlink(p);

	/* A directory above that others may write; a sticky one is fine. */
	snprintf(sub, sizeof(sub), "%s/d", tmpdir);
	snprintf(subca, sizeof(subca), "%s/d/ca.pem", tmpdir);
	CHECK(mkdir(sub, 0755) == 0);
	CHECK(write_file(subca, ca.p, ca.n, 0644) == 0);
	CHECK(chmod(sub, 0777) == 0);
	file_bad(subca, NULL, "/d: directory is writable by group or others");
	CHECK(chmod(sub, 01777) == 0);
	r = x509_client_config_load(&cfg, subca, NULL, X509_RULE_EMAIL, NULL,
	    err, sizeof(err));
	CHECK(r == 0, "%d %s", r, err);
	x509_client_config_free(&cfg);
	CHECK(chmod(sub, 0755) == 0);

	/* Contents are checked as by load_mem, with the file's name. */
	CHECK(write_file(crlpath, "junk", 4, 0644) == 0);
	file_bad(capath, crlpath, "crl.pem: no CRL");
	CHECK(write_file(crlpath, crl.p, crl.n, 0644) == 0);

	CHECK(chown(capath, 65534, 0) == 0);
	file_bad(capath, NULL, "ca.pem: CA file is owned by uid 65534, not by "
	    "root");
	CHECK(chown(capath, 0, 0) == 0);
	CHECK(chown(sub, 65534, 0) == 0);
	file_bad(subca, NULL, "/d: directory is owned by uid 65534");
	CHECK(chown(sub, 0, 0) == 0);

	unlink(subca);
	rmdir(sub);
	unlink(capath);
	unlink(crlpath);
	text_free(&ca);
	text_free(&crl);
}

/*
 * The smartcard recipe of auth-test-infra.md §5c, with the openssl
 * command (a file key stands in for the token): what moat-viewer will
 * present in the end-to-end test must pass, and the server's certificate
 * (serverAuth) must not.
 */
static void
test_openssl_cli(void)
{
	struct x509_client_config cfg;
	char cmd[4096], path[300];
	X509 *alice, *server;
	FILE *f;
	int r;

	if (system("openssl version >/dev/null 2>&1") != 0) {
		printf("no openssl command: recipe test skipped\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/client.ext", tmpdir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs("extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n"
	    "subjectAltName=email:alice@example.test\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/server.ext", tmpdir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs("extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n"
	    "subjectAltName=DNS:localhost,email:alice@example.test\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && exec >cli.log 2>&1 && "
	    "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key "
	    "-out ca.crt -days 2 -subj '/CN=Test VNC Smartcard CA' "
	    "-addext 'basicConstraints=critical,CA:TRUE' "
	    "-addext 'keyUsage=critical,keyCertSign,cRLSign' && "
	    "openssl req -new -newkey rsa:2048 -nodes -keyout alice.key "
	    "-subj '/CN=alice/emailAddress=alice@example.test' -out alice.csr && "
	    "openssl x509 -req -in alice.csr -CA ca.crt -CAkey ca.key "
	    "-CAcreateserial -out alice.crt -days 2 -extfile client.ext && "
	    "openssl x509 -req -in alice.csr -CA ca.crt -CAkey ca.key "
	    "-CAcreateserial -out server.crt -days 2 -extfile server.ext",
	    tmpdir);
	r = system(cmd);
	CHECK(r == 0, "openssl failed (%s/cli.log)", tmpdir);
	if (r != 0)
		return;
	snprintf(path, sizeof(path), "%s/ca.crt", tmpdir);
	chmod(path, 0644);
	x509_client_config_init(&cfg);
	r = x509_client_config_load(&cfg, path, NULL, X509_RULE_EMAIL,
	    "example.test", err, sizeof(err));
	CHECK(r == 0, "%d %s", r, err);
	snprintf(path, sizeof(path), "%s/alice.crt", tmpdir);
	f = fopen(path, "r");
	alice = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f != NULL)
		fclose(f);
	snprintf(path, sizeof(path), "%s/server.crt", tmpdir);
	f = fopen(path, "r");
	server = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f != NULL)
		fclose(f);
	CHECK(alice != NULL && server != NULL);
	if (alice != NULL && server != NULL && r == 0) {
		time_t now = time(NULL);
		uint8_t *d;
		size_t len;

		d = der_of(alice, &len);
		r = x509_client_verify(&cfg, (const uint8_t *const *)&d, &len, 1,
		    now, &res);
		CHECK(r == 0 && strcmp(res.user, "alice") == 0, "%d %s", r,
		    res.why);
		free(d);
		d = der_of(server, &len);
		r = x509_client_verify(&cfg, (const uint8_t *const *)&d, &len, 1,
		    now, &res);
		CHECK(r == MOAT_ERR_AUTH && strstr(res.why, "purpose") != NULL,
		    "%d %s", r, res.why);
		free(d);
	}
	X509_free(alice);
	X509_free(server);
	x509_client_config_free(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -f %s/ca.* %s/alice.* %s/server.* "
	    "%s/*.ext %s/cli.log %s/*.srl", tmpdir, tmpdir, tmpdir, tmpdir,
	    tmpdir, tmpdir);
	if (system(cmd) != 0)
		printf("cannot clean %s\n", tmpdir);
}

int
main(void)
{
	seed_dir = getenv("MOAT_X509_WRITE_SEEDS");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_x509_client.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	setup();
	test_mapping();
	test_chain();
	test_revocation();
	test_bounds();
	test_load_mem();
	/* Files a non-root user writes can never pass the loader's checks. */
	if (geteuid() == 0) {
		test_files();
		test_openssl_cli();
	} else
		printf("not root: file loading and recipe tests skipped\n");
	rmdir(tmpdir);
	X509_free(root);
	X509_free(inter);
	X509_free(evil);
	EVP_PKEY_free(kroot);
	EVP_PKEY_free(kint);
	EVP_PKEY_free(kevil);
	EVP_PKEY_free(kleaf);
	return check_summary();
}
