/*
 * log.h - logging for every moat process.
 *
 * The monitor and moatd log to syslog (LOG_AUTHPRIV) and, in debug mode,
 * to stderr. Sandboxed and session processes send their lines over an IPC
 * channel (IPC_NET_LOG) so the monitor can re-tag and write them; they never
 * open a log themselves. Every string from a peer must pass through
 * log_escape() (or the %s it reaches must already be escaped).
 */
#ifndef MOAT_LOG_H
#define MOAT_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

/* Log to syslog (facility LOG_AUTHPRIV) and, when to_stderr, to stderr. */
void log_init(const char *ident, int to_stderr, int debug);
/* Log by sending IPC_NET_LOG messages on fd (children); -1 switches back to stderr only. */
void log_set_ipc(int fd);
/* Extra file every line is appended to, or NULL (monitor only; moatd's LogFile). */
void log_set_file(const char *path);
/* Turns debug lines on or off at run time (moatctl debug); returns the old setting. */
int log_set_debug(int debug);
/* 1 if debug lines are logged. */
int log_get_debug(void);

void log_msg(int level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Logs at error level and exits the process with status 1 (never returns). */
void log_fatal(const char *func, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/*
 * Copies len bytes of untrusted src into dst (size dstlen, always
 * NUL-terminated), replacing every byte outside printable ASCII (and '\\')
 * with \xHH; output is cut at dstlen-1. Returns dst.
 */
char *log_escape(char *dst, size_t dstlen, const void *src, size_t len);

#define error_f(...)	log_msg(LOG_LVL_ERROR, __func__, __VA_ARGS__)
#define warn_f(...)	log_msg(LOG_LVL_WARN, __func__, __VA_ARGS__)
#define info_f(...)	log_msg(LOG_LVL_INFO, __func__, __VA_ARGS__)
#define debug_f(...)	log_msg(LOG_LVL_DEBUG, __func__, __VA_ARGS__)
#define fatal_f(...)	log_fatal(__func__, __VA_ARGS__)
/* Variants that append ": <moat_strerror(r)>". */
#define error_fr(r, fmt, ...) \
	log_msg(LOG_LVL_ERROR, __func__, fmt ": %s", ##__VA_ARGS__, moat_strerror(r))
#define fatal_fr(r, fmt, ...) \
	log_fatal(__func__, fmt ": %s", ##__VA_ARGS__, moat_strerror(r))

#endif
