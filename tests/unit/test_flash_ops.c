/* SPDX-License-Identifier: MIT */
/*
 * A BMC on its own storage: a flash backend that does not stage (like an eMMC partition written
 * with pwrite), plugged in through fwp_bmc_opts.flash_ops, served by fwp_bmc_run in a thread
 * and pushed to by the real host over a real shm: window. Every byte reaches the backend once
 * and in order, commit comes once at the end; a store that fails is STORAGE_ERROR at the host
 * and nothing is committed; a BMC that must check signatures refuses a flash that cannot
 * stage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fwpush/bmc.h"
#include "fwpush/push.h"
#include "fwpush/sign.h"
#include "served.h"

#define IMAGE_SIZE	((3u << 20) + 4097u)

struct part {
	unsigned char *bytes;	/* the partition */
	uint64_t size, next;	/* image size, where the next store must start */
	unsigned begins, commits, closes;
	uint64_t fail_at;	/* a store covering this offset fails */
};

static int part_begin(void *ctx, uint64_t size, unsigned char **staging)
{
	struct part *p = ctx;

	p->begins++;
	p->size = size;
	p->next = 0;
	*staging = NULL;
	return size <= IMAGE_SIZE ? 0 : -ENOSPC;
}

static int part_store(void *ctx, uint64_t off, const void *src, size_t len)
{
	struct part *p = ctx;

	if (off != p->next || off + len > p->size)
		return -EIO;		/* out of order or twice: the BMC broke its promise */
	if (p->fail_at >= off && p->fail_at < off + len)
		return -EIO;
	memcpy(p->bytes + off, src, len);
	p->next = off + len;
	return 0;
}

static int part_commit(void *ctx)
{
	struct part *p = ctx;

	p->commits++;
	return p->next == p->size ? 0 : -EIO;
}

static void part_close(void *ctx)
{
	((struct part *)ctx)->closes++;
}

static const struct fwp_flash_ops part_ops = {
	.begin = part_begin, .store = part_store, .commit = part_commit, .close = part_close,
};

/* Pushes the image at fd to a BMC on part; returns the push's result code. */
static int push_to(struct part *p, int fd, const char *pubkey, struct fwp_push_result *res)
{
	struct fwp_bmc_opts o = { .sz = sizeof(o), .slot_count = 4, .slot_size = 64 << 10,
				  .flash_ops = &part_ops, .flash_ctx = p, .pubkey_path = pubkey };
	struct fwp_push_opts po = { .sz = sizeof(po), .timeout_ms = 5000 };
	struct fwp_bmc *b;
	int ret = push_served("fwpt-flash-ops", &o, fd, &po, res, &b);

	fwp_bmc_destroy(b);
	return ret;
}

int main(void)
{
	char path[] = "/tmp/fwpush-test-flash-ops-XXXXXX", key[64], pub[64];
	struct part p = { .fail_at = UINT64_MAX };
	struct fwp_push_result res;
	unsigned char *image = malloc(IMAGE_SIZE);
	int fd = mkstemp(path);
	size_t i;

	p.bytes = calloc(1, IMAGE_SIZE);
	if (fd < 0 || !image || !p.bytes)
		return 1;
	for (i = 0; i < IMAGE_SIZE; i++)
		image[i] = (unsigned char)(i * 2654435761u >> 13);
	CHECK_EQ(write(fd, image, IMAGE_SIZE), (ssize_t)IMAGE_SIZE);

	CHECK_EQ(push_to(&p, fd, NULL, &res), 0);
	CHECK(res.verified);
	CHECK(!memcmp(p.bytes, image, IMAGE_SIZE));
	CHECK(p.begins == 1 && p.commits == 1 && p.closes == 1);

	/* A store fails in the middle: the host hears STORAGE_ERROR, nothing is committed. */
	p.begins = p.commits = p.closes = 0;
	p.fail_at = IMAGE_SIZE / 2;
	CHECK_EQ(push_to(&p, fd, NULL, &res), -EREMOTEIO);
	CHECK_EQ(res.bmc_status, FWP_ST_STORAGE_ERROR);
	CHECK_EQ(res.failed_type, FWP_MSG_DATA);
	CHECK_EQ(p.commits, 0);
	CHECK_EQ(p.closes, 1);

	/* A BMC that checks signatures needs the image staged in memory: refused at START. */
	snprintf(key, sizeof(key), "%s.key", path);
	snprintf(pub, sizeof(pub), "%s.pub", path);
	CHECK_EQ(fwp_keygen(key, pub), 0);
	p.fail_at = UINT64_MAX, p.begins = p.commits = 0;
	CHECK_EQ(push_to(&p, fd, pub, &res), -EREMOTEIO);
	CHECK_EQ(res.bmc_status, FWP_ST_STORAGE_ERROR);
	CHECK_EQ(res.failed_type, FWP_MSG_START);
	CHECK_EQ(p.commits, 0);

	unlink(key);
	unlink(pub);
	unlink(path);
	close(fd);
	free(p.bytes);
	free(image);
	return check_done("test_flash_ops");
}
