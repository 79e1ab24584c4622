// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Finding the kernel in guest memory with no outside help: VMCOREINFO (built by every distro
 * kernel at boot), which gives the page-table root, KASLR and phys_base, and the kallsyms tables;
 * then kallsyms and the kernel's own BTF.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/btf_early.h"
#include "core/btf_file.h"
#include "core/context.h"
#include "source/source.h"

#define PAGE_SIZE 4096u
/* Page starts probed per batched read. */
#define SCAN_BATCH 512u
/* Bytes probed at each page start: the ELF note header (24) and the first key (10) fit. */
#define PROBE_BYTES 64u


bool nfm_discover_confirm(struct nfm_ctx *ctx)
{
	if (nfm_source_settle(ctx->src) > 0) {
		nfm_dbg(&ctx->log, "the guest RAM layout QMP gives differs from the guess: again");
		return false;
	}
	if (ctx->vmci && ctx->mmu->kernel_root && !nfm_discover_running_kernel(ctx, ctx->mmu)) {
		nfm_dbg(&ctx->log, "VMCOREINFO at %#llx is not the running kernel's: again",
			(unsigned long long)ctx->vmcoreinfo_pa);
		return false;
	}
	return true;
}

/* Parse and validate a candidate page; on success it becomes the context's VMCOREINFO. */
static int try_candidate(struct nfm_ctx *ctx, const char *text, size_t len, uint64_t pa)
{
	struct nfm_vmcoreinfo *vi;
	int ret;

	if (nfm_vmcoreinfo_parse(text, len, &vi) < 0)
		return -EBADMSG;
	ret = nfm_discover_is_arm64(vi) ? nfm_discover_arm64_validate(ctx, vi, ctx->mmu)
					: nfm_discover_x86_64_validate(ctx, vi, ctx->mmu);
	if (ret < 0) {
		nfm_dbg(&ctx->log, "VMCOREINFO candidate at %#llx does not match this memory",
			(unsigned long long)pa);
		nfm_vmcoreinfo_free(vi);
		return ret;
	}
	ctx->vmci = vi;
	ctx->vmcoreinfo_pa = pa;
	return 0;
}

static int try_page(struct nfm_ctx *ctx, uint64_t pa)
{
	static_assert(NFM_VMCOREINFO_MAX <= PAGE_SIZE, "VMCOREINFO fits one page");
	uint8_t *page = malloc(PAGE_SIZE);
	size_t off, len;
	int ret = -EBADMSG;

	if (!page)
		return -ENOMEM;
	if (nfm_source_read_phys(ctx->src, pa, page, PAGE_SIZE) == 0 &&
	    nfm_vmcoreinfo_match(page, PAGE_SIZE, &off, &len) == 0)
		ret = try_candidate(ctx, (const char *)page + off, len, pa);
	free(page);
	return ret;
}

/* One scan batch: up to SCAN_BATCH pages from pa on. */
struct batch {
	uint64_t pa, npages;
};

/*
 * Probe one batch; 1 when a valid VMCOREINFO was taken, 0 when none, -errno. From a live QEMU,
 * runs of resident pages are read whole, one piece per run: a 4 KiB copy costs less than a page
 * pin per 64-byte probe, so a batch takes about half the time of one probe per page.
 */
static int scan_batch(struct nfm_ctx *ctx, const struct batch *b, struct nfm_phys_iov *iov,
		      uint8_t *pages)
{
	uint8_t resident[SCAN_BATCH / 8];
	bool have_bitmap = nfm_source_resident(ctx->src, b->pa, b->npages, resident) == 0;
	/* A mapped source (a dump, shared RAM) costs nothing per piece: copy just the probes. */
	bool mapped = ctx->src->map != NULL;
	size_t i, n = 0;

	for (i = 0; i < b->npages; i++) {
		/* Pages the host never touched hold nothing (and reading a shared file's hole
		 * would make the host allocate it). */
		if (have_bitmap && !(resident[i / 8] & (1u << (i % 8))))
			continue;
		if (!mapped && n && iov[n - 1].pa + iov[n - 1].len == b->pa + i * PAGE_SIZE) {
			iov[n - 1].len += PAGE_SIZE;
			continue;
		}
		iov[n++] = (struct nfm_phys_iov){ .pa = b->pa + i * PAGE_SIZE,
						  .buf = pages + i * PAGE_SIZE,
						  .len = mapped ? PROBE_BYTES : PAGE_SIZE };
	}
	if (!n)
		return 0;
	nfm_source_read_phys_vec(ctx->src, iov, n);
	for (size_t r = 0; r < n; r++) {
		if (iov[r].err)
			continue;
		for (uint64_t off = 0; off < iov[r].len; off += mapped ? iov[r].len : PAGE_SIZE) {
			size_t mo, ml;

			if (nfm_vmcoreinfo_match((uint8_t *)iov[r].buf + off, PROBE_BYTES, &mo,
						 &ml) < 0)
				continue;
			if (try_page(ctx, iov[r].pa + off) == 0)
				return 1;
		}
	}
	return 0;
}

/*
 * Where the scan looks first. The kernel allocates its VMCOREINFO pages early in boot, when
 * the page allocator hands out the lowest pages of the highest zone, or the last fragments
 * below the memblock allocations at the top of RAM (the struct page array, 1/64 of RAM). In
 * 22 boots of 512 MiB to 8 GiB lab guests (6.1 and 6.12) they were 2-4 MiB above 16 MiB
 * (ZONE_DMA32) or 4 GiB (ZONE_NORMAL), or 2-4 MiB below the struct pages, but for two (in the
 * middle of an 8 GiB guest).
 */
struct cursor {
	size_t next;	/* batch index */
	int dir;	/* +1 up, -1 down, 0 done */
};

/* The batch holding pa, or the first one above it. */
static size_t batch_at(const struct batch *b, size_t nb, uint64_t pa)
{
	size_t lo = 0, hi = nb;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b[mid].pa + b[mid].npages * PAGE_SIZE <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The cursor's next batch not yet probed (marking it), or nb when it has none. */
static size_t cursor_step(struct cursor *c, bool *seen, size_t nb)
{
	while (c->dir && c->next < nb && seen[c->next])
		c->next += (size_t)c->dir;	/* wraps past 0 to SIZE_MAX: >= nb */
	if (!c->dir || c->next >= nb) {
		c->dir = 0;
		return nb;
	}
	seen[c->next] = true;
	return c->next;
}

/*
 * Probe the start of every resident guest page, from the likely places outwards (one batch
 * from each in turn), then everything not probed yet. The scan stops at the first copy that
 * validates, so it usually reads a few batches whatever the guest's size; the worst case reads
 * every resident page once.
 */
static int scan_ram(struct nfm_ctx *ctx)
{
	/* The layout as known now (not settled: QMP may still be answering, see nfm_source_settle). */
	const struct nfm_source_range *ranges = ctx->src->ranges;
	struct nfm_phys_iov *iov;
	uint8_t *pages;
	struct batch *batches = NULL;
	struct cursor cur[3];
	bool *seen = NULL;
	size_t nb = 0, cap = 0, k, i, active, r, nr = ctx->src->nr_ranges;
	uint64_t total = 0, top = 0;
	int ret = -ENOENT, found = 0;

	iov = calloc(SCAN_BATCH, sizeof(*iov));
	pages = malloc((size_t)SCAN_BATCH * PAGE_SIZE);
	if (!iov || !pages) {
		ret = -ENOMEM;
		goto out;
	}
	for (r = 0; r < nr; r++) {
		uint64_t start = (ranges[r].start + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
		uint64_t end = ranges[r].start + ranges[r].size, pa;

		total += ranges[r].size;
		if (end > top)
			top = end;
		for (pa = start; pa + PAGE_SIZE <= end; pa += (uint64_t)SCAN_BATCH * PAGE_SIZE) {
			uint64_t npages = (end - pa) / PAGE_SIZE;

			if (nb == cap) {
				struct batch *nbuf;

				cap = cap ? cap * 2 : 1024;
				nbuf = realloc(batches, cap * sizeof(*batches));
				if (!nbuf) {
					ret = -ENOMEM;
					goto out;
				}
				batches = nbuf;
			}
			batches[nb++] = (struct batch){ .pa = pa,
							.npages = npages > SCAN_BATCH ? SCAN_BATCH : npages };
		}
	}
	seen = calloc(nb ? nb : 1, sizeof(*seen));
	if (!seen) {
		ret = -ENOMEM;
		goto out;
	}
	cur[0] = (struct cursor){ batch_at(batches, nb, 16ull << 20), 1 };
	cur[1] = (struct cursor){ batch_at(batches, nb, 4ull << 30), top > (4ull << 30) ? 1 : 0 };
	i = batch_at(batches, nb, top - total / 64);
	cur[2] = (struct cursor){ i < nb ? i : nb - 1, nb ? -1 : 0 };
	for (active = 3; active && !found;) {
		active = 0;
		for (k = 0; k < 3 && !found; k++) {
			i = cursor_step(&cur[k], seen, nb);
			if (i == nb)
				continue;
			active++;
			found = scan_batch(ctx, &batches[i], iov, pages);
		}
	}
	for (i = 0; i < nb && !found; i++)
		if (!seen[i])
			found = scan_batch(ctx, &batches[i], iov, pages);
	ret = found < 0 ? found : found ? 0 : -ENOENT;
out:
	free(seen);
	free(batches);
	free(iov);
	free(pages);
	return ret;
}

int nfm_discover_kernel(struct nfm_ctx *ctx, const char *system_map)
{
	char *note = NULL;
	size_t len = 0;
	int ret;

	/* A dump may carry VMCOREINFO in a note (QEMU with -device vmcoreinfo, kdump). */
	if (nfm_source_vmcoreinfo(ctx->src, &note, &len) == 0) {
		ret = try_candidate(ctx, note, len, 0);
		free(note);
		if (ret == 0) {
			snprintf(ctx->vmcoreinfo_how, sizeof(ctx->vmcoreinfo_how), "dump note");
			goto found;
		}
	}
	ret = scan_ram(ctx);
	if (ret == -ENOENT && system_map) {
		ret = nfm_discover_fallback(ctx, system_map);
		if (ret == 0)
			return 0;
		nfm_err(&ctx->log, "no Linux kernel found in guest memory (no valid VMCOREINFO, and "
			"no kernel page tables matching %s)", system_map);
		return ret;
	}
	if (ret < 0) {
		if (ret == -ENOENT)
			nfm_err(&ctx->log, "no Linux kernel found in guest memory (no valid VMCOREINFO; "
				"for a kernel built without it, give --system-map)");
		else
			nfm_err(&ctx->log, "reading guest memory failed: %s", strerror(-ret));
		return ret;
	}
	snprintf(ctx->vmcoreinfo_how, sizeof(ctx->vmcoreinfo_how), "scan of guest RAM at %#llx",
		 (unsigned long long)ctx->vmcoreinfo_pa);
found:
	nfm_vmcoreinfo_kerneloffset(ctx->vmci, &ctx->kaslr_offset);
	return 0;
}

static int read_kva_cb(void *ud, uint64_t va, void *buf, size_t len)
{
	return nfm_mmu_read_kva(ud, va, buf, len);
}

/* The kernel image is physically contiguous: read it by its linear mapping, holes and all. */
static int read_kimage_cb(void *ud, uint64_t va, void *buf, size_t len)
{
	struct nfm_ctx *ctx = ud;

	if (va < NFM_X86_START_KERNEL_MAP || len > NFM_X86_KIMAGE_END - va)
		return -EFAULT;
	return nfm_source_read_phys(ctx->src, va - NFM_X86_START_KERNEL_MAP +
				    (uint64_t)ctx->mmu->phys_base, buf, len);
}

/*
 * Before 6.0 VMCOREINFO does not locate kallsyms: find the tables by their structure between
 * the start of the kernel's text and its data (init_uts_ns, swapper_pg_dir are in .data; the
 * tables in .rodata between).
 */
static int locate_kallsyms(struct nfm_ctx *ctx, uint64_t stext, struct nfm_kallsyms_tables *t)
{
	uint64_t lo = stext, hi = 0, v;
	struct timespec a, b;
	int ret;

	if (!lo)
		lo = 0xffffffff81000000ull + ctx->kaslr_offset;
	if (nfm_vmcoreinfo_symbol(ctx->vmci, "init_uts_ns", &v) == 0)
		hi = v;
	if ((nfm_vmcoreinfo_symbol(ctx->vmci, "swapper_pg_dir", &v) == 0 ||
	     nfm_vmcoreinfo_symbol(ctx->vmci, "init_top_pgt", &v) == 0) && v > hi)
		hi = v;
	if (hi <= lo)
		return -ENOENT;
	if (hi - lo > NFM_KALLSYMS_LOCATE_MAX)
		lo = hi - NFM_KALLSYMS_LOCATE_MAX;
	clock_gettime(CLOCK_MONOTONIC, &a);
	ret = nfm_kallsyms_locate(read_kimage_cb, ctx, lo, hi, t);
	clock_gettime(CLOCK_MONOTONIC, &b);
	nfm_dbg(&ctx->log, "kallsyms structural scan of %#llx-%#llx: %s in %.1f ms",
		(unsigned long long)lo, (unsigned long long)hi, ret ? strerror(-ret) : "found",
		(double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
	return ret;
}

/*
 * Tables found by the scan must name what VMCOREINFO names: init_uts_ns, and the kernel's
 * top-level page table (VMCOREINFO says swapper_pg_dir; on x86-64 that is a macro for
 * init_top_pgt, the name kallsyms has).
 */
static bool kallsyms_agree(struct nfm_ctx *ctx)
{
	uint64_t want, got;

	if (nfm_vmcoreinfo_symbol(ctx->vmci, "init_uts_ns", &want) < 0 ||
	    nfm_kallsyms_lookup(ctx->ks, "init_uts_ns", &got) < 0 || got != want)
		return false;
	if (nfm_vmcoreinfo_symbol(ctx->vmci, "swapper_pg_dir", &want) < 0 &&
	    nfm_vmcoreinfo_symbol(ctx->vmci, "init_top_pgt", &want) < 0)
		return false;
	return (nfm_kallsyms_lookup(ctx->ks, "init_top_pgt", &got) == 0 && got == want) ||
	       (nfm_kallsyms_lookup(ctx->ks, "swapper_pg_dir", &got) == 0 && got == want);
}

static const char *encoding_name(enum nfm_kallsyms_encoding e)
{
	switch (e) {
	case NFM_KALLSYMS_ABSOLUTE: return "absolute";
	case NFM_KALLSYMS_BASE_RELATIVE: return "base-relative";
	case NFM_KALLSYMS_ABSOLUTE_PERCPU: return "absolute-percpu";
	case NFM_KALLSYMS_PLACE_RELATIVE: return "place-relative";
	}
	return "?";
}

static void btf_bounds_found(void *ud, const uint64_t *addrs)
{
	nfm_btf_early_start(ud, addrs[0], addrs[1]);
}

int nfm_discover_symbols(struct nfm_ctx *ctx, const char *system_map, const char *btf_path)
{
	static const char *const btf_names[] = { "__start_BTF", "__stop_BTF", NULL };
	const struct nfm_kallsyms_early early = { .names = btf_names, .found = btf_bounds_found,
						  .ud = ctx };
	struct nfm_kallsyms_tables t = { 0 };
	uint64_t stext = 0, pob;
	bool scanned = false;
	int ret;

	if (ctx->ks) {
		/* The fallback discovery loaded System.map already. */
	} else if (system_map) {
		ret = nfm_kallsyms_load_system_map(system_map, ctx->kaslr_offset, &ctx->ks);
		if (ret < 0) {
			nfm_err(&ctx->log, "%s: cannot read System.map: %s", system_map, strerror(-ret));
			return ret;
		}
		snprintf(ctx->symbols_how, sizeof(ctx->symbols_how), "System.map");
	} else {
		struct {
			const char *name;
			uint64_t *dst;
		} *p, syms[] = {
			{ "kallsyms_names", &t.names },
			{ "kallsyms_num_syms", &t.num_syms },
			{ "kallsyms_token_table", &t.token_table },
			{ "kallsyms_token_index", &t.token_index },
			{ "kallsyms_markers", &t.markers },
			{ "kallsyms_offsets", &t.offsets },
			{ "kallsyms_relative_base", &t.relative_base },
			{ "kallsyms_addresses", &t.addresses },
			{ NULL, NULL },
		};

		for (p = syms; p->name; p++)
			nfm_vmcoreinfo_symbol(ctx->vmci, p->name, p->dst);
		nfm_vmcoreinfo_symbol(ctx->vmci, "_stext", &stext);
		if (!t.names || !t.num_syms || !t.token_table || !t.token_index) {
			memset(&t, 0, sizeof(t));
			if (locate_kallsyms(ctx, stext, &t) < 0) {
				nfm_err(&ctx->log, "this kernel's VMCOREINFO does not locate kallsyms "
					"(Linux < 6.0?) and no kallsyms tables were found in its "
					"image; give --system-map");
				return -ENOENT;
			}
			scanned = true;
		}
		ret = nfm_kallsyms_load_early(read_kva_cb, ctx->mmu, &t, stext,
					      btf_path ? NULL : &early, &ctx->ks);
		if (ret < 0) {
			nfm_err(&ctx->log, "cannot decode the guest's kallsyms: %s", strerror(-ret));
			return ret;
		}
		if (scanned && !kallsyms_agree(ctx)) {
			nfm_kallsyms_free(ctx->ks);
			ctx->ks = NULL;
			nfm_err(&ctx->log, "the kallsyms tables found in the kernel image do not agree "
				"with VMCOREINFO; give --system-map");
			return -EBADMSG;
		}
		snprintf(ctx->symbols_how, sizeof(ctx->symbols_how), "kallsyms, %s (%s%s)",
			 scanned ? "structural scan" : "VMCOREINFO",
			 encoding_name(nfm_kallsyms_encoding(ctx->ks)),
			 nfm_kallsyms_lazy(ctx->ks) ? ", name index" : "");
	}
	if (ctx->mmu->arch == NFM_MMU_ARM64) {
		/* PAGE_OFFSET came with VMCOREINFO; the image bounds come from kallsyms. */
		nfm_discover_arm64_kimage(ctx);
		return 0;
	}
	/* The direct map's base is randomized (RANDOMIZE_MEMORY); the kernel keeps it here. */
	if (nfm_kallsyms_lookup(ctx->ks, "page_offset_base", &pob) == 0 &&
	    nfm_kread_u64(ctx, pob, &ctx->mmu->page_offset) == 0 &&
	    nfm_mmu_is_kernel_va(ctx->mmu, ctx->mmu->page_offset))
		return 0;
	ctx->mmu->page_offset = ctx->mmu->levels == 5 ? 0xff11000000000000ull : 0xffff888000000000ull;
	return 0;
}

int nfm_discover_btf(struct nfm_ctx *ctx, const char *btf_path)
{
	uint64_t start, stop;
	void *blob;
	int ret;

	if (btf_path) {
		ret = nfm_btf_from_file(ctx, btf_path);
		if (ret < 0)
			return ret;
		/* arm64 without KALLSYMS_ALL still needs its data symbols from the image */
		if (ctx->mmu->arch == NFM_MMU_ARM64 &&
		    nfm_kallsyms_lookup(ctx->ks, "init_task", &start) < 0)
			nfm_arm64_discover_data(ctx, NULL);
		return 0;
	}
	/* Loaded on a second thread during the kallsyms decode, if that could start it. */
	ret = nfm_btf_early_join(ctx, &ctx->btf);
	if (ret == 0) {
		snprintf(ctx->btf_how, sizeof(ctx->btf_how), "guest memory (__start_BTF)");
		return 0;
	}
	if (ret != -ENOENT)
		nfm_dbg(&ctx->log, "BTF read early failed (%s): reading it again", strerror(-ret));
	if (ctx->mmu->arch == NFM_MMU_ARM64 &&
	    nfm_kallsyms_lookup(ctx->ks, "__start_BTF", &start) < 0) {
		/* No data symbols in kallsyms (no KALLSYMS_ALL): find BTF and init_task by shape. */
		ret = nfm_arm64_discover_data(ctx, &ctx->btf);
		if (ret < 0) {
			nfm_err(&ctx->log, "no BTF found in this arm64 kernel's image; give --btf");
			return ret;
		}
		snprintf(ctx->btf_how, sizeof(ctx->btf_how), "guest memory (scan of the image)");
		return 0;
	}
	if (nfm_kallsyms_lookup(ctx->ks, "__start_BTF", &start) < 0 ||
	    nfm_kallsyms_lookup(ctx->ks, "__stop_BTF", &stop) < 0) {
		char tried[1024];
		const char *rel = ctx->vmci ? nfm_vmcoreinfo_get(ctx->vmci, "OSRELEASE") : NULL;

		if (nfm_btf_find_file(ctx, tried, sizeof(tried)) == 0)
			return 0;
		nfm_err(&ctx->log, "this kernel (%s) has no BTF (CONFIG_DEBUG_INFO_BTF): give --btf FILE "
			"(pahole --btf_encode_detached FILE vmlinux, from its debug vmlinux) or put "
			"%s.btf in $NFM_BTF_PATH%s%s", rel ? rel : "?", rel ? rel : "RELEASE",
			tried[0] ? "; not usable: " : "", tried);
		return -ENOENT;
	}
	if (stop <= start || stop - start > NFM_BTF_MAX_BYTES) {
		nfm_err(&ctx->log, "the guest's BTF bounds are implausible");
		return -EBADMSG;
	}
	blob = malloc(stop - start);
	if (!blob)
		return -ENOMEM;
	ret = nfm_kread(ctx, start, blob, stop - start);
	if (ret == 0)
		ret = nfm_btf_new(blob, stop - start, &ctx->btf);
	free(blob);
	if (ret < 0) {
		nfm_err(&ctx->log, "cannot read the guest's BTF: %s", strerror(-ret));
		return ret;
	}
	snprintf(ctx->btf_how, sizeof(ctx->btf_how), "guest memory (__start_BTF)");
	return 0;
}
