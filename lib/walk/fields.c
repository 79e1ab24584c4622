// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "kernel/kernel.h"

void *nfm_kernel_slot(struct nfm_ctx *ctx, enum nfm_kernel_slot s)
{
	return ctx->kernel && s < NFM_SLOT_MAX ? ctx->kernel->slot[s] : NULL;
}

int nfm_kernel_set_slot(struct nfm_ctx *ctx, enum nfm_kernel_slot s, void *p, void (*free_fn)(void *))
{
	if (s >= NFM_SLOT_MAX)
		return -EINVAL;
	if (!ctx->kernel) {
		ctx->kernel = calloc(1, sizeof(*ctx->kernel));
		if (!ctx->kernel)
			return -ENOMEM;
	}
	if (ctx->kernel->slot[s])
		(ctx->kernel->slot_free[s] ? ctx->kernel->slot_free[s] : free)(ctx->kernel->slot[s]);
	ctx->kernel->slot[s] = p;
	ctx->kernel->slot_free[s] = free_fn;
	return 0;
}

void nfm_kernel_free(struct nfm_kernel *k)
{
	int i;

	if (!k)
		return;
	for (i = 0; i < NFM_SLOT_MAX; i++)
		if (k->slot[i])
			(k->slot_free[i] ? k->slot_free[i] : free)(k->slot[i]);
	free(k);
}

int nfm_resolve_fields(struct nfm_ctx *ctx, const struct nfm_field_spec *specs, size_t n, void *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int32_t *dst = (int32_t *)((char *)out + specs[i].out);
		struct nfm_field f;
		uint32_t size;

		if (specs[i].flags & NFM_FIELD_SIZE) {
			if (nfm_btf_type_size(ctx->btf, specs[i].type, &size) == 0) {
				*dst = (int32_t)size;
				continue;
			}
		} else if (nfm_btf_field(ctx->btf, specs[i].type, specs[i].path, &f) == 0) {
			*dst = (int32_t)f.offset;
			continue;
		}
		*dst = -1;
		if (!(specs[i].flags & NFM_FIELD_OPTIONAL)) {
			nfm_err(&ctx->log, "this kernel has no %s%s%s in its BTF", specs[i].type,
				specs[i].flags & NFM_FIELD_SIZE ? "" : ".",
				specs[i].flags & NFM_FIELD_SIZE ? "" : specs[i].path);
			return -ENOENT;
		}
	}
	return 0;
}
