/*
 * mon_identity.c - identity key handling and per-connection leaf
 * certificates (see mon_identity.h). Runs as root in moatd and its
 * monitors, and in moatctl (identity generate/show/export-ca). Trusts its
 * configuration and the root-owned key file; reads nothing from the network.
 *
 * Why leaf certificates rather than remote signing: TLS 1.3 needs a
 * CertificateVerify signature from the server key inside moat-net's
 * handshake. Giving moat-net a one-connection P-256 key signed by the
 * identity key keeps the identity key out of moat-net entirely while
 * standard viewers still verify one pinned CA certificate.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "mon_identity.h"
#include "privsep/errors.h"
#include "privsep/log.h"

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if ((ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return MOAT_ERR_CRYPTO;
	ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : MOAT_ERR_CRYPTO;
}

static int
set_serial(X509 *cert)
{
	unsigned char rnd[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return MOAT_ERR_CRYPTO;
	rnd[0] &= 0x7f;
	if ((bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) == NULL)
		return MOAT_ERR_CRYPTO;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);
	return ok ? 0 : MOAT_ERR_CRYPTO;
}

/*
 * Writes one PEM file at path, created exclusively (never following a
 * link) with mode, flushed to disk. On failure unlinks what it created.
 * which: 0 = private key of id, 1 = certificate of id.
 */
static int
write_pem(const struct mon_identity *id, int which, const char *path,
    mode_t mode, char *err, size_t errlen)
{
	FILE *f;
	int fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		return MOAT_ERR_CONFIG;
	}
	/* Explicit, whatever the umask or a set-group-ID directory: the key
	 * is root's alone, the certificate public (viewers run by any user
	 * pin it). */
	if (fchmod(fd, mode) != 0 || (geteuid() == 0 && fchown(fd, 0, 0) != 0) ||
	    (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return MOAT_ERR_CONFIG;
	}
	ok = which == 0 ?
	    PEM_write_PrivateKey(f, id->key, NULL, NULL, 0, NULL, NULL) == 1 :
	    PEM_write_X509(f, id->cert) == 1;
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		unlink(path);
		return MOAT_ERR_CONFIG;
	}
	return 0;
}

/* Generates a new key and its self-signed CA certificate in memory. */
static int
generate_identity(struct mon_identity *id, char *err, size_t errlen)
{
	char host[256], cn[300];
	X509_NAME *name;

	if ((id->key = EVP_RSA_gen(2048)) == NULL || (id->cert = X509_new()) == NULL)
		goto crypto;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(cn, sizeof(cn), "moat identity %s", host);
	name = X509_get_subject_name(id->cert);
	if (X509_set_version(id->cert, 2) != 1 || set_serial(id->cert) != 0 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(id->cert, name) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(id->cert), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(id->cert), 3650L * 86400) == NULL ||
	    X509_set_pubkey(id->cert, id->key) != 1 ||
	    add_ext(id->cert, id->cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
	    add_ext(id->cert, id->cert, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
	    add_ext(id->cert, id->cert, NID_subject_key_identifier, "hash") != 0 ||
	    X509_sign(id->cert, id->key, EVP_sha256()) == 0)
		goto crypto;
	return 0;
crypto:
	snprintf(err, errlen, "creating the identity key failed: %s",
	    ERR_reason_error_string(ERR_peek_last_error()));
	return MOAT_ERR_CRYPTO;
}

int
mon_identity_create(struct mon_identity *id, const char *key_path,
    const char *cert_path, char *err, size_t errlen)
{
	struct stat st;
	const char *p;
	int i, r;

	memset(id, 0, sizeof(*id));
	if (strcmp(key_path, cert_path) == 0) {
		snprintf(err, errlen, "%s: the key and the certificate need "
		    "different files", key_path);
		return MOAT_ERR_CONFIG;
	}
	/* Check both before writing either (write_pem's O_EXCL still
	 * guards against a file appearing meanwhile). */
	for (i = 0; i < 2; i++) {
		p = i == 0 ? key_path : cert_path;
		if (lstat(p, &st) == 0) {
			snprintf(err, errlen, "%s: exists; refusing to overwrite "
			    "an identity", p);
			return MOAT_ERR_CONFIG;
		}
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", p, strerror(errno));
			return MOAT_ERR_CONFIG;
		}
	}
	if ((r = generate_identity(id, err, errlen)) != 0 ||
	    (r = write_pem(id, 0, key_path, 0600, err, errlen)) != 0)
		goto fail;
	if ((r = write_pem(id, 1, cert_path, 0644, err, errlen)) != 0) {
		unlink(key_path);
		goto fail;
	}
	info_f("created identity key %s and certificate %s", key_path, cert_path);
	return 0;
fail:
	mon_identity_free(id);
	return r;
}

/* Loads the private key at path, which must be root's alone. */
static int
load_key(struct mon_identity *id, const char *key_path, char *err, size_t errlen)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = open(key_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", key_path, strerror(errno));
		if (fd != -1)
			close(fd);
		return MOAT_ERR_CONFIG;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: must be a regular file owned by root "
		    "with mode 0600 or stricter", key_path);
		close(fd);
		return MOAT_ERR_CONFIG;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return MOAT_ERR_SYSTEM;
	}
	id->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (id->key == NULL || EVP_PKEY_get_base_id(id->key) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bits(id->key) < 2048) {
		snprintf(err, errlen, "%s: not an RSA private key of at least "
		    "2048 bits", key_path);
		return MOAT_ERR_CONFIG;
	}
	return 0;
}

int
mon_identity_open(struct mon_identity *id, const char *key_path,
    const char *cert_path, char *err, size_t errlen)
{
	FILE *f;
	int r;

	memset(id, 0, sizeof(*id));
	if (key_path != NULL && (r = load_key(id, key_path, err, errlen)) != 0)
		goto fail;
	if ((f = fopen(cert_path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", cert_path, strerror(errno));
		r = MOAT_ERR_CONFIG;
		goto fail;
	}
	id->cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (id->cert == NULL) {
		snprintf(err, errlen, "%s: not a PEM certificate", cert_path);
		r = MOAT_ERR_CONFIG;
		goto fail;
	}
	if (id->key != NULL && X509_check_private_key(id->cert, id->key) != 1) {
		snprintf(err, errlen, "%s: not a certificate for the key in %s",
		    cert_path, key_path);
		r = MOAT_ERR_CONFIG;
		goto fail;
	}
	return 0;
fail:
	mon_identity_free(id);
	return r;
}

int
mon_identity_load(struct mon_identity *id, const char *key_path,
    const char *cert_path, char *err, size_t errlen)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (lstat(key_path, &st) != 0 && errno == ENOENT &&
	    lstat(cert_path, &st) != 0 && errno == ENOENT)
		return mon_identity_create(id, key_path, cert_path, err, errlen);
	return mon_identity_open(id, key_path, cert_path, err, errlen);
}

int
mon_identity_fingerprint(const struct mon_identity *id, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;

	if (X509_digest(id->cert, EVP_sha256(), md, &n) != 1)
		return MOAT_ERR_CRYPTO;
	return catchphrase_hex_fp(md, n, out, outlen);
}

int
mon_identity_describe(const struct mon_identity *id, struct catchphrase_id *desc)
{
	EVP_PKEY *pub;

	if ((pub = X509_get0_pubkey(id->cert)) == NULL)
		return MOAT_ERR_CRYPTO;
	return catchphrase_describe(pub, desc);
}

/* Builds "DNS:a,IP:1.2.3.4,..." from "a,1.2.3.4". */
static int
san_value(const char *names, char *out, size_t outlen)
{
	char copy[512], *tok, *save = NULL;
	unsigned char addr[16];
	size_t o = 0;
	int n;

	snprintf(copy, sizeof(copy), "%s", names);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		n = snprintf(out + o, outlen - o, "%s%s:%s", o ? "," : "",
		    (inet_pton(AF_INET, tok, addr) == 1 ||
		    inet_pton(AF_INET6, tok, addr) == 1) ? "IP" : "DNS", tok);
		if (n < 0 || (size_t)n >= outlen - o)
			return MOAT_ERR_TOO_LONG;
		o += (size_t)n;
	}
	return o > 0 ? 0 : MOAT_ERR_INVALID;
}

static char *
bio_string(BIO *bio)
{
	char *p, *s;
	long n;

	n = BIO_get_mem_data(bio, &p);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	return s;
}

int
mon_identity_issue_leaf(const struct mon_identity *id, const char *names,
    char **chain_pem, char **key_pem)
{
	char san[1200], cn[256];
	EVP_PKEY *leaf_key = NULL;
	X509 *leaf = NULL;
	BIO *cb = NULL, *kb = NULL;
	int r = MOAT_ERR_CRYPTO;
	const char *comma;

	*chain_pem = *key_pem = NULL;
	if (id->key == NULL)
		return MOAT_ERR_INVALID;
	if (san_value(names, san, sizeof(san)) != 0)
		return MOAT_ERR_INVALID;
	comma = strchr(names, ',');
	snprintf(cn, sizeof(cn), "%.*s", comma ? (int)(comma - names) : 255, names);
	if ((leaf_key = EVP_EC_gen("P-256")) == NULL || (leaf = X509_new()) == NULL)
		goto out;
	if (X509_set_version(leaf, 2) != 1 || set_serial(leaf) != 0 ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(leaf), "CN",
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(leaf, X509_get_subject_name(id->cert)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(leaf), -300) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(leaf), 86400) == NULL ||
	    X509_set_pubkey(leaf, leaf_key) != 1 ||
	    add_ext(leaf, id->cert, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(leaf, id->cert, NID_key_usage, "critical,digitalSignature") != 0 ||
	    add_ext(leaf, id->cert, NID_ext_key_usage, "serverAuth") != 0 ||
	    add_ext(leaf, id->cert, NID_subject_alt_name, san) != 0 ||
	    add_ext(leaf, id->cert, NID_authority_key_identifier, "keyid:always") != 0 ||
	    X509_sign(leaf, id->key, EVP_sha256()) == 0)
		goto out;
	if ((cb = BIO_new(BIO_s_mem())) == NULL || (kb = BIO_new(BIO_s_secmem())) == NULL)
		goto out;
	if (PEM_write_bio_X509(cb, leaf) != 1 || PEM_write_bio_X509(cb, id->cert) != 1 ||
	    PEM_write_bio_PrivateKey(kb, leaf_key, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	if ((*chain_pem = bio_string(cb)) == NULL || (*key_pem = bio_string(kb)) == NULL) {
		free(*chain_pem);
		*chain_pem = NULL;
		goto out;
	}
	r = 0;
out:
	BIO_free(cb);
	BIO_free(kb);
	X509_free(leaf);
	EVP_PKEY_free(leaf_key);
	return r;
}

void
mon_identity_free(struct mon_identity *id)
{
	EVP_PKEY_free(id->key);
	X509_free(id->cert);
	memset(id, 0, sizeof(*id));
}
