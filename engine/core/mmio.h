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
/*
 * On 32-bit Arm a C11 acquire or release is `dmb ish`: ordered for the inner shareable domain,
 * the CPUs, only. A BMC's peer is not a CPU: the host writes and reads the BMC's DRAM through
 * the PCIe bridge, a bus master outside that domain, so the barrier is `dmb osh` there, as
 * Linux's dma_rmb()/dma_wmb() (PROTOCOL.md 9): stronger than C11 asks, the same single load
 * or store.
 */
#if defined(__arm__) && __ARM_ARCH >= 7
static inline uint32_t fwp_load_acquire(const volatile uint32_t *p)
{
	uint32_t v = __atomic_load_n(p, __ATOMIC_RELAXED);

	__asm__ __volatile__("dmb osh" ::: "memory");
	return v;
}

static inline void fwp_store_release(volatile uint32_t *p, uint32_t v)
{
	__asm__ __volatile__("dmb osh" ::: "memory");
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}
#else
static inline uint32_t fwp_load_acquire(const volatile uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void fwp_store_release(volatile uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}
#endif

/*
 * Orders earlier (also non-temporal / write-combining) stores before a doorbell store, on a
 * window that is device memory. On Arm not a C11 fence (`dmb ish`, the CPUs only: see above)
 * but a full-system `dmb sy` (32-bit) or `dmb osh` (64-bit), as Linux's wmb()/dma_wmb().
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
/* What fwp_io_copy is where it is not x86, built everywhere so that unit-io checks it here. */
void fwp_io_copy_words(void *dst, const void *src, size_t n);

/*
 * Copies out of device memory (a window that is not cached memory): on x86 an ordinary copy
 * (uncached loads of any width are allowed); elsewhere aligned single 32-bit loads, never
 * memcpy, whose unaligned or multi-register loads may fault or tear on Arm Device memory.
 */
void fwp_io_read(void *dst, const void *src, size_t n);
void fwp_io_read_words(void *dst, const void *src, size_t n);	/* its non-x86 way, tested */

static inline void fwp_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	_mm_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
	__asm__ __volatile__("yield");	/* a hint to an SMT core or a hypervisor: cheap */
#endif
}

#endif
