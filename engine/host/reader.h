/* SPDX-License-Identifier: MIT */
/*
 * Reads the image with io_uring straight into the window's slot bodies: several reads in
 * flight ahead of the sender, one submit for a batch, short reads re-queued. The region the
 * reads land in is registered as a fixed buffer when the kernel allows it.
 */
#ifndef FWP_READER_H
#define FWP_READER_H

#include <stdbool.h>
#include <stdint.h>

struct fwp_reader;

/*
 * Reads from fd go to [base, base + len), at most depth of them in flight. direct: fd is open
 * with O_DIRECT, so reads are rounded up to whole pages (dst must have the room).
 */
int fwp_reader_open(struct fwp_reader **out, int fd, void *base, size_t len, unsigned depth,
		    bool direct);
void fwp_reader_close(struct fwp_reader *r);

/* Queues a read of len bytes at off into dst, known by tag (< 64) until waited for. */
int fwp_reader_queue(struct fwp_reader *r, unsigned tag, void *dst, uint32_t len,
		     uint64_t off);
/* Submits what was queued; one system call. */
int fwp_reader_submit(struct fwp_reader *r);
/* Waits until the read known by tag is complete. -EIO if the file ended early. */
int fwp_reader_wait(struct fwp_reader *r, unsigned tag);

#endif
