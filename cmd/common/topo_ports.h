/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One (client, server) pair's connections by the server's port, the most used first: what
 * nfmd's nfm_topology_connections shows of a pair (a bounded number of series, the rest summed
 * into dst_port="other", so a port scan cannot explode Prometheus's series count).
 */
#ifndef NFM_CMD_TOPO_PORTS_H
#define NFM_CMD_TOPO_PORTS_H

#include <stdbool.h>

#include "topo.h"

#define TOPO_PORTS_PER_PAIR 10

struct topo_port_count {
	unsigned int port, count;
};

struct topo_pair_ports {
	int src, dst;			/* node indices */
	int nr;				/* ports shown: at most TOPO_PORTS_PER_PAIR */
	struct topo_port_count top[TOPO_PORTS_PER_PAIR];	/* most connections first, ties: lower port */
	bool has_other;			/* more ports than that: their sum is other */
	unsigned int other;
};

/*
 * The pair whose edges start at edge index i (g's edges are sorted by src, then dst: a pair's
 * are adjacent; protocols with the same port add up). scratch holds g->nr_edges entries.
 * Returns the index of the next pair's first edge.
 */
int topo_pair_ports(const struct topo_graph *g, int i, struct topo_port_count *scratch,
		    struct topo_pair_ports *ret);

#endif
