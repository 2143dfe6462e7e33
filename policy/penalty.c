/*
 * penalty.c - the blacklist tables (see penalty.h for the rules).
 *
 * Runs in moatd's listener (root); a monitor reads its fork-time copy of
 * the user table. Trusts its caller: the keys come from accept(2) and
 * from the monitors' verdicts, never from a viewer's bytes (a user name
 * is only compared, bounded by PENALTY_USER_MAX). Pure: the clock is a
 * parameter and the slots are the caller's, so every rule is unit-tested
 * with a fixed time.
 */
#include <string.h>

#include "privsep/errors.h"
#include "penalty.h"

void
penalty_configure(struct penalty_table *t, uint32_t threshold,
    uint32_t timeout)
{
	t->threshold = threshold;
	if (timeout < 1)
		timeout = 1;
	if (timeout > PENALTY_MAX_TIMEOUT)
		timeout = PENALTY_MAX_TIMEOUT;
	t->timeout = timeout;
}

void
penalty_init(struct penalty_table *t, struct penalty_entry *slots,
    size_t nslots, uint32_t threshold, uint32_t timeout)
{
	t->slot = slots;
	t->nslots = nslots;
	penalty_configure(t, threshold, timeout);
	memset(slots, 0, nslots * sizeof(*slots));
}

int
penalty_key_addr(struct penalty_key *k, const struct ip_addr *a,
    const struct ip_filter *exempt)
{
	memset(k, 0, sizeof(*k));
	if (exempt != NULL && ip_addr_list_contains(exempt, a))
		return 1;
	/* The family first, so an IPv4 key never equals an IPv6 one. */
	k->b[0] = a->family;
	if (a->family == 4) {
		memcpy(k->b + 1, a->a, 4);
		k->len = 5;
	} else {
		memcpy(k->b + 1, a->a, 8);	/* the /64 */
		k->len = 9;
	}
	return 0;
}

int
penalty_key_user(struct penalty_key *k, const char *user)
{
	size_t n;

	memset(k, 0, sizeof(*k));
	if (user == NULL || user[0] == '\0')
		return 1;
	n = strnlen(user, PENALTY_USER_MAX);
	memcpy(k->b, user, n);
	k->len = (uint8_t)n;
	return 0;
}

static int
key_eq(const struct penalty_key *x, const struct penalty_key *y)
{
	return x->len == y->len && memcmp(x->b, y->b, x->len) == 0;
}

/* Blocked or on probation at now: an entry the table-full rule keeps. */
static int
is_blocked(const struct penalty_entry *e, int64_t now)
{
	return e->probation || now < e->blocked_until;
}

/* No block running and no failure for PENALTY_FORGET seconds. */
static int
is_stale(const struct penalty_entry *e, int64_t now)
{
	int64_t since = e->last > e->blocked_until ? e->last : e->blocked_until;

	return !is_blocked(e, now) && now - since >= PENALTY_FORGET;
}

/* The live entry of k, or NULL. A stale entry is freed on the way. */
static struct penalty_entry *
find(const struct penalty_table *t, const struct penalty_key *k, int64_t now)
{
	size_t i;

	if (k->len == 0 || t->threshold == 0)
		return NULL;
	for (i = 0; i < t->nslots; i++) {
		struct penalty_entry *e = &t->slot[i];

		if (e->key.len == 0 || !key_eq(&e->key, k))
			continue;
		if (is_stale(e, now)) {
			memset(e, 0, sizeof(*e));
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* A slot for new key k: free, stale, or the table-full rule's victim. */
static struct penalty_entry *
allocate(struct penalty_table *t, const struct penalty_key *k, int64_t now)
{
	struct penalty_entry *victim = NULL;
	size_t i;

	for (i = 0; i < t->nslots; i++) {
		struct penalty_entry *e = &t->slot[i];

		if (e->key.len == 0 || is_stale(e, now)) {
			victim = e;
			break;
		}
		if (is_blocked(e, now))
			continue;
		if (victim == NULL || e->last < victim->last)
			victim = e;
	}
	if (victim == NULL)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->key = *k;
	return victim;
}

int64_t
penalty_blocked(const struct penalty_table *t, const struct penalty_key *k,
    int64_t now)
{
	const struct penalty_entry *e = find(t, k, now);

	if (e == NULL)
		return 0;
	if (now < e->blocked_until)
		return e->blocked_until - now;
	return e->probation ? 1 : 0;
}

enum penalty_verdict
penalty_admit(struct penalty_table *t, const struct penalty_key *k,
    int64_t now, int64_t *left)
{
	struct penalty_entry *e = find(t, k, now);
	int64_t l;

	if (left != NULL)
		*left = 0;
	if (e == NULL)
		return PENALTY_ALLOW;
	if ((l = penalty_blocked(t, k, now)) > 0) {
		if (left != NULL)
			*left = l;
		return PENALTY_REFUSE;
	}
	if (e->timeout == 0)
		return PENALTY_ALLOW;	/* below the threshold */
	e->probation = 1;
	return PENALTY_PROBATION;
}

static uint32_t
doubled(uint32_t timeout)
{
	return timeout >= PENALTY_MAX_TIMEOUT / 2 ? PENALTY_MAX_TIMEOUT :
	    timeout * 2;
}

int
penalty_fail(struct penalty_table *t, const struct penalty_key *k,
    int64_t now, struct penalty_status *st)
{
	struct penalty_entry *e;

	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (k->len == 0 || t->threshold == 0)
		return 0;
	if ((e = find(t, k, now)) == NULL &&
	    (e = allocate(t, k, now)) == NULL)
		return MOAT_ERR_NOMEM;
	if (e->failures < UINT32_MAX)
		e->failures++;
	e->last = now;
	if (e->timeout != 0) {
		/* Blocked before: every further failure doubles. */
		e->timeout = doubled(e->timeout);
		e->blocked_until = now + e->timeout;
		e->probation = 0;
	} else if (e->failures >= t->threshold) {
		e->timeout = t->timeout;
		e->blocked_until = now + e->timeout;
	}
	if (st != NULL) {
		st->failures = e->failures;
		st->blocked = now < e->blocked_until ? e->blocked_until - now : 0;
	}
	return 0;
}

void
penalty_success(struct penalty_table *t, const struct penalty_key *k)
{
	size_t i;

	if (k->len == 0)
		return;
	for (i = 0; i < t->nslots; i++)
		if (t->slot[i].key.len != 0 && key_eq(&t->slot[i].key, k))
			memset(&t->slot[i], 0, sizeof(t->slot[i]));
}

void
penalty_end_probation(struct penalty_table *t, const struct penalty_key *k)
{
	size_t i;

	if (k->len == 0)
		return;
	for (i = 0; i < t->nslots; i++)
		if (t->slot[i].key.len != 0 && key_eq(&t->slot[i].key, k))
			t->slot[i].probation = 0;
}

size_t
penalty_count(const struct penalty_table *t, int64_t now)
{
	size_t i, n = 0;

	for (i = 0; i < t->nslots; i++)
		if (t->slot[i].key.len != 0 && !is_stale(&t->slot[i], now))
			n++;
	return n;
}
