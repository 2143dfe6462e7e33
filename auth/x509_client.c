/*
 * x509_client.c - verifies a viewer's X.509 client certificate chain and
 * maps its leaf to an account name: the Certificate factor's rules (see
 * x509_client.h and docs/certificates.md).
 *
 * Runs as root in the monitor (and in moatd and moatctl to check the
 * configuration). It trusts the CA and CRL files only after checking that
 * root owns them and every directory above them and that nobody else can
 * write any of them; their PEM text is still parsed strictly. It trusts
 * nothing about the chain: moat-net forwards the viewer's certificates
 * as they came and has checked nothing that matters, so every length is
 * bounded before parsing, every certificate must be exact DER, the whole
 * chain is verified here by OpenSSL against the configured CAs only, and
 * the mapped name is checked character by character.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "x509_client.h"

#define PATH_LEN_MAX	4096	/* bytes of a configured path */
#define QUOTE_MAX	96	/* bytes of untrusted input quoted in a reason */
#define NAME_VALUE_MAX	256	/* bytes in an e-mail address, UPN or CN looked at */
/* Intermediate CAs allowed between the leaf and the trust anchor. */
#define DEPTH_MAX	(X509_CLIENT_CHAIN_MAX - 1)
/* OpenSSL security level for every key and signature of the chain. */
#define AUTH_LEVEL	2

static int
say(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the message into buf (if any); returns 0. */
static int
say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* Escapes at most QUOTE_MAX bytes of untrusted p[0..n) into dst, marking a cut. */
static const char *
quote(char *dst, size_t dstlen, const void *p, size_t n)
{
	size_t cut = n > QUOTE_MAX ? QUOTE_MAX : n, l;

	log_escape(dst, dstlen, p, cut);
	if (cut < n && (l = strlen(dst)) + 4 <= dstlen)
		memcpy(dst + l, "...", 4);
	return dst;
}

/* A name as text (RFC 2253, escaped, cut), for messages and the result. */
static const char *
name_text(char *dst, size_t dstlen, const X509_NAME *name)
{
	BIO *b;
	char *p;
	long n;

	dst[0] = '\0';
	if (name == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return dst;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0)
		log_escape(dst, dstlen, p, (size_t)n);
	BIO_free(b);
	return dst;
}

const char *
x509_user_rule_name(enum x509_user_rule rule)
{
	switch (rule) {
	case X509_RULE_EMAIL:
		return "email";
	case X509_RULE_UPN:
		return "upn";
	case X509_RULE_CN:
		return "cn";
	}
	return "(invalid)";
}

/* --- configuration --- */

void
x509_client_config_init(struct x509_client_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rule = X509_RULE_EMAIL;
}

void
x509_client_config_free(struct x509_client_config *cfg)
{
	X509_STORE_free(cfg->store);
	x509_client_config_init(cfg);
}

static int
lerr(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes "PATH: message" (path escaped) into err; returns MOAT_ERR_CONFIG. */
static int
lerr(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	char epath[512], msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	quote(epath, sizeof(epath), path, strnlen(path, PATH_LEN_MAX));
	say(err, errlen, "%s: %s", epath, msg);
	return MOAT_ERR_CONFIG;
}

/* Root owns st and nobody else may write it (a sticky directory may be). */
static int
check_owner(const struct stat *st, const char *path, const char *what,
    int allow_sticky, char *err, size_t errlen)
{
	if (st->st_uid != 0)
		return lerr(err, errlen, path, "%s is owned by uid %u, not by "
		    "root", what, (unsigned)st->st_uid);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    !(allow_sticky && S_ISDIR(st->st_mode) &&
	    (st->st_mode & S_ISVTX) != 0))
		return lerr(err, errlen, path, "%s is writable by group or "
		    "others (mode %04o)", what, (unsigned)(st->st_mode & 07777));
	return 0;
}

/*
 * Reads the file at the absolute path into a fresh buffer (*textp, caller
 * frees), walking from / with O_NOFOLLOW and checking every directory and
 * the file itself, so nothing a non-root user could have written is read
 * (the same rules as config_load.c). Returns 0 or MOAT_ERR_CONFIG.
 */
static int
read_root_file(const char *path, const char *what, size_t max, char **textp,
    size_t *lenp, char *err, size_t errlen)
{
	char walked[PATH_LEN_MAX], comp[PATH_LEN_MAX];
	const char *p = path, *slash;
	struct stat st;
	char *text = NULL;
	size_t cap, got = 0, plen;
	ssize_t n;
	int fd, nfd, r;

	*textp = NULL;
	*lenp = 0;
	plen = strnlen(path, PATH_LEN_MAX);
	if (plen == 0 || plen >= PATH_LEN_MAX || path[0] != '/')
		return lerr(err, errlen, path, "the %s must be an absolute path",
		    what);
	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return lerr(err, errlen, "/", "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) == -1) {
		r = lerr(err, errlen, "/", "cannot stat: %s", strerror(errno));
		goto out;
	}
	if ((r = check_owner(&st, "/", "directory", 1, err, errlen)) != 0)
		goto out;
	for (;;) {
		size_t k;

		while (*p == '/')
			p++;
		if ((slash = strchr(p, '/')) == NULL)
			break;	/* p is the file's name */
		k = (size_t)(slash - p);
		memcpy(comp, p, k);
		comp[k] = '\0';
		memcpy(walked, path, (size_t)(slash - path));
		walked[slash - path] = '\0';
		p = slash;
		nfd = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = nfd;
		if (fd == -1)
			return lerr(err, errlen, walked, "cannot open: %s",
			    strerror(errno));
		if (fstat(fd, &st) == -1) {
			r = lerr(err, errlen, walked, "cannot stat: %s",
			    strerror(errno));
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			r = lerr(err, errlen, walked, "symbolic link in the path "
			    "of the %s", what);
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			r = lerr(err, errlen, walked, "not a directory");
			goto out;
		}
		if ((r = check_owner(&st, walked, "directory", 1, err,
		    errlen)) != 0)
			goto out;
	}
	if (*p == '\0') {
		r = lerr(err, errlen, path, "the %s path names a directory",
		    what);
		goto out;
	}
	/* O_NONBLOCK: a FIFO planted here must not hang moatd. */
	nfd = openat(fd, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY);
	close(fd);
	fd = nfd;
	if (fd == -1) {
		if (errno == ELOOP)
			return lerr(err, errlen, path, "the %s is a symbolic "
			    "link", what);
		return lerr(err, errlen, path, "cannot open the %s: %s", what,
		    strerror(errno));
	}
	if (fstat(fd, &st) == -1) {
		r = lerr(err, errlen, path, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = lerr(err, errlen, path, "the %s is not a regular file", what);
		goto out;
	}
	if ((r = check_owner(&st, path, what, 0, err, errlen)) != 0)
		goto out;
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		r = lerr(err, errlen, path, "the %s is larger than %zu bytes",
		    what, max);
		goto out;
	}
	/* One byte more than fstat promised, to notice a growing file. */
	cap = (size_t)st.st_size + 1;
	if ((text = malloc(cap)) == NULL) {
		r = MOAT_ERR_NOMEM;
		lerr(err, errlen, path, "out of memory");
		goto out;
	}
	while (got < cap) {
		n = read(fd, text + got, cap - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = lerr(err, errlen, path, "read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == cap) {
		r = lerr(err, errlen, path, "the %s changed while being read",
		    what);
		goto out;
	}
	*textp = text;
	*lenp = got;
	text = NULL;
	r = 0;
 out:
	free(text);
	if (fd != -1)
		close(fd);
	return r;
}

/* One PEM block's name, decoded bytes and length; *name "" at the end. */
struct pem_block {
	char *name, *header;
	unsigned char *data;
	long len;
};

static void
pem_block_free(struct pem_block *pb)
{
	OPENSSL_free(pb->name);
	OPENSSL_free(pb->header);
	OPENSSL_free(pb->data);
	memset(pb, 0, sizeof(*pb));
}

/*
 * Reads the next PEM block of b. Returns 1 with a block, 0 at the end of
 * the text, or -1 on malformed PEM (a block cut short, bad base64).
 */
static int
pem_next(BIO *b, struct pem_block *pb)
{
	unsigned long e;

	memset(pb, 0, sizeof(*pb));
	ERR_clear_error();
	if (PEM_read_bio(b, &pb->name, &pb->header, &pb->data, &pb->len) == 1)
		return 1;
	e = ERR_peek_last_error();
	ERR_clear_error();
	pem_block_free(pb);
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
		return 0;
	return -1;
}

/* Is x a CA certificate: basicConstraints CA:TRUE and sound extensions? */
static int
is_ca_cert(X509 *x)
{
	uint32_t f = X509_get_extension_flags(x);

	return (f & EXFLAG_CA) != 0 && (f & EXFLAG_INVALID) == 0;
}

/* Does x name itself as its issuer, with a matching key identifier? */
static int
is_self_issued(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

/* Parses the CA file's blocks into cas. Returns 0 or MOAT_ERR_CONFIG/NOMEM. */
static int
load_cas(STACK_OF(X509) *cas, const char *name, const void *pem, size_t len,
    char *err, size_t errlen)
{
	char subj[X509_CLIENT_TEXT_MAX], q[QUOTE_MAX * 4 + 8];
	struct pem_block pb;
	const unsigned char *p;
	size_t roots = 0;
	X509 *x;
	BIO *b;
	int k, r = MOAT_ERR_CONFIG;

	if (len > X509_CLIENT_CA_FILE_MAX)
		return lerr(err, errlen, name, "larger than %d bytes",
		    X509_CLIENT_CA_FILE_MAX);
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		lerr(err, errlen, name, "out of memory");
		return MOAT_ERR_NOMEM;
	}
	for (;;) {
		if ((k = pem_next(b, &pb)) == 0)
			break;
		if (k < 0) {
			lerr(err, errlen, name, "malformed PEM after certificate "
			    "%d", sk_X509_num(cas));
			goto out;
		}
		if (strcmp(pb.name, "CERTIFICATE") != 0 || pb.header[0] != '\0') {
			lerr(err, errlen, name, "block %d is a '%s' block; only "
			    "CERTIFICATE blocks (without headers) are allowed",
			    sk_X509_num(cas) + 1,
			    quote(q, sizeof(q), pb.name, strlen(pb.name)));
			pem_block_free(&pb);
			goto out;
		}
		if (sk_X509_num(cas) >= X509_CLIENT_CA_MAX) {
			lerr(err, errlen, name, "more than %d certificates",
			    X509_CLIENT_CA_MAX);
			pem_block_free(&pb);
			goto out;
		}
		p = pb.data;
		x = d2i_X509(NULL, &p, pb.len);
		if (x == NULL || p != pb.data + pb.len) {
			X509_free(x);
			lerr(err, errlen, name, "certificate %d cannot be parsed",
			    sk_X509_num(cas) + 1);
			pem_block_free(&pb);
			goto out;
		}
		pem_block_free(&pb);
		if (sk_X509_push(cas, x) <= 0) {
			X509_free(x);
			lerr(err, errlen, name, "out of memory");
			r = MOAT_ERR_NOMEM;
			goto out;
		}
		name_text(subj, sizeof(subj), X509_get_subject_name(x));
		if (!is_ca_cert(x)) {
			lerr(err, errlen, name, "certificate %d (%s) is not a CA "
			    "certificate (basicConstraints CA:TRUE is required)",
			    sk_X509_num(cas), subj);
			goto out;
		}
		if (is_self_issued(x)) {
			if (X509_self_signed(x, 1) != 1) {
				lerr(err, errlen, name, "certificate %d (%s) "
				    "names itself as its issuer but its "
				    "signature does not verify", sk_X509_num(cas),
				    subj);
				goto out;
			}
			roots++;
		}
	}
	if (sk_X509_num(cas) == 0) {
		lerr(err, errlen, name, "no certificate");
		goto out;
	}
	if (roots == 0) {
		lerr(err, errlen, name, "no self-signed CA certificate: every "
		    "chain must end in a root CA of this file");
		goto out;
	}
	r = 0;
 out:
	BIO_free(b);
	return r;
}

/* Parses the CRL file's blocks into crls and checks them against cas. */
static int
load_crls(STACK_OF(X509_CRL) *crls, const STACK_OF(X509) *cas,
    const char *name, const void *pem, size_t len, char *err, size_t errlen)
{
	char iss[X509_CLIENT_TEXT_MAX], q[QUOTE_MAX * 4 + 8];
	struct pem_block pb;
	const unsigned char *p;
	X509_CRL *crl;
	BIO *b;
	int i, j, k, named, signed_ok, r = MOAT_ERR_CONFIG;

	if (len > X509_CLIENT_CRL_FILE_MAX)
		return lerr(err, errlen, name, "larger than %d bytes",
		    X509_CLIENT_CRL_FILE_MAX);
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		lerr(err, errlen, name, "out of memory");
		return MOAT_ERR_NOMEM;
	}
	for (;;) {
		if ((k = pem_next(b, &pb)) == 0)
			break;
		if (k < 0) {
			lerr(err, errlen, name, "malformed PEM after CRL %d",
			    sk_X509_CRL_num(crls));
			goto out;
		}
		if (strcmp(pb.name, "X509 CRL") != 0 || pb.header[0] != '\0') {
			lerr(err, errlen, name, "block %d is a '%s' block; only "
			    "X509 CRL blocks (without headers) are allowed",
			    sk_X509_CRL_num(crls) + 1,
			    quote(q, sizeof(q), pb.name, strlen(pb.name)));
			pem_block_free(&pb);
			goto out;
		}
		if (sk_X509_CRL_num(crls) >= X509_CLIENT_CRL_MAX) {
			lerr(err, errlen, name, "more than %d CRLs",
			    X509_CLIENT_CRL_MAX);
			pem_block_free(&pb);
			goto out;
		}
		p = pb.data;
		crl = d2i_X509_CRL(NULL, &p, pb.len);
		if (crl == NULL || p != pb.data + pb.len) {
			X509_CRL_free(crl);
			lerr(err, errlen, name, "CRL %d cannot be parsed",
			    sk_X509_CRL_num(crls) + 1);
			pem_block_free(&pb);
			goto out;
		}
		pem_block_free(&pb);
		if (sk_X509_CRL_push(crls, crl) <= 0) {
			X509_CRL_free(crl);
			lerr(err, errlen, name, "out of memory");
			r = MOAT_ERR_NOMEM;
			goto out;
		}
		k = sk_X509_CRL_num(crls);
		name_text(iss, sizeof(iss), X509_CRL_get_issuer(crl));
		if (X509_CRL_get0_nextUpdate(crl) == NULL) {
			lerr(err, errlen, name, "CRL %d (issuer %s) has no "
			    "nextUpdate, so it could never be known to be "
			    "out of date", k, iss);
			goto out;
		}
		if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0) {
			lerr(err, errlen, name, "CRL %d (issuer %s) is a delta "
			    "CRL; only complete CRLs are supported", k, iss);
			goto out;
		}
		/* A CRL of a CA in the CA file must carry that CA's signature. */
		named = signed_ok = 0;
		for (i = 0; i < sk_X509_num(cas); i++) {
			X509 *ca = sk_X509_value(cas, i);

			if (X509_NAME_cmp(X509_get_subject_name(ca),
			    X509_CRL_get_issuer(crl)) != 0)
				continue;
			named = 1;
			if (X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
				signed_ok = 1;
		}
		ERR_clear_error();
		if (named && !signed_ok) {
			lerr(err, errlen, name, "CRL %d (issuer %s) is not signed "
			    "by the CA of that name in the CA file", k, iss);
			goto out;
		}
	}
	if (sk_X509_CRL_num(crls) == 0) {
		lerr(err, errlen, name, "no CRL");
		goto out;
	}
	/* Every CA of the CA file needs its CRL, or no chain could pass. */
	for (i = 0; i < sk_X509_num(cas); i++) {
		X509 *ca = sk_X509_value(cas, i);

		for (j = 0; j < sk_X509_CRL_num(crls); j++)
			if (X509_NAME_cmp(X509_get_subject_name(ca),
			    X509_CRL_get_issuer(sk_X509_CRL_value(crls, j))) == 0)
				break;
		if (j == sk_X509_CRL_num(crls)) {
			lerr(err, errlen, name, "no CRL issued by CA %s of the "
			    "CA file; with a CRL file, every CA needs its CRL",
			    name_text(iss, sizeof(iss), X509_get_subject_name(ca)));
			goto out;
		}
	}
	r = 0;
 out:
	BIO_free(b);
	return r;
}

/* A DNS name (RFC 1123 host name), 1..253 bytes. */
static int
valid_domain(const char *p, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > X509_CLIENT_DOMAIN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '.') {
			if (label == 0 || p[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
		if ((ch == '-' && label == 0) || ++label > 63)
			return 0;
	}
	return label > 0 && p[n - 1] != '-';
}

int
x509_client_config_load_mem(struct x509_client_config *cfg,
    const char *ca_name, const void *ca_pem, size_t ca_len,
    const char *crl_name, const void *crl_pem, size_t crl_len,
    enum x509_user_rule rule, const char *domain, char *err, size_t errlen)
{
	STACK_OF(X509) *cas = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	X509_STORE *store = NULL;
	char q[QUOTE_MAX * 4 + 8];
	size_t dlen;
	int i, r = MOAT_ERR_CONFIG;

	say(err, errlen, "%s", "");
	x509_client_config_free(cfg);
	if (ca_name == NULL)
		ca_name = "(CA file)";
	if (crl_name == NULL)
		crl_name = "(CRL file)";
	if (rule != X509_RULE_EMAIL && rule != X509_RULE_UPN &&
	    rule != X509_RULE_CN) {
		say(err, errlen, "CertificateUserRule: unknown rule %d; allowed: "
		    "email, upn, cn", (int)rule);
		return MOAT_ERR_CONFIG;
	}
	dlen = domain == NULL ? 0 : strnlen(domain, X509_CLIENT_DOMAIN_MAX + 1);
	if (dlen > 0 && rule == X509_RULE_CN) {
		say(err, errlen, "CertificateUserDomain applies to the email and "
		    "upn rules only, not to cn");
		return MOAT_ERR_CONFIG;
	}
	if (dlen > 0 && !valid_domain(domain, dlen)) {
		say(err, errlen, "CertificateUserDomain: '%s' is not a DNS name",
		    quote(q, sizeof(q), domain, dlen));
		return MOAT_ERR_CONFIG;
	}
	if (ca_pem == NULL) {
		say(err, errlen, "no CA certificates");
		return MOAT_ERR_CONFIG;
	}
	if ((cas = sk_X509_new_null()) == NULL ||
	    (crls = sk_X509_CRL_new_null()) == NULL ||
	    (store = X509_STORE_new()) == NULL) {
		say(err, errlen, "out of memory");
		r = MOAT_ERR_NOMEM;
		goto out;
	}
	if ((r = load_cas(cas, ca_name, ca_pem, ca_len, err, errlen)) != 0)
		goto out;
	if (crl_pem != NULL && (r = load_crls(crls, cas, crl_name, crl_pem,
	    crl_len, err, errlen)) != 0)
		goto out;
	for (i = 0; i < sk_X509_num(cas); i++) {
		if (X509_STORE_add_cert(store, sk_X509_value(cas, i)) != 1) {
			say(err, errlen, "cannot add CA certificate %d", i + 1);
			r = MOAT_ERR_CRYPTO;
			goto out;
		}
	}
	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		if (X509_STORE_add_crl(store, sk_X509_CRL_value(crls, i)) != 1) {
			say(err, errlen, "cannot add CRL %d", i + 1);
			r = MOAT_ERR_CRYPTO;
			goto out;
		}
	}
	cfg->store = store;
	store = NULL;
	cfg->ncas = (size_t)sk_X509_num(cas);
	cfg->ncrls = (size_t)sk_X509_CRL_num(crls);
	cfg->rule = rule;
	if (dlen > 0)
		memcpy(cfg->domain, domain, dlen + 1);
	r = 0;
 out:
	ERR_clear_error();
	X509_STORE_free(store);
	sk_X509_pop_free(cas, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return r;
}

int
x509_client_config_load(struct x509_client_config *cfg, const char *ca_file,
    const char *crl_file, enum x509_user_rule rule, const char *domain,
    char *err, size_t errlen)
{
	char *ca = NULL, *crl = NULL;
	size_t calen = 0, crllen = 0;
	int r;

	x509_client_config_free(cfg);
	if (ca_file == NULL || ca_file[0] == '\0') {
		say(err, errlen, "CertificateCaFile is not set");
		return MOAT_ERR_CONFIG;
	}
	if ((r = read_root_file(ca_file, "CA file", X509_CLIENT_CA_FILE_MAX,
	    &ca, &calen, err, errlen)) != 0)
		goto out;
	if (crl_file != NULL && crl_file[0] != '\0' &&
	    (r = read_root_file(crl_file, "CRL file", X509_CLIENT_CRL_FILE_MAX,
	    &crl, &crllen, err, errlen)) != 0)
		goto out;
	r = x509_client_config_load_mem(cfg, ca_file, ca, calen, crl_file,
	    crl, crllen, rule, domain, err, errlen);
 out:
	free(ca);
	free(crl);
	return r;
}

/* --- the chain framing --- */

int
x509_client_chain_split(const uint8_t *blob, size_t len,
    struct x509_client_chain *chain)
{
	struct buf b;
	const uint8_t *p;
	size_t n;
	int r;

	memset(chain, 0, sizeof(*chain));
	if (blob == NULL || len == 0)
		return MOAT_ERR_INVALID;
	if (len > X509_CLIENT_BLOB_MAX)
		return MOAT_ERR_TOO_LONG;
	buf_view(&b, blob, len);
	while (buf_len(&b) > 0) {
		if (chain->n == X509_CLIENT_CHAIN_MAX) {
			r = MOAT_ERR_TOO_LONG;
			goto fail;
		}
		if ((r = buf_get_string_direct(&b, &p, &n,
		    X509_CLIENT_CERT_MAX)) != 0)
			goto fail;
		if (n == 0) {
			r = MOAT_ERR_INVALID;
			goto fail;
		}
		chain->der[chain->n] = p;
		chain->len[chain->n] = n;
		chain->n++;
	}
	if ((r = buf_expect_end(&b)) != 0)
		goto fail;
	return 0;
 fail:
	memset(chain, 0, sizeof(*chain));
	return r;
}

/* --- mapping --- */

/*
 * Is p[0..n) an account name this factor may yield: 1..X509_CLIENT_USER_MAX
 * letters, digits, '.', '_', '-', not starting with '-', not all digits
 * (tools take those for uids), not "." or ".."?
 */
static int
valid_user(const char *p, size_t n)
{
	size_t i, digits = 0, dots = 0;

	if (n == 0 || n > X509_CLIENT_USER_MAX || p[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch >= '0' && ch <= '9')
			digits++;
		else if (ch == '.')
			dots++;
		else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    ch == '_' || ch == '-'))
			return 0;
	}
	return digits != n && !(dots == n && n <= 2);
}

/* Printable ASCII without blanks (0x21..0x7e) only? */
static int
graphic_ascii(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return 0;
	return 1;
}

static int
ascii_caseeq(const char *a, size_t n, const char *b)
{
	size_t i;

	if (strlen(b) != n)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return 1;
}

/*
 * Takes the account from an address "LOCAL@DOMAIN" (an rfc822Name or a
 * UPN; what names it in messages): exactly one '@', both parts non-empty,
 * graphic ASCII only, DOMAIN equal to domain (ASCII case-insensitively)
 * when one is configured, LOCAL a valid account name. Returns 0 or
 * MOAT_ERR_AUTH with why set.
 */
static int
map_address(const unsigned char *v, size_t n, const char *what,
    const char *domain, char *user, size_t userlen, char *why, size_t whylen)
{
	char q[QUOTE_MAX * 4 + 8], qd[QUOTE_MAX * 4 + 8];
	const unsigned char *at;
	size_t local;

	if (n == 0 || n > NAME_VALUE_MAX) {
		say(why, whylen, "the %s is empty or longer than %d bytes", what,
		    NAME_VALUE_MAX);
		return MOAT_ERR_AUTH;
	}
	quote(q, sizeof(q), v, n);
	if (!graphic_ascii(v, n)) {
		say(why, whylen, "the %s '%s' holds bytes other than printable "
		    "ASCII", what, q);
		return MOAT_ERR_AUTH;
	}
	if ((at = memchr(v, '@', n)) == NULL ||
	    memchr(at + 1, '@', n - (size_t)(at - v) - 1) != NULL) {
		say(why, whylen, "the %s '%s' does not hold exactly one '@'",
		    what, q);
		return MOAT_ERR_AUTH;
	}
	local = (size_t)(at - v);
	if (local == 0 || local + 1 == n) {
		say(why, whylen, "the %s '%s' has an empty part before or after "
		    "'@'", what, q);
		return MOAT_ERR_AUTH;
	}
	if (domain != NULL && domain[0] != '\0' &&
	    !ascii_caseeq((const char *)at + 1, n - local - 1, domain)) {
		say(why, whylen, "the %s '%s' is not in the domain '%s' "
		    "(CertificateUserDomain)", what, q,
		    quote(qd, sizeof(qd), domain, strlen(domain)));
		return MOAT_ERR_AUTH;
	}
	if (!valid_user((const char *)v, local)) {
		say(why, whylen, "the %s '%s' does not start with a valid "
		    "account name", what, q);
		return MOAT_ERR_AUTH;
	}
	if (local >= userlen) {
		say(why, whylen, "internal error: user buffer too small");
		return MOAT_ERR_AUTH;
	}
	memcpy(user, v, local);
	user[local] = '\0';
	return 0;
}

/* The rfc822Name (email) or UPN otherName (upn) of the subjectAltName. */
static int
map_san(X509 *leaf, enum x509_user_rule rule, const char *domain,
    char *user, size_t userlen, char *why, size_t whylen)
{
	const char *what = rule == X509_RULE_EMAIL ? "e-mail address" : "UPN";
	const char *whats = rule == X509_RULE_EMAIL ? "e-mail addresses" :
	    "UPNs";
	GENERAL_NAMES *gens;
	const ASN1_STRING *val = NULL;
	int crit = 0, i, count = 0, r;

	gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL) {
		ERR_clear_error();
		if (crit == -1)
			say(why, whylen, "no subjectAltName, so no %s", what);
		else if (crit == -2)
			say(why, whylen, "more than one subjectAltName extension");
		else
			say(why, whylen, "the subjectAltName cannot be parsed");
		return MOAT_ERR_AUTH;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (rule == X509_RULE_EMAIL && g->type == GEN_EMAIL) {
			val = g->d.rfc822Name;
			count++;
		} else if (rule == X509_RULE_UPN && g->type == GEN_OTHERNAME &&
		    OBJ_obj2nid(g->d.otherName->type_id) == NID_ms_upn) {
			const ASN1_TYPE *t = g->d.otherName->value;

			count++;
			if (t == NULL || t->type != V_ASN1_UTF8STRING) {
				say(why, whylen, "a UPN in the subjectAltName is "
				    "not a UTF8String");
				r = MOAT_ERR_AUTH;
				goto out;
			}
			val = t->value.utf8string;
		}
	}
	if (count == 0) {
		say(why, whylen, "no %s in the subjectAltName", what);
		r = MOAT_ERR_AUTH;
		goto out;
	}
	if (count > 1) {
		say(why, whylen, "%d %s in the subjectAltName; exactly one is "
		    "required", count, whats);
		r = MOAT_ERR_AUTH;
		goto out;
	}
	r = map_address(ASN1_STRING_get0_data(val),
	    (size_t)ASN1_STRING_length(val), what, domain, user, userlen, why,
	    whylen);
 out:
	GENERAL_NAMES_free(gens);
	return r;
}

/* The one commonName of the subject, taken as it is. */
static int
map_cn(X509 *leaf, char *user, size_t userlen, char *why, size_t whylen)
{
	const X509_NAME *subj = X509_get_subject_name(leaf);
	char q[QUOTE_MAX * 4 + 8];
	unsigned char *utf8 = NULL;
	int i, n;

	if ((i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) < 0) {
		say(why, whylen, "no commonName in the subject");
		return MOAT_ERR_AUTH;
	}
	if (X509_NAME_get_index_by_NID(subj, NID_commonName, i) >= 0) {
		say(why, whylen, "more than one commonName in the subject");
		return MOAT_ERR_AUTH;
	}
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(subj, i)));
	if (n < 0) {
		ERR_clear_error();
		say(why, whylen, "the commonName cannot be decoded");
		return MOAT_ERR_AUTH;
	}
	if (!valid_user((const char *)utf8, (size_t)n) ||
	    (size_t)n >= userlen) {
		say(why, whylen, "the commonName '%s' is not a valid account "
		    "name", quote(q, sizeof(q), utf8, (size_t)n));
		OPENSSL_free(utf8);
		return MOAT_ERR_AUTH;
	}
	memcpy(user, utf8, (size_t)n);
	user[n] = '\0';
	OPENSSL_free(utf8);
	return 0;
}

int
x509_client_map_user(X509 *leaf, enum x509_user_rule rule, const char *domain,
    char *user, size_t userlen, char *why, size_t whylen)
{
	int r;

	say(why, whylen, "%s", "");
	if (userlen == 0)
		return MOAT_ERR_AUTH;
	user[0] = '\0';
	if (leaf == NULL) {
		say(why, whylen, "no certificate");
		return MOAT_ERR_AUTH;
	}
	switch (rule) {
	case X509_RULE_EMAIL:
	case X509_RULE_UPN:
		r = map_san(leaf, rule, domain, user, userlen, why, whylen);
		break;
	case X509_RULE_CN:
		r = map_cn(leaf, user, userlen, why, whylen);
		break;
	default:
		say(why, whylen, "unknown mapping rule %d", (int)rule);
		r = MOAT_ERR_AUTH;
		break;
	}
	if (r != 0)
		user[0] = '\0';
	return r;
}

/* --- verification --- */

/* Fills the audit fields of res from the leaf as it was sent. */
static void
describe_leaf(X509 *leaf, const uint8_t *der, size_t len,
    struct x509_client_result *res)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	BIGNUM *bn;
	char *s;

	name_text(res->subject, sizeof(res->subject),
	    X509_get_subject_name(leaf));
	name_text(res->issuer, sizeof(res->issuer), X509_get_issuer_name(leaf));
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL)) !=
	    NULL && (s = BN_bn2hex(bn)) != NULL) {
		log_escape(res->serial, sizeof(res->serial), s, strlen(s));
		OPENSSL_free(s);
	}
	BN_free(bn);
	if (EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == 32) {
		for (i = 0; i < mdlen; i++) {
			res->sha256[2 * i] = hex[md[i] >> 4];
			res->sha256[2 * i + 1] = hex[md[i] & 15];
		}
		res->sha256[2 * mdlen] = '\0';
	}
	ERR_clear_error();
}

/* Parses one exact-DER certificate; NULL if it is not one. */
static X509 *
parse_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	unsigned char *enc = NULL;
	X509 *x;
	int n;

	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return NULL;
	/* Nothing after it, and re-encoding gives the same bytes (DER). */
	if (p != der + len || (n = i2d_X509(x, &enc)) < 0 ||
	    (size_t)n != len || memcmp(enc, der, len) != 0) {
		OPENSSL_free(enc);
		X509_free(x);
		return NULL;
	}
	OPENSSL_free(enc);
	return x;
}

int
x509_client_verify(const struct x509_client_config *cfg,
    const uint8_t *const *der, const size_t *derlen, size_t n, time_t now,
    struct x509_client_result *res)
{
	char subj[X509_CLIENT_TEXT_MAX], user[X509_CLIENT_USER_MAX + 1];
	X509 *certs[X509_CLIENT_CHAIN_MAX];
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	unsigned long flags;
	size_t i, parsed = 0;
	int r = MOAT_ERR_AUTH, ok, e;

	memset(res, 0, sizeof(*res));
	if (cfg == NULL || cfg->store == NULL) {
		say(res->why, sizeof(res->why), "the Certificate factor is not "
		    "configured");
		return MOAT_ERR_CONFIG;
	}
	/* 1. The framing: counts and sizes, before any parsing. */
	if (n == 0 || der == NULL || derlen == NULL) {
		say(res->why, sizeof(res->why), "no client certificate");
		return MOAT_ERR_AUTH;
	}
	if (n > X509_CLIENT_CHAIN_MAX) {
		say(res->why, sizeof(res->why), "a chain of %zu certificates; "
		    "at most %d are accepted", n, X509_CLIENT_CHAIN_MAX);
		return MOAT_ERR_AUTH;
	}
	for (i = 0; i < n; i++) {
		if (der[i] == NULL || derlen[i] == 0 ||
		    derlen[i] > X509_CLIENT_CERT_MAX) {
			say(res->why, sizeof(res->why), "certificate %zu of the "
			    "chain is empty or larger than %d bytes", i,
			    X509_CLIENT_CERT_MAX);
			return MOAT_ERR_AUTH;
		}
	}
	/* 2. Each certificate is exactly one DER certificate. */
	for (parsed = 0; parsed < n; parsed++) {
		if ((certs[parsed] = parse_der(der[parsed], derlen[parsed])) ==
		    NULL) {
			ERR_clear_error();
			say(res->why, sizeof(res->why), "certificate %zu of the "
			    "chain is not a DER X.509 certificate", parsed);
			goto out;
		}
		if (parsed == 0)
			describe_leaf(certs[0], der[0], derlen[0], res);
	}
	/* 3. The leaf is an end entity. */
	if ((X509_get_extension_flags(certs[0]) & EXFLAG_CA) != 0) {
		say(res->why, sizeof(res->why), "the client certificate is a CA "
		    "certificate");
		goto out;
	}
	/* 4. The chain, by OpenSSL, against the configured CAs only. */
	if ((untrusted = sk_X509_new_null()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL) {
		r = MOAT_ERR_NOMEM;
		say(res->why, sizeof(res->why), "out of memory");
		goto out;
	}
	for (i = 1; i < n; i++) {
		if (sk_X509_push(untrusted, certs[i]) <= 0) {
			r = MOAT_ERR_NOMEM;
			say(res->why, sizeof(res->why), "out of memory");
			goto out;
		}
	}
	if (X509_STORE_CTX_init(ctx, cfg->store, certs[0], untrusted) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1) {
		r = MOAT_ERR_CRYPTO;
		say(res->why, sizeof(res->why), "cannot set up verification");
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, now);
	X509_VERIFY_PARAM_set_depth(param, DEPTH_MAX);
	X509_VERIFY_PARAM_set_auth_level(param, AUTH_LEVEL);
	flags = X509_V_FLAG_X509_STRICT | X509_V_FLAG_CHECK_SS_SIGNATURE;
	if (cfg->ncrls > 0)
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	if (X509_VERIFY_PARAM_set_flags(param, flags) != 1) {
		r = MOAT_ERR_CRYPTO;
		say(res->why, sizeof(res->why), "cannot set up verification");
		goto out;
	}
	ok = X509_verify_cert(ctx);
	if (ok != 1) {
		X509 *at = X509_STORE_CTX_get_current_cert(ctx);

		e = X509_STORE_CTX_get_error(ctx);
		if (e == X509_V_ERR_OUT_OF_MEM)
			r = MOAT_ERR_NOMEM;
		name_text(subj, sizeof(subj),
		    at != NULL ? X509_get_subject_name(at) : NULL);
		say(res->why, sizeof(res->why), "chain refused at depth %d "
		    "(%s): %s", X509_STORE_CTX_get_error_depth(ctx),
		    subj[0] != '\0' ? subj : "?",
		    e != X509_V_OK ? X509_verify_cert_error_string(e) :
		    "verification failed");
		goto out;
	}
	/* 5. The account, by the configured rule. */
	if ((r = x509_client_map_user(certs[0], cfg->rule, cfg->domain, user,
	    sizeof(user), res->why, sizeof(res->why))) != 0)
		goto out;
	memcpy(res->user, user, sizeof(user));
	r = 0;
 out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);	/* the certificates are freed below */
	for (i = 0; i < parsed; i++)
		X509_free(certs[i]);
	if (r != 0)
		res->user[0] = '\0';
	return r;
}
