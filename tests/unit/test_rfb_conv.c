/*
 * test_rfb_conv.c - moat's conversation wire format (net/rfb_conv.c): the
 * exact bytes, the bounds (0, the maximum, the maximum + 1, 0xFFFFFFFF),
 * and every bit flip and truncation of good streams. Test code.
 */
#include <stdlib.h>
#include <string.h>

#include "net/rfb_conv.h"
#include "privsep/errors.h"
#include "check.h"

static size_t
put_hdr(uint8_t *p, int kind, uint32_t len)
{
	size_t n = 0;

	if (kind >= 0)
		p[n++] = (uint8_t)kind;
	p[n++] = (uint8_t)(len >> 24);
	p[n++] = (uint8_t)(len >> 16);
	p[n++] = (uint8_t)(len >> 8);
	p[n++] = (uint8_t)len;
	return n;
}

static void
test_bytes(void)
{
	uint8_t out[64];
	struct buf b;

	buf_init_fixed(&b, out, sizeof(out));
	CHECK(rfb_conv_put_message(&b, RFB_CONV_SECRET, "Code: ", 6) == 0);
	CHECK(buf_len(&b) == 11 && memcmp(out, "\x02\0\0\0\x06" "Code: ", 11) == 0);
	buf_init_fixed(&b, out, sizeof(out));
	CHECK(rfb_conv_put_message(&b, RFB_CONV_END, "", 0) == 0);
	CHECK(buf_len(&b) == 5 && memcmp(out, "\0\0\0\0\0", 5) == 0);
	buf_init_fixed(&b, out, sizeof(out));
	CHECK(rfb_conv_put_answer(&b, "123456", 6) == 0);
	CHECK(buf_len(&b) == 10 && memcmp(out, "\0\0\0\x06" "123456", 10) == 0);

	/* Encoders refuse what decoders would. */
	buf_init_fixed(&b, out, sizeof(out));
	CHECK(rfb_conv_put_message(&b, 6, "x", 1) == MOAT_ERR_INVALID);
	CHECK(rfb_conv_put_message(&b, RFB_CONV_END, "x", 1) == MOAT_ERR_INVALID);
	CHECK(rfb_conv_put_message(&b, RFB_CONV_INFO, "a\0b", 3) == MOAT_ERR_INVALID);
	CHECK(rfb_conv_put_answer(&b, "a\0b", 3) == MOAT_ERR_INVALID);
	CHECK(buf_len(&b) == 0, "nothing written on failure");
	/* A buffer too small: all or nothing. */
	CHECK(rfb_conv_put_answer(&b, "x", 1) == 0);
	{
		char big[60];

		memset(big, 'b', sizeof(big));
		CHECK(rfb_conv_put_answer(&b, big, sizeof(big)) != 0);
		CHECK(buf_len(&b) == 5, "%zu", buf_len(&b));
	}
}

/* Parses p[0..n) once; returns the result and checks the no-consume rule. */
static int
parse(int viewer_side, const uint8_t *p, size_t n, char **text, uint8_t *kind)
{
	uint8_t *copy = malloc(n ? n : 1);
	struct buf b;
	int r;

	if (copy == NULL)
		abort();
	memcpy(copy, p, n);
	buf_view(&b, copy, n);
	*text = NULL;
	r = viewer_side ? rfb_conv_parse_message(&b, kind, text) :
	    rfb_conv_parse_answer(&b, text);
	CHECK(r == 0 || (buf_len(&b) == n && *text == NULL), "r=%d", r);
	free(copy);
	return r;
}

static void
test_bounds(void)
{
	static const uint32_t lens[] = { 0, RFB_CONV_MAX_ANSWER,
	    RFB_CONV_MAX_ANSWER + 1, RFB_CONV_MAX_TEXT, RFB_CONV_MAX_TEXT + 1,
	    0xffffffffu };
	uint8_t *p = malloc(5 + RFB_CONV_MAX_TEXT + 1);
	char *text;
	uint8_t kind;
	size_t i, h;
	int r;

	if (p == NULL)
		abort();
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t len = lens[i];
		size_t body = len > RFB_CONV_MAX_TEXT + 1 ? 0 : len;

		/* Answers (server side). */
		h = put_hdr(p, -1, len);
		memset(p + h, 'a', body);
		r = parse(0, p, h + body, &text, &kind);
		if (len <= RFB_CONV_MAX_ANSWER)
			CHECK(r == 0 && strlen(text) == len, "answer %u: %d", len, r);
		else
			CHECK(r == MOAT_ERR_TOO_LONG, "answer %u: %d", len, r);
		free(text);
		/* The length alone decides: no body needed to refuse. */
		if (len > RFB_CONV_MAX_ANSWER)
			CHECK(parse(0, p, h, &text, &kind) == MOAT_ERR_TOO_LONG);

		/* Messages (viewer side). */
		h = put_hdr(p, RFB_CONV_INFO, len);
		memset(p + h, 'm', body);
		r = parse(1, p, h + body, &text, &kind);
		if (len <= RFB_CONV_MAX_TEXT)
			CHECK(r == 0 && strlen(text) == len && kind == RFB_CONV_INFO,
			    "message %u: %d", len, r);
		else
			CHECK(r == MOAT_ERR_TOO_LONG, "message %u: %d", len, r);
		free(text);
	}
	/* Kinds: 0..5 only; END without text. */
	h = put_hdr(p, RFB_CONV_PROVE, 2);
	memcpy(p + h, "ab", 2);
	CHECK(parse(1, p, h + 2, &text, &kind) == 0 && kind == RFB_CONV_PROVE &&
	    strcmp(text, "ab") == 0);
	free(text);
	h = put_hdr(p, 6, 0);
	CHECK(parse(1, p, h, &text, &kind) == MOAT_ERR_PROTOCOL);
	h = put_hdr(p, 0xff, 1);
	CHECK(parse(1, p, h, &text, &kind) == MOAT_ERR_PROTOCOL);
	h = put_hdr(p, RFB_CONV_END, 1);
	p[h] = 'x';
	CHECK(parse(1, p, h + 1, &text, &kind) == MOAT_ERR_PROTOCOL);
	h = put_hdr(p, RFB_CONV_ECHO, 3);
	memcpy(p + h, "a\0b", 3);
	CHECK(parse(1, p, h + 3, &text, &kind) == MOAT_ERR_INVALID);
	h = put_hdr(p, -1, 3);
	memcpy(p + h, "a\0b", 3);
	CHECK(parse(0, p, h + 3, &text, &kind) == MOAT_ERR_INVALID);
	/* Incomplete: every cut of a good message. */
	h = put_hdr(p, RFB_CONV_SECRET, 4);
	memcpy(p + h, "Code", 4);
	for (i = 0; i < h + 4; i++)
		CHECK(parse(1, p, i, &text, &kind) == MOAT_ERR_AGAIN, "cut %zu", i);
	free(p);
}

/*
 * Every bit flip and every truncation of a good stream: each item parses,
 * is incomplete, or is refused; never consumes on failure (checked in
 * parse()) and never reads past the exact-size copy (sanitizer builds).
 */
static void
mutate(int viewer_side, const uint8_t *good, size_t n)
{
	uint8_t *m = malloc(n);
	size_t bit, cut, ok = 0, refused = 0;
	struct buf b;
	uint8_t kind;
	char *text;
	int r;

	if (m == NULL)
		abort();
	for (bit = 0; bit <= n * 8; bit++) {
		for (cut = (bit < n * 8 ? n : 0); cut <= n; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);

			if (copy == NULL)
				abort();
			memcpy(m, good, n);
			if (bit < n * 8)
				m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			memcpy(copy, m, cut);
			buf_view(&b, copy, cut);
			for (;;) {
				size_t before = buf_len(&b);

				text = NULL;
				r = viewer_side ?
				    rfb_conv_parse_message(&b, &kind, &text) :
				    rfb_conv_parse_answer(&b, &text);
				if (r != 0) {
					CHECK(buf_len(&b) == before && text == NULL);
					refused += r != MOAT_ERR_AGAIN;
					break;
				}
				ok++;
				CHECK(strlen(text) < before);
				free(text);
			}
			free(copy);
		}
	}
	CHECK(ok > 0 && refused > 0, "%zu parsed, %zu refused", ok, refused);
	free(m);
}

static void
test_mutations(void)
{
	uint8_t s[256];
	size_t n = 0;
	struct buf b;

	buf_init_fixed(&b, s, sizeof(s));
	CHECK(rfb_conv_put_message(&b, RFB_CONV_ECHO, "Username: ", 10) == 0 &&
	    rfb_conv_put_message(&b, RFB_CONV_SECRET, "Password: ", 10) == 0 &&
	    rfb_conv_put_message(&b, RFB_CONV_ERROR, "Expired", 7) == 0 &&
	    rfb_conv_put_message(&b, RFB_CONV_END, "", 0) == 0);
	n = buf_len(&b);
	mutate(1, s, n);
	buf_init_fixed(&b, s, sizeof(s));
	CHECK(rfb_conv_put_answer(&b, "alice", 5) == 0 &&
	    rfb_conv_put_answer(&b, "", 0) == 0 &&
	    rfb_conv_put_answer(&b, "123456", 6) == 0);
	mutate(0, s, buf_len(&b));
}

int
main(void)
{
	test_bytes();
	test_bounds();
	test_mutations();
	return check_summary();
}
