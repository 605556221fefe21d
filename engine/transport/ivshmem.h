/* SPDX-License-Identifier: MIT */
/*
 * An ivshmem server (QEMU docs/specs/ivshmem-spec.rst, "The ivshmem Client-Server Protocol")
 * inside the BMC, so that a guest's ivshmem-doorbell device shares the BMC's window and each
 * side can interrupt the other: QEMU connects to the UNIX socket as a client and gets the
 * window's memory and the eventfds, the BMC is a peer of its own that never connects.
 */
#ifndef FWP_IVSHMEM_H
#define FWP_IVSHMEM_H

#include <stdint.h>

struct fwp_ivshmem;

/*
 * Peer IDs. The Doorbell register takes (peer ID << 16) | vector, and the window advertises
 * that value with 0 meaning "no doorbell"; the BMC taking ID 0 with vector 0 would make its
 * ring value 0. So the BMC is peer 1 and clients are numbered from 2 (ID 0 is never used).
 */
#define FWP_IVSHMEM_BMC_ID	1u
#define FWP_IVSHMEM_FIRST_ID	2u
#define FWP_IVSHMEM_MAX_ID	65535u
/* Clients served at once; a client beyond them is closed as soon as it connects. */
#define FWP_IVSHMEM_CLIENTS	8

/*
 * Listens on the UNIX socket path for clients that share the memory open at shm_fd (a file
 * sized a power of two, as a PCI BAR must be). A stale socket at path (no one listening) is
 * replaced; -EADDRINUSE: a live server listens there; -EEXIST: something else has the name.
 */
int fwp_ivshmem_open(const char *path, int shm_fd, struct fwp_ivshmem **out);

/* Stops serving: clients see their socket close; the socket's name is removed. NULL is fine. */
void fwp_ivshmem_close(struct fwp_ivshmem *s);

/* What a client writes into its Doorbell register to ring the BMC: nonzero. */
uint32_t fwp_ivshmem_ring_value(void);

/* Interrupts every connected client on vector 0. 0, or -errno. */
int fwp_ivshmem_ring(struct fwp_ivshmem *s);

/*
 * Sleeps until a client rings the BMC (1; the ring is consumed) or timeout_ns passes (0; also
 * when a signal arrives, so the caller can look at its stop flag), serving connecting and
 * leaving clients meanwhile. Other -errno only when the BMC's own descriptors fail.
 */
int fwp_ivshmem_wait(struct fwp_ivshmem *s, uint64_t timeout_ns);

#endif
