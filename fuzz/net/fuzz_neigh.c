// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Neighbours (lib/net/net_neigh.c): arp_tbl's (and nd_tbl's) hash table, its chains of
 * struct neighbour, each with its device, key and link address.
 */
#include <nfm/system.h>

#include "seednet.h"

FZ_SEED_INIT(seed_neigh)

FZ_LIST_TARGET(nfm_neigh_list, struct nfm_neigh, "neighbours")
