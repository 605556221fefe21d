/* SPDX-License-Identifier: MIT */
/*
 * All that the core asks of the platform it runs on: a monotonic clock and a short sleep.
 * Everything else in core/ is plain C11 over memory, so the same sources build for Linux and
 * for a UEFI application; a second platform supplies only its own platform_*.h here.
 */
#ifndef FWP_PLATFORM_H
#define FWP_PLATFORM_H

#include <stdint.h>

/* Nanoseconds on a clock that never goes back; the start is arbitrary. */
static inline uint64_t fwp_now_ns(void);
/* Gives the processor away for about ns nanoseconds (ns < 1 s). */
static inline void fwp_sleep_ns(uint32_t ns);

#ifdef FWP_PLATFORM_EFI
#include "core/platform_efi.h"
#else
#include "core/platform_linux.h"
#endif

#endif
