// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Neighbours (lib/net/net_neigh.c): arp_tbl's (and nd_tbl's) hash table, its chains of
 * struct neighbour, each with its device, key and link address.
 */
#include <nfm/system.h>

#include "seednet.h"

#define NHT 0x36000u
#define BUCKETS 0x36100u
#define NEIGH(i) (0x36800u + (i) * 0x200u)

static void seed(struct fz_seed *s)
{
	uint32_t tbl = fz_sym_pa("arp_tbl");
	int i;

	seed_net(s);
	fz_put64(s, tbl + fz_off("neigh_table", "nht"), FZ_KV(NHT));
	fz_put32(s, tbl + fz_off("neigh_table", "key_len"), 4);
	fz_put64(s, NHT + fz_off("neigh_hash_table", "hash_buckets"), FZ_KV(BUCKETS));
	fz_put32(s, NHT + fz_off("neigh_hash_table", "hash_shift"), 3);
	/* bucket 5: two neighbours on eth0 chained by next */
	fz_put64(s, BUCKETS + 5 * 8, FZ_KV(NEIGH(0)));
	for (i = 0; i < 2; i++) {
		fz_put64(s, NEIGH(i) + fz_off("neighbour", "dev"), FZ_KV(DEV(1)));
		fz_put32(s, NEIGH(i) + fz_off("neighbour", "primary_key"), 0x0202000a + (uint32_t)i);
		fz_put(s, NEIGH(i) + fz_off("neighbour", "ha"), "\x52\x55\x0a\x00\x02\x02", 6);
		fz_put(s, NEIGH(i) + fz_off("neighbour", "nud_state"), i ? "\x04" : "\x02", 1);
	}
	fz_put64(s, NEIGH(0) + fz_off("neighbour", "next"), FZ_KV(NEIGH(1)));
}

FZ_SEED_INIT(seed)

FZ_LIST_TARGET(nfm_neigh_list, struct nfm_neigh, "neighbours")
