/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#include "fwpush/wire.h"
#include "host/reader.h"

struct read_op {
	unsigned char *dst;
	uint64_t off;
	uint32_t left;		/* bytes still to read */
	uint32_t asked;		/* bytes the file holds for this read (less at its end) */
	bool busy;
};

struct fwp_reader {
	struct io_uring ring;
	int fd;
	bool fixed;		/* base is registered as buffer 0 */
	bool direct;		/* O_DIRECT: lengths go in whole 4 KiB blocks */
	struct read_op ops[FWP_SLOTS_MAX];
};

int fwp_reader_open(struct fwp_reader **out, int fd, void *base, size_t len, unsigned depth,
		    bool direct)
{
	struct iovec iov = { .iov_base = base, .iov_len = len };
	struct fwp_reader *r;
	int ret;

	if (depth == 0 || depth > FWP_SLOTS_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	ret = io_uring_queue_init(depth * 2, &r->ring, 0);
	if (ret) {
		free(r);
		return ret;
	}
	r->fd = fd;
	r->direct = direct;
	/* Fixed buffers spare the kernel pinning pages per read; not every kernel allows shm. */
	r->fixed = io_uring_register_buffers(&r->ring, &iov, 1) == 0;
	*out = r;
	return 0;
}

void fwp_reader_close(struct fwp_reader *r)
{
	if (!r)
		return;
	io_uring_queue_exit(&r->ring);
	free(r);
}

static int prep(struct fwp_reader *r, unsigned tag)
{
	struct read_op *op = &r->ops[tag];
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	unsigned char *dst = op->dst + (op->asked - op->left);
	uint64_t off = op->off + (op->asked - op->left);
	uint32_t len = op->left;

	if (!sqe)
		return -EBUSY;
	if (r->direct)
		len = (len + FWP_PAGE - 1) & ~(uint32_t)(FWP_PAGE - 1);
	if (r->fixed)
		io_uring_prep_read_fixed(sqe, r->fd, dst, len, off, 0);
	else
		io_uring_prep_read(sqe, r->fd, dst, len, off);
	io_uring_sqe_set_data64(sqe, tag);
	return 0;
}

int fwp_reader_queue(struct fwp_reader *r, unsigned tag, void *dst, uint32_t len,
		     uint64_t off)
{
	struct read_op *op = &r->ops[tag];

	if (tag >= FWP_SLOTS_MAX || op->busy)
		return -EINVAL;
	op->dst = dst;
	op->off = off;
	op->asked = op->left = len;
	op->busy = true;
	return prep(r, tag);
}

int fwp_reader_submit(struct fwp_reader *r)
{
	int ret = io_uring_submit(&r->ring);

	return ret < 0 ? ret : 0;
}

/* Accounts one completion; re-queues the rest of a short read. */
static int complete(struct fwp_reader *r, struct io_uring_cqe *cqe)
{
	unsigned tag = (unsigned)cqe->user_data;
	struct read_op *op = &r->ops[tag];
	int res = cqe->res;

	io_uring_cqe_seen(&r->ring, cqe);
	if (res == -EAGAIN || res == -EINTR)
		res = 0;
	else if (res < 0)
		return res;
	else if (res == 0 && op->left)
		return -EIO;	/* the file ended before the image did */
	op->left -= (uint32_t)res < op->left ? (uint32_t)res : op->left;
	if (!op->left)
		return 0;
	return prep(r, tag) ?: fwp_reader_submit(r);
}

int fwp_reader_wait(struct fwp_reader *r, unsigned tag)
{
	struct io_uring_cqe *cqe;
	int ret;

	while (r->ops[tag].left) {
		ret = io_uring_wait_cqe(&r->ring, &cqe);
		if (ret)
			return ret;
		ret = complete(r, cqe);
		if (ret)
			return ret;
	}
	r->ops[tag].busy = false;
	return 0;
}
