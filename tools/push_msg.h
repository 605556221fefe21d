/* SPDX-License-Identifier: MIT */
/*
 * The error line of a failed push, the same in every host that runs the push (fwpush push,
 * each target of a push to many, fwpush.efi): plain snprintf into a buffer, so that a
 * freestanding build prints it too.
 */
#ifndef PUSH_MSG_H
#define PUSH_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwpush/push.h"

struct push_msg_ctx {
	const char *image;
	const char *target;
	uint32_t timeout_ms;
	uint64_t flash_capacity;	/* the BMC's, for -EFBIG */
	bool expect_hash;		/* --expect-hash was given */
	bool resume;
};

/* The message a push failed on, for its error line: "DATA at offset N", "FINISH", ... */
const char *push_msg_failed(const struct fwp_push_result *r, char *buf, size_t len);

/*
 * The line for what fwp_host_push*() returned (err < 0) into buf, and its exit code; 0 if err
 * is not one every host words the same (the caller's own: file kinds, O_DIRECT, a window's
 * memory), buf then untouched.
 */
int push_msg(char *buf, size_t len, const struct push_msg_ctx *c, int err,
	     const struct fwp_push_result *r);

#endif
