/* SPDX-License-Identifier: MIT */
#include "core/poll.h"

void fwp_backoff_wait(struct fwp_backoff *b)
{
	if (b->spins < FWP_SPIN_LIMIT) {
		b->spins++;
		fwp_cpu_relax();
		return;
	}
	b->sleep_ns = b->sleep_ns ? b->sleep_ns * 2 : 1000;
	if (b->sleep_ns > FWP_SLEEP_MAX_NS)
		b->sleep_ns = FWP_SLEEP_MAX_NS;
	fwp_sleep_ns(b->sleep_ns);
}
