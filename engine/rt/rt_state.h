/* SPDX-License-Identifier: MIT */
/*
 * The runtime update's defined storage locations: the staged image and the state area
 * (header, warm-start mailbox, descriptor of the staged update, a slot per processor).
 */
#ifndef FWP_RT_STATE_H
#define FWP_RT_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "fwpush/rt.h"
#include "fwpush/sign.h"
#include "rt/rt_cpu.h"

#define FWP_RT_STATE_MAGIC	0x3154535452505746ull	/* "FWPRTST1" */
#define FWP_RT_STATE_VERSION	2
#define FWP_RT_HDR_SIZE		4096
#define FWP_RT_SLOT_HDR		256	/* tag, cpu, registers; the XSAVE area follows */

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
	/* the XSAVE area at FWP_RT_SLOT_HDR, 64-byte aligned */
};

struct fwp_rt_state {
	int fd;
	size_t size;
	struct fwp_rt_hdr *hdr;
	unsigned char *slots;
};

/* Paths of the two locations for a name; -EINVAL for a bad name. */
int fwp_rt_paths(const char *name, char *img, char *state, size_t len);

/* Opens the state area, creating it or re-laying its slots for xsave_size as needed. */
int fwp_rt_state_open(const char *name, uint32_t xsave_size, struct fwp_rt_state *st);
void fwp_rt_state_close(struct fwp_rt_state *st);

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
