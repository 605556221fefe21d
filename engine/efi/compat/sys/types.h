/* SPDX-License-Identifier: MIT */
/* Freestanding <sys/types.h> for fwpush.efi (see errno.h). */
#ifndef FWP_EFI_SYS_TYPES_H
#define FWP_EFI_SYS_TYPES_H

#include <stddef.h>

typedef long long ssize_t;	/* long is 32 bits in the UEFI (Microsoft x64) ABI */

#endif
