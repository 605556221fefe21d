/* SPDX-License-Identifier: MIT */
/*
 * Between the engine and the module fwpush-redfish.so (rt/redfish_mhd.c): the module sees the
 * BMC only through struct fwp_redfish_host, the engine's door (bmc/door.h) and URL fetcher.
 */
#ifndef FWP_REDFISH_MODULE_H
#define FWP_REDFISH_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "bmc/door.h"
#include "fwpush/redfish.h"
#include "rt/fetch.h"

struct fwp_redfish_host {
	void *bmc;
	int (*open)(void *bmc, uint64_t size);
	int (*write)(void *bmc, const void *p, size_t n);
	int (*finish)(void *bmc, uint64_t size, const unsigned char *sig,
		      struct fwp_hash128 *hash);
	void (*abort)(void *bmc);
	void (*status)(void *bmc, struct fwp_door_status *s);
	/* NULL: no URLs (SimpleUpdate answers 501). */
	int (*fetch)(const char *url, fwp_fetch_sink sink, void *arg, char *detail, size_t len);
	const char *version;		/* the BMC's FirmwareVersion */
};

struct fwp_redfish_ops {
	/* 0 or -errno, err: one line why. *port: the port bound. */
	int (*start)(const struct fwp_redfish_opts *o, const struct fwp_redfish_host *h,
		     void **srv, unsigned *port, char *err, size_t len);
	void (*stop)(void *srv);
};

extern const struct fwp_redfish_ops fwp_redfish_mhd;

#endif
