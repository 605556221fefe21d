/* SPDX-License-Identifier: MIT */
/*
 * The image as a file (host/source.h): read with io_uring straight into the window's slot
 * bodies, several reads in flight ahead of the sender, one submit for a batch, short reads
 * re-queued. The region the reads land in is registered as a fixed buffer when the kernel
 * allows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwpush/wire.h"
#include "host/source.h"

struct read_op {
	unsigned char *dst;
	uint64_t off;
	uint32_t left;		/* bytes still to read */
	uint32_t asked;		/* bytes the file holds for this read (less at its end) */
	bool busy;
};

struct fwp_reader {
	struct fwp_source src;
	struct io_uring ring;
	bool ring_up;
	int fd;
	struct stat st;		/* the file when it was opened */
	bool fixed;		/* base is registered as buffer 0 */
	bool direct;		/* O_DIRECT: lengths go in whole 4 KiB blocks */
	struct read_op ops[FWP_SLOTS_MAX];
};

static struct fwp_reader *reader(struct fwp_source *s)
{
	return (struct fwp_reader *)s;
}

static int begin(struct fwp_source *s, void *base, size_t len, unsigned depth)
{
	struct iovec iov = { .iov_base = base, .iov_len = len };
	struct fwp_reader *r = reader(s);
	int ret;

	if (depth == 0 || depth > FWP_SLOTS_MAX)
		return -EINVAL;
	memset(r->ops, 0, sizeof(r->ops));
	ret = io_uring_queue_init(depth * 2, &r->ring, 0);
	if (ret)
		return ret;
	r->ring_up = true;
	/* Fixed buffers spare the kernel pinning pages per read; not every kernel allows shm. */
	r->fixed = io_uring_register_buffers(&r->ring, &iov, 1) == 0;
	return 0;
}

static void end(struct fwp_source *s)
{
	struct fwp_reader *r = reader(s);

	if (r->ring_up)
		io_uring_queue_exit(&r->ring);
	r->ring_up = false;
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

static int queue(struct fwp_source *s, unsigned tag, void *dst, uint32_t len, uint64_t off)
{
	struct fwp_reader *r = reader(s);
	struct read_op *op = &r->ops[tag];

	if (tag >= FWP_SLOTS_MAX || op->busy)
		return -EINVAL;
	op->dst = dst;
	op->off = off;
	op->asked = op->left = len;
	op->busy = true;
	return prep(r, tag);
}

static int submit(struct fwp_source *s)
{
	int ret = io_uring_submit(&reader(s)->ring);

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
	return prep(r, tag) ?: submit(&r->src);
}

static int wait_read(struct fwp_source *s, unsigned tag)
{
	struct fwp_reader *r = reader(s);
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

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Size, times and inode, as tar checks. */
static bool changed(struct fwp_source *s)
{
	const struct stat *a = &reader(s)->st;
	struct stat b;

	if (fstat(reader(s)->fd, &b))
		return true;
	return a->st_size != b.st_size || !same_time(&a->st_mtim, &b.st_mtim) ||
	       !same_time(&a->st_ctim, &b.st_ctim) || a->st_ino != b.st_ino ||
	       a->st_dev != b.st_dev;
}

static const struct fwp_source_ops file_ops = {
	.begin = begin,
	.end = end,
	.queue = queue,
	.submit = submit,
	.wait = wait_read,
	.changed = changed,
};

int fwp_file_source_open(int fd, struct fwp_source **out)
{
	struct fwp_reader *r;
	int fl = fcntl(fd, F_GETFL);

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (fstat(fd, &r->st)) {
		free(r);
		return -errno;
	}
	r->fd = fd;
	r->direct = fl >= 0 && (fl & O_DIRECT);
	r->src = (struct fwp_source){
		.ops = &file_ops,
		.size = r->st.st_size,
		.align = r->direct ? FWP_PAGE : 1,
	};
	*out = &r->src;
	return 0;
}

void fwp_file_source_close(struct fwp_source *s)
{
	if (!s)
		return;
	end(s);
	free(reader(s));
}

/*
 * Opened without blocking (a FIFO would wait for a writer, forever) and checked to be a regular
 * file before anything is read; then back to blocking reads for io_uring.
 */
int fwp_image_open(const char *path, bool direct)
{
	struct stat st;
	int fd, fl, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (direct ? O_DIRECT : 0));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto err;
	}
	ret = S_ISDIR(st.st_mode) ? -EISDIR : !S_ISREG(st.st_mode) ? -ESPIPE :
	      st.st_size == 0 ? -ENODATA : 0;
	if (ret)
		goto err;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
		ret = -errno;
		goto err;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
err:
	close(fd);
	return ret;
}

int fwp_host_push(struct fwp_host *h, int fd, const struct fwp_push_opts *opts,
		  struct fwp_push_result *res)
{
	struct fwp_source *src = NULL;
	int ret;

	ret = fwp_file_source_open(fd, &src);
	if (ret) {
		memset(res, 0, sizeof(*res));
		return ret;
	}
	ret = fwp_host_push_source(h, src, opts, res);
	fwp_file_source_close(src);
	return ret;
}
