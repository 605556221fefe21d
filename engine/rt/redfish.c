/* SPDX-License-Identifier: MIT */
/* fwp_redfish_start: loads fwpush-redfish.so and hands it the BMC's door. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwpush/redfish.h"
#include "bmc/door.h"
#include "core/opts.h"
#include "rt/fetch.h"
#include "rt/redfish_module.h"
#include "transport/module.h"

struct fwp_redfish {
	const struct fwp_redfish_ops *ops;
	void *srv;
	unsigned port;
	struct fwp_redfish_host host;
};

static _Thread_local char why[512];

const char *fwp_redfish_error(void)
{
	return why;
}

#ifdef FWP_REDFISH_MODULE
static int h_open(void *b, uint64_t size)
{
	return fwp_bmc_door_open(b, size);
}

static int h_write(void *b, const void *p, size_t n)
{
	return fwp_bmc_door_write(b, p, n);
}

static int h_finish(void *b, uint64_t size, const unsigned char *sig, struct fwp_hash128 *h)
{
	return fwp_bmc_door_finish(b, size, sig, h);
}

static void h_abort(void *b)
{
	fwp_bmc_door_abort(b);
}

static void h_status(void *b, struct fwp_door_status *s)
{
	fwp_bmc_door_status(b, s);
}

#if defined(FWP_CURL_MODULE) || defined(FWP_CURL_LINKED)
/* SimpleUpdate's URLs: libcurl, through fwpush-curl.so as rt-update does (rt/fetch.c). */
static int h_fetch(const char *url, fwp_fetch_sink sink, void *arg, char *detail, size_t len)
{
#if defined(FWP_CURL_LINKED)
	return fwp_fetch_curl.url(url, sink, arg, detail, len);
#else
	const void *loaded;

	if (fwp_module_load("curl", FWP_CURL_MODULE, sizeof(struct fwp_fetch_ops), &loaded)) {
		snprintf(detail, len, "cannot fetch URLs: %s", fwp_module_error());
		return -EIO;
	}
	return ((const struct fwp_fetch_ops *)loaded)->url(url, sink, arg, detail, len);
#endif
}
#else
#define h_fetch NULL
#endif
#endif /* FWP_REDFISH_MODULE */

int fwp_redfish_start(struct fwp_bmc *b, const struct fwp_redfish_opts *opts,
		      struct fwp_redfish **out)
{
	struct fwp_redfish_opts o;
	int ret;

	why[0] = 0;
	ret = fwp_opts_copy(&o, sizeof(o), opts);
	if (ret) {
		snprintf(why, sizeof(why), "redfish: bad options");
		return ret;
	}
#ifndef FWP_REDFISH_MODULE
	(void)b;
	(void)out;
	snprintf(why, sizeof(why), "redfish: this fwpush was built without it (needs "
		 "libmicrohttpd, json-c, gnutls and a build that can load modules)");
	return -ENOTSUP;
#else
	struct fwp_redfish *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	{
		const void *loaded;

		ret = fwp_module_load("redfish", FWP_REDFISH_MODULE, sizeof(*r->ops), &loaded);
		if (ret) {
			snprintf(why, sizeof(why), "%s", fwp_module_error());
			free(r);
			return ret;
		}
		r->ops = loaded;
	}
	ret = fwp_bmc_door_enable(b);
	if (ret) {
		snprintf(why, sizeof(why), "redfish: reading the active image: %s", strerror(-ret));
		free(r);
		return ret;
	}
	r->host = (struct fwp_redfish_host){
		.bmc = b, .open = h_open, .write = h_write, .finish = h_finish, .abort = h_abort,
		.status = h_status, .fetch = h_fetch, .version = FWP_MODULE_ABI,
	};
	ret = r->ops->start(&o, &r->host, &r->srv, &r->port, why, sizeof(why));
	if (ret) {
		free(r);
		return ret;
	}
	*out = r;
	return 0;
#endif
}

unsigned fwp_redfish_port(const struct fwp_redfish *r)
{
	return r ? r->port : 0;
}

void fwp_redfish_stop(struct fwp_redfish *r)
{
	if (!r)
		return;
	r->ops->stop(r->srv);
	free(r);
}
