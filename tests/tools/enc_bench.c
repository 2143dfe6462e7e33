/*
 * enc_bench.c - prints each encoder's output size and CPU time per frame
 * on the fixed test images (tests/unit/enc_images.h), for the documentation
 * and for comparisons with other servers; never a pass/fail test.
 *
 *   enc_bench [frames [encoder [image]]]   (default 20 frames, every
 *   encoder, every image)
 *   MOAT_ENC_POOL=1 enc_bench ...          (with moat-net's second
 *   encoding thread, enc_pool.h, as moat-net runs on two or more CPUs)
 *
 * Each frame is a full-screen update of the same image through one
 * connection's encoder state (so the zlib streams keep their history, as
 * for a static desktop refreshed in full). Test tool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/enc_pool.h"
#include "net/encoder.h"
#include "net/pixfmt.h"
#include "privsep/buf.h"
#include "privsep/errors.h"
#include "../unit/enc_images.h"

static double
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	static const struct fb_format src = { 0xff0000, 0x00ff00, 0x0000ff };
	static const struct rfb_pixfmt pf = { 32, 24, 0, 1, 255, 255, 255, 16, 8, 0 };
	static const char *names[] = { "raw", "hextile", "zlib", "trle", "zrle",
	    "tight", "tight-c9", "tight-q8", "tight-q5", "tight-q8-c1" };
	static const char *imgs[IMG_COUNT] = { "desktop1080", "text640", "photo512" };
	int frames = argc > 1 ? atoi(argv[1]) : 20;
	struct zrle_state zrle;
	struct zlib_state zlib;
	struct tight_state tight;
	struct enc_opts o;
	struct pixconv pc;
	struct fb_view fb;
	struct rfb_rect16 whole;
	struct buf out;
	uint32_t *px, n;
	double t0, w0, t, wall;
	int i, e, f, w, h, r;

	if (frames < 1 || pixconv_init(&pc, &src, &pf) != 0)
		return 2;
	buf_init(&out, 256u << 20);
	if (getenv("MOAT_ENC_POOL") != NULL && enc_pool_start(NULL) != 0)
		return 2;
	printf("%-12s %-12s %12s %10s %10s\n", "image", "encoder",
	    "bytes/frame", "cpu ms", "wall ms");
	for (i = 0; i < IMG_COUNT; i++) {
		if (argc > 3 && strcmp(argv[3], imgs[i]) != 0)
			continue;
		if ((px = img_make(i, &w, &h)) == NULL)
			return 2;
		fb.data = (const uint8_t *)px;
		fb.stride = (uint32_t)w * 4;
		fb.width = (uint16_t)w;
		fb.height = (uint16_t)h;
		fb.fmt = src;
		whole = (struct rfb_rect16){ 0, 0, (uint16_t)w, (uint16_t)h };
		for (e = 0; e < (int)(sizeof(names) / sizeof(names[0])); e++) {
			if (argc > 2 && strcmp(argv[2], names[e]) != 0)
				continue;
			zrle_init(&zrle, 6);
			zlib_enc_init(&zlib, 6);
			tight_init(&tight);
			enc_opts_clear(&o);
			if (e == 6)
				o.compress = 9;
			if (e == 7 || e == 9)
				o.quality = 8;
			if (e == 8)
				o.quality = 5;
			if (e == 9)
				o.compress = 1;
			t0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
			w0 = clock_ms(CLOCK_MONOTONIC);
			for (f = 0; f < frames; f++) {
				buf_reset(&out);
				n = 0;
				switch (e) {
				case 0: r = enc_raw(&out, &fb, &pc, 0, 0, w, h); break;
				case 1: r = enc_hextile(&out, &fb, &pc, 0, 0, w, h); break;
				case 2: r = enc_zlib(&zlib, &out, &fb, &pc, 0, 0, w, h); break;
				case 3: r = enc_trle(&out, &fb, &pc, 0, 0, w, h); break;
				case 4:
					/* As moat-net without a compression level. */
					r = enc_zrle_rects(&zrle, -1, &out, &fb, &pc,
					    &whole, 1);
					break;
				default:
					r = enc_tight(&tight, &o, &out, &fb, &pc, 0, 0, w, h, &n);
					break;
				}
				if (r != 0) {
					fprintf(stderr, "%s: %s\n", names[e], moat_strerror(r));
					return 1;
				}
			}
			t = (clock_ms(CLOCK_PROCESS_CPUTIME_ID) - t0) / frames;
			wall = (clock_ms(CLOCK_MONOTONIC) - w0) / frames;
			printf("%-12s %-12s %12zu %10.2f %10.2f\n", imgs[i],
			    names[e], buf_len(&out), t, wall);
			zrle_free(&zrle);
			zlib_enc_free(&zlib);
			tight_free(&tight);
		}
		free(px);
	}
	buf_free(&out);
	return 0;
}
