// SPDX-License-Identifier: GPL-2.0-or-later
/* /proc/meminfo from the global vmstat counters (fs/proc/meminfo.c, mm/page_alloc.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"

#define MAX_NODES 1024
#define MAX_BDEV_INODES 65536

struct mem_off {
	int32_t zone_size, watermark, boost, node_zones, node_zones_size;
	int32_t sb_inodes, i_sb_list, i_mapping, nrpages;
	/* vmstat item indexes */
	int64_t free_pages, file_pages, active_file, inactive_file, slab_rec, slab_unrec, misc_rec,
		shmem, swapcache, wmark_low;
};

static const struct nfm_field_spec mem_specs[] = {
	NFM_FIELD(struct mem_off, zone_size, "zone", "", NFM_FIELD_SIZE),
	NFM_FIELD(struct mem_off, watermark, "zone", "_watermark", 0),
	NFM_FIELD(struct mem_off, boost, "zone", "watermark_boost", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct mem_off, node_zones, "pglist_data", "node_zones", 0),
	NFM_FIELD(struct mem_off, sb_inodes, "super_block", "s_inodes", 0),
	NFM_FIELD(struct mem_off, i_sb_list, "inode", "i_sb_list", 0),
	NFM_FIELD(struct mem_off, i_mapping, "inode", "i_mapping", 0),
	NFM_FIELD(struct mem_off, nrpages, "address_space", "nrpages", 0),
};

static int make_mem_off(struct nfm_ctx *ctx, void *block)
{
	static const struct { const char *name; size_t off; } items[] = {
		{ "NR_FREE_PAGES", offsetof(struct mem_off, free_pages) },
		{ "NR_FILE_PAGES", offsetof(struct mem_off, file_pages) },
		{ "NR_ACTIVE_FILE", offsetof(struct mem_off, active_file) },
		{ "NR_INACTIVE_FILE", offsetof(struct mem_off, inactive_file) },
		{ "NR_SLAB_RECLAIMABLE_B", offsetof(struct mem_off, slab_rec) },
		{ "NR_SLAB_UNRECLAIMABLE_B", offsetof(struct mem_off, slab_unrec) },
		{ "NR_KERNEL_MISC_RECLAIMABLE", offsetof(struct mem_off, misc_rec) },
		{ "NR_SHMEM", offsetof(struct mem_off, shmem) },
		{ "NR_SWAPCACHE", offsetof(struct mem_off, swapcache) },
		{ "WMARK_LOW", offsetof(struct mem_off, wmark_low) },
	};
	struct mem_off *o = block;
	struct nfm_field f;
	size_t i;
	int err;

	err = nfm_resolve_fields(ctx, mem_specs, sizeof(mem_specs) / sizeof(mem_specs[0]), o);
	if (err == 0 && nfm_btf_field(ctx->btf, "pglist_data", "node_zones", &f) == 0)
		o->node_zones_size = (int32_t)f.size;
	for (i = 0; err == 0 && i < sizeof(items) / sizeof(items[0]); i++) {
		int64_t *dst = (int64_t *)((char *)o + items[i].off);

		if (nfm_btf_enum_value(ctx->btf, items[i].name, dst) < 0) {
			/* NR_SWAPCACHE is 5.12+; the rest every 6.x kernel has. */
			if (!strcmp(items[i].name, "NR_SWAPCACHE")) {
				*dst = -1;
				continue;
			}
			nfm_err(&ctx->log, "this kernel has no %s in its BTF", items[i].name);
			err = -ENOENT;
		} else if (*dst < 0 || *dst > 256) {
			err = -EBADMSG;
		}
	}
	if (err == 0 && (o->zone_size <= 0 || o->node_zones_size <= 0))
		err = -ENOENT;
	return err;
}

static int mem_offsets(struct nfm_ctx *ctx, const struct mem_off **ret)
{
	int err;

	*ret = nfm_kernel_layout(ctx, NFM_SLOT_SYS, sizeof(struct mem_off), make_mem_off, &err);
	return err;
}

static int stat_item(struct nfm_ctx *ctx, uint64_t arr, int64_t idx, int64_t *ret)
{
	uint64_t v;
	int err;

	if (idx < 0) {
		*ret = 0;
		return 0;
	}
	err = nfm_kread_u64(ctx, arr + (uint64_t)idx * 8, &v);
	if (err < 0)
		return err;
	/* Global counters may dip below zero while per-CPU deltas are unfolded (as the kernel clamps). */
	*ret = (int64_t)v < 0 ? 0 : (int64_t)v;
	return 0;
}

static int read_long(struct nfm_ctx *ctx, const char *sym, int64_t *ret)
{
	uint64_t a, v;
	int err = nfm_ksym(ctx, sym, &a);

	if (err == 0)
		err = nfm_kread_u64(ctx, a, &v);
	if (err == 0)
		*ret = (int64_t)v;
	return err;
}

/* Sum of every zone's low watermark (plus boost): si_mem_available()'s wmark_low. */
static int64_t wmark_low(struct nfm_ctx *ctx, const struct mem_off *o)
{
	uint64_t nd, pgdat;
	uint32_t nr_nodes = 1;
	int64_t sum = 0;
	int nzones = o->node_zones_size / o->zone_size, n, z;

	if (nfm_ksym(ctx, "node_data", &nd) == 0) {
		uint64_t a;

		if (nfm_ksym(ctx, "nr_node_ids", &a) == 0)
			nfm_kread_u32(ctx, a, &nr_nodes);
		if (nr_nodes > MAX_NODES)
			nr_nodes = MAX_NODES;
	} else if (nfm_ksym(ctx, "contig_page_data", &nd) < 0) {
		return 0;
	} else {
		nd = 0;	/* flat memory: the one pglist_data */
	}
	for (n = 0; n < (int)nr_nodes; n++) {
		if (nd == 0) {
			if (nfm_ksym(ctx, "contig_page_data", &pgdat) < 0)
				break;
		} else if (nfm_kread_u64(ctx, nd + (uint64_t)n * 8, &pgdat) < 0 || !pgdat) {
			continue;
		}
		if (!nfm_kptr_ok(ctx, pgdat))
			continue;
		for (z = 0; z < nzones; z++) {
			uint64_t zone = pgdat + (uint64_t)o->node_zones + (uint64_t)z * (uint64_t)o->zone_size;
			uint64_t wm = 0, boost = 0;

			if (nfm_kread_u64(ctx, zone + (uint64_t)o->watermark + (uint64_t)o->wmark_low * 8,
					  &wm) < 0)
				continue;
			if (o->boost >= 0)
				nfm_kread_u64(ctx, zone + (uint64_t)o->boost, &boost);
			sum += (int64_t)(wm + boost);
		}
	}
	return sum;
}

/* nr_blockdev_pages(): page cache of every block device inode. */
static int64_t blockdev_pages(struct nfm_ctx *ctx, const struct mem_off *o)
{
	struct nfm_list_iter it;
	uint64_t a, sb, node, map, nr;
	int64_t sum = 0;

	if (nfm_ksym(ctx, "blockdev_superblock", &a) < 0 || nfm_kread_u64(ctx, a, &sb) < 0 ||
	    !nfm_kptr_ok(ctx, sb))
		return 0;
	nfm_list_iter_init(&it, ctx, sb + (uint64_t)o->sb_inodes, MAX_BDEV_INODES);
	while (nfm_list_iter_next(&it, &node) > 0) {
		uint64_t inode = nfm_container_of(node, o->i_sb_list);

		if (nfm_kread_u64(ctx, inode + (uint64_t)o->i_mapping, &map) == 0 && nfm_kptr_ok(ctx, map) &&
		    nfm_kread_u64(ctx, map + (uint64_t)o->nrpages, &nr) == 0)
			sum += (int64_t)nr;
	}
	return sum;
}

int nfm_meminfo(struct nfm_ctx *ctx, struct nfm_meminfo *ret)
{
	const struct mem_off *o;
	int64_t total = 0, freep = 0, filep = 0, act = 0, inact = 0, srec = 0, sunrec = 0, misc = 0;
	int64_t shmem = 0, swc = 0, reserve = 0;
	int64_t swap_total = 0, swap_free = 0, buffers, cached, avail, pagecache, reclaimable, wl;
	uint64_t zs, ns;
	int err;

	err = mem_offsets(ctx, &o);
	if (err == 0)
		err = read_long(ctx, "_totalram_pages", &total);
	if (err == 0)
		err = nfm_ksym(ctx, "vm_zone_stat", &zs);
	if (err == 0)
		err = nfm_ksym(ctx, "vm_node_stat", &ns);
	if (err == 0)
		err = stat_item(ctx, zs, o->free_pages, &freep);
	if (err == 0)
		err = stat_item(ctx, ns, o->file_pages, &filep);
	if (err == 0)
		err = stat_item(ctx, ns, o->active_file, &act);
	if (err == 0)
		err = stat_item(ctx, ns, o->inactive_file, &inact);
	if (err == 0)
		err = stat_item(ctx, ns, o->slab_rec, &srec);
	if (err == 0)
		err = stat_item(ctx, ns, o->slab_unrec, &sunrec);
	if (err == 0)
		err = stat_item(ctx, ns, o->misc_rec, &misc);
	if (err == 0)
		err = stat_item(ctx, ns, o->shmem, &shmem);
	if (err == 0)
		err = stat_item(ctx, ns, o->swapcache, &swc);
	if (err < 0)
		return err;
	read_long(ctx, "totalreserve_pages", &reserve);
	read_long(ctx, "total_swap_pages", &swap_total);
	read_long(ctx, "nr_swap_pages", &swap_free);
	buffers = blockdev_pages(ctx, o);
	cached = filep - swc - buffers;
	if (cached < 0)
		cached = 0;
	/* si_mem_available() */
	wl = wmark_low(ctx, o);
	avail = freep - reserve;
	pagecache = act + inact;
	pagecache -= pagecache / 2 < wl ? pagecache / 2 : wl;
	avail += pagecache;
	reclaimable = srec + misc;
	avail += reclaimable - (reclaimable / 2 < wl ? reclaimable / 2 : wl);
	if (avail < 0)
		avail = 0;
#define KB(pages) ((uint64_t)(pages) * 4)
	*ret = (struct nfm_meminfo){
		.mem_total = KB(total), .mem_free = KB(freep), .mem_available = KB(avail),
		.buffers = KB(buffers), .cached = KB(cached), .swap_cached = KB(swc),
		.swap_total = KB(swap_total), .swap_free = KB(swap_free < 0 ? 0 : swap_free),
		.shmem = KB(shmem), .slab_reclaimable = KB(srec), .slab_unreclaimable = KB(sunrec),
	};
#undef KB
	return 0;
}
