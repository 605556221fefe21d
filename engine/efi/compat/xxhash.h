/* SPDX-License-Identifier: MIT */
/*
 * xxhash.h for fwpush.efi: the system's header itself (used inline, XXH_INLINE_ALL; nothing of
 * libxxhash is linked), from where the cross file's xxhash_header property says it is.
 */
#include FWP_EFI_XXHASH_H
