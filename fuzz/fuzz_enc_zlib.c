/*
 * fuzz_enc_zlib.c - libFuzzer target for moat-net's Zlib encoder
 * (net/enc_zlib.c): a client pixel format, a framebuffer and damage
 * rectangles from the input (enc_harness.h), all through one stream as a
 * connection uses it; the output is inflated back and must equal what Raw
 * sends. ASan and UBSan catch any bad access. Test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "enc_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zlib_state z;
	struct harness h;
	struct buf out, raw;
	z_stream zs;
	uint8_t *plain;
	const uint8_t *p;
	size_t len, n;
	int i;

	if (harness_setup(data, size, &h) != 0)
		return 0;
	if (zlib_enc_init(&z, h.opt[0] % 10) != 0)
		abort();
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		abort();
	buf_init(&out, 64u << 20);
	buf_init(&raw, 64u << 20);
	for (i = 0; i < h.nrects; i++) {
		buf_reset(&out);
		buf_reset(&raw);
		if (enc_zlib(&z, &out, &h.fb, &h.pc, h.rect[i][0], h.rect[i][1],
		    h.rect[i][2], h.rect[i][3]) != 0 ||
		    enc_raw(&raw, &h.fb, &h.pc, h.rect[i][0], h.rect[i][1],
		    h.rect[i][2], h.rect[i][3]) != 0)
			abort();
		p = buf_ptr(&out);
		len = (size_t)p[12] << 24 | (size_t)p[13] << 16 |
		    (size_t)p[14] << 8 | p[15];
		if (memcmp(p, buf_ptr(&raw), 8) != 0 || len != buf_len(&out) - 16)
			abort();
		n = buf_len(&raw) - 12;
		if ((plain = malloc(n + 1)) == NULL)
			abort();
		zs.next_in = (Bytef *)(uintptr_t)(p + 16);
		zs.avail_in = (uInt)len;
		zs.next_out = plain;
		zs.avail_out = (uInt)n + 1;
		if (inflate(&zs, Z_SYNC_FLUSH) != Z_OK || zs.avail_in != 0 ||
		    zs.avail_out != 1 || memcmp(plain, buf_ptr(&raw) + 12, n) != 0)
			abort();
		free(plain);
	}
	inflateEnd(&zs);
	zlib_enc_free(&z);
	buf_free(&out);
	buf_free(&raw);
	return 0;
}
