/* SPDX-License-Identifier: MIT */
/*
 * The options after a PCI target's device, ",bar=N,offset=O", the same on every platform that
 * names a window in a BAR (Linux's pci:, vfio:, dpdk:; fwpush.efi's pci:).
 */
#ifndef FWP_BAR_OPTS_H
#define FWP_BAR_OPTS_H

#include <stdbool.h>
#include <stdint.h>

struct fwp_bar_opts {
	int bar;		/* -1: not given */
	uint64_t offset;	/* a multiple of a page */
	bool offset_given;	/* else the window is searched for in the BAR (PROTOCOL.md 1.3) */
};

/*
 * Parses opt: "" or ",name=value" pairs, each name at most once in effect (a later one wins),
 * values as fwp_parse_size() reads them. -EINVAL: malformed, an unknown name, a BAR past 5, an
 * offset that is not a multiple of a page.
 */
int fwp_bar_opts_parse(const char *opt, struct fwp_bar_opts *o);

#endif
