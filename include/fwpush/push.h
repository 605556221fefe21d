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

/* Where a push is, for a progress callback. */
enum fwp_phase {
	FWP_PHASE_START,	/* the BMC answered START_UPGRADE; done: what it already held */
	FWP_PHASE_DATA,		/* the BMC stored up to done bytes */
	FWP_PHASE_VERIFY,	/* every byte is stored; FINISH sent, the BMC verifies and syncs */
	FWP_PHASE_DONE,		/* the BMC confirmed the whole image */
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
	/*
	 * Optional: called on the pushing thread as the push moves on (after each DATA answer:
	 * many times a second, so keep it short). Added in 0.3; an older caller's sz leaves it 0.
	 */
	void (*progress)(void *arg, enum fwp_phase phase, uint64_t done);
	void *progress_arg;
	/*
	 * Delta flash (PROTOCOL.md 14), added in 0.4: with a BMC that has BLOCK_HASHES, a chunk
	 * whose blocks all equal the active image's goes as a KEEP, not as DATA (result.chunks
	 * counts DATA only). Without the capability the push is as without it.
	 */
	bool delta;
};
/*
 * Frozen per ABI: 88 bytes on LP64 (x86-64, aarch64), 52 on 32-bit Arm EABI (a BMC); 80 and 48
 * before delta, 64 and 40 before the progress callback (an older caller's sz). A program only
 * ever loads a libfwpush of its own ABI, and sz tells the sizes apart within one.
 */
_Static_assert(sizeof(struct fwp_push_opts) == (sizeof(void *) == 8 ? 88 : 52),
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

/*
 * One image for many pushes at once (a mass-flash station): the file at fd (fwp_image_open(),
 * not direct) is read once into a bounded cache (16 MiB, whatever the image size or the number
 * of targets) that every push copies its chunks from. Pushes to many BMCs run on threads of
 * their own, each with fwp_host_push_shared(); while they move together they read each block
 * once and hash each chunk once (pushes with the same chunk size share the hashes), and one
 * that falls a whole cache behind (a stalled BMC) reads and hashes its chunks again rather than
 * hold the others back. -ENODATA: empty; -EINVAL: open with O_DIRECT.
 */
struct fwp_share;

int fwp_share_open(int fd, struct fwp_share **out);
void fwp_share_close(struct fwp_share *s);
/* fwp_host_push() of the shared image; safe to call from many threads at once. */
int fwp_host_push_shared(struct fwp_host *h, struct fwp_share *s,
			 const struct fwp_push_opts *opts, struct fwp_push_result *res);
/*
 * Bytes of the image read from the file so far, and hashed, by every push together: each the
 * image's size when the pushes moved together (and chunked alike, for the hashes).
 */
void fwp_share_stats(struct fwp_share *s, uint64_t *bytes_read, uint64_t *bytes_hashed);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
