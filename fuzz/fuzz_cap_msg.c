/*
 * fuzz_cap_msg.c - libFuzzer target for moat-session's decoders of what
 * moat-net sends it (key, pointer, clipboard payloads) and its text
 * conversions. The first byte picks the decoder; the rest is the payload.
 * capture/cap_util.c has no X dependency, so it is compiled in directly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/cap_util.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[4 * 65536];
	const uint8_t *text;
	struct buf b;
	uint32_t keysym;
	uint16_t x, y;
	uint8_t mask;
	size_t n;
	int down;

	if (size < 1)
		return 0;
	buf_view(&b, data + 1, size - 1);
	switch (data[0] % 5) {
	case 0:
		(void)cap_parse_key(&b, &down, &keysym);
		break;
	case 1:
		(void)cap_parse_pointer(&b, &mask, &x, &y);
		break;
	case 2:
		if (cap_parse_clipboard(&b, &text, &n) == 0 &&
		    (text < data + 1 || text + n > data + size))
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
