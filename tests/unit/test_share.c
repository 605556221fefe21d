/* SPDX-License-Identifier: MIT */
/*
 * The mass-flash share's hashes (engine/host/share.c), one step at a time: a push in a running
 * session (PROTOCOL.md 15) offers only the image state past a chunk; a plain push that finds
 * that offer still needs the chunk's own XXH3-128 and computes it (counted in bytes_hashed),
 * and a running push takes a plain push's offer for its state. Threads would make the order
 * luck; here each push is a view driven by hand (SPDK-style: the test includes the .c).
 */
#include "../../engine/host/share.c"

#include <stdio.h>

#include "check.h"

enum { IMAGE = 3 * 65536 + 100, CHUNK = 65536 };

static unsigned char image[IMAGE], buf_running[CHUNK], buf_plain[CHUNK];

static void view_init(struct view *v, struct fwp_share *s)
{
	memset(v, 0, sizeof(*v));
	v->src = (struct fwp_source){ .ops = &view_ops, .size = s->file->size, .align = 1 };
	v->share = s;
}

/* Copies chunk k into buf through the view, as a push's wait() does. */
static void fetch(struct view *v, unsigned char *buf, uint64_t k)
{
	CHECK_EQ(view_ops.queue(&v->src, 0, buf, CHUNK, k * CHUNK), 0);
	CHECK_EQ(view_ops.wait(&v->src, 0), 0);
}

/* The image's state past chunk k, computed here from the image itself. */
static struct fwp_hash128 digest_through(uint64_t k)
{
	return fwp_xxh128(image, (k + 1) * CHUNK);
}

/* What a plain push does with a chunk no one offered: its own hash, and the image's on. */
static struct fwp_hash128 plain_hash(unsigned char *buf, struct fwp_hstate *image_hs)
{
	struct fwp_hstate chunk_hs;

	fwp_hash()->reset(&chunk_hs);
	fwp_hash()->copy_hash(buf, buf, CHUNK, &chunk_hs, image_hs);
	return fwp_hash()->digest(&chunk_hs);
}

int main(void)
{
	char path[] = "/tmp/fwpush-test-share-XXXXXX";
	struct fwp_hash128 chunk, want, got;
	struct view running, plain;
	struct fwp_hstate run_hs, plain_hs;
	uint64_t read, hashed;
	struct fwp_share *s;
	int fd;
	size_t i;

	for (i = 0; i < IMAGE; i++)
		image[i] = (unsigned char)(i * 151 + 3);
	fd = mkstemp(path);
	CHECK(fd >= 0 && write(fd, image, IMAGE) == IMAGE);
	CHECK_EQ(fwp_share_open(fd, &s), 0);
	view_init(&running, s);
	view_init(&plain, s);
	fwp_hash()->reset(&run_hs);
	fwp_hash()->reset(&plain_hs);

	/* Chunk 0: the running push is first; it claims, hashes the image on, offers the state. */
	fetch(&running, buf_running, 0);
	CHECK(!view_ops.hashed(&running.src, 0, NULL, &run_hs));
	fwp_hash()->update(&run_hs, buf_running, CHUNK);
	view_ops.offer(&running.src, 0, NULL, &run_hs);
	/* The plain push finds that offer: the state, and its chunk's own hash computed for it. */
	fetch(&plain, buf_plain, 0);
	memset(&chunk, 0xee, sizeof(chunk));
	CHECK(view_ops.hashed(&plain.src, 0, &chunk, &plain_hs));
	want = fwp_xxh128(image, CHUNK);
	CHECK(fwp_hash128_eq(&chunk, &want));
	got = fwp_hash()->digest(&plain_hs);
	want = digest_through(0);
	CHECK(fwp_hash128_eq(&got, &want));
	fwp_share_stats(s, &read, &hashed);
	CHECK_EQ(hashed, 2 * CHUNK);		/* the plain push's own pass counted */

	/* Chunk 1: the plain push is first and offers both; the running push takes the state. */
	fetch(&plain, buf_plain, 1);
	CHECK(!view_ops.hashed(&plain.src, 0, &chunk, &plain_hs));
	fwp_hash()->reset(&run_hs);			/* must come back from the offer */
	chunk = plain_hash(buf_plain, &plain_hs);
	view_ops.offer(&plain.src, 0, &chunk, &plain_hs);
	fetch(&running, buf_running, 1);
	CHECK(view_ops.hashed(&running.src, 0, NULL, &run_hs));
	got = fwp_hash()->digest(&run_hs);
	want = digest_through(1);
	CHECK(fwp_hash128_eq(&got, &want));
	fwp_share_stats(s, &read, &hashed);
	CHECK_EQ(hashed, 3 * CHUNK);		/* chunk 1 hashed once, for both */
	CHECK_EQ(read, 2 * CHUNK);		/* and each byte read once */

	fwp_share_close(s);
	close(fd);
	unlink(path);
	return check_done("test_share");
}
