// SPDX-License-Identifier: GPL-2.0-or-later
/* Maple tree walk over guest memory: see maple.h. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "walk/list.h"
#include "walk/maple.h"

#define NODE_SIZE 256
#define XA_ZERO_ENTRY 0x406ull	/* xa_mk_internal(257) */
enum { MT_DENSE, MT_LEAF_64, MT_RANGE_64, MT_ARANGE_64 };

struct walk {
	struct nfm_ctx *ctx;
	struct nfm_maple_entry *out;
	size_t n, cap, max, nodes, bad;
};

static int is_node(uint64_t e)
{
	return (e & 3) == 2 && e > 4096;
}

static int add(struct walk *w, uint64_t first, uint64_t last, uint64_t e)
{
	if (w->n >= w->max)
		return -ELOOP;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct nfm_maple_entry *p = realloc(w->out, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		w->out = p;
		w->cap = cap;
	}
	w->out[w->n++] = (struct nfm_maple_entry){ first, last, e };
	return 0;
}

static int walk_node(struct walk *w, uint64_t enode, uint64_t min, uint64_t max, int depth)
{
	uint64_t node = enode & ~0xffull, b[NODE_SIZE / 8], *pivots, *slots;
	unsigned int type = (enode >> 3) & 0xf, npiv, nslots, end, i;
	uint64_t lo = min;
	int err;

	if (depth > NFM_MAPLE_MAX_DEPTH || ++w->nodes > NFM_MAPLE_MAX_NODES)
		return -ELOOP;
	err = nfm_budget_take(w->ctx, 1);
	if (err < 0)
		return err;
	if (!nfm_kptr_ok(w->ctx, node))
		return -EBADMSG;
	err = nfm_kread(w->ctx, node, b, sizeof(b));
	if (err < 0)
		return err;
	pivots = b + 1;
	if (type == MT_LEAF_64 || type == MT_RANGE_64) {
		npiv = 15;
		nslots = 16;
		slots = b + 16;
		/* ma_data_end(): metadata end when the last pivot is unused, else from pivots. */
		if (!pivots[npiv - 1])
			end = ((const uint8_t *)b)[248];
		else if (pivots[npiv - 1] == max)
			end = npiv - 1;
		else
			end = npiv;
	} else if (type == MT_ARANGE_64) {
		npiv = 9;
		nslots = 10;
		slots = b + 10;
		end = ((const uint8_t *)b)[240];
	} else {
		return -EBADMSG;	/* dense nodes are not used by mm trees */
	}
	if (end >= nslots)
		return -EBADMSG;
	for (i = 0; i <= end; i++) {
		uint64_t hi = i < end && i < npiv ? pivots[i] : max, e = slots[i];

		if (hi < lo || hi > max)
			return -EBADMSG;
		if (e) {
			if (type != MT_LEAF_64) {
				/* Children are plain encoded nodes: only ma_root carries MAPLE_ROOT_NODE. */
				err = walk_node(w, e, lo, hi, depth + 1);
			} else if ((e & 3) != 2) {
				err = add(w, lo, hi, e);
			} else if (e != XA_ZERO_ENTRY) {
				/* an mm tree's leaves hold VMAs, or XA_ZERO_ENTRY while dup_mmap()
				 * copies: any other internal entry is forged or torn, and counted */
				w->bad++;
			}
			if (err < 0)
				return err;
		}
		if (hi == max)
			break;
		lo = hi + 1;
	}
	return 0;
}

int nfm_maple_collect(struct nfm_ctx *ctx, uint64_t root, size_t max_entries,
		      struct nfm_maple_entry **ret, size_t *n)
{
	struct walk w = { .ctx = ctx, .max = max_entries };
	int err = 0;

	if (is_node(root))
		err = walk_node(&w, root, 0, ~0ull, 0);
	else if (root && (root & 3) != 2)
		err = add(&w, 0, 0, root);	/* a single entry at index 0 */
	else if (root && root != XA_ZERO_ENTRY)
		w.bad++;
	if (err < 0) {
		free(w.out);
		return err;
	}
	*ret = w.out;
	*n = w.n;
	return w.bad > INT_MAX ? INT_MAX : (int)w.bad;
}
