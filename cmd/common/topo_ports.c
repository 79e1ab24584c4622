// SPDX-License-Identifier: GPL-2.0-or-later
/* A (client, server) pair's connections by port, bounded for Prometheus (topo_ports.h). */
#include <stdlib.h>
#include <string.h>

#include "topo_ports.h"

static int by_count(const void *a, const void *b)
{
	const struct topo_port_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

int topo_pair_ports(const struct topo_graph *g, int i, struct topo_port_count *scratch,
		    struct topo_pair_ports *ret)
{
	const struct topo_edge *e = &g->edges[i];
	int j, k, np = 0;

	memset(ret, 0, sizeof(*ret));
	ret->src = e->src;
	ret->dst = e->dst;
	for (j = i; j < g->nr_edges && g->edges[j].src == e->src && g->edges[j].dst == e->dst; j++) {
		for (k = 0; k < np && scratch[k].port != g->edges[j].port; k++)
			;
		if (k == np)
			scratch[np++] = (struct topo_port_count){ .port = g->edges[j].port };
		scratch[k].count += g->edges[j].count;
	}
	qsort(scratch, (size_t)np, sizeof(*scratch), by_count);
	for (k = 0; k < np; k++) {
		if (k < TOPO_PORTS_PER_PAIR)
			ret->top[ret->nr++] = scratch[k];
		else
			ret->other += scratch[k].count;
	}
	ret->has_other = np > TOPO_PORTS_PER_PAIR;
	return j;
}
