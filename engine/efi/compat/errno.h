/* SPDX-License-Identifier: MIT */
/*
 * Freestanding C library headers for fwpush.efi (engine/efi/libc.c implements them): just what
 * the core, the push and xxhash.h use. The error numbers are Linux's, so the engine's -errno
 * values and the exit-code mapping mean the same on both hosts.
 */
#ifndef FWP_EFI_ERRNO_H
#define FWP_EFI_ERRNO_H

extern int errno;

#define EPERM		1
#define ENOENT		2
#define EINTR		4
#define EIO		5
#define ENXIO		6
#define E2BIG		7
#define EBADF		9
#define EAGAIN		11
#define ENOMEM		12
#define EACCES		13
#define EFAULT		14
#define EBUSY		16
#define EEXIST		17
#define EXDEV		18
#define ENODEV		19
#define ENOTDIR		20
#define EISDIR		21
#define EINVAL		22
#define EFBIG		27
#define ENOSPC		28
#define ESPIPE		29
#define ERANGE		34
#define ENAMETOOLONG	36
#define ENOSYS		38
#define ELOOP		40
#define ENODATA		61
#define ETIME		62
#define EPROTO		71
#define EBADMSG		74
#define ELIBACC		79
#define ELIBBAD		80
#define EMSGSIZE	90
#define ENOPROTOOPT	92
#define EPROTONOSUPPORT	93
#define ENOTSUP		95
#define EOPNOTSUPP	95
#define EAFNOSUPPORT	97
#define EADDRINUSE	98
#define ECONNRESET	104
#define ENOTCONN	107
#define ETIMEDOUT	110
#define EALREADY	114
#define ESTALE		116
#define EREMOTEIO	121

#endif
