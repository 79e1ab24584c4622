// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TopoLog's join alone (cmd/common/topo.c), on synthetic frames: VMS VMs with CONNS connection
 * sockets each (half client ends, half the server ends of other VMs' clients, both ends in the
 * set), one listener per VM and a few external peers; min/median/max of topo_build over RUNS runs
 * at each level. Goal (issue #18): 100 VMs x 1,000 connections in <= 100 ms.
 * usage: topo_bench [VMS [CONNS [RUNS]]]   (defaults 100 1000 7)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "topo.h"

/* Wall time, and this process's CPU time: on a loaded host the wall time is mostly waiting for
 * a CPU, the CPU time is the join's cost. */
static double now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void v4(uint8_t *a, int vm)
{
	a[0] = 10;
	a[1] = (uint8_t)(vm >> 8);
	a[2] = (uint8_t)vm;
	a[3] = 1;
}

static void sock(struct nfm_socket *s, int state, int lvm, int lport, int rvm, int rport, int pid)
{
	memset(s, 0, sizeof(*s));
	s->family = AF_INET;
	s->protocol = IPPROTO_TCP;
	s->type = SOCK_STREAM;
	s->state = state;
	v4(s->laddr, lvm);
	if (rvm >= 0)
		v4(s->raddr, rvm);
	else if (rvm == -2) {	/* an external peer */
		s->raddr[0] = 192;
		s->raddr[1] = 0;
		s->raddr[2] = 2;
		s->raddr[3] = (uint8_t)(lport % 200 + 1);
	}
	s->lport = (uint16_t)lport;
	s->rport = (uint16_t)rport;
	s->nr_owners = 1;
	s->owner_pid[0] = pid;
	snprintf(s->owner_comm[0], 16, pid == 100 ? "httpd" : "client%d", pid % 7);
}

int main(int argc, char **argv)
{
	int vms = argc > 1 ? atoi(argv[1]) : 100, conns = argc > 2 ? atoi(argv[2]) : 1000;
	int runs = argc > 3 ? atoi(argv[3]) : 7, v, k, by, r;
	struct topo_frame *f = calloc((size_t)vms, sizeof(*f));
	struct nfm_socket **socks = calloc((size_t)vms, sizeof(*socks));
	struct nfm_netdev *devs = calloc((size_t)vms, sizeof(*devs));
	char (*names)[32] = calloc((size_t)vms, sizeof(*names));
	int *n = calloc((size_t)vms, sizeof(*n));
	double *t = calloc((size_t)runs, sizeof(*t)), *c = calloc((size_t)runs, sizeof(*c));

	if (vms < 2 || conns < 2 || runs < 1 || !f || !socks || !devs || !names || !n || !t || !c)
		return 2;
	for (v = 0; v < vms; v++) {
		socks[v] = calloc((size_t)conns + 2, sizeof(**socks));
		if (!socks[v])
			return 1;
		sock(&socks[v][n[v]++], 10, v, 80, -1, 0, 100);
		devs[v].nr_addrs = 1;
		devs[v].addrs[0].family = AF_INET;
		v4(devs[v].addrs[0].addr, v);
		snprintf(names[v], sizeof(names[v]), "vm%03d", v);
	}
	/* VM v's k-th client connection goes to VM (v + 1 + k % (vms - 1)) % vms port 80, from
	 * port 10000 + k; every 50th goes to an external peer instead (no server end). */
	for (v = 0; v < vms; v++)
		for (k = 0; k < conns / 2; k++) {
			int dst = (v + 1 + k % (vms - 1)) % vms, lport = 10000 + k;

			if (k % 50 == 49) {
				sock(&socks[v][n[v]++], 1, v, lport, -2, 443, 200 + k % 5);
				continue;
			}
			sock(&socks[v][n[v]++], 1, v, lport, dst, 80, 200 + k % 5);
			if (n[dst] < conns + 1)
				sock(&socks[dst][n[dst]++], 1, dst, 80, v, lport, 100);
		}
	for (v = 0; v < vms; v++)
		f[v] = (struct topo_frame){ .vm = names[v], .socks = socks[v], .nr_socks = n[v],
					    .devs = &devs[v], .nr_devs = 1, .complete = true };
	for (by = TOPO_BY_VM; by <= TOPO_BY_SERVICE; by++) {
		struct topo_graph *g = NULL;
		int nodes = 0, edges = 0;
		unsigned int nc = 0;

		for (r = 0; r < runs; r++) {
			double t0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);

			if (topo_build(f, vms, (enum topo_by)by, &g))
				return 1;
			t[r] = now_ms(CLOCK_MONOTONIC) - t0;
			c[r] = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
			nodes = g->nr_nodes;
			edges = g->nr_edges;
			nc = g->nr_connections;
			topo_graph_free(g);
		}
		qsort(t, (size_t)runs, sizeof(*t), cmp_d);
		qsort(c, (size_t)runs, sizeof(*c), cmp_d);
		printf("topo_bench --by %-7s %d VMs x %d sockets: %u connections, %d nodes, %d edges; "
		       "join ms min %.1f median %.1f max %.1f, cpu ms min %.1f median %.1f max %.1f "
		       "(%d runs)\n",
		       topo_by_name((enum topo_by)by), vms, conns, nc, nodes, edges, t[0],
		       t[runs / 2], t[runs - 1], c[0], c[runs / 2], c[runs - 1], runs);
	}
	return 0;
}
