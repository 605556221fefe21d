/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bmc/flash.h"
#include "core/hash.h"
#include "fwpush/bmc.h"
#include "fwpush/parse.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/*
 * Space is reserved (fallocate) and faulted in (MADV_POPULATE_WRITE) this far ahead of what the
 * BMC is about to write, one bounded step at a time: a write into the mapping always lands in
 * reserved blocks (a write into a hole of a full filesystem is a SIGBUS), and a START for a huge
 * image costs one step, not the image.
 */
#define RESERVE_STEP	(16ull << 20)
/* The erase block without a NOR model: what HASHES and KEEP count in (PROTOCOL.md 14.1). */
#define DEFAULT_BLOCK	(64u << 10)

struct bank {
	int fd;
	unsigned char *map;
	uint64_t map_len;
	uint64_t held;		/* bytes from 0 that this process reserved and has not cut since */
	uint64_t faulted;	/* bytes from 0 whose pages this mapping faulted in, not cut since */
};

/* The bank's file was cut to size bytes (or less): what lay beyond is neither held nor mapped. */
static void bank_cut(struct bank *b, uint64_t size)
{
	if (b->held > size)
		b->held = size;
	if (b->faulted > size)
		b->faulted = size;
}

/*
 * Paces a NOR part: for each sector, once its data has been received, compare it with what the
 * sector held (same[]: decided as the data came in), and erase and program it only if it
 * differs. Delays run on an absolute schedule so they do not drift; a part that waits for data
 * earns no credit for it.
 */
struct programmer {
	struct fwp_nor_model m;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t generation;	/* bumped by every new image: the thread starts over */
	uint64_t size;
	uint64_t received;
	uint64_t programmed;	/* read without the lock by fwp_flash_ready() */
	unsigned char *same;	/* per sector of the image: 1 if it already held the bytes */
	uint64_t nsame;
	bool stop;
	bool running;
};

/* The activation record (struct fwp_flash_rec): two copies in PATH.meta, one per 4 KiB sector. */
#define META_MAGIC	0x3141544d50575046ull	/* "FWPMTA1" */
#define META_SECTOR	4096

struct fwp_flash {
	char *path;		/* the view: a symbolic link to the active bank */
	char *bank_path[2];	/* PATH.a, PATH.b */
	char *meta_path;	/* PATH.meta: the activation record, and the writer's lock */
	char *view_path;	/* PATH.view: the next view, made before the switch */
	int meta_fd;
	struct bank bank[2];
	int inactive;		/* the bank the next image goes to */
	struct fwp_flash_rec cur;	/* the record in force (seq 0: none yet) */
	struct fwp_flash_rec copy[2];	/* the two copies as they are on disk, for a rollback */
	uint64_t size;		/* of the image being written; 0: none prepared */
	uint64_t reserved;	/* bytes of the inactive bank reserved and faulted in */
	bool view_ready;	/* PATH.view names the inactive bank */
	bool stuck;		/* a switch failed and could not be undone: no more images */
	struct programmer *prog;	/* NULL: no timing model */
	uint32_t block;		/* the erase block (PROTOCOL.md 14.1) */
	struct fwp_hash128 *was;	/* with a model: each block's hash before this image */
	uint64_t old_size;	/* bytes the inactive bank held of that, when prepared */
	uint64_t compared;	/* bytes of the image whose blocks were compared with was[] */
	void (*beat)(void *arg);	/* called between the steps of a long preparation or switch */
	void *beat_arg;
};

static void now_ts(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

/* Sleeps until ns after *t and moves *t there: late wake-ups do not add up. */
static void pace(struct timespec *t, double ns)
{
	double at = t->tv_nsec + ns;

	t->tv_sec += (time_t)(at / 1e9);
	t->tv_nsec = (long)(at - (double)(time_t)(at / 1e9) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR)
		;
}

static void *program_loop(void *arg)
{
	struct programmer *p = arg;
	double ns_per_byte = 1e3 / p->m.program_mbps * p->m.scale;
	double erase_ns = p->m.erase_ms * 1e6 * p->m.scale;
	uint64_t gen, done, end, seen_gen = 0;
	struct timespec t;
	bool idle, skip;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		gen = p->generation;
		done = __atomic_load_n(&p->programmed, __ATOMIC_RELAXED);
		if (done >= p->size) {
			pthread_cond_wait(&p->cond, &p->lock);
			continue;
		}
		if (gen != seen_gen)
			now_ts(&t);	/* a new image: the part starts now */
		seen_gen = gen;
		end = (done / p->m.erase_size + 1) * p->m.erase_size;
		end = end < p->size ? end : p->size;
		/*
		 * Compare before erasing: the sector's data first. Waiting for it is idle time:
		 * the schedule restarts when the data is in.
		 */
		for (idle = false; !p->stop && p->generation == gen && p->received < end; idle = true)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop || p->generation != gen)
			continue;
		skip = p->same[done / p->m.erase_size];
		pthread_mutex_unlock(&p->lock);
		if (idle)
			now_ts(&t);
		if (!skip) {
			pace(&t, erase_ns);
			pace(&t, (double)(end - done) * ns_per_byte);
		}
		pthread_mutex_lock(&p->lock);
		if (p->generation == gen)
			__atomic_store_n(&p->programmed, end, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int programmer_start(struct fwp_flash *f, const struct fwp_nor_model *m)
{
	struct programmer *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	p->m = *m;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	f->prog = p;
	ret = pthread_create(&p->thread, NULL, program_loop, p);
	p->running = ret == 0;
	return -ret;
}

static void programmer_stop(struct programmer *p)
{
	if (!p)
		return;
	if (p->running) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->same);
	free(p);
}

/* A new image of size bytes: the programmer starts over, no sector known to hold it yet. */
static int programmer_reset(struct programmer *p, uint64_t size)
{
	uint64_t n = (size + p->m.erase_size - 1) / p->m.erase_size;
	unsigned char *same = calloc(n, 1);

	if (!same)
		return -ENOMEM;
	pthread_mutex_lock(&p->lock);
	free(p->same);
	p->same = same;
	p->nsame = n;
	p->generation++;
	p->size = size;
	p->received = 0;
	__atomic_store_n(&p->programmed, 0, __ATOMIC_RELEASE);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int nor_key(struct fwp_nor_model *m, const char *key, const char *val)
{
	uint64_t size;

	if (!strcmp(key, "erase") || !strcmp(key, "buffer")) {
		if (fwp_parse_size(val, &size) || size == 0 || size > UINT32_MAX)
			return -EINVAL;
		*(key[0] == 'e' ? &m->erase_size : &m->buffer) = (uint32_t)size;
		return 0;
	}
	if (!strcmp(key, "erase-ms"))
		return fwp_parse_positive(val, &m->erase_ms);
	if (!strcmp(key, "program-mbps"))
		return fwp_parse_positive(val, &m->program_mbps);
	if (!strcmp(key, "scale"))
		return fwp_parse_positive(val, &m->scale);
	return -EINVAL;
}

int fwp_nor_parse(const char *spec, struct fwp_nor_model *m)
{
	/* A 64 KiB-sector SPI NOR part: sector erase ~400 KB/s, page program ~2 MB/s. */
	struct fwp_nor_model d = {
		.erase_size = 64u << 10, .buffer = 8u << 20,
		.erase_ms = 160, .program_mbps = 2, .scale = 1,
	};
	char *copy, *item, *save = NULL, *eq;
	int ret = 0;

	if (strncmp(spec, "nor", 3) || (spec[3] && spec[3] != ':'))
		return -EINVAL;
	copy = strdup(spec[3] ? spec + 4 : "");
	if (!copy)
		return -ENOMEM;
	for (item = strtok_r(copy, ",", &save); item && !ret; item = strtok_r(NULL, ",", &save)) {
		eq = strchr(item, '=');
		if (eq)
			*eq = 0;
		ret = eq ? nor_key(&d, item, eq + 1) : -EINVAL;
	}
	free(copy);
	if (!ret)
		*m = d;
	return ret;
}

uint64_t fwp_nor_time_ns(const struct fwp_nor_model *m, uint64_t size)
{
	uint64_t sectors = (size + m->erase_size - 1) / m->erase_size;

	return (uint64_t)((sectors * m->erase_ms * 1e6 + size * 1e3 / m->program_mbps) *
			  m->scale);
}

static void bank_close(struct bank *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	if (b->fd >= 0)
		close(b->fd);
	b->map = NULL;
	b->map_len = 0;
	bank_cut(b, 0);
	b->fd = -1;
}

static uint64_t meta_check(const struct fwp_flash_rec *r)
{
	return fwp_xxh64(r, offsetof(struct fwp_flash_rec, check));
}

static bool meta_valid(const struct fwp_flash_rec *r)
{
	return r->magic == META_MAGIC && r->seq && r->bank < 2 && !r->reserved &&
	       r->check == meta_check(r);
}

struct fwp_flash_rec fwp_flash_rec_pick(const struct fwp_flash_rec *a,
					const struct fwp_flash_rec *b)
{
	struct fwp_flash_rec none = { 0 };
	bool va = meta_valid(a), vb = meta_valid(b);

	if (va && (!vb || a->seq > b->seq))
		return *a;
	return vb ? *b : none;
}

void fwp_flash_rec_seal(struct fwp_flash_rec *r)
{
	r->magic = META_MAGIC;
	r->reserved = 0;
	r->check = meta_check(r);
}

static int meta_read(struct fwp_flash *f)
{
	struct fwp_flash_rec r[2];
	int i;

	for (i = 0; i < 2; i++) {
		ssize_t n = pread(f->meta_fd, &r[i], sizeof(r[i]), (off_t)i * META_SECTOR);

		if (n < 0)
			return -errno;
		if (n != sizeof(r[i]))
			memset(&r[i], 0, sizeof(r[i]));
	}
	memcpy(f->copy, r, sizeof(r));
	f->cur = fwp_flash_rec_pick(&r[0], &r[1]);
	f->inactive = f->cur.seq ? !f->cur.bank : 0;
	return 0;
}

static int sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return ret;
}

/* What the view of bank i links to: the bank's name, relative to the view's directory. */
static const char *bank_name(const struct fwp_flash *f, int i)
{
	const char *name = strrchr(f->bank_path[i], '/');

	return name ? name + 1 : f->bank_path[i];
}

/* Does the symbolic link at path name bank i? */
static bool links_to(const struct fwp_flash *f, const char *path, int i)
{
	char got[4096];
	ssize_t n = readlink(path, got, sizeof(got) - 1);

	if (n < 0)
		return false;
	got[n] = 0;
	return !strcmp(got, bank_name(f, i));
}

/*
 * Makes PATH.view, the view of bank i, ready to be renamed over PATH. It takes the one new
 * inode the switch needs, before the switch: a full filesystem fails it here, while nothing
 * has changed. (The commit makes it durable, with the directory, before the record.)
 */
static int make_view(struct fwp_flash *f, int i)
{
	if (unlink(f->view_path) && errno != ENOENT)
		return -errno;
	return symlink(bank_name(f, i), f->view_path) ? -errno : 0;
}

/*
 * PATH is a symbolic link to the active bank, derived from the record. At open it is made to
 * agree with the record if it does not (a crash between the record and the view): with the
 * PATH.view the interrupted switch left, if it names the right bank, else a new one.
 */
static int reconcile_view(struct fwp_flash *f)
{
	int ret;

	if (!f->cur.seq || links_to(f, f->path, (int)f->cur.bank)) {
		unlink(f->view_path);	/* a stale next view: the inode back */
		return 0;
	}
	if (!links_to(f, f->view_path, (int)f->cur.bank)) {
		ret = make_view(f, (int)f->cur.bank);
		if (ret)
			return ret;
	}
	if (rename(f->view_path, f->path))
		return -errno;
	return sync_dir_of(f->path);
}

/* Reserves [from, to) of fd: real blocks, so a later write cannot fail for want of space. */
static int reserve_blocks(int fd, uint64_t from, uint64_t to)
{
	int ret;

	do {
		ret = fallocate(fd, 0, (off_t)from, (off_t)(to - from)) ? -errno : 0;
	} while (ret == -EINTR);
	/* A filesystem without fallocate: posix_fallocate writes the blocks instead. */
	if (ret == -EOPNOTSUPP)
		ret = -posix_fallocate(fd, (off_t)from, (off_t)(to - from));
	return ret;
}

static char *suffixed(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s%s", path, suffix);
	return p;
}

/*
 * One writer per flash: an exclusive OFD lock on the whole of PATH.meta, held for as long as
 * the flash is open (by this open file description: not inherited across exec, and a second
 * open in the same process conflicts too). Taken before anything is read or re-made.
 */
static int lock_writer(int fd)
{
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (!fcntl(fd, F_OFD_SETLK, &l))
		return 0;
	return errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
}

int fwp_flash_open(const char *path, const struct fwp_nor_model *nor, struct fwp_flash **out)
{
	struct fwp_flash *f = calloc(1, sizeof(*f));
	int ret = -ENOMEM;

	if (!f)
		return -ENOMEM;
	f->bank[0].fd = f->bank[1].fd = f->meta_fd = -1;
	f->path = strdup(path);
	f->bank_path[0] = suffixed(path, ".a");
	f->bank_path[1] = suffixed(path, ".b");
	f->meta_path = suffixed(path, ".meta");
	f->view_path = suffixed(path, ".view");
	if (!f->path || !f->bank_path[0] || !f->bank_path[1] || !f->meta_path || !f->view_path)
		goto err;
	f->meta_fd = open(f->meta_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ret = f->meta_fd < 0 ? -errno : lock_writer(f->meta_fd);
	if (!ret)
		ret = meta_read(f);
	/* A crash between the record and its view: the record is the truth. */
	if (!ret)
		ret = reconcile_view(f);
	f->block = nor ? nor->erase_size : DEFAULT_BLOCK;
	if (!ret && nor)
		ret = programmer_start(f, nor);
	if (ret)
		goto err;
	*out = f;
	return 0;
err:
	fwp_flash_close(f);
	return ret;
}

void fwp_flash_close(struct fwp_flash *f)
{
	if (!f)
		return;
	if (f->meta_fd >= 0)
		fwp_flash_release(f);
	programmer_stop(f->prog);
	bank_close(&f->bank[0]);
	bank_close(&f->bank[1]);
	if (f->meta_fd >= 0)
		close(f->meta_fd);
	free(f->path);
	free(f->bank_path[0]);
	free(f->bank_path[1]);
	free(f->meta_path);
	free(f->view_path);
	free(f->was);
	free(f);
}

int fwp_flash_remove(const char *path)
{
	static const char *const suffixes[] = { "", ".a", ".b", ".meta", ".view" };
	size_t i;
	int ret = 0;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *p = suffixed(path, suffixes[i]);

		if (!p)
			return -ENOMEM;
		if (unlink(p) && errno != ENOENT)
			ret = -errno;
		free(p);
	}
	return ret;
}

/* Maps at least size bytes of the bank, in 2 MiB steps so similar images reuse the mapping. */
static int bank_map(struct bank *b, uint64_t size)
{
	uint64_t len = (size + (2u << 20) - 1) & ~((uint64_t)(2u << 20) - 1);
	void *p;

	if (b->map && b->map_len >= size)
		return 0;
	if (b->map)
		munmap(b->map, b->map_len);
	b->map = NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	b->map = p;
	b->map_len = len;
	b->faulted = 0;
	return 0;
}

void fwp_flash_set_beat(struct fwp_flash *f, void (*fn)(void *arg), void *arg)
{
	f->beat = fn;
	f->beat_arg = arg;
}

/* Between the steps of a long preparation or switch: the BMC's heartbeat, if it gave one. */
static void beat(struct fwp_flash *f)
{
	if (f->beat)
		f->beat(f->beat_arg);
}

/*
 * Reserves and faults in the inactive bank up to to bytes (at most the image), a step at a
 * time, beating between steps: the blocks are there before anything is written into them.
 */
static int reserve_to(struct fwp_flash *f, uint64_t to)
{
	struct bank *b = &f->bank[f->inactive];
	uint64_t from, end;
	int ret;

	if (to > f->size)
		to = f->size;
	while (f->reserved < to) {
		from = f->reserved;
		end = to - from > RESERVE_STEP ? from + RESERVE_STEP : to;
		/* Blocks this bank still holds from an earlier image need no second fallocate. */
		if (end > b->held) {
			ret = reserve_blocks(b->fd, from > b->held ? from : b->held, end);
			if (ret)
				return ret;
			b->held = end;
		}
		/*
		 * One system call instead of a page fault per page (older kernels just fault), and
		 * only once per mapping: it walks the page tables even where every page is there
		 * already, which cost the BMC 15 % of a push (perf-reports/NOTES.md 20).
		 */
		if (end > b->faulted) {
			from = from > b->faulted ? from : b->faulted;
			madvise(b->map + from, end - from, MADV_POPULATE_WRITE);
			b->faulted = end;
		}
		f->reserved = end;
		beat(f);
	}
	return 0;
}

/*
 * With a model, what each block of the inactive bank holds before the image is written over
 * it: the part then programs only the blocks whose bytes differ (compare before erasing).
 */
static int snapshot(struct fwp_flash *f, uint64_t size)
{
	const unsigned char *bank = f->bank[f->inactive].map;
	uint64_t n = (size + f->block - 1) / f->block, i, at, end;
	struct fwp_hash128 *was;

	f->compared = 0;
	if (!f->prog)
		return 0;
	was = realloc(f->was, n * sizeof(*was));
	if (!was)
		return -ENOMEM;
	f->was = was;
	for (i = 0; i < n; i++) {
		at = i * f->block;
		end = at + f->block < f->old_size ? at + f->block : f->old_size;
		was[i] = at < end ? fwp_xxh128(bank + at, end - at) : (struct fwp_hash128){ 0, 0 };
		if (at % RESERVE_STEP == 0)
			beat(f);
	}
	return programmer_reset(f->prog, size);
}

/*
 * Prepares the inactive bank for an image of size bytes, reserving the first upto bytes: the
 * bank file, the record's two sectors and the next view take their blocks and inodes now,
 * so a full filesystem fails here with nothing changed. The bank is cut to the image's size
 * (never longer, so the view shows exactly the image) and grows as it is reserved.
 */
static int prepare(struct fwp_flash *f, uint64_t size, uint64_t upto, unsigned char **staging)
{
	struct bank *b = &f->bank[f->inactive];
	struct stat st;
	int ret;

	if (f->stuck)
		return -EIO;
	fwp_flash_release(f);
	if (b->fd < 0) {
		b->fd = open(f->bank_path[f->inactive], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (b->fd < 0)
			return -errno;
	}
	f->size = size;
	ret = fstat(b->fd, &st) ? -errno : 0;
	if (!ret && (uint64_t)st.st_size > size && ftruncate(b->fd, (off_t)size))
		ret = -errno;
	if (!ret) {
		f->old_size = (uint64_t)st.st_size < size ? (uint64_t)st.st_size : size;
		bank_cut(b, (uint64_t)st.st_size);	/* cut by someone else: keep what is left */
		bank_cut(b, size);
		ret = reserve_blocks(f->meta_fd, 0, 2 * META_SECTOR);
	}
	if (!ret)
		ret = make_view(f, f->inactive);
	f->view_ready = !ret;
	if (!ret)
		ret = bank_map(b, size);
	if (!ret)
		ret = reserve_to(f, upto);
	if (!ret)
		ret = snapshot(f, size);
	if (ret) {
		fwp_flash_release(f);
		return ret;
	}
	*staging = b->map;
	return 0;
}

int fwp_flash_begin(struct fwp_flash *f, uint64_t size, unsigned char **staging)
{
	return prepare(f, size, size, staging);
}

void fwp_flash_release(struct fwp_flash *f)
{
	struct bank *b = &f->bank[f->inactive];

	if (f->stuck)
		return;		/* the record on disk may name this bank: keep it, and its view */
	if (f->view_ready)
		unlink(f->view_path);
	f->view_ready = false;
	if (f->size && b->fd >= 0) {
		(void)!ftruncate(b->fd, 0);
		bank_cut(b, 0);
	}
	f->size = 0;
	f->reserved = 0;
}

int fwp_flash_shrink(struct fwp_flash *f, uint64_t size)
{
	struct bank *b = &f->bank[f->inactive];

	if (!size || !f->size || size > f->size)
		return -EINVAL;
	if (size == f->size)
		return 0;
	if (ftruncate(b->fd, (off_t)size))
		return -errno;
	bank_cut(b, size);
	if (f->reserved > size)
		f->reserved = size;
	f->size = size;
	if (f->prog) {
		pthread_mutex_lock(&f->prog->lock);
		f->prog->size = size;
		pthread_cond_signal(&f->prog->cond);
		pthread_mutex_unlock(&f->prog->lock);
	}
	return 0;
}

/* Compares each block completed below upto with what it held before (snapshot). */
static void compare_blocks(struct fwp_flash *f, uint64_t upto)
{
	const unsigned char *bank = f->bank[f->inactive].map;
	struct fwp_hash128 h;
	uint64_t end;

	for (; f->compared < upto; f->compared = end) {
		end = f->compared + f->block < f->size ? f->compared + f->block : f->size;
		if (end > upto)
			break;
		h = fwp_xxh128(bank + f->compared, end - f->compared);
		f->prog->same[f->compared / f->block] = f->compared < f->old_size &&
			fwp_hash128_eq(&h, &f->was[f->compared / f->block]);
	}
}

void fwp_flash_received(struct fwp_flash *f, uint64_t upto)
{
	struct programmer *p = f->prog;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	compare_blocks(f, upto);
	p->received = upto;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

uint32_t fwp_flash_block(const struct fwp_flash *f)
{
	return f->block;
}

int fwp_flash_bank(struct fwp_flash *f, bool active, const unsigned char **p, uint64_t *size)
{
	int i = active ? !f->inactive : f->inactive;
	struct bank *b = &f->bank[i];
	struct stat st;

	*p = NULL;
	*size = 0;
	if (active && !f->cur.seq)
		return 0;	/* no image activated yet */
	if (b->fd < 0) {
		b->fd = open(f->bank_path[i], O_RDWR | O_CLOEXEC);
		if (b->fd < 0)
			return errno == ENOENT && !active ? 0 : -errno;
	}
	if (fstat(b->fd, &st))
		return -errno;
	*size = active ? f->cur.size : (uint64_t)st.st_size;
	if ((uint64_t)st.st_size < *size)
		return -EIO;	/* the active bank lost bytes */
	/* A bank grown behind our back must not make us re-map the staging under the BMC. */
	if (!active && f->size && *size > f->size)
		*size = f->size;
	if (!*size)
		return 0;
	if (bank_map(b, *size))
		return -EIO;
	*p = b->map;
	return 0;
}

int fwp_flash_ready(struct fwp_flash *f, uint64_t upto, bool ahead)
{
	uint64_t done;
	int ret;

	/* To the end of the step upto falls in: steps stay aligned, at most one ahead. */
	if (upto > f->reserved) {
		ret = reserve_to(f, upto / RESERVE_STEP * RESERVE_STEP + RESERVE_STEP);
		if (ret)
			return ret;
	}
	if (!f->prog)
		return 1;
	done = __atomic_load_n(&f->prog->programmed, __ATOMIC_ACQUIRE);
	return ahead ? upto <= done + f->prog->m.buffer : done >= upto;
}

/* Writes copy i of the record and makes it durable. */
static int meta_write(struct fwp_flash *f, int i, const struct fwp_flash_rec *r)
{
	ssize_t n = pwrite(f->meta_fd, r, sizeof(*r), (off_t)i * META_SECTOR);

	if (n != (ssize_t)sizeof(*r))
		return n < 0 ? -errno : -EIO;
	return fdatasync(f->meta_fd) ? -errno : 0;
}

/*
 * The bank is whole and synced first, the next view made; then the record write is the one
 * atomic switch, and renaming the view over PATH follows it. Until the record is durable,
 * a failure leaves the old record, the old view and the old image: the copy written is put
 * back as it was. Should the rename fail after it, the record is put back too, so the view
 * and the record never disagree.
 */
int fwp_flash_commit(struct fwp_flash *f)
{
	struct bank *b = &f->bank[f->inactive];
	struct fwp_flash_rec r = {
		.seq = f->cur.seq + 1,
		.bank = (uint32_t)f->inactive,
		.size = f->size,
	};
	int i = (int)(r.seq % 2), ret;

	if (!f->size || f->reserved < f->size)
		return -EINVAL;		/* nothing prepared, or not all of it */
	if (msync(b->map, f->size, MS_SYNC) || fsync(b->fd))
		return -errno;
	beat(f);
	ret = f->view_ready ? 0 : make_view(f, f->inactive);
	f->view_ready = !ret;
	/* PATH.view durable before the record: a crash after it finds the view to rename. */
	if (!ret)
		ret = sync_dir_of(f->path);
	if (ret)
		return ret;
	beat(f);
	fwp_flash_rec_seal(&r);
	ret = meta_write(f, i, &r);
	beat(f);
	if (!ret && rename(f->view_path, f->path))
		ret = -errno;
	if (ret) {
		/*
		 * Should even the copy's restore fail, the record on disk is unknown: the bank it
		 * may name is kept as it is and no image is taken until the flash is opened again,
		 * when the record (whichever it is) and PATH are made to agree.
		 */
		if (meta_write(f, i, &f->copy[i]))
			f->stuck = true;
		return ret;
	}
	f->view_ready = false;
	f->copy[i] = r;
	f->cur = r;
	f->inactive = !f->inactive;
	f->size = 0;
	f->reserved = 0;
	/*
	 * The switch is done: the record is durable and the view follows it. A rename lost to a
	 * crash is re-made from the record at the next open, so this sync's failure changes
	 * nothing the host must hear about.
	 */
	sync_dir_of(f->path);
	return 0;
}

/* The BMC writes the image chunk by chunk: the bank is reserved ahead of it (file_ready). */
static int file_begin(void *ctx, uint64_t size, unsigned char **staging)
{
	return prepare(ctx, size, RESERVE_STEP, staging);
}

/* The bytes are already in the mapped bank: tell the part's programmer they are there. */
static int file_store(void *ctx, uint64_t off, const void *p, size_t len)
{
	(void)p;
	fwp_flash_received(ctx, off + len);
	return 0;
}

/* 1, 0, or a negative errno: the bank could not be reserved up to upto (STORAGE_ERROR). */
static int file_ready(void *ctx, uint64_t upto, int ahead)
{
	return fwp_flash_ready(ctx, upto, ahead);
}

static int file_commit(void *ctx)
{
	return fwp_flash_commit(ctx);
}

static void file_close(void *ctx)
{
	fwp_flash_close(ctx);
}

const struct fwp_flash_ops fwp_file_flash_ops = {
	.begin = file_begin,
	.store = file_store,
	.ready = file_ready,
	.commit = file_commit,
	.close = file_close,
};
