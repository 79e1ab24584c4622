// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * x86-64 address translation: 4- or 5-level tables (CR3 / mm->pgd), 2 MiB and 1 GiB pages, and
 * the kernel's two linear mappings: the image (__START_KERNEL_map + phys_base) and the direct
 * map (PAGE_OFFSET). Entry formats: Intel SDM vol. 3A, 4.5 (4-level and 5-level paging).
 */
#include <errno.h>

#include "arch/mmu_walk.h"
#include "source/source.h"

#define PTE_PRESENT 0x1ull
#define PTE_PSE 0x80ull
/* Physical address bits 12..51; the bits above hold NX, protection keys and software flags. */
#define PTE_ADDR_MASK 0x000ffffffffff000ull

int nfm_mmu_x86_64_walk(struct nfm_mmu *mmu, uint64_t root, uint64_t va, uint64_t *pa)
{
	uint64_t table = root & PTE_ADDR_MASK, entry = 0;
	int level, ret;

	for (level = mmu->levels; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);

		ret = nfm_mmu_table_entry(mmu, table, va, level, &entry);
		if (ret < 0)
			return ret;
		if (!(entry & PTE_PRESENT)) {
			/* A non-present, non-zero PTE is a swap (or migration) entry. */
			mmu->fault = (struct nfm_fault){ .va = va, .entry = entry, .level = level,
							 .swapped = level == 1 && entry != 0 };
			return -EFAULT;
		}
		/* PS in a PUD (1 GiB) or PMD (2 MiB) ends the walk; bit 12 there is PAT. */
		if ((level == 3 || level == 2) && (entry & PTE_PSE)) {
			uint64_t mask = (1ull << shift) - 1;

			*pa = (entry & PTE_ADDR_MASK & ~mask) | (va & mask);
			return 0;
		}
		table = entry & PTE_ADDR_MASK;
	}
	*pa = table | (va & 0xfff);
	return 0;
}

int nfm_mmu_x86_64_linear(struct nfm_mmu *mmu, uint64_t va, uint64_t *pa)
{
	/* The kernel image and the direct map are linear: no walk needed. */
	if (mmu->have_kimage && va >= NFM_X86_START_KERNEL_MAP && va < NFM_X86_KIMAGE_END) {
		*pa = va - NFM_X86_START_KERNEL_MAP + (uint64_t)mmu->phys_base;
		return 0;
	}
	if (mmu->page_offset && va >= mmu->page_offset) {
		/*
		 * The direct map spans at most 64 TiB (4-level) or 32 PiB (5-level), but with
		 * RANDOMIZE_MEMORY the vmalloc area may begin a few TiB above it (5.10: 26 TiB):
		 * only the guest's RAM is taken as linear, the rest is walked.
		 */
		uint64_t span = mmu->levels == 5 ? 1ull << 55 : 1ull << 46;
		const struct nfm_source *src = mmu->src;

		if (src && src->nr_ranges) {
			const struct nfm_source_range *last = &src->ranges[src->nr_ranges - 1];
			uint64_t end = last->start + last->size;

			if (end < span)
				span = end;
		}
		if (va - mmu->page_offset < span) {
			*pa = va - mmu->page_offset;
			return 0;
		}
	}
	if (!nfm_mmu_is_kernel_va(mmu, va)) {
		mmu->fault = (struct nfm_fault){ .va = va, .level = mmu->levels + 1 };
		return -EFAULT;
	}
	return -ENOENT;
}
