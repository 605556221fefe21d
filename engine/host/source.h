/* SPDX-License-Identifier: MIT */
/*
 * Where a push gets the image's bytes. The push asks for chunks by tag (the slot they go to):
 * it queues several, submits them, then waits for each in turn, and the bytes are in the
 * destination it named. Implementations: a file read with io_uring (reader.c), one image read
 * once for many pushes at once (share.c), a file on the EFI system partition (engine/efi).
 * The push logic (push.c) knows only this table, so every host runs the same one.
 */
#ifndef FWP_SOURCE_H
#define FWP_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwpush/push.h"
#include "core/hash.h"

struct fwp_source;

struct fwp_source_ops {
	/*
	 * A push begins: chunks will land in [stage, stage + len), at most depth in flight.
	 * Optional (NULL: nothing to set up).
	 */
	int (*begin)(struct fwp_source *s, void *stage, size_t len, unsigned depth);
	void (*end)(struct fwp_source *s);
	/* Queues len bytes at off into dst, known by tag (< FWP_SLOTS_MAX) until waited for. */
	int (*queue)(struct fwp_source *s, unsigned tag, void *dst, uint32_t len, uint64_t off);
	/* Starts what was queued. */
	int (*submit)(struct fwp_source *s);
	/* Waits until tag's bytes are in its dst. -EIO: the image ended early or is unreadable. */
	int (*wait)(struct fwp_source *s, unsigned tag);
	/* Has the image changed since the source was opened (size, times, identity)? */
	bool (*changed)(struct fwp_source *s);
	/*
	 * Optional, for a source many pushes share: the XXH3-128 of the chunk waited for at tag
	 * (chunk NULL: not wanted) and the image's hash state past it, as an earlier push computed
	 * them (true: filled; false: not known, compute them). offer() gives them, once computed,
	 * to the next push (chunk NULL: only the state; a push in a running session hashes no
	 * chunk on its own). image: the image hashed from its start to the chunk's end.
	 */
	bool (*hashed)(struct fwp_source *s, unsigned tag, struct fwp_hash128 *chunk,
		       struct fwp_hstate *image);
	void (*offer)(struct fwp_source *s, unsigned tag, const struct fwp_hash128 *chunk,
		      const struct fwp_hstate *image);
};

struct fwp_source {
	const struct fwp_source_ops *ops;
	uint64_t size;		/* the image's bytes */
	uint32_t align;		/* chunk sizes must be multiples of this (O_DIRECT: a page); 1 */
};

/* An image file open at fd (fwp_image_open), read with io_uring; free() it after the push. */
int fwp_file_source_open(int fd, struct fwp_source **out);
void fwp_file_source_close(struct fwp_source *s);

/* fwp_host_push() for any source: what every host (Linux, fan-out, EFI) pushes through. */
int fwp_host_push_source(struct fwp_host *h, struct fwp_source *src,
			 const struct fwp_push_opts *opts, struct fwp_push_result *res);

#endif
