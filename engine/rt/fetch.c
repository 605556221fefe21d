/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt/fetch.h"
#include "core/hash.h"
#include "transport/module.h"

struct sink {
	int fd;
	uint64_t size;
	struct fwp_hstate hs;
};

static int sink_write(struct sink *s, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t done = 0;

	fwp_hash()->update(&s->hs, p, n);
	while (done < n) {
		ssize_t w = write(s->fd, b + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		done += w;
	}
	s->size += n;
	return 0;
}

static int sink_cb(void *arg, const void *p, size_t n)
{
	return sink_write(arg, p, n);
}

/*
 * URLs: through the fetcher linked in (a static build), or module fwpush-curl.so, loaded on the
 * first URL so that nothing else pays for libcurl. A module that does not load is an error of
 * the transfer (-EIO) whose detail names it and says why.
 */
static int fetch_url(const char *url, struct sink *s, char *detail, size_t len)
{
#if defined(FWP_CURL_LINKED)
	return fwp_fetch_curl.url(url, sink_cb, s, detail, len);
#elif defined(FWP_CURL_MODULE)
	const struct fwp_fetch_ops *ops;
	const void *loaded;

	if (fwp_module_load("curl", FWP_CURL_MODULE, sizeof(*ops), &loaded)) {
		snprintf(detail, len, "cannot fetch URLs: %s", fwp_module_error());
		return -EIO;
	}
	ops = loaded;
	return ops->url(url, sink_cb, s, detail, len);
#else
	/* A build without libcurl (the static one in the VM rig) takes files only. */
	(void)url;
	(void)s;
	(void)sink_cb;
	snprintf(detail, len, "this fwpush was built without libcurl");
	return -EPROTONOSUPPORT;
#endif
}

static int fetch_file(const char *path, struct sink *s, char *detail, size_t len)
{
	unsigned char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0) {
		snprintf(detail, len, "%s", strerror(errno));
		return -errno;
	}
	while (!ret && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		ret = n < 0 ? -errno : sink_write(s, buf, n);
	}
	close(fd);
	if (ret)
		snprintf(detail, len, "%s", strerror(-ret));
	return ret;
}

int fwp_fetch(const char *source, const char *dest, struct fwp_hash128 *hash, uint64_t *size,
	      char *detail, size_t detail_len)
{
	bool url = !strncmp(source, "http://", 7) || !strncmp(source, "https://", 8);
	struct sink s = { .fd = -1 };
	char part[300];
	int ret;

	snprintf(part, sizeof(part), "%s.part", dest);
	/* A new file of ours, never one planted at the name (the caller's directory is private). */
	s.fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s.fd < 0)
		return -errno;
	fwp_hash()->reset(&s.hs);
	ret = url ? fetch_url(source, &s, detail, detail_len)
		  : fetch_file(source, &s, detail, detail_len);
	if (!ret && s.size == 0) {
		snprintf(detail, detail_len, "empty");
		ret = -ENODATA;
	}
	if (!ret && (fsync(s.fd) || rename(part, dest)))
		ret = -errno;
	close(s.fd);
	if (ret) {
		unlink(part);
		return ret;
	}
	*hash = fwp_hash()->digest(&s.hs);
	*size = s.size;
	return 0;
}
