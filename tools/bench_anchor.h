/* SPDX-License-Identifier: MIT */
/*
 * fwpush bench's anchor: an emulation of the tool users would otherwise use, burn_my_bmc
 * (openbmc/phosphor-ipmi-flash) over the PCI window, run against a small emulated BMC process.
 * See bench_anchor.c for the flow and its sources.
 */
#ifndef FWP_BENCH_ANCHOR_H
#define FWP_BENCH_ANCHOR_H

#include <stdint.h>

#include "fwpush/hash.h"

enum { CLI_ANCHOR_WINDOW = 64 << 10 };	/* ASPEED P2A: the data window at BAR1 + 0x10000 */

struct cli_anchor;

/*
 * Starts the emulated BMC (a child process sharing one 64 KiB window and a UNIX socket with
 * us) that stages into staging and updates flash; 0 or -errno.
 */
int cli_anchor_start(const char *flash, const char *staging, struct cli_anchor **out);

/*
 * One whole update of image: upload chunk by chunk, verify (the BMC hashes its staging file
 * against want, the signature prepared beforehand), update (the BMC copies it into flash).
 * *ns: the time from opening the image to the update's answer. 0 or -errno (-EBADMSG: the
 * verify step failed).
 */
int cli_anchor_push(struct cli_anchor *a, const char *image, const struct fwp_hash128 *want,
		    uint64_t *ns);

/* Ends the BMC process and removes its flash and staging files; a NULL a: nothing to do. */
void cli_anchor_stop(struct cli_anchor *a);

#endif
