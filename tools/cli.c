/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fwpush/pci.h"
#include "fwpush/push.h"
#include "fwpush/sign.h"
#include "fwpush/wire.h"

const char *cli_prog = "fwpush";

/*
 * What each exit code means: `fwpush --help`, `fwpush help CMD` and the man page print this
 * table, and the README's "Exit codes" table must say the same (tests/integration/cli.sh).
 */
const struct cli_exit_code cli_exits[CLI_EXIT_COUNT] = {
	[CLI_EXIT_OK] = { "ok",
		"success" },
	[CLI_EXIT_FAILURE] = { "failure",
		"internal or system error" },
	[CLI_EXIT_USAGE] = { "usage",
		"bad command line" },
	[CLI_EXIT_IMAGE] = { "image",
		"image missing, unreadable, empty, or larger than the BMC's flash" },
	[CLI_EXIT_TARGET] = { "target",
		"bad target: unknown scheme, not an fwpush window, wrong version, busy" },
	[CLI_EXIT_TIMEOUT] = { "timeout",
		"timeout: the BMC made no progress (not running, gone, stalled)" },
	[CLI_EXIT_REFUSED] = { "refused",
		"the BMC refused a message (its status is printed)" },
	[CLI_EXIT_VERIFY] = { "verify",
		"verification failed: a hash differs from the image's" },
	[CLI_EXIT_NOTHING] = { "nothing",
		"rt-update: nothing applied (no warm start requested, nothing staged)" },
	[CLI_EXIT_STATE] = { "state",
		"rt-update: a processor's saved state failed its integrity check" },
	[CLI_EXIT_RENDEZVOUS] = { "rendezvous",
		"rt-update: a processor did not reach the rendezvous in time" },
	[CLI_EXIT_SOME] = { "some",
		"push to many targets: some failed (each is listed with its reason)" },
};
_Static_assert(CLI_EXIT_COUNT < 77, "exit 77 means SKIP to test harnesses");

static _Thread_local char *captured;
static _Thread_local size_t captured_len;

void cli_capture(char *buf, size_t len)
{
	captured = buf;
	captured_len = len;
	if (buf && len)
		buf[0] = 0;
}

int cli_die(int code, const char *fmt, ...)
{
	va_list ap;

	if (captured) {
		va_start(ap, fmt);
		vsnprintf(captured, captured_len, fmt, ap);
		va_end(ap);
		return code;
	}
	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int cli_opt_u32(const char *opt, const char *val, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (fwp_parse_size(val, &v) || v < min || v > max)
		return cli_die(CLI_EXIT_USAGE, "--%s %s: expected a number from %u to %u",
			       opt, val, min, max);
	*out = (uint32_t)v;
	return 0;
}

int cli_opt_size(const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t *out)
{
	if (fwp_parse_size(val, out) || *out < min || *out > max)
		return cli_die(CLI_EXIT_USAGE,
			       "--%s %s: expected a size from %llu to %llu bytes (K, M, G suffixes)",
			       opt, val, (unsigned long long)min, (unsigned long long)max);
	return 0;
}

/* The BDF of a vfio:/pci:/dpdk: URI, for hints; "BDF" if there is none. */
static void uri_bdf(const char *uri, char out[FWP_PCI_BDF_LEN])
{
	const char *arg = strchr(uri, ':');

	if (!arg || fwp_pci_bdf_parse(arg + 1, strcspn(arg + 1, ","), out))
		snprintf(out, FWP_PCI_BDF_LEN, "BDF");
}

int cli_target_error(const char *uri, int err, uint32_t timeout_ms)
{
	char bdf[FWP_PCI_BDF_LEN];
	int version;

	uri_bdf(uri, bdf);
	switch (err) {
	case -EINVAL:
		return cli_die(CLI_EXIT_TARGET, "target %s: malformed (expected shm:NAME[,offset=O], "
			       "vfio:BDF[,bar=N][,offset=O], pci:BDF[,bar=N][,offset=O], "
			       "mem:ADDR[,size=S][,dev=PATH]%s)", uri,
			       CLI_DPDK_BUILT ? " or dpdk:BDF[,bar=N][,offset=O]" : "");
	case -EAFNOSUPPORT:
		return cli_die(CLI_EXIT_TARGET, "target %s: unknown scheme (this build knows shm:, "
			       "vfio:, pci:, mem:%s)", uri, CLI_DPDK_BUILT ? ", dpdk:" : "");
	case -ETIMEDOUT:
		return cli_die(CLI_EXIT_TIMEOUT,
			       "target %s: no BMC answered within %.1f s (is bmc-sim running?)",
			       uri, timeout_ms / 1000.0);
	case -EPROTO:
		return cli_die(CLI_EXIT_TARGET, "target %s: not an fwpush window (bad magic)", uri);
	case -EPROTONOSUPPORT:
		version = fwp_window_version(uri);
		if (version > 0)
			return cli_die(CLI_EXIT_TARGET, "target %s: the BMC speaks window protocol "
				       "version %d; this fwpush speaks %d", uri, version,
				       FWP_PROTO_VERSION);
		return cli_die(CLI_EXIT_TARGET,
			       "target %s: window speaks another protocol version (want %d)",
			       uri, FWP_PROTO_VERSION);
	case -EBADMSG:
		return cli_die(CLI_EXIT_TARGET, "target %s: window layout is inconsistent", uri);
	case -EMSGSIZE:
		return cli_die(CLI_EXIT_TARGET, "target %s: the window does not fit in what is "
			       "mapped (BAR too small, or offset too large)", uri);
	case -EBUSY:
		return cli_die(CLI_EXIT_TARGET, "target %s: another host is pushing to it", uri);
	case -EADDRINUSE:
		return cli_die(CLI_EXIT_TARGET, "target %s: another BMC already serves it", uri);
	case -EEXIST:
		return cli_die(CLI_EXIT_TARGET, "target %s: its name is taken by something that is "
			       "not a window (a FIFO, a directory, a link, a device): left alone; "
			       "remove it or pick another name", uri);
	case -EACCES:
	case -EPERM:
		return cli_die(CLI_EXIT_TARGET, "target %s: permission denied", uri);
	case -ENODEV:
		return cli_die(CLI_EXIT_TARGET, "target %s: no PCI device %s (see fwpush list)",
			       uri, bdf);
	case -ENXIO:
		return cli_die(CLI_EXIT_TARGET, "target %s: device not bound to vfio-pci; bind it: "
			       "echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; "
			       "echo %s > /sys/bus/pci/drivers_probe (unbind its driver first)",
			       uri, bdf, bdf);
	case -EXDEV:
		return cli_die(CLI_EXIT_TARGET, "target %s: IOMMU group not viable: bind every "
			       "device in /sys/bus/pci/devices/%s/iommu_group/devices to vfio-pci",
			       uri, bdf);
	case -ENOTSUP:
		return cli_die(CLI_EXIT_TARGET, "target %s: that BAR is not a mappable memory BAR "
			       "(see fwpush list)", uri);
	case -ENOPROTOOPT:
		return cli_die(CLI_EXIT_TARGET, "target %s: the kernel offers no VFIO IOMMU "
			       "backend (modprobe vfio_iommu_type1)", uri);
	case -ENOTCONN:
		return cli_die(CLI_EXIT_TARGET, "target %s: DPDK's EAL did not start or did not "
			       "probe the device (its log is above)", uri);
	case -EALREADY:
		return cli_die(CLI_EXIT_TARGET, "target %s: DPDK's EAL runs once per process", uri);
	case -ELIBBAD:
		return cli_die(CLI_EXIT_TARGET, "target %s: DPDK's PCI structures differ from the "
			       "22.11 ones this build declares", uri);
	case -ELIBACC:
		return cli_die(CLI_EXIT_TARGET, "target %s: cannot load the %.*s: transport: %s", uri,
			       (int)strcspn(uri, ":"), uri, fwp_module_error());
	default:
		return cli_die(CLI_EXIT_FAILURE, "target %s: %s", uri, strerror(-err));
	}
}

/* Fills buf with up to len bytes, fewer only at the end of the file: the count, or -errno. */
ssize_t cli_read_full(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

int cli_read_signature(const char *path, uint8_t sig[64])
{
	uint8_t extra;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return cli_die(CLI_EXIT_IMAGE, "signature %s: %s", path, strerror(errno));
	ok = read(fd, sig, 64) == 64 && read(fd, &extra, 1) == 0;
	close(fd);
	if (!ok)
		return cli_die(CLI_EXIT_IMAGE, "signature %s: not an Ed25519 signature (64 bytes)",
			       path);
	return 0;
}

int cli_check_pubkey(const char *path)
{
	struct fwp_verifier *v;
	int ret;

	if (!path)
		return 0;
	ret = fwp_verifier_open(path, &v);
	if (ret == -ELIBACC)
		return cli_die(CLI_EXIT_USAGE, "--pubkey %s: cannot load Ed25519 signatures: %s",
			       path, fwp_module_error());
	if (ret)
		return cli_die(CLI_EXIT_USAGE, "--pubkey %s: %s", path,
			       ret == -ENOENT ? "no such file" : "not an Ed25519 public key");
	fwp_verifier_close(v);
	return 0;
}

double cli_gbps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / (double)ns : 0;
}
