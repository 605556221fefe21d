/* SPDX-License-Identifier: MIT */
/*
 * A mapped window seen through a layout: every access to a window goes through here. The
 * per-slot pointers are computed once, from the caller's private copy of the layout, never
 * from fields in the window itself. A doorbell is rung with a release store, after a store
 * fence where the mapping is device memory (streaming or write-combining stores into the
 * body must land first). An answer is read as one copy of its 64-byte line into private
 * memory, and only the copy is decoded (SPDK's mmio.h and nvme_pcie.c are the model).
 */
#ifndef FWP_WINDOW_H
#define FWP_WINDOW_H

#include <stdbool.h>
#include <string.h>

#include "core/mmio.h"
#include "fwpush/wire.h"

struct fwp_slot {
	struct fwp_host_db *db;		/* the host's doorbell for this slot */
	struct fwp_ack *ack;		/* the BMC's doorbell and answer */
	struct fwp_msg_hdr *hdr;
	unsigned char *body;
};

struct fwp_window {
	struct fwp_win_ctrl *ctrl;
	struct fwp_layout layout;
	uint32_t epoch;			/* the generation this side formatted, or opened */
	bool device;			/* not cached memory: fence before every doorbell */
	struct fwp_slot slot[FWP_SLOTS_MAX];
};

static inline void fwp_win_init(struct fwp_window *w, void *base, const struct fwp_layout *l,
				bool device)
{
	unsigned char *b = base;
	uint32_t i;

	w->ctrl = base;
	w->layout = *l;
	w->device = device;
	for (i = 0; i < l->slot_count; i++) {
		w->slot[i].db = (struct fwp_host_db *)(b + l->host_db_offset) + i;
		w->slot[i].ack = (struct fwp_ack *)(b + l->ack_offset) + i;
		w->slot[i].hdr = (struct fwp_msg_hdr *)(b + l->hdr_offset) + i;
		w->slot[i].body = b + l->body_offset + (size_t)l->slot_stride * i;
	}
}

/*
 * Copies out of and into the window: plain copies on cached memory; on device memory the
 * accesses a Device mapping allows (aligned words on Arm, streaming stores on x86).
 */
static inline void fwp_win_copy_out(const struct fwp_window *w, void *dst, const void *src,
				    size_t n)
{
	if (w->device)
		fwp_io_read(dst, src, n);
	else
		memcpy(dst, src, n);
}

static inline void fwp_win_copy_in(const struct fwp_window *w, void *dst, const void *src,
				   size_t n)
{
	if (w->device)
		fwp_io_copy(dst, src, n);
	else
		memcpy(dst, src, n);
}

static inline struct fwp_msg_hdr *fwp_win_hdr(const struct fwp_window *w, uint32_t slot)
{
	return w->slot[slot].hdr;
}

static inline unsigned char *fwp_win_body(const struct fwp_window *w, uint32_t slot)
{
	return w->slot[slot].body;
}

/* Host: the sequence number in slot's doorbell, and ringing it. */
static inline uint32_t fwp_win_db_seq(const struct fwp_window *w, uint32_t slot)
{
	return fwp_load_acquire(&w->slot[slot].db->seq);
}

static inline void fwp_win_ring(const struct fwp_window *w, uint32_t slot, uint32_t seq)
{
	if (w->device)
		fwp_wc_fence();
	fwp_store_release(&w->slot[slot].db->seq, seq);
}

/* BMC: the sequence number its answer in slot carries, and the answer as one private copy. */
static inline uint32_t fwp_win_ack_seq(const struct fwp_window *w, uint32_t slot)
{
	return fwp_load_acquire(&w->slot[slot].ack->seq);
}

static inline void fwp_win_read_ack(const struct fwp_window *w, uint32_t slot,
				    struct fwp_ack *out)
{
	fwp_win_copy_out(w, out, w->slot[slot].ack, sizeof(*out));
}

/* BMC: writes an answer, its sequence number last. */
static inline void fwp_win_answer(const struct fwp_window *w, uint32_t slot,
				  const struct fwp_ack *a)
{
	struct fwp_ack *to = w->slot[slot].ack;

	fwp_win_copy_in(w, (unsigned char *)to + sizeof(to->seq),
			(const unsigned char *)a + sizeof(a->seq), sizeof(*a) - sizeof(a->seq));
	if (w->device)
		fwp_wc_fence();
	fwp_store_release(&to->seq, a->seq);
}

/* The epoch a control block says, read before anything else in it. */
static inline uint32_t fwp_ctrl_epoch(const struct fwp_win_ctrl *c)
{
	return fwp_load_acquire(&c->epoch);
}

/*
 * BMC: formats the window (PROTOCOL.md 1.2): unpublished first, every doorbell, answer and
 * header zeroed (memory that outlived a BMC must not pass an old doorbell for a new one), the
 * control block, and its epoch last: a host that sees the epoch sees all the rest.
 */
static inline void fwp_win_publish(struct fwp_window *w, const struct fwp_win_ctrl *c)
{
	struct fwp_win_ctrl copy = *c;
	const struct fwp_layout *l = &w->layout;

	static const unsigned char zero_line[FWP_LINE];
	uint32_t off;

	fwp_store_release(&w->ctrl->epoch, 0);
	for (off = l->host_db_offset; off < l->body_offset; off += FWP_LINE)
		fwp_win_copy_in(w, (unsigned char *)w->ctrl + off, zero_line, FWP_LINE);
	copy.epoch = 0;
	fwp_win_copy_in(w, w->ctrl, &copy, sizeof(copy));
	if (w->device)
		fwp_wc_fence();		/* all of it before the epoch, streamed or not */
	w->epoch = c->epoch;
	fwp_store_release(&w->ctrl->epoch, c->epoch);
}

static inline void fwp_win_unpublish(const struct fwp_window *w)
{
	fwp_store_release(&w->ctrl->epoch, 0);
}

/* Host: has the BMC re-formatted (or given up) the window it opened? */
static inline bool fwp_win_reformatted(const struct fwp_window *w)
{
	return fwp_ctrl_epoch(w->ctrl) != w->epoch;
}

/* The BMC's heartbeat: read by the host, beaten by the BMC. */
static inline uint32_t fwp_win_heartbeat(const struct fwp_window *w)
{
	return fwp_load_acquire(&w->ctrl->heartbeat);
}

static inline void fwp_win_beat(const struct fwp_window *w, uint32_t value)
{
	fwp_store_release(&w->ctrl->heartbeat, value);
}

/* The sequence number the BMC last handled in order: published before each answer. */
static inline uint32_t fwp_win_last_seq(const struct fwp_window *w)
{
	return fwp_load_acquire(&w->ctrl->last_seq);
}

static inline void fwp_win_set_last_seq(const struct fwp_window *w, uint32_t seq)
{
	fwp_store_release(&w->ctrl->last_seq, seq);
}

#endif
