/* SPDX-License-Identifier: MIT */
/*
 * Loadable modules: the parts of fwpush that need a large library (the dpdk: transport needs
 * DPDK's EAL, URLs need libcurl, Ed25519 keys and signatures need libcrypto) are shared objects,
 * fwpush-NAME.so, opened with dlopen() the first time a process needs one, so a process that
 * never does (a shm: push, --version) never maps those libraries nor pays their relocations.
 * Each module exports one struct fwp_module, named fwp_module, pointing at its ops table. A
 * fully static build cannot dlopen: there the same sources are linked in and their ops tables
 * are referenced directly; only the lookup differs.
 *
 * Where a module is looked for, first match only:
 *   $FWPUSH_MODULE_DIR/fwpush-NAME.so   when the variable is set (and only there)
 *   the module's path in the build tree  when this program runs from the build tree
 *   FWP_MODULE_DIR/fwpush-NAME.so       the installed modules (LIBDIR/fwpush)
 */
#ifndef FWP_MODULE_H
#define FWP_MODULE_H

#include <stddef.h>

#include "fwpush/pci.h"		/* fwp_module_error() */

struct fwp_module {
	const char *abi;	/* FWP_MODULE_ABI of the build it came from: "fwpush VERSION" */
	const char *name;	/* "dpdk", "curl", "sign" */
	size_t ops_size;	/* sizeof its ops table */
	const void *ops;
};

/* In a module's own build (-DFWP_MODULE): exports its one struct fwp_module. */
#define FWP_MODULE_EXPORT(mod_name, ops_table)						\
	__attribute__((visibility("default"))) const struct fwp_module fwp_module = {	\
		.abi = FWP_MODULE_ABI, .name = (mod_name),				\
		.ops_size = sizeof(ops_table), .ops = &(ops_table),			\
	}

/*
 * Loads module name once per process (thread-safe; a loaded module stays loaded) and points
 * *ops at its ops table, which must be ops_size bytes. built: the module's path in the build
 * tree. -ELIBACC: it is not there, does not load (a library it needs is missing), or is not
 * this build's module; fwp_module_error() then holds one line naming it and saying why.
 */
int fwp_module_load(const char *name, const char *built, size_t ops_size, const void **ops);

#endif
