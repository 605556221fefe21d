/* SPDX-License-Identifier: MIT */
/* Parsing the quantities fwpush takes on its command lines and in its option strings. */
#ifndef FWPUSH_PARSE_H
#define FWPUSH_PARSE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* What this header declares is libfwpush's ABI: exported from libfwpush.so. */
#pragma GCC visibility push(default)

/* "64M", "4K", "1G", "123" (binary units, optional "iB"/"B"): -EINVAL or -ERANGE. */
int fwp_parse_size(const char *s, uint64_t *out);
/* "5", "2.5s", "500ms" to milliseconds, 1 ms .. 1 day: -EINVAL or -ERANGE. */
int fwp_parse_ms(const char *s, uint32_t *out);
/* A positive finite decimal number with nothing after it: -EINVAL. */
int fwp_parse_positive(const char *s, double *out);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
