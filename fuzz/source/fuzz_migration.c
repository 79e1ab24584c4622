// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz the QEMU migration stream reader, and read every page of what it accepts. */
#include <stdint.h>
#include <stdlib.h>

#include "source/dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nfm_phys_range *r;
	struct nfm_source *src;
	uint8_t buf[4096 + 16], bitmap[8];
	uint64_t a;
	int n, i;

	if (nfm_source_new_migration(data, size, "fuzz", NULL, NULL, &src))
		return 0;
	n = nfm_source_ranges(src, &r);
	for (i = 0; i < n; i++) {
		for (a = 0; a < r[i].size && a < (64u << 12); a += 4096)
			nfm_source_read_phys(src, r[i].start + a + 8, buf, sizeof(buf));
		nfm_source_resident(src, r[i].start, r[i].size < (64u << 12) ? r[i].size >> 12 : 64,
				    bitmap);
	}
	nfm_source_free(src);
	return 0;
}
