/* SPDX-License-Identifier: MIT */
/*
 * Typed accessors for the shared window. Every doorbell access goes through these: an acquire
 * load before reading what the peer wrote, a release store after writing what the peer reads.
 */
#ifndef FWP_MMIO_H
#define FWP_MMIO_H

#include <stddef.h>
#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/*
 * The window's polled words are aligned 32-bit words: one load or store each, single-copy
 * atomic on a 32-bit BMC too (PROTOCOL.md 9).
 */
static inline uint32_t fwp_load_acquire(const volatile uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void fwp_store_release(volatile uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/*
 * Orders earlier (also non-temporal / write-combining) stores before a doorbell store, on a
 * window that is device memory. On Arm a C11 release fence is `dmb ish`: the inner shareable
 * domain, the CPUs. The reader of a BMC's window is not among them: it is the host, reading the
 * BMC's DRAM through the PCIe bridge (a bus master of the system), so Arm needs a full-system
 * `dmb sy` (32-bit; all accesses: the slot's loads before the host may reuse it too) or
 * `dmb osh` (64-bit), as Linux's dma_wmb()/wmb() (PROTOCOL.md 9).
 */
static inline void fwp_wc_fence(void)
{
#if defined(__x86_64__) || defined(__i386__)
	_mm_sfence();
#elif defined(__arm__) && __ARM_ARCH >= 7
	__asm__ __volatile__("dmb sy" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb osh" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/*
 * Copies into device memory (a BAR) with streaming stores: whole lines, never a read of the
 * destination (a read across PCIe costs about a microsecond). fwp_wc_fence() before the doorbell.
 * Elsewhere than x86 (a 32-bit Arm BMC's window, mapped as Device memory): aligned single 32-bit
 * stores, never memcpy, whose unaligned, multi-register or vector accesses may fault or tear
 * on Device memory (TCG does not check them; silicon does).
 */
void fwp_io_copy(void *dst, const void *src, size_t n);

static inline void fwp_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	_mm_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
	__asm__ __volatile__("yield");	/* a hint to an SMT core or a hypervisor: cheap */
#endif
}

#endif
