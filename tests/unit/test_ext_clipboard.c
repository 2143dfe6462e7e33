/*
 * test_ext_clipboard.c - unit and deterministic mutation tests for the
 * ExtendedClipboard payloads (net/rfb_extclip.c): Caps, Request, Peek,
 * Notify, the bounded inflate of Provide (zip bombs, truncations, every
 * bit flip), the UTF-8 / Latin-1 conversions and the server's messages.
 * Test code; runs no moat process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "net/rfb_extclip.h"
#include "net/rfb_reader.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

#include "check.h"

#define MAX_TEXT	1000

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Builds a Provide payload: flags, then zlib of (size, data) for the text
 * and, when rtf is not NULL, for RTF too. declared is the text's size field.
 */
static size_t
make_provide(uint8_t *out, size_t cap, const uint8_t *text, size_t len,
    uint32_t declared, const char *rtf)
{
	size_t plen = 4 + len + (rtf != NULL ? 4 + strlen(rtf) : 0);
	uint8_t *plain = malloc(plen);
	uLongf zlen = cap - 4;

	if (plain == NULL)
		abort();
	be32(plain, declared);
	memcpy(plain + 4, text, len);
	if (rtf != NULL) {
		be32(plain + 4 + len, (uint32_t)strlen(rtf));
		memcpy(plain + 8 + len, rtf, strlen(rtf));
	}
	be32(out, RFB_EXTCLIP_PROVIDE | RFB_EXTCLIP_TEXT |
	    (rtf != NULL ? 0x2 : 0));
	if (compress2(out + 4, &zlen, plain, plen, 9) != Z_OK)
		abort();
	free(plain);
	return 4 + zlen;
}

static void
test_actions(void)
{
	struct rfb_extclip x;
	uint8_t p[4 + 4 * 17];

	/* Caps: one size per format bit, in bit order. */
	be32(p, RFB_EXTCLIP_CAPS | RFB_EXTCLIP_PROVIDE | RFB_EXTCLIP_NOTIFY |
	    0x5);
	be32(p + 4, 12345);
	be32(p + 8, 99);
	CHECK(rfb_extclip_parse(p, 12, MAX_TEXT, &x) == 0);
	CHECK(x.text_max == 12345 && (x.flags & RFB_EXTCLIP_TEXT));
	rfb_extclip_clear(&x);
	CHECK(rfb_extclip_parse(p, 8, MAX_TEXT, &x) == MOAT_ERR_PROTOCOL);
	CHECK(rfb_extclip_parse(p, 16, MAX_TEXT, &x) == MOAT_ERR_PROTOCOL);
	/* All sixteen formats. */
	be32(p, RFB_EXTCLIP_CAPS | 0xffff);
	CHECK(rfb_extclip_parse(p, 4 + 64, MAX_TEXT, &x) == 0);
	CHECK(rfb_extclip_parse(p, 4 + 68, MAX_TEXT, &x) == MOAT_ERR_PROTOCOL);
	/* Request, Peek, Notify: the flags alone. */
	be32(p, RFB_EXTCLIP_REQUEST | RFB_EXTCLIP_TEXT);
	CHECK(rfb_extclip_parse(p, 4, MAX_TEXT, &x) == 0 &&
	    x.flags == (RFB_EXTCLIP_REQUEST | RFB_EXTCLIP_TEXT));
	CHECK(rfb_extclip_parse(p, 5, MAX_TEXT, &x) == MOAT_ERR_PROTOCOL);
	be32(p, RFB_EXTCLIP_PEEK);
	CHECK(rfb_extclip_parse(p, 4, MAX_TEXT, &x) == 0);
	be32(p, RFB_EXTCLIP_NOTIFY);
	CHECK(rfb_extclip_parse(p, 4, MAX_TEXT, &x) == 0);
	/* No action, two actions, an unknown action, short flags. */
	be32(p, RFB_EXTCLIP_TEXT);
	CHECK(rfb_extclip_parse(p, 4, MAX_TEXT, &x) == MOAT_ERR_PROTOCOL);
	be32(p, RFB_EXTCLIP_REQUEST | RFB_EXTCLIP_NOTIFY);
	CHECK(rfb_extclip_parse(p, 4, MAX_TEXT, &x) == MOAT_ERR_PROTOCOL);
	be32(p, 0x20000000U);
	CHECK(rfb_extclip_parse(p, 4, MAX_TEXT, &x) == MOAT_ERR_PROTOCOL);
	/* Caps may name actions moat does not know. */
	be32(p, RFB_EXTCLIP_CAPS | 0xe0000000U);
	CHECK(rfb_extclip_parse(p, 4, MAX_TEXT, &x) == 0 && x.text_max == 0);
	CHECK(rfb_extclip_parse(p, 3, MAX_TEXT, &x) == MOAT_ERR_PROTOCOL);
	/* A Provide without text is accepted and inflates nothing. */
	be32(p, RFB_EXTCLIP_PROVIDE | 0x2);
	p[4] = 0xff;
	CHECK(rfb_extclip_parse(p, 5, MAX_TEXT, &x) == 0 && !x.has_text);
}

static void
test_provide(void)
{
	static const uint8_t utf8[] = "h\xc3\xa9llo\r\nworld \xe2\x82\xac"
	    "\xf0\x9f\x98\x80 \xc0\xaf\xff end\r";
	static const char want[] = "h\xe9llo\nworld ?? ??? end\r";
	struct rfb_extclip x;
	uint8_t p[4096];
	size_t n;

	n = make_provide(p, sizeof(p), utf8, sizeof(utf8), sizeof(utf8),
	    "{\\rtf1 x}");
	CHECK(rfb_extclip_parse(p, n, MAX_TEXT, &x) == 0);
	CHECK(x.has_text && x.text_len == strlen(want) &&
	    memcmp(x.text, want, x.text_len) == 0, "got %zu bytes", x.text_len);
	rfb_extclip_clear(&x);
	CHECK(x.text == NULL);
	/* Text exactly at the bound, and one byte over it. */
	{
		uint8_t *big = malloc(MAX_TEXT + 1);

		memset(big, 'a', MAX_TEXT + 1);
		big[MAX_TEXT - 1] = 0;
		n = make_provide(p, sizeof(p), big, MAX_TEXT, MAX_TEXT, NULL);
		CHECK(rfb_extclip_parse(p, n, MAX_TEXT, &x) == 0 &&
		    x.text_len == MAX_TEXT - 1);
		rfb_extclip_clear(&x);
		n = make_provide(p, sizeof(p), big, MAX_TEXT + 1, MAX_TEXT + 1,
		    NULL);
		CHECK(rfb_extclip_parse(p, n, MAX_TEXT, &x) ==
		    MOAT_ERR_TOO_LONG);
		free(big);
	}
	/* A size larger than the data that follows: truncated. */
	n = make_provide(p, sizeof(p), (const uint8_t *)"abc", 3, 10, NULL);
	CHECK(rfb_extclip_parse(p, n, MAX_TEXT, &x) == MOAT_ERR_PROTOCOL);
	/* Not zlib at all. */
	memset(p + 4, 0x55, 40);
	CHECK(rfb_extclip_parse(p, 44, MAX_TEXT, &x) == MOAT_ERR_PROTOCOL);
	CHECK(rfb_extclip_parse(p, 4, MAX_TEXT, &x) == MOAT_ERR_PROTOCOL);
}

/* Zip bombs: megabytes of zeros in a few kilobytes of zlib data. */
static void
test_bombs(void)
{
	const size_t huge = 16u * 1024 * 1024;
	uint8_t *zeros = calloc(1, huge), *p = malloc(64 * 1024);
	struct rfb_extclip x;
	size_t n;

	if (zeros == NULL || p == NULL)
		abort();
	/* The size field tells the truth: refused before inflating it. */
	n = make_provide(p, 64 * 1024, zeros, huge, (uint32_t)huge, NULL);
	CHECK(n < 64 * 1024);
	CHECK(n <= rfb_extclip_max_payload(MAX_TEXT) * 64);
	CHECK(rfb_extclip_parse(p, n, MAX_TEXT, &x) == MOAT_ERR_TOO_LONG);
	/* The size field lies low: only that much is ever inflated. */
	n = make_provide(p, 64 * 1024, zeros, huge, 10, NULL);
	CHECK(rfb_extclip_parse(p, n, MAX_TEXT, &x) == 0 && x.text_len == 0);
	rfb_extclip_clear(&x);
	free(zeros);
	free(p);
}

static void
test_server_messages(void)
{
	static const uint8_t latin1[] = "caf\xe9\nline2\r\n\xff";
	static const uint8_t back[] = "caf\xe9\nline2\n\xff";	/* CRLF is LF */
	struct rfb_extclip x;
	struct buf b;
	const uint8_t *q;
	uint32_t len;

	buf_init(&b, 1 << 20);
	CHECK(rfb_extclip_put_caps(&b, 4242) == 0);
	q = buf_ptr(&b);
	CHECK(buf_len(&b) == 16 && q[0] == 3 && q[1] == 0 && q[2] == 0 &&
	    q[3] == 0);
	len = (uint32_t)q[4] << 24 | (uint32_t)q[5] << 16 |
	    (uint32_t)q[6] << 8 | q[7];
	CHECK(len == (uint32_t)-8);
	CHECK(rfb_extclip_parse(q + 8, 8, MAX_TEXT, &x) == 0 &&
	    x.text_max == 4242 && (x.flags & RFB_EXTCLIP_PROVIDE) &&
	    (x.flags & RFB_EXTCLIP_REQUEST) && (x.flags & RFB_EXTCLIP_NOTIFY) &&
	    (x.flags & RFB_EXTCLIP_PEEK) && (x.flags & RFB_EXTCLIP_FORMATS) ==
	    RFB_EXTCLIP_TEXT);
	buf_reset(&b);
	CHECK(rfb_extclip_put_flags(&b, RFB_EXTCLIP_NOTIFY |
	    RFB_EXTCLIP_TEXT) == 0 && buf_len(&b) == 12);
	buf_reset(&b);
	/* Provide: UTF-8, CRLF, NUL; it parses back to the Latin-1 text. */
	CHECK(rfb_extclip_put_provide(&b, latin1, sizeof(latin1) - 1) == 0);
	q = buf_ptr(&b);
	len = (uint32_t)q[4] << 24 | (uint32_t)q[5] << 16 |
	    (uint32_t)q[6] << 8 | q[7];
	CHECK(q[0] == 3 && (uint32_t)-len == buf_len(&b) - 8);
	CHECK(rfb_extclip_parse(q + 8, buf_len(&b) - 8, MAX_TEXT, &x) == 0);
	CHECK(x.has_text && x.text_len == sizeof(back) - 1 &&
	    memcmp(x.text, back, x.text_len) == 0);
	rfb_extclip_clear(&x);
	{
		/* What a viewer inflates: the CRLF form with its NUL. */
		static const uint8_t wire[] = "caf\xc3\xa9\r\nline2\r\n\xc3\xbf";
		uint8_t plain[64];
		uLongf pl = sizeof(plain);

		CHECK(uncompress(plain, &pl, q + 12, buf_len(&b) - 12) == Z_OK);
		CHECK(pl == 4 + sizeof(wire) && plain[3] == sizeof(wire) &&
		    memcmp(plain + 4, wire, sizeof(wire)) == 0);
	}
	buf_reset(&b);
	CHECK(rfb_extclip_put_provide(&b, (const uint8_t *)"", 0) == 0);
	q = buf_ptr(&b);
	CHECK(rfb_extclip_parse(q + 8, buf_len(&b) - 8, MAX_TEXT, &x) == 0 &&
	    x.has_text && x.text_len == 0);
	rfb_extclip_clear(&x);
	buf_free(&b);
}

/* Parses p[0..n): 0 parsed, 1 refused as the contract allows, -1 anything else. */
static int
parse_ok(const uint8_t *p, size_t n)
{
	struct rfb_extclip x;
	uint8_t *exact = malloc(n ? n : 1);
	int r, bad = 0;

	if (exact == NULL)
		abort();
	memcpy(exact, p, n);	/* exact size: an overread shows under ASan */
	r = rfb_extclip_parse(exact, n, MAX_TEXT, &x);
	if (r == 0) {
		if (x.has_text && (x.text == NULL || x.text_len > MAX_TEXT))
			bad = 1;
		rfb_extclip_clear(&x);
	} else if (r != MOAT_ERR_PROTOCOL && r != MOAT_ERR_TOO_LONG)
		bad = 1;
	else if (x.text != NULL || x.text_len != 0)
		bad = 1;
	free(exact);
	if (bad)
		fprintf(stderr, "bad outcome %d for %zu bytes\n", r, n);
	return bad ? -1 : r != 0;
}

static void
test_mutations(void)
{
	static const uint8_t text[] = "mutation\r\ntest \xc3\xa9\r\n";
	uint8_t p[512];
	size_t n, i, bit, text_end;
	int bad = 0, r;
	long runs = 0;

	n = make_provide(p, sizeof(p), text, sizeof(text), sizeof(text),
	    "{\\rtf1 more}");
	/* Every truncation: before the whole text is inflated it fails. */
	text_end = 0;
	for (i = 0; i <= n; i++) {
		r = parse_ok(p, i);
		if (r < 0)
			bad++;
		if (r == 0 && text_end == 0)
			text_end = i;
		if (text_end != 0 && r != 0) {
			fprintf(stderr, "prefix %zu: %d\n", i, r);
			bad++;	/* a longer prefix must still parse */
		}
		runs++;
	}
	CHECK(text_end > 4 && text_end <= n, "text_end %zu of %zu", text_end, n);
	/* Every single-bit flip, each with a few truncations. */
	for (bit = 0; bit < n * 8; bit++) {
		p[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		for (i = n; i + 8 > n && i > 0; i--) {
			if (parse_ok(p, i) < 0)
				bad++;
			runs++;
		}
		p[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	if (bad != 0)
		fprintf(stderr, "mutation: %d bad outcomes in %ld runs\n", bad,
		    runs);
	CHECK(bad == 0);
}

int
main(void)
{
	test_actions();
	test_provide();
	test_bombs();
	test_server_messages();
	test_mutations();
	return check_summary();
}
