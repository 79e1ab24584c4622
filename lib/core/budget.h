/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The walk budget: how much of the guest's pointer graph one command (one crawl) may follow.
 *
 * Guest memory is attacker-controlled: a list may be a ring of millions of fake nodes, threads
 * may hang under every fake leader, a chain may loop. Two bounds hold every walk:
 *
 *  - per walk, what the guest can hold: no list has more objects than RAM / object size
 *    (nfm_budget_objects());
 *  - per command, a total of steps shared by every walk and every nested walk (threads inside
 *    tasks, chains inside buckets, nodes inside trees): RAM / NFM_BUDGET_BYTES_PER_STEP, at least
 *    NFM_BUDGET_MIN_STEPS. Every step of lib/walk's iterators takes one; a walker that loops by
 *    hand takes one per pointer it follows (nfm_budget_take()). When the total runs out every walk
 *    ends with -ELOOP. nfm_ctx_refresh() (a new crawl) fills it again.
 *
 * Both bounds are far above any real kernel's: a legitimate view is never cut.
 */
#ifndef NFM_LIB_CORE_BUDGET_H
#define NFM_LIB_CORE_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfm_ctx;

#define NFM_BUDGET_BYTES_PER_STEP 64	/* a step visits an object of at least a cache line */
#define NFM_BUDGET_MIN_STEPS (1u << 20)

struct nfm_budget {
	uint64_t total, left;	/* 0/0 until first used */
	bool exhausted;		/* a walk was refused since the last reset */
};

/* Take n steps: 0, or -ELOOP when the command's total is spent (and every later call too). */
int nfm_budget_take(struct nfm_ctx *ctx, uint64_t n);

/*
 * The most objects of size objsize the guest's RAM can hold (at least 1; objsize 0 counts as
 * 16, a bare list_head). A walk of such objects that goes past it is walking a fake or a loop.
 */
size_t nfm_budget_objects(struct nfm_ctx *ctx, size_t objsize);

/* Fill the budget again (a new command or crawl). */
void nfm_budget_reset(struct nfm_ctx *ctx);

/* True when some walk was cut by the total since the last reset. */
bool nfm_budget_exhausted(struct nfm_ctx *ctx);

#endif
