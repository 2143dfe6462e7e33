/*
 * moatd.c - moatd's entry point: reads and checks the configuration,
 * loads (or on first start creates) the identity key and, if there is
 * one that checks out, its rotation certificate, binds the sockets and
 * runs the listener. Runs as root. Trusts only its root-owned
 * configuration files.
 *
 * SIGHUP (or moatctl reload) re-reads the configuration with the same
 * checks and applies it to new connections if it is valid
 * (monitor/reload.c); moatctl talks to it over the control socket
 * (monitor/control.c).
 *
 * Usage: moatd [-d] [-t] [-f config] [--fingerprint]
 *   -d             debug: stay in the foreground and log to stderr too
 *   -t             check the configuration, print the effective values, exit
 *   -f FILE        configuration file (default /etc/moat/moatd.conf)
 *   --fingerprint  print the identity certificate's SHA-256 fingerprint and,
 *                  on a second line, the identity's catchphrase; while a
 *                  rotation is in effect a third line names the previous
 *                  key's catchphrase and the end of the overlap; exit
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "control.h"
#include "listener.h"
#include "mon_sasl.h"
#include "monitor.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "privsep/sandbox.h"
#include "reload.h"

#define DEFAULT_CONFIG "/etc/moat/moatd.conf"

static void
usage(void)
{
	fprintf(stderr, "usage: moatd [-d] [-t] [-f config] [--fingerprint]\n");
	exit(2);
}

static void
harden_self(void)
{
	struct rlimit rl = { 0, 0 };

	umask(077);
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* moat-net lives beside moatd unless NetBinary says otherwise. */
static int
net_binary_path(const struct moat_config *cfg, char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n;

	if (cfg->net_binary[0] != '\0') {
		snprintf(out, outlen, "%s", cfg->net_binary);
		return 0;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return MOAT_ERR_SYSTEM;
	self[n] = '\0';
	snprintf(out, outlen, "%s/moat-net", dirname(self));
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "fingerprint", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf = DEFAULT_CONFIG;
	char err[1024], fp[128], net_binary[PATH_MAX], until[40], rotation[256];
	struct catchphrase_id desc, prev;
	struct mon_gen *gen = NULL;
	const struct moat_config *cfg;
	struct mon_identity id;
	struct mon_ctx ctx;
	struct passwd *pw;
	int debug = 0, test = 0, fingerprint = 0, ch, r, tcp_fd, sess_fd;

	while ((ch = getopt_long(argc, argv, "dtf:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'f':
			conf = optarg;
			break;
		case 'F':
			fingerprint = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("moatd", debug || test || fingerprint, debug);
	if (geteuid() != 0) {
		fprintf(stderr, "moatd: must run as root\n");
		return 1;
	}
	harden_self();
	/*
	 * The same checks as a reload (monitor/reload.c): the configuration,
	 * then every file the schemes in Authentication read. With -t the
	 * Kerberos set-up is only checked; LogFile is opened first otherwise,
	 * so that what the files' loaders log reaches it.
	 */
	if (reload_build(conf, test ? 0 : RELOAD_START, &gen, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "moatd: %s\n", err);
		return 1;
	}
	cfg = &gen->cfg;
	if (test) {
		config_dump(cfg, gen->origin, STDOUT_FILENO);
		reload_free(gen);
		return 0;
	}
	if ((r = mon_identity_load(&id, cfg->identity_key, cfg->identity_cert,
	    err, sizeof(err))) != 0) {
		fprintf(stderr, "moatd: %s\n", err);
		reload_free(gen);
		return 1;
	}
	if (mon_identity_fingerprint(&id, fp, sizeof(fp)) != 0 ||
	    mon_identity_describe(&id, &desc) != 0)
		fatal_f("cannot compute the identity fingerprint");
	/* A rotation that cannot be used is logged and left out, never fatal. */
	rotation[0] = '\0';
	if (mon_identity_rotation_load(&id, cfg->identity_rotation_cert, err,
	    sizeof(err)) != 0)
		error_f("identity rotation certificate not used: %s; sending the "
		    "identity certificate alone", err);
	else if (id.rot_cross != NULL) {
		if (mon_identity_rotation_describe(&id, &prev, until,
		    sizeof(until)) != 0)
			fatal_f("cannot describe the identity rotation");
		snprintf(rotation, sizeof(rotation), "previous catchphrase "
		    "\"%s\" vouched for until %s", prev.words, until);
	}
	if (fingerprint) {
		/* Line 1 stays the bare fingerprint: scripts compare it. */
		printf("%s\n%s\n", fp, desc.words);
		if (rotation[0] != '\0')
			printf("%s\n", rotation);
		r = 0;
		goto done;
	}
	if ((pw = getpwnam(cfg->net_user)) == NULL || pw->pw_uid == 0 ||
	    pw->pw_gid == 0) {
		fprintf(stderr, "moatd: NetUser %s must be an existing user other "
		    "than root (create it with: useradd --system --no-create-home "
		    "--shell /usr/sbin/nologin %s)\n", cfg->net_user,
		    cfg->net_user);
		r = 1;
		goto done;
	}
	if (sandbox_check_empty_root(cfg->empty_root) != 0) {
		fprintf(stderr, "moatd: EmptyRoot %s must be an empty directory "
		    "owned by root and writable only by root\n", cfg->empty_root);
		r = 1;
		goto done;
	}
	if (net_binary_path(cfg, net_binary, sizeof(net_binary)) != 0 ||
	    access(net_binary, X_OK) != 0) {
		fprintf(stderr, "moatd: cannot execute moat-net at %s\n",
		    net_binary);
		r = 1;
		goto done;
	}
	if (auth_methods_uses(&cfg->auth, AUTH_SCHEME_KERBEROS) &&
	    mon_sasl_setup(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "moatd: %s\n", err);
		r = 1;
		goto done;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.id = &id;
	ctx.net_binary = net_binary;
	ctx.net_uid = pw->pw_uid;
	ctx.net_gid = pw->pw_gid;
#ifdef MOAT_SELFTEST
	ctx.selftest = 1;
#endif
	if (listener_open(cfg, &tcp_fd, &sess_fd, err, sizeof(err)) != 0) {
		fprintf(stderr, "moatd: %s\n", err);
		r = 1;
		goto done;
	}
	if ((r = control_open(cfg, err, sizeof(err))) == MOAT_ERR_AGAIN)
		error_f("%s; moatctl cannot reach this moatd", err);
	else if (r != 0) {
		fprintf(stderr, "moatd: %s\n", err);
		unlink(cfg->session_socket);
		r = 1;
		goto done;
	}
	/* The audit sinks; a file that cannot be written stops us here. */
	if (audit_sink_open(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "moatd: %s\n", err);
		control_close(1);
		unlink(cfg->session_socket);
		r = 1;
		goto done;
	}
	/* From here on the generation in force is reload.c's. */
	reload_install(gen, &ctx, conf);
	gen = NULL;
	cfg = reload_ctx()->cfg;
	if (!debug && daemon(0, 0) != 0)
		fatal_f("daemon: %s", strerror(errno));
	info_f("moatd listening on %s port %u; identity %s catchphrase \"%s\"%s%s%s",
	    cfg->listen_address, cfg->listen_port, fp, desc.words,
	    rotation[0] != '\0' ? "; rotated: " : "", rotation,
	    ctx.selftest ? " (TEST BUILD: self-test hooks enabled)" : "");
	r = listener_run(reload_ctx(), tcp_fd, sess_fd);
	/* Restart-only: these are still the values moatd started with. */
	cfg = reload_ctx()->cfg;
	audit_sink_close("moatd stopped");
	control_close(1);
	unlink(cfg->session_socket);
done:
	reload_free(gen);
	mon_identity_free(&id);
	return r;
}
