// SPDX-License-Identifier: GPL-2.0-or-later
/* TopoLog's join: frames (one VM's sockets and addresses each) -> nodes and edges (topo.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "guest_text.h"
#include "jout.h"
#include "topo.h"

#define TCP_LISTEN_ 10
#define TCP_CLOSE_ 7
#define MAX_NETS 4096
#define PREFETCH 16		/* join(): how many ends ahead the lookups are fetched */

/* An address in one form for both families: IPv4 as ::ffff:a.b.c.d. */
static void norm_addr(int family, const uint8_t *a, uint8_t out[16])
{
	if (family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, a, 4);
	} else {
		memcpy(out, a, 16);
	}
}

static bool is_v4(const uint8_t a[16])
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pfx, 12);
}

static bool is_zero(const uint8_t a[16])
{
	static const uint8_t z[16];

	return !memcmp(a, z, 16) || (is_v4(a) && !memcmp(a + 12, z, 4));
}

static bool is_loopback(const uint8_t a[16])
{
	static const uint8_t one[16] = { [15] = 1 };

	return !memcmp(a, one, 16) || (is_v4(a) && a[12] == 127);
}

static void addr_text(const uint8_t a[16], char *buf, size_t size)
{
	if (!inet_ntop(is_v4(a) ? AF_INET : AF_INET6, is_v4(a) ? a + 12 : a, buf, (socklen_t)size))
		snprintf(buf, size, "?");
}

/* ---- the build's tables, each sorted and searched by bsearch ---- */

struct owner {			/* an address a VM holds */
	int net, vm;
	uint8_t addr[16];
};

struct listener {		/* a listening socket (TCP LISTEN, unconnected bound UDP) */
	int vm, proto, port;
	const struct nfm_socket *s;
};

struct conn {			/* a connection's end */
	uint64_t la[2], ra[2];		/* the local and remote address, as big-endian numbers */
	int net, proto;
	uint16_t lport, rport;
	int vm, sock;
};

/*
 * A large array the join fills once: on 2 MiB boundaries and marked for huge pages, so that the
 * host maps it in a few faults rather than one per 4 KiB page (a fifth of the join's time went to
 * those faults). Freed with free().
 */
static void *big_array(size_t n, size_t size)
{
	const size_t huge = 2u << 20;
	void *p = NULL;

	if (n > SIZE_MAX / size)
		return NULL;
	if (n * size < huge)
		return malloc(n * size + 1);
	if (posix_memalign(&p, huge, n * size))
		return NULL;
	madvise(p, n * size & ~(huge - 1), MADV_HUGEPAGE);	/* a hint: 4 KiB pages otherwise */
	return p;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void addr_of(const uint64_t k[2], uint8_t out[16])
{
	int i;

	for (i = 0; i < 8; i++) {
		out[i] = (uint8_t)(k[0] >> (56 - 8 * i));
		out[8 + i] = (uint8_t)(k[1] >> (56 - 8 * i));
	}
}

struct rec {			/* one counted connection */
	int src, dst, proto, port, state;
	uint64_t to_dst, to_src;
	bool bytes;
};

struct build {
	const struct topo_frame *f;
	int nr;
	int *net_of;			/* per frame */
	const char *nets[MAX_NETS];
	int nr_nets;
	struct topo_graph *g;
	int cap_nodes;
	int *hash;			/* node id -> index + 1 (open addressing) */
	size_t hash_size;
	struct rec *recs;
	size_t nr_recs, cap_recs;
	struct nkey *keys;		/* node key -> node index: the join's fast path (no id text) */
	size_t nr_keys, keys_size;
};

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->net != y->net)
		return x->net < y->net ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static const struct build *sort_ctx;	/* for the tie-break by name (qsort has no argument) */

static int cmp_owner_vm(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;
	int c = cmp_owner(a, b);

	return c ? c : strcmp(sort_ctx->f[x->vm].vm, sort_ctx->f[y->vm].vm);
}

static int cmp_listener(const void *a, const void *b)
{
	const struct listener *x = a, *y = b;

	if (x->vm != y->vm)
		return x->vm < y->vm ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

/* By (network, protocol, local address, local port, remote address, remote port): the
 * addresses compare as memcmp() would, byte by byte. */
static inline int cmp_conn_key(const struct conn *x, const struct conn *y)
{
	if (x->net != y->net)
		return x->net < y->net ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->la[0] != y->la[0])
		return x->la[0] < y->la[0] ? -1 : 1;
	if (x->la[1] != y->la[1])
		return x->la[1] < y->la[1] ? -1 : 1;
	if (x->lport != y->lport)
		return x->lport < y->lport ? -1 : 1;
	if (x->ra[0] != y->ra[0])
		return x->ra[0] < y->ra[0] ? -1 : 1;
	if (x->ra[1] != y->ra[1])
		return x->ra[1] < y->ra[1] ? -1 : 1;
	return x->rport < y->rport ? -1 : x->rport > y->rport;
}

/* The key, then the order the ends were collected in (frame, socket): a total order, the one a
 * stable sort by the key gives. */
static inline bool conn_before(const struct conn *x, const struct conn *y)
{
	int c = cmp_conn_key(x, y);

	if (c)
		return c < 0;
	if (x->vm != y->vm)
		return x->vm < y->vm;
	return x->sock < y->sock;
}

static inline void conn_swap(struct conn *x, struct conn *y)
{
	struct conn t = *x;

	*x = *y;
	*y = t;
}

/* Sorts in place by conn_before (no two ends equal): quicksort, median of three, insertion sort
 * below 16, the smaller half first (recursion depth <= log2 n). No allocation, no indirect calls. */
static void sort_conns(struct conn *a, size_t n)
{
	while (n > 16) {
		size_t m = n / 2, i = 0, j = n - 1;
		struct conn p;

		if (conn_before(&a[m], &a[0]))
			conn_swap(&a[m], &a[0]);
		if (conn_before(&a[n - 1], &a[0]))
			conn_swap(&a[n - 1], &a[0]);
		if (conn_before(&a[n - 1], &a[m]))
			conn_swap(&a[n - 1], &a[m]);
		p = a[m];
		for (;;) {
			while (conn_before(&a[i], &p))
				i++;
			while (conn_before(&p, &a[j]))
				j--;
			if (i >= j)
				break;
			conn_swap(&a[i], &a[j]);
			i++;
			j--;
		}
		/* [0, j] <= p <= [j + 1, n) */
		if (j + 1 < n - j - 1) {
			sort_conns(a, j + 1);
			a += j + 1;
			n -= j + 1;
		} else {
			sort_conns(a + j + 1, n - j - 1);
			n = j + 1;
		}
	}
	for (size_t i = 1; i < n; i++) {
		struct conn t = a[i];
		size_t j = i;

		for (; j && conn_before(&t, &a[j - 1]); j--)
			a[j] = a[j - 1];
		a[j] = t;
	}
}

static size_t hash_conn(const struct conn *c)
{
	uint64_t h = (uint64_t)c->net << 40 ^ (uint64_t)c->proto << 32 ^ (uint64_t)c->lport << 16 ^
		     c->rport;

	h ^= c->la[0] * 0x9e3779b97f4a7c15ull ^ c->la[1] * 0xc2b2ae3d27d4eb4full;
	h ^= c->ra[0] * 0x165667b19e3779f9ull ^ c->ra[1] * 0x27d4eb2f165667c5ull;
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h ^ h >> 32);
}

/* The ends by key: index + 1 of the first end (in the sorted order) of each key; 0 empty. */
struct conn_index {
	uint32_t *slot;
	size_t mask;
};

static int index_conns(struct conn_index *x, const struct conn *a, size_t n)
{
	size_t size = 16, i, k;

	while (size < 2 * n)
		size *= 2;
	x->slot = calloc(size, sizeof(*x->slot));
	if (!x->slot)
		return -ENOMEM;
	x->mask = size - 1;
	for (i = 0; i < n; i++) {
		for (k = hash_conn(&a[i]) & x->mask; x->slot[k]; k = (k + 1) & x->mask)
			if (!cmp_conn_key(&a[x->slot[k] - 1], &a[i]))
				break;
		if (!x->slot[k])
			x->slot[k] = (uint32_t)i + 1;
	}
	return 0;
}

/* The first end (in the sorted a) whose key is k's, or NULL; h is hash_conn(k). */
static const struct conn *lookup_conn(const struct conn_index *x, const struct conn *a,
				      const struct conn *k, size_t h)
{
	size_t i;

	for (i = h & x->mask; x->slot[i]; i = (i + 1) & x->mask)
		if (!cmp_conn_key(&a[x->slot[i] - 1], k))
			return &a[x->slot[i] - 1];
	return NULL;
}

/* The key the other end of c has: local and remote swapped. */
static void peer_key(const struct conn *c, struct conn *k)
{
	*k = *c;
	memcpy(k->la, c->ra, sizeof(k->la));
	memcpy(k->ra, c->la, sizeof(k->ra));
	k->lport = c->rport;
	k->rport = c->lport;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	if (x->dst != y->dst)
		return x->dst < y->dst ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

static void add_error(struct topo_graph *g, const char *view, int err, const char *msg)
{
	struct topo_error *e;

	g->complete = false;
	e = realloc(g->errors, (size_t)(g->nr_errors + 1) * sizeof(*e));
	if (!e)
		return;
	g->errors = e;
	e += g->nr_errors++;
	snprintf(e->view, sizeof(e->view), "%s", view);
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	e->err = err;
}

/* The lowest pid among a socket's owners (those kept), 0 for none; its comm into comm. */
static int owner_of(const struct nfm_socket *s, char comm[16])
{
	int i, best = -1;

	comm[0] = 0;
	if (!s)
		return 0;
	for (i = 0; i < s->nr_owners && i < NFM_SOCK_MAX_OWNERS; i++)
		if (s->owner_pid[i] > 0 && (best < 0 || s->owner_pid[i] < s->owner_pid[best]))
			best = i;
	if (best < 0)
		return 0;
	memcpy(comm, s->owner_comm[best], 16);
	return s->owner_pid[best];
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

/*
 * A node's identity as numbers: kind, then (vm) / (vm, pid) / (vm, protocol, port) /
 * (network, address). Each key gives one id text; the text (intern()) stays the node's identity,
 * the key only saves formatting and hashing it again for every connection.
 */
struct nkey {
	int kind, a, b, c;
	uint8_t addr[16];
	int node;			/* index + 1; 0: an empty slot */
};

static uint64_t hash_key(const struct nkey *k)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = (const uint8_t *)k;
	size_t i;

	for (i = 0; i < offsetof(struct nkey, node); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static bool key_eq(const struct nkey *x, const struct nkey *y)
{
	return x->kind == y->kind && x->a == y->a && x->b == y->b && x->c == y->c &&
	       !memcmp(x->addr, y->addr, 16);
}

/* The slot of k: its node (->node set), or the empty slot where it goes; NULL: -ENOMEM. */
static struct nkey *key_slot(struct build *b, const struct nkey *k)
{
	size_t i;

	if (b->nr_keys * 2 >= b->keys_size) {
		size_t size = b->keys_size ? b->keys_size * 2 : 1024, j;
		struct nkey *t = calloc(size, sizeof(*t));

		if (!t)
			return NULL;
		for (j = 0; j < b->keys_size; j++) {
			if (!b->keys[j].node)
				continue;
			for (i = hash_key(&b->keys[j]) & (size - 1); t[i].node; i = (i + 1) & (size - 1))
				;
			t[i] = b->keys[j];
		}
		free(b->keys);
		b->keys = t;
		b->keys_size = size;
	}
	for (i = hash_key(k) & (b->keys_size - 1); b->keys[i].node; i = (i + 1) & (b->keys_size - 1))
		if (key_eq(&b->keys[i], k))
			break;
	return &b->keys[i];
}

/* The index of the node with n's id, adding n when it is new; -ENOMEM. */
static int intern(struct build *b, const struct topo_node *n)
{
	struct topo_graph *g = b->g;
	size_t i;

	if ((size_t)g->nr_nodes * 2 >= b->hash_size) {
		size_t size = b->hash_size ? b->hash_size * 2 : 1024, j;
		int *h = calloc(size, sizeof(*h));

		if (!h)
			return -ENOMEM;
		for (j = 0; j < (size_t)g->nr_nodes; j++) {
			size_t k = hash_str(g->nodes[j].id) & (size - 1);

			while (h[k])
				k = (k + 1) & (size - 1);
			h[k] = (int)j + 1;
		}
		free(b->hash);
		b->hash = h;
		b->hash_size = size;
	}
	for (i = hash_str(n->id) & (b->hash_size - 1); b->hash[i]; i = (i + 1) & (b->hash_size - 1))
		if (!strcmp(g->nodes[b->hash[i] - 1].id, n->id))
			return b->hash[i] - 1;
	if (g->nr_nodes == b->cap_nodes) {
		int cap = b->cap_nodes ? b->cap_nodes * 2 : 256;
		struct topo_node *nn = realloc(g->nodes, (size_t)cap * sizeof(*nn));

		if (!nn)
			return -ENOMEM;
		g->nodes = nn;
		b->cap_nodes = cap;
	}
	g->nodes[g->nr_nodes] = *n;
	b->hash[i] = g->nr_nodes + 1;
	return g->nr_nodes++;
}

static const char *proto_name(int proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "ip";
}

/*
 * The node of one end at the build's level. vm < 0: an external peer at addr. s: the end's
 * socket when it is in the set; lst: the listener of a server end. server: whether this end is
 * the connection's server (a service node at --by service).
 */
static int end_node(struct build *b, int vm, const uint8_t addr[16], const struct nfm_socket *s,
		    const struct listener *lst, bool server, int proto, uint16_t port)
{
	struct topo_node n;
	struct nkey k = { 0 }, *slot;
	char comm[16];
	int net, pid = 0, idx;

	if (vm < 0)
		return -EINVAL;	/* external_node() */
	k.a = vm;
	if (b->g->by == TOPO_BY_VM) {
		k.kind = TOPO_NODE_VM;
	} else if (b->g->by == TOPO_BY_SERVICE && server) {
		k.kind = TOPO_NODE_SERVICE;
		k.b = proto;
		k.c = port;
	} else {
		k.kind = TOPO_NODE_PROCESS;
		pid = owner_of(s, comm);
		if (!pid && server && lst)
			pid = owner_of(lst->s, comm);
		k.b = pid;
	}
	if (!(slot = key_slot(b, &k)))
		return -ENOMEM;
	if (slot->node)
		return slot->node - 1;
	net = b->net_of[vm];
	memset(&n, 0, sizeof(n));
	n.vm = vm;
	n.kind = (enum topo_kind)k.kind;
	snprintf(n.net, sizeof(n.net), "%s", b->nets[net]);
	snprintf(n.vm_name, sizeof(n.vm_name), "%s", b->f[vm].vm);
	if (k.kind == TOPO_NODE_VM) {
		snprintf(n.id, sizeof(n.id), "vm:%s", b->f[vm].vm);
	} else if (k.kind == TOPO_NODE_SERVICE) {
		n.protocol = proto;
		n.port = port;
		n.pid = owner_of(lst ? lst->s : s, n.comm);
		if (lst)
			norm_addr(lst->s->family, lst->s->laddr, n.addr);
		else if (s)
			norm_addr(s->family, s->laddr, n.addr);
		n.family = is_v4(n.addr) ? AF_INET : AF_INET6;
		snprintf(n.id, sizeof(n.id), "service:%s:%s:%u", b->f[vm].vm, proto_name(proto), port);
	} else {
		n.pid = pid;
		memcpy(n.comm, comm, sizeof(n.comm));
		snprintf(n.id, sizeof(n.id), "process:%s:%d", b->f[vm].vm, n.pid);
	}
	(void)addr;
	if ((idx = intern(b, &n)) < 0)
		return idx;
	k.node = idx + 1;
	*slot = k;
	b->nr_keys++;
	return idx;
}

static int external_node(struct build *b, int net, const uint8_t addr[16])
{
	struct topo_node n;
	struct nkey k = { .kind = TOPO_NODE_EXTERNAL, .a = net }, *slot;
	char a[INET6_ADDRSTRLEN];
	int idx;

	memcpy(k.addr, addr, 16);
	if (!(slot = key_slot(b, &k)))
		return -ENOMEM;
	if (slot->node)
		return slot->node - 1;
	memset(&n, 0, sizeof(n));
	n.kind = TOPO_NODE_EXTERNAL;
	n.vm = -1;
	snprintf(n.net, sizeof(n.net), "%s", b->nets[net]);
	memcpy(n.addr, addr, 16);
	n.family = is_v4(addr) ? AF_INET : AF_INET6;
	addr_text(addr, a, sizeof(a));
	if (!strcmp(n.net, "default"))
		snprintf(n.id, sizeof(n.id), "external:%s", a);
	else
		snprintf(n.id, sizeof(n.id), "external:%s@%s", a, n.net);
	if ((idx = intern(b, &n)) < 0)
		return idx;
	k.node = idx + 1;
	*slot = k;
	b->nr_keys++;
	return idx;
}

static const struct listener *find_listener(const struct listener *l, size_t nl, int vm, int proto,
					    int port)
{
	struct listener k = { .vm = vm, .proto = proto, .port = port };

	return nl ? bsearch(&k, l, nl, sizeof(*l), cmp_listener) : NULL;
}

static bool is_listener(const struct nfm_socket *s)
{
	if (s->family != AF_INET && s->family != AF_INET6)
		return false;
	if (s->protocol == IPPROTO_TCP)
		return s->state == TCP_LISTEN_;
	return s->protocol == IPPROTO_UDP && s->lport && !s->rport;
}

static bool is_conn(const struct nfm_socket *s)
{
	uint8_t l[16], r[16];

	if (s->family != AF_INET && s->family != AF_INET6)
		return false;
	if (s->protocol != IPPROTO_TCP && s->protocol != IPPROTO_UDP)
		return false;
	if (!s->rport || !s->lport || s->state == TCP_LISTEN_ ||
	    (s->protocol == IPPROTO_TCP && s->state == TCP_CLOSE_))
		return false;
	norm_addr(s->family, s->laddr, l);
	norm_addr(s->family, s->raddr, r);
	return !is_loopback(l) && !is_loopback(r) && !is_zero(r);
}

bool topo_socket_used(const struct nfm_socket *s)
{
	return is_listener(s) || is_conn(s);
}

static int add_rec(struct build *b, const struct rec *r)
{
	if (b->nr_recs == b->cap_recs) {
		size_t cap = b->cap_recs ? b->cap_recs * 2 : 1024;
		struct rec *n = realloc(b->recs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		b->recs = n;
		b->cap_recs = cap;
	}
	b->recs[b->nr_recs++] = *r;
	return 0;
}

static int cmp_node_idx(const void *a, const void *b)
{
	const struct topo_node *n = sort_ctx->g->nodes;

	return strcmp(n[*(const int *)a].id, n[*(const int *)b].id);
}

/* Sort the nodes by id and the records by (src, dst, protocol, port); merge them into edges. */
static int finish(struct build *b)
{
	struct topo_graph *g = b->g;
	int *order, *rank, i;
	struct topo_node *sorted;
	size_t r, ne;

	order = malloc((size_t)(g->nr_nodes + 1) * sizeof(*order));
	rank = malloc((size_t)(g->nr_nodes + 1) * sizeof(*rank));
	sorted = malloc((size_t)(g->nr_nodes + 1) * sizeof(*sorted));
	if (!order || !rank || !sorted) {
		free(order);
		free(rank);
		free(sorted);
		return -ENOMEM;
	}
	for (i = 0; i < g->nr_nodes; i++)
		order[i] = i;
	sort_ctx = b;
	qsort(order, (size_t)g->nr_nodes, sizeof(*order), cmp_node_idx);
	for (i = 0; i < g->nr_nodes; i++) {
		rank[order[i]] = i;
		sorted[i] = g->nodes[order[i]];
	}
	free(g->nodes);
	g->nodes = sorted;
	for (r = 0; r < b->nr_recs; r++) {
		b->recs[r].src = rank[b->recs[r].src];
		b->recs[r].dst = rank[b->recs[r].dst];
	}
	free(order);
	free(rank);
	if (b->nr_recs)	/* qsort(NULL, 0) is undefined */
		qsort(b->recs, b->nr_recs, sizeof(*b->recs), cmp_rec);
	for (r = 0, ne = 0; r < b->nr_recs; r++)	/* the edges: the distinct records */
		ne += !r || cmp_rec(&b->recs[r], &b->recs[r - 1]);
	g->edges = big_array(ne + 1, sizeof(*g->edges));
	if (!g->edges)
		return -ENOMEM;
	memset(g->edges, 0, (ne + 1) * sizeof(*g->edges));
	for (r = 0; r < b->nr_recs; r++) {
		const struct rec *x = &b->recs[r];
		struct topo_edge *e = g->nr_edges ? &g->edges[g->nr_edges - 1] : NULL;

		if (!e || cmp_rec(x, &b->recs[r - 1])) {
			e = &g->edges[g->nr_edges++];
			e->src = x->src;
			e->dst = x->dst;
			e->protocol = x->proto;
			e->port = (uint16_t)x->port;
			e->bytes_known = true;
		}
		e->count++;
		if (x->state >= 0 && x->state < TOPO_NR_STATES)
			e->states[x->state]++;
		if (x->bytes) {
			e->bytes_to_dst += x->to_dst;
			e->bytes_to_src += x->to_src;
		} else {
			e->bytes_known = false;
		}
	}
	g->nr_connections = (unsigned int)b->nr_recs;
	return 0;
}

static int net_index(struct build *b, const char *net)
{
	int i;

	if (!net)
		net = "default";
	for (i = 0; i < b->nr_nets; i++)
		if (!strcmp(b->nets[i], net))
			return i;
	if (b->nr_nets == MAX_NETS)
		return -E2BIG;
	b->nets[b->nr_nets] = net;
	return b->nr_nets++;
}

/* Whether the end (vm a, local laddr) sorts before (vm p, local raddr): the tie-break. */
static int end_cmp(const struct build *b, int a, const uint8_t *la, int p, const uint8_t *ra)
{
	int c = strcmp(b->f[a].vm, b->f[p].vm);

	return c ? c : memcmp(la, ra, 16);
}

static int join(struct build *b, struct owner *own, size_t nown, struct listener *lst, size_t nlst,
		struct conn *cs, size_t ncs)
{
	struct conn_index ix;
	size_t i;
	int ret = 0;

	if (ncs > UINT32_MAX - 1)
		return -E2BIG;
	if ((ret = index_conns(&ix, cs, ncs)))
		return ret;
	/* The peer ends' hashes, PREFETCH ends ahead: the lookups land at random in the index and
	 * the ends; fetching both early (the slot, then the end it names) hides most of the misses
	 * that were half of the join's time. */
	size_t *ph = malloc(ncs * sizeof(*ph) + 1);

	if (!ph) {
		free(ix.slot);
		return -ENOMEM;
	}
	for (i = 0; i < ncs; i++) {
		struct conn k;

		peer_key(&cs[i], &k);
		ph[i] = hash_conn(&k);
	}
	/* at most one record per end: sized once, not grown by copies */
	if (!b->recs && ncs && (b->recs = big_array(ncs, sizeof(*b->recs))))
		b->cap_recs = ncs;
	for (i = 0; i < ncs; i++) {
		const struct conn *c = &cs[i];
		const struct nfm_socket *s = &b->f[c->vm].socks[c->sock], *ps = NULL, *cls, *svs;
		struct conn key;
		uint8_t laddr[16], raddr[16];
		struct owner ok = { .net = c->net };
		const struct conn *d;
		const struct owner *o;
		const struct listener *sl, *pl, *svl;
		int peer = -1, client_node, server_node, client_vm, server_vm;
		bool server;
		struct rec r = { 0 };
		const uint64_t (*bytes)[2];

		if (i + PREFETCH < ncs)
			__builtin_prefetch(&ix.slot[ph[i + PREFETCH] & ix.mask]);
		if (i + PREFETCH / 2 < ncs) {
			uint32_t e = ix.slot[ph[i + PREFETCH / 2] & ix.mask];

			if (e)
				__builtin_prefetch(&cs[e - 1]);
		}
		addr_of(c->la, laddr);
		addr_of(c->ra, raddr);
		peer_key(c, &key);
		d = lookup_conn(&ix, cs, &key, ph[i]);
		if (d == c)
			d = NULL;	/* connected to itself */
		memcpy(ok.addr, raddr, 16);
		o = nown ? bsearch(&ok, own, nown, sizeof(*own), cmp_owner) : NULL;
		if (d) {
			peer = d->vm;
			ps = &b->f[d->vm].socks[d->sock];
		} else if (o) {
			/* the first of equal keys: the lowest name (an ambiguity is an error) */
			while (o > own && !cmp_owner(o - 1, &ok))
				o--;
			peer = o->vm;
		}
		sl = find_listener(lst, nlst, c->vm, c->proto, c->lport);
		pl = peer >= 0 ? find_listener(lst, nlst, peer, c->proto, c->rport) : NULL;
		if (peer < 0)
			server = sl != NULL;
		else if (!sl != !pl)
			server = sl != NULL;
		else if (c->lport != c->rport)
			server = c->lport < c->rport;
		else
			server = end_cmp(b, c->vm, laddr, peer, raddr) < 0;
		if (server && d)
			continue;	/* counted from the client end */
		cls = server ? ps : s;
		svs = server ? s : ps;
		client_vm = server ? peer : c->vm;
		server_vm = server ? c->vm : peer;
		svl = server ? sl : pl;
		r.proto = c->proto;
		r.port = server ? c->lport : c->rport;
		if (client_vm >= 0)
			client_node = end_node(b, client_vm, NULL, cls, NULL, false, c->proto,
					       (uint16_t)r.port);
		else
			client_node = external_node(b, c->net, raddr);
		if (server_vm >= 0)
			server_node = end_node(b, server_vm, NULL, svs, svl, true, c->proto,
					       (uint16_t)r.port);
		else
			server_node = external_node(b, c->net, raddr);
		if (client_node < 0 || server_node < 0) {
			ret = client_node < 0 ? client_node : server_node;
			break;
		}
		r.src = client_node;
		r.dst = server_node;
		/* The counted end: the client when it is in the set, else this (server) socket. */
		r.state = (cls ? cls : s)->state;
		bytes = cls ? b->f[client_vm].bytes : b->f[c->vm].bytes;
		if (bytes) {
			int si = cls ? (int)(cls - b->f[client_vm].socks) : c->sock;
			uint64_t sent = bytes[si][0], recv = bytes[si][1];

			if (sent != UINT64_MAX && recv != UINT64_MAX) {
				r.bytes = true;
				r.to_dst = cls ? sent : recv;
				r.to_src = cls ? recv : sent;
			}
		}
		if ((ret = add_rec(b, &r)))
			break;
	}
	free(ph);
	free(ix.slot);
	return ret;
}

int topo_build(const struct topo_frame *frames, int nr, enum topo_by by, struct topo_graph **ret)
{
	struct build b = { .f = frames, .nr = nr };
	struct owner *own = NULL;
	struct listener *lst = NULL;
	struct conn *cs = NULL;
	size_t nown = 0, nlst = 0, ncs = 0, cap_own = 0, cap_lst = 0, cap_cs = 0, i;
	int v, k, err = -ENOMEM;

	if (nr < 0 || (nr && !frames) || by > TOPO_BY_SERVICE)
		return -EINVAL;
	b.g = calloc(1, sizeof(*b.g));
	b.net_of = calloc((size_t)nr + 1, sizeof(*b.net_of));
	if (!b.g || !b.net_of)
		goto out;
	b.g->by = by;
	b.g->complete = true;
	/* The ends are at most the sockets: one allocation, not a doubling that copies them. */
	for (v = 0; v < nr; v++)
		if (frames[v].nr_socks > 0)
			cap_cs += (size_t)frames[v].nr_socks;
	if (cap_cs && !(cs = big_array(cap_cs, sizeof(*cs))))
		goto out;
	for (v = 0; v < nr; v++) {
		const struct topo_frame *f = &frames[v];
		int ni = net_index(&b, f->net);

		if (ni < 0 || !f->vm || (f->nr_socks && !f->socks) || (f->nr_devs && !f->devs)) {
			err = ni < 0 ? ni : -EINVAL;
			goto out;
		}
		b.net_of[v] = ni;
		if (!f->complete) {
			char view[160];

			snprintf(view, sizeof(view), "vm %s", f->vm);
			add_error(b.g, view, -EBADMSG, f->error ? f->error : "a partial view");
		}
		for (k = 0; k < f->nr_devs; k++) {
			int a;

			for (a = 0; a < f->devs[k].nr_addrs && a < NFM_NETDEV_MAX_ADDRS; a++) {
				const struct nfm_ifaddr *ia = &f->devs[k].addrs[a];
				struct owner o = { .net = ni, .vm = v };

				if (ia->family != AF_INET && ia->family != AF_INET6)
					continue;
				norm_addr(ia->family, ia->addr, o.addr);
				if (is_loopback(o.addr) || is_zero(o.addr))
					continue;
				if (nown == cap_own) {
					struct owner *n;

					cap_own = cap_own ? cap_own * 2 : 64;
					n = realloc(own, cap_own * sizeof(*n));
					if (!n)
						goto out;
					own = n;
				}
				own[nown++] = o;
			}
		}
		for (k = 0; k < f->nr_socks; k++) {
			const struct nfm_socket *s = &f->socks[k];

			if (is_listener(s)) {
				if (nlst == cap_lst) {
					struct listener *n;

					cap_lst = cap_lst ? cap_lst * 2 : 64;
					n = realloc(lst, cap_lst * sizeof(*n));
					if (!n)
						goto out;
					lst = n;
				}
				lst[nlst++] = (struct listener){ .vm = v, .proto = s->protocol,
								 .port = s->lport, .s = s };
			} else if (is_conn(s)) {
				struct conn *c;
				uint8_t a[16];

				if (ncs == cap_cs) {
					cap_cs = cap_cs ? cap_cs * 2 : 1024;
					c = realloc(cs, cap_cs * sizeof(*c));
					if (!c)
						goto out;
					cs = c;
				}
				c = &cs[ncs++];
				memset(c, 0, sizeof(*c));
				c->net = ni;
				c->proto = s->protocol;
				norm_addr(s->family, s->laddr, a);
				c->la[0] = be64(a);
				c->la[1] = be64(a + 8);
				norm_addr(s->family, s->raddr, a);
				c->ra[0] = be64(a);
				c->ra[1] = be64(a + 8);
				c->lport = s->lport;
				c->rport = s->rport;
				c->vm = v;
				c->sock = k;
			}
		}
	}
	sort_ctx = &b;
	if (nown)
		qsort(own, nown, sizeof(*own), cmp_owner_vm);
	for (i = 1; i < nown; i++)
		if (!cmp_owner(&own[i - 1], &own[i]) && own[i - 1].vm != own[i].vm) {
			char a[INET6_ADDRSTRLEN], msg[256];

			addr_text(own[i].addr, a, sizeof(a));
			snprintf(msg, sizeof(msg),
				 "%s is held by VMs %s and %s of network %s: give them separate networks (--net VM=NAME)",
				 a, frames[own[i - 1].vm].vm, frames[own[i].vm].vm,
				 b.nets[own[i].net]);
			add_error(b.g, "addresses", -ENOTUNIQ, msg);
		}
	/* Among listeners of one port, the one of the lowest owner pid (deterministic). */
	if (nlst) {
		size_t w = 0;
		char c1[16], c2[16];

		qsort(lst, nlst, sizeof(*lst), cmp_listener);
		for (i = 0; i < nlst; i++) {
			if (w && !cmp_listener(&lst[w - 1], &lst[i])) {
				int p1 = owner_of(lst[w - 1].s, c1), p2 = owner_of(lst[i].s, c2);

				if (p2 && (!p1 || p2 < p1))
					lst[w - 1] = lst[i];
				continue;
			}
			lst[w++] = lst[i];
		}
		nlst = w;
	}
	sort_conns(cs, ncs);
	if ((err = join(&b, own, nown, lst, nlst, cs, ncs)))
		goto out;
	err = finish(&b);
out:
	free(own);
	free(lst);
	free(cs);
	free(b.hash);
	free(b.keys);
	free(b.recs);
	free(b.net_of);
	if (err) {
		topo_graph_free(b.g);
		return err;
	}
	*ret = b.g;
	return 0;
}

void topo_graph_free(struct topo_graph *g)
{
	if (!g)
		return;
	free(g->nodes);
	free(g->edges);
	free(g->errors);
	free(g);
}

const char *topo_kind_name(enum topo_kind k)
{
	static const char *const names[] = { "vm", "process", "service", "external" };

	return (unsigned int)k < 4 ? names[k] : "?";
}

const char *topo_by_name(enum topo_by by)
{
	static const char *const names[] = { "vm", "process", "service" };

	return (unsigned int)by < 3 ? names[by] : "?";
}

int topo_by_parse(const char *s, enum topo_by *ret)
{
	int i;

	for (i = 0; i < 3; i++)
		if (!strcmp(s, topo_by_name((enum topo_by)i))) {
			*ret = (enum topo_by)i;
			return 0;
		}
	return -EINVAL;
}

static const char *state_name(int st)
{
	static const char *const tcp[] = {
		"UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
		"TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
		"NEW-SYN-RECV",
	};

	return st >= 0 && st < (int)(sizeof(tcp) / sizeof(tcp[0])) ? tcp[st] : "UNKNOWN";
}

const char *topo_states_text(const struct topo_edge *e, char *buf, size_t size)
{
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < TOPO_NR_STATES && n < size; i++)
		if (e->states[i])
			n += (size_t)snprintf(buf + n, size - n, "%s%s %u", n ? ", " : "",
					      state_name(i), e->states[i]);
	return buf;
}

const char *topo_node_label(const struct topo_graph *g, const struct topo_node *n, char *buf,
			    size_t size)
{
	char vm[128 * 4 + 1] = "", comm[16 * 4 + 1] = "", a[INET6_ADDRSTRLEN];

	(void)g;
	guest_escape(n->vm_name, strnlen(n->vm_name, sizeof(n->vm_name)), vm, sizeof(vm));
	guest_escape(n->comm, strnlen(n->comm, sizeof(n->comm)), comm, sizeof(comm));
	switch (n->kind) {
	case TOPO_NODE_VM:
		snprintf(buf, size, "%s", vm);
		break;
	case TOPO_NODE_PROCESS:
		if (n->pid)
			snprintf(buf, size, "%s/%s[%d]", vm, comm, n->pid);
		else
			snprintf(buf, size, "%s/(no process)", vm);
		break;
	case TOPO_NODE_SERVICE:
		if (n->pid)
			snprintf(buf, size, "%s %s/%u %s[%d]", vm, proto_name(n->protocol), n->port, comm,
				 n->pid);
		else
			snprintf(buf, size, "%s %s/%u", vm, proto_name(n->protocol), n->port);
		break;
	default:
		addr_text(n->addr, a, sizeof(a));
		if (strcmp(n->net, "default"))
			snprintf(buf, size, "%s (external, %s)", a, n->net);
		else
			snprintf(buf, size, "%s (external)", a);
	}
	return buf;
}

struct json_object *obj_topo_node(const struct topo_graph *g, const struct topo_node *n)
{
	struct json_object *o = json_object_new_object();
	char a[INET6_ADDRSTRLEN];

	json_object_object_add(o, "id", guest_json_bytes(n->id, strlen(n->id)));
	json_object_object_add(o, "kind", json_object_new_string(topo_kind_name(n->kind)));
	json_object_object_add(o, "net", json_object_new_string(n->net));
	if (n->kind != TOPO_NODE_EXTERNAL)
		json_object_object_add(o, "vm", guest_json_bytes(n->vm_name, strnlen(n->vm_name, sizeof(n->vm_name))));
	if (n->kind == TOPO_NODE_PROCESS || n->kind == TOPO_NODE_SERVICE) {
		json_object_object_add(o, "pid", json_object_new_int(n->pid));
		if (n->pid)
			json_object_object_add(o, "comm",
					       guest_json_bytes(n->comm, strnlen(n->comm, 16)));
	}
	if (n->kind == TOPO_NODE_SERVICE) {
		json_object_object_add(o, "protocol", json_object_new_string(proto_name(n->protocol)));
		json_object_object_add(o, "port", json_object_new_int(n->port));
	}
	if (n->kind == TOPO_NODE_SERVICE || n->kind == TOPO_NODE_EXTERNAL) {
		addr_text(n->addr, a, sizeof(a));
		json_object_object_add(o, "address", json_object_new_string(a));
	}
	return o;
}

struct json_object *obj_topo_edge(const struct topo_graph *g, const struct topo_edge *e)
{
	struct json_object *o = json_object_new_object(), *st = json_object_new_object();
	int i;

	json_object_object_add(o, "src", guest_json_bytes(g->nodes[e->src].id,
							  strlen(g->nodes[e->src].id)));
	json_object_object_add(o, "dst", guest_json_bytes(g->nodes[e->dst].id,
							  strlen(g->nodes[e->dst].id)));
	json_object_object_add(o, "protocol", json_object_new_string(proto_name(e->protocol)));
	json_object_object_add(o, "port", json_object_new_int(e->port));
	json_object_object_add(o, "count", json_object_new_int64(e->count));
	for (i = 0; i < TOPO_NR_STATES; i++)
		if (e->states[i])
			json_object_object_add(st, state_name(i), json_object_new_int64(e->states[i]));
	json_object_object_add(o, "states", st);
	if (e->bytes_known) {
		json_object_object_add(o, "bytes_to_dst", json_object_new_uint64(e->bytes_to_dst));
		json_object_object_add(o, "bytes_to_src", json_object_new_uint64(e->bytes_to_src));
	}
	if (e->rate_known) {
		json_object_object_add(o, "bytes_to_dst_per_second", json_object_new_double(e->rate_to_dst));
		json_object_object_add(o, "bytes_to_src_per_second", json_object_new_double(e->rate_to_src));
	}
	return o;
}

void topo_json(const struct topo_graph *g, struct json_object *doc)
{
	struct json_object *nodes = json_object_new_array(), *edges = json_object_new_array();
	int i;

	json_object_object_add(doc, "by", json_object_new_string(topo_by_name(g->by)));
	json_object_object_add(doc, "nr_connections", json_object_new_int64(g->nr_connections));
	for (i = 0; i < g->nr_nodes; i++)
		json_object_array_add(nodes, obj_topo_node(g, &g->nodes[i]));
	for (i = 0; i < g->nr_edges; i++)
		json_object_array_add(edges, obj_topo_edge(g, &g->edges[i]));
	json_object_object_add(doc, "nodes", nodes);
	json_object_object_add(doc, "edges", edges);
	for (i = 0; i < g->nr_errors; i++)
		jdoc_error(doc, g->errors[i].view, g->errors[i].err, g->errors[i].msg);
}

/* A DOT string's body: guest_escape()'d, then '"' and '\' escaped for DOT. */
static void dot_str(FILE *f, const char *s)
{
	char esc[sizeof(((struct topo_node *)0)->id) * 4 + 1];
	const char *p;

	guest_escape(s, strlen(s), esc, sizeof(esc));
	for (p = esc; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
}

int topo_dot(const struct topo_graph *g, FILE *f)
{
	static const char *const shape[] = { "box3d", "box", "component", "ellipse" };
	char label[1024], st[256];
	int i;

	fprintf(f, "digraph topo {\n\tgraph [rankdir=LR, fontname=\"sans\"];\n"
		   "\tnode [fontname=\"sans\", fontsize=10];\n\tedge [fontname=\"sans\", fontsize=9];\n");
	for (i = 0; i < g->nr_nodes; i++) {
		const struct topo_node *n = &g->nodes[i];

		fputs("\t\"", f);
		dot_str(f, n->id);
		fputs("\" [label=\"", f);
		/* the label is escaped already: only DOT's own quoting is left */
		for (const char *p = topo_node_label(g, n, label, sizeof(label)); *p; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', f);
			fputc(*p, f);
		}
		fprintf(f, "\", shape=%s%s];\n", shape[n->kind],
			n->kind == TOPO_NODE_EXTERNAL ? ", style=dashed" : "");
	}
	for (i = 0; i < g->nr_edges; i++) {
		const struct topo_edge *e = &g->edges[i];

		fputs("\t\"", f);
		dot_str(f, g->nodes[e->src].id);
		fputs("\" -> \"", f);
		dot_str(f, g->nodes[e->dst].id);
		fprintf(f, "\" [label=\"%s/%u x%u\", tooltip=\"%s", proto_name(e->protocol), e->port,
			e->count, topo_states_text(e, st, sizeof(st)));
		if (e->bytes_known)
			fprintf(f, "; %" PRIu64 " B to dst, %" PRIu64 " B to src", e->bytes_to_dst,
				e->bytes_to_src);
		fputs("\"];\n", f);
	}
	fputs("}\n", f);
	return fflush(f) || ferror(f) ? 1 : 0;
}
