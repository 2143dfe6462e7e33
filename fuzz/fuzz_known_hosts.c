/*
 * fuzz_known_hosts.c - libFuzzer target for moat-viewer's known-hosts
 * parser (viewer/known_hosts.c): any input must parse or fail cleanly;
 * what parses must hold only valid HOST:PORT keys. Test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "viewer/known_hosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct known_hosts kh;
	size_t line, i;

	if (known_hosts_parse(data, size, &kh, &line) != 0) {
		if (kh.n != 0 || kh.e != NULL || line == 0)
			abort();
		return 0;
	}
	for (i = 0; i < kh.n; i++)
		if (known_hosts_check_hostport(kh.e[i].hostport,
		    strlen(kh.e[i].hostport)) != 0 ||
		    known_hosts_find(&kh, kh.e[i].hostport) != &kh.e[i])
			abort();
	known_hosts_free(&kh);
	return 0;
}
