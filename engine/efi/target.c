/* SPDX-License-Identifier: MIT */
/*
 * The host's target (transport/target.h) in a UEFI application: a window in a memory BAR of a
 * PCI device that EFI_PCI_IO_PROTOCOL reaches, used through its address (boot services map
 * every BAR one to one). The URI names the device:
 *   pci:SEG:BUS:DEV.FN or pci:BUS:DEV.FN    that device (the UEFI shell's `pci` lists them)
 *   pci:VVVV:DDDD                           the first device with this vendor and device ID
 *   pci:*                                   any device
 * then optionally ,bar=N and ,offset=O. Without a BAR every prefetchable memory BAR of the
 * device is searched (only those: reading one has no side effects by definition, where a
 * register BAR may clear a status on a read); without an offset the window is searched for in
 * the BAR (PROTOCOL.md 1.3). A device and BAR named exactly that hold no window yet are waited
 * on at offset 0 (where a BMC SHOULD put it); a search that finds no window is -ENOENT, which
 * the host waits out too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efi/uefi.h"
#include "fwpush/wire.h"
#include "transport/bar_opts.h"
#include "transport/target.h"

#define PCI_VENDOR_ID		0x00
#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x02
#define ACPI_QWORD_DESC		0x8a
#define ACPI_RES_MEMORY		0
#define ACPI_PREFETCHABLE	0x06	/* the memory descriptor's type-specific flags */

/* What GetBarAttributes() describes a BAR with (ACPI 6.4, 6.4.3.5.1). */
struct __attribute__((packed)) acpi_qword {
	uint8_t desc;
	uint16_t len;
	uint8_t res_type;
	uint8_t gen_flags;
	uint8_t type_flags;
	uint64_t granularity;
	uint64_t min;
	uint64_t max;
	uint64_t translation;
	uint64_t size;
};

struct fwp_target {
	void *base;
	size_t size;
	unsigned flags;
	char uri[64];
};

enum match { BY_ADDRESS, BY_ID, ANY };

struct loc {
	enum match match;
	uint32_t seg, bus, dev, fn;
	uint16_t vendor, device;
	int bar;			/* -1: every memory BAR */
	uint64_t offset;
	bool offset_given;
};

/* Up to max hex digits at *s; -EINVAL if none or more. */
static int hex(const char **s, unsigned max, uint32_t *out)
{
	unsigned n = 0;
	char c;

	for (*out = 0; n <= max; n++, (*s)++) {
		c = **s;
		if (c >= '0' && c <= '9')
			*out = *out << 4 | (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*out = *out << 4 | (uint32_t)((c | 0x20) - 'a' + 10);
		else
			break;
	}
	return n && n <= max ? 0 : -EINVAL;
}

/* "SEG:BUS:DEV.FN", "BUS:DEV.FN" or "VVVV:DDDD", up to end. */
static int parse_device(const char *s, const char *end, struct loc *l)
{
	uint32_t a, b;

	if (end - s == 1 && *s == '*') {
		l->match = ANY;
		return 0;
	}
	if (hex(&s, 4, &a) || *s++ != ':' || hex(&s, 4, &b))
		return -EINVAL;
	if (s == end) {
		l->match = BY_ID;
		l->vendor = (uint16_t)a;
		l->device = (uint16_t)b;
		return 0;
	}
	l->match = BY_ADDRESS;
	if (*s == ':') {
		s++;
		l->seg = a;
		a = b;
		if (hex(&s, 2, &b))
			return -EINVAL;
	}
	l->bus = a;
	l->dev = b;
	if (a > 0xff || b > 0x1f || *s++ != '.' || hex(&s, 1, &l->fn) || l->fn > 7 || s != end)
		return -EINVAL;
	return 0;
}

static int parse_uri(const char *uri, struct loc *l)
{
	const char *arg, *opt;
	struct fwp_bar_opts o;

	memset(l, 0, sizeof(*l));
	if (strncmp(uri, "pci:", 4))
		return strchr(uri, ':') ? -EAFNOSUPPORT : -EINVAL;
	arg = uri + 4;
	opt = strchr(arg, ',');
	if (parse_device(arg, opt ? opt : arg + strlen(arg), l) || fwp_bar_opts_parse(opt, &o))
		return -EINVAL;
	l->bar = o.bar;
	l->offset = o.offset;
	l->offset_given = o.offset_given;
	return 0;
}

static bool matches(EFI_PCI_IO_PROTOCOL *pci, const struct loc *l)
{
	UINTN seg, bus, dev, fn;
	uint32_t id;

	if (l->match == ANY)
		return true;
	if (l->match == BY_ADDRESS)
		return !pci->GetLocation(pci, &seg, &bus, &dev, &fn) && seg == l->seg &&
		       bus == l->bus && dev == l->dev && fn == l->fn;
	return !pci->Pci.Read(pci, EfiPciIoWidthUint32, PCI_VENDOR_ID, 1, &id) &&
	       (id & 0xffff) == l->vendor && id >> 16 == l->device;
}

/* A memory BAR's address, size and prefetchability; -ENOTSUP for any other BAR. */
static int bar_range(EFI_PCI_IO_PROTOCOL *pci, unsigned bar, uint64_t *addr, uint64_t *size,
		     bool *prefetch)
{
	struct acpi_qword *d;
	int ret = -ENOTSUP;

	if (pci->GetBarAttributes(pci, (UINT8)bar, NULL, (void **)&d))
		return -ENOTSUP;
	if (d->desc == ACPI_QWORD_DESC && d->res_type == ACPI_RES_MEMORY && d->size) {
		*addr = d->min;
		*size = d->size;
		*prefetch = (d->type_flags & ACPI_PREFETCHABLE) == ACPI_PREFETCHABLE;
		ret = 0;
	}
	fwp_efi_st->BootServices->FreePool(d);
	return ret;
}

/*
 * Firmware may leave a device's memory decoding off (OVMF turns it on; real firmware does not
 * always, and reads of the BAR then return nothing but ones or zeros). 1: turned on here.
 */
static int enable_memory(EFI_PCI_IO_PROTOCOL *pci)
{
	uint16_t cmd;

	if (pci->Pci.Read(pci, EfiPciIoWidthUint16, PCI_COMMAND, 1, &cmd))
		return -EIO;
	if (cmd & PCI_COMMAND_MEMORY)
		return 0;
	return pci->Attributes(pci, EfiPciIoAttributeOperationEnable, EFI_PCI_IO_ATTRIBUTE_MEMORY,
			       NULL) ? -EACCES : 1;
}

/* Where the window is, exactly, as a URI that names it: the target's fwp_target_uri(). */
static int name(EFI_PCI_IO_PROTOCOL *pci, unsigned bar, size_t off, struct fwp_target *t)
{
	UINTN seg, bus, dev, fn;

	if (pci->GetLocation(pci, &seg, &bus, &dev, &fn))
		return -ENODEV;
	snprintf(t->uri, sizeof(t->uri), "pci:%04x:%02x:%02x.%x,bar=%u,offset=%llu",
		 (unsigned)seg, (unsigned)bus, (unsigned)dev, (unsigned)fn, bar,
		 (unsigned long long)off);
	return 0;
}

/*
 * The window in one BAR: at the offset given; else searched for; else, for a device named
 * exactly and one BAR, at 0 (waited for there). 1: no window in this BAR.
 */
static int place(EFI_PCI_IO_PROTOCOL *pci, unsigned bar, const struct loc *l, bool wait_there,
		 struct fwp_target *t)
{
	uint64_t addr, len;
	size_t off = l->offset;
	bool prefetch;
	int ret;

	ret = bar_range(pci, bar, &addr, &len, &prefetch);
	if (ret)
		return ret;
	/* Searched without being named, a BAR is read only if reading it has no side effects. */
	if (l->bar < 0 && !prefetch)
		return -ENOTSUP;
	ret = enable_memory(pci);
	if (ret < 0)
		return ret;
	if (!l->offset_given && fwp_window_find((void *)(uintptr_t)addr, len, &off)) {
		if (!wait_there) {
			/* Searched and not found: the device is left as it was found. */
			if (ret)
				pci->Attributes(pci, EfiPciIoAttributeOperationDisable,
						EFI_PCI_IO_ATTRIBUTE_MEMORY, NULL);
			return 1;
		}
		off = 0;
	}
	if (off + sizeof(struct fwp_win_ctrl) > len)
		return -EMSGSIZE;
	t->base = (void *)(uintptr_t)(addr + off);
	t->size = len - off;
	t->flags = prefetch ? FWP_TARGET_WC : 0;
	return name(pci, bar, off, t);
}

/* The window in one device: in its BAR l->bar, or in the first memory BAR that holds one. */
static int in_device(EFI_PCI_IO_PROTOCOL *pci, const struct loc *l, struct fwp_target *t)
{
	unsigned bar;
	int ret = 1;

	if (l->bar >= 0)
		return place(pci, (unsigned)l->bar, l, l->match != ANY, t);
	for (bar = 0; bar < 6 && ret == 1; bar++) {
		ret = place(pci, bar, l, false, t);
		ret = ret == -ENOTSUP ? 1 : ret;
	}
	return ret;
}

/* The first window among the matching devices; -ENODEV if none matches, -ENOENT if none has one. */
static int find(const struct loc *l, struct fwp_target *t)
{
	EFI_BOOT_SERVICES *bs = fwp_efi_st->BootServices;
	EFI_GUID guid = EFI_PCI_IO_PROTOCOL_GUID;
	EFI_PCI_IO_PROTOCOL *pci;
	EFI_HANDLE *handles;
	UINTN count, i;
	int ret = -ENODEV;

	if (bs->LocateHandleBuffer(ByProtocol, &guid, NULL, &count, &handles))
		return -ENODEV;
	for (i = 0; i < count && (ret == -ENODEV || ret == 1); i++) {
		if (bs->HandleProtocol(handles[i], &guid, (void **)&pci) || !matches(pci, l))
			continue;
		ret = in_device(pci, l, t);
		/* Searching: a device without that memory BAR is not the one. */
		ret = ret == -ENOTSUP && l->match != BY_ADDRESS ? 1 : ret;
	}
	bs->FreePool(handles);
	return ret == 1 ? -ENOENT : ret;
}

int fwp_target_open(const char *uri, struct fwp_target **out)
{
	struct fwp_target *t;
	struct loc l;
	int ret;

	ret = parse_uri(uri, &l);
	if (ret)
		return ret;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	ret = find(&l, t);
	if (ret) {
		free(t);
		return ret;
	}
	*out = t;
	return 0;
}

void fwp_target_close(struct fwp_target *t)
{
	free(t);
}

/* A BAR cannot tell whether a BMC is behind it: the window's heartbeat says (PROTOCOL.md 6.1). */
int fwp_target_peer_alive(const struct fwp_target *t)
{
	(void)t;
	return 0;
}

void *fwp_target_base(const struct fwp_target *t)
{
	return t->base;
}

size_t fwp_target_size(const struct fwp_target *t)
{
	return t->size;
}

unsigned fwp_target_flags(const struct fwp_target *t)
{
	return t->flags;
}

const char *fwp_target_uri(const struct fwp_target *t)
{
	return t->uri;
}

/* Register doorbells need the device's interrupt, which boot services do not deliver: polled. */
int fwp_target_doorbell_setup(struct fwp_target *t, uint32_t ring_value)
{
	(void)t, (void)ring_value;
	return -ENOTSUP;
}

int fwp_target_ring(struct fwp_target *t)
{
	(void)t;
	return -ENOTSUP;
}

int fwp_target_wait(struct fwp_target *t, uint64_t timeout_ns)
{
	(void)t, (void)timeout_ns;
	return -ENOTSUP;
}
