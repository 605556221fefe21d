/* SPDX-License-Identifier: MIT */
/* Receives an update from a file or an http(s) URL into a file, hashing it on the way. */
#ifndef FWP_FETCH_H
#define FWP_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "fwpush/wire.h"

/*
 * Writes source to dest (through dest.part, renamed when complete). -ENOENT: no such file or
 * HTTP 404; -EACCES; -EHOSTUNREACH: cannot connect; -EIO: truncated or failed transfer;
 * -ENODATA: empty; -EPROTONOSUPPORT: a URL, and this fwpush was built without libcurl. A URL
 * whose module (fwpush-curl.so) does not load is -EIO. detail gets a one-line reason.
 */
int fwp_fetch(const char *source, const char *dest, struct fwp_hash128 *hash, uint64_t *size,
	      char *detail, size_t detail_len);

/* Takes n more bytes of a transfer: 0, or -errno to stop it. */
typedef int (*fwp_fetch_sink)(void *arg, const void *p, size_t n);

/* A URL fetcher: libcurl's in fetch_curl.c, the module fwpush-curl.so or linked in. */
struct fwp_fetch_ops {
	/*
	 * Receives url into sink. -ENOENT: HTTP 404; -EKEYREJECTED: server certificate not
	 * trusted; -EHOSTUNREACH: cannot connect; -ENOSPC: the sink refused; -EIO: anything else.
	 */
	int (*url)(const char *url, fwp_fetch_sink sink, void *arg, char *detail, size_t len);
};

extern const struct fwp_fetch_ops fwp_fetch_curl;

#endif
