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
 * -ENODATA: empty. detail gets a one-line reason.
 */
int fwp_fetch(const char *source, const char *dest, struct fwp_hash128 *hash, uint64_t *size,
	      char *detail, size_t detail_len);

#endif
