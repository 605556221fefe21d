/* SPDX-License-Identifier: MIT */
/*
 * pci:BDF[,bar=N][,offset=O] — a BAR through sysfs (resourceN, or resourceN_wc where the BAR is
 * prefetchable): for root on a machine without VFIO. Also the argument parsing and device
 * checks that vfio: and dpdk: share.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwpush/parse.h"
#include "fwpush/wire.h"
#include "transport/bar_opts.h"
#include "transport/transport.h"


int fwp_pci_loc_parse(const char *arg, struct fwp_pci_loc *loc)
{
	const char *opt = strchr(arg, ',');
	struct fwp_bar_opts o;

	memset(loc, 0, sizeof(*loc));
	if (fwp_pci_bdf_parse(arg, opt ? (size_t)(opt - arg) : strlen(arg), loc->bdf) ||
	    fwp_bar_opts_parse(opt, &o))
		return -EINVAL;
	loc->bar = o.bar < 0 ? 0 : (unsigned)o.bar;
	loc->offset = o.offset;
	loc->offset_given = o.offset_given;
	return 0;
}

int fwp_pci_check(const struct fwp_pci_loc *loc, const char *driver, struct fwp_pci_dev *d)
{
	int ret = fwp_pci_read(NULL, loc->bdf, d);

	if (ret)
		return ret;
	if (driver && strcmp(d->driver, driver))
		return -ENXIO;
	if (!d->bar[loc->bar].size || d->bar[loc->bar].io)
		return -ENOTSUP;
	return 0;
}

int fwp_pci_place(struct fwp_target *t, void *map, size_t len, const struct fwp_pci_loc *loc)
{
	size_t offset = loc->offset;

	t->map = map;
	t->map_len = len;
	/* Not told where: the first published window at a 4096-aligned offset (PROTOCOL.md 1.3). */
	if (!loc->offset_given && fwp_window_find(map, len, &offset))
		offset = 0;	/* none yet: where a BMC SHOULD put it, waited for there */
	if (offset + sizeof(struct fwp_win_ctrl) > len)
		return -EMSGSIZE;
	t->base = (unsigned char *)map + offset;
	t->size = len - offset;
	return 0;
}

/* sysfs hands out a BAR of a device whose memory decoding is off; turn it on. */
static int enable_memory(const char *dir)
{
	char path[512];
	uint16_t cmd;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/config", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, &cmd, sizeof(cmd), PCI_COMMAND) != sizeof(cmd))
		ret = -EIO;
	close(fd);
	if (ret || (cmd & PCI_COMMAND_MEMORY))
		return ret;
	snprintf(path, sizeof(path), "%s/enable", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write(fd, "1", 1) == 1 ? 0 : -errno;
	close(fd);
	return ret;
}

static int pci_open(struct fwp_target *t)
{
	struct fwp_pci_loc loc;
	struct fwp_pci_dev d;
	char dir[64], path[96];
	struct stat st;
	void *map;
	int ret;

	ret = fwp_pci_loc_parse(t->arg, &loc) ?: fwp_pci_check(&loc, NULL, &d);
	if (ret)
		return ret;
	snprintf(dir, sizeof(dir), FWP_SYSFS_PCI "/%s", loc.bdf);
	/* A prefetchable BAR can be mapped write-combining: posted, merged writes. */
	snprintf(path, sizeof(path), "%s/resource%u_wc", dir, loc.bar);
	t->fd = open(path, O_RDWR | O_CLOEXEC);
	if (t->fd >= 0) {
		t->flags = FWP_TARGET_WC;
	} else {
		snprintf(path, sizeof(path), "%s/resource%u", dir, loc.bar);
		t->fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (t->fd < 0)
		return errno == ENOENT ? -ENOTSUP : -errno;
	if (fstat(t->fd, &st))
		return -errno;
	ret = enable_memory(dir);
	if (ret)
		return ret;
	map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (map == MAP_FAILED)
		return errno == EINVAL || errno == ENODEV ? -ENOTSUP : -errno;
	return fwp_pci_place(t, map, st.st_size, &loc);
}

static void pci_close(struct fwp_target *t)
{
	if (t->map)
		munmap(t->map, t->map_len);
	if (t->fd >= 0)
		close(t->fd);
}

const struct fwp_transport_ops fwp_transport_pci = {
	.scheme = "pci",
	.open = pci_open,
	.close = pci_close,
};
