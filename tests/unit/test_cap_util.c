/*
 * test_cap_util.c - unit tests for moat-session's pure helpers
 * (capture/cap_util.c): damage lists, keysym ranges, Latin-1/UTF-8
 * conversion and cursor un-premultiplication. The channel messages' decoders
 * are privsep/ipc_msg.c's, tested by test_ipc_msg.c.
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

int
main(void)
{
	test_rects();
	test_keysyms();
	test_text();
	test_cursor();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
