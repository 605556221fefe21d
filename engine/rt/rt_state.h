/* SPDX-License-Identifier: MIT */
/*
 * The runtime update's defined storage locations: the staged image and the state area
 * (header, warm-start mailbox, descriptor of the staged update, a slot per processor).
 */
#ifndef FWP_RT_STATE_H
#define FWP_RT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fwpush/rt.h"
#include "fwpush/sign.h"
#include "rt/rt_cpu.h"

#define FWP_RT_STATE_MAGIC	0x3154535452505746ull	/* "FWPRTST1" */
#define FWP_RT_STATE_VERSION	2
#define FWP_RT_HDR_SIZE		4096
#define FWP_RT_SLOT_HDR		256	/* tag, cpu, registers; the XSAVE area follows */
#define FWP_RT_SLOT_TAIL	4	/* after the XSAVE area: the kernel's FP_XSTATE_MAGIC2 */

enum {
	FWP_RT_MB_WARM_START	= 1u << 0,	/* a warm start was requested */
	FWP_RT_MB_STAGED	= 1u << 1,	/* the descriptor points at a staged update */
};

struct fwp_rt_desc {
	char path[232];
	uint64_t size;
	struct fwp_hash128 hash;
	uint8_t signature[64];	/* Ed25519 of the update, when has_signature */
	uint32_t has_signature;
	uint32_t reserved;
	uint64_t check;		/* XXH3-64 of the fields above */
};

struct fwp_rt_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;
	uint32_t max_cpus;
	uint32_t slot_size;
	uint32_t xsave_size;
	uint32_t mailbox;		/* FWP_RT_MB_* */
	uint32_t last_outcome;		/* enum fwp_rt_outcome of the last activation */
	uint32_t reserved;
	struct fwp_rt_desc desc;
};

struct fwp_rt_slot {
	struct fwp_hash128 tag;		/* XXH3-128 of gregs and the XSAVE area */
	uint32_t cpu;
	uint32_t reserved;
	uint64_t gregs[FWP_RT_GREGS];
	/*
	 * the XSAVE area at FWP_RT_SLOT_HDR, 64-byte aligned, then FP_XSTATE_MAGIC2: a restore
	 * has sigreturn XRSTOR from here (fwp_state_restore)
	 */
};

struct fwp_rt_state {
	int fd;
	size_t size;
	struct fwp_rt_hdr *hdr;
	unsigned char *slots;
};

/* The shared directory the storage locations live in, and their names in it. */
#define FWP_RT_DIR		"/dev/shm"
#define FWP_RT_PREFIX		FWP_RT_DIR "/fwpush-rt-"

/* Paths of the two locations for a name; -EINVAL for a bad name. */
int fwp_rt_paths(const char *name, char *img, char *state, size_t len);

/* from for an error line: its control characters (a line break) as '?', cut to len - 1. */
void fwp_rt_printable(char *to, size_t len, const char *from);

/*
 * Whether a file found in the shared directory is one we may use: a regular file (not a
 * symbolic link, FIFO, directory, ...), owned by our effective uid, mode 0600, one link (no
 * hard link to it from elsewhere). 0, or -EPERM with a line in why: "WHAT PATH: what is wrong".
 * sb as lstat() or fstat() gave it.
 */
int fwp_rt_file_check(const char *what, const char *path, const struct stat *sb, char *why,
		      size_t len);

/*
 * Opens a file of ours in the shared directory, never through a link. create: make it if
 * absent (O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600). An existing file is opened O_NOFOLLOW
 * and must pass fwp_rt_file_check. Returns the descriptor, or -ENOENT (absent and !create),
 * -EPERM (not ours: why says how), -errno; why names the file on every error.
 */
int fwp_rt_open_private(const char *what, const char *path, int flags, bool create, char *why,
			size_t len);

/*
 * Opens the state area, creating it or re-laying its slots for xsave_size as needed, and
 * takes it for this process: an exclusive lock held until fwp_rt_state_close, so one
 * rt-update at a time stages into or activates from it. -EBUSY: another process holds it;
 * -EPERM: the file at its path is not ours (fwp_rt_file_check); why gets a line naming it.
 */
int fwp_rt_state_open(const char *name, uint32_t xsave_size, struct fwp_rt_state *st,
		      char *why, size_t len);
void fwp_rt_state_close(struct fwp_rt_state *st);

/*
 * Holds the state area of name (opened and locked as fwp_rt_state_open does) until
 * fwp_rt_state_release: this process's fwp_rt_state_open of that name shares the hold, so a
 * stage and the activation after it run with no other process in between.
 */
int fwp_rt_state_hold(const char *name, char *why, size_t len);
void fwp_rt_state_release(void);

static inline struct fwp_rt_slot *fwp_rt_slot(const struct fwp_rt_state *st, unsigned i)
{
	return (struct fwp_rt_slot *)(st->slots + (size_t)st->hdr->slot_size * i);
}

static inline void *fwp_rt_slot_xsave(const struct fwp_rt_state *st, unsigned i)
{
	return (unsigned char *)fwp_rt_slot(st, i) + FWP_RT_SLOT_HDR;
}

void fwp_rt_desc_seal(struct fwp_rt_desc *d);
bool fwp_rt_desc_ok(const struct fwp_rt_desc *d);

#endif
