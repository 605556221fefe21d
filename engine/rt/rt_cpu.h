/* SPDX-License-Identifier: MIT */
/*
 * Processor state for the runtime update: the XSAVE layout (CPUID leaf 0xD), saving and
 * restoring through a signal frame, and a workload that keeps known values live in general,
 * vector and (with AVX-512) opmask registers so a resume can be proven bit-exact.
 */
#ifndef FWP_RT_CPU_H
#define FWP_RT_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <ucontext.h>

#define FWP_RT_GREGS	23	/* NGREG on x86-64 */
/* x87, SSE, AVX, (2 of MPX), opmask, ZMM_Hi256, Hi16_ZMM */
#define FWP_XSTATE_COMPONENTS	8

struct fwp_xsave_info {
	uint64_t mask;		/* XCR0: the user state components the OS enabled, of 0xe7 */
	uint32_t size;		/* XSAVE area for them, standard format */
	/* Where component i (2..7, in mask) lies in the standard format: CPUID 0xD, ECX = i. */
	uint32_t comp_offset[FWP_XSTATE_COMPONENTS];
	uint32_t comp_size[FWP_XSTATE_COMPONENTS];
	bool avx;
	bool avx512;
	bool avx512bw;		/* 64-bit opmask moves (kmovq); without it, 16 bits (kmovw) */
};

/* 0, or -ENOTSUP when the CPU or OS has no XSAVE. */
int fwp_xsave_probe(struct fwp_xsave_info *xi);

/*
 * In a signal handler: the interrupted state into gregs and the 64-byte-aligned xsave area
 * (xi->size + FP_XSTATE_MAGIC2_SIZE bytes), and back. The kernel has already XSAVEd the
 * interrupted extended state into the frame, so the save copies the frame's XSAVE image (and
 * the FP_XSTATE_MAGIC2 after it); the restore points the context's fpregs at area, so that
 * sigreturn XRSTORs the state from the slot itself: no second XSAVE/XRSTOR pair and no copy
 * back. area must stay mapped until then. -EPROTO if the frame carries no XSAVE state.
 */
int fwp_state_save(const struct fwp_xsave_info *xi, ucontext_t *uc, uint64_t *gregs,
		   void *area);
int fwp_state_restore(const struct fwp_xsave_info *xi, ucontext_t *uc, const uint64_t *gregs,
		      void *area);

/*
 * Makes frame (xi->size bytes, 64-byte aligned) look like the extended state the kernel puts
 * in a signal frame: the live state, with every component a workload holds (SSE, AVX, opmask,
 * ZMM_Hi256, Hi16_ZMM) set to non-init values, so that XRSTOR and XSAVE move all of it. A
 * ucontext whose uc_mcontext.fpregs points at it can go through fwp_state_save and
 * fwp_state_restore outside a handler: the benchmark's bare cost of the same work.
 */
void fwp_xsave_frame(const struct fwp_xsave_info *xi, void *frame);

/*
 * The floor under any save and restore of this state, for the benchmark: loads frame's state
 * (fwp_xsave_frame) into the registers, then times reps XSAVEs of it into area and reps XRSTORs
 * of it from there, in TSC ticks (fwp_rt_stamp), for the lot of each.
 */
void fwp_xsave_floor(const struct fwp_xsave_info *xi, const void *frame, void *area,
		     unsigned reps, uint64_t *xsave_ticks, uint64_t *xrstor_ticks);

/*
 * Time stamps inside the sequence: the TSC, a dozen nanoseconds to read where clock_gettime
 * takes 100 or more on a guest, converted once the sequence is over. Invariant and synchronised
 * across CPUs where the kernel's clocksource is the TSC.
 */
uint64_t fwp_rt_stamp(void);

/* Nanoseconds per TSC tick, calibrated against CLOCK_MONOTONIC over 2 ms on the first call. */
double fwp_rt_stamp_ns(void);

/*
 * Overwrites, in the frame, rbx, r12-r15 and every state component a workload holds (marked
 * present in XSTATE_BV, so a sigreturn loads the garbage, not the init state), and the live
 * vector and opmask registers: after it, only a restore from the slot brings the values back.
 */
void fwp_state_clobber(const struct fwp_xsave_info *xi, ucontext_t *uc);

/* The values one workload keeps live; in: set before, out: read after it ends. */
struct fwp_workload {
	uint64_t gp_in[5];		/* rbx, r12..r15 */
	uint64_t gp_out[5];
	uint64_t k_in[8];		/* k0-k7 with AVX-512 (16 bits of each without BW), else 0 */
	uint64_t k_out[8];
	_Alignas(64) uint8_t vec_in[32][64];	/* zmm0-31, or ymm0-15, or xmm0-15 */
	_Alignas(64) uint8_t vec_out[32][64];
	unsigned nvec;			/* vector registers held */
	unsigned width;			/* bytes of each: 64, 32 or 16 */
	volatile int in_loop;		/* set by the workload once its registers are loaded */
	const volatile int *stop;	/* the loop ends when *stop != 0 */
};

/* Fills in with a pattern unique to seed; returns the bytes of vector state it covers. */
size_t fwp_workload_init(struct fwp_workload *w, const struct fwp_xsave_info *xi, uint64_t seed);
/* Loads, spins until *w->stop, stores: the registers must come back unchanged. */
void fwp_workload_run(struct fwp_workload *w, const struct fwp_xsave_info *xi);
/*
 * A processor that runs the sequence itself (the controller) is not sent a signal: its
 * workload traps into fn at the point where a signal would find it, and the trap does in
 * userspace what the kernel does for a signal. Every general register into uc's gregs, an
 * XSAVE of the live extended state (the components in mask) into the frame uc_mcontext.fpregs
 * points at, fn(sig, NULL, &uc) on the same stack below the red zone; then an XRSTOR from the
 * frame and every general register back from gregs. fn sees what a signal handler sees and may
 * change it the same way (fwp_state_save, fwp_state_clobber, fwp_state_restore).
 */
struct fwp_rt_trap {
	ucontext_t uc;
	void (*fn)(int, siginfo_t *, void *);
	int sig;
	uint64_t mask;
};

/*
 * frame: xi->size + FP_XSTATE_MAGIC2_SIZE bytes, 64-byte aligned, zeroed and marked like a
 * kernel's signal frame (the software bytes' magic and xstate_size, MAGIC2 after the image) so
 * fwp_state_save finds its XSAVE image.
 */
void fwp_rt_trap_init(struct fwp_rt_trap *t, const struct fwp_xsave_info *xi, void *frame,
		      void (*fn)(int, siginfo_t *, void *), int sig);
/* Loads, traps into t->fn as above (the workload's values live in what it saves), stores. */
void fwp_workload_trap(struct fwp_workload *w, const struct fwp_xsave_info *xi,
		       struct fwp_rt_trap *t);
/* 0 if every register came back equal, -1 if any differs. */
int fwp_workload_check(const struct fwp_workload *w);

#endif
