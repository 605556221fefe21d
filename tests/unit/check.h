/* SPDX-License-Identifier: MIT */
/* A minimal test harness: CHECK() records a failure with its location and goes on. */
#ifndef FWP_CHECK_H
#define FWP_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,	\
				__LINE__, #cond);				\
			check_failures++;					\
		}								\
	} while (0)

#define CHECK_EQ(a, b)								\
	do {									\
		long long _a = (long long)(a), _b = (long long)(b);		\
		if (_a != _b) {							\
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
				__FILE__, __LINE__, #a, #b, _a, _b);		\
			check_failures++;					\
		}								\
	} while (0)

static inline int check_done(const char *name)
{
	if (check_failures)
		fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
	else
		printf("%s: all checks passed\n", name);
	return check_failures ? 1 : 0;
}

#endif
