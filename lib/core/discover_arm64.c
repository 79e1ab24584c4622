// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Discovery of an arm64 kernel from its VMCOREINFO. arm64's arch_crash_save_vmcoreinfo() adds
 * NUMBER(VA_BITS), NUMBER(kimage_voffset), NUMBER(PHYS_OFFSET) and NUMBER(TCR_EL1_T1SZ) (hex,
 * 0x-prefixed) to the generic lines; swapper_pg_dir is in the kernel image, so its physical
 * address is its virtual one minus kimage_voffset.
 */
#include <errno.h>
#include <string.h>

#include "core/context.h"

bool nfm_discover_is_arm64(const struct nfm_vmcoreinfo *vi)
{
	int64_t v;

	return nfm_vmcoreinfo_number(vi, "kimage_voffset", &v) == 0;
}

int nfm_discover_arm64_validate(struct nfm_ctx *ctx, struct nfm_vmcoreinfo *vi,
				struct nfm_mmu *mmu)
{
	const char *release = nfm_vmcoreinfo_get(vi, "OSRELEASE");
	const char *pagesize = nfm_vmcoreinfo_get(vi, "PAGESIZE");
	int64_t va_bits = 0, voff = 0, phys_offset = 0, t1sz = 16, vmemmap_start, page_size;
	uint64_t pgd_va, uts;

	if (!release || !*release || strlen(release) > 64)
		return -EBADMSG;
	if (nfm_vmcoreinfo_symbol(vi, "swapper_pg_dir", &pgd_va) < 0 ||
	    nfm_vmcoreinfo_symbol(vi, "init_uts_ns", &uts) < 0 ||
	    nfm_vmcoreinfo_number(vi, "VA_BITS", &va_bits) < 0 ||
	    nfm_vmcoreinfo_number(vi, "kimage_voffset", &voff) < 0 ||
	    nfm_vmcoreinfo_number(vi, "PHYS_OFFSET", &phys_offset) < 0)
		return -EBADMSG;
	nfm_vmcoreinfo_number(vi, "TCR_EL1_T1SZ", &t1sz);
	/*
	 * 4 KiB pages translating 48 bits at run time (T1SZ 16, 4 levels): Debian's 6.1 (VA_BITS
	 * 48) and 6.12 (built for 52, falling back to 48 on a CPU without LPA2); or 52 bits (T1SZ
	 * 12: a 52-bit kernel on a CPU with FEAT_LPA2, which with 4 KiB pages it uses only
	 * together with LPA2's descriptors and a fifth level). 16/64 KiB granules have other
	 * tables: said, not guessed.
	 */
	if ((va_bits != 48 && va_bits != 52) || (t1sz != 16 && !(t1sz == 12 && va_bits == 52)) ||
	    (pagesize && strcmp(pagesize, "4096"))) {
		nfm_err(&ctx->log, "arm64 guest with VA_BITS=%lld, TCR_EL1_T1SZ=%lld, PAGESIZE=%s: "
			"only 4 KiB pages translating 48 or 52 bits are supported on arm64",
			(long long)va_bits, (long long)t1sz, pagesize ? pagesize : "?");
		return -EOPNOTSUPP;
	}
	nfm_mmu_init_arm64(mmu, ctx->src, 64 - (int)t1sz, (int)va_bits, pgd_va - (uint64_t)voff,
			   (uint64_t)voff, (uint64_t)phys_offset);
	/* 6.x names vmemmap; else arch/arm64/include/asm/memory.h: vmemmap = VMEMMAP_START -
	 * (memstart_addr >> PAGE_SHIFT), in struct pages (memstart_addr is signed: an arithmetic
	 * shift) */
	if (nfm_vmcoreinfo_symbol(vi, "vmemmap", &mmu->vmemmap) < 0 &&
	    nfm_vmcoreinfo_number(vi, "VMEMMAP_START", &vmemmap_start) == 0 &&
	    nfm_vmcoreinfo_size(vi, "page", &page_size) == 0 && page_size > 0 && page_size <= 256)
		mmu->vmemmap = (uint64_t)vmemmap_start -
			       (uint64_t)((phys_offset >> 12) * page_size);
	return nfm_discover_check_uts(mmu, uts, release, uts - (uint64_t)voff);
}

/* [start, end) lies in the image, mapped linearly: the walk agrees at both ends */
static bool linear_span(struct nfm_mmu *mmu, uint64_t start, uint64_t end)
{
	uint64_t pa;

	return end > start && end - start <= (1ull << 30) &&
	       nfm_mmu_walk(mmu, mmu->kernel_root, start, &pa) == 0 &&
	       pa == start - mmu->kimage_voffset &&
	       nfm_mmu_walk(mmu, mmu->kernel_root, end - 1, &pa) == 0 &&
	       pa == end - 1 - mmu->kimage_voffset;
}

void nfm_discover_arm64_kimage(struct nfm_ctx *ctx)
{
	uint64_t start, end;
	struct nfm_mmu *mmu = ctx->mmu;

	/* The image is physically contiguous from _text to _end: translate it by subtraction.
	 * Without KALLSYMS_ALL (no _text, no _end) its text at least, _stext to _etext. */
	if ((nfm_kallsyms_lookup(ctx->ks, "_text", &start) == 0 &&
	     nfm_kallsyms_lookup(ctx->ks, "_end", &end) == 0 && linear_span(mmu, start, end)) ||
	    (nfm_kallsyms_lookup(ctx->ks, "_stext", &start) == 0 &&
	     nfm_kallsyms_lookup(ctx->ks, "_etext", &end) == 0 && linear_span(mmu, start, end))) {
		mmu->kimage_start = start;
		mmu->kimage_end = end;
	}
}
