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
 * shm: -EISDIR, -ELOOP, -ESPIPE: a directory, a symbolic link or another file that is not a
 * regular one holds the name (refused at once, never waited on); and the errors of
 * fwp_target_open().
 * shm: a window is a file that a peer can truncate, which would leave pages of the mapping
 * with nothing behind them; the first open installs a SIGBUS handler (SA_SIGINFO) that turns a
 * fault inside a window into a push error (-EFAULT, -ENOSPC) and hands any other SIGBUS to the
 * disposition that was in place before. A program that sets its own SIGBUS handler afterwards
 * takes that over.
 */
int fwp_host_open(const char *uri, uint32_t timeout_ms, struct fwp_host **out);
void fwp_host_close(struct fwp_host *h);

/*
 * The protocol version the window at uri says it speaks, for a clear message after
 * fwp_host_open() said -EPROTONOSUPPORT: the version (> 0), or -errno.
 */
int fwp_window_version(const char *uri);

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

/*
 * A heartbeat keeps a slow BMC from timing out (a NOR part programming what it buffered, a long
 * sync), but one answer is waited for at most this many timeouts, heartbeat or not: 40 s with
 * the default 5 s. The emulated NOR part at its defaults (8 MiB ahead of the part, 160 ms per
 * 64 KiB erase, 2 MB/s) needs 25 s for its longest FINISH.
 */
#define FWP_PUSH_STEP_TIMEOUTS	8

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
/*
 * Frozen per ABI: 64 bytes on LP64 (x86-64, aarch64), 40 on 32-bit Arm EABI (a BMC). A program
 * only ever loads a libfwpush of its own ABI, and sz tells the sizes apart within one.
 */
_Static_assert(sizeof(struct fwp_push_opts) == (sizeof(void *) == 8 ? 64 : 40),
	       "fwp_push_opts is frozen: add at the end");

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
	/*
	 * -EPROTO: the bytes the BMC said it holds, and what it must hold (DATA, FINISH; a new
	 * session's START: 0).
	 */
	uint64_t bmc_held;
	uint64_t expected_held;
	/* Recovery. */
	uint32_t resends;		/* chunks sent again after a BAD_HASH answer */
	uint32_t rerings;		/* doorbells rung again after a stall */
	uint64_t resumed_from;		/* resume: bytes the BMC already held */
	bool verified;			/* the BMC's FINISH hash was compared with ours: equal */
	/* -EPROTO: the BMC's OK answer was of another type, this one (in what was padding). */
	bool wrong_type;
	uint16_t bmc_type;
	/* Register doorbells (PROTOCOL.md 8): waits that the device's interrupt ended (0: polled). */
	uint32_t interrupts;
};

/*
 * Opens an image for fwp_host_push(); returns a file descriptor or -ENOENT, -EACCES, -EISDIR,
 * -ESPIPE (not a regular file: a FIFO is refused at once, never waited on), -ENODATA (empty),
 * -EINVAL (direct and the filesystem has no O_DIRECT). direct: read around the page cache (the
 * chunk size must be a multiple of 4 KiB).
 */
int fwp_image_open(const char *path, bool direct);

/*
 * Pushes the image open at fd (the caller closes it). Returns 0 once the BMC confirmed the whole
 * image stored, synced and its hash equal to ours. Errors: -ENODATA: empty; -EFBIG: larger than
 * the BMC's flash; -EINVAL: options do not fit the window; -ETIMEDOUT: the BMC made no progress
 * for timeout_ms; -ETIME: the BMC beat its heartbeat but answered nothing for
 * FWP_PUSH_STEP_TIMEOUTS x timeout_ms; -EREMOTEIO: the BMC refused (res->bmc_status says why);
 * -EBADMSG: a hash the BMC reported differs from ours, or the image differs from expect_hash;
 * -EPROTO: the BMC answered OK but said it holds other bytes than it must (res->bmc_held,
 * res->expected_held) or answered another type of message (res->wrong_type, res->bmc_type);
 * -EFAULT: the window's memory went away (shm: its file shrank under the host); -ESTALE: the
 * image was written to while it was pushed (its size, times or inode changed) and nothing
 * pinned its bytes (expect_hash, a signature, resume): no FINISH was sent, nothing activated;
 * -EIO: the image could not be read. res->failed_type and res->failed_offset name the message
 * it stopped at.
 */
int fwp_host_push(struct fwp_host *h, int fd, const struct fwp_push_opts *opts,
		  struct fwp_push_result *res);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
