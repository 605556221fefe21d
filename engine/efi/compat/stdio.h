/* SPDX-License-Identifier: MIT */
/*
 * Freestanding <stdio.h> for fwpush.efi (see errno.h; fmt.c implements it): formatting only,
 * %d %i %u %x %X %s %c %f %%, flags - and 0, width, precision, .*, length l ll z. There are no
 * streams: FILE is declared so that headers naming it compile.
 */
#ifndef FWP_EFI_STDIO_H
#define FWP_EFI_STDIO_H

#include <stdarg.h>
#include <stddef.h>

typedef struct fwp_efi_stream FILE;

int snprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);

#endif
