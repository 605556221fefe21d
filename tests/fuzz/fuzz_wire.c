/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the wire decoders: a message header, a START_UPGRADE body and a control block, taken
 * from the input as a host (or a hostile host) could write them; then, if the input goes on, a
 * HASHES and a KEEP body with the BMC state they are checked against. Whatever they accept
 * must honour what the decoders promise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwpush/wire.h"

/* Q3..Q5 and K4..K7 (PROTOCOL.md 14): u32 nblocks, u32 block, u64 off, held, image, active. */
static void delta_bodies(const uint8_t *data, uint32_t slot_size)
{
	struct fwp_hashes_body q;
	struct fwp_keep_body k;
	uint32_t nblocks, block, n = 0;
	uint64_t off, held, image, active;

	memcpy(&q, data, sizeof(q));
	memcpy(&k, data + 16, sizeof(k));
	memcpy(&nblocks, data + 32, 4);
	memcpy(&block, data + 36, 4);
	memcpy(&off, data + 40, 8);
	memcpy(&held, data + 48, 8);
	memcpy(&image, data + 56, 8);
	memcpy(&active, data + 64, 8);
	if (slot_size >= FWP_SLOT_SIZE_MIN &&
	    fwp_hashes_decode(&q, nblocks, slot_size, &n) == FWP_ST_OK &&
	    (q.reserved || !q.banks || q.banks > 3 || q.first >= nblocks || !n || n > q.count ||
	     n > nblocks - q.first || fwp_hashes_answer_len(q.banks, n) > slot_size))
		abort();
	/* The BMC's own state keeps held <= image and a block that is not 0. */
	if (block && held <= image &&
	    fwp_keep_decode(&k, off, held, block, image, active) == FWP_ST_OK &&
	    (k.reserved || off != held || off % block || !k.length || k.length > image - off ||
	     off + k.length > active || (k.length % block && off + k.length != image)))
		abort();
}

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
	if (size >= 20 + sizeof(h) + sizeof(sb) + sizeof(c) + 72)
		delta_bodies(data + sizeof(h) + sizeof(sb) + sizeof(c), slot_size);
	memcpy(&h, data, sizeof(h));
	memcpy(&sb, data + sizeof(h), sizeof(sb));
	memcpy(&c, data + sizeof(h) + sizeof(sb), sizeof(c));

	/* Rules H1..H11 of PROTOCOL.md 3.1: what the decoder accepts keeps every one. */
	if (fwp_msg_decode(&h, slot_size, seq, epoch) == FWP_ST_OK &&
	    (h.length > slot_size || h.offset > UINT64_MAX - h.length ||
	     h.magic != FWP_MSG_MAGIC || h.version != FWP_PROTO_VERSION || h.seq != seq ||
	     h.epoch != epoch || h.type < FWP_MSG_START || h.type > FWP_MSG_KEEP || h.flags ||
	     h.reserved || (h.type != FWP_MSG_DATA && h.type != FWP_MSG_KEEP && h.offset) ||
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
