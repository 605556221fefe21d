/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "transport/module.h"
#include "transport/transport.h"

/* The transports linked in; the DPDK one too in a static build, which cannot load modules. */
static const struct fwp_transport_ops *const transports[] = {
	&fwp_transport_shm,
	&fwp_transport_vfio,
	&fwp_transport_pci,
	&fwp_transport_mem,
#ifdef FWP_DPDK_LINKED
	&fwp_transport_dpdk,
#endif
};

/* The transports in modules (transport/module.h), loaded when a target first names them. */
static const struct {
	const char *scheme;
	const char *module;
	const char *built;	/* its path in the build tree */
} modular[] = {
#ifdef FWP_DPDK_MODULE
	{ "dpdk", "dpdk", FWP_DPDK_MODULE },
#endif
	{ NULL, NULL, NULL },
};

static bool scheme_is(const char *uri, size_t len, const char *scheme)
{
	return strlen(scheme) == len && !memcmp(uri, scheme, len);
}

/* The ops of the scheme uri names (len bytes): -EAFNOSUPPORT, or -ELIBACC if its module fails. */
static int find_ops(const char *uri, size_t len, const struct fwp_transport_ops **ops)
{
	const void *loaded;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(transports) / sizeof(transports[0]); i++) {
		if (scheme_is(uri, len, transports[i]->scheme)) {
			*ops = transports[i];
			return 0;
		}
	}
	for (i = 0; modular[i].scheme; i++) {
		if (!scheme_is(uri, len, modular[i].scheme))
			continue;
		ret = fwp_module_load(modular[i].module, modular[i].built,
				      sizeof(struct fwp_transport_ops), &loaded);
		if (ret)
			return ret;
		*ops = loaded;
		return 0;
	}
	return -EAFNOSUPPORT;
}

static int target_new(const char *uri, struct fwp_target **out)
{
	const char *colon = strchr(uri, ':');
	const struct fwp_transport_ops *ops;
	struct fwp_target *t;
	int ret;

	if (!colon || colon == uri || !colon[1])
		return -EINVAL;
	ret = find_ops(uri, (size_t)(colon - uri), &ops);
	if (ret)
		return ret;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->uri = strdup(uri);
	if (!t->uri) {
		free(t);
		return -ENOMEM;
	}
	t->ops = ops;
	t->arg = t->uri + (colon - uri) + 1;
	t->fd = -1;
	*out = t;
	return 0;
}

/* Host side opens, BMC side creates; both build the handle the same way. */
static int target_start(const char *uri, bool create, size_t size, struct fwp_target **out)
{
	struct fwp_target *t;
	int ret;

	ret = target_new(uri, &t);
	if (ret)
		return ret;
	if (create)
		ret = t->ops->create ? t->ops->create(t, size) : -EOPNOTSUPP;
	else
		ret = t->ops->open(t);
	if (ret) {
		fwp_target_close(t);
		return ret;
	}
	*out = t;
	return 0;
}

int fwp_target_open(const char *uri, struct fwp_target **out)
{
	return target_start(uri, false, 0, out);
}

int fwp_target_create(const char *uri, size_t size, struct fwp_target **out)
{
	return target_start(uri, true, size, out);
}

void fwp_target_close(struct fwp_target *t)
{
	if (!t)
		return;
	t->ops->close(t);
	free(t->uri);
	free(t);
}

int fwp_target_peer_alive(const struct fwp_target *t)
{
	return t->ops->peer_alive ? t->ops->peer_alive(t) : 0;
}

int fwp_target_doorbell_setup(struct fwp_target *t, uint32_t ring_value)
{
	return t->ops->doorbell_setup ? t->ops->doorbell_setup(t, ring_value) : -ENOTSUP;
}

uint32_t fwp_target_ring_value(const struct fwp_target *t)
{
	return t->ops->ring_value ? t->ops->ring_value(t) : 0;
}

int fwp_target_ring(struct fwp_target *t)
{
	return t->ops->ring ? t->ops->ring(t) : -ENOTSUP;
}

int fwp_target_wait(struct fwp_target *t, uint64_t timeout_ns)
{
	return t->ops->wait ? t->ops->wait(t, timeout_ns) : -ENOTSUP;
}

void *fwp_target_base(const struct fwp_target *t)
{
	return t->base;
}

size_t fwp_target_size(const struct fwp_target *t)
{
	return t->size;
}

unsigned fwp_target_flags(const struct fwp_target *t)
{
	return t->flags;
}

const char *fwp_target_uri(const struct fwp_target *t)
{
	return t->uri;
}
