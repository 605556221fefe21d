/* SPDX-License-Identifier: MIT */
/* fwpush list: the PCI devices that could hold a window, and the targets that reach them. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fwpush/pci.h"

void usage_list(FILE *out)
{
	fputs("usage: fwpush list [--json] [--sysfs DIR]\n"
	      "\n"
	      "Lists the PCI devices with a memory BAR (a window needs one): address,\n"
	      "vendor:device, class, bound driver, IOMMU group, the BARs, and the target that\n"
	      "reaches the largest BAR (vfio: when bound to vfio-pci, else pci:, which needs root).\n"
	      "  --json        one JSON array\n"
	      "  --sysfs DIR   read DIR instead of /sys/bus/pci/devices\n", out);
}

struct list {
	bool json;
	unsigned count;
};

/* A BAR a window could live in: implemented, and memory rather than I/O ports. */
static bool memory_bar(const struct fwp_pci_bar *b)
{
	return b->size && !b->io;
}

static int largest_bar(const struct fwp_pci_dev *d)
{
	int i, best = -1;

	for (i = 0; i < FWP_PCI_BARS; i++) {
		if (memory_bar(&d->bar[i]) &&
		    (best < 0 || d->bar[i].size > d->bar[best].size))
			best = i;
	}
	return best;
}

static void human(uint64_t n, char *buf, size_t len)
{
	static const char units[][4] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;

	while (n >= 1024 && !(n % 1024) && u < 4) {
		n /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)n, units[u]);
}

static void print_text(const struct fwp_pci_dev *d, int best)
{
	char size[48], bars[256] = "";
	size_t used = 0;
	int i;

	for (i = 0; i < FWP_PCI_BARS; i++) {
		const struct fwp_pci_bar *b = &d->bar[i];

		if (!memory_bar(b))
			continue;
		human(b->size, size, sizeof(size));
		used += snprintf(bars + used, sizeof(bars) - used, "%s%d:%s%s%s",
				 used ? " " : "", i, size, b->is64 ? ",64" : "",
				 b->prefetch ? ",pf" : "");
		if (used >= sizeof(bars))
			break;
	}
	printf("%-12s  %04x:%04x  %06x  %-10s  %5d  %-34s  %s:%s,bar=%d\n", d->bdf, d->vendor,
	       d->device, d->class_code, d->driver[0] ? d->driver : "-", d->iommu_group, bars,
	       strcmp(d->driver, "vfio-pci") ? "pci" : "vfio", d->bdf, best);
}

static void print_json(const struct fwp_pci_dev *d, int best, bool first)
{
	bool any = false;
	int i;

	printf("%s{\"bdf\":\"%s\",\"vendor\":\"%04x\",\"device\":\"%04x\",\"class\":\"%06x\","
	       "\"driver\":%s%s%s,\"iommu_group\":%d,\"bars\":[", first ? "" : ",", d->bdf,
	       d->vendor, d->device, d->class_code, d->driver[0] ? "\"" : "",
	       d->driver[0] ? d->driver : "null", d->driver[0] ? "\"" : "", d->iommu_group);
	for (i = 0; i < FWP_PCI_BARS; i++) {
		const struct fwp_pci_bar *b = &d->bar[i];

		if (!memory_bar(b))
			continue;
		printf("%s{\"index\":%d,\"start\":%llu,\"size\":%llu,\"prefetchable\":%s,"
		       "\"64bit\":%s}", any ? "," : "", i, (unsigned long long)b->start,
		       (unsigned long long)b->size, b->prefetch ? "true" : "false",
		       b->is64 ? "true" : "false");
		any = true;
	}
	printf("],\"target\":\"%s:%s,bar=%d\"}", strcmp(d->driver, "vfio-pci") ? "pci" : "vfio",
	       d->bdf, best);
}

static int one(const struct fwp_pci_dev *d, void *arg)
{
	struct list *l = arg;
	int best = largest_bar(d);

	if (best < 0)
		return 0;
	if (l->json)
		print_json(d, best, l->count == 0);
	else
		print_text(d, best);
	l->count++;
	return 0;
}

int cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct list l = { 0 };
	const char *sysfs = NULL;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': l.json = true; break;
		case 's': sysfs = optarg; break;
		case 'h': usage_list(stdout); return 0;
		default: return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_die(CLI_EXIT_USAGE, "list: takes no operands (try fwpush help list)");
	if (l.json)
		printf("[");
	else
		printf("%-12s  %-9s  %-6s  %-10s  %5s  %-34s  %s\n", "DEVICE", "ID", "CLASS",
		       "DRIVER", "GROUP", "MEMORY BARS (index:size)", "TARGET");
	ret = fwp_pci_scan(sysfs, one, &l);
	if (l.json)
		printf("]\n");
	if (ret)
		return cli_die(CLI_EXIT_FAILURE, "list: %s: %s", sysfs ? sysfs : FWP_SYSFS_PCI,
			       strerror(-ret));
	return 0;
}
