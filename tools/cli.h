/* SPDX-License-Identifier: MIT */
/* What the fwpush subcommands share: exit codes, option parsing helpers, error lines. */
#ifndef FWP_CLI_H
#define FWP_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "fwpush/parse.h"

/* The exit codes, documented in the README and in `fwpush --help`. Never 77 (means SKIP). */
enum fwp_exit {
	FWP_EXIT_OK		= 0,
	FWP_EXIT_FAILURE	= 1,	/* internal or system error */
	FWP_EXIT_USAGE		= 2,	/* bad command line */
	FWP_EXIT_IMAGE		= 3,	/* image missing, unreadable, empty or too large */
	FWP_EXIT_TARGET		= 4,	/* bad target: unknown scheme, not a window, busy */
	FWP_EXIT_TIMEOUT	= 5,	/* the BMC made no progress (gone, stalled, never there) */
	FWP_EXIT_REFUSED	= 6,	/* the BMC answered with an error status */
	FWP_EXIT_VERIFY		= 7,	/* hashes differ: the image is not what was sent */
	FWP_EXIT_NOTHING	= 8,	/* rt-update: no warm start requested / nothing staged */
	FWP_EXIT_STATE		= 9,	/* rt-update: a saved processor state failed its check */
	FWP_EXIT_RENDEZVOUS	= 10,	/* rt-update: a processor did not reach the rendezvous */
};

extern const char *fwp_prog;

/* One line on stderr: "fwpush: <what>". Returns code, so callers can `return die(...)`. */
int fwp_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses an unsigned option value in [min, max] or prints a usage error naming opt. */
int fwp_opt_u32(const char *opt, const char *val, uint32_t min, uint32_t max, uint32_t *out);
int fwp_opt_size(const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t *out);

#ifdef FWP_HAVE_DPDK
#define FWP_DPDK_BUILT	1
#else
#define FWP_DPDK_BUILT	0
#endif

/* Maps a target open/connect error to a line and an exit code. */
int fwp_target_error(const char *uri, int err, uint32_t timeout_ms);

double fwp_gbps(uint64_t bytes, uint64_t ns);

/* Reads a detached Ed25519 signature file (exactly 64 bytes); 0 or an exit code. */
int fwp_read_signature(const char *path, uint8_t sig[64]);

int fwp_cmd_push(int argc, char **argv);
int fwp_cmd_bmc_sim(int argc, char **argv);
int fwp_cmd_bench(int argc, char **argv);
int fwp_cmd_bench_rt(int argc, char **argv);
int fwp_cmd_rt_update(int argc, char **argv);
int fwp_cmd_keygen(int argc, char **argv);
int fwp_cmd_sign(int argc, char **argv);
int fwp_cmd_list(int argc, char **argv);

void fwp_usage_push(void);
void fwp_usage_bmc_sim(void);
void fwp_usage_bench(void);
void fwp_usage_rt_update(void);
void fwp_usage_keygen(void);
void fwp_usage_sign(void);
void fwp_usage_list(void);

#endif
