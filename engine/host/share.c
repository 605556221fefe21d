/* SPDX-License-Identifier: MIT */
/*
 * One image for many pushes at once (a mass-flash station): the file is read into a bounded
 * cache of blocks, and every push copies its chunks from there into its own window. Pushes that
 * move together read each block once; one that falls a whole cache behind the others (a slow
 * or stalled BMC) reads its blocks again rather than hold them back. Each push is its own
 * source (a view) over the shared cache, used from its own thread.
 *
 * The cache is direct-mapped: block k lives in entry k % FWP_SHARE_BLOCKS. A block is read by
 * the first push that wants it, outside the lock; the others wait for it on the condition
 * variable. An entry being read or copied from is never taken over.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwpush/push.h"
#include "host/source.h"

#define FWP_SHARE_BLOCK		(64u << 10)
#define FWP_SHARE_BLOCKS	256u		/* 16 MiB, whatever the image and the targets */
#define FWP_SHARE_HASHED	256u		/* chunks whose hashes are kept: ~150 KiB */

enum block_state { BLOCK_EMPTY, BLOCK_READING, BLOCK_READY };

struct block {
	uint64_t index;
	enum block_state state;
	uint32_t users;		/* pushes copying out of it */
	int err;		/* the read failed: -errno, for the push that wanted it */
};

/*
 * A chunk's hashes as the first push to hash it computed them: direct-mapped by chunk number,
 * so pushes that move together (and chunk alike) find them while the others still come. The
 * first claims the chunk (HASHING) and the others wait for its offer, a few microseconds.
 */
enum hashed_state { HASHED_EMPTY, HASHED_HASHING, HASHED_READY };

struct hashed {
	struct fwp_hstate image;	/* the image's hash state past the chunk */
	uint64_t off;
	uint32_t len;
	enum hashed_state state;
	bool has_chunk;			/* offered by a push in a plain session (PROTOCOL.md 15) */
	struct fwp_hash128 chunk;
};

struct fwp_share {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int fd;
	struct fwp_source *file;	/* the file itself: its size and changed() */
	uint64_t bytes_read;
	uint64_t bytes_hashed;		/* offered: hashed by some push */
	struct block blocks[FWP_SHARE_BLOCKS];
	unsigned char *data;
	struct hashed *hashed;		/* FWP_SHARE_HASHED of them */
};

struct want {
	void *dst;
	uint64_t off;
	uint32_t len;
};

/* One push's view of the share. */
struct view {
	struct fwp_source src;
	struct fwp_share *share;
	struct want want[FWP_SLOTS_MAX];
};

static unsigned char *block_data(struct fwp_share *s, uint64_t k)
{
	return s->data + (size_t)(k % FWP_SHARE_BLOCKS) * FWP_SHARE_BLOCK;
}

static uint32_t block_len(const struct fwp_share *s, uint64_t k)
{
	uint64_t left = s->file->size - k * FWP_SHARE_BLOCK;

	return left < FWP_SHARE_BLOCK ? (uint32_t)left : FWP_SHARE_BLOCK;
}

static int read_block(struct fwp_share *s, uint64_t k)
{
	unsigned char *buf = block_data(s, k);
	uint32_t len = block_len(s, k), got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(s->fd, buf + got, len - got, k * FWP_SHARE_BLOCK + got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;	/* the file ended before the image did */
		got += (uint32_t)n;
	}
	return 0;
}

/*
 * Block k, ready and held (users) for the caller to copy from, under the lock; reads it if no
 * one has. -errno: it could not be read.
 */
static int hold_block(struct fwp_share *s, uint64_t k)
{
	struct block *b = &s->blocks[k % FWP_SHARE_BLOCKS];
	int ret;

	for (;;) {
		if (b->index == k && b->state == BLOCK_READY && !b->err) {
			b->users++;
			return 0;
		}
		if (b->state != BLOCK_READING && !b->users)
			break;		/* empty, failed, or another block no one uses: ours */
		pthread_cond_wait(&s->changed, &s->lock);
	}
	b->index = k;
	b->state = BLOCK_READING;
	pthread_mutex_unlock(&s->lock);
	ret = read_block(s, k);
	pthread_mutex_lock(&s->lock);
	b->state = BLOCK_READY;
	b->err = ret;
	s->bytes_read += ret ? 0 : block_len(s, k);
	pthread_cond_broadcast(&s->changed);
	if (!ret)
		b->users++;
	return ret;
}

static void drop_block(struct fwp_share *s, uint64_t k)
{
	if (!--s->blocks[k % FWP_SHARE_BLOCKS].users)
		pthread_cond_broadcast(&s->changed);
}

/* Copies [off, off + len) of the image to dst, block by block. */
static int copy_out(struct fwp_share *s, unsigned char *dst, uint64_t off, uint32_t len)
{
	uint64_t k;
	uint32_t at, n;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	while (len && !ret) {
		k = off / FWP_SHARE_BLOCK;
		at = (uint32_t)(off % FWP_SHARE_BLOCK);
		n = FWP_SHARE_BLOCK - at < len ? FWP_SHARE_BLOCK - at : len;
		ret = hold_block(s, k);
		if (ret)
			break;
		pthread_mutex_unlock(&s->lock);
		memcpy(dst, block_data(s, k) + at, n);
		pthread_mutex_lock(&s->lock);
		drop_block(s, k);
		dst += n;
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static struct view *view(struct fwp_source *src)
{
	return (struct view *)src;
}

static int queue(struct fwp_source *src, unsigned tag, void *dst, uint32_t len, uint64_t off)
{
	if (tag >= FWP_SLOTS_MAX || off + len > src->size)
		return -EINVAL;
	view(src)->want[tag] = (struct want){ .dst = dst, .off = off, .len = len };
	return 0;
}

/* The copies happen on wait: the pushes' threads are the share's readers. */
static int submit(struct fwp_source *src)
{
	(void)src;
	return 0;
}

static int wait_copy(struct fwp_source *src, unsigned tag)
{
	const struct want *w = &view(src)->want[tag];

	return copy_out(view(src)->share, w->dst, w->off, w->len);
}

static bool changed(struct fwp_source *src)
{
	struct fwp_source *file = view(src)->share->file;

	return file->ops->changed(file);
}

static struct hashed *hashed_entry(struct fwp_share *s, const struct want *w)
{
	return &s->hashed[(w->off / w->len) % FWP_SHARE_HASHED];
}

static bool is_chunk(const struct hashed *h, const struct want *w)
{
	return h->state != HASHED_EMPTY && h->off == w->off && h->len == w->len;
}

/*
 * The chunk's hashes if a push offered them; else claims the chunk for this one to hash. A
 * chunk hash wanted but not offered (the offer came from a running session) is computed here,
 * from the bytes this push copied, outside the lock.
 */
static bool hashed(struct fwp_source *src, unsigned tag, struct fwp_hash128 *chunk,
		   struct fwp_hstate *image)
{
	struct fwp_share *s = view(src)->share;
	const struct want *w = &view(src)->want[tag];
	bool found, has_chunk = false;
	struct hashed *h;

	pthread_mutex_lock(&s->lock);
	h = hashed_entry(s, w);
	while (is_chunk(h, w) && h->state == HASHED_HASHING)
		pthread_cond_wait(&s->changed, &s->lock);
	found = is_chunk(h, w) && h->state == HASHED_READY;
	if (found) {
		has_chunk = h->has_chunk;
		if (chunk && has_chunk)
			*chunk = h->chunk;
		*image = h->image;
	} else if (h->state != HASHED_HASHING) {
		*h = (struct hashed){ .off = w->off, .len = w->len, .state = HASHED_HASHING };
	}
	pthread_mutex_unlock(&s->lock);
	if (found && chunk && !has_chunk) {
		*chunk = fwp_xxh128(w->dst, w->len);
		pthread_mutex_lock(&s->lock);
		s->bytes_hashed += w->len;	/* a second pass over these bytes: counted */
		pthread_mutex_unlock(&s->lock);
	}
	return found;
}

static void offer(struct fwp_source *src, unsigned tag, const struct fwp_hash128 *chunk,
		  const struct fwp_hstate *image)
{
	struct fwp_share *s = view(src)->share;
	const struct want *w = &view(src)->want[tag];
	struct hashed *h;

	pthread_mutex_lock(&s->lock);
	h = hashed_entry(s, w);
	if (is_chunk(h, w) || h->state != HASHED_HASHING) {	/* never another's claim */
		h->off = w->off;
		h->len = w->len;
		h->has_chunk = chunk != NULL;
		h->chunk = chunk ? *chunk : (struct fwp_hash128){ 0, 0 };
		h->image = *image;
		h->state = HASHED_READY;
		pthread_cond_broadcast(&s->changed);
	}
	s->bytes_hashed += w->len;
	pthread_mutex_unlock(&s->lock);
}

static const struct fwp_source_ops view_ops = {
	.queue = queue,
	.submit = submit,
	.wait = wait_copy,
	.changed = changed,
	.hashed = hashed,
	.offer = offer,
};

int fwp_share_open(int fd, struct fwp_share **out)
{
	struct fwp_share *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = fd;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	ret = fwp_file_source_open(fd, &s->file);
	if (!ret && !s->file->size)
		ret = -ENODATA;
	if (!ret && s->file->align != 1)
		ret = -EINVAL;		/* O_DIRECT wants aligned buffers and lengths: not here */
	if (!ret) {
		s->data = malloc((size_t)FWP_SHARE_BLOCKS * FWP_SHARE_BLOCK);
		/* aligned_alloc: the hash states want their 64-byte alignment. */
		s->hashed = aligned_alloc(_Alignof(struct hashed),
					  FWP_SHARE_HASHED * sizeof(*s->hashed));
		ret = s->data && s->hashed ? 0 : -ENOMEM;
	}
	if (!ret)
		memset(s->hashed, 0, FWP_SHARE_HASHED * sizeof(*s->hashed));
	if (ret) {
		fwp_share_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

void fwp_share_close(struct fwp_share *s)
{
	if (!s)
		return;
	fwp_file_source_close(s->file);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s->data);
	free(s->hashed);
	free(s);
}

void fwp_share_stats(struct fwp_share *s, uint64_t *bytes_read, uint64_t *bytes_hashed)
{
	pthread_mutex_lock(&s->lock);
	*bytes_read = s->bytes_read;
	*bytes_hashed = s->bytes_hashed;
	pthread_mutex_unlock(&s->lock);
}

int fwp_host_push_shared(struct fwp_host *h, struct fwp_share *s,
			 const struct fwp_push_opts *opts, struct fwp_push_result *res)
{
	struct view *v;
	int ret;

	v = calloc(1, sizeof(*v));
	if (!v) {
		memset(res, 0, sizeof(*res));
		return -ENOMEM;
	}
	v->src = (struct fwp_source){ .ops = &view_ops, .size = s->file->size, .align = 1 };
	v->share = s;
	ret = fwp_host_push_source(h, &v->src, opts, res);
	free(v);
	return ret;
}
