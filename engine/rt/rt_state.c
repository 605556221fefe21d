/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hash.h"
#include "rt/rt_state.h"

int fwp_rt_paths(const char *name, char *img, char *state, size_t len)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 64 || name[0] == '.')
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	if (img)
		snprintf(img, len, "/dev/shm/fwpush-rt-%s.img", name);
	if (state)
		snprintf(state, len, "/dev/shm/fwpush-rt-%s.state", name);
	return 0;
}

static uint32_t slot_size_for(uint32_t xsave_size)
{
	return (FWP_RT_SLOT_HDR + xsave_size + 63) & ~63u;
}

static void format(struct fwp_rt_hdr *h, uint32_t xsave_size)
{
	struct fwp_rt_desc keep = h->desc;
	uint32_t mailbox = h->magic == FWP_RT_STATE_MAGIC ? h->mailbox : 0;

	memset(h, 0, sizeof(*h));
	h->version = FWP_RT_STATE_VERSION;
	h->hdr_size = FWP_RT_HDR_SIZE;
	h->max_cpus = FWP_RT_MAX_CPUS;
	h->slot_size = slot_size_for(xsave_size);
	h->xsave_size = xsave_size;
	/* A descriptor written under this layout's predecessor stays valid: it is sealed. */
	if (fwp_rt_desc_ok(&keep)) {
		h->desc = keep;
		h->mailbox = mailbox & FWP_RT_MB_STAGED;
	}
	h->magic = FWP_RT_STATE_MAGIC;
}

int fwp_rt_state_open(const char *name, uint32_t xsave_size, struct fwp_rt_state *st)
{
	size_t size = FWP_RT_HDR_SIZE + (size_t)FWP_RT_MAX_CPUS * slot_size_for(xsave_size);
	char path[128];
	struct stat sb;
	void *p;
	int ret;

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	ret = fwp_rt_paths(name, NULL, path, sizeof(path));
	if (ret)
		return ret;
	st->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->fd < 0 || fstat(st->fd, &sb) || ((size_t)sb.st_size < size && ftruncate(st->fd, size)))
		goto err;
	/* Populated: a page fault in a handler would land inside the blackout. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, st->fd, 0);
	if (p == MAP_FAILED)
		goto err;
	st->size = size;
	st->hdr = p;
	st->slots = (unsigned char *)p + FWP_RT_HDR_SIZE;
	if (st->hdr->magic != FWP_RT_STATE_MAGIC || st->hdr->version != FWP_RT_STATE_VERSION ||
	    st->hdr->xsave_size != xsave_size || st->hdr->slot_size != slot_size_for(xsave_size))
		format(st->hdr, xsave_size);
	return 0;
err:
	ret = -errno;
	fwp_rt_state_close(st);
	return ret;
}

void fwp_rt_state_close(struct fwp_rt_state *st)
{
	if (st->hdr)
		munmap(st->hdr, st->size);
	if (st->fd >= 0)
		close(st->fd);
	st->hdr = NULL;
	st->fd = -1;
}

void fwp_rt_desc_seal(struct fwp_rt_desc *d)
{
	d->check = fwp_xxh64(d, offsetof(struct fwp_rt_desc, check));
}

bool fwp_rt_desc_ok(const struct fwp_rt_desc *d)
{
	return d->path[0] && memchr(d->path, 0, sizeof(d->path)) &&
	       d->check == fwp_xxh64(d, offsetof(struct fwp_rt_desc, check));
}
