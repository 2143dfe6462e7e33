/*
 * fuzz_ipc_resize.c - libFuzzer target for the decoders of the desktop
 * resize messages between moat-net and moat-session
 * (privsep/ipc_resize.c). The first byte picks the decoder: even
 * IPC_CAP_RESIZE (what moat-session decodes from moat-net), odd
 * IPC_CAP_RESIZE_RESULT (what moat-net decodes from moat-session); the
 * rest is the payload. A payload that decodes must re-encode to exactly
 * its bytes and, for a request, be a valid layout; one that does not must
 * leave the buffer unread and the struct zeroed. abort() on a difference.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privsep/errors.h"
#include "privsep/ipc_resize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n-- > 0)
		if (*b++ != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[IPC_RESIZE_MAX_PAYLOAD];
	struct ipc_cap_resize_result res;
	struct ipc_cap_resize rq;
	struct buf in, b;
	int r;

	if (size < 1)
		return 0;
	buf_view(&in, data + 1, size - 1);
	buf_init_fixed(&b, out, sizeof(out));
	if (data[0] % 2 == 0) {
		if ((r = ipc_msg_get_cap_resize(&in, &rq)) != 0) {
			if (r >= 0 || buf_len(&in) != size - 1 ||
			    !is_zero(&rq, sizeof(rq)))
				abort();
			return 0;
		}
		if (buf_len(&in) != 0 || ipc_resize_layout_check(&rq) != 0 ||
		    ipc_msg_put_cap_resize(&b, &rq) != 0)
			abort();
	} else {
		if ((r = ipc_msg_get_cap_resize_result(&in, &res)) != 0) {
			if (r >= 0 || buf_len(&in) != size - 1 ||
			    !is_zero(&res, sizeof(res)))
				abort();
			return 0;
		}
		if (buf_len(&in) != 0 ||
		    ipc_msg_put_cap_resize_result(&b, &res) != 0)
			abort();
	}
	if (buf_len(&b) != size - 1 || memcmp(out, data + 1, size - 1) != 0)
		abort();
	return 0;
}
