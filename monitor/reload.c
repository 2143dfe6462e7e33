/*
 * reload.c - the configuration generations of moatd (see reload.h). Runs
 * as root in moatd's listener, at start, on SIGHUP and on moatctl's reload
 * and check. Trusts only its root-owned configuration files, through
 * config_load()'s checks, and the files the schemes read through their own
 * loaders' checks.
 *
 * A reload builds the new generation completely, beside the one in force,
 * and swaps one pointer when every check passed: nothing of a failed
 * reload is ever seen by a connection. The listener is single-threaded and
 * each monitor is a fork, so a monitor keeps the generation that was in
 * force at its accept for its whole life, and the old generation can be
 * freed in the listener as soon as the new one is in force.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/x509_client.h"
#include "audit.h"
#include "listener.h"
#include "mon_radius.h"
#include "mon_sasl.h"
#include "mon_vnc_password.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "reload.h"

/* What cannot change while moatd runs: sockets, identity, sandbox, log. */
static const char *const restart_only[] = {
	"ListenAddress", "ListenPort", "IdentityKey", "IdentityCert",
	"IdentityRotationCert", "EmptyRoot", "NetUser", "NetBinary",
	"SessionSocket", "LogFile", "ControlSocket", "AuditFile", "AuditKey",
	"AuditCheckpointInterval", "AuditRotateSize", "AuditRotateKeep",
};

static struct mon_gen *current;
static struct mon_ctx base_ctx;
static char conf_path[CONFIG_PATH_MAX];

int
reload_restart_only(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(restart_only) / sizeof(restart_only[0]); i++)
		if (strcmp(restart_only[i], name) == 0)
			return 1;
	return 0;
}

/* Loads the Certificate factor's CA and CRL files once, as monitors will. */
static int
check_certificate_files(const struct moat_config *cfg, char *err,
    size_t errlen)
{
	struct x509_client_config xc;
	int r;

	x509_client_config_init(&xc);
	r = x509_client_config_load(&xc, cfg->certificate_ca_file,
	    cfg->certificate_crl_file,
	    (enum x509_user_rule)cfg->certificate_user_rule,
	    cfg->certificate_user_domain, err, errlen);
	x509_client_config_free(&xc);
	return r;
}

int
reload_build(const char *conf, unsigned flags, struct mon_gen **out,
    char *err, size_t errlen)
{
	const struct auth_methods *am;
	struct mon_gen *g;
	int r;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return MOAT_ERR_NOMEM;
	}
	radius_config_init(&g->radius);
	if ((r = config_load(&g->cfg, g->origin, conf, err, errlen)) != 0)
		goto fail;
	if ((flags & RELOAD_START) && g->cfg.log_file[0] != '\0')
		log_set_file(g->cfg.log_file);
	am = &g->cfg.auth;
	/* Monitors read them afresh; a file that cannot be used stops us here. */
	if (auth_methods_uses(am, AUTH_SCHEME_CERTIFICATE) &&
	    (r = check_certificate_files(&g->cfg, err, errlen)) != 0)
		goto fail;
	if (auth_methods_uses(am, AUTH_SCHEME_RADIUS) &&
	    (r = mon_radius_setup(&g->cfg, &g->radius, err, errlen)) != 0)
		goto fail;
	if (auth_methods_uses(am, AUTH_SCHEME_VNC_PASSWORD) &&
	    (r = mon_vnc_password_setup(&g->cfg, &g->vnc_passwords, err,
	    errlen)) != 0)
		goto fail;
	if (auth_methods_uses(am, AUTH_SCHEME_KERBEROS) &&
	    (r = mon_sasl_check(&g->cfg, err, errlen)) != 0)
		goto fail;
	*out = g;
	return 0;
 fail:
	reload_free(g);
	return r;
}

void
reload_free(struct mon_gen *g)
{
	if (g == NULL)
		return;
	radius_config_clear(&g->radius);
	mon_vnc_password_free(g->vnc_passwords);
	explicit_bzero(g, sizeof(*g));
	free(g);
}

/* Points g's context at g, over the parts that never change. */
static void
wire_ctx(struct mon_gen *g)
{
	const struct auth_methods *am = &g->cfg.auth;

	g->ctx = base_ctx;
	g->ctx.cfg = &g->cfg;
	g->ctx.radius = auth_methods_uses(am, AUTH_SCHEME_RADIUS) ?
	    &g->radius : NULL;
	g->ctx.vnc_passwords = auth_methods_uses(am, AUTH_SCHEME_VNC_PASSWORD) ?
	    g->vnc_passwords : NULL;
}

void
reload_install(struct mon_gen *g, const struct mon_ctx *base, const char *conf)
{
	base_ctx = *base;
	snprintf(conf_path, sizeof(conf_path), "%s", conf);
	wire_ctx(g);
	current = g;
}

const struct mon_ctx *
reload_ctx(void)
{
	return current != NULL ? &current->ctx : NULL;
}

/* The audit record of a reload (docs/audit.md). */
static void
audit_reload(const char *by, int ok, const char *changed, const char *kept,
    const char *reason)
{
	struct audit_rec rec;

	audit_begin(&rec, "reload", 0, "", 0);
	audit_cstr(&rec, "by", by);
	audit_cstr(&rec, "result", ok ? "ok" : "failed");
	if (ok) {
		audit_cstr(&rec, "changed", changed);
		audit_cstr(&rec, "kept", kept);
	} else
		audit_cstr(&rec, "reason", reason);
	(void)audit_emit(&rec, 0);
}

/* Appends ", name" (or "name" first) to list; cut short when it is full. */
static void
list_add(char *list, size_t listlen, const char *name)
{
	size_t n = strlen(list);

	snprintf(list + n, listlen - n, "%s%s", n > 0 ? ", " : "", name);
}

int
reload_apply(const char *by, char *msg, size_t msglen)
{
	const struct config_param_info *pi = config_params();
	char err[1024], changed[1024] = "", kept[512] = "";
	struct mon_gen *g;
	size_t i, np = config_param_count();
	int r;

	if (current == NULL) {
		snprintf(msg, msglen, "moatd is not running a configuration");
		return MOAT_ERR_SYSTEM;
	}
	if ((r = reload_build(conf_path, 0, &g, err, sizeof(err))) != 0)
		goto refused;
	for (i = 0; i < np; i++) {
		if (config_param_equal(&g->cfg, &current->cfg, i))
			continue;
		if (reload_restart_only(pi[i].name)) {
			/* The running value stays, with where it came from. */
			if ((r = config_param_copy(&g->cfg, &current->cfg,
			    i)) != 0) {
				snprintf(err, sizeof(err), "internal error: "
				    "cannot keep %s", pi[i].name);
				reload_free(g);
				goto refused;
			}
			g->origin[i] = current->origin[i];
			list_add(kept, sizeof(kept), pi[i].name);
		} else
			list_add(changed, sizeof(changed), pi[i].name);
	}
	/* Last, as it is the one step that changes process state on success. */
	if (auth_methods_uses(&g->cfg.auth, AUTH_SCHEME_KERBEROS) &&
	    (r = mon_sasl_setup(&g->cfg, err, sizeof(err))) != 0) {
		reload_free(g);
		goto refused;
	}
	wire_ctx(g);
	reload_free(current);
	current = g;
	listener_configure(&g->cfg);
	snprintf(msg, msglen, "configuration reloaded (%s): %s%s%s%s", by,
	    changed[0] != '\0' ? "changed " : "no parameter changed", changed,
	    kept[0] != '\0' ? "; needs a restart, running value kept: " : "",
	    kept);
	info_f("%s", msg);
	audit_reload(by, 1, changed, kept, NULL);
	return 0;
 refused:
	snprintf(msg, msglen, "configuration not reloaded (%s): %s; the "
	    "running configuration stays in force", by, err);
	error_f("%s", msg);
	audit_reload(by, 0, NULL, NULL, err);
	return r;
}

int
reload_check(char *out, size_t outlen)
{
	const struct config_param_info *pi = config_params();
	size_t i, np = config_param_count();
	struct mon_gen *g;
	char err[1024];
	ssize_t n;
	size_t got = 0;
	int fd, r;

	if (current == NULL) {
		snprintf(out, outlen, "moatd is not running a configuration");
		return MOAT_ERR_SYSTEM;
	}
	if ((r = reload_build(conf_path, 0, &g, err, sizeof(err))) != 0) {
		snprintf(out, outlen, "%s", err);
		return r;
	}
	/* config_dump() writes to a descriptor: a memory file, read back. */
	if ((fd = memfd_create("moat-check", MFD_CLOEXEC)) == -1) {
		snprintf(out, outlen, "memfd_create: %s", strerror(errno));
		reload_free(g);
		return MOAT_ERR_SYSTEM;
	}
	config_dump(&g->cfg, g->origin, fd);
	for (i = 0; i < np; i++)
		if (reload_restart_only(pi[i].name) &&
		    !config_param_equal(&g->cfg, &current->cfg, i))
			dprintf(fd, "# %s differs from the running value: it "
			    "needs a restart\n", pi[i].name);
	reload_free(g);
	if (lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(out, outlen, "lseek: %s", strerror(errno));
		close(fd);
		return MOAT_ERR_SYSTEM;
	}
	while (got + 1 < outlen &&
	    (n = read(fd, out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
	return 0;
}
