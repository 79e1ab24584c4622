// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Discovery of an x86-64 kernel from its VMCOREINFO: the page-table root and phys_base it
 * names, checked against init_uts_ns and, when the source knows it, CPU 0's CR3.
 */
#include <errno.h>
#include <string.h>

#include "core/context.h"
#include "source/source.h"

/*
 * When the source knows CPU 0's CR3 (a dump's CPU notes, a live QEMU's QMP socket), the kernel
 * half of the page tables the CPU runs on must be this candidate's: after a reset the previous
 * kernel's VMCOREINFO and page tables are still in RAM and validate on their own. The kernel
 * mapping is the top-level entry 511 (the same in every process's PGD; with page-table isolation
 * CR3 may point at the user copy, the odd page of the pair).
 */
bool nfm_discover_running_kernel(struct nfm_ctx *ctx, struct nfm_mmu *mmu)
{
	const uint64_t mask = 0x000ffffffffff000ull;
	uint64_t mine, theirs, cr3;
	struct nfm_cpu_state cpu;

	if (mmu->arch != NFM_MMU_X86_64)
		return true;	/* CR3 is x86's; arm64's TTBR1 is not compared yet */
	if (nfm_source_cpu_state(ctx->src, 0, &cpu) < 0)
		return true;	/* nothing to compare with */
	cr3 = cpu.cr3 & mask;
	if (nfm_source_read_phys(ctx->src, mmu->kernel_root + 511 * 8, &mine, 8) < 0)
		return false;
	if (nfm_source_read_phys(ctx->src, (cr3 & ~0x1fffull) + 511 * 8, &theirs, 8) == 0 &&
	    (theirs & mask) == (mine & mask))
		return true;
	return nfm_source_read_phys(ctx->src, cr3 + 511 * 8, &theirs, 8) == 0 &&
	       (theirs & mask) == (mine & mask);
}

/*
 * Does this VMCOREINFO describe the kernel in this memory? Build the translation it implies and
 * read init_uts_ns back through it: the release there must be the OSRELEASE it claims. Stale
 * copies (left by an earlier kernel over kexec) fail here.
 */
int nfm_discover_x86_64_validate(struct nfm_ctx *ctx, struct nfm_vmcoreinfo *vi, struct nfm_mmu *mmu)
{
	const char *release = nfm_vmcoreinfo_get(vi, "OSRELEASE");
	uint64_t pgd_va, uts, lin_pa;
	int64_t phys_base = 0, l5 = 0;

	if (!release || !*release || strlen(release) > 64)
		return -EBADMSG;
	if (nfm_vmcoreinfo_symbol(vi, "swapper_pg_dir", &pgd_va) < 0 &&
	    nfm_vmcoreinfo_symbol(vi, "init_top_pgt", &pgd_va) < 0)
		return -EBADMSG;
	if (nfm_vmcoreinfo_symbol(vi, "init_uts_ns", &uts) < 0)
		return -EBADMSG;
	nfm_vmcoreinfo_number(vi, "phys_base", &phys_base);
	nfm_vmcoreinfo_number(vi, "pgtable_l5_enabled", &l5);
	if (pgd_va < NFM_X86_START_KERNEL_MAP || pgd_va >= NFM_X86_KIMAGE_END ||
	    uts < NFM_X86_START_KERNEL_MAP || uts >= NFM_X86_KIMAGE_END)
		return -EBADMSG;

	nfm_mmu_init(mmu, ctx->src, l5 == 1 ? 5 : 4,
		     pgd_va - NFM_X86_START_KERNEL_MAP + (uint64_t)phys_base);
	mmu->phys_base = phys_base;
	mmu->have_kimage = true;

	lin_pa = uts - NFM_X86_START_KERNEL_MAP + (uint64_t)phys_base;
	if (nfm_discover_check_uts(mmu, uts, release, lin_pa) < 0)
		return -EBADMSG;
	return ctx->cpu_check_deferred || nfm_discover_running_kernel(ctx, mmu) ? 0 : -EBADMSG;
}
