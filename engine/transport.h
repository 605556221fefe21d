/* SPDX-License-Identifier: MIT */
/* The transport ops table behind include/fwpush/target.h. */
#ifndef FWP_TRANSPORT_H
#define FWP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "fwpush/target.h"

struct fwp_target {
	const struct fwp_transport_ops *ops;
	void *base;
	size_t size;
	unsigned flags;
	int fd;
	bool created;
	char *uri;
	const char *arg;	/* points into uri, after "scheme:" */
};

struct fwp_transport_ops {
	const char *scheme;
	/* Map an existing window into t->base/t->size and set t->flags. */
	int (*open)(struct fwp_target *t);
	/* Create the window memory; NULL if the transport cannot. */
	int (*create)(struct fwp_target *t, size_t size);
	/* Undo open/create; must cope with a half-opened target. */
	void (*close)(struct fwp_target *t);
	/* 1 if a BMC is attached to the window, 0 if not; NULL if the transport cannot tell. */
	int (*peer_alive)(const struct fwp_target *t);
};

extern const struct fwp_transport_ops fwp_transport_shm;

#endif
