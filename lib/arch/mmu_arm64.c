// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * arm64 address translation: 4 KiB granule, 48-bit virtual addresses at run time (4 levels; a
 * kernel built for 52 bits falls back to 48 on a CPU without LPA2) or 52 (FEAT_LPA2, TCR_EL1.DS
 * set: 5 levels, the first of 16 entries, and output addresses of 52 bits whose bits 51:50 sit in
 * descriptor bits 9:8); TTBR1 for the kernel half, TTBR0 = mm->pgd for a process), and the
 * kernel's two linear mappings: the image
 * (pa = va - kimage_voffset) and the linear map (pa = va - PAGE_OFFSET + PHYS_OFFSET; with
 * KASLR PHYS_OFFSET, the kernel's memstart_addr, may be "negative"). Descriptor formats: Arm ARM
 * D8.3 (VMSAv8-64 translation table format); the kernel's arch/arm64/include/asm/pgtable*.h.
 */
#include <errno.h>

#include "arch/mmu_walk.h"
#include "source/source.h"

#define DESC_VALID 0x1ull
#define DESC_TABLE 0x2ull		/* with VALID: table (levels 0-2) or page (level 3) */
/* The kernel's PTE_PROT_NONE (bit 58, software): a PROT_NONE page is present, not VALID. */
#define DESC_PROT_NONE (1ull << 58)
/* Output address bits [49:12] (bits 49:48 are RES0 without LPA2: 48-bit addresses). */
#define DESC_ADDR_MASK 0x0003fffffffff000ull
/* With LPA2 (TCR_EL1.DS = 1, 4 KiB granule): output address bits 51:50 in descriptor bits 9:8,
 * where the shareability field was. */
#define DESC_LPA2_HI_MASK 0x300ull
#define DESC_LPA2_HI_SHIFT 42

/* The output (or next table's) address a descriptor holds. */
static uint64_t desc_addr(const struct nfm_mmu *mmu, uint64_t entry)
{
	uint64_t a = entry & DESC_ADDR_MASK;

	if (nfm_mmu_lpa2(mmu))
		a |= (entry & DESC_LPA2_HI_MASK) << DESC_LPA2_HI_SHIFT;
	return a;
}

void nfm_mmu_init_arm64(struct nfm_mmu *mmu, struct nfm_source *src, int va_bits,
			int config_va_bits, uint64_t kernel_root, uint64_t kimage_voffset,
			uint64_t phys_offset)
{
	/* 52 bits at run time with 4 KiB pages is LPA2's format, a level more (discover_arm64.c) */
	nfm_mmu_init(mmu, src, va_bits == 52 ? 5 : 4, kernel_root);
	mmu->arch = NFM_MMU_ARM64;
	mmu->va_bits = va_bits;
	mmu->kimage_voffset = kimage_voffset;
	mmu->phys_offset = phys_offset;
	/*
	 * PAGE_OFFSET = -(1 << VA_BITS) as built: the linear map is the lower half of the TTBR1
	 * range. A 52-bit kernel on a CPU without 52-bit VA runs with 48 bits and keeps the 52-bit
	 * PAGE_OFFSET: it lowers PHYS_OFFSET (memstart_addr) instead, so that its linear addresses
	 * land in the 48-bit range (arm64_memblock_init()).
	 */
	mmu->page_offset = ~0ull << config_va_bits;
}

/*
 * Walk the tables rooted at root (a TTBR's BADDR). Levels are numbered as on x86 (5 = Arm's
 * level -1 with LPA2, 4 = Arm's level 0; 1 = the last, Arm's level 3) so mmu->fault reads the
 * same on both.
 */
int nfm_mmu_arm64_walk(struct nfm_mmu *mmu, uint64_t root, uint64_t va, uint64_t *pa)
{
	/* a physical address; with LPA2 a process's top table is 128 bytes (pgd_cache) */
	uint64_t table = root & 0x000fffffffffff80ull, entry = 0;
	int level, ret;

	for (level = mmu->levels; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);

		ret = nfm_mmu_table_entry(mmu, table, va, level, &entry);
		if (ret < 0)
			return ret;
		if (!(entry & DESC_VALID)) {
			if (level == 1 && (entry & DESC_PROT_NONE)) {
				*pa = desc_addr(mmu, entry) | (va & 0xfff);
				return 0;
			}
			/* A non-valid, non-zero last-level entry is a swap (or migration) entry. */
			mmu->fault = (struct nfm_fault){ .va = va, .entry = entry, .level = level,
							 .swapped = level == 1 && entry != 0 };
			return -EFAULT;
		}
		if (level == 1) {
			/* Level 3 needs the page form (0b11); 0b01 there is reserved. */
			if (!(entry & DESC_TABLE))
				break;
			*pa = desc_addr(mmu, entry) | (va & 0xfff);
			return 0;
		}
		if (!(entry & DESC_TABLE)) {
			/* A block: 1 GiB at Arm level 1, 2 MiB at level 2, 512 GiB at level 0 with
			 * LPA2 only; none at level -1. */
			uint64_t mask = (1ull << shift) - 1;

			if (level == 5 || (level == 4 && !nfm_mmu_lpa2(mmu)))
				break;
			*pa = (desc_addr(mmu, entry) & ~mask) | (va & mask);
			return 0;
		}
		table = desc_addr(mmu, entry);
	}
	mmu->fault = (struct nfm_fault){ .va = va, .entry = entry, .level = level };
	return -EFAULT;
}

/* The linear map holds RAM only: its span ends where the source's last RAM range ends. */
static bool in_ram(const struct nfm_mmu *mmu, uint64_t pa)
{
	const struct nfm_source *src = mmu->src;

	if (!src || !src->nr_ranges)
		return true;
	for (size_t i = 0; i < src->nr_ranges; i++)
		if (pa >= src->ranges[i].start && pa - src->ranges[i].start < src->ranges[i].size)
			return true;
	return false;
}

int nfm_mmu_arm64_linear(struct nfm_mmu *mmu, uint64_t va, uint64_t *pa)
{
	/* the linear map ends halfway up the TTBR1 range the CPU translates */
	uint64_t lin_end = (~0ull << mmu->va_bits) + (1ull << (mmu->va_bits - 1));

	if (va >= mmu->page_offset && va < lin_end) {
		uint64_t p = va - mmu->page_offset + mmu->phys_offset;

		if (in_ram(mmu, p)) {
			*pa = p;
			return 0;
		}
	}
	/* The kernel image, once kallsyms told its bounds (_text.._end). */
	if (va >= mmu->kimage_start && va < mmu->kimage_end) {
		*pa = va - mmu->kimage_voffset;
		return 0;
	}
	if (!nfm_mmu_is_kernel_va(mmu, va)) {
		mmu->fault = (struct nfm_fault){ .va = va, .level = 5 };
		return -EFAULT;
	}
	return -ENOENT;
}
