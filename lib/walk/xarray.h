/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Walking a guest xarray (the IDR of PIDs, ...): every entry with its index (xarray.c). */
#ifndef NFM_LIB_KERNEL_XARRAY_H
#define NFM_LIB_KERNEL_XARRAY_H

#include "kernel/fs_cache.h"

/*
 * Call fn(arg, index, entry) for every present entry of the xarray whose xa_head is head, in
 * index order; internal entries (siblings, retry, zero) are skipped. Stops after max entries or
 * when fn returns non-zero. Returns the entries visited, -EBADMSG for a malformed tree (a shift
 * that does not step down by 6, too deep, too many nodes), -EFAULT when a node does not
 * read. Nodes are bounded too: (max + 1) * NFM_XA_MAX_DEPTH.
 */
int nfm_xa_for_each(nfm_xa_read_fn rd, void *rd_arg, const struct nfm_xa_layout *l,
		    uint64_t head, size_t max, int (*fn)(void *arg, uint64_t index, uint64_t entry),
		    void *arg);

#endif
