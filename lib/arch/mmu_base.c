// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What both architectures' walks stand on: the translator's state, physical reads through the
 * crawl cache, one table entry, and which addresses are canonical or kernel ones.
 */
#include <errno.h>
#include <string.h>

#include "arch/mmu_walk.h"
#include "arch/pcache.h"
#include "source/source.h"

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

void nfm_mmu_idle(struct nfm_mmu *mmu)
{
	nfm_pcache_idle(mmu->pcache);
}

void nfm_mmu_release(struct nfm_mmu *mmu)
{
	nfm_pcache_free(mmu->pcache);
	mmu->pcache = NULL;
}

int nfm_mmu_read_phys(struct nfm_mmu *mmu, uint64_t pa, void *buf, size_t len)
{
	/* Large reads (symbol tables, BTF) go straight to the source. */
	if (!mmu->pcache_on || len > NFM_PCACHE_READ_MAX)
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

int nfm_mmu_table_entry(struct nfm_mmu *mmu, uint64_t table, uint64_t va, int level,
			uint64_t *entry)
{
	/* arm64's level -1 (LPA2, 52 bits) has 16 entries: VA bits 51:48 */
	uint64_t mask = level == 5 && nfm_mmu_lpa2(mmu) ? 0xf : 0x1ff;
	uint64_t idx = (va >> (12 + 9 * (level - 1))) & mask;
	int ret = nfm_mmu_read_phys(mmu, table + idx * 8, entry, sizeof(*entry));

	if (ret < 0)
		mmu->fault = (struct nfm_fault){ .va = va, .entry = *entry, .level = level };
	return ret;
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

bool nfm_mmu_is_canonical(const struct nfm_mmu *mmu, uint64_t va)
{
	int64_t top = (int64_t)va >> top_shift(mmu);

	return top == 0 || top == -1;
}
