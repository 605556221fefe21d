/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "flash.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

struct bank {
	int fd;
	unsigned char *map;
	uint64_t map_len;
};

struct fwp_flash {
	char *path;
	char *staging_path;
	struct bank bank[2];
	int inactive;		/* index of the bank named staging_path */
	uint64_t size;		/* of the image being written */
};

static void bank_close(struct bank *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	if (b->fd >= 0)
		close(b->fd);
	b->map = NULL;
	b->map_len = 0;
	b->fd = -1;
}

int fwp_flash_open(const char *path, struct fwp_flash **out)
{
	struct fwp_flash *f = calloc(1, sizeof(*f));
	size_t n = strlen(path) + sizeof(".staging");

	if (!f)
		return -ENOMEM;
	f->bank[0].fd = f->bank[1].fd = -1;
	f->path = strdup(path);
	f->staging_path = malloc(n);
	if (!f->path || !f->staging_path) {
		fwp_flash_close(f);
		return -ENOMEM;
	}
	snprintf(f->staging_path, n, "%s.staging", path);
	*out = f;
	return 0;
}

void fwp_flash_close(struct fwp_flash *f)
{
	if (!f)
		return;
	bank_close(&f->bank[0]);
	bank_close(&f->bank[1]);
	free(f->path);
	free(f->staging_path);
	free(f);
}

/* Maps at least size bytes of the bank, in 2 MiB steps so similar images reuse the mapping. */
static int bank_map(struct bank *b, uint64_t size)
{
	uint64_t len = (size + (2u << 20) - 1) & ~((uint64_t)(2u << 20) - 1);
	void *p;

	if (b->map && b->map_len >= size)
		return 0;
	if (b->map)
		munmap(b->map, b->map_len);
	b->map = NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	b->map = p;
	b->map_len = len;
	return 0;
}

int fwp_flash_begin(struct fwp_flash *f, uint64_t size, unsigned char **staging)
{
	struct bank *b = &f->bank[f->inactive];
	int ret;

	if (b->fd < 0) {
		b->fd = open(f->staging_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (b->fd < 0)
			return -errno;
	}
	if (ftruncate(b->fd, size))
		return -errno;
	ret = bank_map(b, size);
	if (ret)
		return ret;
	/* One system call instead of a page fault per page; older kernels just fault. */
	madvise(b->map, size, MADV_POPULATE_WRITE);
	f->size = size;
	*staging = b->map;
	return 0;
}

static int sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return ret;
}

int fwp_flash_commit(struct fwp_flash *f)
{
	struct bank *b = &f->bank[f->inactive];

	if (msync(b->map, f->size, MS_SYNC) || fsync(b->fd))
		return -errno;
	if (renameat2(AT_FDCWD, f->staging_path, AT_FDCWD, f->path, RENAME_EXCHANGE)) {
		if (errno != ENOENT)
			return -errno;
		/* No active image yet: a plain rename, and no inactive bank until next time. */
		if (renameat2(AT_FDCWD, f->staging_path, AT_FDCWD, f->path, RENAME_NOREPLACE))
			return -errno;
		bank_close(&f->bank[!f->inactive]);
	}
	f->inactive = !f->inactive;
	return sync_dir_of(f->path);
}
