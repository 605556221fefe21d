/* SPDX-License-Identifier: MIT */
/* Files on the volume fwpush.efi was loaded from, through EFI_SIMPLE_FILE_SYSTEM_PROTOCOL. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "efi/uefi.h"

#define PATH_MAX_CHARS	512

/* A path as UCS-2 in out: the firmware's separator '\\', a "fs0:" volume prefix dropped. */
static int widen(const char *path, CHAR16 *out, size_t *n)
{
	const char *colon = strchr(path, ':');

	if (colon)
		path = colon + 1;
	for (; *path; path++) {
		if (*n + 1 >= PATH_MAX_CHARS)
			return -ENAMETOOLONG;
		out[(*n)++] = *path == '/' ? '\\' : (unsigned char)*path;
	}
	out[*n] = 0;
	return 0;
}

/* fwpush.efi's own directory on its volume, ending in '\\', into out. */
static size_t own_dir(const EFI_LOADED_IMAGE *li, CHAR16 *out)
{
	const EFI_DEVICE_PATH *dp = li->FilePath;
	size_t n = 0, dir = 0;
	const CHAR16 *s;

	for (; dp && !IsDevicePathEnd(dp); dp = NextDevicePathNode(dp)) {
		if (DevicePathType(dp) != MEDIA_DEVICE_PATH ||
		    DevicePathSubType(dp) != MEDIA_FILEPATH_DP)
			continue;
		for (s = ((const FILEPATH_DEVICE_PATH *)dp)->PathName; *s; s++) {
			if (n + 1 >= PATH_MAX_CHARS / 2)
				return 0;
			out[n++] = *s;
			if (*s == '\\')
				dir = n;
		}
	}
	return dir;
}

int fwp_efi_file_open(const char *path, EFI_FILE_PROTOCOL **out)
{
	EFI_BOOT_SERVICES *bs = fwp_efi_st->BootServices;
	EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
	EFI_FILE_IO_INTERFACE *fs;
	EFI_FILE_PROTOCOL *root;
	EFI_LOADED_IMAGE *li;
	CHAR16 wide[PATH_MAX_CHARS];
	size_t n = 0;
	EFI_STATUS st;
	int ret;

	if (bs->HandleProtocol(fwp_efi_image, &li_guid, (void **)&li) ||
	    bs->HandleProtocol(li->DeviceHandle, &fs_guid, (void **)&fs) ||
	    fs->OpenVolume(fs, &root))
		return -ENODEV;
	if (*path != '/' && *path != '\\' && !strchr(path, ':'))
		n = own_dir(li, wide);
	ret = widen(path, wide, &n);
	if (ret)
		goto out;
	st = root->Open(root, out, wide, EFI_FILE_MODE_READ, 0);
	ret = fwp_efi_errno(st);
out:
	root->Close(root);
	return ret;
}

int fwp_efi_file_info(EFI_FILE_PROTOCOL *f, uint64_t *size, EFI_TIME *mtime)
{
	EFI_GUID guid = EFI_FILE_INFO_ID;
	union {
		EFI_FILE_INFO info;
		unsigned char room[offsetof(EFI_FILE_INFO, FileName) + PATH_MAX_CHARS * sizeof(CHAR16)];
	} u;
	UINTN len = sizeof(u);

	if (f->GetInfo(f, &guid, &len, &u))
		return -EIO;
	if (u.info.Attribute & EFI_FILE_DIRECTORY)
		return -EISDIR;
	*size = u.info.FileSize;
	*mtime = u.info.ModificationTime;
	return 0;
}
