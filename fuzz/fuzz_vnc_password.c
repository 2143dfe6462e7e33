/*
 * fuzz_vnc_password.c - libFuzzer target for the VNC password file parser
 * (auth/vnc_password.c, vnc_password_parse()). Test code: the input is
 * arbitrary bytes parsed as one file. A refusal must be MOAT_ERR_CONFIG
 * with a "fuzz:LINE: " message and no entries; a success must hold only
 * valid, distinct entries and format back to exactly the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/vnc_password.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vnc_password_db db;
static char out[VNC_PASSWORD_FILE_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	size_t i, len;
	int r;

	r = vnc_password_parse(&db, "fuzz", (const char *)data, size, err,
	    sizeof(err));
	if (r != 0) {
		if (r != MOAT_ERR_CONFIG || db.n != 0 ||
		    strncmp(err, "fuzz", 4) != 0 || err[4] != ':')
			abort();
		return 0;
	}
	for (i = 0; i < db.n; i++) {
		if (!vnc_password_valid_user(db.e[i].user) ||
		    !vnc_password_valid_hash(db.e[i].hash) ||
		    vnc_password_find(&db, db.e[i].user) != &db.e[i])
			abort();
	}
	if (vnc_password_format(&db, out, sizeof(out), &len) != 0 ||
	    len != size || (size > 0 && memcmp(out, data, size) != 0))
		abort();
	return 0;
}
