/* SPDX-License-Identifier: MIT */
/*
 * What the fwpush commands share: exit codes, the command table's row, option parsing helpers,
 * error lines. The tool's own names are cli_, cmd_ and usage_; fwp_ is the library's.
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "fwpush/parse.h"

/*
 * The exit codes. Their meanings are one table, cli_exits[] in cli.c, which `fwpush --help`
 * and the man page print; the README's "Exit codes" table must say the same (cli.sh checks).
 * Never 77 (means SKIP).
 */
enum cli_exit {
	CLI_EXIT_OK		= 0,
	CLI_EXIT_FAILURE	= 1,
	CLI_EXIT_USAGE		= 2,
	CLI_EXIT_IMAGE		= 3,
	CLI_EXIT_TARGET		= 4,
	CLI_EXIT_TIMEOUT	= 5,
	CLI_EXIT_REFUSED	= 6,
	CLI_EXIT_VERIFY		= 7,
	CLI_EXIT_NOTHING	= 8,
	CLI_EXIT_STATE		= 9,
	CLI_EXIT_RENDEZVOUS	= 10,
	CLI_EXIT_SOME		= 11,
};
#define CLI_EXIT_COUNT	(CLI_EXIT_SOME + 1)

struct cli_exit_code {
	const char *name;	/* "usage": the enum's suffix, in lower case */
	const char *meaning;	/* one line, as `fwpush --help` and the README say it */
};

/* Indexed by the code, every code from 0 to CLI_EXIT_COUNT - 1. */
extern const struct cli_exit_code cli_exits[CLI_EXIT_COUNT];

/*
 * A command: `fwpush NAME ...` runs run(argc, argv) with argv[0] its last word. The table,
 * commands[] in fwpush.c, drives dispatch, `fwpush --help`, `fwpush help NAME` and the
 * man page.
 */
struct cli_command {
	const char *name;	/* "push", or two words: "bench rt" */
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *out);	/* the full text of `fwpush help NAME` */
	const char *synopsis;	/* "push IMAGE --target URI" */
	const char *summary;	/* one line, no full stop */
};

extern const char *cli_prog;

/* One line on stderr: "fwpush: <what>". Returns code, so callers can `return die(...)`. */
int cli_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * From now on this thread's cli_die() lines go into buf (the last one, without "fwpush: "),
 * not to stderr: a push to one of many targets keeps its reason for the summary. NULL: stderr.
 */
void cli_capture(char *buf, size_t len);

/* Parses an unsigned option value in [min, max] or prints a usage error naming opt. */
int cli_opt_u32(const char *opt, const char *val, uint32_t min, uint32_t max, uint32_t *out);
int cli_opt_size(const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t *out);

#ifdef FWP_HAVE_DPDK
#define CLI_DPDK_BUILT	1
#else
#define CLI_DPDK_BUILT	0
#endif

/* Maps a target open/connect error to a line and an exit code. */
int cli_target_error(const char *uri, int err, uint32_t timeout_ms);

double cli_gbps(uint64_t bytes, uint64_t ns);

/* Reads a detached Ed25519 signature file (exactly 64 bytes); 0 or an exit code. */
int cli_read_signature(const char *path, uint8_t sig[64]);

/* Up to len bytes from fd, fewer only at its end (EINTR retried): the count, or -errno. */
ssize_t cli_read_full(int fd, unsigned char *buf, size_t len);

/*
 * Checks a --pubkey before anything starts (NULL: none): a file that is missing or not an
 * Ed25519 public key, or signing code that does not load, is a usage error. 0 or an exit code.
 */
int cli_check_pubkey(const char *path);

/* The commands, each in its tools/cmd_*.c; their table is in fwpush.c. */
int cmd_push(int argc, char **argv);
int cmd_bmc_sim(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_bench_rt(int argc, char **argv);
int cmd_rt_update(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_list(int argc, char **argv);

void usage_push(FILE *out);
void usage_bmc_sim(FILE *out);
void usage_bench(FILE *out);
void usage_bench_rt(FILE *out);
void usage_rt_update(FILE *out);
void usage_keygen(FILE *out);
void usage_sign(FILE *out);
void usage_list(FILE *out);

#endif
