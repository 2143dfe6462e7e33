/*
 * fuzz_enc_hextile.c - libFuzzer target for moat-net's Hextile encoder
 * (net/enc_hextile.c): a client pixel format, a framebuffer and damage
 * rectangles from the input (enc_harness.h); every rectangle must encode,
 * within the size the encoding may take, and a rectangle outside the
 * framebuffer must be refused without writing. ASan and UBSan catch any
 * bad access. Test code.
 */
#include <stdint.h>
#include <stdlib.h>

#include "enc_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness h;
	struct buf out;
	size_t before, most;
	int i;

	if (harness_setup(data, size, &h) != 0)
		return 0;
	buf_init(&out, 64u << 20);
	for (i = 0; i < h.nrects; i++) {
		before = buf_len(&out);
		if (enc_hextile(&out, &h.fb, &h.pc, h.rect[i][0], h.rect[i][1],
		    h.rect[i][2], h.rect[i][3]) != 0)
			abort();
		/* Raw plus one byte per 16x16 tile (and TRLE's spare 4 bytes). */
		most = 12 + (size_t)h.rect[i][2] * h.rect[i][3] * h.pc.bytes +
		    (size_t)((h.rect[i][2] + 15) / 16) * ((h.rect[i][3] + 15) / 16);
		if (buf_len(&out) - before > most)
			abort();
	}
	before = buf_len(&out);
	if (enc_hextile(&out, &h.fb, &h.pc, 1, 0, h.fb.width, 1) == 0 ||
	    buf_len(&out) != before)
		abort();
	buf_free(&out);
	return 0;
}
