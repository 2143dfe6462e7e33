/*
 * enc_zlib.c - the Zlib encoding (RFB encoding 6: U32 length, then Raw
 * pixels through one zlib stream per connection) and the deflate loop
 * every zlib-based encoder (Zlib, ZRLE, Tight) feeds its stream with.
 * Runs in moat-net on the hot path. Reads the shared framebuffer only
 * inside the rectangle enc_check_rect() accepted; trusts the client pixel
 * format only after rfb_pixfmt_check() (pixconv_init() applies it).
 */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "encoder.h"
#include "enc_tile.h"

#define ZLIB_BATCH	(32 * 1024)	/* pixel bytes handed to deflate at once */
#define ZLIB_ROW_MAX	(65535 * 4)	/* one converted row at most */
#define OUT_CHUNK	(16 * 1024)	/* output space offered to deflate per call */

/* The zlib header (RFC 1950) deflateInit() writes at level: 32 KiB window, no dictionary. */
static int
zlib_header(int level)
{
	int flevel, h;

	if (level == Z_DEFAULT_COMPRESSION)
		level = 6;
	flevel = level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3;
	h = (Z_DEFLATED + ((MAX_WBITS - 8) << 4)) << 8 | flevel << 6;
	h += 31 - h % 31;
	/* deflatePrime() sends the low byte first. */
	return (h >> 8) | (h & 0xff) << 8;
}

int
enc_deflate_start(z_stream *zs, int level)
{
	return enc_deflate_start_strategy(zs, level, Z_DEFAULT_STRATEGY);
}

int
enc_deflate_start_strategy(z_stream *zs, int level, int strategy)
{
	int zr;

	memset(zs, 0, sizeof(*zs));
	if ((zr = deflateInit2(zs, level, Z_DEFLATED, -MAX_WBITS, 8,
	    strategy)) != Z_OK)
		return zr == Z_MEM_ERROR ? MOAT_ERR_NOMEM : MOAT_ERR_INVALID;
	if (deflatePrime(zs, 16, zlib_header(level)) != Z_OK) {
		deflateEnd(zs);
		return MOAT_ERR_INVALID;
	}
	return 0;
}

int
enc_deflate_restart(z_stream *zs, int level)
{
	if (deflateReset(zs) != Z_OK ||
	    deflatePrime(zs, 16, zlib_header(level)) != Z_OK) {
		deflateEnd(zs);
		return MOAT_ERR_INVALID;
	}
	return 0;
}

int
enc_deflate(z_stream *zs, const uint8_t *in, size_t len, struct buf *out,
    int flush)
{
	size_t chunk, room;
	uint8_t *p;
	int r, zr;

	if (len > UINT32_MAX)
		return MOAT_ERR_TOO_LONG;
	zs->next_in = (Bytef *)(uintptr_t)in;
	zs->avail_in = (uInt)len;
	for (;;) {
		room = out->max - buf_len(out);
		chunk = OUT_CHUNK + zs->avail_in;
		if (chunk > room)
			chunk = room;
		if (chunk == 0)
			return MOAT_ERR_TOO_LONG;
		if ((r = buf_reserve(out, chunk, &p)) != 0)
			return r;
		zs->next_out = p;
		zs->avail_out = (uInt)chunk;
		zr = deflate(zs, flush);
		out->len -= zs->avail_out;	/* give back the unused tail */
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return MOAT_ERR_INVALID;
		if (zs->avail_in == 0 && zs->avail_out != 0)
			break;
	}
	zs->next_in = NULL;
	return 0;
}

int
zlib_enc_init(struct zlib_state *z, int level)
{
	int r;

	memset(z, 0, sizeof(*z));
	if (level < Z_DEFAULT_COMPRESSION || level > Z_BEST_COMPRESSION)
		return MOAT_ERR_INVALID;
	if ((r = enc_deflate_start(&z->zs, level)) != 0)
		return r;
	buf_init(&z->raw, ZLIB_BATCH + ZLIB_ROW_MAX);
	z->initialised = 1;
	return 0;
}

void
zlib_enc_free(struct zlib_state *z)
{
	if (z->initialised)
		deflateEnd(&z->zs);
	z->initialised = 0;
	buf_free(&z->raw);
}

int
enc_zlib(struct zlib_state *z, struct buf *out, const struct fb_view *fb,
    const struct pixconv *pc, uint16_t x, uint16_t y, uint16_t w, uint16_t h)
{
	const uint8_t *src;
	size_t start, lenpos, clen, rowlen;
	uint8_t *p, *lp;
	int r, fed = 0;
	uint16_t row;

	if (!z->initialised)
		return MOAT_ERR_INVALID;
	if ((r = enc_check_view(fb, pc, x, y, w, h)) != 0)
		return r;

	start = buf_len(out);
	if ((r = rfb_put_rect_header(out, x, y, w, h, RFB_ENC_ZLIB)) != 0)
		return r;
	if ((r = buf_put_u32(out, 0)) != 0)
		goto fail;
	lenpos = buf_len(out) - 4;
	rowlen = (size_t)w * pc->bytes;
	(void)buf_consume(&z->raw, buf_len(&z->raw));
	for (row = 0; row < h; row++) {
		if (buf_len(&z->raw) >= ZLIB_BATCH) {
			fed = 1;
			if ((r = enc_deflate(&z->zs, buf_ptr(&z->raw),
			    buf_len(&z->raw), out, Z_NO_FLUSH)) != 0)
				goto fail;
			(void)buf_consume(&z->raw, buf_len(&z->raw));
		}
		if ((r = buf_reserve(&z->raw, rowlen, &p)) != 0)
			goto fail;
		src = fb->data + (size_t)(y + row) * fb->stride + (size_t)x * 4;
		pixconv_row(pc, p, (const uint32_t *)(const void *)src, w);
	}
	fed = 1;
	if ((r = enc_deflate(&z->zs, buf_ptr(&z->raw), buf_len(&z->raw), out,
	    Z_SYNC_FLUSH)) != 0)
		goto fail;
	(void)buf_consume(&z->raw, buf_len(&z->raw));
	clen = buf_len(out) - lenpos - 4;
	if (clen > UINT32_MAX) {
		r = MOAT_ERR_TOO_LONG;
		goto fail;
	}
	lp = out->data + out->off + lenpos;
	lp[0] = (uint8_t)(clen >> 24);
	lp[1] = (uint8_t)(clen >> 16);
	lp[2] = (uint8_t)(clen >> 8);
	lp[3] = (uint8_t)clen;
	return 0;

fail:
	/* Leave out as it was; a stream the client cannot follow is ended. */
	out->len = out->off + start;
	(void)buf_consume(&z->raw, buf_len(&z->raw));
	if (fed) {
		deflateEnd(&z->zs);
		z->initialised = 0;
	}
	return r;
}
