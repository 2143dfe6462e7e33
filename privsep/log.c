/*
 * log.c - logging back-end (see log.h). Runs in every process. In moat-net
 * it only writes to the IPC log channel it was given; it opens nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "errors.h"
#include "ipc.h"
#include "ipc_msg.h"
#include "log.h"
#ifdef MOAT_INPROCESS
#include "ipc_inproc.h"	/* moatd-inprocess only: moat-net is a thread there */
#endif

#define LOG_LINE_MAX 1024

static int log_to_stderr = 1;
static int log_to_syslog;
static int log_debug;
#ifdef MOAT_INPROCESS
/* Per thread: only moat-net's thread of a monitor logs through the channel. */
static _Thread_local int log_ipc_fd = -1;
#else
static int log_ipc_fd = -1;
#endif
static char log_file_path[512];
static char log_ident[32] = "moat";

void
log_init(const char *ident, int to_stderr, int debug)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_to_stderr = to_stderr;
	log_debug = debug;
	log_to_syslog = 1;
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void
log_set_ipc(int fd)
{
	log_ipc_fd = fd;
#ifndef MOAT_INPROCESS	/* there the monitor's thread keeps its syslog */
	log_to_syslog = 0;
#endif
}

void
log_set_file(const char *path)
{
	if (path == NULL)
		log_file_path[0] = '\0';
	else
		snprintf(log_file_path, sizeof(log_file_path), "%s", path);
}

int
log_set_debug(int debug)
{
	int old = log_debug;

	log_debug = debug ? 1 : 0;
	return old;
}

int
log_get_debug(void)
{
	return log_debug;
}

char *
log_escape(char *dst, size_t dstlen, const void *src, size_t len)
{
	const unsigned char *s = src;
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (dstlen == 0)
		return dst;
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}

static void __attribute__((format(printf, 3, 0)))
log_emit(int level, const char *func, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *names[] = { "error", "warning", "info", "debug" };
	char line[LOG_LINE_MAX], full[LOG_LINE_MAX + 64];
	int saved = errno, fd;

	if (level < 0 || level > LOG_LVL_DEBUG)
		level = LOG_LVL_ERROR;
	if (level == LOG_LVL_DEBUG && !log_debug && log_ipc_fd == -1)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (func != NULL && level == LOG_LVL_DEBUG)
		snprintf(full, sizeof(full), "%s: %s", func, line);
	else
		snprintf(full, sizeof(full), "%s", line);
	if (log_ipc_fd != -1) {
		struct ipc_net_log lm;
		struct buf b;
		uint8_t store[LOG_LINE_MAX + 80];

		/* A fixed, stack-sized message: no allocation in the sandbox. */
		buf_init_fixed(&b, store, sizeof(store));
		lm.level = (uint8_t)level;
		lm.text = ipc_view_cstr(full);
		/* "func: " may push a debug line past what the monitor accepts. */
		if (lm.text.len > IPC_MAX_LOG_TEXT)
			lm.text.len = IPC_MAX_LOG_TEXT;
		if (ipc_msg_put_net_log(&b, &lm) == 0)
			(void)ipc_send(log_ipc_fd, IPC_NET_LOG, &b, -1);
		explicit_bzero(store, sizeof(store));
		errno = saved;
		return;
	}
	if (log_to_syslog)
		syslog(prio[level], "%s", full);
	if (log_to_stderr)
		fprintf(stderr, "%s[%d]: %s: %s\n", log_ident, (int)getpid(),
		    names[level], full);
	if (log_file_path[0] != '\0' &&
	    (fd = open(log_file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) != -1) {
		char ts[32];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		dprintf(fd, "%s %s[%d]: %s: %s\n", ts, log_ident, (int)getpid(),
		    names[level], full);
		close(fd);
	}
	errno = saved;
}

void
log_msg(int level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(level, func, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, func, fmt, ap);
	va_end(ap);
#ifdef MOAT_INPROCESS
	if (log_ipc_fd != -1)
		ipc_inproc_net_exit(1);	/* moat-net's thread ends, not the monitor */
#endif
	_exit(1);
}
