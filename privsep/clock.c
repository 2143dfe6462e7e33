/*
 * clock.c - the monotonic clock (see clock.h). Runs in every moat process.
 */
#include <time.h>

#include "clock.h"

int64_t
moat_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
