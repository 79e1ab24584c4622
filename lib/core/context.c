// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/btf.h>

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
	if (ctx->mmu)
		nfm_mmu_release(ctx->mmu);
	free(ctx->mmu);
	free(ctx);
}

struct nfm_source *nfm_ctx_source(struct nfm_ctx *ctx)
{
	return ctx->src;
}

void nfm_ctx_refresh(struct nfm_ctx *ctx)
{
	if (nfm_source_is_live(ctx->src))
		nfm_mmu_flush(ctx->mmu);
	/* a new crawl: its walks get a whole budget again */
	nfm_budget_reset(ctx);
}

int nfm_read_kernel(struct nfm_ctx *ctx, uint64_t va, void *buf, size_t len)
{
	return nfm_kread(ctx, va, buf, len);
}

size_t nfm_read_kernel_some(struct nfm_ctx *ctx, uint64_t va, void *buf, size_t len)
{
	size_t got = 0;

	if (len && nfm_kread(ctx, va, buf, len) == 0)
		return len;
	while (got < len) {
		size_t n = 4096 - ((va + got) & 4095);

		if (n > len - got)
			n = len - got;
		if (nfm_kread(ctx, va + got, (char *)buf + got, n) < 0)
			break;
		got += n;
	}
	return got;
}

int nfm_kread_u64(struct nfm_ctx *ctx, uint64_t va, uint64_t *ret)
{
	return nfm_kread(ctx, va, ret, sizeof(*ret));
}

int nfm_kread_u32(struct nfm_ctx *ctx, uint64_t va, uint32_t *ret)
{
	return nfm_kread(ctx, va, ret, sizeof(*ret));
}

int nfm_kread_str(struct nfm_ctx *ctx, uint64_t va, char *buf, size_t size)
{
	size_t done = 0;

	if (!size)
		return -EINVAL;
	/* Read up to page ends so a string at the end of a mapping does not fault needlessly. */
	while (done < size - 1) {
		size_t chunk = 4096 - ((va + done) & 4095);
		char *nul;
		int ret;

		if (chunk > size - 1 - done)
			chunk = size - 1 - done;
		ret = nfm_kread(ctx, va + done, buf + done, chunk);
		if (ret < 0) {
			buf[done] = 0;
			return done ? 0 : ret;
		}
		nul = memchr(buf + done, 0, chunk);
		if (nul)
			return 0;
		done += chunk;
	}
	buf[size - 1] = 0;
	return 0;
}

int nfm_ksym(struct nfm_ctx *ctx, const char *name, uint64_t *addr)
{
	int ret = nfm_kallsyms_lookup(ctx->ks, name, addr);

	if (ret < 0 && ctx->mmu && ctx->mmu->arch == NFM_MMU_ARM64)
		ret = nfm_arm64_ksym(ctx, name, addr);
	if (ret < 0)
		nfm_dbg(&ctx->log, "kernel symbol %s not found", name);
	return ret;
}

int nfm_ctx_new_parts(struct nfm_source *src, int levels, uint64_t kernel_root, int64_t phys_base,
		      uint64_t page_offset, struct nfm_kallsyms *ks, struct nfm_btf *btf,
		      const struct nfm_log *log, struct nfm_ctx **ret)
{
	struct nfm_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	ctx->mmu = calloc(1, sizeof(*ctx->mmu));
	if (!ctx->mmu) {
		free(ctx);
		return -ENOMEM;
	}
	if (log)
		ctx->log = *log;
	ctx->src = src;
	nfm_mmu_init(ctx->mmu, src, levels, kernel_root);
	ctx->mmu->phys_base = phys_base;
	ctx->mmu->have_kimage = true;
	ctx->mmu->page_offset = page_offset;
	ctx->ks = ks;
	ctx->btf = btf;
	*ret = ctx;
	return 0;
}

int nfm_btf_raw(struct nfm_ctx *ctx, const void **data, size_t *size)
{
	__u32 n = 0;
	const void *p = btf__raw_data(ctx->btf->btf, &n);

	if (!p)
		return -ENOMEM;
	*data = p;
	*size = n;
	return 0;
}
