/* SPDX-License-Identifier: MIT */
/*
 * The doorbell torture of the arm rig (tests/arm/run.sh): one side hammers a 32-bit doorbell
 * word in a window with fwp_store_release, the other reads it with fwp_load_acquire as fast as
 * it can, and counts values that no store ever wrote. Every value written is n in the low half
 * and ~n in the high half, so a read torn at any byte or halfword boundary breaks the pair.
 *   torture read URI SECONDS    says go, reads for SECONDS, says stop, waits for the writer's
 *                               DONE; prints "reads R changes C torn T"; exit 1 if T > 0, if
 *                               nothing changed, or if the writer never said DONE
 *   torture write URI           waits for go, writes n = 1, 2, ... until stop, then DONE;
 *                               prints "stores S"
 * URI is a window target (mem:ADDR,size=4K on the BMC, mem:OFF,size=4K,dev=FILE here); the
 * doorbell is its first word, go/stop the second. Each side gives up after 60 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mmio.h"
#include "core/platform.h"
#include "transport/target.h"

#define GO	0x60606060u
#define STOP	0x50505050u
#define DONE	0xffffffffu	/* no pattern(n): its halves are not each other's complement */
#define GIVE_UP	(60ull * 1000000000u)

static uint32_t pattern(uint32_t n)
{
	return (n & 0xffffu) | (~n & 0xffffu) << 16;
}

static int reader(volatile uint32_t *db, unsigned seconds)
{
	unsigned long long reads = 0, changes = 0, torn = 0;
	uint64_t t0 = fwp_now_ns(), end = t0 + (uint64_t)seconds * 1000000000u;
	uint32_t v, prev = 0;

	fwp_store_release(db, 0);
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
		if ((reads & 0xffff) == 0) {
			uint64_t now = fwp_now_ns();

			if (now > end)
				fwp_store_release(db + 1, STOP);
			if (now > t0 + GIVE_UP)
				break;
		}
	}
	fwp_store_release(db + 1, 0);
	printf("reads %llu changes %llu torn %llu%s\n", reads, changes, torn,
	       v == DONE ? "" : " (the writer never finished)");
	return torn || !changes || v != DONE;
}

static int writer(volatile uint32_t *db)
{
	uint64_t t0 = fwp_now_ns();
	uint32_t n;

	while (fwp_load_acquire(db + 1) != GO) {
		fwp_cpu_relax();
		if (fwp_now_ns() > t0 + GIVE_UP)
			return 1;
	}
	for (n = 1; ; n++) {
		fwp_store_release(db, pattern(n));
		if ((n & 0x3ff) == 0 && (fwp_load_acquire(db + 1) != GO || fwp_now_ns() > t0 + GIVE_UP))
			break;
	}
	fwp_store_release(db, DONE);
	printf("stores %u\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	struct fwp_target *t;
	int ret;

	if (!(argc == 4 && !strcmp(argv[1], "read")) && !(argc == 3 && !strcmp(argv[1], "write"))) {
		fprintf(stderr, "usage: torture read URI SECONDS | torture write URI\n");
		return 2;
	}
	ret = fwp_target_open(argv[2], &t);
	if (ret) {
		fprintf(stderr, "torture: %s: %s\n", argv[2], strerror(-ret));
		return 2;
	}
	ret = argc == 4 ? reader(fwp_target_base(t), (unsigned)atoi(argv[3]))
			: writer(fwp_target_base(t));
	fwp_target_close(t);
	return ret;
}
