/* SPDX-License-Identifier: MIT */
/* The one percentile helper: medians (odd and even counts) and tail percentiles. */
#include "check.h"
#include "stats.h"

int main(void)
{
	uint64_t one[] = { 7 };
	uint64_t odd[] = { 50, 10, 30 };
	uint64_t two[] = { 300, 100 };
	uint64_t even[] = { 40, 10, 30, 20 };
	uint64_t half[] = { 4, 1 };
	uint64_t big[] = { UINT64_MAX, UINT64_MAX - 2 };
	uint64_t hundred[100];
	unsigned i;

	CHECK_EQ(cli_percentile(one, 1, 50), 7);
	CHECK_EQ(cli_percentile(odd, 3, 50), 30);
	/* Even counts: the mean of the two middle values, never the faster (lower) one. */
	CHECK_EQ(cli_percentile(two, 2, 50), 200);
	CHECK_EQ(cli_percentile(even, 4, 50), 25);
	CHECK_EQ(cli_percentile(half, 2, 50), 2);	/* 2.5, rounded down */
	CHECK(cli_percentile(big, 2, 50) == UINT64_MAX - 1);	/* no overflow */
	/* The array comes back sorted. */
	CHECK_EQ(even[0], 10);
	CHECK_EQ(even[3], 40);
	for (i = 0; i < 100; i++)
		hundred[i] = 100 - i;	/* 100 .. 1 */
	CHECK_EQ(cli_percentile(hundred, 100, 99), 99);	/* nearest rank below */
	CHECK_EQ(cli_percentile(hundred, 100, 0), 1);
	CHECK_EQ(cli_percentile(hundred, 100, 100), 100);
	CHECK_EQ(cli_percentile(hundred, 100, 50), 50);	/* (50 + 51) / 2 */
	return check_done("test_stats");
}
