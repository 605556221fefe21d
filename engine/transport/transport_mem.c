/* SPDX-License-Identifier: MIT */
/*
 * mem:ADDR[,size=SIZE][,dev=PATH] — the window is physical memory at ADDR, mapped through a
 * memory device: /dev/mem by default, or PATH (the rest of the URI).
 *
 * Why a transport of its own: on a real BMC the window is a carve-out of the BMC's own DRAM
 * (a reserved-memory region, or RAM kept from the kernel with mem=) that the host reaches
 * through the SoC's PCIe bridge. The BMC has no PCI device of its own to map and no shared
 * file: only a physical address. /dev/mem opened with O_SYNC maps it uncached (on Arm, memory
 * the kernel does not manage is Device/Strongly-ordered whatever the flags), which is what
 * PROTOCOL.md 9 asks of a BMC that does not maintain its caches by hand; the window is then
 * device memory (no FWP_TARGET_CACHED): fences before doorbells, aligned word copies.
 *
 * The same transport serves the other side of an emulated BMC: dev=PATH names a file that *is*
 * the BMC's physical memory (QEMU's guest RAM, a memory-backend-file with share=on), and ADDR
 * is then an offset into that file (guest address minus the DRAM base). There the mapping is
 * ordinary cached memory. No locks: a BMC here cannot be seen to be alive other than by its
 * heartbeat (PROTOCOL.md 6.1, 7), and the BMC side never creates or removes anything: it maps
 * memory that exists, and fwp_win_publish formats it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwpush/parse.h"
#include "fwpush/wire.h"
#include "transport/transport.h"

#define MEM_DEV		"/dev/mem"
/* A window found by its control block (no size=) is believed up to this size. */
#define MEM_MAX		(1ull << 30)

struct mem_loc {
	uint64_t addr;
	uint64_t size;		/* 0: not given */
	const char *dev;
};

/* ADDR (decimal or 0x hex, page-aligned), then size=SIZE, then dev=PATH (the rest). */
static int mem_parse(const char *arg, struct mem_loc *loc)
{
	const char *p;
	char *end, buf[32];
	size_t n;

	memset(loc, 0, sizeof(*loc));
	loc->dev = MEM_DEV;
	if (*arg < '0' || *arg > '9')
		return -EINVAL;
	errno = 0;
	loc->addr = strtoull(arg, &end, 0);
	if (errno || (*end && *end != ',') || loc->addr % FWP_PAGE)
		return -EINVAL;
	for (p = end; *p; ) {
		if (!strncmp(p, ",dev=", 5) && p[5] == '/') {
			loc->dev = p + 5;
			break;
		}
		if (strncmp(p, ",size=", 6))
			return -EINVAL;
		p += 6;
		n = strcspn(p, ",");
		if (n == 0 || n >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, p, n);
		buf[n] = '\0';
		if (fwp_parse_size(buf, &loc->size) || !loc->size || loc->size % FWP_PAGE)
			return -EINVAL;
		p += n;
	}
	return 0;
}

static int mem_map(struct fwp_target *t, uint64_t addr, uint64_t size)
{
	void *p;

	if (size > SIZE_MAX || (uint64_t)(off_t)addr != addr)
		return -EMSGSIZE;
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, (off_t)addr);
	if (p == MAP_FAILED)
		return -errno;
	t->map = t->base = p;
	t->map_len = t->size = (size_t)size;
	return 0;
}

/* The window size its control block claims, read through one page: 0 if none is published. */
static int mem_probe(struct fwp_target *t, uint64_t addr, uint64_t *size)
{
	const struct fwp_win_ctrl *c;
	int ret = mem_map(t, addr, FWP_PAGE);

	if (ret)
		return ret;
	c = t->base;
	*size = c->magic == FWP_WINDOW_MAGIC && c->epoch ? c->window_size : 0;
	munmap(t->map, t->map_len);
	t->map = t->base = NULL;
	t->map_len = t->size = 0;
	return 0;
}

/* Opens the device and maps the window: want bytes (0: as large as it is). */
static int mem_start(struct fwp_target *t, uint64_t want)
{
	struct mem_loc loc;
	struct stat st;
	uint64_t size;
	int ret;

	ret = mem_parse(t->arg, &loc);
	if (ret)
		return ret;
	t->fd = open(loc.dev, O_RDWR | O_SYNC | O_CLOEXEC | O_NOCTTY);
	if (t->fd < 0)
		return -errno;
	if (fstat(t->fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return -ENODEV;
	if (S_ISREG(st.st_mode) && loc.addr >= (uint64_t)st.st_size)
		return -EMSGSIZE;
	size = loc.size;
	if (!size && S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size - loc.addr;
	if (!size && !want) {
		ret = mem_probe(t, loc.addr, &size);
		if (ret)
			return ret;
		if (!size)
			return -EAGAIN;		/* nothing published there yet */
		if (size % FWP_PAGE || size > MEM_MAX)
			return -EMSGSIZE;
	}
	if (want) {
		if (size && size < want)
			return -EMSGSIZE;
		size = want;
	}
	if (S_ISREG(st.st_mode) && size > (uint64_t)st.st_size - loc.addr)
		return -EMSGSIZE;
	ret = mem_map(t, loc.addr, size);
	if (ret)
		return ret;
	t->flags = S_ISREG(st.st_mode) ? FWP_TARGET_CACHED : 0;
	return 0;
}

static int mem_open(struct fwp_target *t)
{
	return mem_start(t, 0);
}

static int mem_create(struct fwp_target *t, size_t size)
{
	int ret = mem_start(t, size);

	t->created = !ret;
	return ret;
}

static void mem_close(struct fwp_target *t)
{
	if (t->map)
		munmap(t->map, t->map_len);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

const struct fwp_transport_ops fwp_transport_mem = {
	.scheme = "mem",
	.open = mem_open,
	.create = mem_create,
	.close = mem_close,
};
