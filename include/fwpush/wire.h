/* SPDX-License-Identifier: MIT */
/*
 * fwpush wire protocol, version 2: the window layout and the messages that cross it.
 * docs/PROTOCOL.md is the normative description; this header is its C form. Every field one
 * side polls is an aligned 32-bit word: single-copy atomic on a 32-bit BMC and across PCIe.
 */
#ifndef FWPUSH_WIRE_H
#define FWPUSH_WIRE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwpush/hash.h"

#ifdef __cplusplus
extern "C" {
#endif
/* What this header declares is libfwpush's ABI: exported from libfwpush.so. */
#pragma GCC visibility push(default)

#define FWP_PROTO_VERSION	2
#define FWP_WINDOW_MAGIC	0x3157485355505746ULL	/* "FWPUSHW1", in every version */
#define FWP_MSG_MAGIC		0x4d505746U		/* "FWPM" */
#define FWP_LINE		64
#define FWP_PAGE		4096

#define FWP_SLOTS_MAX		64
#define FWP_SLOT_SIZE_MIN	FWP_PAGE
#define FWP_SLOT_SIZE_MAX	(64u << 20)

/* How far ahead of the last message handled a START may resynchronise (PROTOCOL.md 5.1). */
#define FWP_SEQ_JUMP		65536u
/* A serving BMC changes its heartbeat at least this often (section 7). */
#define FWP_BEAT_MS		100u
/* A host may call a window without a heartbeat change for this long unserved (6.1). */
#define FWP_LIVE_MS		1000u

/* caps: the window is an ivshmem-doorbell device's memory; ring_value rings the BMC (8). */
#define FWP_CAP_IVSHMEM_DOORBELL	(1u << 0)
/* caps: the BMC answers HASHES and KEEP: delta flash (section 14). */
#define FWP_CAP_BLOCK_HASHES		(1u << 1)
/* caps: the BMC takes running sessions, each chunk checked by the image's digest so far (15). */
#define FWP_CAP_RUNNING_DIGEST		(1u << 2)

enum fwp_msg_type {
	FWP_MSG_START	= 1,	/* START_UPGRADE */
	FWP_MSG_DATA	= 2,
	FWP_MSG_FINISH	= 3,
	FWP_MSG_ABORT	= 4,
	FWP_MSG_HASHES	= 5,	/* with FWP_CAP_BLOCK_HASHES */
	FWP_MSG_KEEP	= 6,	/* with FWP_CAP_BLOCK_HASHES */
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
	FWP_ST_BAD_VERSION	= 15,	/* the header is of another protocol version */
	FWP_ST_BAD_EPOCH	= 16,	/* the header names another window generation */
};

/* Sequence numbers: 32 bits, 0 never used, compared with serial arithmetic (RFC 1982). */
static inline uint32_t fwp_seq_next(uint32_t s)
{
	return s == UINT32_MAX ? 1 : s + 1;
}

/* a - b as a signed distance: > 0 when a is after b. */
static inline int32_t fwp_seq_dist(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

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
	uint32_t epoch;		/* the window's generation; 0: not published. Written last. */
	uint32_t heartbeat;
	uint32_t last_seq;	/* the sequence number the BMC last handled in order */
	uint32_t ring_value;	/* FWP_CAP_IVSHMEM_DOORBELL: what rings the BMC's register */
};

struct fwp_host_db {
	uint32_t seq;
	uint8_t reserved[60];
};

/* The BMC doorbell and the acknowledgement share one cache line; seq is written last. */
struct fwp_ack {
	uint32_t seq;
	uint16_t status;
	uint16_t type;
	uint32_t epoch;
	uint32_t reserved0;
	uint64_t offset;
	struct fwp_hash128 hash;
	uint8_t reserved[24];
};

struct fwp_msg_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t seq;
	uint32_t epoch;
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
/*
 * A running session (needs FWP_CAP_RUNNING_DIGEST): DATA's body_hash and the answers to DATA and
 * KEEP carry the XXH3-128 of the image from its start through the chunk, not of the chunk alone.
 */
#define FWP_START_RUNNING	(1u << 2)

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

/* HASHES: which banks' block hashes (section 14.2). */
#define FWP_BANK_ACTIVE		(1u << 0)
#define FWP_BANK_INACTIVE	(1u << 1)

struct fwp_hashes_body {
	uint32_t first;		/* the first block wanted */
	uint32_t count;		/* blocks wanted; the BMC may answer fewer */
	uint32_t banks;		/* FWP_BANK_* */
	uint32_t reserved;
};

/* The head of a HASHES answer, in the slot's body area; n x banks hashes follow it. */
struct fwp_hashes_answer {
	uint32_t block_size;
	uint32_t first;
	uint32_t n;
	uint32_t banks;
	uint64_t active_size;
	uint64_t inactive_size;
	uint64_t reserved[4];
};

/* KEEP: the image's bytes offset .. offset + length are the active image's (section 14.3). */
struct fwp_keep_body {
	uint64_t length;
	uint64_t reserved;
};

_Static_assert(sizeof(struct fwp_win_ctrl) == FWP_LINE, "control block is one line");
_Static_assert(sizeof(struct fwp_host_db) == FWP_LINE, "host doorbell is one line");
_Static_assert(sizeof(struct fwp_ack) == FWP_LINE, "BMC doorbell is one line");
_Static_assert(sizeof(struct fwp_msg_hdr) == FWP_LINE, "message header is one line");
_Static_assert(sizeof(struct fwp_start_body) == 48, "START_UPGRADE body is frozen");
_Static_assert(sizeof(struct fwp_finish_body) == 16, "FINISH body is frozen");
_Static_assert(sizeof(struct fwp_finish_signed) == 80, "signed FINISH body is frozen");
_Static_assert(sizeof(struct fwp_hashes_body) == 16, "HASHES body is frozen");
_Static_assert(sizeof(struct fwp_hashes_answer) == FWP_LINE, "HASHES answer head is a line");
_Static_assert(sizeof(struct fwp_keep_body) == 16, "KEEP body is frozen");

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

/*
 * Fills a control block for the layout, epoch included (the caller publishes the epoch last:
 * fwp_win_publish).
 */
void fwp_ctrl_encode(struct fwp_win_ctrl *c, const struct fwp_layout *l,
		     uint64_t flash_capacity, uint32_t epoch);

/*
 * Checks a control block copied out of a mapping of map_size bytes and derives the layout.
 * -EPROTO: not an fwpush window; -EAGAIN: not published (epoch 0); -EPROTONOSUPPORT: another
 * protocol version; -EBADMSG: fields inconsistent; -EMSGSIZE: the layout does not fit.
 */
int fwp_ctrl_decode(const struct fwp_win_ctrl *c, size_t map_size, struct fwp_layout *l);

/*
 * Finds a window in a BAR of len bytes: the first 4096-aligned offset with the magic, a nonzero
 * epoch and a version (PROTOCOL.md 1.3). Reads only those words. 0 and *offset, or -ENOENT.
 * Inline: the PCI transports' module uses it without the rest of the codec.
 */
static inline int fwp_window_find(const void *bar, size_t len, size_t *offset)
{
	const unsigned char *b = (const unsigned char *)bar;
	const struct fwp_win_ctrl *c;
	size_t off;

	for (off = 0; len >= sizeof(*c) && off <= len - sizeof(*c); off += FWP_PAGE) {
		c = (const struct fwp_win_ctrl *)(b + off);
		if (c->magic == FWP_WINDOW_MAGIC && c->epoch && c->version) {
			*offset = off;
			return 0;
		}
	}
	return -ENOENT;
}

/* Fills magic, version, seq, epoch and the header check. */
void fwp_msg_encode(struct fwp_msg_hdr *h, enum fwp_msg_type type, uint32_t seq,
		    uint32_t epoch, uint64_t offset, uint32_t length,
		    const struct fwp_hash128 *body_hash);

/*
 * Validates a header copied out of the window (never decode in place: the peer may change it)
 * against the doorbell's sequence number and the window's epoch: rules H1..H11 of PROTOCOL.md
 * 3.1, in order. Returns FWP_ST_OK or the status that answers the first rule broken.
 */
enum fwp_status fwp_msg_decode(const struct fwp_msg_hdr *h, uint32_t slot_size, uint32_t seq,
			       uint32_t epoch);

/* Can the type of this header be trusted (magic, check, version and type good; 5.6)? */
bool fwp_msg_type_known(const struct fwp_msg_hdr *h);

/*
 * Validates a START_UPGRADE body against the BMC's limits; returns the status to answer. For a
 * BMC that sets FWP_CAP_RUNNING_DIGEST (fwpush's does): FWP_START_RUNNING is a known flag.
 */
enum fwp_status fwp_start_decode(const struct fwp_start_body *b, uint32_t slot_size,
				 uint64_t flash_capacity);

/*
 * Validates a HASHES body (rules Q3..Q5 of PROTOCOL.md 14.2) for a flash of nblocks blocks;
 * returns the status to answer. *n: how many blocks the answer holds in a slot of slot_size.
 */
enum fwp_status fwp_hashes_decode(const struct fwp_hashes_body *q, uint32_t nblocks,
				  uint32_t slot_size, uint32_t *n);

/* Bytes of a HASHES answer of n blocks for these banks: the head and the hashes. */
static inline uint64_t fwp_hashes_answer_len(uint32_t banks, uint32_t n)
{
	return sizeof(struct fwp_hashes_answer) +
	       (uint64_t)n * sizeof(struct fwp_hash128) * ((banks & 1) + (banks >> 1 & 1));
}

/*
 * Validates a KEEP body at header offset off (rules K4..K7 of PROTOCOL.md 14.3): held, the
 * bytes the session holds; block, the BMC's block size; image, the session's image size;
 * active, the active image's size. Returns the status to answer.
 */
enum fwp_status fwp_keep_decode(const struct fwp_keep_body *k, uint64_t off, uint64_t held,
				uint32_t block, uint64_t image, uint64_t active);

const char *fwp_status_str(unsigned status);
const char *fwp_msg_type_str(unsigned type);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
