/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "fwpush/wire.h"
#include "core/hash.h"

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

int fwp_layout_init(struct fwp_layout *l, uint32_t slot_count, uint32_t slot_size)
{
	if (slot_count < 1 || slot_count > FWP_SLOTS_MAX)
		return -EINVAL;
	if (slot_size < FWP_SLOT_SIZE_MIN || slot_size > FWP_SLOT_SIZE_MAX ||
	    slot_size % FWP_PAGE)
		return -EINVAL;
	l->slot_count = slot_count;
	l->slot_size = slot_size;
	l->slot_stride = slot_size;
	l->host_db_offset = FWP_LINE;
	l->ack_offset = l->host_db_offset + FWP_LINE * slot_count;
	l->hdr_offset = l->ack_offset + FWP_LINE * slot_count;
	l->body_offset = round_up(l->hdr_offset + FWP_LINE * slot_count, FWP_PAGE);
	l->window_size = l->body_offset + (uint64_t)l->slot_stride * slot_count;
	return 0;
}

void fwp_ctrl_encode(struct fwp_win_ctrl *c, const struct fwp_layout *l,
		     uint64_t flash_capacity, uint32_t epoch)
{
	memset(c, 0, sizeof(*c));
	c->magic = FWP_WINDOW_MAGIC;
	c->version = FWP_PROTO_VERSION;
	c->ctrl_size = sizeof(*c);
	c->slot_count = l->slot_count;
	c->slot_size = l->slot_size;
	c->slot_stride = l->slot_stride;
	c->body_offset = l->body_offset;
	c->window_size = l->window_size;
	c->flash_capacity = flash_capacity;
	c->epoch = epoch;
}

int fwp_ctrl_decode(const struct fwp_win_ctrl *c, size_t map_size, struct fwp_layout *l)
{
	if (c->magic != FWP_WINDOW_MAGIC)
		return -EPROTO;
	/* A version-1 window has no epoch here: its version is what to report. */
	if (c->version == FWP_PROTO_VERSION && !c->epoch)
		return -EAGAIN;
	if (c->version != FWP_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (c->ctrl_size != sizeof(*c) || fwp_layout_init(l, c->slot_count, c->slot_size))
		return -EBADMSG;
	if (c->slot_stride != l->slot_stride || c->body_offset != l->body_offset ||
	    c->window_size != l->window_size)
		return -EBADMSG;
	if (l->window_size > map_size)
		return -EMSGSIZE;
	return 0;
}

static uint64_t header_check(const struct fwp_msg_hdr *h)
{
	return fwp_xxh64(h, offsetof(struct fwp_msg_hdr, check));
}

void fwp_msg_encode(struct fwp_msg_hdr *h, enum fwp_msg_type type, uint32_t seq,
		    uint32_t epoch, uint64_t offset, uint32_t length,
		    const struct fwp_hash128 *body_hash)
{
	memset(h, 0, sizeof(*h));
	h->magic = FWP_MSG_MAGIC;
	h->version = FWP_PROTO_VERSION;
	h->type = type;
	h->seq = seq;
	h->epoch = epoch;
	h->offset = offset;
	h->length = length;
	if (body_hash)
		h->body_hash = *body_hash;
	h->check = header_check(h);
}

static bool known_type(const struct fwp_msg_hdr *h)
{
	return h->type >= FWP_MSG_START && h->type <= FWP_MSG_KEEP;
}

static bool zero_hash(const struct fwp_hash128 *x)
{
	return !x->lo && !x->hi;
}

/* Rules H1..H11 of PROTOCOL.md 3.1, in their order. */
enum fwp_status fwp_msg_decode(const struct fwp_msg_hdr *h, uint32_t slot_size, uint32_t seq,
			       uint32_t epoch)
{
	if (h->magic != FWP_MSG_MAGIC || h->check != header_check(h))
		return FWP_ST_BAD_HEADER;
	if (h->version != FWP_PROTO_VERSION)
		return FWP_ST_BAD_VERSION;
	if (h->seq != seq)
		return FWP_ST_BAD_HEADER;
	if (h->epoch != epoch)
		return FWP_ST_BAD_EPOCH;
	if (!known_type(h) || h->flags || h->reserved)
		return FWP_ST_BAD_HEADER;
	if (h->length > slot_size)
		return FWP_ST_BAD_LENGTH;
	if (h->offset > UINT64_MAX - h->length ||
	    (h->type != FWP_MSG_DATA && h->type != FWP_MSG_KEEP && h->offset))
		return FWP_ST_OUT_OF_RANGE;
	if (!h->length && !zero_hash(&h->body_hash))
		return FWP_ST_BAD_HEADER;
	return FWP_ST_OK;
}

bool fwp_msg_type_known(const struct fwp_msg_hdr *h)
{
	return h->magic == FWP_MSG_MAGIC && h->check == header_check(h) &&
	       h->version == FWP_PROTO_VERSION && known_type(h);
}

enum fwp_status fwp_start_decode(const struct fwp_start_body *b, uint32_t slot_size,
				 uint64_t flash_capacity)
{
	/* FWP_START_RUNNING: this decoder is the fwpush BMC's, which sets FWP_CAP_RUNNING_DIGEST. */
	if (b->reserved0 || b->reserved1 ||
	    (b->flags & ~(FWP_START_HAS_HASH | FWP_START_RESUME | FWP_START_RUNNING)))
		return FWP_ST_BAD_HEADER;
	if ((b->flags & FWP_START_RESUME) && !(b->flags & FWP_START_HAS_HASH))
		return FWP_ST_BAD_HEADER;	/* resuming needs to know it is the same image */
	if (b->image_size == 0)
		return FWP_ST_BAD_LENGTH;
	if (b->image_size > flash_capacity)
		return FWP_ST_TOO_LARGE;
	if (b->chunk_size == 0 || b->chunk_size > slot_size)
		return FWP_ST_BAD_LENGTH;
	return FWP_ST_OK;
}

enum fwp_status fwp_hashes_decode(const struct fwp_hashes_body *q, uint32_t nblocks,
				  uint32_t slot_size, uint32_t *n)
{
	uint64_t fit;

	if (q->reserved || !q->banks || q->banks > (FWP_BANK_ACTIVE | FWP_BANK_INACTIVE))
		return FWP_ST_BAD_HEADER;
	if (!q->count)
		return FWP_ST_BAD_LENGTH;
	if (q->first >= nblocks)
		return FWP_ST_OUT_OF_RANGE;
	fit = (slot_size - sizeof(struct fwp_hashes_answer)) /
	      (fwp_hashes_answer_len(q->banks, 1) - sizeof(struct fwp_hashes_answer));
	*n = q->count;
	if (*n > nblocks - q->first)
		*n = nblocks - q->first;
	if (*n > fit)
		*n = (uint32_t)fit;
	return FWP_ST_OK;
}

enum fwp_status fwp_keep_decode(const struct fwp_keep_body *k, uint64_t off, uint64_t held,
				uint32_t block, uint64_t image, uint64_t active)
{
	if (k->reserved)
		return FWP_ST_BAD_HEADER;
	if (off != held || off % block)
		return FWP_ST_OUT_OF_RANGE;
	if (!k->length || (k->length % block && k->length != image - off))
		return FWP_ST_BAD_LENGTH;
	if (k->length > image - off || off + k->length > active)
		return FWP_ST_OUT_OF_RANGE;
	return FWP_ST_OK;
}

const char *fwp_status_str(unsigned status)
{
	static const char *const names[] = {
		[FWP_ST_OK] = "ok",
		[FWP_ST_BAD_HEADER] = "bad message header",
		[FWP_ST_BAD_HASH] = "chunk hash mismatch",
		[FWP_ST_OUT_OF_RANGE] = "offset out of range",
		[FWP_ST_BAD_STATE] = "message not valid in this state",
		[FWP_ST_TOO_LARGE] = "image larger than the flash area",
		[FWP_ST_BAD_LENGTH] = "invalid transfer length",
		[FWP_ST_BAD_SEQ] = "stale sequence number",
		[FWP_ST_VERIFY_FAILED] = "image hash mismatch",
		[FWP_ST_STORAGE_ERROR] = "flash write failed",
		[FWP_ST_ABORTED] = "aborted",
		[FWP_ST_BUSY] = "busy",
		[FWP_ST_IDLE_TIMEOUT] = "session idle too long",
		[FWP_ST_AUTH_REQUIRED] = "image not signed; the BMC requires a signature",
		[FWP_ST_AUTH_FAILED] = "signature does not verify with the BMC's key",
		[FWP_ST_BAD_VERSION] = "message of another protocol version",
		[FWP_ST_BAD_EPOCH] = "message for an earlier window generation (the BMC restarted)",
	};

	if (status < sizeof(names) / sizeof(names[0]) && names[status])
		return names[status];
	return "unknown status";
}

const char *fwp_msg_type_str(unsigned type)
{
	switch (type) {
	case FWP_MSG_START:	return "START_UPGRADE";
	case FWP_MSG_DATA:	return "DATA";
	case FWP_MSG_FINISH:	return "FINISH";
	case FWP_MSG_ABORT:	return "ABORT";
	case FWP_MSG_HASHES:	return "HASHES";
	case FWP_MSG_KEEP:	return "KEEP";
	default:		return "UNKNOWN";
	}
}
