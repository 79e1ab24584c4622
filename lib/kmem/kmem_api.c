// SPDX-License-Identifier: GPL-2.0-or-later
/* The public face of kmem/alloc.c: nfm_kmem_find() for `nfm kmem` and libnfm's users. */
#include <string.h>

#include <nfm/system.h>

#include "kmem/alloc.h"

_Static_assert((int)NFM_KMEM_SLAB == (int)NFM_ALLOC_SLAB &&
	       (int)NFM_KMEM_PAGES == (int)NFM_ALLOC_PAGES &&
	       (int)NFM_KMEM_VMALLOC == (int)NFM_ALLOC_VMALLOC, "one numbering of the kinds");
_Static_assert(sizeof(((struct nfm_kmem *)0)->cache_name) ==
	       sizeof(((struct nfm_alloc *)0)->cache_name), "one cache name size");

int nfm_kmem_find(struct nfm_ctx *ctx, uint64_t va, struct nfm_kmem *ret)
{
	struct nfm_alloc a;
	int err;

	memset(ret, 0, sizeof(*ret));
	err = nfm_alloc_find(ctx, va, &a);
	if (err < 0)
		return err;
	ret->kind = (int)a.kind;
	ret->start = a.start;
	ret->size = a.size;
	ret->slot_size = a.slot_size;
	ret->cache = a.cache;
	memcpy(ret->cache_name, a.cache_name, sizeof(ret->cache_name));
	ret->cache_name[sizeof(ret->cache_name) - 1] = 0;
	ret->order = a.order;
	return 0;
}

const char *nfm_kmem_kind_name(int kind)
{
	switch (kind) {
	case NFM_KMEM_SLAB:
	case NFM_KMEM_PAGES:
	case NFM_KMEM_VMALLOC:
		return nfm_alloc_kind_name((enum nfm_alloc_kind)kind);
	}
	return "?";
}
