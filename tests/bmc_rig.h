/* SPDX-License-Identifier: MIT */
/*
 * A BMC over a window on the heap, for the hostile-host unit test and the BMC fuzzer: the
 * window is exactly the layout's size, so ASan sees any access outside it. Includes bmc.c to
 * drive its poll loop directly (SPDK-style: a test may include the .c it tests).
 */
#ifndef FWP_BMC_RIG_H
#define FWP_BMC_RIG_H

#include "../engine/bmc/bmc.c"

#include <stdio.h>

enum { RIG_SLOTS = 4, RIG_SLOT_SIZE = 4096, RIG_CAPACITY = 64 << 10 };
#define RIG_EPOCH	0x5eed1234u

struct rig {
	struct fwp_bmc *bmc;
	unsigned char *window;
	char flash[64];
};

static void rig_open(struct rig *r)
{
	struct fwp_layout l;

	fwp_layout_init(&l, RIG_SLOTS, RIG_SLOT_SIZE);
	r->window = malloc(l.window_size);
	r->bmc = aligned_alloc(_Alignof(struct fwp_bmc), sizeof(*r->bmc));
	if (!r->window || !r->bmc)
		abort();
	memset(r->window, 0, l.window_size);
	memset(r->bmc, 0, sizeof(*r->bmc));
	snprintf(r->flash, sizeof(r->flash), "/tmp/fwpush-rig-%d.flash", (int)getpid());
	if (open_flash(r->bmc, r->flash, &l))
		abort();
	r->bmc->flash_capacity = RIG_CAPACITY;
	r->bmc->idle_ns = UINT64_MAX;
	r->bmc->stop = &not_stopped;
	r->bmc->no_session = FWP_ST_BAD_STATE;
	fwp_win_init(&r->bmc->win, r->window, &l, false);
	r->bmc->win.epoch = RIG_EPOCH;
}

__attribute__((unused)) static void rig_reset(struct rig *r)
{
	memset(r->window, 0, r->bmc->win.layout.window_size);
	if (r->bmc->state != BMC_IDLE)
		session_close(r->bmc);
	r->bmc->last_seq = 0;
	r->bmc->hint = 0;
	r->bmc->received = 0;
	r->bmc->no_session = FWP_ST_BAD_STATE;
}

static void rig_close(struct rig *r)
{
	r->bmc->flash->close(r->bmc->flash_ctx);
	fwp_flash_remove(r->flash);
	free(r->bmc->flash_path);
	free(r->bmc);
	free(r->window);
}

/* A well-formed body_hash: R for a DATA of a running session (PROTOCOL.md 15), else its own. */
static struct fwp_hash128 rig_body_hash(const struct fwp_bmc *b, const struct fwp_msg_hdr *h,
					const void *body, uint32_t n)
{
	struct fwp_hstate s;

	if (h->type != FWP_MSG_DATA || b->state != BMC_DOWNLOAD ||
	    !(b->start.flags & FWP_START_RUNNING))
		return fwp_xxh128(body, n);
	s = b->image_hs;
	fwp_hash()->update(&s, body, n);
	return fwp_hash()->digest(&s);
}

/*
 * Writes a header and body into a slot, rings its doorbell with seq, and lets the BMC poll.
 * fixup: recompute the header check and body hash (a well-formed message with these fields).
 */
static void rig_send(struct rig *r, uint32_t slot, uint32_t seq, struct fwp_msg_hdr *h,
		     const void *body, uint32_t len, int fixup)
{
	uint32_t n = len > RIG_SLOT_SIZE ? RIG_SLOT_SIZE : len;

	if (n)	/* a message without a body may come with none (NULL) */
		memcpy(fwp_win_body(&r->bmc->win, slot), body, n);
	if (fixup) {
		struct fwp_hash128 bh = rig_body_hash(r->bmc, h, body, n);
		uint64_t reserved = h->reserved;
		uint32_t flags = h->flags;

		fwp_msg_encode(h, h->type, h->seq, h->epoch, h->offset, h->length, n ? &bh : NULL);
		if (reserved || flags) {	/* keep a deliberately bad field, re-check it */
			h->reserved = reserved;
			h->flags = flags;
			h->check = fwp_xxh64(h, offsetof(struct fwp_msg_hdr, check));
		}
	}
	memcpy(fwp_win_hdr(&r->bmc->win, slot), h, sizeof(*h));
	fwp_win_ring(&r->bmc->win, slot, seq);
	poll_once(r->bmc);
	poll_once(r->bmc);
}

__attribute__((unused)) static const struct fwp_ack *rig_ack(const struct rig *r, uint32_t slot)
{
	return r->bmc->win.slot[slot].ack;
}

#endif
