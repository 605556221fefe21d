/* SPDX-License-Identifier: MIT */
/* Order statistics for the benchmarks: medians and tail percentiles of timings. */
#ifndef CLI_STATS_H
#define CLI_STATS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Sorts v (n >= 1) and returns its pct-th percentile, nearest rank below; 50 is the median, the
 * mean of the two middle values (rounded down) when n is even.
 */
uint64_t cli_percentile(uint64_t *v, size_t n, unsigned pct);

#ifdef __cplusplus
}
#endif
#endif
