/* SPDX-License-Identifier: MIT */
/* fwpush keygen and fwpush sign: Ed25519 keys and detached image signatures. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fwpush/pci.h"		/* fwp_module_error() */
#include "fwpush/sign.h"

void usage_keygen(FILE *out)
{
	fputs("usage: fwpush keygen --out KEY\n"
	      "\n"
	      "Writes a new Ed25519 key pair: KEY (private, PKCS#8 PEM, mode 0600) and KEY.pub\n"
	      "(public PEM, for bmc-sim --pubkey).\n", out);
}

void usage_sign(FILE *out)
{
	fputs("usage: fwpush sign IMAGE --key KEY [--out SIG]\n"
	      "\n"
	      "Writes a detached Ed25519 signature of the whole IMAGE (64 bytes) to SIG\n"
	      "(default IMAGE.sig), for push --signature.\n", out);
}

/* Parses "--out X" / "--key X" style options; returns the index of the first operand. */
static int options(int argc, char **argv, const char **key, const char **out, int *help)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "k:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': *key = optarg; break;
		case 'o': *out = optarg; break;
		case 'h': *help = 1; break;
		default: return -1;
		}
	}
	return optind;
}

int cmd_keygen(int argc, char **argv)
{
	const char *key = NULL, *out = NULL;
	char pub[4096];
	int help = 0, first, ret;

	first = options(argc, argv, &key, &out, &help);
	if (help)
		return usage_keygen(stdout), 0;
	if (first < 0 || first != argc || !out || key)
		return cli_die(CLI_EXIT_USAGE, "keygen: expected --out KEY");
	snprintf(pub, sizeof(pub), "%s.pub", out);
	ret = fwp_keygen(out, pub);
	if (ret == -ELIBACC)
		return cli_die(CLI_EXIT_FAILURE, "keygen: cannot load Ed25519 signatures: %s",
			       fwp_module_error());
	if (ret)
		return cli_die(CLI_EXIT_FAILURE, "keygen: cannot write %s: %s", out, strerror(-ret));
	printf("wrote %s (private) and %s (public)\n", out, pub);
	return 0;
}

int cmd_sign(int argc, char **argv)
{
	const char *key = NULL, *out = NULL, *image;
	uint8_t sig[FWP_SIG_SIZE];
	char def[4096];
	int help = 0, first, fd, ret;

	first = options(argc, argv, &key, &out, &help);
	if (help)
		return usage_sign(stdout), 0;
	if (first < 0 || first + 1 != argc || !key)
		return cli_die(CLI_EXIT_USAGE, "sign: expected IMAGE --key KEY");
	image = argv[first];
	ret = fwp_sign_file(key, image, sig);
	if (ret == -EINVAL)
		return cli_die(CLI_EXIT_USAGE, "key %s: not an Ed25519 private key", key);
	if (ret == -ELIBACC)
		return cli_die(CLI_EXIT_USAGE, "sign %s: cannot load Ed25519 signatures: %s", image,
			       fwp_module_error());
	if (ret == -ENODATA)
		return cli_die(CLI_EXIT_IMAGE, "image %s: is empty", image);
	if (ret)
		return cli_die(CLI_EXIT_IMAGE, "sign %s with %s: %s", image, key, strerror(-ret));
	if (!out) {
		snprintf(def, sizeof(def), "%s.sig", image);
		out = def;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, sig, sizeof(sig)) != sizeof(sig) || close(fd))
		return cli_die(CLI_EXIT_FAILURE, "sign: cannot write %s", out);
	printf("wrote %s\n", out);
	return 0;
}
