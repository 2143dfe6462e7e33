/*
 * ra2_client.c - a test viewer for moat's RSA-AES security types (RA2 5,
 * RA2ne 6, RA2_256 129, RA2ne_256 130). Test code, never installed; it
 * trusts nothing the server sends (bounds every length) but is otherwise
 * written for clarity, not hardening.
 *
 * It behaves like TigerVNC's client: it generates an RSA key of the
 * server's size, pipelines its public key and its encrypted ClientRandom,
 * also sends its key-confirmation hash before reading the server's (as
 * noVNC does), checks the server's hash, pins the server's RealVNC
 * fingerprint (first 8 bytes of SHA-1 over bits || N || E) or prints it,
 * logs in, asks for a full Raw framebuffer update and writes it as a PPM.
 * The key exchange, key derivation and record framing are written here
 * again from the specification; only AES-EAX is moat's (net/rfb_eax.c,
 * checked against the published vectors by tests/unit/test_eax.c).
 *
 *   ra2_client --port P [--host H] [--type 5|6|129|130] [--user U]
 *       [--password PW] [--fingerprint HEX] [--out FILE.ppm] [--hold]
 *       [--force] [--misbehave NAME]
 *
 * Misbehaviours (the server must close the connection; exit 0 if it did):
 *   bad-hash         send a wrong key-confirmation hash
 *   flip-login       flip a bit in the record carrying the credentials
 *   flip-record      after login, flip a bit in a record's ciphertext
 *   replay-record    after login, send a record twice
 *   truncate-record  after login, send a record one byte short (length too)
 *   key-1023         offer a 1023-bit client key
 *   key-8193         announce an 8193-bit client key
 *   key-even         offer a key whose modulus is even
 *   key-e1           offer a key whose exponent is 1
 * --force chooses --type even when the server did not offer it.
 *
 * Prints "offered: ...", "server key: BITS bits, fingerprint ..." and the
 * outcome. Exit status: 0 as expected, 1 unexpected, 2 usage, 3 refused
 * (reason printed), 4 fingerprint mismatch.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "net/rfb_eax.h"

#define MAX_BLOB	(4 + 2 * 1024)

struct dir {
	struct rfb_eax eax;
	uint8_t nonce[16];
};

static int sock = -1;
static int encrypted;		/* records both ways */
static struct dir rx, tx;
static uint8_t ptbuf[65536];	/* plaintext of the current record */
static size_t pt_off, pt_len;
static const char *misbehave = "";

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(status);
}

static int
is(const char *name)
{
	return strcmp(misbehave, name) == 0;
}

/* ---- the socket ---- */

static void
raw_read(void *p, size_t n)
{
	uint8_t *d = p;
	ssize_t r;

	while (n > 0) {
		r = read(sock, d, n);
		if (r == 0)
			die(1, "server closed the connection unexpectedly");
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die(1, "read: %s", strerror(errno));
		}
		d += r;
		n -= (size_t)r;
	}
}

static void
raw_write(const void *p, size_t n)
{
	const uint8_t *d = p;
	ssize_t w;

	while (n > 0) {
		w = write(sock, d, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die(1, "write: %s", strerror(errno));
		}
		d += w;
		n -= (size_t)w;
	}
}

/*
 * After a misbehaviour: the server must close. Reads (and discards) until
 * EOF or a reset; exit 0 then, 1 after 20 seconds of nothing.
 */
static void __attribute__((noreturn))
expect_close(void)
{
	struct timeval tv = { 20, 0 };
	uint8_t tmp[4096];
	ssize_t r;

	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		r = read(sock, tmp, sizeof(tmp));
		if (r == 0 || (r < 0 && (errno == ECONNRESET || errno == EPIPE)))
			die(0, "server closed the connection (misbehaviour %s)",
			    misbehave);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die(1, "server did not close the connection after %s",
			    misbehave);
	}
}

/* ---- the record layer, written from the specification ---- */

static void
nonce_next(uint8_t n[16])
{
	int i;

	for (i = 0; i < 16; i++)
		if (++n[i] != 0)
			break;
}

/* Builds one record of len bytes into out (2 + len + 16 bytes). */
static size_t
seal(const uint8_t *p, size_t len, uint8_t *out)
{
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	if (rfb_eax_seal(&tx.eax, tx.nonce, 16, out, 2, p, len, out + 2,
	    out + 2 + len) != 0)
		die(1, "seal failed");
	nonce_next(tx.nonce);
	return 2 + len + 16;
}

static void
send_record(const uint8_t *p, size_t len)
{
	static uint8_t out[2 + 8192 + 16];

	while (len > 0) {
		size_t n = len > 8192 ? 8192 : len;

		raw_write(out, seal(p, n, out));
		p += n;
		len -= n;
	}
}

static void
recv_record(void)
{
	static uint8_t rec[65535 + 16];
	uint8_t hdr[2];
	size_t len;

	raw_read(hdr, 2);
	len = ((size_t)hdr[0] << 8) | hdr[1];
	raw_read(rec, len + 16);
	if (rfb_eax_open(&rx.eax, rx.nonce, 16, hdr, 2, rec, len, rec + len,
	    ptbuf) != 0)
		die(1, "a record from the server failed authentication");
	nonce_next(rx.nonce);
	pt_off = 0;
	pt_len = len;
}

/* Reads n bytes of the RFB stream (through records when encrypted). */
static void
rd(void *p, size_t n)
{
	uint8_t *d = p;
	size_t k;

	if (!encrypted) {
		raw_read(p, n);
		return;
	}
	while (n > 0) {
		while (pt_off == pt_len)
			recv_record();
		k = pt_len - pt_off < n ? pt_len - pt_off : n;
		memcpy(d, ptbuf + pt_off, k);
		pt_off += k;
		d += k;
		n -= k;
	}
}

static void
wr(const void *p, size_t n)
{
	if (encrypted)
		send_record(p, n);
	else
		raw_write(p, n);
}

static uint32_t
rd_u32(void)
{
	uint8_t b[4];

	rd(b, 4);
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
	    ((uint32_t)b[2] << 8) | b[3];
}

static uint16_t
rd_u16(void)
{
	uint8_t b[2];

	rd(b, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* Reads a SecurityResult; prints it; exits 3 on failure. */
static void
security_result(void)
{
	uint32_t res = rd_u32(), len;
	char reason[1024];

	if (res == 0) {
		printf("security result: ok\n");
		return;
	}
	len = rd_u32();
	if (len >= sizeof(reason))
		die(1, "security result: failed, reason of %u bytes", len);
	rd(reason, len);
	reason[len] = '\0';
	die(3, "security result: failed: %s", reason);
}

/* ---- RSA ---- */

static EVP_PKEY *
pubkey_from_blob(const uint8_t *blob, size_t k)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *n = BN_bin2bn(blob + 4, (int)k, NULL);
	BIGNUM *e = BN_bin2bn(blob + 4 + k, (int)k, NULL);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;
	OSSL_PARAM *params;

	if (bld == NULL || n == NULL || e == NULL || ctx == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		die(1, "cannot use the server's public key");
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return key;
}

/* bits || N || E of key, each k = ceil(bits / 8) bytes. */
static size_t
blob_of(EVP_PKEY *key, uint8_t *blob)
{
	BIGNUM *n = NULL, *e = NULL;
	size_t bits, k;

	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		die(1, "cannot read the client key");
	bits = (size_t)BN_num_bits(n);
	k = (bits + 7) / 8;
	blob[0] = (uint8_t)(bits >> 24);
	blob[1] = (uint8_t)(bits >> 16);
	blob[2] = (uint8_t)(bits >> 8);
	blob[3] = (uint8_t)bits;
	BN_bn2binpad(n, blob + 4, (int)k);
	BN_bn2binpad(e, blob + 4 + k, (int)k);
	BN_free(n);
	BN_free(e);
	return 4 + 2 * k;
}

static void
hash2(int sha256, const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
    uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n;

	if (c == NULL || EVP_DigestInit_ex(c, sha256 ? EVP_sha256() :
	    EVP_sha1(), NULL) != 1 || EVP_DigestUpdate(c, a, al) != 1 ||
	    EVP_DigestUpdate(c, b, bl) != 1 ||
	    EVP_DigestFinal_ex(c, out, &n) != 1)
		die(1, "digest failed");
	EVP_MD_CTX_free(c);
}

/* ---- the RFB session after login ---- */

static void
write_ppm(const char *path, const uint8_t *rgb, unsigned w, unsigned h)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		die(1, "%s: %s", path, strerror(errno));
	fprintf(f, "P6\n%u %u\n255\n", w, h);
	if (fwrite(rgb, 3, (size_t)w * h, f) != (size_t)w * h || fclose(f) != 0)
		die(1, "%s: write failed", path);
}

static void
request_update(uint16_t w, uint16_t h, int incremental)
{
	uint8_t m[10] = { 3, (uint8_t)incremental, 0, 0, 0, 0,
	    (uint8_t)(w >> 8), (uint8_t)w, (uint8_t)(h >> 8), (uint8_t)h };

	wr(m, sizeof(m));
}

/* Reads server messages until the whole screen came as Raw rectangles. */
static void
read_frame(uint16_t w, uint16_t h, uint8_t *rgb)
{
	uint8_t *seen = calloc((size_t)w * h, 1), hdr[12], type, px[4];
	size_t covered = 0, i;
	uint16_t n, rx_, ry, rw, rh, row, col;
	int32_t enc;

	if (seen == NULL)
		die(1, "out of memory");
	while (covered < (size_t)w * h) {
		rd(&type, 1);
		if (type == 2)		/* Bell */
			continue;
		if (type == 3) {	/* ServerCutText */
			uint8_t pad[3];
			uint32_t len;

			rd(pad, 3);
			len = rd_u32();
			if (len > (1u << 20))
				die(1, "cut text of %u bytes", len);
			while (len-- > 0)
				rd(pad, 1);
			continue;
		}
		if (type != 0)
			die(1, "unexpected server message %u", type);
		rd(hdr, 1);	/* padding */
		n = rd_u16();
		for (i = 0; i < n; i++) {
			rd(hdr, 12);
			rx_ = (uint16_t)(hdr[0] << 8 | hdr[1]);
			ry = (uint16_t)(hdr[2] << 8 | hdr[3]);
			rw = (uint16_t)(hdr[4] << 8 | hdr[5]);
			rh = (uint16_t)(hdr[6] << 8 | hdr[7]);
			enc = (int32_t)((uint32_t)hdr[8] << 24 |
			    (uint32_t)hdr[9] << 16 | (uint32_t)hdr[10] << 8 |
			    hdr[11]);
			if (enc != 0)
				die(1, "rectangle with encoding %d, not Raw", enc);
			if ((uint32_t)rx_ + rw > w || (uint32_t)ry + rh > h)
				die(1, "rectangle outside the screen");
			for (row = 0; row < rh; row++) {
				for (col = 0; col < rw; col++) {
					size_t at = (size_t)(ry + row) * w + rx_ + col;

					rd(px, 4);	/* little-endian 0x00RRGGBB */
					rgb[3 * at] = px[2];
					rgb[3 * at + 1] = px[1];
					rgb[3 * at + 2] = px[0];
					if (!seen[at]) {
						seen[at] = 1;
						covered++;
					}
				}
			}
		}
		if (covered < (size_t)w * h)
			request_update(w, h, 0);
	}
	free(seen);
}

static void
session(const char *out, int hold)
{
	static const uint8_t pixfmt[20] = { 0, 0, 0, 0, 32, 24, 0, 1, 0, 255,
	    0, 255, 0, 255, 16, 8, 0, 0, 0, 0 };
	static const uint8_t encodings[8] = { 2, 0, 0, 1, 0, 0, 0, 0 };
	uint8_t shared = 1, si[24], *rgb, rec[2 + 10 + 16];
	uint16_t w, h;
	uint32_t nlen;
	size_t n;

	wr(&shared, 1);
	rd(si, 24);
	w = (uint16_t)(si[0] << 8 | si[1]);
	h = (uint16_t)(si[2] << 8 | si[3]);
	nlen = (uint32_t)si[20] << 24 | (uint32_t)si[21] << 16 |
	    (uint32_t)si[22] << 8 | si[23];
	if (w == 0 || h == 0 || nlen > 4096)
		die(1, "bad ServerInit");
	while (nlen-- > 0)
		rd(si, 1);
	printf("framebuffer: %ux%u\n", w, h);
	wr(pixfmt, sizeof(pixfmt));
	wr(encodings, sizeof(encodings));
	request_update(w, h, 0);
	if ((rgb = calloc((size_t)w * h, 3)) == NULL)
		die(1, "out of memory");
	read_frame(w, h, rgb);
	if (out != NULL) {
		write_ppm(out, rgb, w, h);
		printf("wrote %s\n", out);
	}
	free(rgb);
	fflush(stdout);
	if (is("flip-record") || is("replay-record") || is("truncate-record")) {
		uint8_t m[10] = { 3, 0, 0, 0, 0, 0, (uint8_t)(w >> 8),
		    (uint8_t)w, (uint8_t)(h >> 8), (uint8_t)h };

		if (!encrypted)
			die(1, "%s needs an encrypted session", misbehave);
		n = seal(m, sizeof(m), rec);
		if (is("flip-record"))
			rec[5] ^= 0x10;
		if (is("truncate-record")) {
			/* One byte short, and the length says so too. */
			rec[1]--;
			memmove(rec + 2 + 9, rec + 2 + 10, 16);
			n--;
		}
		raw_write(rec, n);
		if (is("replay-record"))
			raw_write(rec, n);
		expect_close();
	}
	if (hold) {
		printf("holding\n");
		fflush(stdout);
		for (;;) {
			uint8_t b;

			rd(&b, 1);
		}
	}
}

/* ---- the handshake ---- */

static int
connect_to(const char *host, const char *port)
{
	struct addrinfo hints = { 0 }, *ai;
	int fd;

	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		die(1, "cannot resolve %s", host);
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		die(1, "connect: %s", strerror(errno));
	freeaddrinfo(ai);
	return fd;
}

/* "xx-xx-..." of the first 8 bytes of SHA-1 over the key blob. */
static void
fingerprint(const uint8_t *blob, size_t len, char out[24])
{
	uint8_t d[20];
	int i;

	if (EVP_Digest(blob, len, d, NULL, EVP_sha1(), NULL) != 1)
		die(1, "digest failed");
	for (i = 0; i < 8; i++)
		snprintf(out + 3 * i, 4, i < 7 ? "%02x-" : "%02x", d[i]);
}

static int
same_fingerprint(const char *want, const char *have)
{
	char a[64];
	size_t i, n = 0;

	for (i = 0; want[i] != '\0' && n + 1 < sizeof(a); i++)
		if (want[i] != '-' && want[i] != ':' && want[i] != ' ')
			a[n++] = (char)((want[i] >= 'A' && want[i] <= 'F') ?
			    want[i] - 'A' + 'a' : want[i]);
	a[n] = '\0';
	for (i = 0, n = 0; have[i] != '\0'; i++) {
		if (have[i] == '-')
			continue;
		if (a[n] != have[i])
			return 0;
		n++;
	}
	return a[n] == '\0';
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "type", required_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'w' },
		{ "fingerprint", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "misbehave", required_argument, NULL, 'm' },
		{ "hold", no_argument, NULL, 'h' },
		{ "force", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	const char *host = "127.0.0.1", *port = NULL, *user = "", *pass = "";
	const char *pin = NULL, *out = NULL;
	int type = 129, hold = 0, force = 0, c, sha256, all_enc, i;
	uint8_t ver[12], n, types[255], sblob[MAX_BLOB], cblob[MAX_BLOB];
	uint8_t msg[2 + MAX_BLOB + 2 + 1024], sct[1024], crnd[32], srnd[32];
	uint8_t ckey[32], skey[32], h[32], sub, cred[2 + 2 * 255], t8;
	size_t sk, sbl, cbl, rlen, klen, hlen, len, ck;
	uint32_t bits, cbits;
	EVP_PKEY *spub, *cpriv;
	EVP_PKEY_CTX *ctx;
	char fp[24];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'H': host = optarg; break;
		case 'p': port = optarg; break;
		case 't': type = atoi(optarg); break;
		case 'u': user = optarg; break;
		case 'w': pass = optarg; break;
		case 'f': pin = optarg; break;
		case 'o': out = optarg; break;
		case 'm': misbehave = optarg; break;
		case 'h': hold = 1; break;
		case 'F': force = 1; break;
		default: die(2, "usage: see the comment at the top of ra2_client.c");
		}
	}
	if (port == NULL || (type != 5 && type != 6 && type != 129 && type != 130))
		die(2, "usage: ra2_client --port P [--type 5|6|129|130] ...");
	if (strlen(user) > 255 || strlen(pass) > 255)
		die(2, "user name and password are at most 255 bytes");
	sha256 = type >= 129;
	all_enc = type == 5 || type == 129;
	rlen = sha256 ? 32 : 16;
	klen = sha256 ? 32 : 16;
	hlen = sha256 ? 32 : 20;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sock = connect_to(host, port);

	raw_read(ver, 12);
	if (memcmp(ver, "RFB 003.008\n", 12) != 0)
		die(1, "unexpected version %.11s", ver);
	raw_write("RFB 003.008\n", 12);
	raw_read(&n, 1);
	if (n == 0)
		die(1, "server refused the connection");
	raw_read(types, n);
	printf("offered:");
	for (i = 0; i < n; i++)
		printf(" %u", types[i]);
	printf("\n");
	if (memchr(types, type, n) == NULL && !force)
		die(1, "security type %d was not offered", type);
	t8 = (uint8_t)type;
	raw_write(&t8, 1);
	if (memchr(types, type, n) == NULL)
		security_result();	/* exits: a refusal is expected */

	/* 1: the server's key */
	raw_read(sblob, 4);
	bits = (uint32_t)sblob[0] << 24 | (uint32_t)sblob[1] << 16 |
	    (uint32_t)sblob[2] << 8 | sblob[3];
	if (bits < 1024 || bits > 8192)
		die(1, "server key of %u bits", bits);
	sk = (bits + 7) / 8;
	sbl = 4 + 2 * sk;
	raw_read(sblob + 4, 2 * sk);
	fingerprint(sblob, sbl, fp);
	printf("server key: %u bits, fingerprint %s\n", bits, fp);
	if (pin != NULL && !same_fingerprint(pin, fp))
		die(4, "fingerprint mismatch: expected %s, got %s", pin, fp);
	spub = pubkey_from_blob(sblob, sk);

	/* 2 + 4, pipelined: our key and our encrypted random */
	cbits = is("key-1023") ? 1023 : bits;
	if ((cpriv = EVP_RSA_gen(cbits)) == NULL)
		die(1, "cannot generate a %u-bit key", cbits);
	cbl = blob_of(cpriv, cblob);
	ck = (cbl - 4) / 2;
	if (is("key-even"))
		cblob[4 + ck - 1] &= 0xfe;
	if (is("key-e1")) {
		memset(cblob + 4 + ck, 0, ck);
		cblob[4 + 2 * ck - 1] = 1;
	}
	len = 0;
	if (is("key-8193")) {
		msg[0] = 0;
		msg[1] = 0;
		msg[2] = 0x20;
		msg[3] = 0x01;
		RAND_bytes(msg + 4, 2 * 1025);
		len = 4 + 2 * 1025;
	} else {
		memcpy(msg, cblob, cbl);
		len = cbl;
	}
	RAND_bytes(crnd, (int)rlen);
	msg[len] = (uint8_t)(sk >> 8);
	msg[len + 1] = (uint8_t)sk;
	{
		size_t outl = sk;

		if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, spub, NULL)) == NULL ||
		    EVP_PKEY_encrypt_init(ctx) != 1 ||
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
		    EVP_PKEY_encrypt(ctx, msg + len + 2, &outl, crnd, rlen) != 1 ||
		    outl != sk)
			die(1, "cannot encrypt to the server's key");
		EVP_PKEY_CTX_free(ctx);
	}
	len += 2 + sk;
	raw_write(msg, len);
	if (is("key-1023") || is("key-8193") || is("key-even") || is("key-e1"))
		expect_close();

	/* 3: the server's random, encrypted to our key */
	{
		uint8_t l2[2];
		size_t outl = sizeof(sct);

		raw_read(l2, 2);
		if ((((size_t)l2[0] << 8) | l2[1]) != ck)
			die(1, "server's random has the wrong size");
		raw_read(sct, ck);
		if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, cpriv, NULL)) == NULL ||
		    EVP_PKEY_decrypt_init(ctx) != 1 ||
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
		    EVP_PKEY_decrypt(ctx, srnd, &outl, sct, ck) != 1 ||
		    outl != rlen)
			die(1, "cannot decrypt the server's random");
		EVP_PKEY_CTX_free(ctx);
	}

	/* Keys: we write with H(SR || CR), read with H(CR || SR). */
	hash2(sha256, srnd, rlen, crnd, rlen, h);
	memcpy(ckey, h, klen);
	hash2(sha256, crnd, rlen, srnd, rlen, h);
	memcpy(skey, h, klen);
	if (rfb_eax_init(&tx.eax, ckey, klen) != 0 ||
	    rfb_eax_init(&rx.eax, skey, klen) != 0)
		die(1, "cannot key AES-EAX");
	encrypted = 1;

	/* 5-6: our hash first (as noVNC), then check the server's */
	hash2(sha256, cblob, cbl, sblob, sbl, h);
	if (is("bad-hash"))
		h[0] ^= 1;
	wr(h, hlen);
	{
		uint8_t want[32], got[32];

		hash2(sha256, sblob, sbl, cblob, cbl, want);
		rd(got, hlen);
		if (memcmp(want, got, hlen) != 0)
			die(1, "server hash mismatch");
	}
	if (is("bad-hash"))
		expect_close();

	/* 7-8: subtype, credentials */
	rd(&sub, 1);
	if (sub != 1 && sub != 2)
		die(1, "unknown subtype %u", sub);
	len = 0;
	cred[len++] = sub == 1 ? (uint8_t)strlen(user) : 0;
	if (sub == 1) {
		memcpy(cred + len, user, strlen(user));
		len += strlen(user);
	}
	cred[len++] = (uint8_t)strlen(pass);
	memcpy(cred + len, pass, strlen(pass));
	len += strlen(pass);
	if (is("flip-login")) {
		uint8_t rec[2 + sizeof(cred) + 16];
		size_t rl = seal(cred, len, rec);

		rec[rl - 1] ^= 0x80;	/* in the tag */
		raw_write(rec, rl);
		expect_close();
	}
	wr(cred, len);

	/* 9: SecurityResult: plaintext for RA2ne */
	if (!all_enc)
		encrypted = 0;
	security_result();
	session(out, hold);
	EVP_PKEY_free(spub);
	EVP_PKEY_free(cpriv);
	printf("done\n");
	return 0;
}
