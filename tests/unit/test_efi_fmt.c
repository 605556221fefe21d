/* SPDX-License-Identifier: MIT */
/*
 * fwpush.efi's own vsnprintf and strtod (engine/efi/fmt.c), built natively under other names and
 * compared with the C library's on every conversion fwpush.efi's lines use: its result line and
 * hash must read as `fwpush push`'s, and its --timeout as fwp_parse_ms reads it on Linux.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* The C library's, taken before fmt.c's names replace them below. */
static int (*const ref_snprintf)(char *, size_t, const char *, ...) = snprintf;
static double (*const ref_strtod)(const char *, char **) = strtod;

#define snprintf efi_snprintf
#define vsnprintf efi_vsnprintf
#define strtod efi_strtod
#include "../../engine/efi/fmt.c"
#undef snprintf
#undef vsnprintf
#undef strtod

static void same_line(int line, int n_efi, int n_ref, const char *efi, const char *ref)
{
	if (n_efi != n_ref || strcmp(efi, ref)) {
		fprintf(stderr, "line %d: \"%s\" (%d) != \"%s\" (%d)\n", line, efi, n_efi, ref, n_ref);
		check_failures++;
	}
}

#define SAME(...)								\
	do {									\
		char a_[256], b_[256];						\
		int n_ = efi_snprintf(a_, sizeof(a_), __VA_ARGS__);		\
		same_line(__LINE__, n_, ref_snprintf(b_, sizeof(b_), __VA_ARGS__), a_, b_); \
	} while (0)

static void formats(void)
{
	SAME("%016llx%016llx", 0x0123456789abcdefull, 0xfedcba9876543210ull);
	SAME("%016llx%016llx", 0ull, 1ull);
	SAME("%llu %lld %lld", 18446744073709551615ull, -9223372036854775807ll - 1, 0ll);
	SAME("%d %i %d %u %u", -42, 7, 0, 0u, 4294967295u);
	SAME("%3u%% stored (%llu of %llu bytes)", 7u, 262144ull, 12587009ull);
	SAME("%3u%%|%-4d|%04d|%-4u|", 100u, 5, -5, 9u);
	SAME("%x %X %08x %-6x| %lx", 255u, 255u, 255u, 255u, 65535ul);
	SAME("%s|%8s|%-8s|%.2s|%.*s|%s", "abc", "abc", "abc", "abc", 1, "abc", "");
	SAME("%zu %c%c", (size_t)12345, 'o', 'k');
	SAME("%.3f ms (%.2f GB/s)", 818.664, 0.0153);
	SAME("%.3f %.2f %.1f %f", 1.2345, 0.005, 40.0, 3.5);
	SAME("%.3f %.2f %.1f", -2.5, 1234567.891, 0.04999);
	SAME("%.3f %.2f", 999.9996, 0.0);
	SAME("%5.1f|%-7.2f|%07.2f|%8.3f", 3.14159, 2.5, -1.5, 1e6 / 7);
	SAME("pushed %s to %s: %llu bytes in %.3f ms (%.2f GB/s), %u slots x %u bytes, XXH3-128 %s %s",
	     "fw.bin", "pci:00:10.0,bar=2", 12587009ull, 317.715, 0.0396, 4u, 262144u,
	     "4958f170f2940c90f9ed73611904ba75", "verified by the BMC");
}

static void truncation(void)
{
	char small[5] = "xxxx", none[1] = "x";

	CHECK_EQ(efi_snprintf(small, sizeof(small), "%s", "abcdefgh"), 8);
	CHECK(!strcmp(small, "abcd"));
	CHECK_EQ(efi_snprintf(none, 0, "%d", 12345), 5);
	CHECK_EQ(none[0], 'x');
	CHECK_EQ(efi_snprintf(small, sizeof(small), "%llu", 123456789ull), 9);
	CHECK(!strcmp(small, "1234"));
}

/* The same value, and the same end, as the C library's (decimal input only). */
static void same_number(const char *s)
{
	char *e1, *e2;
	double a = efi_strtod(s, &e1), b = ref_strtod(s, &e2);

	if (a != b || e1 != e2) {
		fprintf(stderr, "strtod(\"%s\"): %.17g, end +%td != %.17g, end +%td\n", s, a, e1 - s,
			b, e2 - s);
		check_failures++;
	}
}

static void numbers(void)
{
	static const char *const in[] = {
		"5", "2.5s", "500ms", "0.001", ".5", "5.", "1e3", "1e", "1e+2x", "1E-3s", "-1.5",
		"+3", "86400000", "0.3", "1.001", "123456789.123456789", "00012", "abc", "", ".",
		"-", "e5", "1.5e-3", "3.14159265358979", "9007199254740993", "1e22", "4e-22",
	};
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		same_number(in[i]);
}

int main(void)
{
	formats();
	truncation();
	numbers();
	return check_done("unit-efi-fmt");
}
