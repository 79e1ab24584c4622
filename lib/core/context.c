// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The attached context at the bottom of core: reads of kernel memory through it, and a context
 * made from parts (tests, fuzzing). Attaching (discovery) is attach.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "core/context.h"

struct nfm_source *nfm_ctx_source(struct nfm_ctx *ctx)
{
	return ctx->src;
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
