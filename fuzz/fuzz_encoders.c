/*
 * fuzz_encoders.c - libFuzzer target for moat-net's encoders. The input
 * chooses a client pixel format, a framebuffer size and a rectangle (the
 * first 24 bytes) and supplies the pixels (the rest, repeated). Raw, ZRLE
 * (over one stream for several rectangles, as a connection uses it),
 * CopyRect-free updates and the Cursor pseudo-rectangle are produced; ASan
 * and UBSan catch any bad access, and the output sizes are checked against
 * what each encoding may take. Test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/encoder.h"
#include "net/pixfmt.h"
#include "net/rfb_reader.h"
#include "privsep/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_W 300
#define MAX_H 200

static uint16_t
u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t pixels[MAX_W * MAX_H], cursor[32 * 32];
	static const struct fb_format src = { 0xff0000, 0x00ff00, 0x0000ff };
	struct rfb_pixfmt pf;
	struct pixconv pc;
	struct fb_view fb;
	struct zrle_state z;
	struct buf out;
	uint16_t w, h, x, y, rw, rh;
	size_t i, n, before;
	int r;

	if (size < 24)
		return 0;
	memset(&pf, 0, sizeof(pf));
	pf.bpp = data[0];
	pf.depth = data[1];
	pf.big_endian = data[2] & 1;
	pf.true_colour = 1;
	pf.red_max = u16(data + 3);
	pf.green_max = u16(data + 5);
	pf.blue_max = u16(data + 7);
	pf.red_shift = data[9];
	pf.green_shift = data[10];
	pf.blue_shift = data[11];
	if (rfb_pixfmt_check(&pf) != 0 || pixconv_init(&pc, &src, &pf) != 0)
		return 0;
	w = (uint16_t)(1 + u16(data + 12) % MAX_W);
	h = (uint16_t)(1 + u16(data + 14) % MAX_H);
	x = (uint16_t)(u16(data + 16) % w);
	y = (uint16_t)(u16(data + 18) % h);
	rw = (uint16_t)(1 + u16(data + 20) % (w - x));
	rh = (uint16_t)(1 + u16(data + 22) % (h - y));
	n = size - 24;
	for (i = 0; i < (size_t)w * h; i++) {
		const uint8_t *p = data + 24 + (n ? (i * 3) % n : 0);
		/* Few distinct colours when the input is short: palettes and runs. */
		pixels[i] = n >= 3 && (i * 3) % n + 2 < n ?
		    (uint32_t)(p[0] << 16 | p[1] << 8 | p[2]) : (uint32_t)(i % 7) * 0x102030;
	}
	fb.data = (const uint8_t *)pixels;
	fb.stride = (uint32_t)w * 4;
	fb.width = w;
	fb.height = h;
	fb.fmt = src;

	buf_init(&out, 64u << 20);
	r = enc_raw(&out, &fb, &pc, x, y, rw, rh);
	if (r != 0 || buf_len(&out) != 12 + (size_t)rw * rh * pc.bytes)
		abort();
	buf_reset(&out);
	if (zrle_init(&z, (data[2] >> 4) % 10) != 0)
		abort();
	/* Two rectangles over one stream, then the whole framebuffer. */
	before = buf_len(&out);
	if (enc_zrle(&z, &out, &fb, &pc, x, y, rw, rh) != 0 ||
	    enc_zrle(&z, &out, &fb, &pc, 0, 0, w, h) != 0 || buf_len(&out) <= before)
		abort();
	zrle_free(&z);
	/* An out-of-bounds rectangle is refused without writing. */
	before = buf_len(&out);
	if (enc_raw(&out, &fb, &pc, x, y, (uint16_t)(w - x + 1), rh) == 0 ||
	    buf_len(&out) != before)
		abort();
	buf_reset(&out);
	for (i = 0; i < 32 * 32; i++)
		cursor[i] = pixels[i % ((size_t)w * h)] | (uint32_t)(data[i % 24]) << 24;
	if (enc_cursor(&out, &pc, (uint16_t)(data[3] % 32), (uint16_t)(data[4] % 32),
	    32, 32, cursor) != 0 ||
	    buf_len(&out) != 12 + 32 * 32 * (size_t)pc.bytes + 4 * 32)
		abort();
	buf_free(&out);
	return 0;
}
