/*
 * creds.c - moat-viewer's user name and password, fetched once, when
 * first needed (viewer_main.c asks before connecting unless the security
 * type may need none; X509Plain, RSA-AES and the conversation ask here if
 * that was not done): MOAT_USER / MOAT_PASSWORD, else the vault's entry
 * for the target (its master password is MOAT_MASTER or asked), else the
 * terminal. Runs in moat-viewer; trusts the user's environment
 * and files; a damaged vault or a wrong master password fails closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "privsep/errors.h"
#include "viewer/vault.h"
#include "viewer/viewer.h"

int
viewer_master_password(char *out, size_t outlen)
{
	const char *m = getenv("MOAT_MASTER");

	if (m != NULL) {
		if (strlen(m) >= outlen)
			return -1;
		strcpy(out, m);
		return 0;
	}
	return viewer_prompt("Master password", 1, out, outlen);
}

/* The environment and the vault, once. Returns 0 or -1 (printed). */
static int
fetch_stored(struct viewer_creds *cr)
{
	const char *u = getenv("MOAT_USER"), *p = getenv("MOAT_PASSWORD");
	const struct vault_entry *e;
	char master[VIEWER_MAX_CRED + 2];
	struct vault v;
	int r;

	if (p == NULL && cr->vault_path != NULL &&
	    access(cr->vault_path, F_OK) == 0) {
		if (viewer_master_password(master, sizeof(master)) != 0)
			return -1;
		r = vault_load(cr->vault_path, master, &v);
		OPENSSL_cleanse(master, sizeof(master));
		if (r != 0)
			return -1;
		if ((e = vault_find(&v, cr->target)) != NULL) {
			strcpy(cr->user, e->user);
			strcpy(cr->pass, e->pass);
			cr->have_user = cr->have_pass = 1;
			fprintf(stderr, "moat-viewer: using the password "
			    "remembered for %s\n", cr->target);
		}
		vault_free(&v);
		if (e != NULL)
			return 0;
	}
	if (u != NULL) {
		if (strlen(u) > VIEWER_MAX_CRED) {
			viewer_err("MOAT_USER is longer than %d bytes",
			    VIEWER_MAX_CRED);
			return -1;
		}
		strcpy(cr->user, u);
		cr->have_user = 1;
	}
	if (p != NULL) {
		if (strlen(p) > VIEWER_MAX_CRED) {
			viewer_err("MOAT_PASSWORD is longer than %d bytes",
			    VIEWER_MAX_CRED);
			return -1;
		}
		strcpy(cr->pass, p);
		cr->have_pass = 1;
	}
	return 0;
}

int
viewer_creds_get(struct viewer_creds *cr, int ask)
{
	if (cr->state == 0)
		cr->state = fetch_stored(cr) == 0 ? 1 : -1;
	if (cr->state < 0)
		return -1;
	if (!ask)
		return 0;
	if (!cr->have_user) {
		if (viewer_prompt("User name", 0, cr->user,
		    sizeof(cr->user)) != 0)
			return -1;
		cr->have_user = 1;
	}
	if (!cr->have_pass) {
		if (viewer_prompt("Password", 1, cr->pass,
		    sizeof(cr->pass)) != 0)
			return -1;
		cr->have_pass = 1;
	}
	return cr->user[0] == '\0' ? -1 : 0;
}

void
viewer_creds_wipe(struct viewer_creds *cr)
{
	OPENSSL_cleanse(cr->user, sizeof(cr->user));
	OPENSSL_cleanse(cr->pass, sizeof(cr->pass));
	cr->have_user = cr->have_pass = 0;
}
