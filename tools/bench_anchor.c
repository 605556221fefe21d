/* SPDX-License-Identifier: MIT */
/*
 * The anchor baseline of fwpush bench: an emulation of burn_my_bmc, the host tool of
 * openbmc/phosphor-ipmi-flash, over the PCI window (ASPEED P2A), with the BMC side as a child
 * process. What it does, and where in phosphor-ipmi-flash that comes from:
 *
 * - Host, per chunk (tools/p2a.cpp, P2aDataHandler::sendContents): read() the next 64 KiB of
 *   the image into one buffer, copy it into the 64 KiB window (the BAR), then send an IPMI
 *   blob write carrying only the chunk's length (struct ExtChunkHdr) and wait for its answer:
 *   that command is the doorbell. One buffer, nothing overlaps.
 * - BMC, per blob write (bmc/firmware-handler/firmware_handler.cpp, write; pci_handler.cpp,
 *   PciDataHandler::copyFrom; bmc/file_handler.cpp, FileHandler::write): copy the length out
 *   of the window into a buffer, then write it at its offset into the staging file, which
 *   opening the session created empty (std::ios::out truncates).
 * - After the upload, two separate steps, each its own round trip: verify (here: the BMC
 *   reads the staging file back and hashes it, XXH3-128, against the value the host sends,
 *   standing in for the signature file a verify service checks) and update (the BMC copies
 *   the staging file into flash).
 *
 * The IPMI command is emulated as a request and an answer over a UNIX socket (SOCK_SEQPACKET:
 * a write and a read on each side, as the host's ioctl/poll/read on /dev/ipmi0 and the BMC's
 * ipmid are system calls too). Where the emulation is kinder than the real tool, and so makes
 * the anchor faster than burn_my_bmc would be: the socket round trip costs microseconds where
 * KCS or BT costs milliseconds; the BMC copies into one reused buffer (copyFrom allocates a
 * vector per chunk); the last short chunk copies only its bytes; and the status of verify and
 * update is answered when the step is done, where burn_my_bmc polls it (tools/helper.cpp,
 * pollStatus: every 5 s in the version read).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_anchor.h"
#include "cli.h"

enum anchor_cmd { CMD_OPEN = 1, CMD_WRITE, CMD_VERIFY, CMD_UPDATE };

/* One IPMI blob command: its kind, a chunk's length and offset, or the image's hash. */
struct anchor_req {
	uint32_t cmd;
	uint32_t len;
	uint64_t off;
	struct fwp_hash128 hash;
};

struct anchor_resp {
	int32_t status;		/* 0 or -errno */
};

struct cli_anchor {
	int sock;
	pid_t pid;
	unsigned char *window;	/* shared with the BMC process */
	unsigned char *buf;	/* the host's read buffer */
	char flash[320];
	char staging[320];
};

/* The BMC process's side. */
struct anchor_bmc {
	int sock;
	int staging_fd;
	const unsigned char *window;
	unsigned char buf[CLI_ANCHOR_WINDOW];
	const char *flash;
	const char *staging;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int pwrite_all(int fd, const unsigned char *p, size_t len, uint64_t off)
{
	ssize_t n;

	while (len) {
		n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

/* The verify step: the staging file read back and hashed, against the host's value. */
static int bmc_verify(struct anchor_bmc *s, const struct fwp_hash128 *want)
{
	struct fwp_hash128 got;
	int fd = open(s->staging, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = fwp_hash_fd(fd, &got);
	close(fd);
	if (ret)
		return ret;
	return got.lo == want->lo && got.hi == want->hi ? 0 : -EBADMSG;
}

/* The update step: the staging file copied into flash, which keeps its blocks between runs. */
static int bmc_update(struct anchor_bmc *s)
{
	int in = open(s->staging, O_RDONLY | O_CLOEXEC), out = -1, ret = 0;
	uint64_t off = 0;
	ssize_t n = 1;

	if (in >= 0)
		out = open(s->flash, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (out < 0)
		ret = -errno;
	while (!ret && n > 0) {
		n = cli_read_full(in, s->buf, sizeof(s->buf));
		ret = n < 0 ? (int)n : pwrite_all(out, s->buf, n, off);
		off += n > 0 ? n : 0;
	}
	if (!ret && ftruncate(out, off))
		ret = -errno;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

static int bmc_handle(struct anchor_bmc *s, const struct anchor_req *r)
{
	switch (r->cmd) {
	case CMD_OPEN:
		if (s->staging_fd >= 0)
			close(s->staging_fd);
		s->staging_fd = open(s->staging, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		return s->staging_fd < 0 ? -errno : 0;
	case CMD_WRITE:
		if (s->staging_fd < 0 || r->len > sizeof(s->buf))
			return -EINVAL;
		memcpy(s->buf, s->window, r->len);
		return pwrite_all(s->staging_fd, s->buf, r->len, r->off);
	case CMD_VERIFY:
		if (s->staging_fd >= 0)
			close(s->staging_fd);	/* the upload session is closed first */
		s->staging_fd = -1;
		return bmc_verify(s, &r->hash);
	case CMD_UPDATE:
		return bmc_update(s);
	}
	return -EINVAL;
}

/* The BMC process: one answer per command until the host closes its end. */
static void bmc_serve(struct anchor_bmc *s)
{
	struct anchor_req req;
	struct anchor_resp resp;
	ssize_t n;

	for (;;) {
		n = read(s->sock, &req, sizeof(req));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(req))
			return;
		resp.status = bmc_handle(s, &req);
		if (write(s->sock, &resp, sizeof(resp)) != sizeof(resp))
			return;
	}
}

int cli_anchor_start(const char *flash, const char *staging, struct cli_anchor **out)
{
	struct cli_anchor *a = calloc(1, sizeof(*a));
	struct anchor_bmc *s;
	int sv[2], ret;

	if (!a)
		return -ENOMEM;
	a->sock = -1;
	snprintf(a->flash, sizeof(a->flash), "%s", flash);
	snprintf(a->staging, sizeof(a->staging), "%s", staging);
	a->window = mmap(NULL, CLI_ANCHOR_WINDOW, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	a->buf = malloc(CLI_ANCHOR_WINDOW);
	if (a->window == MAP_FAILED || !a->buf ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		ret = a->window == MAP_FAILED || !a->buf ? -ENOMEM : -errno;
		goto err;
	}
	a->sock = sv[0];
	a->pid = fork();
	if (a->pid == 0) {
		close(sv[0]);
		s = malloc(sizeof(*s));
		if (s) {
			*s = (struct anchor_bmc){ .sock = sv[1], .staging_fd = -1,
						  .window = a->window, .flash = a->flash,
						  .staging = a->staging };
			bmc_serve(s);
		}
		_exit(0);
	}
	ret = a->pid < 0 ? -errno : 0;
	close(sv[1]);
	if (ret)
		goto err;
	*out = a;
	return 0;
err:
	a->pid = 0;
	cli_anchor_stop(a);
	return ret;
}

/* One command and its answer: the emulated IPMI round trip. */
static int call(struct cli_anchor *a, const struct anchor_req *req)
{
	struct anchor_resp resp;
	ssize_t n;

	do
		n = write(a->sock, req, sizeof(*req));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(*req))
		return n < 0 ? -errno : -EIO;
	do
		n = read(a->sock, &resp, sizeof(resp));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(resp))
		return n < 0 ? -errno : -EPIPE;
	return resp.status;
}

static int upload(struct cli_anchor *a, int fd, uint64_t *size)
{
	struct anchor_req req = { .cmd = CMD_WRITE };
	ssize_t n;
	int ret = 0;

	*size = 0;
	while (!ret) {
		n = cli_read_full(fd, a->buf, CLI_ANCHOR_WINDOW);
		if (n <= 0)
			return (int)n;
		memcpy(a->window, a->buf, n);
		req.len = (uint32_t)n;
		req.off = *size;
		ret = call(a, &req);
		*size += n;
	}
	return ret;
}

int cli_anchor_push(struct cli_anchor *a, const char *image, const struct fwp_hash128 *want,
		    uint64_t *ns)
{
	struct anchor_req req = { .cmd = CMD_OPEN };
	uint64_t t0 = now_ns(), size;
	int fd = open(image, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = call(a, &req) ?: upload(a, fd, &size);
	close(fd);
	req = (struct anchor_req){ .cmd = CMD_VERIFY, .hash = *want };
	ret = ret ?: call(a, &req);
	req = (struct anchor_req){ .cmd = CMD_UPDATE };
	ret = ret ?: call(a, &req);
	*ns = now_ns() - t0;
	return ret;
}

void cli_anchor_stop(struct cli_anchor *a)
{
	if (!a)
		return;
	if (a->sock >= 0)
		close(a->sock);		/* the BMC process reads the end and exits */
	if (a->pid > 0)
		waitpid(a->pid, NULL, 0);
	if (a->window && a->window != MAP_FAILED)
		munmap(a->window, CLI_ANCHOR_WINDOW);
	free(a->buf);
	unlink(a->staging);
	unlink(a->flash);
	free(a);
}
