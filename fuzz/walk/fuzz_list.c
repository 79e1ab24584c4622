// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Lists and hash chains: a list_head ring from the root (Brent's detection, the walk budget),
 * then the same nodes as an hlist chain through a visited set, as the socket walkers do.
 */
#include <errno.h>

#include "guest.h"
#include "walk/list.h"
#include "walk/seen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_guest *g = fuzz_guest_new(data, size);
	struct nfm_list_iter it;
	struct nfm_seen seen = { 0 };
	uint64_t node, p;
	size_t n = 0;
	int r;

	if (!g)
		return 0;
	nfm_list_iter_init(&it, g->ctx, g->root, 1u << 20);
	while ((r = nfm_list_iter_next(&it, &node)) > 0)
		n++;
	if (r == 0 && n > FUZZ_MEM / 8)
		abort();	/* more distinct nodes than memory holds: the detection failed */
	/* an hlist chain: NULL- or nulls-terminated, loops caught exactly */
	for (p = g->root; p && !(p & 1);) {
		if (!nfm_kptr_ok(g->ctx, p) || nfm_budget_take(g->ctx, 1) < 0)
			break;
		if (nfm_seen_add(&seen, p) <= 0)
			break;
		if (nfm_kread_u64(g->ctx, p, &p) < 0)
			break;
	}
	nfm_seen_free(&seen);
	fuzz_guest_free(g);
	return 0;
}
