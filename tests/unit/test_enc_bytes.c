/*
 * test_enc_bytes.c - byte-count regression check: each encoder's output
 * size for the three fixed images of enc_images.h (1080p desktop, text
 * page, photo) must stay within 2% of the recorded value, so a change
 * that makes an encoder compress worse (or suspiciously better) is seen.
 * No timing. Test code.
 *
 * To update after an intended change: run this test with
 * MOAT_TEST_VERBOSE=1, which prints each measured size, and copy the
 * numbers into recorded[] below (say why in the commit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/encoder.h"
#include "net/pixfmt.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

#include "check.h"
#include "enc_images.h"

enum { B_RAW, B_HEXTILE, B_ZLIB, B_TRLE, B_ZRLE, B_ZRLE_C3, B_TIGHT, B_TIGHT_Q8, B_TIGHT_Q2_C1, B_COUNT };
static const char *names[B_COUNT] = {
	"raw", "hextile", "zlib", "trle", "zrle", "zrle-c3", "tight", "tight-q8", "tight-q2-c1"
};

/* Bytes of one full-screen update's rectangles, 32-bpp rgb888 client, first frame. */
static const size_t recorded[IMG_COUNT][B_COUNT] = {
	/* desktop 1920x1080 */
	{ 8294412, 1568839, 901845, 936721, 756495, 833660, 633735, 243174, 165410 },
	/* text 640x480 */
	{ 1228812, 259247, 58443, 82702, 36979, 34871, 39326, 39326, 39326 },
	/* photo 512x512 */
	{ 1048588, 1049612, 822905, 787468, 751147, 759629, 380377, 53564, 14907 },
};

int
main(void)
{
	static const struct fb_format src = { 0xff0000, 0x00ff00, 0x0000ff };
	static const struct rfb_pixfmt pf = { 32, 24, 0, 1, 255, 255, 255, 16, 8, 0 };
	int verbose = getenv("MOAT_TEST_VERBOSE") != NULL;
	struct zrle_state zrle;
	struct zlib_state zlib;
	struct tight_state tight;
	struct enc_opts o;
	struct pixconv pc;
	struct fb_view fb;
	struct buf out;
	uint32_t *px, n;
	size_t got, want;
	int i, e, w, h, r;

	CHECK(pixconv_init(&pc, &src, &pf) == 0);
	buf_init(&out, 64u << 20);
	for (i = 0; i < IMG_COUNT; i++) {
		if ((px = img_make(i, &w, &h)) == NULL)
			return 1;
		fb.data = (const uint8_t *)px;
		fb.stride = (uint32_t)w * 4;
		fb.width = (uint16_t)w;
		fb.height = (uint16_t)h;
		fb.fmt = src;
		for (e = 0; e < B_COUNT; e++) {
			CHECK(zrle_init(&zrle, 6) == 0);
			CHECK(zlib_enc_init(&zlib, 6) == 0);
			tight_init(&tight);
			enc_opts_clear(&o);
			if (e == B_TIGHT_Q8)
				o.quality = 8;
			if (e == B_TIGHT_Q2_C1) {
				o.quality = 2;
				o.compress = 1;
			}
			buf_reset(&out);
			n = 0;
			switch (e) {
			case B_RAW: r = enc_raw(&out, &fb, &pc, 0, 0, w, h); break;
			case B_HEXTILE: r = enc_hextile(&out, &fb, &pc, 0, 0, w, h); break;
			case B_ZLIB: r = enc_zlib(&zlib, &out, &fb, &pc, 0, 0, w, h); break;
			case B_TRLE: r = enc_trle(&out, &fb, &pc, 0, 0, w, h); break;
			case B_ZRLE: r = enc_zrle(&zrle, &out, &fb, &pc, 0, 0, w, h); break;
			/* Level 3, the default: zlib's run-only strategy. */
			case B_ZRLE_C3: r = enc_zrle_rects(&zrle, 3, &out, &fb, &pc,
			    &(struct rfb_rect16){ 0, 0, (uint16_t)w, (uint16_t)h }, 1); break;
			default:
				r = enc_tight(&tight, &o, &out, &fb, &pc, 0, 0, w, h, &n);
				break;
			}
			CHECK(r == 0, "%s: %s", names[e], moat_strerror(r));
			got = buf_len(&out);
			want = recorded[i][e];
			if (verbose)
				printf("image %d %-12s %zu bytes (recorded %zu)\n",
				    i, names[e], got, want);
			CHECK(got * 100 >= want * 98 && got * 100 <= want * 102,
			    "image %d %s: %zu bytes, recorded %zu (+-2%%)", i,
			    names[e], got, want);
			zrle_free(&zrle);
			zlib_enc_free(&zlib);
			tight_free(&tight);
		}
		free(px);
	}
	buf_free(&out);
	return check_summary();
}
