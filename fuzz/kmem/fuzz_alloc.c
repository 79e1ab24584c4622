// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The allocation behind a kernel address (lib/kmem/alloc.c): the slab_caches ring, struct pages
 * in vmemmap (compound heads and tails, folio orders, slab caches) and the vmap_area rbtree, as
 * nfm_alloc_find and nfm_alloc_holds read them when a walker checks a table size. The input's
 * u64s at pa 0 and 8 are two more addresses to look up, beside fixed ones in each kind.
 */
#include "../common/btfguest.h"
#include "kmem/alloc.h"

#define PAGE 4096u
#define VMEMMAP 0x80000u	/* struct pages of pfn 0..255 (the 1 MiB guest): 16 KiB */
#define CACHE_A FZ_OBJ		/* kmalloc-256: order-0 slabs */
#define CACHE_B (FZ_OBJ + 0x4000)	/* task_struct: order-3 slabs */
#define SLAB_A 0x30000u		/* pfn 0x30 */
#define SLAB_B 0x40000u		/* pfns 0x40..0x47 */
#define PAGES 0x50000u		/* pfn 0x50: a page of no cache */
#define AREAS 0x60000u		/* three vmap_areas and a vm_struct */
#define VMALLOC 0xffffc90000000000ull

static uint32_t page_of(uint32_t pa)
{
	return VMEMMAP + pa / PAGE * fz_size("page");
}

static void put_cache(struct fz_seed *s, uint32_t kc, uint32_t name_pa, const char *name,
		      uint32_t object_size, uint32_t size)
{
	fz_put32(s, kc + fz_off("kmem_cache", "object_size"), object_size);
	fz_put32(s, kc + fz_off("kmem_cache", "size"), size);
	fz_put64(s, kc + fz_off("kmem_cache", "name"), FZ_KV(name_pa));
	fz_putstr(s, name_pa, name);
}

/* An rbtree node of a vmap_area [start, end) with its children (0: none). */
static void put_area(struct fz_seed *s, uint32_t va, uint64_t start, uint64_t end, uint32_t left,
		     uint32_t right, uint32_t vm)
{
	uint32_t rb = va + fz_off("vmap_area", "rb_node");

	fz_put64(s, va + fz_off("vmap_area", "va_start"), start);
	fz_put64(s, va + fz_off("vmap_area", "va_end"), end);
	if (left)
		fz_put64(s, rb + fz_off("rb_node", "rb_left"),
			 FZ_KV(left + fz_off("vmap_area", "rb_node")));
	if (right)
		fz_put64(s, rb + fz_off("rb_node", "rb_right"),
			 FZ_KV(right + fz_off("vmap_area", "rb_node")));
	if (vm)
		fz_put64(s, va + fz_off("vmap_area", "vm"), FZ_KV(vm));
}

static void seed(struct fz_seed *s)
{
	uint32_t ring[3] = { fz_sym_pa("slab_caches"), CACHE_A + fz_off("kmem_cache", "list"),
			     CACHE_B + fz_off("kmem_cache", "list") };
	uint32_t head = page_of(SLAB_B), i;

	fz_put64(s, 0, FZ_KV(SLAB_A + 0x140));	/* inside the second kmalloc-256 object */
	fz_put64(s, 8, VMALLOC + 0x21000);	/* inside the right-hand vmalloc area */
	fz_put64(s, fz_sym_pa("vmemmap_base"), FZ_KV(VMEMMAP));
	fz_ring(s, ring, 3);
	put_cache(s, CACHE_A, CACHE_A + 0x3000, "kmalloc-256", 256, 256);
	put_cache(s, CACHE_B, CACHE_B + 0x3000, "task_struct", 9728, 9984);
	fz_put64(s, page_of(SLAB_A) + fz_off("slab", "slab_cache"), FZ_KV(CACHE_A));
	/* an order-3 compound slab: PG_head on its head, the order in the folio, tails -> head */
	fz_put64(s, head + fz_off("page", "flags"), 1u << 16);
	fz_put(s, head + fz_off("folio", "_folio_order"), "\3", 1);
	fz_put64(s, head + fz_off("slab", "slab_cache"), FZ_KV(CACHE_B));
	for (i = 1; i < 8; i++)
		fz_put64(s, head + i * fz_size("page") + fz_off("page", "compound_head"),
			 FZ_KV(head) + 1);
	fz_put64(s, page_of(PAGES) + fz_off("page", "flags"), 0);
	/* the vmap_area tree: a root with a left and a right child; the left one VM_NO_GUARD */
	fz_put64(s, fz_sym_pa("vmap_area_root"), FZ_KV(AREAS + fz_off("vmap_area", "rb_node")));
	put_area(s, AREAS, VMALLOC + 0x10000, VMALLOC + 0x15000, AREAS + 0x40, AREAS + 0x80, 0);
	put_area(s, AREAS + 0x40, VMALLOC, VMALLOC + 0x2000, 0, 0, AREAS + 0xc0);
	put_area(s, AREAS + 0x80, VMALLOC + 0x20000, VMALLOC + 0x23000, 0, 0, 0);
	fz_put64(s, AREAS + 0xc0 + fz_off("vm_struct", "flags"), 0x40);
}

FZ_SEED_INIT(seed)

static void look(struct fz_guest *g, uint64_t va)
{
	struct nfm_alloc a;
	int err = nfm_alloc_find(g->ctx, va, &a);

	fz_report(err == 0 ? nfm_alloc_kind_name(a.kind) : "none", err == 0 ? (int)a.size : 0, err);
	fz_report("holds", nfm_alloc_holds(g->ctx, va, 64), 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t fixed[] = {
		FZ_KV(SLAB_A + 0x10), FZ_KV(SLAB_B + 2 * 9984 + 5), FZ_KV(SLAB_B + 7 * PAGE),
		FZ_KV(PAGES + 0x10), VMALLOC + 0x10010, VMALLOC + 0x1f00, VMALLOC + 0x4000,
	};
	struct fz_guest *g = fz_guest_new(data, size);
	size_t i;

	for (i = 0; i < FZ_N(fixed); i++)
		look(g, fixed[i]);
	look(g, g->root[0]);
	look(g, g->root[1]);
	fz_guest_free(g);
	return 0;
}
