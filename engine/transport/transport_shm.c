/* SPDX-License-Identifier: MIT */
/*
 * shm:NAME — the window is a POSIX shared-memory object. Two byte-range locks (open file
 * description locks, released by the kernel when a process dies) say who is attached: byte 0
 * by the BMC that created it, byte 1 by the host pushing to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwpush/wire.h"
#include "transport/transport.h"

enum { LOCK_BYTE_BMC = 0, LOCK_BYTE_HOST = 1 };

static int shm_path(const struct fwp_target *t, char *buf, size_t len)
{
	size_t n = strlen(t->arg);
	size_t i;

	if (n == 0 || n + 2 > len || n > 200)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = t->arg[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	if (t->arg[0] == '.')
		return -EINVAL;
	buf[0] = '/';
	memcpy(buf + 1, t->arg, n + 1);
	return 0;
}

static int lock_byte(int fd, off_t byte)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = byte,
		.l_len = 1,
	};

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return (errno == EAGAIN || errno == EACCES) ? -EBUSY : -errno;
}

static int map_window(struct fwp_target *t, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	t->base = p;
	t->size = size;
	t->flags = FWP_TARGET_CACHED;
	return 0;
}

/* Is a BMC attached to the object open at fd? */
static int bmc_attached(int fd)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = LOCK_BYTE_BMC,
		.l_len = 1,
	};

	if (fcntl(fd, F_OFD_GETLK, &fl))
		return -errno;
	return fl.l_type != F_UNLCK;
}

static int shm_open_window(struct fwp_target *t)
{
	char path[256];
	struct stat st;
	int ret;

	ret = shm_path(t, path, sizeof(path));
	if (ret)
		return ret;
	t->fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
	if (t->fd < 0)
		return -errno;
	if (fstat(t->fd, &st))
		return -errno;
	if (st.st_size == 0)
		return -EAGAIN;
	ret = lock_byte(t->fd, LOCK_BYTE_HOST);
	if (ret)
		return ret;
	return map_window(t, st.st_size);
}

static int shm_peer_alive(const struct fwp_target *t)
{
	return bmc_attached(t->fd);
}

static size_t bar_size(size_t size)
{
	size_t p = FWP_PAGE;

	while (p < size)
		p <<= 1;
	return p;
}

/*
 * A window left by a BMC that died is unlinked, never truncated or reused: a host still mapping
 * it must time out, not take SIGBUS, and must not mistake it for the new one. Retries a few
 * times in case another process replaces the name at the same moment.
 */
static int shm_create_window(struct fwp_target *t, size_t size)
{
	char path[256];
	int tries, old, ret;

	ret = shm_path(t, path, sizeof(path));
	if (ret)
		return ret;
	for (tries = 0; tries < 3; tries++) {
		t->fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (t->fd >= 0 || errno != EEXIST)
			break;
		old = shm_open(path, O_RDWR | O_CLOEXEC, 0);
		if (old < 0)
			continue;
		ret = bmc_attached(old);
		if (ret == 0)
			shm_unlink(path);
		close(old);
		if (ret)
			return ret > 0 ? -EADDRINUSE : ret;
	}
	if (t->fd < 0)
		return errno == EEXIST ? -EADDRINUSE : -errno;
	t->created = true;
	ret = lock_byte(t->fd, LOCK_BYTE_BMC);
	if (ret)
		return ret == -EBUSY ? -EADDRINUSE : ret;
	/*
	 * Sized like a PCI BAR, a power of two, so the same object can back an emulated device
	 * (QEMU's ivshmem) that a host reaches through vfio: or pci:.
	 */
	size = bar_size(size);
	if (ftruncate(t->fd, size))
		return -errno;
	return map_window(t, size);
}

static void shm_close_window(struct fwp_target *t)
{
	char path[256];

	if (t->base)
		munmap(t->base, t->size);
	if (t->created && !shm_path(t, path, sizeof(path)))
		shm_unlink(path);
	if (t->fd >= 0)
		close(t->fd);
}

const struct fwp_transport_ops fwp_transport_shm = {
	.scheme = "shm",
	.open = shm_open_window,
	.create = shm_create_window,
	.close = shm_close_window,
	.peer_alive = shm_peer_alive,
};
