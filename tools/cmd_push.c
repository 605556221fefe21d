/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fwpush/push.h"
#include "fwpush/sign.h"
#include "progress.h"
#include "push_msg.h"

#define TARGETS_MAX	256

void usage_push(FILE *out)
{
	fputs("usage: fwpush push IMAGE --target URI [--target URI ...] [OPTIONS]\n"
	      "\n"
	      "Streams IMAGE into the BMC's window, keeping every slot busy, and exits 0 only once\n"
	      "the BMC has stored and synced the whole image and its XXH3-128 matches. Given many\n"
	      "targets, pushes to all at once (the image read once), each on its own, and exits 0\n"
	      "only if every one succeeded (11 if some failed: each is listed with its reason).\n"
	      "\n"
	      "  -t, --target URI         the BMC's window, e.g. shm:bmc0; repeat for more BMCs\n"
	      "      --targets FILE       more targets, one URI per line (# comments)\n"
	      "  -j, --jobs N             push to at most N targets at a time (default: all)\n"
	      "      --progress MODE      auto (default: live lines on a terminal, else only the\n"
	      "                           results), tty, jsonl (JSON Lines events), none\n"
	      "  -s, --slots N            slots to keep in flight (default: all the window has)\n"
	      "  -c, --chunk-size SIZE    bytes per message (default: the window's slot size)\n"
	      "  -T, --timeout DURATION   fail when the BMC makes no progress this long\n"
	      "                           (default 5s; 500ms, 2.5s, 10 are all fine); its\n"
	      "                           heartbeat stretches one answer's wait to 8 x this\n"
	      "      --component N        which firmware component (default 0)\n"
	      "      --expect-hash HEX    refuse unless the image's XXH3-128 is HEX\n"
	      "      --direct             read the image with O_DIRECT, around the page cache\n"
	      "                           (the chunk size must be a multiple of 4K)\n"
	      "      --signature SIG      send this Ed25519 signature (fwpush sign) with the image\n"
	      "      --resume             continue where an interrupted push of this image left\n"
	      "                           off; the image is hashed first to name it, so a push\n"
	      "                           started with --resume (or --expect-hash) can be resumed\n"
	      "      --delta              send only the chunks that differ from the BMC's active\n"
	      "                           image (BLOCK_HASHES: PROTOCOL.md 14); the rest as KEEP\n"
	      "      --json               print the result as JSON\n"
	      "      --inject flip:PCT,lose:PCT,dup:PCT,kill:OFFSET   tests only: corrupt a body after\n"
	      "                           hashing, drop or duplicate doorbells, at random per DATA\n"
	      "                           message; SIGKILL this host just before it rings the\n"
	      "                           message at OFFSET (the image size: the FINISH)\n"
	      "      --seed N             the random sequence of --inject (default 1)\n"
	      "  -q, --quiet              print nothing on success\n", out);
}

struct push_args {
	const char *image;
	const char *target;		/* the one this push goes to */
	const char *targets[TARGETS_MAX];
	unsigned ntargets;
	char *targets_text;		/* --targets FILE's contents, which targets[] point into */
	uint32_t jobs;
	enum prog_mode progress;
	bool progress_given;
	struct fwp_push_opts opts;
	struct fwp_hash128 expect;
	uint32_t timeout_ms;
	int json;
	int quiet;
	bool direct;
	uint8_t signature[FWP_SIG_SIZE];
	/* --inject: percent chance per DATA message of each fault, and what was injected. */
	unsigned pct[4];
	unsigned injected[4];
	uint64_t rng;
	uint64_t kill_at;	/* UINT64_MAX: never */
};

static const char *const fault_names[] = { "none", "flip", "lose", "dup" };

/* "flip:10,lose:2,dup:5,kill:65536": percent per DATA message; where the host dies. */
static int parse_inject(const char *spec, struct push_args *a)
{
	char buf[128], *item, *save = NULL;
	unsigned k;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(item, ':');

		if (colon && colon - item == 4 && !strncmp(item, "kill", 4)) {
			if (fwp_parse_size(colon + 1, &a->kill_at))
				return cli_die(CLI_EXIT_USAGE, "--inject %s: kill:OFFSET wants a "
					       "byte offset", spec);
			continue;
		}
		for (k = 1; k < 4 && colon; k++) {
			if (!strncmp(item, fault_names[k], colon - item) &&
			    strlen(fault_names[k]) == (size_t)(colon - item))
				break;
		}
		if (!colon || k == 4 || atoi(colon + 1) < 0 || atoi(colon + 1) > 100)
			return cli_die(CLI_EXIT_USAGE, "--inject %s: expected flip:PCT,lose:PCT,"
				       "dup:PCT,kill:OFFSET", spec);
		a->pct[k] = atoi(colon + 1);
	}
	return 0;
}

/* xorshift64*: reproducible from --seed. */
static enum fwp_fault pick_fault(void *arg, uint16_t type, uint64_t offset)
{
	struct push_args *a = arg;
	unsigned k, roll;

	if (offset >= a->kill_at)
		raise(SIGKILL);		/* a host crash, at a known point */
	if (type != FWP_MSG_DATA)
		return FWP_FAULT_NONE;
	a->rng ^= a->rng >> 12;
	a->rng ^= a->rng << 25;
	a->rng ^= a->rng >> 27;
	roll = (unsigned)((a->rng * 0x2545f4914f6cdd1dull) >> 33) % 100;
	for (k = 1; k < 4; k++) {
		if (roll < a->pct[k]) {
			a->injected[k]++;
			return (enum fwp_fault)k;
		}
		roll -= a->pct[k];
	}
	return FWP_FAULT_NONE;
}

static int add_target(struct push_args *a, const char *uri)
{
	unsigned i;

	for (i = 0; i < a->ntargets; i++) {
		if (!strcmp(a->targets[i], uri))
			return cli_die(CLI_EXIT_USAGE, "push: target %s is named twice", uri);
	}
	if (a->ntargets == TARGETS_MAX)
		return cli_die(CLI_EXIT_USAGE, "push: more than %d targets", TARGETS_MAX);
	a->targets[a->ntargets++] = uri;
	return 0;
}

/* --targets FILE: one URI per line; blank lines and # comments are skipped. */
static int read_targets(struct push_args *a, const char *path)
{
	char *line, *save = NULL, *end;
	FILE *f = fopen(path, "re");
	long len;
	int ret = 0;

	if (a->targets_text) {
		if (f)
			fclose(f);
		return cli_die(CLI_EXIT_USAGE, "--targets %s: only one --targets FILE", path);
	}
	if (!f)
		return cli_die(CLI_EXIT_USAGE, "--targets %s: %s", path, strerror(errno));
	len = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
	a->targets_text = len >= 0 && len < (1 << 20) ? calloc(1, len + 1) : NULL;
	if (!a->targets_text || fseek(f, 0, SEEK_SET) ||
	    fread(a->targets_text, 1, len, f) != (size_t)len)
		ret = cli_die(CLI_EXIT_USAGE, "--targets %s: cannot read it (at most 1 MiB)", path);
	fclose(f);
	for (line = ret ? NULL : strtok_r(a->targets_text, "\n", &save); line && !ret;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		for (end = line + strcspn(line, "#"); end > line && strchr(" \t\r", end[-1]); end--)
			;
		*end = 0;
		if (*line)
			ret = add_target(a, line);
	}
	if (!ret && !a->ntargets)
		ret = cli_die(CLI_EXIT_USAGE, "--targets %s: no target in it", path);
	return ret;
}

static int parse_progress(struct push_args *a, const char *mode)
{
	static const char *const names[] = { "none", "tty", "jsonl" };
	unsigned i;

	a->progress_given = strcmp(mode, "auto") != 0;
	a->progress = isatty(STDOUT_FILENO) ? PROG_TTY : PROG_NONE;
	for (i = 0; i < 3 && a->progress_given; i++) {
		if (!strcmp(mode, names[i])) {
			a->progress = (enum prog_mode)i;
			return 0;
		}
	}
	return a->progress_given ? cli_die(CLI_EXIT_USAGE, "--progress %s: expected auto, tty, "
					   "jsonl or none", mode) : 0;
}

static int parse(int argc, char **argv, struct push_args *a)
{
	enum { OPT_COMPONENT = 256, OPT_EXPECT, OPT_JSON, OPT_DIRECT, OPT_INJECT, OPT_SEED, OPT_SIG,
	       OPT_RESUME, OPT_TARGETS, OPT_PROGRESS, OPT_DELTA };
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "targets", required_argument, NULL, OPT_TARGETS },
		{ "jobs", required_argument, NULL, 'j' },
		{ "progress", required_argument, NULL, OPT_PROGRESS },
		{ "slots", required_argument, NULL, 's' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "component", required_argument, NULL, OPT_COMPONENT },
		{ "expect-hash", required_argument, NULL, OPT_EXPECT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "direct", no_argument, NULL, OPT_DIRECT },
		{ "inject", required_argument, NULL, OPT_INJECT },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "signature", required_argument, NULL, OPT_SIG },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ "delta", no_argument, NULL, OPT_DELTA },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, ret;

	a->timeout_ms = FWP_DEFAULT_TIMEOUT_MS;
	parse_progress(a, "auto");
	while ((c = getopt_long(argc, argv, "t:j:s:c:T:qh", longopts, NULL)) != -1) {
		ret = 0;
		switch (c) {
		case 't': ret = add_target(a, optarg); break;
		case OPT_TARGETS: ret = read_targets(a, optarg); break;
		case 'j': ret = cli_opt_u32("jobs", optarg, 1, TARGETS_MAX, &a->jobs); break;
		case OPT_PROGRESS: ret = parse_progress(a, optarg); break;
		case 's': ret = cli_opt_u32("slots", optarg, 1, FWP_SLOTS_MAX, &a->opts.slots); break;
		case 'c':
			ret = cli_opt_u32("chunk-size", optarg, 1, FWP_SLOT_SIZE_MAX,
					  &a->opts.chunk_size);
			break;
		case 'T':
			if (fwp_parse_ms(optarg, &a->timeout_ms))
				ret = cli_die(CLI_EXIT_USAGE, "--timeout %s: expected a duration "
					      "such as 5, 2.5s or 500ms", optarg);
			break;
		case OPT_COMPONENT:
			ret = cli_opt_u32("component", optarg, 0, UINT32_MAX, &a->opts.component);
			break;
		case OPT_EXPECT:
			if (fwp_hash128_parse(optarg, &a->expect))
				ret = cli_die(CLI_EXIT_USAGE,
					      "--expect-hash %s: expected 32 hex digits", optarg);
			a->opts.expect_hash = &a->expect;
			break;
		case OPT_JSON: a->json = 1; break;
		case OPT_DIRECT: a->direct = true; break;
		case OPT_INJECT: ret = parse_inject(optarg, a); break;
		case OPT_SIG:
			ret = cli_read_signature(optarg, a->signature);
			a->opts.signature = a->signature;
			break;
		case OPT_RESUME: a->opts.resume = true; break;
		case OPT_DELTA: a->opts.delta = true; break;
		case OPT_SEED:
			if (fwp_parse_size(optarg, &a->rng))
				ret = cli_die(CLI_EXIT_USAGE, "--seed %s: expected a number", optarg);
			break;
		case 'q': a->quiet = 1; break;
		case 'h': usage_push(stdout); return -1;
		default: return CLI_EXIT_USAGE;
		}
		if (ret)
			return ret;
	}
	if (optind + 1 != argc)
		return cli_die(CLI_EXIT_USAGE, "push: expected exactly one IMAGE (try fwpush help push)");
	if (!a->ntargets)
		return cli_die(CLI_EXIT_USAGE, "push: --target is required (e.g. --target shm:bmc0)");
	a->target = a->targets[0];
	if (a->direct && a->ntargets > 1)
		return cli_die(CLI_EXIT_USAGE, "push: --direct reads for one target only (many "
			       "targets share one read of the image)");
	a->image = argv[optind];
	a->opts.sz = sizeof(a->opts);
	if (a->pct[1] + a->pct[2] + a->pct[3] || a->kill_at != UINT64_MAX) {
		if (a->pct[1] + a->pct[2] + a->pct[3] > 100)
			return cli_die(CLI_EXIT_USAGE, "--inject: the percentages add up past 100");
		a->rng = a->rng ? a->rng : 1;
		a->opts.fault = pick_fault;
		a->opts.fault_arg = a;
	}
	a->opts.timeout_ms = a->timeout_ms;
	return 0;
}

/* What a file that is not what it should be is: "a FIFO", "a directory", ... */
static const char *file_kind(mode_t mode)
{
	return S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO" :
	       S_ISSOCK(mode) ? "a socket" : S_ISCHR(mode) ? "a character device" :
	       S_ISBLK(mode) ? "a block device" : S_ISLNK(mode) ? "a symbolic link" :
	       "not a regular file";
}

/*
 * A shm: target whose name is taken by something that is no window (the transport refuses it
 * at once: -EISDIR, -ESPIPE, -ELOOP): the line says what is there. Else cli_target_error().
 */
static int target_error(const struct push_args *a, int err)
{
	char path[300];
	struct stat st;

	if ((err == -EISDIR || err == -ESPIPE || err == -ELOOP) && !strncmp(a->target, "shm:", 4)) {
		snprintf(path, sizeof(path), "/dev/shm/%s", a->target + 4);
		if (!lstat(path, &st) && !S_ISREG(st.st_mode))
			return cli_die(CLI_EXIT_TARGET, "target %s: %s is %s, not a window",
				       a->target, path, file_kind(st.st_mode));
	}
	return cli_target_error(a->target, err, a->timeout_ms);
}

static int push_error(const struct push_args *a, struct fwp_host *h, int err,
		      const struct fwp_push_result *r)
{
	const struct push_msg_ctx c = {
		.image = a->image, .target = a->target, .timeout_ms = a->timeout_ms,
		.flash_capacity = h ? fwp_host_flash_capacity(h) : 0,
		.expect_hash = a->opts.expect_hash != NULL, .resume = a->opts.resume,
	};
	char buf[64], line[512];
	const char *what = push_msg_failed(r, buf, sizeof(buf));
	struct stat st;
	int code = push_msg(line, sizeof(line), &c, err, r);

	if (code)
		return cli_die(code, "%s", line);
	switch (err) {
	case -EACCES:
		return cli_die(CLI_EXIT_IMAGE, "image %s: permission denied", a->image);
	case -ESPIPE:
		if (!stat(a->image, &st))
			return cli_die(CLI_EXIT_IMAGE, "image %s: is %s, not a regular file",
				       a->image, file_kind(st.st_mode));
		return cli_die(CLI_EXIT_IMAGE, "image %s: not a regular file", a->image);
	case -EINVAL:
		if (!h)
			return cli_die(CLI_EXIT_IMAGE, "image %s: its filesystem cannot do O_DIRECT "
				       "(drop --direct)", a->image);
		return cli_die(CLI_EXIT_USAGE, "target %s has %u slots of %u bytes: --slots/"
			       "--chunk-size do not fit%s", a->target, fwp_host_slot_count(h),
			       fwp_host_slot_size(h), a->direct ? " (or are not 4K multiples, "
			       "which --direct needs)" : "");
	case -EFAULT:
		return cli_die(CLI_EXIT_TARGET, "target %s: the window's memory went away under the "
			       "host (its file was truncated) while waiting for %s", a->target, what);
	case -ENOSPC:
		return cli_die(CLI_EXIT_TARGET, "target %s: a page of the window could not be "
			       "allocated: the filesystem behind it (/dev/shm for shm:) is full", a->target);
	default:
		return cli_die(CLI_EXIT_FAILURE, "push %s: %s", a->image, strerror(-err));
	}
}

static void print_result(const struct push_args *a, const struct fwp_push_result *r)
{
	char hex[33];
	double secs = r->ns / 1e9;

	fwp_hash128_hex(&r->image_hash, hex);
	if (a->json) {
		printf("{\"image\":\"%s\",\"target\":\"%s\",\"bytes\":%llu,\"chunks\":%llu,"
		       "\"slots\":%u,\"chunk_size\":%u,\"seconds\":%.6f,\"gbps\":%.3f,"
		       "\"xxh128\":\"%s\",\"verified\":%s,\"resumed_from\":%llu,\"resends\":%u,\"rerings\":%u,"
		       "\"interrupts\":%u,\"injected\":{\"flip\":%u,\"lose\":%u,\"dup\":%u}}\n",
		       a->image, a->target,
		       (unsigned long long)r->image_size, (unsigned long long)r->chunks, r->slots,
		       r->chunk_size, secs, cli_gbps(r->image_size, r->ns), hex,
		       r->verified ? "true" : "false", (unsigned long long)r->resumed_from, r->resends,
		       r->rerings, r->interrupts, a->injected[1], a->injected[2], a->injected[3]);
	} else if (!a->quiet) {
		printf("pushed %s to %s: %llu bytes in %.3f ms (%.2f GB/s), %u slots x %u bytes, "
		       "XXH3-128 %s %s\n", a->image, a->target,
		       (unsigned long long)r->image_size, secs * 1e3,
		       cli_gbps(r->image_size, r->ns), r->slots, r->chunk_size, hex,
		       r->verified ? "verified by the BMC" : "not verified");
	}
}

/* Many targets: each pushed on a thread of its own, at most --jobs at a time. */
struct station {
	struct push_args *a;
	int fd;
	struct fwp_share *share;	/* many targets: the image read once for all */
	struct progress prog;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	uint32_t running;
};

struct station_target {
	struct station *st;
	struct push_args a;		/* a copy: its own target, and its own --inject state */
	struct prog_target *pt;
	pthread_t thread;
	bool started;
};

static void on_progress(void *arg, enum fwp_phase phase, uint64_t done)
{
	prog_phase(arg, phase, done);
}

static void job_begin(struct station *st)
{
	pthread_mutex_lock(&st->lock);
	while (st->a->jobs && st->running >= st->a->jobs)
		pthread_cond_wait(&st->freed, &st->lock);
	st->running++;
	pthread_mutex_unlock(&st->lock);
}

static void job_end(struct station *st)
{
	pthread_mutex_lock(&st->lock);
	st->running--;
	pthread_cond_signal(&st->freed);
	pthread_mutex_unlock(&st->lock);
}

/* One target's push, start to end; its error line is kept in pt->reason, not printed. */
static void *push_target(void *arg)
{
	struct station_target *t = arg;
	struct station *st = t->st;
	struct fwp_push_result r = { 0 };
	struct fwp_host *h = NULL;
	int ret, code;

	cli_capture(t->pt->reason, sizeof(t->pt->reason));
	job_begin(st);
	prog_phase(t->pt, PROG_CONNECTING, 0);
	ret = fwp_host_open(t->a.target, t->a.timeout_ms, &h);
	if (ret) {
		code = target_error(&t->a, ret);
	} else {
		ret = st->share ? fwp_host_push_shared(h, st->share, &t->a.opts, &r) :
				  fwp_host_push(h, st->fd, &t->a.opts, &r);
		code = ret ? push_error(&t->a, h, ret, &r) : 0;
	}
	fwp_host_close(h);
	job_end(st);
	prog_finish(t->pt, code, &r);
	return NULL;
}

/* Results as a single push gives them, a line per target; then the summary. */
static void print_results(struct station *st, struct station_target *t)
{
	bool plain = st->prog.mode == PROG_NONE || st->prog.single;
	unsigned i;

	if (st->prog.single)
		prog_end(&st->prog);	/* the live line gives way to the result */
	for (i = 0; plain && i < st->a->ntargets; i++) {
		if (t[i].pt->code)
			fprintf(stderr, "%s: %s\n", cli_prog, t[i].pt->reason);
		else
			print_result(&t[i].a, &t[i].pt->res);
	}
	if (!st->prog.single && (!st->a->quiet || st->prog.mode != PROG_NONE))
		prog_end(&st->prog);
}

static bool all_finished(const struct station *st)
{
	unsigned i;

	for (i = 0; i < st->a->ntargets; i++) {
		if (!atomic_load_explicit(&st->prog.t[i].finished, memory_order_acquire))
			return false;
	}
	return true;
}

static void start_targets(struct station *st, struct station_target *t, struct prog_target *pt)
{
	unsigned i;

	for (i = 0; i < st->a->ntargets; i++) {
		t[i] = (struct station_target){ .st = st, .a = *st->a, .pt = &pt[i] };
		t[i].a.target = st->a->targets[i];
		t[i].a.opts.progress = on_progress;
		t[i].a.opts.progress_arg = &pt[i];
		if (t[i].a.opts.fault)
			t[i].a.opts.fault_arg = &t[i].a;
		t[i].started = !pthread_create(&t[i].thread, NULL, push_target, &t[i]);
		if (!t[i].started)
			prog_finish(&pt[i], cli_die(CLI_EXIT_FAILURE, "push: no thread for target "
						    "%s", t[i].a.target), &(struct fwp_push_result){ 0 });
	}
}

static int run_station(struct station *st)
{
	struct station_target *t = calloc(st->a->ntargets, sizeof(*t));
	struct prog_target *pt = calloc(st->a->ntargets, sizeof(*pt));
	struct timespec tick = { 0, 100000000 };
	struct stat image;
	unsigned i, failed = 0;
	int code = 0;

	if (!t || !pt) {
		free(t);
		free(pt);
		return cli_die(CLI_EXIT_FAILURE, "push: out of memory");
	}
	for (i = 0; i < st->a->ntargets; i++)
		pt[i].uri = st->a->targets[i];
	prog_init(&st->prog, st->a->progress, st->a->image,
		  fstat(st->fd, &image) ? 0 : (uint64_t)image.st_size, pt, st->a->ntargets);
	st->prog.single = st->a->ntargets == 1 && !st->a->progress_given;
	start_targets(st, t, pt);
	while (st->prog.mode != PROG_NONE && !all_finished(st)) {
		if (st->prog.mode != PROG_NONE)
			prog_tick(&st->prog);
		nanosleep(&tick, NULL);
	}
	for (i = 0; i < st->a->ntargets; i++) {
		if (t[i].started)
			pthread_join(t[i].thread, NULL);
		failed += pt[i].code != 0;
		code = pt[i].code ? pt[i].code : code;
	}
	st->prog.bytes_read = st->prog.bytes_hashed = st->prog.size;
	if (st->share)
		fwp_share_stats(st->share, &st->prog.bytes_read, &st->prog.bytes_hashed);
	print_results(st, t);
	free(t);
	free(pt);
	return !failed ? 0 : st->a->ntargets > 1 ? CLI_EXIT_SOME : code;
}

static int push_many(struct push_args *a, int fd)
{
	struct station st = { .a = a, .fd = fd };
	int ret;

	if (a->ntargets > 1) {
		ret = fwp_share_open(fd, &st.share);
		if (ret)
			return push_error(a, NULL, ret, &(struct fwp_push_result){ 0 });
	}
	pthread_mutex_init(&st.lock, NULL);
	pthread_cond_init(&st.freed, NULL);
	ret = run_station(&st);
	pthread_cond_destroy(&st.freed);
	pthread_mutex_destroy(&st.lock);
	fwp_share_close(st.share);
	return ret;
}

int cmd_push(int argc, char **argv)
{
	struct push_args a = { .kill_at = UINT64_MAX };
	struct fwp_push_result r = { 0 };
	struct fwp_host *h;
	int fd, ret;

	ret = parse(argc, argv, &a);
	if (ret) {
		free(a.targets_text);
		return ret < 0 ? 0 : ret;
	}
	/* The image first: a missing file should not wait out a timeout. */
	fd = fwp_image_open(a.image, a.direct);
	if (fd < 0) {
		free(a.targets_text);
		return push_error(&a, NULL, fd, &r);
	}
	/* One target on a terminal gets a live line too (not with -q or --json). */
	if (a.ntargets > 1 || a.progress_given ||
	    (a.progress == PROG_TTY && !a.quiet && !a.json)) {
		ret = push_many(&a, fd);
		goto out;
	}
	ret = fwp_host_open(a.target, a.timeout_ms, &h);
	if (ret) {
		ret = target_error(&a, ret);
		goto out;
	}
	ret = fwp_host_push(h, fd, &a.opts, &r);
	if (ret)
		ret = push_error(&a, h, ret, &r);
	else
		print_result(&a, &r);
	fwp_host_close(h);
out:
	free(a.targets_text);
	close(fd);
	return ret;
}
