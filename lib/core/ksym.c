// SPDX-License-Identifier: GPL-2.0-or-later
/* A kernel symbol by name: kallsyms, then (arm64 without KALLSYMS_ALL) the data symbols found in
 * the image. */
#include "core/context.h"

int nfm_ksym(struct nfm_ctx *ctx, const char *name, uint64_t *addr)
{
	int ret = nfm_kallsyms_lookup(ctx->ks, name, addr);

	if (ret < 0 && ctx->mmu && ctx->mmu->arch == NFM_MMU_ARM64)
		ret = nfm_arm64_ksym(ctx, name, addr);
	if (ret < 0)
		nfm_dbg(&ctx->log, "kernel symbol %s not found", name);
	return ret;
}
