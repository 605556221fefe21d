/* SPDX-License-Identifier: MIT */
/*
 * XXH3-128, the hash of every chunk and of whole images: the value, its canonical text, and
 * which implementation this CPU runs.
 */
#ifndef FWPUSH_HASH_H
#define FWPUSH_HASH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* What this header declares is libfwpush's ABI: exported from libfwpush.so. */
#pragma GCC visibility push(default)

struct fwp_hash128 {
	uint64_t lo;
	uint64_t hi;
};

/* The XXH3 implementation this CPU runs: "avx512", "avx2" or "generic". */
const char *fwp_xxh3_impl(void);

/* Canonical big-endian hex, as `xxhsum -H2` prints it: 32 characters and a NUL. */
void fwp_hash128_hex(const struct fwp_hash128 *h, char out[33]);
/* Parses 32 hex digits; -EINVAL otherwise. */
int fwp_hash128_parse(const char *hex, struct fwp_hash128 *h);

/* XXH3-128 of what fd reads from its offset to its end (read(2) in 64 KiB blocks); 0 or -errno. */
int fwp_hash_fd(int fd, struct fwp_hash128 *out);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
