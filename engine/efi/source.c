/* SPDX-License-Identifier: MIT */
/*
 * The image on the EFI system partition as a push source (host/source.h). EFI_FILE_PROTOCOL
 * reads synchronously, so a queued chunk is read when the push waits for it: reads and sends
 * alternate, and the read of a chunk overlaps the BMC storing the chunks before it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "efi/uefi.h"

struct chunk {
	void *dst;
	uint32_t len;
	uint64_t off;
};

struct efi_source {
	struct fwp_source s;		/* first: the push sees only this */
	EFI_FILE_PROTOCOL *file;
	EFI_TIME mtime;
	uint64_t pos;			/* where the file's position is */
	struct chunk q[FWP_SLOTS_MAX];
};

static struct efi_source *efi(struct fwp_source *s)
{
	return (struct efi_source *)s;
}

static int queue(struct fwp_source *s, unsigned tag, void *dst, uint32_t len, uint64_t off)
{
	if (tag >= FWP_SLOTS_MAX)
		return -EINVAL;
	efi(s)->q[tag] = (struct chunk){ dst, len, off };
	return 0;
}

static int submit(struct fwp_source *s)
{
	(void)s;
	return 0;
}

static int wait_read(struct fwp_source *s, unsigned tag)
{
	struct efi_source *e = efi(s);
	struct chunk *c = &e->q[tag];
	unsigned char *p = c->dst;
	uint32_t got = 0;
	UINTN n;

	if (tag >= FWP_SLOTS_MAX || !c->dst)
		return -EINVAL;
	if (e->pos != c->off && e->file->SetPosition(e->file, c->off))
		return -EIO;
	e->pos = c->off;
	while (got < c->len) {
		n = c->len - got;
		if (e->file->Read(e->file, &n, p + got))
			return -EIO;
		if (n == 0)
			return -EIO;	/* the file ended early: it shrank */
		got += (uint32_t)n;
		e->pos += n;
	}
	c->dst = NULL;
	return 0;
}

/* Field by field: a driver need not fill EFI_TIME's padding (FAT's leaves it as it finds it). */
static bool same_time(const EFI_TIME *a, const EFI_TIME *b)
{
	return a->Year == b->Year && a->Month == b->Month && a->Day == b->Day &&
	       a->Hour == b->Hour && a->Minute == b->Minute && a->Second == b->Second &&
	       a->Nanosecond == b->Nanosecond && a->TimeZone == b->TimeZone &&
	       a->Daylight == b->Daylight;
}

static bool changed(struct fwp_source *s)
{
	struct efi_source *e = efi(s);
	EFI_TIME mtime;
	uint64_t size;

	return fwp_efi_file_info(e->file, &size, &mtime) || size != e->s.size ||
	       !same_time(&mtime, &e->mtime);
}

static const struct fwp_source_ops efi_source_ops = {
	.queue = queue,
	.submit = submit,
	.wait = wait_read,
	.changed = changed,
};

int fwp_efi_source_open(const char *path, struct fwp_source **out)
{
	struct efi_source *e;
	int ret;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->s.ops = &efi_source_ops;
	e->s.align = 1;
	ret = fwp_efi_file_open(path, &e->file);
	if (!ret)
		ret = fwp_efi_file_info(e->file, &e->s.size, &e->mtime);
	if (!ret && !e->s.size)
		ret = -ENODATA;
	if (ret) {
		fwp_efi_source_close(&e->s);
		return ret;
	}
	*out = &e->s;
	return 0;
}

void fwp_efi_source_close(struct fwp_source *s)
{
	if (!s)
		return;
	if (efi(s)->file)
		efi(s)->file->Close(efi(s)->file);
	free(efi(s));
}

