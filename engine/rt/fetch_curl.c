/* SPDX-License-Identifier: MIT */
/*
 * http(s) URLs through libcurl: the module fwpush-curl.so, which fwp_fetch() loads on the first
 * URL so that no other process maps libcurl and the libraries it pulls in (transport/module.h);
 * a static build links this same file in instead. It knows nothing of fwpush but fetch.h.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "rt/fetch.h"
#include "transport/module.h"

struct transfer {
	fwp_fetch_sink sink;
	void *arg;
	bool failed;		/* the sink refused what arrived */
};

static size_t on_curl_data(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *x = arg;

	if (x->sink(x->arg, p, size * n)) {
		x->failed = true;
		return 0;
	}
	return size * n;
}

/*
 * An https server is always verified: its certificate must chain to the CAs in the file
 * FWPUSH_CA_FILE names (PEM), or to the system's when it is unset, and name the host.
 */
static int fetch_url(const char *url, fwp_fetch_sink sink, void *arg, char *detail, size_t len)
{
	const char *ca_file = getenv("FWPUSH_CA_FILE");
	struct transfer x = { .sink = sink, .arg = arg };
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
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
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
	return x.failed ? -ENOSPC : -EIO;
}

const struct fwp_fetch_ops fwp_fetch_curl = {
	.url = fetch_url,
};

#ifdef FWP_MODULE
FWP_MODULE_EXPORT("curl", fwp_fetch_curl);
#endif
