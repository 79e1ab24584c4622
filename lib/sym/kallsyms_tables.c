// SPDX-License-Identifier: GPL-2.0-or-later
/* One symbol's address under each of the kallsyms encodings (scripts/kallsyms.c writes them). */
#include "sym/kallsyms_tables.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t ks_address(enum nfm_kallsyms_encoding enc, const uint8_t *tab, uint64_t tab_va,
		    uint64_t base, uint32_t i)
{
	int32_t off;

	switch (enc) {
	case NFM_KALLSYMS_ABSOLUTE:
		return (uint64_t)le32(tab + 8 * (size_t)i) | (uint64_t)le32(tab + 8 * (size_t)i + 4) << 32;
	case NFM_KALLSYMS_BASE_RELATIVE:
		return base + le32(tab + 4 * (size_t)i);
	case NFM_KALLSYMS_ABSOLUTE_PERCPU:
		off = (int32_t)le32(tab + 4 * (size_t)i);
		return off >= 0 ? (uint64_t)off : base - 1 - (uint64_t)(int64_t)off;
	case NFM_KALLSYMS_PLACE_RELATIVE:
		off = (int32_t)le32(tab + 4 * (size_t)i);
		return tab_va + 4 * (uint64_t)i + (uint64_t)(int64_t)off;
	}
	return 0;
}
