/* SPDX-License-Identifier: MIT */
/*
 * The MTD flash (engine/bmc/flash_mtd.c) against a FAKE MTD device: this machine's kernel has
 * no MTD (no mtdram, no modules), so this program defines ioctl(), pread() and pwrite()
 * itself (they take the place of libc's for the engine linked into it) and answers them, for
 * the one file that stands for the device, from memory that behaves as NOR does: MEMGETINFO
 * gives its geometry, MEMERASE sets whole erase blocks to 0xff, and programming can only clear
 * bits (a block programmed without its erase reads back wrong). Faults are planted: an erase
 * that fails, a programmed bit that does not stick. Every other descriptor goes to the kernel.
 * The real device is the arm rig's (tests/arm/run.sh: the AST2600's SPI NOR in QEMU).
 *
 * Pushes go through a real BMC (fwp_bmc on a shm: window, flash_ops = fwp_mtd_ops()) from a
 * real host, as tests/unit/test_flash_ops.c does.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mtd/mtd-user.h>

#include "bmc/flash.h"
#include "check.h"
#include "fwpush/bmc.h"
#include "fwpush/push.h"
#include "fwpush/sign.h"
#include "served.h"

#define DEV_SIZE	(4u << 20)
#define ERASE		(64u << 10)
#define BANK		((DEV_SIZE - 2 * ERASE) / 2 / ERASE * ERASE)	/* 1984 KiB */
#define REC_OFF		(DEV_SIZE - 2 * ERASE)

/* The fake device: its bytes, the file standing for it, and the faults to plant. */
static struct {
	unsigned char bytes[DEV_SIZE];
	uint32_t size;		/* what MEMGETINFO says */
	dev_t st_dev;
	ino_t st_ino;
	uint64_t fail_erase_at;	/* MEMERASE of the block at this offset fails (EIO) */
	uint64_t weak_bit_at;	/* programming this byte leaves its low bit set */
	unsigned erases;
} nor = { .fail_erase_at = UINT64_MAX, .weak_bit_at = UINT64_MAX };
static pthread_mutex_t nor_lock = PTHREAD_MUTEX_INITIALIZER;

static int is_nor(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && st.st_dev == nor.st_dev && st.st_ino == nor.st_ino;
}

static int nor_ioctl(unsigned long req, void *arg)
{
	struct erase_info_user *e = arg;

	if (req == MEMGETINFO) {
		*(struct mtd_info_user *)arg = (struct mtd_info_user){
			.type = MTD_NORFLASH, .flags = MTD_CAP_NORFLASH, .size = nor.size,
			.erasesize = ERASE, .writesize = 1,
		};
		return 0;
	}
	if (req != MEMERASE)
		return -ENOTTY;
	if (e->start % ERASE || e->length % ERASE || e->start + (uint64_t)e->length > nor.size)
		return -EINVAL;
	if (nor.fail_erase_at >= e->start && nor.fail_erase_at < e->start + (uint64_t)e->length)
		return -EIO;
	memset(nor.bytes + e->start, 0xff, e->length);
	nor.erases++;
	return 0;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!is_nor(fd))
		return (int)syscall(SYS_ioctl, fd, req, arg);
	pthread_mutex_lock(&nor_lock);
	ret = nor_ioctl(req, arg);
	pthread_mutex_unlock(&nor_lock);
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

ssize_t pread(int fd, void *p, size_t n, off_t off)
{
	if (!is_nor(fd))
		return syscall(SYS_pread64, fd, p, n, off);
	if ((uint64_t)off >= nor.size)
		return 0;
	if (n > nor.size - (uint64_t)off)
		n = nor.size - (size_t)off;
	pthread_mutex_lock(&nor_lock);
	memcpy(p, nor.bytes + off, n);
	pthread_mutex_unlock(&nor_lock);
	return (ssize_t)n;
}

/* Programming clears bits, never sets them: only an erased block takes any data. */
ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
	const unsigned char *src = p;
	size_t i;

	if (!is_nor(fd))
		return syscall(SYS_pwrite64, fd, p, n, off);
	if ((uint64_t)off + n > nor.size) {
		errno = ENOSPC;
		return -1;
	}
	pthread_mutex_lock(&nor_lock);
	for (i = 0; i < n; i++)
		nor.bytes[off + i] &= (unsigned char)(src[i] | ((uint64_t)off + i == nor.weak_bit_at));
	pthread_mutex_unlock(&nor_lock);
	return (ssize_t)n;
}


static const char *pubkey;		/* the BMC checks signatures with it, if set */
static const uint8_t *signature;	/* the host sends it, if set */

/* Pushes size bytes of img (through a file) into a BMC on the MTD flash at dev. */
static int push(const char *dev, const unsigned char *img, size_t size,
		struct fwp_push_result *res, char *why)
{
	struct fwp_push_opts po = { .sz = sizeof(po), .timeout_ms = 5000, .signature = signature };
	char path[] = "/tmp/fwpush-test-mtd-img-XXXXXX";
	struct fwp_bmc_opts o = { .sz = sizeof(o), .slot_count = 4, .slot_size = 64 << 10,
				  .pubkey_path = pubkey };
	struct fwp_mtd *m;
	struct fwp_bmc *b;
	int fd = mkstemp(path), ret;

	CHECK_EQ(write(fd, img, size), (ssize_t)size);
	CHECK_EQ(fwp_mtd_open(dev, &m), 0);
	o.flash_ops = fwp_mtd_ops();
	o.flash_ctx = m;
	ret = push_served("fwpt-flash-mtd", &o, fd, &po, res, &b);
	snprintf(why, 256, "%s", fwp_mtd_error(m));
	fwp_bmc_destroy(b);
	close(fd);
	unlink(path);
	return ret;
}

/* The record in force on the device, as a fresh open reads it. */
static struct fwp_mtd_info active(const char *dev)
{
	struct fwp_mtd_info i = { 0 };
	struct fwp_mtd *m;

	CHECK_EQ(fwp_mtd_open(dev, &m), 0);
	if (m)
		fwp_mtd_get_info(m, &i);
	fwp_mtd_close(m);
	return i;
}

static void fill(unsigned char *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)((i + seed) * 2654435761u >> 13);
}

int main(void)
{
	char dev[] = "/tmp/fwpush-test-mtd-XXXXXX", plain[] = "/tmp/fwpush-test-mtd-plain-XXXXXX";
	size_t a_size = BANK - 12345, b_size = (1u << 20) + 7;
	unsigned char *a = malloc(BANK), *b2 = malloc(BANK), *c = malloc(BANK);
	struct fwp_push_result res;
	struct fwp_mtd_info i;
	struct fwp_mtd *m, *m2;
	struct stat st;
	char why[256], key[64], pub[64];
	uint8_t sig[FWP_SIG_SIZE];
	int fd = mkstemp(dev), pfd = mkstemp(plain);

	if (fd < 0 || pfd < 0 || fstat(fd, &st) || !a || !b2 || !c)
		return 1;
	snprintf(key, sizeof(key), "%s.key", dev);
	snprintf(pub, sizeof(pub), "%s.pub", dev);
	nor.st_dev = st.st_dev;
	nor.st_ino = st.st_ino;
	nor.size = DEV_SIZE;
	memset(nor.bytes, 0x5a, sizeof(nor.bytes));	/* not erased: a missed erase shows */
	fill(a, BANK, 1);
	fill(b2, BANK, 2);
	fill(c, BANK, 3);

	/* What is not an MTD device, or too small, is refused, naming the device. */
	CHECK_EQ(fwp_mtd_open(plain, &m), -ENOTTY);
	CHECK(strstr(fwp_mtd_error(NULL), plain) && strstr(fwp_mtd_error(NULL), "not an MTD"));
	nor.size = 3 * ERASE;
	CHECK_EQ(fwp_mtd_open(dev, &m), -ENOSPC);
	CHECK(strstr(fwp_mtd_error(NULL), "too small"));
	nor.size = DEV_SIZE;

	/* The layout, and one writer at a time. */
	CHECK_EQ(fwp_mtd_open(dev, &m), 0);
	fwp_mtd_get_info(m, &i);
	CHECK_EQ(i.bank_size, BANK);
	CHECK_EQ(i.record_offset, REC_OFF);
	CHECK_EQ(i.active_seq, 0);
	CHECK_EQ(fwp_mtd_open(dev, &m2), -EBUSY);
	fwp_mtd_close(m);
	/* Without the device and its layout every push below could only wait out its timeout. */
	if (check_failures)
		goto out;

	/* The first image goes to bank A, every block erased, programmed and read back. */
	CHECK_EQ(push(dev, a, a_size, &res, why), 0);
	CHECK(res.verified);
	CHECK(!memcmp(nor.bytes, a, a_size));
	CHECK_EQ(nor.erases, (a_size + ERASE - 1) / ERASE + 1);		/* + the record's */
	i = active(dev);
	CHECK(i.active_seq == 1 && i.active_bank == 0 && i.active_size == a_size);

	/* The second to bank B; A stays as it was. */
	CHECK_EQ(push(dev, b2, b_size, &res, why), 0);
	CHECK(!memcmp(nor.bytes + BANK, b2, b_size));
	CHECK(!memcmp(nor.bytes, a, a_size));
	i = active(dev);
	CHECK(i.active_seq == 2 && i.active_bank == 1 && i.active_size == b_size);

	/* An erase fails half way into bank A: STORAGE_ERROR, B still the active image. */
	nor.fail_erase_at = 5 * ERASE;
	CHECK_EQ(push(dev, c, BANK, &res, why), -EREMOTEIO);
	CHECK_EQ(res.bmc_status, FWP_ST_STORAGE_ERROR);
	CHECK_EQ(res.failed_type, FWP_MSG_DATA);
	CHECK(strstr(why, dev) && strstr(why, "erase at 0x50000"));
	nor.fail_erase_at = UINT64_MAX;
	i = active(dev);
	CHECK(i.active_seq == 2 && i.active_bank == 1 && i.active_size == b_size);
	CHECK(!memcmp(nor.bytes + BANK, b2, b_size));

	/* A bit that does not program is caught by the read-back. */
	nor.weak_bit_at = 3 * ERASE + 100;
	c[3 * ERASE + 100] &= 0xfe;
	CHECK_EQ(push(dev, c, BANK, &res, why), -EREMOTEIO);
	CHECK_EQ(res.bmc_status, FWP_ST_STORAGE_ERROR);
	CHECK(strstr(why, "verify at 0x30000"));
	nor.weak_bit_at = UINT64_MAX;
	CHECK_EQ(active(dev).active_seq, 2);

	/* The record's block cannot be erased: the switch fails at FINISH, B stays active. */
	nor.fail_erase_at = REC_OFF + ERASE;	/* seq 3 goes to copy 1 */
	CHECK_EQ(push(dev, c, BANK, &res, why), -EREMOTEIO);
	CHECK_EQ(res.bmc_status, FWP_ST_STORAGE_ERROR);
	CHECK_EQ(res.failed_type, FWP_MSG_FINISH);
	nor.fail_erase_at = UINT64_MAX;
	i = active(dev);
	CHECK(i.active_seq == 2 && i.active_bank == 1);

	/* A whole bank's image, after all that: A, record 3. */
	CHECK_EQ(push(dev, c, BANK, &res, why), 0);
	CHECK(!memcmp(nor.bytes, c, BANK));
	CHECK(!memcmp(nor.bytes + BANK, b2, b_size));
	i = active(dev);
	CHECK(i.active_seq == 3 && i.active_bank == 0 && i.active_size == BANK);

	/* It stages the image in memory, so a BMC that checks signatures can use it. */
	CHECK_EQ(fwp_keygen(key, pub), 0);
	CHECK_EQ(write(pfd, b2, b_size), (ssize_t)b_size);
	CHECK_EQ(fwp_sign_file(key, plain, sig), 0);
	pubkey = pub;
	signature = sig;
	CHECK_EQ(push(dev, b2, b_size, &res, why), 0);
	i = active(dev);
	CHECK(i.active_seq == 4 && i.active_bank == 1 && i.active_size == b_size);
	sig[0] ^= 1;
	CHECK_EQ(push(dev, a, a_size, &res, why), -EREMOTEIO);
	CHECK_EQ(res.bmc_status, FWP_ST_AUTH_FAILED);
	CHECK_EQ(active(dev).active_seq, 4);

	/*
	 * The refused push left its bytes in bank A: the same image again finds every block there
	 * and erases none of them (only the record's), and is activated all the same.
	 */
	pubkey = NULL;
	signature = NULL;
	nor.erases = 0;
	CHECK_EQ(push(dev, a, a_size, &res, why), 0);
	CHECK_EQ(nor.erases, 1);
	CHECK(!memcmp(nor.bytes, a, a_size));
	i = active(dev);
	CHECK(i.active_seq == 5 && i.active_bank == 0 && i.active_size == a_size);
out:
	close(fd);
	close(pfd);
	unlink(key);
	unlink(pub);
	unlink(dev);
	unlink(plain);
	free(a);
	free(b2);
	free(c);
	return check_done("test_flash_mtd");
}
