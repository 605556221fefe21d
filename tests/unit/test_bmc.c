/* SPDX-License-Identifier: MIT */
/*
 * A hostile host, one field at a time: every field of every message, set wrong, gets the
 * status the protocol promises, and never an access outside the window (the window is an
 * exact-size heap buffer: the sanitizer build catches any), nor a change of the active image.
 */
#include "../bmc_rig.h"
#include "check.h"

static struct rig r;
static uint32_t seq;
#define IMAGE_SIZE	(3 * RIG_SLOT_SIZE + 100)
static uint8_t image[4 * RIG_SLOT_SIZE];	/* room for messages that overrun the image */

/* Recomputes the header check, so only the field under test is wrong. */
static void seal(struct fwp_msg_hdr *h)
{
	h->check = fwp_xxh64(h, offsetof(struct fwp_msg_hdr, check));
}

static struct fwp_msg_hdr msg(uint16_t type, uint64_t off, const void *body, uint32_t len)
{
	struct fwp_hash128 bh = fwp_xxh128(body, len);
	struct fwp_msg_hdr h;

	seq = fwp_seq_next(seq);
	fwp_msg_encode(&h, type, seq, RIG_EPOCH, off, len, len ? &bh : NULL);
	return h;
}

/* Sends h (as is) with body; returns the status the BMC answered. */
static unsigned send(struct fwp_msg_hdr *h, const void *body, uint32_t len)
{
	uint32_t slot = seq % RIG_SLOTS;

	rig_send(&r, slot, seq, h, body, len, 0);
	if (rig_ack(&r, slot)->seq != seq)
		return 999;	/* not answered */
	return rig_ack(&r, slot)->status;
}

static struct fwp_start_body start_body(void)
{
	return (struct fwp_start_body){ .image_size = IMAGE_SIZE, .chunk_size = RIG_SLOT_SIZE };
}

static unsigned start(struct fwp_start_body sb)
{
	struct fwp_msg_hdr h = msg(FWP_MSG_START, 0, &sb, sizeof(sb));

	return send(&h, &sb, sizeof(sb));
}

static unsigned data(uint64_t off, uint32_t len)
{
	struct fwp_msg_hdr h = msg(FWP_MSG_DATA, off, image + off, len);

	return send(&h, image + off, len);
}

static void header_fields(void)
{
	uint8_t body[16] = { 0 };
	struct fwp_msg_hdr h;

	h = msg(FWP_MSG_DATA, 0, body, 16), h.magic ^= 1, seal(&h);
	CHECK_EQ(send(&h, body, 16), FWP_ST_BAD_HEADER);
	h = msg(FWP_MSG_DATA, 0, body, 16), h.version = 7, seal(&h);
	CHECK_EQ(send(&h, body, 16), FWP_ST_BAD_VERSION);
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->type, 0);	/* its type cannot be trusted */
	h = msg(FWP_MSG_DATA, 0, body, 16), h.epoch ^= 1, seal(&h);
	CHECK_EQ(send(&h, body, 16), FWP_ST_BAD_EPOCH);
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->type, FWP_MSG_DATA);
	h = msg(FWP_MSG_ABORT, 0, body, 0), h.offset = 1, seal(&h);
	CHECK_EQ(send(&h, body, 0), FWP_ST_OUT_OF_RANGE);	/* only DATA has an offset */
	h = msg(FWP_MSG_ABORT, 0, body, 0), h.body_hash.lo = 1, seal(&h);
	CHECK_EQ(send(&h, body, 0), FWP_ST_BAD_HEADER);		/* no body, no hash */
	h = msg(FWP_MSG_ABORT, 0, body, 16);
	CHECK_EQ(send(&h, body, 16), FWP_ST_BAD_LENGTH);		/* ABORT has no body */
	h = msg(FWP_MSG_DATA, 0, body, 16), h.check ^= 1;
	CHECK_EQ(send(&h, body, 16), FWP_ST_BAD_HEADER);
	h = msg(FWP_MSG_DATA, 0, body, 16), h.type = 9, seal(&h);
	CHECK_EQ(send(&h, body, 16), FWP_ST_BAD_HEADER);
	h = msg(FWP_MSG_DATA, 0, body, 16), h.reserved = 1, seal(&h);
	CHECK_EQ(send(&h, body, 16), FWP_ST_BAD_HEADER);
	h = msg(FWP_MSG_DATA, 0, body, 16), h.flags = 1, seal(&h);
	CHECK_EQ(send(&h, body, 16), FWP_ST_BAD_HEADER);
	h = msg(FWP_MSG_DATA, 0, body, 16), h.seq += 5, seal(&h);	/* header vs doorbell */
	CHECK_EQ(send(&h, body, 16), FWP_ST_BAD_HEADER);
	h = msg(FWP_MSG_DATA, 0, body, 16), h.length = RIG_SLOT_SIZE + 1, seal(&h);
	CHECK_EQ(send(&h, body, 16), FWP_ST_BAD_LENGTH);	/* past the slot */
	h = msg(FWP_MSG_DATA, 0, body, 16), h.length = UINT32_MAX, seal(&h);
	CHECK_EQ(send(&h, body, 16), FWP_ST_BAD_LENGTH);
	h = msg(FWP_MSG_DATA, UINT64_MAX - 4, body, 16);
	CHECK_EQ(send(&h, body, 16), FWP_ST_OUT_OF_RANGE);	/* offset + length wraps */
	h = msg(FWP_MSG_DATA, 0, body, 16), h.body_hash.lo ^= 1, seal(&h);
	CHECK_EQ(send(&h, body, 16), FWP_ST_BAD_STATE);		/* no session yet */
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->epoch, RIG_EPOCH);
	CHECK_EQ(r.bmc->win.ctrl->last_seq, seq);	/* each one handled, published */
}

static void start_fields(void)
{
	struct fwp_start_body sb;

	sb = start_body(), sb.image_size = 0;
	CHECK_EQ(start(sb), FWP_ST_BAD_LENGTH);
	sb = start_body(), sb.image_size = RIG_CAPACITY + 1;
	CHECK_EQ(start(sb), FWP_ST_TOO_LARGE);			/* image outside the flash */
	sb = start_body(), sb.image_size = UINT64_MAX;
	CHECK_EQ(start(sb), FWP_ST_TOO_LARGE);
	sb = start_body(), sb.chunk_size = 0;
	CHECK_EQ(start(sb), FWP_ST_BAD_LENGTH);
	sb = start_body(), sb.chunk_size = RIG_SLOT_SIZE + 1;
	CHECK_EQ(start(sb), FWP_ST_BAD_LENGTH);			/* chunk larger than a slot */
	sb = start_body(), sb.flags = 0x80;
	CHECK_EQ(start(sb), FWP_ST_BAD_HEADER);
	sb = start_body(), sb.flags = FWP_START_RESUME;		/* resume without naming */
	CHECK_EQ(start(sb), FWP_ST_BAD_HEADER);
	sb = start_body(), sb.reserved1 = 1;
	CHECK_EQ(start(sb), FWP_ST_BAD_HEADER);
	CHECK(r.bmc->state == BMC_IDLE);
}

static void data_fields(void)
{
	struct fwp_msg_hdr h;
	uint8_t junk[RIG_SLOT_SIZE];

	CHECK_EQ(start(start_body()), FWP_ST_OK);
	CHECK_EQ(data(RIG_SLOT_SIZE, RIG_SLOT_SIZE), FWP_ST_OUT_OF_RANGE);	/* ahead */
	CHECK_EQ(data(0, RIG_SLOT_SIZE - 1), FWP_ST_BAD_LENGTH);	/* not the chunk size */
	memset(junk, 0x5a, sizeof(junk));
	h = msg(FWP_MSG_DATA, 0, junk, RIG_SLOT_SIZE);
	h.body_hash.hi ^= 1, seal(&h);
	CHECK_EQ(send(&h, junk, RIG_SLOT_SIZE), FWP_ST_BAD_HASH);	/* body corrupted */
	CHECK_EQ(r.bmc->received, 0);
	CHECK_EQ(data(0, RIG_SLOT_SIZE), FWP_ST_OK);
	CHECK_EQ(data(0, RIG_SLOT_SIZE), FWP_ST_OUT_OF_RANGE);		/* again: behind */
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, RIG_SLOT_SIZE);
}

static void control_block_scribbled(void)
{
	/* The host rewrites the control block: the BMC addresses only from its own copy. */
	r.bmc->win.ctrl->slot_count = 64;
	r.bmc->win.ctrl->slot_size = FWP_SLOT_SIZE_MAX;
	r.bmc->win.ctrl->body_offset = 0;
	CHECK_EQ(data(RIG_SLOT_SIZE, RIG_SLOT_SIZE), FWP_ST_OK);
	CHECK_EQ(data(2 * RIG_SLOT_SIZE, RIG_SLOT_SIZE), FWP_ST_OK);
	CHECK_EQ(data(3 * RIG_SLOT_SIZE, 200), FWP_ST_BAD_LENGTH);	/* last chunk is 100 */
	CHECK_EQ(data(3 * RIG_SLOT_SIZE, 100), FWP_ST_OK);
	CHECK_EQ(data(3 * RIG_SLOT_SIZE + 100, 1), FWP_ST_OUT_OF_RANGE);	/* past the end */
}

static void finish_fields(void)
{
	struct fwp_finish_body fb = { .image_hash = fwp_xxh128(image, IMAGE_SIZE) };
	struct fwp_finish_body wrong = fb;
	struct fwp_msg_hdr h;

	h = msg(FWP_MSG_FINISH, 0, &fb, 15);
	CHECK_EQ(send(&h, &fb, 15), FWP_ST_BAD_LENGTH);
	h = msg(FWP_MSG_FINISH, 0, &fb, sizeof(fb));
	h.body_hash.lo ^= 1, seal(&h);
	CHECK_EQ(send(&h, &fb, sizeof(fb)), FWP_ST_BAD_HASH);	/* garbled: may be resent */
	CHECK(r.bmc->state == BMC_DOWNLOAD);
	wrong.image_hash.lo ^= 1;
	h = msg(FWP_MSG_FINISH, 0, &wrong, sizeof(wrong));
	CHECK_EQ(send(&h, &wrong, sizeof(wrong)), FWP_ST_VERIFY_FAILED);
	CHECK(access(r.flash, F_OK) != 0);		/* nothing activated */
	CHECK(r.bmc->state == BMC_IDLE);		/* the session is over */
	h = msg(FWP_MSG_FINISH, 0, &fb, sizeof(fb));
	CHECK_EQ(send(&h, &fb, sizeof(fb)), FWP_ST_BAD_STATE);
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, 0);	/* no session holds anything */
}

/* Sends the whole image from off on, and a FINISH naming its hash; returns FINISH's status. */
static unsigned rest_and_finish(uint64_t off)
{
	struct fwp_finish_body fb = { .image_hash = fwp_xxh128(image, IMAGE_SIZE) };
	struct fwp_msg_hdr h;

	for (; off < IMAGE_SIZE; off += RIG_SLOT_SIZE)
		CHECK_EQ(data(off, IMAGE_SIZE - off < RIG_SLOT_SIZE ? IMAGE_SIZE - off
								    : RIG_SLOT_SIZE), FWP_ST_OK);
	h = msg(FWP_MSG_FINISH, 0, &fb, sizeof(fb));
	return send(&h, &fb, sizeof(fb));
}

static void finish_early_and_good(void)
{
	struct fwp_finish_body fb = { .image_hash = fwp_xxh128(image, IMAGE_SIZE) };
	struct fwp_msg_hdr h;

	CHECK_EQ(start(start_body()), FWP_ST_OK);
	CHECK_EQ(data(0, RIG_SLOT_SIZE), FWP_ST_OK);
	h = msg(FWP_MSG_FINISH, 0, &fb, sizeof(fb));
	CHECK_EQ(send(&h, &fb, sizeof(fb)), FWP_ST_BAD_STATE);	/* image incomplete */
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, RIG_SLOT_SIZE);	/* what it holds */
	CHECK(r.bmc->state == BMC_DOWNLOAD);			/* and the session goes on */
	CHECK_EQ(rest_and_finish(RIG_SLOT_SIZE), FWP_ST_OK);
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, IMAGE_SIZE);
	CHECK(access(r.flash, F_OK) == 0);
}

/* What a DATA or FINISH gets once the session is gone says why (PROTOCOL.md 5.4). */
static void why_no_session(void)
{
	struct fwp_msg_hdr h;
	uint32_t beat;

	CHECK_EQ(start(start_body()), FWP_ST_OK);
	h = msg(FWP_MSG_ABORT, 0, NULL, 0);
	CHECK_EQ(send(&h, NULL, 0), FWP_ST_OK);
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, 0);
	CHECK_EQ(data(0, RIG_SLOT_SIZE), FWP_ST_ABORTED);
	h = msg(FWP_MSG_ABORT, 0, NULL, 0);
	CHECK_EQ(send(&h, NULL, 0), FWP_ST_OK);			/* nothing open: OK still */
	CHECK_EQ(start(start_body()), FWP_ST_OK);
	r.bmc->t_last -= 2 * 1000000000ull;
	r.bmc->idle_ns = 1000000000ull;
	r.bmc->t_beat = 0;
	beat = r.bmc->win.ctrl->heartbeat;
	idle_tick(r.bmc);
	CHECK(r.bmc->state == BMC_IDLE);
	CHECK(r.bmc->win.ctrl->heartbeat != beat);		/* and it beats while idle */
	CHECK_EQ(data(0, RIG_SLOT_SIZE), FWP_ST_IDLE_TIMEOUT);
	beat = r.bmc->win.ctrl->heartbeat;
	idle_tick(r.bmc);
	CHECK_EQ(r.bmc->win.ctrl->heartbeat, beat);		/* but not at every tick */
	r.bmc->idle_ns = UINT64_MAX;
	CHECK_EQ(start(start_body()), FWP_ST_OK);
	CHECK_EQ(start((struct fwp_start_body){ 0 }), FWP_ST_BAD_LENGTH);	/* ends it */
	CHECK_EQ(data(0, RIG_SLOT_SIZE), FWP_ST_BAD_STATE);
}

/*
 * Resume continues the open session only for the same image, named by the same hash; any
 * other START (another image, no RESUME flag) starts over from 0.
 */
static void resume_only_same_image(void)
{
	struct fwp_start_body sb = start_body(), other;

	sb.flags = FWP_START_HAS_HASH;
	sb.image_hash = fwp_xxh128(image, IMAGE_SIZE);
	other = sb;
	other.image_hash.hi ^= 1;
	other.flags |= FWP_START_RESUME;
	CHECK_EQ(start(sb), FWP_ST_OK);
	CHECK_EQ(data(0, RIG_SLOT_SIZE), FWP_ST_OK);
	CHECK_EQ(start(other), FWP_ST_OK);			/* another image: a new session */
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, 0);
	CHECK_EQ(r.bmc->received, 0);
	sb.flags |= FWP_START_RESUME;
	CHECK_EQ(start(sb), FWP_ST_OK);				/* not the open session's image */
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, 0);
	CHECK_EQ(data(0, RIG_SLOT_SIZE), FWP_ST_OK);
	CHECK_EQ(start(sb), FWP_ST_OK);				/* the same image: continue */
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, RIG_SLOT_SIZE);
	CHECK_EQ(rest_and_finish(RIG_SLOT_SIZE), FWP_ST_OK);
}

/* An image named by hash at START is activated only if it has that hash. */
static void finish_checks_named_hash(void)
{
	struct fwp_start_body sb = start_body();

	sb.flags = FWP_START_HAS_HASH;
	sb.image_hash = fwp_xxh128(image, IMAGE_SIZE);
	sb.image_hash.lo ^= 1;
	CHECK_EQ(start(sb), FWP_ST_OK);
	CHECK_EQ(rest_and_finish(0), FWP_ST_VERIFY_FAILED);
	CHECK(r.bmc->state == BMC_IDLE);
}

static void stale_sequence(void)
{
	struct fwp_start_body sb = start_body();
	struct fwp_msg_hdr h = msg(FWP_MSG_START, 0, &sb, sizeof(sb));
	uint32_t slot = (seq + 2) % RIG_SLOTS;	/* last answered seq - 2 there */

	h.seq = seq - 3;	/* an old number, in a slot whose last answer was another */
	seal(&h);
	rig_send(&r, slot, seq - 3, &h, &sb, sizeof(sb), 0);
	CHECK_EQ(rig_ack(&r, slot)->seq, seq - 3);
	CHECK_EQ(rig_ack(&r, slot)->status, FWP_ST_BAD_SEQ);
	CHECK_EQ(rig_ack(&r, slot)->type, FWP_MSG_START);
}

/* Sends a START at sequence number n into slot 0, where the next message follows it. */
static unsigned start_at(uint32_t n)
{
	struct fwp_start_body sb = start_body();
	struct fwp_msg_hdr h;

	seq = n - 1;
	h = msg(FWP_MSG_START, 0, &sb, sizeof(sb));
	rig_send(&r, 0, seq, &h, &sb, sizeof(sb), 0);
	return rig_ack(&r, 0)->seq == seq ? rig_ack(&r, 0)->status : 999;
}

/* PROTOCOL.md 5.1: what the BMC does with each sequence number it finds. */
static void sequence_rules(void)
{
	uint32_t last;

	rig_reset(&r);
	CHECK_EQ(start_at(0xfffffff0u), FWP_ST_OK);	/* a fresh BMC takes any START */
	CHECK_EQ(r.bmc->last_seq, 0xfffffff0u);
	/* Across the 32-bit boundary: 0xffffffff, then 1 (0 is never a number). */
	while (seq != 3)
		CHECK_EQ(data(0, 0), FWP_ST_BAD_LENGTH);
	CHECK_EQ(r.bmc->last_seq, 3);
	CHECK_EQ(r.bmc->win.ctrl->last_seq, 3);
	/* A START further than JUMP: BAD_SEQ, and L stays. */
	CHECK_EQ(start_at(3 + FWP_SEQ_JUMP + 1), FWP_ST_BAD_SEQ);
	CHECK_EQ(r.bmc->last_seq, 3);
	CHECK(r.bmc->state == BMC_DOWNLOAD);		/* nor did it end the session */
	/* Within JUMP: a new host resynchronising. */
	CHECK_EQ(start_at(3 + FWP_SEQ_JUMP), FWP_ST_OK);
	last = r.bmc->last_seq;
	CHECK_EQ(last, 3 + FWP_SEQ_JUMP);
	/* A message ahead of the one awaited is held, answered in its turn. */
	{
		struct fwp_msg_hdr h2, h1;

		seq = last + 1;
		fwp_msg_encode(&h2, FWP_MSG_DATA, last + 2, RIG_EPOCH, 0, 0, NULL);
		rig_send(&r, 2, last + 2, &h2, NULL, 0, 0);
		CHECK(rig_ack(&r, 2)->seq != last + 2);			/* held */
		fwp_msg_encode(&h1, FWP_MSG_DATA, last + 1, RIG_EPOCH, 0, 0, NULL);
		rig_send(&r, 1, last + 1, &h1, NULL, 0, 0);
		CHECK_EQ(rig_ack(&r, 1)->seq, last + 1);
		CHECK_EQ(rig_ack(&r, 2)->seq, last + 2);		/* and then it */
		CHECK_EQ(r.bmc->last_seq, last + 2);
	}
	/* A pending non-START far ahead is answered BAD_SEQ, and frees its slot. */
	{
		struct fwp_msg_hdr h;

		fwp_msg_encode(&h, FWP_MSG_DATA, last + 0x70000000u, RIG_EPOCH, 0, 0, NULL);
		rig_send(&r, 3, last + 0x70000000u, &h, NULL, 0, 0);
		CHECK_EQ(rig_ack(&r, 3)->seq, last + 0x70000000u);
		CHECK_EQ(rig_ack(&r, 3)->status, FWP_ST_BAD_SEQ);
		CHECK_EQ(r.bmc->last_seq, last + 2);
	}
	/*
	 * A message handled, its answer replaced by a stray write's BAD_SEQ, then rung again by
	 * its host: the same answer again, not BAD_SEQ, and not handled twice.
	 */
	{
		struct fwp_ack first;

		seq = r.bmc->last_seq;
		CHECK_EQ(data(0, 0), FWP_ST_BAD_LENGTH);
		first = *rig_ack(&r, seq % RIG_SLOTS);
		last = r.bmc->last_seq;
		fwp_win_ring(&r.bmc->win, seq % RIG_SLOTS, seq - 40);	/* stale, from elsewhere */
		poll_once(r.bmc);
		CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->status, FWP_ST_BAD_SEQ);
		fwp_win_ring(&r.bmc->win, seq % RIG_SLOTS, seq);	/* the host re-rings */
		poll_once(r.bmc);
		CHECK(!memcmp(rig_ack(&r, seq % RIG_SLOTS), &first, sizeof(first)));
		CHECK_EQ(r.bmc->last_seq, last);
	}
	/* A doorbell of 0 is never a message. */
	r.bmc->win.slot[3].ack->seq = 5;
	fwp_win_ring(&r.bmc->win, 3, 0);
	poll_once(r.bmc);
	CHECK_EQ(rig_ack(&r, 3)->seq, 5);
}

/* A KEEP of len bytes at off (PROTOCOL.md 14.3); returns the status. */
static unsigned keep(uint64_t off, uint64_t len)
{
	struct fwp_keep_body kb = { .length = len };
	struct fwp_msg_hdr h = msg(FWP_MSG_KEEP, off, &kb, sizeof(kb));

	return send(&h, &kb, sizeof(kb));
}

static unsigned finish(const void *img)
{
	struct fwp_finish_body fb = { .image_hash = fwp_xxh128(img, IMAGE_SIZE) };
	struct fwp_msg_hdr h = msg(FWP_MSG_FINISH, 0, &fb, sizeof(fb));

	return send(&h, &fb, sizeof(fb));
}

/* Is the active image (the flash's view) img? */
static bool active_is(const void *img)
{
	static uint8_t got[IMAGE_SIZE + 1];
	FILE *f = fopen(r.flash, "rb");
	size_t n = f ? fread(got, 1, sizeof(got), f) : 0;

	if (f)
		fclose(f);
	return n == IMAGE_SIZE && !memcmp(got, img, IMAGE_SIZE);
}

static unsigned hashes(uint32_t first, uint32_t count, uint32_t banks)
{
	struct fwp_hashes_body q = { .first = first, .count = count, .banks = banks };
	struct fwp_msg_hdr h = msg(FWP_MSG_HASHES, 0, &q, sizeof(q));

	return send(&h, &q, sizeof(q));
}

/* HASHES (14.2): the answer's body in the slot, the hashes of both banks, its rules. */
static void delta_hashes(void)
{
	const unsigned char *body;
	struct fwp_hashes_answer head;
	struct fwp_hash128 e, want;
	struct fwp_msg_hdr h;
	uint32_t i;

	CHECK_EQ(hashes(0, 100, FWP_BANK_ACTIVE | FWP_BANK_INACTIVE), FWP_ST_OK);
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->type, FWP_MSG_HASHES);
	body = fwp_win_body(&r.bmc->win, seq % RIG_SLOTS);
	memcpy(&head, body, sizeof(head));
	CHECK_EQ(head.block_size, 4096);
	CHECK_EQ(head.n, RIG_CAPACITY / 4096);			/* clipped to the flash */
	CHECK_EQ(head.active_size, IMAGE_SIZE);
	want = fwp_xxh128(body, fwp_hashes_answer_len(head.banks, head.n));
	CHECK(fwp_hash128_eq(&rig_ack(&r, seq % RIG_SLOTS)->hash, &want));
	for (i = 0; i < head.n; i++) {
		uint64_t at = (uint64_t)i * 4096;

		memcpy(&e, body + sizeof(head) + 32 * i, sizeof(e));
		want = at < IMAGE_SIZE ? fwp_xxh128(image + at, IMAGE_SIZE - at < 4096 ?
							IMAGE_SIZE - at : 4096)
				       : (struct fwp_hash128){ 0, 0 };
		CHECK(fwp_hash128_eq(&e, &want));		/* the short last block too */
	}
	CHECK_EQ(hashes(15, 5, FWP_BANK_ACTIVE), FWP_ST_OK);
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, 0);	/* no session holds anything */
	CHECK_EQ(hashes(16, 1, FWP_BANK_ACTIVE), FWP_ST_OUT_OF_RANGE);	/* Q5 */
	CHECK_EQ(hashes(0, 0, FWP_BANK_ACTIVE), FWP_ST_BAD_LENGTH);	/* Q4 */
	CHECK_EQ(hashes(0, 1, 0), FWP_ST_BAD_HEADER);			/* Q3 */
	CHECK_EQ(hashes(0, 1, 4), FWP_ST_BAD_HEADER);
	h = msg(FWP_MSG_HASHES, 0, image, 8);				/* Q1 */
	CHECK_EQ(send(&h, image, 8), FWP_ST_BAD_LENGTH);
	h = msg(FWP_MSG_HASHES, 0, image, 16), h.body_hash.lo ^= 1, seal(&h);	/* Q2 */
	CHECK_EQ(send(&h, image, 16), FWP_ST_BAD_HASH);
	r.bmc->owner = FWP_DOOR_DOOR;					/* Q6 */
	CHECK_EQ(hashes(0, 1, FWP_BANK_ACTIVE), FWP_ST_BUSY);
	r.bmc->owner = FWP_DOOR_FREE;
}

/* KEEP's rules (14.3, K1..K7), in a session for an image of IMAGE_SIZE. */
static void delta_keep_rules(void)
{
	struct fwp_keep_body kb = { .length = 4096 };
	struct fwp_start_body sb = start_body();
	struct fwp_msg_hdr h;

	CHECK_EQ(keep(0, 4096), FWP_ST_BAD_STATE);			/* K1 */
	CHECK_EQ(start(start_body()), FWP_ST_OK);
	h = msg(FWP_MSG_KEEP, 0, &kb, 8);				/* K2 */
	CHECK_EQ(send(&h, &kb, 8), FWP_ST_BAD_LENGTH);
	h = msg(FWP_MSG_KEEP, 0, &kb, sizeof(kb)), h.body_hash.hi ^= 1, seal(&h);	/* K3 */
	CHECK_EQ(send(&h, &kb, sizeof(kb)), FWP_ST_BAD_HASH);
	kb.reserved = 1;						/* K4 */
	h = msg(FWP_MSG_KEEP, 0, &kb, sizeof(kb));
	CHECK_EQ(send(&h, &kb, sizeof(kb)), FWP_ST_BAD_HEADER);
	CHECK_EQ(keep(4096, 4096), FWP_ST_OUT_OF_RANGE);		/* K5: not what is held */
	CHECK_EQ(keep(0, 0), FWP_ST_BAD_LENGTH);			/* K6 */
	CHECK_EQ(keep(0, 4000), FWP_ST_BAD_LENGTH);
	CHECK_EQ(keep(0, 4 * 4096), FWP_ST_OUT_OF_RANGE);		/* K7: past the image */
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, 0);		/* nothing held */
	sb.chunk_size = 2048;
	CHECK_EQ(start(sb), FWP_ST_OK);
	CHECK_EQ(data(0, 2048), FWP_ST_OK);
	CHECK_EQ(keep(2048, 4096), FWP_ST_OUT_OF_RANGE);		/* K5: not a block */
	CHECK_EQ(data(2048, 2048), FWP_ST_OK);
	CHECK_EQ(keep(4096, IMAGE_SIZE - 4096), FWP_ST_OK);		/* to the end */
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, IMAGE_SIZE);
	CHECK_EQ(keep(IMAGE_SIZE, 4096), FWP_ST_OUT_OF_RANGE);		/* the image is whole */
	CHECK_EQ(finish(image), FWP_ST_OK);
	sb.image_size = IMAGE_SIZE + 4096;				/* longer than the active */
	CHECK_EQ(start(sb), FWP_ST_OK);
	CHECK_EQ(keep(0, 4 * 4096), FWP_ST_OUT_OF_RANGE);		/* K7: past the active */
	h = msg(FWP_MSG_ABORT, 0, NULL, 0);
	CHECK_EQ(send(&h, NULL, 0), FWP_ST_OK);
}

/*
 * Delta flash, with 4 KiB blocks: v2 differs from the active v1 in block 1; KEEP, DATA, KEEP
 * to the short last block make exactly v2. A KEEP that lies (v3's block 0 is not v1's) gives
 * the bytes of v1, which the FINISH hash catches: VERIFY_FAILED, v2 stays active.
 */
static void delta_flash(void)
{
	static uint8_t v1[IMAGE_SIZE], v3[IMAGE_SIZE];
	struct fwp_hash128 want;

	r.bmc->block = 4096;
	memcpy(v1, image, IMAGE_SIZE);
	CHECK_EQ(start(start_body()), FWP_ST_OK);
	CHECK_EQ(rest_and_finish(0), FWP_ST_OK);
	delta_hashes();
	delta_keep_rules();
	memset(image + 4096, 0x5a, 4096);
	CHECK_EQ(start(start_body()), FWP_ST_OK);
	CHECK_EQ(keep(0, 4096), FWP_ST_OK);
	want = fwp_xxh128(image, 4096);
	CHECK(fwp_hash128_eq(&rig_ack(&r, seq % RIG_SLOTS)->hash, &want));	/* as held */
	CHECK_EQ(data(4096, 4096), FWP_ST_OK);
	CHECK_EQ(keep(8192, IMAGE_SIZE - 8192), FWP_ST_OK);
	CHECK_EQ(finish(image), FWP_ST_OK);
	CHECK(active_is(image));
	memcpy(v3, image, IMAGE_SIZE);
	v3[10] ^= 1;
	CHECK_EQ(start(start_body()), FWP_ST_OK);
	CHECK_EQ(keep(0, IMAGE_SIZE), FWP_ST_OK);
	CHECK_EQ(finish(v3), FWP_ST_VERIFY_FAILED);
	CHECK(active_is(image));
	CHECK(!active_is(v1));
	r.bmc->block = 0;			/* a BMC without BLOCK_HASHES: unknown types (H6) */
	CHECK_EQ(hashes(0, 1, FWP_BANK_ACTIVE), FWP_ST_BAD_HEADER);
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->type, 0);
	CHECK_EQ(keep(0, 4096), FWP_ST_BAD_HEADER);
	memcpy(image, v1, IMAGE_SIZE);
}

/* A DATA of a running session (PROTOCOL.md 15): body_hash is R, the image's digest through it. */
static unsigned data_running(uint64_t off, uint32_t len, const void *body)
{
	struct fwp_hash128 rd = fwp_xxh128(image, off + len);
	struct fwp_msg_hdr h = msg(FWP_MSG_DATA, off, body, len);

	h.body_hash = rd, seal(&h);
	return send(&h, body, len);
}

static bool answered(const struct fwp_hash128 *want)
{
	return fwp_hash128_eq(&rig_ack(&r, seq % RIG_SLOTS)->hash, want);
}

/*
 * Running sessions (PROTOCOL.md 15): caps bit 2; DATA and KEEP checked and answered with R; a
 * BAD_HASH puts the image state back, so the chunk sent again passes; a plain session on the
 * same BMC still checks each chunk's own hash; RESUME only with the same RUNNING flag.
 */
static void running_session(void)
{
	struct fwp_start_body sb = start_body();
	struct fwp_hash128 r1 = fwp_xxh128(image, RIG_SLOT_SIZE);
	struct fwp_hash128 r2 = fwp_xxh128(image, 2 * RIG_SLOT_SIZE);
	uint8_t junk[RIG_SLOT_SIZE];

	CHECK(caps(r.bmc) & FWP_CAP_RUNNING_DIGEST);
	CHECK_EQ(start(start_body()), FWP_ST_OK);		/* the active image is image */
	CHECK_EQ(rest_and_finish(0), FWP_ST_OK);
	sb.flags = FWP_START_HAS_HASH | FWP_START_RUNNING;
	sb.image_hash = fwp_xxh128(image, IMAGE_SIZE);
	CHECK_EQ(start(sb), FWP_ST_OK);
	CHECK_EQ(data_running(0, RIG_SLOT_SIZE, image), FWP_ST_OK);
	CHECK(answered(&r1));
	CHECK_EQ(data(RIG_SLOT_SIZE, RIG_SLOT_SIZE), FWP_ST_BAD_HASH);	/* its own hash: not R */
	CHECK(answered(&r2));					/* R through it, as received */
	memset(junk, 0x5a, sizeof(junk));
	CHECK_EQ(data_running(RIG_SLOT_SIZE, RIG_SLOT_SIZE, junk), FWP_ST_BAD_HASH);
	CHECK_EQ(r.bmc->received, RIG_SLOT_SIZE);
	CHECK_EQ(data_running(RIG_SLOT_SIZE, RIG_SLOT_SIZE, image + RIG_SLOT_SIZE), FWP_ST_OK);
	CHECK(answered(&r2));					/* the state was put back */
	sb.flags = FWP_START_HAS_HASH | FWP_START_RESUME;	/* plain: not this session */
	CHECK_EQ(start(sb), FWP_ST_OK);
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, 0);
	CHECK_EQ(data(0, RIG_SLOT_SIZE), FWP_ST_OK);		/* a plain session: own hashes */
	CHECK_EQ(data_running(RIG_SLOT_SIZE, RIG_SLOT_SIZE, image + RIG_SLOT_SIZE),
		 FWP_ST_BAD_HASH);
	sb.flags |= FWP_START_RUNNING;				/* running: not this one either */
	CHECK_EQ(start(sb), FWP_ST_OK);
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, 0);
	CHECK_EQ(data_running(0, RIG_SLOT_SIZE, image), FWP_ST_OK);
	CHECK_EQ(start(sb), FWP_ST_OK);				/* the same: resumed */
	CHECK_EQ(rig_ack(&r, seq % RIG_SLOTS)->offset, RIG_SLOT_SIZE);
	r.bmc->block = 4096;
	CHECK_EQ(keep(RIG_SLOT_SIZE, RIG_SLOT_SIZE), FWP_ST_OK);
	CHECK(answered(&r2));
	CHECK_EQ(data_running(2 * RIG_SLOT_SIZE, RIG_SLOT_SIZE, image + 2 * RIG_SLOT_SIZE),
		 FWP_ST_OK);
	CHECK_EQ(data_running(3 * RIG_SLOT_SIZE, 100, image + 3 * RIG_SLOT_SIZE), FWP_ST_OK);
	CHECK_EQ(finish(image), FWP_ST_OK);
	CHECK(answered(&sb.image_hash));
	CHECK(active_is(image));
	r.bmc->block = 0;
}

int main(void)
{
	size_t i;

	for (i = 0; i < IMAGE_SIZE; i++)
		image[i] = (uint8_t)(i * 131 + 7);
	rig_open(&r);
	header_fields();
	start_fields();
	data_fields();
	control_block_scribbled();
	finish_fields();
	finish_early_and_good();
	finish_checks_named_hash();
	resume_only_same_image();
	why_no_session();
	stale_sequence();
	sequence_rules();
	delta_flash();
	running_session();
	rig_close(&r);
	return check_done("test_bmc");
}
