/* SPDX-License-Identifier: MIT */
#ifdef FWP_HAVE_CURL
#include <curl/curl.h>
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt/fetch.h"
#include "core/hash.h"

struct sink {
	int fd;
	uint64_t size;
	struct fwp_hstate hs;
	bool failed;
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

#ifdef FWP_HAVE_CURL
static size_t on_curl_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (sink_write(s, p, size * n)) {
		s->failed = true;
		return 0;
	}
	return size * n;
}

/*
 * An https server is always verified: its certificate must chain to the CAs in the file
 * FWPUSH_CA_FILE names (PEM), or to the system's when it is unset, and name the host.
 */
static int fetch_url(const char *url, struct sink *s, char *detail, size_t len)
{
	const char *ca_file = getenv("FWPUSH_CA_FILE");
	char why[CURL_ERROR_SIZE] = "";
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode rc;

	if (!c)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file && *ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_curl_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	/* A transfer slower than 1 KB/s for 30 s is stalled, not slow. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc == CURLE_OK)
		return 0;
	if (rc == CURLE_HTTP_RETURNED_ERROR)
		snprintf(detail, len, "HTTP %ld", status);
	else if (rc == CURLE_PEER_FAILED_VERIFICATION && why[0])
		snprintf(detail, len, "%s", why);
	else
		snprintf(detail, len, "%s%s%s", curl_easy_strerror(rc), why[0] ? ": " : "", why);
	if (rc == CURLE_HTTP_RETURNED_ERROR)
		return status == 404 ? -ENOENT : -EIO;
	if (rc == CURLE_PEER_FAILED_VERIFICATION)
		return -EKEYREJECTED;
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		return -EHOSTUNREACH;
	return s->failed ? -ENOSPC : -EIO;
}

#else
/* A build without libcurl (the static one in the VM rig) takes files only. */
static int fetch_url(const char *url, struct sink *s, char *detail, size_t len)
{
	(void)url;
	(void)s;
	snprintf(detail, len, "this fwpush was built without libcurl");
	return -EPROTONOSUPPORT;
}
#endif

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
	s.fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
