/* SPDX-License-Identifier: MIT */
/*
 * fwpush bench: the main job on the embedded default, and the harness behind perf-reports/.
 * In one run, on one image, it measures the bound (one core's memcpy), a stop-and-wait
 * baseline (fwpush itself with one 64 KiB slot), the anchor (an emulation of burn_my_bmc,
 * phosphor-ipmi-flash's host tool, over its 64 KiB PCI window: bench_anchor.c), fwpush's
 * default pipeline, a push into a NOR flash model against the part's own time, and the
 * resident memory of a real `fwpush push` of a 1 GiB image against that of a 4 KiB one. Pushes
 * alternate between kinds so drift hits all alike. After the default, the anchor, the NOR and
 * the memory run the flash is compared with the image byte for byte; a difference fails the
 * bench. With the NOR model it also measures delta flash (PROTOCOL.md 14): a --delta push with
 * 0, 10 and 50% of the sectors changed against a full push of the same image.
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

#include "bench_anchor.h"
#include "cli.h"
#include "fwpush/bmc.h"
#include "fwpush/push.h"
#include "fwpush/hash.h"
#include "stats.h"

extern char **environ;

void usage_bench(FILE *out)
{
	fprintf(out,
		"usage: fwpush bench [OPTIONS]     (fwpush --bench is the same)\n"
		"       fwpush bench rt [--cpus LIST] [--runs R] [--json]\n"
		"\n"
		"Needs no hardware: makes a deterministic image in a temporary directory ($TMPDIR\n"
		"or /tmp), starts `fwpush bmc-sim` on private shm windows with temporary flash\n"
		"files (on /dev/shm), and measures, on that one image: one core's memcpy (the\n"
		"bound), a stop-and-wait push (1 slot x 64K), the anchor (an emulation of\n"
		"burn_my_bmc, phosphor-ipmi-flash over its 64K PCI window: read, copy into the\n"
		"window, an IPMI round trip per chunk, then verify and update steps), fwpush's\n"
		"default push, a push into a NOR flash model against the part's own time, and the\n"
		"peak resident memory of `fwpush push` for a 1 GiB image against a 4 KiB one;\n"
		"and delta flash: on a NOR model, a --delta push with 0, 10 and 50%% of the\n"
		"sectors changed, into banks that hold the original, against a full push.\n"
		"Checks the flash against the image byte for byte after the default, the anchor,\n"
		"the NOR and the 1 GiB push (exit 7 if they differ), prints a table, removes\n"
		"everything it made.\n"
		"\n"
		"      --size SIZE        image size (default 64M)\n"
		"  -s, --slots N          window slots for the default push (default %u)\n"
		"  -S, --slot-size SIZE   bytes per slot and chunk (default %uK)\n"
		"  -r, --runs N           pushes per kind; medians are reported (default 5)\n"
		"      --sweep            also push at every chunk size x slot count\n"
		"      --nor-scale X      NOR model time scale (default 0.005; 0 skips the NOR run)\n"
		"      --delta-scale X    NOR time scale of the delta runs, on the image's first\n"
		"                         16M at most (default 0.05; 0 skips them)\n"
		"      --rss-size SIZE    image size for the memory run (default 1G; 0 skips it)\n"
		"      --targets N        also push to 1, 2, 4 .. N emulated BMCs at once (fwpush\n"
		"                         push -t .. -t .., as a child): aggregate GB/s, the host's\n"
		"                         CPU seconds per target and peak RSS; with the NOR model,\n"
		"                         N targets' time against one's (default 0: skipped)\n"
		"      --json             print results as JSON: a list of {name, unit, value}\n"
		"      --report DIR       also write DIR/bench.json, DIR/bench.md, DIR/sweep.dat\n"
		"      --inject corrupt:RUN   tests only: flip one byte of the flash after the\n"
		"                         emulated, anchor, nor or rss push, before its check\n"
		"\n"
		"The runtime update's benchmark, bench rt, has its own: fwpush help bench rt.\n",
		FWP_BMC_DEFAULT_SLOTS, FWP_BMC_DEFAULT_SLOT_SIZE >> 10);
}

enum {
	MAX_RESULTS = 128,
	STOPWAIT_CHUNK = 64 << 10,
	CMP_BLOCK = 1 << 20,	/* the flash is compared with its image this much at a time */
	STAMP_EVERY = 64 << 10,	/* the memory run's sparse image: a stamp per smallest chunk */
	TINY_SIZE = 4 << 10,	/* the memory run's baseline push */
	DELTA_SIZE = 16 << 20,	/* the delta runs' image: at most this much of the bench's */
	TARGETS_MAX = 64,	/* --targets */
};

/* --inject corrupt:RUN: the run whose flash gets one byte flipped before its check. */
enum corrupt { CORRUPT_NONE, CORRUPT_EMULATED, CORRUPT_ANCHOR, CORRUPT_NOR, CORRUPT_RSS };

struct result {
	char name[48];
	const char *unit;
	double value;
	char extra[128];
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
	double delta_scale;
	int json;
	int sweep;
	enum corrupt corrupt;
	const char *report;
	char dir[256];
	char flash_dir[256];
	char image[300];
	struct fwp_hash128 image_hash;	/* the anchor's verify step checks against it */
	uint32_t targets;
	unsigned nbmc;
	struct bmc_proc bmc[2 + TARGETS_MAX];
	struct result res[MAX_RESULTS];
	unsigned nres;
	FILE *sweep_dat;
	FILE *fanout_dat;	/* --report: targets, GB/s, CPU s per target, RSS MiB */
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

/*
 * A sparse image of size bytes with a distinct 16-byte stamp (its offset and a splitmix64 word)
 * every 64 KiB: cheap to make at 1 GiB, yet a chunk lost, misplaced or left as zeros (what a
 * new flash bank holds) shows in the flash.
 */
static int make_stamped_image(const char *path, uint64_t size)
{
	uint64_t state = 0x7374616d70ull, off, stamp[2];
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size))
		ret = -errno;
	for (off = 0; off < size && !ret; off += STAMP_EVERY) {
		size_t n = size - off < sizeof(stamp) ? size - off : sizeof(stamp);

		stamp[0] = off;
		stamp[1] = splitmix64(&state);
		if (pwrite(fd, stamp, n, off) != (ssize_t)n)
			ret = -EIO;
	}
	close(fd);
	return ret;
}

/*
 * The flash the BMC made active against the image: byte for byte and to the same length,
 * streamed a block at a time, so memory stays bounded whatever the image size. 0, or an exit
 * code after one line naming the run and the first byte that differs.
 */
static int check_flash(const char *run, const char *flash, const char *image)
{
	unsigned char *want = malloc(2 * CMP_BLOCK), *got = want + CMP_BLOCK;
	int fi = -1, ff = -1, ret = 0;
	uint64_t off = 0;
	ssize_t n = 1, m;
	size_t i;

	if (!want)
		return cli_die(CLI_EXIT_FAILURE, "bench: out of memory");
	fi = open(image, O_RDONLY | O_CLOEXEC);
	ff = fi < 0 ? -1 : open(flash, O_RDONLY | O_CLOEXEC);
	if (ff < 0) {
		ret = cli_die(CLI_EXIT_FAILURE, "bench: %s: cannot read %s: %s", run,
			      fi < 0 ? image : flash, strerror(errno));
		goto out;
	}
	while (n > 0) {
		n = cli_read_full(fi, want, CMP_BLOCK);
		m = cli_read_full(ff, got, CMP_BLOCK);
		if (n < 0 || m < 0) {
			ret = cli_die(CLI_EXIT_FAILURE, "bench: %s: cannot read %s: %s", run,
				      n < 0 ? image : flash, strerror((int)-(n < 0 ? n : m)));
			break;
		}
		if (n != m || memcmp(want, got, n)) {
			for (i = 0; i < (size_t)(n < m ? n : m) && want[i] == got[i]; i++)
				;
			ret = cli_die(CLI_EXIT_VERIFY, "bench: %s: the flash differs from the image "
				      "at byte %llu", run, (unsigned long long)(off + i));
			break;
		}
		off += n;
	}
out:
	if (fi >= 0)
		close(fi);
	if (ff >= 0)
		close(ff);
	free(want);
	return ret;
}

/* --inject corrupt:RUN: one byte of the active flash flipped, as by a BMC that stored it wrong. */
static int corrupt_flash(const char *flash, uint64_t size)
{
	int fd = open(flash, O_RDWR | O_CLOEXEC), ok;
	unsigned char c = 0;

	ok = fd >= 0 && pread(fd, &c, 1, size / 2) == 1;
	c ^= 0xff;
	ok = ok && pwrite(fd, &c, 1, size / 2) == 1;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : cli_die(CLI_EXIT_FAILURE, "bench: cannot corrupt %s", flash);
}

/* The check after a run's last push, with the test hook before it. */
static int verify_run(const struct bench *b, enum corrupt kind, const char *run,
		      const struct bmc_proc *p, const char *image, uint64_t size)
{
	int ret = 0;

	if (b->corrupt == kind)
		ret = corrupt_flash(p->flash, size);
	return ret ?: check_flash(run, p->flash, image);
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
		return cli_die(CLI_EXIT_FAILURE, "bench: cannot start bmc-sim: %s", strerror(-ret));
	b->nbmc++;
	*out = p;
	return 0;
}

/* Stops a bmc-sim and removes its flash; p NULL (it never started): nothing to do. */
static void stop_bmc(struct bench *b, struct bmc_proc *p)
{
	if (!p)
		return;
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
	}
	p->pid = 0;
	fwp_bmc_flash_remove(p->flash);
	if (p == &b->bmc[b->nbmc - 1])
		b->nbmc--;
}

/* mkdtemp under base, named with our pid as the windows are; 0 or an exit code. */
static int make_dir(char *dir, size_t len, const char *base)
{
	snprintf(dir, len, "%s/fwpush-bench-%d-XXXXXX", base, (int)getpid());
	if (!mkdtemp(dir))
		return cli_die(CLI_EXIT_FAILURE, "bench: cannot create %s: %s", dir, strerror(errno));
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
		return cli_die(CLI_EXIT_FAILURE, "bench: cannot write %s", b->image);
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
static int measure_memcpy(struct bench *b)
{
	unsigned char *img = slurp(b->image, b->size), *dst = malloc(b->size);
	uint64_t t[64], t0, ns;
	unsigned i;

	if (!img || !dst) {
		free(img);
		free(dst);
		return cli_die(CLI_EXIT_FAILURE, "bench: cannot read %s into memory", b->image);
	}
	memset(dst, 0, b->size);
	for (i = 0; i < b->runs; i++) {
		t0 = now_ns();
		memcpy(dst, img, b->size);
		t[i] = now_ns() - t0;
		__asm__ __volatile__("" : : "r"(dst) : "memory");	/* keep the copy */
	}
	free(dst);
	free(img);
	ns = cli_percentile(t, b->runs, 50);
	add(b, "memcpy.gbps", "GB/s", cli_gbps(b->size, ns), "one core, memory to memory");
	return 0;
}

struct kind {
	struct fwp_push_opts opts;
	struct cli_anchor *anchor;	/* set: this kind is the anchor's flow, not a push */
	uint64_t t[64];
};

static int push_path(const char *path, struct fwp_host *h, const struct fwp_push_opts *o,
		     uint64_t *ns)
{
	struct fwp_push_result r;
	int fd, ret;

	fd = fwp_image_open(path, false);
	if (fd < 0)
		return fd;
	ret = fwp_host_push(h, fd, o, &r);
	close(fd);
	*ns = r.ns;
	return ret;
}

static int push_once(struct bench *b, struct fwp_host *h, const struct fwp_push_opts *o,
		     uint64_t *ns)
{
	return push_path(b->image, h, o, ns);
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

static int kind_once(struct bench *b, struct fwp_host *h, const struct kind *k, uint64_t *ns)
{
	if (k->anchor)
		return cli_anchor_push(k->anchor, b->image, &b->image_hash, ns);
	return push_once(b, h, &k->opts, ns);
}

/*
 * Runs the kinds alternately, runs times each; medians in k[i].t[0]. The anchor's first two
 * updates run untimed too: they allocate its staging file and flash.
 */
static int run_kinds(struct bench *b, struct fwp_host *h, struct kind *k, unsigned nk)
{
	unsigned r, i;
	uint64_t ns;
	int ret;

	ret = warm_up(b, h);
	for (i = 0; i < nk && !ret; i++) {
		if (k[i].anchor)
			ret = kind_once(b, h, &k[i], &ns) ?: kind_once(b, h, &k[i], &ns);
	}
	for (r = 0; r < b->runs && !ret; r++) {
		for (i = 0; i < nk && !ret; i++)
			ret = kind_once(b, h, &k[i], &k[i].t[r]);
	}
	if (ret)
		return cli_die(CLI_EXIT_FAILURE, "bench: push failed: %s", strerror(-ret));
	for (i = 0; i < nk; i++)
		k[i].t[0] = cli_percentile(k[i].t, b->runs, 50);
	return 0;
}

static int connect_bmc(const struct bmc_proc *p, struct fwp_host **h)
{
	int ret = fwp_host_open(p->window, 0, h);

	return ret ? cli_target_error(p->window, ret, FWP_DEFAULT_TIMEOUT_MS) : 0;
}

/* The image's XXH3-128: the anchor's stand-in for a signature made before the update. */
static int hash_image(struct bench *b)
{
	int fd = open(b->image, O_RDONLY | O_CLOEXEC), ret;

	ret = fd < 0 ? -errno : fwp_hash_fd(fd, &b->image_hash);
	if (fd >= 0)
		close(fd);
	return ret ? cli_die(CLI_EXIT_FAILURE, "bench: cannot read %s: %s", b->image,
			     strerror(-ret)) : 0;
}

/* The anchor's emulated BMC, started before bmc-sim so it inherits nothing of the push's. */
static int start_anchor(struct bench *b, struct bmc_proc *files, struct cli_anchor **a)
{
	char staging[320];
	int ret;

	snprintf(files->flash, sizeof(files->flash), "%s/anchor-flash.bin", b->flash_dir);
	snprintf(staging, sizeof(staging), "%s/anchor-staging.bin", b->flash_dir);
	ret = hash_image(b);
	if (ret)
		return ret;
	ret = cli_anchor_start(files->flash, staging, a);
	return ret ? cli_die(CLI_EXIT_FAILURE, "bench: cannot start the anchor's BMC: %s",
			     strerror(-ret)) : 0;
}

/*
 * The stop-and-wait kind, the anchor and the default push, alternately. The anchor's flash is
 * checked through a bmc_proc that names only its file (verify_run reads nothing else).
 */
static int measure_push(struct bench *b)
{
	struct kind k[3] = {
		{ .opts = { .sz = sizeof(k[0].opts), .slots = 1, .chunk_size = STOPWAIT_CHUNK } },
		{ .opts = { .sz = sizeof(k[1].opts) } },
		{ .opts = { .sz = sizeof(k[2].opts) } },
	};
	struct bmc_proc anchor_files = { .pid = 0 };
	struct fwp_host *h = NULL;
	struct bmc_proc *p = NULL;
	char extra[96];
	int ret;

	ret = start_anchor(b, &anchor_files, &k[2].anchor) ?:
	      start_bmc(b, b->slots, b->slot_size, NULL, &p) ?: connect_bmc(p, &h);
	if (!ret)
		ret = run_kinds(b, h, k, 3);
	fwp_host_close(h);
	if (!ret)
		ret = verify_run(b, CORRUPT_EMULATED, "default push", p, b->image, b->size);
	if (!ret)
		ret = verify_run(b, CORRUPT_ANCHOR, "anchor", &anchor_files, b->image, b->size);
	stop_bmc(b, p);
	cli_anchor_stop(k[2].anchor);
	if (ret)
		return ret;
	add(b, "push.stopwait.gbps", "GB/s", cli_gbps(b->size, k[0].t[0]), "1 slot x 64 KiB");
	add(b, "push.anchor.gbps", "GB/s", cli_gbps(b->size, k[2].t[0]),
	    "burn_my_bmc emulated: 64 KiB PCI window, a round trip per chunk, verify, update");
	snprintf(extra, sizeof(extra), "%u slots x %u KiB, verified byte for byte", b->slots,
		 b->slot_size >> 10);
	add(b, "push.emulated.gbps", "GB/s", cli_gbps(b->size, k[1].t[0]), extra);
	add(b, "push.emulated.ms", "ms", k[1].t[0] / 1e6, NULL);
	add(b, "push.ratio_memcpy", "ratio",
	    cli_gbps(b->size, k[1].t[0]) / find(b, "memcpy.gbps")->value, NULL);
	add(b, "push.ratio_stopwait", "ratio", (double)k[0].t[0] / (double)k[1].t[0], NULL);
	add(b, "push.ratio_anchor", "ratio", (double)k[2].t[0] / (double)k[1].t[0], NULL);
	return 0;
}

/* v in the largest binary unit that divides it: "64K", "8M" (spec), "64 KiB", "8 MiB" (prose). */
static void size_str(char *buf, size_t len, uint64_t v, bool prose)
{
	unsigned shift = v && !(v & ((1u << 20) - 1)) ? 20 : v && !(v & ((1u << 10) - 1)) ? 10 : 0;
	const char *unit = shift == 20 ? "M" : shift == 10 ? "K" : "";

	snprintf(buf, len, "%llu%s%s%s", (unsigned long long)(v >> shift), prose ? " " : "",
		 prose && !shift ? "bytes" : unit, prose && shift ? "iB" : "");
}

static int measure_nor(struct bench *b)
{
	struct fwp_push_opts o = { .sz = sizeof(o) };
	struct fwp_nor_model m;
	struct fwp_host *h = NULL;
	struct bmc_proc *p = NULL;
	char spec[64], extra[128], sector[16], buffer[16];
	uint64_t ns = 0, flash_ns;
	int ret;

	snprintf(spec, sizeof(spec), "nor:scale=%g", b->nor_scale);
	if (fwp_nor_parse(spec, &m))
		return cli_die(CLI_EXIT_USAGE, "bench: bad NOR model %s", spec);
	flash_ns = fwp_nor_time_ns(&m, b->size);
	ret = start_bmc(b, b->slots, b->slot_size, spec, &p) ?: connect_bmc(p, &h);
	if (!ret) {
		ret = push_once(b, h, &o, &ns);
		if (ret)
			ret = cli_die(CLI_EXIT_FAILURE, "bench: NOR push failed: %s", strerror(-ret));
	}
	fwp_host_close(h);
	if (!ret)
		ret = verify_run(b, CORRUPT_NOR, "NOR push", p, b->image, b->size);
	stop_bmc(b, p);
	if (ret)
		return ret;
	/* The note says what the model ran with, read back from the model itself. */
	size_str(sector, sizeof(sector), m.erase_size, false);
	size_str(buffer, sizeof(buffer), m.buffer, false);
	snprintf(extra, sizeof(extra), "%s sectors, %g ms erase, %g MB/s program, %s buffer, "
		 "time x %g", sector, m.erase_ms, m.program_mbps, buffer, m.scale);
	add(b, "push.nor.seconds", "s", ns / 1e9, extra);
	add(b, "push.nor.flash_seconds", "s", flash_ns / 1e9, "the part's own erase + program");
	add(b, "push.nor.ratio_flash", "ratio", (double)ns / (double)flash_ns, NULL);
	return 0;
}

/*
 * The first size bytes of image with pct% of their sectors changed (a byte each), spread
 * evenly, written to path.
 */
static int make_variant(const char *image, uint64_t size, const char *path, uint32_t sector,
			unsigned pct)
{
	unsigned char *p = malloc(sector);
	int in = open(image, O_RDONLY | O_CLOEXEC), out = -1, ret = -EIO;
	uint64_t i, len;

	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	/* A sector at a time: the bench's own memory stays small, which its RSS figures see. */
	for (i = 0; p && in >= 0 && out >= 0 && i * sector < size; i++) {
		len = size - i * sector < sector ? size - i * sector : sector;
		if (cli_read_full(in, p, len) != (ssize_t)len)
			break;
		if ((i + 1) * pct / 100 != i * pct / 100)
			p[len > 123 ? 123 : 0] ^= 0xff;
		if (write(out, p, len) != (ssize_t)len)
			break;
	}
	if (p && in >= 0 && out >= 0 && i * sector >= size)
		ret = 0;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(p);
	return ret;
}

/*
 * One figure of delta flash, on a new NOR BMC: the changed image pushed in full into its empty
 * banks (every sector erased and programmed), then the original twice (both banks hold it, as
 * after an update over the last one), then the changed image with --delta; the flash checked.
 */
static int delta_once(struct bench *b, const char *spec, const char *base, const char *variant,
		      uint64_t *full, uint64_t *delta)
{
	struct fwp_push_opts o = { .sz = sizeof(o) }, d = { .sz = sizeof(d), .delta = true };
	struct fwp_host *h = NULL;
	struct bmc_proc *p = NULL;
	uint64_t ns;
	int ret;

	ret = start_bmc(b, b->slots, b->slot_size, spec, &p) ?: connect_bmc(p, &h);
	if (!ret) {
		ret = push_path(variant, h, &o, full) ?: push_path(base, h, &o, &ns) ?:
		      push_path(base, h, &o, &ns) ?: push_path(variant, h, &d, delta);
		if (ret)
			ret = cli_die(CLI_EXIT_FAILURE, "bench: delta push failed: %s",
				      strerror(-ret));
	}
	fwp_host_close(h);
	if (!ret)
		ret = check_flash("delta push", p->flash, variant);
	stop_bmc(b, p);
	return ret;
}

/*
 * Delta flash with the NOR model (PROTOCOL.md 14): --delta against full, 0/10/50% of the
 * sectors changed. A time scale of its own: at the NOR run's 0.005 a part is 200 times faster
 * than a real one, and the fixed cost of any push (hashing, syncing, the host's reads) would
 * be what is measured, not the flash.
 */
static int measure_delta(struct bench *b)
{
	static const unsigned pct[] = { 0, 10, 50 };
	char spec[64], base[320], variant[320], name[32], extra[128], sector[16], size[16];
	uint64_t full = 0, delta = 0, dsize = b->size < DELTA_SIZE ? b->size : DELTA_SIZE;
	struct fwp_nor_model m;
	unsigned i;
	int ret = 0;

	snprintf(spec, sizeof(spec), "nor:scale=%g", b->delta_scale);
	if (fwp_nor_parse(spec, &m))
		return cli_die(CLI_EXIT_USAGE, "bench: bad NOR model %s", spec);
	size_str(sector, sizeof(sector), m.erase_size, false);
	size_str(size, sizeof(size), dsize, false);
	snprintf(base, sizeof(base), "%s/delta-base.bin", b->dir);
	snprintf(variant, sizeof(variant), "%s/delta-variant.bin", b->dir);
	if (make_variant(b->image, dsize, base, m.erase_size, 0))
		ret = cli_die(CLI_EXIT_FAILURE, "bench: cannot write %s", base);
	for (i = 0; i < sizeof(pct) / sizeof(pct[0]) && !ret; i++) {
		if (make_variant(base, dsize, variant, m.erase_size, pct[i]))
			ret = cli_die(CLI_EXIT_FAILURE, "bench: cannot write %s", variant);
		if (!ret)
			ret = delta_once(b, spec, base, variant, &full, &delta);
		if (ret)
			break;
		snprintf(name, sizeof(name), "delta.ratio_%u", pct[i]);
		snprintf(extra, sizeof(extra), "%u%% of %s in %s sectors changed, time x %g: "
			 "--delta %.3f s, full %.3f s", pct[i], size, sector, m.scale, delta / 1e9,
			 full / 1e9);
		add(b, name, "ratio", (double)delta / (double)full, extra);
	}
	unlink(variant);
	unlink(base);
	return ret;
}

/*
 * Runs `fwpush ARGS` as our child with its stdout discarded: its resource use (its peak
 * resident memory, its CPU time) and how long it took; 0 or an exit code. fork, not
 * posix_spawn: a vfork-style child shares our memory until exec, and exec records that memory's
 * high-water mark as the child's own peak. A forked child still enters exec with a copy of our
 * private pages, so every figure is taken this same way, and the differences between them are
 * what the push itself adds.
 */
static int run_child(char *const argv[], struct rusage *ru, uint64_t *ns)
{
	uint64_t t0 = now_ns();
	int status = 0, fd;
	pid_t pid = fork();

	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, ru) < 0)
		return cli_die(CLI_EXIT_FAILURE, "bench: cannot run fwpush %s: %s", argv[1],
			       strerror(errno));
	*ns = now_ns() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return cli_die(CLI_EXIT_FAILURE, "bench: fwpush %s %s failed (%s %d)", argv[1],
			       argv[2] ? argv[2] : "", WIFEXITED(status) ? "exit" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return 0;
}

/* Peak resident memory, in MiB, of `fwpush ARGS` run as our child (run_child()). */
static int child_peak_rss(char *const argv[], double *mib)
{
	struct rusage ru;
	uint64_t ns;
	int ret = run_child(argv, &ru, &ns);

	*mib = ru.ru_maxrss / 1024.0;
	return ret;
}

/*
 * Peak resident memory of real `fwpush push` processes: of the process start alone (`fwpush
 * --version`), of a push of a 4 KiB image, and of a push of a large sparse image, in that order,
 * into one BMC whose flash is then checked against the large image.
 */
static int measure_rss(struct bench *b)
{
	char big[320], tiny[320], size[24], tiny_size[24], extra[96];
	char *version[] = { "fwpush", "--version", NULL };
	char *push[] = { "fwpush", "push", tiny, "--target", NULL, "--quiet", NULL };
	struct fwp_host *h = NULL;
	struct bmc_proc *p = NULL;
	double start = 0, base = 0, peak = 0;
	int ret;

	snprintf(big, sizeof(big), "%s/rss.bin", b->dir);
	snprintf(tiny, sizeof(tiny), "%s/tiny.bin", b->dir);
	if (make_stamped_image(big, b->rss_size) || make_image(tiny, TINY_SIZE)) {
		ret = cli_die(CLI_EXIT_FAILURE, "bench: cannot make %s and %s", big, tiny);
		goto out;
	}
	ret = start_bmc(b, b->slots, b->slot_size, NULL, &p) ?: connect_bmc(p, &h);
	fwp_host_close(h);	/* only waited for the window: the children push */
	if (ret)
		goto out;
	push[4] = p->window;
	ret = child_peak_rss(version, &start) ?: child_peak_rss(push, &base);
	push[2] = big;
	ret = ret ?: child_peak_rss(push, &peak);
	ret = ret ?: verify_run(b, CORRUPT_RSS, "memory run", p, big, b->rss_size);
	if (ret)
		goto out;
	size_str(size, sizeof(size), b->rss_size, true);
	size_str(tiny_size, sizeof(tiny_size), TINY_SIZE, true);
	snprintf(extra, sizeof(extra), "peak RSS of fwpush push, %s image", size);
	add(b, "push.rss_mib", "MiB", peak, extra);
	add(b, "push.rss_start_mib", "MiB", start, "peak RSS of fwpush --version: the process start");
	snprintf(extra, sizeof(extra), "peak RSS of fwpush push, %s image", tiny_size);
	add(b, "push.rss_base_mib", "MiB", base, extra);
	snprintf(extra, sizeof(extra), "what the %s image adds over the %s one", size, tiny_size);
	add(b, "push.rss_added_mib", "MiB", peak - base, extra);
out:
	stop_bmc(b, p);
	unlink(big);
	unlink(tiny);
	return ret;
}

static double cpu_seconds(const struct rusage *ru)
{
	return ru->ru_utime.tv_sec + ru->ru_stime.tv_sec +
	       (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

/*
 * One push of the image to n new BMCs at once (nor: a --flash-model spec or NULL), by `fwpush
 * push` as our child; every flash checked against the image. *ns: the child's whole run.
 */
static int fanout_once(struct bench *b, unsigned n, const char *nor, struct rusage *ru,
		       uint64_t *ns)
{
	char *argv[4 + 2 * TARGETS_MAX + 2] = { "fwpush", "push", b->image };
	unsigned i, first = b->nbmc, argc = 3;
	struct fwp_host *h = NULL;
	struct bmc_proc *p;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		ret = start_bmc(b, b->slots, b->slot_size, nor, &p) ?: connect_bmc(p, &h);
		fwp_host_close(h);	/* only waited for the window: the child pushes */
		h = NULL;
		argv[argc++] = "--target";
		argv[argc++] = p->window;
	}
	argv[argc++] = "--quiet";
	ret = ret ?: run_child(argv, ru, ns);
	for (i = first; i < first + n && !ret; i++)
		ret = check_flash("fan-out push", b->bmc[i].flash, b->image);
	while (b->nbmc > first)
		stop_bmc(b, &b->bmc[b->nbmc - 1]);
	return ret;
}

/* --targets N: the scaling over 1, 2, 4 .. N targets, and N NOR parts against one. */
static int measure_fanout(struct bench *b)
{
	char name[48], extra[96], spec[48];
	uint64_t ns, nor_one, nor_all;
	struct rusage ru;
	unsigned n;
	int ret = 0;

	for (n = 1; n <= b->targets && !ret; n = n * 2 > b->targets && n < b->targets ?
					       b->targets : n * 2) {
		ret = fanout_once(b, n, NULL, &ru, &ns);
		if (ret)
			break;
		snprintf(extra, sizeof(extra), "%u targets at once: %u x the image over the "
			 "child's whole run", n, n);
		snprintf(name, sizeof(name), "push.fanout.%u.gbps", n);
		add(b, name, "GB/s", cli_gbps(n * b->size, ns), extra);
		snprintf(name, sizeof(name), "push.fanout.%u.cpu_s", n);
		add(b, name, "s", cpu_seconds(&ru) / n, "the host's user + system CPU per target");
		snprintf(name, sizeof(name), "push.fanout.%u.rss_mib", n);
		add(b, name, "MiB", ru.ru_maxrss / 1024.0, "peak RSS of the host");
		if (b->fanout_dat)
			fprintf(b->fanout_dat, "%u %.3f %.4f %.1f\n", n, cli_gbps(n * b->size, ns),
				cpu_seconds(&ru) / n, ru.ru_maxrss / 1024.0);
	}
	if (ret || b->nor_scale <= 0)
		return ret;
	snprintf(spec, sizeof(spec), "nor:scale=%g", b->nor_scale);
	ret = fanout_once(b, 1, spec, &ru, &nor_one) ?:
	      fanout_once(b, b->targets, spec, &ru, &nor_all);
	if (ret)
		return ret;
	snprintf(extra, sizeof(extra), "%u NOR targets at once / one alone (goal <= 1.1)",
		 b->targets);
	add(b, "push.fanout.nor_ratio", "ratio", (double)nor_all / (double)nor_one, extra);
	return 0;
}

static int sweep_point(struct bench *b, uint32_t slot_size, uint32_t slots)
{
	struct kind k = { .opts = { .sz = sizeof(k.opts) } };
	struct fwp_host *h = NULL;
	struct bmc_proc *p = NULL;
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
	gbps = cli_gbps(b->size, k.t[0]);
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
		return cli_die(CLI_EXIT_FAILURE, "bench: cannot write %s: %s", path, strerror(errno));
	print_json(b, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/bench.md", b->report);
	f = fopen(path, "w");
	if (!f)
		return cli_die(CLI_EXIT_FAILURE, "bench: cannot write %s: %s", path, strerror(errno));
	print_table(b, f, 1);
	fclose(f);
	return 0;
}

/* --nor-scale, --delta-scale: a positive time scale, or 0 (the run is skipped). */
static int opt_scale(const char *name, const char *arg, double *out)
{
	if (!strcmp(arg, "0")) {
		*out = 0;
		return 0;
	}
	if (fwp_parse_positive(arg, out))
		return cli_die(CLI_EXIT_USAGE, "--%s %s: expected a positive number, or 0", name,
			       arg);
	return 0;
}

static int parse(int argc, char **argv, struct bench *b)
{
	enum { OPT_SIZE = 256, OPT_JSON, OPT_SWEEP, OPT_NOR, OPT_RSS, OPT_REPORT, OPT_INJECT,
	       OPT_TARGETS, OPT_DELTA };
	static const char *const runs[] = { [CORRUPT_EMULATED] = "emulated",
					    [CORRUPT_ANCHOR] = "anchor", [CORRUPT_NOR] = "nor",
					    [CORRUPT_RSS] = "rss" };
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "slots", required_argument, NULL, 's' },
		{ "slot-size", required_argument, NULL, 'S' },
		{ "runs", required_argument, NULL, 'r' },
		{ "sweep", no_argument, NULL, OPT_SWEEP },
		{ "nor-scale", required_argument, NULL, OPT_NOR },
		{ "delta-scale", required_argument, NULL, OPT_DELTA },
		{ "rss-size", required_argument, NULL, OPT_RSS },
		{ "targets", required_argument, NULL, OPT_TARGETS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "inject", required_argument, NULL, OPT_INJECT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "s:S:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SIZE: ret = cli_opt_size("size", optarg, 1, 1ull << 34, &b->size); break;
		case 's': ret = cli_opt_u32("slots", optarg, 1, FWP_SLOTS_MAX, &b->slots); break;
		case 'S':
			ret = cli_opt_u32("slot-size", optarg, STOPWAIT_CHUNK, FWP_SLOT_SIZE_MAX,
					  &b->slot_size);
			if (!ret && b->slot_size % FWP_PAGE)
				ret = cli_die(CLI_EXIT_USAGE, "--slot-size %s: must be a multiple "
					      "of 4K", optarg);
			break;
		case 'r': ret = cli_opt_u32("runs", optarg, 1, 64, &b->runs); break;
		case OPT_SWEEP: b->sweep = 1; break;
		case OPT_NOR: ret = opt_scale("nor-scale", optarg, &b->nor_scale); break;
		case OPT_DELTA: ret = opt_scale("delta-scale", optarg, &b->delta_scale); break;
		case OPT_RSS: ret = cli_opt_size("rss-size", optarg, 0, 1ull << 40, &b->rss_size); break;
		case OPT_TARGETS:
			ret = cli_opt_u32("targets", optarg, 0, TARGETS_MAX, &b->targets);
			break;
		case OPT_JSON: b->json = 1; break;
		case OPT_REPORT: b->report = optarg; break;
		case OPT_INJECT:
			for (b->corrupt = CORRUPT_RSS; b->corrupt > CORRUPT_NONE; b->corrupt--) {
				if (!strncmp(optarg, "corrupt:", 8) &&
				    !strcmp(optarg + 8, runs[b->corrupt]))
					break;
			}
			if (b->corrupt == CORRUPT_NONE)
				ret = cli_die(CLI_EXIT_USAGE, "--inject %s: expected corrupt:emulated, "
					      "corrupt:anchor, corrupt:nor or corrupt:rss", optarg);
			break;
		case 'h': usage_bench(stdout); return -1;
		default: return CLI_EXIT_USAGE;
		}
		if (ret)
			return ret;
	}
	if (optind != argc)
		return cli_die(CLI_EXIT_USAGE, "bench: unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Runs measure with *dat open on DIR/name when there is a --report DIR to write it into. */
static int measure_to(struct bench *b, const char *name, FILE **dat,
		      int (*measure)(struct bench *b))
{
	char path[512];
	int ret;

	if (b->report) {
		snprintf(path, sizeof(path), "%s/%s", b->report, name);
		*dat = fopen(path, "w");
	}
	ret = measure(b);
	if (*dat)
		fclose(*dat);
	*dat = NULL;
	return ret;
}

static int run(struct bench *b)
{
	int ret;

	ret = setup(b) ?: measure_memcpy(b) ?: measure_push(b);
	if (!ret && b->nor_scale > 0)
		ret = measure_nor(b);
	if (!ret && b->delta_scale > 0)
		ret = measure_delta(b);
	if (!ret && b->rss_size)
		ret = measure_rss(b);
	if (!ret && b->targets)
		ret = measure_to(b, "fanout.dat", &b->fanout_dat, measure_fanout);
	if (!ret && b->sweep)
		ret = measure_to(b, "sweep.dat", &b->sweep_dat, measure_sweep);
	return ret;
}

int cmd_bench(int argc, char **argv)
{
	struct bench *b = calloc(1, sizeof(*b));
	int ret;

	if (!b)
		return cli_die(CLI_EXIT_FAILURE, "bench: out of memory");
	b->size = 64ull << 20;
	b->rss_size = 1ull << 30;
	b->slots = FWP_BMC_DEFAULT_SLOTS;
	b->slot_size = FWP_BMC_DEFAULT_SLOT_SIZE;
	b->runs = 5;
	b->nor_scale = 0.005;
	b->delta_scale = 0.05;
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
