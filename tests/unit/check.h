/*
 * check.h - the counters and CHECK macro every unit test uses. Test code.
 *
 * CHECK(cond) or CHECK(cond, "format", args...) counts a passed or failed
 * check and prints the failing file, line, condition and message on stderr.
 * check_summary() prints "N passed, M failed" and returns main's status.
 */
#ifndef MOAT_TEST_CHECK_H
#define MOAT_TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int passed, failed;

static void __attribute__((format(printf, 1, 2), unused))
check_note(const char *fmt, ...)
{
	va_list ap;

	if (fmt[2] != '\0') {	/* fmt is ": " followed by the caller's format */
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
}

#define CHECK(cond, ...) do {						\
	if (cond)							\
		passed++;						\
	else {								\
		failed++;						\
		fprintf(stderr, "FAIL %s:%d: %s", __FILE__, __LINE__, #cond); \
		check_note(": " __VA_ARGS__);				\
	}								\
} while (0)

static int __attribute__((unused))
check_summary(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#endif
