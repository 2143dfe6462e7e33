/*
 * cert_proof_harness.h - fixed keys and certificates for the fuzz target
 * fuzz_cert_proof.c and for tests/unit/test_cert_proof.c, which writes
 * that target's seeds (valid answers for these certificates). Test code.
 *
 * The three private keys below (RSA-2048, EC P-256, Ed25519) are test
 * fixtures generated for this file; they protect nothing. Each leaf is
 * made here with fixed names, serials and validity and signed with the
 * Ed25519 key (a deterministic signature), so its DER, and hence every
 * seed's signed message, is the same on every run.
 */
#ifndef MOAT_CERT_PROOF_HARNESS_H
#define MOAT_CERT_PROOF_HARNESS_H

#include <stdint.h>
#include <stdlib.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define CPH_NKEYS	3

static const char cph_rsa_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCUYN/aKJjn0e+J\n"
	"TZN97UPB87WNmqHfllrQp+s4Pvx3zkac5fXYgcy9mEyRSWTtRCJACDHhJxqjNEUZ\n"
	"yYoa+cS1io4I417YHyI57ieJUbIGRfLyfTJtnjDalNw4WvpPhnEh8r8MhTBBMmgr\n"
	"fe0teh6BdWJx5b0nCin2NZYxDU8tv0FeORtFJ2zCJlDf58E9KjumF4uNEWdLBnNC\n"
	"IDQMAZTfSC0MOiAS0doJkABBn54Di6j0i68bZ6tMtfk33pEqID1cWgWJASkV6NZ7\n"
	"MPL/vGHJ/aK3HZYufEiHrKZb1yLZw+3OHzy0dSwrFLP89zEVv0L1OUsom2uKe7FR\n"
	"QZimVjDDAgMBAAECggEAGczEb7caa0i+OWYjTMSqQPnC6lXmaq3Gqbxg8p1FIgHc\n"
	"lmCIAHcFZjwqqCKWaYks2WxzW96ES7eFgmfgWzNt6FEoxFPgxHyZY3BNMJvjdCLK\n"
	"jS6Gy7ezb/ZtWmE7YAOU/V2rqZ4pF1UP9uwFByDSWBlUnlBftP+X70c/D9VsHJx+\n"
	"kAPmJd39GcyF5BV1nilPt73TKSSnrqBSo8GE7AMFs740MdyWBgrjq48q6JeQGZ+A\n"
	"iyuTgO0HHsi0kNSa/cCMwXkp97IyJUWI2lzgi64JeAFLLGmL/VWtlvos6lCZ8FJb\n"
	"QH3uYYnUDSHSVviw6hDS7RSgZYBEMUwGqSSjF9/WiQKBgQDIWCU0fxceirHV8MKp\n"
	"LvX3EN2WE+1loLr92q6Y9Jp4fQoYAoey240KRrQeXYy8aFP3jn80S4RB5t5xX5u7\n"
	"gykm3vquObqzf2xY9bJboF4xo4o0aT319YAAhlTdEK4ej5JGRNDS9pLLSdntd+Ix\n"
	"f7S5fSeAa4TYEhfU0R3WGLhhuwKBgQC9mRQQ992UjFBUal5rjiH77g1Vlyh1YEt/\n"
	"YHQeL24r2y9blne3hvoCcYFqoSxxL+8A8X9iZH5f0hrONFGe3P4bpRqFVRcKDG9M\n"
	"8XTGsZxHLQb6HyzRXhJJleXnAPga0A5qmnoIHufs3xNn+wLqp3f5t7NQ3PN+Gsjj\n"
	"Lhod/yrYmQKBgFLVpyRqe8uj+t2DO2kqQoaR0ZyQxrIjX81AErqpQAkbYgYFXcgE\n"
	"4O7jxutbMKph1H3hzBR6OMfqxgRITKKeG3C39xv8QIag49JwW/todim9/ZGoBfdh\n"
	"NziAUixJDkUShZ9KKrFfQ9iLw3BdBggDTlz3M1L0oauY54OVpulztSCrAoGABUVi\n"
	"N26MrHqSKSaj5V2YOEbP/BctusWok6v8znIHIBUB5gvy3BlWjgbV0D8W2za38FDG\n"
	"d9fPY56VvDHcKwx9zAr1B8vrzg22cm8sDfIWJCxuSznepxt0arNOJvPx8dzi6bfN\n"
	"uLgTPpSdF4D0/c0WGs0uoQrjghgAicBYXYkgidECgYBlvFr68i1glopINLJxXf6T\n"
	"YDIeTEuHkg5Ix1jAmIgxajYVn52+tZDvu93wWxkrPfC7GknJr5AMnehoO9S43Qni\n"
	"YEFr8kUrC/tOd2qu+8GhwL9ynAtY3Z9mW+wb0UbepVszT4K4I33cahf5bhsUWNfm\n"
	"McMbe/au6NaQJaXS5xCeeg==\n"
	"-----END PRIVATE KEY-----\n"
	;
static const char cph_p256_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/Pp5o5kR/I8u4zn+\n"
	"AlgecOLnwsH8qfWOZolviNUHGomhRANCAATSsCmkeJuWae1vsIwFWdya5jxkZ2Ah\n"
	"DYcaDvRsExwRqunPSooIiKAmIzcsi9oEaijtu6wtr30f5FidNILtG2Sd\n"
	"-----END PRIVATE KEY-----\n"
	;
static const char cph_ed25519_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MC4CAQAwBQYDK2VwBCIEIBou9H2AFk1DBVjahhsitkqGa6uSTwd6O0Z1Y3yAqRyh\n"
	"-----END PRIVATE KEY-----\n"
	;

/* The challenge and identity hash every seed answers. */
static const uint8_t cph_challenge[32] = {
	0x6d, 0x6f, 0x61, 0x74, 0x20, 0x63, 0x65, 0x72, 0x74, 0x20, 0x70, 0x72,
	0x6f, 0x6f, 0x66, 0x20, 0x73, 0x65, 0x65, 0x64, 0x20, 0x63, 0x68, 0x61,
	0x6c, 0x6c, 0x65, 0x6e, 0x67, 0x65, 0x21, 0x0a,
};
static const uint8_t cph_identity[32] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98,
	0x76, 0x54, 0x32, 0x10, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
	0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};

struct cert_proof_harness {
	EVP_PKEY *key[CPH_NKEYS];	/* RSA, P-256, Ed25519 */
	uint8_t *der[CPH_NKEYS];	/* each key's leaf certificate */
	size_t len[CPH_NKEYS];
};

static EVP_PKEY *
cph_load_key(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) :
	    NULL;

	BIO_free(b);
	return k;
}

/* The leaf of key, signed by signer; returns its DER length or 0. */
static size_t
cph_make_leaf(EVP_PKEY *key, EVP_PKEY *signer, long serial, uint8_t **der)
{
	X509 *x = X509_new();
	X509_NAME *n;
	unsigned char *p;
	int len, ok;

	*der = NULL;
	if (x == NULL)
		return 0;
	n = X509_get_subject_name(x);
	ok = X509_set_version(x, 2) &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"cert proof harness", -1, -1, 0) &&
	    X509_set_issuer_name(x, n) &&
	    ASN1_TIME_set(X509_getm_notBefore(x), 1700000000) != NULL &&
	    ASN1_TIME_set(X509_getm_notAfter(x), 1900000000) != NULL &&
	    X509_set_pubkey(x, key) &&
	    X509_sign(x, signer, NULL) > 0 &&
	    (len = i2d_X509(x, NULL)) > 0 &&
	    (*der = malloc((size_t)len)) != NULL;
	if (ok) {
		p = *der;
		ok = i2d_X509(x, &p) == len;
	}
	X509_free(x);
	if (!ok) {
		free(*der);
		*der = NULL;
		return 0;
	}
	return (size_t)len;
}

/* Loads the keys and makes the leaves; returns 0 or -1. */
static int
cph_setup(struct cert_proof_harness *h)
{
	const char *pems[CPH_NKEYS] = { cph_rsa_pem, cph_p256_pem,
	    cph_ed25519_pem };
	int i;

	for (i = 0; i < CPH_NKEYS; i++)
		if ((h->key[i] = cph_load_key(pems[i])) == NULL)
			return -1;
	for (i = 0; i < CPH_NKEYS; i++)
		if ((h->len[i] = cph_make_leaf(h->key[i], h->key[2], 100 + i,
		    &h->der[i])) == 0)
			return -1;
	return 0;
}

#endif
