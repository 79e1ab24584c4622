// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A guest xarray: one entry by index (xa_load), or every entry, depth first
 * (include/linux/xarray.h: a node holds 64 slots; an internal entry ending in binary 10 is a
 * node pointer (+2), a sibling, retry or zero entry). Guest data: the depth, the number of nodes and of entries are bounded, and each
 * node's shift must be its parent's minus 6.
 */
#include <errno.h>
#include <stdbool.h>

#include "walk/xarray.h"

static bool xa_is_internal(uint64_t e) { return (e & 3) == 2; }
static bool xa_is_node(uint64_t e) { return xa_is_internal(e) && e > 4096; }
/* sibling entries are internal entries below (XA_CHUNK_SIZE - 1) << 2 | 2 */
static bool xa_is_sibling(uint64_t e)
{
	return xa_is_internal(e) && e < (((uint64_t)NFM_XA_CHUNK_SIZE - 1) << 2 | 2);
}

int nfm_xa_load(nfm_xa_read_fn rd, void *arg, const struct nfm_xa_layout *l, uint64_t head,
		uint64_t index, uint64_t *entry)
{
	uint64_t e = head, node;
	int depth, expect = -1;
	uint8_t shift;

	for (depth = 0;; depth++) {
		unsigned int off;

		if (!xa_is_node(e)) {
			/* a lone entry in xa_head stands for index 0 only */
			if (depth == 0 && index != 0)
				return 0;
			break;
		}
		if (depth >= NFM_XA_MAX_DEPTH)
			return -EBADMSG;
		node = e - 2;
		if (rd(arg, node + (uint64_t)l->shift, &shift, 1) < 0)
			return -EFAULT;
		if (shift % NFM_XA_CHUNK_SHIFT || shift >= 64 || (expect >= 0 && shift != expect))
			return -EBADMSG;
		/* beyond what the top node spans */
		if (depth == 0 && shift + NFM_XA_CHUNK_SHIFT < 64 &&
		    (index >> shift) >= NFM_XA_CHUNK_SIZE)
			return 0;
		off = (unsigned int)(index >> shift) & (NFM_XA_CHUNK_SIZE - 1);
		if (rd(arg, node + (uint64_t)l->slots + 8ull * off, &e, 8) < 0)
			return -EFAULT;
		if (xa_is_sibling(e)) {
			unsigned int canon = (unsigned int)(e >> 2);

			/* a sibling names the canonical slot of its multi-index entry, before it */
			if (canon >= off)
				return -EBADMSG;
			if (rd(arg, node + (uint64_t)l->slots + 8ull * canon, &e, 8) < 0)
				return -EFAULT;
			if (xa_is_internal(e) && !xa_is_node(e))
				return 0;
		}
		if (shift == 0) {
			if (xa_is_node(e))
				return -EBADMSG;
			break;
		}
		expect = shift - NFM_XA_CHUNK_SHIFT;
	}
	if (!e || (xa_is_internal(e) && !xa_is_node(e)))
		return 0;	/* empty, retry or zero entry */
	*entry = e;
	return 1;
}

struct walk {
	nfm_xa_read_fn rd;
	void *rd_arg;
	const struct nfm_xa_layout *l;
	size_t max, entries, nodes;
	int (*fn)(void *arg, uint64_t index, uint64_t entry);
	void *arg;
	bool stop;
};

static int visit(struct walk *w, uint64_t e, int depth, int expect, uint64_t base)
{
	uint64_t node = e - 2, slots[NFM_XA_CHUNK_SIZE];
	uint8_t shift;
	int r;

	/* Every real node holds something: a chain per entry is the most a tree can have. */
	if (depth >= NFM_XA_MAX_DEPTH || ++w->nodes > (w->max + 1) * NFM_XA_MAX_DEPTH)
		return -EBADMSG;
	if (w->rd(w->rd_arg, node + (uint64_t)w->l->shift, &shift, 1) < 0 ||
	    w->rd(w->rd_arg, node + (uint64_t)w->l->slots, slots, sizeof(slots)) < 0)
		return -EFAULT;
	if (shift % NFM_XA_CHUNK_SHIFT || shift >= 64 || (expect >= 0 && shift != expect))
		return -EBADMSG;
	for (unsigned int i = 0; i < NFM_XA_CHUNK_SIZE && !w->stop; i++) {
		uint64_t s = slots[i], index = base | ((uint64_t)i << shift);

		if (!s)
			continue;
		if (xa_is_node(s)) {
			if (!shift)
				return -EBADMSG;
			r = visit(w, s, depth + 1, shift - NFM_XA_CHUNK_SHIFT, index);
			if (r < 0)
				return r;
			continue;
		}
		if (xa_is_internal(s))
			continue;	/* sibling, retry or zero entry */
		/* (above the leaves: a multi-index entry, given at its first index) */
		if (++w->entries > w->max || w->fn(w->arg, index, s))
			w->stop = true;
	}
	return 0;
}

int nfm_xa_for_each(nfm_xa_read_fn rd, void *rd_arg, const struct nfm_xa_layout *l,
		    uint64_t head, size_t max, int (*fn)(void *arg, uint64_t index, uint64_t entry),
		    void *arg)
{
	struct walk w = { .rd = rd, .rd_arg = rd_arg, .l = l, .max = max, .fn = fn, .arg = arg };
	int r;

	if (!head)
		return 0;
	if (!xa_is_node(head)) {
		/* a lone entry in xa_head stands for index 0 */
		if (xa_is_internal(head) || !max)
			return 0;
		fn(arg, 0, head);
		return 1;
	}
	r = visit(&w, head, 0, -1, 0);
	return r < 0 ? r : (int)(w.entries > max ? max : w.entries);
}
