/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fwpush/bmc.h"
#include "fwpush/redfish.h"

void usage_bmc_sim(FILE *out)
{
	fprintf(out,
		"usage: fwpush bmc-sim --window URI --flash PATH [OPTIONS]\n"
		"\n"
		"Runs an emulated BMC: creates the window, answers pushes, and stores each image in\n"
		"the inactive bank of its flash (PATH.a, PATH.b); once verified and synced, one atomic\n"
		"write of the activation record (PATH.meta) makes it active, and PATH, a symbolic\n"
		"link, follows. Serves push after push until SIGTERM or SIGINT.\n"
		"\n"
		"  -w, --window URI       window to create, e.g. shm:bmc0; shm:NAME,offset=O puts\n"
		"                         it O bytes (a multiple of 4K, at most 64M) into the\n"
		"                         object, after zeros, for hosts that search (pci:, vfio:)\n"
		"  -f, --flash PATH       the BMC's flash (PATH: the active image)\n"
		"  -f, --flash mtd:DEV    the BMC's NOR flash through Linux MTD (/dev/mtdN): bank A\n"
		"                         at 0, bank B after it, the activation record in the last\n"
		"                         two erase blocks; each block erased, programmed, read back\n"
		"  -s, --slots N          slots in the window (default %u, at most %u)\n"
		"  -S, --slot-size SIZE   bytes per slot, a multiple of 4K (default 256K)\n"
		"      --flash-size SIZE  largest image accepted (default 2G)\n"
		"      --flash-model nor[:erase=SIZE,erase-ms=MS,program-mbps=MBPS,buffer=SIZE,scale=X]\n"
		"                         pace the flash like a NOR part (defaults: 64K sectors,\n"
		"                         160 ms erase, 2 MB/s program, 8M buffer, scale 1)\n"
		"      --idle-timeout DURATION  drop a session that sees no message this long\n"
		"                         (default 60s; the active image stays as it was)\n"
		"      --pubkey KEY.pub   activate only images signed with this Ed25519 key\n"
		"                         (fwpush keygen, fwpush sign, push --signature)\n"
		"      --ivshmem SOCKET   also serve QEMU's ivshmem protocol on the UNIX socket\n"
		"                         SOCKET (shm: windows): a guest's ivshmem-doorbell device\n"
		"                         maps the window, and host and BMC ring each other\n"
		"                         with interrupts instead of polling memory\n"
		"      --redfish [ADDR:]PORT  also serve Redfish over HTTPS (default address\n"
		"                         127.0.0.1; port 0: any, logged): inventory, uploads,\n"
		"                         SimpleUpdate, tasks; one update at a time, either door\n"
		"      --redfish-users FILE  its credentials: NAME:HASH lines, HASH from\n"
		"                         'openssl passwd -6' (required: no default password)\n"
		"      --redfish-timeout DURATION  close an idle or stalled connection after this\n"
		"                         (default 30s; an upload cut off leaves nothing behind)\n"
		"      --tls-cert PEM, --tls-key PEM  its certificate (default: a self-signed\n"
		"                         one made at the first start, kept at PATH.tls.crt/.key)\n"
		"  -q, --quiet            do not log sessions\n",
		FWP_BMC_DEFAULT_SLOTS, FWP_SLOTS_MAX);
}

static volatile int stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* arg: the MTD flash, if that is the flash, to say what failed in it. */
static void log_session(void *arg, const struct fwp_bmc_session *s)
{
	const char *why = arg ? fwp_mtd_error(arg) : "";
	char hex[33];

	if (s->status == FWP_ST_OK) {
		fwp_hash128_hex(&s->image_hash, hex);
		fprintf(stderr, "%s bmc-sim: stored %llu bytes (component %u) in %.3f ms, "
			"XXH3-128 %s\n", cli_prog, (unsigned long long)s->image_size,
			s->component, s->ns / 1e6, hex);
	} else {
		fprintf(stderr, "%s bmc-sim: session dropped after %llu of %llu bytes: %s%s%s%s%s\n",
			cli_prog, (unsigned long long)s->bytes_received,
			(unsigned long long)s->image_size, fwp_status_str(s->status),
			s->failed_type ? " on " : "",
			s->failed_type ? fwp_msg_type_str(s->failed_type) : "",
			*why ? ": " : "", why);
	}
}

/*
 * The window URI with the ivshmem socket appended: the BMC reaches the engine by URI only.
 * SOCKET goes last (it is the rest of the URI); what comes before it, ",offset=O" or a bad
 * parameter, the transport judges.
 */
static int window_with_ivshmem(const char *window, const char *sock, char **out)
{
	if (strncmp(window, "shm:", 4) || strstr(window, ",ivshmem="))
		return cli_die(CLI_EXIT_USAGE, "--ivshmem %s: needs a shm:NAME[,offset=O] window "
			       "(without ,ivshmem=), not %s", sock, window);
	if (asprintf(out, "%s,ivshmem=%s", window, sock) < 0)
		return cli_die(CLI_EXIT_FAILURE, "bmc-sim: out of memory");
	return 0;
}

/*
 * --flash mtd:DEV: the BMC's flash is the MTD device, and the largest image a bank. Says where
 * the banks and the record are, and which image is active. An exit code.
 */
static int open_mtd(const char *dev, struct fwp_bmc_opts *opts, struct fwp_mtd **out)
{
	struct fwp_mtd_info i;
	int ret = fwp_mtd_open(dev, out);

	if (ret)
		return cli_die(ret == -ENOMEM ? CLI_EXIT_FAILURE : CLI_EXIT_TARGET,
			       "bmc-sim: flash %s", fwp_mtd_error(NULL));
	fwp_mtd_get_info(*out, &i);
	opts->flash_ops = fwp_mtd_ops();
	opts->flash_ctx = *out;
	if (opts->on_session)
		opts->cb_arg = *out;
	if (!opts->flash_capacity || opts->flash_capacity > i.bank_size)
		opts->flash_capacity = i.bank_size;
	if (!opts->on_session)
		return 0;
	fprintf(stderr, "%s bmc-sim: flash %s: %llu bytes of NOR, %u-byte erase blocks; banks of "
		"%llu bytes at 0x0 and 0x%llx, the record at 0x%llx; ", cli_prog, dev,
		(unsigned long long)i.size, i.erase_size, (unsigned long long)i.bank_size,
		(unsigned long long)i.bank_size, (unsigned long long)i.record_offset);
	if (i.active_seq)
		fprintf(stderr, "active: bank %c, %llu bytes (record %llu)\n", 'A' + i.active_bank,
			(unsigned long long)i.active_size, (unsigned long long)i.active_seq);
	else
		fprintf(stderr, "no image activated yet\n");
	return 0;
}

/* Creates the BMC on window and serves until a signal; an exit code. */
static int run_bmc(const char *window, const char *flash, struct fwp_bmc_opts *opts,
		   struct fwp_redfish_opts *rf)
{
	struct fwp_mtd *mtd = NULL;
	struct fwp_redfish *r = NULL;
	char *state = NULL;
	struct fwp_bmc *b;
	int ret;

	if (!strncmp(flash, "mtd:", 4)) {
		if (opts->nor)
			return cli_die(CLI_EXIT_USAGE, "--flash-model paces the emulated flash in "
				       "files, not an MTD device (%s)", flash);
		if (rf->listen && !rf->tls_cert)
			return cli_die(CLI_EXIT_USAGE, "--redfish with --flash %s needs --tls-cert "
				       "and --tls-key (there is no PATH.tls beside an MTD device)",
				       flash);
		ret = open_mtd(flash + 4, opts, &mtd);
		if (ret)
			return ret;
		flash = NULL;
	}
	ret = fwp_bmc_create(window, flash, opts, &b);
	if (ret)
		fwp_mtd_close(mtd);	/* not the BMC's until it is created */
	if (ret && opts->pubkey_path && (ret == -ENOENT || ret == -EINVAL))
		return cli_die(CLI_EXIT_USAGE, "--pubkey %s: %s", opts->pubkey_path,
			       ret == -ENOENT ? "no such file" : "not an Ed25519 public key");
	/* Only the flash says EBUSY here (a window a live BMC serves is EADDRINUSE). */
	if (ret == -EBUSY && flash)
		return cli_die(CLI_EXIT_TARGET, "flash %s: in use by another process (a bmc-sim or "
			       "rt-update writing it, holding %s.meta locked); stop it, or give "
			       "this one its own --flash", flash, flash);
	if (ret)
		return cli_target_error(window, ret, 0);
	if (rf->listen) {
		if (!rf->tls_cert && asprintf(&state, "%s.tls", flash) < 0)
			state = NULL;
		rf->tls_state = state;
		ret = fwp_redfish_start(b, rf, &r);
		free(state);
		if (ret) {
			fwp_bmc_destroy(b);
			return cli_die(ret == -ENOTSUP || ret == -ELIBACC ? CLI_EXIT_TARGET :
				       CLI_EXIT_USAGE, "bmc-sim: %s", fwp_redfish_error());
		}
		fprintf(stderr, "%s bmc-sim: Redfish at https://%.*s:%u/redfish/v1\n", cli_prog,
			(int)strcspn(rf->listen, ":"), strchr(rf->listen, ':') ? rf->listen :
			"127.0.0.1", fwp_redfish_port(r));
	}
	ret = fwp_bmc_run(b, &stop);
	fwp_redfish_stop(r);
	fwp_bmc_destroy(b);
	return ret ? cli_die(CLI_EXIT_FAILURE, "bmc-sim: %s", strerror(-ret)) : 0;
}

int cmd_bmc_sim(int argc, char **argv)
{
	enum { OPT_FLASH_SIZE = 256, OPT_FLASH_MODEL, OPT_IDLE, OPT_PUBKEY, OPT_IVSHMEM,
	       OPT_REDFISH, OPT_REDFISH_USERS, OPT_TLS_CERT, OPT_TLS_KEY, OPT_REDFISH_TIMEOUT };
	static const struct option longopts[] = {
		{ "window", required_argument, NULL, 'w' },
		{ "flash", required_argument, NULL, 'f' },
		{ "slots", required_argument, NULL, 's' },
		{ "slot-size", required_argument, NULL, 'S' },
		{ "flash-size", required_argument, NULL, OPT_FLASH_SIZE },
		{ "flash-model", required_argument, NULL, OPT_FLASH_MODEL },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "pubkey", required_argument, NULL, OPT_PUBKEY },
		{ "ivshmem", required_argument, NULL, OPT_IVSHMEM },
		{ "redfish", required_argument, NULL, OPT_REDFISH },
		{ "redfish-users", required_argument, NULL, OPT_REDFISH_USERS },
		{ "redfish-timeout", required_argument, NULL, OPT_REDFISH_TIMEOUT },
		{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
		{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct fwp_bmc_opts opts = { .sz = sizeof(opts), .on_session = log_session };
	const char *window = NULL, *flash = NULL, *ivshmem = NULL;
	struct fwp_redfish_opts rf = { .sz = sizeof(rf) };
	char *listen = NULL;
	struct fwp_nor_model nor;
	struct sigaction sa = { .sa_handler = on_signal };
	char *uri = NULL;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "w:f:s:S:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'w': window = optarg; break;
		case 'f': flash = optarg; break;
		case 's': ret = cli_opt_u32("slots", optarg, 1, FWP_SLOTS_MAX, &opts.slot_count); break;
		case 'S':
			ret = cli_opt_u32("slot-size", optarg, FWP_SLOT_SIZE_MIN, FWP_SLOT_SIZE_MAX,
					  &opts.slot_size);
			if (!ret && opts.slot_size % FWP_PAGE)
				ret = cli_die(CLI_EXIT_USAGE, "--slot-size %s: must be a multiple "
					      "of 4K", optarg);
			break;
		case OPT_FLASH_SIZE:
			ret = cli_opt_size("flash-size", optarg, 1, UINT64_MAX, &opts.flash_capacity);
			break;
		case OPT_FLASH_MODEL:
			if (fwp_nor_parse(optarg, &nor))
				ret = cli_die(CLI_EXIT_USAGE, "--flash-model %s: expected nor[:erase=64K,"
					      "erase-ms=160,program-mbps=2,buffer=8M,scale=0.01]", optarg);
			opts.nor = &nor;
			break;
		case OPT_IDLE:
			if (fwp_parse_ms(optarg, &opts.idle_timeout_ms))
				ret = cli_die(CLI_EXIT_USAGE, "--idle-timeout %s: expected a duration "
					      "such as 60, 1.5s or 500ms", optarg);
			break;
		case OPT_PUBKEY: opts.pubkey_path = optarg; break;
		case OPT_IVSHMEM: ivshmem = optarg; break;
		case OPT_REDFISH:
			free(listen);
			/* A bare port is on loopback: serving other addresses is asked for. */
			if (asprintf(&listen, "%s%s", strchr(optarg, ':') ? "" : "127.0.0.1:",
				     optarg) < 0)
				return cli_die(CLI_EXIT_FAILURE, "bmc-sim: out of memory");
			rf.listen = listen;
			break;
		case OPT_REDFISH_USERS: rf.users_path = optarg; break;
		case OPT_REDFISH_TIMEOUT: {
			uint32_t ms;

			if (fwp_parse_ms(optarg, &ms) || !ms)
				ret = cli_die(CLI_EXIT_USAGE, "--redfish-timeout %s: expected a duration "
					      "such as 30, 5s or 1500ms", optarg);
			rf.timeout_s = (ms + 999) / 1000;	/* whole seconds, rounded up */
			break;
		}
		case OPT_TLS_CERT: rf.tls_cert = optarg; break;
		case OPT_TLS_KEY: rf.tls_key = optarg; break;
		case 'q': opts.on_session = NULL; break;
		case 'h': usage_bmc_sim(stdout); return 0;
		default: return CLI_EXIT_USAGE;
		}
		if (ret)
			return ret;
	}
	if (optind != argc)
		return cli_die(CLI_EXIT_USAGE, "bmc-sim: unexpected argument '%s'", argv[optind]);
	if (!window || !flash)
		return cli_die(CLI_EXIT_USAGE, "bmc-sim: --window and --flash are required");
	if (rf.listen && !rf.users_path)
		return cli_die(CLI_EXIT_USAGE, "bmc-sim: --redfish needs --redfish-users FILE "
			       "(there is no default password)");
	if (ivshmem) {
		ret = window_with_ivshmem(window, ivshmem, &uri);
		if (ret)
			return ret;
		window = uri;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	ret = cli_check_pubkey(opts.pubkey_path);
	if (!ret)
		ret = run_bmc(window, flash, &opts, &rf);
	free(uri);
	free(listen);
	return ret;
}
