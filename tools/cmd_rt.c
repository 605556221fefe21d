/* SPDX-License-Identifier: MIT */
/* fwpush rt-update and fwpush bench rt: the runtime update of a running multiprocessor. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fwpush/rt.h"
#include "stats.h"
#include "fwpush/sign.h"

void usage_rt_update(FILE *out)
{
	fputs("usage: fwpush rt-update IMAGE|URL --flash PATH [OPTIONS]   stage, then activate\n"
	      "       fwpush rt-update --stage IMAGE|URL [OPTIONS]          stage only\n"
	      "       fwpush rt-update --activate --flash PATH [OPTIONS]    activate what is staged\n"
	      "\n"
	      "Stages an update (a file, or an http(s) URL) in /dev/shm/fwpush-rt-NAME.img and points\n"
	      "the state area /dev/shm/fwpush-rt-NAME.state at it. Activation pins one thread per\n"
	      "CPU, interrupts them all with a signal, saves each one's registers and XSAVE state,\n"
	      "checks in a pre-OS phase that a warm start was requested, an update is staged and\n"
	      "intact and every saved state is intact, applies the update to the flash only then,\n"
	      "restores every processor and resumes. Prints per-core timings.\n"
	      "\n"
	      "      --stage SOURCE       stage only (a later --activate finds it)\n"
	      "      --ca-file FILE       trust an https server whose certificate chains to the\n"
	      "                           CAs in FILE (PEM) instead of the system's; also\n"
	      "                           FWPUSH_CA_FILE=FILE. An untrusted server is refused.\n"
	      "      --activate           activate what an earlier --stage left\n"
	      "  -f, --flash PATH         flash to apply to (active image at PATH, as bmc-sim)\n"
	      "  -n, --name NAME          names the storage locations (default \"default\")\n"
	      "  -c, --cpus LIST          e.g. 0,1 or 0-3; the first runs the controller\n"
	      "                           (default: every CPU this process may use)\n"
	      "  -T, --timeout DURATION   rendezvous timeout (default 1s)\n"
	      "      --expect-hash HEX    refuse to stage an update whose XXH3-128 is not HEX\n"
	      "      --no-warm-start      do not request a warm start (nothing will be applied)\n"
	      "      --signature SIG      stage this Ed25519 signature (fwpush sign) with the update\n"
	      "      --pubkey KEY.pub     activate only an update whose signature this key verifies\n"
	      "      --inject KIND:INDEX  test faults: block, corrupt-state (an XSAVE byte),\n"
	      "                           corrupt-regs (a general register) (INDEX >= 1 of the\n"
	      "                           CPU list), corrupt-update\n"
	      "      --json               print the result as JSON\n"
	      "  -q, --quiet              print only errors\n", out);
}

void usage_bench_rt(FILE *out)
{
	fputs("usage: fwpush bench rt [--cpus LIST] [--runs R] [--json]\n"
	      "\n"
	      "Runs the runtime update R times (nothing staged, so apply is excluded) and prints\n"
	      "per-core p50/p99 of: signal to handler entry, save (registers + the frame's XSAVE\n"
	      "image), tag, check (each CPU its own slot, before it parks), wait at the\n"
	      "rendezvous, restore; the blackout (first interrupt to last processor resumed); and,\n"
	      "measured in the same run, a bare signal round trip to a spinning thread and the\n"
	      "floor: one XSAVE + XRSTOR + XXH3 of the same state (the kernel's own XSAVE and\n"
	      "XRSTOR of each signal frame are counted on the sequence's side).\n"
	      "\n"
	      "  -c, --cpus LIST   e.g. 0,1 or 0-3; the first runs the controller\n"
	      "                    (default: every CPU this process may use)\n"
	      "  -r, --runs R      runs of the sequence (default 200)\n"
	      "      --json        print results as JSON: a list of {name, unit, value}\n", out);
}

/* "0,2,4-7" into cpus; the count, or -1. */
static int parse_cpus(const char *s, int *cpus, unsigned max)
{
	unsigned n = 0;
	char *end;

	while (*s) {
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		for (; a <= b; a++) {
			if (n == max)
				return -1;
			cpus[n++] = (int)a;
		}
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return n ? (int)n : -1;
}

struct rt_args {
	struct fwp_rt_opts o;
	int cpus[FWP_RT_MAX_CPUS];
	const char *cpus_arg;
	const char *inject_arg;
	const char *source;
	bool stage;
	bool activate;
	struct fwp_hash128 expect;
	bool has_expect;
	uint8_t signature[FWP_SIG_SIZE];
	bool has_signature;
	unsigned runs;
	int json;
	int quiet;
};

static int parse_inject(const char *v, struct fwp_rt_opts *o)
{
	static const struct { const char *name; enum fwp_rt_inject kind; } kinds[] = {
		{ "block", FWP_RT_INJECT_BLOCK },
		{ "corrupt-state", FWP_RT_INJECT_CORRUPT_STATE },
		{ "corrupt-update", FWP_RT_INJECT_CORRUPT_UPDATE },
		{ "corrupt-regs", FWP_RT_INJECT_CORRUPT_REGS },
	};
	const char *colon = strchr(v, ':');
	size_t i, n = colon ? (size_t)(colon - v) : strlen(v);

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strlen(kinds[i].name) == n && !strncmp(v, kinds[i].name, n)) {
			o->inject = kinds[i].kind;
			o->inject_cpu = colon ? atoi(colon + 1) : 1;
			return 0;
		}
	}
	return cli_die(CLI_EXIT_USAGE, "--inject %s: expected block:N, corrupt-state:N, "
		       "corrupt-regs:N or corrupt-update", v);
}

static int parse(int argc, char **argv, struct rt_args *a, bool bench)
{
	enum { OPT_STAGE = 256, OPT_ACTIVATE, OPT_EXPECT, OPT_NO_WARM, OPT_INJECT, OPT_JSON,
	       OPT_SIG, OPT_PUBKEY, OPT_CA };
	static const struct option longopts[] = {
		{ "stage", required_argument, NULL, OPT_STAGE },
		{ "activate", no_argument, NULL, OPT_ACTIVATE },
		{ "flash", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "runs", required_argument, NULL, 'r' },
		{ "expect-hash", required_argument, NULL, OPT_EXPECT },
		{ "no-warm-start", no_argument, NULL, OPT_NO_WARM },
		{ "inject", required_argument, NULL, OPT_INJECT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "signature", required_argument, NULL, OPT_SIG },
		{ "pubkey", required_argument, NULL, OPT_PUBKEY },
		{ "ca-file", required_argument, NULL, OPT_CA },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, n, ret = 0;

	a->o.sz = sizeof(a->o);
	a->runs = 200;
	while ((c = getopt_long(argc, argv, "f:n:c:T:r:qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_STAGE: a->stage = true; a->source = optarg; break;
		case OPT_ACTIVATE: a->activate = true; break;
		case 'f': a->o.flash_path = optarg; break;
		case 'n':
			a->o.name = optarg;
			if (!fwp_rt_name_ok(optarg))
				ret = cli_die(CLI_EXIT_USAGE, "--name %s: letters, digits, '.', '_', "
					      "'-' only", optarg);
			break;
		case 'c':
			a->cpus_arg = optarg;
			n = parse_cpus(optarg, a->cpus, FWP_RT_MAX_CPUS);
			if (n < 0)
				ret = cli_die(CLI_EXIT_USAGE, "--cpus %s: expected a list such as "
					      "0,1 or 0-3", optarg);
			a->o.cpus = a->cpus;
			a->o.ncpus = n;
			break;
		case 'T':
			if (fwp_parse_ms(optarg, &a->o.timeout_ms))
				ret = cli_die(CLI_EXIT_USAGE, "--timeout %s: expected a duration", optarg);
			break;
		case 'r': ret = cli_opt_u32("runs", optarg, 1, 100000, &a->runs); break;
		case OPT_EXPECT:
			if (fwp_hash128_parse(optarg, &a->expect))
				ret = cli_die(CLI_EXIT_USAGE, "--expect-hash %s: expected 32 hex digits",
					      optarg);
			a->has_expect = true;
			break;
		case OPT_NO_WARM: a->o.no_warm_start = true; break;
		case OPT_INJECT:
			a->inject_arg = optarg;
			ret = parse_inject(optarg, &a->o);
			break;
		case OPT_JSON: a->json = 1; break;
		case OPT_SIG:
			ret = cli_read_signature(optarg, a->signature);
			a->has_signature = true;
			break;
		case OPT_PUBKEY: a->o.pubkey_path = optarg; break;
		case OPT_CA:
			/* Read where libcurl reads it; the environment is how it gets there. */
			if (access(optarg, R_OK))
				ret = cli_die(CLI_EXIT_USAGE, "--ca-file %s: %s", optarg,
					      strerror(errno));
			else
				setenv("FWPUSH_CA_FILE", optarg, 1);
			break;
		case 'q': a->quiet = 1; break;
		case 'h':
			bench ? usage_bench_rt(stdout) : usage_rt_update(stdout);
			return -1;
		default: return CLI_EXIT_USAGE;
		}
		if (ret)
			return ret;
	}
	if (bench)
		return optind == argc ? 0 : cli_die(CLI_EXIT_USAGE, "bench rt: unexpected argument "
						    "'%s'", argv[optind]);
	if (optind + 1 == argc && !a->source) {
		a->source = argv[optind];
		a->stage = a->activate = true;
	} else if (optind != argc) {
		return cli_die(CLI_EXIT_USAGE, "rt-update: unexpected argument '%s'", argv[optind]);
	}
	if (!a->stage && !a->activate)
		return cli_die(CLI_EXIT_USAGE, "rt-update: give an IMAGE|URL, --stage or --activate");
	if (a->activate && !a->o.flash_path)
		return cli_die(CLI_EXIT_USAGE, "rt-update: --flash is required to activate");
	return 0;
}

static int stage(const struct rt_args *a)
{
	char detail[512];
	struct fwp_hash128 hash;
	uint64_t size;
	char hex[33];
	int ret;

	ret = fwp_rt_stage(a->o.name, a->source, a->has_expect ? &a->expect : NULL,
			   a->has_signature ? a->signature : NULL, &hash, &size, detail,
			   sizeof(detail));
	switch (ret) {
	case 0:
		break;
	case -EINVAL:
		return cli_die(CLI_EXIT_USAGE, "--name %s: letters, digits, '.', '_', '-' only",
			       a->o.name);
	case -EKEYREJECTED:
		return cli_die(CLI_EXIT_IMAGE, "update %s: server certificate not trusted (%s); "
			       "trust a private CA with --ca-file FILE or FWPUSH_CA_FILE", a->source,
			       detail);
	case -EBADMSG:
		return cli_die(CLI_EXIT_VERIFY, "update %s: %s", a->source, detail);
	case -EBUSY:		/* another rt-update holds the state area */
	case -EPERM:		/* a file at a storage location is not ours */
		return cli_die(CLI_EXIT_TARGET, "rt-update: %s", detail);
	case -ENOENT:
	case -EACCES:
	case -EHOSTUNREACH:
	case -EIO:
	case -ENODATA:
		return cli_die(CLI_EXIT_IMAGE, "update %s: %s", a->source, detail);
	default:
		return cli_die(CLI_EXIT_FAILURE, "update %s: cannot stage: %s", a->source,
			       detail[0] ? detail : strerror(-ret));
	}
	fwp_hash128_hex(&hash, hex);
	if (!a->quiet && !a->json)
		printf("staged %s: %llu bytes, XXH3-128 %s\n", a->source, (unsigned long long)size,
		       hex);
	return 0;
}

static void print_cores(const struct fwp_rt_result *r)
{
	unsigned i;

	printf("  cpu  arrived  ipi_us  save_ns  tag_ns  wait_us  check_ns  restore_ns  registers\n");
	for (i = 0; i < r->ncores; i++) {
		const struct fwp_rt_core *c = &r->core[i];

		printf("  %3d  %-7s  %6.2f  %7llu  %6llu  %7.2f  %8llu  %10llu  %s\n", c->cpu,
		       c->arrived ? "yes" : "NO", c->ipi_ns / 1e3, (unsigned long long)c->save_ns,
		       (unsigned long long)c->tag_ns, c->wait_ns / 1e3,
		       (unsigned long long)c->check_ns, (unsigned long long)c->restore_ns,
		       !c->restored ? "not restored" : !c->regs_checked ? "not checked" :
		       c->regs_ok ? "bit-exact" : "DIFFER");
	}
}

static void print_json(const struct fwp_rt_result *r)
{
	unsigned i;

	printf("{\"outcome\":\"%s\",\"applied\":%s,\"blackout_us\":%.3f,\"apply_us\":%.3f,"
	       "\"xsave_bytes\":%u,\"cores\":[", fwp_rt_outcome_str(r->outcome),
	       r->outcome == FWP_RT_APPLIED ? "true" : "false", r->blackout_ns / 1e3,
	       r->apply_ns / 1e3, r->xsave_size);
	for (i = 0; i < r->ncores; i++) {
		const struct fwp_rt_core *c = &r->core[i];

		/* registers_ok is null where no check was made: never a claim without one. */
		printf("%s{\"cpu\":%d,\"arrived\":%s,\"restored\":%s,\"registers_checked\":%s,"
		       "\"registers_ok\":%s,\"ipi_ns\":%llu,\"save_ns\":%llu,\"tag_ns\":%llu,"
		       "\"wait_ns\":%llu,\"check_ns\":%llu,\"restore_ns\":%llu}", i ? "," : "",
		       c->cpu, c->arrived ? "true" : "false", c->restored ? "true" : "false",
		       c->regs_checked ? "true" : "false",
		       !c->regs_checked ? "null" : c->regs_ok ? "true" : "false",
		       (unsigned long long)c->ipi_ns,
		       (unsigned long long)c->save_ns, (unsigned long long)c->tag_ns,
		       (unsigned long long)c->wait_ns, (unsigned long long)c->check_ns,
		       (unsigned long long)c->restore_ns);
	}
	printf("]}\n");
}

/* Exit codes 8-10 exist for rt-update only; see `fwpush --help`. */
static int outcome_exit(const struct fwp_rt_result *r)
{
	unsigned i;

	for (i = 0; i < r->ncores; i++) {
		if (r->core[i].regs_checked && !r->core[i].regs_ok)
			return cli_die(CLI_EXIT_FAILURE, "cpu %d: registers differ after resume",
				       r->core[i].cpu);
	}
	switch (r->outcome) {
	case FWP_RT_APPLIED:
		return 0;
	case FWP_RT_NO_WARM_START:
	case FWP_RT_NOTHING_STAGED:
		return cli_die(CLI_EXIT_NOTHING, "rt-update: %s", fwp_rt_outcome_str(r->outcome));
	case FWP_RT_BAD_UPDATE:
	case FWP_RT_BAD_SIGNATURE:
		return cli_die(CLI_EXIT_VERIFY, "rt-update: %s", fwp_rt_outcome_str(r->outcome));
	case FWP_RT_BAD_STATE:
		return cli_die(CLI_EXIT_STATE, "rt-update: cpu %d: saved state failed its "
			       "integrity check; nothing applied, not restoring it", r->failed_cpu);
	case FWP_RT_TIMEOUT:
		return cli_die(CLI_EXIT_RENDEZVOUS, "rt-update: cpu %d did not reach the "
			       "rendezvous; nothing applied, the others resumed", r->failed_cpu);
	case FWP_RT_APPLY_FAILED:
		return cli_die(CLI_EXIT_FAILURE, "rt-update: %s", r->detail[0] ? r->detail :
			       fwp_rt_outcome_str(r->outcome));
	default:
		return cli_die(CLI_EXIT_FAILURE, "rt-update: %s", fwp_rt_outcome_str(r->outcome));
	}
}

static int activate(const struct rt_args *a)
{
	struct fwp_rt_result *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return cli_die(CLI_EXIT_FAILURE, "rt-update: out of memory");
	ret = cli_check_pubkey(a->o.pubkey_path);	/* before any processor is stopped */
	if (ret)
		goto out;
	ret = fwp_rt_activate(&a->o, r);
	if (ret == -ENOTSUP)
		ret = cli_die(CLI_EXIT_FAILURE, "rt-update: this CPU or OS has no XSAVE");
	else if (ret == -EINVAL && a->cpus_arg)
		ret = cli_die(CLI_EXIT_USAGE, "--cpus %s: name CPUs this process may use, each "
			      "once", a->cpus_arg);
	else if (ret == -ERANGE)
		ret = cli_die(CLI_EXIT_USAGE, "--inject %s: INDEX must name a worker: 1 up to the "
			      "number of CPUs less one", a->inject_arg);
	else if (ret == -EBUSY || ret == -EPERM)	/* state area, staged update, flash */
		ret = cli_die(CLI_EXIT_TARGET, "rt-update: %s", r->detail);
	else if (ret)
		ret = cli_die(CLI_EXIT_FAILURE, "rt-update: %s",
			      r->detail[0] ? r->detail : strerror(-ret));
	if (ret)
		goto out;
	if (a->json) {
		print_json(r);
	} else if (!a->quiet) {
		printf("rt-update: %s; blackout %.2f us (apply %.2f us), %u processors, "
		       "XSAVE area %u bytes\n", fwp_rt_outcome_str(r->outcome), r->blackout_ns / 1e3,
		       r->apply_ns / 1e3, r->ncores, r->xsave_size);
		print_cores(r);
	}
	fflush(stdout);
	ret = outcome_exit(r);
	/* A processor left parked with bad state must not run again: end here, now. */
	if (r->outcome == FWP_RT_BAD_STATE)
		_exit(ret);
out:
	free(r);
	return ret;
}

int cmd_rt_update(int argc, char **argv)
{
	struct rt_args a = { 0 };
	char detail[512];
	int ret = parse(argc, argv, &a, false);

	if (ret)
		return ret < 0 ? 0 : ret;
	/* Stage and activate under one hold: no other rt-update of this name in between. */
	if (a.stage && a.activate) {
		ret = fwp_rt_hold(a.o.name, detail, sizeof(detail));
		if (ret)
			return cli_die(ret == -EBUSY || ret == -EPERM ? CLI_EXIT_TARGET :
				       CLI_EXIT_FAILURE, "rt-update: %s", detail);
	}
	if (a.stage)
		ret = stage(&a);
	if (!ret && a.activate)
		ret = activate(&a);
	fwp_rt_release();
	return ret;
}

static void metric(int first, const char *name, const char *unit, double value)
{
	printf("%s  {\"name\": \"%s\", \"unit\": \"%s\", \"value\": %.4g}", first ? "" : ",\n",
	       name, unit, value);
}

/*
 * Runs the sequence runs times (nothing staged: apply excluded) and reports percentiles.
 * save_check_restore is, per processor and run, save_ns + check_ns + restore_ns: the save in
 * its handler, its own check of its slot, its restore after the rendezvous. The floor
 * (rt.raw_xsave_xrstor_hash, fwp_rt_bare) is one XSAVE + XRSTOR + XXH3 of the same state with
 * nothing around it. The sequence also costs each processor the kernel's XSAVE of its signal
 * frame and XRSTOR at sigreturn (rt.kernel_xsave_xrstor, measured bare), which no handler
 * timing sees: rt.ratio_core_raw = (save_check_restore p50 + that) / the floor.
 */
int cmd_bench_rt(int argc, char **argv)
{
	enum { K_IPI, K_SAVE, K_TAG, K_WAIT, K_CHECK, K_RESTORE, K_SCR, K_N };
	static const char *const kname[K_N] = { "ipi", "save", "tag", "wait", "check", "restore",
						 "save_check_restore" };
	struct rt_args a = { 0 };
	struct fwp_rt_result *r = calloc(1, sizeof(*r));
	uint64_t *blackout = NULL, *per[K_N] = { 0 }, *all[K_N] = { 0 };
	struct fwp_rt_bare bare = { 0 };
	uint64_t rtt = 0, rtt99 = 0, raw = 0, kern = 0;	/* the bare costs: medians, p99 */
	uint64_t b50, b99;
	double core_ratio = 0;
	bool oom = false;
	char name[64], state[128];
	unsigned run, i, k, n = 0;
	int ret;

	ret = r ? parse(argc, argv, &a, true) : CLI_EXIT_FAILURE;
	if (ret)
		goto out;
	snprintf(name, sizeof(name), "bench-%d", (int)getpid());
	a.o.name = name;
	blackout = calloc(a.runs, sizeof(*blackout));
	bare.signal_rtt_ns = calloc(a.runs, sizeof(uint64_t));
	bare.xsave_xrstor_hash_ns = calloc(a.runs, sizeof(uint64_t));
	bare.kernel_xsave_xrstor_ns = calloc(a.runs, sizeof(uint64_t));
	for (k = 0; k < K_N; k++) {
		per[k] = calloc((size_t)a.runs * FWP_RT_MAX_CPUS, sizeof(uint64_t));
		all[k] = calloc((size_t)a.runs * FWP_RT_MAX_CPUS, sizeof(uint64_t));
		oom |= !per[k] || !all[k];
	}
	if (oom || !blackout || !bare.signal_rtt_ns || !bare.xsave_xrstor_hash_ns ||
	    !bare.kernel_xsave_xrstor_ns) {
		ret = cli_die(CLI_EXIT_FAILURE, "bench rt: out of memory");
		goto out;
	}
	for (run = 0; run < a.runs && !ret; run++) {
		ret = fwp_rt_activate(&a.o, r);
		if (!ret && r->outcome != FWP_RT_NOTHING_STAGED)
			ret = -EPROTO;
		for (i = 0; !ret && i < r->ncores; i++) {
			const struct fwp_rt_core *c = &r->core[i];
			uint64_t v[K_N] = { c->ipi_ns, c->save_ns, c->tag_ns, c->wait_ns,
					    c->check_ns, c->restore_ns,
					    c->save_ns + c->check_ns + c->restore_ns };

			if (!c->regs_ok)
				ret = -EPROTO;
			for (k = 0; k < K_N; k++) {
				per[k][(size_t)i * a.runs + run] = v[k];
				all[k][n] = v[k];
			}
			n++;
		}
		blackout[run] = r->blackout_ns;
	}
	fwp_rt_remove(name);
	if (!ret)
		ret = fwp_rt_bare(a.o.cpus ? a.o.cpus : (int[]){ r->core[0].cpu, r->core[1 % r->ncores].cpu },
				  a.o.cpus ? a.o.ncpus : r->ncores, a.runs, &bare);
	if (!ret) {
		rtt = cli_percentile(bare.signal_rtt_ns, a.runs, 50);
		rtt99 = cli_percentile(bare.signal_rtt_ns, a.runs, 99);
		raw = cli_percentile(bare.xsave_xrstor_hash_ns, a.runs, 50);
		kern = cli_percentile(bare.kernel_xsave_xrstor_ns, a.runs, 50);
		core_ratio = (double)(cli_percentile(all[K_SCR], n, 50) + kern) / raw;
	}
	if (ret) {
		ret = cli_die(CLI_EXIT_FAILURE, "bench rt: %s", ret == -EPROTO ?
			      "a run did not resume every processor intact" : strerror(-ret));
		goto out;
	}
	b50 = cli_percentile(blackout, a.runs, 50);
	b99 = cli_percentile(blackout, a.runs, 99);
	if (a.json) {
		printf("[\n");
		metric(1, "rt.blackout.p50_us", "us", b50 / 1e3);
		metric(0, "rt.blackout.p99_us", "us", b99 / 1e3);
		metric(0, "rt.signal_rtt.p50_us", "us", rtt / 1e3);
		metric(0, "rt.signal_rtt.p99_us", "us", rtt99 / 1e3);
		metric(0, "rt.raw_xsave_xrstor_hash.p50_ns", "ns", raw);
		metric(0, "rt.kernel_xsave_xrstor.p50_ns", "ns", kern);
		for (k = 0; k < K_N; k++) {
			snprintf(state, sizeof(state), "rt.%s.p50_ns", kname[k]);
			metric(0, state, "ns", cli_percentile(all[k], n, 50));
			snprintf(state, sizeof(state), "rt.%s.p99_ns", kname[k]);
			metric(0, state, "ns", cli_percentile(all[k], n, 99));
		}
		for (i = 0; i < r->ncores; i++) {
			for (k = 0; k < K_N; k++) {
				snprintf(state, sizeof(state), "rt.cpu%d.%s.p50_ns", r->core[i].cpu,
					 kname[k]);
				metric(0, state, "ns", cli_percentile(per[k] + (size_t)i * a.runs, a.runs, 50));
			}
		}
		metric(0, "rt.ratio_blackout_signal", "ratio", (double)b50 / rtt);
		metric(0, "rt.ratio_blackout_p99_p50", "ratio", (double)b99 / b50);
		metric(0, "rt.ratio_signal_rtt_p99_p50", "ratio", (double)rtt99 / rtt);
		metric(0, "rt.ratio_core_raw", "ratio", core_ratio);
		printf("\n]\n");
	} else {
		printf("fwpush bench rt: %u runs, %u processors, XSAVE area %u bytes\n", a.runs,
		       r->ncores, r->xsave_size);
		printf("  %-22s %10s %10s\n", "per core", "p50 ns", "p99 ns");
		for (k = 0; k < K_N; k++)
			printf("  %-22s %10llu %10llu\n", kname[k],
			       (unsigned long long)cli_percentile(all[k], n, 50),
			       (unsigned long long)cli_percentile(all[k], n, 99));
		for (i = 0; i < r->ncores; i++) {
			printf("  cpu %-3d p50:", r->core[i].cpu);
			for (k = 0; k < K_N; k++)
				printf(" %s %llu", kname[k],
				       (unsigned long long)cli_percentile(per[k] + (size_t)i * a.runs, a.runs, 50));
			printf("\n");
		}
		printf("  blackout p50 %.2f us, p99 %.2f us: p99 / p50 = %.2f (target <= 2)\n",
		       b50 / 1e3, b99 / 1e3, (double)b99 / b50);
		printf("  bare signal round trip p50 %.2f us, p99 %.2f us (p99 / p50 = %.2f: the "
		       "machine's own tail) -> blackout / signal = %.2f (target <= 1.15)\n",
		       rtt / 1e3, rtt99 / 1e3, (double)rtt99 / rtt, (double)b50 / rtt);
		printf("  save+check+restore p50 %llu ns: per processor, in the sequence (save, own "
		       "check, restore after the rendezvous), + the kernel's XSAVE and XRSTOR of "
		       "the signal frame %llu ns\n",
		       (unsigned long long)cli_percentile(all[K_SCR], n, 50),
		       (unsigned long long)kern);
		printf("  floor %llu ns: one XSAVE + XRSTOR + XXH3 of the same state, bare on one "
		       "core\n", (unsigned long long)raw);
		printf("  -> (in sequence + kernel) / floor = %.2f (target <= 2)\n", core_ratio);
	}
out:
	for (k = 0; k < K_N; k++) {
		free(per[k]);
		free(all[k]);
	}
	free(blackout);
	free(bare.signal_rtt_ns);
	free(bare.xsave_xrstor_hash_ns);
	free(bare.kernel_xsave_xrstor_ns);
	free(r);
	return ret < 0 ? 0 : ret;
}
