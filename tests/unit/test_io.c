/* SPDX-License-Identifier: MIT */
/*
 * The BAR data path without a BAR, so that it runs under the sanitizers too (the vm suite, its
 * only other test, runs a release build in a guest).
 *
 * 1. fwp_io_copy (16-byte streaming stores after an unaligned head, a memcpy tail), and
 *    fwp_io_copy_words (aligned 32-bit stores: a 32-bit Arm BMC's copy) and fwp_io_read_words
 *    (aligned 32-bit loads: its copy out of the window), equal memcpy
 *    for every length 0..300 and around 4K and 64K multiples, at every source and destination
 *    misalignment 0..15, and touches nothing outside its destination: each copy lands in an
 *    exact-size heap buffer (ASan sees any access past either end), and again right before a
 *    PROT_NONE page with the bytes around it checked (any build sees a store outside).
 * 2. The host pipeline's io path end to end: push.c is included here, a host on an ordinary
 *    shm: window is switched to the BAR path (h->win.device: chunks read into the RAM bounce buffer,
 *    hashed there, streamed into the slot with fwp_io_copy, fenced before the doorbell), and
 *    pushes images of awkward sizes at awkward chunk sizes to a BMC running in a thread; the
 *    flash must equal each image byte for byte, every image byte must have gone through
 *    fwp_io_copy, and no doorbell may be rung while streamed bytes are not yet fenced.
 */
#include "core/mmio.h"	/* first: the real accessors, before push.c's uses are renamed below */

/* push.c's BAR accesses, counted and checked: see host_* below. */
static void host_io_copy(void *dst, const void *src, size_t n);
static void host_wc_fence(void);
static void host_store_release(volatile uint32_t *p, uint32_t v);
#define fwp_io_copy		host_io_copy
#define fwp_wc_fence		host_wc_fence
#define fwp_store_release	host_store_release
#include "../../engine/host/push.c"
#undef fwp_io_copy
#undef fwp_wc_fence
#undef fwp_store_release

#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#include "check.h"
#include "fwpush/bmc.h"

#define PAGE		4096u
#define CANARY		0xa5
#define AROUND		32u	/* checked bytes before the destination */
#define MAX_LEN		(128u * 1024 + 128)

static unsigned char pattern[MAX_LEN + 16];

/* 0..300, and k-65..k+65 (the interesting ones) around 4K, 8K, 64K and 128K. */
static size_t lengths(size_t *out)
{
	static const size_t big[] = { 4096, 8192, 65536, 131072 };
	static const int near[] = { -65, -64, -63, -17, -16, -15, -1, 0, 1, 15, 16, 17, 63, 64, 65 };
	size_t n = 0, i, j;

	for (i = 0; i <= 300; i++)
		out[n++] = i;
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		for (j = 0; j < sizeof(near) / sizeof(near[0]); j++)
			out[n++] = big[i] + near[j];
	return n;
}

static unsigned long copies, wrong_copies;
/* The copy under test: fwp_io_copy, then the aligned-word copy other CPUs use. */
static void (*io_copy)(void *dst, const void *src, size_t n) = fwp_io_copy;
static const char *io_copy_name = "fwp_io_copy";

/* Counts a wrong copy as one failed check; names the first few. */
static void wrong_copy(const char *how, size_t len, unsigned sa, unsigned da)
{
	if (++wrong_copies <= 8)
		fprintf(stderr, "%s: len %zu, src+%u, dst+%u: wrong copy or a store outside\n",
			how, len, sa, da);
	check_failures++;
}

static int all_canary(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != CANARY)
			return 0;
	return 1;
}

/*
 * Exact-size heap buffers: the source ends where its allocation ends, and so does the
 * destination; the bytes before the destination (its misalignment) must stay untouched.
 */
static void copy_heap(size_t len, unsigned sa, unsigned da)
{
	/* malloc aligns to 16: p + sa is misaligned by exactly sa. */
	unsigned char *sbuf = malloc(sa + len + !(sa + len)), *dbuf = malloc(da + len + !(da + len));
	unsigned char *src = sbuf + sa, *dst = dbuf + da;

	if (!sbuf || !dbuf)
		abort();
	CHECK_EQ((uintptr_t)src & 15, sa);
	CHECK_EQ((uintptr_t)dst & 15, da);
	memcpy(src, pattern + (len & 15), len);
	memset(dbuf, CANARY, da + len);
	io_copy(dst, src, len);
	copies++;
	if (memcmp(dst, src, len) || !all_canary(dbuf, da))
		wrong_copy("heap", len, sa, da);
	free(sbuf);
	free(dbuf);
}

/*
 * Source and destination each end within 15 bytes of a PROT_NONE page (a store or load that
 * runs further faults), with the gap and AROUND bytes before the destination checked.
 */
static void copy_guarded(unsigned char *sreg, unsigned char *dreg, size_t span, size_t len,
			 unsigned sa, unsigned da)
{
	/* The highest address ending at or before the guard with the wanted misalignment. */
	unsigned char *src = (unsigned char *)(((uintptr_t)(sreg + span - len) & ~(uintptr_t)15) | sa);
	unsigned char *dst = (unsigned char *)(((uintptr_t)(dreg + span - len) & ~(uintptr_t)15) | da);
	unsigned char *lo, *hi = dreg + span;

	if (src + len > sreg + span)
		src -= 16;
	if (dst + len > dreg + span)
		dst -= 16;
	lo = dst - AROUND;
	memcpy(src, pattern + (len & 15), len);
	memset(lo, CANARY, hi - lo);
	io_copy(dst, src, len);
	copies++;
	if (memcmp(dst, src, len) || !all_canary(lo, AROUND) ||
	    !all_canary(dst + len, hi - (dst + len)))
		wrong_copy("guarded", len, sa, da);
}

static void io_copy_every_alignment(void)
{
	size_t lens[301 + 4 * 15], nl = lengths(lens), i;
	size_t span = (MAX_LEN + AROUND + 16 + PAGE - 1) / PAGE * PAGE;
	size_t reg = span + PAGE;	/* the region, then its guard page */
	unsigned char *sreg, *dreg;
	unsigned sa, da;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (i = 0; i < sizeof(pattern); i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		pattern[i] = x >> 56;
	}
	sreg = mmap(NULL, 2 * reg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sreg == MAP_FAILED)
		abort();
	dreg = sreg + reg;
	if (mprotect(sreg + span, PAGE, PROT_NONE) || mprotect(dreg + span, PAGE, PROT_NONE))
		abort();
	for (i = 0; i < nl; i++) {
		for (sa = 0; sa < 16; sa++) {
			for (da = 0; da < 16; da++) {
				copy_heap(lens[i], sa, da);
				copy_guarded(sreg, dreg, span, lens[i], sa, da);
			}
		}
	}
	munmap(sreg, 2 * reg);
	if (wrong_copies)
		fprintf(stderr, "%s: %lu of %lu copies wrong\n", io_copy_name, wrong_copies, copies);
	else
		printf("%s: %zu lengths x 16 x 16 alignments, twice: %lu copies equal "
		       "memcpy, nothing outside\n", io_copy_name, nl, copies);
}

/* --- the io pipeline against a BMC in a thread ------------------------------------------- */

/*
 * What the host did to the window (only the host thread calls these): bytes streamed in with
 * fwp_io_copy, fences, doorbells, and doorbells rung while streamed bytes were not yet fenced.
 */
static uint64_t io_bytes, fences, rings, unfenced_rings;
static bool io_dirty;

static void host_io_copy(void *dst, const void *src, size_t n)
{
	fwp_io_copy(dst, src, n);
	io_bytes += n;
	io_dirty = true;
}

static void host_wc_fence(void)
{
	fwp_wc_fence();
	fences++;
	io_dirty = false;
}

static void host_store_release(volatile uint32_t *p, uint32_t v)
{
	rings++;
	unfenced_rings += io_dirty;
	fwp_store_release(p, v);
}

static volatile int bmc_stop;
static struct fwp_bmc_session last_session;
static int sessions;

static void on_session(void *arg, const struct fwp_bmc_session *s)
{
	(void)arg;
	last_session = *s;
	__atomic_add_fetch(&sessions, 1, __ATOMIC_RELEASE);
}

static void *bmc_thread(void *arg)
{
	fwp_bmc_run(arg, &bmc_stop);
	return NULL;
}

static int file_equals(const char *path, const unsigned char *want, size_t n)
{
	unsigned char *got = malloc(n + 1);
	FILE *f = fopen(path, "rb");
	size_t r = 0;
	int same;

	if (got && f)
		r = fread(got, 1, n + 1, f);
	same = got && f && r == n && !memcmp(got, want, n);
	if (f)
		fclose(f);
	free(got);
	return same;
}

static void push_io(const char *uri, const char *flash, const char *dir, size_t size,
		    uint32_t chunk)
{
	struct fwp_push_opts o = { .sz = sizeof(o), .chunk_size = chunk, .timeout_ms = 10000 };
	struct fwp_push_result res;
	struct fwp_host *h = NULL;
	unsigned char *img = malloc(size);
	char path[256];
	int fd, ret, before = __atomic_load_n(&sessions, __ATOMIC_ACQUIRE);
	size_t i;
	FILE *f;

	if (!img)
		abort();
	for (i = 0; i < size; i++)
		img[i] = pattern[(i * 7 + size) % sizeof(pattern)] ^ (unsigned char)(i >> 12);
	snprintf(path, sizeof(path), "%s/img", dir);
	f = fopen(path, "wb");
	if (!f || fwrite(img, 1, size, f) != size || fclose(f))
		abort();
	fd = fwp_image_open(path, false);
	CHECK(fd >= 0);
	ret = fwp_host_open(uri, 5000, &h);
	CHECK_EQ(ret, 0);
	if (fd < 0 || ret)
		goto out;
	CHECK(!h->win.device);	/* shm: is cached memory; the test forces the BAR path */
	h->win.device = true;
	io_bytes = fences = rings = unfenced_rings = 0;
	io_dirty = false;
	ret = fwp_host_push(h, fd, &o, &res);
	if (ret || !file_equals(flash, img, size)) {
		fprintf(stderr, "io push of %zu bytes in %u-byte chunks: ret %d (status %u at "
			"offset %llu), flash %s\n", size, chunk, ret, res.bmc_status,
			(unsigned long long)res.failed_offset,
			file_equals(flash, img, size) ? "equal" : "differs");
		check_failures++;
	}
	CHECK_EQ(res.resends, 0);
	/* Every chunk went through the bounce buffer and fwp_io_copy, and was fenced before the
	 * doorbell; START, each DATA and FINISH were each fenced and rung. */
	CHECK_EQ(io_bytes, size);
	CHECK_EQ(unfenced_rings, 0);
	CHECK(rings >= res.chunks + 2);
	CHECK(fences >= res.chunks + 2);
	CHECK(fwp_hash128_eq(&res.image_hash, &(struct fwp_hash128){
		XXH3_128bits(img, size).low64, XXH3_128bits(img, size).high64 }));
	/* The BMC reports the session once it has answered the FINISH. */
	for (i = 0; i < 5000 && __atomic_load_n(&sessions, __ATOMIC_ACQUIRE) == before; i++)
		usleep(1000);
	CHECK_EQ(__atomic_load_n(&sessions, __ATOMIC_ACQUIRE), before + 1);
	CHECK_EQ(last_session.status, FWP_ST_OK);
	CHECK_EQ(last_session.image_size, size);
	printf("io push: %zu bytes in %u-byte chunks: %s\n", size, res.chunk_size,
	       ret ? "FAILED" : "flash equals the image");
out:
	fwp_host_close(h);
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(img);
}

static void io_pipeline(void)
{
	struct fwp_bmc_opts bo = { .sz = sizeof(bo), .slot_count = 4, .slot_size = 64 << 10,
				   .flash_capacity = 8 << 20, .on_session = on_session,
				   .idle_timeout_ms = 10000 };
	char dir[] = "/tmp/fwpush-test-io.XXXXXX", uri[64], flash[300];
	struct fwp_bmc *b;
	pthread_t t;
	int ret;

	if (!mkdtemp(dir))
		abort();
	snprintf(uri, sizeof(uri), "shm:fwpt-unit-io-%d", (int)getpid());
	snprintf(flash, sizeof(flash), "%s/flash", dir);
	ret = fwp_bmc_create(uri, flash, &bo, &b);
	CHECK_EQ(ret, 0);
	if (ret)
		goto out;
	if (pthread_create(&t, NULL, bmc_thread, b))
		abort();
	/* Whole slots; chunks that end 1 byte into a 16-byte line, or 1 short; tiny ones. */
	push_io(uri, flash, dir, (1u << 20) + 4097, 0);
	push_io(uri, flash, dir, 300000 + 13, 4097);
	push_io(uri, flash, dir, 100000, 65535);
	push_io(uri, flash, dir, 5000, 1000);
	push_io(uri, flash, dir, 2000, 17);
	push_io(uri, flash, dir, 15, 0);
	push_io(uri, flash, dir, 1, 0);
	bmc_stop = 1;
	pthread_join(t, NULL);
	fwp_bmc_destroy(b);
out:
	fwp_bmc_flash_remove(flash);
	rmdir(dir);
}

int main(void)
{
	io_copy_every_alignment();
	io_copy = fwp_io_copy_words, io_copy_name = "fwp_io_copy_words", copies = 0;
	io_copy_every_alignment();
	io_copy = fwp_io_read_words, io_copy_name = "fwp_io_read_words", copies = 0;
	io_copy_every_alignment();
	io_pipeline();
	return check_done("test_io");
}
