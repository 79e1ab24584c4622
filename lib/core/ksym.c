// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A kernel symbol by name: kallsyms, then (arm64 without KALLSYMS_ALL) the data symbols found in
 * the image. Walkers ask for the same few dozen names every crawl, and a lazy kallsyms lookup
 * expands a score of names to find one: the addresses found are kept per context (the core
 * kernel's symbols do not move while it runs).
 */
#include <stdlib.h>
#include <string.h>

#include "core/context.h"

#define SLOTS 256u	/* a power of two; the walkers ask for fewer than a hundred names */
#define NAME_MAX_KEPT 48

struct nfm_ksym_cache {
	const struct nfm_kallsyms *ks;	/* the table the answers came from */
	unsigned int n;
	struct {
		uint64_t addr;
		char name[NAME_MAX_KEPT];	/* "" : empty slot */
	} e[SLOTS];
};

static int lookup(struct nfm_ctx *ctx, const char *name, uint64_t *addr)
{
	int ret = nfm_kallsyms_lookup(ctx->ks, name, addr);

	if (ret < 0 && ctx->mmu && ctx->mmu->arch == NFM_MMU_ARM64)
		ret = nfm_arm64_ksym(ctx, name, addr);
	if (ret < 0)
		nfm_dbg(&ctx->log, "kernel symbol %s not found", name);
	return ret;
}

int nfm_ksym(struct nfm_ctx *ctx, const char *name, uint64_t *addr)
{
	struct nfm_ksym_cache *c = ctx->ksym_cache;
	size_t len = strlen(name);
	uint32_t h = 2166136261u, i;
	uint64_t a = 0;
	int ret;

	if (len >= NAME_MAX_KEPT || !len)
		return lookup(ctx, name, addr);
	if (c && c->ks != ctx->ks) {	/* the symbols were loaded again */
		memset(c, 0, sizeof(*c));
		c->ks = ctx->ks;
	}
	if (!c && (c = ctx->ksym_cache = calloc(1, sizeof(*c))))
		c->ks = ctx->ks;
	if (!c)
		return lookup(ctx, name, addr);
	for (size_t k = 0; k < len; k++)
		h = (h ^ (uint8_t)name[k]) * 16777619u;
	for (i = h & (SLOTS - 1); c->e[i].name[0]; i = (i + 1) & (SLOTS - 1))
		if (!strcmp(c->e[i].name, name)) {
			*addr = c->e[i].addr;
			return 0;
		}
	ret = lookup(ctx, name, &a);
	if (ret < 0)
		return ret;
	/* Found only: what is missing may be found once discovery knows more (arm64's image
	 * scan). Past three quarters full, asked afresh: the probe runs stay short. */
	if (c->n < SLOTS / 4 * 3) {
		memcpy(c->e[i].name, name, len + 1);
		c->e[i].addr = a;
		c->n++;
	}
	*addr = a;
	return 0;
}

void nfm_ksym_cache_free(struct nfm_ctx *ctx)
{
	free(ctx->ksym_cache);
	ctx->ksym_cache = NULL;
}
