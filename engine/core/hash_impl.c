/* SPDX-License-Identifier: MIT */
/*
 * One instruction-set variant of the hash operations. Meson compiles this file once per target
 * with -m flags and FWP_HASH_VARIANT set; xxhash.h then picks its vector code from those flags.
 */
#include <string.h>

#include "core/hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#ifndef FWP_HASH_VARIANT
#error "FWP_HASH_VARIANT must name the variant"
#endif
#define FWP_CAT2(a, b)	a##b
#define FWP_CAT(a, b)	FWP_CAT2(a, b)
#define FWP_STR2(a)	#a
#define FWP_STR(a)	FWP_STR2(a)
#define V(name)		FWP_CAT(name##_, FWP_HASH_VARIANT)

_Static_assert(sizeof(XXH3_state_t) <= sizeof(struct fwp_hstate), "fwp_hstate too small");
_Static_assert(_Alignof(XXH3_state_t) <= _Alignof(struct fwp_hstate), "fwp_hstate alignment");

/* Blocks small enough to stay in L1/L2 between the copy and the hash. */
#define COPY_HASH_BLOCK	(16u << 10)

static struct fwp_hash128 V(hash128)(const void *p, size_t n)
{
	XXH128_hash_t h = XXH3_128bits(p, n);

	return (struct fwp_hash128){ .lo = h.low64, .hi = h.high64 };
}

static uint64_t V(hash64)(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

static void V(reset)(struct fwp_hstate *s)
{
	XXH3_128bits_reset((XXH3_state_t *)s->opaque);
}

static void V(update)(struct fwp_hstate *s, const void *p, size_t n)
{
	XXH3_128bits_update((XXH3_state_t *)s->opaque, p, n);
}

static struct fwp_hash128 V(digest)(const struct fwp_hstate *s)
{
	XXH128_hash_t h = XXH3_128bits_digest((const XXH3_state_t *)s->opaque);

	return (struct fwp_hash128){ .lo = h.low64, .hi = h.high64 };
}

static void V(copy_hash)(void *dst, const void *src, size_t n,
			 struct fwp_hstate *a, struct fwp_hstate *b)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n) {
		size_t k = n < COPY_HASH_BLOCK ? n : COPY_HASH_BLOCK;

		if (d != s)
			memcpy(d, s, k);
		XXH3_128bits_update((XXH3_state_t *)a->opaque, d, k);
		if (b)
			XXH3_128bits_update((XXH3_state_t *)b->opaque, d, k);
		d += k;
		s += k;
		n -= k;
	}
}

const struct fwp_hash_ops V(fwp_hash_ops) = {
	.name = FWP_STR(FWP_HASH_VARIANT),
	.hash128 = V(hash128),
	.hash64 = V(hash64),
	.reset = V(reset),
	.update = V(update),
	.digest = V(digest),
	.copy_hash = V(copy_hash),
};
