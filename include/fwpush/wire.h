/* SPDX-License-Identifier: MIT */
/*
 * fwpush wire protocol, version 1: the window layout and the messages that cross it.
 * docs/PROTOCOL.md is the normative description; this header is its C form.
 */
#ifndef FWPUSH_WIRE_H
#define FWPUSH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "fwpush/hash.h"

#ifdef __cplusplus
extern "C" {
#endif
/* What this header declares is libfwpush's ABI: exported from libfwpush.so. */
#pragma GCC visibility push(default)

#define FWP_PROTO_VERSION	1
#define FWP_WINDOW_MAGIC	0x3157485355505746ULL	/* "FWPUSHW1" */
#define FWP_MSG_MAGIC		0x4d505746U		/* "FWPM" */
#define FWP_LINE		64
#define FWP_PAGE		4096

#define FWP_SLOTS_MAX		64
#define FWP_SLOT_SIZE_MIN	FWP_PAGE
#define FWP_SLOT_SIZE_MAX	(64u << 20)

enum fwp_msg_type {
	FWP_MSG_START	= 1,	/* START_UPGRADE */
	FWP_MSG_DATA	= 2,
	FWP_MSG_FINISH	= 3,
	FWP_MSG_ABORT	= 4,
};

enum fwp_status {
	FWP_ST_OK		= 0,
	FWP_ST_BAD_HEADER	= 1,
	FWP_ST_BAD_HASH		= 2,
	FWP_ST_OUT_OF_RANGE	= 3,
	FWP_ST_BAD_STATE	= 4,
	FWP_ST_TOO_LARGE	= 5,
	FWP_ST_BAD_LENGTH	= 6,
	FWP_ST_BAD_SEQ		= 7,
	FWP_ST_VERIFY_FAILED	= 8,
	FWP_ST_STORAGE_ERROR	= 9,
	FWP_ST_ABORTED		= 10,
	FWP_ST_BUSY		= 11,
	FWP_ST_IDLE_TIMEOUT	= 12,	/* the session saw no message for the BMC's idle timeout */
	FWP_ST_AUTH_REQUIRED	= 13,	/* the BMC requires a signature and FINISH had none */
	FWP_ST_AUTH_FAILED	= 14,	/* the signature does not verify with the BMC's key */
};

/* Offset 0 of the window. Written by the BMC, magic last. */
struct fwp_win_ctrl {
	uint64_t magic;
	uint16_t version;
	uint16_t ctrl_size;
	uint32_t slot_count;
	uint32_t slot_size;
	uint32_t slot_stride;
	uint32_t body_offset;
	uint32_t caps;
	uint64_t window_size;
	uint64_t flash_capacity;
	uint64_t heartbeat;
	uint32_t bmc_pid;
	uint32_t reserved;
};

struct fwp_host_db {
	uint64_t seq;
	uint8_t reserved[56];
};

/* The BMC doorbell and the acknowledgement share one cache line; seq is written last. */
struct fwp_ack {
	uint64_t seq;
	uint16_t status;
	uint16_t type;
	uint32_t reserved0;
	uint64_t offset;
	struct fwp_hash128 hash;
	uint8_t reserved[24];
};

struct fwp_msg_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint64_t seq;
	uint64_t offset;
	uint32_t length;
	uint32_t flags;
	struct fwp_hash128 body_hash;
	uint64_t reserved;
	uint64_t check;		/* XXH3-64 of the 56 bytes before it */
};

#define FWP_START_HAS_HASH	(1u << 0)
/* Continue the open session for this image if there is one (needs FWP_START_HAS_HASH). */
#define FWP_START_RESUME	(1u << 1)

struct fwp_start_body {
	uint64_t image_size;
	uint32_t chunk_size;
	uint32_t component;
	uint32_t flags;
	uint32_t reserved0;
	struct fwp_hash128 image_hash;
	uint64_t reserved1;
};

struct fwp_finish_body {
	struct fwp_hash128 image_hash;
};

/* FINISH with a detached Ed25519 signature of the whole image. */
struct fwp_finish_signed {
	struct fwp_hash128 image_hash;
	uint8_t signature[64];
};

_Static_assert(sizeof(struct fwp_win_ctrl) == FWP_LINE, "control block is one line");
_Static_assert(sizeof(struct fwp_host_db) == FWP_LINE, "host doorbell is one line");
_Static_assert(sizeof(struct fwp_ack) == FWP_LINE, "BMC doorbell is one line");
_Static_assert(sizeof(struct fwp_msg_hdr) == FWP_LINE, "message header is one line");
_Static_assert(sizeof(struct fwp_start_body) == 48, "START_UPGRADE body is frozen");
_Static_assert(sizeof(struct fwp_finish_body) == 16, "FINISH body is frozen");
_Static_assert(sizeof(struct fwp_finish_signed) == 80, "signed FINISH body is frozen");

/* Where everything lives in a window of a given shape (section 1 of PROTOCOL.md). */
struct fwp_layout {
	uint32_t slot_count;
	uint32_t slot_size;
	uint32_t slot_stride;
	uint32_t host_db_offset;
	uint32_t ack_offset;
	uint32_t hdr_offset;
	uint32_t body_offset;
	uint64_t window_size;
};

/* Computes the layout; -EINVAL if slot_count or slot_size is out of range. */
int fwp_layout_init(struct fwp_layout *l, uint32_t slot_count, uint32_t slot_size);

/* Fills a control block for the layout (magic included; the caller publishes it last). */
void fwp_ctrl_encode(struct fwp_win_ctrl *c, const struct fwp_layout *l,
		     uint64_t flash_capacity, uint32_t bmc_pid);

/*
 * Checks a control block copied out of a mapping of map_size bytes and derives the layout.
 * -EPROTO: not an fwpush window; -EPROTONOSUPPORT: other protocol version;
 * -EBADMSG: fields inconsistent; -EMSGSIZE: the layout does not fit in the mapping.
 */
int fwp_ctrl_decode(const struct fwp_win_ctrl *c, size_t map_size, struct fwp_layout *l);

/* Fills magic, version, seq and the header check. */
void fwp_msg_encode(struct fwp_msg_hdr *h, enum fwp_msg_type type, uint64_t seq,
		    uint64_t offset, uint32_t length, const struct fwp_hash128 *body_hash);

/*
 * Validates a header copied out of the window (never decode in place: the peer may change it).
 * Returns 0, or the fwp_status that answers it: FWP_ST_BAD_HEADER or FWP_ST_BAD_LENGTH or
 * FWP_ST_OUT_OF_RANGE.
 */
enum fwp_status fwp_msg_decode(const struct fwp_msg_hdr *h, uint32_t slot_size);

/* Validates a START_UPGRADE body against the BMC's limits; returns the status to answer. */
enum fwp_status fwp_start_decode(const struct fwp_start_body *b, uint32_t slot_size,
				 uint64_t flash_capacity);

const char *fwp_status_str(unsigned status);
const char *fwp_msg_type_str(unsigned type);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
