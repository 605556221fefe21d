/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "stats.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t cli_percentile(uint64_t *v, size_t n, unsigned pct)
{
	size_t i = (n - 1) * pct / 100;

	qsort(v, n, sizeof(*v), cmp_u64);
	/* An even count has two middle values: the median is their mean, not the lower one. */
	if (pct == 50 && n % 2 == 0)
		return v[i] + (v[i + 1] - v[i]) / 2;
	return v[i];
}
