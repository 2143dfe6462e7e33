/*
 * test_eax.c - unit tests for AES-EAX (net/rfb_eax.c): the ten AES-128 test
 * vectors of the EAX paper (Bellare, Rogaway, Wagner, "The EAX Mode of
 * Operation", appendix), both ways and in place; a slow reference EAX built
 * here from single AES block operations (CMAC subkeys and the CTR counter
 * done by hand) agrees with rfb_eax for AES-128 and AES-256 at many
 * lengths; every flipped bit of nonce, associated data, ciphertext or tag
 * fails to open and leaves the plaintext buffer untouched. Test code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "net/rfb_eax.h"
#include "privsep/errors.h"

#include "check.h"

static const struct vector {
	const char *msg, *key, *nonce, *header, *cipher;
} vectors[] = {
	{ "", "233952DEE4D5ED5F9B9C6D6FF80FF478",
	    "62EC67F9C3A4A407FCB2A8C49031A8B3", "6BFB914FD07EAE6B",
	    "E037830E8389F27B025A2D6527E79D01" },
	{ "F7FB", "91945D3F4DCBEE0BF45EF52255F095A4",
	    "BECAF043B0A23D843194BA972C66DEBD", "FA3BFD4806EB53FA",
	    "19DD5C4C9331049D0BDAB0277408F67967E5" },
	{ "1A47CB4933", "01F74AD64077F2E704C0F60ADA3DD523",
	    "70C3DB4F0D26368400A10ED05D2BFF5E", "234A3463C1264AC6",
	    "D851D5BAE03A59F238A23E39199DC9266626C40F80" },
	{ "481C9E39B1", "D07CF6CBB7F313BDDE66B727AFD3C5E8",
	    "8408DFFF3C1A2B1292DC199E46B7D617", "33CCE2EABFF5A79D",
	    "632A9D131AD4C168A4225D8E1FF755939974A7BEDE" },
	{ "40D0C07DA5E4", "35B6D0580005BBC12B0587124557D2C2",
	    "FDB6B06676EEDC5C61D74276E1F8E816", "AEB96EAEBE2970E9",
	    "071DFE16C675CB0677E536F73AFE6A14B74EE49844DD" },
	{ "4DE3B35C3FC039245BD1FB7D", "BD8E6E11475E60B268784C38C62FEB22",
	    "6EAC5C93072D8E8513F750935E46DA1B", "D4482D1CA78DCE0F",
	    "835BB4F15D743E350E728414ABB8644FD6CCB86947C5E10590210A4F" },
	{ "8B0A79306C9CE7ED99DAE4F87F8DD61636",
	    "7C77D6E813BED5AC98BAA417477A2E7D",
	    "1A8C98DCD73D38393B2BF1569DEEFC19", "65D2017990D62528",
	    "02083E3979DA014812F59F11D52630DA30137327D10649B0AA6E1C181DB617D7F2" },
	{ "1BDA122BCE8A8DBAF1877D962B8592DD2D56",
	    "5FFF20CAFAB119CA2FC73549E20F5B0D",
	    "DDE59B97D722156D4D9AFF2BC7559826", "54B9F04E6A09189A",
	    "2EC47B2C4954A489AFC7BA4897EDCDAE8CC33B60450599BD02C96382902AEF7F832A" },
	{ "6CF36720872B8513F6EAB1A8A44438D5EF11",
	    "A4A4782BCFFD3EC5E7EF6D8C34A56123",
	    "B781FCF2F75FA5A8DE97A9CA48E522EC", "899A175897561D7E",
	    "0DE18FD0FDD91E7AF19F1D8EE8733938B1E8E7F6D2231618102FDB7FE55FF1991700" },
	{ "CA40D7446E545FFAED3BD12A740A659FFBBB3CEAB7",
	    "8395FCF1E95BEBD697BD010BC766AAC3",
	    "22E7ADD93CFC6393C57EC0B3C17D6B44", "126735FCC320D25A",
	    "CB8920F87A6C75CFF39627B56E3ED197C552D295A7CFC46AFC253B4652B1AF3795B124AB6E" },
};

static size_t
unhex(const char *s, uint8_t *out)
{
	size_t n = strlen(s) / 2, i;
	unsigned v;

	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (uint8_t)v;
	}
	return n;
}

static void
test_vectors(void)
{
	uint8_t key[16], nonce[16], hdr[16], msg[64], want[80], ct[64],
	    tag[16], pt[64];
	size_t i, kl, nl, hl, ml, wl;
	struct rfb_eax e;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		kl = unhex(vectors[i].key, key);
		nl = unhex(vectors[i].nonce, nonce);
		hl = unhex(vectors[i].header, hdr);
		ml = unhex(vectors[i].msg, msg);
		wl = unhex(vectors[i].cipher, want);
		CHECK(wl == ml + 16 && kl == 16);
		CHECK(rfb_eax_init(&e, key, kl) == 0, "vector %zu init", i);
		CHECK(rfb_eax_seal(&e, nonce, nl, hdr, hl, msg, ml, ct, tag) == 0);
		CHECK(memcmp(ct, want, ml) == 0 && memcmp(tag, want + ml, 16) == 0,
		    "vector %zu encrypts to the published ciphertext and tag", i + 1);
		memset(pt, 0xa5, sizeof(pt));
		CHECK(rfb_eax_open(&e, nonce, nl, hdr, hl, want, ml, want + ml,
		    pt) == 0 && memcmp(pt, msg, ml) == 0,
		    "vector %zu decrypts", i + 1);
		/* In place, both ways. */
		memcpy(ct, msg, ml);
		CHECK(rfb_eax_seal(&e, nonce, nl, hdr, hl, ct, ml, ct, tag) == 0 &&
		    memcmp(ct, want, ml) == 0);
		CHECK(rfb_eax_open(&e, nonce, nl, hdr, hl, ct, ml, tag, ct) == 0 &&
		    memcmp(ct, msg, ml) == 0);
		rfb_eax_free(&e);
	}
}

/* ---- a slow, independent EAX from single AES block encryptions ---- */

static void
aes_block(const uint8_t *key, size_t kl, const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n;

	if (c == NULL || EVP_EncryptInit_ex(c, kl == 16 ? EVP_aes_128_ecb() :
	    EVP_aes_256_ecb(), NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(c, 0) != 1 ||
	    EVP_EncryptUpdate(c, out, &n, in, 16) != 1 || n != 16)
		abort();
	EVP_CIPHER_CTX_free(c);
}

static void
aes_block_dec(const uint8_t *key, size_t kl, const uint8_t in[16],
    uint8_t out[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n;

	if (c == NULL || EVP_DecryptInit_ex(c, kl == 16 ? EVP_aes_128_ecb() :
	    EVP_aes_256_ecb(), NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(c, 0) != 1 ||
	    EVP_DecryptUpdate(c, out, &n, in, 16) != 1 || n != 16)
		abort();
	EVP_CIPHER_CTX_free(c);
}

static void
dbl(uint8_t b[16])
{
	int carry = b[0] >> 7, i;

	for (i = 0; i < 15; i++)
		b[i] = (uint8_t)(b[i] << 1 | b[i + 1] >> 7);
	b[15] = (uint8_t)(b[15] << 1);
	if (carry)
		b[15] ^= 0x87;
}

/* CMAC (NIST SP 800-38B) of [t]_16 || m, by the book. */
static void
ref_omac(const uint8_t *key, size_t kl, uint8_t t, const uint8_t *m, size_t len,
    uint8_t out[16])
{
	uint8_t l[16] = { 0 }, k1[16], k2[16], x[16] = { 0 }, blk[16];
	uint8_t *all;
	size_t n = 16 + len, nb, i, j;

	aes_block(key, kl, l, l);
	memcpy(k1, l, 16);
	dbl(k1);
	memcpy(k2, k1, 16);
	dbl(k2);
	if ((all = calloc(1, n + 16)) == NULL)
		abort();
	all[15] = t;
	if (len > 0)
		memcpy(all + 16, m, len);
	nb = (n + 15) / 16;
	for (i = 0; i < nb; i++) {
		memcpy(blk, all + 16 * i, 16);
		if (i == nb - 1) {
			if (n % 16 == 0) {
				for (j = 0; j < 16; j++)
					blk[j] ^= k1[j];
			} else {
				memset(blk, 0, 16);
				memcpy(blk, all + 16 * i, n % 16);
				blk[n % 16] = 0x80;
				for (j = 0; j < 16; j++)
					blk[j] ^= k2[j];
			}
		}
		for (j = 0; j < 16; j++)
			x[j] ^= blk[j];
		aes_block(key, kl, x, x);
	}
	memcpy(out, x, 16);
	free(all);
}

static void
ref_eax(const uint8_t *key, size_t kl, const uint8_t *nonce, size_t nl,
    const uint8_t *aad, size_t al, const uint8_t *m, size_t len, uint8_t *ct,
    uint8_t tag[16])
{
	uint8_t n[16], h[16], c[16], ctr[16], ks[16];
	size_t i;
	int j;

	ref_omac(key, kl, 0, nonce, nl, n);
	ref_omac(key, kl, 1, aad, al, h);
	memcpy(ctr, n, 16);
	for (i = 0; i < len; i++) {
		if (i % 16 == 0) {
			aes_block(key, kl, ctr, ks);
			for (j = 15; j >= 0 && ++ctr[j] == 0; j--)
				;
		}
		ct[i] = m[i] ^ ks[i % 16];
	}
	ref_omac(key, kl, 2, ct, len, c);
	for (i = 0; i < 16; i++)
		tag[i] = n[i] ^ h[i] ^ c[i];
}

static void
test_reference(void)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 31, 32, 33, 255, 256,
	    1000, 8192, 65535 };
	uint8_t key[32], nonce[16], aad[2], tag[16], rtag[16];
	uint8_t *m, *ct, *rct;
	size_t i, kl;
	struct rfb_eax e;

	if ((m = malloc(65535)) == NULL || (ct = malloc(65535)) == NULL ||
	    (rct = malloc(65535)) == NULL)
		abort();
	for (kl = 16; kl <= 32; kl += 16) {
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			RAND_bytes(key, sizeof(key));
			RAND_bytes(nonce, sizeof(nonce));
			RAND_bytes(m, lens[i]);
			aad[0] = (uint8_t)(lens[i] >> 8);
			aad[1] = (uint8_t)lens[i];
			CHECK(rfb_eax_init(&e, key, kl) == 0);
			CHECK(rfb_eax_seal(&e, nonce, 16, aad, 2, m, lens[i], ct,
			    tag) == 0);
			ref_eax(key, kl, nonce, 16, aad, 2, m, lens[i], rct, rtag);
			CHECK((lens[i] == 0 || memcmp(ct, rct, lens[i]) == 0) &&
			    memcmp(tag, rtag, 16) == 0,
			    "AES-%zu EAX of %zu bytes matches the reference",
			    kl * 8, lens[i]);
			rfb_eax_free(&e);
		}
	}
	/*
	 * A counter that wraps inside the message: all 128 bits carry. With a
	 * one-block nonce, N' = E(E(0) ^ K1 ^ nonce), so a chosen N' gives the
	 * nonce: D(N') ^ E(0) ^ K1.
	 */
	for (kl = 16; kl <= 32; kl += 16) {
		uint8_t target[16], l[16] = { 0 }, k1[16];

		memset(target, 0xff, 16);
		target[15] = 0xfe;	/* wraps to zero after two blocks */
		aes_block(key, kl, l, l);
		memcpy(k1, l, 16);
		dbl(k1);
		aes_block_dec(key, kl, target, nonce);
		for (i = 0; i < 16; i++)
			nonce[i] ^= l[i] ^ k1[i];
		ref_omac(key, kl, 0, nonce, 16, l);
		CHECK(memcmp(l, target, 16) == 0, "the chosen N'");
		RAND_bytes(m, 100);
		CHECK(rfb_eax_init(&e, key, kl) == 0);
		CHECK(rfb_eax_seal(&e, nonce, 16, aad, 2, m, 100, ct, tag) == 0);
		ref_eax(key, kl, nonce, 16, aad, 2, m, 100, rct, rtag);
		CHECK(memcmp(ct, rct, 100) == 0 && memcmp(tag, rtag, 16) == 0,
		    "AES-%zu EAX: the 128-bit counter wraps like the reference",
		    kl * 8);
		rfb_eax_free(&e);
	}
	free(m);
	free(ct);
	free(rct);
	CHECK(rfb_eax_init(&e, key, 24) == MOAT_ERR_INVALID && e.ctr == NULL);
}

static void
test_forgeries(void)
{
	uint8_t key[32], nonce[16], aad[2] = { 0, 40 }, m[40], ct[40], tag[16],
	    pt[40], sentinel[40];
	size_t bit;
	struct rfb_eax e;
	int bad = 0, touched = 0;

	RAND_bytes(key, sizeof(key));
	memset(nonce, 0, sizeof(nonce));
	RAND_bytes(m, sizeof(m));
	memset(sentinel, 0x5a, sizeof(sentinel));
	CHECK(rfb_eax_init(&e, key, 32) == 0);
	CHECK(rfb_eax_seal(&e, nonce, 16, aad, 2, m, sizeof(m), ct, tag) == 0);
#define TRY(arr)							\
	for (bit = 0; bit < sizeof(arr) * 8; bit++) {			\
		arr[bit / 8] ^= (uint8_t)(1u << (bit % 8));		\
		memcpy(pt, sentinel, sizeof(pt));			\
		if (rfb_eax_open(&e, nonce, 16, aad, 2, ct, sizeof(ct), tag, \
		    pt) != MOAT_ERR_CRYPTO)				\
			bad++;						\
		if (memcmp(pt, sentinel, sizeof(pt)) != 0)		\
			touched++;					\
		arr[bit / 8] ^= (uint8_t)(1u << (bit % 8));		\
	}
	TRY(nonce)
	TRY(aad)
	TRY(ct)
	TRY(tag)
#undef TRY
	CHECK(bad == 0, "%d flipped bits opened", bad);
	CHECK(touched == 0, "%d failed opens wrote plaintext", touched);
	/* Truncated ciphertext (same tag) fails too. */
	memcpy(pt, sentinel, sizeof(pt));
	CHECK(rfb_eax_open(&e, nonce, 16, aad, 2, ct, sizeof(ct) - 1, tag, pt) ==
	    MOAT_ERR_CRYPTO && memcmp(pt, sentinel, sizeof(pt)) == 0);
	CHECK(rfb_eax_open(&e, nonce, 16, aad, 2, ct, sizeof(ct), tag, pt) == 0 &&
	    memcmp(pt, m, sizeof(m)) == 0, "the untouched record opens");
	rfb_eax_free(&e);
	rfb_eax_free(&e);	/* idempotent */
}

int
main(void)
{
	CHECK(rfb_eax_global_init() == 0);
	test_vectors();
	test_reference();
	test_forgeries();
	return check_summary();
}
