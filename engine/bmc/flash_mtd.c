/* SPDX-License-Identifier: MIT */
/*
 * The BMC's flash on a Linux MTD character device (include/fwpush/bmc.h, fwp_mtd_open): the
 * file flash's A/B banks and activation record (bmc/flash.h, struct fwp_flash_rec) on a NOR
 * part. A thread programs the staged image behind the BMC, one erase block at a time: erase,
 * program, read back and compare. The BMC's loop waits for it through ready(), so it beats its
 * heartbeat (PROTOCOL.md §7) however slow the part is, and holds at most AHEAD bytes more than
 * the part has programmed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <mtd/mtd-user.h>

#include "bmc/flash.h"
#include "fwpush/bmc.h"

#define AHEAD		(1u << 20)	/* bytes the BMC may hold beyond what is programmed */
#define MAX_BLOCK	(16u << 20)	/* a larger erase block is no NOR part */
#define WHY_LEN		256

struct fwp_mtd {
	char *dev;
	int fd;
	struct mtd_info_user mi;
	uint64_t bank_size;
	uint64_t rec_off;		/* copy i of the record: rec_off + i * erasesize */
	struct fwp_flash_rec cur;	/* the record in force (seq 0: none yet) */
	int inactive;			/* the bank the next image goes to */
	bool stuck;			/* a copy of the record is in an unknown state */
	unsigned char *block, *check;	/* one erase block each: what is programmed, read back */
	unsigned char *staging;		/* the image being written (size bytes) */
	/* The programmer thread and what it shares with the BMC's thread, under lock. */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t size;			/* of the image being written; 0: none */
	uint64_t received;		/* bytes of it in staging */
	uint64_t done;			/* programmed and read back; also read without the lock */
	int err;			/* the programmer's failure: the image is lost */
	bool busy;			/* the thread is on a block, outside the lock */
	bool stop, running;
	char why[WHY_LEN];
};

static _Thread_local char open_why[WHY_LEN];

/* One line for fwp_mtd_error into why (WHY_LEN bytes), naming the device. */
static void say(char *why, const char *dev, const char *fmt, ...)
{
	size_t n = (size_t)snprintf(why, WHY_LEN, "%s: ", dev);
	va_list ap;

	va_start(ap, fmt);
	if (n < WHY_LEN)
		vsnprintf(why + n, WHY_LEN - n, fmt, ap);
	va_end(ap);
}

static int full_pread(int fd, void *p, size_t len, uint64_t off)
{
	ssize_t n;

	for (; len; len -= (size_t)n, off += (uint64_t)n, p = (char *)p + n) {
		n = pread(fd, p, len, (off_t)off);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
	}
	return 0;
}

static int full_pwrite(int fd, const void *p, size_t len, uint64_t off)
{
	ssize_t n;

	for (; len; len -= (size_t)n, off += (uint64_t)n, p = (const char *)p + n) {
		n = pwrite(fd, p, len, (off_t)off);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
	}
	return 0;
}

/*
 * Unless the erase block at off already holds them, erases it, programs len bytes of p into it
 * (padded with 0xff, which programs nothing, to the part's write size) and reads them back. why
 * says what failed.
 */
static int program_block(struct fwp_mtd *m, uint64_t off, const void *p, size_t len, char *why)
{
	struct erase_info_user e = { .start = (uint32_t)off, .length = m->mi.erasesize };
	size_t n = (len + m->mi.writesize - 1) / m->mi.writesize * m->mi.writesize;
	int ret;

	memcpy(m->block, p, len);
	memset(m->block + len, 0xff, n - len);
	/*
	 * A block that already holds these bytes (an update over the image before the last one, or
	 * the same image again) is neither erased nor programmed: NOR wears by the erase, and an
	 * erase is the slow part (PROTOCOL.md 14.4).
	 */
	if (!full_pread(m->fd, m->check, n, off) && !memcmp(m->block, m->check, n))
		return 0;
	if (ioctl(m->fd, MEMERASE, &e)) {
		ret = -errno;
		say(why, m->dev, "erase at 0x%llx: %s", (unsigned long long)off, strerror(-ret));
		return ret;
	}
	ret = full_pwrite(m->fd, m->block, n, off);
	if (ret) {
		say(why, m->dev, "write at 0x%llx: %s", (unsigned long long)off, strerror(-ret));
		return ret;
	}
	ret = full_pread(m->fd, m->check, n, off);
	if (ret) {
		say(why, m->dev, "read back at 0x%llx: %s", (unsigned long long)off, strerror(-ret));
		return ret;
	}
	if (memcmp(m->block, m->check, n)) {
		say(why, m->dev, "verify at 0x%llx: the block read back differs from what was "
		    "programmed", (unsigned long long)off);
		return -EIO;
	}
	return 0;
}

/* Programs each erase block of the image once its bytes are received, in order. */
static void *program_loop(void *arg)
{
	struct fwp_mtd *m = arg;
	uint64_t off, end, bank_off;
	char why[sizeof(m->why)];
	int ret;

	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		off = m->done;
		end = off + m->mi.erasesize < m->size ? off + m->mi.erasesize : m->size;
		if (m->err || off >= m->size || m->received < end) {
			pthread_cond_wait(&m->cond, &m->lock);
			continue;
		}
		m->busy = true;
		bank_off = (uint64_t)m->inactive * m->bank_size;
		pthread_mutex_unlock(&m->lock);
		ret = program_block(m, bank_off + off, m->staging + off, (size_t)(end - off), why);
		pthread_mutex_lock(&m->lock);
		m->busy = false;
		if (ret) {
			m->err = ret;
			memcpy(m->why, why, sizeof(why));
		} else {
			__atomic_store_n(&m->done, end, __ATOMIC_RELEASE);
		}
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* Drops the image being written, once the thread is off it. */
static void release(struct fwp_mtd *m)
{
	pthread_mutex_lock(&m->lock);
	m->size = 0;
	while (m->busy)
		pthread_cond_wait(&m->cond, &m->lock);
	m->received = 0;
	m->err = 0;
	__atomic_store_n(&m->done, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&m->lock);
	free(m->staging);
	m->staging = NULL;
}

static int mtd_begin(void *ctx, uint64_t size, unsigned char **staging)
{
	struct fwp_mtd *m = ctx;

	release(m);
	m->why[0] = 0;
	if (m->stuck) {
		say(m->why, m->dev, "a copy of the activation record could not be erased after a "
		    "failed switch: no more images until the device is opened again");
		return -EIO;
	}
	if (!size || size > m->bank_size) {
		say(m->why, m->dev, "an image of %llu bytes does not fit a bank of %llu",
		    (unsigned long long)size, (unsigned long long)m->bank_size);
		return -EFBIG;
	}
	if (size > SIZE_MAX || !(m->staging = malloc((size_t)size)))
		return -ENOMEM;
	pthread_mutex_lock(&m->lock);
	m->size = size;
	pthread_mutex_unlock(&m->lock);
	*staging = m->staging;
	return 0;
}

/* The bytes are in staging: the programmer may take the blocks they complete. */
static int mtd_store(void *ctx, uint64_t off, const void *p, size_t len)
{
	struct fwp_mtd *m = ctx;

	(void)p;
	pthread_mutex_lock(&m->lock);
	m->received = off + len;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/*
 * ahead: may the BMC take the first upto bytes in (it holds at most AHEAD beyond what is
 * programmed, or one chunk once the part has caught up)? Else: are they programmed?
 */
static int mtd_ready(void *ctx, uint64_t upto, int ahead)
{
	struct fwp_mtd *m = ctx;
	uint64_t done = __atomic_load_n(&m->done, __ATOMIC_ACQUIRE);
	int err;

	pthread_mutex_lock(&m->lock);
	err = m->err;
	pthread_mutex_unlock(&m->lock);
	if (err)
		return err;
	if (!ahead)
		return done >= upto;
	return upto <= done + AHEAD || done >= m->received;
}

/* Programs copy i of the record (an erase block to itself) and reads it back. */
static int write_record(struct fwp_mtd *m, int i, const struct fwp_flash_rec *r)
{
	return program_block(m, m->rec_off + (uint64_t)i * m->mi.erasesize, r, sizeof(*r), m->why);
}

/*
 * The image is wholly programmed and read back: write the copy of the record the one in
 * force is not in. Should that fail, the copy is erased so that it can never be taken for a
 * record (a failed verify may have left the new one readable); should even that fail, the
 * copy's state is unknown and no more images are taken until the device is opened again.
 */
static int mtd_commit(void *ctx)
{
	struct fwp_mtd *m = ctx;
	struct fwp_flash_rec r = { .seq = m->cur.seq + 1, .bank = (uint32_t)m->inactive };
	int i = (int)(r.seq % 2), ret;

	pthread_mutex_lock(&m->lock);
	while (!m->err && m->size && m->done < m->size)
		pthread_cond_wait(&m->cond, &m->lock);
	ret = m->err ? m->err : m->size ? 0 : -EINVAL;
	r.size = m->size;
	pthread_mutex_unlock(&m->lock);
	if (ret)
		return ret;
	fwp_flash_rec_seal(&r);
	ret = write_record(m, i, &r);
	if (ret) {
		struct erase_info_user e = {
			.start = (uint32_t)(m->rec_off + (uint64_t)i * m->mi.erasesize),
			.length = m->mi.erasesize,
		};

		m->stuck = ioctl(m->fd, MEMERASE, &e) != 0;
		return ret;
	}
	m->cur = r;
	m->inactive = !m->inactive;
	release(m);
	return 0;
}

static int read_records(struct fwp_mtd *m)
{
	struct fwp_flash_rec r[2];
	int i, ret;

	for (i = 0; i < 2; i++) {
		ret = full_pread(m->fd, &r[i], sizeof(r[i]), m->rec_off + (uint64_t)i * m->mi.erasesize);
		if (ret)
			return ret;
	}
	m->cur = fwp_flash_rec_pick(&r[0], &r[1]);
	if (m->cur.size > m->bank_size)
		m->cur = (struct fwp_flash_rec){ 0 };	/* another layout's: no image of ours */
	m->inactive = m->cur.seq ? !m->cur.bank : 0;
	return 0;
}

/* The device's geometry: a writable NOR part with room for two banks and the record. */
static int probe(struct fwp_mtd *m)
{
	struct mtd_info_user *mi = &m->mi;
	int ret;

	if (ioctl(m->fd, MEMGETINFO, mi)) {
		ret = -errno;
		say(open_why, m->dev, ret == -ENOTTY || ret == -EINVAL ?
		    "not an MTD device (MEMGETINFO: %s)" : "MEMGETINFO: %s", strerror(-ret));
		return ret == -EINVAL ? -ENOTTY : ret;
	}
	if (mi->type != MTD_NORFLASH && mi->type != MTD_RAM && mi->type != MTD_DATAFLASH) {
		say(open_why, m->dev, "MTD type %u is not NOR flash (NAND needs bad-block "
		    "handling and ECC)", mi->type);
		return -EMEDIUMTYPE;
	}
	if (!(mi->flags & MTD_WRITEABLE)) {
		say(open_why, m->dev, "read-only MTD device");
		return -EROFS;
	}
	if (!mi->erasesize || mi->erasesize > MAX_BLOCK || !mi->writesize ||
	    mi->erasesize % mi->writesize) {
		say(open_why, m->dev, "unusable geometry: erase size %u, write size %u",
		    mi->erasesize, mi->writesize);
		return -EINVAL;
	}
	m->rec_off = mi->size >= 2ull * mi->erasesize ? mi->size - 2ull * mi->erasesize : 0;
	m->bank_size = m->rec_off / 2 / mi->erasesize * mi->erasesize;
	if (!m->bank_size) {
		say(open_why, m->dev, "too small: %u bytes with %u-byte erase blocks (needs at least "
		    "4 erase blocks: two banks and the record's two copies)", mi->size, mi->erasesize);
		return -ENOSPC;
	}
	return 0;
}

int fwp_mtd_open(const char *dev, struct fwp_mtd **out)
{
	struct fwp_mtd *m = calloc(1, sizeof(*m));
	int ret;

	open_why[0] = 0;
	if (!m)
		return -ENOMEM;
	m->fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	m->dev = strdup(dev);
	ret = m->dev ? 0 : -ENOMEM;
	if (!ret) {
		m->fd = open(dev, O_RDWR | O_CLOEXEC);
		ret = m->fd < 0 ? -errno : 0;
		if (ret)
			say(open_why, dev, "%s", strerror(-ret));
	}
	if (!ret)
		ret = probe(m);
	if (!ret && flock(m->fd, LOCK_EX | LOCK_NB)) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		say(open_why, dev, "%s", ret == -EBUSY ? "in use by another writer" : strerror(-ret));
	}
	if (!ret) {
		m->block = malloc(m->mi.erasesize);
		m->check = malloc(m->mi.erasesize);
		ret = m->block && m->check ? read_records(m) : -ENOMEM;
		if (ret && ret != -ENOMEM)
			say(open_why, dev, "reading the record: %s", strerror(-ret));
	}
	if (!ret)
		ret = -pthread_create(&m->thread, NULL, program_loop, m);
	m->running = !ret;
	if (ret)
		goto err;
	*out = m;
	return 0;
err:
	if (!open_why[0])
		say(open_why, dev, "%s", strerror(-ret));
	fwp_mtd_close(m);
	return ret;
}

void fwp_mtd_close(struct fwp_mtd *m)
{
	if (!m)
		return;
	if (m->running) {
		pthread_mutex_lock(&m->lock);
		m->stop = true;
		pthread_cond_signal(&m->cond);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
	}
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	if (m->fd >= 0)
		close(m->fd);
	free(m->staging);
	free(m->block);
	free(m->check);
	free(m->dev);
	free(m);
}

static void mtd_close(void *ctx)
{
	fwp_mtd_close(ctx);
}

static const struct fwp_flash_ops mtd_ops = {
	.begin = mtd_begin,
	.store = mtd_store,
	.ready = mtd_ready,
	.commit = mtd_commit,
	.close = mtd_close,
};

const struct fwp_flash_ops *fwp_mtd_ops(void)
{
	return &mtd_ops;
}

void fwp_mtd_get_info(const struct fwp_mtd *m, struct fwp_mtd_info *out)
{
	*out = (struct fwp_mtd_info){
		.size = m->mi.size,
		.bank_size = m->bank_size,
		.record_offset = m->rec_off,
		.active_seq = m->cur.seq,
		.active_size = m->cur.size,
		.active_bank = m->cur.bank,
		.erase_size = m->mi.erasesize,
		.write_size = m->mi.writesize,
	};
}

const char *fwp_mtd_error(const struct fwp_mtd *m)
{
	return m ? m->why : open_why;
}
