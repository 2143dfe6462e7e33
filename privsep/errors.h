/*
 * errors.h - error codes shared by every moat process.
 *
 * Library code returns 0 on success or a negative MOAT_ERR_* value.
 * moat_strerror() names a code; it never returns NULL.
 */
#ifndef MOAT_ERRORS_H
#define MOAT_ERRORS_H

#include <stddef.h>

enum moat_err {
	MOAT_OK = 0,
	MOAT_ERR_NOMEM = -1,		/* allocation failed */
	MOAT_ERR_SHORT = -2,		/* not enough bytes in a buffer or message */
	MOAT_ERR_TOO_LONG = -3,		/* a length exceeds its bound */
	MOAT_ERR_TRAILING = -4,		/* bytes left over after a complete parse */
	MOAT_ERR_INVALID = -5,		/* a field has a value it may not have */
	MOAT_ERR_SYSTEM = -6,		/* a system call failed; errno is set */
	MOAT_ERR_EOF = -7,		/* the peer closed the channel */
	MOAT_ERR_PROTOCOL = -8,		/* the peer broke the protocol */
	MOAT_ERR_FD = -9,		/* a descriptor was missing, unexpected or truncated */
	MOAT_ERR_UNPERMITTED = -10,	/* a request not permitted in this state */
	MOAT_ERR_CRYPTO = -11,		/* a cryptographic operation failed */
	MOAT_ERR_AGAIN = -12,		/* need more input; try again later */
	MOAT_ERR_CONFIG = -13,		/* configuration is invalid */
	MOAT_ERR_AUTH = -14,		/* authentication failed */
	MOAT_ERR_UNSUPPORTED = -15,	/* a valid request moat does not implement */
	MOAT_ERR_UNAVAILABLE = -16,	/* an authentication service did not answer */
};

/*
 * Formats a message into err (when err is not NULL and errlen > 0) and
 * returns MOAT_ERR_CONFIG: the one way loaders report a bad file or value.
 */
int moat_config_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns a static, human-readable name for error code r. */
const char *moat_strerror(int r);

#endif
