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

#include <stdbool.h>
#include <stdint.h>

struct fwp_flash;
struct fwp_nor_model;

/* nor: NULL, or a timing model to follow (a thread paces erase and program). */
int fwp_flash_open(const char *path, const struct fwp_nor_model *nor, struct fwp_flash **out);
void fwp_flash_close(struct fwp_flash *f);

/* Sizes the inactive bank for an image of size bytes and returns where to write it. */
int fwp_flash_begin(struct fwp_flash *f, uint64_t size, unsigned char **staging);

/* The first upto bytes of the image are in the inactive bank: the part may program them. */
void fwp_flash_received(struct fwp_flash *f, uint64_t upto);

/*
 * 1 if the part has programmed the first upto bytes, or is within its buffer of them
 * (ahead = true: may the BMC take upto bytes in?); 0 if not yet. Always 1 without a model.
 */
int fwp_flash_ready(struct fwp_flash *f, uint64_t upto, bool ahead);

/* Syncs the inactive bank and makes it the active image (call once fwp_flash_ready). */
int fwp_flash_commit(struct fwp_flash *f);

#endif
