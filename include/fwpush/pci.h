/* SPDX-License-Identifier: MIT */
/*
 * PCI devices as sysfs describes them: what `fwpush list` shows, and what the vfio:, pci: and
 * dpdk: targets check before they touch a device.
 */
#ifndef FWPUSH_PCI_H
#define FWPUSH_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* What this header declares is libfwpush's ABI: exported from libfwpush.so. */
#pragma GCC visibility push(default)

#define FWP_SYSFS_PCI		"/sys/bus/pci/devices"
#define FWP_PCI_BARS		6
#define FWP_PCI_BDF_LEN		13	/* "0000:00:03.0" and its NUL */

struct fwp_pci_bar {
	uint64_t start;
	uint64_t size;			/* 0: not implemented */
	bool io;			/* an I/O port BAR: never a window */
	bool prefetch;			/* prefetchable: sysfs offers a write-combining mapping */
	bool is64;
};

struct fwp_pci_dev {
	char bdf[FWP_PCI_BDF_LEN];
	uint16_t vendor;
	uint16_t device;
	uint32_t class_code;
	char driver[32];		/* "" when no driver is bound */
	int iommu_group;		/* -1 without an IOMMU group */
	struct fwp_pci_bar bar[FWP_PCI_BARS];
};

/* Canonical "DDDD:BB:DD.F" from "DDDD:BB:DD.F" or "BB:DD.F" (len bytes of s). -EINVAL if not. */
int fwp_pci_bdf_parse(const char *s, size_t len, char out[FWP_PCI_BDF_LEN]);

/*
 * Reads one device from a sysfs PCI devices directory (NULL: FWP_SYSFS_PCI).
 * -ENODEV: no such device.
 */
int fwp_pci_read(const char *sysfs, const char *bdf, struct fwp_pci_dev *d);

/* Calls cb for every device, in address order; stops at (and returns) cb's first nonzero. */
int fwp_pci_scan(const char *sysfs, int (*cb)(const struct fwp_pci_dev *d, void *arg),
		 void *arg);

/*
 * Why the last loadable module of this thread failed to load: one line naming it, with
 * dlerror()'s reason. Opening a dpdk: target whose module does not load fails with -ELIBACC.
 */
const char *fwp_module_error(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
