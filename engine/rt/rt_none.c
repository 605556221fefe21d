/* SPDX-License-Identifier: MIT */
/*
 * The runtime update where there is no XSAVE: it saves and restores x86 processor state
 * (rt_cpu.c), so on any other CPU (a 32-bit Arm BMC) Meson builds this file instead of rt.c and
 * rt_cpu.c, and the public API answers -ENOTSUP (what fwp_rt_activate says for "no XSAVE").
 */
#include <errno.h>
#include <stdio.h>

#include "fwpush/rt.h"
#include "rt/rt_state.h"

static const char why[] = "the runtime update needs x86 XSAVE: not built for this CPU";

static int none(char *detail, size_t detail_len)
{
	if (detail && detail_len)
		snprintf(detail, detail_len, "%s", why);
	return -ENOTSUP;
}

bool fwp_rt_name_ok(const char *name)
{
	return name && !fwp_rt_paths(name, NULL, NULL, 0);
}

int fwp_rt_stage(const char *name, const char *source, const struct fwp_hash128 *expect,
		 const uint8_t *signature, struct fwp_hash128 *hash, uint64_t *size,
		 char *detail, size_t detail_len)
{
	(void)name, (void)source, (void)expect, (void)signature, (void)hash, (void)size;
	return none(detail, detail_len);
}

int fwp_rt_activate(const struct fwp_rt_opts *opts, struct fwp_rt_result *res)
{
	(void)opts;
	return none(res ? res->detail : NULL, res ? sizeof(res->detail) : 0);
}

int fwp_rt_bare(const int *cpus, unsigned ncpus, unsigned runs, struct fwp_rt_bare *out)
{
	(void)cpus, (void)ncpus, (void)runs, (void)out;
	return -ENOTSUP;
}

int fwp_rt_hold(const char *name, char *detail, size_t detail_len)
{
	(void)name;
	return none(detail, detail_len);
}

void fwp_rt_release(void)
{
}

int fwp_rt_remove(const char *name)
{
	(void)name;
	return -ENOTSUP;
}

const char *fwp_rt_outcome_str(enum fwp_rt_outcome o)
{
	(void)o;
	return why;
}
