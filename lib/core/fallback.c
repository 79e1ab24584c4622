// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Attach without VMCOREINFO (a kernel built without CONFIG_VMCORE_INFO, or a guest that scribbled
 * over it), given a System.map. The page-table root comes from a dump's QEMU CPU notes (CR3) or,
 * failing that, from a scan of guest RAM for a page that looks like the kernel's top-level table.
 * The kernel image's 2 MiB mappings then give KASLR and phys_base: early boot clears every
 * level2_kernel_pgt entry outside _text.._end (cleanup_highmap), so the first present entry is
 * _text. The result is checked by reading init_uts_ns back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "source/source.h"

#define PAGE_SIZE 4096u
#define P 0x1ull
#define PS 0x80ull
#define ADDR_MASK 0x000ffffffffff000ull
#define SCAN_BATCH 512u
/* Where _text sits before KASLR (LOAD_PHYSICAL_ADDR + START_KERNEL_MAP) unless System.map says. */
#define DEFAULT_TEXT 0xffffffff81000000ull
#define MAX_CANDIDATES 64

static int read_entry(struct nfm_ctx *ctx, uint64_t table, unsigned int idx, uint64_t *e)
{
	return nfm_source_read_phys(ctx->src, (table & ADDR_MASK) + idx * 8ull, e, 8);
}

/*
 * Given a candidate top-level table (4-level), find the kernel image: PGD[511] -> PUD[510] ->
 * the first present 2 MiB PMD entry is _text. Returns 0 with *text_va and *text_pa.
 */
static int find_kernel_image(struct nfm_ctx *ctx, uint64_t root, uint64_t *text_va, uint64_t *text_pa)
{
	uint64_t pgd, pud, pmd[512];
	unsigned int i;

	if (read_entry(ctx, root, 511, &pgd) < 0 || !(pgd & P) || (pgd & PS))
		return -ENOENT;
	if (read_entry(ctx, pgd, 510, &pud) < 0 || !(pud & P) || (pud & PS))
		return -ENOENT;
	if (nfm_source_read_phys(ctx->src, pud & ADDR_MASK, pmd, sizeof(pmd)) < 0)
		return -ENOENT;
	for (i = 0; i < 512; i++) {
		if (!(pmd[i] & P))
			continue;
		if (!(pmd[i] & PS))
			return -ENOENT;	/* the image is mapped with 2 MiB pages */
		*text_va = NFM_X86_START_KERNEL_MAP + (uint64_t)i * (2u << 20);
		*text_pa = pmd[i] & ADDR_MASK & ~((2ull << 20) - 1);
		return 0;
	}
	return -ENOENT;
}

/* Check a candidate translation by reading init_uts_ns's sysname through it. */
static bool uts_looks_right(struct nfm_ctx *ctx, struct nfm_kallsyms *ks)
{
	uint64_t uts;
	char buf[80];
	size_t off;

	if (nfm_kallsyms_lookup(ks, "init_uts_ns", &uts) < 0 ||
	    nfm_mmu_read_kva(ctx->mmu, uts, buf, sizeof(buf)) < 0)
		return false;
	for (off = 0; off + 6 <= 16; off += 4)
		if (!memcmp(buf + off, "Linux\0", 6))
			return true;
	return false;
}

static int try_root(struct nfm_ctx *ctx, uint64_t root, const char *system_map)
{
	uint64_t text_va, text_pa, map_text = DEFAULT_TEXT;
	struct nfm_kallsyms *ks = NULL;
	int ret;

	if (find_kernel_image(ctx, root, &text_va, &text_pa) < 0)
		return -ENOENT;
	ret = nfm_kallsyms_load_system_map(system_map, 0, &ks);
	if (ret < 0)
		return ret;
	nfm_kallsyms_lookup(ks, "_text", &map_text);
	nfm_kallsyms_free(ks);
	ks = NULL;

	ctx->kaslr_offset = text_va - map_text;
	nfm_mmu_init(ctx->mmu, ctx->src, 4, root & ADDR_MASK);
	ctx->mmu->phys_base = (int64_t)(text_pa - (text_va - NFM_X86_START_KERNEL_MAP));
	ctx->mmu->have_kimage = true;
	ret = nfm_kallsyms_load_system_map(system_map, ctx->kaslr_offset, &ks);
	if (ret < 0)
		return ret;
	if (!uts_looks_right(ctx, ks)) {
		nfm_kallsyms_free(ks);
		return -ENOENT;
	}
	ctx->ks = ks;
	snprintf(ctx->symbols_how, sizeof(ctx->symbols_how), "System.map");
	return 0;
}

/* Pages whose last entry (PGD[511]) is a present, non-huge table entry within RAM. */
static int scan_roots(struct nfm_ctx *ctx, const char *system_map)
{
	const struct nfm_phys_range *ranges;
	struct nfm_phys_iov *iov = calloc(SCAN_BATCH, sizeof(*iov));
	uint64_t *last = calloc(SCAN_BATCH, sizeof(*last));
	uint64_t ram = nfm_source_ram_size(ctx->src);
	int nr = nfm_source_ranges(ctx->src, &ranges), r, ret = -ENOENT;
	unsigned int tried = 0;

	if (!iov || !last) {
		ret = -ENOMEM;
		goto out;
	}
	for (r = 0; r < nr && ret; r++) {
		uint64_t end = ranges[r].start + ranges[r].size, pa;

		for (pa = (ranges[r].start + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
		     pa + PAGE_SIZE <= end && ret; pa += (uint64_t)SCAN_BATCH * PAGE_SIZE) {
			size_t i, n = 0;

			for (i = 0; i < SCAN_BATCH && pa + (i + 1) * PAGE_SIZE <= end; i++, n++)
				iov[n] = (struct nfm_phys_iov){ .pa = pa + i * PAGE_SIZE + 511 * 8,
								.buf = &last[n], .len = 8 };
			nfm_source_read_phys_vec(ctx->src, iov, n);
			for (i = 0; i < n; i++) {
				uint64_t e = last[i];

				/* Present, writable, a table (not PS), no odd flag bits. */
				if (iov[i].err || (e & 0xf83) != 0x003 || (e & ADDR_MASK) > ram * 2)
					continue;
				if (++tried > 4096)
					goto out;
				if (try_root(ctx, iov[i].pa - 511 * 8, system_map) == 0) {
					ret = 0;
					break;
				}
			}
		}
	}
out:
	free(iov);
	free(last);
	return ret;
}

int nfm_discover_fallback(struct nfm_ctx *ctx, const char *system_map)
{
	struct nfm_cpu_state cpu;
	unsigned int i;

	for (i = 0; i < MAX_CANDIDATES && nfm_source_cpu_state(ctx->src, i, &cpu) == 0; i++) {
		/* With page-table isolation CR3 may hold the user copy: the kernel's is the even page. */
		if (try_root(ctx, cpu.cr3 & ADDR_MASK & ~0x1fffull, system_map) == 0 ||
		    try_root(ctx, cpu.cr3 & ADDR_MASK, system_map) == 0) {
			snprintf(ctx->vmcoreinfo_how, sizeof(ctx->vmcoreinfo_how),
				 "none; CR3 from the dump's CPU notes");
			return 0;
		}
	}
	if (scan_roots(ctx, system_map) == 0) {
		snprintf(ctx->vmcoreinfo_how, sizeof(ctx->vmcoreinfo_how),
			 "none; page-table scan found the kernel PGD");
		return 0;
	}
	return -ENOENT;
}
