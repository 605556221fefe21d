/* SPDX-License-Identifier: MIT */
/*
 * Numbers to text and back for fwpush.efi (declared in compat/stdio.h and compat/stdlib.h):
 * vsnprintf as C99 says for the conversions it knows, strtod for decimal numbers. Plain C: the
 * unit test unit-efi-fmt builds it natively and compares it with the C library's.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exact in a double: a mantissa below 2^53 scaled by one of these is rounded once. */
static const double pow10[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* The digits at p into *m (18 significant ones; the rest only move *exp): where they end. */
static const char *mantissa(const char *p, bool frac, uint64_t *m, int *exp, int *n)
{
	for (; *p >= '0' && *p <= '9'; p++, (*n)++) {
		if (*m < 100000000000000000ull) {
			*m = *m * 10 + (uint64_t)(*p - '0');
			*exp -= frac;
		} else {
			*exp += !frac;
		}
	}
	return p;
}

double strtod(const char *s, char **end)
{
	const char *p = s, *e;
	int exp = 0, x = 0, n = 0, esign = 1;
	uint64_t m = 0;
	double v, sign = 1;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	p = mantissa(p, false, &m, &exp, &n);
	if (*p == '.')
		p = mantissa(p + 1, true, &m, &exp, &n);
	if (!n) {
		if (end)
			*end = (char *)s;
		return 0;
	}
	if (*p == 'e' || *p == 'E') {
		e = p + 1;
		if (*e == '+' || *e == '-')
			esign = *e++ == '-' ? -1 : 1;
		if (*e >= '0' && *e <= '9') {
			for (p = e; *p >= '0' && *p <= '9'; p++)
				x = x < 10000 ? x * 10 + (*p - '0') : x;
			exp += esign * x;
		}
	}
	for (v = (double)m; exp > 22 && v != 0; exp -= 22)
		v *= 1e22;
	for (; exp < -22 && v != 0; exp += 22)
		v /= 1e22;
	v = exp >= 0 ? v * pow10[exp > 22 ? 22 : exp] : v / pow10[-exp < 22 ? -exp : 22];
	if (end)
		*end = (char *)p;
	return sign * v;
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

	if (is_signed)
		v = sv < 0 ? 0 - (unsigned long long)sv : (unsigned long long)sv;
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
