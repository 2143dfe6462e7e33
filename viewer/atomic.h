/*
 * atomic.h - replaces a file of the viewer's (known hosts, vault) so that
 * a crash leaves either the old or the new content, never a mixture.
 * Runs in moat-viewer, on the user's own files.
 */
#ifndef MOAT_VIEWER_ATOMIC_H
#define MOAT_VIEWER_ATOMIC_H

#include <stddef.h>

/*
 * Writes len bytes to a fresh temporary file beside path (O_EXCL, mode
 * 0600), fsyncs it, renames it over path and fsyncs the directory. The
 * parent directory is created (0700) if missing. Returns 0 or
 * MOAT_ERR_SYSTEM with errno set; on failure the temporary file is removed
 * and path is untouched.
 */
int viewer_atomic_write(const char *path, const void *data, size_t len);

/*
 * Reads the whole file at path, at most max bytes, into a fresh buffer
 * (*out, caller frees; NUL-terminated beyond *len). Returns 0,
 * MOAT_ERR_EOF when the file does not exist, MOAT_ERR_TOO_LONG when it is
 * larger than max, or MOAT_ERR_SYSTEM (errno set).
 */
int viewer_read_file(const char *path, size_t max, unsigned char **out,
    size_t *len);

#endif
