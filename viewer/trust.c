/*
 * trust.c - moat-viewer's trust decision for a server's identity key:
 * pinned in advance, remembered in the known-hosts file, or accepted on
 * first use after the user compared the catchphrase, or vouched for by the
 * pinned key during a rotation. Runs in moat-viewer; its input is a hash of
 * the key the server presented (and, for a rotation, the verdict of
 * viewer/rotation.c) and the user's files; it runs before any credential
 * leaves the viewer.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "privsep/catchphrase.h"
#include "privsep/errors.h"
#include "viewer/trust.h"
#include "viewer/viewer.h"

int
viewer_trust_setup(struct viewer_trust *t, const char *kh_path,
    const char *hostport, const char *fingerprint, const char *ca_file,
    int accept_new)
{
	struct known_hosts kh;
	const struct kh_entry *e;
	int r;

	memset(t, 0, sizeof(*t));
	t->hostport = hostport;
	t->kh_path = kh_path;
	t->accept_new = accept_new;
	if (known_hosts_check_hostport(hostport, strlen(hostport)) != 0) {
		viewer_err("%s: not a usable HOST:PORT", hostport);
		return MOAT_ERR_INVALID;
	}
	if (fingerprint != NULL) {
		if (known_hosts_parse_fp(fingerprint, strlen(fingerprint),
		    t->pin) != 0) {
			viewer_err("--fingerprint takes SHA256: followed by 32 "
			    "hex pairs joined by ':'");
			return MOAT_ERR_INVALID;
		}
		t->have_pin = 1;
		t->pin_source = TRUST_PIN_OPTION;
		return 0;
	}
	if (ca_file != NULL) {
		if ((r = viewer_ca_key_sha256(ca_file, t->pin)) != 0)
			return r;
		t->have_pin = 1;
		t->pin_source = TRUST_PIN_OPTION;
		return 0;
	}
	if ((r = known_hosts_load(kh_path, &kh)) != 0)
		return r;
	if ((e = known_hosts_find(&kh, hostport)) != NULL) {
		memcpy(t->pin, e->key, KH_KEY_LEN);
		t->have_pin = 1;
		t->pin_source = TRUST_PIN_KNOWN;
	}
	known_hosts_free(&kh);
	return 0;
}

static void
describe(const uint8_t key[KH_KEY_LEN], char words[CATCHPHRASE_LEN],
    char fp[CATCHPHRASE_FP_LEN])
{
	if (catchphrase_words(key, KH_KEY_LEN, words, CATCHPHRASE_LEN) != 0)
		words[0] = '\0';
	if (catchphrase_hex_fp(key, KH_KEY_LEN, fp, CATCHPHRASE_FP_LEN) != 0)
		fp[0] = '\0';
}

void
viewer_trust_warn(const struct viewer_trust *t)
{
	char ew[CATCHPHRASE_LEN], efp[CATCHPHRASE_FP_LEN];
	char pw[CATCHPHRASE_LEN], pfp[CATCHPHRASE_FP_LEN];

	describe(t->pin, ew, efp);
	if (t->have_presented)
		describe(t->presented, pw, pfp);
	else {
		snprintf(pw, sizeof(pw), "(none)");
		snprintf(pfp, sizeof(pfp), "(no presented key signed the leaf)");
	}
	fprintf(stderr,
	    "moat-viewer: WARNING: THE IDENTITY OF %s IS NOT THE EXPECTED ONE\n"
	    "moat-viewer: expected catchphrase:  \"%s\"\n"
	    "moat-viewer:   (key %s)\n"
	    "moat-viewer: presented catchphrase: \"%s\"\n"
	    "moat-viewer:   (key %s)\n"
	    "moat-viewer: someone may be intercepting the connection; nothing "
	    "was sent. If the server's identity was replaced on purpose, %s\n",
	    t->hostport, ew, efp, pw, pfp,
	    t->pin_source == TRUST_PIN_KNOWN ?
	    "remove its line from the known-hosts file" :
	    "pin the new key instead");
	if (t->pin_source == TRUST_PIN_KNOWN)
		fprintf(stderr, "moat-viewer: known-hosts file: %s\n",
		    t->kh_path);
	if (t->ra2)
		fprintf(stderr,
		    "moat-viewer: if the owner rotated the server's key: RSA-AES "
		    "cannot carry the previous\n"
		    "moat-viewer:   key's vouching for the new one, but a VeNCrypt "
		    "connection (moat-viewer's\n"
		    "moat-viewer:   default, --security x509plain) learns a vouched "
		    "rotation during its overlap\n");
}

int
viewer_trust_rotated(struct viewer_trust *t,
    const uint8_t presented[KH_KEY_LEN], time_t until)
{
	char ow[CATCHPHRASE_LEN], ofp[CATCHPHRASE_FP_LEN];
	char nw[CATCHPHRASE_LEN], nfp[CATCHPHRASE_FP_LEN], when[40];
	const struct kh_entry *e;
	struct known_hosts kh;
	struct tm tm;
	int r;

	memcpy(t->presented, presented, KH_KEY_LEN);
	t->have_presented = 1;
	describe(t->pin, ow, ofp);
	describe(presented, nw, nfp);
	if (gmtime_r(&until, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(when, sizeof(when), "?");
	fprintf(stderr,
	    "moat-viewer: NOTICE: %s ROTATED ITS IDENTITY KEY; the key you "
	    "trusted vouches for the new one\n"
	    "moat-viewer: previous catchphrase: \"%s\"\n"
	    "moat-viewer: new catchphrase:      \"%s\"\n"
	    "moat-viewer:   (key %s)\n"
	    "moat-viewer: the overlap ends %s; from then on only the new key "
	    "is accepted\n", t->hostport, ow, nw, nfp, when);
	if ((r = known_hosts_load(t->kh_path, &kh)) != 0)
		return MOAT_ERR_SYSTEM;
	e = known_hosts_find(&kh, t->hostport);
	if (t->pin_source == TRUST_PIN_KNOWN || e == NULL ||
	    CRYPTO_memcmp(e->key, t->pin, KH_KEY_LEN) == 0) {
		if ((r = known_hosts_set(&kh, t->hostport, presented)) == 0 &&
		    (r = known_hosts_save(t->kh_path, &kh)) != 0)
			viewer_err("%s: cannot write the known-hosts file",
			    t->kh_path);
		if (r == 0)
			fprintf(stderr, "moat-viewer: remembered the new key of "
			    "%s in %s\n", t->hostport, t->kh_path);
	}
	known_hosts_free(&kh);
	if (r == 0 && t->pin_source == TRUST_PIN_OPTION)
		fprintf(stderr, "moat-viewer: pin the new key from now on: "
		    "--fingerprint %s\n", nfp);
	return r == 0 ? 0 : MOAT_ERR_SYSTEM;
}

/* Adds the presented key for hostport to the known-hosts file. */
static int
remember(struct viewer_trust *t, int only_if_absent)
{
	struct known_hosts kh;
	int r;

	if ((r = known_hosts_load(t->kh_path, &kh)) != 0)
		return r;
	if (only_if_absent && known_hosts_find(&kh, t->hostport) != NULL) {
		known_hosts_free(&kh);
		return 0;
	}
	if ((r = known_hosts_set(&kh, t->hostport, t->presented)) == 0 &&
	    (r = known_hosts_save(t->kh_path, &kh)) != 0)
		viewer_err("%s: cannot write the known-hosts file", t->kh_path);
	known_hosts_free(&kh);
	if (r == 0)
		fprintf(stderr, "moat-viewer: remembered %s in %s\n",
		    t->hostport, t->kh_path);
	return r;
}

int
viewer_trust_check(struct viewer_trust *t, const uint8_t presented[KH_KEY_LEN])
{
	char w[CATCHPHRASE_LEN], fp[CATCHPHRASE_FP_LEN], answer[8];

	memcpy(t->presented, presented, KH_KEY_LEN);
	t->have_presented = 1;
	describe(presented, w, fp);
	if (t->have_pin) {
		if (CRYPTO_memcmp(t->pin, presented, KH_KEY_LEN) != 0) {
			viewer_trust_warn(t);
			return MOAT_ERR_CRYPTO;
		}
		fprintf(stderr, "moat-viewer: server identity: \"%s\"\n", w);
		if (t->pin_source == TRUST_PIN_OPTION)
			return remember(t, 1) == 0 ? 0 : MOAT_ERR_SYSTEM;
		return 0;
	}
	fprintf(stderr, "moat-viewer: %s is not a known host.\n"
	    "moat-viewer: its identity catchphrase: \"%s\"\n"
	    "moat-viewer:   (key %s)\n", t->hostport, w, fp);
	if (!t->accept_new) {
		if (viewer_prompt("Compare the catchphrase with the server's; "
		    "accept and remember it (yes/no)?", 0, answer,
		    sizeof(answer)) != 0 || strcmp(answer, "yes") != 0) {
			viewer_err("the server's identity was not accepted");
			return MOAT_ERR_CRYPTO;
		}
	}
	return remember(t, 0) == 0 ? 0 : MOAT_ERR_SYSTEM;
}
