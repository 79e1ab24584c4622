/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Seed helpers shared by the net targets and tests/unit/net: init_net on net_namespace_list, lo
 * and eth0 on its dev_base_head, each with an IPv4 address (in_device->ifa_list); the TCP
 * established hash, the neighbour table, the route trie.
 */
#ifndef NFM_FUZZ_NET_SEEDNET_H
#define NFM_FUZZ_NET_SEEDNET_H

#include "../common/btfguest.h"

#define NET 0x30000u			/* struct net: 4288 bytes in 6.1 */
#define DEV(i) (0x32000u + (i) * 0x1000u)	/* struct net_device: 2432 */
#define INDEV(i) (0x34000u + (i) * 0x200u)
#define IFA(i) (0x34800u + (i) * 0x100u)

static inline void seed_net(struct fz_seed *s)
{
	static const char *const names[2] = { "lo", "eth0" };
	static const uint32_t addr[2] = { 0x0100007f, 0x0f02000a };	/* 127.0.0.1, 10.0.2.15 */
	uint32_t ring[3];
	int i;

	ring[0] = fz_sym_pa("net_namespace_list");
	ring[1] = NET + fz_off("net", "list");
	fz_ring(s, ring, 2);
	fz_put32(s, NET + fz_off("net", "ns.inum"), 4026531840u);
	ring[0] = NET + fz_off("net", "dev_base_head");
	for (i = 0; i < 2; i++) {
		uint32_t d = DEV(i);

		ring[i + 1] = d + fz_off("net_device", "dev_list");
		fz_putstr(s, d + fz_off("net_device", "name"), names[i]);
		fz_put32(s, d + fz_off("net_device", "ifindex"), (uint32_t)i + 1);
		fz_put32(s, d + fz_off("net_device", "flags"), i ? 0x1043 : 0x49);
		fz_put32(s, d + fz_off("net_device", "mtu"), i ? 1500 : 65536);
		fz_put16(s, d + fz_off("net_device", "type"), i ? 1 : 772);
		fz_put(s, d + fz_off("net_device", "addr_len"), "\6", 1);
		fz_put64(s, d + fz_off("net_device", "dev_addr"), FZ_KV(d + 0x900));
		fz_put(s, d + 0x900, "\x52\x54\x00\x12\x34\x56", 6);
		fz_put64(s, d + fz_off("net_device", "nd_net"), FZ_KV(NET));
		fz_put64(s, d + fz_off("net_device", "ip_ptr"), FZ_KV(INDEV(i)));
		fz_put64(s, INDEV(i) + fz_off("in_device", "ifa_list"), FZ_KV(IFA(i)));
		fz_put32(s, IFA(i) + fz_off("in_ifaddr", "ifa_local"), addr[i]);
		fz_put(s, IFA(i) + fz_off("in_ifaddr", "ifa_prefixlen"), i ? "\x18" : "\x08", 1);
		fz_putstr(s, IFA(i) + fz_off("in_ifaddr", "ifa_label"), names[i]);
	}
	fz_ring(s, ring, 3);
}

#define EHASH 0x36000u			/* tcp_hashinfo's ehash: 8 buckets */
#define SK(i) (0x37000u + (i) * 0x1000u)	/* the socks */

/*
 * tcp_hashinfo's established hash with emask + 1 buckets (8 of them set: each empty chain ends
 * at its nulls value, i << 1 | 1) and n socks chained in bucket b, sock i of state[i] and
 * family[i] (AF_*), in init_net.
 */
static inline void seed_ehash(struct fz_seed *s, uint32_t emask, unsigned int b, int n,
			      const uint8_t *state, const uint16_t *family)
{
	uint32_t hi = fz_sym_pa("tcp_hashinfo"), nn = fz_off("sock", "__sk_common.skc_nulls_node");
	int i;

	fz_put64(s, hi + fz_off("inet_hashinfo", "ehash"), FZ_KV(EHASH));
	fz_put32(s, hi + fz_off("inet_hashinfo", "ehash_mask"), emask);
	for (i = 0; i < 8; i++)
		fz_put64(s, EHASH + 8u * (unsigned)i, (uint64_t)i << 1 | 1);
	fz_put64(s, EHASH + 8 * b, FZ_KV(SK(0) + nn));
	for (i = 0; i < n; i++) {
		fz_put16(s, SK(i) + fz_off("sock", "__sk_common.skc_family"), family[i]);
		fz_put(s, SK(i) + fz_off("sock", "__sk_common.skc_state"), &state[i], 1);
		fz_put64(s, SK(i) + fz_off("sock", "__sk_common.skc_net"), FZ_KV(NET));
		fz_put64(s, SK(i) + nn, i + 1 < n ? FZ_KV(SK(i + 1) + nn) : (uint64_t)b << 1 | 1);
	}
}

/*
 * The seeds below lay out one target's guest each (on top of seed_net): their objects overlap
 * seed_ehash's and each other's.
 */
#define NHT 0x36000u			/* arp_tbl's neigh_hash_table: 8 buckets */
#define BUCKETS 0x36100u
#define NEIGH(i) (0x36800u + (i) * 0x200u)

/* arp_tbl with two neighbours on eth0 (10.0.2.2, 10.0.2.3) chained by next in bucket 5. */
static inline void seed_neigh(struct fz_seed *s)
{
	uint32_t tbl = fz_sym_pa("arp_tbl");
	int i;

	seed_net(s);
	fz_put64(s, tbl + fz_off("neigh_table", "nht"), FZ_KV(NHT));
	fz_put32(s, tbl + fz_off("neigh_table", "key_len"), 4);
	fz_put64(s, NHT + fz_off("neigh_hash_table", "hash_buckets"), FZ_KV(BUCKETS));
	fz_put32(s, NHT + fz_off("neigh_hash_table", "hash_shift"), 3);
	fz_put64(s, BUCKETS + 5 * 8, FZ_KV(NEIGH(0)));
	for (i = 0; i < 2; i++) {
		fz_put64(s, NEIGH(i) + fz_off("neighbour", "dev"), FZ_KV(DEV(1)));
		fz_put32(s, NEIGH(i) + fz_off("neighbour", "primary_key"), 0x0202000a + (uint32_t)i);
		fz_put(s, NEIGH(i) + fz_off("neighbour", "ha"), "\x52\x55\x0a\x00\x02\x02", 6);
		fz_put(s, NEIGH(i) + fz_off("neighbour", "nud_state"), i ? "\x04" : "\x02", 1);
	}
	fz_put64(s, NEIGH(0) + fz_off("neighbour", "next"), FZ_KV(NEIGH(1)));
}

#define TB 0x36000u			/* init_net's main fib_table */
#define TRIE 0x36100u
#define LEAF 0x36200u
#define FA 0x36300u
#define FI 0x36400u

/* init_net's main table: 10.0.2.0/24 dev eth0, a trie whose root is one leaf. */
static inline void seed_route(struct fz_seed *s)
{
	seed_net(s);
	fz_put64(s, NET + fz_off("net", "ipv4.fib_main"), FZ_KV(TB));
	fz_put32(s, TB + fz_off("fib_table", "tb_id"), 254);
	fz_put64(s, TB + fz_off("fib_table", "tb_data"), FZ_KV(TRIE));
	fz_put64(s, TRIE + fz_off("trie", "kv") + fz_off("key_vector", "leaf"), FZ_KV(LEAF));
	fz_put32(s, LEAF + fz_off("key_vector", "key"), 0x0a000200);
	fz_put64(s, LEAF + fz_off("key_vector", "leaf"), FZ_KV(FA + fz_off("fib_alias", "fa_list")));
	fz_put64(s, FA + fz_off("fib_alias", "fa_info"), FZ_KV(FI));
	fz_put(s, FA + fz_off("fib_alias", "fa_type"), "\1", 1);
	fz_put(s, FA + fz_off("fib_alias", "fa_slen"), "\x08", 1);
	fz_put32(s, FA + fz_off("fib_alias", "tb_id"), 254);
	fz_put64(s, FI + fz_off("fib_info", "fib_nh") + fz_off("fib_nh", "nh_common") +
		 fz_off("fib_nh_common", "nhc_dev"), FZ_KV(DEV(1)));
}

#endif
