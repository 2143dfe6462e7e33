/*
 * fuzz_config.c - libFuzzer target for the configuration parser
 * (policy/config_parse.c). Test code: the input is arbitrary bytes parsed
 * as one main file and then as a policy file over the result; a result
 * other than success or MOAT_ERR_CONFIG with a "FILE:" message is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privsep/errors.h"
#include "policy/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int r, const char *err, const char *fname)
{
	size_t n = strlen(fname);

	if (r == 0)
		return;
	if (r != MOAT_ERR_CONFIG || strncmp(err, fname, n) != 0 ||
	    err[n] != ':')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_origin o[CONFIG_PARAMS_MAX];
	struct moat_config c;
	char err[1024];
	int r;

	if (config_param_count() > sizeof(o) / sizeof(o[0]))
		abort();
	config_defaults(&c);
	memset(o, 0, sizeof(o));
	r = config_parse_text(&c, o, "fuzz.conf", (const char *)data, size, 0,
	    err, sizeof(err));
	check(r, err, "fuzz.conf");
	if (r == 0) {
		/* The policy layer may override everything the file set. */
		r = config_parse_text(&c, o, "policy.conf", (const char *)data,
		    size, 1, err, sizeof(err));
		if (r != 0)
			abort();
	}
	return 0;
}
