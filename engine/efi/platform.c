/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/platform.h"
#include "efi/uefi.h"

EFI_SYSTEM_TABLE *fwp_efi_st;
EFI_HANDLE fwp_efi_image;
uint64_t fwp_efi_ns_per_tick;

#define CALIBRATE_US	10000

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

void fwp_efi_stall_us(uint32_t us)
{
	fwp_efi_st->BootServices->Stall(us);
}

void fwp_efi_init(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	uint64_t t0, ticks;

	fwp_efi_image = image;
	fwp_efi_st = st;
	/* The firmware's watchdog resets a machine after 5 minutes in one boot option. */
	st->BootServices->SetWatchdogTimer(0, 0, 0, NULL);
	t0 = rdtsc();
	fwp_efi_stall_us(CALIBRATE_US);
	ticks = rdtsc() - t0;
	fwp_efi_ns_per_tick = ((uint64_t)CALIBRATE_US * 1000 << 32) / (ticks ? ticks : 1);
}

void *fwp_efi_pool_alloc(size_t n)
{
	void *p;

	if (fwp_efi_st->BootServices->AllocatePool(EfiLoaderData, n, &p) != EFI_SUCCESS)
		return NULL;
	return p;
}

void fwp_efi_pool_free(void *p)
{
	fwp_efi_st->BootServices->FreePool(p);
}

int fwp_efi_errno(EFI_STATUS st)
{
	switch (st) {
	case EFI_SUCCESS:		return 0;
	case EFI_NOT_FOUND:		return -ENOENT;
	case EFI_ACCESS_DENIED:
	case EFI_WRITE_PROTECTED:
	case EFI_SECURITY_VIOLATION:	return -EACCES;
	case EFI_OUT_OF_RESOURCES:	return -ENOMEM;
	case EFI_INVALID_PARAMETER:	return -EINVAL;
	case EFI_UNSUPPORTED:		return -ENOTSUP;
	case EFI_TIMEOUT:		return -ETIMEDOUT;
	case EFI_NO_MEDIA:
	case EFI_MEDIA_CHANGED:		return -ENODEV;
	default:			return -EIO;
	}
}

void fwp_efi_print(bool err, const char *fmt, ...)
{
	SIMPLE_TEXT_OUTPUT_INTERFACE *con = err ? fwp_efi_st->StdErr : fwp_efi_st->ConOut;
	CHAR16 wide[512];
	char line[4096];
	size_t i, n = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (i = 0; line[i]; i++) {
		if (n + 3 >= sizeof(wide) / sizeof(wide[0])) {
			wide[n] = 0;
			con->OutputString(con, wide);
			n = 0;
		}
		if (line[i] == '\n')
			wide[n++] = '\r';
		wide[n++] = (unsigned char)line[i];
	}
	wide[n] = 0;
	con->OutputString(con, wide);
}
