/* SPDX-License-Identifier: MIT */
/*
 * The BMC's management plane: a Redfish (DMTF DSP0266) subset over HTTPS, served from the same
 * process and the same flash as the window (fwp_bmc). A remote user or fleet tool reads the
 * firmware inventory (both banks, with their XXH3-128), uploads an image (HttpPushUri,
 * MultipartHttpPushUri) or has the BMC pull one (SimpleUpdate), and watches it as a task; a
 * push through the window shows up as a task too. One update at a time, whichever door.
 * Served by libmicrohttpd with GnuTLS in the module fwpush-redfish.so, loaded by
 * fwp_redfish_start.
 */
#ifndef FWPUSH_REDFISH_H
#define FWPUSH_REDFISH_H

#include <stddef.h>
#include <stdint.h>

#include "fwpush/bmc.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

struct fwp_redfish;

struct fwp_redfish_opts {
	size_t sz;			/* sizeof(struct fwp_redfish_opts) */
	const char *listen;		/* "ADDR:PORT" (IPv4); NULL: 127.0.0.1:8443; port 0: any */
	/*
	 * Credentials: one "NAME:HASH" per line, HASH a crypt(3) hash ("openssl passwd -6",
	 * mkpasswd); # starts a comment. Required: there is no default password.
	 */
	const char *users_path;
	const char *tls_cert, *tls_key;	/* PEM files; NULL: a self-signed pair (see tls_state) */
	/*
	 * Where the self-signed pair is kept, PREFIX.crt and PREFIX.key: made at the first start,
	 * used again after. NULL: a fresh pair in memory at each start.
	 */
	const char *tls_state;
	uint32_t lockout_failures;	/* failed logins from one address before lockout; 0: 5 */
	uint32_t lockout_ms;		/* how long that address is locked out; 0: 30 s */
	uint32_t timeout_s;		/* an idle or stalled connection is closed; 0: 30 */
	uint32_t reserved;
};
_Static_assert(sizeof(struct fwp_redfish_opts) == (sizeof(void *) == 8 ? 64 : 40),
	       "fwp_redfish_opts is frozen: add at the end");

/*
 * Starts serving b over HTTPS in threads of its own (b's fwp_bmc_run keeps the window). Hashes
 * the active image first: call before fwp_bmc_run. -ELIBACC: the module fwpush-redfish.so is
 * not there or does not load; -ENOTSUP: a build without it; -EADDRINUSE; -ENOENT, -EACCES,
 * -EINVAL: a file in opts. fwp_redfish_error() then says why in one line.
 */
int fwp_redfish_start(struct fwp_bmc *b, const struct fwp_redfish_opts *opts,
		      struct fwp_redfish **out);
/* The port served (useful with port 0). */
unsigned fwp_redfish_port(const struct fwp_redfish *r);
/* Why the last fwp_redfish_start of this thread failed. */
const char *fwp_redfish_error(void);
/* Stops serving; an upload in progress is dropped, nothing activated. NULL is fine. */
void fwp_redfish_stop(struct fwp_redfish *r);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
