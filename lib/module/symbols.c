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
	if (ret == -ENOENT && ctx->btf)
		ret = nfm_modsym_lookup(ctx, name, addr, type, module) == 0 ? 0 : -ENOENT;
	return ret;
}

int nfm_sym_lookup(struct nfm_ctx *ctx, const char *name, uint64_t *addr, char *type)
{
	return nfm_sym_lookup_module(ctx, name, addr, type, NULL);
}

int nfm_sym_symbolize_module(struct nfm_ctx *ctx, uint64_t addr, const char **name, char *type,
			     uint64_t *offset, const char **module)
{
	uint64_t start;

	if (module)
		*module = NULL;
	/* Modules live above the kernel image's 1 GiB: there only a module's symbol will do. */
	if (addr >= NFM_X86_KIMAGE_END)
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
