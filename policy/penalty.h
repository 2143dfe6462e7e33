/*
 * penalty.h - the blacklist: counters of failed authentications and
 * penalties, per source address and per user name, that moatd's listener
 * keeps (docs/access-control.md). Runs in moatd (root). Pure: no I/O, no
 * clock (the caller passes CLOCK_MONOTONIC seconds), no allocation (the
 * caller gives each table its fixed array of slots).
 *
 * Rules, per key:
 *  - each failure or penalty counts 1; at the threshold (BlacklistThreshold)
 *    the key is blocked for the base timeout (BlacklistTimeout);
 *  - once the block expires, one probation attempt is admitted
 *    (penalty_admit); while it runs every other attempt is refused; if it
 *    fails, or any failure arrives for a key that has been blocked before,
 *    the key is blocked again for twice the last timeout, at most
 *    PENALTY_MAX_TIMEOUT;
 *  - a success forgets the key; so does PENALTY_FORGET seconds without a
 *    failure once no block is running;
 *  - a full table gives a new key the slot of the entry with the oldest
 *    last failure among those not blocked (nor on probation); if every
 *    entry is blocked, the new key is not tracked (MOAT_ERR_NOMEM), so a
 *    flood of new keys cannot evict the keys already blocked.
 * A threshold of 0 turns the table off: nothing is counted or blocked.
 */
#ifndef MOAT_PENALTY_H
#define MOAT_PENALTY_H

#include <stddef.h>
#include <stdint.h>

#include "ip_filter.h"

#define PENALTY_MAX_TIMEOUT	3600	/* seconds: the cap of the doubling */
#define PENALTY_FORGET		86400	/* seconds without failure before a key is forgotten */
#define PENALTY_USER_MAX	64	/* user names are compared on their first 64 bytes */
#define PENALTY_KEY_MAX		PENALTY_USER_MAX

/* Table sizes moatd uses. */
#define PENALTY_ADDR_SLOTS	4096
#define PENALTY_USER_SLOTS	1024

/* What a table is keyed by; len 0 is "untracked" (an exempt address). */
struct penalty_key {
	uint8_t len;
	uint8_t b[PENALTY_KEY_MAX];
};

struct penalty_entry {
	struct penalty_key key;	/* len 0: free slot */
	uint8_t probation;	/* a probation attempt is running */
	uint32_t failures;	/* counted toward the threshold (saturating) */
	uint32_t timeout;	/* the last block's length; 0: never blocked */
	int64_t blocked_until;	/* blocked while now < blocked_until */
	int64_t last;		/* the last failure */
};

struct penalty_table {
	struct penalty_entry *slot;
	size_t nslots;
	uint32_t threshold;	/* 0: off */
	uint32_t timeout;	/* base timeout, 1..PENALTY_MAX_TIMEOUT */
};

/* What a failure did to its key. */
struct penalty_status {
	uint32_t failures;	/* failures counted so far */
	int64_t blocked;	/* seconds the key is now blocked for; 0: not blocked */
};

enum penalty_verdict {
	PENALTY_ALLOW = 0,	/* not blocked */
	PENALTY_PROBATION = 1,	/* the one attempt after a block: admitted */
	PENALTY_REFUSE = 2,	/* blocked */
};

/*
 * Sets t up over slots[0..nslots) (all freed). timeout is clamped into
 * 1..PENALTY_MAX_TIMEOUT.
 */
void penalty_init(struct penalty_table *t, struct penalty_entry *slots,
    size_t nslots, uint32_t threshold, uint32_t timeout);

/*
 * Changes the threshold and the base timeout of t (clamped as in
 * penalty_init()), keeping every entry: a configuration reload.
 */
void penalty_configure(struct penalty_table *t, uint32_t threshold,
    uint32_t timeout);

/*
 * Makes the key of address a: IPv4 by address, IPv6 by its /64. Returns 0,
 * or 1 (k untracked, len 0) if exempt (may be NULL) contains a.
 */
int penalty_key_addr(struct penalty_key *k, const struct ip_addr *a,
    const struct ip_filter *exempt);

/*
 * Makes the key of a user name: its first PENALTY_USER_MAX bytes. Returns
 * 0, or 1 (k untracked) for NULL or "".
 */
int penalty_key_user(struct penalty_key *k, const char *user);

/*
 * Returns the seconds (at least 1) for which k is refused at now: blocked,
 * or its probation attempt is still running; 0 if an attempt may be made.
 * Changes nothing observable (a forgotten entry may be freed).
 */
int64_t penalty_blocked(const struct penalty_table *t,
    const struct penalty_key *k, int64_t now);

/*
 * Decides on a new attempt for k at now: PENALTY_ALLOW, PENALTY_REFUSE
 * (with the seconds left in *left, may be NULL), or PENALTY_PROBATION,
 * which marks the probation attempt running until penalty_fail(),
 * penalty_success() or penalty_end_probation().
 */
enum penalty_verdict penalty_admit(struct penalty_table *t,
    const struct penalty_key *k, int64_t now, int64_t *left);

/*
 * Counts one failure or penalty for k at now (see the rules above) and
 * reports the result in st (may be NULL). Returns 0 (also for an
 * untracked key or a table that is off, with st zeroed), or MOAT_ERR_NOMEM
 * if the table is full of blocked keys and k is not tracked.
 */
int penalty_fail(struct penalty_table *t, const struct penalty_key *k,
    int64_t now, struct penalty_status *st);

/* Forgets k (a successful authentication). */
void penalty_success(struct penalty_table *t, const struct penalty_key *k);

/*
 * The probation attempt of k ended without a verdict (the viewer left
 * before authenticating): the next attempt is the probation attempt.
 */
void penalty_end_probation(struct penalty_table *t,
    const struct penalty_key *k);

/* Returns the number of keys tracked at now (for logs and tests). */
size_t penalty_count(const struct penalty_table *t, int64_t now);

#endif
