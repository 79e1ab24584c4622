/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Walking the guest's struct list_head rings without trusting them: every step is bounded, a
 * ring that loops without coming back to its head is caught (Brent's cycle detection, O(1)
 * memory), and every pointer is checked before it is followed.
 */
#ifndef NFM_LIB_WALK_LIST_H
#define NFM_LIB_WALK_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfm_ctx;

struct nfm_list_iter {
	struct nfm_ctx *ctx;
	uint64_t head;		/* address of the anchor list_head */
	uint64_t cur;		/* address of the current list_head */
	size_t steps, max;
	uint64_t mark;		/* Brent: the node saved at the last power of two */
	size_t power, lam;
	int err;		/* why the walk stopped early, 0 if it reached head */
};

/*
 * Start a walk of the ring anchored at head, yielding at most max entries (and never more than
 * RAM / 16); every step also takes one from the command's walk budget (core/budget.h).
 */
void nfm_list_iter_init(struct nfm_list_iter *it, struct nfm_ctx *ctx, uint64_t head, size_t max);

/*
 * The next entry's list_head address in *node. Returns 1 with an entry, 0 at the end of the ring,
 * or -errno: -ELOOP (bound hit or cycle), -EFAULT (unreadable), -EBADMSG (a bad pointer).
 * After an error the iterator stays at its end.
 */
int nfm_list_iter_next(struct nfm_list_iter *it, uint64_t *node);

/* A pointer worth following: canonical kernel address, 8-byte aligned. */
bool nfm_kptr_ok(struct nfm_ctx *ctx, uint64_t p);

/* container_of for guest addresses. */
#define nfm_container_of(addr, member_offset) ((addr) - (uint64_t)(member_offset))

#endif
