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
	return harness_run_tiles(data, size, enc_hextile);
}
