// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Network devices and addresses (lib/net/net_dev.c): every namespace's dev_base_head, each
 * device's name, flags, link address, counters (per-CPU ones through __per_cpu_offset), qdisc
 * and its IPv4 and IPv6 addresses.
 */
#include <nfm/system.h>

#include "seednet.h"

FZ_SEED_INIT(seed_net)

FZ_LIST_TARGET(nfm_netdev_list, struct nfm_netdev, "netdevs")
