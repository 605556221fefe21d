/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD for rt_race.sh: widens the gap a process leaves between two exclusive flock()s.
 * With FWPT_FLOCK_GAP=PATH in the environment, the second exclusive flock() of the process
 * creates PATH and waits (up to 5 s) until the test removes it. `rt-update IMAGE --flash` takes
 * the state area once and holds it through stage and activation, so it never gets here; one that
 * let go between the two would, and the test stages something else into the gap.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

int flock(int fd, int op)
{
	static int (*real)(int, int);
	static int exclusive;
	const char *gap = getenv("FWPT_FLOCK_GAP");
	int i, mark;

	if (!real)
		real = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
	if (gap && (op & LOCK_EX) && ++exclusive == 2) {
		mark = open(gap, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (mark >= 0)
			close(mark);
		for (i = 0; i < 500 && !access(gap, F_OK); i++)
			usleep(10000);
	}
	return real(fd, op);
}
