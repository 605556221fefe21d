/* SPDX-License-Identifier: MIT */
/*
 * fwpush.efi's platform layer: what the core and the push need from UEFI boot services (memory,
 * the clock, the console), the PCI window target (target.c) and the image source (source.c).
 * gnu-efi's headers give the types; nothing of its library is linked.
 */
#ifndef FWP_EFI_UEFI_H
#define FWP_EFI_UEFI_H

#include <efi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/source.h"

extern EFI_SYSTEM_TABLE *fwp_efi_st;
extern EFI_HANDLE fwp_efi_image;

/* Keeps the tables and measures the TSC against Stall() (core/platform_efi.h). */
void fwp_efi_init(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);

void *fwp_efi_pool_alloc(size_t n);
void fwp_efi_pool_free(void *p);

/* A firmware status as the engine's -errno. */
int fwp_efi_errno(EFI_STATUS st);

/* printf to the console (err: standard error), "\n" as "\r\n". */
void fwp_efi_print(bool err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Opens path (ASCII, '/' or '\\'; relative to dir, the directory fwpush.efi was loaded from)
 * on the volume fwpush.efi was loaded from. -ENOENT, -EISDIR, -EIO.
 */
int fwp_efi_file_open(const char *path, EFI_FILE_PROTOCOL **out);
/* The file's size and modification time; -errno. */
int fwp_efi_file_info(EFI_FILE_PROTOCOL *f, uint64_t *size, EFI_TIME *mtime);

/*
 * The image as a push source (host/source.h): chunks read with EFI_FILE_PROTOCOL.Read when the
 * push waits for them. -ENOENT, -EISDIR, -ENODATA (empty), -EIO, -ENOMEM.
 */
int fwp_efi_source_open(const char *path, struct fwp_source **out);
void fwp_efi_source_close(struct fwp_source *s);

#endif
