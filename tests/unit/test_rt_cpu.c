/* SPDX-License-Identifier: MIT */
/*
 * The save / clobber / restore mechanism on a real thread: a workload holds known values in
 * rbx, r12-r15 and every vector register; a signal saves its state (registers from the frame,
 * XSAVE of the extended state), clobbers the live registers and the frame, then restores from
 * the saved copy. The workload must end with its values intact. Without the restore it must
 * not: the control case shows the check can fail.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "rt_cpu.h"

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

/* Returns what fwp_workload_check says after one interrupted run. */
static int one_run(int restore, uint64_t seed)
{
	struct fwp_workload *w = aligned_alloc(64, sizeof(*w));
	pthread_t t;
	size_t vec;
	int ret;

	vec = fwp_workload_init(w, &xi, seed);
	stop = 0;
	handled = 0;
	do_restore = restore;
	w->stop = &stop;
	pthread_create(&t, NULL, worker, w);
	while (!w->in_loop)
		;
	pthread_kill(t, SIGUSR1);
	while (!handled)
		;
	stop = 1;
	pthread_join(t, NULL);
	ret = fwp_workload_check(w, vec);
	free(w);
	return ret;
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };
	int i;

	if (fwp_xsave_probe(&xi)) {
		printf("no XSAVE here: skipped\n");
		return 77;
	}
	printf("XSAVE mask %#llx, area %u bytes, avx %d, avx512 %d\n",
	       (unsigned long long)xi.mask, xi.size, xi.avx, xi.avx512);
	CHECK(xi.size >= 576);		/* legacy area + header at least */
	area = aligned_alloc(64, (xi.size + 63) & ~63u);
	sigaction(SIGUSR1, &sa, NULL);
	for (i = 0; i < 20; i++)
		CHECK_EQ(one_run(1, i), 0);
	CHECK_EQ(one_run(0, 99), -1);	/* the control: clobbered and not restored */
	free(area);
	return check_done("test_rt_cpu");
}
