/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the emulated BMC's message handling as a hostile host would drive it: the input is a
 * sequence of messages written into the slots of a window that lives on the heap (so ASan sees
 * any access outside it), each followed by the BMC polling. Records:
 *   u8 slot, u8 flags, 64-byte header, u16 body length, body
 * flags bit 0: ring the doorbell with the header's own sequence number (else the next one);
 * bit 1: fix up the header check and body hash, so the fuzzer reaches past the checksums, and
 * (unless bit 2) put the window's epoch in the header.
 * The rig (tests/bmc_rig.h) includes bmc.c to drive its static poll loop directly.
 */
#include "../bmc_rig.h"

static struct rig rig;
static struct fwp_bmc *bmc;

static void setup(void)
{
	rig_open(&rig);
	bmc = rig.bmc;
}

static void cleanup(void)
{
	rig_close(&rig);
}

/* What the BMC promises whatever the host writes. */
static void check(void)
{
	uint32_t i;

	if (bmc->state == BMC_DOWNLOAD && (bmc->received > bmc->start.image_size ||
					   bmc->start.image_size > RIG_CAPACITY))
		abort();
	if (bmc->win.ctrl->last_seq != bmc->last_seq)	/* L is published, as it is */
		abort();
	for (i = 0; i < RIG_SLOTS; i++) {
		/* Every status the BMC answers is one the protocol defines, in this epoch. */
		if (!strcmp(fwp_status_str(bmc->win.slot[i].ack->status), "unknown status"))
			abort();
		if (bmc->win.slot[i].ack->seq && bmc->win.slot[i].ack->epoch != RIG_EPOCH)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t next_seq = 1;

	if (!bmc) {
		setup();
		atexit(cleanup);
	}
	rig_reset(&rig);
	while (size >= 2 + sizeof(struct fwp_msg_hdr) + 2) {
		uint32_t slot = data[0] % RIG_SLOTS;
		uint8_t flags = data[1];
		struct fwp_msg_hdr h;
		uint16_t len;

		memcpy(&h, data + 2, sizeof(h));
		memcpy(&len, data + 2 + sizeof(h), 2);
		data += 4 + sizeof(h);
		size -= 4 + sizeof(h);
		len = len > size ? size : len;
		if (flags & 2) {
			h.seq = flags & 1 ? h.seq : next_seq;
			h.epoch = flags & 4 ? h.epoch : RIG_EPOCH;
			h.length = len > RIG_SLOT_SIZE ? RIG_SLOT_SIZE : len;
		}
		rig_send(&rig, slot, flags & 1 ? h.seq : next_seq, &h, data, len, flags & 2);
		if (!(flags & 1))
			next_seq = fwp_seq_next(next_seq);
		data += len;
		size -= len;
		check();
	}
	return 0;
}
