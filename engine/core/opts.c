/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "core/opts.h"

int fwp_opts_copy(void *ours, size_t ours_sz, const void *theirs)
{
	const unsigned char *tail;
	size_t sz, i;

	memset(ours, 0, ours_sz);
	if (theirs) {
		memcpy(&sz, theirs, sizeof(sz));
		if (sz < sizeof(sz))
			return -EINVAL;
		for (tail = theirs, i = ours_sz; i < sz; i++) {
			if (tail[i])
				return -EINVAL;
		}
		memcpy(ours, theirs, sz < ours_sz ? sz : ours_sz);
	}
	memcpy(ours, &ours_sz, sizeof(ours_sz));
	return 0;
}
