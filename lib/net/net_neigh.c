// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Neighbour tables (net/core/neighbour.c): arp_tbl and nd_tbl, each a hash of 1 << hash_shift
 * buckets (nht->hash_buckets, chained through neighbour->next; an hlist through
 * neighbour->hash where the kernel has hash_heads instead). One table holds every namespace:
 * a neighbour's namespace is its device's. Entries come in bucket order, as /proc/net/arp
 * (neigh_seq_*) lists them; proxy entries (pneigh) are not walked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nfm/system.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "walk/seen.h"
#include "net/net_common.h"
#include "util/pack.h"

#define MAX_HASH_SHIFT 24
#define CHUNK 256u	/* bucket heads read at once */

struct neigh_off {
	int32_t tbl_nht, tbl_key_len, nht_buckets, nht_heads, nht_shift;
	int32_t n_next, n_hash, n_dev, n_ha, n_nud, n_flags, n_type, n_key;
	int32_t dev_name, dev_type, dev_addr_len, dev_nd_net;
};

#define F(m, t, p, f) NFM_FIELD(struct neigh_off, m, t, p, f)
static const struct nfm_field_spec neigh_specs[] = {
	F(tbl_nht, "neigh_table", "nht", 0),
	F(tbl_key_len, "neigh_table", "key_len", 0),
	F(nht_buckets, "neigh_hash_table", "hash_buckets", NFM_FIELD_OPTIONAL),
	F(nht_heads, "neigh_hash_table", "hash_heads", NFM_FIELD_OPTIONAL),
	F(nht_shift, "neigh_hash_table", "hash_shift", 0),
	F(n_next, "neighbour", "next", NFM_FIELD_OPTIONAL),
	F(n_hash, "neighbour", "hash", NFM_FIELD_OPTIONAL),
	F(n_dev, "neighbour", "dev", 0),
	F(n_ha, "neighbour", "ha", 0),
	F(n_nud, "neighbour", "nud_state", 0),
	F(n_flags, "neighbour", "flags", 0),
	F(n_type, "neighbour", "type", 0),
	F(n_key, "neighbour", "primary_key", 0),
	F(dev_name, "net_device", "name", 0),
	F(dev_type, "net_device", "type", 0),
	F(dev_addr_len, "net_device", "addr_len", 0),
	F(dev_nd_net, "net_device", "nd_net", 0),
};
#undef F

static int make_neigh_off(struct nfm_ctx *ctx, void *block)
{
	struct neigh_off *o = block;
	int err = nfm_resolve_fields(ctx, neigh_specs, sizeof(neigh_specs) / sizeof(neigh_specs[0]),
				     o);

	if (err == 0 && !((o->nht_buckets >= 0 && o->n_next >= 0) ||
			  (o->nht_heads >= 0 && o->n_hash >= 0))) {
		nfm_err(&ctx->log, "this kernel's neighbour hash has an unknown layout");
		err = -ENOENT;
	}
	return err;
}

static const struct neigh_off *neigh_offsets(struct nfm_ctx *ctx, int *err)
{
	return nfm_kernel_layout(ctx, NFM_SLOT_NEIGH, sizeof(struct neigh_off), make_neigh_off, err);
}

static void one(struct nfm_ctx *ctx, const struct neigh_off *o, uint64_t n, int family, int key_len,
		const struct nfm_netns *ns, int nns, struct nfm_pack *pk)
{
	struct nfm_neigh *e;
	uint64_t dev, net = 0;
	uint8_t v8 = 0;
	uint16_t type = 0;

	if (nfm_kread_u64(ctx, n + (uint64_t)o->n_dev, &dev) < 0 || !nfm_kptr_ok(ctx, dev))
		return;
	e = nfm_pack_add(pk);
	if (!e)
		return;
	e->family = family;
	if (nfm_kread(ctx, n + (uint64_t)o->n_key, e->addr, (size_t)key_len) < 0 ||
	    nfm_kread(ctx, n + (uint64_t)o->n_ha, e->lladdr, sizeof(e->lladdr)) < 0 ||
	    nfm_kread_str(ctx, dev + (uint64_t)o->dev_name, e->ifname, sizeof(e->ifname)) < 0 ||
	    nfm_kread(ctx, dev + (uint64_t)o->dev_addr_len, &v8, 1) < 0) {
		nfm_pack_drop(pk);
		return;
	}
	e->dev_addr_len = e->lladdr_len = v8 > 32 ? 32 : v8;
	nfm_kread(ctx, dev + (uint64_t)o->dev_type, &type, 2);
	e->type = type;
	v8 = 0;
	nfm_kread(ctx, n + (uint64_t)o->n_nud, &v8, 1);
	e->state = v8;
	v8 = 0;
	nfm_kread(ctx, n + (uint64_t)o->n_flags, &v8, 1);
	e->flags = v8;
	nfm_kread_u64(ctx, dev + (uint64_t)o->dev_nd_net, &net);
	e->netns = nfm_netns_inum(ns, nns, net);
}

static int table(struct nfm_ctx *ctx, const struct neigh_off *o, uint64_t tbl, int family,
		 const struct nfm_netns *ns, int nns, struct nfm_seen *seen, struct nfm_pack *pk)
{
	struct nfm_net_chain c;
	uint64_t nht, buckets, first, n, heads[CHUNK];
	uint32_t shift, i, key_len = 0;
	int err = 0, r;
	bool hl = o->nht_heads >= 0;

	if (nfm_kread_u64(ctx, tbl + (uint64_t)o->tbl_nht, &nht) < 0 || !nfm_kptr_ok(ctx, nht) ||
	    nfm_kread_u64(ctx, nht + (uint64_t)(hl ? o->nht_heads : o->nht_buckets), &buckets) < 0 ||
	    nfm_kread_u32(ctx, nht + (uint64_t)o->nht_shift, &shift) < 0 ||
	    nfm_kread_u32(ctx, tbl + (uint64_t)o->tbl_key_len, &key_len) < 0)
		return -EFAULT;
	if (!nfm_kptr_ok(ctx, buckets) || shift > MAX_HASH_SHIFT || key_len > 16)
		return -EBADMSG;
	/*
	 * The table's real size: neigh_hash_grow() doubles it only when the entries outnumber the
	 * buckets, and each entry is a neighbour of a few hundred bytes; a bucket count RAM could
	 * not back that way reads past the allocation into whatever follows.
	 */
	if ((1ull << shift) > nfm_budget_objects(ctx, 16 * 8)) {
		nfm_dbg(&ctx->log, "neighbour hash: hash_shift %u larger than RAM allows", shift);
		return -EBADMSG;
	}
	for (i = 0; i < (1u << shift); i++) {
		if (i % CHUNK == 0 && nfm_kread(ctx, buckets + 8ull * i, heads,
						8 * ((1u << shift) - i < CHUNK ? (1u << shift) - i : CHUNK)) < 0) {
			err = -EFAULT;
			i += CHUNK - 1;	/* the whole chunk is unreadable */
			continue;
		}
		first = heads[i % CHUNK];
		/* chained through neighbour->next, or an hlist through neighbour->hash */
		if (hl)
			nfm_net_chain_init(&c, ctx, seen, pk, first, o->n_hash, 0);
		else
			nfm_net_chain_init(&c, ctx, seen, pk, first, 0, o->n_next);
		while ((r = nfm_net_chain_next(&c, &n)) > 0)
			one(ctx, o, n, family, (int)key_len, ns, nns, pk);
		if (r < 0)
			err = r;
	}
	return err;
}

int nfm_neigh_list(struct nfm_ctx *ctx, struct nfm_neigh **ret, bool *truncated)
{
	const struct neigh_off *o;
	struct nfm_netns *ns;
	struct nfm_seen seen = { 0 };
	struct nfm_pack pk;
	uint64_t tbl;
	bool trunc = false;
	int nns, err;

	o = neigh_offsets(ctx, &err);
	if (!o)
		return err;
	if ((err = nfm_ksym(ctx, "arp_tbl", &tbl)) < 0)
		return err;
	nns = nfm_netns_list(ctx, &ns, &trunc);
	if (nns < 0)
		return nns;
	nfm_pack_init(&pk, sizeof(struct nfm_neigh));
	/* one seen set for both tables: a neighbour is in one chain of one table */
	if (table(ctx, o, tbl, AF_INET, ns, nns, &seen, &pk) < 0)
		trunc = true;
	/* IPv6 may be a module or absent: its table only when the symbol is there */
	if (nfm_sym_lookup(ctx, "nd_tbl", &tbl, NULL) == 0 &&
	    table(ctx, o, tbl, AF_INET6, ns, nns, &seen, &pk) < 0)
		trunc = true;
	nfm_seen_free(&seen);
	free(ns);
	if (truncated)
		*truncated = trunc;
	return nfm_pack_finish(&pk, NULL, 0, (void **)ret);
}
