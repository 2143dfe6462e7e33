/*
 * fuzz_rfb_handshake.c - libFuzzer target for moat-net's handshake parsers
 * (ProtocolVersion and VeNCrypt Plain credentials). The first byte picks
 * the parser; the rest is the network input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_handshake.h"
#include "privsep/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b;
	char *u = NULL, *p = NULL;
	int minor;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (size - 1 >= RFB_VERSION_LEN)
			(void)rfb_parse_version(data + 1, &minor);
		return 0;
	}
	buf_view(&b, data + 1, size - 1);
	if (rfb_parse_plain(&b, &u, &p) == 0) {
		if (strlen(u) == 0)
			abort();
		free(u);
		free(p);
	}
	return 0;
}
