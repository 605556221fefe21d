/* SPDX-License-Identifier: MIT */
/* Freestanding <stdlib.h> for fwpush.efi (see errno.h): boot-services pool memory. */
#ifndef FWP_EFI_STDLIB_H
#define FWP_EFI_STDLIB_H

#include <stddef.h>

void *malloc(size_t n);
void *calloc(size_t count, size_t n);
void *aligned_alloc(size_t align, size_t n);
void free(void *p);
/* Decimal only (fmt.c): [+-]digits[.digits][e[+-]digits]; no hex, inf or nan. */
double strtod(const char *s, char **end);

#endif
