/* SPDX-License-Identifier: MIT */
/*
 * One compiled XXH3 variant, named on the command line (meson runs one test per variant), must
 * agree with Debian's libxxhash, one-shot and streamed, and copy_hash must copy exactly and hash
 * what it copied. A variant this CPU cannot run exits 77 (SKIP), saying which CPUID or XCR0 bit
 * is missing; whether it can run is read here from CPUID and XGETBV, not from the engine's own
 * check, so an engine that refuses a variant the CPU has fails instead of skipping.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "check.h"
#include "core/hash.h"

static const size_t sizes[] = { 0, 1, 3, 16, 17, 128, 129, 240, 241, 1023, 4096, 65537,
				(256u << 10) + 5, 3u << 20 };

/*
 * fwp_hash_fd: n bytes written to a file and read back from its offset hash as the bytes do (in
 * blocks of 64 KiB: the sizes above cross them), from a later offset as what follows it, and a
 * descriptor it cannot read is an error.
 */
static void check_fd(const unsigned char *buf, size_t n, const XXH128_hash_t *ref)
{
	FILE *f = tmpfile();
	struct fwp_hash128 got = { 0, 0 };
	XXH128_hash_t tail = XXH3_128bits(buf + n / 2, n - n / 2);
	int fd = f ? fileno(f) : -1;

	CHECK(fd >= 0 && write(fd, buf, n) == (ssize_t)n && lseek(fd, 0, SEEK_SET) == 0);
	CHECK_EQ(fwp_hash_fd(fd, &got), 0);
	CHECK(got.lo == ref->low64 && got.hi == ref->high64);
	CHECK(lseek(fd, n / 2, SEEK_SET) == (off_t)(n / 2));
	CHECK_EQ(fwp_hash_fd(fd, &got), 0);
	CHECK(got.lo == tail.low64 && got.hi == tail.high64);
	CHECK_EQ(fwp_hash_fd(-1, &got), -EBADF);
	if (f)
		fclose(f);
}

static void check_variant(const char *name, const unsigned char *buf, unsigned char *dst)
{
	const struct fwp_hash_ops *ops;
	size_t i;

	if (fwp_hash_select(name)) {
		fprintf(stderr, "variant %s: this CPU can run it, but fwp_hash_select refuses it\n",
			name);
		check_failures++;
		return;
	}
	ops = fwp_hash();
	CHECK(!strcmp(ops->name, name));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i], cut = n / 3;
		XXH128_hash_t ref = XXH3_128bits(buf, n);
		struct fwp_hash128 one = ops->hash128(buf, n), streamed, copied, copied2;
		struct fwp_hstate s, a, b;

		CHECK(one.lo == ref.low64 && one.hi == ref.high64);
		CHECK(ops->hash64(buf, n) == XXH3_64bits(buf, n));
		ops->reset(&s);
		ops->update(&s, buf, cut);
		ops->update(&s, buf + cut, n - cut);
		streamed = ops->digest(&s);
		CHECK(streamed.lo == ref.low64 && streamed.hi == ref.high64);

		memset(dst, 0xa5, n + 1);
		ops->reset(&a);
		ops->reset(&b);
		ops->copy_hash(dst, buf, n, &a, &b);
		CHECK(!memcmp(dst, buf, n));
		CHECK_EQ(dst[n], 0xa5);		/* not one byte past the end */
		copied = ops->digest(&a);
		copied2 = ops->digest(&b);
		CHECK(copied.lo == ref.low64 && copied.hi == ref.high64);
		CHECK(copied2.lo == ref.low64 && copied2.hi == ref.high64);
		check_fd(buf, n, &ref);
	}
	printf("variant %s: agrees with libxxhash %u\n", name, XXH_versionNumber());
}

#if defined(__x86_64__)
/*
 * Why this CPU cannot run the variant, or NULL if it can: the instruction-set bits (CPUID) and
 * the register state the OS enabled (XCR0, read with XGETBV once CPUID says OSXSAVE).
 */
static const char *cannot_run(const char *name, char *why, size_t len)
{
	unsigned a, b, c, d, b7 = 0, c7, d7;
	unsigned long long xcr0 = 0;
	bool avx512 = !strcmp(name, "avx512");
	unsigned long long want = avx512 ? 0xe6 : 0x6;	/* SSE|AVX [|opmask|ZMM_Hi256|Hi16_ZMM] */

	if (strcmp(name, "avx2") && !avx512)
		return NULL;
	__cpuid(1, a, b, c, d);
	if (c & bit_OSXSAVE) {
		unsigned lo, hi;

		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		xcr0 = (unsigned long long)hi << 32 | lo;
	}
	if (__get_cpuid_max(0, NULL) >= 7)
		__cpuid_count(7, 0, a, b7, c7, d7);
	if (!avx512 && !(b7 & bit_AVX2))
		snprintf(why, len, "CPUID.(EAX=7,ECX=0):EBX bit 5 (AVX2) is clear");
	else if (avx512 && (~b7 & (bit_AVX512F | bit_AVX512BW)))
		snprintf(why, len, "CPUID.(EAX=7,ECX=0):EBX lacks%s%s",
			 b7 & bit_AVX512F ? "" : " bit 16 (AVX512F)",
			 b7 & bit_AVX512BW ? "" : " bit 30 (AVX512BW)");
	else if (!(c & bit_OSXSAVE))
		snprintf(why, len, "the OS has not enabled XSAVE (CPUID.1:ECX.OSXSAVE clear)");
	else if ((xcr0 & want) != want)
		snprintf(why, len, "the OS has not enabled the register state: XCR0 is %#llx, needs %#llx",
			 xcr0, want);
	else
		return NULL;
	return why;
}
#else
static const char *cannot_run(const char *name, char *why, size_t len)
{
	(void)why;
	(void)len;
	return strcmp(name, "generic") ? "this build is not for x86-64" : NULL;
}
#endif

int main(int argc, char **argv)
{
	size_t max = 3u << 20, i;
	unsigned char *buf, *dst;
	uint64_t x = 0x1234567;
	const char *name = argc == 2 ? argv[1] : NULL, *why;
	char reason[160];

	if (!name) {
		fprintf(stderr, "usage: test_hash generic|avx2|avx512\n");
		return 2;
	}
	why = cannot_run(name, reason, sizeof(reason));
	if (why && fwp_hash_select(name) != -ENOTSUP) {	/* the engine must agree */
		fprintf(stderr, "variant %s: this CPU cannot run it (%s), but fwp_hash_select "
			"does not refuse it\n", name, why);
		return 1;
	}
	if (why) {
		printf("SKIP variant %s: this CPU cannot run it: %s\n", name, why);
		return 77;
	}
	buf = malloc(max + 64);
	dst = malloc(max + 64);
	if (!buf || !dst)
		return 1;
	for (i = 0; i < max; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = x >> 56;
	}
	check_variant(name, buf, dst);
	CHECK_EQ(fwp_hash_select("nonsense"), -ENOENT);
	free(buf);
	free(dst);
	return check_done(name);
}
