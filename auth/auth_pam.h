/*
 * auth_pam.h - system-account authentication through PAM. Linked only
 * into moatd's monitor (root). The user name and password come from the
 * network via moat-net and are treated as hostile strings.
 */
#ifndef MOAT_AUTH_PAM_H
#define MOAT_AUTH_PAM_H

#include <stddef.h>

/*
 * Authenticates user with password through PAM service 'service', with
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
 * function on msg with the given password; *ninfo (may be NULL) gets the
 * number of informational messages kept. Returns the PAM_* code the
 * conversation returned; on success *resp is malloc'd (caller frees).
 */
int auth_pam_selftest_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, const char *password, size_t *ninfo);
#endif

#endif
