// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The IPv4 route trie (lib/net/net_route.c): each namespace's fib_main table, its trie of
 * key_vectors (tnodes and leaves), each leaf's fib_alias list, fib_info and next hops.
 */
#include <nfm/system.h>

#include "seednet.h"

FZ_SEED_INIT(seed_route)

FZ_LIST_TARGET(nfm_route_list, struct nfm_route, "routes")
