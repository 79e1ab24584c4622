/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A visited set of guest addresses, for walks that must not yield an object twice: hash chains
 * (a chain that loops back into itself or into another bucket's chain), trees. Exact, unlike
 * Brent's detection, which notices a loop only after going round it (and so after yielding its
 * nodes again). Open addressing, grows by doubling; nfm_seen_clear() is O(1) (a generation).
 */
#ifndef NFM_LIB_WALK_SEEN_H
#define NFM_LIB_WALK_SEEN_H

#include <stddef.h>
#include <stdint.h>

struct nfm_seen {
	struct { uint64_t addr; uint32_t gen; } *slot;
	size_t cap, n;		/* cap: a power of two, at most half full */
	uint32_t gen;
};

/* Remember addr: 1 if new, 0 if already there, -ENOMEM. */
int nfm_seen_add(struct nfm_seen *s, uint64_t addr);
/* Forget everything (keeps the memory). */
void nfm_seen_clear(struct nfm_seen *s);
void nfm_seen_free(struct nfm_seen *s);

#endif
