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
	struct fwp_msg_hdr h;
	struct fwp_start_body sb;
	struct fwp_win_ctrl c;
	struct fwp_layout l;
	uint32_t slot_size;
	uint64_t map_size;

	if (size < 4 + 8 + sizeof(h) + sizeof(sb) + sizeof(c))
		return 0;
	memcpy(&slot_size, data, 4);
	memcpy(&map_size, data + 4, 8);
	data += 12;
	memcpy(&h, data, sizeof(h));
	memcpy(&sb, data + sizeof(h), sizeof(sb));
	memcpy(&c, data + sizeof(h) + sizeof(sb), sizeof(c));

	if (fwp_msg_decode(&h, slot_size) == FWP_ST_OK &&
	    (h.length > slot_size || h.offset > UINT64_MAX - h.length ||
	     h.magic != FWP_MSG_MAGIC || h.type < FWP_MSG_START || h.type > FWP_MSG_ABORT))
		abort();
	if (fwp_start_decode(&sb, slot_size, map_size) == FWP_ST_OK &&
	    (sb.image_size == 0 || sb.image_size > map_size || sb.chunk_size == 0 ||
	     sb.chunk_size > slot_size))
		abort();
	if (fwp_ctrl_decode(&c, map_size, &l) == 0 &&
	    (l.window_size > map_size || l.slot_count == 0 || l.slot_count > FWP_SLOTS_MAX ||
	     l.body_offset + (uint64_t)l.slot_stride * l.slot_count != l.window_size))
		abort();
	return 0;
}
