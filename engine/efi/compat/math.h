/* SPDX-License-Identifier: MIT */
/* Freestanding <math.h> for fwpush.efi (see errno.h): the compiler's classification builtins. */
#ifndef FWP_EFI_MATH_H
#define FWP_EFI_MATH_H

#define isfinite(x)	__builtin_isfinite(x)

#endif
