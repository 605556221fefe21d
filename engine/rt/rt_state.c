/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hash.h"
#include "rt/rt_state.h"

int fwp_rt_paths(const char *name, char *img, char *state, size_t len)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 64 || name[0] == '.')
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	if (img)
		snprintf(img, len, FWP_RT_PREFIX "%s.img", name);
	if (state)
		snprintf(state, len, FWP_RT_PREFIX "%s.state", name);
	return 0;
}

static uint32_t slot_size_for(uint32_t xsave_size)
{
	return (FWP_RT_SLOT_HDR + xsave_size + FWP_RT_SLOT_TAIL + 63) & ~63u;
}

static void format(struct fwp_rt_hdr *h, uint32_t xsave_size)
{
	struct fwp_rt_desc keep = h->desc;
	uint32_t mailbox = h->magic == FWP_RT_STATE_MAGIC ? h->mailbox : 0;

	memset(h, 0, sizeof(*h));
	h->version = FWP_RT_STATE_VERSION;
	h->hdr_size = FWP_RT_HDR_SIZE;
	h->max_cpus = FWP_RT_MAX_CPUS;
	h->slot_size = slot_size_for(xsave_size);
	h->xsave_size = xsave_size;
	/* A descriptor written under this layout's predecessor stays valid: it is sealed. */
	if (fwp_rt_desc_ok(&keep)) {
		h->desc = keep;
		h->mailbox = mailbox & FWP_RT_MB_STAGED;
	}
	h->magic = FWP_RT_STATE_MAGIC;
}

static const char *kind(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFDIR:	return "a directory";
	case S_IFIFO:	return "a FIFO";
	case S_IFSOCK:	return "a socket";
	case S_IFCHR:	return "a character device";
	case S_IFBLK:	return "a block device";
	}
	return "a file of another kind";
}

void fwp_rt_printable(char *to, size_t len, const char *from)
{
	size_t i;

	for (i = 0; from[i] && i + 1 < len; i++)
		to[i] = (unsigned char)from[i] < 0x20 || from[i] == 0x7f ? '?' : from[i];
	to[i] = 0;
}

int fwp_rt_file_check(const char *what, const char *path, const struct stat *sb, char *why,
		      size_t len)
{
	char to[256], shown[128];
	ssize_t n;

	if (S_ISLNK(sb->st_mode)) {
		n = readlink(path, to, sizeof(to) - 1);
		to[n > 0 ? n : 0] = 0;
		fwp_rt_printable(shown, sizeof(shown), to);
		snprintf(why, len, "%s %s: is a symbolic link%s%s; refusing to follow it", what,
			 path, n > 0 ? " to " : "", shown);
	} else if (!S_ISREG(sb->st_mode)) {
		snprintf(why, len, "%s %s: is %s, not a regular file; refusing it", what, path,
			 kind(sb->st_mode));
	} else if (sb->st_uid != geteuid()) {
		snprintf(why, len, "%s %s: is owned by uid %u, not by uid %u that runs fwpush; "
			 "refusing it", what, path, (unsigned)sb->st_uid, (unsigned)geteuid());
	} else if ((sb->st_mode & 07777) != 0600) {
		snprintf(why, len, "%s %s: has mode %04o, not 0600; refusing it", what, path,
			 (unsigned)(sb->st_mode & 07777));
	} else if (sb->st_nlink != 1) {
		snprintf(why, len, "%s %s: has %lu links, not 1 (a hard link shares it with "
			 "another name); refusing it", what, path, (unsigned long)sb->st_nlink);
	} else {
		return 0;
	}
	return -EPERM;
}

/* The line for an open that failed with err: what lstat shows there if it is not ours. */
static int open_error(const char *what, const char *path, int err, char *why, size_t len)
{
	struct stat sb;
	int ret;

	if (err != ENOENT && !lstat(path, &sb)) {
		ret = fwp_rt_file_check(what, path, &sb, why, len);
		if (ret)
			return ret;
	}
	snprintf(why, len, "%s %s: %s", what, path, strerror(err));
	return -err;
}

int fwp_rt_open_private(const char *what, const char *path, int flags, bool create, char *why,
			size_t len)
{
	struct stat sb;
	int fd, ret, tries;

	for (tries = 0; tries < 8; tries++) {
		if (create) {
			/* O_EXCL: a name planted here, a dangling link included, is never ours. */
			fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd >= 0) {
				/* The umask may have taken bits the check below asks for. */
				if (fchmod(fd, 0600)) {
					ret = open_error(what, path, errno, why, len);
					close(fd);
					return ret;
				}
				return fd;
			}
			if (errno != EEXIST)
				return open_error(what, path, errno, why, len);
		}
		/* O_NONBLOCK: a FIFO planted here must not hang us before fstat shows it. */
		fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create)
			continue;	/* removed since our O_EXCL: make it */
		if (fd < 0)
			return open_error(what, path, errno, why, len);
		ret = fstat(fd, &sb) ? open_error(what, path, errno, why, len)
				     : fwp_rt_file_check(what, path, &sb, why, len);
		if (!ret && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
			ret = open_error(what, path, errno, why, len);
		if (ret) {
			close(fd);
			return ret;
		}
		return fd;
	}
	snprintf(why, len, "%s %s: keeps being removed and made again", what, path);
	return -EAGAIN;
}

/* The one hold of this process (fwp_rt_state_hold), shared by its opens of that name. */
static struct {
	int fd;
	char name[72];
} held = { .fd = -1 };

/* Opens the state area at path and locks it, exclusively and without waiting. */
static int lock_state(const char *name, const char *path, char *why, size_t len)
{
	struct stat at, got;
	int fd, tries;

	if (held.fd >= 0 && !strcmp(held.name, name)) {
		fd = fcntl(held.fd, F_DUPFD_CLOEXEC, 0);	/* the same lock: ours */
		return fd >= 0 ? fd : open_error("state area", path, errno, why, len);
	}
	for (tries = 0; tries < 8; tries++) {
		fd = fwp_rt_open_private("state area", path, O_RDWR, true, why, len);
		if (fd < 0)
			return fd;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			int err = errno;

			close(fd);
			if (err != EWOULDBLOCK)
				return open_error("state area", path, err, why, len);
			snprintf(why, len, "state area %s: in use by another rt-update (a --stage or "
				 "--activate of %s is running); nothing done, try again when it has "
				 "finished", path, name);
			return -EBUSY;
		}
		/* Still the file at path? One removed and made again since our open is not it. */
		if (!lstat(path, &at) && !fstat(fd, &got) && at.st_dev == got.st_dev &&
		    at.st_ino == got.st_ino)
			return fd;
		close(fd);
	}
	snprintf(why, len, "state area %s: keeps being removed and made again", path);
	return -EAGAIN;
}

int fwp_rt_state_open(const char *name, uint32_t xsave_size, struct fwp_rt_state *st,
		      char *why, size_t len)
{
	size_t size = FWP_RT_HDR_SIZE + (size_t)FWP_RT_MAX_CPUS * slot_size_for(xsave_size);
	char path[128];
	struct stat sb;
	void *p;
	int ret;

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	ret = fwp_rt_paths(name, NULL, path, sizeof(path));
	if (ret)
		return ret;
	ret = lock_state(name, path, why, len);
	if (ret < 0)
		return ret;
	st->fd = ret;
	/* Sized and laid out only under the lock: nobody else is reading it. */
	if (fstat(st->fd, &sb) || ((size_t)sb.st_size < size && ftruncate(st->fd, size)))
		goto err;
	/* Populated: a page fault in a handler would land inside the blackout. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, st->fd, 0);
	if (p == MAP_FAILED)
		goto err;
	st->size = size;
	st->hdr = p;
	st->slots = (unsigned char *)p + FWP_RT_HDR_SIZE;
	if (st->hdr->magic != FWP_RT_STATE_MAGIC || st->hdr->version != FWP_RT_STATE_VERSION ||
	    st->hdr->xsave_size != xsave_size || st->hdr->slot_size != slot_size_for(xsave_size))
		format(st->hdr, xsave_size);
	return 0;
err:
	ret = -errno;
	snprintf(why, len, "state area %s: %s", path, strerror(errno));
	fwp_rt_state_close(st);
	return ret;
}

void fwp_rt_state_close(struct fwp_rt_state *st)
{
	if (st->hdr)
		munmap(st->hdr, st->size);
	if (st->fd >= 0)
		close(st->fd);	/* the lock goes with the last descriptor of the open file */
	st->hdr = NULL;
	st->fd = -1;
}

int fwp_rt_state_hold(const char *name, char *why, size_t len)
{
	char path[128];
	int fd, ret;

	ret = fwp_rt_paths(name, NULL, path, sizeof(path));
	if (ret)
		return ret;
	fwp_rt_state_release();
	fd = lock_state(name, path, why, len);
	if (fd < 0)
		return fd;
	held.fd = fd;
	snprintf(held.name, sizeof(held.name), "%s", name);
	return 0;
}

void fwp_rt_state_release(void)
{
	if (held.fd >= 0)
		close(held.fd);
	held.fd = -1;
	held.name[0] = 0;
}

void fwp_rt_desc_seal(struct fwp_rt_desc *d)
{
	d->check = fwp_xxh64(d, offsetof(struct fwp_rt_desc, check));
}

bool fwp_rt_desc_ok(const struct fwp_rt_desc *d)
{
	return d->path[0] && memchr(d->path, 0, sizeof(d->path)) &&
	       d->check == fwp_xxh64(d, offsetof(struct fwp_rt_desc, check));
}
