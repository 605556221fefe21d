/* SPDX-License-Identifier: MIT */
/*
 * fwpush: the command. A thin layer over libfwpush; every command lives in tools/cmd_*.c and is
 * one row of commands[] below, which drives dispatch, `fwpush --help`, `fwpush help COMMAND`
 * and the man page (`fwpush help --scdoc`, which the build turns into fwpush.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef FWP_VERSION
#define FWP_VERSION "0.1.0"
#endif

#ifdef FWP_HAVE_DPDK
#define DPDK_TARGET	",\ndpdk:BDF[,bar=N][,offset=O] (through DPDK's EAL and PCI bus)"
#else
#define DPDK_TARGET	""
#endif

static const char about[] =
	"Pushes firmware images into a BMC's memory window, pipelined and verified with\n"
	"XXH3-128.";

static const char targets[] =
	"shm:NAME (POSIX shared memory, /dev/shm/NAME), vfio:BDF[,bar=N][,offset=O]\n"
	"(a PCI BAR through vfio-pci), pci:BDF[,bar=N][,offset=O] (through sysfs, as root),\n"
	"mem:ADDR[,size=S][,dev=PATH] (physical memory through /dev/mem: a BMC's window in its\n"
	"own DRAM; or a file that is a BMC's memory, ADDR an offset into it)"
	DPDK_TARGET ".";

static int cmd_help(int argc, char **argv);
static void usage_help(FILE *out);

/* Every command, in the order `fwpush --help` and the man page list them. */
static const struct cli_command commands[] = {
	{ "push", cmd_push, usage_push,
	  "push IMAGE --target URI", "push an image to a BMC" },
	{ "bmc-sim", cmd_bmc_sim, usage_bmc_sim,
	  "bmc-sim --window URI ...", "run an emulated BMC on a shared-memory window" },
	{ "bench", cmd_bench, usage_bench,
	  "bench", "push benchmark against an embedded emulated BMC" },
	{ "bench rt", cmd_bench_rt, usage_bench_rt,
	  "bench rt", "per-core benchmark of the runtime update" },
	{ "rt-update", cmd_rt_update, usage_rt_update,
	  "rt-update IMAGE|URL ...", "update a running multiprocessor (stage, activate)" },
	{ "keygen", cmd_keygen, usage_keygen,
	  "keygen --out KEY", "new Ed25519 key pair for signed images" },
	{ "sign", cmd_sign, usage_sign,
	  "sign IMAGE --key KEY", "detached signature IMAGE.sig" },
	{ "list", cmd_list, usage_list,
	  "list [--json]", "PCI devices that could be targets" },
	{ "help", cmd_help, usage_help,
	  "help [COMMAND]", "this text, or a command's" },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

/* How many words of argv name (a command's name, words split by one space); 0 if not all. */
static int match(const char *name, int argc, char **argv)
{
	size_t len;
	int n;

	for (n = 0; *name; n++) {
		len = strcspn(name, " ");
		if (n == argc || strncmp(argv[n], name, len) || argv[n][len])
			return 0;
		name += len + (name[len] == ' ');
	}
	return n;
}

/* The command argv starts with, the longest name first ("bench rt" over "bench"), or NULL. */
static const struct cli_command *find(int argc, char **argv, int *words)
{
	const struct cli_command *best = NULL;
	int n, most = 0;
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		n = match(commands[i].name, argc, argv);
		if (n > most) {
			best = &commands[i];
			most = n;
		}
	}
	*words = most;
	return best;
}

static void print_exits(FILE *out)
{
	int code;

	fputs("Exit codes:\n", out);
	for (code = 0; code < CLI_EXIT_COUNT; code++)
		fprintf(out, "%3d  %s\n", code, cli_exits[code].meaning);
}

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: fwpush --bench [--json]\n"
		"       fwpush COMMAND [OPTIONS]\n"
		"\n"
		"%s Commands:\n", about);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-24s  %s\n", commands[i].synopsis, commands[i].summary);
	fprintf(out, "\n"
		"  --bench     same as `fwpush bench`\n"
		"  --help      this text\n"
		"  --version   print the version\n"
		"\n"
		"Targets: %s\n"
		"\n", targets);
	print_exits(out);
}

static void usage_help(FILE *out)
{
	fputs("usage: fwpush help [COMMAND]\n"
	      "       fwpush help --scdoc\n"
	      "\n"
	      "Prints the usage of fwpush, or of COMMAND (bench rt is two words), and the exit\n"
	      "codes. --scdoc prints instead the manual page fwpush(1) as scdoc(5) source, made\n"
	      "from the same tables of commands and exit codes; the build pipes it through\n"
	      "scdoc into fwpush.1.\n", out);
}

/* s as scdoc text on one line: line breaks become spaces, \ * _ are escaped. */
static void scd_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n') {
			fputc(' ', out);
			continue;
		}
		if (strchr("\\*_", *s))
			fputc('\\', out);
		fputc(*s, out);
	}
}

/* What c->usage prints, as a scdoc literal block (where only \ is special); 0 or -1. */
static int scd_usage(FILE *out, const struct cli_command *c)
{
	char *text = NULL, *s;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		return -1;
	c->usage(mem);
	if (fclose(mem)) {
		free(text);
		return -1;
	}
	fputs("```\n", out);
	for (s = text; *s; s++) {
		if (*s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputs("```\n", out);
	free(text);
	return 0;
}

/* The man page fwpush(1) as scdoc source, from the tables of commands and exit codes. */
static int scdoc(FILE *out)
{
	size_t i;
	int code;

	fprintf(out, "fwpush(1) \"fwpush %s\"\n"
		"\n"
		"# NAME\n"
		"\n"
		"fwpush - push firmware images into a BMC's memory window, pipelined and verified\n"
		"\n"
		"# SYNOPSIS\n"
		"\n"
		"*fwpush* _COMMAND_ [_OPTIONS_]\n"
		"\n"
		"*fwpush* --bench [--json]\n"
		"\n"
		"*fwpush* --help | --version\n"
		"\n"
		"# DESCRIPTION\n"
		"\n", FWP_VERSION);
	scd_text(out, about);
	fputs(" Each command is below with its usage, as *fwpush help* _COMMAND_ prints it.\n"
	      "\n"
	      "# OPTIONS\n"
	      "\n"
	      "*--bench*\n"
	      "\tthe same as *fwpush bench*\n"
	      "\n"
	      "*-h*, *--help*\n"
	      "\tprint the commands, the targets and the exit codes\n"
	      "\n"
	      "*-V*, *--version*\n"
	      "\tprint the version\n"
	      "\n"
	      "# COMMANDS\n", out);
	for (i = 0; i < NCOMMANDS; i++) {
		fputs("\n*fwpush ", out);
		scd_text(out, commands[i].synopsis);
		fputs("*\n\t", out);
		scd_text(out, commands[i].summary);
		fputs("\n\n", out);
		if (scd_usage(out, &commands[i]))
			return cli_die(CLI_EXIT_FAILURE, "help --scdoc: out of memory");
	}
	fputs("\n# TARGETS\n\n", out);
	scd_text(out, targets);
	fputs("\n\n# EXIT STATUS\n", out);
	for (code = 0; code < CLI_EXIT_COUNT; code++) {
		fprintf(out, "\n*%d* (%s)\n\t", code, cli_exits[code].name);
		scd_text(out, cli_exits[code].meaning);
		fputc('\n', out);
	}
	fputs("\nEvery error is one line on standard error naming the file, target or field that\n"
	      "is wrong. fwpush never exits 77 (test harnesses read that as skipped).\n"
	      "\n"
	      "# SEE ALSO\n"
	      "\n"
	      "README.md and docs/PROTOCOL.md (the wire protocol) in the fwpush sources.\n", out);
	if (fflush(out) || ferror(out))
		return cli_die(CLI_EXIT_FAILURE, "help --scdoc: cannot write the man page");
	return 0;
}

/* fwpush help [COMMAND | --scdoc]: argv[0] is "help". */
static int cmd_help(int argc, char **argv)
{
	const struct cli_command *c;
	int words;

	if (argc < 2)
		return usage(stdout), 0;
	if (!strcmp(argv[1], "--scdoc"))
		return argc == 2 ? scdoc(stdout) :
		       cli_die(CLI_EXIT_USAGE, "help --scdoc: unexpected argument '%s'", argv[2]);
	c = find(argc - 1, argv + 1, &words);
	if (!c)
		return cli_die(CLI_EXIT_USAGE, "help: unknown command '%s'", argv[1]);
	c->usage(stdout);
	fputc('\n', stdout);
	print_exits(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const char *arg = argc > 1 ? argv[1] : NULL;
	const struct cli_command *c;
	int words;

	if (!arg)
		return usage(stdout), CLI_EXIT_USAGE;
	if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
		return usage(stdout), 0;
	if (!strcmp(arg, "--version") || !strcmp(arg, "-V"))
		return printf("fwpush %s\n", FWP_VERSION), 0;
	if (!strcmp(arg, "--bench"))
		return cmd_bench(argc - 1, argv + 1);
	c = find(argc - 1, argv + 1, &words);
	if (!c)
		return cli_die(CLI_EXIT_USAGE, "unknown command '%s' (try fwpush --help)", arg);
	return c->run(argc - words, argv + words);
}
