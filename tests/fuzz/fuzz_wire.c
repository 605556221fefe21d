/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the wire decoders: a message header, a START_UPGRADE body and a control block, taken
 * from the input as a host (or a hostile host) could write them. Whatever they accept must
 * honour what the decoders promise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwpush/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *all = data;
	size_t all_size = size, at;
	struct fwp_msg_hdr h;
	struct fwp_start_body sb;
	struct fwp_win_ctrl c;
	struct fwp_layout l;
	uint32_t slot_size, seq, epoch;
	uint64_t map_size;

	if (size < 20 + sizeof(h) + sizeof(sb) + sizeof(c))
		return 0;
	memcpy(&slot_size, data, 4);
	memcpy(&map_size, data + 4, 8);
	memcpy(&seq, data + 12, 4);
	memcpy(&epoch, data + 16, 4);
	data += 20;
	memcpy(&h, data, sizeof(h));
	memcpy(&sb, data + sizeof(h), sizeof(sb));
	memcpy(&c, data + sizeof(h) + sizeof(sb), sizeof(c));

	/* Rules H1..H11 of PROTOCOL.md 3.1: what the decoder accepts keeps every one. */
	if (fwp_msg_decode(&h, slot_size, seq, epoch) == FWP_ST_OK &&
	    (h.length > slot_size || h.offset > UINT64_MAX - h.length ||
	     h.magic != FWP_MSG_MAGIC || h.version != FWP_PROTO_VERSION || h.seq != seq ||
	     h.epoch != epoch || h.type < FWP_MSG_START || h.type > FWP_MSG_ABORT || h.flags ||
	     h.reserved || (h.type != FWP_MSG_DATA && h.offset) ||
	     (!h.length && (h.body_hash.lo || h.body_hash.hi)) || !fwp_msg_type_known(&h)))
		abort();
	if (fwp_start_decode(&sb, slot_size, map_size) == FWP_ST_OK &&
	    (sb.image_size == 0 || sb.image_size > map_size || sb.chunk_size == 0 ||
	     sb.chunk_size > slot_size))
		abort();
	if (fwp_ctrl_decode(&c, map_size, &l) == 0 &&
	    (l.window_size > map_size || l.slot_count == 0 || l.slot_count > FWP_SLOTS_MAX ||
	     l.body_offset + (uint64_t)l.slot_stride * l.slot_count != l.window_size ||
	     c.version != FWP_PROTO_VERSION || !c.epoch))
		abort();
	/* A window found in the input (as a BAR) is aligned, whole, published, and the first. */
	if (fwp_window_find(all, all_size, &at) == 0) {
		memcpy(&c, all + at, sizeof(c));
		if (at % FWP_PAGE || at + sizeof(c) > all_size || c.magic != FWP_WINDOW_MAGIC ||
		    !c.epoch || !c.version)
			abort();
	}
	return 0;
}
