/* SPDX-License-Identifier: MIT */
/* Window layout and message codec: round trips, and every rejection the decoder promises. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "core/hash.h"
#include "fwpush/wire.h"

static void test_layout(void)
{
	struct fwp_layout l;
	uint32_t n;

	CHECK_EQ(fwp_layout_init(&l, 0, 4096), -EINVAL);
	CHECK_EQ(fwp_layout_init(&l, FWP_SLOTS_MAX + 1, 4096), -EINVAL);
	CHECK_EQ(fwp_layout_init(&l, 2, 4095), -EINVAL);
	CHECK_EQ(fwp_layout_init(&l, 2, 6000), -EINVAL);
	CHECK_EQ(fwp_layout_init(&l, 2, FWP_SLOT_SIZE_MAX + FWP_PAGE), -EINVAL);
	for (n = 1; n <= FWP_SLOTS_MAX; n++) {
		CHECK_EQ(fwp_layout_init(&l, n, 65536), 0);
		/* One cache line per doorbell, ack and header; nothing overlaps. */
		CHECK_EQ(l.host_db_offset, FWP_LINE);
		CHECK_EQ(l.ack_offset, l.host_db_offset + FWP_LINE * n);
		CHECK_EQ(l.hdr_offset, l.ack_offset + FWP_LINE * n);
		CHECK(l.body_offset >= l.hdr_offset + FWP_LINE * n);
		CHECK_EQ(l.body_offset % FWP_PAGE, 0);
		CHECK_EQ(l.slot_stride % FWP_PAGE, 0);
		CHECK_EQ(l.window_size, l.body_offset + (uint64_t)l.slot_stride * n);
	}
	/* Every polled word is an aligned 32-bit word at the offset PROTOCOL.md gives. */
	CHECK_EQ(offsetof(struct fwp_ack, seq), 0);
	CHECK_EQ(sizeof(((struct fwp_ack *)0)->seq), 4);
	CHECK_EQ(offsetof(struct fwp_ack, epoch), 8);
	CHECK_EQ(offsetof(struct fwp_ack, offset), 16);
	CHECK_EQ(offsetof(struct fwp_ack, hash), 24);
	CHECK_EQ(sizeof(((struct fwp_host_db *)0)->seq), 4);
	CHECK_EQ(offsetof(struct fwp_msg_hdr, seq), 8);
	CHECK_EQ(offsetof(struct fwp_msg_hdr, epoch), 12);
	CHECK_EQ(offsetof(struct fwp_msg_hdr, offset), 16);
	CHECK_EQ(offsetof(struct fwp_msg_hdr, check), 56);
	CHECK_EQ(offsetof(struct fwp_win_ctrl, version), 8);
	CHECK_EQ(offsetof(struct fwp_win_ctrl, epoch), 48);
	CHECK_EQ(offsetof(struct fwp_win_ctrl, heartbeat), 52);
	CHECK_EQ(offsetof(struct fwp_win_ctrl, last_seq), 56);
	CHECK_EQ(offsetof(struct fwp_win_ctrl, ring_value), 60);
}

static void test_ctrl(void)
{
	struct fwp_layout l, got;
	struct fwp_win_ctrl c, bad;

	CHECK_EQ(fwp_layout_init(&l, 4, 1 << 20), 0);
	fwp_ctrl_encode(&c, &l, 1 << 30, 42);
	CHECK_EQ(c.epoch, 42);
	CHECK_EQ(fwp_ctrl_decode(&c, l.window_size, &got), 0);
	CHECK_EQ(got.slot_count, l.slot_count);
	CHECK_EQ(got.slot_size, l.slot_size);
	CHECK_EQ(got.body_offset, l.body_offset);
	CHECK_EQ(got.ack_offset, l.ack_offset);
	CHECK_EQ(got.window_size, l.window_size);
	CHECK_EQ(fwp_ctrl_decode(&c, l.window_size - 1, &got), -EMSGSIZE);
	bad = c, bad.magic ^= 1;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EPROTO);
	bad = c, bad.epoch = 0;		/* not published yet */
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EAGAIN);
	bad = c, bad.version = 1;	/* a version-1 window: its version, whatever is at 48 */
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EPROTONOSUPPORT);
	bad.epoch = 0;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EPROTONOSUPPORT);
	bad = c, bad.version = 3;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EPROTONOSUPPORT);
	bad = c, bad.ctrl_size = 128;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EBADMSG);
	bad = c, bad.body_offset += 64;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EBADMSG);
	bad = c, bad.slot_stride += FWP_PAGE;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EBADMSG);
	bad = c, bad.slot_count = 0;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EBADMSG);
	bad = c, bad.slot_size = 100;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EBADMSG);
	bad = c, bad.window_size = 1ull << 62;
	CHECK_EQ(fwp_ctrl_decode(&bad, SIZE_MAX, &got), -EBADMSG);	/* 32-bit too */
}

/* Serial arithmetic (RFC 1982) on 32 bits, with 0 skipped (PROTOCOL.md 2.1). */
static void test_seq(void)
{
	CHECK_EQ(fwp_seq_next(1), 2);
	CHECK_EQ(fwp_seq_next(0), 1);
	CHECK_EQ(fwp_seq_next(UINT32_MAX - 1), UINT32_MAX);
	CHECK_EQ(fwp_seq_next(UINT32_MAX), 1);		/* wraps, never to 0 */
	CHECK(fwp_seq_dist(1, UINT32_MAX) > 0);		/* 1 is after 0xffffffff */
	CHECK(fwp_seq_dist(UINT32_MAX, 1) < 0);
	CHECK_EQ(fwp_seq_dist(5, 5), 0);
	CHECK_EQ(fwp_seq_dist(3, UINT32_MAX - 2), 6);
	CHECK_EQ(fwp_seq_dist(FWP_SEQ_JUMP + 7, 7), (int32_t)FWP_SEQ_JUMP);
	CHECK(fwp_seq_dist(0x80000000u + 7, 7) < 0);	/* 2^31 apart: not after */
}

/* A window in a BAR: the first 4096-aligned control block with the magic and an epoch. */
static void test_find(void)
{
	static unsigned char bar[8 * FWP_PAGE];
	struct fwp_win_ctrl c;
	struct fwp_layout l;
	size_t off = 1;

	CHECK_EQ(fwp_window_find(bar, sizeof(bar), &off), -ENOENT);
	CHECK_EQ(fwp_layout_init(&l, 1, FWP_PAGE), 0);
	fwp_ctrl_encode(&c, &l, 1 << 20, 9);
	memcpy(bar + 3 * FWP_PAGE + 64, &c, sizeof(c));		/* not aligned: not a window */
	CHECK_EQ(fwp_window_find(bar, sizeof(bar), &off), -ENOENT);
	c.epoch = 0;						/* not published: not yet */
	memcpy(bar + 5 * FWP_PAGE, &c, sizeof(c));
	CHECK_EQ(fwp_window_find(bar, sizeof(bar), &off), -ENOENT);
	c.epoch = 9;
	memcpy(bar + 5 * FWP_PAGE, &c, sizeof(c));
	CHECK_EQ(fwp_window_find(bar, sizeof(bar), &off), 0);
	CHECK_EQ(off, 5 * FWP_PAGE);
	memcpy(bar + 2 * FWP_PAGE, &c, sizeof(c));		/* the first one wins */
	CHECK_EQ(fwp_window_find(bar, sizeof(bar), &off), 0);
	CHECK_EQ(off, 2 * FWP_PAGE);
	memcpy(bar + 7 * FWP_PAGE, &c, sizeof(c));		/* the last page is searched */
	memset(bar, 0, 7 * FWP_PAGE);
	CHECK_EQ(fwp_window_find(bar, sizeof(bar), &off), 0);
	CHECK_EQ(off, 7 * FWP_PAGE);
	CHECK_EQ(fwp_window_find(bar, 7 * FWP_PAGE + 63, &off), -ENOENT);	/* cut short */
}

static void test_msg(void)
{
	const struct fwp_hash128 hash = { 0x0123456789abcdefull, 0xfedcba9876543210ull };
	struct fwp_msg_hdr h, bad;
	size_t i;

	fwp_msg_encode(&h, FWP_MSG_DATA, 77, 5, 1 << 20, 4096, &hash);
	CHECK_EQ(fwp_msg_decode(&h, 4096, 77, 5), FWP_ST_OK);
	CHECK_EQ(h.magic, FWP_MSG_MAGIC);
	CHECK_EQ(h.version, 2);
	CHECK_EQ(h.seq, 77);
	CHECK_EQ(h.epoch, 5);
	CHECK_EQ(h.offset, 1 << 20);
	CHECK_EQ(h.length, 4096);
	CHECK(h.body_hash.lo == hash.lo && h.body_hash.hi == hash.hi);
	CHECK(fwp_msg_type_known(&h));

	/* H1..H11, each with its status (PROTOCOL.md 3.1). */
	bad = h, bad.magic ^= 1;					/* H1 */
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 77, 5), FWP_ST_BAD_HEADER);
	CHECK(!fwp_msg_type_known(&bad));
	for (i = 0; i < 56 * 8; i++) {					/* H2: every bit */
		bad = h;
		((unsigned char *)&bad)[i / 8] ^= 1u << (i % 8);
		CHECK_EQ(fwp_msg_decode(&bad, 1u << 30, 77, 5), FWP_ST_BAD_HEADER);
		CHECK(!fwp_msg_type_known(&bad));
	}
	fwp_msg_encode(&bad, FWP_MSG_DATA, 77, 5, 0, 1, &hash);	/* H3 after H2 */
	bad.version = 1;
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 77, 5), FWP_ST_BAD_HEADER);
	bad.check = fwp_xxh64(&bad, offsetof(struct fwp_msg_hdr, check));
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 77, 5), FWP_ST_BAD_VERSION);
	CHECK(!fwp_msg_type_known(&bad));
	CHECK_EQ(fwp_msg_decode(&h, 4096, 78, 5), FWP_ST_BAD_HEADER);	/* H4 */
	CHECK_EQ(fwp_msg_decode(&h, 4096, 77, 6), FWP_ST_BAD_EPOCH);	/* H5 */
	CHECK(fwp_msg_type_known(&h));
	fwp_msg_encode(&bad, 0, 1, 5, 0, 0, NULL);			/* H6 */
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 1, 5), FWP_ST_BAD_HEADER);
	CHECK(!fwp_msg_type_known(&bad));
	fwp_msg_encode(&bad, FWP_MSG_KEEP + 1, 1, 5, 0, 0, NULL);
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 1, 5), FWP_ST_BAD_HEADER);
	CHECK(!fwp_msg_type_known(&bad));
	fwp_msg_encode(&bad, FWP_MSG_ABORT, 1, 5, 0, 0, NULL);	/* H7 */
	bad.flags = 1;
	bad.check = fwp_xxh64(&bad, offsetof(struct fwp_msg_hdr, check));
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 1, 5), FWP_ST_BAD_HEADER);
	fwp_msg_encode(&bad, FWP_MSG_ABORT, 1, 5, 0, 0, NULL);
	bad.reserved = 1;
	bad.check = fwp_xxh64(&bad, offsetof(struct fwp_msg_hdr, check));
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 1, 5), FWP_ST_BAD_HEADER);
	CHECK_EQ(fwp_msg_decode(&h, 4095, 77, 5), FWP_ST_BAD_LENGTH);	/* H8 */
	fwp_msg_encode(&bad, FWP_MSG_DATA, 1, 5, UINT64_MAX - 10, 11, &hash);	/* H9 */
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 1, 5), FWP_ST_OUT_OF_RANGE);
	fwp_msg_encode(&bad, FWP_MSG_DATA, 1, 5, UINT64_MAX - 10, 10, &hash);
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 1, 5), FWP_ST_OK);
	fwp_msg_encode(&bad, FWP_MSG_START, 1, 5, 4096, 48, &hash);	/* H10 */
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 1, 5), FWP_ST_OUT_OF_RANGE);
	fwp_msg_encode(&bad, FWP_MSG_FINISH, 1, 5, 1, 16, &hash);
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 1, 5), FWP_ST_OUT_OF_RANGE);
	fwp_msg_encode(&bad, FWP_MSG_HASHES, 1, 5, 1, 16, &hash);
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 1, 5), FWP_ST_OUT_OF_RANGE);
	fwp_msg_encode(&bad, FWP_MSG_KEEP, 1, 5, 65536, 16, &hash);	/* KEEP has an offset */
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 1, 5), FWP_ST_OK);
	CHECK(fwp_msg_type_known(&bad));
	fwp_msg_encode(&bad, FWP_MSG_ABORT, 1, 5, 0, 0, &hash);	/* H11 */
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 1, 5), FWP_ST_BAD_HEADER);
	fwp_msg_encode(&bad, FWP_MSG_ABORT, 1, 5, 0, 0, NULL);
	CHECK_EQ(fwp_msg_decode(&bad, 4096, 1, 5), FWP_ST_OK);
}

static void test_start(void)
{
	struct fwp_start_body b = { .image_size = 100, .chunk_size = 4096 };
	struct fwp_start_body bad;

	CHECK_EQ(fwp_start_decode(&b, 4096, 100), FWP_ST_OK);
	CHECK_EQ(fwp_start_decode(&b, 4096, 99), FWP_ST_TOO_LARGE);
	CHECK_EQ(fwp_start_decode(&b, 4095, 100), FWP_ST_BAD_LENGTH);
	bad = b, bad.image_size = 0;
	CHECK_EQ(fwp_start_decode(&bad, 4096, 100), FWP_ST_BAD_LENGTH);
	bad = b, bad.chunk_size = 0;
	CHECK_EQ(fwp_start_decode(&bad, 4096, 100), FWP_ST_BAD_LENGTH);
	bad = b, bad.flags = 2;			/* RESUME without HAS_HASH */
	CHECK_EQ(fwp_start_decode(&bad, 4096, 100), FWP_ST_BAD_HEADER);
	bad = b, bad.flags = 8;			/* a flag not defined */
	CHECK_EQ(fwp_start_decode(&bad, 4096, 100), FWP_ST_BAD_HEADER);
	bad = b, bad.flags = 1u << 31;
	CHECK_EQ(fwp_start_decode(&bad, 4096, 100), FWP_ST_BAD_HEADER);
	bad = b, bad.flags = 3;
	CHECK_EQ(fwp_start_decode(&bad, 4096, 100), FWP_ST_OK);
	bad = b, bad.flags = 7;			/* RUNNING (PROTOCOL.md 15) */
	CHECK_EQ(fwp_start_decode(&bad, 4096, 100), FWP_ST_OK);
	bad = b, bad.reserved0 = 1;
	CHECK_EQ(fwp_start_decode(&bad, 4096, 100), FWP_ST_BAD_HEADER);
	bad = b, bad.reserved1 = 1;
	CHECK_EQ(fwp_start_decode(&bad, 4096, 100), FWP_ST_BAD_HEADER);
}

static void test_strings(void)
{
	struct fwp_hash128 h = { 0x1122334455667788ull, 0x99aabbccddeeff00ull }, back;
	char hex[33];

	fwp_hash128_hex(&h, hex);
	CHECK(!strcmp(hex, "99aabbccddeeff001122334455667788"));	/* big-endian, high first */
	CHECK_EQ(fwp_hash128_parse(hex, &back), 0);
	CHECK(back.lo == h.lo && back.hi == h.hi);
	CHECK_EQ(fwp_hash128_parse("99AABBCCDDEEFF001122334455667788", &back), 0);
	CHECK(back.lo == h.lo && back.hi == h.hi);
	CHECK_EQ(fwp_hash128_parse("99aabb", &back), -EINVAL);
	CHECK_EQ(fwp_hash128_parse("99aabbccddeeff00112233445566778g", &back), -EINVAL);
	CHECK(!strcmp(fwp_status_str(FWP_ST_BAD_HASH), "chunk hash mismatch"));
	CHECK(!strcmp(fwp_status_str(999), "unknown status"));
	CHECK(!strcmp(fwp_msg_type_str(FWP_MSG_START), "START_UPGRADE"));
}

/* Rules Q3..Q5 of PROTOCOL.md 14.2, and how many blocks an answer holds. */
static void test_hashes(void)
{
	struct fwp_hashes_body q = { .first = 0, .count = 10, .banks = FWP_BANK_ACTIVE };
	uint32_t n = 0;

	CHECK_EQ(fwp_hashes_decode(&q, 100, 4096, &n), FWP_ST_OK);
	CHECK_EQ(n, 10);
	q.count = UINT32_MAX;
	CHECK_EQ(fwp_hashes_decode(&q, 100, 4096, &n), FWP_ST_OK);
	CHECK_EQ(n, 100);
	q.count = 1000;
	CHECK_EQ(fwp_hashes_decode(&q, 1000, 4096, &n), FWP_ST_OK);
	CHECK_EQ(n, (4096 - 64) / 16);		/* what a slot holds */
	CHECK_EQ(fwp_hashes_answer_len(q.banks, n), 4096);
	q.banks = FWP_BANK_ACTIVE | FWP_BANK_INACTIVE;
	CHECK_EQ(fwp_hashes_decode(&q, 1000, 4096, &n), FWP_ST_OK);
	CHECK_EQ(n, (4096 - 64) / 32);
	CHECK(fwp_hashes_answer_len(q.banks, n) <= 4096);
	q.first = 990;
	CHECK_EQ(fwp_hashes_decode(&q, 1000, 4096, &n), FWP_ST_OK);
	CHECK_EQ(n, 10);			/* to the last block */
	q.first = 1000;
	CHECK_EQ(fwp_hashes_decode(&q, 1000, 4096, &n), FWP_ST_OUT_OF_RANGE);	/* Q5 */
	q.first = 0;
	q.count = 0;
	CHECK_EQ(fwp_hashes_decode(&q, 1000, 4096, &n), FWP_ST_BAD_LENGTH);	/* Q4 */
	q.count = 1;
	q.banks = 0;
	CHECK_EQ(fwp_hashes_decode(&q, 1000, 4096, &n), FWP_ST_BAD_HEADER);	/* Q3 */
	q.banks = 4;
	CHECK_EQ(fwp_hashes_decode(&q, 1000, 4096, &n), FWP_ST_BAD_HEADER);
	q.banks = 1;
	q.reserved = 1;
	CHECK_EQ(fwp_hashes_decode(&q, 1000, 4096, &n), FWP_ST_BAD_HEADER);
}

/* Rules K4..K7 of PROTOCOL.md 14.3: blocks of 64 KiB, an image of 200000 bytes held to 65536. */
static void test_keep(void)
{
	const uint32_t blk = 65536;
	struct fwp_keep_body k = { .length = blk };

	CHECK_EQ(fwp_keep_decode(&k, blk, blk, blk, 200000, 200000), FWP_ST_OK);
	k.length = 200000 - blk;		/* to the end of the image: a short last block */
	CHECK_EQ(fwp_keep_decode(&k, blk, blk, blk, 200000, 200000), FWP_ST_OK);
	CHECK_EQ(fwp_keep_decode(&k, blk, blk, blk, 200000, 199999), FWP_ST_OUT_OF_RANGE);
	k.length = 200000 - blk - 1;		/* K6: neither whole blocks nor the end */
	CHECK_EQ(fwp_keep_decode(&k, blk, blk, blk, 200000, 200000), FWP_ST_BAD_LENGTH);
	k.length = 0;
	CHECK_EQ(fwp_keep_decode(&k, blk, blk, blk, 200000, 200000), FWP_ST_BAD_LENGTH);
	k.length = 3 * (uint64_t)blk;		/* K7: past the image */
	CHECK_EQ(fwp_keep_decode(&k, blk, blk, blk, 200000, 1u << 20), FWP_ST_OUT_OF_RANGE);
	k.length = UINT64_MAX - blk + 1;	/* no wrap around */
	CHECK_EQ(fwp_keep_decode(&k, blk, blk, blk, 200000, 1u << 20), FWP_ST_OUT_OF_RANGE);
	k.length = blk;
	CHECK_EQ(fwp_keep_decode(&k, 0, blk, blk, 200000, 200000), FWP_ST_OUT_OF_RANGE); /* K5 */
	CHECK_EQ(fwp_keep_decode(&k, 4096, 4096, blk, 200000, 200000), FWP_ST_OUT_OF_RANGE);
	k.reserved = 1;						/* K4 */
	CHECK_EQ(fwp_keep_decode(&k, blk, blk, blk, 200000, 200000), FWP_ST_BAD_HEADER);
}

int main(void)
{
	test_layout();
	test_ctrl();
	test_seq();
	test_find();
	test_msg();
	test_start();
	test_hashes();
	test_keep();
	test_strings();
	return check_done("test_wire");
}
