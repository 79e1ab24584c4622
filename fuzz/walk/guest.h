/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The walk fuzz targets' guest: the input is guest-physical memory from 0 (at most 64 KiB, the
 * rest of a 64 KiB buf zero), seen through the direct map at FUZZ_PO; a context from parts (no
 * symbols, no BTF). The first 8 bytes of memory are the walk's root (list head, maple root...).
 */
#ifndef NFM_FUZZ_WALK_GUEST_H
#define NFM_FUZZ_WALK_GUEST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "source/source.h"

#define FUZZ_MEM (64u << 10)
#define FUZZ_PO 0xffff888000000000ull

struct fuzz_guest {
	uint8_t mem[FUZZ_MEM];
	struct nfm_source *src;
	struct nfm_ctx *ctx;
	uint64_t root;
};

/*
 * The guest for this input: one context made at the first call and kept (making one per input
 * costs more than the walk), its memory refilled and its walk budget reset for each input.
 */
static inline struct fuzz_guest *fuzz_guest_new(const uint8_t *data, size_t size)
{
	static struct fuzz_guest *g;

	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g || nfm_source_new_buf(g->mem, FUZZ_MEM, 0, &g->src) < 0 ||
		    nfm_ctx_new_parts(g->src, 4, 0, 0, FUZZ_PO, NULL, NULL, NULL, &g->ctx) < 0)
			abort();
	}
	memset(g->mem, 0, FUZZ_MEM);
	memcpy(g->mem, data, size < FUZZ_MEM ? size : FUZZ_MEM);
	memcpy(&g->root, g->mem, 8);
	nfm_mmu_flush(g->ctx->mmu);
	nfm_budget_reset(g->ctx);
	return g;
}

/* Nothing to free: the guest is reused by the next input. */
static inline void fuzz_guest_free(struct fuzz_guest *g)
{
	(void)g;
}

#endif
