/*
 * clock.h - the one monotonic clock every moat process measures deadlines
 * and timeouts with. Linked into every program (moat_common); trusts
 * nothing and is trusted by all.
 */
#ifndef MOAT_CLOCK_H
#define MOAT_CLOCK_H

#include <stdint.h>

/* Returns CLOCK_MONOTONIC in milliseconds. */
int64_t moat_monotonic_ms(void);

#endif
