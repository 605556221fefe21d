/* SPDX-License-Identifier: MIT */
/*
 * fwpush bench: the main job on the embedded default. Makes a deterministic image, starts an
 * emulated BMC process on a private window, pushes, checks the flash byte for byte, and reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fwpush/bmc.h"
#include "fwpush/push.h"

extern char **environ;

void fwp_usage_bench(void)
{
	printf("usage: fwpush bench [OPTIONS]     (fwpush --bench is the same)\n"
	       "\n"
	       "Needs no hardware: makes a deterministic image in a temporary directory ($TMPDIR\n"
	       "or /tmp), starts `fwpush bmc-sim` on a private shm window with a temporary flash\n"
	       "file (on /dev/shm), pushes the image, checks the flash byte for byte against it,\n"
	       "prints the throughput, and removes everything it made.\n"
	       "\n"
	       "      --size SIZE        image size (default 64M)\n"
	       "  -s, --slots N          window slots (default %u)\n"
	       "  -S, --slot-size SIZE   bytes per slot and chunk (default 1M)\n"
	       "  -r, --runs N           pushes to time; the median is reported (default 5)\n"
	       "      --json             print results as JSON: a list of {name, unit, value}\n",
	       FWP_BMC_DEFAULT_SLOTS);
}

struct bench {
	uint64_t size;
	uint32_t slots;
	uint32_t slot_size;
	uint32_t runs;
	int json;
	char dir[256];
	char flash_dir[256];
	char image[300];
	char flash[300];
	char window[64];
	pid_t bmc;
};

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

/* 0 if the two files hold the same bytes. */
static int same_bytes(const char *a, const char *b)
{
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
	struct stat sa, sb;
	void *ma = MAP_FAILED, *mb = MAP_FAILED;
	int ret = -1;

	if (fa < 0 || fb < 0 || fstat(fa, &sa) || fstat(fb, &sb) || sa.st_size != sb.st_size ||
	    sa.st_size == 0)
		goto out;
	ma = mmap(NULL, sa.st_size, PROT_READ, MAP_PRIVATE, fa, 0);
	mb = mmap(NULL, sb.st_size, PROT_READ, MAP_PRIVATE, fb, 0);
	if (ma != MAP_FAILED && mb != MAP_FAILED)
		ret = memcmp(ma, mb, sa.st_size) ? -1 : 0;
out:
	if (ma != MAP_FAILED)
		munmap(ma, sa.st_size);
	if (mb != MAP_FAILED)
		munmap(mb, sb.st_size);
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ret;
}

static int start_bmc(struct bench *b)
{
	char slots[16], slot_size[16];
	char *argv[] = { "fwpush", "bmc-sim", "--window", b->window, "--flash", b->flash,
			 "--slots", slots, "--slot-size", slot_size, "--quiet", NULL };
	int ret;

	snprintf(slots, sizeof(slots), "%u", b->slots);
	snprintf(slot_size, sizeof(slot_size), "%u", b->slot_size);
	ret = posix_spawn(&b->bmc, "/proc/self/exe", NULL, NULL, argv, environ);
	return -ret;
}

static void stop_bmc(struct bench *b)
{
	if (b->bmc <= 0)
		return;
	kill(b->bmc, SIGTERM);
	waitpid(b->bmc, NULL, 0);
	b->bmc = 0;
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
	snprintf(b->flash, sizeof(b->flash), "%s/flash.bin", b->flash_dir);
	snprintf(b->window, sizeof(b->window), "shm:fwpush-bench-%d", (int)getpid());
	if (make_image(b->image, b->size))
		return fwp_die(FWP_EXIT_FAILURE, "bench: cannot write %s", b->image);
	if (start_bmc(b))
		return fwp_die(FWP_EXIT_FAILURE, "bench: cannot start bmc-sim: %s", strerror(errno));
	return 0;
}

static void teardown(struct bench *b)
{
	char staging[320];

	stop_bmc(b);
	snprintf(staging, sizeof(staging), "%s.staging", b->flash);
	unlink(b->image);
	unlink(b->flash);
	unlink(staging);
	if (b->flash_dir[0] && strcmp(b->flash_dir, b->dir))
		rmdir(b->flash_dir);
	if (b->dir[0])
		rmdir(b->dir);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Pushes runs times; the median time in *ns. */
static int timed_pushes(struct bench *b, struct fwp_host *h, const struct fwp_push_opts *o,
			uint64_t *ns)
{
	struct fwp_push_result r;
	uint64_t t[64];
	uint32_t i;
	int fd, ret = 0;

	fd = fwp_image_open(b->image, false);
	if (fd < 0)
		return fd;
	for (i = 0; i < b->runs && !ret; i++) {
		ret = fwp_host_push(h, fd, o, &r);
		t[i] = r.ns;
	}
	close(fd);
	if (ret)
		return ret;
	qsort(t, b->runs, sizeof(t[0]), cmp_u64);
	*ns = t[b->runs / 2];
	return 0;
}

static void report(const struct bench *b, uint64_t ns, int verified)
{
	double gbps = fwp_gbps(b->size, ns);

	if (b->json) {
		printf("[\n  {\"name\": \"push.emulated.gbps\", \"unit\": \"GB/s\", \"value\": %.3f, "
		       "\"extra\": \"%llu-byte image, %u slots x %u bytes, median of %u\"},\n"
		       "  {\"name\": \"push.emulated.ms\", \"unit\": \"ms\", \"value\": %.3f},\n"
		       "  {\"name\": \"push.verified\", \"unit\": \"bool\", \"value\": %d}\n]\n",
		       gbps, (unsigned long long)b->size, b->slots, b->slot_size, b->runs,
		       ns / 1e6, verified);
		return;
	}
	printf("fwpush bench: %llu MiB image, emulated BMC on %s (%u slots x %u KiB)\n",
	       (unsigned long long)(b->size >> 20), b->window, b->slots, b->slot_size >> 10);
	printf("  push (median of %u)  %8.3f ms  %6.2f GB/s  flash %s the image byte for byte\n",
	       b->runs, ns / 1e6, gbps, verified ? "equals" : "DIFFERS FROM");
}

static int parse(int argc, char **argv, struct bench *b)
{
	enum { OPT_SIZE = 256, OPT_JSON };
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "slots", required_argument, NULL, 's' },
		{ "slot-size", required_argument, NULL, 'S' },
		{ "runs", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "s:S:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SIZE: ret = fwp_opt_size("size", optarg, 1, 1ull << 40, &b->size); break;
		case 's': ret = fwp_opt_u32("slots", optarg, 1, FWP_SLOTS_MAX, &b->slots); break;
		case 'S':
			ret = fwp_opt_u32("slot-size", optarg, FWP_SLOT_SIZE_MIN, FWP_SLOT_SIZE_MAX,
					  &b->slot_size);
			break;
		case 'r': ret = fwp_opt_u32("runs", optarg, 1, 64, &b->runs); break;
		case OPT_JSON: b->json = 1; break;
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

int fwp_cmd_bench(int argc, char **argv)
{
	struct bench b = {
		.size = 64ull << 20,
		.slots = FWP_BMC_DEFAULT_SLOTS,
		.slot_size = FWP_BMC_DEFAULT_SLOT_SIZE,
		.runs = 5,
	};
	struct fwp_push_opts o = { .sz = sizeof(o) };
	struct fwp_host *h = NULL;
	uint64_t ns = 0;
	int ret;

	ret = parse(argc, argv, &b);
	if (ret)
		return ret < 0 ? 0 : ret;
	ret = setup(&b);
	if (ret)
		goto out;
	ret = fwp_host_open(b.window, 0, &h);
	if (ret) {
		ret = fwp_target_error(b.window, ret, FWP_DEFAULT_TIMEOUT_MS);
		goto out;
	}
	ret = timed_pushes(&b, h, &o, &ns);
	if (ret) {
		ret = fwp_die(FWP_EXIT_FAILURE, "bench: push failed: %s", strerror(-ret));
		goto out;
	}
	if (same_bytes(b.image, b.flash)) {
		report(&b, ns, 0);
		ret = fwp_die(FWP_EXIT_VERIFY, "bench: flash %s differs from image %s", b.flash,
			      b.image);
		goto out;
	}
	report(&b, ns, 1);
out:
	fwp_host_close(h);
	teardown(&b);
	return ret;
}
