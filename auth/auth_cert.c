/*
 * auth_cert.c - the Certificate factor (see auth_cert.h). Runs in the
 * per-connection monitor (root). The CA and CRL files are root's and are
 * loaded for each attempt, so a new CRL applies to the next connection;
 * the chain and the proof come from the viewer through moat-net and are
 * checked here before anything of them is believed.
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth_cert.h"
#include "privsep/errors.h"
#include "privsep/log.h"
#include "x509_client.h"

#define REASON_FAILED	"Authentication failed"
#define REASON_NO_CERT	"This server asks for a client certificate " \
	"(a smartcard): connect with moat-viewer --cert and --key"

static void
set_reason(char *reason, size_t reasonlen, const char *text)
{
	snprintf(reason, reasonlen, "%s", text);
}

/* Whether an account of that name exists (the mapping only checks syntax). */
static int
account_exists(const char *name)
{
	struct passwd pw, *res = NULL;
	char storage[4096];

	return getpwnam_r(name, &pw, storage, sizeof(storage), &res) == 0 &&
	    res != NULL;
}

/* Verifies the chain and maps it; 0 with the name, else MOAT_ERR_*. */
static int
verify_chain(const struct auth_cert_env *env, const char *peer,
    const struct x509_client_chain *chain, char *name, size_t namelen)
{
	struct x509_client_config xc;
	struct x509_client_result res;
	char err[512];
	int r;

	x509_client_config_init(&xc);
	if ((r = x509_client_config_load(&xc, env->ca_file, env->crl_file,
	    (enum x509_user_rule)env->rule, env->domain, err,
	    sizeof(err))) != 0) {
		error_f("Certificate: %s", err);
		return r;
	}
	memset(&res, 0, sizeof(res));
	r = x509_client_verify(&xc, chain->der, chain->len, chain->n,
	    time(NULL), &res);
	x509_client_config_free(&xc);
	if (r != 0) {
		info_f("Certificate from %s refused: %s (subject \"%s\", "
		    "issuer \"%s\", serial %s, sha256 %s)", peer, res.why,
		    res.subject, res.issuer, res.serial, res.sha256);
		return r == MOAT_ERR_AUTH ? MOAT_ERR_AUTH : r;
	}
	info_f("Certificate from %s: subject \"%s\", issuer \"%s\", serial %s, "
	    "sha256 %s, maps to \"%s\"", peer, res.subject, res.issuer,
	    res.serial, res.sha256, res.user);
	if (!account_exists(res.user)) {
		info_f("Certificate from %s refused: no account \"%s\"", peer,
		    res.user);
		return MOAT_ERR_AUTH;
	}
	snprintf(name, namelen, "%s", res.user);
	return 0;
}

/* Asks for the proof of possession and checks it. */
static int
ask_proof(const struct auth_cert_env *env, const char *peer,
    const struct x509_client_chain *chain, const struct auth_conv *conv,
    struct timespec *last)
{
	uint8_t challenge[CERT_PROOF_CHALLENGE_LEN];
	char text[CERT_PROOF_TEXT_LEN + 1], ans[AUTH_ANSWER_MAX + 1];
	int r;

	if (RAND_bytes(challenge, sizeof(challenge)) != 1)
		return MOAT_ERR_CRYPTO;
	cert_proof_challenge_text(challenge, text);
	r = conv->ask(conv->arg, AUTH_ASK_PROVE, text, ans, sizeof(ans));
	clock_gettime(CLOCK_MONOTONIC, last);
	if (r == MOAT_ERR_UNSUPPORTED || r == MOAT_ERR_TOO_LONG) {
		info_f("Certificate from %s: the viewer cannot prove it holds "
		    "the key", peer);
		r = MOAT_ERR_AUTH;
	} else if (r == 0) {
		r = cert_proof_verify(challenge, env->identity_sha256,
		    chain->der[0], chain->len[0], ans);
		if (r == MOAT_ERR_AUTH)
			info_f("Certificate from %s refused: the proof of "
			    "possession of its key is not valid", peer);
	}
	OPENSSL_cleanse(ans, sizeof(ans));
	OPENSSL_cleanse(challenge, sizeof(challenge));
	return r;
}

int
auth_cert_converse(const struct auth_cert_env *env, const char *peer,
    const struct auth_conv *conv, char *user, size_t userlen, char *reason,
    size_t reasonlen)
{
	struct x509_client_chain chain;
	char name[X509_CLIENT_USER_MAX + 1], euser[300];
	struct timespec last;
	int r;

	set_reason(reason, reasonlen, REASON_FAILED);
	clock_gettime(CLOCK_MONOTONIC, &last);
	if (env->chain == NULL || env->chain_len == 0) {
		info_f("Certificate: the viewer at %s sent no client "
		    "certificate", peer);
		set_reason(reason, reasonlen, REASON_NO_CERT);
		r = MOAT_ERR_AUTH;
		goto fail;
	}
	if ((r = x509_client_chain_split(env->chain, env->chain_len,
	    &chain)) != 0) {
		/* moat-net frames the chain itself: a broken frame is its fault. */
		error_f("Certificate: moat-net for %s sent a malformed chain "
		    "(%s)", peer, moat_strerror(r));
		return MOAT_ERR_PROTOCOL;
	}
	if ((r = verify_chain(env, peer, &chain, name, sizeof(name))) != 0)
		goto fail;
	if (user[0] != '\0' && strcmp(user, name) != 0) {
		log_escape(euser, sizeof(euser), user, strnlen(user, 255));
		info_f("Certificate from %s refused: it is \"%s\"'s, not "
		    "\"%s\"'s", peer, name, euser);
		r = MOAT_ERR_AUTH;
		goto fail;
	}
	if ((r = ask_proof(env, peer, &chain, conv, &last)) != 0) {
		/* The account the certificate names, for the failure's log. */
		if (user[0] == '\0')
			snprintf(user, userlen, "%s", name);
		goto fail;
	}
	if (snprintf(user, userlen, "%s", name) >= (int)userlen)
		return MOAT_ERR_AUTH;
	reason[0] = '\0';
	return 0;
fail:
	if (r != MOAT_ERR_AUTH)
		return r;
	auth_fail_delay(&last);
	return MOAT_ERR_AUTH;
}
