/* SPDX-License-Identifier: MIT */
/*
 * Processor state for the runtime update: the XSAVE layout (CPUID leaf 0xD), saving and
 * restoring through a signal frame, and a workload that keeps known values live in general
 * and vector registers so a resume can be proven bit-exact.
 */
#ifndef FWP_RT_CPU_H
#define FWP_RT_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <ucontext.h>

#define FWP_RT_GREGS	23	/* NGREG on x86-64 */

struct fwp_xsave_info {
	uint64_t mask;		/* XCR0: the user state components the OS enabled */
	uint32_t size;		/* XSAVE area for them, standard format */
	uint32_t ymm_offset;	/* upper halves of ymm0-15 (component 2), 0 if none */
	uint32_t ymm_size;
	bool avx;
	bool avx512;
};

/* 0, or -ENOTSUP when the CPU or OS has no XSAVE. */
int fwp_xsave_probe(struct fwp_xsave_info *xi);

/*
 * In a signal handler: the interrupted state into gregs and the 64-byte-aligned xsave area
 * (XRSTOR from the frame, XSAVE into the area), and back (XRSTOR from the area, XSAVE into the
 * frame). -EPROTO if the frame carries no XSAVE state.
 */
int fwp_state_save(const struct fwp_xsave_info *xi, ucontext_t *uc, uint64_t *gregs,
		   void *area);
int fwp_state_restore(const struct fwp_xsave_info *xi, ucontext_t *uc, const uint64_t *gregs,
		      const void *area);

/* One XSAVE then XRSTOR of the live state through area: the raw cost, for the benchmark. */
void fwp_xsave_cycle(const struct fwp_xsave_info *xi, void *area);

/* Overwrites the live vector registers and the frame's copy of everything the workload holds. */
void fwp_state_clobber(const struct fwp_xsave_info *xi, ucontext_t *uc);

/* The values one workload keeps live; in: set before, out: read after the loop ends. */
struct fwp_workload {
	uint64_t gp_in[5];		/* rbx, r12..r15 */
	uint64_t gp_out[5];
	_Alignas(64) uint8_t vec_in[32][64];	/* zmm0-31, or ymm0-15, or xmm0-15 */
	_Alignas(64) uint8_t vec_out[32][64];
	volatile int in_loop;		/* set by the workload once its registers are loaded */
	const volatile int *stop;	/* the loop ends when *stop != 0 */
};

/* Fills in with a pattern unique to seed; returns the bytes of vector state it covers. */
size_t fwp_workload_init(struct fwp_workload *w, const struct fwp_xsave_info *xi, uint64_t seed);
/* Loads, spins until *w->stop, stores: the registers must come back unchanged. */
void fwp_workload_run(struct fwp_workload *w, const struct fwp_xsave_info *xi);
/* 0 if out equals in. */
int fwp_workload_check(const struct fwp_workload *w, size_t vec_bytes);

#endif
