/* SPDX-License-Identifier: MIT */
/*
 * The host side: connect to a BMC's window and push images through it, pipelined over its
 * slots, every chunk and the whole image checked with XXH3-128.
 */
#ifndef FWPUSH_PUSH_H
#define FWPUSH_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwpush/wire.h"

#ifdef __cplusplus
extern "C" {
#endif
/* What this header declares is libfwpush's ABI: exported from libfwpush.so. */
#pragma GCC visibility push(default)

struct fwp_host;

#define FWP_DEFAULT_TIMEOUT_MS	5000

/*
 * Maps the window at uri, waiting up to timeout_ms (0: the default) for a BMC to format it
 * and for any other host pushing to it to finish (-EBUSY if one still is).
 * -ETIMEDOUT: no BMC formatted it in time; -EPROTO: not an fwpush window;
 * -EPROTONOSUPPORT: other protocol version; -EBADMSG, -EMSGSIZE: inconsistent window;
 * and the errors of fwp_target_open().
 */
int fwp_host_open(const char *uri, uint32_t timeout_ms, struct fwp_host **out);
void fwp_host_close(struct fwp_host *h);

uint32_t fwp_host_slot_count(const struct fwp_host *h);
uint32_t fwp_host_slot_size(const struct fwp_host *h);
uint64_t fwp_host_flash_capacity(const struct fwp_host *h);

/* What a fault-injection hook may do to a DATA or FINISH message (tests only). */
enum fwp_fault {
	FWP_FAULT_NONE,
	FWP_FAULT_FLIP,		/* flip a bit of the body after it was hashed */
	FWP_FAULT_LOSE,		/* write the message but never ring its doorbell */
	FWP_FAULT_DUP,		/* ring its doorbell twice, and the previous one again */
};

/* A chunk the BMC reports corrupted (BAD_HASH) is sent again at most this often. */
#define FWP_PUSH_RETRIES	3

struct fwp_push_opts {
	size_t sz;			/* sizeof(struct fwp_push_opts); a larger struct (a newer
				 * caller) is refused, -EINVAL, unless its extra bytes are 0 */
	uint32_t slots;			/* slots to keep busy; 0: all of the window's */
	uint32_t chunk_size;		/* 0: the window's slot size */
	uint32_t timeout_ms;		/* no progress for this long fails; 0: default */
	uint32_t component;
	const struct fwp_hash128 *expect_hash;	/* if set: the image must hash to this */
	/*
	 * TEST HOOK, not for production (leave NULL): asked before each DATA and FINISH
	 * doorbell with the message's image offset (the image size for FINISH).
	 */
	enum fwp_fault (*fault)(void *arg, uint16_t type, uint64_t offset);
	void *fault_arg;
	const uint8_t *signature;	/* 64-byte Ed25519 signature of the image, or NULL */
	bool resume;			/* continue the BMC's open session for this image */
};
_Static_assert(sizeof(struct fwp_push_opts) == 64, "fwp_push_opts is frozen: add at the end");

struct fwp_push_result {
	uint64_t image_size;
	uint64_t chunks;
	uint32_t slots;
	uint32_t chunk_size;
	uint64_t ns;			/* START_UPGRADE sent to FINISH acknowledged */
	struct fwp_hash128 image_hash;
	/* Where it stopped, when it failed. */
	uint16_t bmc_status;		/* status of the answer that failed it */
	uint16_t failed_type;		/* message being sent or waited on */
	uint64_t failed_offset;
	/* -EPROTO: the bytes the BMC said it holds, and what it must hold (DATA, FINISH). */
	uint64_t bmc_held;
	uint64_t expected_held;
	/* Recovery. */
	uint32_t resends;		/* chunks sent again after a BAD_HASH answer */
	uint32_t rerings;		/* doorbells rung again after a stall */
	uint64_t resumed_from;		/* resume: bytes the BMC already held */
	bool verified;			/* the BMC's FINISH hash was compared with ours: equal */
};

/*
 * Opens an image for fwp_host_push(); returns a file descriptor or -ENOENT, -EACCES, -EISDIR,
 * -ESPIPE (not a regular file), -ENODATA (empty), -EINVAL (direct and the filesystem has no
 * O_DIRECT). direct: read around the page cache (the chunk size must be a multiple of 4 KiB).
 */
int fwp_image_open(const char *path, bool direct);

/*
 * Pushes the image open at fd (the caller closes it). Returns 0 once the BMC confirmed the whole
 * image stored, synced and its hash equal to ours. Errors: -ENODATA: empty; -EFBIG: larger than
 * the BMC's flash; -EINVAL: options do not fit the window; -ETIMEDOUT: the BMC made no progress
 * for timeout_ms; -EREMOTEIO: the BMC refused (res->bmc_status says why); -EBADMSG: a hash the
 * BMC reported differs from ours, or the image differs from expect_hash; -EPROTO: the BMC
 * answered OK but said it holds other bytes than it must (res->bmc_held, res->expected_held);
 * -EIO: the image changed size or could not be read while pushing.
 */
int fwp_host_push(struct fwp_host *h, int fd, const struct fwp_push_opts *opts,
		  struct fwp_push_result *res);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
