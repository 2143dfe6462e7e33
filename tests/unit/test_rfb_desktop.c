/*
 * test_rfb_desktop.c - unit and deterministic mutation tests for the
 * viewer's SetDesktopSize parser and layout check (net/rfb_desktop.c), and
 * for the same message through rfb_read_client_msg(). Test code; runs no
 * moat process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_desktop.h"
#include "net/rfb_reader.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

#include "check.h"

/* Writes a SetDesktopSize for d into p (at least RFB_DESKTOP_SIZE_MAX_MSG); returns its length. */
static size_t
encode(const struct rfb_desktop_size *d, uint8_t *p)
{
	size_t n = 0;
	unsigned i;

#define PUT8(v)		(p[n++] = (uint8_t)(v))
#define PUT16(v)	(PUT8((v) >> 8), PUT8(v))
#define PUT32(v)	(PUT16((v) >> 16), PUT16(v))
	PUT8(RFB_SET_DESKTOP_SIZE);
	PUT8(0);
	PUT16(d->w);
	PUT16(d->h);
	PUT8(d->n);
	PUT8(0);
	for (i = 0; i < d->n; i++) {
		PUT32(d->screens[i].id);
		PUT16(d->screens[i].x);
		PUT16(d->screens[i].y);
		PUT16(d->screens[i].w);
		PUT16(d->screens[i].h);
		PUT32(d->screens[i].flags);
	}
	return n;
}

/* Parses p[0..len) from a fresh buffer; *used is what was consumed. */
static int
parse(const uint8_t *p, size_t len, struct rfb_desktop_size *d, size_t *used)
{
	struct buf b;
	int r;

	buf_view(&b, p, len);
	memset(d, 0x5a, sizeof(*d));
	r = rfb_read_set_desktop_size(&b, d);
	*used = len - buf_len(&b);
	return r;
}

static const struct rfb_desktop_size two = { 1920, 1080, 2, {
	{ 7, 0, 0, 960, 1080, 0 },
	{ 0x80000001u, 960, 0, 960, 1080, 0x12345678u },
} };

static void
test_parse(void)
{
	uint8_t p[RFB_DESKTOP_SIZE_MAX_MSG + 8];
	struct rfb_desktop_size d, big;
	size_t n, used, i;
	unsigned k;

	n = encode(&two, p);
	CHECK(n == 8 + 32);
	CHECK(parse(p, n, &d, &used) == 0 && used == n);
	CHECK(d.w == 1920 && d.h == 1080 && d.n == 2);
	CHECK(memcmp(d.screens, two.screens, sizeof(two.screens[0]) * 2) == 0);
	/* Exactly one message is consumed; what follows stays. */
	p[n] = 3;
	CHECK(parse(p, n + 1, &d, &used) == 0 && used == n);
	/* Every truncation asks for more and consumes nothing. */
	for (i = 0; i < n; i++)
		if (parse(p, i, &d, &used) != MOAT_ERR_AGAIN || used != 0)
			break;
	CHECK(i == n, "truncation at %zu", i);
	/* Padding is ignored. */
	p[1] = 0xff;
	p[7] = 0xff;
	CHECK(parse(p, n, &d, &used) == 0 && used == n);
	/* Another type is not this parser's. */
	p[0] = RFB_SET_ENCODINGS;
	CHECK(parse(p, n, &d, &used) == MOAT_ERR_PROTOCOL && used == 0);

	/* The screen count: 16 at most, refused before any screen arrives. */
	memset(&big, 0, sizeof(big));
	big.w = 1024;
	big.h = 768;
	big.n = RFB_MAX_SCREENS;
	for (k = 0; k < RFB_MAX_SCREENS; k++)
		big.screens[k] = (struct rfb_screen){ k, 0, 0, 1024, 768, 0 };
	n = encode(&big, p);
	CHECK(n == RFB_DESKTOP_SIZE_MAX_MSG);
	CHECK(parse(p, n, &d, &used) == 0 && used == n && d.n == 16);
	CHECK(parse(p, n - 1, &d, &used) == MOAT_ERR_AGAIN && used == 0);
	for (k = RFB_MAX_SCREENS + 1; k < 256; k++) {
		p[6] = (uint8_t)k;
		if (parse(p, 7, &d, &used) != MOAT_ERR_TOO_LONG || used != 0 ||
		    parse(p, sizeof(p), &d, &used) != MOAT_ERR_TOO_LONG)
			break;
	}
	CHECK(k == 256, "%u screens", k);
	CHECK(parse(p, 6, &d, &used) == MOAT_ERR_AGAIN);

	/* Width and height: 1..16384 each, else the viewer is closed. */
	memset(&big, 0, sizeof(big));
	big.w = 1;
	big.h = 16384;
	n = encode(&big, p);
	CHECK(parse(p, n, &d, &used) == 0 && d.w == 1 && d.h == 16384 &&
	    d.n == 0);
	big.w = 0;
	n = encode(&big, p);
	CHECK(parse(p, n, &d, &used) == MOAT_ERR_INVALID && used == 0);
	CHECK(parse(p, 6, &d, &used) == MOAT_ERR_INVALID && used == 0);
	big.w = 16384;
	big.h = 16385;
	n = encode(&big, p);
	CHECK(parse(p, n, &d, &used) == MOAT_ERR_INVALID && used == 0);
	big.h = 0xffff;
	n = encode(&big, p);
	CHECK(parse(p, n, &d, &used) == MOAT_ERR_INVALID && used == 0);
	/* A bad size is refused first: it comes before the count. */
	p[6] = 17;
	CHECK(parse(p, 7, &d, &used) == MOAT_ERR_INVALID);
	CHECK(parse(p, 5, &d, &used) == MOAT_ERR_AGAIN);
}

static void
test_reader(void)
{
	const struct rfb_reader_limits lim = { .max_cut_text = 100 };
	uint8_t p[RFB_DESKTOP_SIZE_MAX_MSG];
	struct rfb_client_msg m;
	struct buf b;
	size_t n;

	/* rfb_read_client_msg() is exactly as strict and takes as much. */
	n = encode(&two, p);
	buf_view(&b, p, n);
	CHECK(rfb_read_client_msg(&b, &m, &lim) == 0 && buf_len(&b) == 0 &&
	    m.type == RFB_SET_DESKTOP_SIZE && m.u.desktop_size.w == 1920 &&
	    m.u.desktop_size.h == 1080 && m.u.desktop_size.nscreens == 2);
	p[2] = p[3] = 0;
	buf_view(&b, p, n);
	CHECK(rfb_read_client_msg(&b, &m, &lim) == MOAT_ERR_INVALID &&
	    buf_len(&b) == n);
	p[2] = 0x07;
	p[6] = 17;
	buf_view(&b, p, 7);
	CHECK(rfb_read_client_msg(&b, &m, &lim) == MOAT_ERR_TOO_LONG);
	CHECK(rfb_reader_max_msg(&lim) >= RFB_DESKTOP_SIZE_MAX_MSG);
}

static void
test_layout(void)
{
	struct rfb_desktop_size d;

	d = two;
	CHECK(rfb_desktop_layout_check(&d) == 0);
	/* One screen covering everything: what TigerVNC and gtk-vnc send. */
	d.n = 1;
	d.screens[0] = (struct rfb_screen){ 0, 0, 0, 1920, 1080, 0 };
	CHECK(rfb_desktop_layout_check(&d) == 0);
	/* Overlapping screens are allowed (mirrors). */
	d = two;
	d.screens[1].x = 100;
	CHECK(rfb_desktop_layout_check(&d) == 0);
	/* No screen. */
	d = two;
	d.n = 0;
	CHECK(rfb_desktop_layout_check(&d) == MOAT_ERR_INVALID);
	/* A screen sticking out, right or bottom, by one pixel. */
	d = two;
	d.screens[1].w = 961;
	CHECK(rfb_desktop_layout_check(&d) == MOAT_ERR_INVALID);
	d = two;
	d.screens[0].y = 1;
	CHECK(rfb_desktop_layout_check(&d) == MOAT_ERR_INVALID);
	/* 16-bit wrap-around does not bring a screen back inside. */
	d = two;
	d.screens[1].x = 0xffff;
	d.screens[1].w = 2;
	CHECK(rfb_desktop_layout_check(&d) == MOAT_ERR_INVALID);
	/* An empty screen. */
	d = two;
	d.screens[0].h = 0;
	CHECK(rfb_desktop_layout_check(&d) == MOAT_ERR_INVALID);
	d = two;
	d.screens[0].w = 0;
	CHECK(rfb_desktop_layout_check(&d) == MOAT_ERR_INVALID);
	/* Two screens with one id. */
	d = two;
	d.screens[1].id = 7;
	CHECK(rfb_desktop_layout_check(&d) == MOAT_ERR_INVALID);
	/* A size outside the bounds is never a valid layout either. */
	d = two;
	d.w = 0;
	CHECK(rfb_desktop_layout_check(&d) == MOAT_ERR_INVALID);
	d = two;
	d.n = RFB_MAX_SCREENS + 1;
	CHECK(rfb_desktop_layout_check(&d) == MOAT_ERR_INVALID);
}

/*
 * Every single-bit flip of the two-screen message, each with every
 * truncation: the parser returns one of its codes, consumes exactly the
 * message or nothing, and what it accepts re-encodes to the same bytes
 * (padding aside) and obeys the bounds.
 */
static void
test_mutations(void)
{
	uint8_t good[RFB_DESKTOP_SIZE_MAX_MSG], re[RFB_DESKTOP_SIZE_MAX_MSG];
	struct rfb_desktop_size d;
	size_t n, len, bit, used, rn;
	long runs = 0;
	int bad = 0, r;

	n = encode(&two, good);
	for (bit = 0; bit < n * 8; bit++) {
		for (len = 0; len <= n; len++) {
			uint8_t *exact = malloc(len ? len : 1);

			if (exact == NULL)
				abort();
			memcpy(exact, good, len);
			if (bit / 8 < len)
				exact[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			r = parse(exact, len, &d, &used);
			runs++;
			if (r == 0) {
				rn = encode(&d, re);
				re[1] = exact[1];
				re[7] = exact[7];
				if (used != rn || rn > len ||
				    memcmp(re, exact, rn) != 0 ||
				    d.n > RFB_MAX_SCREENS || d.w < 1 ||
				    d.w > RFB_MAX_DESKTOP_DIM || d.h < 1 ||
				    d.h > RFB_MAX_DESKTOP_DIM)
					bad++;
			} else if ((r != MOAT_ERR_AGAIN &&
			    r != MOAT_ERR_TOO_LONG && r != MOAT_ERR_INVALID &&
			    r != MOAT_ERR_PROTOCOL) || used != 0)
				bad++;
			free(exact);
		}
	}
	if (bad != 0)
		fprintf(stderr, "mutation: %d bad outcomes in %ld runs\n", bad,
		    runs);
	CHECK(bad == 0);
}

int
main(void)
{
	test_parse();
	test_reader();
	test_layout();
	test_mutations();
	return check_summary();
}
