/* SPDX-License-Identifier: MIT */
/*
 * Waiting on a peer without system calls on the fast path: spin with a pause instruction while
 * the peer is quick, then sleep with growing intervals so a slow or descheduled peer does not
 * make us burn a core.
 */
#ifndef FWP_POLL_H
#define FWP_POLL_H

#include <stdint.h>

#include "core/mmio.h"
#include "core/platform.h"

struct fwp_backoff {
	uint32_t spins;
	uint32_t sleep_ns;
};

#define FWP_SPIN_LIMIT		(1u << 14)	/* about 0.1-0.5 ms of pause instructions */
#define FWP_SLEEP_MAX_NS	1000000u

static inline void fwp_backoff_reset(struct fwp_backoff *b)
{
	b->spins = 0;
	b->sleep_ns = 0;
}

/* Called between two failed polls. */
void fwp_backoff_wait(struct fwp_backoff *b);

#endif
