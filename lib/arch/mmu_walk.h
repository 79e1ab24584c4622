/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside lib/arch: what mmu.c (the cache and the dispatch, on top) takes from each
 * architecture's walk (mmu_x86_64.c, mmu_arm64.c), and what those take from mmu_base.c
 * (initialisation, physical reads, table entries, address-range checks) beneath them.
 */
#ifndef NFM_LIB_ARCH_MMU_WALK_H
#define NFM_LIB_ARCH_MMU_WALK_H

#include "arch/mmu.h"

/* mmu_base.c: the entry for va in the 4 KiB table at a walk's level (5 or 4 = top, 1 = last; 9 bits
 * each, both architectures, but arm64's level -1: 4 bits); a failed read is recorded as the fault. */
int nfm_mmu_table_entry(struct nfm_mmu *mmu, uint64_t table, uint64_t va, int level,
			uint64_t *entry);
/* mmu_base.c: va is canonical (either half) for this paging mode. */
bool nfm_mmu_is_canonical(const struct nfm_mmu *mmu, uint64_t va);

/*
 * Each architecture: the table walk (no cache: mmu.c keeps it), and the linear translation of a
 * kernel address: 0 and *pa when va lies in a linear mapping, -ENOENT when the tables must be
 * walked, -EFAULT (the fault recorded) when va is no kernel address.
 */
int nfm_mmu_x86_64_walk(struct nfm_mmu *mmu, uint64_t root, uint64_t va, uint64_t *pa);
int nfm_mmu_x86_64_linear(struct nfm_mmu *mmu, uint64_t va, uint64_t *pa);
int nfm_mmu_arm64_walk(struct nfm_mmu *mmu, uint64_t root, uint64_t va, uint64_t *pa);
int nfm_mmu_arm64_linear(struct nfm_mmu *mmu, uint64_t va, uint64_t *pa);

#endif
