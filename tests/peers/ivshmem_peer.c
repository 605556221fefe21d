/* SPDX-License-Identifier: MIT */
/*
 * The register doorbells of engine/transport/target.h by themselves, without the push protocol
 * on top: both ends of a ping-pong.
 *
 *   ivshmem_peer echo URI SECONDS     BMC side: creates the window URI (shm:NAME,ivshmem=SOCKET),
 *                                     answers every ring by ringing every host back, for
 *                                     SECONDS or until SIGTERM; prints "ring_value 0xV" first
 *                                     and "echoed N" last
 *   ivshmem_peer ping URI VALUE N     host side: opens URI (vfio:BDF,bar=2), sets up its
 *                                     doorbell with ring value VALUE, rings N times and waits
 *                                     for each answer (1 s); prints "answered A of N",
 *                                     then its lines of /proc/interrupts ("vfio-msix"), read
 *                                     while the vector is still set up
 *
 * Exit 0 when every ring was answered (ping) or the echo ran without error, 1 otherwise.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/platform.h"
#include "transport/target.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int echo(const char *uri, double seconds)
{
	struct sigaction sa = { .sa_handler = on_term };
	uint64_t end = fwp_now_ns() + (uint64_t)(seconds * 1e9);
	struct fwp_target *t;
	unsigned long echoed = 0;
	int ret;

	sigaction(SIGTERM, &sa, NULL);
	ret = fwp_target_create(uri, 64 << 10, &t);
	if (ret) {
		fprintf(stderr, "ivshmem_peer: %s: %s\n", uri, strerror(-ret));
		return 1;
	}
	printf("ring_value 0x%x\n", (unsigned)fwp_target_ring_value(t));
	fflush(stdout);
	while (!stop && fwp_now_ns() < end && ret >= 0) {
		ret = fwp_target_wait(t, 100 * 1000000ull);
		if (ret != 1)
			continue;
		ret = fwp_target_ring(t);
		echoed += !ret;
	}
	printf("echoed %lu\n", echoed);
	fwp_target_close(t);
	if (ret < 0)
		fprintf(stderr, "ivshmem_peer: %s\n", strerror(-ret));
	return ret < 0;
}

/* The interrupts the kernel counted for VFIO's MSI-X vectors: proof they were interrupts. */
static void print_msix(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[512];

	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, "vfio-msix"))
			printf("irq %s", line);
	}
	if (f)
		fclose(f);
}

static int ping(const char *uri, uint32_t value, unsigned n)
{
	struct fwp_target *t = NULL;
	unsigned i, answered = 0;
	int ret;

	ret = fwp_target_open(uri, &t);
	if (!ret)
		ret = fwp_target_doorbell_setup(t, value);
	for (i = 0; !ret && i < n; i++) {
		ret = fwp_target_ring(t);
		if (!ret)
			ret = fwp_target_wait(t, 1000000000ull);
		answered += ret == 1;
		ret = ret < 0 ? ret : 0;
	}
	printf("answered %u of %u\n", answered, n);
	print_msix();
	if (ret)
		fprintf(stderr, "ivshmem_peer: %s: %s\n", uri, strerror(-ret));
	fwp_target_close(t);
	return ret || answered != n;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "echo"))
		return echo(argv[2], atof(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "ping"))
		return ping(argv[2], (uint32_t)strtoul(argv[3], NULL, 0), (unsigned)atoi(argv[4]));
	fprintf(stderr, "usage: ivshmem_peer echo URI SECONDS | ping URI VALUE N\n");
	return 2;
}
