/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address translation over a memory source, x86-64 (mmu_x86_64.c: 4- and 5-level tables, 2 MiB
 * and 1 GiB pages) and arm64 (mmu_arm64.c): the kernel's linear mappings (direct map, kernel
 * image) as fast paths, and a small translation cache (mmu.c) that one call to nfm_mmu_flush()
 * invalidates (once per crawl of a live guest). What the files share: mmu_base.c, mmu_walk.h.
 */
#ifndef NFM_LIB_ARCH_MMU_H
#define NFM_LIB_ARCH_MMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfm_source;
struct nfm_pcache;

/* Where the kernel image is mapped before KASLR's virtual shift (__START_KERNEL_map). */
#define NFM_X86_START_KERNEL_MAP 0xffffffff80000000ull
/* The module area ends the kernel image mapping's 1 GiB window. */
#define NFM_X86_KIMAGE_END 0xffffffffc0000000ull

/* Why the last translation failed, for error messages. */
struct nfm_fault {
	uint64_t va;		/* virtual address being translated */
	uint64_t entry;		/* the last page-table entry read (not present / bad) */
	int level;		/* 5..1 = PGD(L5)..PTE where it stopped, 0 = physical read */
	bool swapped;		/* a non-present PTE that holds a swap entry */
};

#define NFM_TLB_BITS 12

struct nfm_tlb_entry {
	uint64_t root;
	uint64_t vpage;		/* va >> 12 */
	uint64_t ppage;		/* pa >> 12 of the 4 KiB page that holds va */
	uint64_t gen;
};

/* The guest's architecture: selects the walk and the linear mappings (x86-64 is the default). */
enum nfm_mmu_arch {
	NFM_MMU_X86_64 = 0,
	NFM_MMU_ARM64,		/* mmu_arm64.c */
};

struct nfm_mmu {
	struct nfm_source *src;
	enum nfm_mmu_arch arch;
	int levels;		/* 4 or 5 */
	uint64_t kernel_root;	/* physical address of the kernel's top-level table */
	int64_t phys_base;	/* kernel image: pa = va - START_KERNEL_MAP + phys_base */
	bool have_kimage;	/* phys_base is known */
	uint64_t page_offset;	/* direct-map base, 0 until known (arm64: PAGE_OFFSET) */
	/* arm64 only: VA bits translated (64 - T1SZ); image pa = va - kimage_voffset inside
	 * [kimage_start, kimage_end); linear map pa = va - page_offset + phys_offset (PHYS_OFFSET,
	 * modulo 2^64). */
	int va_bits;
	uint64_t kimage_voffset, kimage_start, kimage_end, phys_offset;
	uint64_t vmemmap;	/* arm64: the struct page of pfn 0 (0 when unknown) */
	uint64_t gen;
	struct nfm_fault fault;
	uint64_t walks, hits;	/* statistics */
	struct nfm_tlb_entry tlb[1u << NFM_TLB_BITS];
	bool pcache_on;		/* the source is read by system call (no direct mapping) */
	struct nfm_pcache *pcache;	/* the crawl cache (pcache.h), made on first use */
};

/* arm64 translating 52 bits: five levels and LPA2's descriptors (TCR_EL1.DS), which with 4 KiB
 * pages Linux uses exactly then. */
static inline bool nfm_mmu_lpa2(const struct nfm_mmu *mmu)
{
	return mmu->arch == NFM_MMU_ARM64 && mmu->levels == 5;
}

/* Start translating over src. The caller owns mmu (it is large: allocate it). */
void nfm_mmu_init(struct nfm_mmu *mmu, struct nfm_source *src, int levels, uint64_t kernel_root);

/*
 * Start translating an arm64 guest (4 KiB granule; 4 levels, or 5 with LPA2 when va_bits is
 * 52; kernel_root: TTBR1's table, i.e.
 * swapper_pg_dir's physical address). va_bits: the bits translated at run time (64 - T1SZ);
 * config_va_bits: VA_BITS as built (sets PAGE_OFFSET). Values as in the guest's VMCOREINFO.
 */
void nfm_mmu_init_arm64(struct nfm_mmu *mmu, struct nfm_source *src, int va_bits,
			int config_va_bits, uint64_t kernel_root, uint64_t kimage_voffset,
			uint64_t phys_offset);

/* Forget cached translations and memory (a live guest moved on). */
void nfm_mmu_flush(struct nfm_mmu *mmu);
/* The crawl is over: the page cache's copies go to the pool (nfm_pcache_idle). */
void nfm_mmu_idle(struct nfm_mmu *mmu);

/* Free what the mmu allocated (the read-ahead cache); the struct itself stays the caller's. */
void nfm_mmu_release(struct nfm_mmu *mmu);

/* Read guest-physical memory through the crawl cache. 0, -EFAULT, -EIO. */
int nfm_mmu_read_phys(struct nfm_mmu *mmu, uint64_t pa, void *buf, size_t len);

/*
 * Translate va through the page tables rooted at physical address root (no fast paths).
 * Returns 0 and *pa, or -EFAULT (details in mmu->fault), -EIO on a failed table read.
 */
int nfm_mmu_walk(struct nfm_mmu *mmu, uint64_t root, uint64_t va, uint64_t *pa);

/* Translate a kernel virtual address: linear fast paths, then the kernel page tables. */
int nfm_mmu_kva_to_pa(struct nfm_mmu *mmu, uint64_t va, uint64_t *pa);

/* Read kernel virtual memory, page by page where it is not linear. 0, -EFAULT, -EIO. */
int nfm_mmu_read_kva(struct nfm_mmu *mmu, uint64_t va, void *buf, size_t len);

/*
 * Read a process's virtual memory through its page tables (root: physical address of its PGD).
 * 0, -EFAULT (not mapped or not resident; mmu->fault.swapped says whether it was swapped out).
 */
int nfm_mmu_read_uva(struct nfm_mmu *mmu, uint64_t root, uint64_t va, void *buf, size_t len);

/*
 * Bits of a user address: 47 on x86-64 (TASK_SIZE as nfm has always taken it, 4-level), VA_BITS
 * (48) on arm64, where user stacks sit just below 2^48.
 */
static inline int nfm_mmu_user_bits(const struct nfm_mmu *mmu)
{
	return mmu->arch == NFM_MMU_ARM64 ? mmu->va_bits : 47;
}

/* Is va canonical for this paging mode, and in the kernel half? */
bool nfm_mmu_is_kernel_va(const struct nfm_mmu *mmu, uint64_t va);

#endif
