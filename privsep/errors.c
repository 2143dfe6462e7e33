/*
 * errors.c - names for MOAT_ERR_* codes, and the one writer of
 * configuration error messages. Linked into every process; trusts nothing.
 */
#include <stdarg.h>
#include <stdio.h>

#include "errors.h"

int
moat_config_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return MOAT_ERR_CONFIG;
}

const char *
moat_strerror(int r)
{
	switch (r) {
	case MOAT_OK: return "success";
	case MOAT_ERR_NOMEM: return "out of memory";
	case MOAT_ERR_SHORT: return "message too short";
	case MOAT_ERR_TOO_LONG: return "length exceeds limit";
	case MOAT_ERR_TRAILING: return "trailing bytes after message";
	case MOAT_ERR_INVALID: return "invalid value";
	case MOAT_ERR_SYSTEM: return "system call failed";
	case MOAT_ERR_EOF: return "peer closed the connection";
	case MOAT_ERR_PROTOCOL: return "protocol violation";
	case MOAT_ERR_FD: return "file descriptor error";
	case MOAT_ERR_UNPERMITTED: return "request not permitted";
	case MOAT_ERR_CRYPTO: return "cryptographic failure";
	case MOAT_ERR_AGAIN: return "need more data";
	case MOAT_ERR_CONFIG: return "invalid configuration";
	case MOAT_ERR_AUTH: return "authentication failed";
	case MOAT_ERR_UNSUPPORTED: return "unsupported";
	case MOAT_ERR_UNAVAILABLE: return "an authentication service did not answer";
	}
	return "unknown error";
}
