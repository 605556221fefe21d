/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <time.h>

#include "cli.h"
#include "progress.h"

#define TICK_NS		100000000ull	/* at most 10 redraws (or progress events) a second */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void prog_init(struct progress *p, enum prog_mode mode, const char *image, uint64_t size,
	       struct prog_target *t, unsigned n)
{
	unsigned i;

	*p = (struct progress){ .mode = mode, .out = stdout, .image = image, .size = size,
				.t = t, .n = n, .t0 = now_ns() };
	for (i = 0; i < n; i++) {
		atomic_init(&t[i].phase, PROG_WAITING);
		atomic_init(&t[i].reached, 0);
		atomic_init(&t[i].done, 0);
		atomic_init(&t[i].started_ns, 0);
		atomic_init(&t[i].finished, false);
	}
}

void prog_phase(struct prog_target *t, int phase, uint64_t done)
{
	if (phase == FWP_PHASE_START)
		atomic_store_explicit(&t->started_ns, now_ns(), memory_order_relaxed);
	atomic_store_explicit(&t->done, done, memory_order_relaxed);
	if (phase >= 0)
		atomic_fetch_or_explicit(&t->reached, 1u << phase, memory_order_relaxed);
	atomic_store_explicit(&t->phase, phase, memory_order_release);
}

void prog_finish(struct prog_target *t, int code, const struct fwp_push_result *res)
{
	t->code = code;
	t->res = *res;
	atomic_store_explicit(&t->finished, true, memory_order_release);
}

/* s as the inside of a JSON string. */
static void json_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
}

static double secs(uint64_t ns)
{
	return ns / 1e9;
}

/* Bytes a second since the START was answered, or 0 before. */
static double rate(const struct prog_target *t, uint64_t done, uint64_t now)
{
	uint64_t start = atomic_load_explicit(&t->started_ns, memory_order_relaxed);

	return start && now > start ? done / secs(now - start) : 0;
}

static const char *phase_name(int phase)
{
	switch (phase) {
	case PROG_WAITING: return "waiting";
	case PROG_CONNECTING: return "connecting";
	case FWP_PHASE_START: return "start";
	case FWP_PHASE_DATA: return "progress";
	case FWP_PHASE_VERIFY: return "verify";
	default: return "done";
	}
}

static void json_head(struct progress *p, const char *event, const struct prog_target *t,
		      uint64_t now)
{
	fprintf(p->out, "{\"event\":\"%s\",\"t\":%.3f,\"target\":\"", event, secs(now - p->t0));
	json_str(p->out, t->uri);
	fputc('"', p->out);
}

static void json_final(struct progress *p, struct prog_target *t, uint64_t now)
{
	char hex[33];

	json_head(p, t->code ? "failed" : "done", t, now);
	if (t->code) {
		fprintf(p->out, ",\"code\":%d,\"reason\":\"", t->code);
		json_str(p->out, t->reason);
		fputs("\"}\n", p->out);
		return;
	}
	fwp_hash128_hex(&t->res.image_hash, hex);
	fprintf(p->out, ",\"bytes\":%llu,\"seconds\":%.6f,\"gbps\":%.3f,\"xxh128\":\"%s\","
		"\"verified\":%s}\n", (unsigned long long)t->res.image_size, secs(t->res.ns),
		cli_gbps(t->res.image_size, t->res.ns), hex, t->res.verified ? "true" : "false");
}

static void json_phase(struct progress *p, struct prog_target *t, int phase, uint64_t done,
		       uint64_t now)
{
	json_head(p, phase_name(phase), t, now);
	fprintf(p->out, ",\"done\":%llu,\"bytes\":%llu,\"bytes_per_s\":%.0f}\n",
		(unsigned long long)done, (unsigned long long)p->size, rate(t, done, now));
	t->shown_reached |= 1u << phase;
	t->shown_ns = now;
}

/*
 * JSON Lines: start, progress at most 10 times a second, verify, then done or failed; each
 * phase a target reached is told once, in order, even if it passed between two ticks.
 */
static void json_tick(struct progress *p, struct prog_target *t, uint64_t now)
{
	bool finished = atomic_load_explicit(&t->finished, memory_order_acquire);
	unsigned reached = atomic_load_explicit(&t->reached, memory_order_relaxed);
	uint64_t done = atomic_load_explicit(&t->done, memory_order_relaxed);

	if (t->shown_final)
		return;
	if ((reached & ~t->shown_reached) & (1u << FWP_PHASE_START))
		json_phase(p, t, FWP_PHASE_START, 0, now);
	if ((reached & (1u << FWP_PHASE_DATA)) && !(reached & (1u << FWP_PHASE_VERIFY)) &&
	    now - t->shown_ns >= TICK_NS)
		json_phase(p, t, FWP_PHASE_DATA, done, now);
	if ((reached & ~t->shown_reached) & (1u << FWP_PHASE_VERIFY))
		json_phase(p, t, FWP_PHASE_VERIFY, p->size, now);
	if (finished)
		json_final(p, t, now);
	t->shown_final = finished;
}

static void mib(char *buf, size_t len, uint64_t bytes)
{
	snprintf(buf, len, "%.1f MiB", bytes / 1048576.0);
}

/* Bytes a second for people: "1.23 GB/s", "45.6 MB/s". */
static const char *per_s(char *buf, size_t len, double bytes_per_s)
{
	if (bytes_per_s >= 1e9)
		snprintf(buf, len, "%.2f GB/s", bytes_per_s / 1e9);
	else
		snprintf(buf, len, "%.1f MB/s", bytes_per_s / 1e6);
	return buf;
}

/* One target's line on a terminal, without its line break. */
static void tty_line(struct progress *p, struct prog_target *t, uint64_t now)
{
	int phase = atomic_load_explicit(&t->phase, memory_order_acquire);
	uint64_t done = atomic_load_explicit(&t->done, memory_order_relaxed);
	double r = rate(t, done, now);
	char d[32], all[32], hex[33], r_str[32];

	mib(all, sizeof(all), p->size);
	if (atomic_load_explicit(&t->finished, memory_order_acquire)) {
		fwp_hash128_hex(&t->res.image_hash, hex);
		if (t->code)
			fprintf(p->out, "%-24s FAILED    %s", t->uri, t->reason);
		else
			fprintf(p->out, "%-24s done      %s in %.2f s (%s) XXH3-128 %s %s",
				t->uri, all, secs(t->res.ns), per_s(r_str, sizeof(r_str),
				t->res.ns ? t->res.image_size / secs(t->res.ns) : 0), hex,
				t->res.verified ? "verified" : "not verified");
		return;
	}
	mib(d, sizeof(d), done);
	fprintf(p->out, "%-24s %-9s %s / %s", t->uri, phase_name(phase), d, all);
	if (r > 0)
		fprintf(p->out, "  %s  ETA %.1f s", per_s(r_str, sizeof(r_str), r),
			(p->size - done) / r);
}

static unsigned count_ok(const struct progress *p, unsigned *finished)
{
	unsigned i, ok = 0;

	*finished = 0;
	for (i = 0; i < p->n; i++) {
		if (atomic_load_explicit(&p->t[i].finished, memory_order_acquire)) {
			(*finished)++;
			ok += !p->t[i].code;
		}
	}
	return ok;
}

static void tty_draw(struct progress *p, uint64_t now)
{
	unsigned i, finished, ok = count_ok(p, &finished);

	if (p->lines)
		fprintf(p->out, "\033[%uA", p->lines);	/* back to the first line */
	for (i = 0; i < p->n; i++) {
		fputs("\r\033[2K", p->out);
		tty_line(p, &p->t[i], now);
		fputc('\n', p->out);
	}
	fprintf(p->out, "\r\033[2K%u of %u targets done, %u failed, %.1f s\n", finished, p->n,
		finished - ok, secs(now - p->t0));
	p->lines = p->n + 1;
}

void prog_tick(struct progress *p)
{
	uint64_t now = now_ns();
	unsigned i;

	if (p->mode == PROG_TTY)
		tty_draw(p, now);
	for (i = 0; p->mode == PROG_JSONL && i < p->n; i++)
		json_tick(p, &p->t[i], now);
	fflush(p->out);
}

/* The last line: how many were pushed, and which failed. */
static void summary(struct progress *p, uint64_t now)
{
	unsigned i, finished, ok = count_ok(p, &finished);
	const char *sep = "";

	if (p->mode == PROG_JSONL) {
		fprintf(p->out, "{\"event\":\"summary\",\"t\":%.3f,\"image\":\"", secs(now - p->t0));
		json_str(p->out, p->image);
		fprintf(p->out, "\",\"bytes\":%llu,\"bytes_read\":%llu,\"bytes_hashed\":%llu,"
			"\"targets\":%u,\"pushed\":%u,\"failed\":[", (unsigned long long)p->size,
			(unsigned long long)p->bytes_read, (unsigned long long)p->bytes_hashed, p->n,
			ok);
		for (i = 0; i < p->n; i++) {
			if (!p->t[i].code)
				continue;
			fprintf(p->out, "%s\"", sep);
			json_str(p->out, p->t[i].uri);
			fputc('"', p->out);
			sep = ",";
		}
		fputs("]}\n", p->out);
		return;
	}
	fprintf(p->out, "pushed %s to %u of %u targets in %.2f s", p->image, ok, p->n,
		secs(now - p->t0));
	for (i = 0; i < p->n; i++) {
		if (p->t[i].code) {
			fprintf(p->out, "%s%s (exit %d)", *sep ? ", " : "; failed: ", p->t[i].uri,
				p->t[i].code);
			sep = ",";
		}
	}
	fputc('\n', p->out);
}

void prog_end(struct progress *p)
{
	uint64_t now = now_ns();

	if (p->single) {
		if (p->lines)
			fprintf(p->out, "\033[%uA\r\033[J", p->lines);	/* all of it, gone */
		fflush(p->out);
		return;
	}
	if (p->mode != PROG_NONE)
		prog_tick(p);
	if (p->mode == PROG_TTY && p->lines) {
		fprintf(p->out, "\033[A\r\033[2K");	/* the live count gives way to the summary */
	}
	summary(p, now);
	fflush(p->out);
}
