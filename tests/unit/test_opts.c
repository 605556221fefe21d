/* SPDX-License-Identifier: MIT */
/*
 * Options structs that grow: an older caller's shorter struct, a newer caller's longer one
 * with only zeros past what we know, and one with a field we do not know (refused).
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "core/opts.h"

/* Each version adds fields at the previous one's sizeof, never in its tail padding. */
struct v1 { size_t sz; long a; };
struct v2 { size_t sz; long a; int b; long c; };
struct v3 { size_t sz; long a; int b; long c; long d; };

int main(void)
{
	struct v1 old = { .sz = sizeof(old), .a = 7 };
	struct v3 newer = { .sz = sizeof(newer), .a = 1, .b = 2, .c = 3 };
	struct v2 ours;

	CHECK_EQ(fwp_opts_copy(&ours, sizeof(ours), NULL), 0);	/* all defaults */
	CHECK_EQ(ours.sz, sizeof(ours));
	CHECK(ours.a == 0 && ours.b == 0 && ours.c == 0);
	memset(&ours, 0x5a, sizeof(ours));
	CHECK_EQ(fwp_opts_copy(&ours, sizeof(ours), &old), 0);	/* older: new fields zero */
	CHECK(ours.sz == sizeof(ours) && ours.a == 7 && ours.b == 0 && ours.c == 0);
	CHECK_EQ(fwp_opts_copy(&ours, sizeof(ours), &newer), 0);	/* newer, unknown part zero */
	CHECK(ours.sz == sizeof(ours) && ours.a == 1 && ours.b == 2 && ours.c == 3);
	newer.d = 1;							/* a field we would ignore */
	CHECK_EQ(fwp_opts_copy(&ours, sizeof(ours), &newer), -EINVAL);
	old.sz = 0;
	CHECK_EQ(fwp_opts_copy(&ours, sizeof(ours), &old), -EINVAL);
	return check_done("test_opts");
}
