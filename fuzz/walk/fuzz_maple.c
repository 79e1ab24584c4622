// SPDX-License-Identifier: GPL-2.0-or-later
/* Maple trees (mm->mm_mt): every leaf entry from the root, bounded, malformed entries counted. */
#include "guest.h"
#include "walk/maple.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_guest *g = fuzz_guest_new(data, size);
	struct nfm_maple_entry *e = NULL;
	size_t n = 0;

	if (!g)
		return 0;
	if (nfm_maple_collect(g->ctx, g->root, 1u << 16, &e, &n) >= 0) {
		for (size_t i = 1; i < n; i++)
			if (e[i].first <= e[i - 1].last && e[i - 1].last != ~0ull)
				abort();	/* ranges must come out in order */
		free(e);
	}
	fuzz_guest_free(g);
	return 0;
}
