/* SPDX-License-Identifier: MIT */
/*
 * The emulated BMC's non-volatile memory: two banks, PATH.a and PATH.b, and an activation
 * record in PATH.meta naming the active one (sequence number + checksum, two copies, written
 * alternately: a write torn at any byte leaves the previous record in force). An update is
 * written into the inactive bank and synced; writing the record is the one atomic switch.
 * PATH is a symbolic link to the active bank, re-made from the record on open. Each bank stays
 * mapped, so after the first update writing an image is one copy with no page faults.
 *
 * Storage errors (a full filesystem, out of inodes, I/O errors) come back as negative errnos
 * with the active image, the record and PATH as they were: space is reserved (fallocate)
 * before anything is written into the mapped bank, and the inode of the next view is taken
 * before the switch. One process at a time may have a flash open.
 */
#ifndef FWP_FLASH_H
#define FWP_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "fwpush/bmc.h"

struct fwp_flash;
struct fwp_nor_model;

/*
 * nor: NULL, or a timing model to follow (a thread paces erase and program). Takes the
 * flash's writer lock (an OFD lock on PATH.meta) first: -EBUSY if another open flash holds
 * it, in this process or another (a bmc-sim, an rt-update).
 */
int fwp_flash_open(const char *path, const struct fwp_nor_model *nor, struct fwp_flash **out);
/* Gives back what an image never committed holds (fwp_flash_release), drops the lock. */
void fwp_flash_close(struct fwp_flash *f);

/*
 * Prepares the inactive bank for an image of size bytes, all of it reserved (and faulted in)
 * now, and returns where to write it. For a writer that fills the bank at once (rt-update);
 * the BMC's fwp_file_flash_ops reserve a bounded step ahead of its writes instead.
 */
int fwp_flash_begin(struct fwp_flash *f, uint64_t size, unsigned char **staging);

/*
 * The image being prepared ends at size, no more than it was begun with (a writer that learns
 * the length only at the end: a multipart upload). -EINVAL otherwise.
 */
int fwp_flash_shrink(struct fwp_flash *f, uint64_t size);

/* Abandons the image being prepared: its bank is cut to 0 bytes, its next view removed. */
void fwp_flash_release(struct fwp_flash *f);

/* Called between the steps of a long preparation or switch (the BMC beats its heartbeat). */
void fwp_flash_set_beat(struct fwp_flash *f, void (*beat)(void *arg), void *arg);

/* The first upto bytes of the image are in the inactive bank: the part may program them. */
void fwp_flash_received(struct fwp_flash *f, uint64_t upto);

/*
 * 1 if the part has programmed the first upto bytes, or is within its buffer of them
 * (ahead = true: may the BMC take upto bytes in?); 0 if not yet. Always 1 without a model.
 * First reserves the bank a step beyond upto: a negative errno if that fails (disk full).
 */
int fwp_flash_ready(struct fwp_flash *f, uint64_t upto, bool ahead);

/*
 * Syncs the inactive bank and makes it the active image (call once fwp_flash_ready). On an
 * error the previous image stays active, in the record and in PATH.
 */
int fwp_flash_commit(struct fwp_flash *f);

/*
 * The activation record, the one switch between two banks (flash.c in PATH.meta, flash_mtd.c
 * in two erase blocks of the device): two copies, an update writes the copy the record in
 * force is not in, so a write torn at any byte leaves the current one whole and the torn one
 * fails its check.
 */
struct fwp_flash_rec {
	uint64_t magic;
	uint64_t seq;		/* 0: no image activated yet */
	uint32_t bank;		/* 0 or 1 */
	uint32_t reserved;
	uint64_t size;		/* of the image in that bank */
	uint64_t check;		/* XXH3-64 of the fields above */
};

/* Sets magic and check over seq, bank and size. */
void fwp_flash_rec_seal(struct fwp_flash_rec *r);
/* The record in force: the valid copy with the higher seq; seq 0 if neither is valid. */
struct fwp_flash_rec fwp_flash_rec_pick(const struct fwp_flash_rec *a,
					const struct fwp_flash_rec *b);

/* The erase block: the NOR model's sector, or 64 KiB without one (PROTOCOL.md 14.1). */
uint32_t fwp_flash_block(const struct fwp_flash *f);

/*
 * The bytes a bank holds, mapped: the active image (active = true; *size 0 if none yet), or
 * whatever the inactive bank holds now. For reading: the inactive bank is the image being
 * written, if one is. A negative errno if the bank cannot be read.
 */
int fwp_flash_bank(struct fwp_flash *f, bool active, const unsigned char **p, uint64_t *size);

/* The file flash as a BMC's flash backend (ctx: a struct fwp_flash). */
extern const struct fwp_flash_ops fwp_file_flash_ops;

/* Removes every file of the flash at path. */
int fwp_flash_remove(const char *path);

#endif
