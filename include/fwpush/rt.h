/* SPDX-License-Identifier: MIT */
/*
 * Runtime update of a running multiprocessor, in userspace: one pinned thread per selected CPU
 * is a processor, a signal is the inter-processor interrupt, and each processor's general
 * registers and XSAVE state are saved, checked and restored around a pre-OS phase that applies
 * a staged update.
 *
 * Two defined storage locations, both under /dev/shm so they outlive the process:
 *   fwpush-rt-NAME.img    the staged update
 *   fwpush-rt-NAME.state  the state area: versioned header, warm-start mailbox, a descriptor
 *                         pointing at the staged update, one slot per processor
 *
 * /dev/shm is shared with every user of the machine, so neither is ever opened through a
 * link: the state area is created O_EXCL | O_NOFOLLOW, the update received in a private
 * directory and renamed into place, and one found there is used only if it is a regular file
 * of our effective uid, mode 0600, with one link. A stage or an activation holds the state
 * area (an exclusive lock) from start to end: one at a time per name; another is refused,
 * -EBUSY. The descriptor's check value is XXH3, no MAC: whoever can write the state area can
 * point it elsewhere, so activation follows it only to fwpush-rt-NAME.img, and only a key
 * (pubkey_path) proves who made the update.
 */
#ifndef FWPUSH_RT_H
#define FWPUSH_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwpush/wire.h"

#ifdef __cplusplus
extern "C" {
#endif
/* What this header declares is libfwpush's ABI: exported from libfwpush.so. */
#pragma GCC visibility push(default)

#define FWP_RT_MAX_CPUS		256
#define FWP_RT_DEFAULT_NAME	"default"

/* Whether name may name the storage locations: 1-64 of letters, digits, '.', '_', '-'. */
bool fwp_rt_name_ok(const char *name);

/*
 * Receives an update from a file or an http(s):// URL into the staging location and points
 * the state area's descriptor at it (hash computed while receiving). expect: if set, the
 * update must hash to it. signature: if set, a 64-byte Ed25519 signature of the update, kept
 * with it for activation to check. An https server is always verified (certificate chain and
 * host name) against the CA certificates (PEM) in the file the environment variable
 * FWPUSH_CA_FILE names, or the system's when it is unset. Errors: -EINVAL (bad name), -ENOENT,
 * -EACCES (file), -EHOSTUNREACH (URL unreachable), -ENOENT (HTTP 404), -EIO (truncated or
 * failed transfer, FWPUSH_CA_FILE unreadable), -EKEYREJECTED (the server's certificate is not
 * trusted), -ENODATA (empty), -EBADMSG (hash), -EBUSY (another rt-update holds the state
 * area), -EPERM (a file at a storage location is not ours: a link, another owner, another
 * mode, a second link). detail (may be NULL) gets a one-line reason; where the reason is a
 * storage location, it names it. A source whose update fails (its transfer, its hash) leaves
 * what was staged before as it was.
 */
int fwp_rt_stage(const char *name, const char *source, const struct fwp_hash128 *expect,
		 const uint8_t *signature, struct fwp_hash128 *hash, uint64_t *size,
		 char *detail, size_t detail_len);

enum fwp_rt_inject {
	FWP_RT_INJECT_NONE,
	FWP_RT_INJECT_BLOCK,		/* inject_cpu never takes the interrupt */
	FWP_RT_INJECT_CORRUPT_STATE,	/* flip a byte of inject_cpu's saved XSAVE area */
	FWP_RT_INJECT_CORRUPT_UPDATE,	/* flip a byte of the staged update */
	FWP_RT_INJECT_CORRUPT_REGS,	/* flip a bit of inject_cpu's first saved general reg. */
};

struct fwp_rt_opts {
	size_t sz;			/* sizeof(struct fwp_rt_opts); a larger struct (a newer
				 * caller) is refused, -EINVAL, unless its extra bytes are 0 */
	const char *name;		/* NULL: FWP_RT_DEFAULT_NAME */
	const char *flash_path;		/* where an update is applied; NULL: never apply */
	const int *cpus;		/* cpus[0] runs the controller; NULL: all allowed CPUs */
	unsigned ncpus;
	uint32_t timeout_ms;		/* rendezvous; 0: 1000 */
	bool no_warm_start;		/* do not request a warm start */
	enum fwp_rt_inject inject;	/* TEST HOOK (leave 0): fault injection */
	int inject_cpu;			/* TEST HOOK: index into the CPU list */
	const char *pubkey_path;	/* Ed25519 public key: apply only updates it verifies */
};
/*
 * Frozen per ABI: 64 bytes on LP64 (x86-64, aarch64), 40 on 32-bit Arm EABI (a BMC). A program
 * only ever loads a libfwpush of its own ABI, and sz tells the sizes apart within one.
 */
_Static_assert(sizeof(struct fwp_rt_opts) == (sizeof(void *) == 8 ? 64 : 40),
	       "fwp_rt_opts is frozen: add at the end");

enum fwp_rt_outcome {
	FWP_RT_APPLIED,
	FWP_RT_NO_WARM_START,		/* resumed, nothing applied */
	FWP_RT_NOTHING_STAGED,		/* resumed, nothing applied */
	FWP_RT_BAD_UPDATE,		/* the staged update failed its check: resumed */
	FWP_RT_BAD_STATE,		/* a saved state failed its check: that CPU not restored */
	FWP_RT_TIMEOUT,			/* a processor did not arrive: resumed, nothing applied */
	FWP_RT_APPLY_FAILED,		/* writing the flash failed: resumed */
	FWP_RT_BAD_SIGNATURE,		/* a key is configured and the update's signature is
					 * missing or does not verify: resumed, nothing applied */
};

struct fwp_rt_core {
	int cpu;
	bool arrived;
	bool restored;
	bool regs_checked;		/* its workload's registers were compared after resume
					 * (every restored processor, the controller included) */
	bool regs_ok;			/* checked, and they came back bit-exact */
	uint64_t ipi_ns;		/* signal sent to handler entered */
	uint64_t save_ns;		/* registers and the frame's XSAVE image into the slot */
	uint64_t tag_ns;		/* XXH3 of the saved bytes */
	uint64_t wait_ns;		/* parked at the rendezvous */
	uint64_t check_ns;		/* re-hashing its own slot on its CPU, before it parks */
	uint64_t restore_ns;		/* the slot back into the frame, registers */
};

struct fwp_rt_result {
	enum fwp_rt_outcome outcome;
	int failed_cpu;			/* BAD_STATE, TIMEOUT: the CPU concerned */
	uint64_t blackout_ns;		/* first interrupt sent to last processor resumed */
	uint64_t apply_ns;		/* of which applying the update */
	uint32_t xsave_size;
	unsigned ncores;
	struct fwp_rt_core core[FWP_RT_MAX_CPUS];
	char detail[512];		/* when fwp_rt_activate returns an error other than
					 * -ENOTSUP, -ERANGE, -ENOMEM, or the outcome is
					 * FWP_RT_APPLY_FAILED: one line naming the file (state
					 * area, staged update, flash, key) and what is wrong */
};

/*
 * Interrupts every processor, saves their state, runs the pre-OS phase (warm start requested?
 * update staged? update intact? every saved state intact?), applies the update only if all
 * hold, restores every processor and resumes. Returns 0 when the sequence ran (the outcome
 * says what it did) or -errno if it could not start (-ENOTSUP: no XSAVE; -EINVAL: bad CPU
 * list (empty, a CPU this process may not use, or one named twice) or name; -ERANGE: an
 * injection aimed at no worker (inject_cpu must be 1 to ncpus - 1); -ENOENT, -EINVAL:
 * pubkey_path unreadable or not an Ed25519 public key; -EBUSY: another process holds the
 * state area or the flash; -EPERM: the state area or the staged update is not ours, or the
 * descriptor points anywhere but at fwpush-rt-NAME.img). Nothing is stopped before all of
 * that is checked; res->detail says which file and why. After
 * FWP_RT_BAD_STATE the processor concerned is left parked, never restored from
 * garbage: the caller must end the process.
 */
int fwp_rt_activate(const struct fwp_rt_opts *opts, struct fwp_rt_result *res);

/* Bare costs, for the benchmark: one sample per run in each array (runs entries). */
struct fwp_rt_bare {
	uint64_t *signal_rtt_ns;	/* signal to a spinning thread and back */
	/*
	 * The floor under a processor's save + check + restore, on one core: one XSAVE, one
	 * XRSTOR and one XXH3-128 of the same amount of non-init state as a workload holds
	 * (averaged over a batch of each, TSC stamps around the batch).
	 */
	uint64_t *xsave_xrstor_hash_ns;
	/* Its XSAVE + XRSTOR alone: what the kernel pays for a signal frame, in and out. */
	uint64_t *kernel_xsave_xrstor_ns;
};
int fwp_rt_bare(const int *cpus, unsigned ncpus, unsigned runs, struct fwp_rt_bare *out);

/*
 * Holds the state area of name for this process until fwp_rt_release(), so that a stage and
 * the activation after it run with no other rt-update in between (fwp_rt_stage and
 * fwp_rt_activate of that name share the hold). Errors as fwp_rt_stage's for the state area:
 * -EBUSY, -EPERM, -errno, with a line in detail (may be NULL).
 */
int fwp_rt_hold(const char *name, char *detail, size_t detail_len);
void fwp_rt_release(void);

/* Removes both storage locations of name (a staged update is dropped); -EBUSY while held. */
int fwp_rt_remove(const char *name);

const char *fwp_rt_outcome_str(enum fwp_rt_outcome o);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
