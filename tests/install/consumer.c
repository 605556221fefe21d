/* SPDX-License-Identifier: MIT */
/*
 * A program outside fwpush's tree, built against the installed library through fwpush.pc:
 * pushes an image to a BMC and prints the hash the BMC verified, as `fwpush push` would.
 * Usage: consumer IMAGE TARGET
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fwpush/push.h>

int main(int argc, char **argv)
{
	struct fwp_push_opts o = { .sz = sizeof(o), .timeout_ms = 5000 };
	struct fwp_push_result r;
	struct fwp_host *h;
	char hex[33];
	int fd, ret;

	if (argc != 3) {
		fprintf(stderr, "usage: consumer IMAGE TARGET\n");
		return 2;
	}
	fd = fwp_image_open(argv[1], false);
	if (fd < 0) {
		fprintf(stderr, "consumer: %s: %s\n", argv[1], strerror(-fd));
		return 1;
	}
	ret = fwp_host_open(argv[2], 5000, &h);
	if (!ret) {
		ret = fwp_host_push(h, fd, &o, &r);
		fwp_host_close(h);
	}
	close(fd);
	if (ret || !r.verified) {
		fprintf(stderr, "consumer: push to %s: %s\n", argv[2], ret ? strerror(-ret) : "not verified");
		return 1;
	}
	fwp_hash128_hex(&r.image_hash, hex);
	printf("%s %s\n", hex, argv[1]);
	return 0;
}
