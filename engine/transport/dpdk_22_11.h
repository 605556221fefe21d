/* SPDX-License-Identifier: MIT */
/*
 * DPDK 22.11's driver-side PCI structures. Debian builds DPDK without the driver SDK, so the
 * header that defines them (bus_pci_driver.h) is not installed; like SPDK, fwpush carries its
 * own declarations for the one version it was checked against, and refuses any other: meson
 * asks pkg-config for exactly 22.11.x, and this header checks rte_version.h again.
 * transport_dpdk.c also checks the layout at run time against the public accessors.
 */
#ifndef FWP_DPDK_22_11_H
#define FWP_DPDK_22_11_H

#include <rte_bus_pci.h>
#include <rte_dev.h>
#include <rte_pci.h>
#include <rte_version.h>
#include <sys/queue.h>

#if RTE_VERSION < RTE_VERSION_NUM(22, 11, 0, 0) || RTE_VERSION >= RTE_VERSION_NUM(22, 12, 0, 0)
#error "engine/dpdk_22_11.h declares DPDK 22.11's PCI driver structures; this is another DPDK"
#endif

/* lib/eal/include/dev_driver.h */
struct rte_driver {
	TAILQ_ENTRY(rte_driver) next;
	const char *name;
	const char *alias;
};

struct rte_device {
	TAILQ_ENTRY(rte_device) next;
	const char *name;
	const char *bus_info;
	const struct rte_driver *driver;
	const struct rte_bus *bus;
	int numa_node;
	struct rte_devargs *devargs;
};

/* drivers/bus/pci/bus_pci_driver.h */
enum rte_pci_kernel_driver {
	RTE_PCI_KDRV_UNKNOWN = 0,
	RTE_PCI_KDRV_IGB_UIO,
	RTE_PCI_KDRV_VFIO,
	RTE_PCI_KDRV_UIO_GENERIC,
	RTE_PCI_KDRV_NIC_UIO,
	RTE_PCI_KDRV_NONE,
	RTE_PCI_KDRV_NET_UIO,
};

struct rte_pci_device {
	TAILQ_ENTRY(rte_pci_device) next;
	struct rte_device device;
	struct rte_pci_addr addr;
	struct rte_pci_id id;
	struct rte_mem_resource mem_resource[PCI_MAX_RESOURCE];
	struct rte_intr_handle *intr_handle;
	struct rte_pci_driver *driver;
	uint16_t max_vfs;
	enum rte_pci_kernel_driver kdrv;
	char name[PCI_PRI_STR_SIZE + 1];
	struct rte_intr_handle *vfio_req_intr_handle;
};

typedef int (rte_pci_probe_t)(struct rte_pci_driver *, struct rte_pci_device *);
typedef int (rte_pci_remove_t)(struct rte_pci_device *);
typedef int (pci_dma_map_t)(struct rte_pci_device *, void *, uint64_t, size_t);
typedef int (pci_dma_unmap_t)(struct rte_pci_device *, void *, uint64_t, size_t);

struct rte_pci_driver {
	TAILQ_ENTRY(rte_pci_driver) next;
	struct rte_driver driver;
	rte_pci_probe_t *probe;
	rte_pci_remove_t *remove;
	pci_dma_map_t *dma_map;
	pci_dma_unmap_t *dma_unmap;
	const struct rte_pci_id *id_table;
	uint32_t drv_flags;
};

#define RTE_PCI_DRV_NEED_MAPPING	0x0001

/* Exported with the INTERNAL version tag: for drivers, which is what fwpush is here. */
void rte_pci_register(struct rte_pci_driver *driver);
void rte_pci_unregister(struct rte_pci_driver *driver);

#endif
