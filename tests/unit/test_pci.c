/* SPDX-License-Identifier: MIT */
/* PCI addresses, target arguments, and a device read from a sysfs tree built here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fwpush/pci.h"
#include "fwpush/wire.h"
#include "transport/transport.h"

static void test_bdf(void)
{
	char out[FWP_PCI_BDF_LEN];
	static const char *const bad[] = { "", "00:03", "0000:00:03", "00:20.0", "00:03.8",
					   "00:03.0x", "g0:03.0", "00000:00:03.0", " 00:03.0",
					   "00:03.0,bar=2", "-0:03.0" };
	size_t i;

	CHECK_EQ(fwp_pci_bdf_parse("0000:00:03.0", 12, out), 0);
	CHECK(!strcmp(out, "0000:00:03.0"));
	CHECK_EQ(fwp_pci_bdf_parse("3:1f.7", 6, out), 0);
	CHECK(!strcmp(out, "0000:03:1f.7"));
	CHECK_EQ(fwp_pci_bdf_parse("ABCD:EF:01.2", 12, out), 0);
	CHECK(!strcmp(out, "abcd:ef:01.2"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = fwp_pci_bdf_parse(bad[i], strlen(bad[i]), out);

		if (ret != -EINVAL)
			fprintf(stderr, "accepted \"%s\"\n", bad[i]);
		CHECK_EQ(ret, -EINVAL);
	}
}

static void test_loc(void)
{
	struct fwp_pci_loc loc;
	static const char *const bad[] = { "00:03.0,", "00:03.0,bar", "00:03.0,bar=6",
					   "00:03.0,bar=x", "00:03.0,offset=100", "00:03.0,size=4",
					   "00:03.0,bar=1,", "00:03.0,=2", "00:03.0,bar==2", "x,bar=1" };
	size_t i;

	CHECK_EQ(fwp_pci_loc_parse("00:03.0", &loc), 0);
	CHECK(!strcmp(loc.bdf, "0000:00:03.0"));
	CHECK_EQ(loc.bar, 0);
	CHECK_EQ(loc.offset, 0);
	CHECK_EQ(fwp_pci_loc_parse("0000:00:03.0,bar=2,offset=64K", &loc), 0);
	CHECK_EQ(loc.bar, 2);
	CHECK_EQ(loc.offset, 65536);
	CHECK_EQ(fwp_pci_loc_parse("00:03.0,offset=8192,bar=5", &loc), 0);
	CHECK_EQ(loc.bar, 5);
	CHECK_EQ(loc.offset, 8192);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = fwp_pci_loc_parse(bad[i], &loc);

		if (ret != -EINVAL)
			fprintf(stderr, "accepted \"%s\"\n", bad[i]);
		CHECK_EQ(ret, -EINVAL);
	}
}

/* A BAR whose window is not at 0: found by its control block unless offset= says where. */
static void test_place(void)
{
	static unsigned char bar[16 * 4096];
	struct fwp_win_ctrl c;
	struct fwp_layout l;
	struct fwp_pci_loc loc;
	struct fwp_target t;

	CHECK_EQ(fwp_layout_init(&l, 1, 4096), 0);
	fwp_ctrl_encode(&c, &l, 1 << 20, 77);
	memcpy(bar + 3 * 4096, &c, sizeof(c));
	CHECK_EQ(fwp_pci_loc_parse("00:03.0,bar=2", &loc), 0);
	memset(&t, 0, sizeof(t));
	CHECK_EQ(fwp_pci_place(&t, bar, sizeof(bar), &loc), 0);
	CHECK(t.base == bar + 3 * 4096);
	CHECK_EQ(t.size, sizeof(bar) - 3 * 4096);
	CHECK_EQ(fwp_pci_loc_parse("00:03.0,bar=2,offset=8K", &loc), 0);
	CHECK_EQ(fwp_pci_place(&t, bar, sizeof(bar), &loc), 0);
	CHECK(t.base == bar + 8192);			/* told: no search */
	CHECK_EQ(fwp_pci_loc_parse("00:03.0,bar=2,offset=0", &loc), 0);
	CHECK_EQ(fwp_pci_place(&t, bar, sizeof(bar), &loc), 0);
	CHECK(t.base == bar);
	memset(bar, 0, sizeof(bar));			/* none yet: wait at 0 */
	CHECK_EQ(fwp_pci_loc_parse("00:03.0", &loc), 0);
	CHECK_EQ(fwp_pci_place(&t, bar, sizeof(bar), &loc), 0);
	CHECK(t.base == bar);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

/* An ivshmem-like device: BAR0 256 B of registers, BAR2 4 MiB prefetchable 64-bit memory. */
static void make_device(const char *root, const char *bdf, const char *driver)
{
	char dev[256], path[512];

	snprintf(dev, sizeof(dev), "%s/%s", root, bdf);
	if (mkdir(dev, 0700))
		abort();
	put(dev, "vendor", "0x1af4\n");
	put(dev, "device", "0x1110\n");
	put(dev, "class", "0x050000\n");
	put(dev, "resource",
	    "0x00000000fea00000 0x00000000fea000ff 0x0000000000040200\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	    "0x0000000800000000 0x00000008003fffff 0x000000000014220c\n"
	    "0x000000000000c000 0x000000000000c01f 0x0000000000040101\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
	snprintf(path, sizeof(path), "%s/driver", dev);
	if (driver && symlink(driver, path))
		abort();
	snprintf(path, sizeof(path), "%s/iommu_group", dev);
	if (symlink("../../../kernel/iommu_groups/7", path))
		abort();
}

static int count(const struct fwp_pci_dev *d, void *arg)
{
	(void)d;
	return ++*(int *)arg == 2 ? 42 : 0;
}

static void test_sysfs(void)
{
	char root[] = "/tmp/fwpush-test-pci-XXXXXX", cmd[64];
	struct fwp_pci_dev d;
	int n = 0;

	if (!mkdtemp(root))
		abort();
	make_device(root, "0000:00:10.0", "../../../bus/pci/drivers/vfio-pci");
	make_device(root, "0000:00:11.0", NULL);
	CHECK_EQ(fwp_pci_read(root, "0000:00:10.0", &d), 0);
	CHECK_EQ(d.vendor, 0x1af4);
	CHECK_EQ(d.device, 0x1110);
	CHECK_EQ(d.class_code, 0x050000);
	CHECK(!strcmp(d.driver, "vfio-pci"));
	CHECK_EQ(d.iommu_group, 7);
	CHECK_EQ(d.bar[0].size, 256);
	CHECK(!d.bar[0].prefetch && !d.bar[0].io);
	CHECK_EQ(d.bar[1].size, 0);
	CHECK_EQ(d.bar[2].size, 4 << 20);
	CHECK_EQ(d.bar[2].start, 0x800000000ull);
	CHECK(d.bar[2].prefetch && d.bar[2].is64);
	CHECK(d.bar[3].io);
	CHECK_EQ(fwp_pci_read(root, "0000:00:11.0", &d), 0);
	CHECK(!strcmp(d.driver, ""));
	CHECK_EQ(fwp_pci_read(root, "0000:00:12.0", &d), -ENODEV);
	/* Scans in address order and stops at the callback's first nonzero. */
	CHECK_EQ(fwp_pci_scan(root, count, &n), 42);
	CHECK_EQ(n, 2);
	CHECK_EQ(fwp_pci_scan("/nonexistent-fwpush", count, &n), -ENOENT);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		abort();
}

int main(void)
{
	test_bdf();
	test_loc();
	test_place();
	test_sysfs();
	return check_done("test_pci");
}
