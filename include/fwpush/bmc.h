/* SPDX-License-Identifier: MIT */
/*
 * The emulated BMC: formats a window, polls its host doorbells, stores pushed images into a
 * flash file and answers every message. Behaves as docs/PROTOCOL.md says a BMC must.
 */
#ifndef FWPUSH_BMC_H
#define FWPUSH_BMC_H

#include <stddef.h>
#include <stdint.h>

#include "fwpush/wire.h"

#ifdef __cplusplus
extern "C" {
#endif
/* What this header declares is libfwpush's ABI: exported from libfwpush.so. */
#pragma GCC visibility push(default)

struct fwp_bmc;

/* How a session ended, for whoever runs the BMC to log. */
struct fwp_bmc_session {
	uint64_t image_size;
	uint64_t bytes_received;
	uint32_t chunk_size;
	uint32_t component;
	uint16_t status;	/* FWP_ST_OK: stored, synced and activated */
	uint16_t failed_type;	/* the message that ended it, when status != OK */
	struct fwp_hash128 image_hash;
	uint64_t ns;		/* START_UPGRADE to the last answer */
};

/*
 * Timing of a NOR flash part: sectors are erased, then programmed, one after another. The BMC
 * holds at most buffer bytes received but not yet programmed, and acknowledges FINISH only
 * once every byte is programmed. scale multiplies every delay (0.01: a hundred times faster
 * than the part, so benchmarks finish in seconds).
 */
struct fwp_nor_model {
	uint32_t erase_size;		/* bytes per erase sector */
	uint32_t buffer;		/* bytes the BMC may hold ahead of the flash */
	double erase_ms;		/* per sector */
	double program_mbps;		/* MB/s (10^6 bytes) */
	double scale;
};

/* "nor" or "nor:erase=64K,erase-ms=160,program-mbps=2,buffer=8M,scale=0.01"; -EINVAL. */
int fwp_nor_parse(const char *spec, struct fwp_nor_model *m);
/* The part's own time to erase and program size bytes, scale applied. */
uint64_t fwp_nor_time_ns(const struct fwp_nor_model *m, uint64_t size);

/*
 * Where a BMC keeps its images. The default is the emulated A/B flash in files (flash_path);
 * a BMC's own firmware plugs in its storage (MTD partitions, eMMC) with these operations, all
 * called from the thread running fwp_bmc_run. 0 or a negative errno; any error becomes the
 * status STORAGE_ERROR and leaves the active image as it was.
 */
struct fwp_flash_ops {
	/*
	 * Prepares the inactive bank for an image of size bytes. *staging: memory the BMC
	 * writes the image into directly (a mapped bank), or NULL: the bytes come through store.
	 */
	int (*begin)(void *ctx, uint64_t size, unsigned char **staging);
	/*
	 * Bytes [off, off + len) of the image are at p, in order, each exactly once per session,
	 * already checked against the host's hash. With staging, p is inside it: a notice only.
	 */
	int (*store)(void *ctx, uint64_t off, const void *p, size_t len);
	/*
	 * 1 once the part holds the first upto bytes (ahead: once the BMC may take upto bytes
	 * in, for a part that programs behind a buffer), else 0. NULL: always 1.
	 */
	int (*ready)(void *ctx, uint64_t upto, int ahead);
	/*
	 * Makes the whole image durable and the active one, atomically: until it returns 0 the
	 * previous image is the active one, whatever happens (power cut included).
	 */
	int (*commit)(void *ctx);
	void (*close)(void *ctx);	/* at fwp_bmc_destroy; NULL: nothing to do */
};

struct fwp_bmc_opts {
	size_t sz;			/* sizeof(struct fwp_bmc_opts); a larger struct (a newer
				 * caller) is refused, -EINVAL, unless its extra bytes are 0 */
	uint32_t slot_count;		/* 0: FWP_BMC_DEFAULT_SLOTS */
	uint32_t slot_size;		/* 0: FWP_BMC_DEFAULT_SLOT_SIZE */
	uint64_t flash_capacity;	/* 0: FWP_BMC_DEFAULT_CAPACITY */
	void (*on_session)(void *arg, const struct fwp_bmc_session *s);
	void *cb_arg;
	const struct fwp_nor_model *nor;	/* NULL: flash as fast as memory */
	uint32_t idle_timeout_ms;	/* drop a session with no message this long; 0: 60 s */
	const char *pubkey_path;	/* Ed25519 public key (PEM): images must be signed */
	/*
	 * The BMC's own storage instead of the file flash at flash_path (which may then be
	 * NULL). Once fwp_bmc_create succeeds, fwp_bmc_destroy closes it. A signature check
	 * (pubkey_path) reads the whole image back, so it needs a flash that stages: one that
	 * does not gets STORAGE_ERROR at START.
	 */
	const struct fwp_flash_ops *flash_ops;
	void *flash_ctx;
};
/*
 * Frozen per ABI: 80 bytes on LP64 (x86-64, aarch64), 56 on 32-bit Arm EABI (a BMC). A program
 * only ever loads a libfwpush of its own ABI, and sz tells the sizes apart within one.
 */
_Static_assert(sizeof(struct fwp_bmc_opts) == (sizeof(void *) == 8 ? 80 : 56),
	       "fwp_bmc_opts is frozen: add at the end");

/*
 * The BMC's flash on a Linux MTD character device (/dev/mtdN, a NOR part: the SPI NOR of an
 * ASPEED BMC): bank 0 at offset 0 and bank 1 at bank_size, each whole erase blocks, and the
 * activation record's two copies (the file flash's format) in the device's last two erase
 * blocks. An image is staged in memory and, block by block behind the BMC, erased, programmed
 * and read back into the inactive bank; the BMC runs at most a bounded step ahead of the part,
 * beating its heartbeat while it waits. Writing the record is the one switch: until it is
 * programmed and read back, the previous image is the active one. One writer per device.
 * Plug it in with opts.flash_ops = fwp_mtd_ops(), opts.flash_ctx = the handle.
 */
struct fwp_mtd;

struct fwp_mtd_info {
	uint64_t size;		/* of the device */
	uint64_t bank_size;	/* bank i at offset i * bank_size: the largest image */
	uint64_t record_offset;	/* the record's copies: here and one erase block on */
	uint64_t active_seq;	/* the record in force; 0: no image activated yet */
	uint64_t active_size;
	uint32_t active_bank;
	uint32_t erase_size;
	uint32_t write_size;
	uint32_t reserved;
};
_Static_assert(sizeof(struct fwp_mtd_info) == 56, "fwp_mtd_info is frozen: add at the end");

/*
 * Opens dev. -ENOTTY: not an MTD device; -EMEDIUMTYPE: not NOR (NAND: bad blocks, ECC);
 * -EROFS: read-only; -ENOSPC: too small for two banks and the record; -EBUSY: another process
 * writes it; -ENOTSUP: built without MTD. fwp_mtd_error(NULL) says which, naming dev.
 */
int fwp_mtd_open(const char *dev, struct fwp_mtd **out);
/* What fwp_bmc_destroy calls through the ops; for a handle no BMC took. NULL is fine. */
void fwp_mtd_close(struct fwp_mtd *m);
const struct fwp_flash_ops *fwp_mtd_ops(void);
void fwp_mtd_get_info(const struct fwp_mtd *m, struct fwp_mtd_info *out);
/*
 * The last failure as one line naming the device ("/dev/mtd0: erase at 0x10000: Input/output
 * error"), "" if none: of m, or with m NULL, of this thread's last fwp_mtd_open.
 */
const char *fwp_mtd_error(const struct fwp_mtd *m);

#define FWP_BMC_DEFAULT_IDLE_MS		60000

#define FWP_BMC_DEFAULT_SLOTS		4
#define FWP_BMC_DEFAULT_SLOT_SIZE	(256u << 10)
#define FWP_BMC_DEFAULT_CAPACITY	(2ull << 30)

/*
 * Creates the window at window_uri and prepares to store images at flash_path: two banks,
 * flash_path.a and .b, an activation record flash_path.meta, and flash_path itself, a symbolic
 * link to the active bank. An image goes to the inactive bank and becomes active only once
 * verified and synced, by one atomic write of the record.
 * -EADDRINUSE: another BMC serves that window; -EINVAL: bad options or not an Ed25519 public
 * key at opts->pubkey_path; -ENOENT: no such key file.
 */
int fwp_bmc_create(const char *window_uri, const char *flash_path,
		   const struct fwp_bmc_opts *opts, struct fwp_bmc **out);

/* Serves until *stop becomes nonzero. Returns 0, or -errno if the window became unusable. */
int fwp_bmc_run(struct fwp_bmc *b, const volatile int *stop);

/* Unformats and removes the window, drops any open session. NULL is fine. */
void fwp_bmc_destroy(struct fwp_bmc *b);

/* Removes every file of the emulated flash at flash_path (no BMC may be using it). */
int fwp_bmc_flash_remove(const char *flash_path);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
