/*
 * mon_identity.c - identity key handling and per-connection leaf
 * certificates, and the identity's rotation (see mon_identity.h). Runs as
 * root in moatd and its monitors, and in moatctl (identity generate/show/
 * export-ca/rotate). Trusts its configuration and the root-owned key file;
 * checks the rotation certificate file before sending any of it; reads
 * nothing from the network.
 *
 * Why leaf certificates rather than remote signing: TLS 1.3 needs a
 * CertificateVerify signature from the server key inside moat-net's
 * handshake. Giving moat-net a one-connection P-256 key signed by the
 * identity key keeps the identity key out of moat-net entirely while
 * standard viewers still verify one pinned CA certificate.
 *
 * Why a pool of leaves issued ahead of time: issuing one (a P-256 key, an
 * RSA-2048 signature, PEM) cost a freshly forked monitor 1.5-2.5 ms on
 * every connection's path; the long-lived listener does it in 0.8 ms while
 * idle. Each pooled leaf still serves one connection only (see below).
 *
 * Why a cross certificate for rotation (as X.509 CAs are rolled over): a
 * certificate for the new key signed by the previous key is a statement a
 * viewer that trusts only the previous key can check, and the previous
 * private key is not needed once it exists. CA certificates allow one
 * intermediate (pathlen:1) so that chains through a cross certificate
 * verify in standard viewers too (docs/identity.md).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
 * Writes the key and the certificates that are not NULL, in that order, as
 * PEM to fd, flushes them to disk and closes fd. Returns 0 or -1 (errno).
 */
static int
write_pem_fd(int fd, EVP_PKEY *key, X509 *c1, X509 *c2)
{
	FILE *f;
	int ok;

	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return -1;
	}
	ok = (key == NULL ||
	    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1) &&
	    (c1 == NULL || PEM_write_X509(f, c1) == 1) &&
	    (c2 == NULL || PEM_write_X509(f, c2) == 1);
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/*
 * Explicit mode and owner, whatever the umask or a set-group-ID directory:
 * keys are root's alone, certificates public (viewers run by any user pin
 * them).
 */
static int
set_owner_mode(int fd, mode_t mode)
{
	if (fchmod(fd, mode) != 0 || (geteuid() == 0 && fchown(fd, 0, 0) != 0))
		return -1;
	return 0;
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
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		return MOAT_ERR_CONFIG;
	}
	if (set_owner_mode(fd, mode) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return MOAT_ERR_CONFIG;
	}
	if (write_pem_fd(fd, which == 0 ? id->key : NULL,
	    which == 1 ? id->cert : NULL, NULL) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		unlink(path);
		return MOAT_ERR_CONFIG;
	}
	return 0;
}

/*
 * Generates a new key and its self-signed CA certificate in memory. The
 * subject is "moat identity HOST XXXXXXXX", the last word the first 8 hex
 * digits of the key's SHA-256 (as `show` prints it), so that the names of
 * an old and a new identity never collide in a viewer's trust store; HOST
 * is cut to 40 bytes (a common name holds at most 64).
 */
static int
generate_identity(struct mon_identity *id, char *err, size_t errlen)
{
	struct catchphrase_id desc;
	char host[256], cn[80];
	X509_NAME *name;

	if ((id->key = EVP_RSA_gen(2048)) == NULL || (id->cert = X509_new()) == NULL ||
	    catchphrase_describe(id->key, &desc) != 0)
		goto crypto;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(cn, sizeof(cn), "moat identity %.40s %02X%02X%02X%02X", host,
	    desc.key_sha256[0], desc.key_sha256[1], desc.key_sha256[2],
	    desc.key_sha256[3]);
	name = X509_get_subject_name(id->cert);
	if (X509_set_version(id->cert, 2) != 1 || set_serial(id->cert) != 0 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(id->cert, name) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(id->cert), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(id->cert), 3650L * 86400) == NULL ||
	    X509_set_pubkey(id->cert, id->key) != 1 ||
	    add_ext(id->cert, id->cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:1") != 0 ||
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

/*
 * The certificates sent after the leaf: the identity certificate, or while
 * the rotation's overlap lasts the cross certificate and the previous
 * identity certificate (a viewer that pins the previous key finds it in
 * the latter and checks the former's signature with it; standard viewers
 * that trust the previous certificate file build leaf, cross, previous).
 */
static void
chain_tail(const struct mon_identity *id, X509 **second, X509 **third)
{
	char until[40];

	*second = id->cert;
	*third = NULL;
	if (id->rot_cross == NULL)
		return;
	if (time(NULL) < id->rot_until) {
		*second = id->rot_cross;
		*third = id->rot_prev;
		return;
	}
	/* moatd forks a monitor per connection: the flag is in shared memory. */
	if (id->rot_logged != NULL &&
	    __atomic_exchange_n(id->rot_logged, 1, __ATOMIC_SEQ_CST) != 0)
		return;
	if (mon_identity_format_time(id->rot_until, until, sizeof(until)) != 0)
		snprintf(until, sizeof(until), "?");
	warn_f("the identity rotation certificate expired at %s: the overlap "
	    "is over and viewers that know only the previous key no longer "
	    "learn the new one; sending the identity certificate alone (remove "
	    "the IdentityRotationCert file)", until);
}

/* Issues a leaf now; *second tells which chain tail it carries. */
static int
issue_leaf(const struct mon_identity *id, const char *names,
    char **chain_pem, char **key_pem, X509 **second_out)
{
	char san[1200], cn[256];
	EVP_PKEY *leaf_key = NULL;
	X509 *leaf = NULL, *second, *third;
	BIO *cb = NULL, *kb = NULL;
	int r = MOAT_ERR_CRYPTO;
	const char *comma;

	*chain_pem = *key_pem = NULL;
	if (id->key == NULL)
		return MOAT_ERR_INVALID;
	chain_tail(id, &second, &third);
	*second_out = second;
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
	if (PEM_write_bio_X509(cb, leaf) != 1 || PEM_write_bio_X509(cb, second) != 1 ||
	    (third != NULL && PEM_write_bio_X509(cb, third) != 1) ||
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

/*
 * --- leaves issued ahead of time ---
 *
 * moatd's listener fills the pool while it has nothing else to do, and
 * every monitor is a fork of the listener: the leaf reserved before a fork
 * is the child's alone (it wipes the others) and the listener drops it
 * right after the fork, so each pooled leaf reaches at most one
 * connection, and none is used twice. A leaf is only taken if it was
 * issued under the same identity certificate, for the same names and
 * with the same chain tail (a rotation's overlap may have ended
 * meanwhile), at most MON_LEAF_POOL_AGE seconds ago.
 */
struct pool_leaf {
	char *chain_pem;
	char *key_pem;
	char *names;
	X509 *issuer;		/* the identity certificate, up-referenced */
	X509 *second;		/* the chain tail's first certificate */
	time_t issued;
};

static struct pool_leaf pool[MON_LEAF_POOL_SIZE];
static int pool_reserved = -1;	/* the slot the next fork hands over */
static struct pool_leaf pool_kept;	/* in a monitor: its reserved leaf */

static void
pool_leaf_clear(struct pool_leaf *l)
{
	if (l->key_pem != NULL) {
		OPENSSL_cleanse(l->key_pem, strlen(l->key_pem));
		free(l->key_pem);
	}
	free(l->chain_pem);
	free(l->names);
	X509_free(l->issuer);
	X509_free(l->second);
	memset(l, 0, sizeof(*l));
}

/*
 * 1 if l may serve a connection to id for names now, else 0. The chain
 * tail is chain_tail()'s choice, without its log line (this runs at every
 * turn of the listener's loop).
 */
static int
pool_leaf_usable(const struct pool_leaf *l, const struct mon_identity *id,
    const char *names, time_t now)
{
	X509 *second;

	if (l->chain_pem == NULL || id->cert == NULL ||
	    strcmp(l->names, names) != 0 || now < l->issued ||
	    now - l->issued > MON_LEAF_POOL_AGE ||
	    X509_cmp(l->issuer, id->cert) != 0)
		return 0;
	second = id->rot_cross != NULL && now < id->rot_until ?
	    id->rot_cross : id->cert;
	return X509_cmp(l->second, second) == 0;
}

int
mon_identity_pool_due(const struct mon_identity *id, const char *names)
{
	time_t now = time(NULL), left, soonest = -1;
	int i;

	if (id->key == NULL || id->cert == NULL)
		return -1;
	for (i = 0; i < MON_LEAF_POOL_SIZE; i++) {
		if (!pool_leaf_usable(&pool[i], id, names, now))
			return 0;
		left = pool[i].issued + MON_LEAF_POOL_AGE + 1 - now;
		if (soonest < 0 || left < soonest)
			soonest = left;
	}
	return soonest > 3600 ? 3600 * 1000 : (int)soonest * 1000;
}

int
mon_identity_pool_fill(const struct mon_identity *id, const char *names)
{
	struct pool_leaf *l = NULL;
	X509 *second;
	time_t now = time(NULL);
	int i, r;

	if (id->key == NULL || id->cert == NULL)
		return MOAT_ERR_INVALID;
	for (i = 0; i < MON_LEAF_POOL_SIZE; i++) {
		if (!pool_leaf_usable(&pool[i], id, names, now))
			pool_leaf_clear(&pool[i]);
		if (pool[i].chain_pem == NULL && l == NULL)
			l = &pool[i];
	}
	if (l == NULL)
		return 0;
	if ((r = issue_leaf(id, names, &l->chain_pem, &l->key_pem,
	    &second)) != 0)
		return r;
	l->issued = now;
	if ((l->names = strdup(names)) == NULL ||
	    X509_up_ref(id->cert) != 1) {
		pool_leaf_clear(l);
		return MOAT_ERR_NOMEM;
	}
	l->issuer = id->cert;
	if (X509_up_ref(second) != 1) {
		pool_leaf_clear(l);
		return MOAT_ERR_NOMEM;
	}
	l->second = second;
	return 1;
}

void
mon_identity_pool_reserve(void)
{
	int i;

	pool_reserved = -1;
	for (i = 0; i < MON_LEAF_POOL_SIZE; i++)
		if (pool[i].chain_pem != NULL && (pool_reserved < 0 ||
		    pool[i].issued < pool[pool_reserved].issued))
			pool_reserved = i;
}

void
mon_identity_pool_forked(pid_t pid)
{
	int i;

	if (pid == 0) {
		pool_leaf_clear(&pool_kept);
		for (i = 0; i < MON_LEAF_POOL_SIZE; i++) {
			if (i == pool_reserved) {
				pool_kept = pool[i];
				memset(&pool[i], 0, sizeof(pool[i]));
			} else
				pool_leaf_clear(&pool[i]);
		}
	} else if (pid > 0 && pool_reserved >= 0)
		pool_leaf_clear(&pool[pool_reserved]);
	pool_reserved = -1;
}

void
mon_identity_pool_clear(void)
{
	int i;

	for (i = 0; i < MON_LEAF_POOL_SIZE; i++)
		pool_leaf_clear(&pool[i]);
	pool_leaf_clear(&pool_kept);
	pool_reserved = -1;
}

int
mon_identity_issue_leaf(const struct mon_identity *id, const char *names,
    char **chain_pem, char **key_pem)
{
	X509 *second;
	int usable;

	usable = pool_leaf_usable(&pool_kept, id, names, time(NULL));
	if (usable) {
		*chain_pem = pool_kept.chain_pem;
		*key_pem = pool_kept.key_pem;
		pool_kept.chain_pem = pool_kept.key_pem = NULL;
	}
	pool_leaf_clear(&pool_kept);	/* taken or useless: never again */
	if (usable)
		return 0;
	return issue_leaf(id, names, chain_pem, key_pem, &second);
}

/* --- rotation --- */

int
mon_identity_format_time(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return MOAT_ERR_TOO_LONG;
	return 0;
}

/* Converts a certificate time to time_t. */
static int
cert_time(const ASN1_TIME *a, time_t *out)
{
	struct tm tm;

	if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1)
		return MOAT_ERR_INVALID;
	*out = timegm(&tm);
	return 0;
}

int
mon_identity_parse_overlap(const char *s, long *secs)
{
	long v = 0, unit;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > MON_ROTATION_OVERLAP_MAX)
			return MOAT_ERR_INVALID;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || s[i] == '\0' || s[i + 1] != '\0')
		return MOAT_ERR_INVALID;
	switch (s[i]) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return MOAT_ERR_INVALID;
	}
	if (v > MON_ROTATION_OVERLAP_MAX / unit)
		return MOAT_ERR_INVALID;
	v *= unit;
	if (v < MON_ROTATION_OVERLAP_MIN || v > MON_ROTATION_OVERLAP_MAX)
		return MOAT_ERR_INVALID;
	*secs = v;
	return 0;
}

int
mon_identity_cross(const struct mon_identity *old,
    const struct mon_identity *new, long overlap, X509 **cross)
{
	X509 *x;

	*cross = NULL;
	if (old->key == NULL || old->cert == NULL || new->cert == NULL ||
	    overlap < MON_ROTATION_OVERLAP_MIN || overlap > MON_ROTATION_OVERLAP_MAX)
		return MOAT_ERR_INVALID;
	if ((x = X509_new()) == NULL)
		return MOAT_ERR_CRYPTO;
	if (X509_set_version(x, 2) != 1 || set_serial(x) != 0 ||
	    X509_set_subject_name(x, X509_get_subject_name(new->cert)) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(old->cert)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), overlap) == NULL ||
	    X509_set_pubkey(x, X509_get0_pubkey(new->cert)) != 1 ||
	    add_ext(x, old->cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
	    add_ext(x, old->cert, NID_key_usage, "critical,keyCertSign") != 0 ||
	    add_ext(x, old->cert, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, old->cert, NID_authority_key_identifier, "keyid:always") != 0 ||
	    X509_sign(x, old->key, EVP_sha256()) == 0) {
		X509_free(x);
		return MOAT_ERR_CRYPTO;
	}
	*cross = x;
	return 0;
}

int
mon_identity_rotation_check(X509 *cert, X509 *cross, X509 *prev,
    time_t now, char *err, size_t errlen)
{
	char when[40];
	time_t t;
	uint32_t fl;

	if (cert == NULL || cross == NULL || prev == NULL) {
		snprintf(err, errlen, "no certificate");
		return MOAT_ERR_INVALID;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(cross), X509_get0_pubkey(cert)) != 1) {
		snprintf(err, errlen, "it does not hold the identity key of "
		    "IdentityCert (a rotation to another key)");
		return MOAT_ERR_INVALID;
	}
	fl = X509_get_extension_flags(cross);
	if ((fl & EXFLAG_BCONS) == 0 || (fl & EXFLAG_CA) == 0) {
		snprintf(err, errlen, "it is not a CA certificate "
		    "(basicConstraints CA:TRUE)");
		return MOAT_ERR_INVALID;
	}
	if (cert_time(X509_get0_notBefore(cross), &t) != 0 ||
	    cert_time(X509_get0_notAfter(cross), &t) != 0) {
		snprintf(err, errlen, "its validity period is malformed");
		return MOAT_ERR_INVALID;
	}
	if (X509_cmp_time(X509_get0_notBefore(cross), &now) != -1) {
		(void)cert_time(X509_get0_notBefore(cross), &t);
		if (mon_identity_format_time(t, when, sizeof(when)) != 0)
			snprintf(when, sizeof(when), "?");
		snprintf(err, errlen, "it is not valid before %s", when);
		return MOAT_ERR_INVALID;
	}
	if (X509_cmp_time(X509_get0_notAfter(cross), &now) != 1) {
		(void)cert_time(X509_get0_notAfter(cross), &t);
		if (mon_identity_format_time(t, when, sizeof(when)) != 0)
			snprintf(when, sizeof(when), "?");
		snprintf(err, errlen, "it expired at %s", when);
		return MOAT_ERR_INVALID;
	}
	if (X509_self_signed(prev, 1) != 1) {
		snprintf(err, errlen, "the previous identity certificate after "
		    "it is not self-signed");
		return MOAT_ERR_INVALID;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(prev), X509_get0_pubkey(cert)) == 1) {
		snprintf(err, errlen, "the previous identity certificate holds "
		    "the current key");
		return MOAT_ERR_INVALID;
	}
	if (X509_NAME_cmp(X509_get_issuer_name(cross),
	    X509_get_subject_name(prev)) != 0 ||
	    X509_verify(cross, X509_get0_pubkey(prev)) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "it is not signed by the previous identity "
		    "key (the certificate after it)");
		return MOAT_ERR_INVALID;
	}
	return 0;
}

/*
 * Reads a rotation certificate file: a regular file owned by root that
 * nobody else may write, holding exactly two PEM certificates. Returns 0,
 * 1 when it does not exist, or MOAT_ERR_CONFIG with err filled.
 */
static int
read_rotation_file(const char *path, X509 **cross, X509 **prev, char *err,
    size_t errlen)
{
	struct stat st;
	X509 *extra;
	FILE *f;
	int fd;

	*cross = *prev = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return MOAT_ERR_CONFIG;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022) != 0) {
		snprintf(err, errlen, "%s: must be a regular file owned by root "
		    "and writable by nobody else", path);
		close(fd);
		return MOAT_ERR_CONFIG;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return MOAT_ERR_CONFIG;
	}
	*cross = PEM_read_X509(f, NULL, NULL, NULL);
	*prev = *cross != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	extra = *prev != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	fclose(f);
	ERR_clear_error();	/* the read that found the end */
	if (*cross == NULL || *prev == NULL || extra != NULL) {
		snprintf(err, errlen, "%s: not the cross certificate followed by "
		    "the previous identity certificate (two PEM certificates)",
		    path);
		X509_free(*cross);
		X509_free(*prev);
		X509_free(extra);
		*cross = *prev = NULL;
		return MOAT_ERR_CONFIG;
	}
	return 0;
}

int
mon_identity_rotation_load(struct mon_identity *id, const char *path,
    char *err, size_t errlen)
{
	X509 *cross, *prev;
	char why[256];
	time_t until;
	int *flag, r;

	if ((r = read_rotation_file(path, &cross, &prev, err, errlen)) != 0)
		return r == 1 ? 0 : r;
	if (mon_identity_rotation_check(id->cert, cross, prev, time(NULL), why,
	    sizeof(why)) != 0 ||
	    cert_time(X509_get0_notAfter(cross), &until) != 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		X509_free(cross);
		X509_free(prev);
		return MOAT_ERR_CONFIG;
	}
	/* Without the shared page an expiry is logged per connection. */
	flag = mmap(NULL, sizeof(*flag), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	X509_free(id->rot_cross);
	X509_free(id->rot_prev);
	if (id->rot_logged != NULL)
		munmap(id->rot_logged, sizeof(*id->rot_logged));
	id->rot_cross = cross;
	id->rot_prev = prev;
	id->rot_until = until;
	id->rot_logged = flag != MAP_FAILED ? flag : NULL;
	return 0;
}

int
mon_identity_rotation_describe(const struct mon_identity *id,
    struct catchphrase_id *prev, char *until, size_t untillen)
{
	EVP_PKEY *pub;
	int r;

	if (id->rot_cross == NULL || id->rot_prev == NULL)
		return MOAT_ERR_INVALID;
	if ((pub = X509_get0_pubkey(id->rot_prev)) == NULL)
		return MOAT_ERR_CRYPTO;
	if ((r = catchphrase_describe(pub, prev)) != 0)
		return r;
	return mon_identity_format_time(id->rot_until, until, untillen);
}

/*
 * Refuses (unless the caller forces) to replace a rotation whose overlap
 * still runs, or a rotation file that cannot be read.
 */
static int
check_previous_rotation(const char *path, char *err, size_t errlen)
{
	X509 *cross, *prev;
	char why[256], when[40];
	time_t now = time(NULL), until;
	int r;

	if ((r = read_rotation_file(path, &cross, &prev, why, sizeof(why))) == 1)
		return 0;
	if (r != 0) {
		snprintf(err, errlen, "%s; refusing to replace it without --force",
		    why);
		return MOAT_ERR_CONFIG;
	}
	r = 0;
	if (X509_cmp_time(X509_get0_notAfter(cross), &now) == 1) {
		if (cert_time(X509_get0_notAfter(cross), &until) != 0 ||
		    mon_identity_format_time(until, when, sizeof(when)) != 0)
			snprintf(when, sizeof(when), "?");
		snprintf(err, errlen, "%s: the overlap of the last rotation runs "
		    "until %s; rotating now would cut off viewers that know only "
		    "the key before the current one (use --force to rotate "
		    "anyway)", path, when);
		r = MOAT_ERR_CONFIG;
	}
	X509_free(cross);
	X509_free(prev);
	return r;
}

/*
 * Writes the PEM objects to a fresh temporary file beside path
 * ("PATH.new.XXXXXX", owner root, mode), flushed to disk; its name goes to
 * tmp. Returns 0 or MOAT_ERR_CONFIG with err filled (nothing left).
 */
static int
write_temp(const char *path, mode_t mode, EVP_PKEY *key, X509 *c1, X509 *c2,
    char *tmp, size_t tmplen, char *err, size_t errlen)
{
	int fd, n;

	n = snprintf(tmp, tmplen, "%s.new.XXXXXX", path);
	if (n < 0 || (size_t)n >= tmplen) {
		snprintf(err, errlen, "%s: path too long", path);
		tmp[0] = '\0';
		return MOAT_ERR_CONFIG;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: cannot create a temporary file "
		    "beside it: %s", path, strerror(errno));
		tmp[0] = '\0';
		return MOAT_ERR_CONFIG;
	}
	if (set_owner_mode(fd, mode) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		goto fail;
	}
	if (write_pem_fd(fd, key, c1, c2) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	tmp[0] = '\0';
	return MOAT_ERR_CONFIG;
}

/* fsyncs the directory that holds path. Returns 0 or -1 (errno). */
static int
sync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd, r;

	snprintf(copy, sizeof(copy), "%s", path);
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

int
mon_identity_rotate(const struct mon_identity *old, const char *key_path,
    const char *cert_path, const char *rot_path, long overlap, int force,
    struct mon_identity *new, char *err, size_t errlen)
{
	/* Rotation certificate first, key last: see docs/identity.md. */
	const char *dst[3] = { rot_path, cert_path, key_path };
	char tmp[3][PATH_MAX], until[40];
	struct catchphrase_id od, nd;
	X509 *cross = NULL;
	int i, r;

	memset(new, 0, sizeof(*new));
	for (i = 0; i < 3; i++)
		tmp[i][0] = '\0';
	if (old->key == NULL || old->cert == NULL) {
		snprintf(err, errlen, "rotating needs the current private key");
		return MOAT_ERR_CONFIG;
	}
	if (strcmp(key_path, cert_path) == 0 || strcmp(key_path, rot_path) == 0 ||
	    strcmp(cert_path, rot_path) == 0) {
		snprintf(err, errlen, "IdentityKey, IdentityCert and "
		    "IdentityRotationCert need three different files");
		return MOAT_ERR_CONFIG;
	}
	if (!force && (r = check_previous_rotation(rot_path, err, errlen)) != 0)
		return r;
	if ((r = generate_identity(new, err, errlen)) != 0)
		goto fail;
	r = MOAT_ERR_CRYPTO;
	if (mon_identity_cross(old, new, overlap, &cross) != 0 ||
	    cert_time(X509_get0_notAfter(cross), &new->rot_until) != 0 ||
	    (new->rot_prev = X509_dup(old->cert)) == NULL ||
	    catchphrase_describe(X509_get0_pubkey(old->cert), &od) != 0 ||
	    catchphrase_describe(new->key, &nd) != 0) {
		snprintf(err, errlen, "creating the cross certificate failed: %s",
		    ERR_reason_error_string(ERR_peek_last_error()));
		goto fail;
	}
	/* What moatd will check, checked before anything is replaced. */
	if (mon_identity_rotation_check(new->cert, cross, old->cert, time(NULL),
	    err, errlen) != 0)
		goto fail;
	r = MOAT_ERR_CONFIG;
	if (write_temp(rot_path, 0644, NULL, cross, old->cert, tmp[0],
	    sizeof(tmp[0]), err, errlen) != 0 ||
	    write_temp(cert_path, 0644, NULL, new->cert, NULL, tmp[1],
	    sizeof(tmp[1]), err, errlen) != 0 ||
	    write_temp(key_path, 0600, new->key, NULL, NULL, tmp[2],
	    sizeof(tmp[2]), err, errlen) != 0)
		goto fail;
	for (i = 0; i < 3; i++) {
		if (rename(tmp[i], dst[i]) != 0)
			break;
		tmp[i][0] = '\0';
	}
	if (i == 1 || i == 2) {
		/* Half done: say exactly what is where; keep the new key. */
		snprintf(err, errlen, "%s: cannot rename %s over it: %s. The "
		    "rotation is INCOMPLETE: %s is in place%s; the new %s is in "
		    "%s%s%s. Rename by hand before moatd restarts", dst[i],
		    tmp[i], strerror(errno), rot_path,
		    i == 2 ? " and so is the new certificate" : "",
		    i == 1 ? "certificate" : "key", tmp[i],
		    i == 1 ? ", the new key in " : "", i == 1 ? tmp[2] : "");
		new->rot_cross = cross;	/* freed below with *new */
		cross = NULL;
		mon_identity_free(new);
		return MOAT_ERR_CONFIG;
	}
	if (i == 0) {
		snprintf(err, errlen, "%s: cannot rename %s over it: %s", dst[0],
		    tmp[0], strerror(errno));
		goto fail;
	}
	for (i = 0; i < 3; i++)
		if (sync_dir_of(dst[i]) != 0) {
			snprintf(err, errlen, "%s: the rotation is in place, but "
			    "syncing its directory failed: %s", dst[i],
			    strerror(errno));
			new->rot_cross = cross;
			mon_identity_free(new);
			return MOAT_ERR_CONFIG;
		}
	new->rot_cross = cross;
	if (mon_identity_format_time(new->rot_until, until, sizeof(until)) != 0)
		snprintf(until, sizeof(until), "?");
	info_f("rotated the identity: key %s (catchphrase \"%s\") replaced by "
	    "key %s (catchphrase \"%s\") in %s and %s; the cross certificate "
	    "in %s vouches for it until %s", od.key_fp, od.words, nd.key_fp,
	    nd.words, key_path, cert_path, rot_path, until);
	return 0;
fail:
	for (i = 0; i < 3; i++)
		if (tmp[i][0] != '\0')
			unlink(tmp[i]);
	X509_free(cross);
	mon_identity_free(new);
	return r;
}

void
mon_identity_free(struct mon_identity *id)
{
	EVP_PKEY_free(id->key);
	X509_free(id->cert);
	X509_free(id->rot_cross);
	X509_free(id->rot_prev);
	if (id->rot_logged != NULL)
		munmap(id->rot_logged, sizeof(*id->rot_logged));
	memset(id, 0, sizeof(*id));
}
