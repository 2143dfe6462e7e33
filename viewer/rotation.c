/*
 * rotation.c - the identity a VeNCrypt chain presents and the check of a
 * vouched rotation (see rotation.h). Runs in moat-viewer on certificates
 * the server sent, before any credential leaves: nothing here is believed
 * because of a name or an extension alone; every link is a signature
 * verified with a key the viewer has reason to trust (the pin, or the key
 * the server proves in the TLS handshake).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "privsep/catchphrase.h"
#include "privsep/errors.h"
#include "viewer/rotation.h"

int
viewer_cert_key_sha256(X509 *x, uint8_t out[32])
{
	struct catchphrase_id id;
	EVP_PKEY *pub;

	if ((pub = X509_get0_pubkey(x)) == NULL ||
	    catchphrase_describe(pub, &id) != 0) {
		ERR_clear_error();
		return MOAT_ERR_CRYPTO;
	}
	memcpy(out, id.key_sha256, 32);
	return 0;
}

/* 1 if x's key verifies leaf's signature and x may have issued it. */
static int
signed_leaf(X509 *x, X509 *leaf)
{
	EVP_PKEY *pub;
	int ok;

	ok = X509_check_issued(x, leaf) == X509_V_OK &&
	    (pub = X509_get0_pubkey(x)) != NULL && X509_verify(leaf, pub) == 1;
	ERR_clear_error();
	return ok;
}

int
viewer_chain_signer(X509 *leaf, STACK_OF(X509) *chain,
    struct viewer_chain_id *id)
{
	X509 *x, *found = NULL;
	int i, n = chain != NULL ? sk_X509_num(chain) : 0;

	memset(id, 0, sizeof(*id));
	if (leaf == NULL)
		return MOAT_ERR_INVALID;
	for (i = 0; i < n; i++) {
		x = sk_X509_value(chain, i);
		if (x == NULL || x == leaf || X509_cmp(x, leaf) == 0 ||
		    !signed_leaf(x, leaf))
			continue;
		if (found == NULL)
			found = x;
		if (X509_self_signed(x, 0) == 1) {
			found = x;	/* the anchor lasts longer */
			break;
		}
	}
	ERR_clear_error();
	if (found == NULL && X509_self_signed(leaf, 1) == 1)
		found = leaf;
	ERR_clear_error();
	if (found == NULL || viewer_cert_key_sha256(found, id->key) != 0)
		return MOAT_ERR_INVALID;
	id->signer = found;
	return 0;
}

/* 1 if v may vouch for a key at now: CA:TRUE and within its validity. */
static int
vouching_profile(X509 *v, time_t now)
{
	uint32_t fl = X509_get_extension_flags(v);

	return (fl & EXFLAG_BCONS) != 0 && (fl & EXFLAG_CA) != 0 &&
	    X509_cmp_time(X509_get0_notBefore(v), &now) == -1 &&
	    X509_cmp_time(X509_get0_notAfter(v), &now) == 1;
}

int
viewer_rotation_vouched(const struct viewer_chain_id *id,
    STACK_OF(X509) *chain, const uint8_t pin[32], time_t now, time_t *until)
{
	EVP_PKEY *newkey, *pinned;
	X509 *v, *o;
	struct tm tm;
	uint8_t h[32];
	int i, j, n = chain != NULL ? sk_X509_num(chain) : 0, ok;

	if (id->signer == NULL ||
	    (newkey = X509_get0_pubkey(id->signer)) == NULL)
		return MOAT_ERR_CRYPTO;
	for (i = 0; i < n; i++) {
		v = sk_X509_value(chain, i);
		if (v == NULL || X509_get0_pubkey(v) == NULL ||
		    EVP_PKEY_eq(X509_get0_pubkey(v), newkey) != 1 ||
		    !vouching_profile(v, now))
			continue;
		for (j = 0; j < n; j++) {
			o = sk_X509_value(chain, j);
			if (o == NULL || o == v ||
			    viewer_cert_key_sha256(o, h) != 0 ||
			    CRYPTO_memcmp(h, pin, 32) != 0 ||
			    (pinned = X509_get0_pubkey(o)) == NULL)
				continue;
			ok = X509_verify(v, pinned) == 1;
			ERR_clear_error();
			if (!ok || ASN1_TIME_to_tm(X509_get0_notAfter(v), &tm) != 1)
				continue;
			*until = timegm(&tm);
			return 0;
		}
	}
	ERR_clear_error();
	return MOAT_ERR_CRYPTO;
}
