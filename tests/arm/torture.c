/* SPDX-License-Identifier: MIT */
/*
 * The doorbell torture of the arm rig (tests/arm/run.sh): one side hammers a 32-bit doorbell
 * word in a window with fwp_store_release, the other reads it with fwp_load_acquire as fast as
 * it can, and counts values that no store ever wrote. Every value written is n in the low half
 * and ~n in the high half, so a read torn at any byte or halfword boundary breaks the pair.
 *   torture write URI COUNT     waits for the reader's go, writes n = 1 .. COUNT, then DONE
 *                               (a 32-bit Arm BMC: the guest)
 *   torture read URI SECONDS    says go, reads until DONE or SECONDS passed, then prints
 *                               "reads R changes C torn T"; exit 1 if T > 0 or nothing changed
 * URI is a window target (mem:ADDR,size=4K on the BMC, mem:OFF,size=4K,dev=FILE here); the
 * doorbell is its first word, the go word the second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mmio.h"
#include "core/platform.h"
#include "transport/target.h"

#define GO	0x60606060u
#define DONE	0xffffffffu	/* no pattern(n): its halves are not each other's complement */

static uint32_t pattern(uint32_t n)
{
	return (n & 0xffffu) | (~n & 0xffffu) << 16;
}

int main(int argc, char **argv)
{
	struct fwp_target *t;
	volatile uint32_t *db;
	uint32_t v, prev, n, count;
	unsigned long long reads = 0, changes = 0, torn = 0;
	uint64_t end;
	int ret;

	if (argc != 4 || (strcmp(argv[1], "write") && strcmp(argv[1], "read"))) {
		fprintf(stderr, "usage: torture write|read URI COUNT|SECONDS\n");
		return 2;
	}
	ret = fwp_target_open(argv[2], &t);
	if (ret) {
		fprintf(stderr, "torture: %s: %s\n", argv[2], strerror(-ret));
		return 2;
	}
	db = fwp_target_base(t);
	count = (uint32_t)strtoul(argv[3], NULL, 0);
	if (!strcmp(argv[1], "write")) {
		while (fwp_load_acquire(db + 1) != GO)
			fwp_cpu_relax();
		for (n = 1; n <= count; n++)
			fwp_store_release(db, pattern(n));
		fwp_store_release(db, DONE);
		printf("torture: wrote %u doorbells\n", count);
		fwp_target_close(t);
		return 0;
	}
	end = fwp_now_ns() + (uint64_t)count * 1000000000u;
	fwp_store_release(db, 0);
	prev = 0;
	fwp_store_release(db + 1, GO);
	for (;;) {
		v = fwp_load_acquire(db);
		reads++;
		if (v == DONE)
			break;
		if (v != prev) {
			changes++;
			if (v >> 16 != (~v & 0xffffu))
				torn++;
			prev = v;
		}
		if ((reads & 0xfffff) == 0 && fwp_now_ns() > end)
			break;
	}
	fwp_store_release(db + 1, 0);
	printf("reads %llu changes %llu torn %llu%s\n", reads, changes, torn,
	       v == DONE ? "" : " (the writer never finished)");
	fwp_target_close(t);
	return torn || !changes || v != DONE ? 1 : 0;
}
