/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fwpush/wire.h"

const char *fwp_prog = "fwpush";

int fwp_die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", fwp_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int fwp_opt_u32(const char *opt, const char *val, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (fwp_parse_size(val, &v) || v < min || v > max)
		return fwp_die(FWP_EXIT_USAGE, "--%s %s: expected a number from %u to %u",
			       opt, val, min, max);
	*out = (uint32_t)v;
	return 0;
}

int fwp_opt_size(const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t *out)
{
	if (fwp_parse_size(val, out) || *out < min || *out > max)
		return fwp_die(FWP_EXIT_USAGE,
			       "--%s %s: expected a size from %llu to %llu bytes (K, M, G suffixes)",
			       opt, val, (unsigned long long)min, (unsigned long long)max);
	return 0;
}

int fwp_target_error(const char *uri, int err, uint32_t timeout_ms)
{
	switch (err) {
	case -EINVAL:
		return fwp_die(FWP_EXIT_TARGET, "target %s: malformed (expected shm:NAME)", uri);
	case -EAFNOSUPPORT:
		return fwp_die(FWP_EXIT_TARGET, "target %s: unknown scheme (this build knows shm:)",
			       uri);
	case -ETIMEDOUT:
		return fwp_die(FWP_EXIT_TIMEOUT,
			       "target %s: no BMC answered within %.1f s (is bmc-sim running?)",
			       uri, timeout_ms / 1000.0);
	case -EPROTO:
		return fwp_die(FWP_EXIT_TARGET, "target %s: not an fwpush window (bad magic)", uri);
	case -EPROTONOSUPPORT:
		return fwp_die(FWP_EXIT_TARGET,
			       "target %s: window speaks another protocol version (want %d)",
			       uri, FWP_PROTO_VERSION);
	case -EBADMSG:
	case -EMSGSIZE:
		return fwp_die(FWP_EXIT_TARGET, "target %s: window layout is inconsistent", uri);
	case -EBUSY:
		return fwp_die(FWP_EXIT_TARGET, "target %s: another host is pushing to it", uri);
	case -EADDRINUSE:
		return fwp_die(FWP_EXIT_TARGET, "target %s: another BMC already serves it", uri);
	case -EACCES:
	case -EPERM:
		return fwp_die(FWP_EXIT_TARGET, "target %s: permission denied", uri);
	default:
		return fwp_die(FWP_EXIT_FAILURE, "target %s: %s", uri, strerror(-err));
	}
}

int fwp_read_signature(const char *path, uint8_t sig[64])
{
	uint8_t extra;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return fwp_die(FWP_EXIT_IMAGE, "signature %s: %s", path, strerror(errno));
	ok = read(fd, sig, 64) == 64 && read(fd, &extra, 1) == 0;
	close(fd);
	if (!ok)
		return fwp_die(FWP_EXIT_IMAGE, "signature %s: not an Ed25519 signature (64 bytes)",
			       path);
	return 0;
}

double fwp_gbps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / (double)ns : 0;
}
