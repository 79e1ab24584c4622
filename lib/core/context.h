/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The attached context: what attach found, shared by every layer above core (walk, walkers, API). */
#ifndef NFM_LIB_CORE_CONTEXT_H
#define NFM_LIB_CORE_CONTEXT_H

#include <nfm/nfm.h>

#include "arch/mmu.h"
#include "core/budget.h"
#include "btf/btf.h"
#include "sym/kallsyms.h"
#include "sym/vmcoreinfo.h"
#include "util/log.h"

struct nfm_ctx {
	struct nfm_log log;
	struct nfm_source *src;
	struct nfm_vmcoreinfo *vmci;
	struct nfm_mmu *mmu;
	struct nfm_kallsyms *ks;
	struct nfm_btf *btf;
	uint64_t kaslr_offset;
	uint64_t vmcoreinfo_pa;
	char vmcoreinfo_how[64], symbols_how[64], btf_how[64];
	double attach_ms;
	struct nfm_kernel *kernel;	/* walkers' resolved offsets and caches (core/slot.h) */
	struct nfm_btf_early *btf_early;	/* BTF being loaded on a second thread (btf_early.c) */
	/* VMCOREINFO candidates are taken without comparing CPU 0's page tables (the QMP session
	 * that tells them may still be running); nfm_discover_confirm() compares at the end. */
	bool cpu_check_deferred;
	struct nfm_budget budget;	/* steps left to this command's walks (core/budget.h) */
	/* arm64 without KALLSYMS_ALL (ksyms_arm64.c): init_task (0: unknown) and the exports */
	uint64_t arm64_init_task;
	struct nfm_arm64_export *arm64_exports;
	size_t arm64_nr_exports;
	struct nfm_ksym_cache *ksym_cache;	/* nfm_ksym's answers (ksym.c) */
};

/* Forget nfm_ksym's answers (ksym.c). */
void nfm_ksym_cache_free(struct nfm_ctx *ctx);

/* Discovery steps (discover.c): VMCOREINFO and page tables; kallsyms; BTF. */
int nfm_discover_kernel(struct nfm_ctx *ctx, const char *system_map);
/* discover_uts.c: does init_uts_ns at uts hold "Linux" and release, and do the page tables map
 * it at lin_pa (the image's linear translation)? Then the VMCOREINFO belongs to this memory. */
int nfm_discover_check_uts(struct nfm_mmu *mmu, uint64_t uts, const char *release,
			   uint64_t lin_pa);
/* x86-64 (discover_x86_64.c): build and check the translation vi implies; is it the one CPU 0
 * runs on (true when the source cannot tell, or on arm64)? */
int nfm_discover_x86_64_validate(struct nfm_ctx *ctx, struct nfm_vmcoreinfo *vi,
				 struct nfm_mmu *mmu);
bool nfm_discover_running_kernel(struct nfm_ctx *ctx, struct nfm_mmu *mmu);
/* arm64 (discover_arm64.c): is vi an arm64 VMCOREINFO; build and check its translation; after
 * kallsyms, the kernel image's bounds for the linear fast path. */
bool nfm_discover_is_arm64(const struct nfm_vmcoreinfo *vi);
int nfm_discover_arm64_validate(struct nfm_ctx *ctx, struct nfm_vmcoreinfo *vi,
				struct nfm_mmu *mmu);
void nfm_discover_arm64_kimage(struct nfm_ctx *ctx);
/* arm64 kernels without KALLSYMS_ALL (ksyms_arm64.c): a data symbol from VMCOREINFO or found by
 * shape; the vmlinux BTF by its header in the image; exported symbols; init_task. */
int nfm_arm64_ksym(struct nfm_ctx *ctx, const char *name, uint64_t *addr);
/* One read of the image: the BTF (when btf is not NULL), the exports, init_task. */
int nfm_arm64_discover_data(struct nfm_ctx *ctx, struct nfm_btf **btf);
void nfm_arm64_free(struct nfm_ctx *ctx);
/* No VMCOREINFO: page tables from CPU notes or a RAM scan, symbols from System.map. */
int nfm_discover_fallback(struct nfm_ctx *ctx, const char *system_map);
/* btf_path NULL: the BTF is read from guest memory, on a second thread as soon as kallsyms
 * knows where it is (nfm_discover_btf collects it). */
int nfm_discover_symbols(struct nfm_ctx *ctx, const char *system_map, const char *btf_path);
int nfm_discover_btf(struct nfm_ctx *ctx, const char *btf_path);
/*
 * After a pass with the CPU check deferred: does what it found stand? false when the source's
 * settled layout differs from the one scanned, or CPU 0 runs on other page tables (a stale
 * VMCOREINFO left by an earlier kernel): the caller discovers again, strictly.
 */
bool nfm_discover_confirm(struct nfm_ctx *ctx);

/*
 * For unit tests and fuzzing: a context from parts, skipping discovery. Takes ownership of ks and
 * btf (either may be NULL); src must outlive the context.
 */
int nfm_ctx_new_parts(struct nfm_source *src, int levels, uint64_t kernel_root, int64_t phys_base,
		      uint64_t page_offset, struct nfm_kallsyms *ks, struct nfm_btf *btf,
		      const struct nfm_log *log, struct nfm_ctx **ret);

/* Read helpers over kernel virtual memory (context.c). */
static inline int nfm_kread(struct nfm_ctx *ctx, uint64_t va, void *buf, size_t len)
{
	return nfm_mmu_read_kva(ctx->mmu, va, buf, len);
}

int nfm_kread_u64(struct nfm_ctx *ctx, uint64_t va, uint64_t *ret);
int nfm_kread_u32(struct nfm_ctx *ctx, uint64_t va, uint32_t *ret);
/* Read a NUL-terminated string of at most size-1 bytes; always terminates buf. */
int nfm_kread_str(struct nfm_ctx *ctx, uint64_t va, char *buf, size_t size);

/* A symbol that must exist (ksym.c): logs which one is missing. */
int nfm_ksym(struct nfm_ctx *ctx, const char *name, uint64_t *addr);

/*
 * The kernel's HZ (not in BTF), kinfo.c: from tick_nsec, or where kallsyms lacks data symbols
 * from the jiffies counted since boot. 0, or -ENOENT when neither tells.
 */
int nfm_kernel_hz(struct nfm_ctx *ctx, uint64_t *hz);

#endif
