/*
 * auth_cert.h - the Certificate factor: the client certificate chain a
 * viewer sent in the TLS handshake, verified against the configured CAs
 * and CRLs (auth/x509_client.h), mapped to an account, and proved held by
 * a signature over a fresh challenge (auth/cert_proof.h). Linked only into
 * the monitor (root). The chain arrives through moat-net and is hostile;
 * that moat-net saw the viewer prove the key in TLS counts for nothing.
 */
#ifndef MOAT_AUTH_CERT_H
#define MOAT_AUTH_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "auth_conv.h"
#include "cert_proof.h"

/* What the factor checks against; the files are read afresh each time. */
struct auth_cert_env {
	const char *ca_file;	/* CertificateCaFile */
	const char *crl_file;	/* CertificateCrlFile, "" for none */
	int rule;		/* CertificateUserRule (X509_RULE_*) */
	const char *domain;	/* CertificateUserDomain, "" for any */
	const uint8_t *chain;	/* as moat-net framed it; NULL: none sent */
	size_t chain_len;
	uint8_t identity_sha256[CERT_PROOF_HASH_LEN];	/* this server's key */
};

/*
 * Runs the factor: verifies env's chain now and maps its leaf to an
 * account that must exist; if user is not "" (an earlier factor's name)
 * the mapped name must equal it. Then asks the viewer (AUTH_ASK_PROVE) to
 * sign a fresh challenge with the certificate's key and verifies that.
 * Returns 0 with the account name in user (userlen bytes; a "" user also
 * gets it when only the proof failed, for the log); MOAT_ERR_AUTH
 * with a reason for the viewer (which never says why the chain was
 * refused: the log does), no earlier than AUTH_FAIL_DELAY_MS after the
 * chain arrived or the last answer; the conversation's error if the viewer
 * went away; MOAT_ERR_CONFIG if the CA or CRL file cannot be used (the log
 * names it); another negative MOAT_ERR_* on an internal error.
 */
int auth_cert_converse(const struct auth_cert_env *env, const char *peer,
    const struct auth_conv *conv, char *user, size_t userlen, char *reason,
    size_t reasonlen);

#endif
