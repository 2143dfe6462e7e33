/*
 * test_rfb_dirty.c - unit tests for the coalescing dirty region
 * (net/rfb_dirty.c), the heart of moat-net's flow control: however many
 * requests and damage reports pile up while a viewer does not read, the
 * region stays within the framebuffer (area at most width x height, every
 * rectangle inside it, at most max rectangles) and still covers every
 * pixel that was added. Test code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_dirty.h"

#include "check.h"

#define MAX	16

static struct rfb_rect16 r[MAX];
static uint16_t n;

/* Checks the invariants; returns 1 if they hold. */
static int
sound(uint16_t fbw, uint16_t fbh)
{
	uint16_t i;

	if (n > MAX || rfb_dirty_area(r, n) > (uint64_t)fbw * fbh)
		return 0;
	for (i = 0; i < n; i++)
		if (r[i].w == 0 || r[i].h == 0 ||
		    (uint32_t)r[i].x + r[i].w > fbw ||
		    (uint32_t)r[i].y + r[i].h > fbh)
			return 0;
	return 1;
}

static int
covered(uint32_t x, uint32_t y)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		if (x >= r[i].x && x < (uint32_t)r[i].x + r[i].w &&
		    y >= r[i].y && y < (uint32_t)r[i].y + r[i].h)
			return 1;
	return 0;
}

static void
test_basics(void)
{
	int i;

	n = 0;
	rfb_dirty_add(r, &n, MAX, 100, 50, 100, 0, 10, 10);
	rfb_dirty_add(r, &n, MAX, 100, 50, 0, 50, 10, 10);
	rfb_dirty_add(r, &n, MAX, 100, 50, 0, 0, 0, 10);
	CHECK(n == 0, "outside or empty rectangles are skipped");
	rfb_dirty_add(r, &n, MAX, 100, 50, 90, 40, 65535, 65535);
	CHECK(n == 1 && r[0].x == 90 && r[0].y == 40 && r[0].w == 10 &&
	    r[0].h == 10, "clipped to the framebuffer");
	rfb_dirty_add(r, &n, MAX, 100, 50, 92, 41, 3, 3);
	CHECK(n == 1, "a covered rectangle is skipped");
	rfb_dirty_add(r, &n, 0, 100, 50, 0, 0, 3, 3);
	CHECK(n == 1, "max 0 adds nothing");

	/* A viewer asking for the full screen again and again: one rect. */
	n = 0;
	for (i = 0; i < 100000; i++)
		rfb_dirty_add(r, &n, MAX, 1920, 1080, 0, 0, 1920, 1080);
	CHECK(n == 1 && rfb_dirty_area(r, n) == 1920u * 1080u,
	    "repeated full-screen requests coalesce into one");

	/* Overlapping large pieces: never more than the screen. */
	n = 0;
	for (i = 0; i < 64; i++) {
		rfb_dirty_add(r, &n, MAX, 1920, 1080, (uint16_t)(i * 7),
		    (uint16_t)(i * 3), 1500, 900);
		CHECK(sound(1920, 1080), "overlap %d stays within the screen", i);
	}
	CHECK(covered(0, 0) && covered(1919, 1079) && covered(63 * 7, 63 * 3),
	    "the bounding box covers every piece");

	/* A full list collapses to its bounding box. */
	n = 0;
	for (i = 0; i < MAX; i++)
		rfb_dirty_add(r, &n, MAX, 1000, 1000, (uint16_t)(i * 10), 0, 1, 1);
	CHECK(n == MAX, "%u small pieces kept apart", MAX);
	rfb_dirty_add(r, &n, MAX, 1000, 1000, 500, 500, 1, 1);
	CHECK(n == 1 && r[0].x == 0 && r[0].y == 0 && r[0].w == 501 &&
	    r[0].h == 501, "one more collapses to the bounding box");
}

/* Random adds on a small screen: invariants and coverage, pixel by pixel. */
static void
test_random(void)
{
	enum { W = 37, H = 23 };
	static uint8_t want[H][W];
	uint32_t x, y, round, k, bad = 0, unsound = 0;
	uint16_t ax, ay, aw, ah;

	srand(8);
	for (round = 0; round < 2000; round++) {
		n = 0;
		memset(want, 0, sizeof(want));
		for (k = 0; k < (uint32_t)(rand() % 40); k++) {
			ax = (uint16_t)(rand() % (W + 5));
			ay = (uint16_t)(rand() % (H + 5));
			aw = (uint16_t)(rand() % 3 == 0 ? rand() % 65536 :
			    rand() % 20);
			ah = (uint16_t)(rand() % 3 == 0 ? rand() % 65536 :
			    rand() % 20);
			rfb_dirty_add(r, &n, MAX, W, H, ax, ay, aw, ah);
			for (y = ay; y < H && y < (uint32_t)ay + ah; y++)
				for (x = ax; x < W && x < (uint32_t)ax + aw; x++)
					want[y][x] = 1;
			if (!sound(W, H))
				unsound++;
		}
		for (y = 0; y < H; y++)
			for (x = 0; x < W; x++)
				if (want[y][x] && !covered(x, y))
					bad++;
	}
	CHECK(unsound == 0, "%u states broke an invariant", unsound);
	CHECK(bad == 0, "%u dirty pixels lost", bad);
}

int
main(void)
{
	test_basics();
	test_random();
	return check_summary();
}
