// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The public symbol lookups (nfm_sym_*, include/nfm/context.h): the kernel image's kallsyms first,
 * then the loaded modules' symbols. They live here, above the module walker, and not in core:
 * core sits below every walker and never calls one, so a lookup that needs the module list is
 * the module layer's. Walkers that want a symbol which may be in a module call these too.
 */
#include <errno.h>

#include "core/context.h"
#include "module/modules.h"

int nfm_sym_lookup_module(struct nfm_ctx *ctx, const char *name, uint64_t *addr, char *type,
			  const char **module)
{
	int ret = nfm_kallsyms_find(ctx->ks, name, addr, type);

	if (module)
		*module = NULL;
	/* arm64 without KALLSYMS_ALL: data symbols from VMCOREINFO, exports, code references */
	if (ret == -ENOENT && ctx->mmu && ctx->mmu->arch == NFM_MMU_ARM64 &&
	    nfm_arm64_ksym(ctx, name, addr) == 0) {
		if (type)
			*type = 'D';
		return 0;
	}
	if (ret == -ENOENT && ctx->btf)
		ret = nfm_modsym_lookup(ctx, name, addr, type, module) == 0 ? 0 : -ENOENT;
	return ret;
}

int nfm_sym_lookup(struct nfm_ctx *ctx, const char *name, uint64_t *addr, char *type)
{
	return nfm_sym_lookup_module(ctx, name, addr, type, NULL);
}

/* x86-64: modules live above the image's 1 GiB. arm64: anywhere in the 2 GiB around the image
 * (6.12 puts them below it), so the image's own bounds decide once known (_text.._end). */
static bool in_kernel_image(const struct nfm_mmu *mmu, uint64_t addr)
{
	if (mmu->arch == NFM_MMU_ARM64)
		return !mmu->kimage_end || (addr >= mmu->kimage_start && addr < mmu->kimage_end);
	return addr < NFM_X86_KIMAGE_END;
}

int nfm_sym_symbolize_module(struct nfm_ctx *ctx, uint64_t addr, const char **name, char *type,
			     uint64_t *offset, const char **module)
{
	uint64_t start;

	if (module)
		*module = NULL;
	/* Outside the kernel image only a module's symbol will do. */
	if (!in_kernel_image(ctx->mmu, addr))
		return ctx->btf ? nfm_modsym_symbolize(ctx, addr, name, type, offset, module) :
				  -ENOENT;
	return nfm_kallsyms_symbolize(ctx->ks, addr, name, type, &start, offset);
}

int nfm_sym_symbolize(struct nfm_ctx *ctx, uint64_t addr, const char **name, char *type,
		      uint64_t *offset)
{
	return nfm_sym_symbolize_module(ctx, addr, name, type, offset, NULL);
}

size_t nfm_sym_count(struct nfm_ctx *ctx)
{
	return nfm_kallsyms_count(ctx->ks);
}

int nfm_sym_get(struct nfm_ctx *ctx, size_t i, const char **name, char *type, uint64_t *addr)
{
	return nfm_kallsyms_get(ctx->ks, i, name, type, addr);
}
