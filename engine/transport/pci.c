/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwpush/pci.h"

/* include/linux/ioport.h: the flags column of sysfs "resource". */
#define IORESOURCE_IO		0x00000100ull
#define IORESOURCE_MEM		0x00000200ull
#define IORESOURCE_PREFETCH	0x00002000ull
#define IORESOURCE_MEM_64	0x00100000ull

int fwp_pci_bdf_parse(const char *s, size_t len, char out[FWP_PCI_BDF_LEN])
{
	unsigned dom = 0, bus, dev, fn;
	char buf[32];
	int n = 0;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sscanf(buf, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n) != 4 || buf[n]) {
		dom = 0;
		n = 0;
		if (sscanf(buf, "%2x:%2x.%1x%n", &bus, &dev, &fn, &n) != 3 || buf[n])
			return -EINVAL;
	}
	if (dev > 0x1f || fn > 7 || strchr(buf, '-') || strchr(buf, '+') || strchr(buf, ' '))
		return -EINVAL;
	snprintf(out, FWP_PCI_BDF_LEN, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/* Reads a small sysfs attribute into buf (NUL-terminated, newline stripped). */
static int read_attr(const char *dir, const char *name, char *buf, size_t len)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static uint64_t attr_hex(const char *dir, const char *name)
{
	char buf[32];

	return read_attr(dir, name, buf, sizeof(buf)) ? 0 : strtoull(buf, NULL, 16);
}

/* The last path component a symlink points to ("vfio-pci", "12"), or "" if none. */
static void link_name(const char *dir, const char *name, char *out, size_t len)
{
	char path[512], target[512];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = readlink(path, target, sizeof(target) - 1);
	out[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	snprintf(out, len, "%s", basename(target));
}

static void read_bars(const char *dir, struct fwp_pci_dev *d)
{
	unsigned long long start, end, flags;
	char path[512];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/resource", dir);
	f = fopen(path, "re");
	if (!f)
		return;
	for (i = 0; i < FWP_PCI_BARS; i++) {
		struct fwp_pci_bar *b = &d->bar[i];

		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			break;
		if (!(flags & (IORESOURCE_IO | IORESOURCE_MEM)) || end <= start)
			continue;
		b->start = start;
		b->size = end - start + 1;
		b->io = flags & IORESOURCE_IO;
		b->prefetch = flags & IORESOURCE_PREFETCH;
		b->is64 = flags & IORESOURCE_MEM_64;
	}
	fclose(f);
}

int fwp_pci_read(const char *sysfs, const char *bdf, struct fwp_pci_dev *d)
{
	char dir[256], group[16];
	int n;

	n = snprintf(dir, sizeof(dir), "%s/%s", sysfs ? sysfs : FWP_SYSFS_PCI, bdf);
	memset(d, 0, sizeof(*d));
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	if (access(dir, F_OK))
		return -ENODEV;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->vendor = (uint16_t)attr_hex(dir, "vendor");
	d->device = (uint16_t)attr_hex(dir, "device");
	d->class_code = (uint32_t)attr_hex(dir, "class");
	link_name(dir, "driver", d->driver, sizeof(d->driver));
	link_name(dir, "iommu_group", group, sizeof(group));
	d->iommu_group = group[0] ? atoi(group) : -1;
	read_bars(dir, d);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_bdf(const struct dirent *e)
{
	char bdf[FWP_PCI_BDF_LEN];

	return fwp_pci_bdf_parse(e->d_name, strlen(e->d_name), bdf) == 0;
}

int fwp_pci_scan(const char *sysfs, int (*cb)(const struct fwp_pci_dev *d, void *arg),
		 void *arg)
{
	struct dirent **names;
	struct fwp_pci_dev d;
	int n, i, ret = 0;

	n = scandir(sysfs ? sysfs : FWP_SYSFS_PCI, &names, is_bdf, by_name);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		if (!ret && !fwp_pci_read(sysfs, names[i]->d_name, &d))
			ret = cb(&d, arg);
		free(names[i]);
	}
	free(names);
	return ret;
}
