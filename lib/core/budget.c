// SPDX-License-Identifier: GPL-2.0-or-later
/* The walk budget: see budget.h. */
#include <errno.h>

#include "core/budget.h"
#include "core/context.h"
#include "source/source.h"

static uint64_t ram_bytes(struct nfm_ctx *ctx)
{
	uint64_t ram = ctx->src ? nfm_source_ram_size(ctx->src) : 0;

	/* a source that cannot say: 64 GiB, a bound still far below "forever" */
	return ram ? ram : 64ull << 30;
}

static void fill(struct nfm_ctx *ctx)
{
	uint64_t total = ram_bytes(ctx) / NFM_BUDGET_BYTES_PER_STEP;

	if (total < NFM_BUDGET_MIN_STEPS)
		total = NFM_BUDGET_MIN_STEPS;
	ctx->budget.total = ctx->budget.left = total;
	ctx->budget.exhausted = false;
}

int nfm_budget_take(struct nfm_ctx *ctx, uint64_t n)
{
	if (!ctx->budget.total)
		fill(ctx);
	if (ctx->budget.left < n) {
		ctx->budget.left = 0;
		if (!ctx->budget.exhausted)
			nfm_warn(&ctx->log, "walk budget of %llu steps spent: guest data loops or is forged",
				 (unsigned long long)ctx->budget.total);
		ctx->budget.exhausted = true;
		return -ELOOP;
	}
	ctx->budget.left -= n;
	return 0;
}

size_t nfm_budget_objects(struct nfm_ctx *ctx, size_t objsize)
{
	uint64_t n = ram_bytes(ctx) / (objsize ? objsize : 16);

	return n ? (n > SIZE_MAX ? SIZE_MAX : (size_t)n) : 1;
}

void nfm_budget_reset(struct nfm_ctx *ctx)
{
	fill(ctx);
}

bool nfm_budget_exhausted(struct nfm_ctx *ctx)
{
	return ctx->budget.exhausted;
}
