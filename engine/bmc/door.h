/* SPDX-License-Identifier: MIT */
/*
 * The BMC's second door: an image that comes another way than the window (a Redfish upload
 * over HTTPS), taken by another thread than the one running fwp_bmc_run, into the same flash
 * through the same staging, hashing, signature check and A/B activation. One update at a time:
 * while the window has a session the door is -EBUSY, and while the door has one a window
 * START is answered BUSY. A door session belongs to one thread until it finishes or aborts.
 */
#ifndef FWP_BMC_DOOR_H
#define FWP_BMC_DOOR_H

#include <stddef.h>
#include <stdint.h>

#include "fwpush/bmc.h"

enum fwp_door_owner { FWP_DOOR_FREE, FWP_DOOR_WINDOW, FWP_DOOR_DOOR };

/*
 * A bank as the BMC knows it: its image's size and XXH3-128, known = 0 when empty/partial;
 * version: the PackageVersionString of an image that is a PLDM firmware update package
 * (DMTF DSP0267, package header format 1.0 or 1.1), else "".
 */
struct fwp_door_bank {
	int known;
	uint64_t size;
	struct fwp_hash128 hash;
	char version[64];
};

struct fwp_door_status {
	enum fwp_door_owner owner;
	uint64_t size, received;	/* the update in progress, either door */
	uint64_t window_sessions;	/* window sessions opened so far */
	uint16_t window_status;		/* how the last window session ended (FWP_ST_*) */
	int window_done;		/* the last window session has ended */
	uint64_t capacity;
	int signed_only;		/* a key is configured: images must be signed */
	struct fwp_door_bank active, inactive;
};

/*
 * Hashes the active image (once, before the door is used; from the thread that will run the
 * BMC, before it runs). 0, or a negative errno reading it.
 */
int fwp_bmc_door_enable(struct fwp_bmc *b);

/*
 * Opens a door session for an image of at most size bytes (exactly size unless
 * fwp_bmc_door_finish says less). -EBUSY: an update is in progress; -EFBIG: over the flash's
 * capacity; -EIO: the flash failed.
 */
int fwp_bmc_door_open(struct fwp_bmc *b, uint64_t size);
/* The next n bytes of the image, in order. -EFBIG: beyond size; -EIO: the flash failed. */
int fwp_bmc_door_write(struct fwp_bmc *b, const void *p, size_t n);
/*
 * Ends the session: checks, with a key, the 64-byte signature sig (NULL: none), syncs and
 * activates. size: the image's real size (0: the size it was opened with). *hash: the image's
 * XXH3-128. -EBADMSG: fewer bytes than size; -ENOKEY: a key is configured and sig is NULL;
 * -EKEYREJECTED: the signature does not verify; -EIO: the flash failed; -ENOTSUP: a smaller
 * size on a flash that cannot cut an image. Any error leaves the active image as it was.
 */
int fwp_bmc_door_finish(struct fwp_bmc *b, uint64_t size, const unsigned char *sig,
			struct fwp_hash128 *hash);
/* Drops the door session; nothing is activated. Safe when none is open. */
void fwp_bmc_door_abort(struct fwp_bmc *b);
/* A snapshot of both doors and both banks, from any thread. */
void fwp_bmc_door_status(struct fwp_bmc *b, struct fwp_door_status *s);

#endif
