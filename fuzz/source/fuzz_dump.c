// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz the dump parsers (ELF, LiME, raw by detection) through the in-memory entry point. */
#include <stdint.h>
#include <stdlib.h>

#include "source/dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nfm_phys_range *r;
	struct nfm_source *src;
	struct nfm_cpu_state c;
	uint8_t buf[64];
	char *vmci;
	size_t len;
	int n, i;

	if (nfm_source_new_dump_mem(data, size, "fuzz", NULL, &src))
		return 0;
	n = nfm_source_ranges(src, &r);
	for (i = 0; i < n && i < 16; i++) {
		nfm_source_read_phys(src, r[i].start, buf, r[i].size < sizeof(buf) ? r[i].size : sizeof(buf));
		nfm_source_read_phys(src, r[i].start + r[i].size - 1, buf, 1);
	}
	if (!nfm_source_vmcoreinfo(src, &vmci, &len))
		free(vmci);
	nfm_source_cpu_state(src, 0, &c);
	nfm_source_free(src);
	return 0;
}
