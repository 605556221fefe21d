/* SPDX-License-Identifier: MIT */
/*
 * The ivshmem server (ivshmem.h). Every message is one 8-byte little-endian signed number,
 * sent alone with at most one descriptor (SCM_RIGHTS). A client gets, in order: the protocol
 * version (0); its ID; -1 with the shared memory; every other peer's ID with that peer's
 * vector-0 eventfd (the BMC's first: that is how a guest rings the BMC); its own ID with its own
 * eventfd (how it is rung). The clients already there are told the new ID with its eventfd, and
 * the ID alone once it leaves.
 *
 * The connection is one-way, so a client that sends anything breaks the protocol and is dropped,
 * as is one whose socket does not take a message at once: the BMC never blocks on a client, and
 * a client that floods or stalls costs it one wakeup, not a spinning loop.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "core/platform.h"
#include "transport/ivshmem.h"

#define PROTOCOL_VERSION	0

struct client {
	int sock;		/* -1: a free place */
	int efd;		/* its vector 0: the BMC rings it, other clients get a copy */
	uint16_t id;
	bool dead;		/* a send failed or it spoke: dropped by reap() */
};

struct fwp_ivshmem {
	int listen;
	int efd;		/* the BMC's vector 0, rung by clients */
	int shm;		/* the window's memory, the transport's descriptor */
	uint32_t next_id;
	struct stat named;	/* what the socket's name was bound to, to remove only that */
	struct sockaddr_un addr;
	struct client c[FWP_IVSHMEM_CLIENTS];
};

/* Sends one message; 0, or -errno (-EAGAIN: the client is not reading). */
static int send_msg(int sock, int64_t value, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	uint8_t le[8];
	struct iovec iov = { .iov_base = le, .iov_len = sizeof(le) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t n;
	int i;

	for (i = 0; i < 8; i++)
		le[i] = (uint8_t)((uint64_t)value >> (8 * i));
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(le) ? 0 : -EAGAIN;
}

static void client_free(struct client *c)
{
	if (c->sock >= 0)
		close(c->sock);
	if (c->efd >= 0)
		close(c->efd);
	c->sock = c->efd = -1;
	c->dead = false;
}

/* Tells every live client but the one at skip about peer id (connect: with its efd). */
static void announce(struct fwp_ivshmem *s, const struct client *skip, uint16_t id, int efd)
{
	struct client *c;

	for (c = s->c; c < s->c + FWP_IVSHMEM_CLIENTS; c++) {
		if (c != skip && c->sock >= 0 && !c->dead && send_msg(c->sock, id, efd))
			c->dead = true;
	}
}

/* Drops dead clients, telling the others; an announcement that fails kills another one. */
static void reap(struct fwp_ivshmem *s)
{
	struct client *c;
	bool again = true;
	uint16_t id;

	while (again) {
		again = false;
		for (c = s->c; c < s->c + FWP_IVSHMEM_CLIENTS; c++) {
			if (c->sock < 0 || !c->dead)
				continue;
			id = c->id;
			client_free(c);
			announce(s, NULL, id, -1);
			again = true;
		}
	}
}

static bool id_taken(const struct fwp_ivshmem *s, uint32_t id)
{
	const struct client *c;

	for (c = s->c; c < s->c + FWP_IVSHMEM_CLIENTS; c++) {
		if (c->sock >= 0 && c->id == id)
			return true;
	}
	return false;
}

/* A fresh ID, not the last one's: a peer that still knows an old client never mixes them up. */
static uint16_t new_id(struct fwp_ivshmem *s)
{
	uint32_t id;

	do {
		id = s->next_id;
		s->next_id = id == FWP_IVSHMEM_MAX_ID ? FWP_IVSHMEM_FIRST_ID : id + 1;
	} while (id_taken(s, id));
	return (uint16_t)id;
}

/*
 * The memory goes out as a descriptor of its own (a new open file description of the same
 * file), never as the transport's: the window's liveness locks are held per open file
 * description, and QEMU holding the BMC's would keep a dead BMC's window looking alive.
 */
static int send_memory(const struct fwp_ivshmem *s, int sock)
{
	char self[64];
	int fd, ret;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", s->shm);
	fd = open(self, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = send_msg(sock, -1, fd);
	close(fd);
	return ret;
}

/* Steps 1 to 5 of the spec for the new client c. */
static int greet(struct fwp_ivshmem *s, struct client *c)
{
	const struct client *o;
	int ret;

	ret = send_msg(c->sock, PROTOCOL_VERSION, -1) ?: send_msg(c->sock, c->id, -1) ?:
	      send_memory(s, c->sock) ?: send_msg(c->sock, FWP_IVSHMEM_BMC_ID, s->efd);
	for (o = s->c; !ret && o < s->c + FWP_IVSHMEM_CLIENTS; o++) {
		if (o != c && o->sock >= 0 && !o->dead)
			ret = send_msg(c->sock, o->id, o->efd);
	}
	return ret ?: send_msg(c->sock, c->id, c->efd);
}

/* Takes one waiting connection; a client that cannot be served is closed at once. */
static void accept_client(struct fwp_ivshmem *s)
{
	struct client *c = s->c;
	int sock;

	sock = accept4(s->listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (sock < 0)
		return;
	while (c < s->c + FWP_IVSHMEM_CLIENTS && c->sock >= 0)
		c++;
	if (c == s->c + FWP_IVSHMEM_CLIENTS) {
		close(sock);
		return;
	}
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->id = new_id(s);
	c->sock = sock;
	if (c->efd < 0 || greet(s, c)) {
		client_free(c);
		return;
	}
	announce(s, c, c->id, c->efd);
}

static int bind_socket(struct fwp_ivshmem *s)
{
	int probe, ret;

	if (!bind(s->listen, (struct sockaddr *)&s->addr, sizeof(s->addr)))
		return 0;
	if (errno != EADDRINUSE)
		return -errno;
	/* The name is taken: replace a dead server's socket, nothing else. */
	if (lstat(s->addr.sun_path, &s->named) || !S_ISSOCK(s->named.st_mode))
		return -EEXIST;
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	ret = connect(probe, (struct sockaddr *)&s->addr, sizeof(s->addr)) ? -errno : -EADDRINUSE;
	close(probe);
	if (ret != -ECONNREFUSED)
		return ret == -EADDRINUSE ? ret : -EEXIST;
	if (unlink(s->addr.sun_path) && errno != ENOENT)
		return -errno;
	return bind(s->listen, (struct sockaddr *)&s->addr, sizeof(s->addr)) ? -errno : 0;
}

int fwp_ivshmem_open(const char *path, int shm_fd, struct fwp_ivshmem **out)
{
	struct fwp_ivshmem *s;
	int i, ret;

	if (!*path || strlen(path) >= sizeof(s->addr.sun_path))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->shm = shm_fd;
	s->efd = -1;
	s->next_id = FWP_IVSHMEM_FIRST_ID;
	for (i = 0; i < FWP_IVSHMEM_CLIENTS; i++)
		s->c[i].sock = s->c[i].efd = -1;
	s->addr.sun_family = AF_UNIX;
	strcpy(s->addr.sun_path, path);
	s->listen = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ret = s->listen < 0 ? -errno : bind_socket(s);
	if (ret) {
		s->named.st_ino = 0;	/* the name is not ours: close leaves it */
		goto fail;
	}
	ret = lstat(path, &s->named) || listen(s->listen, FWP_IVSHMEM_CLIENTS) ? -errno : 0;
	if (!ret) {
		s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ret = s->efd < 0 ? -errno : 0;
	}
	if (ret)
		goto fail;
	*out = s;
	return 0;
fail:
	fwp_ivshmem_close(s);
	return ret;
}

void fwp_ivshmem_close(struct fwp_ivshmem *s)
{
	struct stat now;
	int i;

	if (!s)
		return;
	for (i = 0; i < FWP_IVSHMEM_CLIENTS; i++)
		client_free(&s->c[i]);
	/* The name goes only while it is still our socket (a new server may have replaced it). */
	if (s->named.st_ino && !lstat(s->addr.sun_path, &now) && now.st_ino == s->named.st_ino &&
	    now.st_dev == s->named.st_dev)
		unlink(s->addr.sun_path);
	if (s->listen >= 0)
		close(s->listen);
	if (s->efd >= 0)
		close(s->efd);
	free(s);
}

uint32_t fwp_ivshmem_ring_value(void)
{
	return FWP_IVSHMEM_BMC_ID << 16;	/* vector 0 */
}

int fwp_ivshmem_ring(struct fwp_ivshmem *s)
{
	const uint64_t one = 1;
	struct client *c;

	for (c = s->c; c < s->c + FWP_IVSHMEM_CLIENTS; c++) {
		/* -EAGAIN: the counter is full, the client has an interrupt pending anyway. */
		if (c->sock >= 0 && write(c->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			return -errno;
	}
	return 0;
}

/* 1 if the BMC was rung (reading the eventfd resets it), 0 if not. */
static int consume_ring(int efd)
{
	uint64_t n;

	if (read(efd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		return 1;
	return errno == EAGAIN ? 0 : -errno;
}

/* One ppoll over the BMC's eventfd, the listening socket and every client. */
static int wait_once(struct fwp_ivshmem *s, uint64_t ns)
{
	struct pollfd p[2 + FWP_IVSHMEM_CLIENTS];
	struct timespec ts = { .tv_sec = ns / 1000000000u, .tv_nsec = ns % 1000000000u };
	int i, n;

	p[0] = (struct pollfd){ .fd = s->efd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = s->listen, .events = POLLIN };
	for (i = 0; i < FWP_IVSHMEM_CLIENTS; i++)
		p[2 + i] = (struct pollfd){ .fd = s->c[i].sock, .events = POLLIN };
	n = ppoll(p, 2 + FWP_IVSHMEM_CLIENTS, &ts, NULL);
	if (n <= 0)
		return n < 0 && errno != EINTR ? -errno : 0;
	/* A client's socket is readable: it spoke (against the protocol) or it closed. */
	for (i = 0; i < FWP_IVSHMEM_CLIENTS; i++) {
		if (p[2 + i].revents)
			s->c[i].dead = true;
	}
	/* The leaving go first, so a client that reconnects is not told of its old self. */
	reap(s);
	if (p[1].revents)
		accept_client(s);
	return p[0].revents ? consume_ring(s->efd) : -EAGAIN;
}

int fwp_ivshmem_wait(struct fwp_ivshmem *s, uint64_t timeout_ns)
{
	uint64_t now = fwp_now_ns(), end = now + timeout_ns;
	int ret;

	if (end < now)
		end = UINT64_MAX;	/* "forever" */
	do {
		ret = wait_once(s, end - now);
		now = fwp_now_ns();
	} while (ret == -EAGAIN && now < end);
	return ret == -EAGAIN ? 0 : ret;
}
