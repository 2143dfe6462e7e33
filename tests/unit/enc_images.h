/*
 * enc_images.h - deterministic test images for the encoder tests and
 * tests/tools/enc_bench.c: a 1920x1080 "desktop" (solid background,
 * windows of anti-aliased text, gradient title bars, a photo, a taskbar),
 * a 640x480 page of text and a 512x512 photo, in the X server's 32-bpp
 * R16 G8 B0 layout. Test code.
 */
#ifndef MOAT_TEST_ENC_IMAGES_H
#define MOAT_TEST_ENC_IMAGES_H

#include <stdint.h>
#include <stdlib.h>

enum { IMG_DESKTOP, IMG_TEXT, IMG_PHOTO, IMG_COUNT };

static uint64_t img_rng_state;

static uint32_t
img_rng(void)
{
	img_rng_state ^= img_rng_state >> 12;
	img_rng_state ^= img_rng_state << 25;
	img_rng_state ^= img_rng_state >> 27;
	return (uint32_t)((img_rng_state * 2685821657736338717ULL) >> 32);
}

static uint32_t
img_tri(int v)
{
	v %= 510;
	return (uint32_t)(v < 256 ? v : 509 - v);
}

static void
img_fill(uint32_t *px, int stride, int x0, int y0, int w, int h, uint32_t c)
{
	int x, y;

	for (y = y0; y < y0 + h; y++)
		for (x = x0; x < x0 + w; x++)
			px[y * stride + x] = c;
}

/* Smooth colour with mild noise. */
static void
img_photo(uint32_t *px, int stride, int x0, int y0, int w, int h)
{
	int x, y;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			px[(y0 + y) * stride + x0 + x] =
			    img_tri(x * 2 + y / 3 + (int)(img_rng() % 4)) << 16 |
			    img_tri(y * 3 + x / 5 + (int)(img_rng() % 4)) << 8 |
			    img_tri(x + y + (int)(img_rng() % 4));
}

/*
 * Lines of text in a made-up font: 48 glyphs of 11 rows, each pixel black,
 * one of two anti-aliasing greys or background, repeated as real text
 * repeats its letters.
 */
static void
img_text(uint32_t *px, int stride, int x0, int y0, int w, int h, uint32_t bg)
{
	static uint8_t font[48][11][8];
	static int font_made;
	static const uint32_t ink[3] = { 0x000000, 0x606060, 0xb0b0b0 };
	uint64_t saved;
	int x, y, line, gx, gw, g, v;

	if (!font_made) {
		saved = img_rng_state;
		img_rng_state = 0xf0e1d2c3b4a59687ULL;
		for (g = 0; g < 48; g++)
			for (y = 0; y < 11; y++)
				for (x = 0; x < 8; x++) {
					v = (int)(img_rng() % 8);
					font[g][y][x] = (uint8_t)(v < 3 ? v + 1 : 0);
				}
		img_rng_state = saved;
		font_made = 1;
	}
	img_fill(px, stride, x0, y0, w, h, bg);
	for (line = y0 + 4; line + 12 < y0 + h; line += 16) {
		for (gx = x0 + 6; gx + 8 < x0 + w - 6; gx += gw + 1) {
			g = (int)(img_rng() % 48);
			gw = 4 + g % 5;
			if (img_rng() % 7 == 0) {	/* a space */
				gx += 4;
				continue;
			}
			for (y = 0; y < 11; y++)
				for (x = 0; x < gw; x++)
					if (font[g][y][x] != 0)
						px[(line + y) * stride + gx + x] =
						    ink[font[g][y][x] - 1];
		}
	}
}

/* Allocates and paints image i; sets *w and *h (stride = *w). */
static uint32_t *
img_make(int i, int *w, int *h)
{
	uint32_t *px;
	int x, y, k;

	img_rng_state = 0x1234567 + (uint64_t)i;
	*w = i == IMG_DESKTOP ? 1920 : i == IMG_TEXT ? 640 : 512;
	*h = i == IMG_DESKTOP ? 1080 : i == IMG_TEXT ? 480 : 512;
	if ((px = malloc((size_t)*w * *h * 4)) == NULL)
		return NULL;
	if (i == IMG_TEXT) {
		img_text(px, *w, 0, 0, *w, *h, 0xffffff);
		return px;
	}
	if (i == IMG_PHOTO) {
		img_photo(px, *w, 0, 0, *w, *h);
		return px;
	}
	img_fill(px, *w, 0, 0, *w, *h, 0x3a6ea5);
	/* Three windows: a title bar gradient, then text. */
	for (k = 0; k < 3; k++) {
		int wx = 80 + k * 420, wy = 60 + k * 140, ww = 760, wh = 560;

		for (y = wy; y < wy + 24; y++)
			for (x = wx; x < wx + ww; x++)
				px[y * *w + x] = (uint32_t)(0x20 + (x - wx) * 0x90 / ww) << 16 |
				    (uint32_t)(0x40 + (x - wx) * 0x80 / ww) << 8 | 0xc0;
		img_text(px, *w, wx, wy + 24, ww, wh - 24, k == 1 ? 0xf0f0f0 : 0xffffff);
	}
	/* A photo in the last window. */
	img_photo(px, *w, 940, 420, 600, 360);
	/* Taskbar with icons. */
	img_fill(px, *w, 0, 1040, *w, 40, 0x202020);
	for (k = 0; k < 12; k++)
		for (y = 1044; y < 1076; y++)
			for (x = 8 + k * 40; x < 40 + k * 40; x++)
				px[y * *w + x] = (img_rng() % 4) * 0x3f2f1f;
	return px;
}

#endif
