// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>

#include "core/context.h"
#include "walk/list.h"

bool nfm_kptr_ok(struct nfm_ctx *ctx, uint64_t p)
{
	return p && !(p & 7) && nfm_mmu_is_kernel_va(ctx->mmu, p);
}

void nfm_list_iter_init(struct nfm_list_iter *it, struct nfm_ctx *ctx, uint64_t head, size_t max)
{
	/* No ring has more nodes than RAM holds list_heads. */
	size_t cap = nfm_budget_objects(ctx, 16);

	if (max > cap)
		max = cap;
	*it = (struct nfm_list_iter){ .ctx = ctx, .head = head, .cur = head, .max = max,
				      .mark = head, .power = 1 };
}

int nfm_list_iter_next(struct nfm_list_iter *it, uint64_t *node)
{
	uint64_t next;
	int ret;

	if (it->err)
		return it->err;
	if (it->cur == 0)
		return 0;
	ret = nfm_kread_u64(it->ctx, it->cur, &next);
	if (ret < 0)
		return it->err = ret;
	if (next == it->head) {
		it->cur = 0;
		return 0;
	}
	if (!nfm_kptr_ok(it->ctx, next))
		return it->err = -EBADMSG;
	if (it->steps >= it->max)
		return it->err = -ELOOP;
	/* the command's total, shared with every other walk */
	ret = nfm_budget_take(it->ctx, 1);
	if (ret < 0)
		return it->err = ret;
	/* Brent: meeting the saved node again means a loop that skips the head. */
	if (next == it->mark)
		return it->err = -ELOOP;
	if (++it->lam == it->power) {
		it->mark = next;
		it->power <<= 1;
		it->lam = 0;
	}
	it->steps++;
	it->cur = next;
	*node = next;
	return 1;
}
