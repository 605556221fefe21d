/* SPDX-License-Identifier: MIT */
/*
 * Freestanding <assert.h> for fwpush.efi (see errno.h): static_assert, which xxhash.h uses;
 * assert() checks nothing (the engine's release builds define NDEBUG too).
 */
#ifndef FWP_EFI_ASSERT_H
#define FWP_EFI_ASSERT_H

#define static_assert	_Static_assert
#define assert(c)	((void)0)

#endif
