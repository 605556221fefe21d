/* SPDX-License-Identifier: MIT */
/*
 * Options structs that can grow (libbpf's OPTS_VALID): each public one starts with size_t sz,
 * the size the caller was compiled with. An older caller's shorter struct leaves our newer
 * fields zero; a newer caller's longer struct is accepted only if every byte we do not know is
 * zero, so a field we would silently ignore is an error instead. A struct grows only at its
 * old sizeof (the static assert on each public one says it), never into its tail padding, which
 * an older caller need not have zeroed.
 */
#ifndef FWP_OPTS_H
#define FWP_OPTS_H

#include <stddef.h>

/*
 * Copies the caller's options (NULL: all defaults) into ours, a struct of ours_sz bytes that
 * also starts with size_t sz; ours->sz becomes ours_sz. -EINVAL: sz smaller than the size
 * field, or non-zero bytes past ours_sz.
 */
int fwp_opts_copy(void *ours, size_t ours_sz, const void *theirs);

#endif
