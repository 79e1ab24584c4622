// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/mmu.h"
#include "arch/pcache.h"
#include "source/source.h"

#define PTE_PRESENT 0x1ull
#define PTE_PSE 0x80ull
/* Physical address bits 12..51; the bits above hold NX, protection keys and software flags. */
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define PAGE_SIZE 4096ull

void nfm_mmu_init(struct nfm_mmu *mmu, struct nfm_source *src, int levels, uint64_t kernel_root)
{
	struct nfm_pcache *keep = mmu->pcache;

	/* Re-initialising (discovery tries candidates) keeps the cache's memory, not its data. */
	memset(mmu, 0, sizeof(*mmu));
	mmu->src = src;
	mmu->levels = levels == 5 ? 5 : 4;
	mmu->kernel_root = kernel_root;
	mmu->gen = 1;
	mmu->pcache = keep;
	if (keep)
		nfm_pcache_reset(keep);
	mmu->pcache_on = src && !src->map;
}

void nfm_mmu_flush(struct nfm_mmu *mmu)
{
	mmu->gen++;
	if (mmu->pcache)
		nfm_pcache_flush(mmu->pcache);
}

void nfm_mmu_release(struct nfm_mmu *mmu)
{
	nfm_pcache_free(mmu->pcache);
	mmu->pcache = NULL;
}

int nfm_mmu_read_phys(struct nfm_mmu *mmu, uint64_t pa, void *buf, size_t len)
{
	/* Large reads (symbol tables, BTF) go straight to the source. */
	if (!mmu->pcache_on || len > NFM_PCACHE_CHUNK)
		return nfm_source_read_phys(mmu->src, pa, buf, len);
	if (!mmu->pcache) {
		mmu->pcache = nfm_pcache_new(mmu->src);
		if (!mmu->pcache) {
			mmu->pcache_on = false;
			return nfm_source_read_phys(mmu->src, pa, buf, len);
		}
	}
	return nfm_pcache_read(mmu->pcache, pa, buf, len);
}

/*
 * The lowest bit that must equal all bits above it: x86-64 sign-extends bit 47 (56); on arm64
 * TTBR1 covers the addresses whose bits VA_BITS..63 are all set (bit VA_BITS-1 is free).
 */
static int top_shift(const struct nfm_mmu *mmu)
{
	if (mmu->arch == NFM_MMU_ARM64)
		return mmu->va_bits;
	return mmu->levels == 5 ? 56 : 47;
}

bool nfm_mmu_is_kernel_va(const struct nfm_mmu *mmu, uint64_t va)
{
	/* Canonical kernel addresses have every bit from the top shift up set. */
	return (int64_t)va >> top_shift(mmu) == -1;
}

static bool is_canonical(const struct nfm_mmu *mmu, uint64_t va)
{
	int64_t top = (int64_t)va >> top_shift(mmu);

	return top == 0 || top == -1;
}

static struct nfm_tlb_entry *tlb_slot(struct nfm_mmu *mmu, uint64_t root, uint64_t vpage)
{
	uint64_t h = (vpage ^ (root >> 12) * 0x9e3779b97f4a7c15ull);

	return &mmu->tlb[(h ^ (h >> 29)) & ((1u << NFM_TLB_BITS) - 1)];
}

int nfm_mmu_table_entry(struct nfm_mmu *mmu, uint64_t table, uint64_t va, int level,
			uint64_t *entry)
{
	uint64_t idx = (va >> (12 + 9 * (level - 1))) & 0x1ff;
	int ret = nfm_mmu_read_phys(mmu, table + idx * 8, entry, sizeof(*entry));

	if (ret < 0)
		mmu->fault = (struct nfm_fault){ .va = va, .entry = *entry, .level = level };
	return ret;
}

int nfm_mmu_walk(struct nfm_mmu *mmu, uint64_t root, uint64_t va, uint64_t *pa)
{
	uint64_t table = root & PTE_ADDR_MASK, entry = 0, vpage = va >> 12;
	struct nfm_tlb_entry *slot;
	int level, ret;

	if (!is_canonical(mmu, va)) {
		mmu->fault = (struct nfm_fault){ .va = va, .level = mmu->levels + 1 };
		return -EFAULT;
	}
	slot = tlb_slot(mmu, root, vpage);
	if (slot->gen == mmu->gen && slot->root == root && slot->vpage == vpage) {
		mmu->hits++;
		*pa = (slot->ppage << 12) | (va & 0xfff);
		return 0;
	}
	mmu->walks++;
	if (mmu->arch == NFM_MMU_ARM64) {
		ret = nfm_mmu_arm64_walk(mmu, root, va, pa);
		if (ret < 0)
			return ret;
		goto done;
	}
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
			goto done;
		}
		table = entry & PTE_ADDR_MASK;
	}
	*pa = table | (va & 0xfff);
done:
	slot->gen = mmu->gen;
	slot->root = root;
	slot->vpage = vpage;
	slot->ppage = *pa >> 12;
	return 0;
}

int nfm_mmu_kva_to_pa(struct nfm_mmu *mmu, uint64_t va, uint64_t *pa)
{
	if (mmu->arch == NFM_MMU_ARM64)
		return nfm_mmu_arm64_kva_to_pa(mmu, va, pa);
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
	return nfm_mmu_walk(mmu, mmu->kernel_root, va, pa);
}

/* Read page by page; translate() is either the kernel or a user translation. */
static int read_virt(struct nfm_mmu *mmu, uint64_t root, bool kernel, uint64_t va, void *buf,
		     size_t len)
{
	uint8_t *out = buf;

	while (len) {
		size_t chunk = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		uint64_t pa;
		int ret;

		if (chunk > len)
			chunk = len;
		ret = kernel ? nfm_mmu_kva_to_pa(mmu, va, &pa) : nfm_mmu_walk(mmu, root, va, &pa);
		if (ret < 0)
			return ret;
		/* Linear regions: extend the chunk while the next page is linear too. */
		if (kernel && len > chunk) {
			uint64_t next_pa;

			while (len > chunk && nfm_mmu_kva_to_pa(mmu, va + chunk, &next_pa) == 0 &&
			       next_pa == pa + chunk)
				chunk = len - chunk > PAGE_SIZE ? chunk + PAGE_SIZE : len;
		}
		ret = nfm_mmu_read_phys(mmu, pa, out, chunk);
		if (ret < 0) {
			mmu->fault = (struct nfm_fault){ .va = va, .level = 0 };
			return ret;
		}
		out += chunk;
		va += chunk;
		len -= chunk;
	}
	return 0;
}

int nfm_mmu_read_kva(struct nfm_mmu *mmu, uint64_t va, void *buf, size_t len)
{
	return read_virt(mmu, 0, true, va, buf, len);
}

int nfm_mmu_read_uva(struct nfm_mmu *mmu, uint64_t root, uint64_t va, void *buf, size_t len)
{
	return read_virt(mmu, root, false, va, buf, len);
}
