/*
 * client_key.c - moat-viewer's client certificate and private key for
 * the Certificate factor: PEM files, or a smartcard's objects named by
 * PKCS#11 URIs, reached through libp11's OpenSSL ENGINE (loaded by path
 * as a dynamic engine, with the PKCS#11 module the user named; no
 * OpenSSL configuration file is read for it). The PIN comes from
 * --pin-file or the terminal, goes to the engine (and so the token) only,
 * and is wiped here at once. Everything is loaded, logged in and test-
 * signed before the viewer connects, so a wrong PIN fails at once.
 * Runs in moat-viewer with the user's privileges; trusts the user's
 * options, the module and the token.
 */
#define OPENSSL_SUPPRESS_DEPRECATED	/* ENGINE: deprecated, still the way to libp11 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ui.h>
#include <openssl/x509.h>

#include "auth/cert_proof.h"
#include "privsep/errors.h"
#include "viewer/client_key.h"
#include "viewer/viewer.h"

#define ENGINE_SO	"pkcs11.so"
#define ENGINE_SO_FALLBACK "/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so"
#define PKCS11_PIN_INCORRECT	0xa0	/* CKR_PIN_INCORRECT */
#define PKCS11_PIN_INVALID	0xa1	/* CKR_PIN_INVALID */
#define PKCS11_PIN_LEN_RANGE	0xa2	/* CKR_PIN_LEN_RANGE */
#define PKCS11_PIN_LOCKED	0xa4	/* CKR_PIN_LOCKED */

static int
is_uri(const char *s)
{
	return strncmp(s, "pkcs11:", 7) == 0;
}

/* Prints OpenSSL's queued errors after a message, then clears them. */
static void
print_errors(const char *what)
{
	unsigned long e;
	char buf[256];

	viewer_err("%s", what);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		fprintf(stderr, "moat-viewer:   %s\n", buf);
	}
}

/*
 * Whether the queued errors say the token refused the PIN: libp11 queues
 * the PKCS#11 return value as the reason of its "CKR" error library.
 */
static int
pin_refused(void)
{
	const char *lib;
	unsigned long e;
	int r = 0, reason;

	while ((e = ERR_get_error()) != 0) {
		reason = ERR_GET_REASON(e);
		lib = ERR_lib_error_string(e);
		if ((reason == PKCS11_PIN_INCORRECT ||
		    reason == PKCS11_PIN_INVALID ||
		    reason == PKCS11_PIN_LEN_RANGE ||
		    reason == PKCS11_PIN_LOCKED) &&
		    (lib == NULL || strstr(lib, "PKCS") != NULL ||
		    strstr(lib, "pkcs") != NULL || strstr(lib, "CKR") != NULL))
			r = 1;
	}
	return r;
}

/* The engine's shared object: OpenSSL's engines directory, pkcs11.so. */
static void
engine_so_path(char *out, size_t outlen)
{
	const char *v = OpenSSL_version(OPENSSL_ENGINES_DIR), *q, *e;

	/* "ENGINESDIR: \"/usr/lib/x86_64-linux-gnu/engines-3\"" */
	if (v != NULL && (q = strchr(v, '"')) != NULL &&
	    (e = strchr(q + 1, '"')) != NULL && e > q + 1 &&
	    (size_t)snprintf(out, outlen, "%.*s/%s", (int)(e - q - 1), q + 1,
	    ENGINE_SO) < outlen)
		return;
	snprintf(out, outlen, "%s", ENGINE_SO_FALLBACK);
}

/* Reads the PIN: the first line of path, or asked on the terminal. */
static int
read_pin(const char *path, char *pin, size_t pinlen)
{
	size_t n;
	FILE *f;
	int c;

	if (path == NULL)
		return viewer_prompt("PIN for the smartcard", 1, pin, pinlen);
	if ((f = fopen(path, "re")) == NULL) {
		viewer_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(pin, (int)pinlen, f) == NULL) {
		fclose(f);
		viewer_err("%s: no PIN in it", path);
		return -1;
	}
	n = strlen(pin);
	if (n > 0 && pin[n - 1] == '\n')
		pin[--n] = '\0';
	else if ((c = fgetc(f)) != EOF) {	/* no newline before the end */
		fclose(f);
		OPENSSL_cleanse(pin, pinlen);
		viewer_err("%s: the PIN is longer than %d bytes", path,
		    VIEWER_PIN_MAX);
		return -1;
	}
	fclose(f);
	if (n > 0 && pin[n - 1] == '\r')
		pin[--n] = '\0';
	if (n == 0) {
		viewer_err("%s: the PIN is empty", path);
		return -1;
	}
	return 0;
}

/* The engine never asks on its own: the PIN was given, or nothing is. */
static int
ui_refuse(UI *ui, UI_STRING *uis)
{
	(void)ui;
	(void)uis;
	return 0;
}

/* Loads libp11's engine with module and pin (NULL: the URI has it or none needed). */
static ENGINE *
engine_start(const char *module, const char *pin)
{
	char so[4096];
	ENGINE *e;

	engine_so_path(so, sizeof(so));
	ENGINE_load_builtin_engines();
	if ((e = ENGINE_by_id("dynamic")) == NULL)
		goto fail;
	if (!ENGINE_ctrl_cmd_string(e, "SO_PATH", so, 0) ||
	    !ENGINE_ctrl_cmd_string(e, "ID", "pkcs11", 0) ||
	    !ENGINE_ctrl_cmd_string(e, "LOAD", NULL, 0)) {
		ENGINE_free(e);
		viewer_err("cannot load the PKCS#11 engine %s (package "
		    "libengine-pkcs11-openssl)", so);
		ERR_clear_error();
		return NULL;
	}
	if (!ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0) ||
	    (pin != NULL && !ENGINE_ctrl_cmd_string(e, "PIN", pin, 0))) {
		ENGINE_free(e);
		goto fail;
	}
	if (!ENGINE_init(e)) {
		ENGINE_free(e);
		viewer_err("cannot use the PKCS#11 module %s", module);
		ERR_clear_error();
		return NULL;
	}
	ENGINE_free(e);		/* the functional reference of ENGINE_init remains */
	return e;
fail:
	print_errors("cannot set up the PKCS#11 engine");
	return NULL;
}

static X509 *
load_cert(ENGINE *e, const char *what)
{
	struct {
		const char *id;
		X509 *cert;
	} parms = { what, NULL };
	X509 *x = NULL;
	FILE *f;

	if (is_uri(what)) {
		if (!ENGINE_ctrl_cmd(e, "LOAD_CERT_CTRL", 0, &parms, NULL, 1) ||
		    parms.cert == NULL)
			print_errors("no certificate on the smartcard matches "
			    "--cert");
		return parms.cert;
	}
	if ((f = fopen(what, "re")) == NULL) {
		viewer_err("%s: %s", what, strerror(errno));
		return NULL;
	}
	if ((x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		viewer_err("%s: not a PEM certificate", what);
		ERR_clear_error();
	}
	fclose(f);
	return x;
}

/* A PEM key's passphrase, asked on the terminal. */
static int
on_passphrase(char *buf, int size, int rwflag, void *arg)
{
	char label[4200];

	(void)rwflag;
	snprintf(label, sizeof(label), "Passphrase for %s", (const char *)arg);
	if (size <= 1 || viewer_prompt(label, 1, buf, (size_t)size) != 0)
		return -1;
	return (int)strlen(buf);
}

static EVP_PKEY *
load_key(ENGINE *e, UI_METHOD *ui, const char *what, int *refused)
{
	EVP_PKEY *k;
	FILE *f;

	*refused = 0;
	if (is_uri(what)) {
		ERR_clear_error();
		if ((k = ENGINE_load_private_key(e, what, ui, NULL)) == NULL) {
			if (pin_refused()) {
				*refused = 1;
				viewer_err("the smartcard refused the PIN");
			} else
				viewer_err("no private key on the smartcard "
				    "matches --key, or the smartcard refused "
				    "the login");
		}
		return k;
	}
	if ((f = fopen(what, "re")) == NULL) {
		viewer_err("%s: %s", what, strerror(errno));
		return NULL;
	}
	if ((k = PEM_read_PrivateKey(f, NULL, on_passphrase,
	    (void *)what)) == NULL) {
		viewer_err("%s: not a usable PEM private key", what);
		ERR_clear_error();
	}
	fclose(f);
	return k;
}

/*
 * Signs a proof for a random challenge and verifies it with the
 * certificate: the key works, is of a kind moat allows, and is the
 * certificate's. Returns 0 or a negative MOAT_ERR_* (printed).
 */
static int
check_pair(const struct viewer_client_key *ck)
{
	uint8_t challenge[CERT_PROOF_CHALLENGE_LEN], id[CERT_PROOF_HASH_LEN];
	char text[CERT_PROOF_TEXT_LEN + 1], answer[CERT_PROOF_ANSWER_MAX + 1];
	int r;

	if (RAND_bytes(challenge, sizeof(challenge)) != 1 ||
	    RAND_bytes(id, sizeof(id)) != 1) {
		viewer_err("no random bytes");
		return MOAT_ERR_CRYPTO;
	}
	cert_proof_challenge_text(challenge, text);
	r = cert_proof_sign(ck->key, text, id, ck->der, ck->derlen, answer,
	    sizeof(answer));
	if (r == MOAT_ERR_UNSUPPORTED) {
		viewer_err("the client key is of a type or size moat does not "
		    "use (RSA of 2048 bits or more, EC P-256, P-384, P-521, "
		    "Ed25519)");
		return r;
	}
	if (r != 0) {
		print_errors("the client key cannot sign (did the smartcard "
		    "refuse?)");
		return MOAT_ERR_INVALID;
	}
	if (cert_proof_verify(challenge, id, ck->der, ck->derlen, answer) != 0) {
		viewer_err("the private key does not belong to the client "
		    "certificate");
		return MOAT_ERR_INVALID;
	}
	return 0;
}

int
viewer_client_key_load(struct viewer_client_key *ck,
    const struct viewer_client_key_opts *o)
{
	char pin[VIEWER_PIN_MAX + 2];
	const char *module = o->module != NULL ? o->module : VIEWER_PKCS11_MODULE;
	UI_METHOD *ui = NULL;
	unsigned char *p;
	int len, refused = 0, r = MOAT_ERR_INVALID, need_pin;

	memset(ck, 0, sizeof(*ck));
	if (is_uri(o->cert) || is_uri(o->key)) {
		/* A URI's own pin-value needs no other. */
		need_pin = is_uri(o->key) && strstr(o->key, "pin-value=") == NULL;
		if (need_pin && read_pin(o->pin_file, pin, sizeof(pin)) != 0)
			return MOAT_ERR_INVALID;
		ck->engine = engine_start(module, need_pin ? pin : NULL);
		if (need_pin)
			OPENSSL_cleanse(pin, sizeof(pin));
		if (ck->engine == NULL)
			return MOAT_ERR_INVALID;
		if ((ui = UI_create_method("moat-viewer")) == NULL ||
		    UI_method_set_reader(ui, ui_refuse) != 0) {
			viewer_err("cannot set up the PKCS#11 engine");
			goto fail;
		}
	}
	if ((ck->key = load_key(ck->engine, ui, o->key, &refused)) == NULL) {
		if (refused)
			r = MOAT_ERR_AUTH;
		goto fail;
	}
	if ((ck->cert = load_cert(ck->engine, o->cert)) == NULL)
		goto fail;
	if ((len = i2d_X509(ck->cert, NULL)) <= 0 ||
	    (ck->der = malloc((size_t)len)) == NULL) {
		viewer_err("cannot encode the client certificate");
		goto fail;
	}
	p = ck->der;
	if (i2d_X509(ck->cert, &p) != len)
		goto fail;
	ck->derlen = (size_t)len;
	if ((r = check_pair(ck)) != 0)
		goto fail;
	UI_destroy_method(ui);
	return 0;
fail:
	UI_destroy_method(ui);
	viewer_client_key_free(ck);
	ERR_clear_error();
	return r;
}

void
viewer_client_key_free(struct viewer_client_key *ck)
{
	EVP_PKEY_free(ck->key);
	X509_free(ck->cert);
	free(ck->der);
	if (ck->engine != NULL)
		ENGINE_finish(ck->engine);	/* libp11 wipes its copy of the PIN */
	memset(ck, 0, sizeof(*ck));
}
