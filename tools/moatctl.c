/*
 * moatctl.c - the administrator's command-line tool.
 *
 * Runs as whoever calls it: "identity generate" and "identity rotate" only
 * as root; "identity show" and "identity export-ca" as any user who can
 * read the configuration and the certificate (as root, show also checks
 * the key moatd would load). Trusts the configuration only after config_load()
 * has checked that root owns it and nobody else can write it, and trusts
 * the identity files it names as moatd does. It opens no network socket;
 * the identity commands work on the files moatd reads, so they work
 * before moatd first starts and while it runs.
 *
 * Usage:
 *   moatctl identity generate [-f moatd.conf]
 *   moatctl identity show [-f moatd.conf]
 *   moatctl identity export-ca [-f moatd.conf] [-o FILE]
 *   moatctl identity rotate [-f moatd.conf] [--overlap DURATION] [--force]
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "monitor/mon_identity.h"
#include "policy/config.h"
#include "privsep/catchphrase.h"
#include "privsep/errors.h"
#include "privsep/log.h"

#define DEFAULT_CONFIG "/etc/moat/moatd.conf"

struct cmd_opts {
	const char *conf;	/* -f */
	const char *out;	/* -o (export-ca only) */
	long overlap;		/* --overlap, seconds (rotate only) */
	int force;		/* --force (rotate only) */
};

struct command {
	const char *group;
	const char *verb;
	const char *optstring;	/* getopt options after the verb */
	const struct option *longopts;
	int root_only;
	int (*run)(const struct moat_config *, const struct cmd_opts *);
};

#define OPT_OVERLAP	256
#define OPT_FORCE	257

static const struct option no_longopts[] = {
	{ NULL, 0, NULL, 0 }
};

static const struct option rotate_longopts[] = {
	{ "overlap", required_argument, NULL, OPT_OVERLAP },
	{ "force", no_argument, NULL, OPT_FORCE },
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
	    "(default 30d)\n");
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

static const struct command commands[] = {
	{ "identity", "generate", "f:", no_longopts, 1, identity_generate },
	{ "identity", "show", "f:", no_longopts, 0, identity_show },
	{ "identity", "export-ca", "f:o:", no_longopts, 0, identity_export_ca },
	{ "identity", "rotate", "f:", rotate_longopts, 1, identity_rotate },
};

int
main(int argc, char **argv)
{
	static struct moat_config cfg;
	const struct command *cmd = NULL;
	struct cmd_opts opts = { DEFAULT_CONFIG, NULL,
	    MON_ROTATION_OVERLAP_DEFAULT, 0 };
	char err[1024];
	size_t i;
	int ch;

	if (argc < 3)
		usage();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].group) == 0 &&
		    strcmp(argv[2], commands[i].verb) == 0)
			cmd = &commands[i];
	if (cmd == NULL)
		usage();
	/* Options follow the verb; getopt skips argv[0], here the verb. */
	argc -= 2;
	argv += 2;
	while ((ch = getopt_long(argc, argv, cmd->optstring, cmd->longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			opts.conf = optarg;
			break;
		case 'o':
			opts.out = optarg;
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
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/* Records (e.g. "created identity key ...") go to syslog, authpriv. */
	log_init("moatctl", 0, 0);
	if (cmd->root_only && geteuid() != 0) {
		fprintf(stderr, "moatctl: %s %s must run as root\n", cmd->group,
		    cmd->verb);
		return 1;
	}
	umask(077);
	config_defaults(&cfg);
	if (config_load(&cfg, NULL, opts.conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "moatctl: %s\n", err);
		return 1;
	}
	return cmd->run(&cfg, &opts);
}
