/* SPDX-License-Identifier: MIT */
/*
 * The A/B flash and its activation record: a record write torn at any byte leaves the previous
 * record in force (never an older one, never garbage); a crash before the record leaves the old
 * image active; a restart finds the record's bank active and re-makes PATH from it.
 */
#include "../../engine/bmc/flash.c"

#include <stdlib.h>

#include "check.h"

/*
 * A record as the format defines it, written here without the code's own meta_check: its
 * check is XXH3-64 of the 32 bytes before it (magic, seq, bank, reserved, size).
 */
static struct meta_rec rec(uint64_t seq, uint32_t bank, uint64_t size)
{
	struct meta_rec r = { .magic = META_MAGIC, .seq = seq, .bank = bank, .size = size };

	CHECK_EQ(offsetof(struct meta_rec, check), 32);
	r.check = fwp_xxh64(&r, 32);
	return r;
}

/*
 * The checksum covers every field: a record with any byte before its check changed (a bit
 * rot, a torn write that happens to keep seq) is not a record, and the other copy stays in
 * force.
 */
static void every_field_checked(void)
{
	struct meta_rec good = rec(7, 1, 123456), other = rec(6, 0, 999), bad, got;
	size_t byte;
	int bit;

	got = meta_pick(&good, &other);
	CHECK_EQ(got.seq, 7);
	for (byte = 0; byte < offsetof(struct meta_rec, check); byte++) {
		for (bit = 0; bit < 8; bit++) {
			bad = good;
			((unsigned char *)&bad)[byte] ^= (unsigned char)(1u << bit);
			got = meta_pick(&bad, &other);
			CHECK_EQ(got.seq, 6);
			CHECK_EQ(got.bank, 0);
			CHECK_EQ(got.size, 999);
		}
	}
	bad = rec(8, 2, 1000);		/* a bank that does not exist, properly checksummed */
	CHECK_EQ(meta_pick(&bad, &other).seq, 6);
	bad = rec(8, 0, 1000), bad.reserved = 1, bad.check = fwp_xxh64(&bad, 32);
	CHECK_EQ(meta_pick(&bad, &other).seq, 6);
}

/* Writes the next record over the copy before the current one, torn after k bytes. */
static void torn_writes(void)
{
	uint64_t n;
	size_t k;

	for (n = 1; n < 6; n++) {
		struct meta_rec cur = rec(n, n % 2, 1000 + n);
		struct meta_rec older = n > 1 ? rec(n - 1, (n - 1) % 2, 999 + n) : (struct meta_rec){ 0 };
		struct meta_rec next = rec(n + 1, (n + 1) % 2, 1001 + n);

		for (k = 0; k <= sizeof(next); k++) {
			struct meta_rec slot = older, copies[2], got;

			memcpy(&slot, &next, k);
			copies[n % 2] = cur;
			copies[(n + 1) % 2] = slot;
			got = meta_pick(&copies[0], &copies[1]);
			if (k < sizeof(next))
				CHECK_EQ(got.seq, n);	/* the previous record, whole */
			else
				CHECK_EQ(got.seq, n + 1);
		}
	}
}

static char dir[64];

static void write_image(struct fwp_flash *f, char c, uint64_t size)
{
	unsigned char *p;

	CHECK_EQ(fwp_flash_begin(f, size, &p), 0);
	memset(p, c, size);
}

static int active_is(const char *path, char c, uint64_t size)
{
	FILE *fp = fopen(path, "rb");
	uint64_t n = 0;
	int ch, ok = fp != NULL;

	while (ok && (ch = fgetc(fp)) != EOF)
		ok = ch == c && ++n <= size;
	if (fp)
		fclose(fp);
	return ok && n == size;
}

static void switches_and_restarts(void)
{
	struct fwp_flash *f;
	char path[96], link[128];

	snprintf(path, sizeof(path), "%s/flash", dir);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	write_image(f, 'A', 5000);
	CHECK_EQ(fwp_flash_commit(f), 0);
	CHECK(active_is(path, 'A', 5000));
	write_image(f, 'B', 7000);
	CHECK(active_is(path, 'A', 5000));	/* written, not yet switched */
	CHECK_EQ(fwp_flash_commit(f), 0);
	CHECK(active_is(path, 'B', 7000));
	/* A crash after the bank is written, before its record: the old image stays. */
	write_image(f, 'C', 3000);
	fwp_flash_close(f);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	CHECK_EQ(f->cur.seq, 2);
	CHECK(active_is(path, 'B', 7000));
	/*
	 * A crash between the record and the view: the view still names the other bank, which
	 * by now holds the half-done C. The record wins on the next open.
	 */
	fwp_flash_close(f);
	snprintf(link, sizeof(link), "%s.view", path);
	CHECK_EQ(symlink("flash.a", link), 0);
	CHECK_EQ(rename(link, path), 0);
	CHECK(active_is(path, 'C', 3000));
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	CHECK(active_is(path, 'B', 7000));
	/* No record at all: no image is active, none is made up. */
	fwp_flash_close(f);
	CHECK_EQ(fwp_flash_remove(path), 0);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	CHECK_EQ(f->cur.seq, 0);
	fwp_flash_close(f);
	CHECK_EQ(fwp_flash_remove(path), 0);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fwpush-test-flash-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	torn_writes();
	every_field_checked();
	switches_and_restarts();
	rmdir(dir);
	return check_done("test_flash");
}
