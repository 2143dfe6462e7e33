/*
 * fuzz_vault.c - libFuzzer target for moat-viewer's vault parser
 * (viewer/vault.c) under a fixed key (the KDF is left out: it is slow by
 * design and parses nothing): any input must open or fail closed, with
 * nothing returned on failure. The corpus holds vaults sealed under that
 * key. Test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "viewer/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[32];
	struct vault v;
	size_t i;

	memset(key, 0x42, sizeof(key));
	if (vault_open(data, size, key, &v) != 0) {
		if (v.n != 0 || v.e != NULL)
			abort();
		return 0;
	}
	for (i = 0; i < v.n; i++)
		if (vault_find(&v, v.e[i].hostport) != &v.e[i])
			abort();
	vault_free(&v);
	return 0;
}
