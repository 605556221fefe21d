/* SPDX-License-Identifier: MIT */
/*
 * The few C library functions fwpush.efi's sources call (declared in compat/). Built with
 * -fno-builtin, so that the compiler does not turn these loops back into calls to themselves.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "efi/uefi.h"

int errno;

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ __volatile__("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ __volatile__("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x - *y;
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, SIZE_MAX);
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

/*
 * Pool memory, aligned: the pool's own pointer is kept in the word before the block handed out
 * (the pool aligns to 8 bytes only; the push's hash states want 64).
 */
void *aligned_alloc(size_t align, size_t n)
{
	uintptr_t raw, p;

	if (align < sizeof(void *))
		align = sizeof(void *);
	raw = (uintptr_t)fwp_efi_pool_alloc(n + align + sizeof(void *));
	if (!raw)
		return NULL;
	p = (raw + sizeof(void *) + align - 1) & ~(uintptr_t)(align - 1);
	((void **)p)[-1] = (void *)raw;
	return (void *)p;
}

void *malloc(size_t n)
{
	return aligned_alloc(16, n);
}

void *calloc(size_t count, size_t n)
{
	void *p;

	if (n && count > SIZE_MAX / n)
		return NULL;
	p = malloc(count * n);
	return p ? memset(p, 0, count * n) : NULL;
}

void free(void *p)
{
	if (p)
		fwp_efi_pool_free(((void **)p)[-1]);
}

ssize_t read(int fd, void *buf, size_t len)
{
	(void)fd, (void)buf, (void)len;
	errno = EBADF;
	return -1;
}
