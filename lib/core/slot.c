// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>

#include "core/context.h"
#include "core/slot.h"

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

void *nfm_kernel_layout(struct nfm_ctx *ctx, enum nfm_kernel_slot s, size_t size,
			int (*make)(struct nfm_ctx *ctx, void *block), int *err)
{
	void *p = nfm_kernel_slot(ctx, s);

	*err = 0;
	if (p)
		return p;
	p = calloc(1, size);
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = make(ctx, p);
	if (*err > 0)
		*err = -EINVAL;	/* make() promises 0 or -errno */
	if (!*err)
		*err = nfm_kernel_set_slot(ctx, s, p, NULL);
	if (*err) {
		free(p);
		return NULL;
	}
	return p;
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
