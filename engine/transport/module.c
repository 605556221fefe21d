/* SPDX-License-Identifier: MIT */
/* Finds and opens the loadable modules (transport/module.h). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwpush/pci.h"
#include "transport/module.h"

/* Why the last fwp_module_load() of this thread failed. */
static _Thread_local char why[PATH_MAX + 256];

const char *fwp_module_error(void)
{
	return why;
}

#ifdef FWP_MODULES
#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	const char *name;
	const void *ops;
} loaded[4];

/* Does this program run from the build tree (FWP_BUILD_ROOT)? Then so do its modules. */
static bool uninstalled(void)
{
	char exe[PATH_MAX], root[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t len;

	if (n <= 0 || !realpath(FWP_BUILD_ROOT, root))
		return false;
	exe[n] = '\0';
	len = strlen(root);
	return !strncmp(exe, root, len) && exe[len] == '/';
}

/*
 * Opens path and checks that it is module name of this very build. A module that fails a
 * check stays mapped: closing one that pulled in DPDK would run its libraries' destructors for
 * nothing, and the process is about to report the error and exit anyway.
 */
static int open_module(const char *path, const char *name, size_t ops_size, const void **ops)
{
	const struct fwp_module *m;
	const char *err;
	void *h;

	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		err = dlerror();
		snprintf(why, sizeof(why), "module fwpush-%s.so: %s", name, err ? err : path);
		return -ELIBACC;
	}
	m = dlsym(h, "fwp_module");
	if (!m) {
		err = dlerror();
		snprintf(why, sizeof(why), "module fwpush-%s.so: %s: not an fwpush module (%s)",
			 name, path, err ? err : "no fwp_module");
		return -ELIBACC;
	}
	if (strcmp(m->abi, FWP_MODULE_ABI) || strcmp(m->name, name)) {
		snprintf(why, sizeof(why), "module fwpush-%s.so: %s is the %s module of %s, not "
			 "the %s module of this %s", name, path, m->name, m->abi, name,
			 FWP_MODULE_ABI);
		return -ELIBACC;
	}
	if (m->ops_size != ops_size) {
		snprintf(why, sizeof(why), "module fwpush-%s.so: %s has a %zu-byte ops table, "
			 "this %s expects %zu (a stale build?)", name, path, m->ops_size,
			 FWP_MODULE_ABI, ops_size);
		return -ELIBACC;
	}
	*ops = m->ops;
	return 0;
}

int fwp_module_load(const char *name, const char *built, size_t ops_size, const void **ops)
{
	const char *dir = getenv("FWPUSH_MODULE_DIR");
	char path[PATH_MAX];
	size_t i;
	int ret;

	pthread_mutex_lock(&lock);
	for (i = 0; i < sizeof(loaded) / sizeof(loaded[0]) && loaded[i].name; i++) {
		if (!strcmp(loaded[i].name, name)) {
			*ops = loaded[i].ops;
			pthread_mutex_unlock(&lock);
			return 0;
		}
	}
	if (dir && *dir)
		snprintf(path, sizeof(path), "%s/fwpush-%s.so", dir, name);
	else if (built && uninstalled())
		snprintf(path, sizeof(path), "%s", built);
	else
		snprintf(path, sizeof(path), "%s/fwpush-%s.so", FWP_MODULE_DIR, name);
	ret = open_module(path, name, ops_size, ops);
	if (!ret && i < sizeof(loaded) / sizeof(loaded[0])) {
		loaded[i].name = name;
		loaded[i].ops = *ops;
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

#else
/* A static build links every part in (the dpdk: transport) or goes without it (URLs). */
int fwp_module_load(const char *name, const char *built, size_t ops_size, const void **ops)
{
	(void)built;
	(void)ops_size;
	(void)ops;
	snprintf(why, sizeof(why), "module fwpush-%s.so: this fwpush is linked statically and "
		 "loads no modules", name);
	return -ELIBACC;
}
#endif
