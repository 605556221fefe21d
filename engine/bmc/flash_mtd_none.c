/* SPDX-License-Identifier: MIT */
/* fwp_mtd_* where the build has no <mtd/mtd-user.h> (engine/bmc/meson.build): no MTD flash. */
#include <errno.h>
#include <stddef.h>

#include "fwpush/bmc.h"

int fwp_mtd_open(const char *dev, struct fwp_mtd **out)
{
	(void)dev;
	(void)out;
	return -ENOTSUP;
}

void fwp_mtd_close(struct fwp_mtd *m)
{
	(void)m;
}

const struct fwp_flash_ops *fwp_mtd_ops(void)
{
	return NULL;
}

void fwp_mtd_get_info(const struct fwp_mtd *m, struct fwp_mtd_info *out)
{
	(void)m;
	*out = (struct fwp_mtd_info){ 0 };
}

const char *fwp_mtd_error(const struct fwp_mtd *m)
{
	(void)m;
	return "this fwpush was built without MTD support (no <mtd/mtd-user.h>)";
}
