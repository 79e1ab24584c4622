/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Seed helpers shared by the net targets: init_net on net_namespace_list, lo and eth0 on its
 * dev_base_head, each with an IPv4 address (in_device->ifa_list).
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

#endif
