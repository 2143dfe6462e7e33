/*
 * fuzz_rfb_handshake.c - libFuzzer target for moat-net's handshake parsers
 * (net/rfb_handshake.c, net/rfb_vencrypt.c). The first byte, modulo 5,
 * picks the parser; the rest is the network input, after an offered list
 * where the parser checks a choice against one:
 *
 *   0  VeNCrypt Plain credentials: U32 ulen, U32 plen, user, password
 *   1  ProtocolVersion: the next 12 bytes
 *   2  security-type choice: U8 n, n offered types, then the viewer's byte
 *   3  VeNCrypt version: the viewer's U8 major, U8 minor
 *   4  VeNCrypt subtype choice: U8 n, n offered U32 subtypes, then the
 *      viewer's U32
 *
 * An offered list is cut short where the input ends. Each choice is checked
 * against a plain membership test, the server's list against the bytes it
 * must make, and a refusal must consume nothing. The offered lists are
 * exact-size heap copies, so reading past one is caught too. Test code;
 * trusts nothing it is fed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_handshake.h"
#include "net/rfb_vencrypt.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static void
plain(const uint8_t *d, size_t n)
{
	struct buf b;
	char *u = NULL, *p = NULL;
	int r;

	buf_view(&b, d, n);
	r = rfb_parse_plain(&b, &u, &p);
	if (r == 0) {
		if (strlen(u) == 0 ||
		    n - buf_len(&b) != 8 + strlen(u) + strlen(p))
			abort();
		free(u);
		free(p);
	} else if (buf_len(&b) != n)
		abort();	/* consumed on failure */
}

/* The outcome a choice parser must give: 0, AGAIN or PROTOCOL. */
static int
expected(size_t have, size_t need, int offered)
{
	if (have < need)
		return MOAT_ERR_AGAIN;
	return offered ? 0 : MOAT_ERR_PROTOCOL;
}

/* Returns an exact-size heap copy of n bytes (never NULL; aborts). */
static void *
copy_of(const void *p, size_t n)
{
	void *c = malloc(n > 0 ? n : 1);

	if (c == NULL)
		abort();
	if (n > 0)
		memcpy(c, p, n);
	return c;
}

static void
security_choice(const uint8_t *d, size_t n)
{
	uint8_t out[1 + RFB_MAX_SECURITY_TYPES], type = 0, *types;
	size_t nt, i;
	struct buf b;
	int r, valid, found = 0;

	if (n < 1)
		return;
	nt = d[0] <= n - 1 ? d[0] : n - 1;
	types = copy_of(d + 1, nt);
	/* The server's list: exactly U8 n and the types, or nothing. */
	valid = nt > 0 && memchr(types, 0, nt) == NULL;
	buf_init_fixed(&b, out, sizeof(out));
	r = rfb_put_security_types(&b, types, nt);
	if (r != (valid ? 0 : MOAT_ERR_INVALID) ||
	    buf_len(&b) != (valid ? 1 + nt : 0) ||
	    (valid && (out[0] != nt || memcmp(out + 1, types, nt) != 0)))
		abort();
	/* The viewer's choice. */
	d += 1 + nt;
	n -= 1 + nt;
	for (i = 0; n > 0 && i < nt; i++)
		if (types[i] == d[0] && d[0] != 0)
			found = 1;
	buf_view(&b, d, n);
	r = rfb_parse_security_choice(&b, types, nt, &type);
	if (r != expected(n, 1, found) || buf_len(&b) != n - (r == 0) ||
	    (n > 0 && type != d[0]))
		abort();
	free(types);
}

static void
vencrypt_version(const uint8_t *d, size_t n)
{
	uint8_t major = 0, minor = 0;
	struct buf b;
	int r;

	buf_view(&b, d, n);
	r = rfb_vencrypt_parse_version(&b, &major, &minor);
	if (r != expected(n, 2, n >= 2 && d[0] == 0 && d[1] == 2) ||
	    buf_len(&b) != n - (r == 0 ? 2 : 0) ||
	    (n >= 2 && (major != d[0] || minor != d[1])))
		abort();
}

static void
vencrypt_subtype(const uint8_t *d, size_t n)
{
	uint8_t out[2 + 4 * RFB_VENCRYPT_MAX_SUBTYPES];
	uint32_t *subtypes, sub = 0;
	size_t ns, i;
	struct buf b;
	int r, valid = 1, found = 0;

	if (n < 1)
		return;
	ns = d[0] <= (n - 1) / 4 ? d[0] : (n - 1) / 4;
	if ((subtypes = malloc(ns > 0 ? ns * sizeof(*subtypes) : 1)) == NULL)
		abort();
	for (i = 0; i < ns; i++) {
		subtypes[i] = get_u32(d + 1 + 4 * i);
		if (subtypes[i] == 0)
			valid = 0;
	}
	/* The server's ack and list: exactly 0, U8 n and the U32s, or nothing. */
	valid = valid && ns > 0;
	buf_init_fixed(&b, out, sizeof(out));
	r = rfb_vencrypt_put_subtypes(&b, subtypes, ns);
	if (r != (valid ? 0 : MOAT_ERR_INVALID) ||
	    buf_len(&b) != (valid ? 2 + 4 * ns : 0) ||
	    (valid && (out[0] != RFB_VENCRYPT_ACK_OK || out[1] != ns ||
	    memcmp(out + 2, d + 1, 4 * ns) != 0)))
		abort();
	/* The viewer's choice. */
	d += 1 + 4 * ns;
	n -= 1 + 4 * ns;
	for (i = 0; n >= 4 && i < ns; i++)
		if (subtypes[i] == get_u32(d) && subtypes[i] != 0)
			found = 1;
	buf_view(&b, d, n);
	r = rfb_vencrypt_parse_subtype(&b, subtypes, ns, &sub);
	if (r != expected(n, 4, found) || buf_len(&b) != n - (r == 0 ? 4 : 0) ||
	    (n >= 4 && sub != get_u32(d)))
		abort();
	free(subtypes);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int minor;

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		plain(data + 1, size - 1);
		break;
	case 1:
		if (size - 1 >= RFB_VERSION_LEN &&
		    rfb_parse_version(data + 1, &minor) == 0 &&
		    minor != 3 && minor != 7 && minor != 8)
			abort();
		break;
	case 2:
		security_choice(data + 1, size - 1);
		break;
	case 3:
		vencrypt_version(data + 1, size - 1);
		break;
	case 4:
		vencrypt_subtype(data + 1, size - 1);
		break;
	}
	return 0;
}
