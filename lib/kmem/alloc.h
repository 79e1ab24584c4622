/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which allocation holds a kernel address, and how large it really is: a slab object (SLUB:
 * the page's struct slab names its kmem_cache, objects sit `size` apart from the slab's first
 * byte), a block of pages from the page allocator (a compound page's order; large kmalloc), or
 * a vmalloc area (the vmap_area tree: one rbtree before 6.9, one per vmap_node since). Like
 * crash's `kmem ADDR`.
 *
 * Walkers use it to check a table size read from the guest against the memory really behind the
 * table (an fdtable's max_fds, a hash table's mask) before reading that many entries: a forged
 * size cannot make them read past the allocation.
 *
 * Bounds: the kmem_cache list is read once per context (at most 4,096 caches); a vmap_area
 * tree search follows at most 64 levels per node. Everything read is validated; a page whose
 * struct slab names no listed cache is not called a slab.
 */
#ifndef NFM_LIB_KMEM_ALLOC_H
#define NFM_LIB_KMEM_ALLOC_H

#include <stdint.h>

struct nfm_ctx;

enum nfm_alloc_kind {
	NFM_ALLOC_SLAB = 1,	/* an object of a kmem_cache */
	NFM_ALLOC_PAGES,	/* pages from the page allocator (order 0 or a compound page) */
	NFM_ALLOC_VMALLOC,	/* a vmalloc/vmap area */
};

struct nfm_alloc {
	enum nfm_alloc_kind kind;
	uint64_t start;		/* the object, block or area holding the address */
	uint64_t size;		/* its usable bytes: object_size, PAGE_SIZE << order, or the area
				 * without its guard page */
	uint64_t slot_size;	/* slab: the cache's stride (object, metadata, padding); else 0 */
	uint64_t cache;		/* slab: the struct kmem_cache; else 0 */
	char cache_name[32];	/* slab: the cache's name ("kmalloc-256", "task_struct") */
	unsigned int order;	/* slab and pages: the page order of the slab or block */
};

/* Human names of the kinds: "slab", "pages", "vmalloc". */
const char *nfm_alloc_kind_name(enum nfm_alloc_kind k);

/*
 * The allocation holding va into *a. 0; -ENOENT when va is in none that nfm can see (the kernel
 * image, memblock tables, a free page, a slab's metadata); -EBADMSG for inconsistent allocator
 * data; -EFAULT when unreadable.
 */
int nfm_alloc_find(struct nfm_ctx *ctx, uint64_t va, struct nfm_alloc *a);

/*
 * Does [va, va + len) lie inside one allocation? 1 yes, 0 no (the allocation is smaller, or va
 * is not where an object starts its usable bytes), -ENOENT when there is no allocation to
 * check against (a caller falls back to its own rule), other -errno on bad data.
 */
int nfm_alloc_holds(struct nfm_ctx *ctx, uint64_t va, uint64_t len);

#endif
