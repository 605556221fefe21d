/* SPDX-License-Identifier: MIT */
/*
 * The host pipeline. Messages go round-robin over the slots in use; before a slot is reused the
 * host reaps the BMC's answer to what it held, so with N slots up to N messages are in flight
 * and the host fills one slot while the BMC drains another.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fwpush/push.h"
#include "transport/target.h"
#include "core/hash.h"
#include "core/opts.h"
#include "core/poll.h"
#include "host/source.h"
#include "core/window.h"

struct fwp_host {
	struct fwp_target *target;
	struct fwp_window win;
	uint64_t flash_capacity;
	uint32_t next_seq;
	uint32_t caps;
	bool doorbell;		/* ring the BMC's register, sleep on the device's interrupt */
};

struct slot {
	struct fwp_hstate image_before;	/* DATA: the image hash before this chunk */
	uint32_t seq;
	uint64_t offset;
	uint64_t held;			/* DATA, KEEP, FINISH: image bytes the BMC must hold after */
	struct fwp_hash128 hash;	/* what we sent, to compare with the BMC's answer */
	uint16_t type;
	bool busy;
};

/*
 * A stalled wait rings the doorbells in flight again this often (a lost one costs a delay), and
 * as often, while no answer comes, checks that the window is still there.
 */
#define RERING_NS	(20u * 1000000u)

struct push {
	struct fwp_host *h;
	const struct fwp_push_opts *o;
	uint32_t nslots;
	uint32_t chunk;
	struct fwp_source *src;		/* the image's bytes */
	unsigned char *bounce;		/* io windows: where chunks are read and hashed */
	uint64_t timeout_ns;
	uint64_t step_ns;		/* the longest wait for one answer, heartbeat or not */
	uint64_t msgs;			/* messages sent; the next goes to slot msgs % nslots */
	uint64_t last_progress;		/* an answer or a heartbeat */
	uint64_t last_answer;		/* an answer only */
	uint64_t last_ring;
	uint64_t last_check;
	uint32_t heartbeat;
	uint64_t retry_offset;		/* the chunk being retried, and how often */
	uint32_t retries;
	struct fwp_push_result *res;
	struct fwp_hash128 *active;	/* delta: the active image's block hashes; NULL: no KEEP */
	uint64_t nactive;
	uint32_t block;
	bool running;			/* a running session: chunks checked by R (PROTOCOL.md 15) */
	struct slot slots[FWP_SLOTS_MAX];
};

static uint64_t timeout_ns(uint32_t ms)
{
	return (uint64_t)(ms ? ms : FWP_DEFAULT_TIMEOUT_MS) * 1000000u;
}

/*
 * Is a BMC serving the window? The transport may know at once (the shm: BMC's lock); else its
 * heartbeat must change within FWP_LIVE_MS (PROTOCOL.md 6.1), or by the deadline if sooner.
 */
static bool bmc_serves(const struct fwp_target *t, uint64_t deadline)
{
	const struct fwp_win_ctrl *c = fwp_target_base(t);
	uint64_t until = fwp_now_ns() + (uint64_t)FWP_LIVE_MS * 1000000u;
	uint32_t beat = fwp_load_acquire(&c->heartbeat);
	struct fwp_backoff bo;

	if (fwp_target_peer_alive(t) == 1)
		return true;
	until = until < deadline ? until : deadline;
	fwp_backoff_reset(&bo);
	while (fwp_load_acquire(&c->heartbeat) == beat) {
		if (fwp_now_ns() > until)
			return false;
		fwp_backoff_wait(&bo);
	}
	return true;
}

/*
 * Maps the window once it exists, is published (its epoch set last), decodes, is served by a
 * BMC, and has no other host. 1: not ready yet, try again (*busy: another host holds it); 0:
 * mapped, the control block copied into *ctrl and the layout into *l; -errno: final.
 */
static int try_map(struct fwp_host *h, const char *uri, uint64_t deadline, bool *busy,
		   struct fwp_win_ctrl *ctrl, struct fwp_layout *l)
{
	uint32_t epoch;
	int ret;

	ret = fwp_target_open(uri, &h->target);
	*busy = ret == -EBUSY;
	if (ret)
		return ret == -ENOENT || ret == -EAGAIN || ret == -EBUSY ? 1 : ret;
	ret = fwp_target_size(h->target) < sizeof(*ctrl) ? -EPROTO : 0;
	if (!ret) {
		/* The epoch first, the rest after it; a window changing meanwhile is looked again. */
		epoch = fwp_ctrl_epoch(fwp_target_base(h->target));
		memcpy(ctrl, fwp_target_base(h->target), sizeof(*ctrl));
		ret = !ctrl->magic || ctrl->epoch != epoch ? 1 :
		      fwp_ctrl_decode(ctrl, fwp_target_size(h->target), l);
	}
	if (ret == -EAGAIN || (!ret && !bmc_serves(h->target, deadline)))
		ret = 1;	/* a BMC still formatting, or a window a dead BMC left */
	if (ret) {
		fwp_target_close(h->target);
		h->target = NULL;
	}
	return ret;
}

static int connect_window(struct fwp_host *h, const char *uri, uint64_t deadline)
{
	struct fwp_backoff bo;
	struct fwp_win_ctrl ctrl;
	struct fwp_layout layout;
	int ret;

	bool busy = false;

	fwp_backoff_reset(&bo);
	/* Another host's push is waited out like a BMC that is not up yet: queue, then give up. */
	while ((ret = try_map(h, uri, deadline, &busy, &ctrl, &layout)) == 1) {
		if (fwp_now_ns() > deadline)
			return busy ? -EBUSY : -ETIMEDOUT;
		fwp_backoff_wait(&bo);
	}
	if (ret)
		return ret;
	/* Device memory (a BAR): chunks are staged in RAM, streamed in, fenced. */
	fwp_win_init(&h->win, fwp_target_base(h->target), &layout,
		     !(fwp_target_flags(h->target) & FWP_TARGET_CACHED));
	h->win.epoch = ctrl.epoch;
	h->flash_capacity = ctrl.flash_capacity;
	h->caps = ctrl.caps;
	/* Register doorbells if the BMC has them and this transport reaches them (8). */
	h->doorbell = (ctrl.caps & FWP_CAP_IVSHMEM_DOORBELL) &&
		      !fwp_target_doorbell_setup(h->target, ctrl.ring_value);
	return 0;
}

/*
 * The first sequence number (PROTOCOL.md 6.2): after the BMC's last_seq and after whatever a
 * previous host left in flight within JUMP of it, so that the BMC accepts the START and takes
 * those leftovers for stale. A doorbell further off is a stray write: it is not followed.
 */
static uint32_t first_seq(const struct fwp_window *w)
{
	uint32_t last = fwp_win_last_seq(w), latest = last, i;

	for (i = 0; i < w->layout.slot_count; i++) {
		uint32_t d = fwp_win_db_seq(w, i);
		int32_t ahead = fwp_seq_dist(d, last);

		if (d && ahead > 0 && (uint32_t)ahead <= FWP_SEQ_JUMP &&
		    fwp_seq_dist(d, latest) > 0)
			latest = d;
	}
	return fwp_seq_next(latest);
}

int fwp_host_open(const char *uri, uint32_t timeout_ms, struct fwp_host **out)
{
	struct fwp_host *h;
	int ret;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	ret = connect_window(h, uri, fwp_now_ns() + timeout_ns(timeout_ms));
	if (ret)
		goto err;
	h->next_seq = first_seq(&h->win);
	*out = h;
	return 0;
err:
	fwp_host_close(h);
	return ret;
}

int fwp_window_version(const char *uri)
{
	struct fwp_target *t;
	struct fwp_win_ctrl ctrl;
	int ret;

	ret = fwp_target_open(uri, &t);
	if (ret)
		return ret;
	ret = -EPROTO;
	if (fwp_target_size(t) >= sizeof(ctrl)) {
		memcpy(&ctrl, fwp_target_base(t), sizeof(ctrl));
		if (ctrl.magic == FWP_WINDOW_MAGIC)
			ret = ctrl.version;
	}
	fwp_target_close(t);
	return ret;
}

void fwp_host_close(struct fwp_host *h)
{
	if (!h)
		return;
	fwp_target_close(h->target);
	free(h);
}

uint32_t fwp_host_slot_count(const struct fwp_host *h)
{
	return h->win.layout.slot_count;
}

uint32_t fwp_host_slot_size(const struct fwp_host *h)
{
	return h->win.layout.slot_size;
}

uint64_t fwp_host_flash_capacity(const struct fwp_host *h)
{
	return h->flash_capacity;
}

/* Rings slot i's doorbell with the sequence number of the message it holds. */
static void ring(struct push *p, uint32_t i)
{
	fwp_win_ring(&p->h->win, i, p->slots[i].seq);
	if (p->h->doorbell)
		fwp_target_ring(p->h->target);
}

/* Rings every doorbell in flight again; the sequence numbers make it harmless. */
static void rering(struct push *p)
{
	uint32_t i;

	for (i = 0; i < p->nslots; i++) {
		if (p->slots[i].busy) {
			ring(p, i);
			p->res->rerings++;
		}
	}
}

/*
 * Slow path of a wait: has the BMC shown any sign of life within the timeout, and answered
 * within the step's bound? A heartbeat stretches the wait for an answer (a slow flash, a long
 * sync), but not past step_ns: a BMC that beats and never answers fails with -ETIME. A window
 * whose memory went away (its file shrank under us) fails with -EFAULT.
 */
static int check_progress(struct push *p)
{
	uint64_t now = fwp_now_ns();
	uint32_t hb = fwp_win_heartbeat(&p->h->win);
	int ret;

	/*
	 * A new generation: the BMC restarted and lost all in flight; fail now, not at timeout.
	 * Unless the window itself is lost (what the transport says then is the reason).
	 */
	if (fwp_win_reformatted(&p->h->win)) {
		ret = fwp_target_peer_alive(p->h->target);
		return ret < 0 ? ret : -ECONNRESET;
	}
	if (hb != p->heartbeat) {
		p->heartbeat = hb;
		p->last_progress = now;
	}
	if (now - p->last_answer > RERING_NS && now - p->last_check > RERING_NS) {
		p->last_check = now;
		ret = fwp_target_peer_alive(p->h->target);
		if (ret < 0)
			return ret;
	}
	if (now - p->last_progress > RERING_NS && now - p->last_ring > RERING_NS) {
		rering(p);
		p->last_ring = now;
	}
	if (now - p->last_progress > p->timeout_ns)
		return -ETIMEDOUT;
	return now - p->last_answer > p->step_ns ? -ETIME : 0;
}

/*
 * Between two polls of an answer: spin, then sleep, growing; with register doorbells, sleep on
 * the device's interrupt instead (the answer line stays the truth: it is polled after).
 */
static void await(struct push *p, struct fwp_backoff *bo)
{
	if (!p->h->doorbell || bo->spins < FWP_SPIN_LIMIT) {
		fwp_backoff_wait(bo);
		return;
	}
	bo->sleep_ns = FWP_SLEEP_MAX_NS;
	if (fwp_target_wait(p->h->target, FWP_SLEEP_MAX_NS) == 1)
		p->res->interrupts++;
}

/* Waits until the BMC's answer in slot i carries sequence number want. */
static int wait_answer(struct push *p, uint32_t i, uint32_t want)
{
	struct fwp_backoff bo;
	uint32_t polls = 0;
	int ret;

	fwp_backoff_reset(&bo);
	while (fwp_win_ack_seq(&p->h->win, i) != want) {
		await(p, &bo);
		if ((++polls & 255) == 0 || bo.sleep_ns) {
			ret = check_progress(p);
			if (ret)
				return ret;
		}
	}
	p->last_progress = p->last_answer = fwp_now_ns();
	return 0;
}

static int fail(struct push *p, int err, const struct slot *s, uint16_t status)
{
	p->res->failed_type = s->type;
	p->res->failed_offset = s->offset;
	p->res->bmc_status = status;
	return err;
}

/*
 * Checks an answer that says OK to a DATA or FINISH: the BMC must hold exactly the bytes up to
 * the end of that message, and its hash of them must be ours. A BMC that says otherwise is
 * lying or broken: the push fails (-EPROTO, -EBADMSG) even though it said OK.
 */
static int check_stored(struct push *p, const struct slot *s, const struct fwp_ack *a)
{
	if (a->offset != s->held) {
		p->res->bmc_held = a->offset;
		p->res->expected_held = s->held;
		return fail(p, -EPROTO, s, a->status);
	}
	if (!fwp_hash128_eq(&a->hash, &s->hash))
		return fail(p, -EBADMSG, s, a->status);
	if (s->type == FWP_MSG_FINISH)
		p->res->verified = true;
	return 0;
}

static void report(const struct push *p, enum fwp_phase phase, uint64_t done)
{
	if (p->o->progress)
		p->o->progress(p->o->progress_arg, phase, done);
}

/* Collects the BMC's answer to what slot i holds and checks it, on a private copy. */
static int reap(struct push *p, uint32_t i)
{
	struct slot *s = &p->slots[i];
	struct fwp_ack ack;
	int ret;

	if (!s->busy)
		return 0;
	ret = wait_answer(p, i, s->seq);
	if (ret)
		return fail(p, ret, s, 0);
	s->busy = false;
	fwp_win_read_ack(&p->h->win, i, &ack);
	if (ack.epoch != p->h->win.epoch)
		return fail(p, -ECONNRESET, s, 0);	/* answered by a BMC that re-formatted */
	if (ack.status != FWP_ST_OK)
		return fail(p, -EREMOTEIO, s, ack.status);
	if (ack.type != s->type) {
		p->res->wrong_type = true;	/* an OK to some other message */
		p->res->bmc_type = ack.type;
		return fail(p, -EPROTO, s, ack.status);
	}
	if (s->type == FWP_MSG_DATA || s->type == FWP_MSG_KEEP || s->type == FWP_MSG_FINISH) {
		ret = check_stored(p, s, &ack);
		if (!ret)
			report(p, s->type == FWP_MSG_FINISH ? FWP_PHASE_DONE : FWP_PHASE_DATA, s->held);
		return ret;
	}
	/* A new session holds nothing; a resumed one is checked by resume_point(). */
	if (s->type == FWP_MSG_START && !p->o->resume && ack.offset != 0) {
		p->res->bmc_held = ack.offset;
		return fail(p, -EPROTO, s, ack.status);
	}
	return 0;
}

/* The slot for the next message, once the BMC has answered what it held before. */
static int next_slot(struct push *p, uint32_t *slot)
{
	*slot = p->msgs % p->nslots;
	return reap(p, *slot);
}

/* The test hook; true if the doorbell must not be rung. */
static bool inject(struct push *p, uint32_t i, uint16_t type, uint64_t offset, uint32_t len)
{
	unsigned char *body = fwp_win_body(&p->h->win, i);
	uint32_t prev = (i + p->nslots - 1) % p->nslots;
	uint64_t at = type == FWP_MSG_FINISH ? p->res->image_size : offset;

	switch (p->o->fault(p->o->fault_arg, type, at)) {
	case FWP_FAULT_FLIP:
		body[(offset * 7919 + 13) % len] ^= 0x10;
		return false;
	case FWP_FAULT_LOSE:
		return true;
	case FWP_FAULT_DUP:
		ring(p, i);
		ring(p, prev);
		return false;
	default:
		return false;
	}
}

/* Header, then doorbell: the BMC sees the message only once it is whole. */
static void submit(struct push *p, uint32_t i, uint16_t type, uint64_t offset, uint32_t len,
		   const struct fwp_hash128 *body_hash, const struct fwp_hash128 *expect)
{
	struct slot *s = &p->slots[i];

	s->seq = p->h->next_seq;
	p->h->next_seq = fwp_seq_next(s->seq);
	s->offset = offset;
	s->held = type == FWP_MSG_FINISH ? p->res->image_size : offset + len;
	s->type = type;
	s->hash = expect ? *expect : (struct fwp_hash128){ 0, 0 };
	s->busy = true;
	fwp_msg_encode(fwp_win_hdr(&p->h->win, i), type, s->seq, p->h->win.epoch, offset, len,
		       body_hash);
	if (!p->o->fault || (type != FWP_MSG_DATA && type != FWP_MSG_FINISH) ||
	    !inject(p, i, type, offset, len))
		ring(p, i);
	p->msgs++;
}

/* Sends a message with a small body and waits for its answer. */
static int send_small(struct push *p, uint16_t type, const void *body, uint32_t len,
		      const struct fwp_hash128 *expect)
{
	struct fwp_hash128 hash;
	uint32_t i;
	int ret;

	ret = next_slot(p, &i);
	if (ret)
		return ret;
	if (len)
		memcpy(fwp_win_body(&p->h->win, i), body, len);
	hash = len ? fwp_xxh128(body, len) : (struct fwp_hash128){ 0, 0 };
	submit(p, i, type, 0, len, &hash, expect);
	return reap(p, i);
}

static int drain(struct push *p)
{
	uint32_t i;
	int ret;

	for (i = 0; i < p->nslots; i++) {
		ret = reap(p, (p->msgs + i) % p->nslots);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A wait that failed because no answer will come: the BMC stalled or is gone, or the window is,
 * or it was re-formatted.
 */
static bool gone(int ret)
{
	return ret == -ETIMEDOUT || ret == -ETIME || ret == -EFAULT || ret == -ECONNRESET;
}

/* Best effort after a failure: let in-flight messages be answered, then drop the session. */
static void abort_session(struct push *p)
{
	struct fwp_push_result keep = *p->res;
	uint32_t i;

	for (i = 0; i < p->nslots; i++) {
		if (gone(reap(p, i)))
			goto out;
	}
	send_small(p, FWP_MSG_ABORT, NULL, 0, NULL);
out:
	*p->res = keep;
}

/* Reaps slot i only if its answer is already there: never waits. */
static int try_reap(struct push *p, uint32_t i)
{
	if (p->slots[i].busy && fwp_win_ack_seq(&p->h->win, i) != p->slots[i].seq)
		return -EAGAIN;
	return reap(p, i);
}

/*
 * Where the image stream stands. Chunk k goes to slot (base_msg + k - base_chunk) % nslots;
 * reads run ahead of sending by up to nslots chunks, each into a slot whose last message the
 * BMC has answered; the chunk sent next always gets its slot, waiting for the BMC if it must.
 */
struct cursor {
	uint64_t nchunks;
	uint64_t next_read;
	uint64_t next_send;
	uint64_t base_msg;
	uint64_t base_chunk;
};

static uint32_t chunk_slot(const struct push *p, const struct cursor *c, uint64_t k)
{
	return (c->base_msg + k - c->base_chunk) % p->nslots;
}

static uint32_t chunk_len(const struct push *p, const struct cursor *c, uint64_t k)
{
	return k == c->nchunks - 1 ? p->res->image_size - k * p->chunk : p->chunk;
}

/*
 * Where chunk i is read and hashed: in place in a cached window (no copy at all); in RAM for a
 * BAR, where reading back is slow and registered or O_DIRECT reads cannot land.
 */
static unsigned char *stage(const struct push *p, uint32_t i)
{
	if (p->bounce)
		return p->bounce + (size_t)p->h->win.layout.slot_stride * i;
	return fwp_win_body(&p->h->win, i);
}

static int read_ahead(struct push *p, struct cursor *c)
{
	uint32_t i;
	int ret;

	while (c->next_read < c->nchunks && c->next_read - c->next_send < p->nslots) {
		i = chunk_slot(p, c, c->next_read);
		ret = c->next_read == c->next_send ? reap(p, i) : try_reap(p, i);
		if (ret == -EAGAIN)
			break;
		if (ret)
			return ret;
		ret = p->src->ops->queue(p->src, i, stage(p, i), chunk_len(p, c, c->next_read),
					 c->next_read * p->chunk);
		if (ret)
			return ret;
		c->next_read++;
	}
	return p->src->ops->submit(p->src);
}

/* Delta (PROTOCOL.md 14.5): does every block of the chunk at off hash to the active image's? */
static bool unchanged(const struct push *p, const unsigned char *src, uint64_t off, uint32_t len)
{
	struct fwp_hash128 h;
	uint32_t k, n;

	for (k = 0; p->active && k < len; k += n) {
		n = len - k < p->block ? len - k : p->block;
		h = fwp_xxh128(src + k, n);
		if ((off + k) / p->block >= p->nactive ||
		    !fwp_hash128_eq(&h, &p->active[(off + k) / p->block]))
			return false;
	}
	return p->active != NULL;
}

/* A KEEP for the chunk at off: its answer holds the chunk's bytes, and their hash (14.3). */
static void submit_keep(struct push *p, uint32_t i, uint64_t off, uint32_t len,
			const struct fwp_hash128 *hash)
{
	struct fwp_keep_body kb = { .length = len };
	struct fwp_hash128 kh = fwp_xxh128(&kb, sizeof(kb));

	fwp_win_copy_in(&p->h->win, fwp_win_body(&p->h->win, i), &kb, sizeof(kb));
	submit(p, i, FWP_MSG_KEEP, off, sizeof(kb), &kh, hash);
	p->slots[i].held = off + len;	/* the body is 16 bytes; it stands for len */
}

/*
 * Moves the image's hash past the chunk and returns what the chunk is sent with: in a running
 * session the image's digest so far (one hash pass per byte), else the chunk's own XXH3-128
 * (two, fused). Taken from the source when another push of the same image hashed the chunk
 * (many targets: each chunk hashed once), else computed here and offered.
 */
static struct fwp_hash128 hash_chunk(struct push *p, uint32_t i, unsigned char *src,
				     uint32_t len, struct fwp_hstate *image_hs)
{
	const struct fwp_source_ops *ops = p->src->ops;
	struct fwp_hash128 hash, *own = p->running ? NULL : &hash;
	struct fwp_hstate chunk_hs;

	if (!ops->hashed || !ops->hashed(p->src, i, own, image_hs)) {
		if (p->running) {
			fwp_hash()->update(image_hs, src, len);
		} else {
			fwp_hash()->reset(&chunk_hs);
			fwp_hash()->copy_hash(src, src, len, &chunk_hs, image_hs);
			hash = fwp_hash()->digest(&chunk_hs);
		}
		if (ops->offer)
			ops->offer(p->src, i, own, image_hs);
	}
	return p->running ? fwp_hash()->digest(image_hs) : hash;
}

static int send_next(struct push *p, struct cursor *c, struct fwp_hstate *image_hs)
{
	uint32_t i = chunk_slot(p, c, c->next_send), len = chunk_len(p, c, c->next_send);
	unsigned char *body = fwp_win_body(&p->h->win, i), *src = stage(p, i);
	struct fwp_hash128 hash;
	int ret;

	ret = p->src->ops->wait(p->src, i);
	if (ret)
		return fail(p, ret, &(struct slot){ .type = FWP_MSG_DATA,
						     .offset = c->next_send * p->chunk }, 0);
	p->slots[i].image_before = *image_hs;
	hash = hash_chunk(p, i, src, len, image_hs);
	if (unchanged(p, src, c->next_send * p->chunk, len)) {
		submit_keep(p, i, c->next_send * p->chunk, len, &hash);
		c->next_send++;
		return 0;
	}
	if (src != body)
		fwp_io_copy(body, src, len);
	submit(p, i, FWP_MSG_DATA, c->next_send * p->chunk, len, &hash, &hash);
	p->res->chunks++;
	c->next_send++;
	return 0;
}

/*
 * The BMC found a chunk corrupted. Everything sent after it is answered OUT_OF_RANGE (the BMC
 * still waits for it), so: finish the reads in flight, collect those answers, rewind the image
 * hash to before the chunk, and go on from it. At most FWP_PUSH_RETRIES times per chunk.
 */
static int rewind_to_failed(struct push *p, struct cursor *c, struct fwp_hstate *image_hs)
{
	uint64_t k, off = p->res->failed_offset;
	uint32_t i;
	int ret;

	if (p->res->failed_type != FWP_MSG_DATA || p->res->bmc_status != FWP_ST_BAD_HASH)
		return -EREMOTEIO;
	p->retries = off == p->retry_offset ? p->retries + 1 : 1;
	p->retry_offset = off;
	if (p->retries > FWP_PUSH_RETRIES)
		return -EREMOTEIO;
	ret = p->src->ops->submit(p->src);	/* the failure may have cut read_ahead short */
	if (ret)
		return ret;
	for (k = c->next_send; k < c->next_read; k++) {
		ret = p->src->ops->wait(p->src, chunk_slot(p, c, k));
		if (ret)
			return ret;
	}
	*image_hs = p->slots[chunk_slot(p, c, off / p->chunk)].image_before;
	for (i = 0; i < p->nslots; i++) {
		ret = reap(p, i);
		if (gone(ret))
			return ret;
	}
	p->res->bmc_status = p->res->failed_type = 0;
	p->res->failed_offset = 0;
	p->res->resends++;
	c->next_read = c->next_send = c->base_chunk = off / p->chunk;
	c->base_msg = p->msgs;
	return 0;
}

static int send_image(struct push *p, struct fwp_hstate *image_hs, uint64_t from)
{
	uint64_t first = (from + p->chunk - 1) / p->chunk;	/* from: whole chunks, or the end */
	struct cursor c = {
		.nchunks = (p->res->image_size + p->chunk - 1) / p->chunk,
		.next_read = first,
		.next_send = first,
		.base_msg = p->msgs,
		.base_chunk = first,
	};
	int ret;

	for (;;) {
		ret = 0;
		while (!ret && c.next_send < c.nchunks)
			ret = read_ahead(p, &c) ?: send_next(p, &c, image_hs);
		if (!ret)
			ret = drain(p);
		if (ret != -EREMOTEIO)
			return ret;
		ret = rewind_to_failed(p, &c, image_hs);
		if (ret)
			return ret;
	}
}

/* Hashes the image through slot 0's stage: for resume, before and after the session starts. */
static int hash_range(struct push *p, uint64_t len, struct fwp_hstate *hs)
{
	const struct fwp_source_ops *ops = p->src->ops;
	unsigned char *buf = stage(p, 0);
	uint64_t off;
	uint32_t n;
	int ret;

	for (off = 0; off < len; off += n) {
		n = len - off < p->chunk ? len - off : p->chunk;
		ret = ops->queue(p->src, 0, buf, n, off) ?: ops->submit(p->src) ?:
		      ops->wait(p->src, 0);
		if (ret) {
			p->res->failed_offset = off;
			return ret;
		}
		fwp_hash()->update(hs, buf, n);
	}
	return 0;
}

/*
 * Resume: the BMC continues only for the very same image, so the host names it by hash first.
 * The BMC answers with how much it holds; the host hashes that prefix itself, so its whole-image
 * hash still covers every byte, and sends the rest.
 */
static int resume_point(struct push *p, struct fwp_hstate *image_hs, uint64_t *from)
{
	struct fwp_ack ack;
	uint64_t held;

	fwp_win_read_ack(&p->h->win, p->msgs ? (p->msgs - 1) % p->nslots : 0, &ack);
	held = ack.offset;

	/* Whole chunks, or all of it: a host may die between the last DATA and the FINISH. */
	if (held > p->res->image_size || (held % p->chunk && held != p->res->image_size)) {
		p->res->bmc_held = held;
		return fail(p, -EPROTO, &(struct slot){ .type = FWP_MSG_START }, 0);
	}
	*from = held;
	p->res->resumed_from = held;
	return hash_range(p, held, image_hs);
}

/*
 * Checks a HASHES answer's body (PROTOCOL.md 14.2) on a private copy and keeps the hashes of
 * the image's blocks; the first answer says the block size. A body that is not what was asked,
 * or does not hash to the answer's hash, is a lying BMC.
 */
static int take_hashes(struct push *p, uint32_t i, const struct fwp_hashes_body *q)
{
	struct fwp_hashes_answer head;
	struct fwp_hash128 *buf, got;
	struct fwp_ack ack;
	uint64_t len;
	int ret = 0;

	fwp_win_read_ack(&p->h->win, i, &ack);
	fwp_win_copy_out(&p->h->win, &head, fwp_win_body(&p->h->win, i), sizeof(head));
	len = fwp_hashes_answer_len(q->banks, head.n);
	if (head.first != q->first || head.banks != q->banks || !head.n || head.n > q->count ||
	    len > p->h->win.layout.slot_size || head.block_size < FWP_PAGE ||
	    (head.block_size & (head.block_size - 1)) || (p->block && head.block_size != p->block))
		return fail(p, -EBADMSG, &p->slots[i], ack.status);
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	fwp_win_copy_out(&p->h->win, buf, fwp_win_body(&p->h->win, i), len);
	got = fwp_xxh128(buf, len);
	if (!fwp_hash128_eq(&got, &ack.hash))
		ret = fail(p, -EBADMSG, &p->slots[i], ack.status);
	if (!ret && !p->active) {
		p->block = head.block_size;
		p->nactive = (p->res->image_size + p->block - 1) / p->block;
		p->active = calloc(p->nactive, sizeof(*p->active));
		ret = p->active ? 0 : -ENOMEM;
	}
	if (!ret)
		memcpy(p->active + q->first, buf + sizeof(head) / sizeof(*buf),
		       (head.n < p->nactive - q->first ? head.n : p->nactive - q->first) *
		       sizeof(*buf));
	free(buf);
	return ret ? ret : (int)head.n;
}

/*
 * Delta (PROTOCOL.md 14.5): after START, the active image's hash of each of the image's
 * blocks, asked for until all are in. A BMC without BLOCK_HASHES, or chunks that are not whole
 * blocks: every chunk goes as DATA, as without --delta.
 */
static int fetch_hashes(struct push *p)
{
	struct fwp_hashes_body q = { .count = UINT32_MAX, .banks = FWP_BANK_ACTIVE };
	uint64_t got = 0;
	int ret;

	if (!(p->h->caps & FWP_CAP_BLOCK_HASHES))
		return 0;
	do {
		q.first = (uint32_t)got;
		ret = send_small(p, FWP_MSG_HASHES, &q, sizeof(q), NULL);
		if (!ret)
			ret = take_hashes(p, (uint32_t)((p->msgs - 1) % p->nslots), &q);
		got += ret > 0 ? (uint64_t)ret : 0;
	} while (ret > 0 && got < p->nactive);
	if (ret >= 0 && p->chunk % p->block) {
		free(p->active);
		p->active = NULL;
	}
	return ret < 0 ? ret : 0;
}

static int push_session(struct push *p, const struct fwp_push_opts *o)
{
	struct fwp_start_body start = {
		.image_size = p->res->image_size,
		.chunk_size = p->chunk,
		.component = o->component,
	};
	struct fwp_finish_signed finish;
	struct fwp_hstate image_hs;
	uint64_t t0 = fwp_now_ns(), from = 0;
	int ret;

	if (o->resume && !o->expect_hash) {
		fwp_hash()->reset(&image_hs);
		ret = hash_range(p, p->res->image_size, &image_hs);
		if (ret)
			return ret;
		start.image_hash = fwp_hash()->digest(&image_hs);
		start.flags = FWP_START_HAS_HASH;
	}
	if (o->expect_hash) {
		start.flags = FWP_START_HAS_HASH;
		start.image_hash = *o->expect_hash;
	}
	if (o->resume)
		start.flags |= FWP_START_RESUME;
	p->running = p->h->caps & FWP_CAP_RUNNING_DIGEST;
	if (p->running)
		start.flags |= FWP_START_RUNNING;
	ret = send_small(p, FWP_MSG_START, &start, sizeof(start), NULL);
	if (ret)
		return ret;
	fwp_hash()->reset(&image_hs);
	if (o->resume) {
		ret = resume_point(p, &image_hs, &from);
		if (ret)
			return ret;
	}
	ret = o->delta ? fetch_hashes(p) : 0;
	if (ret)
		goto abort;
	report(p, FWP_PHASE_START, from);
	ret = send_image(p, &image_hs, from);
	/*
	 * Every byte is read. An image written to meanwhile was pushed as a mix of versions: with
	 * nothing that pins its bytes (a hash named up front, a signature) the BMC would verify
	 * and activate that mix, so it never gets the FINISH. A pinned image is left to the BMC's
	 * own check, which refuses a mix.
	 */
	if ((ret == -EIO || (!ret && !(start.flags & FWP_START_HAS_HASH) && !o->signature)) &&
	    p->src->ops->changed(p->src))
		ret = -ESTALE;
	if (ret)
		goto abort;
	finish.image_hash = fwp_hash()->digest(&image_hs);
	p->res->image_hash = finish.image_hash;
	if (o->expect_hash && !fwp_hash128_eq(o->expect_hash, &finish.image_hash)) {
		ret = -EBADMSG;
		goto abort;
	}
	if (o->signature)
		memcpy(finish.signature, o->signature, sizeof(finish.signature));
	report(p, FWP_PHASE_VERIFY, p->res->image_size);
	ret = send_small(p, FWP_MSG_FINISH, &finish,
			 o->signature ? sizeof(finish) : sizeof(struct fwp_finish_body),
			 &finish.image_hash);
	p->res->ns = fwp_now_ns() - t0;
	return ret;
abort:
	if (!gone(ret))
		abort_session(p);
	return ret;
}

static int configure(struct push *p, struct fwp_host *h, const struct fwp_push_opts *o)
{
	const struct fwp_layout *l = &h->win.layout;

	p->h = h;
	p->nslots = o->slots ? o->slots : l->slot_count;
	p->chunk = o->chunk_size ? o->chunk_size : l->slot_size;
	p->timeout_ns = timeout_ns(o->timeout_ms);
	p->step_ns = p->timeout_ns * FWP_PUSH_STEP_TIMEOUTS;
	if (p->nslots > l->slot_count || p->chunk > l->slot_size || p->chunk % p->src->align)
		return -EINVAL;
	p->res->slots = p->nslots;
	p->res->chunk_size = p->chunk;
	p->last_progress = p->last_answer = p->last_ring = p->last_check = fwp_now_ns();
	p->retry_offset = UINT64_MAX;
	p->heartbeat = fwp_win_heartbeat(&h->win);
	if (h->win.device) {
		p->bounce = aligned_alloc(FWP_PAGE, (size_t)l->slot_stride * p->nslots);
		if (!p->bounce)
			return -ENOMEM;
	}
	return 0;
}

/* The source is set up for the push's slots (the stage), and the push runs between. */
static int push_staged(struct push *p, const struct fwp_push_opts *o)
{
	const struct fwp_source_ops *ops = p->src->ops;
	int ret;

	ret = ops->begin ? ops->begin(p->src, stage(p, 0),
				      (size_t)p->h->win.layout.slot_stride * p->nslots, p->nslots) : 0;
	if (ret)
		return ret;
	ret = push_session(p, o);
	if (ops->end)
		ops->end(p->src);
	return ret;
}

int fwp_host_push_source(struct fwp_host *h, struct fwp_source *src,
			 const struct fwp_push_opts *opts, struct fwp_push_result *res)
{
	struct fwp_push_opts o;
	struct push *p;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = fwp_opts_copy(&o, sizeof(o), opts);
	if (ret)
		return ret;
	res->image_size = src->size;
	if (res->image_size == 0)
		return -ENODATA;
	if (res->image_size > h->flash_capacity)
		return -EFBIG;
	/* aligned_alloc: the hash states in the slots want their 64-byte alignment. */
	p = aligned_alloc(_Alignof(struct push), sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p, 0, sizeof(*p));
	p->res = res;
	p->o = &o;
	p->src = src;
	ret = configure(p, h, &o);
	if (!ret)
		ret = push_staged(p, &o);
	free(p->bounce);
	free(p->active);
	free(p);
	return ret;
}
