// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The IPv4 main routing table as /proc/net/route shows it (net/ipv4/fib_trie.c
 * fib_route_seq_show), for every network namespace.
 *
 * The table is an LC-trie: struct trie's kv[0] is a pseudo-node whose one child is the root; an
 * internal node (key_vector with bits != 0) has 1 << bits children in tnode[]; a leaf (bits == 0)
 * holds its key (the prefix, host order) and an hlist of fib_alias (one per prefix length, TOS,
 * table). The local table shares the main trie while no policy rules exist (fib_new_table's
 * alias), so aliases are filtered by tb_id, and broadcast/multicast routes are skipped, as the
 * kernel does. Leaves come out in key order, as the kernel prints them.
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

#define RTN_BROADCAST 3
#define RTN_MULTICAST 5
#define RTF_UP 0x1
#define RTF_GATEWAY 0x2
#define RTF_HOST 0x4
#define RTF_REJECT 0x200
#define KEYLENGTH 32
#define MAX_TRIE_NODES (1u << 22)
#define MAX_ALIASES 1024	/* per leaf */

struct route_off {
	int32_t net_fib_main, tb_id, tb_data, trie_kv, kv_key, kv_bits, kv_leaf;
	int32_t fa_list, fa_info, fa_type, fa_slen, fa_tb_id;
	int32_t fi_priority, fi_metrics, fi_nh, fi_fib_nh, fi_scope, fi_protocol, fnh_common;
	int32_t nhc_dev, nhc_gw, nhc_gw_family, metrics, nh_is_group, nh_info, nhi_nhc, dev_name;
};

#define F(m, t, p, f) NFM_FIELD(struct route_off, m, t, p, f)
static const struct nfm_field_spec route_specs[] = {
	F(net_fib_main, "net", "ipv4.fib_main", 0),
	F(tb_id, "fib_table", "tb_id", 0),
	F(tb_data, "fib_table", "tb_data", 0),
	F(trie_kv, "trie", "kv", 0),
	F(kv_key, "key_vector", "key", 0),
	F(kv_bits, "key_vector", "bits", 0),
	F(kv_leaf, "key_vector", "leaf", 0),
	F(fa_list, "fib_alias", "fa_list", 0),
	F(fa_info, "fib_alias", "fa_info", 0),
	F(fa_type, "fib_alias", "fa_type", 0),
	F(fa_slen, "fib_alias", "fa_slen", 0),
	F(fa_tb_id, "fib_alias", "tb_id", 0),
	F(fi_priority, "fib_info", "fib_priority", 0),
	F(fi_metrics, "fib_info", "fib_metrics", 0),
	F(fi_nh, "fib_info", "nh", NFM_FIELD_OPTIONAL),
	F(fi_fib_nh, "fib_info", "fib_nh", 0),
	F(fi_scope, "fib_info", "fib_scope", 0),
	F(fi_protocol, "fib_info", "fib_protocol", 0),
	F(fnh_common, "fib_nh", "nh_common", 0),
	F(nhc_dev, "fib_nh_common", "nhc_dev", 0),
	F(nhc_gw, "fib_nh_common", "nhc_gw", 0),
	F(nhc_gw_family, "fib_nh_common", "nhc_gw_family", 0),
	F(metrics, "dst_metrics", "metrics", 0),
	F(nh_is_group, "nexthop", "is_group", NFM_FIELD_OPTIONAL),
	F(nh_info, "nexthop", "nh_info", NFM_FIELD_OPTIONAL),
	F(nhi_nhc, "nh_info", "fib_nhc", NFM_FIELD_OPTIONAL),
	F(dev_name, "net_device", "name", 0),
};
#undef F

static int make_route_off(struct nfm_ctx *ctx, void *o)
{
	return nfm_resolve_fields(ctx, route_specs, sizeof(route_specs) / sizeof(route_specs[0]), o);
}

static const struct route_off *route_offsets(struct nfm_ctx *ctx, int *err)
{
	return nfm_kernel_layout(ctx, NFM_SLOT_ROUTE, sizeof(struct route_off), make_route_off, err);
}

/* The first next hop's common part (fib_info_nhc(fi, 0)); 0 when it cannot be found. */
static uint64_t first_nhc(struct nfm_ctx *ctx, const struct route_off *o, uint64_t fi, bool *obj)
{
	uint64_t nh = 0, info;
	uint8_t grp = 0;

	*obj = false;
	if (o->fi_nh >= 0 && nfm_kread_u64(ctx, fi + (uint64_t)o->fi_nh, &nh) == 0 && nh) {
		/* a nexthop object (ip nexthop): its nh_info, unless it is a group */
		*obj = true;
		if (!nfm_kptr_ok(ctx, nh) || o->nh_info < 0 || o->nhi_nhc < 0 ||
		    nfm_kread(ctx, nh + (uint64_t)o->nh_is_group, &grp, 1) < 0 || grp ||
		    nfm_kread_u64(ctx, nh + (uint64_t)o->nh_info, &info) < 0 || !nfm_kptr_ok(ctx, info))
			return 0;
		return info + (uint64_t)o->nhi_nhc;
	}
	return fi + (uint64_t)o->fi_fib_nh + (uint64_t)o->fnh_common;
}

static void one_alias(struct nfm_ctx *ctx, const struct route_off *o, uint32_t key, uint64_t fa,
		      uint32_t tb_id, uint32_t inum, struct nfm_pack *pk)
{
	struct nfm_route *r;
	uint64_t fi = 0, nhc, dev, mp;
	uint32_t id = 0, m[8] = { 0 };
	uint8_t type = 0, slen = 0, fam = 0;
	bool obj;
	int plen;

	if (nfm_kread(ctx, fa + (uint64_t)o->fa_type, &type, 1) < 0 ||
	    nfm_kread(ctx, fa + (uint64_t)o->fa_slen, &slen, 1) < 0 ||
	    nfm_kread_u32(ctx, fa + (uint64_t)o->fa_tb_id, &id) < 0 ||
	    nfm_kread_u64(ctx, fa + (uint64_t)o->fa_info, &fi) < 0)
		return;
	if (type == RTN_BROADCAST || type == RTN_MULTICAST || id != tb_id || slen > KEYLENGTH)
		return;
	r = nfm_pack_add(pk);
	if (!r)
		return;
	plen = KEYLENGTH - slen;
	r->netns = inum;
	r->prefixlen = plen;
	r->dst = __builtin_bswap32(key);
	r->mask = plen ? __builtin_bswap32(~((1u << (KEYLENGTH - plen)) - 1)) : 0;
	r->type = type;
	r->table = id;
	/* fib_flag_trans() */
	r->flags = (type == 7 || type == 8 ? RTF_REJECT : 0) | RTF_UP |
		   (r->mask == 0xffffffffu ? RTF_HOST : 0);
	strcpy(r->ifname, "*");
	if (!fi || !nfm_kptr_ok(ctx, fi))
		return;
	nfm_kread_u32(ctx, fi + (uint64_t)o->fi_priority, (uint32_t *)&r->metric);
	nfm_kread(ctx, fi + (uint64_t)o->fi_scope, &type, 1);
	r->scope = type;
	nfm_kread(ctx, fi + (uint64_t)o->fi_protocol, &type, 1);
	r->protocol = type;
	/* fib_advmss, fib_window, fib_rtt: metrics[RTAX_ADVMSS - 1] and friends */
	if (nfm_kread_u64(ctx, fi + (uint64_t)o->fi_metrics, &mp) == 0 && nfm_kptr_ok(ctx, mp) &&
	    nfm_kread(ctx, mp + (uint64_t)o->metrics, m, sizeof(m)) == 0) {
		r->mtu = m[7] ? m[7] + 40 : 0;
		r->window = m[2];
		r->irtt = m[3] >> 3;
	}
	nhc = first_nhc(ctx, o, fi, &obj);
	if (!nhc) {
		r->exact = false;
		return;
	}
	r->exact = true;
	if (nfm_kread(ctx, nhc + (uint64_t)o->nhc_gw_family, &fam, 1) == 0 && fam == AF_INET)
		nfm_kread(ctx, nhc + (uint64_t)o->nhc_gw, &r->gateway, 4);
	if (r->gateway)
		r->flags |= RTF_GATEWAY;
	if (nfm_kread_u64(ctx, nhc + (uint64_t)o->nhc_dev, &dev) == 0 && dev && nfm_kptr_ok(ctx, dev))
		nfm_kread_str(ctx, dev + (uint64_t)o->dev_name, r->ifname, sizeof(r->ifname));
	(void)obj;
}

/* A leaf's routes: its hlist of fib_alias through fa_list. */
static void leaf(struct nfm_ctx *ctx, const struct route_off *o, uint64_t l, uint32_t tb_id,
		 uint32_t inum, struct nfm_seen *seen, struct nfm_pack *pk, int *err)
{
	struct nfm_net_chain c;
	uint64_t first, fa;
	uint32_t key;
	int n = 0, r;

	if (nfm_kread_u32(ctx, l + (uint64_t)o->kv_key, &key) < 0 ||
	    nfm_kread_u64(ctx, l + (uint64_t)o->kv_leaf, &first) < 0) {
		*err = -EFAULT;
		return;
	}
	nfm_net_chain_init(&c, ctx, seen, pk, first, o->fa_list, 0);
	while ((r = nfm_net_chain_next(&c, &fa)) > 0) {
		if (++n > MAX_ALIASES) {
			r = -ELOOP;
			break;
		}
		one_alias(ctx, o, key, fa, tb_id, inum, pk);
	}
	if (r < 0)
		*err = r;
}

/*
 * Depth-first over the trie, children in index order (ascending keys). Every node has one
 * parent: a node met again (in seen) is a loop or a join, whose subtree is listed already or
 * being listed; it is skipped, and the walk says it was cut.
 */
static int walk_trie(struct nfm_ctx *ctx, const struct route_off *o, uint64_t root, uint32_t tb_id,
		     uint32_t inum, struct nfm_seen *seen, struct nfm_pack *pk)
{
	struct { uint64_t n; uint32_t i, count; } st[KEYLENGTH + 2];
	int sp = 0, err = 0, r;
	size_t visited = 0;
	uint64_t child;
	uint8_t bits;

	if (!root)
		return 0;
	if (!nfm_kptr_ok(ctx, root) || nfm_kread(ctx, root + (uint64_t)o->kv_bits, &bits, 1) < 0)
		return -EBADMSG;
	if ((r = nfm_seen_add(seen, root)) <= 0)
		return r < 0 ? r : -ELOOP;
	if (!bits) {
		leaf(ctx, o, root, tb_id, inum, seen, pk, &err);
		return err;
	}
	st[0].n = root;
	st[0].i = 0;
	st[0].count = bits > KEYLENGTH ? 0 : 1u << (bits > 31 ? 31 : bits);
	while (sp >= 0) {
		if (st[sp].i >= st[sp].count) {
			sp--;
			continue;
		}
		if (nfm_kread_u64(ctx, st[sp].n + (uint64_t)o->kv_leaf + 8ull * st[sp].i++, &child) < 0) {
			err = -EFAULT;
			st[sp].i = st[sp].count;
			continue;
		}
		if (!child)
			continue;
		if (++visited > MAX_TRIE_NODES || nfm_budget_take(ctx, 1) < 0)
			return -ELOOP;
		if (!nfm_kptr_ok(ctx, child) || nfm_kread(ctx, child + (uint64_t)o->kv_bits, &bits, 1) < 0) {
			err = -EBADMSG;
			continue;
		}
		if ((r = nfm_seen_add(seen, child)) < 0)
			return r;
		if (!r) {
			err = -ELOOP;
			continue;
		}
		if (!bits) {
			leaf(ctx, o, child, tb_id, inum, seen, pk, &err);
			continue;
		}
		/* a child splits at most the bits left: a deeper stack means a corrupt trie */
		if (bits > KEYLENGTH || sp + 1 >= (int)(sizeof(st) / sizeof(st[0]))) {
			err = -EBADMSG;
			continue;
		}
		sp++;
		st[sp].n = child;
		st[sp].i = 0;
		st[sp].count = 1u << (bits > 31 ? 31 : bits);
	}
	return err;
}

int nfm_route_list(struct nfm_ctx *ctx, struct nfm_route **ret, bool *truncated)
{
	const struct route_off *o;
	struct nfm_netns *ns;
	struct nfm_seen seen = { 0 };
	struct nfm_pack pk;
	bool trunc = false;
	int nns, i, err;

	o = route_offsets(ctx, &err);
	if (!o)
		return err;
	nns = nfm_netns_list(ctx, &ns, &trunc);
	if (nns < 0)
		return nns;
	nfm_pack_init(&pk, sizeof(struct nfm_route));
	for (i = 0; i < nns; i++) {
		uint64_t tb, data, root;
		uint32_t id;

		/* fib_get_table(net, RT_TABLE_MAIN): cached in net->ipv4.fib_main */
		if (nfm_kread_u64(ctx, ns[i].net + (uint64_t)o->net_fib_main, &tb) < 0) {
			trunc = true;
			continue;
		}
		if (!tb)
			continue;
		if (!nfm_kptr_ok(ctx, tb) || nfm_kread_u32(ctx, tb + (uint64_t)o->tb_id, &id) < 0 ||
		    nfm_kread_u64(ctx, tb + (uint64_t)o->tb_data, &data) < 0 || !nfm_kptr_ok(ctx, data) ||
		    nfm_kread_u64(ctx, data + (uint64_t)o->trie_kv + (uint64_t)o->kv_leaf, &root) < 0) {
			trunc = true;
			continue;
		}
		/* one seen set for every namespace's trie: no node or alias is in two */
		if (walk_trie(ctx, o, root, id, ns[i].inum, &seen, &pk) < 0)
			trunc = true;
	}
	nfm_seen_free(&seen);
	free(ns);
	if (truncated)
		*truncated = trunc;
	return nfm_pack_finish(&pk, NULL, 0, (void **)ret);
}
