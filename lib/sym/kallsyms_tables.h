/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest's kallsyms tables as the decoder meets them: how it reads them, where they are, and
 * the address encodings (kallsyms_tables.c decodes one address under each).
 */
#ifndef NFM_LIB_SYM_KALLSYMS_TABLES_H
#define NFM_LIB_SYM_KALLSYMS_TABLES_H

#include <stddef.h>
#include <stdint.h>

/* Read len bytes of kernel virtual memory at va into buf: 0 or -errno. */
typedef int (*nfm_read_kva_fn)(void *ud, uint64_t va, void *buf, size_t len);

/*
 * Kernel virtual addresses of the tables (from VMCOREINFO SYMBOL(kallsyms_*) on 6.0+); 0 = absent.
 * seqs_of_names (the name-ordered index, 6.2+ and late 6.1) is not in VMCOREINFO: 0 means
 * "where the layout puts it".
 */
struct nfm_kallsyms_tables {
	uint64_t names, num_syms, token_table, token_index, markers;
	uint64_t offsets, relative_base, addresses;
	uint64_t seqs_of_names;
};

enum nfm_kallsyms_encoding {
	NFM_KALLSYMS_ABSOLUTE,		/* kallsyms_addresses[] of unsigned long (gone in 6.11) */
	NFM_KALLSYMS_BASE_RELATIVE,	/* relative_base + (u32)offset */
	NFM_KALLSYMS_ABSOLUTE_PERCPU,	/* offset >= 0: absolute; < 0: relative_base - 1 - offset */
	NFM_KALLSYMS_PLACE_RELATIVE,	/* &offsets[i] + (s32)offsets[i] (7.0) */
};

/* Address of symbol i under enc, from the raw table tab (read from tab_va; base: relative_base). */
uint64_t ks_address(enum nfm_kallsyms_encoding enc, const uint8_t *tab, uint64_t tab_va,
		    uint64_t base, uint32_t i);

#endif
