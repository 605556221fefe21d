/* SPDX-License-Identifier: MIT */
/*
 * The emulated BMC. It addresses the window only through its private copy of the layout and
 * decodes only private copies of what the host wrote, so nothing the host writes can steer it
 * outside the window or outside the image it is receiving.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "fwpush/bmc.h"
#include "transport/target.h"
#include "bmc/door.h"
#include "bmc/flash.h"
#include "fwpush/sign.h"
#include "core/hash.h"
#include "core/opts.h"
#include "core/poll.h"
#include "core/window.h"

enum bmc_state { BMC_IDLE, BMC_DOWNLOAD };

/* The heartbeat's period: half what the protocol allows, so that a late wake-up keeps it. */
#define BEAT_NS		((uint64_t)FWP_BEAT_MS * 1000000u / 2)
/*
 * With a register doorbell the BMC polls memory this long after its last message before it
 * sleeps until rung: a host that does not ring (shm:) keeps its speed within a push.
 */
#define DOZE_NS		(100u * 1000000u)

struct fwp_bmc {
	struct fwp_target *target;
	struct fwp_window win;		/* private copy of the layout */
	const struct fwp_flash_ops *flash;	/* the file flash, or the BMC firmware's own */
	void *flash_ctx;
	unsigned char *bounce;		/* a chunk on its way to a flash that does not stage */
	struct fwp_verifier *verifier;	/* NULL: images need no signature */
	struct fwp_nor_model nor;
	uint64_t flash_capacity;
	uint32_t last_seq;		/* L: the sequence number last handled in order */
	uint32_t hint;			/* slot where the next message most likely is */
	uint32_t beats;			/* heartbeats so far */
	uint64_t t_beat;		/* when the heartbeat last changed */
	bool doorbell;			/* a register doorbell: sleep until rung, ring hosts */
	uint32_t block;			/* HASHES and KEEP's erase block; 0: no BLOCK_HASHES */
	struct fwp_ack handled[FWP_SLOTS_MAX];	/* each slot's answer to its last message handled */
	struct fwp_bmc_opts opts;

	/* The open session, and why the last one ended (what a DATA or FINISH then gets). */
	enum bmc_state state;
	enum fwp_status no_session;
	struct fwp_start_body start;
	uint64_t received;
	uint64_t t_start;
	uint64_t t_last;		/* last message of the session */
	uint64_t idle_ns;
	unsigned char *staging;		/* the inactive flash bank, if the flash maps it */
	struct fwp_hstate image_hs;
	const volatile int *stop;

	/*
	 * The two doors (bmc/door.h): who holds the flash, and what another thread may read.
	 * owner and pub_received are also read without the lock (atomics).
	 */
	pthread_mutex_t door_lock;
	int owner;			/* enum fwp_door_owner */
	uint64_t pub_size, pub_received;
	uint64_t window_sessions;
	uint16_t window_status;
	bool window_done;
	struct fwp_door_bank active, inactive;
	char window_version[64];	/* of the image the window is receiving */
	char *flash_path;
	/* The door's session: held by the thread that opened it. */
	uint64_t d_size, d_received;
	unsigned char *d_staging;
	struct fwp_hstate d_hs;
};

static void heartbeat(struct fwp_bmc *b)
{
	fwp_win_beat(&b->win, ++b->beats);
	b->t_beat = fwp_now_ns();
}

/*
 * The file flash beats between the steps of preparing a bank: the window's BMC thread only;
 * while the door's thread prepares it, that thread must not touch the window.
 */
static void flash_beat(void *arg)
{
	struct fwp_bmc *b = arg;

	if (__atomic_load_n(&b->owner, __ATOMIC_ACQUIRE) != FWP_DOOR_DOOR)
		heartbeat(b);
}

/*
 * The version an image carries: the PackageVersionString of a PLDM firmware update package
 * (DSP0267: the package header's UUID, format revision, header size, release time, component
 * bitmap length, then the version string's type, length and bytes), printable ASCII only.
 */
static void pkg_version(const unsigned char *p, uint64_t n, char out[64])
{
	static const unsigned char uuid[2][16] = {
		{ 0xf0, 0x18, 0x87, 0x8c, 0xcb, 0x7d, 0x49, 0x43,	/* header format 1.0 */
		  0x98, 0x00, 0xa0, 0x2f, 0x05, 0x9a, 0xca, 0x02 },
		{ 0x12, 0x44, 0xd2, 0x64, 0x8d, 0x7d, 0x47, 0x18,	/* header format 1.1 */
		  0xa0, 0x30, 0xfc, 0x8a, 0x56, 0x58, 0x7d, 0x5a },
	};
	unsigned len, i, k = 0;

	out[0] = 0;
	if (n < 36 || (memcmp(p, uuid[0], 16) && memcmp(p, uuid[1], 16)))
		return;
	len = p[35];
	if ((p[34] != 1 && p[34] != 2) || !len || 36 + (uint64_t)len > n)	/* ASCII, UTF-8 */
		return;
	for (i = 0; i < len && k < 63; i++) {
		if (p[36 + i] < 0x20 || p[36 + i] > 0x7e)
			return;		/* not a version we show */
		out[k++] = (char)p[36 + i];
	}
	out[k] = 0;
}

/* Takes the flash for one door; false if the other holds it. */
static bool door_take(struct fwp_bmc *b, enum fwp_door_owner who, uint64_t size)
{
	bool ok;

	pthread_mutex_lock(&b->door_lock);
	ok = b->owner == FWP_DOOR_FREE || b->owner == (int)who;
	if (ok) {
		__atomic_store_n(&b->owner, who, __ATOMIC_RELEASE);
		b->pub_size = size;
		__atomic_store_n(&b->pub_received, 0, __ATOMIC_RELAXED);
		b->inactive.known = 0;	/* being written over */
		if (who == FWP_DOOR_WINDOW) {
			b->window_sessions++;
			b->window_done = false;
		}
	}
	pthread_mutex_unlock(&b->door_lock);
	return ok;
}

/* Gives the flash back; an activated image becomes the active bank, the old one inactive. */
static void door_give(struct fwp_bmc *b, enum fwp_door_owner who, enum fwp_status st,
		      uint64_t size, const struct fwp_hash128 *hash, const char *version)
{
	pthread_mutex_lock(&b->door_lock);
	if (b->owner == (int)who) {
		__atomic_store_n(&b->owner, FWP_DOOR_FREE, __ATOMIC_RELEASE);
		if (who == FWP_DOOR_WINDOW) {
			b->window_status = (uint16_t)st;
			b->window_done = true;
		}
		if (st == FWP_ST_OK && hash) {
			b->inactive = b->active;
			b->active = (struct fwp_door_bank){ .known = 1, .size = size, .hash = *hash };
			snprintf(b->active.version, sizeof(b->active.version), "%s",
				 version ? version : "");
		}
	}
	pthread_mutex_unlock(&b->door_lock);
}

/*
 * Waits for a slow flash part (see fwp_flash_ready), beating the heartbeat so the host sees
 * the BMC working rather than gone. -EINTR if the BMC is told to stop; another negative
 * errno if the flash cannot make room for upto bytes (the file flash reserves ahead here).
 * The door's thread (window false) may block: it neither beats (the BMC's loop owns the
 * heartbeat) nor gives up when the BMC stops.
 */
static int wait_flash(struct fwp_bmc *b, uint64_t upto, bool ahead, bool window)
{
	struct fwp_backoff bo;
	int ret;

	fwp_backoff_reset(&bo);
	while (b->flash->ready && (ret = b->flash->ready(b->flash_ctx, upto, ahead)) <= 0) {
		if (ret < 0)
			return ret;
		if (window && *b->stop)
			return -EINTR;
		fwp_backoff_wait(&bo);
		if (window && bo.sleep_ns)
			heartbeat(b);
	}
	return 0;
}

/* BUSY when told to stop while the part is slow, STORAGE_ERROR when the flash failed. */
static enum fwp_status flash_status(int ret)
{
	return !ret ? FWP_ST_OK : ret == -EINTR ? FWP_ST_BUSY : FWP_ST_STORAGE_ERROR;
}

/* The answer line (PROTOCOL.md 5.6): offset is what the open session holds, 0 if none. */
static void publish(struct fwp_bmc *b, uint32_t slot, const struct fwp_ack *a)
{
	fwp_win_answer(&b->win, slot, a);
	if (b->doorbell)
		fwp_target_ring(b->target);	/* the host's interrupt (PROTOCOL.md 8) */
}

static struct fwp_ack make_answer(const struct fwp_bmc *b, uint32_t seq, uint16_t type,
				  enum fwp_status st, const struct fwp_hash128 *hash)
{
	return (struct fwp_ack){
		.seq = seq,
		.status = st,
		.type = type,
		.epoch = b->win.epoch,
		.offset = b->state == BMC_DOWNLOAD ? b->received : 0,
		.hash = hash ? *hash : (struct fwp_hash128){ 0, 0 },
	};
}

/* Answers a message handled in slot, and keeps the answer to replay it (PROTOCOL.md 5.1). */
static void answer(struct fwp_bmc *b, uint32_t slot, uint32_t seq, uint16_t type,
		   enum fwp_status st, const struct fwp_hash128 *hash)
{
	b->handled[slot] = make_answer(b, seq, type, st, hash);
	publish(b, slot, &b->handled[slot]);
}

static void session_close(struct fwp_bmc *b)
{
	b->staging = NULL;
	b->state = BMC_IDLE;
}

/* A session that ends without activating its image gives the bank's space back. */
static void flash_release(struct fwp_bmc *b)
{
	if (b->flash == &fwp_file_flash_ops)
		fwp_flash_release(b->flash_ctx);
}

/*
 * Ends the open session. A DATA or FINISH that comes after is told why: IDLE_TIMEOUT after
 * idleness, ABORTED after an ABORT, BAD_STATE after anything else (PROTOCOL.md 5.4).
 */
static void session_end(struct fwp_bmc *b, enum fwp_status st, uint16_t type,
			const struct fwp_hash128 *hash)
{
	struct fwp_bmc_session s = {
		.image_size = b->start.image_size,
		.bytes_received = b->received,
		.chunk_size = b->start.chunk_size,
		.component = b->start.component,
		.status = st,
		.failed_type = st ? type : 0,
		.ns = fwp_now_ns() - b->t_start,
	};

	if (hash)
		s.image_hash = *hash;
	if (st != FWP_ST_OK)
		flash_release(b);
	door_give(b, FWP_DOOR_WINDOW, st, b->start.image_size, hash, b->window_version);
	b->no_session = st == FWP_ST_IDLE_TIMEOUT ? st :
			st == FWP_ST_ABORTED && type == FWP_MSG_ABORT ? st : FWP_ST_BAD_STATE;
	session_close(b);
	if (b->opts.on_session)
		b->opts.on_session(b->opts.cb_arg, &s);
}

static enum fwp_status session_open(struct fwp_bmc *b, const struct fwp_start_body *sb)
{
	int ret;

	/* The other door (a Redfish upload) holds the flash: one update at a time. */
	if (!door_take(b, FWP_DOOR_WINDOW, sb->image_size))
		return FWP_ST_BUSY;
	b->start = *sb;
	b->received = 0;
	b->t_start = fwp_now_ns();
	heartbeat(b);
	ret = b->flash->begin(b->flash_ctx, sb->image_size, &b->staging);
	heartbeat(b);
	if (ret) {
		door_give(b, FWP_DOOR_WINDOW, FWP_ST_STORAGE_ERROR, 0, NULL, NULL);
		return FWP_ST_STORAGE_ERROR;	/* the flash put everything back itself */
	}
	/* A signature is checked over the staged image: a flash that does not stage cannot. */
	if (!b->staging && (b->verifier || !b->bounce)) {
		flash_release(b);
		door_give(b, FWP_DOOR_WINDOW, FWP_ST_STORAGE_ERROR, 0, NULL, NULL);
		return FWP_ST_STORAGE_ERROR;
	}
	fwp_hash()->reset(&b->image_hs);
	b->state = BMC_DOWNLOAD;
	return FWP_ST_OK;
}

/* Copies a small body out of the window and checks it against the header's hash. */
static enum fwp_status read_small_body(struct fwp_bmc *b, uint32_t slot,
				       const struct fwp_msg_hdr *h, void *out, size_t len)
{
	struct fwp_hash128 got;

	if (h->length != len)
		return FWP_ST_BAD_LENGTH;
	fwp_win_copy_out(&b->win, out, fwp_win_body(&b->win, slot), len);
	got = fwp_xxh128(out, len);
	return fwp_hash128_eq(&got, &h->body_hash) ? FWP_ST_OK : FWP_ST_BAD_HASH;
}

/* Is this START_UPGRADE asking to continue the open session, for the very same image? */
static bool resumes(const struct fwp_bmc *b, const struct fwp_start_body *sb)
{
	const struct fwp_start_body *o = &b->start;

	return b->state == BMC_DOWNLOAD && (sb->flags & FWP_START_RESUME) &&
	       (o->flags & FWP_START_HAS_HASH) &&
	       (sb->flags & FWP_START_RUNNING) == (o->flags & FWP_START_RUNNING) &&
	       sb->image_size == o->image_size &&
	       sb->chunk_size == o->chunk_size && sb->component == o->component &&
	       fwp_hash128_eq(&sb->image_hash, &o->image_hash);
}

static void on_start(struct fwp_bmc *b, uint32_t slot, const struct fwp_msg_hdr *h)
{
	struct fwp_start_body sb;
	enum fwp_status st;

	st = read_small_body(b, slot, h, &sb, sizeof(sb));
	if (!st)
		st = fwp_start_decode(&sb, b->win.layout.slot_size, b->flash_capacity);
	if (!st && resumes(b, &sb)) {
		answer(b, slot, h->seq, h->type, FWP_ST_OK, NULL);	/* offset: what we hold */
		return;
	}
	if (b->state != BMC_IDLE)
		session_end(b, FWP_ST_ABORTED, FWP_MSG_START, NULL);
	b->received = 0;
	if (!st)
		st = session_open(b, &sb);
	answer(b, slot, h->seq, h->type, st, NULL);
}

/*
 * Copies n bytes to dst (dst == src: in place) and feeds what landed to the image's hash, block
 * by block while it is in cache; in a plain session also to part, the hash of the message's
 * own bytes. In a running session (PROTOCOL.md 15) that is the one hash pass per byte.
 */
static void feed(struct fwp_bmc *b, void *dst, const void *src, size_t n, struct fwp_hstate *part)
{
	if (b->start.flags & FWP_START_RUNNING)
		fwp_hash()->copy_hash(dst, src, n, &b->image_hs, NULL);
	else
		fwp_hash()->copy_hash(dst, src, n, part, &b->image_hs);
}

/* What a DATA or KEEP is checked and answered with: the running digest, or the bytes' own. */
static struct fwp_hash128 fed_digest(const struct fwp_bmc *b, const struct fwp_hstate *part)
{
	return fwp_hash()->digest(b->start.flags & FWP_START_RUNNING ? &b->image_hs : part);
}

static void on_data(struct fwp_bmc *b, uint32_t slot, const struct fwp_msg_hdr *h)
{
	uint64_t left = b->start.image_size - b->received;
	uint32_t want = left < b->start.chunk_size ? (uint32_t)left : b->start.chunk_size;
	struct fwp_hstate chunk_hs, image_before;
	struct fwp_hash128 got;
	enum fwp_status st = FWP_ST_OK;
	const unsigned char *src;
	unsigned char *dst;

	if (b->state != BMC_DOWNLOAD)
		st = b->no_session;
	else if (h->offset != b->received || left == 0)
		st = FWP_ST_OUT_OF_RANGE;
	else if (h->length != want)
		st = FWP_ST_BAD_LENGTH;
	if (!st)
		st = flash_status(wait_flash(b, h->offset + want, true, true));
	if (st) {
		answer(b, slot, h->seq, h->type, st, NULL);
		/* The flash failed: the session cannot go on, and its space goes back now. */
		if (st == FWP_ST_STORAGE_ERROR)
			session_end(b, st, FWP_MSG_DATA, NULL);
		return;
	}
	/*
	 * One copy, window to flash (or to the bounce on its way there), hashing what landed
	 * (which the host cannot touch) block by block while it is in cache.
	 */
	dst = b->staging ? b->staging + h->offset : b->bounce;
	image_before = b->image_hs;
	fwp_hash()->reset(&chunk_hs);
	src = fwp_win_body(&b->win, slot);
	if (b->win.device) {
		/* Device memory: words out of the window first; the hash reads cached memory. */
		fwp_win_copy_out(&b->win, dst, src, want);
		src = dst;
	}
	feed(b, dst, src, want, &chunk_hs);
	got = fed_digest(b, &chunk_hs);
	st = fwp_hash128_eq(&got, &h->body_hash) ? FWP_ST_OK : FWP_ST_BAD_HASH;
	if (!st && b->flash->store(b->flash_ctx, h->offset, dst, want))
		st = FWP_ST_STORAGE_ERROR;
	if (st) {
		/* A resend overwrites these bytes; the image hash must not have seen them. */
		b->image_hs = image_before;
		answer(b, slot, h->seq, h->type, st, st == FWP_ST_BAD_HASH ? &got : NULL);
		if (st == FWP_ST_STORAGE_ERROR)
			session_end(b, st, FWP_MSG_DATA, NULL);
		return;
	}
	if (!h->offset)
		pkg_version(dst, want, b->window_version);	/* the first chunk holds the header */
	b->received += want;
	__atomic_store_n(&b->pub_received, b->received, __ATOMIC_RELAXED);
	answer(b, slot, h->seq, h->type, FWP_ST_OK, &got);
}

/* Makes the staged image durable and atomically the active one. */
static enum fwp_status activate(struct fwp_bmc *b)
{
	int ret;

	heartbeat(b);
	ret = b->flash->commit(b->flash_ctx);
	heartbeat(b);
	return ret ? FWP_ST_STORAGE_ERROR : FWP_ST_OK;
}

/* With a key configured, only an image its signature verifies is activated. */
static enum fwp_status check_signature(struct fwp_bmc *b, const struct fwp_finish_signed *fb,
				       bool signed_finish)
{
	enum fwp_status st;

	if (!b->verifier)
		return FWP_ST_OK;
	if (!signed_finish)
		return FWP_ST_AUTH_REQUIRED;
	heartbeat(b);
	st = fwp_verify(b->verifier, b->staging, b->start.image_size, fb->signature) ?
	     FWP_ST_AUTH_FAILED : FWP_ST_OK;
	heartbeat(b);
	return st;
}

static void on_finish(struct fwp_bmc *b, uint32_t slot, const struct fwp_msg_hdr *h)
{
	bool signed_finish = h->length == sizeof(struct fwp_finish_signed);
	struct fwp_finish_signed fb;
	struct fwp_hash128 image;
	enum fwp_status st;

	if (b->state != BMC_DOWNLOAD) {
		answer(b, slot, h->seq, h->type, b->no_session, NULL);
		return;
	}
	st = read_small_body(b, slot, h, &fb, signed_finish ? sizeof(fb)
							     : sizeof(struct fwp_finish_body));
	if (!st && b->received != b->start.image_size)
		st = FWP_ST_BAD_STATE;
	if (st) {
		/* Garbled on the way, or early: the session stays open for a FINISH again. */
		answer(b, slot, h->seq, h->type, st, NULL);
		return;
	}
	image = fwp_hash()->digest(&b->image_hs);
	if (!fwp_hash128_eq(&image, &fb.image_hash) ||
		    ((b->start.flags & FWP_START_HAS_HASH) &&
		     !fwp_hash128_eq(&image, &b->start.image_hash)))
		st = FWP_ST_VERIFY_FAILED;
	if (!st)
		st = flash_status(wait_flash(b, b->start.image_size, false, true));
	if (!st)
		st = check_signature(b, &fb, signed_finish);
	if (!st)
		st = activate(b);
	answer(b, slot, h->seq, h->type, st, &image);
	/* A verdict on the image ends the session, unless the BMC is told to stop meanwhile. */
	if (st != FWP_ST_BUSY)
		session_end(b, st, FWP_MSG_FINISH, &image);
}

/* Blocks of the flash, as HASHES counts them (PROTOCOL.md 14.2 Q5). */
static uint32_t flash_blocks(const struct fwp_bmc *b)
{
	uint64_t n = (b->flash_capacity + b->block - 1) / b->block;

	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* XXH3-128 of block i of a bank of size bytes; 0 for a block it holds no byte of (14.1). */
static struct fwp_hash128 block_hash(const unsigned char *bank, uint64_t size, uint32_t block,
				     uint64_t i)
{
	uint64_t at = i * block, end = at + block < size ? at + block : size;

	return at < end ? fwp_xxh128(bank + at, end - at) : (struct fwp_hash128){ 0, 0 };
}

/*
 * Writes a HASHES answer's body into the slot's body area (the host does not reuse the slot
 * before it has the answer) and returns its hash, for the answer line. The heartbeat beats
 * every 16 MiB hashed or so.
 */
static struct fwp_hash128 put_hashes(struct fwp_bmc *b, uint32_t slot,
				     const struct fwp_hashes_answer *head,
				     const unsigned char *bank[2], const uint64_t size[2])
{
	unsigned char *out = fwp_win_body(&b->win, slot);
	struct fwp_hstate hs;
	struct fwp_hash128 e;
	uint32_t i, k;

	fwp_hash()->reset(&hs);
	fwp_win_copy_in(&b->win, out, head, sizeof(*head));
	fwp_hash()->update(&hs, head, sizeof(*head));
	out += sizeof(*head);
	for (i = 0; i < head->n; i++) {
		for (k = 0; k < 2; k++) {
			if (!(head->banks & (1u << k)))
				continue;
			e = block_hash(bank[k], size[k], b->block, (uint64_t)head->first + i);
			fwp_win_copy_in(&b->win, out, &e, sizeof(e));
			fwp_hash()->update(&hs, &e, sizeof(e));
			out += sizeof(e);
		}
		if ((uint64_t)(i + 1) * b->block % (16u << 20) == 0)
			heartbeat(b);
	}
	return fwp_hash()->digest(&hs);
}

/*
 * HASHES (PROTOCOL.md 14.2): the block hashes of the active and/or the inactive bank, with or
 * without a session. The door's lock is held while the banks are read, so that an upload
 * through the other door cannot re-make the inactive bank under the hashing; while the other
 * door writes, BUSY.
 */
static void on_hashes(struct fwp_bmc *b, uint32_t slot, const struct fwp_msg_hdr *h)
{
	struct fwp_hashes_answer head = { 0 };
	const unsigned char *bank[2] = { NULL, NULL };
	struct fwp_hash128 digest;
	struct fwp_hashes_body q;
	uint64_t size[2] = { 0, 0 };
	enum fwp_status st;
	uint32_t n = 0;

	st = read_small_body(b, slot, h, &q, sizeof(q));
	if (!st)
		st = fwp_hashes_decode(&q, flash_blocks(b), b->win.layout.slot_size, &n);
	if (st) {
		answer(b, slot, h->seq, h->type, st, NULL);
		return;
	}
	pthread_mutex_lock(&b->door_lock);
	if (b->owner == FWP_DOOR_DOOR)
		st = FWP_ST_BUSY;
	else if (fwp_flash_bank(b->flash_ctx, true, &bank[0], &size[0]) ||
		 fwp_flash_bank(b->flash_ctx, false, &bank[1], &size[1]))
		st = FWP_ST_STORAGE_ERROR;
	if (!st) {
		head = (struct fwp_hashes_answer){
			.block_size = b->block, .first = q.first, .n = n, .banks = q.banks,
			.active_size = size[0], .inactive_size = size[1],
		};
		digest = put_hashes(b, slot, &head, bank, size);
	}
	pthread_mutex_unlock(&b->door_lock);
	answer(b, slot, h->seq, h->type, st, st ? NULL : &digest);
}

/*
 * Copies the range of the active image into the inactive bank, block by block, leaving alone
 * a block that already holds the same bytes (no write: the part then neither erases nor
 * programs it, fwp_flash_received), and hashes the bytes as held into the image and the range.
 */
static enum fwp_status keep_range(struct fwp_bmc *b, const unsigned char *active, uint64_t at,
				  uint64_t end, struct fwp_hstate *range_hs)
{
	unsigned char *dst;
	uint64_t step;
	int ret;

	for (; at < end; at += step) {
		step = end - at < b->block ? end - at : b->block;
		ret = wait_flash(b, at + step, true, true);
		if (ret)
			return flash_status(ret);
		dst = b->staging + at;
		if (memcmp(dst, active + at, step))
			memcpy(dst, active + at, step);
		feed(b, dst, dst, step, range_hs);
		if (b->flash->store(b->flash_ctx, at, dst, step))
			return FWP_ST_STORAGE_ERROR;
	}
	return FWP_ST_OK;
}

/* KEEP (PROTOCOL.md 14.3): bytes of the image that are the active image's. */
static void on_keep(struct fwp_bmc *b, uint32_t slot, const struct fwp_msg_hdr *h)
{
	struct fwp_hstate range_hs, image_before;
	const unsigned char *active = NULL;
	struct fwp_keep_body kb;
	struct fwp_hash128 got;
	uint64_t asize = 0;
	enum fwp_status st;

	if (b->state != BMC_DOWNLOAD) {
		answer(b, slot, h->seq, h->type, b->no_session, NULL);
		return;
	}
	st = read_small_body(b, slot, h, &kb, sizeof(kb));
	if (!st && fwp_flash_bank(b->flash_ctx, true, &active, &asize))
		st = FWP_ST_STORAGE_ERROR;
	if (!st)
		st = fwp_keep_decode(&kb, h->offset, b->received, b->block, b->start.image_size,
				     asize);
	image_before = b->image_hs;
	fwp_hash()->reset(&range_hs);
	if (!st)
		st = keep_range(b, active, h->offset, h->offset + kb.length, &range_hs);
	if (st) {
		b->image_hs = image_before;	/* the bytes held are as they were */
		answer(b, slot, h->seq, h->type, st, NULL);
		if (st == FWP_ST_STORAGE_ERROR)
			session_end(b, st, FWP_MSG_KEEP, NULL);
		return;
	}
	if (!h->offset)
		pkg_version(b->staging, kb.length, b->window_version);
	b->received += kb.length;
	__atomic_store_n(&b->pub_received, b->received, __ATOMIC_RELAXED);
	got = fed_digest(b, &range_hs);
	answer(b, slot, h->seq, h->type, FWP_ST_OK, &got);
}

static void on_abort(struct fwp_bmc *b, uint32_t slot, const struct fwp_msg_hdr *h)
{
	if (h->length) {
		answer(b, slot, h->seq, h->type, FWP_ST_BAD_LENGTH, NULL);
		return;
	}
	if (b->state != BMC_IDLE)
		session_end(b, FWP_ST_ABORTED, FWP_MSG_ABORT, NULL);
	answer(b, slot, h->seq, h->type, FWP_ST_OK, NULL);
}

/* Takes seq as the last message handled in order, published before its answer. */
static void take_seq(struct fwp_bmc *b, uint32_t slot, uint32_t seq)
{
	b->t_last = fwp_now_ns();
	b->last_seq = seq;
	fwp_win_set_last_seq(&b->win, seq);
	b->hint = (slot + 1) % b->win.layout.slot_count;
}

static void handle(struct fwp_bmc *b, uint32_t slot, const struct fwp_msg_hdr *h)
{
	take_seq(b, slot, h->seq);
	switch (h->type) {
	case FWP_MSG_START:
		on_start(b, slot, h);
		break;
	case FWP_MSG_DATA:
		on_data(b, slot, h);
		break;
	case FWP_MSG_FINISH:
		on_finish(b, slot, h);
		break;
	case FWP_MSG_HASHES:
		on_hashes(b, slot, h);
		break;
	case FWP_MSG_KEEP:
		on_keep(b, slot, h);
		break;
	default:
		on_abort(b, slot, h);
		break;
	}
}

/* Copies and decodes (on the copy) the header in a slot whose doorbell says seq. */
static enum fwp_status fetch_header(struct fwp_bmc *b, uint32_t slot, uint32_t seq,
				    struct fwp_msg_hdr *h)
{
	enum fwp_status st;

	fwp_win_copy_out(&b->win, h, fwp_win_hdr(&b->win, slot), sizeof(*h));
	st = fwp_msg_decode(h, b->win.layout.slot_size, seq, b->win.epoch);
	/* HASHES and KEEP are unknown types to a BMC without BLOCK_HASHES (H6). */
	return !st && h->type > FWP_MSG_ABORT && !b->block ? FWP_ST_BAD_HEADER : st;
}

/* The type an answer names: the header's when it can be trusted (PROTOCOL.md 5.6). */
static uint16_t trusted_type(const struct fwp_bmc *b, const struct fwp_msg_hdr *h)
{
	return fwp_msg_type_known(h) && (h->type <= FWP_MSG_ABORT || b->block) ? h->type : 0;
}

/* Within reach of a resynchronising START: anything while nothing was handled, else JUMP. */
static bool within_jump(const struct fwp_bmc *b, uint32_t seq)
{
	int32_t ahead = fwp_seq_dist(seq, b->last_seq);

	return !b->last_seq || (ahead > 0 && (uint32_t)ahead <= FWP_SEQ_JUMP);
}

/*
 * Looks at one slot (PROTOCOL.md 5.1). Handles the expected message whatever it holds, or a
 * valid START_UPGRADE within JUMP (a new host resynchronising); holds any other message within
 * JUMP (pipelined ahead of the one awaited); answers the rest BAD_SEQ, which frees its slot and
 * does not move L. Returns 1 if it handled a message.
 */
static int poll_slot(struct fwp_bmc *b, uint32_t slot)
{
	uint32_t seq = fwp_win_db_seq(&b->win, slot);
	struct fwp_msg_hdr h;
	enum fwp_status st;

	if (!seq || seq == fwp_win_ack_seq(&b->win, slot))
		return 0;
	/*
	 * The last message handled here, rung again after another write replaced its answer
	 * line: the same answer again, never the message twice (a host re-rings what it has not
	 * seen answered, and must find its answer, not BAD_SEQ).
	 */
	if (seq == b->handled[slot].seq) {
		publish(b, slot, &b->handled[slot]);
		return 0;
	}
	st = fetch_header(b, slot, seq, &h);
	if (seq == fwp_seq_next(b->last_seq) && st) {
		take_seq(b, slot, seq);
		answer(b, slot, seq, trusted_type(b, &h), st, NULL);
		return 1;
	}
	if (seq == fwp_seq_next(b->last_seq) || (!st && h.type == FWP_MSG_START &&
						  within_jump(b, seq))) {
		handle(b, slot, &h);
		return 1;
	}
	if (!within_jump(b, seq)) {
		struct fwp_ack stale = make_answer(b, seq, trusted_type(b, &h), FWP_ST_BAD_SEQ,
						   NULL);

		publish(b, slot, &stale);
	}
	return 0;
}

static int poll_once(struct fwp_bmc *b)
{
	uint32_t n = b->win.layout.slot_count, i;

	if (poll_slot(b, b->hint))
		return 1;
	for (i = 0; i < n; i++) {
		if (i != b->hint && poll_slot(b, i))
			return 1;
	}
	return 0;
}

/*
 * While nothing comes: beat, idle or not, so that a host tells a serving BMC (PROTOCOL.md 7),
 * and drop a session that has been idle too long.
 */
static void idle_tick(struct fwp_bmc *b)
{
	uint64_t now = fwp_now_ns();

	if (now - b->t_beat >= BEAT_NS)
		heartbeat(b);
	if (b->state != BMC_IDLE && now - b->t_last > b->idle_ns)
		session_end(b, FWP_ST_IDLE_TIMEOUT, 0, NULL);
}

int fwp_bmc_run(struct fwp_bmc *b, const volatile int *stop)
{
	struct fwp_backoff bo;

	b->stop = stop;
	fwp_backoff_reset(&bo);
	while (!*stop) {
		if (poll_once(b)) {
			fwp_backoff_reset(&bo);
			continue;
		}
		if (b->doorbell && fwp_now_ns() - b->t_last > DOZE_NS) {
			/* Asleep until rung or the next beat; memory is rescanned either way. */
			fwp_target_wait(b->target, BEAT_NS);
			idle_tick(b);
			continue;
		}
		fwp_backoff_wait(&bo);
		if (bo.sleep_ns)
			idle_tick(b);
	}
	return 0;
}

static const volatile int not_stopped;

/* The capability bits the window advertises (PROTOCOL.md 1.1). */
static uint32_t caps(const struct fwp_bmc *b)
{
	return (b->doorbell ? FWP_CAP_IVSHMEM_DOORBELL : 0) |
	       (b->block ? FWP_CAP_BLOCK_HASHES : 0) | FWP_CAP_RUNNING_DIGEST;
}

/* A new window generation: nonzero, not the one the memory held, random (PROTOCOL.md 1.2). */
static uint32_t new_epoch(uint32_t old)
{
	uint32_t e = 0;

	while (!e || e == old) {
		if (getrandom(&e, sizeof(e), 0) != sizeof(e))
			e = (uint32_t)fwp_now_ns() ^ ((uint32_t)getpid() << 16);
	}
	return e;
}

/* The BMC firmware's own flash if it gave one, else the emulated A/B flash in files. */
static int open_flash(struct fwp_bmc *b, const char *path, const struct fwp_layout *l)
{
	struct fwp_flash *f;
	int ret;

	if (b->opts.flash_ops) {
		b->flash = b->opts.flash_ops;
		b->flash_ctx = b->opts.flash_ctx;
		b->bounce = malloc(l->slot_size);
		return b->bounce ? 0 : -ENOMEM;
	}
	if (!path)
		return -EINVAL;
	ret = fwp_flash_open(path, b->opts.nor ? &b->nor : NULL, &f);
	if (ret)
		return ret;
	b->flash_path = strdup(path);	/* for fwp_bmc_door_enable: NULL is only less shown */
	fwp_flash_set_beat(f, flash_beat, b);
	b->flash = &fwp_file_flash_ops;
	b->flash_ctx = f;
	/* Delta flash counts in erase blocks that are powers of two, of a page at least. */
	b->block = fwp_flash_block(f);
	if (b->block < FWP_PAGE || (b->block & (b->block - 1)))
		b->block = 0;
	return 0;
}

int fwp_bmc_create(const char *window_uri, const char *flash_path,
		   const struct fwp_bmc_opts *opts, struct fwp_bmc **out)
{
	struct fwp_layout layout;
	struct fwp_win_ctrl ctrl;
	struct fwp_bmc *b;
	int ret;

	/* aligned_alloc: the hash state inside wants its 64-byte alignment. */
	b = aligned_alloc(_Alignof(struct fwp_bmc), sizeof(*b));
	if (!b)
		return -ENOMEM;
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->door_lock, NULL);
	b->stop = &not_stopped;
	b->no_session = FWP_ST_BAD_STATE;
	ret = fwp_opts_copy(&b->opts, sizeof(b->opts), opts);
	if (ret)
		goto err;
	b->flash_capacity = b->opts.flash_capacity ? b->opts.flash_capacity
						    : FWP_BMC_DEFAULT_CAPACITY;
	b->idle_ns = (uint64_t)(b->opts.idle_timeout_ms ? b->opts.idle_timeout_ms
							 : FWP_BMC_DEFAULT_IDLE_MS) * 1000000u;
	ret = fwp_layout_init(&layout,
			      b->opts.slot_count ? b->opts.slot_count : FWP_BMC_DEFAULT_SLOTS,
			      b->opts.slot_size ? b->opts.slot_size : FWP_BMC_DEFAULT_SLOT_SIZE);
	if (ret)
		goto err;
	if (b->opts.nor) {
		/* The buffer must hold a whole chunk beyond a part-programmed sector. */
		b->nor = *b->opts.nor;
		if (b->nor.buffer < layout.slot_size + b->nor.erase_size)
			b->nor.buffer = layout.slot_size + b->nor.erase_size;
	}
	ret = b->opts.pubkey_path ? fwp_verifier_open(b->opts.pubkey_path, &b->verifier) : 0;
	if (ret)
		goto err;
	ret = open_flash(b, flash_path, &layout);
	if (ret)
		goto err;
	ret = fwp_target_create(window_uri, layout.window_size, &b->target);
	if (ret)
		goto err;
	fwp_win_init(&b->win, fwp_target_base(b->target), &layout,
		     !(fwp_target_flags(b->target) & FWP_TARGET_CACHED));
	fwp_ctrl_encode(&ctrl, &layout, b->flash_capacity,
			new_epoch(fwp_ctrl_epoch(b->win.ctrl)));
	ctrl.ring_value = fwp_target_ring_value(b->target);
	b->doorbell = ctrl.ring_value != 0;
	ctrl.caps = caps(b);
	fwp_win_publish(&b->win, &ctrl);
	heartbeat(b);
	*out = b;
	return 0;
err:
	if (b->opts.flash_ops)
		b->flash = NULL;	/* the caller's still: it closes what it opened */
	fwp_bmc_destroy(b);
	return ret;
}

int fwp_bmc_flash_remove(const char *flash_path)
{
	return fwp_flash_remove(flash_path);
}

void fwp_bmc_destroy(struct fwp_bmc *b)
{
	if (!b)
		return;
	if (b->state != BMC_IDLE)
		session_end(b, FWP_ST_ABORTED, 0, NULL);
	fwp_bmc_door_abort(b);
	if (b->target) {
		fwp_win_unpublish(&b->win);
		fwp_target_close(b->target);
	}
	if (b->flash && b->flash->close)
		b->flash->close(b->flash_ctx);
	free(b->bounce);
	fwp_verifier_close(b->verifier);
	free(b->flash_path);
	pthread_mutex_destroy(&b->door_lock);
	free(b);
}

/* The door: bmc/door.h. */

/* XXH3-128 and size of the file at path; -ENOENT if it is missing, -ENODATA if empty. */
static int hash_file(const char *path, struct fwp_door_bank *out)
{
	struct fwp_hstate *hs = aligned_alloc(64, sizeof(*hs));
	unsigned char *buf = malloc(1u << 20);
	uint64_t size = 0;
	ssize_t n;
	int fd = -1, ret = 0;

	if (!hs || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	fwp_hash()->reset(hs);
	while ((n = read(fd, buf, 1u << 20)) > 0) {
		if (!size)
			pkg_version(buf, (uint64_t)n, out->version);
		fwp_hash()->update(hs, buf, (size_t)n);
		size += (uint64_t)n;
	}
	if (n < 0)
		ret = -errno;
	else if (!size)
		ret = -ENODATA;
	else {
		out->known = 1;
		out->size = size;
		out->hash = fwp_hash()->digest(hs);
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(hs);
	return ret;
}

int fwp_bmc_door_enable(struct fwp_bmc *b)
{
	char target[4096], other[4200];
	ssize_t n;
	int ret;

	if (!b->flash_path)
		return 0;	/* the firmware's own flash: the banks are not files to read */
	ret = hash_file(b->flash_path, &b->active);
	if (ret && ret != -ENOENT && ret != -ENODATA)
		return ret;
	/* The other bank: PATH links to PATH.a or PATH.b. */
	n = readlink(b->flash_path, target, sizeof(target) - 1);
	if (n < 2)
		return 0;
	target[n] = 0;
	if (target[n - 2] != '.' || (target[n - 1] != 'a' && target[n - 1] != 'b'))
		return 0;
	snprintf(other, sizeof(other), "%s.%c", b->flash_path, target[n - 1] == 'a' ? 'b' : 'a');
	ret = hash_file(other, &b->inactive);
	return ret == -ENOENT || ret == -ENODATA ? 0 : ret;
}

int fwp_bmc_door_open(struct fwp_bmc *b, uint64_t size)
{
	int ret;

	if (!size)
		return -ENODATA;
	if (size > b->flash_capacity)
		return -EFBIG;
	if (!door_take(b, FWP_DOOR_DOOR, size))
		return -EBUSY;
	b->d_size = size;
	b->d_received = 0;
	b->d_staging = NULL;
	ret = b->flash->begin(b->flash_ctx, size, &b->d_staging);
	if (!ret && !b->d_staging && b->verifier) {
		flash_release(b);
		ret = -EIO;
	}
	if (ret) {
		door_give(b, FWP_DOOR_DOOR, FWP_ST_STORAGE_ERROR, 0, NULL, NULL);
		return ret == -EIO || ret == -ENOSPC ? ret : -EIO;
	}
	fwp_hash()->reset(&b->d_hs);
	return 0;
}

int fwp_bmc_door_write(struct fwp_bmc *b, const void *p, size_t n)
{
	const unsigned char *src = p;

	if (__atomic_load_n(&b->owner, __ATOMIC_ACQUIRE) != FWP_DOOR_DOOR)
		return -EBADF;
	if (n > b->d_size - b->d_received)
		return -EFBIG;
	while (n) {
		/* A slot's worth at a time, so a slow part is waited for in steps. */
		size_t step = n < FWP_BMC_DEFAULT_SLOT_SIZE ? n : FWP_BMC_DEFAULT_SLOT_SIZE;
		uint64_t off = b->d_received;

		if (wait_flash(b, off + step, true, false))
			return -EIO;
		if (b->d_staging)
			fwp_hash()->copy_hash(b->d_staging + off, src, step, &b->d_hs, NULL);
		else
			fwp_hash()->update(&b->d_hs, src, step);
		if (b->flash->store(b->flash_ctx, off, b->d_staging ? b->d_staging + off : src,
				    step))
			return -EIO;
		b->d_received += step;
		__atomic_store_n(&b->pub_received, b->d_received, __ATOMIC_RELAXED);
		src += step;
		n -= step;
	}
	return 0;
}

int fwp_bmc_door_finish(struct fwp_bmc *b, uint64_t size, const unsigned char *sig,
			struct fwp_hash128 *hash)
{
	struct fwp_hash128 h;
	char version[64] = "";
	int ret = 0;

	if (__atomic_load_n(&b->owner, __ATOMIC_ACQUIRE) != FWP_DOOR_DOOR)
		return -EBADF;
	if (size && size != b->d_size) {
		if (size > b->d_size || size != b->d_received)
			ret = -EBADMSG;
		else if (b->flash != &fwp_file_flash_ops)
			ret = -ENOTSUP;
		else if (fwp_flash_shrink(b->flash_ctx, size))
			ret = -EIO;
		if (!ret)
			b->d_size = size;
	}
	if (!ret && b->d_received != b->d_size)
		ret = -EBADMSG;
	h = fwp_hash()->digest(&b->d_hs);
	if (hash)
		*hash = h;
	if (!ret && wait_flash(b, b->d_size, false, false))
		ret = -EIO;
	if (!ret && b->verifier && !sig)
		ret = -ENOKEY;
	if (!ret && b->verifier && fwp_verify(b->verifier, b->d_staging, b->d_size, sig))
		ret = -EKEYREJECTED;
	if (!ret && b->d_staging)
		pkg_version(b->d_staging, b->d_size, version);
	if (!ret && b->flash->commit(b->flash_ctx))
		ret = -EIO;
	if (ret)
		flash_release(b);
	door_give(b, FWP_DOOR_DOOR, ret ? FWP_ST_STORAGE_ERROR : FWP_ST_OK, b->d_size, &h, version);
	return ret;
}

void fwp_bmc_door_abort(struct fwp_bmc *b)
{
	if (__atomic_load_n(&b->owner, __ATOMIC_ACQUIRE) != FWP_DOOR_DOOR)
		return;
	flash_release(b);
	door_give(b, FWP_DOOR_DOOR, FWP_ST_ABORTED, 0, NULL, NULL);
}

void fwp_bmc_door_status(struct fwp_bmc *b, struct fwp_door_status *s)
{
	pthread_mutex_lock(&b->door_lock);
	*s = (struct fwp_door_status){
		.owner = (enum fwp_door_owner)b->owner,
		.size = b->owner ? b->pub_size : 0,
		.received = b->owner ? __atomic_load_n(&b->pub_received, __ATOMIC_RELAXED) : 0,
		.window_sessions = b->window_sessions,
		.window_status = b->window_status,
		.window_done = b->window_done,
		.capacity = b->flash_capacity,
		.signed_only = b->verifier != NULL,
		.active = b->active,
		.inactive = b->inactive,
	};
	pthread_mutex_unlock(&b->door_lock);
}
