// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm topo: who talks to whom across the VMs of this host, joined from their socket tables
 * (the join: cmd/common/topo.h; the method and its limits: doc/topo.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nfm/system.h>

#include "cli.h"
#include "jout.h"
#include "table.h"
#include "topo.h"
#include "topo_remote.h"
#include "topo_store.h"

#define MAX_VMS 512
#define MAX_NETS_OPT 64

enum fmt { FMT_TABLE, FMT_JSON, FMT_DOT, FMT_SVG };

struct vm {
	char name[128];
	char spec[300];
	const char *net;
	char err[256];
	struct nfm_source *src;
	struct nfm_ctx *ctx;
	/* the last read */
	struct nfm_socket *socks;
	int nr_socks;
	struct nfm_netdev *devs;
	int nr_devs;
	uint64_t (*bytes)[2];
	bool complete;
	char error[300];
	/* --watch rates: the read before's TCP counters by (sk, inode), sorted, and the counters'
	 * growth since then per socket (parallel to socks; UINT64_MAX: unknown) */
	struct sock_bytes *prev;
	int nr_prev;
	bool has_prev;
	uint64_t (*delta)[2];
	uint64_t read_ns, prev_ns;	/* CLOCK_MONOTONIC of this read and of the one before */
};

struct sock_bytes {
	uint64_t sk, inode, bytes[2];
};

static uint64_t mono_ns(void);

struct topo_opts {
	enum topo_by by;
	enum fmt fmt;
	const char *netmap[MAX_NETS_OPT];	/* "VM=NAME" */
	int nr_netmap;
	double watch;				/* seconds; 0: once */
	uint64_t since_ns;			/* 0: one sample */
	double interval;			/* --since's sampling period */
	long count;				/* -n: samples/frames then stop (0: unbounded) */
	const char *remote;			/* --remote HOST:PORT,...: nfmd's frames */
	const char *store;			/* --store DIR: recorded timelines */
};

static void first_error(void *ud, enum nfm_log_level level, const char *msg)
{
	char *err = ud;

	if (level == NFM_LOG_ERR && !err[0])
		snprintf(err, 256, "%s", msg);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The VMs named by the arguments (a name or pid from nfm list, or any --vm SPEC), or all. */
static int pick_vms(struct cli *cli, int argc, char **argv, struct vm **ret, int *nr)
{
	static struct nfm_vm_info info[MAX_VMS];
	struct vm *vms;
	int n = nfm_vm_list(info, MAX_VMS), i, j, nv = 0;
	int want = optind < argc ? argc - optind : (cli->vm ? 1 : n);

	if (n < 0)
		return cli_fail("cannot list the VMs: %s", strerror(-n));
	if (n > MAX_VMS)
		n = MAX_VMS;
	if (want > MAX_VMS)
		return cli_usage_error(cli, "at most %d VMs", MAX_VMS);
	vms = calloc((size_t)want + 1, sizeof(*vms));
	if (!vms)
		return cli_fail("out of memory");
	if (optind >= argc && !cli->vm) {
		for (i = 0; i < n; i++) {
			struct vm *v = &vms[nv++];

			snprintf(v->spec, sizeof(v->spec), "pid:%d", info[i].pid);
			if (info[i].name[0])
				snprintf(v->name, sizeof(v->name), "%s", info[i].name);
			else
				snprintf(v->name, sizeof(v->name), "pid-%d", info[i].pid);
		}
	} else {
		for (j = 0; j < want; j++) {
			const char *a = optind < argc ? argv[optind + j] : cli->vm;
			struct vm *v = &vms[nv++];

			snprintf(v->spec, sizeof(v->spec), "%s", a);
			snprintf(v->name, sizeof(v->name), "%s", a);
			for (i = 0; i < n; i++) {
				char pid[16];

				snprintf(pid, sizeof(pid), "%d", info[i].pid);
				if ((info[i].name[0] && !strcmp(info[i].name, a)) || !strcmp(pid, a) ||
				    (!strncmp(a, "pid:", 4) && !strcmp(pid, a + 4))) {
					snprintf(v->spec, sizeof(v->spec), "pid:%d", info[i].pid);
					if (info[i].name[0])
						snprintf(v->name, sizeof(v->name), "%s", info[i].name);
					break;
				}
			}
		}
	}
	for (i = 0; i < nv; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(vms[i].name, vms[j].name)) {
				int st = cli_usage_error(cli, "VM %s named twice", cli_esc(vms[i].name));

				free(vms);
				return st;
			}
	*ret = vms;
	*nr = nv;
	return 0;
}

static int apply_nets(struct cli *cli, const struct topo_opts *o, struct vm *vms, int nv)
{
	int i, j;

	for (i = 0; i < o->nr_netmap; i++) {
		const char *eq = strchr(o->netmap[i], '=');
		size_t len = eq ? (size_t)(eq - o->netmap[i]) : 0;
		bool found = false;

		if (!eq || !len || !eq[1] || strlen(eq + 1) >= 64)
			return cli_usage_error(cli, "--net wants VM=NAME (a name of 1 to 63 bytes)");
		for (j = 0; j < nv; j++)
			if (strlen(vms[j].name) == len && !memcmp(vms[j].name, o->netmap[i], len)) {
				vms[j].net = eq + 1;
				found = true;
			}
		if (!found)
			return cli_usage_error(cli, "--net %s: no such VM in the set",
					       cli_esc(o->netmap[i]));
	}
	return 0;
}

static void vm_clear(struct vm *v)
{
	free(v->socks);
	free(v->devs);
	free(v->bytes);
	free(v->delta);
	v->socks = NULL;
	v->devs = NULL;
	v->bytes = NULL;
	v->delta = NULL;
	v->nr_socks = v->nr_devs = 0;
}

static int sock_bytes_cmp(const void *a, const void *b)
{
	const struct sock_bytes *x = a, *y = b;

	if (x->sk != y->sk)
		return x->sk < y->sk ? -1 : 1;
	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* Keep this read's TCP counters as the read before of the next one. */
static void vm_keep_counters(struct vm *v)
{
	int i, n = 0;

	free(v->prev);
	v->prev = NULL;
	v->nr_prev = 0;
	v->has_prev = v->complete && v->bytes;
	if (!v->has_prev)
		return;
	v->prev = calloc((size_t)v->nr_socks + 1, sizeof(*v->prev));
	if (!v->prev) {
		v->has_prev = false;
		return;
	}
	for (i = 0; i < v->nr_socks; i++)
		if (v->bytes[i][0] != UINT64_MAX)
			v->prev[n++] = (struct sock_bytes){ v->socks[i].sk, v->socks[i].inode,
							    { v->bytes[i][0], v->bytes[i][1] } };
	qsort(v->prev, (size_t)n, sizeof(*v->prev), sock_bytes_cmp);
	v->nr_prev = n;
	v->prev_ns = v->read_ns;
}

/*
 * Each socket's counters' growth since the read before: a connection found there (same sock,
 * same inode) grew by the difference; one not found is new since then and counts from 0 (a
 * socket that only now has counters, e.g. no longer a request sock, was not counted before
 * either); counters that went down (not the same connection after all) are unknown.
 */
static void vm_deltas(struct vm *v)
{
	int i, k;

	if (!v->has_prev || !v->bytes)
		return;
	v->delta = calloc((size_t)v->nr_socks + 1, sizeof(*v->delta));
	for (i = 0; v->delta && i < v->nr_socks; i++) {
		struct sock_bytes key = { v->socks[i].sk, v->socks[i].inode, { 0, 0 } };
		const struct sock_bytes *p;

		v->delta[i][0] = v->delta[i][1] = UINT64_MAX;
		if (v->bytes[i][0] == UINT64_MAX)
			continue;
		p = bsearch(&key, v->prev, (size_t)v->nr_prev, sizeof(*v->prev), sock_bytes_cmp);
		if (!p) {
			v->delta[i][0] = v->bytes[i][0];
			v->delta[i][1] = v->bytes[i][1];
			continue;
		}
		for (k = 0; k < 2; k++)
			if (v->bytes[i][k] < p->bytes[k])
				break;
		if (k == 2) {
			v->delta[i][0] = v->bytes[i][0] - p->bytes[0];
			v->delta[i][1] = v->bytes[i][1] - p->bytes[1];
		}
	}
}

/* Read one VM's sockets, interfaces and TCP byte counters. A VM that cannot be read is an
 * incomplete frame with no sockets (the graph says so). */
static void vm_read(struct vm *v)
{
	struct nfm_log log = { .fn = first_error, .userdata = v->err, .max_level = NFM_LOG_ERR };
	bool t1 = false, t2 = false;
	int ret, i;

	vm_keep_counters(v);
	vm_clear(v);
	v->complete = false;
	v->err[0] = 0;
	v->read_ns = mono_ns();
	if (!v->ctx) {
		ret = nfm_source_open(v->spec, &log, &v->src);
		if (ret == 0)
			ret = nfm_ctx_new(v->src, NULL, &log, &v->ctx);
		if (ret) {
			snprintf(v->error, sizeof(v->error), "cannot attach: %s",
				 v->err[0] ? v->err : strerror(-ret));
			nfm_source_free(v->src);
			v->src = NULL;
			return;
		}
	} else {
		nfm_ctx_refresh(v->ctx);
	}
	ret = nfm_socket_list(v->ctx, &v->socks, &t1);
	if (ret < 0) {
		v->socks = NULL;
		snprintf(v->error, sizeof(v->error), "cannot list the sockets: %s",
			 v->err[0] ? v->err : strerror(-ret));
		return;
	}
	v->nr_socks = ret;
	ret = nfm_netdev_list(v->ctx, &v->devs, &t2);
	if (ret < 0) {
		v->devs = NULL;
		snprintf(v->error, sizeof(v->error), "cannot list the interfaces: %s",
			 v->err[0] ? v->err : strerror(-ret));
		return;
	}
	v->nr_devs = ret;
	v->bytes = calloc((size_t)v->nr_socks + 1, sizeof(*v->bytes));
	for (i = 0; v->bytes && i < v->nr_socks; i++) {
		const struct nfm_socket *s = &v->socks[i];

		v->bytes[i][0] = v->bytes[i][1] = UINT64_MAX;
		if (s->protocol == IPPROTO_TCP && s->rport && s->state != 6 && s->state != 10 &&
		    s->state != 12 && s->state != 3)
			nfm_socket_tcp_bytes(v->ctx, s->sk, &v->bytes[i][0], &v->bytes[i][1]);
	}
	if (t1 || t2) {
		snprintf(v->error, sizeof(v->error), "the %s list was cut short",
			 t1 ? "socket" : "interface");
		return;
	}
	v->complete = true;
	vm_deltas(v);
}

static void vm_close(struct vm *v)
{
	vm_clear(v);
	free(v->prev);
	v->prev = NULL;
	nfm_ctx_free(v->ctx);
	nfm_source_free(v->src);
	v->ctx = NULL;
	v->src = NULL;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * --remote: the VMs are whatever the nfmd instances watch now, so the set is made again for
 * every read (names and --net); their frames are joined as local ones.
 */
static int remote_graph(struct cli *cli, const struct topo_opts *o, struct vm **vms, int *nv,
			struct topo_graph **g)
{
	struct topo_frame_store *st = NULL;
	struct topo_frame *f;
	int n = 0, i, ret = topo_remote_fetch(o->remote, &st, &n);

	if (ret)
		return ret;
	free(*vms);
	*vms = calloc((size_t)n + 1, sizeof(**vms));
	f = calloc((size_t)n + 1, sizeof(*f));
	*nv = 0;
	if (*vms && f) {
		for (i = 0; i < n; i++)
			snprintf((*vms)[i].name, sizeof((*vms)[i].name), "%s", st[i].vm);
		*nv = n;
		ret = apply_nets(cli, o, *vms, n) ? -EINVAL : 0;
		for (i = 0; !ret && i < n; i++) {
			f[i] = st[i].frame;
			f[i].net = (*vms)[i].net;
		}
		if (!ret)
			ret = topo_build(f, n, o->by, g);
	} else {
		ret = -ENOMEM;
	}
	for (i = 0; i < n; i++)
		topo_frame_store_free(&st[i]);
	free(st);
	free(f);
	return ret;
}

/*
 * --watch: each edge's bytes per second since the read before. The graph of the counters'
 * growth (the same sockets, so the same nodes and edges in the same order) over the interval;
 * the VMs are read one after the other, so the interval is their mean.
 */
static void add_rates(struct topo_graph *g, struct topo_frame *f, const struct vm *vms, int nv)
{
	struct topo_graph *d = NULL;
	double dt = 0;
	int i;

	for (i = 0; i < nv; i++) {
		if (!vms[i].delta || vms[i].read_ns <= vms[i].prev_ns)
			return;
		f[i].bytes = (const uint64_t (*)[2])vms[i].delta;
		dt += (double)(vms[i].read_ns - vms[i].prev_ns) / 1e9 / nv;
	}
	if (topo_build(f, nv, g->by, &d) || d->nr_edges != g->nr_edges)
		goto out;
	for (i = 0; i < g->nr_edges; i++) {
		struct topo_edge *e = &g->edges[i];
		const struct topo_edge *x = &d->edges[i];

		if (strcmp(g->nodes[e->src].id, d->nodes[x->src].id) ||
		    strcmp(g->nodes[e->dst].id, d->nodes[x->dst].id) || e->port != x->port ||
		    e->protocol != x->protocol)
			goto out;	/* not the same graph: no rates rather than wrong ones */
	}
	for (i = 0; i < g->nr_edges; i++) {
		struct topo_edge *e = &g->edges[i];
		const struct topo_edge *x = &d->edges[i];

		e->rate_known = x->bytes_known;
		e->rate_to_dst = x->bytes_known ? (double)x->bytes_to_dst / dt : 0;
		e->rate_to_src = x->bytes_known ? (double)x->bytes_to_src / dt : 0;
	}
out:
	topo_graph_free(d);
}

static int read_graph(struct vm *vms, int nv, enum topo_by by, bool rates,
		      struct topo_graph **g)
{
	struct topo_frame *f = calloc((size_t)nv + 1, sizeof(*f));
	int i, ret;

	if (!f)
		return -ENOMEM;
	for (i = 0; i < nv; i++) {
		vm_read(&vms[i]);
		f[i] = (struct topo_frame){
			.vm = vms[i].name, .net = vms[i].net,
			.socks = vms[i].socks, .nr_socks = vms[i].nr_socks,
			.devs = vms[i].devs, .nr_devs = vms[i].nr_devs,
			.bytes = (const uint64_t (*)[2])vms[i].bytes,
			.complete = vms[i].complete, .error = vms[i].error,
		};
	}
	ret = topo_build(f, nv, by, g);
	if (!ret && rates)
		add_rates(*g, f, vms, nv);
	free(f);
	return ret;
}

/*
 * --since: the union of every sample's edges. An edge's count is the most connections it had in
 * one sample (a connection that lives across samples is not counted twice); its states the
 * states of that sample; bytes the last sample's sums. Nodes are the union.
 */
static int merge_into(struct topo_graph **acc, const struct topo_graph *g)
{
	struct topo_graph *a = *acc, *m;
	int i, j, k;

	if (!a) {
		m = calloc(1, sizeof(*m));
		if (!m)
			return -ENOMEM;
		*m = *g;
		m->nodes = malloc(((size_t)g->nr_nodes + 1) * sizeof(*m->nodes));
		m->edges = malloc(((size_t)g->nr_edges + 1) * sizeof(*m->edges));
		m->errors = malloc(((size_t)g->nr_errors + 1) * sizeof(*m->errors));
		if (!m->nodes || !m->edges || !m->errors) {
			topo_graph_free(m);
			return -ENOMEM;
		}
		memcpy(m->nodes, g->nodes, (size_t)g->nr_nodes * sizeof(*m->nodes));
		memcpy(m->edges, g->edges, (size_t)g->nr_edges * sizeof(*m->edges));
		memcpy(m->errors, g->errors, (size_t)g->nr_errors * sizeof(*m->errors));
		*acc = m;
		return 0;
	}
	/* nodes: a sorted union; remember where each of a's and g's nodes went */
	{
		int *ra = malloc(((size_t)a->nr_nodes + 1) * sizeof(int));
		int *rg = malloc(((size_t)g->nr_nodes + 1) * sizeof(int));
		struct topo_node *nn = malloc(((size_t)a->nr_nodes + (size_t)g->nr_nodes + 1) *
					      sizeof(*nn));
		struct topo_edge *ne = malloc(((size_t)a->nr_edges + (size_t)g->nr_edges + 1) *
					      sizeof(*ne));
		struct topo_error *nerr = realloc(a->errors, ((size_t)a->nr_errors +
							      (size_t)g->nr_errors + 1) * sizeof(*nerr));
		int n = 0, e = 0;

		if (nerr)
			a->errors = nerr;
		if (!ra || !rg || !nn || !ne || !nerr) {
			free(ra);
			free(rg);
			free(nn);
			free(ne);
			return -ENOMEM;
		}
		for (i = j = 0; i < a->nr_nodes || j < g->nr_nodes;) {
			int c = i >= a->nr_nodes ? 1 : j >= g->nr_nodes ? -1 :
				strcmp(a->nodes[i].id, g->nodes[j].id);

			if (c <= 0) {
				ra[i] = n;
				if (!c)
					rg[j++] = n;
				nn[n++] = a->nodes[i++];
			} else {
				rg[j] = n;
				nn[n++] = g->nodes[j++];
			}
		}
		for (i = 0; i < a->nr_edges; i++) {
			a->edges[i].src = ra[a->edges[i].src];
			a->edges[i].dst = ra[a->edges[i].dst];
		}
		for (i = j = 0; i < a->nr_edges || j < g->nr_edges;) {
			struct topo_edge x;
			int c;

			if (j < g->nr_edges) {
				x = g->edges[j];
				x.src = rg[x.src];
				x.dst = rg[x.dst];
			}
			c = i >= a->nr_edges ? 1 : j >= g->nr_edges ? -1 :
			    a->edges[i].src != x.src ? (a->edges[i].src < x.src ? -1 : 1) :
			    a->edges[i].dst != x.dst ? (a->edges[i].dst < x.dst ? -1 : 1) :
			    a->edges[i].protocol != x.protocol ? (a->edges[i].protocol < x.protocol ? -1 : 1) :
			    a->edges[i].port != x.port ? (a->edges[i].port < x.port ? -1 : 1) : 0;
			if (c < 0) {
				ne[e++] = a->edges[i++];
			} else if (c > 0) {
				ne[e++] = x;
				j++;
			} else {
				if (x.count < a->edges[i].count)
					memcpy(x.states, a->edges[i].states, sizeof(x.states)),
					x.count = a->edges[i].count;
				ne[e++] = x;
				i++;
				j++;
			}
		}
		for (k = 0; k < g->nr_errors; k++)
			a->errors[a->nr_errors++] = g->errors[k];
		free(ra);
		free(rg);
		free(a->nodes);
		free(a->edges);
		a->nodes = nn;
		a->nr_nodes = n;
		a->edges = ne;
		a->nr_edges = e;
		a->complete = a->complete && g->complete;
		a->nr_connections = 0;
		for (k = 0; k < e; k++)
			a->nr_connections += ne[k].count;
	}
	return 0;
}

/*
 * --store: the window [now - since, now] from the recorded timelines. Every change of any
 * VM's state is a moment; at each, the VMs' states in force then are joined and the union
 * taken (merge_into), so a connection recorded in one frame is in the graph. A VM appears from
 * its first recorded state on.
 */
static int store_graph(struct cli *cli, const struct topo_opts *o, struct vm **vms, int *nv,
		       struct topo_graph **acc, int *samples)
{
	int64_t to = (int64_t)now_ns(), from = to - (int64_t)o->since_ns;
	struct topo_rec_vm *rv = NULL;
	struct topo_frame *f = NULL;
	int n = 0, i, k, ret, *at = NULL;
	char err[600] = "";

	ret = topo_store_load(&cli->log, o->store, from, to, &rv, &n, err, sizeof(err));
	if (ret)
		return cli_fail("%s", cli_esc(err[0] ? err : strerror(-ret)));
	*vms = calloc((size_t)n + 1, sizeof(**vms));
	f = calloc((size_t)n + 1, sizeof(*f));
	at = calloc((size_t)n + 1, sizeof(*at));
	if (!*vms || !f || !at) {
		ret = cli_fail("out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf((*vms)[i].name, sizeof((*vms)[i].name), "%.127s",
			 rv[i].n ? rv[i].st[0].fs.vm : rv[i].dir);
		at[i] = -1;
		if (!rv[i].n)
			cli_warn("%s: no frame recorded before the window's end", cli_esc(rv[i].dir));
		if (rv[i].cut)
			cli_warn("%s: more than %d changes or %d sockets in the window: the later "
				 "ones are left out", cli_esc(rv[i].dir), TOPO_REC_MAX_STATES,
				 TOPO_REC_MAX_SOCKETS);
		for (k = 0; k < i; k++)	/* the join needs each VM once */
			if (!strcmp((*vms)[k].name, (*vms)[i].name)) {
				ret = cli_fail("%s and %s both hold VM %s: give one store a VM",
					       cli_esc(rv[k].dir), cli_esc(rv[i].dir),
					       cli_esc((*vms)[i].name));
				goto out;
			}
	}
	*nv = n;
	if ((ret = apply_nets(cli, o, *vms, n)))
		goto out;
	for (;;) {
		int64_t t = INT64_MAX;
		struct topo_graph *g = NULL;
		int m = 0;

		/* the next moment: the earliest state not yet in force */
		for (i = 0; i < n; i++)
			if (at[i] + 1 < rv[i].n && rv[i].st[at[i] + 1].time_ns < t)
				t = rv[i].st[at[i] + 1].time_ns;
		if (t == INT64_MAX)
			break;
		for (i = 0; i < n; i++) {
			while (at[i] + 1 < rv[i].n && rv[i].st[at[i] + 1].time_ns <= t)
				at[i]++;
			if (at[i] < 0)
				continue;
			k = at[i];
			f[m] = rv[i].st[k].fs.frame;
			f[m].vm = (*vms)[i].name;
			f[m].net = (*vms)[i].net;
			f[m].bytes = NULL;	/* counters of another moment: no bytes */
			m++;
		}
		ret = topo_build(f, m, o->by, &g);
		if (!ret) {
			ret = merge_into(acc, g);
			topo_graph_free(g);
		}
		if (ret) {
			ret = cli_fail("cannot build the graph: %s", strerror(-ret));
			goto out;
		}
		(*samples)++;
	}
	if (!*acc && (ret = topo_build(f, 0, o->by, acc)))
		ret = cli_fail("cannot build the graph: %s", strerror(-ret));
	for (i = 0; !ret && i < n; i++)
		if (!rv[i].n || rv[i].cut)
			(*acc)->complete = false;
out:
	free(f);
	free(at);
	topo_store_free(rv, n);
	return ret;
}

static int print_table(struct cli *cli, const struct topo_graph *g, bool rates)
{
	struct table *t = table_new(cli);
	char src[1024], dst[1024], st[256];
	int i;

	if (!t)
		return cli_fail("out of memory");
	table_column(t, "SOURCE", 0);
	table_column(t, "DESTINATION", 0);
	table_column(t, "PROTO", 0);
	table_column(t, "PORT", TBL_RIGHT);
	table_column(t, "CONNS", TBL_RIGHT);
	table_column(t, "TX", TBL_RIGHT);
	table_column(t, "RX", TBL_RIGHT);
	if (rates) {
		table_column(t, "TX/s", TBL_RIGHT);
		table_column(t, "RX/s", TBL_RIGHT);
	}
	table_column(t, "STATES", TBL_TRUNC);
	for (i = 0; i < g->nr_edges; i++) {
		const struct topo_edge *e = &g->edges[i];

		table_row(t);
		/* labels are escaped by topo_node_label */
		table_cell(t, "%s", topo_node_label(g, &g->nodes[e->src], src, sizeof(src)));
		table_cell(t, "%s", topo_node_label(g, &g->nodes[e->dst], dst, sizeof(dst)));
		table_cell(t, "%s", e->protocol == IPPROTO_TCP ? "tcp" : "udp");
		table_cell(t, "%u", e->port);
		table_cell(t, "%u", e->count);
		if (e->bytes_known) {
			table_cell(t, "%" PRIu64, e->bytes_to_dst);
			table_cell(t, "%" PRIu64, e->bytes_to_src);
		} else {
			table_cell(t, "-");
			table_cell(t, "-");
		}
		if (rates && e->rate_known) {
			table_cell(t, "%.0f", e->rate_to_dst);
			table_cell(t, "%.0f", e->rate_to_src);
		} else if (rates) {
			table_cell(t, "-");
			table_cell(t, "-");
		}
		table_cell(t, "%s", topo_states_text(e, st, sizeof(st)));
	}
	return table_print(t);
}

/* dot -Tsvg of the graph's DOT text, to stdout. */
static int print_svg(const struct topo_graph *g)
{
	int in[2], status;
	pid_t pid;
	FILE *f;

	fflush(stdout);
	if (pipe(in))
		return cli_fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return cli_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(in[0], 0);
		close(in[0]);
		close(in[1]);
		execlp("dot", "dot", "-Tsvg", (char *)NULL);
		fprintf(stderr, "nfm: cannot run Graphviz's dot (Debian package graphviz): %s\n",
			strerror(errno));
		_exit(127);
	}
	close(in[0]);
	f = fdopen(in[1], "w");
	if (!f) {
		close(in[1]);
		waitpid(pid, NULL, 0);
		return cli_fail("fdopen: %s", strerror(errno));
	}
	{
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);
		int w = topo_dot(g, f);

		fclose(f);
		signal(SIGPIPE, old);
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? 1 :
			       cli_fail("Graphviz's dot failed");
		if (w)
			return cli_fail("cannot write to Graphviz's dot");
	}
	return 0;
}

static void print_errors(const struct topo_graph *g)
{
	int i;

	for (i = 0; i < g->nr_errors; i++)
		cli_warn("%s: %s", cli_esc(g->errors[i].view), cli_esc(g->errors[i].msg));
}

static int output(struct cli *cli, const struct topo_opts *o, const struct topo_graph *g,
		  const struct vm *vms, int nv, uint64_t t, int nr_samples)
{
	int ret = 0, i;

	/* what is missing, on stderr in every format (with -j also in the document's errors) */
	print_errors(g);
	if (o->fmt == FMT_JSON) {
		struct json_object *doc = jdoc_new("topo"), *names = json_object_new_array();

		j_add(doc, "time_ns", j_u64(t));
		for (i = 0; i < nv; i++)
			json_object_array_add(names, j_str(vms[i].name));
		j_add(doc, "vms", names);
		if (o->since_ns) {
			j_add(doc, "since_ns", j_u64(o->since_ns));
			j_add(doc, "nr_samples", j_int(nr_samples));
		}
		topo_json(g, doc);
		/* --watch streams JSON Lines */
		if (o->watch > 0 && cli->pretty < 0)
			cli->pretty = 0;
		ret = cli_print_json(cli, doc);
	} else {
		if (o->fmt == FMT_DOT)
			ret = topo_dot(g, stdout);
		else if (o->fmt == FMT_SVG)
			ret = print_svg(g);
		else
			ret = print_table(cli, g, o->watch > 0 && !o->since_ns && !o->remote);
	}
	if (ret)
		return ret;
	return g->complete ? 0 : EXIT_PARTIAL;
}

static int parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double v = strtod(s, &end);
	double mul = 1e9;

	if (end == s || v < 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "s") || !*end)
		mul = 1e9;
	else if (!strcmp(end, "m"))
		mul = 60e9;
	else if (!strcmp(end, "h"))
		mul = 3600e9;
	else
		return -EINVAL;
	if (v * mul > 7 * 86400e9)
		return -ERANGE;
	*ns = (uint64_t)(v * mul);
	return 0;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int cmd_topo(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "net", required_argument, NULL, 'N' },
		{ "format", required_argument, NULL, 'f' },
		{ "watch", optional_argument, NULL, 'w' },
		{ "since", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "remote", required_argument, NULL, 'R' },
		{ "store", required_argument, NULL, 'S' },
		{ 0 }
	};
	struct topo_opts o = { .by = TOPO_BY_VM, .fmt = FMT_TABLE, .interval = 1.0 };
	struct topo_graph *g = NULL;
	struct vm *vms = NULL;
	bool fmt_set = false;
	int nv = 0, c, ret = 0, i;
	long frame;
	char *end;

	while ((c = cli_getopt(cli, argc, argv, "b:f:n:", longopts)) != -1) {
		switch (c) {
		case 'b':
			if (topo_by_parse(optarg, &o.by))
				return cli_usage_error(cli, "--by wants vm, process or service");
			break;
		case 'N':
			if (o.nr_netmap == MAX_NETS_OPT)
				return cli_usage_error(cli, "at most %d --net", MAX_NETS_OPT);
			o.netmap[o.nr_netmap++] = optarg;
			break;
		case 'f':
			fmt_set = true;
			if (!strcmp(optarg, "table"))
				o.fmt = FMT_TABLE;
			else if (!strcmp(optarg, "json"))
				o.fmt = FMT_JSON;
			else if (!strcmp(optarg, "dot"))
				o.fmt = FMT_DOT;
			else if (!strcmp(optarg, "svg"))
				o.fmt = FMT_SVG;
			else
				return cli_usage_error(cli, "--format wants table, json, dot or svg");
			break;
		case 'w':
			o.watch = optarg ? strtod(optarg, &end) : 2.0;
			if (optarg && (*end || !(o.watch >= 0.1 && o.watch <= 86400)))
				return cli_usage_error(cli, "--watch wants seconds from 0.1 to 86400");
			break;
		case 's':
			if (parse_duration(optarg, &o.since_ns) || !o.since_ns)
				return cli_usage_error(cli, "--since wants a duration (500ms, 30s, 10m, 1h; at most 7 days)");
			break;
		case 'i':
			o.interval = strtod(optarg, &end);
			if (*end || !(o.interval >= 0.05 && o.interval <= 3600))
				return cli_usage_error(cli, "--interval wants seconds from 0.05 to 3600");
			break;
		case 'R':
			o.remote = optarg;
			break;
		case 'S':
			o.store = optarg;
			break;
		case 'n':
			o.count = strtol(optarg, &end, 10);
			if (*end || o.count < 1)
				return cli_usage_error(cli, "-n wants a positive count");
			break;
		default:
			return cli_opt_status(cli);
		}
	}
	if (cli->json) {
		if (fmt_set && o.fmt != FMT_JSON)
			return cli_usage_error(cli, "-j and --format %s disagree",
					       o.fmt == FMT_DOT ? "dot" : o.fmt == FMT_SVG ? "svg" : "table");
		o.fmt = FMT_JSON;
	}
	if (o.watch > 0 && (o.fmt == FMT_DOT || o.fmt == FMT_SVG))
		return cli_usage_error(cli, "--watch prints a table or JSON Lines");
	if (o.remote && (optind < argc || cli->vm))
		return cli_usage_error(cli, "--remote joins the VMs the nfmd instances watch: no VM arguments");
	if (o.store && (optind < argc || cli->vm || o.remote || o.watch > 0))
		return cli_usage_error(cli, "--store joins the VMs of its timelines: no VM arguments, "
				       "--remote or --watch");
	if (o.store) {
		struct topo_graph *acc = NULL;
		int samples = 0;

		ret = store_graph(cli, &o, &vms, &nv, &acc, &samples);
		if (!ret)
			ret = output(cli, &o, acc, vms, nv, now_ns(), samples);
		topo_graph_free(acc);
		free(vms);
		return ret;
	}
	if (!o.remote && (ret = pick_vms(cli, argc, argv, &vms, &nv)))
		return ret;
	if (!o.remote && (ret = apply_nets(cli, &o, vms, nv))) {
		free(vms);
		return ret;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (frame = 0; !stop; frame++) {
		struct topo_graph *acc = NULL;
		int samples = 0;
		uint64_t t0 = now_ns(), t = t0;

		/* --since: sample at the interval for the window, the union of what was seen */
		do {
			ret = o.remote ? remote_graph(cli, &o, &vms, &nv, &g) :
					 read_graph(vms, nv, o.by, o.watch > 0 && !o.since_ns, &g);
			if (ret == -EINVAL && o.remote) {
				ret = 2;	/* apply_nets said why */
				break;
			}
			if (ret) {
				ret = cli_fail("cannot build the graph: %s", strerror(-ret));
				break;
			}
			t = now_ns();
			samples++;
			if (!o.since_ns) {
				acc = g;
				g = NULL;
				break;
			}
			ret = merge_into(&acc, g);
			topo_graph_free(g);
			g = NULL;
			if (ret) {
				ret = cli_fail("out of memory");
				break;
			}
			if (t - t0 + (uint64_t)(o.interval * 1e9) > o.since_ns)
				break;
			sleep_s(o.interval);
		} while (!stop);
		if (ret || !acc) {
			topo_graph_free(acc);
			break;
		}
		if (o.watch > 0 && o.fmt == FMT_TABLE && isatty(1))
			fputs("\033[H\033[2J", stdout);
		ret = output(cli, &o, acc, vms, nv, t, samples);
		topo_graph_free(acc);
		if (ret == 1 || o.watch <= 0 || (o.count && frame + 1 >= o.count))
			break;
		fflush(stdout);
		sleep_s(o.watch);
	}
	for (i = 0; i < nv; i++)
		vm_close(&vms[i]);
	free(vms);
	return ret;
}

const struct command command_topo = {
	.name = "topo",
	.summary = "who talks to whom across the VMs (TopoLog)",
	.usage = "[-j] [--by vm|process|service] [--format table|json|dot|svg] [--net VM=NAME]... [--watch[=SECONDS]] [--since DURATION] [--store DIR | --remote HOST:PORT,... | VM...]",
	.help =
	"  VM                     a VM by name or pid (as nfm list), or any --vm SPEC; default: every VM\n"
	"  -b, --by LEVEL         nodes are VMs (vm, the default), processes (process) or services:\n"
	"                         a listening port and its process (service)\n"
	"  -f, --format FORMAT    table (default), json (as -j), dot (Graphviz) or svg (runs dot -Tsvg)\n"
	"      --net VM=NAME      VM is in network NAME (default: \"default\"); addresses are joined\n"
	"                         within a network, so VMs reusing private addresses in separate\n"
	"                         networks are told apart\n"
	"      --watch[=SECONDS]  read and print again every SECONDS (2); JSON Lines with -j; from\n"
	"                         the second frame on, each edge's bytes per second (TX/s, RX/s)\n"
	"      --since DURATION   sample for DURATION (500ms, 30s, 10m, 1h) and show every edge seen\n"
	"      --interval SECONDS --since's sampling period (1; a connection shorter than it may be missed)\n"
	"      --store DIR        read --since's window from recorded state timelines instead (a store of\n"
	"                         nfm record --frames, or nfmd --record's directory of stores); at once\n"
	"  -n, --count N          stop after N frames of --watch\n"
	"      --remote HOST:PORT,...  join the VMs these nfmd instances watch (their latest socket\n"
	"                         lists, GET /api/topology/frames) instead of this host's; token:\n"
	"                         $NFM_REMOTE_TOKEN\n",
	.run = cmd_topo,
};
