/*
 * fuzz_ipc.c - libFuzzer target for the IPC framing (ipc_parse) and the
 * bounded-buffer getters every IPC and network parser is built from: the
 * input is one datagram, whose payload is then walked with every getter.
 */
#include <stdint.h>
#include <stdlib.h>

#include "privsep/buf.h"
#include "privsep/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *payload, *p;
	struct buf b;
	uint16_t type, u16;
	uint32_t u32;
	uint8_t u8, tmp[16];
	size_t plen, n;
	char *s;

	if (ipc_parse(data, size, &type, &payload, &plen) != 0)
		return 0;
	if (payload + plen != data + size)
		abort();
	buf_view(&b, payload, plen);
	while (buf_len(&b) > 0) {
		size_t before = buf_len(&b);

		switch (buf_ptr(&b)[0] % 6) {
		case 0:
			if (buf_get_cstring(&b, &s, &n, 255) == 0)
				free(s);
			break;
		case 1:
			(void)buf_get_string_direct(&b, &p, &n, 1024);
			break;
		case 2:
			(void)buf_get_u32(&b, &u32);
			break;
		case 3:
			(void)buf_get_u16(&b, &u16);
			break;
		case 4:
			(void)buf_get_bytes(&b, tmp, sizeof(tmp));
			break;
		default:
			(void)buf_get_u8(&b, &u8);
		}
		if (buf_len(&b) == before && buf_consume(&b, 1) != 0)
			abort();
	}
	return 0;
}
