/* SPDX-License-Identifier: MIT */
/*
 * fwpush bench: the main job on the embedded default, and the harness behind perf-reports/.
 * In one run, on one image, it measures the bound (one core's memcpy), a stop-and-wait
 * baseline (one 64 KiB slot, as phosphor-ipmi-flash's PCI window), fwpush's default pipeline,
 * a push into a NOR flash model against the part's own time, and the resident memory of a real
 * `fwpush push` of a 1 GiB image. Pushes alternate between kinds so drift hits all alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fwpush/bmc.h"
#include "fwpush/push.h"
#include "fwpush/stats.h"

extern char **environ;

void fwp_usage_bench(void)
{
	printf("usage: fwpush bench [OPTIONS]     (fwpush --bench is the same)\n"
	       "       fwpush bench rt [--cpus LIST] [--runs R] [--json]\n"
	       "\n"
	       "Needs no hardware: makes a deterministic image in a temporary directory ($TMPDIR\n"
	       "or /tmp), starts `fwpush bmc-sim` on private shm windows with temporary flash\n"
	       "files (on /dev/shm), and measures, on that one image: one core's memcpy (the\n"
	       "bound), a stop-and-wait push (1 slot x 64K), fwpush's default push, a push into a\n"
	       "NOR flash model against the part's own time, and the peak resident memory of\n"
	       "`fwpush push` for a 1 GiB image. Checks the flash byte for byte, prints a table,\n"
	       "removes everything it made.\n"
	       "\n"
	       "      --size SIZE        image size (default 64M)\n"
	       "  -s, --slots N          window slots for the default push (default %u)\n"
	       "  -S, --slot-size SIZE   bytes per slot and chunk (default %uK)\n"
	       "  -r, --runs N           pushes per kind; medians are reported (default 5)\n"
	       "      --sweep            also push at every chunk size x slot count\n"
	       "      --nor-scale X      NOR model time scale (default 0.005; 0 skips the NOR run)\n"
	       "      --rss-size SIZE    image size for the memory run (default 1G; 0 skips it)\n"
	       "      --json             print results as JSON: a list of {name, unit, value}\n"
	       "      --report DIR       also write DIR/bench.json, DIR/bench.md, DIR/sweep.dat\n"
	       "\n"
	       "bench rt runs the runtime update R times (default 200, nothing staged, so apply is\n"
	       "excluded) and prints per-core p50/p99 of: signal to handler entry, save (registers\n"
	       "+ XSAVE), tag, wait at the rendezvous, check, restore; the blackout (first interrupt\n"
	       "to last processor resumed); and, measured in the same run, a bare signal round trip\n"
	       "to a spinning thread and a raw XSAVE + XRSTOR + XXH3 of the area.\n",
	       FWP_BMC_DEFAULT_SLOTS, FWP_BMC_DEFAULT_SLOT_SIZE >> 10);
}

enum { MAX_RESULTS = 128, STOPWAIT_CHUNK = 64 << 10 };

struct result {
	char name[48];
	const char *unit;
	double value;
	char extra[96];
};

struct bmc_proc {
	char window[64];
	char flash[320];
	pid_t pid;
};

struct bench {
	uint64_t size;
	uint64_t rss_size;
	uint32_t slots;
	uint32_t slot_size;
	uint32_t runs;
	double nor_scale;
	int json;
	int sweep;
	const char *report;
	char dir[256];
	char flash_dir[256];
	char image[300];
	unsigned nbmc;
	struct bmc_proc bmc[2];
	struct result res[MAX_RESULTS];
	unsigned nres;
	FILE *sweep_dat;
};

static void add(struct bench *b, const char *name, const char *unit, double value,
		const char *extra)
{
	struct result *r;

	if (b->nres == MAX_RESULTS)
		return;
	r = &b->res[b->nres++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->unit = unit;
	r->value = value;
	snprintf(r->extra, sizeof(r->extra), "%s", extra ? extra : "");
}

static const struct result *find(const struct bench *b, const char *name)
{
	unsigned i;

	for (i = 0; i < b->nres; i++) {
		if (!strcmp(b->res[i].name, name))
			return &b->res[i];
	}
	return NULL;
}

/* splitmix64: a fixed, fast, well-spread byte stream, the same on every machine. */
static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int make_image(const char *path, uint64_t size)
{
	enum { BLOCK = 1 << 20 };
	uint64_t state = 0x66777075736821ull, off = 0, *buf;
	int fd, ret = 0;

	buf = malloc(BLOCK);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!buf || fd < 0) {
		ret = buf ? -errno : -ENOMEM;
		goto out;
	}
	while (off < size) {
		size_t n = size - off < BLOCK ? size - off : BLOCK, i;

		for (i = 0; i < BLOCK / 8; i++)
			buf[i] = splitmix64(&state);
		if (write(fd, buf, n) != (ssize_t)n) {
			ret = -EIO;
			goto out;
		}
		off += n;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

/* Reads a whole file into memory; NULL on failure. */
static unsigned char *slurp(const char *path, uint64_t size)
{
	unsigned char *p = malloc(size ? size : 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t off = 0;
	ssize_t n = 1;

	while (p && fd >= 0 && off < size && (n = read(fd, p + off, size - off)) > 0)
		off += n;
	if (fd >= 0)
		close(fd);
	if (off != size) {
		free(p);
		return NULL;
	}
	return p;
}

/* 0 if the file at path holds exactly the bytes in want. */
static int same_as(const char *path, const unsigned char *want, uint64_t size)
{
	unsigned char *got = slurp(path, size);
	struct stat st;
	int ret = -1;

	if (got && !stat(path, &st) && (uint64_t)st.st_size == size)
		ret = memcmp(got, want, size) ? -1 : 0;
	free(got);
	return ret;
}

static int spawn_self(char *const argv[], pid_t *pid)
{
	return -posix_spawn(pid, "/proc/self/exe", NULL, NULL, argv, environ);
}

/* Starts a bmc-sim on a window of its own; nor: a --flash-model spec or NULL. */
static int start_bmc(struct bench *b, uint32_t slots, uint32_t slot_size, const char *nor,
		     struct bmc_proc **out)
{
	struct bmc_proc *p = &b->bmc[b->nbmc];
	char s_slots[16], s_size[16];
	char *argv[16] = { "fwpush", "bmc-sim", "--window", p->window, "--flash", p->flash,
			   "--slots", s_slots, "--slot-size", s_size, "--quiet" };
	int ret;

	snprintf(p->window, sizeof(p->window), "shm:fwpush-bench-%d-%u", (int)getpid(), b->nbmc);
	snprintf(p->flash, sizeof(p->flash), "%s/flash%u.bin", b->flash_dir, b->nbmc);
	snprintf(s_slots, sizeof(s_slots), "%u", slots);
	snprintf(s_size, sizeof(s_size), "%u", slot_size);
	if (nor) {
		argv[11] = "--flash-model";
		argv[12] = (char *)nor;
	}
	ret = spawn_self(argv, &p->pid);
	if (ret)
		return fwp_die(FWP_EXIT_FAILURE, "bench: cannot start bmc-sim: %s", strerror(-ret));
	b->nbmc++;
	*out = p;
	return 0;
}

static void stop_bmc(struct bench *b, struct bmc_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
	}
	p->pid = 0;
	fwp_bmc_flash_remove(p->flash);
	if (p == &b->bmc[b->nbmc - 1])
		b->nbmc--;
}

/* mkdtemp under base; 0 or an exit code. */
static int make_dir(char *dir, size_t len, const char *base)
{
	snprintf(dir, len, "%s/fwpush-bench-XXXXXX", base);
	if (!mkdtemp(dir))
		return fwp_die(FWP_EXIT_FAILURE, "bench: cannot create %s: %s", dir, strerror(errno));
	return 0;
}

/*
 * The image lives where firmware images live, on a filesystem ($TMPDIR or /tmp); the flash
 * on tmpfs (/dev/shm) when there is one, standing in for the BMC's non-volatile memory, so
 * the benchmark measures the push and not a disk.
 */
static int setup(struct bench *b)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct stat st;
	int ret;

	ret = make_dir(b->dir, sizeof(b->dir), tmp);
	if (!ret && !stat("/dev/shm", &st) && S_ISDIR(st.st_mode) && !access("/dev/shm", W_OK))
		ret = make_dir(b->flash_dir, sizeof(b->flash_dir), "/dev/shm");
	else if (!ret)
		snprintf(b->flash_dir, sizeof(b->flash_dir), "%s", b->dir);
	if (ret)
		return ret;
	snprintf(b->image, sizeof(b->image), "%s/image.bin", b->dir);
	if (make_image(b->image, b->size))
		return fwp_die(FWP_EXIT_FAILURE, "bench: cannot write %s", b->image);
	return 0;
}

static void teardown(struct bench *b)
{
	while (b->nbmc)
		stop_bmc(b, &b->bmc[b->nbmc - 1]);
	unlink(b->image);
	if (b->flash_dir[0] && strcmp(b->flash_dir, b->dir))
		rmdir(b->flash_dir);
	if (b->dir[0])
		rmdir(b->dir);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* The bound: one core copying the image once, memory to memory. */
static int measure_memcpy(struct bench *b, const unsigned char *img)
{
	unsigned char *dst = malloc(b->size);
	uint64_t t[64], t0, ns;
	unsigned i;

	if (!dst)
		return fwp_die(FWP_EXIT_FAILURE, "bench: out of memory");
	memset(dst, 0, b->size);
	for (i = 0; i < b->runs; i++) {
		t0 = now_ns();
		memcpy(dst, img, b->size);
		t[i] = now_ns() - t0;
		__asm__ __volatile__("" : : "r"(dst) : "memory");	/* keep the copy */
	}
	free(dst);
	ns = fwp_percentile(t, b->runs, 50);
	add(b, "memcpy.gbps", "GB/s", fwp_gbps(b->size, ns), "one core, memory to memory");
	return 0;
}

struct kind {
	struct fwp_push_opts opts;
	uint64_t t[64];
};

static int push_once(struct bench *b, struct fwp_host *h, const struct fwp_push_opts *o,
		     uint64_t *ns)
{
	struct fwp_push_result r;
	int fd, ret;

	fd = fwp_image_open(b->image, false);
	if (fd < 0)
		return fd;
	ret = fwp_host_push(h, fd, o, &r);
	close(fd);
	*ns = r.ns;
	return ret;
}

/*
 * The first pushes into a new emulated flash allocate its two banks (page cache), which real
 * flash never does: they run untimed.
 */
static int warm_up(struct bench *b, struct fwp_host *h)
{
	struct fwp_push_opts o = { .sz = sizeof(o) };
	uint64_t ns;

	return push_once(b, h, &o, &ns) ?: push_once(b, h, &o, &ns);
}

/* Runs the kinds alternately, runs times each; medians in k[i].t[0]. */
static int run_kinds(struct bench *b, struct fwp_host *h, struct kind *k, unsigned nk)
{
	unsigned r, i;
	int ret;

	ret = warm_up(b, h);
	for (r = 0; r < b->runs && !ret; r++) {
		for (i = 0; i < nk && !ret; i++)
			ret = push_once(b, h, &k[i].opts, &k[i].t[r]);
	}
	if (ret)
		return fwp_die(FWP_EXIT_FAILURE, "bench: push failed: %s", strerror(-ret));
	for (i = 0; i < nk; i++)
		k[i].t[0] = fwp_percentile(k[i].t, b->runs, 50);
	return 0;
}

static int connect_bmc(const struct bmc_proc *p, struct fwp_host **h)
{
	int ret = fwp_host_open(p->window, 0, h);

	return ret ? fwp_target_error(p->window, ret, FWP_DEFAULT_TIMEOUT_MS) : 0;
}

static int measure_push(struct bench *b, const unsigned char *img)
{
	struct kind k[2] = {
		{ .opts = { .sz = sizeof(k[0].opts), .slots = 1, .chunk_size = STOPWAIT_CHUNK } },
		{ .opts = { .sz = sizeof(k[1].opts) } },
	};
	struct fwp_host *h = NULL;
	struct bmc_proc *p;
	char extra[96];
	int ret;

	ret = start_bmc(b, b->slots, b->slot_size, NULL, &p) ?: connect_bmc(p, &h);
	if (!ret)
		ret = run_kinds(b, h, k, 2);
	fwp_host_close(h);
	if (!ret && same_as(p->flash, img, b->size))
		ret = fwp_die(FWP_EXIT_VERIFY, "bench: flash %s differs from image %s", p->flash,
			      b->image);
	stop_bmc(b, p);
	if (ret)
		return ret;
	add(b, "push.stopwait.gbps", "GB/s", fwp_gbps(b->size, k[0].t[0]), "1 slot x 64 KiB");
	snprintf(extra, sizeof(extra), "%u slots x %u KiB, verified byte for byte", b->slots,
		 b->slot_size >> 10);
	add(b, "push.emulated.gbps", "GB/s", fwp_gbps(b->size, k[1].t[0]), extra);
	add(b, "push.emulated.ms", "ms", k[1].t[0] / 1e6, NULL);
	add(b, "push.ratio_memcpy", "ratio",
	    fwp_gbps(b->size, k[1].t[0]) / find(b, "memcpy.gbps")->value, NULL);
	add(b, "push.ratio_stopwait", "ratio", (double)k[0].t[0] / (double)k[1].t[0], NULL);
	return 0;
}

static int measure_nor(struct bench *b)
{
	struct fwp_push_opts o = { .sz = sizeof(o) };
	struct fwp_nor_model m;
	struct fwp_host *h = NULL;
	struct bmc_proc *p;
	char spec[64], extra[96];
	uint64_t ns = 0, flash_ns;
	int ret;

	snprintf(spec, sizeof(spec), "nor:scale=%g", b->nor_scale);
	if (fwp_nor_parse(spec, &m))
		return fwp_die(FWP_EXIT_USAGE, "bench: bad NOR model %s", spec);
	flash_ns = fwp_nor_time_ns(&m, b->size);
	ret = start_bmc(b, b->slots, b->slot_size, spec, &p) ?: connect_bmc(p, &h);
	if (!ret)
		ret = push_once(b, h, &o, &ns);
	fwp_host_close(h);
	stop_bmc(b, p);
	if (ret)
		return fwp_die(FWP_EXIT_FAILURE, "bench: NOR push failed: %s", strerror(-ret));
	snprintf(extra, sizeof(extra), "64K sectors, 160 ms erase, 2 MB/s program, time x %g",
		 b->nor_scale);
	add(b, "push.nor.seconds", "s", ns / 1e9, extra);
	add(b, "push.nor.flash_seconds", "s", flash_ns / 1e9, "the part's own erase + program");
	add(b, "push.nor.ratio_flash", "ratio", (double)ns / (double)flash_ns, NULL);
	return 0;
}

/* Peak resident memory of a real `fwpush push` process of a large (sparse) image. */
static int measure_rss(struct bench *b)
{
	char image[320], rss_extra[96];
	char *argv[] = { "fwpush", "push", image, "--target", NULL, "--quiet", NULL };
	struct fwp_host *h = NULL;
	struct rusage ru;
	struct bmc_proc *p;
	int fd, ret, status = 0;
	pid_t pid;

	snprintf(image, sizeof(image), "%s/rss.bin", b->dir);
	fd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, b->rss_size)) {
		ret = fwp_die(FWP_EXIT_FAILURE, "bench: cannot make %s", image);
		goto out;
	}
	ret = start_bmc(b, b->slots, b->slot_size, NULL, &p) ?: connect_bmc(p, &h);
	fwp_host_close(h);	/* only waited for the window: the child pushes */
	if (ret)
		goto out;
	argv[4] = p->window;
	/*
	 * fork, not posix_spawn: a vfork-style child shares our memory until exec, and exec
	 * records that memory's high-water mark as the child's own peak.
	 */
	pid = fork();
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	ret = pid < 0 ? -errno : 0;
	if (!ret && wait4(pid, &status, 0, &ru) < 0)
		ret = -errno;
	stop_bmc(b, p);
	if (ret || !WIFEXITED(status) || WEXITSTATUS(status)) {
		ret = fwp_die(FWP_EXIT_FAILURE, "bench: fwpush push of %s failed", image);
		goto out;
	}
	snprintf(rss_extra, sizeof(rss_extra), "peak RSS of fwpush push, %llu MiB image",
		 (unsigned long long)(b->rss_size >> 20));
	add(b, "push.rss_mib", "MiB", ru.ru_maxrss / 1024.0, rss_extra);
out:
	if (fd >= 0)
		close(fd);
	unlink(image);
	return ret;
}

static int sweep_point(struct bench *b, uint32_t slot_size, uint32_t slots)
{
	struct kind k = { .opts = { .sz = sizeof(k.opts) } };
	struct fwp_host *h = NULL;
	struct bmc_proc *p;
	char name[48], extra[64];
	double gbps;
	int ret;

	ret = start_bmc(b, slots, slot_size, NULL, &p) ?: connect_bmc(p, &h);
	if (!ret)
		ret = run_kinds(b, h, &k, 1);
	fwp_host_close(h);
	stop_bmc(b, p);
	if (ret)
		return ret;
	gbps = fwp_gbps(b->size, k.t[0]);
	snprintf(name, sizeof(name), "push.sweep.%uk_x%u.gbps", slot_size >> 10, slots);
	snprintf(extra, sizeof(extra), "%u slots x %u KiB", slots, slot_size >> 10);
	add(b, name, "GB/s", gbps, extra);
	if (b->sweep_dat)
		fprintf(b->sweep_dat, "%u %u %.3f\n", slot_size >> 10, slots, gbps);
	return 0;
}

static int measure_sweep(struct bench *b)
{
	static const uint32_t sizes[] = { 64, 128, 256, 512, 1024, 2048, 4096 };
	static const uint32_t slots[] = { 1, 2, 4, 8, 16 };
	unsigned i, j;
	int ret = 0;

	for (j = 0; j < sizeof(slots) / sizeof(slots[0]) && !ret; j++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && !ret; i++)
			ret = sweep_point(b, sizes[i] << 10, slots[j]);
		if (b->sweep_dat)
			fputs("\n\n", b->sweep_dat);	/* one gnuplot data block per slot count */
	}
	return ret;
}

static void machine(char *buf, size_t len)
{
	char line[256], model[160] = "unknown CPU";
	FILE *f = fopen("/proc/cpuinfo", "r");
	struct utsname u;

	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			snprintf(model, sizeof(model), "%s", c + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	uname(&u);
	snprintf(buf, len, "%s, %ld CPUs, Linux %s, XXH3 %s", model, sysconf(_SC_NPROCESSORS_ONLN),
		 u.release, fwp_xxh3_impl());
}

static void print_json(const struct bench *b, FILE *out)
{
	unsigned i;

	fputs("[\n", out);
	for (i = 0; i < b->nres; i++) {
		const struct result *r = &b->res[i];

		fprintf(out, "  {\"name\": \"%s\", \"unit\": \"%s\", \"value\": %.4g", r->name,
			r->unit, r->value);
		if (r->extra[0])
			fprintf(out, ", \"extra\": \"%s\"", r->extra);
		fprintf(out, "}%s\n", i + 1 < b->nres ? "," : "");
	}
	fputs("]\n", out);
}

static void print_table(const struct bench *b, FILE *out, int markdown)
{
	const char *fmt = markdown ? "| %s | %.4g %s | %s |\n" : "  %-26s %10.4g %-6s %s\n";
	char host[256];
	unsigned i;

	machine(host, sizeof(host));
	if (markdown)
		fprintf(out, "# fwpush bench\n\n%llu MiB image, median of %u runs per kind.\n"
			"Machine: %s.\n\n| measurement | value | notes |\n|---|---|---|\n",
			(unsigned long long)(b->size >> 20), b->runs, host);
	else
		fprintf(out, "fwpush bench: %llu MiB image, median of %u runs per kind\n  %s\n",
			(unsigned long long)(b->size >> 20), b->runs, host);
	for (i = 0; i < b->nres; i++)
		fprintf(out, fmt, b->res[i].name, b->res[i].value, b->res[i].unit,
			b->res[i].extra);
}

static int write_report(struct bench *b)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bench.json", b->report);
	f = fopen(path, "w");
	if (!f)
		return fwp_die(FWP_EXIT_FAILURE, "bench: cannot write %s: %s", path, strerror(errno));
	print_json(b, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/bench.md", b->report);
	f = fopen(path, "w");
	if (!f)
		return fwp_die(FWP_EXIT_FAILURE, "bench: cannot write %s: %s", path, strerror(errno));
	print_table(b, f, 1);
	fclose(f);
	return 0;
}

static int parse(int argc, char **argv, struct bench *b)
{
	enum { OPT_SIZE = 256, OPT_JSON, OPT_SWEEP, OPT_NOR, OPT_RSS, OPT_REPORT };
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "slots", required_argument, NULL, 's' },
		{ "slot-size", required_argument, NULL, 'S' },
		{ "runs", required_argument, NULL, 'r' },
		{ "sweep", no_argument, NULL, OPT_SWEEP },
		{ "nor-scale", required_argument, NULL, OPT_NOR },
		{ "rss-size", required_argument, NULL, OPT_RSS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "s:S:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SIZE: ret = fwp_opt_size("size", optarg, 1, 1ull << 34, &b->size); break;
		case 's': ret = fwp_opt_u32("slots", optarg, 1, FWP_SLOTS_MAX, &b->slots); break;
		case 'S':
			ret = fwp_opt_u32("slot-size", optarg, STOPWAIT_CHUNK, FWP_SLOT_SIZE_MAX,
					  &b->slot_size);
			if (!ret && b->slot_size % FWP_PAGE)
				ret = fwp_die(FWP_EXIT_USAGE, "--slot-size %s: must be a multiple "
					      "of 4K", optarg);
			break;
		case 'r': ret = fwp_opt_u32("runs", optarg, 1, 64, &b->runs); break;
		case OPT_SWEEP: b->sweep = 1; break;
		case OPT_NOR:
			if (strcmp(optarg, "0") && fwp_parse_positive(optarg, &b->nor_scale))
				ret = fwp_die(FWP_EXIT_USAGE, "--nor-scale %s: expected a positive "
					      "number, or 0", optarg);
			if (!strcmp(optarg, "0"))
				b->nor_scale = 0;
			break;
		case OPT_RSS: ret = fwp_opt_size("rss-size", optarg, 0, 1ull << 40, &b->rss_size); break;
		case OPT_JSON: b->json = 1; break;
		case OPT_REPORT: b->report = optarg; break;
		case 'h': fwp_usage_bench(); return -1;
		default: return FWP_EXIT_USAGE;
		}
		if (ret)
			return ret;
	}
	if (optind != argc)
		return fwp_die(FWP_EXIT_USAGE, "bench: unexpected argument '%s'", argv[optind]);
	return 0;
}

static int run(struct bench *b)
{
	unsigned char *img;
	char path[512];
	int ret;

	ret = setup(b);
	if (ret)
		return ret;
	img = slurp(b->image, b->size);
	if (!img)
		return fwp_die(FWP_EXIT_FAILURE, "bench: cannot read back %s", b->image);
	ret = measure_memcpy(b, img) ?: measure_push(b, img);
	free(img);
	if (!ret && b->nor_scale > 0)
		ret = measure_nor(b);
	if (!ret && b->rss_size)
		ret = measure_rss(b);
	if (!ret && b->sweep) {
		if (b->report) {
			snprintf(path, sizeof(path), "%s/sweep.dat", b->report);
			b->sweep_dat = fopen(path, "w");
		}
		ret = measure_sweep(b);
		if (b->sweep_dat)
			fclose(b->sweep_dat);
	}
	return ret;
}

int fwp_cmd_bench(int argc, char **argv)
{
	struct bench *b = calloc(1, sizeof(*b));
	int ret;

	if (!b)
		return fwp_die(FWP_EXIT_FAILURE, "bench: out of memory");
	b->size = 64ull << 20;
	b->rss_size = 1ull << 30;
	b->slots = FWP_BMC_DEFAULT_SLOTS;
	b->slot_size = FWP_BMC_DEFAULT_SLOT_SIZE;
	b->runs = 5;
	b->nor_scale = 0.005;
	ret = parse(argc, argv, b);
	if (ret)
		goto out;
	ret = run(b);
	teardown(b);
	if (!ret && b->report)
		ret = write_report(b);
	if (!ret) {
		if (b->json)
			print_json(b, stdout);
		else
			print_table(b, stdout, 0);
	}
out:
	free(b);
	return ret < 0 ? 0 : ret;
}
