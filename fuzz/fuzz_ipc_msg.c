/*
 * fuzz_ipc_msg.c - libFuzzer target for every IPC payload decoder
 * (privsep/ipc_msg.c). The first byte is the message type number (any
 * type of ipc_types.h; other values are ignored), the rest is its payload.
 * A payload that decodes must re-encode to exactly its own bytes (the
 * encoding is canonical) and decode again; one that does not must leave
 * the buffer unread. Either way, abort() on a difference.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privsep/errors.h"
#include "privsep/ipc_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static union ipc_msg_any first, second;

/* Encodes m into a fresh out and checks it is exactly want[0..n). */
static void
encode_equals(uint16_t type, const union ipc_msg_any *m, struct buf *out,
    const uint8_t *want, size_t n)
{
	buf_init(out, IPC_MAX_PAYLOAD);
	if (ipc_msg_put_any(type, out, m) != 0 || buf_len(out) != n ||
	    (n > 0 && memcmp(buf_ptr(out), want, n) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf in, out1, out2;
	uint16_t type;
	int r;

	if (size < 1)
		return 0;
	type = data[0];
	buf_view(&in, data + 1, size - 1);
	if ((r = ipc_msg_get_any(type, &in, &first)) != 0) {
		/* A refusal is an error code and reads nothing. */
		if (r >= 0 || buf_len(&in) != size - 1)
			abort();
		return 0;
	}
	if (buf_len(&in) != 0)
		abort();
	encode_equals(type, &first, &out1, data + 1, size - 1);
	/* Decode the re-encoding (views now point into out1). */
	if (ipc_msg_get_any(type, &out1, &second) != 0 || buf_len(&out1) != 0)
		abort();
	encode_equals(type, &second, &out2, data + 1, size - 1);
	ipc_msg_free_any(type, &first);
	ipc_msg_free_any(type, &second);
	buf_free(&out1);
	buf_free(&out2);
	return 0;
}
