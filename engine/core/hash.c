/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"

extern const struct fwp_hash_ops fwp_hash_ops_generic;
#ifdef FWP_HASH_X86
extern const struct fwp_hash_ops fwp_hash_ops_avx2;
extern const struct fwp_hash_ops fwp_hash_ops_avx512;
#endif

static const struct fwp_hash_ops *selected;

static int supported(const struct fwp_hash_ops *ops)
{
#ifdef FWP_HASH_X86
	/* libgcc's checks include the OS having enabled the wider register state (XCR0). */
	if (ops == &fwp_hash_ops_avx512)
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
	if (ops == &fwp_hash_ops_avx2)
		return __builtin_cpu_supports("avx2");
#endif
	return ops == &fwp_hash_ops_generic;
}

static const struct fwp_hash_ops *const all_ops[] = {
#ifdef FWP_HASH_X86
	&fwp_hash_ops_avx512,
	&fwp_hash_ops_avx2,
#endif
	&fwp_hash_ops_generic,
};

const struct fwp_hash_ops *fwp_hash(void)
{
	const struct fwp_hash_ops *ops = __atomic_load_n(&selected, __ATOMIC_ACQUIRE);
	size_t i;

	if (ops)
		return ops;
	/* The list ends with the generic variant, which every CPU supports. */
	for (i = 0; !supported(all_ops[i]); i++)
		;
	ops = all_ops[i];
	__atomic_store_n(&selected, ops, __ATOMIC_RELEASE);
	return ops;
}

int fwp_hash_select(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(all_ops) / sizeof(all_ops[0]); i++) {
		if (strcmp(all_ops[i]->name, name))
			continue;
		if (!supported(all_ops[i]))
			return -ENOTSUP;
		__atomic_store_n(&selected, all_ops[i], __ATOMIC_RELEASE);
		return 0;
	}
	return -ENOENT;
}

const char *fwp_xxh3_impl(void)
{
	return fwp_hash()->name;
}

void fwp_hash128_hex(const struct fwp_hash128 *h, char out[33])
{
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h->hi, (unsigned long long)h->lo);
}

int fwp_hash128_parse(const char *hex, struct fwp_hash128 *h)
{
	uint64_t w[2] = { 0, 0 };
	int i;

	if (strlen(hex) != 32)
		return -EINVAL;
	for (i = 0; i < 32; i++) {
		char c = hex[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		w[i / 16] = w[i / 16] << 4 | d;
	}
	h->hi = w[0];
	h->lo = w[1];
	return 0;
}

int fwp_hash_fd(int fd, struct fwp_hash128 *out)
{
	enum { BLOCK = 64 << 10 };
	unsigned char *buf = malloc(BLOCK);
	struct fwp_hstate hs;
	ssize_t n = 1;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	fwp_hash()->reset(&hs);
	while (n > 0) {
		n = read(fd, buf, BLOCK);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n < 0)
			ret = -errno;
		else if (n > 0)
			fwp_hash()->update(&hs, buf, n);
	}
	free(buf);
	if (!ret)
		*out = fwp_hash()->digest(&hs);
	return ret;
}
