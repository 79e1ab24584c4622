// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel's own socket counters, per network namespace, as /proc/net/sockstat and sockstat6
 * print them (net/ipv4/proc.c sockstat_seq_show, net/ipv6/proc.c sockstat6_seq_show), plus
 * /proc/net/snmp's Tcp CurrEstab; and a count of the TCP sockets hashed in a namespace, the
 * number sock_prot_inuse_get(net, &tcp_prot) and &tcpv6_prot should equal.
 *
 * Where each number lives (every member checked in the guest's BTF, never by version):
 *   sockets: used  sock_inuse_get(): every possible CPU's net->core.prot_inuse->all (4199bae10c49
 *                  "net: merge net->core.prot_inuse and net->core.sock_inuse", 5.17), or the
 *                  percpu int net->core.sock_inuse before it;
 *   PROTO: inuse   sock_prot_inuse_get(): every possible CPU's prot_inuse->val[proto.inuse_idx],
 *                  at least 0; inuse_idx < PROTO_INUSE_NR (the val[] array's size);
 *   TCP orphan     tcp_orphan_count_sum(): the percpu tcp_orphan_count of every possible CPU;
 *   TCP tw         refcount_read(&net->ipv4.tcp_death_row.tw_refcount) - 1 (tw_count before
 *                  5.17; tcp_death_row a pointer in 5.18-6.0);
 *   TCP alloc      percpu_counter_sum_positive(tcp_prot.sockets_allocated): count plus every
 *                  online CPU's s32;
 *   PROTO mem      proto_memory_allocated(): *prot->memory_allocated, pages, at least 0;
 *   FRAG           fqdir->rhashtable.nelems and fqdir->mem of net->ipv4.fqdir / net->ipv6.fqdir.
 * Every number that cannot be read is -1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nfm/system.h>

#include "btf/btf.h"
#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "walk/percpu.h"
#include "walk/seen.h"
#include "net/net_common.h"

#define TCP_TIME_WAIT 6
#define TCP_NEW_SYN_RECV 12

struct stat_off {
	int32_t net_prot_inuse, net_sock_inuse, pi_all, pi_val, proto_inuse_idx, proto_mem,
		proto_socks, pcc_count, pcc_counters, dr_tw_refcount, dr_tw_count, v4_fqdir,
		v6_fqdir, fq_nelems, fq_mem, net_tcp_mib, mib_mibs;
	uint32_t inuse_nr;	/* PROTO_INUSE_NR: val[]'s elements */
	uint32_t mib_nr;	/* TCP_MIB_MAX */
	int64_t curr_estab;	/* TCP_MIB_CURRESTAB, -1 without it */
};

#define F(m, t, p, f) NFM_FIELD(struct stat_off, m, t, p, f)
#define OPT NFM_FIELD_OPTIONAL
static const struct nfm_field_spec stat_specs[] = {
	F(net_prot_inuse, "net", "core.prot_inuse", OPT),
	F(net_sock_inuse, "net", "core.sock_inuse", OPT),
	F(pi_all, "prot_inuse", "all", OPT),
	F(pi_val, "prot_inuse", "val", OPT),
	F(proto_inuse_idx, "proto", "inuse_idx", OPT),
	F(proto_mem, "proto", "memory_allocated", OPT),
	F(proto_socks, "proto", "sockets_allocated", OPT),
	F(pcc_count, "percpu_counter", "count", OPT),
	F(pcc_counters, "percpu_counter", "counters", OPT),
	F(dr_tw_refcount, "inet_timewait_death_row", "tw_refcount", OPT),
	F(dr_tw_count, "inet_timewait_death_row", "tw_count", OPT),
	F(v4_fqdir, "net", "ipv4.fqdir", OPT),
	F(v6_fqdir, "net", "ipv6.fqdir", OPT),
	F(fq_nelems, "fqdir", "rhashtable.nelems", OPT),
	F(fq_mem, "fqdir", "mem", OPT),
	F(net_tcp_mib, "net", "mib.tcp_statistics", OPT),
	F(mib_mibs, "tcp_mib", "mibs", OPT),
};
#undef F
#undef OPT

static int stat_offsets(struct nfm_ctx *ctx, struct stat_off *o)
{
	struct nfm_field f;
	int64_t v;
	int err;

	err = nfm_resolve_fields(ctx, stat_specs, sizeof(stat_specs) / sizeof(stat_specs[0]), o);
	if (err < 0)
		return err;
	o->inuse_nr = 0;
	if (o->pi_val >= 0 && nfm_btf_field(ctx->btf, "prot_inuse", "val", &f) == 0)
		o->inuse_nr = f.size / 4;
	o->mib_nr = 0;
	if (o->mib_mibs >= 0 && nfm_btf_field(ctx->btf, "tcp_mib", "mibs", &f) == 0)
		o->mib_nr = f.size / 8;
	o->curr_estab = nfm_btf_enum_value(ctx->btf, "TCP_MIB_CURRESTAB", &v) == 0 ? v : -1;
	return 0;
}

struct cpus {
	uint64_t *possible, *online;
	int npossible, nonline;
};

/* *sum of an s32 at pcpu + off over the CPUs; -EFAULT when no CPU's could be read. */
static int sum_s32(struct nfm_ctx *ctx, uint64_t pcpu, int32_t off, const uint64_t *offs, int n,
		   int64_t *ret)
{
	int64_t sum = 0;
	int i, got = 0;

	for (i = 0; i < n; i++) {
		uint64_t a = pcpu + offs[i] + (uint64_t)off;
		int32_t v;

		/* an s32 is 4-aligned: the 8-aligned word holding it must be a kernel address */
		if ((a & 3) || !nfm_kptr_ok(ctx, a & ~7ull) || nfm_kread(ctx, a, &v, 4) < 0)
			continue;
		sum += v;
		got++;
	}
	if (!got)
		return -EFAULT;
	*ret = sum;
	return 0;
}

/* sock_prot_inuse_get(net, prot) for the proto at symbol sym. */
static int64_t prot_inuse(struct nfm_ctx *ctx, const struct stat_off *o, const struct cpus *c,
			  uint64_t pi, const char *sym)
{
	uint64_t prot;
	uint32_t idx;
	int64_t v;

	if (!pi || o->pi_val < 0 || o->proto_inuse_idx < 0 ||
	    nfm_sym_lookup(ctx, sym, &prot, NULL) < 0 ||
	    nfm_kread_u32(ctx, prot + (uint64_t)o->proto_inuse_idx, &idx) < 0 ||
	    idx >= o->inuse_nr ||	/* the guest's index must fit val[PROTO_INUSE_NR] */
	    sum_s32(ctx, pi, o->pi_val + (int32_t)(idx * 4), c->possible, c->npossible, &v) < 0)
		return -1;
	return v > 0 ? v : 0;	/* the kernel prints a negative sum as 0 */
}

/* proto_memory_allocated(prot): pages, at least 0. */
static int64_t prot_mem(struct nfm_ctx *ctx, const struct stat_off *o, const char *sym)
{
	uint64_t prot, p;
	int64_t v;

	if (o->proto_mem < 0 || nfm_sym_lookup(ctx, sym, &prot, NULL) < 0 ||
	    nfm_kread_u64(ctx, prot + (uint64_t)o->proto_mem, &p) < 0 || !nfm_kptr_ok(ctx, p) ||
	    nfm_kread(ctx, p, &v, 8) < 0)
		return -1;
	return v > 0 ? v : 0;
}

/* percpu_counter_sum_positive(tcp_prot.sockets_allocated) */
static int64_t tcp_alloc(struct nfm_ctx *ctx, const struct stat_off *o, const struct cpus *c)
{
	uint64_t prot, pc, counters;
	int64_t count, d;

	if (o->proto_socks < 0 || o->pcc_count < 0 || o->pcc_counters < 0 ||
	    nfm_sym_lookup(ctx, "tcp_prot", &prot, NULL) < 0 ||
	    nfm_kread_u64(ctx, prot + (uint64_t)o->proto_socks, &pc) < 0 || !nfm_kptr_ok(ctx, pc) ||
	    nfm_kread(ctx, pc + (uint64_t)o->pcc_count, &count, 8) < 0 ||
	    nfm_kread_u64(ctx, pc + (uint64_t)o->pcc_counters, &counters) < 0)
		return -1;
	if (counters && sum_s32(ctx, counters, 0, c->online, c->nonline, &d) == 0)
		count += d;
	return count > 0 ? count : 0;
}

/* FRAG: inuse (rhashtable.nelems) and memory (fqdir->mem) of one fqdir pointer at net + off. */
static void frag(struct nfm_ctx *ctx, const struct stat_off *o, uint64_t net, int32_t off,
		 int64_t *inuse, int64_t *mem)
{
	uint64_t fq;
	uint32_t n;
	int64_t m;

	*inuse = *mem = -1;
	if (off < 0 || o->fq_nelems < 0 || o->fq_mem < 0 ||
	    nfm_kread_u64(ctx, net + (uint64_t)off, &fq) < 0 || !nfm_kptr_ok(ctx, fq))
		return;
	if (nfm_kread_u32(ctx, fq + (uint64_t)o->fq_nelems, &n) == 0)
		*inuse = n;
	if (nfm_kread(ctx, fq + (uint64_t)o->fq_mem, &m, 8) == 0)
		*mem = m;
}

static void one_netns(struct nfm_ctx *ctx, const struct nfm_sock_off *so, const struct stat_off *o,
		      const struct cpus *c, const struct nfm_netns *ns, int64_t orphan,
		      int64_t alloc, struct nfm_sockstat *s)
{
	uint64_t pi = 0, p, dr;
	uint32_t rc;

	memset(s, 0xff, sizeof(*s));	/* every counter -1 until read */
	s->netns = ns->inum;
	if (o->net_prot_inuse >= 0 && nfm_kread_u64(ctx, ns->net + (uint64_t)o->net_prot_inuse, &p) == 0)
		pi = p;
	/* sock_inuse_get() prints the sum as it is (an int, never clamped) */
	if (o->pi_all >= 0 && pi)
		sum_s32(ctx, pi, o->pi_all, c->possible, c->npossible, &s->sockets_used);
	else if (o->net_sock_inuse >= 0 &&
		 nfm_kread_u64(ctx, ns->net + (uint64_t)o->net_sock_inuse, &p) == 0 && p)
		sum_s32(ctx, p, 0, c->possible, c->npossible, &s->sockets_used);
	s->tcp_inuse = prot_inuse(ctx, o, c, pi, "tcp_prot");
	s->udp_inuse = prot_inuse(ctx, o, c, pi, "udp_prot");
	s->udplite_inuse = prot_inuse(ctx, o, c, pi, "udplite_prot");
	s->raw_inuse = prot_inuse(ctx, o, c, pi, "raw_prot");
	s->tcp6_inuse = prot_inuse(ctx, o, c, pi, "tcpv6_prot");
	s->udp6_inuse = prot_inuse(ctx, o, c, pi, "udpv6_prot");
	s->udplite6_inuse = prot_inuse(ctx, o, c, pi, "udplitev6_prot");
	s->raw6_inuse = prot_inuse(ctx, o, c, pi, "rawv6_prot");
	s->tcp_orphan = orphan;
	s->tcp_alloc = alloc;
	s->tcp_mem_pages = prot_mem(ctx, o, "tcp_prot");
	s->udp_mem_pages = prot_mem(ctx, o, "udp_prot");
	/* tw: the death row's refcount holds one reference of its own (tcp_sk_init) */
	dr = ns->net + (uint64_t)so->net_death_row;
	if (so->net_death_row >= 0 && so->death_row_size == 8 &&
	    (nfm_kread_u64(ctx, dr, &dr) < 0 || !nfm_kptr_ok(ctx, dr)))
		dr = 0;
	if (so->net_death_row >= 0 && dr) {
		if (o->dr_tw_refcount >= 0 &&
		    nfm_kread_u32(ctx, dr + (uint64_t)o->dr_tw_refcount, &rc) == 0)
			s->tcp_tw = (int64_t)(int32_t)rc - 1;
		else if (o->dr_tw_count >= 0 &&
			 nfm_kread_u32(ctx, dr + (uint64_t)o->dr_tw_count, &rc) == 0)
			s->tcp_tw = (int32_t)rc;
	}
	frag(ctx, o, ns->net, o->v4_fqdir, &s->frag_inuse, &s->frag_mem_bytes);
	frag(ctx, o, ns->net, o->v6_fqdir, &s->frag6_inuse, &s->frag6_mem_bytes);
	/* /proc/net/snmp Tcp CurrEstab: every possible CPU's tcp_mib.mibs[TCP_MIB_CURRESTAB] */
	if (o->net_tcp_mib >= 0 && o->curr_estab >= 0 && (uint64_t)o->curr_estab < o->mib_nr &&
	    nfm_kread_u64(ctx, ns->net + (uint64_t)o->net_tcp_mib, &p) == 0 && p) {
		int64_t sum = 0;
		int i, got = 0;

		for (i = 0; i < c->npossible; i++) {
			uint64_t a = p + c->possible[i] + (uint64_t)o->mib_mibs +
				     (uint64_t)o->curr_estab * 8;
			int64_t v;

			if (nfm_kptr_ok(ctx, a) && nfm_kread(ctx, a, &v, 8) == 0) {
				sum += v;
				got++;
			}
		}
		if (got)
			s->tcp_curr_estab = sum;
	}
}

int nfm_sockstat_list(struct nfm_ctx *ctx, struct nfm_sockstat **ret, bool *truncated)
{
	const struct nfm_sock_off *so;
	struct stat_off o;
	struct nfm_netns *ns = NULL;
	struct nfm_sockstat *out;
	struct cpus c = { 0 };
	uint64_t orph;
	int64_t orphan = -1, alloc;
	bool trunc = false;
	int nns, i, err;

	if (!ctx || !ret)
		return -EINVAL;
	so = nfm_sock_offsets(ctx, &err);
	if (!so)
		return err;
	if ((err = stat_offsets(ctx, &o)) < 0)
		return err;
	c.possible = malloc(NFM_MAX_CPUS * sizeof(uint64_t));
	c.online = malloc(NFM_MAX_CPUS * sizeof(uint64_t));
	if (!c.possible || !c.online) {
		err = -ENOMEM;
		goto out;
	}
	/* nfm_percpu_offsets() bounds both by nr_cpu_ids and NFM_MAX_CPUS */
	if ((c.npossible = nfm_percpu_offsets(ctx, 0, c.possible, NFM_MAX_CPUS)) < 0 ||
	    (c.nonline = nfm_percpu_offsets(ctx, 1, c.online, NFM_MAX_CPUS)) < 0) {
		err = c.npossible < 0 ? c.npossible : c.nonline;
		goto out;
	}
	nns = nfm_netns_list(ctx, &ns, &trunc);
	if (nns < 0) {
		err = nns;
		goto out;
	}
	out = calloc((size_t)nns, sizeof(*out));
	if (!out) {
		err = -ENOMEM;
		goto out;
	}
	/* global counters, the same in every namespace */
	/* tcp_orphan_count_sum(): a percpu int, the sum at least 0 */
	if (nfm_ksym(ctx, "tcp_orphan_count", &orph) == 0 &&
	    sum_s32(ctx, orph, 0, c.possible, c.npossible, &orphan) == 0 && orphan < 0)
		orphan = 0;
	alloc = tcp_alloc(ctx, &o, &c);
	for (i = 0; i < nns; i++)
		one_netns(ctx, so, &o, &c, &ns[i], orphan, alloc, &out[i]);
	if (truncated)
		*truncated = trunc;
	*ret = out;
	err = nns;
out:
	free(ns);
	free(c.possible);
	free(c.online);
	return err;
}

/* ---- the walk's side: TCP sockets hashed in one namespace ---- */

struct census {
	struct nfm_ctx *ctx;
	const struct nfm_sock_off *o;
	uint64_t net;
	uint8_t *b;
	struct nfm_seen seen;
	struct nfm_tcp_hashed *h;
};

static void census_one(struct census *c, uint64_t sk)
{
	const struct nfm_sock_off *o = c->o;
	uint16_t family;
	int state;

	if (nfm_kread(c->ctx, sk, c->b, (size_t)o->common_size) < 0) {
		c->h->unread++;
		return;
	}
	if (nfm_get_u64(c->b, o->skc_net) != c->net)
		return;
	state = c->b[o->skc_state];
	family = nfm_get_u16(c->b, o->skc_family);
	if (state == TCP_TIME_WAIT)
		c->h->timewait++;
	else if (state == TCP_NEW_SYN_RECV)
		c->h->syn_recv++;
	else if (family == AF_INET)
		c->h->hashed4++;
	else if (family == AF_INET6)
		c->h->hashed6++;
	else
		c->h->unread++;	/* torn, or not an inet sock */
}

/* A chain of hlist(_nulls) nodes at node_off inside each sock; ends at NULL or an odd value. */
static int census_chain(struct census *c, uint64_t first, int32_t node_off)
{
	struct nfm_net_chain ch;
	uint64_t sk;
	int r;

	nfm_net_chain_init(&ch, c->ctx, &c->seen, NULL, first, node_off, 0);
	ch.nulls = true;
	while ((r = nfm_net_chain_next(&ch, &sk)) > 0)
		census_one(c, sk);
	return r;
}

#define CHUNK 512

int nfm_tcp_hashed_count(struct nfm_ctx *ctx, uint32_t netns, struct nfm_tcp_hashed *ret)
{
	struct nfm_tcp_hashed h = { 0 };
	struct census c = { .ctx = ctx, .h = &h };
	const struct nfm_sock_off *o;
	struct nfm_netns *ns = NULL;
	uint64_t hi = 0, ehash, lhash2, heads[CHUNK];
	uint32_t emask, lmask, i, j, n;
	int32_t stride, head_off, lnode;
	uint8_t *lb = NULL;
	int nns, err = 0, e;

	if (!ctx || !ret)
		return -EINVAL;
	o = nfm_sock_offsets(ctx, &err);
	if (!o)
		return err;
	c.o = o;
	nns = nfm_netns_list(ctx, &ns, NULL);
	if (nns < 0)
		return nns;
	for (i = 0; i < (uint32_t)nns && !c.net; i++)
		if (ns[i].inum == netns || (!netns && i == 0))
			c.net = ns[i].net;
	free(ns);
	if (!c.net)
		return -ENOENT;
	/* the namespace's own hashinfo (6.1+: net->ipv4.tcp_death_row.hashinfo), else tcp_hashinfo */
	if (o->net_death_row >= 0 && o->dr_hashinfo >= 0) {
		uint64_t dr = c.net + (uint64_t)o->net_death_row;

		if (o->death_row_size != 8 || (nfm_kread_u64(ctx, dr, &dr) == 0 && nfm_kptr_ok(ctx, dr)))
			if (nfm_kread_u64(ctx, dr + (uint64_t)o->dr_hashinfo, &hi) < 0 ||
			    !nfm_kptr_ok(ctx, hi))
				hi = 0;
	}
	if (!hi && nfm_sym_lookup(ctx, "tcp_hashinfo", &hi, NULL) < 0)
		return -ENOENT;
	if (nfm_kread_u64(ctx, hi + (uint64_t)o->hi_ehash, &ehash) < 0 ||
	    nfm_kread_u32(ctx, hi + (uint64_t)o->hi_ehash_mask, &emask) < 0 ||
	    nfm_kread_u64(ctx, hi + (uint64_t)o->hi_lhash2, &lhash2) < 0 ||
	    nfm_kread_u32(ctx, hi + (uint64_t)o->hi_lhash2_mask, &lmask) < 0)
		return -EFAULT;
	stride = o->ilb_size;
	if (!nfm_kptr_ok(ctx, ehash) || emask >= NFM_NET_MAX_BUCKETS ||
	    lmask >= NFM_NET_MAX_BUCKETS || stride <= 0 || stride > 4096 ||
	    (uint64_t)emask + 1 > nfm_budget_objects(ctx, 16 * 8) ||
	    ((uint64_t)lmask + 1) * (uint64_t)stride > nfm_budget_objects(ctx, 16))
		return -EBADMSG;
	c.b = malloc((size_t)o->common_size);
	lb = malloc((size_t)stride * CHUNK);
	if (!c.b || !lb) {
		err = -ENOMEM;
		goto out;
	}
	/* listeners: listening_hash[] while it exists, else lhash2 (as nfm_socket_list walks them) */
	head_off = o->ilb_nulls >= 0 ? o->ilb_nulls : o->ilb_head;
	lnode = o->ilb_nulls >= 0 && (o->hi_listening_hash >= 0 || o->ilb_head < 0) ?
		o->skc_nulls_node : o->icsk_portaddr;
	if (o->hi_listening_hash >= 0) {
		lhash2 = hi + (uint64_t)o->hi_listening_hash;
		lmask = (uint32_t)o->listening_hash_n - 1;
	}
	if (lhash2 && nfm_kptr_ok(ctx, lhash2)) {
		for (i = 0; i <= lmask; i += n) {
			n = lmask + 1 - i < CHUNK ? lmask + 1 - i : CHUNK;
			if (nfm_kread(ctx, lhash2 + (uint64_t)i * (uint64_t)stride, lb,
				      (size_t)n * (size_t)stride) < 0) {
				err = -EFAULT;
				continue;
			}
			for (j = 0; j < n; j++)
				if ((e = census_chain(&c, nfm_get_u64(lb, (int32_t)j * stride + head_off),
						      lnode)) < 0)
					err = e;
		}
	}
	nfm_seen_clear(&c.seen);
	for (i = 0; i <= emask && err != -ELOOP; i += n) {
		n = emask + 1 - i < CHUNK ? emask + 1 - i : CHUNK;
		if (nfm_kread(ctx, ehash + (uint64_t)i * 8, heads, (size_t)n * 8) < 0) {
			err = -EFAULT;
			continue;
		}
		for (j = 0; j < n; j++)
			if ((e = census_chain(&c, heads[j], o->skc_nulls_node)) < 0)
				err = e;
	}
	if (err == 0)
		*ret = h;
out:
	nfm_seen_free(&c.seen);
	free(c.b);
	free(lb);
	return err;
}
