/* SPDX-License-Identifier: MIT */
/*
 * vfio:BDF[,bar=N][,offset=O] — a BAR through VFIO: a type1 container (or no-IOMMU mode where
 * the kernel offers it) holding the device's IOMMU group, the device fd from the group, and an
 * mmap of the BAR's region. fwpush never lets the device DMA, so no memory is mapped for it.
 *
 * Register doorbells (target.h) on QEMU's ivshmem-doorbell device (docs/specs/ivshmem-spec.rst):
 * the host rings the BMC by writing its Doorbell register in BAR0, and the BMC rings back
 * through MSI-X vector 0, which VFIO turns into an eventfd the host sleeps on. Only that device
 * is written to: the register is its own, and on any other device BAR0 + 12 is something else.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "transport/transport.h"

/* QEMU's ivshmem device, and its Doorbell register. */
#define IVSHMEM_VENDOR		0x1af4
#define IVSHMEM_DEVICE		0x1110
#define IVSHMEM_DOORBELL	12	/* in BAR0: (peer ID << 16) | vector */

/* The command register's bus-master bit: an MSI-X message is a write by the device. */
#define PCI_COMMAND_MASTER	0x04

struct vfio {
	int container;
	int group;
	int device;
	bool ivshmem;		/* the device is an ivshmem (only then is BAR0 + 12 a doorbell) */
	int irq;		/* MSI-X vector 0's eventfd once doorbells are set up, else -1 */
	uint64_t doorbell;	/* the Doorbell register's offset in the device fd */
	uint32_t ring_value;
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

/* Sets bits (PCI_COMMAND_MEMORY, PCI_COMMAND_MASTER) in the command register. */
static int enable_command(int device, uint16_t bits)
{
	struct vfio_region_info cfg = { 0 };
	uint16_t cmd;
	int ret = region_info(device, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);

	if (ret)
		return ret;
	if (pread(device, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) != sizeof(cmd))
		return -EIO;
	if ((cmd & bits) == bits)
		return 0;
	cmd |= bits;
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
	ret = enable_command(v->device, PCI_COMMAND_MEMORY);
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
	v->container = v->group = v->device = v->irq = -1;
	v->ivshmem = d.vendor == IVSHMEM_VENDOR && d.device == IVSHMEM_DEVICE;
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
		close(v->device);	/* this also tears down the device's interrupts */
	if (v->irq >= 0)
		close(v->irq);
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	free(v);
}

/* Routes MSI-X vector 0 onto a new eventfd; -ENOTSUP when the device has no MSI-X. */
static int msix_to_eventfd(int device, int *efd)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	if (ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &info))
		return -errno;
	if (!info.count || !(info.flags & VFIO_IRQ_INFO_EVENTFD))
		return -ENOTSUP;
	*efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (*efd < 0)
		return -errno;
	*set = (struct vfio_irq_set){
		.argsz = sizeof(buf),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSIX_IRQ_INDEX,
		.start = 0,
		.count = 1,
	};
	memcpy(set->data, efd, sizeof(*efd));
	return ioctl(device, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

static int vfio_doorbell_setup(struct fwp_target *t, uint32_t ring_value)
{
	struct vfio_region_info bar0 = { 0 };
	struct vfio *v = t->priv;
	int ret;

	if (!v->ivshmem)
		return -ENOTSUP;
	if (v->irq >= 0)
		return -EALREADY;
	ret = region_info(v->device, VFIO_PCI_BAR0_REGION_INDEX, &bar0);
	if (ret)
		return ret;
	if (bar0.size < IVSHMEM_DOORBELL + sizeof(uint32_t) ||
	    !(bar0.flags & VFIO_REGION_INFO_FLAG_WRITE))
		return -ENOTSUP;
	ret = enable_command(v->device, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER) ?:
	      msix_to_eventfd(v->device, &v->irq);
	if (ret) {
		if (v->irq >= 0)
			close(v->irq);
		v->irq = -1;
		return ret;
	}
	v->doorbell = bar0.offset + IVSHMEM_DOORBELL;
	v->ring_value = ring_value;
	return 0;
}

static int vfio_ring(struct fwp_target *t)
{
	struct vfio *v = t->priv;
	ssize_t n;

	if (v->irq < 0)
		return -ENOTSUP;
	/* BAR0 is not mmap-able through VFIO (256 bytes, less than a page): a region write. */
	n = pwrite(v->device, &v->ring_value, sizeof(v->ring_value), (off_t)v->doorbell);
	if (n < 0)
		return -errno;
	return n == sizeof(v->ring_value) ? 0 : -EIO;
}

static int vfio_wait(struct fwp_target *t, uint64_t timeout_ns)
{
	struct vfio *v = t->priv;
	struct pollfd p = { .events = POLLIN };
	struct timespec ts = { .tv_sec = timeout_ns / 1000000000u,
			       .tv_nsec = timeout_ns % 1000000000u };
	uint64_t n;
	int ret;

	if (v->irq < 0)
		return -ENOTSUP;
	p.fd = v->irq;
	ret = ppoll(&p, 1, &ts, NULL);
	if (ret <= 0)
		return ret < 0 && errno != EINTR ? -errno : 0;
	/* Reading the eventfd consumes every interrupt that came since the last wait. */
	if (read(v->irq, &n, sizeof(n)) == (ssize_t)sizeof(n))
		return 1;
	return errno == EAGAIN ? 0 : -errno;
}

const struct fwp_transport_ops fwp_transport_vfio = {
	.scheme = "vfio",
	.open = vfio_open,
	.close = vfio_close,
	.doorbell_setup = vfio_doorbell_setup,
	.ring = vfio_ring,
	.wait = vfio_wait,
};
