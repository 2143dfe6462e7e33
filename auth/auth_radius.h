/*
 * auth_radius.h - the Radius factor: a RADIUS exchange (auth/radius_client.h)
 * with its Access-Challenge rounds relayed to the viewer through an
 * auth_conv. Linked only into the monitor (root); every answer is the
 * viewer's and hostile, every reply the RADIUS server's and checked by the
 * client before it gets here.
 */
#ifndef MOAT_AUTH_RADIUS_H
#define MOAT_AUTH_RADIUS_H

#include <stddef.h>
#include <stdint.h>

#include "auth_conv.h"
#include "radius_client.h"

#define AUTH_RADIUS_MAX_ROUNDS	5	/* challenges answered per attempt */

/*
 * Authenticates user: asks for the password (prompt "Password: " when
 * this is the first factor, "RADIUS password: " after another), sends it
 * with Calling-Station-Id rhost, and answers up to AUTH_RADIUS_MAX_ROUNDS
 * challenges with the viewer's answers (each challenge's Reply-Message is
 * the question, hidden unless the server asked to echo). deadline_ms
 * (CLOCK_MONOTONIC milliseconds, 0: none) bounds every exchange. Returns 0
 * on Access-Accept; MOAT_ERR_AUTH on a reject, a timeout or too many
 * rounds, with a reason for the viewer, no earlier than AUTH_FAIL_DELAY_MS
 * after the last answer; the conversation's error if the viewer went away;
 * another negative MOAT_ERR_* on an internal error.
 */
int auth_radius_converse(const struct radius_config *rc, const char *user,
    const char *rhost, int first_factor, int64_t deadline_ms,
    const struct auth_conv *conv, char *reason, size_t reasonlen);

#endif
