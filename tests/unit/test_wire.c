/* SPDX-License-Identifier: MIT */
/* Window layout and message codec: round trips, and every rejection the decoder promises. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "check.h"
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
	CHECK_EQ(offsetof(struct fwp_ack, seq), 0);
	CHECK_EQ(offsetof(struct fwp_msg_hdr, check), 56);
	CHECK_EQ(offsetof(struct fwp_win_ctrl, heartbeat), 48);
}

static void test_ctrl(void)
{
	struct fwp_layout l, got;
	struct fwp_win_ctrl c, bad;

	CHECK_EQ(fwp_layout_init(&l, 4, 1 << 20), 0);
	fwp_ctrl_encode(&c, &l, 1 << 30, 42);
	CHECK_EQ(fwp_ctrl_decode(&c, l.window_size, &got), 0);
	CHECK_EQ(got.slot_count, l.slot_count);
	CHECK_EQ(got.slot_size, l.slot_size);
	CHECK_EQ(got.body_offset, l.body_offset);
	CHECK_EQ(got.ack_offset, l.ack_offset);
	CHECK_EQ(got.window_size, l.window_size);
	CHECK_EQ(fwp_ctrl_decode(&c, l.window_size - 1, &got), -EMSGSIZE);
	bad = c, bad.magic ^= 1;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EPROTO);
	bad = c, bad.version = 2;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EPROTONOSUPPORT);
	bad = c, bad.body_offset += 64;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EBADMSG);
	bad = c, bad.slot_count = 0;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EBADMSG);
	bad = c, bad.slot_size = 100;
	CHECK_EQ(fwp_ctrl_decode(&bad, l.window_size, &got), -EBADMSG);
	bad = c, bad.window_size = 1ull << 62;
	CHECK_EQ(fwp_ctrl_decode(&bad, 1ull << 63, &got), -EBADMSG);
}

static void test_msg(void)
{
	const struct fwp_hash128 hash = { 0x0123456789abcdefull, 0xfedcba9876543210ull };
	struct fwp_msg_hdr h, bad;
	size_t i;

	fwp_msg_encode(&h, FWP_MSG_DATA, 77, 1 << 20, 4096, &hash);
	CHECK_EQ(fwp_msg_decode(&h, 4096), FWP_ST_OK);
	CHECK_EQ(h.magic, FWP_MSG_MAGIC);
	CHECK_EQ(h.seq, 77);
	CHECK_EQ(h.offset, 1 << 20);
	CHECK_EQ(h.length, 4096);
	CHECK(h.body_hash.lo == hash.lo && h.body_hash.hi == hash.hi);

	CHECK_EQ(fwp_msg_decode(&h, 4095), FWP_ST_BAD_LENGTH);	/* oversized length */
	bad = h, bad.magic ^= 1;
	CHECK_EQ(fwp_msg_decode(&bad, 4096), FWP_ST_BAD_HEADER);
	fwp_msg_encode(&bad, FWP_MSG_DATA, 1, 0, 1, &hash);
	bad.version = 9;
	CHECK_EQ(fwp_msg_decode(&bad, 4096), FWP_ST_BAD_HEADER);
	/* Every single-bit flip in the checked bytes is caught by the header check. */
	for (i = 0; i < 56 * 8; i++) {
		bad = h;
		((unsigned char *)&bad)[i / 8] ^= 1u << (i % 8);
		CHECK(fwp_msg_decode(&bad, 1u << 30) != FWP_ST_OK);
	}
	/* Properly checked headers that are still wrong. */
	fwp_msg_encode(&bad, 0, 1, 0, 0, NULL);
	CHECK_EQ(fwp_msg_decode(&bad, 4096), FWP_ST_BAD_HEADER);
	fwp_msg_encode(&bad, FWP_MSG_ABORT + 1, 1, 0, 0, NULL);
	CHECK_EQ(fwp_msg_decode(&bad, 4096), FWP_ST_BAD_HEADER);
	fwp_msg_encode(&bad, FWP_MSG_DATA, 1, UINT64_MAX - 10, 11, &hash);
	CHECK_EQ(fwp_msg_decode(&bad, 4096), FWP_ST_OUT_OF_RANGE);
	fwp_msg_encode(&bad, FWP_MSG_DATA, 1, UINT64_MAX - 10, 10, &hash);
	CHECK_EQ(fwp_msg_decode(&bad, 4096), FWP_ST_OK);
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
	bad = b, bad.flags = 2;
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

int main(void)
{
	test_layout();
	test_ctrl();
	test_msg();
	test_start();
	test_strings();
	return check_done("test_wire");
}
