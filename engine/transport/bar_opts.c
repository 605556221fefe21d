/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "fwpush/parse.h"
#include "fwpush/pci.h"
#include "fwpush/wire.h"
#include "transport/bar_opts.h"

/* One ",name=value" at opt: the name and its value; *next: the pair after it, or NULL. */
static int opt_pair(const char *opt, const char **name, size_t *name_len, uint64_t *v,
		    const char **next)
{
	const char *val = strchr(opt + 1, '='), *end = strchr(opt + 1, ',');
	char buf[32];
	size_t n;

	if (*opt != ',' || !val || (end && val > end))
		return -EINVAL;
	n = end ? (size_t)(end - val - 1) : strlen(val + 1);
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, val + 1, n);
	buf[n] = '\0';
	*name = opt + 1;
	*name_len = (size_t)(val - opt - 1);
	*next = end;
	return fwp_parse_size(buf, v) ? -EINVAL : 0;
}

int fwp_bar_opts_parse(const char *opt, struct fwp_bar_opts *o)
{
	const char *name;
	size_t len;
	uint64_t v;

	*o = (struct fwp_bar_opts){ .bar = -1 };
	while (opt && *opt) {
		if (opt_pair(opt, &name, &len, &v, &opt))
			return -EINVAL;
		if (len == 3 && !strncmp(name, "bar", 3) && v < FWP_PCI_BARS)
			o->bar = (int)v;
		else if (len == 6 && !strncmp(name, "offset", 6) && v % FWP_PAGE == 0)
			o->offset = v, o->offset_given = true;
		else
			return -EINVAL;
	}
	return 0;
}
