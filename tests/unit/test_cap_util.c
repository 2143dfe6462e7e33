/*
 * test_cap_util.c - unit tests for moat-session's pure helpers
 * (capture/cap_util.c): damage lists, keysym ranges, Latin-1/UTF-8
 * conversion, cursor un-premultiplication and the channel message decoders,
 * including every truncation and trailing byte of valid messages.
 *
 * Test-only; includes the source directly because moat-session's objects
 * are not in a library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/cap_util.c"

#include "check.h"

static int
has_rect(const struct cap_rects *l, unsigned x, unsigned y, unsigned w,
    unsigned h)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (l->r[i].x == x && l->r[i].y == y && l->r[i].w == w &&
		    l->r[i].h == h)
			return 1;
	return 0;
}

static void
test_rects(void)
{
	static struct cap_rects l;
	struct cap_rect bb;
	unsigned i;

	cap_rects_clear(&l);
	CHECK(cap_rects_bounds(&l, &bb) == -1);
	/* Clipping to the screen. */
	CHECK(cap_rects_add(&l, -10, -10, 20, 20, 640, 480) == 1);
	CHECK(l.n == 1 && has_rect(&l, 0, 0, 10, 10));
	CHECK(cap_rects_add(&l, 630, 470, 100, 100, 640, 480) == 1);
	CHECK(has_rect(&l, 630, 470, 10, 10));
	/* Empty, negative, entirely off-screen: ignored. */
	CHECK(cap_rects_add(&l, 5, 5, 0, 10, 640, 480) == 0);
	CHECK(cap_rects_add(&l, 5, 5, -3, 10, 640, 480) == 0);
	CHECK(cap_rects_add(&l, 700, 5, 10, 10, 640, 480) == 0);
	CHECK(cap_rects_add(&l, 5, 500, 10, 10, 640, 480) == 0);
	CHECK(cap_rects_add(&l, 0, 0, 10, 10, 0, 480) == 0);
	CHECK(cap_rects_add(&l, 0, 0, 10, 10, 70000, 480) == 0);
	CHECK(l.n == 2);
	/* Contained: dropped. Covering: replaces. */
	CHECK(cap_rects_add(&l, 2, 2, 3, 3, 640, 480) == 0);
	CHECK(cap_rects_add(&l, 0, 0, 50, 50, 640, 480) == 1);
	CHECK(l.n == 2 && has_rect(&l, 0, 0, 50, 50) &&
	    !has_rect(&l, 0, 0, 10, 10));
	CHECK(cap_rects_bounds(&l, &bb) == 0 && bb.x == 0 && bb.y == 0 &&
	    bb.w == 640 && bb.h == 480);
	/* Overflow collapses to the bounding box. */
	cap_rects_clear(&l);
	for (i = 0; i < IPC_MAX_DAMAGE_RECTS; i++)
		CHECK(cap_rects_add(&l, (long)(i % 64) * 10, (long)(i / 64) * 10,
		    5, 5, 640, 480) == 1);
	CHECK(l.n == IPC_MAX_DAMAGE_RECTS);
	CHECK(cap_rects_add(&l, 600, 400, 7, 7, 640, 480) == 1);
	CHECK(l.n == 1 && has_rect(&l, 0, 0, 635, 407));
	for (i = 0; i < 2000; i++)
		(void)cap_rects_add(&l, (long)(i * 7) % 640, (long)(i * 13) % 480,
		    3, 3, 640, 480);
	CHECK(l.n <= IPC_MAX_DAMAGE_RECTS);
	for (i = 0; i < l.n; i++)
		CHECK((unsigned)l.r[i].x + l.r[i].w <= 640 &&
		    (unsigned)l.r[i].y + l.r[i].h <= 480 && l.r[i].w > 0 &&
		    l.r[i].h > 0);
	cap_rects_set_full(&l, 320, 240);
	CHECK(l.n == 1 && has_rect(&l, 0, 0, 320, 240));
	cap_rects_set_full(&l, 0, 240);
	CHECK(l.n == 0);
}

static void
test_keysyms(void)
{
	CHECK(!cap_keysym_valid(0));
	CHECK(!cap_keysym_valid(0x1f));
	CHECK(cap_keysym_valid(0x20));
	CHECK(cap_keysym_valid(0x7e));
	CHECK(!cap_keysym_valid(0x7f));
	CHECK(!cap_keysym_valid(0x9f));
	CHECK(cap_keysym_valid(0xa0));
	CHECK(cap_keysym_valid(0xff));
	CHECK(cap_keysym_valid(0x1a1));		/* Aogonek */
	CHECK(cap_keysym_valid(0x20ac));	/* EuroSign */
	CHECK(!cap_keysym_valid(0x2100));
	CHECK(!cap_keysym_valid(0xfdff));
	CHECK(cap_keysym_valid(0xfe03));	/* ISO_Level3_Shift */
	CHECK(cap_keysym_valid(0xff0d));	/* Return */
	CHECK(cap_keysym_valid(0xffe1));	/* Shift_L */
	CHECK(cap_keysym_valid(0xffff));	/* Delete */
	CHECK(!cap_keysym_valid(0x10000));
	CHECK(!cap_keysym_valid(0xffffff));	/* VoidSymbol */
	CHECK(!cap_keysym_valid(0x010000ff));
	CHECK(cap_keysym_valid(0x01000100));
	CHECK(cap_keysym_valid(0x0110ffff));
	CHECK(!cap_keysym_valid(0x01110000));
	CHECK(cap_keysym_valid(0x1008ff11));	/* XF86AudioLowerVolume */
	CHECK(cap_keysym_valid(0x1fffffff));
	CHECK(!cap_keysym_valid(0x20000000));
	CHECK(!cap_keysym_valid(0xffffffff));
}

static void
test_text(void)
{
	uint8_t out[64];
	size_t n;
	int trunc;

	n = cap_latin1_to_utf8((const uint8_t *)"H\xe9l\0lo\xff", 7, out,
	    sizeof(out));
	CHECK(n == 8 && memcmp(out, "H\xc3\xa9llo\xc3\xbf", 8) == 0);
	/* Never splits a character at the end of the room. */
	n = cap_latin1_to_utf8((const uint8_t *)"a\xe9", 2, out, 2);
	CHECK(n == 1 && out[0] == 'a');
	n = cap_latin1_to_utf8((const uint8_t *)"", 0, out, sizeof(out));
	CHECK(n == 0);

	n = cap_utf8_to_latin1((const uint8_t *)"x\xc3\xa9\xe2\x82\xac", 6,
	    out, sizeof(out), &trunc);
	CHECK(n == 3 && memcmp(out, "x\xe9?", 3) == 0 && trunc == 0);
	/* Malformed: lone continuation, overlong, surrogate, too large, cut. */
	n = cap_utf8_to_latin1((const uint8_t *)"\x80" "a", 2, out, sizeof(out),
	    NULL);
	CHECK(n == 2 && memcmp(out, "?a", 2) == 0);
	n = cap_utf8_to_latin1((const uint8_t *)"\xc0\xaf", 2, out, sizeof(out),
	    NULL);
	CHECK(n == 2 && memcmp(out, "??", 2) == 0);
	n = cap_utf8_to_latin1((const uint8_t *)"\xed\xa0\x80", 3, out,
	    sizeof(out), NULL);
	CHECK(n == 3 && memcmp(out, "???", 3) == 0);
	n = cap_utf8_to_latin1((const uint8_t *)"\xf4\x90\x80\x80", 4, out,
	    sizeof(out), NULL);
	CHECK(n == 4);
	n = cap_utf8_to_latin1((const uint8_t *)"\xf0\x9f\x98\x80z", 5, out,
	    sizeof(out), NULL);
	CHECK(n == 2 && memcmp(out, "?z", 2) == 0);
	n = cap_utf8_to_latin1((const uint8_t *)"\xc3", 1, out, sizeof(out),
	    NULL);
	CHECK(n == 1 && out[0] == '?');
	n = cap_utf8_to_latin1((const uint8_t *)"a\0b", 3, out, sizeof(out),
	    NULL);
	CHECK(n == 2 && memcmp(out, "ab", 2) == 0);
	n = cap_utf8_to_latin1((const uint8_t *)"abcdef", 6, out, 4, &trunc);
	CHECK(n == 4 && trunc == 1);
	n = cap_utf8_to_latin1((const uint8_t *)"abcd", 4, out, 4, &trunc);
	CHECK(n == 4 && trunc == 0);
}

static void
test_cursor(void)
{
	CHECK(cap_unpremultiply(0x00ffffff) == 0);
	CHECK(cap_unpremultiply(0xff123456) == 0xff123456);
	CHECK(cap_unpremultiply(0x80400000) == 0x80800000);
	CHECK(cap_unpremultiply(0x80200000) == 0x80400000);
	CHECK(cap_unpremultiply(0x80808080) == 0x80ffffff);
	/* Invalid premultiplied input (colour > alpha) saturates. */
	CHECK(cap_unpremultiply(0x10ff00ff) == 0x10ff00ff);
}

/* Every strict prefix of a valid message must be refused, and so must one trailing byte. */
static void
mutate(const uint8_t *msg, size_t n, int (*parse)(struct buf *))
{
	uint8_t tmp[64];
	struct buf b;
	size_t i;

	buf_view(&b, msg, n);
	CHECK(parse(&b) == 0);
	for (i = 0; i < n; i++) {
		buf_view(&b, msg, i);
		CHECK(parse(&b) != 0);
	}
	memcpy(tmp, msg, n);
	tmp[n] = 0;
	buf_view(&b, tmp, n + 1);
	CHECK(parse(&b) != 0);
}

static int
parse_key(struct buf *b)
{
	uint32_t ks;
	int down;

	return cap_parse_key(b, &down, &ks);
}

static int
parse_pointer(struct buf *b)
{
	uint16_t x, y;
	uint8_t m;

	return cap_parse_pointer(b, &m, &x, &y);
}

static int
parse_clip(struct buf *b)
{
	const uint8_t *t;
	size_t n;

	return cap_parse_clipboard(b, &t, &n);
}

static void
test_parsers(void)
{
	static const uint8_t key[] = { 1, 0, 0, 0xff, 0x0d };
	static const uint8_t key_bad[] = { 2, 0, 0, 0xff, 0x0d };
	static const uint8_t key_zero[] = { 0, 0, 0, 0, 0 };
	static const uint8_t ptr[] = { 0x81, 0x01, 0x02, 0x03, 0x04 };
	static const uint8_t clip[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	static const uint8_t clip_short[] = { 0, 0, 0, 4, 'a', 'b', 'c' };
	uint8_t *big;
	const uint8_t *t;
	struct buf b;
	uint32_t ks;
	uint16_t x, y;
	uint8_t m;
	size_t n, sz;
	int down;

	buf_view(&b, key, sizeof(key));
	CHECK(cap_parse_key(&b, &down, &ks) == 0 && down == 1 && ks == 0xff0d);
	buf_view(&b, key_bad, sizeof(key_bad));
	CHECK(cap_parse_key(&b, &down, &ks) == MOAT_ERR_INVALID);
	/* Structurally fine; the keysym check is the injector's. */
	buf_view(&b, key_zero, sizeof(key_zero));
	CHECK(cap_parse_key(&b, &down, &ks) == 0 && ks == 0 &&
	    !cap_keysym_valid(ks));
	mutate(key, sizeof(key), parse_key);

	buf_view(&b, ptr, sizeof(ptr));
	CHECK(cap_parse_pointer(&b, &m, &x, &y) == 0 && m == 0x81 &&
	    x == 0x102 && y == 0x304);
	mutate(ptr, sizeof(ptr), parse_pointer);

	buf_view(&b, clip, sizeof(clip));
	CHECK(cap_parse_clipboard(&b, &t, &n) == 0 && n == 3 &&
	    memcmp(t, "abc", 3) == 0);
	buf_view(&b, clip_short, sizeof(clip_short));
	CHECK(cap_parse_clipboard(&b, &t, &n) != 0);
	mutate(clip, sizeof(clip), parse_clip);

	/* The limit is IPC_MAX_CUT_TEXT, inclusive. */
	sz = 4 + IPC_MAX_CUT_TEXT + 1;
	if ((big = calloc(1, sz)) == NULL)
		abort();
	big[1] = (uint8_t)(IPC_MAX_CUT_TEXT >> 16);
	big[2] = (uint8_t)(IPC_MAX_CUT_TEXT >> 8);
	big[3] = (uint8_t)IPC_MAX_CUT_TEXT;
	buf_view(&b, big, 4 + IPC_MAX_CUT_TEXT);
	CHECK(cap_parse_clipboard(&b, &t, &n) == 0 && n == IPC_MAX_CUT_TEXT);
	big[1] = (uint8_t)((IPC_MAX_CUT_TEXT + 1) >> 16);
	big[2] = (uint8_t)((IPC_MAX_CUT_TEXT + 1) >> 8);
	big[3] = (uint8_t)(IPC_MAX_CUT_TEXT + 1);
	buf_view(&b, big, sz);
	CHECK(cap_parse_clipboard(&b, &t, &n) == MOAT_ERR_TOO_LONG);
	free(big);
}

int
main(void)
{
	test_rects();
	test_keysyms();
	test_text();
	test_cursor();
	test_parsers();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
