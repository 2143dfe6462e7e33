/*
 * prompt.c - asks the user a question on the controlling terminal
 * (/dev/tty), with echo off for secrets. Runs in moat-viewer; the answer
 * is bounded by the caller's buffer (a longer one is refused, not cut).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "viewer/viewer.h"

/* Reads one line from the terminal into out; echo off when secret. */
int
viewer_prompt(const char *what, int secret, char *out, size_t outlen)
{
	struct termios old, quiet;
	size_t len;
	FILE *tty;
	int fd, restore = 0, r = -1;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0 ||
	    (tty = fdopen(fd, "r+")) == NULL) {
		if (fd >= 0)
			close(fd);
		viewer_err("no terminal to ask: %s", what);
		return -1;
	}
	fprintf(tty, "%s: ", what);
	fflush(tty);
	if (secret && tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (fgets(out, (int)outlen, tty) != NULL) {
		len = strlen(out);
		if (len > 0 && out[len - 1] == '\n') {
			out[len - 1] = '\0';
			r = 0;
		} else
			viewer_err("the %s is too long", what);
	}
	if (restore) {
		(void)tcsetattr(fd, TCSAFLUSH, &old);
		fputc('\n', tty);
	}
	fclose(tty);
	return r;
}
