// SPDX-License-Identifier: GPL-2.0-or-later
/* The allocation holding a kernel address: see alloc.h (mm/slub.c, mm/page_alloc.c, mm/vmalloc.c). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/context.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "kmem/alloc.h"

#define MAX_CACHES 4096
#define MAX_TREE_DEPTH 64
#define MAX_VMAP_NODES 1024
#define PAGE 4096ull
#define VM_NO_GUARD 0x40ull	/* include/linux/vmalloc.h, 5.x to 6.12 */
#define DIRECT_MAP_SPAN (64ull << 40)	/* x86-64 4-level direct map: 64 TiB */

struct alloc_off {
	int32_t page_size, page_flags, compound_head, slab_cache, page_slab_cache;
	int32_t folio_order, folio_flags1, page_order;
	int32_t kc_list, kc_name, kc_object_size, kc_size, kc_red_left_pad;
	int32_t va_start, va_end, va_rb, vn_size, vn_busy_root, rb_right, rb_left, va_vm, vm_flags;
};

#define F(m, t, p, f) NFM_FIELD(struct alloc_off, m, t, p, f)
static const struct nfm_field_spec alloc_specs[] = {
	F(page_size, "page", "", NFM_FIELD_SIZE),
	F(page_flags, "page", "flags", 0),
	F(compound_head, "page", "compound_head", 0),
	F(slab_cache, "slab", "slab_cache", NFM_FIELD_OPTIONAL),		/* 5.17+ */
	F(page_slab_cache, "page", "slab_cache", NFM_FIELD_OPTIONAL),	/* before: in the page */
	F(folio_order, "folio", "_folio_order", NFM_FIELD_OPTIONAL),	/* 6.1 */
	F(folio_flags1, "folio", "_flags_1", NFM_FIELD_OPTIONAL),	/* later: order in bits 0-7 */
	F(page_order, "page", "compound_order", NFM_FIELD_OPTIONAL),	/* before folios: page[1] */
	F(kc_list, "kmem_cache", "list", 0),
	F(kc_name, "kmem_cache", "name", 0),
	F(kc_object_size, "kmem_cache", "object_size", 0),
	F(kc_size, "kmem_cache", "size", 0),
	F(kc_red_left_pad, "kmem_cache", "red_left_pad", NFM_FIELD_OPTIONAL),
	F(va_start, "vmap_area", "va_start", 0),
	F(va_end, "vmap_area", "va_end", 0),
	F(va_rb, "vmap_area", "rb_node", 0),
	F(va_vm, "vmap_area", "vm", NFM_FIELD_OPTIONAL),
	F(vm_flags, "vm_struct", "flags", NFM_FIELD_OPTIONAL),
	F(vn_size, "vmap_node", "", NFM_FIELD_SIZE | NFM_FIELD_OPTIONAL),	/* 6.9+ */
	F(vn_busy_root, "vmap_node", "busy.root", NFM_FIELD_OPTIONAL),
	F(rb_right, "rb_node", "rb_right", 0),
	F(rb_left, "rb_node", "rb_left", 0),
};
#undef F

struct cache {
	uint64_t addr;
	uint32_t object_size, size, red_left_pad;
	char name[32];
};

struct alloc_state {
	struct alloc_off o;
	uint64_t vmemmap, page_offset, head_mask;
	/* the direct map [direct_lo, direct_hi): pa = va - page_offset + phys_offset (mod 2^64;
	 * x86-64: phys_offset 0, arm64: PHYS_OFFSET); vmemmap: the struct page of pfn 0 */
	uint64_t direct_lo, direct_hi, phys_offset;
	uint64_t vmap_root;		/* &vmap_area_root.rb_node (one tree), or 0 */
	uint64_t vmap_nodes, zone_size;	/* vmap_node array and its zone size (per-node trees) */
	uint32_t nr_nodes;
	struct cache *caches;		/* sorted by addr */
	size_t ncaches;
	int err;			/* why this kernel's allocators cannot be read, or 0 */
};

static void state_free(void *p)
{
	struct alloc_state *s = p;

	if (s)
		free(s->caches);
	free(s);
}

static int cache_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct cache *)a)->addr, y = ((const struct cache *)b)->addr;

	return x < y ? -1 : x > y;
}

/* Every kmem_cache on slab_caches, sorted: a page is a slab only if it names one of them. */
static int read_caches(struct nfm_ctx *ctx, struct alloc_state *s)
{
	struct nfm_list_iter it;
	uint64_t head, node;
	size_t cap = 256;
	int r;

	if (nfm_sym_lookup(ctx, "slab_caches", &head, NULL) < 0)
		return -ENOENT;
	s->caches = malloc(cap * sizeof(*s->caches));
	if (!s->caches)
		return -ENOMEM;
	nfm_list_iter_init(&it, ctx, head, MAX_CACHES);
	while ((r = nfm_list_iter_next(&it, &node)) > 0) {
		struct cache *c;
		uint64_t kc = node - (uint64_t)s->o.kc_list, name;

		if (s->ncaches == cap) {
			struct cache *n = realloc(s->caches, 2 * cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			s->caches = n;
			cap *= 2;
		}
		c = &s->caches[s->ncaches];
		memset(c, 0, sizeof(*c));
		c->addr = kc;
		if (nfm_kread_u32(ctx, kc + (uint64_t)s->o.kc_object_size, &c->object_size) < 0 ||
		    nfm_kread_u32(ctx, kc + (uint64_t)s->o.kc_size, &c->size) < 0 ||
		    (s->o.kc_red_left_pad >= 0 &&
		     nfm_kread_u32(ctx, kc + (uint64_t)s->o.kc_red_left_pad, &c->red_left_pad) < 0))
			continue;
		if (!c->size || c->object_size > c->size || c->red_left_pad >= c->size)
			continue;	/* not a cache we can lay out: never matched */
		if (nfm_kread_u64(ctx, kc + (uint64_t)s->o.kc_name, &name) == 0 && name >> 63)
			/* a string: any alignment */
			nfm_kread_str(ctx, name, c->name, sizeof(c->name));
		s->ncaches++;
	}
	if (r < 0)
		nfm_dbg(&ctx->log, "slab_caches: the list ends early (%d); %zu caches", r, s->ncaches);
	qsort(s->caches, s->ncaches, sizeof(*s->caches), cache_cmp);
	return 0;
}

static struct alloc_state *alloc_state(struct nfm_ctx *ctx, int *err)
{
	struct alloc_state *s = nfm_kernel_slot(ctx, NFM_SLOT_ALLOC);
	uint64_t a;
	int64_t mask;

	if (s) {
		*err = s->err;
		return s->err ? NULL : s;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = nfm_resolve_fields(ctx, alloc_specs, sizeof(alloc_specs) / sizeof(alloc_specs[0]), &s->o);
	if (*err == 0 && (s->o.page_size <= 0 || s->o.page_size > 256))
		*err = -EBADMSG;
	/* The slab's cache: struct slab since 5.17, the slab page's own struct page before. */
	if (*err == 0 && s->o.slab_cache < 0)
		s->o.slab_cache = s->o.page_slab_cache;
	if (*err == 0 && s->o.slab_cache < 0)
		*err = -ENOENT;
	/* A compound block's order: in its first tail page (folio members span both pages). */
	if (*err == 0 && s->o.folio_order < 0 && s->o.folio_flags1 < 0 && s->o.page_order >= 0)
		s->o.page_order += s->o.page_size;
	else if (*err == 0)
		s->o.page_order = -1;
	if (*err == 0 && ctx->mmu->arch == NFM_MMU_ARM64) {
		/* arm64: vmemmap and PHYS_OFFSET as discovery found them; the linear map ends
		 * halfway up the range the CPU translates (a 52-bit kernel on 48 bits: its upper
		 * part only) */
		int vb = ctx->mmu->va_bits;

		s->vmemmap = ctx->mmu->vmemmap;
		s->page_offset = ctx->mmu->page_offset;
		s->phys_offset = ctx->mmu->phys_offset;
		s->direct_lo = s->page_offset > ~0ull << vb ? s->page_offset : ~0ull << vb;
		s->direct_hi = (~0ull << vb) + (1ull << (vb - 1));
	} else if (*err == 0) {
		/* vmemmap_base is randomized with RANDOMIZE_MEMORY; the fixed base otherwise */
		s->vmemmap = ctx->mmu->levels == 5 ? 0xffd4000000000000ull : 0xffffea0000000000ull;
		if (nfm_sym_lookup(ctx, "vmemmap_base", &a, NULL) == 0)
			nfm_kread_u64(ctx, a, &s->vmemmap);
		s->page_offset = ctx->mmu->page_offset;
		s->direct_lo = s->page_offset;
		s->direct_hi = s->page_offset + DIRECT_MAP_SPAN;
	}
	if (*err == 0) {
		s->head_mask = ctx->vmci && nfm_vmcoreinfo_number(ctx->vmci, "PG_head_mask", &mask) == 0 &&
			       mask > 0 ? (uint64_t)mask : 1ull << 16;	/* PG_head in 6.1 and 6.12 */
		if (s->o.vn_size > 0 && s->o.vn_busy_root >= 0 &&
		    nfm_sym_lookup(ctx, "vmap_nodes", &a, NULL) == 0 &&
		    nfm_kread_u64(ctx, a, &s->vmap_nodes) == 0 &&
		    nfm_sym_lookup(ctx, "nr_vmap_nodes", &a, NULL) == 0 &&
		    nfm_kread_u32(ctx, a, &s->nr_nodes) == 0 &&
		    nfm_sym_lookup(ctx, "vmap_zone_size", &a, NULL) == 0)
			nfm_kread_u64(ctx, a, &s->zone_size);
		else if (nfm_sym_lookup(ctx, "vmap_area_root", &a, NULL) == 0)
			s->vmap_root = a;	/* struct rb_root: its first member is rb_node */
		if (!s->page_offset || !nfm_kptr_ok(ctx, s->vmemmap))
			*err = -ENOENT;
	}
	if (*err == 0)
		*err = read_caches(ctx, s);
	/* a symbol or member missing is not "in no allocation": the tables are not found */
	if (*err == -ENOENT)
		*err = -ENODATA;
	if (*err < 0 && *err != -ENOMEM) {
		/* remembered: every fdtable asks, and the answer will not change within an attach */
		free(s->caches);
		s->caches = NULL;
		s->ncaches = 0;
		s->err = *err;
	}
	if (*err != -ENOMEM && nfm_kernel_set_slot(ctx, NFM_SLOT_ALLOC, s, state_free) == 0)
		return s->err ? NULL : s;
	state_free(s);
	if (*err == 0)
		*err = -ENOMEM;
	return NULL;
}

const char *nfm_alloc_kind_name(enum nfm_alloc_kind k)
{
	switch (k) {
	case NFM_ALLOC_SLAB: return "slab";
	case NFM_ALLOC_PAGES: return "pages";
	case NFM_ALLOC_VMALLOC: return "vmalloc";
	}
	return "?";
}

static const struct cache *find_cache(const struct alloc_state *s, uint64_t kc)
{
	size_t lo = 0, hi = s->ncaches;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->caches[mid].addr == kc)
			return &s->caches[mid];
		if (s->caches[mid].addr < kc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A direct-map address: its slab object, or its page block. */
static int find_direct(struct nfm_ctx *ctx, const struct alloc_state *s, uint64_t va,
		       struct nfm_alloc *a)
{
	const struct alloc_off *o = &s->o;
	uint64_t pfn = (va - s->page_offset + s->phys_offset) / PAGE;
	uint64_t page = s->vmemmap + pfn * (uint64_t)o->page_size;
	uint64_t ch, flags, head, kc, base, off;
	unsigned int order = 0;
	const struct cache *c;

	if (nfm_kread_u64(ctx, page + (uint64_t)o->compound_head, &ch) < 0)
		return -EFAULT;
	head = page;
	if (ch & 1) {	/* a tail page: compound_head points at the head, bit 0 set */
		head = ch - 1;
		if (head > page || head < s->vmemmap || (page - head) / (uint64_t)o->page_size >= 1u << 20 ||
		    (head - s->vmemmap) % (uint64_t)o->page_size)
			return -EBADMSG;
	}
	if (nfm_kread_u64(ctx, head + (uint64_t)o->page_flags, &flags) < 0)
		return -EFAULT;
	if (flags & s->head_mask) {
		uint64_t v = 0;

		if (o->folio_order >= 0) {
			uint8_t b;

			if (nfm_kread(ctx, head + (uint64_t)o->folio_order, &b, 1) < 0)
				return -EFAULT;
			v = b;
		} else if (o->folio_flags1 >= 0) {
			if (nfm_kread_u64(ctx, head + (uint64_t)o->folio_flags1, &v) < 0)
				return -EFAULT;
			v &= 0xff;
		} else if (o->page_order >= 0) {
			uint8_t b;

			if (nfm_kread(ctx, head + (uint64_t)o->page_order, &b, 1) < 0)
				return -EFAULT;
			v = b;
		}
		if (v > 20)
			return -EBADMSG;	/* MAX_ORDER is 10; a gigantic hugetlb page 18 */
		order = (unsigned int)v;
	}
	if ((page - head) / (uint64_t)o->page_size >= 1ull << order)
		return -EBADMSG;	/* a tail beyond its head's block */
	base = (head - s->vmemmap) / (uint64_t)o->page_size * PAGE - s->phys_offset + s->page_offset;
	memset(a, 0, sizeof(*a));
	a->order = order;
	if (nfm_kread_u64(ctx, head + (uint64_t)o->slab_cache, &kc) == 0 && (c = find_cache(s, kc))) {
		off = va - base;
		a->kind = NFM_ALLOC_SLAB;
		a->cache = kc;
		memcpy(a->cache_name, c->name, sizeof(a->cache_name));
		a->start = base + off / c->size * c->size + c->red_left_pad;
		a->size = c->object_size;
		a->slot_size = c->size;
		if (a->start + c->size - c->red_left_pad > base + (PAGE << order))
			return -ENOENT;	/* the slab's unused tail */
		if (va < a->start || va >= a->start + a->size)
			return -ENOENT;	/* a red zone or the object's metadata */
		return 0;
	}
	a->kind = NFM_ALLOC_PAGES;
	a->start = base;
	a->size = PAGE << order;
	return 0;
}

/* The vmap_area holding va in the rbtree whose root pointer is at root_ptr. */
/* Does the busy area end with a guard page: not when its vm_struct says VM_NO_GUARD. */
static bool guarded(struct nfm_ctx *ctx, const struct alloc_off *o, uint64_t area)
{
	uint64_t vm, flags;

	return o->va_vm < 0 || o->vm_flags < 0 ||
	       nfm_kread_u64(ctx, area + (uint64_t)o->va_vm, &vm) < 0 || !nfm_kptr_ok(ctx, vm) ||
	       nfm_kread_u64(ctx, vm + (uint64_t)o->vm_flags, &flags) < 0 || !(flags & VM_NO_GUARD);
}

static int tree_find(struct nfm_ctx *ctx, const struct alloc_off *o, uint64_t root_ptr, uint64_t va,
		     struct nfm_alloc *a)
{
	uint64_t n, start, end;
	int depth;

	if (nfm_kread_u64(ctx, root_ptr, &n) < 0)
		return -EFAULT;
	for (depth = 0; n && depth < MAX_TREE_DEPTH; depth++) {
		uint64_t area = n - (uint64_t)o->va_rb;

		if (!nfm_kptr_ok(ctx, n) || nfm_budget_take(ctx, 1) < 0)
			return -EBADMSG;
		if (nfm_kread_u64(ctx, area + (uint64_t)o->va_start, &start) < 0 ||
		    nfm_kread_u64(ctx, area + (uint64_t)o->va_end, &end) < 0)
			return -EFAULT;
		if (end <= start)
			return -EBADMSG;
		if (va >= start && va < end) {
			memset(a, 0, sizeof(*a));
			a->kind = NFM_ALLOC_VMALLOC;
			a->start = start;
			/* areas carry a guard page after them unless VM_NO_GUARD (arm64's kernel
			 * segments): never usable */
			a->size = end - start > PAGE && guarded(ctx, o, area) ? end - start - PAGE
									     : end - start;
			return va < start + a->size ? 0 : -ENOENT;
		}
		if (nfm_kread_u64(ctx, n + (uint64_t)(va < start ? o->rb_left : o->rb_right), &n) < 0)
			return -EFAULT;
	}
	return n ? -ELOOP : -ENOENT;
}

static int find_vmalloc(struct nfm_ctx *ctx, const struct alloc_state *s, uint64_t va,
			struct nfm_alloc *a)
{
	uint32_t i, first;
	int err = -ENOENT;

	if (s->vmap_root)
		return tree_find(ctx, &s->o, s->vmap_root, va, a);
	if (!s->vmap_nodes || !s->nr_nodes || s->nr_nodes > MAX_VMAP_NODES || !s->zone_size)
		return -ENOENT;
	/* addr_to_node(): the node of the address's zone first, then every other (find_vmap_area) */
	first = (uint32_t)((va / s->zone_size) % s->nr_nodes);
	for (i = 0; i < s->nr_nodes && err == -ENOENT; i++) {
		uint64_t node = s->vmap_nodes + (uint64_t)((first + i) % s->nr_nodes) * (uint64_t)s->o.vn_size;

		err = tree_find(ctx, &s->o, node + (uint64_t)s->o.vn_busy_root, va, a);
	}
	return err;
}

int nfm_alloc_find(struct nfm_ctx *ctx, uint64_t va, struct nfm_alloc *a)
{
	struct alloc_state *s;
	int err;

	s = alloc_state(ctx, &err);
	if (!s)
		return err;
	if (va >= s->direct_lo && va < s->direct_hi)
		return find_direct(ctx, s, va, a);
	return find_vmalloc(ctx, s, va, a);
}

int nfm_alloc_holds(struct nfm_ctx *ctx, uint64_t va, uint64_t len)
{
	struct nfm_alloc a;
	int err = nfm_alloc_find(ctx, va, &a);

	if (err < 0)
		return err;
	return va >= a.start && len <= a.size - (va - a.start);
}
