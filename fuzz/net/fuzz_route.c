// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The IPv4 route trie (lib/net/net_route.c): each namespace's fib_main table, its trie of
 * key_vectors (tnodes and leaves), each leaf's fib_alias list, fib_info and next hops.
 */
#include <nfm/system.h>

#include "seednet.h"

#define TB 0x36000u
#define TRIE 0x36100u
#define LEAF 0x36200u
#define FA 0x36300u
#define FI 0x36400u

static void seed(struct fz_seed *s)
{
	seed_net(s);
	/* 10.0.2.0/24 dev eth0: a trie whose root is one leaf */
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

FZ_SEED_INIT(seed)

FZ_LIST_TARGET(nfm_route_list, struct nfm_route, "routes")
