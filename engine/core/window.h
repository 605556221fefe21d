/* SPDX-License-Identifier: MIT */
/*
 * A mapped window seen through a layout. The pointers are computed from the caller's private
 * copy of the layout, never from fields in the window itself.
 */
#ifndef FWP_WINDOW_H
#define FWP_WINDOW_H

#include "fwpush/wire.h"

struct fwp_window {
	unsigned char *base;
	struct fwp_win_ctrl *ctrl;
	struct fwp_layout layout;
};

static inline void fwp_win_init(struct fwp_window *w, void *base, const struct fwp_layout *l)
{
	w->base = base;
	w->ctrl = base;
	w->layout = *l;
}

static inline struct fwp_host_db *fwp_win_host_db(const struct fwp_window *w, uint32_t slot)
{
	return (struct fwp_host_db *)(w->base + w->layout.host_db_offset) + slot;
}

static inline struct fwp_ack *fwp_win_ack(const struct fwp_window *w, uint32_t slot)
{
	return (struct fwp_ack *)(w->base + w->layout.ack_offset) + slot;
}

static inline struct fwp_msg_hdr *fwp_win_hdr(const struct fwp_window *w, uint32_t slot)
{
	return (struct fwp_msg_hdr *)(w->base + w->layout.hdr_offset) + slot;
}

static inline unsigned char *fwp_win_body(const struct fwp_window *w, uint32_t slot)
{
	return w->base + w->layout.body_offset + (size_t)w->layout.slot_stride * slot;
}

#endif
