/*
 * moatctl.c - the administrator's command-line tool.
 *
 * Runs as whoever calls it: "identity generate", "identity rotate" and
 * "password" only as root; "identity show" and "identity export-ca" as any
 * user who can read the configuration and the certificate (as root, show
 * also checks the key moatd would load). Trusts the configuration only
 * after config_load() has checked that root owns it and nobody else can
 * write it, and trusts the identity and VNC password files it names as
 * moatd does. A new VNC password comes from the terminal (or standard
 * input) and is wiped once hashed; it is never logged. It opens no network
 * socket; these commands work on the files moatd reads, so they work
 * before moatd first starts and while it runs.
 *
 * The commands sessions, disconnect, blacklist, reload and check talk to
 * the running moatd over its control socket (ControlSocket, or -s PATH):
 * one request per connection, answered with IPC messages that are decoded
 * by the bounded codec and printed with control characters replaced. moatd
 * itself decides who may use them (root only: the socket's mode and the
 * peer's credentials); moatctl does not check first, so that a refusal is
 * moatd's.
 *
 * Usage:
 *   moatctl identity generate [-f moatd.conf]
 *   moatctl identity show [-f moatd.conf]
 *   moatctl identity export-ca [-f moatd.conf] [-o FILE]
 *   moatctl identity rotate [-f moatd.conf] [--overlap DURATION] [--force]
 *   moatctl password [-f moatd.conf] [--stdin] USER
 *   moatctl password [-f moatd.conf] --delete USER
 *   moatctl sessions [-f moatd.conf | -s socket]
 *   moatctl disconnect [-f moatd.conf | -s socket] ID|all
 *   moatctl blacklist [show|clear [KEY]] [-f moatd.conf | -s socket]
 *   moatctl reload [-f moatd.conf | -s socket]
 *   moatctl check [-f moatd.conf | -s socket]
 *   moatctl audit verify [-f moatd.conf | --key FILE] [--live] FILE...
 *   moatctl audit show [filters] [--json] FILE...
 *
 * "audit verify" and "audit show" (tools/moatctl_audit.c) read audit files
 * offline: no socket, no configuration except to find AuditKey.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "auth/vnc_password.h"
#include "tools/moatctl_audit.h"
#include "monitor/mon_identity.h"
#include "policy/config.h"
#include "privsep/catchphrase.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"
#include "privsep/log.h"

#define DEFAULT_CONFIG "/etc/moat/moatd.conf"

struct cmd_opts {
	const char *conf;	/* -f */
	const char *out;	/* -o (export-ca only) */
	long overlap;		/* --overlap, seconds (rotate only) */
	int force;		/* --force (rotate only) */
	int from_stdin;		/* --stdin (password only) */
	int delete;		/* --delete (password only) */
	const char *user;	/* USER (password), ID|all (disconnect), KEY (blacklist clear) */
	const char *sock;	/* -s: the control socket, instead of the configuration's */
};

struct command {
	const char *group;
	const char *verb;	/* NULL: the group is the whole command */
	const char *optstring;	/* getopt options after the verb */
	const struct option *longopts;
	int nargs;		/* operands after the options (0 or 1; -1: 0 or 1) */
	int root_only;
	int (*run)(const struct moat_config *, const struct cmd_opts *);
};

#define OPT_OVERLAP	256
#define OPT_FORCE	257
#define OPT_STDIN	258
#define OPT_DELETE	259

static const struct option no_longopts[] = {
	{ NULL, 0, NULL, 0 }
};

static const struct option rotate_longopts[] = {
	{ "overlap", required_argument, NULL, OPT_OVERLAP },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ NULL, 0, NULL, 0 }
};

static const struct option password_longopts[] = {
	{ "stdin", no_argument, NULL, OPT_STDIN },
	{ "delete", no_argument, NULL, OPT_DELETE },
	{ NULL, 0, NULL, 0 }
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: moatctl identity generate [-f moatd.conf]\n"
	    "       moatctl identity show [-f moatd.conf]\n"
	    "       moatctl identity export-ca [-f moatd.conf] [-o file]\n"
	    "       moatctl identity rotate [-f moatd.conf] [--overlap DURATION] "
	    "[--force]\n"
	    "           DURATION: a number and s, m, h or d, 1s to 400d "
	    "(default 30d)\n"
	    "       moatctl password [-f moatd.conf] [--stdin] USER\n"
	    "       moatctl password [-f moatd.conf] --delete USER\n"
	    "       moatctl sessions [-f moatd.conf | -s socket]\n"
	    "       moatctl disconnect [-f moatd.conf | -s socket] ID|all\n"
	    "       moatctl blacklist [show | clear [KEY]] [-f moatd.conf | "
	    "-s socket]\n"
	    "       moatctl reload [-f moatd.conf | -s socket]\n"
	    "       moatctl check [-f moatd.conf | -s socket]\n"
	    "       moatctl debug on|off [-f moatd.conf | -s socket]\n"
	    "       moatctl audit rotate [-f moatd.conf | -s socket]\n"
	    "       moatctl audit verify [-f moatd.conf | --key FILE] [--live] "
	    "FILE...\n"
	    "       moatctl audit show [--user U] [--address A] [--since T] "
	    "[--until T] [--event E] [--json] FILE...\n");
	exit(2);
}

/* Prints the fingerprints and the catchphrase of a loaded identity. */
static int
print_identity(const struct moat_config *cfg, const struct mon_identity *id)
{
	struct catchphrase_id desc;
	char fp[CATCHPHRASE_FP_LEN];
	int r;

	if ((r = mon_identity_fingerprint(id, fp, sizeof(fp))) != 0 ||
	    (r = mon_identity_describe(id, &desc)) != 0) {
		fprintf(stderr, "moatctl: %s: cannot describe the identity: %s\n",
		    cfg->identity_cert, moat_strerror(r));
		return 1;
	}
	printf("Certificate:          %s\n", cfg->identity_cert);
	printf("Certificate SHA-256:  %s\n", fp);
	printf("Public key SHA-256:   %s\n", desc.key_fp);
	printf("Catchphrase:          %s\n", desc.words);
	printf("RealVNC fingerprint:  %s\n",
	    desc.realvnc[0] != '\0' ? desc.realvnc : "(not an RSA key)");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "moatctl: writing the output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

/*
 * Prints the rotation in effect (the previous key and the end of the
 * overlap), or why the rotation certificate file is not used; nothing
 * when there is none.
 */
static int
print_rotation(const struct moat_config *cfg, struct mon_identity *id)
{
	struct catchphrase_id prev;
	char err[1024], until[40];
	int r;

	if (id->rot_cross == NULL && mon_identity_rotation_load(id,
	    cfg->identity_rotation_cert, err, sizeof(err)) != 0) {
		printf("Rotation certificate: not in effect: %s\n", err);
		return 0;
	}
	if (id->rot_cross == NULL)
		return 0;
	if ((r = mon_identity_rotation_describe(id, &prev, until,
	    sizeof(until))) != 0) {
		fprintf(stderr, "moatctl: %s: cannot describe the rotation: %s\n",
		    cfg->identity_rotation_cert, moat_strerror(r));
		return 1;
	}
	printf("Rotation certificate: %s\n", cfg->identity_rotation_cert);
	printf("Previous key SHA-256: %s\n", prev.key_fp);
	printf("Previous catchphrase: %s\n", prev.words);
	printf("Overlap ends:         %s\n", until);
	return 0;
}

static int
identity_generate(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct mon_identity id;
	char err[1024];
	int rc;

	if (mon_identity_create(&id, cfg->identity_key, cfg->identity_cert,
	    err, sizeof(err)) != 0) {
		fprintf(stderr, "moatctl: %s\n", err);
		return 1;
	}
	rc = print_identity(cfg, &id);
	mon_identity_free(&id);
	return rc;
}

static int
identity_show(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct mon_identity id;
	char err[1024];
	int rc;

	/* Root can read the key: check it as moatd will, and that it
	 * belongs to the certificate. Others see the public half only. */
	if (mon_identity_open(&id, geteuid() == 0 ? cfg->identity_key : NULL,
	    cfg->identity_cert, err, sizeof(err)) != 0) {
		fprintf(stderr, "moatctl: %s\n", err);
		return 1;
	}
	rc = print_identity(cfg, &id);
	if (rc == 0)
		rc = print_rotation(cfg, &id);
	if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
		fprintf(stderr, "moatctl: writing the output: %s\n", strerror(errno));
		rc = 1;
	}
	mon_identity_free(&id);
	return rc;
}

static int
identity_rotate(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct mon_identity old, new;
	char err[1024];
	int rc, legacy;

	if (mon_identity_open(&old, cfg->identity_key, cfg->identity_cert, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "moatctl: %s\n", err);
		return 1;
	}
	/* Made before moat could rotate: no intermediate CA allowed below it. */
	legacy = X509_get_pathlen(old.cert) == 0;
	if (mon_identity_rotate(&old, cfg->identity_key, cfg->identity_cert,
	    cfg->identity_rotation_cert, o->overlap, o->force, &new, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "moatctl: %s\n", err);
		mon_identity_free(&old);
		return 1;
	}
	mon_identity_free(&old);
	rc = print_identity(cfg, &new);
	if (rc == 0)
		rc = print_rotation(cfg, &new);
	mon_identity_free(&new);
	if (rc != 0)
		return rc;
	printf("\n"
	    "Restart moatd to serve the new identity. Until the overlap ends it "
	    "sends the\n"
	    "cross certificate, by which the previous key vouches for the new "
	    "one: moat-viewer\n"
	    "(VeNCrypt) learns the new key, and viewers that trust the previous "
	    "certificate\n"
	    "file keep verifying; give them the new file before the overlap ends "
	    "(moatctl\n"
	    "identity export-ca). RSA-AES viewers (TigerVNC, noVNC) see a changed "
	    "key:\n"
	    "announce the new catchphrase to their users.\n");
	if (legacy)
		printf("NOTE: the previous certificate allows no intermediate CA "
		    "(pathlen:0, made before\n"
		    "moat could rotate): viewers that verify the chain against the "
		    "previous\n"
		    "certificate file (TigerVNC -X509CA, gtk-vnc) refuse it from now "
		    "on and need the\n"
		    "new file at once; moat-viewer still learns the rotation.\n");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "moatctl: writing the output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static int
identity_export_ca(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct mon_identity id;
	char err[1024];
	FILE *f = stdout;
	int fd = -1, ok;

	if (mon_identity_open(&id, NULL, cfg->identity_cert, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "moatctl: %s\n", err);
		return 1;
	}
	if (o->out != NULL && strcmp(o->out, "-") != 0) {
		/* Never overwrite and never follow a link: this may run as
		 * root in a directory others can write. */
		fd = open(o->out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
		if (fd == -1 || fchmod(fd, 0644) != 0 ||
		    (f = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "moatctl: %s: %s%s\n", o->out,
			    strerror(errno), errno == EEXIST ?
			    " (refusing to overwrite it)" : "");
			if (fd != -1)
				close(fd);
			mon_identity_free(&id);
			return 1;
		}
	}
	ok = PEM_write_X509(f, id.cert) == 1 && fflush(f) == 0 && !ferror(f);
	if (f != stdout && fclose(f) != 0)
		ok = 0;
	if (!ok) {
		fprintf(stderr, "moatctl: %s: cannot write the certificate: %s\n",
		    f != stdout ? o->out : "standard output", strerror(errno));
		if (f != stdout)
			unlink(o->out);
	}
	mon_identity_free(&id);
	return ok ? 0 : 1;
}

/* --- moatctl password --- */

static volatile sig_atomic_t caught;

static void
on_signal(int sig)
{
	caught = sig;
}

/*
 * Reads one line from fd into buf (bufsize bytes, NUL-terminated, without
 * its '\n'). Returns 0 with the length in *len; MOAT_ERR_TOO_LONG if the
 * line does not fit (the rest of it is read and dropped); MOAT_ERR_EOF at
 * the end of input before anything was read; MOAT_ERR_AGAIN if a signal
 * interrupted it; MOAT_ERR_SYSTEM on a read error.
 */
static int
read_line(int fd, char *buf, size_t bufsize, size_t *len)
{
	size_t n = 0;
	int too_long = 0, any = 0;
	ssize_t got;
	char ch;

	*len = 0;
	for (;;) {
		if ((got = read(fd, &ch, 1)) == -1) {
			if (errno == EINTR && caught == 0)
				continue;
			return errno == EINTR ? MOAT_ERR_AGAIN : MOAT_ERR_SYSTEM;
		}
		if (got == 0) {
			if (!any)
				return MOAT_ERR_EOF;
			break;
		}
		any = 1;
		if (ch == '\n')
			break;
		if (n + 1 < bufsize)
			buf[n++] = ch;
		else
			too_long = 1;
	}
	explicit_bzero(&ch, sizeof(ch));
	buf[n] = '\0';
	*len = n;
	return too_long ? MOAT_ERR_TOO_LONG : 0;
}

/*
 * Asks prompt on the controlling terminal and reads the answer without
 * echo, restoring the terminal whatever happens; a signal (^C) restores
 * it and is then delivered. Returns as read_line().
 */
static int
tty_read_secret(int tty, const char *prompt, char *buf, size_t bufsize,
    size_t *len)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP };
	struct sigaction sa, old[sizeof(sigs) / sizeof(sigs[0])];
	struct termios saved, quiet;
	size_t i;
	int r;

	if (tcgetattr(tty, &saved) != 0)
		return MOAT_ERR_SYSTEM;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: read() returns */
	sigemptyset(&sa.sa_mask);
	caught = 0;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, &old[i]);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	quiet.c_lflag |= ECHONL;
	if (tcsetattr(tty, TCSAFLUSH, &quiet) != 0)
		r = MOAT_ERR_SYSTEM;
	else if (write(tty, prompt, strlen(prompt)) != (ssize_t)strlen(prompt))
		r = MOAT_ERR_SYSTEM;
	else
		r = read_line(tty, buf, bufsize, len);
	(void)tcsetattr(tty, TCSAFLUSH, &saved);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &old[i], NULL);
	if (caught != 0) {
		OPENSSL_cleanse(buf, bufsize);
		if (write(tty, "\n", 1) != 1) {
			/* the terminal is gone: nothing left to tidy */
		}
		raise(caught);
		return MOAT_ERR_AGAIN;
	}
	return r;
}

/*
 * Gets the new password: twice from the terminal, or once from standard
 * input (--stdin: one line, with or without its '\n', and nothing after
 * it). Returns 0 with an acceptable password in pw (pwsize bytes) and its
 * length in *len, or 1 after printing why not.
 */
static int
get_new_password(const struct cmd_opts *o, char *pw, size_t pwsize,
    size_t *len)
{
	char again[VNC_PASSWORD_MAX + 2], prompt[128], extra;
	size_t alen = 0, i;
	int tty = -1, r, rc = 1;

	if (o->from_stdin) {
		r = read_line(STDIN_FILENO, pw, pwsize, len);
		if (r == 0 && read(STDIN_FILENO, &extra, 1) > 0) {
			fprintf(stderr, "moatctl: standard input holds more than "
			    "one line; give the password alone\n");
			goto out;
		}
	} else {
		if ((tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
			fprintf(stderr, "moatctl: no terminal to ask the password "
			    "on (%s); use --stdin to give it on standard "
			    "input\n", strerror(errno));
			goto out;
		}
		snprintf(prompt, sizeof(prompt), "New VNC password for %s: ",
		    o->user);
		r = tty_read_secret(tty, prompt, pw, pwsize, len);
		if (r == 0) {
			r = tty_read_secret(tty, "Retype it: ", again,
			    sizeof(again), &alen);
			if (r == 0 && (alen != *len ||
			    CRYPTO_memcmp(again, pw, alen) != 0)) {
				fprintf(stderr, "moatctl: the passwords differ; "
				    "nothing changed\n");
				goto out;
			}
		}
	}
	if (r == MOAT_ERR_EOF) {
		fprintf(stderr, "moatctl: no password given\n");
		goto out;
	}
	if (r != 0 && r != MOAT_ERR_TOO_LONG) {
		fprintf(stderr, "moatctl: cannot read the password: %s\n",
		    r == MOAT_ERR_SYSTEM ? strerror(errno) : moat_strerror(r));
		goto out;
	}
	if (r == MOAT_ERR_TOO_LONG || !vnc_password_acceptable(pw, *len)) {
		fprintf(stderr, "moatctl: a VNC password is %d to %d bytes; "
		    "nothing changed\n", VNC_PASSWORD_MIN, VNC_PASSWORD_MAX);
		goto out;
	}
	for (i = 0; i < *len; i++) {
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f) {
			fprintf(stderr, "moatctl: the password holds a control "
			    "character (a CR, a tab?); nothing changed\n");
			goto out;
		}
	}
	rc = 0;
out:
	OPENSSL_cleanse(again, sizeof(again));
	if (rc != 0)
		OPENSSL_cleanse(pw, pwsize);
	if (tty != -1)
		close(tty);
	return rc;
}

/*
 * Takes an exclusive lock on the directory of path, so that two runs of
 * moatctl password do not lose each other's change. Returns the locked
 * descriptor, or -1 after printing why.
 */
static int
lock_directory(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "moatctl: %s: cannot open its directory: %s\n",
		    path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX) != 0) {
		fprintf(stderr, "moatctl: %s: cannot lock its directory: %s\n",
		    path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
password_cmd(const struct moat_config *cfg, const struct cmd_opts *o)
{
	static struct vnc_password_db db;
	char pw[VNC_PASSWORD_MAX + 2], hash[VNC_PASSWORD_HASH_MAX + 1];
	char err[1024];
	const char *path = cfg->vnc_password_file, *what;
	struct stat st;
	size_t len = 0;
	int lock = -1, rc = 1, r;

	if (!vnc_password_valid_user(o->user)) {
		fprintf(stderr, "moatctl: '%s' is not a user name the VNC "
		    "password file can hold (1 to %d letters, digits, '.', "
		    "'_', '-')\n", o->user, VNC_PASSWORD_USER_MAX);
		return 1;
	}
	if (!o->delete && getpwnam(o->user) == NULL) {
		fprintf(stderr, "moatctl: there is no account named %s\n",
		    o->user);
		return 1;
	}
	/* Ask (and hash) before locking: the user may take their time. */
	if (!o->delete) {
		if (get_new_password(o, pw, sizeof(pw), &len) != 0)
			return 1;
		r = vnc_password_hash(pw, len, hash, sizeof(hash));
		OPENSSL_cleanse(pw, sizeof(pw));
		if (r != 0) {
			fprintf(stderr, "moatctl: cannot hash the password: "
			    "%s\n", moat_strerror(r));
			return 1;
		}
	}
	if ((lock = lock_directory(path)) == -1)
		goto out;
	if (lstat(path, &st) != 0 && errno == ENOENT)
		db.n = 0;	/* the first password: a new file */
	else if (vnc_password_load(&db, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "moatctl: %s\nmoatctl: fix or remove the file "
		    "first; nothing changed\n", err);
		goto out;
	}
	if (o->delete) {
		if (vnc_password_delete(&db, o->user) != 0) {
			fprintf(stderr, "moatctl: %s holds no VNC password for "
			    "%s\n", path, o->user);
			goto out;
		}
		what = "deleted";
	} else {
		what = vnc_password_find(&db, o->user) != NULL ? "changed" :
		    "set";
		if ((r = vnc_password_set(&db, o->user, hash)) != 0) {
			fprintf(stderr, "moatctl: %s: %s\n", path,
			    r == MOAT_ERR_TOO_LONG ? "the file is full (4096 "
			    "users)" : moat_strerror(r));
			goto out;
		}
	}
	if ((r = vnc_password_save(&db, path, err, sizeof(err))) != 0) {
		fprintf(stderr, "moatctl: %s\n", err);
		goto out;
	}
	info_f("VNC password of user %s %s in %s by uid %u", o->user, what,
	    path, (unsigned)getuid());
	printf("VNC password of %s %s in %s.\nReload moatd (moatctl reload) "
	    "or restart it for the change to take effect.\n", o->user, what,
	    path);
	if (!auth_methods_uses(&cfg->auth, AUTH_SCHEME_VNC_PASSWORD))
		printf("Note: Authentication=%s does not use VncPassword.\n",
		    cfg->authentication);
	rc = fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
out:
	if (lock != -1)
		close(lock);	/* releases the lock */
	OPENSSL_cleanse(hash, sizeof(hash));
	OPENSSL_cleanse(&db, sizeof(db));
	return rc;
}

/* ---- the commands that talk to moatd over its control socket ---- */

#define CTL_TIMEOUT_S	60	/* a reload reads every file; moatd bounds its own waits */

/* Writes n bytes of moatd's text, with control characters but '\n' replaced. */
static void
print_text(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		putchar(p[i] == '\n' || (p[i] >= 0x20 && p[i] < 0x7f) ?
		    p[i] : '?');
}

/* Copies a view into a printable NUL-terminated string. */
static const char *
view_text(const struct ipc_view *v, char *out, size_t outlen)
{
	return log_escape(out, outlen, v->p, v->len);
}

static void
print_time(uint64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, outlen, "%llu", (unsigned long long)t);
}

static int
ctl_connect(const struct cmd_opts *o, const char *path)
{
	struct timeval tv = { CTL_TIMEOUT_S, 0 };
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "moatctl: %s: path too long\n", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "moatctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			fprintf(stderr, "moatctl: moatd is not running (nothing "
			    "answers on its control socket %s)\n", path);
		else if (errno == EACCES || errno == EPERM)
			fprintf(stderr, "moatctl: permission denied on %s: "
			    "moatd's control socket is root's; run moatctl as "
			    "root\n", path);
		else
			fprintf(stderr, "moatctl: connecting to %s: %s\n", path,
			    strerror(errno));
		close(fd);
		return -1;
	}
	(void)o;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    ipc_tune_socket(fd) != 0) {
		fprintf(stderr, "moatctl: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Sends request rq to moatd and prints the answer: the records (sessions,
 * blacklist entries) as a table, then the reply's text. Returns the exit
 * status: 0 if moatd says it did it, 1 otherwise.
 */
static int
ctl_request(const struct moat_config *cfg, const struct cmd_opts *o,
    const struct ipc_ctl_request *rq)
{
	char path[CONFIG_PATH_MAX], t1[40], u[IPC_MAX_NAME * 4 + 1],
	    pe[IPC_MAX_PEER * 4 + 1], s1[80], s2[80], s3[80];
	union ipc_msg_any a;
	struct ipc_msg m;
	int fd, r, rc = 1, header = 0;

	if (o->sock != NULL)
		snprintf(path, sizeof(path), "%s", o->sock);
	else if (config_control_socket(cfg, path, sizeof(path)) != 0) {
		fprintf(stderr, "moatctl: ControlSocket: the path is too long\n");
		return 1;
	}
	if ((fd = ctl_connect(o, path)) < 0)
		return 1;
	/*
	 * A caller moatd refuses gets its reply at once, and the connection
	 * closed: the send may fail, the reply is still there to read.
	 */
	if ((r = ipc_msg_send_ctl_request(fd, rq, -1)) != 0 &&
	    poll(&(struct pollfd){ fd, POLLIN, 0 }, 1, 0) != 1) {
		fprintf(stderr, "moatctl: sending the request to moatd: %s\n",
		    moat_strerror(r));
		close(fd);
		return 1;
	}
	for (;;) {
		if ((r = ipc_recv(fd, &m, 0)) != 0) {
			fprintf(stderr, "moatctl: no answer from moatd: %s\n",
			    r == MOAT_ERR_EOF ? "it closed the connection" :
			    moat_strerror(r));
			break;
		}
		if ((r = ipc_msg_get_any(m.type, &m.payload, &a)) != 0) {
			fprintf(stderr, "moatctl: moatd sent an invalid %s: %s\n",
			    ipc_type_name(m.type), moat_strerror(r));
			ipc_msg_clear(&m);
			break;
		}
		if (m.type == IPC_CTL_SESSION &&
		    rq->command == IPC_CTLCMD_SESSIONS) {
			const struct ipc_ctl_session *cs = &a.ctl_session;

			if (!header++)
				printf("%-5s %-16s %-30s %-19s %-5s %s\n", "ID",
				    "USER", "ADDRESS", "SINCE", "PERMS",
				    "SECURITY");
			print_time(cs->since, t1, sizeof(t1));
			/* RA2 has no TLS version: its cipher says it all. */
			view_text(&cs->tls_version, s2, sizeof(s2));
			printf("%-5u %-16s %-30s %-19s 0x%02x  %s, %s%s%s\n",
			    cs->id, view_text(&cs->user, u, sizeof(u)),
			    view_text(&cs->peer, pe, sizeof(pe)), t1, cs->perms,
			    view_text(&cs->security, s1, sizeof(s1)), s2,
			    s2[0] != '\0' ? ", " : "",
			    view_text(&cs->cipher, s3, sizeof(s3)));
		} else if (m.type == IPC_CTL_BLACKLIST_ENTRY &&
		    rq->command == IPC_CTLCMD_BLACKLIST_SHOW) {
			const struct ipc_ctl_blacklist_entry *be =
			    &a.ctl_blacklist_entry;

			if (!header++)
				printf("%-8s %-40s %-8s %s\n", "KIND", "KEY",
				    "FAILURES", "BLOCKED UNTIL");
			if (be->blocked_until != 0)
				print_time(be->blocked_until, t1, sizeof(t1));
			else
				snprintf(t1, sizeof(t1), "-");
			printf("%-8s %-40s %-8u %s%s\n",
			    be->kind == IPC_CTLKEY_ADDRESS ? "address" : "user",
			    view_text(&be->key, u, sizeof(u)), be->failures, t1,
			    be->probation ? " (probation attempt running)" : "");
		} else if (m.type == IPC_CTL_REPLY) {
			print_text(a.ctl_reply.text.p, a.ctl_reply.text.len);
			if (a.ctl_reply.text.len > 0 &&
			    a.ctl_reply.text.p[a.ctl_reply.text.len - 1] != '\n')
				putchar('\n');
			rc = a.ctl_reply.ok ? 0 : 1;
			ipc_msg_free_any(m.type, &a);
			ipc_msg_clear(&m);
			break;
		} else {
			fprintf(stderr, "moatctl: moatd sent an unexpected %s\n",
			    ipc_type_name(m.type));
			ipc_msg_free_any(m.type, &a);
			ipc_msg_clear(&m);
			break;
		}
		ipc_msg_free_any(m.type, &a);
		ipc_msg_clear(&m);
	}
	close(fd);
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = 1;
	return rc;
}

static int
sessions_cmd(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct ipc_ctl_request rq = { IPC_CTLCMD_SESSIONS, 0, { NULL, 0 } };

	return ctl_request(cfg, o, &rq);
}

static int
disconnect_cmd(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct ipc_ctl_request rq = { IPC_CTLCMD_DISCONNECT, 0, { NULL, 0 } };
	unsigned long id;
	char *end;

	if (strcmp(o->user, "all") != 0) {
		errno = 0;
		id = strtoul(o->user, &end, 10);
		if (errno != 0 || end == o->user || *end != '\0' || id == 0 ||
		    id > UINT32_MAX || o->user[0] == '-' || o->user[0] == '+') {
			fprintf(stderr, "moatctl: disconnect: want a session ID "
			    "(as moatctl sessions shows it) or all\n");
			return 2;
		}
		rq.id = (uint32_t)id;
	}
	return ctl_request(cfg, o, &rq);
}

static int
blacklist_show_cmd(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct ipc_ctl_request rq = { IPC_CTLCMD_BLACKLIST_SHOW, 0,
	    { NULL, 0 } };

	return ctl_request(cfg, o, &rq);
}

static int
blacklist_clear_cmd(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct ipc_ctl_request rq = { IPC_CTLCMD_BLACKLIST_CLEAR, 0,
	    { NULL, 0 } };

	if (o->user != NULL) {
		if (o->user[0] == '\0' || strlen(o->user) > IPC_MAX_NAME) {
			fprintf(stderr, "moatctl: blacklist clear: KEY is an "
			    "address or a user name of 1 to %u bytes\n",
			    IPC_MAX_NAME);
			return 2;
		}
		rq.key = ipc_view_cstr(o->user);
	}
	return ctl_request(cfg, o, &rq);
}

static int
reload_cmd(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct ipc_ctl_request rq = { IPC_CTLCMD_RELOAD, 0, { NULL, 0 } };

	return ctl_request(cfg, o, &rq);
}

static int
check_cmd(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct ipc_ctl_request rq = { IPC_CTLCMD_CHECK, 0, { NULL, 0 } };

	return ctl_request(cfg, o, &rq);
}

static int
debug_on_cmd(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct ipc_ctl_request rq = { IPC_CTLCMD_DEBUG_ON, 0, { NULL, 0 } };

	return ctl_request(cfg, o, &rq);
}

static int
debug_off_cmd(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct ipc_ctl_request rq = { IPC_CTLCMD_DEBUG_OFF, 0, { NULL, 0 } };

	return ctl_request(cfg, o, &rq);
}

static int
audit_rotate_cmd(const struct moat_config *cfg, const struct cmd_opts *o)
{
	struct ipc_ctl_request rq = { IPC_CTLCMD_AUDIT_ROTATE, 0, { NULL, 0 } };

	return ctl_request(cfg, o, &rq);
}

static const struct command commands[] = {
	{ "identity", "generate", "f:", no_longopts, 0, 1, identity_generate },
	{ "identity", "show", "f:", no_longopts, 0, 0, identity_show },
	{ "identity", "export-ca", "f:o:", no_longopts, 0, 0, identity_export_ca },
	{ "identity", "rotate", "f:", rotate_longopts, 0, 1, identity_rotate },
	{ "password", NULL, "f:", password_longopts, 1, 1, password_cmd },
	{ "sessions", NULL, "f:s:", no_longopts, 0, 0, sessions_cmd },
	{ "disconnect", NULL, "f:s:", no_longopts, 1, 0, disconnect_cmd },
	/* the bare group first: a verb that follows matches later */
	{ "blacklist", NULL, "f:s:", no_longopts, 0, 0, blacklist_show_cmd },
	{ "blacklist", "show", "f:s:", no_longopts, 0, 0, blacklist_show_cmd },
	{ "blacklist", "clear", "f:s:", no_longopts, -1, 0,
	    blacklist_clear_cmd },
	{ "reload", NULL, "f:s:", no_longopts, 0, 0, reload_cmd },
	{ "check", NULL, "f:s:", no_longopts, 0, 0, check_cmd },
	{ "debug", "on", "f:s:", no_longopts, 0, 0, debug_on_cmd },
	{ "debug", "off", "f:s:", no_longopts, 0, 0, debug_off_cmd },
	{ "audit", "rotate", "f:s:", no_longopts, 0, 0, audit_rotate_cmd },
};

int
main(int argc, char **argv)
{
	static struct moat_config cfg;
	const struct command *cmd = NULL;
	struct cmd_opts opts = { DEFAULT_CONFIG, NULL,
	    MON_ROTATION_OVERLAP_DEFAULT, 0, 0, 0, NULL, NULL };
	char err[1024];
	size_t i;
	int ch;

	if (argc < 2)
		usage();
	/* Offline readers of the audit files (tools/moatctl_audit.c). */
	if (argc >= 3 && strcmp(argv[1], "audit") == 0 &&
	    (strcmp(argv[2], "verify") == 0 || strcmp(argv[2], "show") == 0)) {
		log_init("moatctl", 0, 0);
		return moatctl_audit_main(argc - 2, argv + 2);
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].group) == 0 &&
		    (commands[i].verb == NULL || (argc >= 3 &&
		    strcmp(argv[2], commands[i].verb) == 0)))
			cmd = &commands[i];
	if (cmd == NULL)
		usage();
	/*
	 * Options follow the verb (or the group, for a command without
	 * one); getopt skips argv[0], here that word.
	 */
	argc -= cmd->verb != NULL ? 2 : 1;
	argv += cmd->verb != NULL ? 2 : 1;
	while ((ch = getopt_long(argc, argv, cmd->optstring, cmd->longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			opts.conf = optarg;
			break;
		case 'o':
			opts.out = optarg;
			break;
		case 's':
			opts.sock = optarg;
			break;
		case OPT_OVERLAP:
			if (mon_identity_parse_overlap(optarg, &opts.overlap) != 0) {
				fprintf(stderr, "moatctl: --overlap %s: want a "
				    "number and s, m, h or d, from 1s to 400d "
				    "(e.g. 30d, 12h, 90s)\n", optarg);
				return 2;
			}
			break;
		case OPT_FORCE:
			opts.force = 1;
			break;
		case OPT_STDIN:
			opts.from_stdin = 1;
			break;
		case OPT_DELETE:
			opts.delete = 1;
			break;
		default:
			usage();
		}
	}
	if ((cmd->nargs >= 0 && argc - optind != cmd->nargs) ||
	    (cmd->nargs < 0 && argc - optind > 1) ||
	    (opts.delete && opts.from_stdin))
		usage();
	if (argc - optind == 1)
		opts.user = argv[optind];
	/* Records (e.g. "created identity key ...") go to syslog, authpriv. */
	log_init("moatctl", 0, 0);
	if (cmd->root_only && geteuid() != 0) {
		fprintf(stderr, "moatctl: %s %s must run as root\n", cmd->group,
		    cmd->verb);
		return 1;
	}
	umask(077);
	config_defaults(&cfg);
	/* With -s the socket is named: the configuration is not needed. */
	if (opts.sock != NULL)
		return cmd->run(&cfg, &opts);
	if (config_load(&cfg, NULL, opts.conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "moatctl: %s\n", err);
		if (cmd->run == sessions_cmd || cmd->run == disconnect_cmd ||
		    cmd->run == blacklist_show_cmd ||
		    cmd->run == blacklist_clear_cmd || cmd->run == reload_cmd ||
		    cmd->run == check_cmd || cmd->run == debug_on_cmd ||
		    cmd->run == debug_off_cmd || cmd->run == audit_rotate_cmd)
			fprintf(stderr, "moatctl: the control socket's path is in "
			    "that configuration; name it with -s to reach the "
			    "running moatd anyway\n");
		return 1;
	}
	return cmd->run(&cfg, &opts);
}
