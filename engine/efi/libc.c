/* SPDX-License-Identifier: MIT */
/*
 * The few C library functions fwpush.efi's sources call (declared in compat/). Built with
 * -fno-builtin, so that the compiler does not turn these loops back into calls to themselves.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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

double strtod(const char *s, char **end)
{
	const char *p = s, *digits;
	double v = 0, scale = 1;
	int sign = 1, exp = 0, esign = 1;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (digits = p; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			v += (*p - '0') * (scale /= 10);
	}
	if (p == digits || (p == digits + 1 && *digits == '.')) {
		if (end)
			*end = (char *)s;
		return 0;
	}
	if ((*p == 'e' || *p == 'E') && ((p[1] >= '0' && p[1] <= '9') ||
	    ((p[1] == '+' || p[1] == '-') && p[2] >= '0' && p[2] <= '9'))) {
		p++;
		if (*p == '+' || *p == '-')
			esign = *p++ == '-' ? -1 : 1;
		for (; *p >= '0' && *p <= '9'; p++)
			exp = exp < 10000 ? exp * 10 + (*p - '0') : exp;
	}
	for (; exp; exp--)
		v = esign > 0 ? v * 10 : v / 10;
	if (end)
		*end = (char *)p;
	return sign * v;
}

ssize_t read(int fd, void *buf, size_t len)
{
	(void)fd, (void)buf, (void)len;
	errno = EBADF;
	return -1;
}

/* vsnprintf's output: what fits goes into the buffer, the count is of everything. */
struct out {
	char *buf;
	size_t len;
	size_t n;
};

static void put(struct out *o, char c)
{
	if (o->n + 1 < o->len)
		o->buf[o->n] = c;
	o->n++;
}

static void pad(struct out *o, char c, int count)
{
	while (count-- > 0)
		put(o, c);
}

/* One converted field: the sign or prefix, zeros up to the precision, the digits. */
struct field {
	bool left, zero;
	int width, prec;
};

static void emit(struct out *o, const struct field *f, const char *sign, const char *s,
		 int len)
{
	int zeros = f->prec > len ? f->prec - len : 0;
	int fill = f->width - (int)strlen(sign) - zeros - len;

	if (!f->left && !f->zero)
		pad(o, ' ', fill);
	while (*sign)
		put(o, *sign++);
	if (!f->left && f->zero)
		pad(o, '0', fill);
	pad(o, '0', zeros);
	while (len-- > 0)
		put(o, *s++);
	if (f->left)
		pad(o, ' ', fill);
}

static int utoa(char *end, unsigned long long v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;

	do {
		*--p = digits[v % base];
		v /= base;
	} while (v);
	return (int)(end - p);
}

static void emit_int(struct out *o, struct field *f, long long sv, unsigned long long v,
		     bool is_signed, unsigned base, bool upper)
{
	char buf[24];
	int n;

	if (is_signed && sv < 0)
		v = 0 - (unsigned long long)sv;
	n = utoa(buf + sizeof(buf), v, base, upper);
	if (f->prec >= 0)
		f->zero = false;
	emit(o, f, is_signed && sv < 0 ? "-" : "", buf + sizeof(buf) - n, n);
}

/* Fixed notation, precision digits (6 by default), rounded half up; no inf or nan. */
static void emit_double(struct out *o, struct field *f, double v)
{
	char buf[48], ibuf[24], *p = buf;
	unsigned long long ip, fp, scale = 1;
	int prec = f->prec < 0 ? 6 : f->prec > 15 ? 15 : f->prec, i, n;
	bool neg = v < 0;

	if (neg)
		v = -v;
	for (i = 0; i < prec; i++)
		scale *= 10;
	if (v >= 1e18)
		v = 1e18;
	ip = (unsigned long long)v;
	fp = (unsigned long long)((v - (double)ip) * (double)scale + 0.5);
	if (fp >= scale) {
		ip++;
		fp -= scale;
	}
	n = utoa(ibuf + sizeof(ibuf), ip, 10, false);
	memcpy(p, ibuf + sizeof(ibuf) - n, n);
	p += n;
	if (prec) {
		*p++ = '.';
		for (i = prec - 1; i >= 0; i--, fp /= 10)
			p[i] = (char)('0' + fp % 10);
		p += prec;
	}
	f->prec = -1;
	emit(o, f, neg ? "-" : "", buf, (int)(p - buf));
}

static const char *parse_field(const char *fmt, struct field *f, va_list *ap)
{
	f->left = f->zero = false;
	f->width = 0;
	f->prec = -1;
	for (;; fmt++) {
		if (*fmt == '-')
			f->left = true;
		else if (*fmt == '0')
			f->zero = true;
		else
			break;
	}
	if (*fmt == '*') {
		f->width = va_arg(*ap, int);
		fmt++;
	}
	for (; *fmt >= '0' && *fmt <= '9'; fmt++)
		f->width = f->width * 10 + (*fmt - '0');
	if (*fmt == '.') {
		f->prec = 0;
		if (*++fmt == '*') {
			f->prec = va_arg(*ap, int);
			fmt++;
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			f->prec = f->prec * 10 + (*fmt - '0');
	}
	return fmt;
}

int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = { buf, len, 0 };
	struct field f;
	va_list args;
	const char *s;
	int longs;

	va_copy(args, ap);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt = parse_field(fmt + 1, &f, &args);
		for (longs = 0; *fmt == 'l' || *fmt == 'z'; fmt++)
			longs += *fmt == 'z' ? 2 : 1;
		switch (*fmt) {
		case 'd': case 'i':
			emit_int(&o, &f, longs >= 2 ? va_arg(args, long long) :
				 longs ? va_arg(args, long) : va_arg(args, int), 0, true, 10, false);
			break;
		case 'u': case 'x': case 'X':
			emit_int(&o, &f, 0, longs >= 2 ? va_arg(args, unsigned long long) :
				 longs ? va_arg(args, unsigned long) : va_arg(args, unsigned),
				 false, *fmt == 'u' ? 10 : 16, *fmt == 'X');
			break;
		case 'p':
			emit_int(&o, &f, 0, (uintptr_t)va_arg(args, void *), false, 16, false);
			break;
		case 'f':
			emit_double(&o, &f, va_arg(args, double));
			break;
		case 'c':
			put(&o, (char)va_arg(args, int));
			break;
		case 's':
			s = va_arg(args, const char *);
			s = s ? s : "(null)";
			emit(&o, &(struct field){ f.left, false, f.width, -1 }, "", s,
			     f.prec >= 0 && (size_t)f.prec < strlen(s) ? f.prec : (int)strlen(s));
			break;
		case '%':
			put(&o, '%');
			break;
		default:	/* an unknown conversion ends the output */
			goto out;
		}
	}
out:
	va_end(args);
	if (len)
		buf[o.n < len ? o.n : len - 1] = '\0';
	return (int)o.n;
}

int snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}
