/*
 * secret_file.c - the checks every root-only file moat reads passes (see
 * secret_file.h). Runs as root in moatd, its monitors and moatctl. It
 * trusts nothing about the path: a symbolic link, a FIFO, a device, a file
 * another user owns or can read are refused before a byte is read; once
 * they pass, only root can have written what is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "secret_file.h"

#define PATH_MAX_LEN	4096

int
secret_file_read(const char *path, const char *what, void *buf, size_t max,
    size_t *got, char *err, size_t errlen)
{
	char epath[256];
	struct stat st;
	size_t have = 0;
	ssize_t n;
	int fd, r = MOAT_ERR_CONFIG;

	*got = 0;
	log_escape(epath, sizeof(epath), path, strnlen(path, PATH_MAX_LEN));
	/* O_NONBLOCK: a FIFO planted here must not hang moatd. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY)) == -1) {
		if (errno == ELOOP)
			return moat_config_error(err, errlen, "%s: %s is a symbolic link",
			    epath, what);
		return moat_config_error(err, errlen, "%s: cannot open the %s: %s", epath,
		    what, strerror(errno));
	}
	if (fstat(fd, &st) == -1) {
		moat_config_error(err, errlen, "%s: cannot stat: %s", epath, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		moat_config_error(err, errlen, "%s: %s is not a regular file", epath, what);
		goto out;
	}
	if (st.st_uid != 0) {
		moat_config_error(err, errlen, "%s: %s is owned by uid %u, not by root",
		    epath, what, (unsigned)st.st_uid);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		moat_config_error(err, errlen, "%s: %s has mode %04o; it must give no "
		    "access to group or others (chmod 0600)", epath, what,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while (have < max) {
		n = read(fd, (char *)buf + have, max - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			moat_config_error(err, errlen, "%s: read: %s", epath, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	*got = have;
	r = 0;
out:
	close(fd);
	return r;
}
