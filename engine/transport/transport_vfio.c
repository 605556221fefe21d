/* SPDX-License-Identifier: MIT */
/*
 * vfio:BDF[,bar=N][,offset=O] — a BAR through VFIO: a type1 container (or no-IOMMU mode where
 * the kernel offers it) holding the device's IOMMU group, the device fd from the group, and an
 * mmap of the BAR's region. fwpush never lets the device DMA, so no memory is mapped for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "transport/transport.h"

struct vfio {
	int container;
	int group;
	int device;
};

/* Opens /dev/vfio/GROUP, or /dev/vfio/noiommu-GROUP; *noiommu says which. */
static int open_group(const struct fwp_pci_dev *d, bool *noiommu)
{
	char path[64];
	int fd;

	if (d->iommu_group < 0)
		return -ENXIO;
	snprintf(path, sizeof(path), "/dev/vfio/%d", d->iommu_group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	*noiommu = false;
	if (fd < 0 && errno == ENOENT) {
		snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", d->iommu_group);
		fd = open(path, O_RDWR | O_CLOEXEC);
		*noiommu = true;
	}
	if (fd < 0)
		return errno == ENOENT ? -ENXIO : -errno;
	return fd;
}

static int attach_group(struct vfio *v, bool noiommu)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	unsigned long type = VFIO_NOIOMMU_IOMMU;

	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return -EPROTONOSUPPORT;
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &status))
		return -errno;
	/* Every device in the group must be bound to vfio-pci (or to no driver). */
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -EXDEV;
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container))
		return -errno;
	if (!noiommu && ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0)
		type = VFIO_TYPE1v2_IOMMU;
	else if (!noiommu && ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0)
		type = VFIO_TYPE1_IOMMU;
	else if (!noiommu)
		return -ENOPROTOOPT;	/* vfio_iommu_type1 is not loaded */
	if (ioctl(v->container, VFIO_SET_IOMMU, type))
		return -errno;
	return 0;
}

/* Region info; asked again with more room when the kernel has capabilities to add. */
static int region_info(int device, unsigned index, struct vfio_region_info *out)
{
	uint32_t argsz = sizeof(*out);
	struct vfio_region_info *ri;
	int ret;

	for (;;) {
		ri = calloc(1, argsz);
		if (!ri)
			return -ENOMEM;
		ri->argsz = argsz;
		ri->index = index;
		ret = ioctl(device, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
		if (ret || ri->argsz <= argsz)
			break;
		argsz = ri->argsz;
		free(ri);
	}
	if (!ret)
		*out = *ri;
	free(ri);
	return ret;
}

static int enable_memory(int device)
{
	struct vfio_region_info cfg = { 0 };
	uint16_t cmd;
	int ret = region_info(device, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);

	if (ret)
		return ret;
	if (pread(device, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) != sizeof(cmd))
		return -EIO;
	if (cmd & PCI_COMMAND_MEMORY)
		return 0;
	cmd |= PCI_COMMAND_MEMORY;
	return pwrite(device, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) == sizeof(cmd)
	       ? 0 : -EIO;
}

static int map_bar(struct fwp_target *t, const struct vfio *v, const struct fwp_pci_loc *loc)
{
	struct vfio_region_info bar = { 0 };
	void *map;
	int ret;

	ret = region_info(v->device, VFIO_PCI_BAR0_REGION_INDEX + loc->bar, &bar);
	if (ret)
		return ret;
	if (!bar.size || !(bar.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -ENOTSUP;
	ret = enable_memory(v->device);
	if (ret)
		return ret;
	map = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, v->device, bar.offset);
	if (map == MAP_FAILED)
		return errno == EINVAL ? -ENOTSUP : -errno;
	return fwp_pci_place(t, map, bar.size, loc);
}

static int vfio_open(struct fwp_target *t)
{
	struct fwp_pci_loc loc;
	struct fwp_pci_dev d;
	struct vfio *v;
	bool noiommu;
	int ret;

	ret = fwp_pci_loc_parse(t->arg, &loc) ?: fwp_pci_check(&loc, "vfio-pci", &d);
	if (ret)
		return ret;
	v = malloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->container = v->group = v->device = -1;
	t->priv = v;
	v->group = open_group(&d, &noiommu);
	if (v->group < 0)
		return v->group;
	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (v->container < 0)
		return errno == ENOENT ? -ENXIO : -errno;
	ret = attach_group(v, noiommu);
	if (ret)
		return ret;
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, loc.bdf);
	if (v->device < 0)
		return -errno;
	return map_bar(t, v, &loc);
}

static void vfio_close(struct fwp_target *t)
{
	struct vfio *v = t->priv;

	if (t->map)
		munmap(t->map, t->map_len);
	if (!v)
		return;
	if (v->device >= 0)
		close(v->device);
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	free(v);
}

const struct fwp_transport_ops fwp_transport_vfio = {
	.scheme = "vfio",
	.open = vfio_open,
	.close = vfio_close,
};
