/*
 * viewer_main.c - moat-viewer's command line: parses the options, loads
 * the client certificate and key if given (from PEM files or a smartcard,
 * asking the PIN: viewer/client_key.c) before connecting, connects, runs
 * the RFB version and security-type handshake and the chosen security
 * type with the credentials (MOAT_USER / MOAT_PASSWORD, the vault, or a
 * prompt on the terminal: viewer/creds.c; fetched before connecting, but
 * for X509None never and with a client certificate only when the server
 * asks), then the session: the first full frame, the input script, and the PNG.
 * Runs with the user's privileges; trusts the user's options, not the
 * server (see conn_*.c, rfb_client.c).
 *
 *   moat-viewer [--headless] [--png OUT.png]
 *       [--security vencrypt|conversation|x509plain|x509none|ra2|ra2_256]
 *       [--answer TEXT]... [--known-hosts FILE] [--accept-new]
 *       [--fingerprint SHA256:...] [--ca CA.crt] [--encoding zrle|raw]
 *       [--cert FILE|pkcs11:URI --key FILE|pkcs11:URI]
 *       [--pkcs11-module PATH] [--pin-file FILE]
 *       [--script FILE] [--vault FILE] [--remember] [--vault-aes256] HOST:PORT
 *   moat-viewer [--vault FILE] vault forget HOST:PORT
 *   moat-viewer [--vault FILE] vault forget-all
 *
 * Exit status: 0 done; 1 error (also: the smartcard refused the PIN, or
 * the server asked for a client certificate and none was given); 2 usage;
 * 3 login refused; 4 the server's identity was not accepted (nothing
 * secret was sent).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "net/rfb_conv.h"
#include "net/rfb_ra2.h"
#include "net/rfb_types.h"
#include "privsep/errors.h"
#include "viewer/client_key.h"
#include "viewer/png.h"
#include "viewer/rfb_client.h"
#include "viewer/script.h"
#include "viewer/trust.h"
#include "viewer/vault.h"
#include "viewer/x11_window.h"
#include "viewer/viewer.h"

#define EXIT_USAGE	2
#define EXIT_REFUSED	3
#define EXIT_IDENTITY	4

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: moat-viewer [--headless] [--png OUT.png] "
	    "[--security vencrypt|conversation|x509plain|x509none|ra2|ra2_256]\n"
	    "           [--answer TEXT]... [--known-hosts FILE] [--accept-new] "
	    "[--fingerprint SHA256:...] [--ca CA.crt]\n"
	    "           [--cert FILE|pkcs11:URI --key FILE|pkcs11:URI] "
	    "[--pkcs11-module PATH] [--pin-file FILE]\n"
	    "           [--encoding zrle|raw] [--script FILE] [--view-only]\n"
	    "           [--vault FILE] [--remember] [--vault-aes256] HOST:PORT\n"
	    "       moat-viewer [--vault FILE] vault forget HOST:PORT | forget-all\n");
	exit(EXIT_USAGE);
}

/* Splits "host:port" or "[v6]:port" into host and port. */
static int
split_target(char *arg, char **host, char **port)
{
	char *colon;

	if (arg[0] == '[') {
		if ((colon = strstr(arg, "]:")) == NULL)
			return -1;
		*colon = '\0';
		*host = arg + 1;
		*port = colon + 2;
	} else {
		if ((colon = strrchr(arg, ':')) == NULL)
			return -1;
		*colon = '\0';
		*host = arg;
		*port = colon + 1;
	}
	return **host == '\0' || **port == '\0' ? -1 : 0;
}

/* Stores the credentials for target in the vault (created if missing). */
static int
remember(const char *vault_path, const char *target, const char *user,
    const char *pass, int aes256)
{
	char master[VIEWER_MAX_CRED + 2];
	struct vault v;
	int r;

	if (viewer_master_password(master, sizeof(master)) != 0)
		return -1;
	r = vault_load(vault_path, master, &v);
	if (r == MOAT_ERR_EOF)
		r = vault_create(&v, master, aes256);
	OPENSSL_cleanse(master, sizeof(master));
	if (r != 0)
		return -1;
	if ((r = vault_set(&v, target, user, pass)) == 0 &&
	    (r = vault_save(vault_path, &v)) == 0)
		fprintf(stderr, "moat-viewer: remembered the password for %s "
		    "in %s\n", target, vault_path);
	vault_free(&v);
	return r == 0 ? 0 : -1;
}

/* moat-viewer vault forget HOST:PORT | forget-all */
static int
vault_command(const char *vault_path, int argc, char **argv)
{
	char master[VIEWER_MAX_CRED + 2];
	struct vault v;
	int r;

	if (argc == 1 && strcmp(argv[0], "forget-all") == 0) {
		if (unlink(vault_path) != 0 && errno != ENOENT) {
			viewer_err("%s: %s", vault_path, strerror(errno));
			return 1;
		}
		fprintf(stderr, "moat-viewer: forgot every remembered "
		    "password (%s removed)\n", vault_path);
		return 0;
	}
	if (argc != 2 || strcmp(argv[0], "forget") != 0)
		usage();
	if (viewer_master_password(master, sizeof(master)) != 0)
		return 1;
	r = vault_load(vault_path, master, &v);
	OPENSSL_cleanse(master, sizeof(master));
	if (r == MOAT_ERR_EOF) {
		viewer_err("%s: no vault", vault_path);
		return 1;
	}
	if (r != 0)
		return 1;
	if (vault_remove(&v, argv[1]) != 0) {
		viewer_err("no password remembered for %s", argv[1]);
		vault_free(&v);
		return 1;
	}
	r = vault_save(vault_path, &v);
	vault_free(&v);
	if (r == 0)
		fprintf(stderr, "moat-viewer: forgot the password for %s\n",
		    argv[1]);
	return r == 0 ? 0 : 1;
}

/* ProtocolVersion and the security-type choice. */
static int
rfb_hello(struct viewer_conn *c, int type)
{
	uint8_t ver[12], n, types[255], t = (uint8_t)type;
	int r;

	if ((r = viewer_conn_read(c, ver, sizeof(ver))) != 0)
		return r;
	if (memcmp(ver, "RFB 003.", 8) != 0 || ver[11] != '\n') {
		viewer_err("not an RFB server");
		return MOAT_ERR_PROTOCOL;
	}
	if (memcmp(ver, "RFB 003.008\n", 12) < 0) {
		viewer_err("the server speaks RFB %.7s; 3.8 is required",
		    (const char *)ver + 4);
		return MOAT_ERR_PROTOCOL;
	}
	if ((r = viewer_conn_write(c, "RFB 003.008\n", 12)) != 0 ||
	    (r = viewer_conn_read(c, &n, 1)) != 0)
		return r;
	if (n == 0) {
		/* No security type: U32 length and the reason follow. */
		r = viewer_failure_reason(c, "the connection");
		return r == MOAT_ERR_PROTOCOL ? r : MOAT_ERR_AUTH;
	}
	if ((r = viewer_conn_read(c, types, n)) != 0)
		return r;
	if (memchr(types, t, n) == NULL) {
		viewer_err("the server does not offer the security type %d",
		    type);
		return MOAT_ERR_PROTOCOL;
	}
	return viewer_conn_write(c, &t, 1);
}

/* The --security name: sets a's type (and VeNCrypt subtype); -1 if unknown. */
static int
security_type(const char *name, struct viewer_auth *a)
{
	a->subtype = 0;
	if (strcmp(name, "vencrypt") == 0)
		return RFB_SEC_VENCRYPT;
	if (strcmp(name, "conversation") == 0) {
		a->subtype = RFB_VENCRYPT_X509CONVERSATION;
		return RFB_SEC_VENCRYPT;
	}
	if (strcmp(name, "x509plain") == 0) {
		a->subtype = VIEWER_VENCRYPT_X509PLAIN;
		return RFB_SEC_VENCRYPT;
	}
	if (strcmp(name, "x509none") == 0) {
		a->subtype = VIEWER_VENCRYPT_X509NONE;
		return RFB_SEC_VENCRYPT;
	}
	if (strcmp(name, "ra2") == 0)
		return RFB_SEC_RA2;
	if (strcmp(name, "ra2_256") == 0)
		return RFB_SEC_RA2_256;
	return -1;
}

/* Where to remember the credentials after a successful login, if asked. */
struct remember_opts {
	const char *vault_path;		/* NULL: do not remember */
	const char *target;
	int aes256;
};

static int
run(const struct viewer_auth *a, const char *port, enum viewer_enc enc,
    const struct viewer_script *sc, const char *png,
    const struct remember_opts *rem, int headless, int view_only)
{
	struct viewer_conn c;
	struct viewer_rfb s;
	int r, got;

	if (viewer_conn_open(&c, a->host, port) != 0)
		return 1;
	memset(&s, 0, sizeof(s));
	if ((r = rfb_hello(&c, a->type)) == 0)
		r = a->type == RFB_SEC_VENCRYPT ? viewer_vencrypt(&c, a) :
		    viewer_ra2(&c, a);
	if (r == MOAT_ERR_AUTH) {
		viewer_conn_close(&c);
		return EXIT_REFUSED;
	}
	if (r == MOAT_ERR_CRYPTO) {
		viewer_conn_close(&c);
		return EXIT_IDENTITY;
	}
	if (r == 0 && rem->vault_path != NULL) {
		if (!a->creds->have_user || !a->creds->have_pass)
			fprintf(stderr, "moat-viewer: no password was used: "
			    "nothing to remember\n");
		else if (remember(rem->vault_path, rem->target,
		    a->creds->user, a->creds->pass, rem->aes256) != 0) {
			viewer_conn_close(&c);
			return 1;
		}
	}
	if (r == 0 && (r = viewer_rfb_start(&s, &c, enc)) == 0) {
		s.view_only = view_only;
		fprintf(stderr, "moat-viewer: desktop \"%s\", %ux%u\n", s.name,
		    s.w, s.h);
		while (r == 0 && s.unpainted > 0)
			r = viewer_rfb_read(&s, &got);
	}
	if (r == 0 && sc != NULL)
		r = viewer_script_run(sc, &s);
	if (r == 0 && !headless)
		r = viewer_window_run(&s);
	if (r == 0 && png != NULL) {
		if ((r = viewer_png_write(png, s.fb, s.w, s.h)) != 0)
			viewer_err("%s: %s", png, strerror(errno));
		else
			fprintf(stderr, "moat-viewer: wrote %s (%lu updates; "
			    "%lu Raw, %lu CopyRect, %lu ZRLE rectangles)\n",
			    png, s.updates, s.rects[0], s.rects[1], s.rects[2]);
	}
	viewer_rfb_free(&s);
	viewer_conn_close(&c);
	return r == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "headless", no_argument, NULL, 'H' },
		{ "view-only", no_argument, NULL, 'W' },
		{ "png", required_argument, NULL, 'o' },
		{ "ca", required_argument, NULL, 'c' },
		{ "security", required_argument, NULL, 's' },
		{ "encoding", required_argument, NULL, 'e' },
		{ "script", required_argument, NULL, 'S' },
		{ "known-hosts", required_argument, NULL, 'k' },
		{ "accept-new", no_argument, NULL, 'A' },
		{ "fingerprint", required_argument, NULL, 'f' },
		{ "vault", required_argument, NULL, 'V' },
		{ "remember", no_argument, NULL, 'R' },
		{ "vault-aes256", no_argument, NULL, '2' },
		{ "answer", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "pkcs11-module", required_argument, NULL, 'M' },
		{ "pin-file", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct viewer_client_key_opts cko = { NULL, NULL, NULL, NULL };
	struct viewer_client_key ck;
	struct viewer_creds creds;
	char *host, *port, target[KH_MAX_HOSTPORT + 1], khbuf[4096];
	char vbuf[4096];
	const char *vault_path = NULL;
	struct remember_opts rem = { NULL, NULL, 0 };
	const char *png = NULL, *script = NULL, *ca = NULL, *kh = NULL;
	const char *fingerprint = NULL, *home;
	struct viewer_trust trust;
	struct viewer_script sc;
	struct viewer_auth a;
	enum viewer_enc enc = VIEWER_ENC_ZRLE;
	int headless = 0, accept_new = 0, view_only = 0, ch, st;
	const char *answers[VIEWER_MAX_ANSWERS];
	size_t nanswers = 0;

	memset(&a, 0, sizeof(a));
	a.type = RFB_SEC_VENCRYPT;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			headless = 1;
			break;
		case 'W':
			view_only = 1;
			break;
		case 'o':
			png = optarg;
			break;
		case 'c':
			ca = optarg;
			break;
		case 'k':
			kh = optarg;
			break;
		case 'A':
			accept_new = 1;
			break;
		case 'f':
			fingerprint = optarg;
			break;
		case 'V':
			vault_path = optarg;
			break;
		case 'R':
			rem.vault_path = "";	/* set below */
			break;
		case '2':
			rem.aes256 = 1;
			break;
		case 's':
			if ((a.type = security_type(optarg, &a)) < 0)
				usage();
			break;
		case 'a':
			if (nanswers == VIEWER_MAX_ANSWERS) {
				viewer_err("more than %d --answer options",
				    VIEWER_MAX_ANSWERS);
				return 1;
			}
			answers[nanswers++] = optarg;
			break;
		case 'e':
			if (strcmp(optarg, "zrle") == 0)
				enc = VIEWER_ENC_ZRLE;
			else if (strcmp(optarg, "raw") == 0)
				enc = VIEWER_ENC_RAW;
			else
				usage();
			break;
		case 'S':
			script = optarg;
			break;
		case 'C':
			cko.cert = optarg;
			break;
		case 'K':
			cko.key = optarg;
			break;
		case 'M':
			cko.module = optarg;
			break;
		case 'P':
			cko.pin_file = optarg;
			break;
		default:
			usage();
		}
	}
	if (vault_path == NULL) {
		if ((home = getenv("HOME")) == NULL || home[0] != '/' ||
		    (size_t)snprintf(vbuf, sizeof(vbuf), "%s/.config/moat/vault",
		    home) >= sizeof(vbuf)) {
			viewer_err("no usable HOME; use --vault FILE");
			return 1;
		}
		vault_path = vbuf;
	}
	if (optind < argc && strcmp(argv[optind], "vault") == 0)
		return vault_command(vault_path, argc - optind - 1,
		    argv + optind + 1);
	if (optind != argc - 1 || strlen(argv[optind]) >= sizeof(target))
		usage();
	strcpy(target, argv[optind]);
	if (split_target(argv[optind], &host, &port) != 0)
		usage();
	if (kh == NULL) {
		if ((home = getenv("HOME")) == NULL || home[0] != '/' ||
		    (size_t)snprintf(khbuf, sizeof(khbuf),
		    "%s/.config/moat/known_hosts", home) >= sizeof(khbuf)) {
			viewer_err("no usable HOME; use --known-hosts FILE");
			return 1;
		}
		kh = khbuf;
	}
	if ((cko.cert != NULL) != (cko.key != NULL)) {
		viewer_err("--cert and --key go together");
		usage();
	}
	if (cko.cert != NULL && (a.type != RFB_SEC_VENCRYPT ||
	    (a.subtype != 0 && a.subtype != RFB_VENCRYPT_X509CONVERSATION))) {
		viewer_err("a client certificate needs --security vencrypt or "
		    "conversation");
		usage();
	}
	if ((cko.module != NULL || cko.pin_file != NULL) && cko.cert == NULL) {
		viewer_err("--pkcs11-module and --pin-file need --cert and --key");
		usage();
	}
	if (viewer_trust_setup(&trust, kh, target, fingerprint, ca,
	    accept_new) != 0)
		return 1;
	a.trust = &trust;
	a.host = host;
	if (script != NULL && viewer_script_load(script, &sc) != 0)
		return 1;
	if (rem.vault_path != NULL) {
		rem.vault_path = vault_path;
		rem.target = target;
	}
	memset(&creds, 0, sizeof(creds));
	creds.vault_path = vault_path;
	creds.target = target;
	a.creds = &creds;
	a.answers = answers;
	a.nanswers = nanswers;
	/*
	 * The credentials before connecting, as the terminal prompts always
	 * came, except where none may be needed: X509None sends none, and
	 * with a client certificate the conversation asks for what the
	 * server wants (from MOAT_USER / MOAT_PASSWORD, the vault or the
	 * terminal) when it asks.
	 */
	if (cko.cert == NULL && a.subtype != VIEWER_VENCRYPT_X509NONE &&
	    viewer_creds_get(&creds, 1) != 0) {
		viewer_err("no usable user name and password");
		if (script != NULL)
			viewer_script_free(&sc);
		return 1;
	}
	/* The key (and the smartcard's PIN) before connecting. */
	if (cko.cert != NULL) {
		if (viewer_client_key_load(&ck, &cko) != 0) {
			if (script != NULL)
				viewer_script_free(&sc);
			return 1;
		}
		a.ck = &ck;
	}
	st = run(&a, port, enc, script != NULL ? &sc : NULL, png, &rem, headless,
	    view_only);
	viewer_creds_wipe(&creds);
	if (a.ck != NULL)
		viewer_client_key_free(&ck);
	if (script != NULL)
		viewer_script_free(&sc);
	return st;
}
