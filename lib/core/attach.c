// SPDX-License-Identifier: GPL-2.0-or-later
/* Attaching: discovery passes until what they found stands, and the context's end. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "core/btf_early.h"
#include "core/context.h"
#include "core/slot.h"
#include "source/source.h"
#include "util/opts.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One discovery pass: VMCOREINFO and page tables, symbols, BTF. */
static int attach_pass(struct nfm_ctx *ctx, const struct nfm_attach_opts *opts)
{
	const char *system_map = NFM_OPTS_GET(opts, system_map, NULL);
	const char *btf_path = NFM_OPTS_GET(opts, btf_path, NULL);
	double t0 = now_ms(), t1, t2;
	int err;

	err = nfm_discover_kernel(ctx, system_map);
	if (err < 0)
		return err;
	t1 = now_ms();
	err = nfm_discover_symbols(ctx, system_map, btf_path);
	if (err < 0)
		return err;
	t2 = now_ms();
	err = nfm_discover_btf(ctx, btf_path);
	if (err < 0)
		return err;
	nfm_dbg(&ctx->log, "attach: VMCOREINFO and page tables %.2f ms, symbols %.2f ms, BTF %.2f ms",
		t1 - t0, t2 - t1, now_ms() - t2);
	return 0;
}

/* Forget what a pass found. */
static void ctx_clear(struct nfm_ctx *ctx)
{
	nfm_btf_early_join(ctx, NULL);
	nfm_kernel_free(ctx->kernel);
	nfm_btf_free(ctx->btf);
	nfm_kallsyms_free(ctx->ks);
	nfm_vmcoreinfo_free(ctx->vmci);
	nfm_ksym_cache_free(ctx);
	ctx->kernel = NULL;
	ctx->btf = NULL;
	ctx->ks = NULL;
	ctx->vmci = NULL;
}

int nfm_ctx_new(struct nfm_source *src, const struct nfm_attach_opts *opts,
		const struct nfm_log *log, struct nfm_ctx **ret)
{
	double t0 = now_ms();
	struct nfm_ctx *ctx;
	int err;

	if (!src || !ret || !nfm_opts_valid(opts, sizeof(*opts)))
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	if (log)
		ctx->log = *log;
	ctx->src = src;
	ctx->mmu = calloc(1, sizeof(*ctx->mmu));
	if (!ctx->mmu) {
		err = -ENOMEM;
		goto fail;
	}
	/*
	 * The first pass does not wait for CPU 0's registers (from QMP, still answering while the
	 * scan runs); they are compared at the end, and in the rare case they disagree (a guest
	 * reset left the old kernel's VMCOREINFO behind) a second pass checks every candidate.
	 */
	ctx->cpu_check_deferred = true;
	err = attach_pass(ctx, opts);
	if (!nfm_discover_confirm(ctx)) {
		ctx_clear(ctx);
		ctx->cpu_check_deferred = false;
		err = attach_pass(ctx, opts);
	}
	ctx->cpu_check_deferred = false;
	if (err < 0)
		goto fail;
	/* what discovery asked of tables it tried and dropped is not kept */
	nfm_ksym_cache_free(ctx);
	ctx->attach_ms = now_ms() - t0;
	*ret = ctx;
	return 0;
fail:
	nfm_ctx_free(ctx);
	return err;
}

void nfm_ctx_free(struct nfm_ctx *ctx)
{
	if (!ctx)
		return;
	nfm_btf_early_join(ctx, NULL);
	nfm_kernel_free(ctx->kernel);
	nfm_btf_free(ctx->btf);
	nfm_kallsyms_free(ctx->ks);
	nfm_vmcoreinfo_free(ctx->vmci);
	nfm_arm64_free(ctx);
	nfm_ksym_cache_free(ctx);
	if (ctx->mmu)
		nfm_mmu_release(ctx->mmu);
	free(ctx->mmu);
	free(ctx);
}

void nfm_ctx_idle(struct nfm_ctx *ctx)
{
	if (ctx && ctx->mmu)
		nfm_mmu_idle(ctx->mmu);
}

void nfm_ctx_refresh(struct nfm_ctx *ctx)
{
	if (nfm_source_is_live(ctx->src))
		nfm_mmu_flush(ctx->mmu);
	/* a new crawl: its walks get a whole budget again */
	nfm_budget_reset(ctx);
}
