/*
 * secret_file.h - reads a file only root can have written and only root
 * can read: the RADIUS shared secret, the VNC password file. Runs as root
 * in moatd, its monitors and moatctl.
 */
#ifndef MOAT_SECRET_FILE_H
#define MOAT_SECRET_FILE_H

#include <stddef.h>

/*
 * Opens path without following a symbolic link or blocking on a FIFO,
 * checks that it is a regular file owned by root with no group or other
 * permission bits (0600 or 0400), and reads at most max bytes of it into
 * buf (a file of max bytes or more fills buf: size max one above the
 * caller's limit to detect a longer file). what names the file in
 * messages ("RADIUS secret file"). Returns 0 with the byte count in *got,
 * or MOAT_ERR_CONFIG with a message "PATH: ..." in err; buf may hold part
 * of the file on error, so the caller wipes it either way.
 */
int secret_file_read(const char *path, const char *what, void *buf,
    size_t max, size_t *got, char *err, size_t errlen);

#endif
