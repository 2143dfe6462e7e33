/*
 * fuzz_cap_msg.c - libFuzzer target for what moat-session decodes from
 * moat-net (key, pointer, clipboard payloads, through privsep/ipc_msg.c)
 * and its text conversions. The first byte picks the decoder; the rest is
 * the payload. capture/cap_util.c has no X dependency, so it is compiled in
 * directly. fuzz_ipc_msg.c round-trips every message type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/cap_util.c"
#include "privsep/ipc_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[4 * 65536];
	struct ipc_cap_clipboard clip;
	struct ipc_cap_pointer ptr;
	struct ipc_cap_key key;
	struct buf b;
	size_t n;

	if (size < 1)
		return 0;
	buf_view(&b, data + 1, size - 1);
	switch (data[0] % 5) {
	case 0:
		if (ipc_msg_get_cap_key(&b, &key) == 0 && key.down > 1)
			abort();
		break;
	case 1:
		(void)ipc_msg_get_cap_pointer(&b, &ptr);
		break;
	case 2:
		if (ipc_msg_get_cap_clipboard(&b, &clip) == 0 &&
		    (clip.text.p < data + 1 ||
		    clip.text.p + clip.text.len > data + size))
			abort();
		break;
	case 3:
		n = size - 1 > 65536 ? 65536 : size - 1;
		if (cap_latin1_to_utf8(data + 1, n, out, sizeof(out)) > sizeof(out))
			abort();
		break;
	default:
		n = size - 1 > 65536 ? 65536 : size - 1;
		if (cap_utf8_to_latin1(data + 1, n, out, sizeof(out), NULL) > sizeof(out))
			abort();
	}
	return 0;
}
