/*
 * config_load.c - reads moatd.conf and the locked policy in policy.d/
 * from disk, refusing files an unprivileged user could have influenced.
 *
 * Runs in moatd (root), at start-up and for "moatd -t". It trusts only
 * files and directories that root owns and nobody else can write; every
 * name on the path is opened relative to the already-checked directory
 * above it with O_NOFOLLOW (openat walk instead of lstat + open, so there
 * is no window between the check and the use). The text itself is handed
 * to the pure parser in config_parse.c.
 *
 * Sticky directories: a root-owned directory that is group/other-writable
 * but has the sticky bit (like /tmp, mode 1777) is accepted ABOVE the
 * configuration, unlike sshd's StrictModes: others can create entries in
 * it but cannot rename or replace root's entries, and every name below it
 * is checked again. The configuration file itself and policy.d must not be
 * writable by group or others at all.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "config.h"

#define CONFIG_FILE_MAX		(1024 * 1024)	/* same bound as the parser */
#define CONFIG_POLICY_MAX	256		/* files in policy.d */
#define CONFIG_POLICY_DIR	"policy.d"

static int
lerr(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes "PATH: message" (path escaped) into err; returns MOAT_ERR_CONFIG. */
static int
lerr(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	char epath[CONFIG_PATH_MAX * 4], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_escape(epath, sizeof(epath), path, strnlen(path, CONFIG_PATH_MAX * 2));
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", epath, msg);
	return MOAT_ERR_CONFIG;
}

/*
 * Root must own what st describes and nobody else may write it; a sticky
 * directory is tolerated where allow_sticky is set (see the top comment).
 */
static int
check_stat(const struct stat *st, const char *path, int allow_sticky,
    char *err, size_t errlen)
{
	if (st->st_uid != 0)
		return lerr(err, errlen, path, "owned by uid %u, not by root",
		    (unsigned)st->st_uid);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    !(allow_sticky && S_ISDIR(st->st_mode) &&
	    (st->st_mode & S_ISVTX) != 0))
		return lerr(err, errlen, path, "writable by group or others "
		    "(mode %04o)", (unsigned)(st->st_mode & 07777));
	return 0;
}

/*
 * Walks the absolute path from / to its last directory, checking each
 * directory. Returns 0 with *dirfd (O_PATH, caller closes) open on the
 * directory holding the last component, or MOAT_ERR_CONFIG with err set.
 */
static int
open_parent(const char *path, int *dirfd, char *err, size_t errlen)
{
	char walked[CONFIG_PATH_MAX], comp[CONFIG_PATH_MAX];
	const char *p = path, *slash;
	struct stat st;
	int fd, nfd, r;

	*dirfd = -1;
	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return lerr(err, errlen, "/", "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) == -1) {
		r = lerr(err, errlen, "/", "cannot stat: %s", strerror(errno));
		close(fd);
		return r;
	}
	if ((r = check_stat(&st, "/", 1, err, errlen)) != 0) {
		close(fd);
		return r;
	}
	for (;;) {
		size_t n;

		while (*p == '/')
			p++;
		if ((slash = strchr(p, '/')) == NULL)
			break;	/* p is the last component */
		/* Both are shorter than path, itself < CONFIG_PATH_MAX. */
		n = (size_t)(slash - p);
		memcpy(comp, p, n);
		comp[n] = '\0';
		memcpy(walked, path, (size_t)(slash - path));
		walked[slash - path] = '\0';
		p = slash;
		nfd = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (nfd == -1)
			return lerr(err, errlen, walked, "cannot open: %s",
			    strerror(errno));
		fd = nfd;
		if (fstat(fd, &st) == -1) {
			r = lerr(err, errlen, walked, "cannot stat: %s",
			    strerror(errno));
			close(fd);
			return r;
		}
		if (S_ISLNK(st.st_mode)) {
			close(fd);
			return lerr(err, errlen, walked, "symbolic link in the "
			    "path of the configuration");
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			return lerr(err, errlen, walked, "not a directory");
		}
		if ((r = check_stat(&st, walked, 1, err, errlen)) != 0) {
			close(fd);
			return r;
		}
	}
	*dirfd = fd;
	return 0;
}

/*
 * Opens name in the checked directory dirfd (path is its full name, for
 * messages), checks it and reads it whole. Returns 0 with *textp (caller
 * frees) and *lenp, or MOAT_ERR_CONFIG with err set.
 */
static int
read_checked(int dirfd, const char *name, const char *path, char **textp,
    size_t *lenp, char *err, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t cap, got = 0;
	ssize_t n;
	int fd, r;

	*textp = NULL;
	*lenp = 0;
	/* O_NONBLOCK: a FIFO planted here must not hang moatd. */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK | O_NOCTTY);
	if (fd == -1) {
		if (errno == ELOOP)
			return lerr(err, errlen, path, "is a symbolic link");
		return lerr(err, errlen, path, "cannot open: %s", strerror(errno));
	}
	if (fstat(fd, &st) == -1) {
		r = lerr(err, errlen, path, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = lerr(err, errlen, path, "not a regular file");
		goto out;
	}
	if ((r = check_stat(&st, path, 0, err, errlen)) != 0)
		goto out;
	if (st.st_size < 0 || st.st_size > CONFIG_FILE_MAX) {
		r = lerr(err, errlen, path, "file larger than %d bytes",
		    CONFIG_FILE_MAX);
		goto out;
	}
	/* One byte more than fstat promised, to notice a growing file. */
	cap = (size_t)st.st_size + 1;
	if ((text = malloc(cap)) == NULL) {
		r = lerr(err, errlen, path, "out of memory");
		goto out;
	}
	while (got < cap) {
		n = read(fd, text + got, cap - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = lerr(err, errlen, path, "read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == cap) {
		r = lerr(err, errlen, path, "file changed while being read");
		goto out;
	}
	*textp = text;
	*lenp = got;
	text = NULL;
	r = 0;
 out:
	free(text);
	close(fd);
	return r;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
is_policy_name(const char *name)
{
	size_t n = strlen(name);

	/* "*.conf" as the shell matches it: no hidden files. */
	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/*
 * Lists the *.conf names of the open policy directory pfd in lexical
 * order. Returns 0 with *namesp (each name and the array freed by the
 * caller) and *countp, or MOAT_ERR_CONFIG with err set.
 */
static int
list_policy(int pfd, const char *dirpath, char ***namesp, size_t *countp,
    char *err, size_t errlen)
{
	struct dirent *de;
	char **names;
	size_t count = 0, i;
	DIR *d;
	int dfd, r = 0;

	*namesp = NULL;
	*countp = 0;
	if ((names = calloc(CONFIG_POLICY_MAX, sizeof(*names))) == NULL)
		return lerr(err, errlen, dirpath, "out of memory");
	if ((dfd = dup(pfd)) == -1 || (d = fdopendir(dfd)) == NULL) {
		r = lerr(err, errlen, dirpath, "cannot read: %s", strerror(errno));
		if (dfd != -1)
			close(dfd);
		free(names);
		return r;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!is_policy_name(de->d_name))
			continue;
		if (count == CONFIG_POLICY_MAX) {
			r = lerr(err, errlen, dirpath, "more than %d policy files",
			    CONFIG_POLICY_MAX);
			break;
		}
		if ((names[count] = strdup(de->d_name)) == NULL) {
			r = lerr(err, errlen, dirpath, "out of memory");
			break;
		}
		count++;
		errno = 0;
	}
	if (r == 0 && errno != 0)
		r = lerr(err, errlen, dirpath, "cannot read: %s", strerror(errno));
	closedir(d);
	if (r != 0) {
		for (i = 0; i < count; i++)
			free(names[i]);
		free(names);
		return r;
	}
	qsort(names, count, sizeof(*names), cmp_names);
	*namesp = names;
	*countp = count;
	return 0;
}

/*
 * Parses every *.conf in policy.d/ beside the main file (dirfd, dirprefix:
 * the main file's directory without its trailing '/') over c/o. A
 * parameter may override the main file but only one policy file may set it.
 */
static int
load_policy(struct moat_config *c, struct config_origin *o, int dirfd,
    const char *dirprefix, char *err, size_t errlen)
{
	struct config_origin po[CONFIG_PARAMS_MAX];	/* first policy file setting each parameter */
	char dirpath[CONFIG_PATH_MAX], fpath[CONFIG_PATH_MAX];
	char ofile[CONFIG_PATH_MAX * 4], efile[CONFIG_PATH_MAX * 4];
	char **names = NULL, *text;
	size_t count = 0, i, k, len, np = config_param_count();
	struct stat st;
	int pfd = -1, r, w;

	if (np > sizeof(po) / sizeof(po[0]))
		return lerr(err, errlen, dirprefix, "internal error: too many "
		    "parameters");
	memset(po, 0, sizeof(po));
	w = snprintf(dirpath, sizeof(dirpath), "%s/%s", dirprefix,
	    CONFIG_POLICY_DIR);
	if (w < 0 || (size_t)w >= sizeof(dirpath))
		return lerr(err, errlen, dirprefix, "path too long");
	if (fstatat(dirfd, CONFIG_POLICY_DIR, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;	/* no locked policy */
		return lerr(err, errlen, dirpath, "cannot stat: %s",
		    strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return lerr(err, errlen, dirpath, "is a symbolic link");
	if (!S_ISDIR(st.st_mode))
		return lerr(err, errlen, dirpath, "not a directory");
	pfd = openat(dirfd, CONFIG_POLICY_DIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (pfd == -1)
		return lerr(err, errlen, dirpath, "cannot open: %s",
		    strerror(errno));
	if (fstat(pfd, &st) == -1) {
		r = lerr(err, errlen, dirpath, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if ((r = check_stat(&st, dirpath, 0, err, errlen)) != 0)
		goto out;
	if ((r = list_policy(pfd, dirpath, &names, &count, err, errlen)) != 0)
		goto out;

	for (i = 0; i < count; i++) {
		w = snprintf(fpath, sizeof(fpath), "%s/%s", dirpath, names[i]);
		if (w < 0 || (size_t)w >= sizeof(fpath)) {
			r = lerr(err, errlen, dirpath, "path of '%s' too long",
			    log_escape(efile, sizeof(efile), names[i],
			    strlen(names[i])));
			goto out;
		}
		if ((r = read_checked(pfd, names[i], fpath, &text, &len,
		    err, errlen)) != 0)
			goto out;
		r = config_parse_text(c, o, fpath, text, len, 1, err, errlen);
		free(text);
		if (r != 0)
			goto out;
		/* Parameters this file set carry its name as their origin. */
		for (k = 0; k < np; k++) {
			if (strcmp(o[k].file, fpath) != 0)
				continue;
			if (po[k].file[0] != '\0') {
				log_escape(efile, sizeof(efile), fpath,
				    strlen(fpath));
				log_escape(ofile, sizeof(ofile), po[k].file,
				    strnlen(po[k].file, sizeof(po[k].file)));
				if (err != NULL && errlen > 0)
					snprintf(err, errlen, "%s:%u: duplicate "
					    "parameter '%s' (first set at %s:%u)",
					    efile, o[k].line,
					    config_params()[k].name, ofile,
					    po[k].line);
				r = MOAT_ERR_CONFIG;
				goto out;
			}
			po[k] = o[k];
		}
	}
	r = 0;
 out:
	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
	if (pfd != -1)
		close(pfd);
	return r;
}

int
config_load(struct moat_config *c, struct config_origin *o, const char *path,
    char *err, size_t errlen)
{
	struct config_origin lo[CONFIG_PARAMS_MAX];
	struct moat_config tmp;
	char dirprefix[CONFIG_PATH_MAX];
	const char *base;
	char *text = NULL;
	size_t len, np = config_param_count();
	int dirfd = -1, r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL)
		return lerr(err, errlen, "(null)", "no configuration path");
	if (np > sizeof(lo) / sizeof(lo[0]))
		return lerr(err, errlen, path, "internal error: too many "
		    "parameters");
	if (strnlen(path, CONFIG_PATH_MAX) >= CONFIG_PATH_MAX)
		return lerr(err, errlen, path, "path longer than %d bytes",
		    CONFIG_PATH_MAX - 1);
	if (path[0] != '/')
		return lerr(err, errlen, path, "configuration path must be "
		    "absolute");
	base = strrchr(path, '/') + 1;
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return lerr(err, errlen, path, "not a file name");
	memcpy(dirprefix, path, (size_t)(base - path - 1));
	dirprefix[base - path - 1] = '\0';

	config_defaults(&tmp);
	memset(lo, 0, sizeof(lo));
	if ((r = open_parent(path, &dirfd, err, errlen)) != 0)
		return r;
	if ((r = read_checked(dirfd, base, path, &text, &len, err, errlen)) != 0)
		goto out;
	if ((r = config_parse_text(&tmp, lo, path, text, len, 0, err,
	    errlen)) != 0)
		goto out;
	if ((r = load_policy(&tmp, lo, dirfd, dirprefix, err, errlen)) != 0)
		goto out;
	if ((r = config_check(&tmp, lo, err, errlen)) != 0)
		goto out;
	*c = tmp;
	if (o != NULL)
		memcpy(o, lo, np * sizeof(*o));
	r = 0;
 out:
	free(text);
	close(dirfd);
	return r;
}
