/* SPDX-License-Identifier: MIT */
/*
 * fwpush.efi: `fwpush push` as a UEFI application. The arguments come from the command line
 * (the UEFI shell passes it in LoadOptions, its first word the program) or, when there are
 * none (a boot entry without options), from fwpush.cfg beside fwpush.efi. The push is the
 * engine's (host/push.c) over the PCI-IO target and the file source of this directory; the
 * result line, the hash and the error lines are those of `fwpush push`, and the exit code
 * becomes an EFI status (status_of(), README "fwpush.efi").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/platform.h"
#include "efi/uefi.h"
#include "fwpush/push.h"
#include "push_msg.h"
#include "transport/target.h"

#define ARGS_MAX	32
#define CMDLINE_MAX	2048
#define PROGRESS_NS	(250u * 1000000u)	/* the console's progress line, at most this often */

/* The progress line: one console line, rewritten in place. */
struct progress {
	uint64_t size;
	uint64_t shown_ns;
	bool shown;
};

struct args {
	const char *image;
	const char *bdf, *device, *bar, *offset, *target, *signature;
	uint8_t sig[64];
	char uri[96];
	uint32_t timeout_ms;
	struct fwp_push_opts opts;
	struct fwp_hash128 expect;
	struct progress progress;
	bool quiet;
};

static void usage(void)
{
	fwp_efi_print(false,
		"usage: fwpush.efi IMAGE [--bdf BDF | --device VVVV:DDDD] [--bar N] [OPTIONS]\n"
		"\n"
		"Streams IMAGE (a file on this volume, relative to fwpush.efi's directory) into the\n"
		"BMC's window in a PCI BAR and returns EFI_SUCCESS only once the BMC has stored and\n"
		"synced the whole image and its XXH3-128 matches. Without --bar, the prefetchable\n"
		"memory BARs of the device (of every device, without --bdf or --device) are\n"
		"searched for the window.\n"
		"\n"
		"      --bdf BDF            the device: SEG:BUS:DEV.FN or BUS:DEV.FN (hex)\n"
		"      --device VVVV:DDDD   the first device with this vendor and device ID\n"
		"      --bar N              the BAR that holds the window (default: search)\n"
		"      --offset O           where the window starts in the BAR (default: search)\n"
		"      --target URI         all of it at once: pci:BDF|VVVV:DDDD|*[,bar=N][,offset=O]\n"
		"  -s, --slots N            slots to keep in flight (default: all the window has)\n"
		"  -c, --chunk-size SIZE    bytes per message (default: the window's slot size)\n"
		"  -T, --timeout DURATION   fail when the BMC makes no progress this long (default 5s)\n"
		"      --component N        which firmware component (default 0)\n"
		"      --expect-hash HEX    refuse unless the image's XXH3-128 is HEX\n"
		"      --signature SIG      send this Ed25519 signature (fwpush sign) with the image\n"
		"      --resume             continue where an interrupted push of this image left off\n"
		"  -q, --quiet              print nothing on success (no progress either)\n"
		"\n"
		"Without arguments, they are read from fwpush.cfg beside fwpush.efi.\n");
}

static int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int die(int code, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fwp_efi_print(true, "fwpush: %s\n", line);
	return code;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Splits line in place into argv (double quotes group words; '#' starts a comment). */
static int split(char *line, char **argv)
{
	int argc = 0;
	char *w;

	for (;;) {
		while (is_space(*line))
			line++;
		if (*line == '#') {
			while (*line && *line != '\n')
				line++;
			continue;
		}
		if (!*line)
			return argc;
		if (argc == ARGS_MAX)
			return -E2BIG;
		argv[argc++] = w = line;
		for (bool quoted = false; *line && (quoted || !is_space(*line)); line++) {
			if (*line == '"')
				quoted = !quoted;
			else
				*w++ = *line;
		}
		if (*line)
			line++;
		*w = '\0';
	}
}

static bool ends_with_efi(const char *s)
{
	size_t n = strlen(s);

	return n >= 4 && s[n - 4] == '.' && (s[n - 3] | 0x20) == 'e' && (s[n - 2] | 0x20) == 'f' &&
	       (s[n - 1] | 0x20) == 'i';
}

/* LoadOptions as ASCII into buf (UCS-2 outside ASCII becomes '?'). */
static void load_options(char *buf, size_t len)
{
	EFI_GUID guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_LOADED_IMAGE *li;
	const CHAR16 *w;
	size_t i, n = 0;

	buf[0] = '\0';
	if (fwp_efi_st->BootServices->HandleProtocol(fwp_efi_image, &guid, (void **)&li))
		return;
	w = li->LoadOptions;
	for (i = 0; w && i < li->LoadOptionsSize / sizeof(CHAR16) && w[i] && n + 1 < len; i++)
		buf[n++] = w[i] < 0x80 ? (char)w[i] : '?';
	buf[n] = '\0';
}

/* fwpush.cfg beside fwpush.efi into buf; 0, -ENOENT if there is none, or -errno. */
static int read_cfg(char *buf, size_t len)
{
	EFI_FILE_PROTOCOL *f;
	UINTN n = len - 1;
	int ret;

	ret = fwp_efi_file_open("fwpush.cfg", &f);
	if (ret)
		return ret;
	ret = fwp_efi_errno(f->Read(f, &n, buf));
	f->Close(f);
	buf[ret ? 0 : n] = '\0';
	return ret;
}

static int opt_u32(const char *opt, const char *val, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (fwp_parse_size(val, &v) || v < min || v > max)
		return die(CLI_EXIT_USAGE, "--%s %s: expected a number from %u to %u", opt, val,
			   min, max);
	*out = (uint32_t)v;
	return 0;
}

/* The target URI from --target, or from --bdf/--device, --bar and --offset. */
static int make_uri(struct args *a)
{
	if (a->target && (a->bdf || a->device || a->bar || a->offset))
		return die(CLI_EXIT_USAGE, "--target names the device, BAR and offset at once: "
			   "drop --bdf, --device, --bar and --offset");
	if (a->bdf && a->device)
		return die(CLI_EXIT_USAGE, "--bdf and --device both name the device: give one");
	snprintf(a->uri, sizeof(a->uri), "%s", a->target ? a->target : "pci:");
	if (a->target)
		return 0;
	snprintf(a->uri + 4, sizeof(a->uri) - 4, "%s%s%s%s%s", a->bdf ? a->bdf :
		 a->device ? a->device : "*", a->bar ? ",bar=" : "", a->bar ? a->bar : "",
		 a->offset ? ",offset=" : "", a->offset ? a->offset : "");
	return 0;
}

/* -1: help was printed; 0: go; else an exit code. */
static int parse(int argc, char **argv, struct args *a)
{
	int i, ret = 0;

	a->timeout_ms = FWP_DEFAULT_TIMEOUT_MS;
	a->opts.sz = sizeof(a->opts);
	for (i = 0; i < argc && !ret; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage();
			return -1;
		}
		if (!strcmp(o, "-q") || !strcmp(o, "--quiet")) {
			a->quiet = true;
			continue;
		}
		if (!strcmp(o, "--resume")) {
			a->opts.resume = true;
			continue;
		}
		if (o[0] != '-') {
			if (a->image)
				return die(CLI_EXIT_USAGE, "expected exactly one IMAGE (%s, then %s)",
					   a->image, o);
			a->image = o;
			continue;
		}
		if (!v)
			return die(CLI_EXIT_USAGE, "%s needs a value (try fwpush.efi --help)", o);
		i++;
		if (!strcmp(o, "--bdf"))
			a->bdf = v;
		else if (!strcmp(o, "--device"))
			a->device = v;
		else if (!strcmp(o, "--bar"))
			a->bar = v;
		else if (!strcmp(o, "--offset"))
			a->offset = v;
		else if (!strcmp(o, "--target"))
			a->target = v;
		else if (!strcmp(o, "--signature"))
			a->signature = v;
		else if (!strcmp(o, "-s") || !strcmp(o, "--slots"))
			ret = opt_u32("slots", v, 1, FWP_SLOTS_MAX, &a->opts.slots);
		else if (!strcmp(o, "-c") || !strcmp(o, "--chunk-size"))
			ret = opt_u32("chunk-size", v, 1, FWP_SLOT_SIZE_MAX, &a->opts.chunk_size);
		else if (!strcmp(o, "--component"))
			ret = opt_u32("component", v, 0, UINT32_MAX, &a->opts.component);
		else if (!strcmp(o, "-T") || !strcmp(o, "--timeout"))
			ret = fwp_parse_ms(v, &a->timeout_ms) ? die(CLI_EXIT_USAGE, "--timeout %s: "
			      "expected a duration such as 5, 2.5s or 500ms", v) : 0;
		else if (!strcmp(o, "--expect-hash"))
			ret = fwp_hash128_parse(v, &a->expect) ? die(CLI_EXIT_USAGE,
			      "--expect-hash %s: expected 32 hex digits", v) : 0;
		else
			return die(CLI_EXIT_USAGE, "unknown option %s (try fwpush.efi --help)", o);
		if (!strcmp(o, "--expect-hash"))
			a->opts.expect_hash = &a->expect;
	}
	if (ret)
		return ret;
	if (!a->image)
		return die(CLI_EXIT_USAGE, "expected an IMAGE (try fwpush.efi --help)");
	a->opts.timeout_ms = a->timeout_ms;
	return make_uri(a);
}

static struct push_msg_ctx msg_ctx(const struct args *a, struct fwp_host *h)
{
	return (struct push_msg_ctx){
		.image = a->image, .target = a->uri, .timeout_ms = a->timeout_ms,
		.flash_capacity = h ? fwp_host_flash_capacity(h) : 0,
		.expect_hash = a->opts.expect_hash != NULL, .resume = a->opts.resume,
	};
}

/* The image could not be opened: push_msg()'s lines, as fwpush push words them. */
static int image_error(const struct args *a, int err)
{
	const struct push_msg_ctx c = msg_ctx(a, NULL);
	struct fwp_push_result r = { 0 };
	char line[512];
	int code = push_msg(line, sizeof(line), &c, err, &r);

	if (code)
		return die(code, "%s", line);
	return die(CLI_EXIT_IMAGE, "image %s: cannot be opened (error %d)", a->image, -err);
}

static int target_error(const struct args *a, int err)
{
	int version;

	switch (err) {
	case -EINVAL:
		return die(CLI_EXIT_TARGET, "target %s: malformed (expected "
			   "pci:BDF|VVVV:DDDD|*[,bar=N][,offset=O])", a->uri);
	case -EAFNOSUPPORT:
		return die(CLI_EXIT_TARGET, "target %s: unknown scheme (fwpush.efi knows pci:)",
			   a->uri);
	case -ETIMEDOUT:
		return die(CLI_EXIT_TIMEOUT, "target %s: no BMC answered within %.1f s", a->uri,
			   a->timeout_ms / 1000.0);
	case -EPROTO:
		return die(CLI_EXIT_TARGET, "target %s: not an fwpush window (bad magic)", a->uri);
	case -EPROTONOSUPPORT:
		version = fwp_window_version(a->uri);
		return die(CLI_EXIT_TARGET, "target %s: the BMC speaks window protocol version %d; "
			   "this fwpush speaks %d", a->uri, version, FWP_PROTO_VERSION);
	case -EBADMSG:
		return die(CLI_EXIT_TARGET, "target %s: window layout is inconsistent", a->uri);
	case -EMSGSIZE:
		return die(CLI_EXIT_TARGET, "target %s: the window does not fit in the BAR "
			   "(BAR too small, or offset too large)", a->uri);
	case -ENODEV:
		return die(CLI_EXIT_TARGET, "target %s: no such PCI device (the shell's `pci` lists "
			   "them)", a->uri);
	case -ENOTSUP:
		return die(CLI_EXIT_TARGET, "target %s: that BAR is not a memory BAR", a->uri);
	case -EACCES:
		return die(CLI_EXIT_TARGET, "target %s: the firmware did not enable the device's "
			   "memory decoding", a->uri);
	default:
		return die(CLI_EXIT_FAILURE, "target %s: error %d", a->uri, -err);
	}
}

static int push_error(const struct args *a, struct fwp_host *h, int err,
		      const struct fwp_push_result *r)
{
	const struct push_msg_ctx c = msg_ctx(a, h);
	char line[512];
	int code = push_msg(line, sizeof(line), &c, err, r);

	if (code)
		return die(code, "%s", line);
	if (err == -EINVAL)
		return die(CLI_EXIT_USAGE, "target %s has %u slots of %u bytes: --slots/"
			   "--chunk-size do not fit", a->uri, fwp_host_slot_count(h),
			   fwp_host_slot_size(h));
	return die(CLI_EXIT_FAILURE, "push %s: error %d", a->image, -err);
}

/* The push's own progress (what the BMC holds), as `fwpush push` on a terminal shows it. */
static void show_progress(void *arg, enum fwp_phase phase, uint64_t done)
{
	struct progress *pr = arg;
	uint64_t now = fwp_now_ns();

	if (phase == FWP_PHASE_START || phase == FWP_PHASE_DONE ||
	    (phase == FWP_PHASE_DATA && pr->shown && now - pr->shown_ns < PROGRESS_NS))
		return;
	pr->shown_ns = now;
	pr->shown = true;
	if (phase == FWP_PHASE_DATA)
		fwp_efi_print(false, "\r%3u%% stored (%llu of %llu bytes)",
			      (unsigned)(done * 100 / pr->size), (unsigned long long)done,
			      (unsigned long long)pr->size);
	else
		fwp_efi_print(false, "\r100%% stored (%llu bytes), the BMC verifies and syncs",
			      (unsigned long long)done);
}

/* The progress line ends before the result or error line. */
static void end_progress(struct progress *pr)
{
	if (pr->shown)
		fwp_efi_print(false, "\n");
	pr->shown = false;
}

static void print_result(const struct args *a, const struct fwp_push_result *r)
{
	char hex[33];
	double secs = r->ns / 1e9;

	if (a->quiet)
		return;
	fwp_hash128_hex(&r->image_hash, hex);
	fwp_efi_print(false, "pushed %s to %s: %llu bytes in %.3f ms (%.2f GB/s), %u slots x %u "
		      "bytes, XXH3-128 %s %s\n", a->image, a->uri,
		      (unsigned long long)r->image_size, secs * 1e3,
		      r->ns ? (double)r->image_size / (double)r->ns : 0, r->slots, r->chunk_size,
		      hex, r->verified ? "verified by the BMC" : "not verified");
}

/*
 * A window that was searched for is named where it is found, so that the result line says
 * which device took the image. A search that finds none yet keeps its URI: the host waits.
 */
static void resolve(struct args *a)
{
	struct fwp_target *t;

	if (a->bdf && a->bar)
		return;
	if (fwp_target_open(a->uri, &t))
		return;
	snprintf(a->uri, sizeof(a->uri), "%s", fwp_target_uri(t));
	fwp_target_close(t);
}

/* --signature FILE: exactly 64 bytes, as fwpush push reads it. */
static int read_signature(struct args *a)
{
	EFI_FILE_PROTOCOL *f;
	uint8_t buf[65];
	UINTN n = sizeof(buf);
	int ret;

	ret = fwp_efi_file_open(a->signature, &f);
	if (ret)
		return die(CLI_EXIT_IMAGE, "signature %s: %s", a->signature,
			   ret == -ENOENT ? "No such file or directory" : "cannot be opened");
	ret = fwp_efi_errno(f->Read(f, &n, buf));
	f->Close(f);
	if (ret || n != sizeof(a->sig))
		return die(CLI_EXIT_IMAGE, "signature %s: not an Ed25519 signature (64 bytes)",
			   a->signature);
	memcpy(a->sig, buf, sizeof(a->sig));
	a->opts.signature = a->sig;
	return 0;
}

static int push(struct args *a)
{
	struct fwp_push_result r = { 0 };
	struct fwp_source *src;
	struct fwp_host *h;
	int ret;

	/* The image and its signature first: a missing file should not wait out a timeout. */
	ret = fwp_efi_source_open(a->image, &src);
	if (ret)
		return image_error(a, ret);
	ret = a->signature ? read_signature(a) : 0;
	if (ret)
		goto out;
	resolve(a);
	ret = fwp_host_open(a->uri, a->timeout_ms, &h);
	if (ret) {
		ret = target_error(a, ret);
		goto out;
	}
	if (!a->quiet) {
		a->progress.size = src->size;
		a->opts.progress = show_progress;
		a->opts.progress_arg = &a->progress;
	}
	ret = fwp_host_push_source(h, src, &a->opts, &r);
	end_progress(&a->progress);
	if (ret)
		ret = push_error(a, h, ret, &r);
	else
		print_result(a, &r);
	fwp_host_close(h);
out:
	fwp_efi_source_close(src);
	return ret;
}

/* What each exit code of `fwpush push` returns to the firmware or the shell (README). */
static EFI_STATUS status_of(int code)
{
	static const EFI_STATUS map[] = {
		[CLI_EXIT_OK] = EFI_SUCCESS,
		[CLI_EXIT_FAILURE] = EFI_ABORTED,
		[CLI_EXIT_USAGE] = EFI_INVALID_PARAMETER,
		[CLI_EXIT_IMAGE] = EFI_NOT_FOUND,
		[CLI_EXIT_TARGET] = EFI_UNSUPPORTED,
		[CLI_EXIT_TIMEOUT] = EFI_TIMEOUT,
		[CLI_EXIT_REFUSED] = EFI_ACCESS_DENIED,
		[CLI_EXIT_VERIFY] = EFI_CRC_ERROR,
	};

	return code >= 0 && (size_t)code < sizeof(map) / sizeof(map[0]) ? map[code] : EFI_ABORTED;
}

EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	static char line[CMDLINE_MAX];
	struct args a = { 0 };
	char *argv[ARGS_MAX];
	int argc, ret;

	fwp_efi_init(image, st);
	load_options(line, sizeof(line));
	argc = split(line, argv);
	/* The shell's first word is the program; a boot entry's options need not have one. */
	if (argc > 0 && ends_with_efi(argv[0]))
		memmove(argv, argv + 1, --argc * sizeof(argv[0]));
	if (argc == 0) {
		ret = read_cfg(line, sizeof(line));
		if (ret == -ENOENT) {
			usage();
			return status_of(CLI_EXIT_USAGE);
		}
		if (ret)
			return status_of(die(CLI_EXIT_USAGE, "fwpush.cfg: cannot be read (error %d)",
					     -ret));
		argc = split(line, argv);
	}
	if (argc < 0)
		return status_of(die(CLI_EXIT_USAGE, "more than %d arguments", ARGS_MAX));
	ret = parse(argc, argv, &a);
	if (ret)
		return status_of(ret < 0 ? CLI_EXIT_OK : ret);
	return status_of(push(&a));
}
