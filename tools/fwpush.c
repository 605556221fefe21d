/* SPDX-License-Identifier: MIT */
/* fwpush: the command. A thin layer over libfwpush; every subcommand lives in tools/cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef FWP_VERSION
#define FWP_VERSION "0.1.0"
#endif

static const char exit_codes[] =
	"Exit codes:\n"
	"  0  success\n"
	"  1  internal or system error\n"
	"  2  bad command line\n"
	"  3  image missing, unreadable, empty, or larger than the BMC's flash\n"
	"  4  bad target: unknown scheme, not an fwpush window, wrong version, busy\n"
	"  5  timeout: the BMC made no progress (not running, gone, stalled)\n"
	"  6  the BMC refused a message (its status is printed)\n"
	"  7  verification failed: a hash differs from the image's\n"
	"  8  rt-update: nothing applied (no warm start requested, nothing staged)\n"
	"  9  rt-update: a processor's saved state failed its integrity check\n"
	" 10  rt-update: a processor did not reach the rendezvous in time\n";

#ifdef FWP_HAVE_DPDK
#define DPDK_TARGET	",\ndpdk:BDF[,bar=N][,offset=O] (through DPDK's EAL and PCI bus)"
#else
#define DPDK_TARGET	""
#endif

static void usage(void)
{
	printf("usage: fwpush --bench [--json]\n"
	       "       fwpush COMMAND [OPTIONS]\n"
	       "\n"
	       "Pushes firmware images into a BMC's memory window, pipelined and verified with\n"
	       "XXH3-128. Commands:\n"
	       "  push IMAGE --target URI   push an image to a BMC\n"
	       "  bmc-sim --window URI ...  run an emulated BMC on a shared-memory window\n"
	       "  bench                     push benchmark against an embedded emulated BMC\n"
	       "  bench rt                  per-core benchmark of the runtime update\n"
	       "  rt-update IMAGE|URL ...   update a running multiprocessor (stage, activate)\n"
	       "  keygen --out KEY          new Ed25519 key pair for signed images\n"
	       "  sign IMAGE --key KEY      detached signature IMAGE.sig\n"
	       "  list [--json]             PCI devices that could be targets\n"
	       "  help [COMMAND]            this text, or a command's\n"
	       "\n"
	       "  --bench     same as `fwpush bench`\n"
	       "  --help      this text\n"
	       "  --version   print the version\n"
	       "\n"
	       "Targets: shm:NAME (POSIX shared memory, /dev/shm/NAME), vfio:BDF[,bar=N][,offset=O]\n"
	       "(a PCI BAR through vfio-pci), pci:BDF[,bar=N][,offset=O] (through sysfs, as root)%s.\n"
	       "\n%s", DPDK_TARGET, exit_codes);
}

static int help(const char *cmd)
{
	if (!cmd)
		usage();
	else if (!strcmp(cmd, "push"))
		fwp_usage_push();
	else if (!strcmp(cmd, "bmc-sim"))
		fwp_usage_bmc_sim();
	else if (!strcmp(cmd, "bench"))
		fwp_usage_bench();
	else if (!strcmp(cmd, "rt-update"))
		fwp_usage_rt_update();
	else if (!strcmp(cmd, "keygen"))
		fwp_usage_keygen();
	else if (!strcmp(cmd, "sign"))
		fwp_usage_sign();
	else if (!strcmp(cmd, "list"))
		fwp_usage_list();
	else
		return fwp_die(FWP_EXIT_USAGE, "help: unknown command '%s'", cmd);
	if (cmd)
		printf("\n%s", exit_codes);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd)
		return usage(), FWP_EXIT_USAGE;
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
		return help(NULL);
	if (!strcmp(cmd, "help"))
		return help(argc > 2 ? argv[2] : NULL);
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V"))
		return printf("fwpush %s\n", FWP_VERSION), 0;
	if (!strcmp(cmd, "--bench"))
		return fwp_cmd_bench(argc - 1, argv + 1);
	if (!strcmp(cmd, "push"))
		return fwp_cmd_push(argc - 1, argv + 1);
	if (!strcmp(cmd, "bmc-sim"))
		return fwp_cmd_bmc_sim(argc - 1, argv + 1);
	if (!strcmp(cmd, "bench") && argc > 2 && !strcmp(argv[2], "rt"))
		return fwp_cmd_bench_rt(argc - 2, argv + 2);
	if (!strcmp(cmd, "bench"))
		return fwp_cmd_bench(argc - 1, argv + 1);
	if (!strcmp(cmd, "rt-update"))
		return fwp_cmd_rt_update(argc - 1, argv + 1);
	if (!strcmp(cmd, "keygen"))
		return fwp_cmd_keygen(argc - 1, argv + 1);
	if (!strcmp(cmd, "sign"))
		return fwp_cmd_sign(argc - 1, argv + 1);
	if (!strcmp(cmd, "list"))
		return fwp_cmd_list(argc - 1, argv + 1);
	return fwp_die(FWP_EXIT_USAGE, "unknown command '%s' (try fwpush --help)", cmd);
}
