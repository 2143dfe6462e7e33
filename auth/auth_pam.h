/*
 * auth_pam.h - system-account authentication through PAM. Linked only
 * into moatd's monitor (root). The user name and password come from the
 * network via moat-net and are treated as hostile strings.
 */
#ifndef MOAT_AUTH_PAM_H
#define MOAT_AUTH_PAM_H

#include <stddef.h>

#include "auth_conv.h"

/*
 * Runs PAM service 'service' for user with PAM_RHOST = rhost (may be NULL),
 * PAM_TTY "moat" and PAM_DISALLOW_NULL_AUTHTOK: pam_authenticate() with
 * every question and message relayed through conv, then pam_acct_mgmt().
 * Returns 0 if both succeed, with the user name PAM ended with (a module
 * may map it; it names an existing account) in final_user (may be NULL);
 * MOAT_ERR_AUTH if the user is refused (also when the viewer cannot answer
 * a question: conv's message says why), with a message that may be shown
 * to the viewer in reason, no earlier than a fixed delay after the last
 * answer; the conversation's error if the viewer went away mid-way;
 * another negative MOAT_ERR_* on an internal error. Never reveals whether
 * the user exists.
 */
int auth_pam_converse(const char *service, const char *user, const char *rhost,
    const struct auth_conv *conv, char *final_user, size_t final_len,
    char *reason, size_t reasonlen);

/*
 * auth_pam_converse() answered from one password (the credentials
 * conversation of auth_conv.h): authenticates user with password through
 * PAM service 'service', with
 * PAM_RHOST = rhost, PAM_DISALLOW_NULL_AUTHTOK, then pam_acct_mgmt().
 * Returns 0 if both succeed; MOAT_ERR_AUTH if the user is refused, with a
 * message that may be shown to the viewer in reason (e.g. "Authentication
 * failed", "Account expired"); another negative MOAT_ERR_* on an internal
 * error. Never reveals whether the user exists. Wipes its password copies.
 */
int auth_pam_password(const char *service, const char *user, const char *password,
    const char *rhost, char *reason, size_t reasonlen);

#ifdef MOAT_SELFTEST
struct pam_message;
struct pam_response;
/*
 * Test hook (MOAT_SELFTEST builds only): runs the PAM conversation
 * function on msg, relaying through conv; *error (may be NULL) gets the
 * first conversation error. Returns the PAM_* code the conversation
 * returned; on success *resp is malloc'd (caller frees).
 */
int auth_pam_selftest_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, const struct auth_conv *conv, int *error);
#endif

#endif
