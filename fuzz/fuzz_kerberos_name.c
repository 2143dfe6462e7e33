/*
 * fuzz_kerberos_name.c - libFuzzer target for the Kerberos factor's
 * principal-to-account mapping (auth/kerberos_name.c). Test code. The
 * input up to its first NUL is the principal Cyrus SASL reports; the
 * default realm and KerberosRealm are fixed. A principal that maps must
 * give a plausible account name that is its own first component, with no
 * realm or the wanted one after it; a refusal must leave no account and
 * give a reason. abort() otherwise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/kerberos_name.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
plausible(const char *u)
{
	size_t i, n = strlen(u);

	if (n == 0 || n > KERBEROS_USER_MAX || u[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' &&
		    u[i] <= 'Z') || (u[i] >= '0' && u[i] <= '9') ||
		    u[i] == '.' || u[i] == '_' || u[i] == '-'))
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[1024], user[64], full[512], why[256];
	size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1, u;
	int r;

	memcpy(name, data, n);
	name[n] = '\0';
	r = kerberos_name_map(name, "TEST.MOAT", "TEST.MOAT", user,
	    sizeof(user), full, sizeof(full), why, sizeof(why));
	if (r == 0) {
		u = strlen(user);
		if (!plausible(user) || strncmp(name, user, u) != 0 ||
		    (name[u] != '\0' && strcmp(name + u, "@TEST.MOAT") != 0))
			abort();
	} else if (r != MOAT_ERR_AUTH || user[0] != '\0' || why[0] == '\0')
		abort();
	return 0;
}
