/* SPDX-License-Identifier: MIT */
/*
 * A lying BMC, for tests: a real emulated BMC (fwp_bmc on a private inner window, with a real
 * flash) behind a relay that owns the window the host sees. The relay copies each message the
 * host rings into the inner window and each answer back out, and alters one answer as told:
 *
 *   chunk-hash:N    the Nth DATA answer says OK with a hash that is not the chunk's
 *   finish-hash     the FINISH answer says OK with a hash that is not the image's
 *   offset:N        the Nth DATA answer says OK with a stored offset one byte short
 *   resume-offset   a START answer says OK holding one chunk more than the image
 *   start-offset    a START answer (of a new session) says OK holding one chunk
 *   answer-type:N   the Nth DATA answer says OK, as the answer to a FINISH
 *
 * and misbehaves as told:
 *
 *   silent          answers nothing, ever, but beats the heartbeat as if working
 *   silent-finish   answers everything but the FINISH, beating the heartbeat forever
 *   truncate:N      after answering the Nth DATA, shrinks the window's file to one page and
 *                   stops relaying (it stays alive, holding the window)
 *   hold:N          holds the Nth DATA answer until SIGUSR1, printing "holding" on stdout
 *                   when it starts to (a test changes the world meanwhile)
 *
 * The inner BMC stores what it really received, so a test can tell what the host was told
 * from what happened. A host must catch every lie (fwpush push exits 7), and must neither hang
 * nor crash on the rest.
 *
 * Usage: lying_bmc --window shm:NAME --flash PATH --lie KIND[:N] [--slots N] [--slot-size B]
 *                  [--pubkey KEY.pub]
 * Prints "ready" on stdout once the window is formatted; SIGTERM ends it. --pubkey: the inner
 * BMC activates only images signed with that key, as bmc-sim --pubkey.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwpush/bmc.h"
#include "transport/target.h"
#include "core/mmio.h"
#include "core/poll.h"
#include "core/window.h"

enum lie {
	LIE_CHUNK_HASH, LIE_FINISH_HASH, LIE_OFFSET, LIE_RESUME_OFFSET, LIE_START_OFFSET,
	LIE_ANSWER_TYPE, LIE_SILENT, LIE_SILENT_FINISH, LIE_TRUNCATE, LIE_HOLD,
};

struct relay {
	struct fwp_target *outer_t, *inner_t;
	struct fwp_window outer, inner;
	struct fwp_bmc *bmc;
	enum lie lie;
	uint64_t nth;		/* which chunk or START to lie about (1 = the first) */
	uint64_t starts;	/* START answers so far */
	bool lied;
	bool truncated;		/* truncate: the window is broken, the relay stands still */
	uint32_t held_seq;	/* hold: the answer held back */
	uint32_t beats;		/* silent: the relay's own heartbeat */
	const char *path;	/* the window's file */
	uint64_t start_chunk;	/* chunk size of the session, from its START */
	uint64_t start_size;
	uint64_t forwarded[FWP_SLOTS_MAX];
	uint64_t data_offset[FWP_SLOTS_MAX];	/* of the DATA message forwarded in each slot */
};

static volatile sig_atomic_t stop, released;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_release(int sig)
{
	(void)sig;
	released = 1;
}

static void *serve(void *arg)
{
	fwp_bmc_run(arg, &stop);
	return NULL;
}

static int parse_lie(struct relay *r, const char *v)
{
	static const char *names[] = { "chunk-hash", "finish-hash", "offset", "resume-offset",
				       "start-offset", "answer-type", "silent", "silent-finish",
				       "truncate", "hold" };
	const char *colon = strchr(v, ':');
	size_t n = colon ? (size_t)(colon - v) : strlen(v);
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) == n && !strncmp(v, names[i], n)) {
			r->lie = i;
			r->nth = colon ? strtoull(colon + 1, NULL, 0) : 1;
			return r->nth ? 0 : -EINVAL;
		}
	}
	return -EINVAL;
}

/* Copies the message the host rang in slot i into the inner window and rings it there. */
static void forward(struct relay *r, uint32_t i, uint32_t seq)
{
	const struct fwp_msg_hdr *h = fwp_win_hdr(&r->outer, i);
	struct fwp_start_body sb;

	memcpy(fwp_win_body(&r->inner, i), fwp_win_body(&r->outer, i), r->outer.layout.slot_size);
	memcpy(fwp_win_hdr(&r->inner, i), h, sizeof(*h));
	if (h->type == FWP_MSG_START && h->length == sizeof(sb)) {
		memcpy(&sb, fwp_win_body(&r->outer, i), sizeof(sb));
		r->start_chunk = sb.chunk_size;
		r->start_size = sb.image_size;
	}
	r->data_offset[i] = h->offset;
	r->forwarded[i] = seq;
	fwp_win_ring(&r->inner, i, seq);
}

/*
 * Is the answer in slot i the one to lie in? Answers are relayed in slot order, not in the
 * BMC's order, so a chunk is told by its offset, not by counting answers.
 */
static bool matches(struct relay *r, uint32_t i, const struct fwp_ack *a)
{
	if (r->lied || a->status != FWP_ST_OK)
		return false;
	switch (r->lie) {
	case LIE_CHUNK_HASH:
	case LIE_OFFSET:
	case LIE_ANSWER_TYPE:
	case LIE_TRUNCATE:
	case LIE_HOLD:
		return a->type == FWP_MSG_DATA && r->data_offset[i] == (r->nth - 1) * r->start_chunk;
	case LIE_FINISH_HASH:
		return a->type == FWP_MSG_FINISH;
	case LIE_RESUME_OFFSET:
	case LIE_START_OFFSET:
		return a->type == FWP_MSG_START && ++r->starts == r->nth;
	case LIE_SILENT:
	case LIE_SILENT_FINISH:
		return false;
	}
	return false;
}

/* silent, silent-finish, hold: is the inner BMC's answer in slot i kept from the host? */
static bool withheld(struct relay *r, uint32_t i, uint32_t seq)
{
	struct fwp_ack a;

	if (r->lie == LIE_SILENT)
		return true;
	if (r->lie == LIE_HOLD && r->held_seq == seq)
		return !released;
	fwp_win_read_ack(&r->inner, i, &a);
	if (r->lie == LIE_SILENT_FINISH)
		return a.type == FWP_MSG_FINISH;
	if (r->lie == LIE_HOLD && matches(r, i, &a)) {
		r->lied = true;
		r->held_seq = seq;
		printf("holding\n");
		fflush(stdout);
		return !released;
	}
	return false;
}

/* truncate: shrinks the window's file under the host, which keeps its mapping. */
static void truncate_window(struct relay *r)
{
	int fd = open(r->path, O_RDWR | O_CLOEXEC);

	if (fd < 0 || ftruncate(fd, FWP_PAGE))
		fprintf(stderr, "lying_bmc: truncate %s: %s\n", r->path, strerror(errno));
	else
		fprintf(stderr, "lying_bmc: truncated %s to %d bytes\n", r->path, FWP_PAGE);
	if (fd >= 0)
		close(fd);
	r->truncated = true;
}

/* Copies the inner BMC's answer in slot i out to the host, altered if it is the one. */
static void answer(struct relay *r, uint32_t i, uint32_t seq)
{
	struct fwp_ack a;

	fwp_win_read_ack(&r->inner, i, &a);
	if (r->lie != LIE_HOLD && matches(r, i, &a)) {
		r->lied = true;
		switch (r->lie) {
		case LIE_CHUNK_HASH:
		case LIE_FINISH_HASH:
			a.hash.lo ^= 1;
			break;
		case LIE_OFFSET:
			a.offset -= 1;
			break;
		case LIE_RESUME_OFFSET:
			a.offset = r->start_size + r->start_chunk;
			break;
		case LIE_START_OFFSET:
			a.offset = r->start_chunk;
			break;
		case LIE_ANSWER_TYPE:
			a.type = FWP_MSG_FINISH;
			break;
		default:
			break;
		}
		fprintf(stderr, "lying_bmc: lied in the answer to seq %u\n", seq);
	}
	fwp_win_answer(&r->outer, i, &a);
	if (r->lie == LIE_TRUNCATE && r->lied && !r->truncated)
		truncate_window(r);
}

static bool relay_once(struct relay *r)
{
	bool busy = false;
	uint32_t i;

	for (i = 0; i < r->outer.layout.slot_count && !r->truncated; i++) {
		uint32_t hs = fwp_win_db_seq(&r->outer, i);
		uint32_t as = fwp_win_ack_seq(&r->inner, i);

		if (hs != r->forwarded[i] && hs != fwp_win_ack_seq(&r->outer, i)) {
			forward(r, i, hs);
			busy = true;
		}
		if (as && as == r->forwarded[i] && as != fwp_win_ack_seq(&r->outer, i) &&
		    !withheld(r, i, as)) {
			answer(r, i, as);
			busy = true;
		}
	}
	if (r->truncated)
		return false;
	/*
	 * The inner BMC beats while its flash works: pass that on, as the real one would. A silent
	 * relay beats on its own as well, as if it were busy with what it never answers.
	 */
	if (r->lie == LIE_SILENT || r->lie == LIE_SILENT_FINISH)
		r->beats++;
	fwp_win_beat(&r->outer, fwp_win_heartbeat(&r->inner) + r->beats);
	fwp_win_set_last_seq(&r->outer, fwp_win_last_seq(&r->inner));
	return busy;
}

static int setup(struct relay *r, const char *uri, const char *flash, uint32_t slots,
		 uint32_t slot_size, const char *pubkey)
{
	struct fwp_bmc_opts o = { .sz = sizeof(o), .slot_count = slots, .slot_size = slot_size,
				  .pubkey_path = pubkey };
	char inner_uri[256];
	struct fwp_win_ctrl ctrl;
	struct fwp_layout l;
	int ret;

	snprintf(inner_uri, sizeof(inner_uri), "%s-inner", uri);
	ret = fwp_bmc_create(inner_uri, flash, &o, &r->bmc);
	if (!ret)
		ret = fwp_target_open(inner_uri, &r->inner_t);
	if (!ret) {
		memcpy(&ctrl, fwp_target_base(r->inner_t), sizeof(ctrl));
		ret = fwp_ctrl_decode(&ctrl, fwp_target_size(r->inner_t), &l);
	}
	if (!ret)
		ret = fwp_target_create(uri, l.window_size, &r->outer_t);
	if (ret)
		return ret;
	fwp_win_init(&r->inner, fwp_target_base(r->inner_t), &l, false);
	fwp_win_init(&r->outer, fwp_target_base(r->outer_t), &l, false);
	ctrl.heartbeat = 0;
	fwp_win_publish(&r->outer, &ctrl);	/* the inner BMC's epoch: headers pass as they are */
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "window", required_argument, NULL, 'w' },
		{ "flash", required_argument, NULL, 'f' },
		{ "lie", required_argument, NULL, 'l' },
		{ "slots", required_argument, NULL, 's' },
		{ "slot-size", required_argument, NULL, 'S' },
		{ "pubkey", required_argument, NULL, 'k' },
		{ 0 },
	};
	struct relay r = { 0 };
	const char *uri = NULL, *flash = NULL, *pubkey = NULL;
	char path[300];
	uint32_t slots = 4, slot_size = 64 << 10;
	struct fwp_backoff bo;
	pthread_t bmc_thread;
	int c, ret = -EINVAL;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'w': uri = optarg; break;
		case 'f': flash = optarg; break;
		case 'l': ret = parse_lie(&r, optarg); break;
		case 's': slots = strtoul(optarg, NULL, 0); break;
		case 'S': slot_size = strtoul(optarg, NULL, 0); break;
		case 'k': pubkey = optarg; break;
		default: return 2;
		}
	}
	if (!uri || !flash || ret || strncmp(uri, "shm:", 4)) {
		fprintf(stderr, "usage: lying_bmc --window URI --flash PATH --lie KIND[:N]\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_release);
	snprintf(path, sizeof(path), "/dev/shm/%s", uri + 4);
	r.path = path;
	ret = setup(&r, uri, flash, slots, slot_size, pubkey);
	if (ret) {
		fprintf(stderr, "lying_bmc: %s\n", strerror(-ret));
		return 1;
	}
	pthread_create(&bmc_thread, NULL, serve, r.bmc);
	printf("ready\n");
	fflush(stdout);
	fwp_backoff_reset(&bo);
	while (!stop) {
		if (relay_once(&r))
			fwp_backoff_reset(&bo);
		else
			fwp_backoff_wait(&bo);
	}
	pthread_join(bmc_thread, NULL);
	fwp_target_close(r.outer_t);
	fwp_target_close(r.inner_t);
	fwp_bmc_destroy(r.bmc);
	return 0;
}
