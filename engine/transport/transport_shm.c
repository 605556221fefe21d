/* SPDX-License-Identifier: MIT */
/*
 * shm:NAME[,ivshmem=SOCKET] — the window is a POSIX shared-memory object, the file
 * /dev/shm/NAME. A BMC given SOCKET serves QEMU's ivshmem protocol there (transport/ivshmem.h)
 * and has register doorbells; a host ignores the parameter (it has no register to ring). Byte-range
 * locks (open file description locks, released by the kernel when a process dies) say who is
 * attached: byte 0 by the BMC that created it, byte 1 by the host pushing to it; byte 2 is held
 * by a BMC while it removes a window whose BMC died.
 *
 * What may sit at that name is not trusted: only a regular file is a window (a FIFO, a
 * directory, a device or a symbolic link is refused at once, never waited on), a window is
 * published only once its BMC holds it, and a BMC removes only the window it still owns.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwpush/wire.h"
#include "transport/ivshmem.h"
#include "transport/transport.h"

enum { LOCK_BYTE_BMC = 0, LOCK_BYTE_HOST = 1, LOCK_BYTE_REMOVER = 2 };

#define SHM_DIR		"/dev/shm"

#define IVSHMEM_PARAM	",ivshmem="

/*
 * What follows NAME: nothing, or ",ivshmem=SOCKET" (SOCKET is the rest of the URI, so a path
 * may hold commas). *ivshmem: SOCKET, or NULL. -EINVAL: anything else.
 */
static int shm_params(const struct fwp_target *t, const char **ivshmem)
{
	const char *p = strchr(t->arg, ',');

	*ivshmem = NULL;
	if (!p)
		return 0;
	if (strncmp(p, IVSHMEM_PARAM, strlen(IVSHMEM_PARAM)) || !p[strlen(IVSHMEM_PARAM)])
		return -EINVAL;
	*ivshmem = p + strlen(IVSHMEM_PARAM);
	return 0;
}

/*
 * SHM_DIR/NAME; -EINVAL unless NAME is a plain name (no '/', no leading '.') and what follows
 * it is a parameter shm_params() knows.
 */
static int shm_path(const struct fwp_target *t, char *buf, size_t len)
{
	size_t n = strcspn(t->arg, ",");
	const char *ivshmem;
	size_t i;

	if (shm_params(t, &ivshmem))
		return -EINVAL;

	if (n == 0 || n + sizeof(SHM_DIR "/") > len || n > 200)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = t->arg[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	if (t->arg[0] == '.')
		return -EINVAL;
	snprintf(buf, len, SHM_DIR "/%.*s", (int)n, t->arg);
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

/* What is not a regular file is no window: -EISDIR, -ELOOP (a symbolic link) or -ESPIPE. */
static int not_a_window(mode_t mode)
{
	return S_ISREG(mode) ? 0 : S_ISDIR(mode) ? -EISDIR : S_ISLNK(mode) ? -ELOOP : -ESPIPE;
}

/*
 * Opens whatever is at path for reading and writing without following a symbolic link and
 * without blocking (a FIFO would wait for a writer), and refuses anything but a regular file.
 */
static int open_regular(const char *path)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		/* A socket (ENXIO), a device without a driver (ENODEV), ...: name what it is. */
		if (ret != -ENOENT && ret != -EACCES && !lstat(path, &st) && not_a_window(st.st_mode))
			ret = not_a_window(st.st_mode);
		return ret;
	}
	ret = fstat(fd, &st) ? -errno : not_a_window(st.st_mode);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * SIGBUS. A window is a file, and whoever can write the file can shrink it under the host:
 * touching a page past its new end raises SIGBUS, which would kill the host in the middle of a
 * push. The host's windows are registered here; a fault inside one replaces the whole mapping
 * with anonymous memory (the faulting access then completes, on memory no peer sees) and marks
 * the window lost, which shm_peer_alive() reports as -EFAULT on the host's next stall check,
 * a few milliseconds later. libwayland-server guards its wl_shm pools against clients that
 * truncate them the same way. A SIGBUS anywhere else goes to the disposition that was there
 * before. The fast path pays nothing: no system call, no setjmp per access.
 */
#define GUARDS	16

static struct guard {
	_Atomic(uintptr_t) base;	/* 0: free */
	_Atomic(size_t) len;
	atomic_int lost;
	atomic_int used;
} guards[GUARDS];

static struct sigaction prev_sigbus;
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	unsigned i;

	for (i = 0; i < GUARDS && si->si_code > 0; i++) {
		uintptr_t base = atomic_load(&guards[i].base);
		size_t len = atomic_load(&guards[i].len);

		if (!base || a - base >= len)
			continue;
		if (mmap((void *)base, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		atomic_store(&guards[i].lost, 1);
		return;
	}
	/* Not a window's: what would have happened without this handler. */
	if (prev_sigbus.sa_flags & SA_SIGINFO) {
		prev_sigbus.sa_sigaction(sig, si, uc);
	} else if (prev_sigbus.sa_handler != SIG_DFL && prev_sigbus.sa_handler != SIG_IGN) {
		prev_sigbus.sa_handler(sig);
	} else {
		signal(SIGBUS, SIG_DFL);
		if (si->si_code <= 0)
			raise(sig);	/* sent, not a fault: a fault repeats on return */
	}
}

static void sigbus_install(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_ONSTACK };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &prev_sigbus);
}

/* Registers a host's mapping; NULL when every guard is taken (the window is then unguarded). */
static struct guard *guard_add(void *base, size_t len)
{
	unsigned i;

	pthread_once(&sigbus_once, sigbus_install);
	for (i = 0; i < GUARDS; i++) {
		if (atomic_exchange(&guards[i].used, 1))
			continue;
		atomic_store(&guards[i].lost, 0);
		atomic_store(&guards[i].len, len);
		atomic_store(&guards[i].base, (uintptr_t)base);
		return &guards[i];
	}
	return NULL;
}

static void guard_remove(struct guard *g)
{
	if (!g)
		return;
	atomic_store(&g->base, 0);
	atomic_store(&g->len, 0);
	atomic_store(&g->used, 0);
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

static int shm_open_window(struct fwp_target *t)
{
	char path[256];
	struct stat st;
	int ret;

	ret = shm_path(t, path, sizeof(path));
	if (ret)
		return ret;
	t->fd = open_regular(path);
	if (t->fd < 0)
		return t->fd;
	if (fstat(t->fd, &st))
		return -errno;
	if (st.st_size == 0)
		return -EAGAIN;
	ret = lock_byte(t->fd, LOCK_BYTE_HOST);
	if (ret)
		return ret;
	ret = map_window(t, st.st_size);
	if (!ret)
		t->priv = guard_add(t->base, t->size);
	return ret;
}

/*
 * Once the host's window has lost its memory: -EFAULT, its file shrank under the mapping; or
 * -ENOSPC, a page of it could not be allocated (a window made with holes, on a full /dev/shm).
 */
static int shm_peer_alive(const struct fwp_target *t)
{
	const struct guard *g = t->created ? NULL : t->priv;
	struct stat st;
	bool shrank = fstat(t->fd, &st) || (uint64_t)st.st_size < t->size;

	if (g && atomic_load(&g->lost))
		return shrank ? -EFAULT : -ENOSPC;
	if (!t->created && shrank)
		return -EFAULT;
	return bmc_attached(t->fd);
}

static size_t bar_size(size_t size)
{
	size_t p = FWP_PAGE;

	while (p < size)
		p <<= 1;
	return p;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * A window left by a BMC that died is unlinked, never truncated or reused: a host still mapping
 * it must time out, not take SIGBUS, and must not mistake it for the new one. A published window
 * is locked by its BMC from before it had its name, so one whose BMC lock is free is dead for
 * good. Its remover lock is taken first, so that of several BMCs only one removes it, and the
 * name is removed only while it still names that file; the BMC lock is left free, so a host never
 * takes the dead window for a live one meanwhile. 0: gone, or being removed (publish again);
 * -EADDRINUSE: a live BMC holds it; -EEXIST: something that is not a window has the name (it is
 * left alone).
 */
static int remove_stale(const char *path)
{
	struct stat st, now;
	int fd, ret;

	fd = open_regular(path);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd == -EACCES ? fd : -EEXIST;
	ret = fstat(fd, &st) ? -errno : bmc_attached(fd);
	if (ret > 0)
		ret = -EADDRINUSE;
	if (!ret)
		ret = lock_byte(fd, LOCK_BYTE_REMOVER);
	if (!ret && !lstat(path, &now) && same_file(&st, &now) && unlink(path) && errno != ENOENT)
		ret = -errno;
	close(fd);
	return ret == -EBUSY ? 0 : ret;
}

/* Gives the unnamed file open at fd the name path; -EEXIST if the name is taken. */
static int publish(int fd, const char *path)
{
	char self[64];

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (!linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW))
		return 0;
	if (errno != ENOENT)
		return -errno;
	/* No /proc: the same by descriptor (needs CAP_DAC_READ_SEARCH). */
	return linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) ? -errno : 0;
}

/*
 * A BMC's ivshmem server, when its URI names a socket, kept in t->priv (a host keeps its
 * guard there). It starts once the window is published and fully made.
 */
static int start_ivshmem(struct fwp_target *t)
{
	const char *sock;

	if (shm_params(t, &sock) || !sock)
		return 0;
	return fwp_ivshmem_open(sock, t->fd, (struct fwp_ivshmem **)&t->priv);
}

/*
 * Creates the window in one step that no other BMC can get between: the file is made unnamed
 * (O_TMPFILE), locked, sized and mapped, and only then linked to its name, which fails if the
 * name exists. A BMC that loses the race finds a window that is already locked, and leaves it
 * alone (-EADDRINUSE).
 */
static int shm_create_window(struct fwp_target *t, size_t size)
{
	char path[256];
	int tries, ret;

	ret = shm_path(t, path, sizeof(path));
	if (ret)
		return ret;
	t->fd = open(SHM_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (t->fd < 0)
		return -errno;
	ret = lock_byte(t->fd, LOCK_BYTE_BMC);
	if (ret)
		return ret;
	/*
	 * Sized like a PCI BAR, a power of two, so the same object can back an emulated device
	 * (QEMU's ivshmem) that a host reaches through vfio: or pci:.
	 */
	if (ftruncate(t->fd, bar_size(size)))
		return -errno;
	/*
	 * Every page the layout uses is allocated now, not when first touched: a /dev/shm that
	 * fills up later cannot starve a push (a page that cannot be allocated raises SIGBUS).
	 */
	if (fallocate(t->fd, 0, 0, size) && errno != EOPNOTSUPP)
		return -errno;
	ret = map_window(t, bar_size(size));
	for (tries = 0; !ret; tries++) {
		ret = publish(t->fd, path);
		if (ret != -EEXIST)
			break;
		ret = tries < 3 ? remove_stale(path) : -EADDRINUSE;
	}
	if (ret)
		return ret;
	t->created = true;
	return start_ivshmem(t);
}

/* A BMC removes its window's name only if the name is still its window. */
static void shm_close_window(struct fwp_target *t)
{
	struct stat mine, named;
	char path[256];

	if (t->created)
		fwp_ivshmem_close(t->priv);
	else
		guard_remove(t->priv);
	if (t->base)
		munmap(t->base, t->size);
	if (t->created && !shm_path(t, path, sizeof(path)) && !fstat(t->fd, &mine) &&
	    !lstat(path, &named) && same_file(&mine, &named))
		unlink(path);
	if (t->fd >= 0)
		close(t->fd);	/* the lock goes last: until here no one else removes the name */
}

/* The BMC's register doorbells: only with an ivshmem server (a host's shm: has none). */
static struct fwp_ivshmem *bmc_ivshmem(const struct fwp_target *t)
{
	return t->created ? t->priv : NULL;
}

static uint32_t shm_ring_value(const struct fwp_target *t)
{
	return bmc_ivshmem(t) ? fwp_ivshmem_ring_value() : 0;
}

static int shm_ring(struct fwp_target *t)
{
	return bmc_ivshmem(t) ? fwp_ivshmem_ring(t->priv) : -ENOTSUP;
}

static int shm_wait(struct fwp_target *t, uint64_t timeout_ns)
{
	return bmc_ivshmem(t) ? fwp_ivshmem_wait(t->priv, timeout_ns) : -ENOTSUP;
}

const struct fwp_transport_ops fwp_transport_shm = {
	.scheme = "shm",
	.open = shm_open_window,
	.create = shm_create_window,
	.close = shm_close_window,
	.peer_alive = shm_peer_alive,
	.ring_value = shm_ring_value,
	.ring = shm_ring,
	.wait = shm_wait,
};
