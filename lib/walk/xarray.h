/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest xarrays (the IDR of PIDs, the page cache's i_pages, ...) on any reader: one entry by
 * index (xa_load) and every entry in index order (xarray.c; unit-tested on synthetic nodes).
 */
#ifndef NFM_LIB_WALK_XARRAY_H
#define NFM_LIB_WALK_XARRAY_H

#include <stddef.h>
#include <stdint.h>

#define NFM_XA_CHUNK_SHIFT 6
#define NFM_XA_CHUNK_SIZE 64
#define NFM_XA_MAX_DEPTH 11	/* 64-bit indexes: ceil(64 / 6) levels */

/* Reads len bytes at guest address va: 0 or -errno. */
typedef int (*nfm_xa_read_fn)(void *arg, uint64_t va, void *buf, size_t len);

/* Where struct xa_node keeps its shift byte and its slots[] (from BTF). */
struct nfm_xa_layout {
	int32_t shift, slots;
};

/*
 * xa_load(): the entry at index of the xarray whose xa_head is head. Returns 1 with *entry (a
 * pointer or a value entry: (e & 1)), 0 for none (empty slot, or retry/zero entries), -EBADMSG
 * for a malformed tree (a node whose shift does not step down by 6, a sibling pointing out of
 * range, too deep), -EFAULT when a node does not read. Multi-index entries (large folios) are
 * returned for every index they cover.
 */
int nfm_xa_load(nfm_xa_read_fn rd, void *arg, const struct nfm_xa_layout *l, uint64_t head,
		uint64_t index, uint64_t *entry);

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
