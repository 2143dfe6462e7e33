/*
 * fuzz_ra2_record.c - libFuzzer target for the RSA-AES record layer
 * (net/rfb_ra2.c over net/rfb_eax.c): a stream of records from the viewer,
 * opened one after the other under a fixed key until one fails. The first
 * byte picks AES-128 or AES-256 (bit 0) and how much plaintext the reader
 * may hold (bits 1-3, so TOO_LONG is reached too); the rest is the stream.
 * Any failure must leave the input unconsumed and the plaintext unchanged;
 * a success must consume exactly one whole record and advance the counter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_ra2.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key the seeds were sealed with: bytes 1, 2, ..., 32. */
static const uint8_t fixed_key[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfb_ra2_dir rx;
	struct buf in, out;
	uint8_t nonce[RFB_RA2_NONCE_LEN];
	size_t in_before, out_before, need;
	int r;

	if (size < 1)
		return 0;
	if (rfb_ra2_dir_init(&rx, fixed_key, (data[0] & 1) ? 32 : 16) != 0)
		abort();
	buf_view(&in, data + 1, size - 1);
	buf_init(&out, (size_t)1 << (10 + ((data[0] >> 1) & 7)));
	for (;;) {
		in_before = buf_len(&in);
		out_before = buf_len(&out);
		memcpy(nonce, rx.nonce, sizeof(nonce));
		need = in_before >= 2 ? rfb_ra2_record_size(buf_ptr(&in)) : 0;
		r = rfb_ra2_open_record(&rx, &in, &out);
		if (r != 0) {
			if (buf_len(&in) != in_before || buf_len(&out) != out_before ||
			    memcmp(nonce, rx.nonce, sizeof(nonce)) != 0)
				abort();
			if (r != MOAT_ERR_AGAIN && r != MOAT_ERR_CRYPTO &&
			    r != MOAT_ERR_TOO_LONG)
				abort();
			break;
		}
		if (in_before - buf_len(&in) != need ||
		    buf_len(&out) - out_before != need - RFB_RA2_OVERHEAD ||
		    memcmp(nonce, rx.nonce, sizeof(nonce)) == 0)
			abort();
	}
	buf_free(&out);
	rfb_ra2_dir_free(&rx);
	return 0;
}
