/* SPDX-License-Identifier: MIT */
/*
 * The emulated BMC's non-volatile memory: two banks, the active image at PATH and the inactive
 * one at PATH.staging. An update is written into the inactive bank, synced, then the two names
 * are swapped atomically (renameat2 RENAME_EXCHANGE), so PATH is always a whole image: the old
 * one or the new one. Each bank stays mapped, so after the first update the inactive bank's
 * pages exist and writing an image is one copy with no page faults, as on real flash.
 */
#ifndef FWP_FLASH_H
#define FWP_FLASH_H

#include <stdint.h>

struct fwp_flash;

int fwp_flash_open(const char *path, struct fwp_flash **out);
void fwp_flash_close(struct fwp_flash *f);

/* Sizes the inactive bank for an image of size bytes and returns where to write it. */
int fwp_flash_begin(struct fwp_flash *f, uint64_t size, unsigned char **staging);

/* Syncs the inactive bank and makes it the active image. */
int fwp_flash_commit(struct fwp_flash *f);

#endif
