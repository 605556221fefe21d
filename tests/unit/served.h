/* SPDX-License-Identifier: MIT */
/*
 * A push into a real BMC served on a thread of its own, for the tests of a flash backend: the
 * BMC is made with the caller's options (its flash ops), the image at fd pushed through a real
 * window, and the BMC handed back still open, so the test can read its flash's state first.
 */
#ifndef FWP_SERVED_H
#define FWP_SERVED_H

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"
#include "fwpush/bmc.h"
#include "fwpush/push.h"

static volatile int served_stop;

static void *served_run(void *arg)
{
	fwp_bmc_run(arg, &served_stop);
	return NULL;
}

/* The push's result; *bmc: the BMC (destroy it), or NULL if it could not be made. */
static int push_served(const char *name, const struct fwp_bmc_opts *o, int fd,
		       const struct fwp_push_opts *po, struct fwp_push_result *res,
		       struct fwp_bmc **bmc)
{
	struct fwp_host *h;
	char uri[64];
	pthread_t t;
	int ret;

	snprintf(uri, sizeof(uri), "shm:%s-%d", name, (int)getpid());
	*bmc = NULL;
	ret = fwp_bmc_create(uri, NULL, o, bmc);
	CHECK_EQ(ret, 0);
	if (ret)
		return ret;
	served_stop = 0;
	pthread_create(&t, NULL, served_run, *bmc);
	ret = fwp_host_open(uri, 5000, &h);
	CHECK_EQ(ret, 0);
	if (!ret) {
		ret = fwp_host_push(h, fd, po, res);
		fwp_host_close(h);
	}
	served_stop = 1;
	pthread_join(t, NULL);
	return ret;
}

#endif
