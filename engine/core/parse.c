/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fwpush/parse.h"

/* Decimal digits into *v; -ERANGE past 64 bits. Returns where the digits end. */
static const char *digits(const char *s, uint64_t *v, int *err)
{
	*v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (*v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			*err = -ERANGE;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	return s;
}

int fwp_parse_size(const char *s, uint64_t *out)
{
	unsigned shift = 0;
	const char *end;
	int err = 0;
	uint64_t v;

	end = digits(s, &v, &err);
	if (end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 0: break;
	default: return -EINVAL;
	}
	if (shift) {
		end++;
		end += *end == 'i';
		end += *end == 'B';
	}
	if (*end)
		return -EINVAL;
	if (err || v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int fwp_parse_ms(const char *s, uint32_t *out)
{
	double v, scale = 1000;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	v = strtod(s, &end);
	if (end == s)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		scale = 1;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	v *= scale;
	if (v < 1 || v > 86400000)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int fwp_parse_positive(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !isfinite(v) || v <= 0)
		return -EINVAL;
	*out = v;
	return 0;
}
