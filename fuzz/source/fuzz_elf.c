// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz the ELF core parser directly (headers, PT_LOADs, notes). */
#include <stdint.h>
#include <string.h>

#include "source/dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nfm_dump_info info;

	memset(&info, 0, sizeof(info));
	if (!nfm_dump_parse_elf(data, size, "fuzz", NULL, &info))
		nfm_dump_info_release(&info);
	return 0;
}
