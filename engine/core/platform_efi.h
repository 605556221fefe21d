/* SPDX-License-Identifier: MIT */
/*
 * The core's platform in a UEFI application (see core/platform.h, engine/efi/): the clock is
 * the TSC, its rate measured once against the firmware's Stall() when the application starts;
 * a sleep is Stall(), which boot services implement as a calibrated busy wait (there is no
 * scheduler to give the processor to before ExitBootServices).
 */
#ifndef FWP_PLATFORM_EFI_H
#define FWP_PLATFORM_EFI_H

#include <stdint.h>

/* Set by fwp_efi_clock_init(): nanoseconds per TSC tick, in 32.32 fixed point. */
extern uint64_t fwp_efi_ns_per_tick;
/* Boot services' Stall(), in microseconds. */
void fwp_efi_stall_us(uint32_t us);

static inline uint64_t fwp_now_ns(void)
{
	uint32_t lo, hi;
	uint64_t t;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	t = (uint64_t)hi << 32 | lo;
	/* 128-bit product: a TSC of GHz rate overflows 64 bits x 2^32 within seconds. */
	return (uint64_t)(((unsigned __int128)t * fwp_efi_ns_per_tick) >> 32);
}

static inline void fwp_sleep_ns(uint32_t ns)
{
	fwp_efi_stall_us(ns < 1000 ? 1 : ns / 1000);
}

#endif
