/*
 * png.c - moat-viewer's PNG writer: signature, IHDR (8-bit RGB, no
 * interlace), IDAT chunks of the zlib stream of filter-0 rows, IEND, each
 * chunk with its CRC-32. Runs in moat-viewer; trusts its caller's
 * framebuffer dimensions (bounded again here).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "privsep/errors.h"
#include "viewer/png.h"

#define PNG_IDAT_MAX	(1u << 20)

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int
chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t h[8], c[4];
	uLong crc;

	put32(h, len);
	memcpy(h + 4, type, 4);
	crc = crc32(0L, h + 4, 4);
	if (len > 0)
		crc = crc32(crc, data, len);
	put32(c, (uint32_t)crc);
	if (fwrite(h, 1, 8, f) != 8 ||
	    (len > 0 && fwrite(data, 1, len, f) != len) ||
	    fwrite(c, 1, 4, f) != 4)
		return MOAT_ERR_SYSTEM;
	return 0;
}

static int
write_stream(FILE *f, const uint32_t *px, unsigned w, unsigned h)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t ihdr[13], *row, *out;
	size_t rowlen = 1 + 3 * (size_t)w;
	unsigned x, y;
	z_stream zs;
	int r = MOAT_ERR_NOMEM, zr;

	row = malloc(rowlen);
	out = malloc(PNG_IDAT_MAX);
	memset(&zs, 0, sizeof(zs));
	if (row == NULL || out == NULL || deflateInit(&zs, 6) != Z_OK) {
		free(row);
		free(out);
		return MOAT_ERR_NOMEM;
	}
	put32(ihdr, w);
	put32(ihdr + 4, h);
	ihdr[8] = 8;	/* bit depth */
	ihdr[9] = 2;	/* RGB */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	if (fwrite(sig, 1, 8, f) != 8 || chunk(f, "IHDR", ihdr, 13) != 0) {
		r = MOAT_ERR_SYSTEM;
		goto out;
	}
	zs.next_out = out;
	zs.avail_out = PNG_IDAT_MAX;
	for (y = 0; y <= h; y++) {
		if (y < h) {
			row[0] = 0;
			for (x = 0; x < w; x++) {
				uint32_t p = px[(size_t)y * w + x];

				row[1 + 3 * x] = (uint8_t)(p >> 16);
				row[2 + 3 * x] = (uint8_t)(p >> 8);
				row[3 + 3 * x] = (uint8_t)p;
			}
			zs.next_in = row;
			zs.avail_in = (uInt)rowlen;
		}
		do {
			zr = deflate(&zs, y < h ? Z_NO_FLUSH : Z_FINISH);
			if (zr == Z_STREAM_ERROR) {
				r = MOAT_ERR_INVALID;
				goto out;
			}
			if (zs.avail_out == 0 || zr == Z_STREAM_END) {
				if (chunk(f, "IDAT", out, PNG_IDAT_MAX -
				    zs.avail_out) != 0) {
					r = MOAT_ERR_SYSTEM;
					goto out;
				}
				zs.next_out = out;
				zs.avail_out = PNG_IDAT_MAX;
			}
		} while (zs.avail_in > 0 || (y == h && zr != Z_STREAM_END));
	}
	r = chunk(f, "IEND", NULL, 0);
out:
	deflateEnd(&zs);
	free(row);
	free(out);
	return r;
}

int
viewer_png_write(const char *path, const uint32_t *px, unsigned w, unsigned h)
{
	char tmp[4096];
	FILE *f;
	int r, n, saved;

	if (w == 0 || h == 0 || w > 65535 || h > 65535)
		return MOAT_ERR_INVALID;
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return MOAT_ERR_SYSTEM;
	}
	if ((f = fopen(tmp, "wbx")) == NULL)
		return MOAT_ERR_SYSTEM;
	r = write_stream(f, px, w, h);
	if (fclose(f) != 0 && r == 0)
		r = MOAT_ERR_SYSTEM;
	if (r == 0 && rename(tmp, path) != 0)
		r = MOAT_ERR_SYSTEM;
	if (r != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
	}
	return r;
}
