/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "push_msg.h"

const char *push_msg_failed(const struct fwp_push_result *r, char *buf, size_t len)
{
	if (r->failed_type == FWP_MSG_DATA || r->failed_type == FWP_MSG_KEEP)
		snprintf(buf, len, "%s at offset %llu", fwp_msg_type_str(r->failed_type),
			 (unsigned long long)r->failed_offset);
	else if (r->failed_type)
		snprintf(buf, len, "%s", fwp_msg_type_str(r->failed_type));
	else
		snprintf(buf, len, "the answers to an earlier host's messages");
	return buf;
}

/* A message type a BMC sent, as a value: "3 (FINISH)", or "9" for no type at all. */
static const char *type_value(unsigned type, char *buf, size_t len)
{
	if (type >= FWP_MSG_START && type <= FWP_MSG_ABORT)
		snprintf(buf, len, "%u (%s)", type, fwp_msg_type_str(type));
	else
		snprintf(buf, len, "%u", type);
	return buf;
}

static int image_msg(char *buf, size_t len, const struct push_msg_ctx *c, int err,
		     const struct fwp_push_result *r)
{
	switch (err) {
	case -ENOENT:
		snprintf(buf, len, "image %s: no such file", c->image);
		return CLI_EXIT_IMAGE;
	case -EISDIR:
		snprintf(buf, len, "image %s: is a directory", c->image);
		return CLI_EXIT_IMAGE;
	case -ENODATA:
		snprintf(buf, len, "image %s: is empty", c->image);
		return CLI_EXIT_IMAGE;
	case -EFBIG:
		snprintf(buf, len, "image %s: %llu bytes, larger than the BMC's flash (%llu bytes)",
			 c->image, (unsigned long long)r->image_size,
			 (unsigned long long)c->flash_capacity);
		return CLI_EXIT_IMAGE;
	case -EIO:
		snprintf(buf, len, "image %s: read failed at byte %llu", c->image,
			 (unsigned long long)r->failed_offset);
		return CLI_EXIT_IMAGE;
	case -ESTALE:
		snprintf(buf, len, "image %s changed while it was pushed (written to or truncated "
			 "meanwhile); nothing was activated", c->image);
		return CLI_EXIT_IMAGE;
	default:
		return 0;
	}
}

/* -EPROTO: the BMC said OK but holds other bytes than it must, or answered another type. */
static int held_msg(char *buf, size_t len, const struct push_msg_ctx *c, const char *what,
		    const struct fwp_push_result *r)
{
	char tbuf[32];

	if (r->wrong_type)
		snprintf(buf, len, "target %s: BMC answered %s with an OK of type %s", c->target,
			 what, type_value(r->bmc_type, tbuf, sizeof(tbuf)));
	else if (r->failed_type == FWP_MSG_START && !c->resume)
		snprintf(buf, len, "target %s: BMC's answer to START_UPGRADE says a new session "
			 "holds %llu bytes (must be 0)", c->target, (unsigned long long)r->bmc_held);
	else if (r->failed_type == FWP_MSG_START)
		snprintf(buf, len, "target %s: BMC's answer to the resuming START says it holds "
			 "%llu bytes of a %llu-byte image (must be whole %u-byte chunks, or all of "
			 "it)", c->target, (unsigned long long)r->bmc_held,
			 (unsigned long long)r->image_size, r->chunk_size);
	else
		snprintf(buf, len, "target %s: BMC acknowledged %s as holding %llu bytes, expected "
			 "%llu", c->target, what, (unsigned long long)r->bmc_held,
			 (unsigned long long)r->expected_held);
	return CLI_EXIT_VERIFY;
}

int push_msg(char *buf, size_t len, const struct push_msg_ctx *c, int err,
	     const struct fwp_push_result *r)
{
	char wbuf[64];
	const char *what = push_msg_failed(r, wbuf, sizeof(wbuf));
	double secs = c->timeout_ms / 1000.0;

	switch (err) {
	case -ETIMEDOUT:
		snprintf(buf, len, "target %s: BMC made no progress for %.1f s (waiting for %s)%s",
			 c->target, secs, what, strncmp(c->target, "shm:", 4) ? "" :
			 "; is bmc-sim running?");
		return CLI_EXIT_TIMEOUT;
	case -ETIME:
		snprintf(buf, len, "target %s: BMC beat its heartbeat but answered nothing for "
			 "%.1f s (waiting for %s; one answer may take at most %d x --timeout)",
			 c->target, FWP_PUSH_STEP_TIMEOUTS * secs, what, FWP_PUSH_STEP_TIMEOUTS);
		return CLI_EXIT_TIMEOUT;
	case -ECONNRESET:
		snprintf(buf, len, "target %s: the BMC re-formatted the window (a new generation: "
			 "it restarted) while waiting for %s; this push is lost", c->target, what);
		return CLI_EXIT_TARGET;
	case -EREMOTEIO:
		snprintf(buf, len, "target %s: BMC refused %s: %s (status %u)", c->target, what,
			 fwp_status_str(r->bmc_status), r->bmc_status);
		return CLI_EXIT_REFUSED;
	case -EBADMSG:
		if (c->expect_hash && r->failed_type == 0)
			snprintf(buf, len, "image %s: XXH3-128 differs from --expect-hash", c->image);
		else if (r->failed_type == FWP_MSG_HASHES)
			snprintf(buf, len, "target %s: BMC's block hashes (its answer to HASHES) do not "
				 "match the hash it gave for them", c->target);
		else if (r->failed_type == FWP_MSG_KEEP)
			snprintf(buf, len, "target %s: BMC's hash of %s differs from the image's: its "
				 "active bank does not hold what its block hashes said", c->target, what);
		else
			snprintf(buf, len, "target %s: BMC's hash of %s differs from ours",
				 c->target, what);
		return CLI_EXIT_VERIFY;
	case -EPROTO:
		return held_msg(buf, len, c, what, r);
	default:
		return image_msg(buf, len, c, err, r);
	}
}
