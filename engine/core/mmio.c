/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <string.h>

#include "core/mmio.h"

void fwp_io_copy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
#if defined(__x86_64__)
	size_t head = -(uintptr_t)d & 15;

	if (head > n)
		head = n;
	memcpy(d, s, head);
	d += head;
	s += head;
	n -= head;
	/* Four 16-byte streaming stores fill one 64-byte write-combining buffer: one burst. */
	for (; n >= 64; n -= 64, d += 64, s += 64) {
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
		__m128i e = _mm_loadu_si128((const __m128i *)(s + 48));

		_mm_stream_si128((__m128i *)d, a);
		_mm_stream_si128((__m128i *)(d + 16), b);
		_mm_stream_si128((__m128i *)(d + 32), c);
		_mm_stream_si128((__m128i *)(d + 48), e);
	}
	for (; n >= 16; n -= 16, d += 16, s += 16)
		_mm_stream_si128((__m128i *)d, _mm_loadu_si128((const __m128i *)s));
	memcpy(d, s, n);
#else
	fwp_io_copy_words(d, s, n);
#endif
}

void fwp_io_read(void *dst, const void *src, size_t n)
{
#if defined(__x86_64__) || defined(__i386__)
	memcpy(dst, src, n);
#else
	fwp_io_read_words(dst, src, n);
#endif
}

void fwp_io_read_words(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const volatile unsigned char *sb = src;
	const volatile uint32_t *sw;
	uint32_t w;

	for (; n && ((uintptr_t)sb & 3); n--)
		*d++ = *sb++;
	for (sw = (const volatile uint32_t *)sb; n >= 4; n -= 4, d += 4) {
		w = *sw++;
		memcpy(d, &w, 4);	/* the destination is ordinary memory: any alignment */
	}
	for (sb = (const volatile unsigned char *)sw; n; n--)
		*d++ = *sb++;
}

void fwp_io_copy_words(void *dst, const void *src, size_t n)
{
	volatile unsigned char *db = dst;
	const unsigned char *s = src;
	volatile uint32_t *dw;
	uint32_t w;

	for (; n && ((uintptr_t)db & 3); n--)
		*db++ = *s++;
	for (dw = (volatile uint32_t *)db; n >= 4; n -= 4, s += 4) {
		memcpy(&w, s, 4);	/* the source is ordinary memory: any alignment */
		*dw++ = w;
	}
	for (db = (volatile unsigned char *)dw; n; n--)
		*db++ = *s++;
}
