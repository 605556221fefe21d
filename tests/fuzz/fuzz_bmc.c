/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the emulated BMC's message handling as a hostile host would drive it: the input is a
 * sequence of messages written into the slots of a window that lives on the heap (so ASan sees
 * any access outside it), each followed by the BMC polling. Records:
 *   u8 slot, u8 flags, 64-byte header, u16 body length, body
 * flags bit 0: ring the doorbell with the header's own sequence number (else the next one);
 * bit 1: fix up the header check and body hash, so the fuzzer reaches past the checksums.
 * Includes bmc.c to drive its static poll loop directly.
 */
#include "../../engine/bmc.c"

#include <stdio.h>

enum { SLOTS = 4, SLOT_SIZE = 4096, CAPACITY = 64 << 10 };

static struct fwp_bmc *bmc;
static unsigned char *window;
static char flash[64];

static void remove_flash(void)
{
	char staging[80];

	snprintf(staging, sizeof(staging), "%s.staging", flash);
	unlink(flash);
	unlink(staging);
}

static void setup(void)
{
	struct fwp_layout l;

	fwp_layout_init(&l, SLOTS, SLOT_SIZE);
	window = aligned_alloc(FWP_PAGE, l.window_size);
	bmc = aligned_alloc(_Alignof(struct fwp_bmc), sizeof(*bmc));
	memset(bmc, 0, sizeof(*bmc));
	snprintf(flash, sizeof(flash), "/tmp/fwpush-fuzz-%d.flash", (int)getpid());
	if (!window || fwp_flash_open(flash, NULL, &bmc->flash))
		abort();
	atexit(remove_flash);
	bmc->flash_capacity = CAPACITY;
	bmc->idle_ns = UINT64_MAX;
	bmc->stop = &not_stopped;
	fwp_win_init(&bmc->win, window, &l);
}

static void reset(void)
{
	memset(window, 0, bmc->win.layout.window_size);
	if (bmc->state != BMC_IDLE)
		session_close(bmc);
	bmc->last_seq = 0;
	bmc->hint = 0;
	bmc->received = 0;
}

/* What the BMC promises whatever the host writes. */
static void check(void)
{
	uint32_t i;

	if (bmc->state == BMC_DOWNLOAD && (bmc->received > bmc->start.image_size ||
					   bmc->start.image_size > CAPACITY))
		abort();
	for (i = 0; i < SLOTS; i++) {
		if (fwp_win_ack(&bmc->win, i)->status > FWP_ST_IDLE_TIMEOUT)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t next_seq = 1;

	if (!bmc)
		setup();
	reset();
	while (size >= 2 + sizeof(struct fwp_msg_hdr) + 2) {
		uint32_t slot = data[0] % SLOTS;
		uint8_t flags = data[1];
		struct fwp_msg_hdr h;
		uint16_t len;

		memcpy(&h, data + 2, sizeof(h));
		memcpy(&len, data + 2 + sizeof(h), 2);
		data += 4 + sizeof(h);
		size -= 4 + sizeof(h);
		len = len > size ? size : len;
		len = len > SLOT_SIZE ? SLOT_SIZE : len;
		memcpy(fwp_win_body(&bmc->win, slot), data, len);
		data += len;
		size -= len;
		if (flags & 2) {
			struct fwp_hash128 bh = fwp_xxh128(fwp_win_body(&bmc->win, slot), len);

			h.seq = flags & 1 ? h.seq : next_seq;
			fwp_msg_encode(&h, h.type, h.seq, h.offset, len, &bh);
		}
		memcpy(fwp_win_hdr(&bmc->win, slot), &h, sizeof(h));
		fwp_win_host_db(&bmc->win, slot)->seq = flags & 1 ? h.seq : next_seq++;
		poll_once(bmc);
		poll_once(bmc);
		check();
	}
	return 0;
}
