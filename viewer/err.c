/*
 * err.c - moat-viewer's error messages, on stderr. Runs in moat-viewer;
 * callers pass only text they have made printable.
 */
#include <stdarg.h>
#include <stdio.h>

#include "viewer/viewer.h"

void
viewer_err(const char *fmt, ...)
{
	va_list ap;

	fputs("moat-viewer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
