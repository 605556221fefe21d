/* SPDX-License-Identifier: MIT */
/*
 * Targets: where a window lives. A target URI is SCHEME:ARGS:
 *   shm:NAME[,ivshmem=SOCKET]     a POSIX shared-memory object (/dev/shm/NAME) that host and
 *                                 emulated BMC both map; a BMC given SOCKET also serves QEMU's
 *                                 ivshmem protocol there (transport/ivshmem.h): a guest's
 *                                 ivshmem-doorbell device maps the window and rings the BMC
 *   vfio:BDF[,bar=N][,offset=O]   a PCI BAR through vfio-pci
 *   pci:BDF[,bar=N][,offset=O]    a PCI BAR through sysfs (root)
 *   dpdk:BDF[,bar=N][,offset=O]   a PCI BAR mapped by DPDK's PCI bus (builds with DPDK)
 *   mem:ADDR[,size=S][,dev=PATH]  physical memory at ADDR through /dev/mem: a BMC's window in
 *                                 its own DRAM; or dev=PATH, a file that is a BMC's memory
 *                                 (QEMU's shared guest RAM), ADDR an offset into it
 * The pipeline only sees a mapped window, whatever the transport.
 */
#ifndef FWPUSH_TARGET_H
#define FWPUSH_TARGET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fwp_target;

enum fwp_target_flags {
	/* The window is ordinary cached memory: reading it back is as cheap as writing it. */
	FWP_TARGET_CACHED	= 1u << 0,
	/*
	 * The window is mapped write-combining (pci: on a prefetchable BAR). The host treats it
	 * like any window that is not cached: streaming stores, a fence before each doorbell.
	 */
	FWP_TARGET_WC		= 1u << 1,
};

/*
 * Host side: maps an existing window and takes the host lock on it.
 * -EINVAL: malformed URI; -EAFNOSUPPORT: unknown scheme; -ENOENT: no such window;
 * -EAGAIN: the window exists but is not sized yet; -EBUSY: another host holds it;
 * -EACCES: no permission; other -errno from the system.
 * PCI transports: -ENODEV: no such device; -ENXIO: not bound to vfio-pci (vfio:, dpdk:);
 * -EXDEV: IOMMU group not viable; -ENOPROTOOPT: no VFIO IOMMU backend loaded; -ENOTSUP: the
 * BAR is not a mappable memory BAR; -EMSGSIZE: the offset leaves no room for a window;
 * dpdk: -ENOTCONN: the EAL did not start or probe the device; -EALREADY: the EAL already ran
 * in this process; -ELIBBAD: DPDK's structures are not the 22.11 ones this build declares;
 * -ELIBACC: its module (fwpush-dpdk.so) did not load, fwp_module_error() says why.
 */
int fwp_target_open(const char *uri, struct fwp_target **out);

/*
 * BMC side: creates the window memory (size bytes, zeroed) and takes the BMC lock.
 * -EADDRINUSE: a live BMC already serves it; -EOPNOTSUPP: this transport cannot create.
 */
int fwp_target_create(const char *uri, size_t size, struct fwp_target **out);

/* Unmaps and unlocks; a created window is also removed. NULL is fine. */
void fwp_target_close(struct fwp_target *t);

/*
 * 1 if a BMC is known to be attached to the window (the shm: BMC's lock); 0 if the transport
 * cannot tell (a PCI BAR; a BMC that takes no lock; a window left by a BMC that died: the
 * window's heartbeat tells them apart, PROTOCOL.md 6.1); or -errno: the window is lost.
 */
int fwp_target_peer_alive(const struct fwp_target *t);

void *fwp_target_base(const struct fwp_target *t);
size_t fwp_target_size(const struct fwp_target *t);
unsigned fwp_target_flags(const struct fwp_target *t);
const char *fwp_target_uri(const struct fwp_target *t);

/* Register doorbells (the window's caps say whether the BMC has one; docs/PROTOCOL.md §8). */
/* Host: from now on fwp_target_ring() writes ring_value into the device's doorbell register
 * and fwp_target_wait() sleeps on the device's interrupt. -ENOTSUP: this transport or device has none. */
int fwp_target_doorbell_setup(struct fwp_target *t, uint32_t ring_value);
/* BMC: the value a host writes into the doorbell register to ring this BMC; 0: it has none. */
uint32_t fwp_target_ring_value(const struct fwp_target *t);
/* Host: rings the BMC's register. BMC: interrupts every connected host. 0, or -errno; -ENOTSUP: none. */
int fwp_target_ring(struct fwp_target *t);
/* Sleeps until rung, or timeout_ns passes: 1 rung (the event is consumed), 0 timed out, -ENOTSUP: no
 * register doorbells here (the caller polls memory), other -errno. The BMC's wait also serves the
 * ivshmem socket (new and leaving peers). */
int fwp_target_wait(struct fwp_target *t, uint64_t timeout_ns);

#ifdef __cplusplus
}
#endif
#endif
