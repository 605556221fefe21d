/* SPDX-License-Identifier: MIT */
/*
 * XXH3 at the best instruction set this CPU has. xxhash.h is compiled inline once per target
 * (engine/hash_impl.c: SSE2, AVX2, AVX-512) and the first call picks one: Debian's shared
 * libxxhash has no runtime dispatch and runs the SSE2 code everywhere.
 */
#ifndef FWP_HASH_H
#define FWP_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "fwpush/hash.h"

/* Streaming state; holds an XXH3_state_t (checked by a static assert in hash_impl.c). */
struct fwp_hstate {
	_Alignas(64) unsigned char opaque[640];
};

struct fwp_hash_ops {
	const char *name;
	struct fwp_hash128 (*hash128)(const void *p, size_t n);
	uint64_t (*hash64)(const void *p, size_t n);
	void (*reset)(struct fwp_hstate *s);
	void (*update)(struct fwp_hstate *s, const void *p, size_t n);
	struct fwp_hash128 (*digest)(const struct fwp_hstate *s);
	/* Copies n bytes and feeds what landed in dst to a and (if not NULL) b, block by block
	 * while each block is still in cache. dst == src hashes in place. */
	void (*copy_hash)(void *dst, const void *src, size_t n,
			  struct fwp_hstate *a, struct fwp_hstate *b);
};

/* The implementation in use. */
const struct fwp_hash_ops *fwp_hash(void);

/* Forces one implementation by name ("sse2", "avx2", "avx512"); -ENOTSUP if this CPU lacks it. */
int fwp_hash_select(const char *name);

#define fwp_xxh128(p, n)	(fwp_hash()->hash128((p), (n)))
#define fwp_xxh64(p, n)		(fwp_hash()->hash64((p), (n)))

static inline int fwp_hash128_eq(const struct fwp_hash128 *a, const struct fwp_hash128 *b)
{
	return a->lo == b->lo && a->hi == b->hi;
}

#endif
