/* SPDX-License-Identifier: MIT */
/*
 * shm:NAME[,offset=O][,ivshmem=SOCKET] — the window is a POSIX shared-memory object, the file
 * /dev/shm/NAME. A BMC given SOCKET serves QEMU's ivshmem protocol there (transport/ivshmem.h)
 * and has register doorbells; a host ignores the parameter (it has no register to ring). A BMC
 * given O puts its window O bytes into the object (a multiple of 4096, at most 64M; the bytes
 * before it zero), as a device may place it in a BAR; a host given O looks there, and a host
 * not given O takes a window at 0 as ever, or else searches the object as a host searches a
 * BAR (PROTOCOL.md 1.3). Byte-range
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
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwpush/parse.h"
#include "fwpush/wire.h"
#include "transport/ivshmem.h"
#include "transport/transport.h"

enum { LOCK_BYTE_BMC = 0, LOCK_BYTE_HOST = 1, LOCK_BYTE_REMOVER = 2 };

#define SHM_DIR		"/dev/shm"

#define IVSHMEM_PARAM	",ivshmem="
#define OFFSET_PARAM	",offset="
/* The furthest a BMC puts its window into the object, and a host searches for it. */
#define SHM_OFFSET_MAX	(64u << 20)

struct shm_params {
	const char *ivshmem;	/* SOCKET, or NULL */
	uint64_t offset;	/* where the window starts in the object */
	bool offset_given;	/* else a host searches for it (PROTOCOL.md 1.3) */
};

/*
 * What follows NAME: nothing, or ",offset=O" (a multiple of 4096, at most SHM_OFFSET_MAX, as
 * fwp_parse_size() reads it), then ",ivshmem=SOCKET" (SOCKET is the rest of the URI, so a path
 * may hold commas); either may be left out, in that order. -EINVAL: anything else.
 */
static int shm_params(const struct fwp_target *t, struct shm_params *sp)
{
	const char *p = t->arg + strcspn(t->arg, ",");
	char buf[32];
	size_t n;

	*sp = (struct shm_params){ 0 };
	if (!strncmp(p, OFFSET_PARAM, strlen(OFFSET_PARAM))) {
		p += strlen(OFFSET_PARAM);
		n = strcspn(p, ",");
		if (n == 0 || n >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, p, n);
		buf[n] = '\0';
		if (fwp_parse_size(buf, &sp->offset) || sp->offset % FWP_PAGE ||
		    sp->offset > SHM_OFFSET_MAX)
			return -EINVAL;
		sp->offset_given = true;
		p += n;
	}
	if (!*p)
		return 0;
	if (strncmp(p, IVSHMEM_PARAM, strlen(IVSHMEM_PARAM)) || !p[strlen(IVSHMEM_PARAM)])
		return -EINVAL;
	sp->ivshmem = p + strlen(IVSHMEM_PARAM);
	return 0;
}

/*
 * SHM_DIR/NAME and the parameters (sp); -EINVAL unless NAME is a plain name (no '/', no
 * leading '.') and what follows it is what shm_params() knows.
 */
static int shm_path(const struct fwp_target *t, char *buf, size_t len, struct shm_params *sp)
{
	size_t n = strcspn(t->arg, ",");
	size_t i;

	if (shm_params(t, sp))
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

/* Maps the whole object (t->map); the window is placed in it by place(). */
static int map_object(struct fwp_target *t, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	t->map = p;
	t->map_len = size;
	t->flags = FWP_TARGET_CACHED;
	return 0;
}

/*
 * The window starts offset bytes into the object: -EMSGSIZE if its control block is not in it.
 * At 0 the whole object is the window, however small (the host names what it holds).
 */
static int place(struct fwp_target *t, uint64_t offset)
{
	if (offset && (offset > t->map_len || t->map_len - offset < sizeof(struct fwp_win_ctrl)))
		return -EMSGSIZE;
	t->base = (unsigned char *)t->map + offset;
	t->size = t->map_len - offset;
	return 0;
}

/*
 * Where a host's window is: where it was told, else at 0 when the object's first bytes are a
 * window's magic (exactly what shm: always did, and costs nothing more), else the first
 * published window a search of the object finds (PROTOCOL.md 1.3, as in a BAR), else 0 (a
 * window not yet published is waited for there, and a file that is no window is named so).
 */
static uint64_t host_offset(const struct fwp_target *t, const struct shm_params *sp)
{
	const struct fwp_win_ctrl *c = t->map;
	size_t off;

	if (sp->offset_given)
		return sp->offset;
	if (t->map_len < sizeof(*c) || c->magic == FWP_WINDOW_MAGIC)
		return 0;
	if (fwp_window_find(t->map, t->map_len < SHM_OFFSET_MAX + sizeof(*c) ? t->map_len :
			    SHM_OFFSET_MAX + sizeof(*c), &off))
		return 0;
	return off;
}

static int shm_open_window(struct fwp_target *t)
{
	struct shm_params sp;
	char path[256];
	struct stat st;
	int ret;

	ret = shm_path(t, path, sizeof(path), &sp);
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
	ret = map_object(t, st.st_size);
	if (ret)
		return ret;
	t->priv = guard_add(t->map, t->map_len);
	return place(t, host_offset(t, &sp));
}

/*
 * Once the host's window has lost its memory: -EFAULT, its file shrank under the mapping; or
 * -ENOSPC, a page of it could not be allocated (a window made with holes, on a full /dev/shm).
 */
static int shm_peer_alive(const struct fwp_target *t)
{
	const struct guard *g = t->created ? NULL : t->priv;
	struct stat st;
	bool shrank = fstat(t->fd, &st) || (uint64_t)st.st_size < t->map_len;

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
static int start_ivshmem(struct fwp_target *t, const struct shm_params *sp)
{
	if (!sp->ivshmem)
		return 0;
	return fwp_ivshmem_open(sp->ivshmem, t->fd, (struct fwp_ivshmem **)&t->priv);
}

/*
 * Creates the window in one step that no other BMC can get between: the file is made unnamed
 * (O_TMPFILE), locked, sized and mapped, and only then linked to its name, which fails if the
 * name exists. A BMC that loses the race finds a window that is already locked, and leaves it
 * alone (-EADDRINUSE).
 */
static int shm_create_window(struct fwp_target *t, size_t size)
{
	struct shm_params sp;
	char path[256];
	int tries, ret;

	ret = shm_path(t, path, sizeof(path), &sp);
	if (ret)
		return ret;
	size += sp.offset;	/* the object holds the zeros before the window, then the window */
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
	ret = map_object(t, bar_size(size)) ?: place(t, sp.offset);
	for (tries = 0; !ret; tries++) {
		ret = publish(t->fd, path);
		if (ret != -EEXIST)
			break;
		ret = tries < 3 ? remove_stale(path) : -EADDRINUSE;
	}
	if (ret)
		return ret;
	t->created = true;
	return start_ivshmem(t, &sp);
}

/* A BMC removes its window's name only if the name is still its window. */
static void shm_close_window(struct fwp_target *t)
{
	struct stat mine, named;
	struct shm_params sp;
	char path[256];

	if (t->created)
		fwp_ivshmem_close(t->priv);
	else
		guard_remove(t->priv);
	if (t->map)
		munmap(t->map, t->map_len);
	if (t->created && !shm_path(t, path, sizeof(path), &sp) && !fstat(t->fd, &mine) &&
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
