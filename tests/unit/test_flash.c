/* SPDX-License-Identifier: MIT */
/*
 * The A/B flash and its activation record: a record write torn at any byte leaves the previous
 * record in force (never an older one, never garbage); a crash before the record leaves the old
 * image active; a restart finds the record's bank active and re-makes PATH from it. Storage
 * that fails (no room: RLIMIT_FSIZE stands in for a full disk; a view that cannot be
 * renamed) leaves the record, PATH and the active image as they were; a bank is reserved a
 * bounded step ahead of the writes and given back when abandoned; one writer per flash.
 */
#include "../../engine/bmc/flash.c"

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check.h"

/*
 * A record as the format defines it, written here without the code's own meta_check: its
 * check is XXH3-64 of the 32 bytes before it (magic, seq, bank, reserved, size).
 */
static struct fwp_flash_rec rec(uint64_t seq, uint32_t bank, uint64_t size)
{
	struct fwp_flash_rec r = { .magic = META_MAGIC, .seq = seq, .bank = bank, .size = size };

	CHECK_EQ(offsetof(struct fwp_flash_rec, check), 32);
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
	struct fwp_flash_rec good = rec(7, 1, 123456), other = rec(6, 0, 999), bad, got;
	size_t byte;
	int bit;

	got = fwp_flash_rec_pick(&good, &other);
	CHECK_EQ(got.seq, 7);
	for (byte = 0; byte < offsetof(struct fwp_flash_rec, check); byte++) {
		for (bit = 0; bit < 8; bit++) {
			bad = good;
			((unsigned char *)&bad)[byte] ^= (unsigned char)(1u << bit);
			got = fwp_flash_rec_pick(&bad, &other);
			CHECK_EQ(got.seq, 6);
			CHECK_EQ(got.bank, 0);
			CHECK_EQ(got.size, 999);
		}
	}
	bad = rec(8, 2, 1000);		/* a bank that does not exist, properly checksummed */
	CHECK_EQ(fwp_flash_rec_pick(&bad, &other).seq, 6);
	bad = rec(8, 0, 1000), bad.reserved = 1, bad.check = fwp_xxh64(&bad, 32);
	CHECK_EQ(fwp_flash_rec_pick(&bad, &other).seq, 6);
}

/* Writes the next record over the copy before the current one, torn after k bytes. */
static void torn_writes(void)
{
	uint64_t n;
	size_t k;

	for (n = 1; n < 6; n++) {
		struct fwp_flash_rec cur = rec(n, n % 2, 1000 + n);
		struct fwp_flash_rec older = n > 1 ? rec(n - 1, (n - 1) % 2, 999 + n) : (struct fwp_flash_rec){ 0 };
		struct fwp_flash_rec next = rec(n + 1, (n + 1) % 2, 1001 + n);

		for (k = 0; k <= sizeof(next); k++) {
			struct fwp_flash_rec slot = older, copies[2], got;

			memcpy(&slot, &next, k);
			copies[n % 2] = cur;
			copies[(n + 1) % 2] = slot;
			got = fwp_flash_rec_pick(&copies[0], &copies[1]);
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

/* Runs fn on its own open of the flash in a child that then dies: no close, no release. */
static void crash_after(const char *path, void (*fn)(struct fwp_flash *f))
{
	struct fwp_flash *f;
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		if (fwp_flash_open(path, NULL, &f))
			_exit(1);
		fn(f);
		_exit(check_failures ? 1 : 0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void write_c(struct fwp_flash *f)
{
	write_image(f, 'C', 3000);
}

/* The first half of a commit: the bank synced, the record written; dead before the rename. */
static void write_d_and_record(struct fwp_flash *f)
{
	struct fwp_flash_rec r;

	write_image(f, 'D', 4000);
	r = rec(f->cur.seq + 1, (uint32_t)f->inactive, 4000);
	CHECK_EQ(msync(f->bank[f->inactive].map, 4000, MS_SYNC), 0);
	CHECK_EQ(meta_write(f, (int)(r.seq % 2), &r), 0);
}

static void switches_and_restarts(void)
{
	struct fwp_flash *f;
	char path[96], link[128], view[128];

	snprintf(path, sizeof(path), "%s/flash", dir);
	snprintf(view, sizeof(view), "%s.view", path);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	write_image(f, 'A', 5000);
	CHECK_EQ(fwp_flash_commit(f), 0);
	CHECK(active_is(path, 'A', 5000));
	write_image(f, 'B', 7000);
	CHECK(active_is(path, 'A', 5000));	/* written, not yet switched */
	CHECK_EQ(fwp_flash_commit(f), 0);
	CHECK(active_is(path, 'B', 7000));
	CHECK(access(view, F_OK) != 0);		/* the next view became PATH */
	fwp_flash_close(f);
	/* A crash after the bank is written, before its record: the old image stays. */
	crash_after(path, write_c);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	CHECK_EQ(f->cur.seq, 2);
	CHECK(active_is(path, 'B', 7000));
	/*
	 * A crash between the record and the view: the view still names the other bank, which
	 * by now holds the half-done C. The record wins on the next open.
	 */
	fwp_flash_close(f);
	snprintf(link, sizeof(link), "%s.tmp", path);
	CHECK_EQ(symlink("flash.a", link), 0);
	CHECK_EQ(rename(link, path), 0);
	CHECK(active_is(path, 'C', 3000));
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	CHECK(active_is(path, 'B', 7000));
	fwp_flash_close(f);
	/*
	 * A crash after the record, before the rename: PATH still shows B, the record names D's
	 * bank, and the next view the switch left is renamed into place (no new inode needed).
	 */
	crash_after(path, write_d_and_record);
	CHECK(active_is(path, 'B', 7000));
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	CHECK_EQ(f->cur.seq, 3);
	CHECK(active_is(path, 'D', 4000));
	CHECK(access(view, F_OK) != 0);
	/* No record at all: no image is active, none is made up. */
	fwp_flash_close(f);
	CHECK_EQ(fwp_flash_remove(path), 0);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	CHECK_EQ(f->cur.seq, 0);
	fwp_flash_close(f);
	CHECK_EQ(fwp_flash_remove(path), 0);
}

static uint64_t blocks_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? UINT64_MAX : (uint64_t)st.st_blocks * 512;
}

/* The bytes of a file, for comparing before and after (at most 16 KiB). */
static size_t slurp(const char *path, unsigned char *buf, size_t len)
{
	FILE *fp = fopen(path, "rb");
	size_t n = fp ? fread(buf, 1, len, fp) : 0;

	if (fp)
		fclose(fp);
	return n;
}

struct snapshot {
	unsigned char meta[16384];
	size_t meta_len;
	char link[256];
};

static void snap(const char *path, struct snapshot *s)
{
	char meta[128];
	ssize_t n;

	snprintf(meta, sizeof(meta), "%s.meta", path);
	s->meta_len = slurp(meta, s->meta, sizeof(s->meta));
	n = readlink(path, s->link, sizeof(s->link) - 1);
	s->link[n < 0 ? 0 : n] = 0;
}

/* The record on disk and PATH are exactly as in s, the inactive bank holds no blocks. */
static void unchanged(const char *path, const struct snapshot *s, const char *inactive)
{
	struct snapshot now;
	char view[128];

	snap(path, &now);
	CHECK(now.meta_len == s->meta_len && !memcmp(now.meta, s->meta, s->meta_len));
	CHECK(!strcmp(now.link, s->link));
	CHECK_EQ(blocks_of(inactive), 0);
	snprintf(view, sizeof(view), "%s.view", path);
	CHECK(access(view, F_OK) != 0);
}

static int beats;

static void count_beat(void *arg)
{
	(void)arg;
	beats++;
}

/*
 * The BMC's begin reserves one step, not the image it is told about; ready() reserves a step
 * beyond what is about to be written; an abandoned bank gives its blocks back; the whole
 * reservation (rt-update's begin) goes a step at a time, beating between steps.
 */
static void bounded_reservation(void)
{
	struct fwp_flash *f;
	unsigned char *p;
	char path[96], bank[128];

	snprintf(path, sizeof(path), "%s/bounded", dir);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	fwp_flash_set_beat(f, count_beat, NULL);
	snprintf(bank, sizeof(bank), "%s", f->bank_path[f->inactive]);
	CHECK_EQ(fwp_file_flash_ops.begin(f, 2ull << 30, &p), 0);
	CHECK(blocks_of(bank) >= RESERVE_STEP && blocks_of(bank) < RESERVE_STEP + (1u << 20));
	memset(p, 'x', RESERVE_STEP);
	CHECK_EQ(fwp_file_flash_ops.ready(f, RESERVE_STEP, 1), 1);
	CHECK_EQ(f->reserved, RESERVE_STEP);			/* there already */
	CHECK_EQ(fwp_file_flash_ops.ready(f, RESERVE_STEP + 4096, 1), 1);
	CHECK_EQ(f->reserved, 2 * RESERVE_STEP);
	CHECK(blocks_of(bank) >= 2 * RESERVE_STEP);
	CHECK(blocks_of(bank) < 2 * RESERVE_STEP + (1u << 20));
	CHECK_EQ(fwp_flash_commit(f), -EINVAL);		/* not all of it is there */
	CHECK_EQ(f->cur.seq, 0);
	fwp_flash_release(f);
	CHECK_EQ(blocks_of(bank), 0);
	beats = 0;
	CHECK_EQ(fwp_flash_begin(f, 3 * RESERVE_STEP + 5, &p), 0);
	CHECK(blocks_of(bank) >= 3 * RESERVE_STEP + 5);
	CHECK_EQ(beats, 4);
	fwp_flash_close(f);				/* never committed: given back */
	CHECK_EQ(blocks_of(bank), 0);
	CHECK_EQ(fwp_flash_remove(path), 0);
}

/*
 * The blocks a bank keeps from an earlier image are not reserved twice, but a bank cut behind
 * the flash's back is reserved again, not trusted: the write into it must not fault.
 */
static void cut_behind_our_back(void)
{
	struct fwp_flash *f;
	unsigned char *p;
	char path[96], bank[128];

	snprintf(path, sizeof(path), "%s/cut", dir);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	write_image(f, 'A', 5000);
	CHECK_EQ(fwp_flash_commit(f), 0);
	write_image(f, 'B', 7000);
	CHECK_EQ(fwp_flash_commit(f), 0);
	snprintf(bank, sizeof(bank), "%s", f->bank_path[f->inactive]);
	CHECK_EQ(f->bank[f->inactive].held, 5000);
	CHECK_EQ(truncate(bank, 0), 0);
	CHECK_EQ(fwp_flash_begin(f, 5000, &p), 0);
	CHECK(blocks_of(bank) >= 5000);
	if (blocks_of(bank) >= 5000) {		/* else the memset would fault */
		memset(p, 'C', 5000);
		CHECK_EQ(fwp_flash_commit(f), 0);
		CHECK(active_is(path, 'C', 5000));
	}
	fwp_flash_close(f);
	CHECK_EQ(fwp_flash_remove(path), 0);
}

/*
 * No room (RLIMIT_FSIZE: fallocate beyond it fails with EFBIG, as a full disk fails with
 * ENOSPC): an image that does not fit is refused at begin, one that runs out part way is
 * refused by ready() before anything is written past the room; either way the record, PATH
 * and the active image are as they were, and once there is room the next image goes in.
 */
static void no_room(void)
{
	struct rlimit old, lim;
	struct snapshot before;
	struct fwp_flash *f;
	unsigned char *p;
	char path[96], inactive[128];

	snprintf(path, sizeof(path), "%s/full", dir);
	signal(SIGXFSZ, SIG_IGN);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	write_image(f, 'A', 5000);
	CHECK_EQ(fwp_flash_commit(f), 0);
	snprintf(inactive, sizeof(inactive), "%s", f->bank_path[f->inactive]);
	snap(path, &before);
	CHECK_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 2 * RESERVE_STEP - 4096;
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	CHECK_EQ(fwp_flash_begin(f, 3 * RESERVE_STEP, &p), -EFBIG);
	unchanged(path, &before, inactive);
	CHECK(active_is(path, 'A', 5000));
	CHECK_EQ(fwp_file_flash_ops.begin(f, 3 * RESERVE_STEP, &p), 0);
	memset(p, 'x', RESERVE_STEP);
	CHECK_EQ(fwp_file_flash_ops.ready(f, RESERVE_STEP + 4096, 1), -EFBIG);
	CHECK_EQ(fwp_flash_commit(f), -EINVAL);
	fwp_flash_release(f);
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
	unchanged(path, &before, inactive);
	CHECK(active_is(path, 'A', 5000));
	fwp_flash_close(f);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	unchanged(path, &before, inactive);
	write_image(f, 'B', 6000);
	CHECK_EQ(fwp_flash_commit(f), 0);
	CHECK(active_is(path, 'B', 6000));
	fwp_flash_close(f);
	CHECK_EQ(fwp_flash_remove(path), 0);
}

/*
 * The rename of the view fails after the record is written (PATH is a directory now): the
 * record is put back, byte for byte, so the record and PATH never disagree.
 */
static void view_fails_after_record(void)
{
	struct snapshot before, now;
	struct fwp_flash *f;
	char path[96], inside[128];

	snprintf(path, sizeof(path), "%s/view", dir);
	snprintf(inside, sizeof(inside), "%s/x", path);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	write_image(f, 'A', 5000);
	CHECK_EQ(fwp_flash_commit(f), 0);
	write_image(f, 'B', 6000);
	snap(path, &before);
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(mkdir(path, 0700), 0);
	CHECK_EQ(close(open(inside, O_CREAT | O_WRONLY, 0600)), 0);
	CHECK(fwp_flash_commit(f) < 0);
	CHECK_EQ(f->cur.seq, 1);
	snap(path, &now);
	CHECK(now.meta_len == before.meta_len && !memcmp(now.meta, before.meta, now.meta_len));
	CHECK_EQ(unlink(inside), 0);
	CHECK_EQ(rmdir(path), 0);
	CHECK_EQ(symlink(before.link, path), 0);
	fwp_flash_close(f);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	CHECK_EQ(f->cur.seq, 1);
	CHECK(active_is(path, 'A', 5000));
	fwp_flash_close(f);
	CHECK_EQ(fwp_flash_remove(path), 0);
}

/*
 * One writer per flash: a second open, in this process or another, is -EBUSY and touches
 * nothing (the next view of an image under way stays); once closed, the flash opens again.
 */
static void one_writer(void)
{
	struct fwp_flash *f, *g = NULL;
	char path[96], view[128];
	int status = -1;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/lock", dir);
	snprintf(view, sizeof(view), "%s.view", path);
	CHECK_EQ(fwp_flash_open(path, NULL, &f), 0);
	write_image(f, 'A', 5000);
	CHECK_EQ(fwp_flash_commit(f), 0);
	write_image(f, 'B', 6000);
	CHECK_EQ(fwp_flash_open(path, NULL, &g), -EBUSY);
	CHECK(g == NULL);
	pid = fork();
	if (pid == 0)
		_exit(fwp_flash_open(path, NULL, &g) == -EBUSY ? 0 : 1);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(access(view, F_OK) == 0);
	CHECK(active_is(path, 'A', 5000));
	CHECK_EQ(fwp_flash_commit(f), 0);
	CHECK(active_is(path, 'B', 6000));
	fwp_flash_close(f);
	CHECK_EQ(fwp_flash_open(path, NULL, &g), 0);
	fwp_flash_close(g);
	CHECK_EQ(fwp_flash_remove(path), 0);
}

/* Nanoseconds until a NOR part has programmed all size bytes it was given. */
static uint64_t programmed_after(struct fwp_flash *f, uint64_t size)
{
	struct timespec t0, t1;

	now_ts(&t0);
	fwp_flash_received(f, size);
	while (fwp_flash_ready(f, size, false) == 0)
		usleep(1000);
	now_ts(&t1);
	return (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)t1.tv_nsec -
	       (uint64_t)t0.tv_nsec;
}

/*
 * Compare before erasing (PROTOCOL.md 14.4): a NOR part of 16 sectors of 25 ms erase each
 * programs an image into a bank that already holds all but one of its sectors in about one
 * sector's time, and an image that differs everywhere in all sixteen. The banks read back.
 */
static void compare_before_erase(void)
{
	const struct fwp_nor_model nor = { .erase_size = 4096, .buffer = 1u << 20,
					   .erase_ms = 25, .program_mbps = 1000, .scale = 1 };
	const uint64_t size = 16 * 4096 - 100;	/* a short last sector */
	const unsigned char *bank;
	struct fwp_flash *f;
	uint64_t held;
	char path[96];

	snprintf(path, sizeof(path), "%s/nor", dir);
	CHECK_EQ(fwp_flash_open(path, &nor, &f), 0);
	CHECK_EQ(fwp_flash_block(f), 4096);
	CHECK_EQ(fwp_flash_bank(f, true, &bank, &held), 0);
	CHECK_EQ(held, 0);					/* nothing active yet */
	write_image(f, 'A', size);
	CHECK(programmed_after(f, size) >= 16 * 25000000ull);	/* an empty bank: all of it */
	CHECK_EQ(fwp_flash_commit(f), 0);
	write_image(f, 'B', size);
	CHECK(programmed_after(f, size) >= 16 * 25000000ull);	/* 'A' is in the other bank */
	CHECK_EQ(fwp_flash_commit(f), 0);
	CHECK_EQ(fwp_flash_bank(f, true, &bank, &held), 0);
	CHECK(held == size && bank[0] == 'B' && bank[size - 1] == 'B');
	CHECK_EQ(fwp_flash_bank(f, false, &bank, &held), 0);
	CHECK(held == size && bank[0] == 'A');
	write_image(f, 'A', size);				/* back into the 'A' bank */
	memset(f->bank[f->inactive].map + 5 * 4096, 'C', 4096);
	CHECK(programmed_after(f, size) < 8 * 25000000ull);	/* one sector, and slack */
	CHECK_EQ(fwp_flash_commit(f), 0);
	CHECK_EQ(fwp_flash_bank(f, true, &bank, &held), 0);
	CHECK(held == size && bank[5 * 4096] == 'C' && bank[6 * 4096] == 'A' &&
	      bank[size - 1] == 'A');
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
	bounded_reservation();
	cut_behind_our_back();
	no_room();
	view_fails_after_record();
	one_writer();
	compare_before_erase();
	rmdir(dir);
	return check_done("test_flash");
}
