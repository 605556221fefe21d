/* SPDX-License-Identifier: MIT */
/*
 * dpdk:BDF[,bar=N][,offset=O] — a BAR mapped by DPDK's PCI bus, linking only the EAL and the
 * PCI bus. fwpush registers itself as the PCI driver for that one device, starts the EAL with
 * an allow-list of it (no hugepages, no telemetry, no shared config), and keeps the BAR the bus
 * mapped through vfio-pci when it probes. The EAL starts once per process: one dpdk: target.
 * Built as the module fwpush-dpdk.so, so that only a process with a dpdk: target maps DPDK
 * (transport/module.h); a static build links this same file in instead.
 */
#include <errno.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/dpdk_22_11.h"
#include "transport/module.h"
#include "transport/transport.h"

struct dpdk {
	struct rte_pci_driver drv;	/* first: probe finds us from it */
	struct rte_pci_id ids[2];
	struct fwp_pci_loc loc;
	struct fwp_pci_dev pci;
	struct rte_pci_device *dev;
	int err;
	bool registered;
	bool eal_up;
};

/* Our declarations of DPDK's structures must agree with what the library filled in. */
static bool layout_agrees(const struct dpdk *d, const struct rte_pci_device *dev)
{
	unsigned dom, bus, slot, fn;

	if (sscanf(d->loc.bdf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return false;
	return dev->device.name == rte_dev_name(&dev->device) &&
	       dev->addr.domain == dom && dev->addr.bus == bus && dev->addr.devid == slot &&
	       dev->addr.function == fn && dev->id.vendor_id == d->pci.vendor &&
	       dev->id.device_id == d->pci.device &&
	       dev->mem_resource[d->loc.bar].len == d->pci.bar[d->loc.bar].size;
}

static int probe(struct rte_pci_driver *drv, struct rte_pci_device *dev)
{
	struct dpdk *d = (struct dpdk *)drv;

	if (!layout_agrees(d, dev)) {
		d->err = -ELIBBAD;
		return -1;
	}
	d->dev = dev;
	return 0;
}

static int forget(struct rte_pci_device *dev)
{
	(void)dev;
	return 0;
}

static int start_eal(struct dpdk *d)
{
	char *argv[] = { "fwpush", "--no-huge", "--no-shconf", "--no-telemetry",
			 "--log-level=4", "-a", d->loc.bdf, NULL };

	if (rte_eal_init(sizeof(argv) / sizeof(argv[0]) - 1, argv) < 0)
		return rte_errno == EALREADY ? -EALREADY : -ENOTCONN;
	d->eal_up = true;
	return d->err ? d->err : d->dev ? 0 : -ENOTCONN;
}

static int dpdk_open(struct fwp_target *t)
{
	struct rte_mem_resource *bar;
	struct dpdk *d;
	int ret;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	t->priv = d;
	ret = fwp_pci_loc_parse(t->arg, &d->loc) ?: fwp_pci_check(&d->loc, "vfio-pci", &d->pci);
	if (ret)
		return ret;
	d->ids[0] = (struct rte_pci_id){
		.class_id = RTE_CLASS_ANY_ID,
		.vendor_id = d->pci.vendor,
		.device_id = d->pci.device,
		.subsystem_vendor_id = RTE_PCI_ANY_ID,
		.subsystem_device_id = RTE_PCI_ANY_ID,
	};
	d->drv.driver.name = "fwpush";
	d->drv.probe = probe;
	d->drv.remove = forget;
	d->drv.id_table = d->ids;
	d->drv.drv_flags = RTE_PCI_DRV_NEED_MAPPING;
	rte_pci_register(&d->drv);
	d->registered = true;
	ret = start_eal(d);
	if (ret)
		return ret;
	bar = &d->dev->mem_resource[d->loc.bar];
	if (!bar->addr)
		return -ENOTSUP;
	/* Mapped by the bus through vfio-pci (uncached); rte_eal_cleanup() unmaps it. */
	return fwp_pci_place(t, bar->addr, bar->len, &d->loc);
}

static void dpdk_close(struct fwp_target *t)
{
	struct dpdk *d = t->priv;

	if (!d)
		return;
	if (d->eal_up)
		rte_eal_cleanup();
	if (d->registered)
		rte_pci_unregister(&d->drv);
	free(d);
}

const struct fwp_transport_ops fwp_transport_dpdk = {
	.scheme = "dpdk",
	.open = dpdk_open,
	.close = dpdk_close,
};

#ifdef FWP_MODULE
FWP_MODULE_EXPORT("dpdk", fwp_transport_dpdk);
#endif
