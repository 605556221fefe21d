/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the PCI target argument decoder (BDF[,bar=N][,offset=O]) that vfio:, pci: and dpdk:
 * share. Whatever it accepts must be a canonical address, a BAR that exists, and a page-aligned
 * offset; a canonical address must parse back to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwpush/wire.h"
#include "transport/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char arg[256], again[FWP_PCI_BDF_LEN];
	struct fwp_pci_loc loc;

	if (size >= sizeof(arg))
		return 0;
	memcpy(arg, data, size);
	arg[size] = '\0';
	if (fwp_pci_loc_parse(arg, &loc))
		return 0;
	if (strlen(loc.bdf) != FWP_PCI_BDF_LEN - 1 || loc.bar >= FWP_PCI_BARS ||
	    loc.offset % FWP_PAGE)
		abort();
	if (fwp_pci_bdf_parse(loc.bdf, strlen(loc.bdf), again) || strcmp(again, loc.bdf))
		abort();
	return 0;
}
