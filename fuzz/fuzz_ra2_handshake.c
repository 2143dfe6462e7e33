/*
 * fuzz_ra2_handshake.c - libFuzzer target for the server side of the
 * RSA-AES handshake (net/rfb_ra2.c, with the monitor's implicit-rejection
 * decrypt from monitor/mon_rsa.c): the viewer's public key, its encrypted
 * ClientRandom, and the records carrying the key-confirmation hash and the
 * credentials, against a fixed test server key (fuzz/ra2_harness.h). The
 * first byte picks the type (RA2, RA2ne, RA2_256, RA2ne_256); the rest is
 * the viewer's byte stream. A failed record must never release plaintext,
 * and a login must carry a non-empty user name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ra2_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t types[4] = { 5, 6, 129, 130 };
	struct ra2_outcome o;

	if (size < 1)
		return 0;
	(void)ra2_harness_run(types[data[0] & 3], data + 1, size - 1, &o);
	if (o.leaked)
		abort();
	if (o.r == 0) {
		if (o.user == NULL || o.pass == NULL || o.user[0] == '\0')
			abort();
		OPENSSL_cleanse(o.pass, strlen(o.pass));
	}
	free(o.user);
	free(o.pass);
	return 0;
}
