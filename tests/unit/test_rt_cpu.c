/* SPDX-License-Identifier: MIT */
/*
 * The save / clobber / restore mechanism on a real thread: a workload holds known values in
 * rbx, r12-r15, every vector register and (with AVX-512) k0-k7; a signal saves its state
 * (registers from the frame, XSAVE of the extended state), clobbers the live registers and the
 * frame, then restores from the saved copy. The workload must end with its values intact.
 *
 * Registers are compared part by part: each general register, each k register, each 16-byte
 * lane of each vector register (xmm, the upper ymm half, the two upper zmm quarters, zmm16-31).
 * After a restore every part must be back; in the control, run without the restore, every part
 * must have changed. So a restore that skips a state component fails the restored runs (the
 * clobbered frame stays in force), and a clobber that misses one fails the control (without it
 * the first could pass). Both kinds of workload are run: one spinning until another thread's
 * signal (a worker), one trapping into the handler itself (the controller: fwp_workload_trap).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "rt/rt_cpu.h"

static struct fwp_xsave_info xi;
static uint64_t gregs[FWP_RT_GREGS];
static void *area;
static int do_restore;
static volatile int stop, handled;

static void handler(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	if (fwp_state_save(&xi, ctx, gregs, area))
		return;
	fwp_state_clobber(&xi, ctx);
	if (do_restore)
		fwp_state_restore(&xi, ctx, gregs, area);
	handled = 1;
}

static void *worker(void *arg)
{
	fwp_workload_run(arg, &xi);
	return NULL;
}

static void *trapper(void *arg)
{
	struct fwp_rt_trap t;
	void *frame = aligned_alloc(64, (xi.size + FP_XSTATE_MAGIC2_SIZE + 63) & ~63u);

	fwp_rt_trap_init(&t, &xi, frame, handler, SIGUSR1);
	fwp_workload_trap(arg, &xi, &t);
	free(frame);
	return NULL;
}

/* One interrupted run of a workload (spinning, or trapping), its registers left in w. */
static struct fwp_workload *one_run(int self, int restore, uint64_t seed)
{
	struct fwp_workload *w = aligned_alloc(64, sizeof(*w));
	pthread_t t;

	fwp_workload_init(w, &xi, seed);
	memset(area, 0, xi.size + FP_XSTATE_MAGIC2_SIZE);	/* nothing left from a run before */
	stop = 0;
	handled = 0;
	do_restore = restore;
	w->stop = &stop;
	if (self) {
		pthread_create(&t, NULL, trapper, w);
	} else {
		pthread_create(&t, NULL, worker, w);
		while (!w->in_loop)
			;
		pthread_kill(t, SIGUSR1);
		while (!handled)
			;
		stop = 1;
	}
	pthread_join(t, NULL);
	CHECK(handled);
	return w;
}

/*
 * Each part of the workload's registers (a general register, a k register, a 16-byte lane of a
 * vector register) whose in and out are equal (same) or differ (!same), named on stderr with
 * why; the count.
 */
static int parts(const struct fwp_workload *w, int same, const char *what, const char *why)
{
	static const char *const lane[] = { "bytes 0-15 (xmm)", "bytes 16-31 (upper ymm)",
					    "bytes 32-47 (upper zmm)", "bytes 48-63 (upper zmm)" };
	static const char *const gp[] = { "rbx", "r12", "r13", "r14", "r15" };
	unsigned r, l;
	int n = 0;

	for (r = 0; r < 5; r++) {
		if ((w->gp_in[r] == w->gp_out[r]) == same) {
			fprintf(stderr, "%s: %s %s\n", what, gp[r], why);
			n++;
		}
	}
	for (r = 0; xi.avx512 && r < 8; r++) {
		if ((w->k_in[r] == w->k_out[r]) == same) {
			fprintf(stderr, "%s: k%u %s\n", what, r, why);
			n++;
		}
	}
	for (r = 0; r < w->nvec; r++) {
		for (l = 0; l < w->width / 16; l++) {
			const uint8_t *in = w->vec_in[r] + 16 * l, *out = w->vec_out[r] + 16 * l;

			if ((memcmp(in, out, 16) == 0) == same) {
				fprintf(stderr, "%s: vector register %u %s %s\n", what, r, lane[l],
					why);
				n++;
			}
		}
	}
	return n;
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };
	struct fwp_workload *w;
	int i, self;

	if (fwp_xsave_probe(&xi)) {
		printf("no XSAVE here: skipped\n");
		return 77;
	}
	printf("XSAVE mask %#llx, area %u bytes, avx %d, avx512 %d (bw %d)",
	       (unsigned long long)xi.mask, xi.size, xi.avx, xi.avx512, xi.avx512bw);
	for (i = 2; i < FWP_XSTATE_COMPONENTS; i++) {
		if (xi.mask >> i & 1)
			printf(", component %d at %u (%u bytes)", i, xi.comp_offset[i],
			       xi.comp_size[i]);
	}
	printf("\n");
	CHECK(xi.size >= 576);		/* legacy area + header at least */
	for (i = 2; i < FWP_XSTATE_COMPONENTS; i++) {
		if (xi.mask >> i & 1)
			CHECK(xi.comp_offset[i] >= 576 &&
			      xi.comp_offset[i] + xi.comp_size[i] <= xi.size);
	}
	area = aligned_alloc(64, (xi.size + FP_XSTATE_MAGIC2_SIZE + 63) & ~63u);
	sigaction(SIGUSR1, &sa, NULL);
	for (self = 0; self < 2; self++) {
		const char *kind = self ? "trapped" : "worker";

		for (i = 0; i < 10; i++) {
			w = one_run(self, 1, i);
			CHECK_EQ(parts(w, 0, kind, "differs after the restore"), 0);
			CHECK_EQ(fwp_workload_check(w), 0);
			free(w);
		}
		/* The controls: clobbered and not restored, every part must differ. */
		w = one_run(self, 0, 99);
		CHECK_EQ(fwp_workload_check(w), -1);
		CHECK_EQ(parts(w, 1, kind, "unchanged without a restore: not clobbered"), 0);
		free(w);
	}
	free(area);
	return check_done("test_rt_cpu");
}
