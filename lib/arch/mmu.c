// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Translation on top of the architectures' walks: the translation cache, the linear fast paths
 * before a walk, and reads of kernel or process memory page by page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/mmu_walk.h"

#define PAGE_SIZE 4096ull

static struct nfm_tlb_entry *tlb_slot(struct nfm_mmu *mmu, uint64_t root, uint64_t vpage)
{
	uint64_t h = (vpage ^ (root >> 12) * 0x9e3779b97f4a7c15ull);

	return &mmu->tlb[(h ^ (h >> 29)) & ((1u << NFM_TLB_BITS) - 1)];
}

int nfm_mmu_walk(struct nfm_mmu *mmu, uint64_t root, uint64_t va, uint64_t *pa)
{
	uint64_t vpage = va >> 12;
	struct nfm_tlb_entry *slot;
	int ret;

	if (!nfm_mmu_is_canonical(mmu, va)) {
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
	ret = mmu->arch == NFM_MMU_ARM64 ? nfm_mmu_arm64_walk(mmu, root, va, pa)
					 : nfm_mmu_x86_64_walk(mmu, root, va, pa);
	if (ret < 0)
		return ret;
	slot->gen = mmu->gen;
	slot->root = root;
	slot->vpage = vpage;
	slot->ppage = *pa >> 12;
	return 0;
}

int nfm_mmu_kva_to_pa(struct nfm_mmu *mmu, uint64_t va, uint64_t *pa)
{
	int ret = mmu->arch == NFM_MMU_ARM64 ? nfm_mmu_arm64_linear(mmu, va, pa)
					     : nfm_mmu_x86_64_linear(mmu, va, pa);

	if (ret != -ENOENT)
		return ret;
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
