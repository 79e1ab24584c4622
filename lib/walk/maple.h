/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Maple tree walk (lib/maple_tree.c, 6.1+): every non-NULL leaf entry of a tree in index order,
 * e.g. the VMAs of mm->mm_mt. Node encoding: ma_root is a node when (e & 3) == 2 (MAPLE_ROOT_NODE)
 * and e > 4096; every slot of an internal node is a child node (no such bit); a node is at
 * e & ~0xff, its type at (e >> 3) & 0xf: 1 leaf_64 and 2 range_64 (15 pivots,
 * 16 slots, metadata end in the last slot's last bytes), 3 arange_64 (9 pivots, 10 slots,
 * 10 gaps, metadata). XA_ZERO_ENTRY (0x406) is skipped; other internal entries in a leaf are
 * skipped and counted (the return value).
 *
 * Hostile input: at most NFM_MAPLE_MAX_DEPTH levels, max_entries entries and
 * NFM_MAPLE_MAX_NODES nodes; pivots must increase inside their parent's range.
 */
#ifndef NFM_LIB_WALK_MAPLE_H
#define NFM_LIB_WALK_MAPLE_H

#include <stddef.h>
#include <stdint.h>

struct nfm_ctx;

#define NFM_MAPLE_MAX_DEPTH 31		/* MAPLE_HEIGHT_MAX */
#define NFM_MAPLE_MAX_NODES (1u << 20)

struct nfm_maple_entry {
	uint64_t first, last;	/* the index range the entry covers */
	uint64_t entry;
};

/*
 * Collect the entries under root (the tree's ma_root value) into a malloc'd array *ret (caller
 * frees), *n set to their number. Returns the number of malformed leaf entries left out (internal
 * entries other than XA_ZERO_ENTRY: 0 for a sound tree), -ELOOP (a bound hit, or the command's
 * walk budget spent: one step per node), -EBADMSG (a malformed node), -EFAULT/-EIO, -ENOMEM.
 * On error nothing is returned.
 */
int nfm_maple_collect(struct nfm_ctx *ctx, uint64_t root, size_t max_entries,
		      struct nfm_maple_entry **ret, size_t *n);

#endif
