/* SPDX-License-Identifier: MIT */
/*
 * Every compiled XXH3 variant this CPU runs must agree with Debian's libxxhash, one-shot and
 * streamed, and copy_hash must copy exactly and hash what it copied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "check.h"
#include "hash.h"

static const size_t sizes[] = { 0, 1, 3, 16, 17, 128, 129, 240, 241, 1023, 4096, 65537,
				(256u << 10) + 5, 3u << 20 };

static void check_variant(const char *name, const unsigned char *buf, unsigned char *dst)
{
	const struct fwp_hash_ops *ops;
	size_t i;

	if (fwp_hash_select(name)) {
		printf("variant %s: not supported here, skipped\n", name);
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
	}
	printf("variant %s: agrees with libxxhash %u\n", name, XXH_versionNumber());
}

int main(void)
{
	size_t max = 3u << 20, i;
	unsigned char *buf = malloc(max + 64), *dst = malloc(max + 64);
	uint64_t x = 0x1234567;

	if (!buf || !dst)
		return 1;
	for (i = 0; i < max; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = x >> 56;
	}
	check_variant("generic", buf, dst);
#ifdef FWP_HASH_X86
	check_variant("avx2", buf, dst);
	check_variant("avx512", buf, dst);
#endif
	CHECK_EQ(fwp_hash_select("nonsense"), -ENOENT);
	free(buf);
	free(dst);
	return check_done("test_hash");
}
