/*
 * vault.c - moat-viewer's password vault (format in vault.h): PBKDF2 key
 * derivation, AES-GCM sealing of each entry with the header as AAD,
 * bounded parsing, atomic saving. Runs in moat-viewer; the file on disk is
 * untrusted input (every count and length is bounded before use, nothing
 * is returned unless every tag checked out), and decrypted passwords are
 * wiped with OPENSSL_cleanse when freed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "privsep/errors.h"
#include "viewer/atomic.h"
#include "viewer/vault.h"
#include "viewer/viewer.h"

static const char check_label[] = "check";

static size_t
key_len(const struct vault_hdr *h)
{
	return h->cipher == VAULT_AES256_GCM ? 32 : 16;
}

static const EVP_CIPHER *
cipher_of(const struct vault_hdr *h)
{
	return h->cipher == VAULT_AES256_GCM ? EVP_aes_256_gcm() :
	    EVP_aes_128_gcm();
}

int
vault_parse_header(const uint8_t *d, size_t len, struct vault_hdr *h)
{
	struct buf b;
	uint8_t magic[8], ver;

	if (len < VAULT_HDR_LEN)
		return MOAT_ERR_SHORT;
	buf_view(&b, d, VAULT_HDR_LEN);
	if (buf_get_bytes(&b, magic, 8) != 0 || buf_get_u8(&b, &ver) != 0 ||
	    buf_get_u8(&b, &h->cipher) != 0 || buf_get_u32(&b, &h->iter) != 0 ||
	    buf_get_bytes(&b, h->salt, VAULT_SALT_LEN) != 0 ||
	    buf_get_u32(&b, &h->count) != 0)
		return MOAT_ERR_SHORT;
	if (memcmp(magic, VAULT_MAGIC, 8) != 0 || ver != VAULT_VERSION ||
	    (h->cipher != VAULT_AES128_GCM && h->cipher != VAULT_AES256_GCM) ||
	    h->iter < VAULT_MIN_ITER || h->iter > VAULT_MAX_ITER ||
	    h->count > VAULT_MAX_ENTRIES)
		return MOAT_ERR_INVALID;
	memcpy(h->raw, d, VAULT_HDR_LEN);
	return 0;
}

static void
write_header(struct vault_hdr *h)
{
	uint8_t *p = h->raw;

	memcpy(p, VAULT_MAGIC, 8);
	p[8] = VAULT_VERSION;
	p[9] = h->cipher;
	p[10] = (uint8_t)(h->iter >> 24);
	p[11] = (uint8_t)(h->iter >> 16);
	p[12] = (uint8_t)(h->iter >> 8);
	p[13] = (uint8_t)h->iter;
	memcpy(p + 14, h->salt, VAULT_SALT_LEN);
	p += 14 + VAULT_SALT_LEN;
	p[0] = (uint8_t)(h->count >> 24);
	p[1] = (uint8_t)(h->count >> 16);
	p[2] = (uint8_t)(h->count >> 8);
	p[3] = (uint8_t)h->count;
}

int
vault_derive_key(const char *master, const struct vault_hdr *h,
    uint8_t key[32])
{
	if (PKCS5_PBKDF2_HMAC(master, (int)strlen(master), h->salt,
	    VAULT_SALT_LEN, (int)h->iter, EVP_sha256(), (int)key_len(h),
	    key) != 1)
		return MOAT_ERR_CRYPTO;
	return 0;
}

/*
 * AES-GCM over in (len bytes) into out, AAD = header || extra. seal: tag
 * written; open: tag checked, MOAT_ERR_CRYPTO when it does not match.
 */
static int
gcm(const struct vault_hdr *h, const uint8_t *key, int seal,
    const uint8_t nonce[VAULT_NONCE_LEN], const uint8_t *extra, size_t elen,
    const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[VAULT_TAG_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n, ok;

	ok = c != NULL &&
	    EVP_CipherInit_ex(c, cipher_of(h), NULL, NULL, NULL, seal) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, VAULT_NONCE_LEN,
	    NULL) == 1 &&
	    EVP_CipherInit_ex(c, NULL, NULL, key, nonce, seal) == 1 &&
	    EVP_CipherUpdate(c, NULL, &n, h->raw, VAULT_HDR_LEN) == 1 &&
	    EVP_CipherUpdate(c, NULL, &n, extra, (int)elen) == 1 &&
	    (len == 0 || EVP_CipherUpdate(c, out, &n, in, (int)len) == 1) &&
	    (seal || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG,
	    VAULT_TAG_LEN, tag) == 1) &&
	    EVP_CipherFinal_ex(c, out + len, &n) == 1 &&
	    (!seal || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG,
	    VAULT_TAG_LEN, tag) == 1);
	EVP_CIPHER_CTX_free(c);
	if (!ok && !seal && len > 0)
		OPENSSL_cleanse(out, len);
	return ok ? 0 : MOAT_ERR_CRYPTO;
}

static void
index_bytes(uint32_t i, uint8_t b[4])
{
	b[0] = (uint8_t)(i >> 24);
	b[1] = (uint8_t)(i >> 16);
	b[2] = (uint8_t)(i >> 8);
	b[3] = (uint8_t)i;
}

/* Parses one entry's plaintext into e. */
static int
parse_entry(const uint8_t *pt, size_t len, struct vault_entry *e)
{
	const uint8_t *p;
	struct buf b;
	uint16_t hl;
	uint8_t ul, pl;

	buf_view(&b, pt, len);
	if (buf_get_u16(&b, &hl) != 0 || hl == 0 || hl > VAULT_MAX_HOSTPORT ||
	    buf_peek(&b, hl, &p) != 0)
		return MOAT_ERR_INVALID;
	memcpy(e->hostport, p, hl);
	e->hostport[hl] = '\0';
	if (buf_consume(&b, hl) != 0 || buf_get_u8(&b, &ul) != 0 ||
	    buf_get_bytes(&b, e->user, ul) != 0)
		return MOAT_ERR_INVALID;
	e->user[ul] = '\0';
	if (buf_get_u8(&b, &pl) != 0 || buf_get_bytes(&b, e->pass, pl) != 0 ||
	    buf_expect_end(&b) != 0)
		return MOAT_ERR_INVALID;
	e->pass[pl] = '\0';
	if (strlen(e->hostport) != hl || strlen(e->user) != ul ||
	    strlen(e->pass) != pl)
		return MOAT_ERR_INVALID;
	return 0;
}

void
vault_free(struct vault *v)
{
	if (v->e != NULL) {
		OPENSSL_cleanse(v->e, v->n * sizeof(*v->e));
		free(v->e);
	}
	OPENSSL_cleanse(v->key, sizeof(v->key));
	v->e = NULL;
	v->n = 0;
}

int
vault_open(const uint8_t *d, size_t len, const uint8_t key[32],
    struct vault *v)
{
	uint8_t nonce[VAULT_NONCE_LEN], tag[VAULT_TAG_LEN], ib[4];
	uint8_t pt[VAULT_MAX_PT];
	const uint8_t *ct;
	struct buf b;
	uint32_t i, clen;
	int r;

	memset(v, 0, sizeof(*v));
	if (len > VAULT_MAX_FILE)
		return MOAT_ERR_TOO_LONG;
	if ((r = vault_parse_header(d, len, &v->hdr)) != 0)
		return r;
	memcpy(v->key, key, key_len(&v->hdr));
	buf_view(&b, d + VAULT_HDR_LEN, len - VAULT_HDR_LEN);
	if (buf_get_bytes(&b, nonce, VAULT_NONCE_LEN) != 0 ||
	    buf_get_bytes(&b, tag, VAULT_TAG_LEN) != 0) {
		r = MOAT_ERR_SHORT;
		goto fail;
	}
	if (gcm(&v->hdr, v->key, 0, nonce, (const uint8_t *)check_label,
	    strlen(check_label), NULL, 0, pt, tag) != 0) {
		r = MOAT_ERR_AUTH;
		goto fail;
	}
	if (v->hdr.count > 0 &&
	    (v->e = calloc(v->hdr.count, sizeof(*v->e))) == NULL) {
		r = MOAT_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < v->hdr.count; i++) {
		if (buf_get_bytes(&b, nonce, VAULT_NONCE_LEN) != 0 ||
		    buf_get_u32(&b, &clen) != 0) {
			r = MOAT_ERR_SHORT;
			goto fail;
		}
		if (clen > VAULT_MAX_PT) {
			r = MOAT_ERR_TOO_LONG;
			goto fail;
		}
		if (buf_peek(&b, clen, &ct) != 0 ||
		    buf_consume(&b, clen) != 0 ||
		    buf_get_bytes(&b, tag, VAULT_TAG_LEN) != 0) {
			r = MOAT_ERR_SHORT;
			goto fail;
		}
		index_bytes(i, ib);
		if (gcm(&v->hdr, v->key, 0, nonce, ib, 4, ct, clen, pt,
		    tag) != 0) {
			r = MOAT_ERR_CRYPTO;
			goto fail;
		}
		r = parse_entry(pt, clen, &v->e[i]);
		OPENSSL_cleanse(pt, sizeof(pt));
		/* v->n == i: a duplicate of an earlier entry is refused. */
		if (r != 0 || vault_find(v, v->e[i].hostport) != NULL) {
			r = MOAT_ERR_INVALID;
			goto fail;
		}
		v->n = i + 1;
	}
	if ((r = buf_expect_end(&b)) != 0)
		goto fail;
	return 0;
fail:
	v->n = v->hdr.count;
	vault_free(v);
	return r;
}

int
vault_create(struct vault *v, const char *master, int aes256)
{
	memset(v, 0, sizeof(*v));
	v->hdr.cipher = aes256 ? VAULT_AES256_GCM : VAULT_AES128_GCM;
	v->hdr.iter = VAULT_MIN_ITER;
	if (RAND_bytes(v->hdr.salt, VAULT_SALT_LEN) != 1)
		return MOAT_ERR_CRYPTO;
	write_header(&v->hdr);
	return vault_derive_key(master, &v->hdr, v->key);
}

int
vault_seal(const struct vault *v, struct buf *out)
{
	uint8_t nonce[VAULT_NONCE_LEN], tag[VAULT_TAG_LEN], ib[4];
	uint8_t pt[VAULT_MAX_PT], ct[VAULT_MAX_PT];
	struct vault_hdr h = v->hdr;
	struct buf p;
	size_t i;
	int r;

	h.count = (uint32_t)v->n;
	write_header(&h);
	if ((r = buf_put_bytes(out, h.raw, VAULT_HDR_LEN)) != 0)
		return r;
	if (RAND_bytes(nonce, VAULT_NONCE_LEN) != 1 ||
	    gcm(&h, v->key, 1, nonce, (const uint8_t *)check_label,
	    strlen(check_label), NULL, 0, ct, tag) != 0)
		return MOAT_ERR_CRYPTO;
	if ((r = buf_put_bytes(out, nonce, VAULT_NONCE_LEN)) != 0 ||
	    (r = buf_put_bytes(out, tag, VAULT_TAG_LEN)) != 0)
		return r;
	for (i = 0; i < v->n; i++) {
		buf_init_fixed(&p, pt, sizeof(pt));
		if ((r = buf_put_u16(&p, (uint16_t)strlen(v->e[i].hostport))) != 0 ||
		    (r = buf_put_bytes(&p, v->e[i].hostport,
		    strlen(v->e[i].hostport))) != 0 ||
		    (r = buf_put_u8(&p, (uint8_t)strlen(v->e[i].user))) != 0 ||
		    (r = buf_put_bytes(&p, v->e[i].user,
		    strlen(v->e[i].user))) != 0 ||
		    (r = buf_put_u8(&p, (uint8_t)strlen(v->e[i].pass))) != 0 ||
		    (r = buf_put_bytes(&p, v->e[i].pass,
		    strlen(v->e[i].pass))) != 0)
			goto out;
		index_bytes((uint32_t)i, ib);
		if (RAND_bytes(nonce, VAULT_NONCE_LEN) != 1 ||
		    gcm(&h, v->key, 1, nonce, ib, 4, buf_ptr(&p), buf_len(&p),
		    ct, tag) != 0) {
			r = MOAT_ERR_CRYPTO;
			goto out;
		}
		if ((r = buf_put_bytes(out, nonce, VAULT_NONCE_LEN)) != 0 ||
		    (r = buf_put_u32(out, (uint32_t)buf_len(&p))) != 0 ||
		    (r = buf_put_bytes(out, ct, buf_len(&p))) != 0 ||
		    (r = buf_put_bytes(out, tag, VAULT_TAG_LEN)) != 0)
			goto out;
		OPENSSL_cleanse(pt, sizeof(pt));
	}
	r = 0;
out:
	OPENSSL_cleanse(pt, sizeof(pt));
	return r;
}

const struct vault_entry *
vault_find(const struct vault *v, const char *hostport)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->e[i].hostport, hostport) == 0)
			return &v->e[i];
	return NULL;
}

int
vault_set(struct vault *v, const char *hostport, const char *user,
    const char *pass)
{
	struct vault_entry *e, *ne;

	if (hostport[0] == '\0')
		return MOAT_ERR_INVALID;
	if (strlen(hostport) > VAULT_MAX_HOSTPORT ||
	    strlen(user) > VAULT_MAX_CRED || strlen(pass) > VAULT_MAX_CRED)
		return MOAT_ERR_TOO_LONG;
	if ((e = (struct vault_entry *)vault_find(v, hostport)) == NULL) {
		if (v->n >= VAULT_MAX_ENTRIES)
			return MOAT_ERR_TOO_LONG;
		/* Not realloc: the old block holds passwords to wipe. */
		if ((ne = calloc(v->n + 1, sizeof(*ne))) == NULL)
			return MOAT_ERR_NOMEM;
		if (v->n > 0)
			memcpy(ne, v->e, v->n * sizeof(*ne));
		if (v->e != NULL) {
			OPENSSL_cleanse(v->e, v->n * sizeof(*v->e));
			free(v->e);
		}
		v->e = ne;
		e = &v->e[v->n++];
	}
	OPENSSL_cleanse(e, sizeof(*e));
	snprintf(e->hostport, sizeof(e->hostport), "%s", hostport);
	snprintf(e->user, sizeof(e->user), "%s", user);
	snprintf(e->pass, sizeof(e->pass), "%s", pass);
	return 0;
}

int
vault_remove(struct vault *v, const char *hostport)
{
	struct vault_entry *e = (struct vault_entry *)vault_find(v, hostport);
	size_t i;

	if (e == NULL)
		return MOAT_ERR_INVALID;
	i = (size_t)(e - v->e);
	memmove(e, e + 1, (v->n - i - 1) * sizeof(*e));
	v->n--;
	OPENSSL_cleanse(&v->e[v->n], sizeof(*e));
	return 0;
}

int
vault_load(const char *path, const char *master, struct vault *v)
{
	unsigned char *d;
	uint8_t key[32];
	size_t len;
	int r;

	memset(v, 0, sizeof(*v));
	if ((r = viewer_read_file(path, VAULT_MAX_FILE, &d, &len)) != 0) {
		if (r == MOAT_ERR_TOO_LONG)
			viewer_err("%s: too large to be a vault", path);
		else if (r != MOAT_ERR_EOF)
			viewer_err("%s: %s", path, strerror(errno));
		return r;
	}
	if ((r = vault_parse_header(d, len, &v->hdr)) == 0 &&
	    (r = vault_derive_key(master, &v->hdr, key)) == 0)
		r = vault_open(d, len, key, v);
	OPENSSL_cleanse(key, sizeof(key));
	free(d);
	switch (r) {
	case 0:
		break;
	case MOAT_ERR_AUTH:
		viewer_err("%s: wrong master password (or the vault's header "
		    "was tampered with); nothing was decrypted", path);
		break;
	case MOAT_ERR_CRYPTO:
		viewer_err("%s: an entry failed authentication: the vault was "
		    "tampered with or damaged; nothing was used", path);
		break;
	default:
		viewer_err("%s: not a valid vault (%s: truncated, damaged or "
		    "of another format); nothing was used", path,
		    moat_strerror(r));
		break;
	}
	return r;
}

int
vault_save(const char *path, const struct vault *v)
{
	struct buf out;
	int r;

	buf_init(&out, VAULT_MAX_FILE);
	if ((r = vault_seal(v, &out)) != 0)
		viewer_err("cannot seal the vault (%s)", moat_strerror(r));
	else if ((r = viewer_atomic_write(path, buf_ptr(&out),
	    buf_len(&out))) != 0)
		viewer_err("%s: cannot write: %s", path, strerror(errno));
	buf_free(&out);
	return r;
}
