/* SPDX-License-Identifier: MIT */
/*
 * The emulated BMC's non-volatile memory: two banks, PATH.a and PATH.b, and an activation
 * record in PATH.meta naming the active one (sequence number + checksum, two copies, written
 * alternately: a write torn at any byte leaves the previous record in force). An update is
 * written into the inactive bank and synced; writing the record is the one atomic switch.
 * PATH is a symbolic link to the active bank, re-made from the record on open. Each bank stays
 * mapped, so after the first update writing an image is one copy with no page faults.
 */
#ifndef FWP_FLASH_H
#define FWP_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "fwpush/bmc.h"

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

/* The file flash as a BMC's flash backend (ctx: a struct fwp_flash). */
extern const struct fwp_flash_ops fwp_file_flash_ops;

/* Removes every file of the flash at path. */
int fwp_flash_remove(const char *path);

#endif
