/*
 * test_rfb_sasl.c - unit tests for the SASL security type's wire format
 * (net/rfb_sasl.c): the exact bytes gtk-vnc and QEMU exchange (mechanism
 * list without a NUL, outputs counted with their terminator, the complete
 * flag), none versus empty output, each bound and bound + 1, mechanism
 * names, and deterministic mutation of known-good messages: every
 * truncation asks for more without consuming, every bit flip parses to
 * something that re-encodes or fails without consuming. Test code.
 */
#include <stdlib.h>
#include <string.h>

#include "net/rfb_sasl.h"
#include "privsep/errors.h"

#include "check.h"

#define B(s)	((const uint8_t *)(s)), (sizeof(s) - 1)

static void
test_server_side(void)
{
	uint8_t st[64];
	struct buf b;

	CHECK(RFB_VENCRYPT_X509SASL == 263, "the subtype gtk-vnc and QEMU use");
	buf_init_fixed(&b, st, sizeof(st));
	CHECK(rfb_sasl_put_mechlist(&b, "GSSAPI", 6) == 0 && buf_len(&b) == 10 &&
	    memcmp(buf_ptr(&b), "\0\0\0\x06GSSAPI", 10) == 0,
	    "mechanism list: U32 6, no NUL");
	buf_reset(&b);
	CHECK(rfb_sasl_put_mechlist(&b, "", 0) == MOAT_ERR_INVALID &&
	    rfb_sasl_put_mechlist(&b, "GSS\0API", 7) == MOAT_ERR_INVALID &&
	    buf_len(&b) == 0);
	{
		char big[RFB_SASL_MAX_MECHLIST + 1];
		struct buf h;

		memset(big, 'A', sizeof(big));
		buf_init(&h, 1024);
		CHECK(rfb_sasl_put_mechlist(&h, big, sizeof(big)) ==
		    MOAT_ERR_TOO_LONG && buf_len(&h) == 0);
		CHECK(rfb_sasl_put_mechlist(&h, big, sizeof(big) - 1) == 0 &&
		    buf_len(&h) == 4 + RFB_SASL_MAX_MECHLIST);
		buf_free(&h);
	}
	/* Output: U32 len + 1, bytes, NUL; U8 complete. Empty: U32 0. */
	buf_reset(&b);
	CHECK(rfb_sasl_put_reply(&b, B("\x60\x01z"), 0) == 0 &&
	    buf_len(&b) == 4 + 4 + 1 &&
	    memcmp(buf_ptr(&b), "\0\0\0\x04\x60\x01z\0\0", 9) == 0);
	buf_reset(&b);
	CHECK(rfb_sasl_put_reply(&b, NULL, 0, 1) == 0 && buf_len(&b) == 5 &&
	    memcmp(buf_ptr(&b), "\0\0\0\0\x01", 5) == 0);
	buf_reset(&b);
	CHECK(rfb_sasl_put_reply(&b, NULL, 0, 2) == MOAT_ERR_INVALID &&
	    rfb_sasl_put_reply(&b, NULL, 3, 0) == MOAT_ERR_INVALID &&
	    buf_len(&b) == 0);
	{
		uint8_t *big = calloc(1, RFB_SASL_MAX_DATA + 1);
		struct buf h;

		if (big == NULL)
			abort();
		buf_init(&h, RFB_SASL_MAX_DATA + 16);
		CHECK(rfb_sasl_put_reply(&h, big, RFB_SASL_MAX_DATA + 1, 0) ==
		    MOAT_ERR_TOO_LONG && buf_len(&h) == 0);
		CHECK(rfb_sasl_put_reply(&h, big, RFB_SASL_MAX_DATA, 0) == 0 &&
		    buf_len(&h) == 4 + RFB_SASL_MAX_DATA + 1 + 1);
		buf_free(&h);
		/* A buffer too small takes nothing. */
		buf_init(&h, RFB_SASL_MAX_DATA);
		CHECK(rfb_sasl_put_reply(&h, big, RFB_SASL_MAX_DATA, 0) != 0 &&
		    buf_len(&h) == 0);
		buf_free(&h);
		free(big);
	}
}

/* Parses a start from p[0..n): the result, and nothing consumed on failure. */
static int
start_of(const uint8_t *p, size_t n, struct rfb_sasl_data *mech,
    struct rfb_sasl_data *d, size_t *need)
{
	struct buf b;
	int r;

	buf_view(&b, p, n);
	r = rfb_sasl_parse_start(&b, mech, d, need);
	if (r == 0)
		CHECK(n - buf_len(&b) == *need || r != 0,
		    "consumed exactly the message");
	else
		CHECK(buf_len(&b) == n, "failure consumed nothing");
	if (r == MOAT_ERR_AGAIN)
		CHECK(*need > n, "AGAIN asks for more (%zu > %zu)", *need, n);
	return r;
}

static int
step_of(const uint8_t *p, size_t n, struct rfb_sasl_data *d, size_t *need)
{
	struct buf b;
	int r;

	buf_view(&b, p, n);
	r = rfb_sasl_parse_step(&b, d, need);
	if (r != 0)
		CHECK(buf_len(&b) == n, "failure consumed nothing");
	if (r == MOAT_ERR_AGAIN)
		CHECK(*need > n, "AGAIN asks for more");
	return r;
}

static void
test_viewer_side(void)
{
	/* As gtk-vnc writes it: mechanism, then output + 1 with its byte. */
	static const uint8_t gtk[] = "\0\0\0\x06GSSAPI\0\0\0\x05\x60\x82\x01\x02\xaa";
	static const uint8_t none[] = "\0\0\0\x06GSSAPI\0\0\0\0";
	static const uint8_t empty[] = "\0\0\0\x06GSSAPI\0\0\0\x01\0";
	struct rfb_sasl_data mech, d;
	size_t need, k;

	CHECK(start_of(gtk, sizeof(gtk) - 1, &mech, &d, &need) == 0 &&
	    mech.len == 6 && memcmp(mech.p, "GSSAPI", 6) == 0 && d.present &&
	    d.len == 4 && memcmp(d.p, "\x60\x82\x01\x02", 4) == 0,
	    "the terminator is dropped whatever its value");
	CHECK(start_of(none, sizeof(none) - 1, &mech, &d, &need) == 0 &&
	    !d.present && d.len == 0, "no output");
	CHECK(start_of(empty, sizeof(empty) - 1, &mech, &d, &need) == 0 &&
	    d.present && d.len == 0, "empty output");
	for (k = 0; k < sizeof(gtk) - 1; k++)
		CHECK(start_of(gtk, k, &mech, &d, &need) == MOAT_ERR_AGAIN,
		    "cut at %zu", k);
	/* Needs are exact: 4, then the name, then 4, then the data. */
	CHECK(start_of(gtk, 0, &mech, &d, &need) == MOAT_ERR_AGAIN && need == 4);
	CHECK(start_of(gtk, 4, &mech, &d, &need) == MOAT_ERR_AGAIN && need == 10);
	CHECK(start_of(gtk, 10, &mech, &d, &need) == MOAT_ERR_AGAIN && need == 14);
	CHECK(start_of(gtk, 14, &mech, &d, &need) == MOAT_ERR_AGAIN && need == 19);
	/* Mechanism names. */
	CHECK(start_of(B("\0\0\0\0"), &mech, &d, &need) == MOAT_ERR_PROTOCOL);
	CHECK(start_of(B("\0\0\0\x06gssapi\0\0\0\0"), &mech, &d, &need) ==
	    MOAT_ERR_PROTOCOL, "lower case is no mechanism name");
	CHECK(start_of(B("\0\0\0\x03" "A\0B\0\0\0\0"), &mech, &d, &need) ==
	    MOAT_ERR_PROTOCOL);
	CHECK(start_of(B("\0\0\0\x0bSCRAM-SHA_1\0\0\0\0"), &mech, &d, &need) ==
	    0 && mech.len == 11);
	CHECK(start_of(B("\0\0\0\x65"), &mech, &d, &need) == MOAT_ERR_TOO_LONG,
	    "a name of 101 is refused from its length alone");
	{
		uint8_t m[4 + RFB_SASL_MAX_MECH + 4];

		memset(m, 'A', sizeof(m));
		m[0] = m[1] = m[2] = 0;
		m[3] = RFB_SASL_MAX_MECH;
		memset(m + 4 + RFB_SASL_MAX_MECH, 0, 4);
		CHECK(start_of(m, sizeof(m), &mech, &d, &need) == 0 &&
		    mech.len == RFB_SASL_MAX_MECH);
	}
	/* Data bounds: 65536 + its terminator fits, one more does not. */
	CHECK(step_of(B("\0\x01\0\x01"), &d, &need) == MOAT_ERR_AGAIN &&
	    need == 4 + RFB_SASL_MAX_DATA + 1);
	CHECK(step_of(B("\0\x01\0\x02"), &d, &need) == MOAT_ERR_TOO_LONG);
	CHECK(step_of(B("\xff\xff\xff\xff"), &d, &need) == MOAT_ERR_TOO_LONG);
	CHECK(start_of(B("\0\0\0\x06GSSAPI\0\x01\0\x02"), &mech, &d, &need) ==
	    MOAT_ERR_TOO_LONG);
	CHECK(step_of(B("\0\0\0\0"), &d, &need) == 0 && !d.present);
	CHECK(step_of(B("\0\0\0\x02x\0"), &d, &need) == 0 && d.present &&
	    d.len == 1 && d.p[0] == 'x');
	{
		uint8_t *big = calloc(1, 4 + RFB_SASL_MAX_DATA + 1);

		if (big == NULL)
			abort();
		big[1] = 1;
		big[3] = 1;
		CHECK(step_of(big, 4 + RFB_SASL_MAX_DATA + 1, &d, &need) == 0 &&
		    d.len == RFB_SASL_MAX_DATA);
		free(big);
	}
}

/* Re-encodes what parsed; compares all but the terminator. */
static void
reencodes(const uint8_t *p, size_t n, int start)
{
	struct rfb_sasl_data mech, d;
	char name[RFB_SASL_MAX_MECH + 1];
	struct buf in, out;
	size_t need, used;
	int r;

	buf_view(&in, p, n);
	r = start ? rfb_sasl_parse_start(&in, &mech, &d, &need) :
	    rfb_sasl_parse_step(&in, &d, &need);
	if (r != 0) {
		CHECK(r < 0 && buf_len(&in) == n, "flip: clean failure");
		return;
	}
	used = n - buf_len(&in);
	buf_init(&out, RFB_SASL_MAX_START);
	if (start) {
		memcpy(name, mech.p, mech.len);
		name[mech.len] = '\0';
		r = rfb_sasl_put_start(&out, name, &d);
	} else
		r = rfb_sasl_put_step(&out, &d);
	CHECK(r == 0 && buf_len(&out) == used &&
	    memcmp(buf_ptr(&out), p, used - (d.present ? 1 : 0)) == 0,
	    "flip: re-encodes");
	buf_free(&out);
}

static void
test_mutations(void)
{
	uint8_t msg[] = "\0\0\0\x06GSSAPI\0\0\0\x09\x60\x07\x06\x05\x2b\x05\x01\x05\0";
	uint8_t stp[] = "\0\0\0\x05\x05\x04\x01\xff\0";
	size_t k;

	for (k = 0; k < (sizeof(msg) - 1) * 8; k++) {
		msg[k / 8] ^= (uint8_t)(1u << (k % 8));
		reencodes(msg, sizeof(msg) - 1, 1);
		msg[k / 8] ^= (uint8_t)(1u << (k % 8));
	}
	for (k = 0; k < (sizeof(stp) - 1) * 8; k++) {
		stp[k / 8] ^= (uint8_t)(1u << (k % 8));
		reencodes(stp, sizeof(stp) - 1, 0);
		stp[k / 8] ^= (uint8_t)(1u << (k % 8));
	}
	/* The viewer-side builders check what they are given. */
	{
		struct rfb_sasl_data d = { 0, (const uint8_t *)"x", 1 };
		struct buf b;

		buf_init(&b, 256);
		CHECK(rfb_sasl_put_step(&b, &d) == MOAT_ERR_INVALID &&
		    rfb_sasl_put_start(&b, "", &d) == MOAT_ERR_INVALID &&
		    rfb_sasl_put_start(&b, "gssapi", &d) == MOAT_ERR_INVALID &&
		    buf_len(&b) == 0);
		buf_free(&b);
	}
}

int
main(void)
{
	test_server_side();
	test_viewer_side();
	test_mutations();
	return check_summary();
}
