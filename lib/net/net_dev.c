// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Network interfaces of every namespace (net_namespace_list, net->dev_base_head): what `ip addr`
 * and /proc/net/dev show. Counters follow dev_get_stats() (net/core/dev.c): the driver's
 * ndo_get_stats64 is recognised by its symbol (loopback and dummy sum per-CPU lstats;
 * dev_get_tstats64 adds per-CPU tstats), 6.x pcpu_stat_type TSTATS/DSTATS, else dev->stats; then
 * every CPU's core_stats drops. Other drivers' own counters are marked inexact.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nfm/system.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "util/pack.h"
#include "walk/percpu.h"

#define MAX_NETNS 4096
#define MAX_DEVS 65536
#define MAX_ADDRS 256

struct net_off {
	int32_t net_list, net_inum, dev_base_head;
	int32_t dev_list, name, ifindex, flags, gflags, mtu, type, dev_addr, addr_len, broadcast,
		stats, core_stats, lstats, pcpu_stat_type, ip_ptr, ip6_ptr, state, operstate,
		netdev_ops, qdisc, txqlen, ndo_get_stats64, ndo_get_stats, qdisc_ops, qops_id;
	int32_t ifa_list, ifa_next, ifa_local, ifa_broadcast, ifa_scope, ifa_prefixlen, ifa_flags,
		ifa_label;
	int32_t i6_addr_list, i6_addr, i6_prefix_len, i6_flags, i6_scope, i6_if_list;
	int32_t core_size, core_rx_otherhost;
	int64_t stat_tstats, stat_dstats;
};

#define NF(m, t, p, f) NFM_FIELD(struct net_off, m, t, p, f)
static const struct nfm_field_spec net_specs[] = {
	NF(net_list, "net", "list", 0),
	NF(net_inum, "net", "ns.inum", 0),
	NF(dev_base_head, "net", "dev_base_head", 0),
	NF(dev_list, "net_device", "dev_list", 0),
	NF(name, "net_device", "name", 0),
	NF(ifindex, "net_device", "ifindex", 0),
	NF(flags, "net_device", "flags", 0),
	NF(gflags, "net_device", "gflags", 0),
	NF(mtu, "net_device", "mtu", 0),
	NF(type, "net_device", "type", 0),
	NF(dev_addr, "net_device", "dev_addr", 0),
	NF(addr_len, "net_device", "addr_len", 0),
	NF(broadcast, "net_device", "broadcast", 0),
	NF(stats, "net_device", "stats", 0),
	NF(core_stats, "net_device", "core_stats", NFM_FIELD_OPTIONAL),
	NF(lstats, "net_device", "lstats", 0),
	NF(pcpu_stat_type, "net_device", "pcpu_stat_type", NFM_FIELD_OPTIONAL),
	NF(ip_ptr, "net_device", "ip_ptr", 0),
	NF(ip6_ptr, "net_device", "ip6_ptr", 0),
	NF(state, "net_device", "state", 0),
	NF(operstate, "net_device", "operstate", 0),
	NF(netdev_ops, "net_device", "netdev_ops", 0),
	NF(qdisc, "net_device", "qdisc", NFM_FIELD_OPTIONAL),
	NF(txqlen, "net_device", "tx_queue_len", 0),
	NF(ndo_get_stats64, "net_device_ops", "ndo_get_stats64", 0),
	NF(ndo_get_stats, "net_device_ops", "ndo_get_stats", 0),
	NF(qdisc_ops, "Qdisc", "ops", 0),
	NF(qops_id, "Qdisc_ops", "id", 0),
	NF(ifa_list, "in_device", "ifa_list", 0),
	NF(ifa_next, "in_ifaddr", "ifa_next", 0),
	NF(ifa_local, "in_ifaddr", "ifa_local", 0),
	NF(ifa_broadcast, "in_ifaddr", "ifa_broadcast", 0),
	NF(ifa_scope, "in_ifaddr", "ifa_scope", 0),
	NF(ifa_prefixlen, "in_ifaddr", "ifa_prefixlen", 0),
	NF(ifa_flags, "in_ifaddr", "ifa_flags", 0),
	NF(ifa_label, "in_ifaddr", "ifa_label", 0),
	NF(i6_addr_list, "inet6_dev", "addr_list", 0),
	NF(i6_addr, "inet6_ifaddr", "addr", 0),
	NF(i6_prefix_len, "inet6_ifaddr", "prefix_len", 0),
	NF(i6_flags, "inet6_ifaddr", "flags", 0),
	NF(i6_scope, "inet6_ifaddr", "scope", 0),
	NF(i6_if_list, "inet6_ifaddr", "if_list", 0),
	NF(core_size, "net_device_core_stats", "", NFM_FIELD_SIZE | NFM_FIELD_OPTIONAL),
	NF(core_rx_otherhost, "net_device_core_stats", "rx_otherhost_dropped", NFM_FIELD_OPTIONAL),
};
#undef NF

static int make_net_off(struct nfm_ctx *ctx, void *block)
{
	struct net_off *o = block;
	int err = nfm_resolve_fields(ctx, net_specs, sizeof(net_specs) / sizeof(net_specs[0]), o);

	if (err == 0) {
		if (nfm_btf_enum_value(ctx->btf, "NETDEV_PCPU_STAT_TSTATS", &o->stat_tstats) < 0)
			o->stat_tstats = -1;
		if (nfm_btf_enum_value(ctx->btf, "NETDEV_PCPU_STAT_DSTATS", &o->stat_dstats) < 0)
			o->stat_dstats = -1;
	}
	return err;
}

static int net_offsets(struct nfm_ctx *ctx, const struct net_off **ret)
{
	int err;

	*ret = nfm_kernel_layout(ctx, NFM_SLOT_NET, sizeof(struct net_off), make_net_off, &err);
	return err;
}

/* rtnl_link_stats64 in net_device_stats order. */
enum { RX_PACKETS, TX_PACKETS, RX_BYTES, TX_BYTES, RX_ERRORS, TX_ERRORS, RX_DROPPED, TX_DROPPED,
       MULTICAST, COLLISIONS, RX_LENGTH, RX_OVER, RX_CRC, RX_FRAME, RX_FIFO, RX_MISSED, TX_ABORTED,
       TX_CARRIER, TX_FIFO, TX_HEARTBEAT, TX_WINDOW, RX_COMPRESSED, TX_COMPRESSED, NR_STATS };

/* Sum n u64 counters of a per-CPU struct into sum[]. */
static void percpu_sum(struct nfm_ctx *ctx, uint64_t p, const uint64_t *offs, int ncpu, int n,
		       uint64_t *sum)
{
	uint64_t v[8];
	int c, i;

	if (!p || n > 8)
		return;
	for (c = 0; c < ncpu; c++)
		if (nfm_kread(ctx, p + offs[c], v, (size_t)n * 8) == 0)
			for (i = 0; i < n; i++)
				sum[i] += v[i];
}

static bool dev_stats(struct nfm_ctx *ctx, const struct net_off *o, const uint8_t *d,
		      const uint64_t *offs, int ncpu, struct nfm_netdev_stats *out)
{
	uint64_t s[NR_STATS] = { 0 }, ops, g64 = 0, g = 0, pcpu, core, sum[8] = { 0 };
	const char *fn = NULL;
	uint64_t fn_off = 0;
	bool exact = true;
	int type = 0;

	memcpy(&ops, d + o->netdev_ops, 8);
	memcpy(&pcpu, d + o->lstats, 8);
	if (nfm_kptr_ok(ctx, ops)) {
		nfm_kread_u64(ctx, ops + (uint64_t)o->ndo_get_stats64, &g64);
		nfm_kread_u64(ctx, ops + (uint64_t)o->ndo_get_stats, &g);
	}
	if (o->pcpu_stat_type >= 0)
		type = d[o->pcpu_stat_type];
	/* The driver's ndo_get_stats64, by name (a module's too): only the start of one counts. */
	if (g64 && (nfm_sym_symbolize(ctx, g64, &fn, NULL, &fn_off) < 0 || fn_off))
		fn = NULL;
	if (g64 && fn && (!strcmp(fn, "loopback_get_stats64") || !strcmp(fn, "dummy_get_stats64"))) {
		/* dev_lstats_read(): packets, bytes; loopback counts them both ways, dummy as sent */
		percpu_sum(ctx, pcpu, offs, ncpu, 2, sum);
		s[TX_PACKETS] = sum[0];
		s[TX_BYTES] = sum[1];
		if (!strcmp(fn, "loopback_get_stats64")) {
			s[RX_PACKETS] = sum[0];
			s[RX_BYTES] = sum[1];
		}
	} else if ((g64 && fn && !strcmp(fn, "dev_get_tstats64")) ||
		   (!g64 && !g && type && (type == o->stat_tstats || type == o->stat_dstats))) {
		memcpy(s, d + o->stats, sizeof(s));
		if (!g64 && type == o->stat_dstats) {
			/* pcpu_dstats: rx_packets, rx_bytes, rx_drops, tx_packets, tx_bytes, tx_drops */
			percpu_sum(ctx, pcpu, offs, ncpu, 6, sum);
			s[RX_PACKETS] += sum[0];
			s[RX_BYTES] += sum[1];
			s[RX_DROPPED] += sum[2];
			s[TX_PACKETS] += sum[3];
			s[TX_BYTES] += sum[4];
			s[TX_DROPPED] += sum[5];
		} else {
			/* pcpu_sw_netstats: rx_packets, rx_bytes, tx_packets, tx_bytes */
			percpu_sum(ctx, pcpu, offs, ncpu, 4, sum);
			s[RX_PACKETS] += sum[0];
			s[RX_BYTES] += sum[1];
			s[TX_PACKETS] += sum[2];
			s[TX_BYTES] += sum[3];
		}
	} else {
		memcpy(s, d + o->stats, sizeof(s));
		exact = !g64 && !g;
	}
	if (o->core_stats >= 0 && o->core_size > 0) {
		memcpy(&core, d + o->core_stats, 8);
		memset(sum, 0, sizeof(sum));
		/* rx_dropped, tx_dropped, rx_nohandler[, rx_otherhost_dropped] */
		if (core)
			percpu_sum(ctx, core, offs, ncpu, o->core_size / 8 > 4 ? 4 : o->core_size / 8, sum);
		s[RX_DROPPED] += sum[0];
		s[TX_DROPPED] += sum[1];
	}
	/* /proc/net/dev's columns (dev_seq_printf_stats) */
	*out = (struct nfm_netdev_stats){
		.rx_bytes = s[RX_BYTES], .rx_packets = s[RX_PACKETS], .rx_errors = s[RX_ERRORS],
		.rx_dropped = s[RX_DROPPED] + s[RX_MISSED], .rx_fifo = s[RX_FIFO],
		.rx_frame = s[RX_LENGTH] + s[RX_OVER] + s[RX_CRC] + s[RX_FRAME],
		.rx_compressed = s[RX_COMPRESSED], .multicast = s[MULTICAST],
		.tx_bytes = s[TX_BYTES], .tx_packets = s[TX_PACKETS], .tx_errors = s[TX_ERRORS],
		.tx_dropped = s[TX_DROPPED], .tx_fifo = s[TX_FIFO], .collisions = s[COLLISIONS],
		.tx_carrier = s[TX_CARRIER] + s[TX_ABORTED] + s[TX_WINDOW] + s[TX_HEARTBEAT],
		.tx_compressed = s[TX_COMPRESSED],
	};
	return exact;
}

static void ipv4_addrs(struct nfm_ctx *ctx, const struct net_off *o, uint64_t indev,
		       struct nfm_netdev *e)
{
	uint64_t ifa;
	uint8_t b[128];
	int n;

	if (!nfm_kptr_ok(ctx, indev) || nfm_kread_u64(ctx, indev + (uint64_t)o->ifa_list, &ifa) < 0)
		return;
	for (n = 0; ifa && n < MAX_ADDRS && e->nr_addrs < NFM_NETDEV_MAX_ADDRS; n++) {
		struct nfm_ifaddr *a = &e->addrs[e->nr_addrs];

		if (!nfm_kptr_ok(ctx, ifa) || o->ifa_label + 16 > (int32_t)sizeof(b) ||
		    nfm_kread(ctx, ifa, b, sizeof(b)) < 0)
			return;
		a->family = AF_INET;
		memcpy(a->addr, b + o->ifa_local, 4);
		memcpy(a->broadcast, b + o->ifa_broadcast, 4);
		a->prefixlen = b[o->ifa_prefixlen];
		a->scope = b[o->ifa_scope];
		memcpy(&a->flags, b + o->ifa_flags, 4);
		memcpy(a->label, b + o->ifa_label, 16);
		a->label[15] = 0;
		e->nr_addrs++;
		memcpy(&ifa, b + o->ifa_next, 8);
	}
}

static void ipv6_addrs(struct nfm_ctx *ctx, const struct net_off *o, uint64_t idev,
		       struct nfm_netdev *e)
{
	struct nfm_list_iter it;
	uint64_t node;

	if (!nfm_kptr_ok(ctx, idev))
		return;
	nfm_list_iter_init(&it, ctx, idev + (uint64_t)o->i6_addr_list, MAX_ADDRS);
	while (e->nr_addrs < NFM_NETDEV_MAX_ADDRS && nfm_list_iter_next(&it, &node) > 0) {
		uint64_t ifa = nfm_container_of(node, o->i6_if_list);
		struct nfm_ifaddr *a = &e->addrs[e->nr_addrs];
		uint32_t plen = 0;
		uint16_t scope = 0;

		if (nfm_kread(ctx, ifa + (uint64_t)o->i6_addr, a->addr, 16) < 0 ||
		    nfm_kread_u32(ctx, ifa + (uint64_t)o->i6_prefix_len, &plen) < 0 ||
		    nfm_kread_u32(ctx, ifa + (uint64_t)o->i6_flags, &a->flags) < 0 ||
		    nfm_kread(ctx, ifa + (uint64_t)o->i6_scope, &scope, 2) < 0)
			continue;
		a->family = AF_INET6;
		a->prefixlen = (int)(plen & 0xff);
		/* rt_scope(): IPV6_ADDR_LOOPBACK/LINKLOCAL/SITELOCAL -> RT_SCOPE_HOST/LINK/SITE */
		a->scope = scope & 0x10 ? 254 : scope & 0x20 ? 253 : scope & 0x40 ? 200 : 0;
		e->nr_addrs++;
	}
}

static void one_dev(struct nfm_ctx *ctx, const struct net_off *o, uint64_t dev, const uint8_t *d,
		    uint32_t inum, const uint64_t *offs, int ncpu, struct nfm_netdev *e)
{
	uint64_t p, state, q, qops;
	uint32_t flags, operstate = 0;
	uint16_t gflags, type;

	e->dev = dev;
	e->netns = inum;
	memcpy(e->name, d + o->name, 16);
	e->name[15] = 0;
	memcpy(&e->ifindex, d + o->ifindex, 4);
	memcpy(&e->mtu, d + o->mtu, 4);
	memcpy(&type, d + o->type, 2);
	e->type = type;
	e->addr_len = d[o->addr_len] > 32 ? 32 : d[o->addr_len];
	memcpy(&p, d + o->dev_addr, 8);
	if (nfm_kptr_ok(ctx, p) || (p && nfm_mmu_is_kernel_va(ctx->mmu, p)))
		nfm_kread(ctx, p, e->addr, (size_t)e->addr_len);
	memcpy(e->broadcast, d + o->broadcast, 32);
	memcpy(&e->txqlen, d + o->txqlen, 4);
	/* operstate is a u8 in 6.1, an unsigned int in 6.12: its low byte either way */
	operstate = d[o->operstate];
	/* dev_get_flags() */
	memcpy(&flags, d + o->flags, 4);
	memcpy(&gflags, d + o->gflags, 2);
	memcpy(&state, d + o->state, 8);
	/* as rtnetlink and sysfs report it: DOWN while not running, whatever the field says (a
	 * downed dummy keeps UNKNOWN there) */
	e->operstate = state & 1 ? (int)operstate : 2;	/* IF_OPER_DOWN */
	flags = (flags & ~(0x100u | 0x200u | 0x40u | 0x10000u | 0x20000u)) | (gflags & (0x100u | 0x200u));
	if (state & 1) {	/* __LINK_STATE_START: netif_running() */
		if (operstate == 6 || operstate == 0)	/* IF_OPER_UP, IF_OPER_UNKNOWN */
			flags |= 0x40;			/* IFF_RUNNING */
		if (!(state & 4))			/* !__LINK_STATE_NOCARRIER */
			flags |= 0x10000;		/* IFF_LOWER_UP */
		if (state & 16)				/* __LINK_STATE_DORMANT */
			flags |= 0x20000;
	}
	e->flags = flags;
	if (o->qdisc >= 0) {
		memcpy(&q, d + o->qdisc, 8);
		if (nfm_kptr_ok(ctx, q) && nfm_kread_u64(ctx, q + (uint64_t)o->qdisc_ops, &qops) == 0 &&
		    nfm_kptr_ok(ctx, qops))
			nfm_kread_str(ctx, qops + (uint64_t)o->qops_id, e->qdisc, sizeof(e->qdisc));
	}
	e->stats_exact = dev_stats(ctx, o, d, offs, ncpu, &e->stats);
	memcpy(&p, d + o->ip_ptr, 8);
	ipv4_addrs(ctx, o, p, e);
	memcpy(&p, d + o->ip6_ptr, 8);
	ipv6_addrs(ctx, o, p, e);
}

int nfm_netdev_list(struct nfm_ctx *ctx, struct nfm_netdev **ret, bool *truncated)
{
	const struct net_off *o;
	struct nfm_list_iter nit, dit;
	struct nfm_pack pk;
	uint64_t head, nnode, dnode;
	size_t dsize = 0;
	uint64_t *offs;
	uint8_t *d;
	int err, r, rd = 0, ncpu;

	err = net_offsets(ctx, &o);
	if (err == 0)
		err = nfm_ksym(ctx, "net_namespace_list", &head);
	if (err < 0)
		return err;
	{
		const int32_t *f = &o->dev_list;
		int i;

		for (i = 0; &f[i] <= &o->txqlen; i++)
			if (f[i] >= 0 && (size_t)f[i] + 32 > dsize)
				dsize = (size_t)f[i] + 32;
	}
	d = malloc(dsize);
	offs = malloc(NFM_MAX_CPUS * sizeof(*offs));
	if (!d || !offs) {
		free(d);
		free(offs);
		return -ENOMEM;
	}
	ncpu = nfm_percpu_offsets(ctx, 0, offs, NFM_MAX_CPUS);
	if (ncpu < 0)
		ncpu = 0;
	nfm_pack_init(&pk, sizeof(struct nfm_netdev));
	nfm_list_iter_init(&nit, ctx, head, MAX_NETNS);
	while ((r = nfm_list_iter_next(&nit, &nnode)) > 0) {
		uint64_t net = nfm_container_of(nnode, o->net_list);
		uint32_t inum = 0;

		nfm_kread_u32(ctx, net + (uint64_t)o->net_inum, &inum);
		nfm_list_iter_init(&dit, ctx, net + (uint64_t)o->dev_base_head, MAX_DEVS);
		while ((rd = nfm_list_iter_next(&dit, &dnode)) > 0) {
			uint64_t dev = nfm_container_of(dnode, o->dev_list);
			struct nfm_netdev *e;

			if (nfm_kread(ctx, dev, d, dsize) < 0)
				continue;
			e = nfm_pack_add(&pk);
			if (!e)
				break;
			one_dev(ctx, o, dev, d, inum, offs, ncpu, e);
		}
		if (rd < 0)
			break;
	}
	free(d);
	free(offs);
	if (truncated)
		*truncated = r < 0 || rd < 0;
	return nfm_pack_finish(&pk, NULL, 0, (void **)ret);
}
