/* SPDX-License-Identifier: MIT */
/* The transport ops table behind include/fwpush/target.h. */
#ifndef FWP_TRANSPORT_H
#define FWP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwpush/pci.h"
#include "transport/target.h"

struct fwp_target {
	const struct fwp_transport_ops *ops;
	void *base;
	size_t size;
	unsigned flags;
	int fd;
	bool created;
	char *uri;
	const char *arg;	/* points into uri, after "scheme:" */
	void *map;		/* what to munmap: a BAR maps whole, the window may start inside */
	size_t map_len;
	void *priv;		/* the transport's own state */
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
	/* Register doorbells (target.h); each NULL where the transport has none (-ENOTSUP, 0). */
	int (*doorbell_setup)(struct fwp_target *t, uint32_t ring_value);
	uint32_t (*ring_value)(const struct fwp_target *t);
	int (*ring)(struct fwp_target *t);
	int (*wait)(struct fwp_target *t, uint64_t timeout_ns);
};

extern const struct fwp_transport_ops fwp_transport_shm;
extern const struct fwp_transport_ops fwp_transport_pci;
extern const struct fwp_transport_ops fwp_transport_vfio;
extern const struct fwp_transport_ops fwp_transport_mem;
/* dpdk: linked in (static builds) or the ops of module fwpush-dpdk.so (transport/module.h). */
extern const struct fwp_transport_ops fwp_transport_dpdk;

/* The command register in configuration space, and its memory-decoding bit. */
#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x02

/* A PCI target's arguments: BDF[,bar=N][,offset=O]. */
struct fwp_pci_loc {
	char bdf[FWP_PCI_BDF_LEN];
	unsigned bar;
	uint64_t offset;
	bool offset_given;	/* else the window is searched for in the BAR */
};

/* Parses a target's arguments (what follows "scheme:"); -EINVAL if malformed. */
int fwp_pci_loc_parse(const char *arg, struct fwp_pci_loc *loc);

/*
 * Checks, before anything is opened, that the device exists (-ENODEV), is bound to driver
 * (-ENXIO; NULL: any), and has memory BAR loc->bar (-ENOTSUP).
 */
int fwp_pci_check(const struct fwp_pci_loc *loc, const char *driver, struct fwp_pci_dev *d);

/* Keeps a mapped BAR in t and points the window at loc->offset inside it (-EMSGSIZE). */
int fwp_pci_place(struct fwp_target *t, void *map, size_t len, const struct fwp_pci_loc *loc);

#endif
