/* SPDX-License-Identifier: MIT */
/*
 * What a push to many targets shows while it runs: on a terminal, one line per target redrawn
 * at most 10 times a second and a summary; `--progress=jsonl`, a JSON Lines event stream
 * (start, progress, verify, done or failed, summary) for dashboards and CI.
 *
 * The pushes run on threads of their own and only store into their target's atomics
 * (prog_phase(), prog_finish()); the main thread alone reads them and writes (prog_tick()).
 */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fwpush/push.h"

enum prog_mode { PROG_NONE, PROG_TTY, PROG_JSONL };

/* A target's phases as shown: FWP_PHASE_* and these. */
enum { PROG_WAITING = -2, PROG_CONNECTING = -1 };

struct prog_target {
	const char *uri;
	_Atomic int phase;		/* PROG_WAITING .. FWP_PHASE_DONE */
	_Atomic unsigned reached;	/* 1 << each FWP_PHASE_* it got to: none is missed */
	_Atomic uint64_t done;		/* bytes the BMC holds */
	_Atomic uint64_t started_ns;	/* 0 until the START is answered */
	_Atomic bool finished;		/* then what follows is final */
	int code;			/* its exit code: 0 pushed */
	char reason[320];		/* failed: the error line */
	struct fwp_push_result res;
	/* The main thread's own: what it last showed. */
	unsigned shown_reached;
	uint64_t shown_ns;
	bool shown_final;
};

struct progress {
	enum prog_mode mode;
	FILE *out;
	const char *image;
	uint64_t size;
	struct prog_target *t;
	unsigned n;
	uint64_t t0;
	unsigned lines;			/* tty: lines drawn last time */
	bool single;			/* one target on a terminal: its live line gives way to
				 * the plain result, no summary */
	uint64_t bytes_read;		/* the image's bytes read, for every target together */
	uint64_t bytes_hashed;		/* and hashed */
};

void prog_init(struct progress *p, enum prog_mode mode, const char *image, uint64_t size,
	       struct prog_target *t, unsigned n);
/* The pushing threads' side. */
void prog_phase(struct prog_target *t, int phase, uint64_t done);
void prog_finish(struct prog_target *t, int code, const struct fwp_push_result *res);
/* The main thread's: shows what changed; at the end, the final lines and the summary. */
void prog_tick(struct progress *p);
void prog_end(struct progress *p);

#endif
