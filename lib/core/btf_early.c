// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The guest's BTF, read and parsed on a second thread while kallsyms finishes loading:
 * kallsyms knows __start_BTF and __stop_BTF as soon as its name index is checked. Reading and
 * parsing 5 MB of BTF (~8 ms cold) is the longest step of attach; what is left of the symbol
 * load overlaps it. (Starting it sooner, from a first unchecked look at the name index, was
 * tried: on two cores the threads' page faults and reads contended and nothing was gained.)
 *
 * The thread touches only the source (reads of the kernel image, which is physically
 * contiguous: no page tables, no cache) and its own buffer; the main thread joins it before it
 * uses the result or frees the context.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/btf_early.h"
#include "core/context.h"
#include "source/source.h"

struct nfm_btf_early {
	pthread_t thread;
	struct nfm_source *src;
	uint64_t pa, len;
	struct nfm_btf *btf;
	int err;
};

static void *run(void *arg)
{
	struct nfm_btf_early *e = arg;
	void *blob = malloc(e->len);

	if (!blob) {
		e->err = -ENOMEM;
		return NULL;
	}
	e->err = nfm_source_read_phys(e->src, e->pa, blob, e->len);
	if (e->err == 0)
		e->err = nfm_btf_new(blob, e->len, &e->btf);
	free(blob);
	return NULL;
}

void nfm_btf_early_start(struct nfm_ctx *ctx, uint64_t start, uint64_t stop)
{
	struct nfm_btf_early *e;
	const struct nfm_mmu *mmu = ctx->mmu;

	/* Only the kernel image's linear mapping; anything else is left to nfm_discover_btf. */
	if (ctx->btf_early || !mmu->have_kimage || start < NFM_X86_START_KERNEL_MAP ||
	    stop > NFM_X86_KIMAGE_END || stop <= start || stop - start > NFM_BTF_MAX_BYTES)
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->src = ctx->src;
	e->pa = start - NFM_X86_START_KERNEL_MAP + (uint64_t)mmu->phys_base;
	e->len = stop - start;
	if (pthread_create(&e->thread, NULL, run, e) != 0) {
		free(e);
		return;
	}
	ctx->btf_early = e;
}

int nfm_btf_early_join(struct nfm_ctx *ctx, struct nfm_btf **ret)
{
	struct nfm_btf_early *e = ctx->btf_early;
	int err;

	if (!e)
		return -ENOENT;
	pthread_join(e->thread, NULL);
	ctx->btf_early = NULL;
	err = e->err;
	if (err == 0 && ret)
		*ret = e->btf;
	else
		nfm_btf_free(e->btf);
	free(e);
	return err;
}
