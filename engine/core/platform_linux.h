/* SPDX-License-Identifier: MIT */
/* The core's platform on Linux (see core/platform.h). */
#ifndef FWP_PLATFORM_LINUX_H
#define FWP_PLATFORM_LINUX_H

#include <time.h>

static inline uint64_t fwp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* vDSO: no system call */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void fwp_sleep_ns(uint32_t ns)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };

	nanosleep(&ts, NULL);
}

#endif
