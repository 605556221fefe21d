/* SPDX-License-Identifier: MIT */
/*
 * The mem: transport (engine/transport/transport_mem.c) on a file standing in for a BMC's
 * physical memory, as QEMU's shared guest RAM does in the arm rig: where the window lands, how
 * large it is, and what is refused; and a memory device with nothing published (/dev/zero).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "transport/target.h"

#define FILE_SIZE	(64u << 10)

static char path[64], uri[256];

static const char *at(const char *fmt, const char *extra)
{
	snprintf(uri, sizeof(uri), fmt, extra, path);
	return uri;
}

static int open_size(const char *u, size_t *size, unsigned *flags)
{
	struct fwp_target *t;
	int ret = fwp_target_open(u, &t);

	if (ret)
		return ret;
	*size = fwp_target_size(t);
	*flags = fwp_target_flags(t);
	fwp_target_close(t);
	return 0;
}

int main(void)
{
	struct fwp_target *t;
	unsigned flags = 0;
	size_t size = 0;
	uint32_t word = 0;
	int fd;

	snprintf(path, sizeof(path), "/tmp/fwp-test-mem-%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, FILE_SIZE))
		return 1;

	/* The rest of the file, from ADDR; an ordinary (cached) mapping of it. */
	CHECK_EQ(open_size(at("mem:0x1000%s,dev=%s", ""), &size, &flags), 0);
	CHECK_EQ(size, FILE_SIZE - 0x1000);
	CHECK_EQ(flags, FWP_TARGET_CACHED);
	CHECK_EQ(open_size(at("mem:4096%s,dev=%s", ",size=8K"), &size, &flags), 0);
	CHECK_EQ(size, 8192);
	/* Past the file, a window that does not fit, a misaligned or malformed address. */
	CHECK_EQ(open_size(at("mem:0x10000%s,dev=%s", ""), &size, &flags), -EMSGSIZE);
	CHECK_EQ(open_size(at("mem:0x1000%s,dev=%s", ",size=64K"), &size, &flags), -EMSGSIZE);
	CHECK_EQ(open_size(at("mem:0x1001%s,dev=%s", ""), &size, &flags), -EINVAL);
	CHECK_EQ(open_size(at("mem:x1000%s,dev=%s", ""), &size, &flags), -EINVAL);
	CHECK_EQ(open_size(at("mem:0x1000%s,dev=%s", ",size=100"), &size, &flags), -EINVAL);
	CHECK_EQ(open_size(at("mem:0x1000%s,dev=%s", ",bar=2"), &size, &flags), -EINVAL);
	CHECK_EQ(open_size(at("mem:0x1000%s,dev=%s.none", ""), &size, &flags), -ENOENT);

	/* A BMC's window: created at ADDR, exactly as large as asked, landing at ADDR. */
	CHECK_EQ(fwp_target_create(at("mem:0x2000%s,dev=%s", ""), 0x3000, &t), 0);
	if (t) {
		CHECK_EQ(fwp_target_size(t), 0x3000);
		*(volatile uint32_t *)fwp_target_base(t) = 0x5eed1234;
		fwp_target_close(t);
	}
	CHECK_EQ(pread(fd, &word, 4, 0x2000), 4);
	CHECK_EQ(word, 0x5eed1234);
	t = NULL;
	CHECK_EQ(fwp_target_create(at("mem:0x2000%s,dev=%s", ""), FILE_SIZE, &t), -EMSGSIZE);
	CHECK(!t);

	/* A memory device (not a file): uncached, and with no size= the control block sizes it. */
	CHECK_EQ(open_size("mem:0x0,dev=/dev/zero", &size, &flags), -EAGAIN);
	CHECK_EQ(open_size("mem:0x0,size=4K,dev=/dev/zero", &size, &flags), 0);
	CHECK_EQ(flags, 0);

	close(fd);
	unlink(path);
	return check_done("test_mem");
}
