/* SPDX-License-Identifier: MIT */
/*
 * Freestanding <unistd.h> for fwpush.efi (see errno.h). UEFI has no file descriptors: read()
 * fails with EBADF (core/hash.c's fwp_hash_fd is the only caller; fwpush.efi reads its files
 * through EFI_FILE_PROTOCOL, engine/efi/source.c).
 */
#ifndef FWP_EFI_UNISTD_H
#define FWP_EFI_UNISTD_H

#include <sys/types.h>

ssize_t read(int fd, void *buf, size_t len);

#endif
