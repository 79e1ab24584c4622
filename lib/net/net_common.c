// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What every network walker stands on: the socket structures' offsets (one BTF resolution per
 * attach), the network namespaces, a sock's inode number, and the walk of one hash chain.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "walk/seen.h"
#include "net/net_common.h"
#include "util/pack.h"

#define F(m, t, p, f) NFM_FIELD(struct nfm_sock_off, m, t, p, f)
#define OPT NFM_FIELD_OPTIONAL
static const struct nfm_field_spec sock_specs[] = {
	F(net_list, "net", "list", 0),
	F(net_inum, "net", "ns.inum", 0),
	F(net_death_row, "net", "ipv4.tcp_death_row", OPT),
	F(dr_hashinfo, "inet_timewait_death_row", "hashinfo", OPT),
	F(net_udp_table, "net", "ipv4.udp_table", OPT),
	F(net_unx_buckets, "net", "unx.table.buckets", OPT),
	F(hi_ehash, "inet_hashinfo", "ehash", 0),
	F(hi_ehash_mask, "inet_hashinfo", "ehash_mask", 0),
	F(hi_lhash2, "inet_hashinfo", "lhash2", 0),
	F(hi_lhash2_mask, "inet_hashinfo", "lhash2_mask", 0),
	F(hi_listening_hash, "inet_hashinfo", "listening_hash", OPT),
	F(ilb_size, "inet_listen_hashbucket", "", NFM_FIELD_SIZE),
	F(ilb_nulls, "inet_listen_hashbucket", "nulls_head", OPT),
	F(ilb_head, "inet_listen_hashbucket", "head", OPT),
	F(icsk_portaddr, "inet_connection_sock", "icsk_listen_portaddr_node", OPT),
	F(skc_daddr, "sock", "__sk_common.skc_daddr", 0),
	F(skc_rcv_saddr, "sock", "__sk_common.skc_rcv_saddr", 0),
	F(skc_dport, "sock", "__sk_common.skc_dport", 0),
	F(skc_num, "sock", "__sk_common.skc_num", 0),
	F(skc_family, "sock", "__sk_common.skc_family", 0),
	F(skc_state, "sock", "__sk_common.skc_state", 0),
	F(skc_net, "sock", "__sk_common.skc_net", 0),
	F(skc_node, "sock", "__sk_common.skc_node", 0),
	F(skc_nulls_node, "sock", "__sk_common.skc_nulls_node", 0),
	F(skc_v6_daddr, "sock", "__sk_common.skc_v6_daddr", OPT),
	F(skc_v6_rcv_saddr, "sock", "__sk_common.skc_v6_rcv_saddr", OPT),
	F(sk_socket, "sock", "sk_socket", 0),
	F(sk_uid, "sock", "sk_uid", 0),
	F(sk_ack_backlog, "sock", "sk_ack_backlog", 0),
	F(sk_type, "sock", "sk_type", 0),
	F(sk_rmem_alloc, "sock", "sk_backlog.rmem_alloc", 0),
	F(sk_wmem_alloc, "sock", "sk_wmem_alloc", 0),
	F(sk_ino, "sock", "sk_ino", OPT),
	F(tp_rcv_nxt, "tcp_sock", "rcv_nxt", 0),
	F(tp_copied_seq, "tcp_sock", "copied_seq", 0),
	F(tp_write_seq, "tcp_sock", "write_seq", 0),
	F(tp_snd_una, "tcp_sock", "snd_una", 0),
	F(tw_substate, "inet_timewait_sock", "tw_substate", 0),
	/* outside the one struct sock read: nfm_socket_tcp_bytes reads them on demand */
	F(tp_bytes_acked, "tcp_sock", "bytes_acked", OPT),
	F(tp_bytes_received, "tcp_sock", "bytes_received", OPT),
	F(rsk_listener, "request_sock", "rsk_listener", OPT),
	F(udp_hash, "udp_table", "hash", 0),
	F(udp_mask, "udp_table", "mask", 0),
	F(hslot_size, "udp_hslot", "", NFM_FIELD_SIZE),
	F(hslot_head, "udp_hslot", "head", 0),
	F(udp_forward_deficit, "udp_sock", "forward_deficit", OPT),
	F(sa_socket, "socket_alloc", "socket", 0),
	F(sa_inode, "socket_alloc", "vfs_inode", 0),
	F(i_ino, "inode", "i_ino", 0),
	F(sock_file, "socket", "file", 0),
	F(unix_addr, "unix_sock", "addr", 0),
	F(ua_len, "unix_address", "len", 0),
	F(ua_name, "unix_address", "name", 0),
	F(unix_peer, "unix_sock", "peer", OPT),
	F(sk_max_ack_backlog, "sock", "sk_max_ack_backlog", OPT),
	F(sk_rq_next, "sock", "sk_receive_queue.next", OPT),
	F(sk_rq_qlen, "sock", "sk_receive_queue.qlen", OPT),
	F(skb_next, "sk_buff", "next", OPT),
	F(skb_len, "sk_buff", "len", OPT),
	F(skb_cb, "sk_buff", "cb", OPT),
	F(ucb_consumed, "unix_skb_parms", "consumed", OPT),
	F(common_size, "sock_common", "", NFM_FIELD_SIZE),
};
#undef F
#undef OPT

static int make_sock_off(struct nfm_ctx *ctx, void *block)
{
	struct nfm_sock_off *o = block;
	struct nfm_field f;
	const int32_t *from, *to;
	int err;

	err = nfm_resolve_fields(ctx, sock_specs, sizeof(sock_specs) / sizeof(sock_specs[0]), o);
	if (err == 0) {
		/* tcp_death_row: a pointer in 5.x-6.0, embedded again since 6.1 (its size tells). */
		o->death_row_size = o->net_death_row >= 0 &&
			nfm_btf_field(ctx->btf, "net", "ipv4.tcp_death_row", &f) == 0 ? (int32_t)f.size : 0;
		/* Everything from skc_daddr to the unix_sock fields lives in one struct sock read. */
		o->sock_read = o->common_size;
		for (from = &o->skc_daddr, to = &o->tw_substate; from <= to; from++)
			if (*from + 16 > o->sock_read)
				o->sock_read = *from + 16;
		for (from = &o->unix_addr, to = &o->sk_rq_qlen; from <= to; from++)
			if (*from + 16 > o->sock_read)
				o->sock_read = *from + 16;
		if (o->udp_forward_deficit + 16 > o->sock_read)
			o->sock_read = o->udp_forward_deficit + 16;
		/* listening_hash[INET_LHTABLE_SIZE]: its size over the bucket's gives the count. */
		o->listening_hash_n = 0;
		if (o->hi_listening_hash >= 0 && o->ilb_size > 0 &&
		    nfm_btf_field(ctx->btf, "inet_hashinfo", "listening_hash", &f) == 0)
			o->listening_hash_n = (int32_t)(f.size / (uint64_t)o->ilb_size);
		if (o->hi_listening_hash >= 0 &&
		    (o->ilb_nulls < 0 || o->listening_hash_n <= 0 || o->listening_hash_n > 4096)) {
			nfm_err(&ctx->log, "this kernel's listening hash has an unknown layout");
			err = -ENOENT;
		}
		if (o->ilb_nulls < 0 && (o->ilb_head < 0 || o->icsk_portaddr < 0)) {
			nfm_err(&ctx->log, "this kernel's listening hash has an unknown layout");
			err = -ENOENT;
		}
	}
	return err;
}

const struct nfm_sock_off *nfm_sock_offsets(struct nfm_ctx *ctx, int *err)
{
	return nfm_kernel_layout(ctx, NFM_SLOT_SOCK, sizeof(struct nfm_sock_off), make_sock_off, err);
}

int nfm_netns_list(struct nfm_ctx *ctx, struct nfm_netns **ret, bool *truncated)
{
	const struct nfm_sock_off *o;
	struct nfm_list_iter it;
	struct nfm_netns *ns = NULL, *t;
	uint64_t head, node;
	int err, n = 0, cap = 0, r;

	o = nfm_sock_offsets(ctx, &err);
	if (!o)
		return err;
	if ((err = nfm_ksym(ctx, "net_namespace_list", &head)) < 0)
		return err;
	nfm_list_iter_init(&it, ctx, head, NFM_NET_MAX_NETNS);
	while ((r = nfm_list_iter_next(&it, &node)) > 0) {
		uint64_t net = nfm_container_of(node, o->net_list);
		uint32_t inum = 0;

		if (nfm_kread_u32(ctx, net + (uint64_t)o->net_inum, &inum) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			t = realloc(ns, (size_t)cap * sizeof(*ns));
			if (!t) {
				free(ns);
				return -ENOMEM;
			}
			ns = t;
		}
		ns[n++] = (struct nfm_netns){ net, inum };
	}
	if (truncated && r < 0)
		*truncated = true;
	if (n == 0) {
		free(ns);
		return r < 0 ? r : -ENOENT;
	}
	*ret = ns;
	return n;
}

uint32_t nfm_netns_inum(const struct nfm_netns *ns, int n, uint64_t net)
{
	int i;

	for (i = 0; i < n; i++)
		if (ns[i].net == net)
			return ns[i].inum;
	return 0;
}

int nfm_sock_inode(struct nfm_ctx *ctx, uint64_t sk, uint64_t *ino)
{
	const struct nfm_sock_off *o;
	uint64_t sock;
	int err;

	o = nfm_sock_offsets(ctx, &err);
	if (!o)
		return err;
	*ino = 0;
	if (o->sk_ino >= 0)
		return nfm_kread_u64(ctx, sk + (uint64_t)o->sk_ino, ino);
	if ((err = nfm_kread_u64(ctx, sk + (uint64_t)o->sk_socket, &sock)) < 0)
		return err;
	if (!sock)
		return 0;
	if (!nfm_kptr_ok(ctx, sock))
		return -EBADMSG;
	/* SOCK_INODE(): the inode beside the socket in struct socket_alloc */
	return nfm_kread_u64(ctx, sock - (uint64_t)o->sa_socket + (uint64_t)o->sa_inode +
			     (uint64_t)o->i_ino, ino);
}

void nfm_net_chain_init(struct nfm_net_chain *c, struct nfm_ctx *ctx, struct nfm_seen *seen,
			const struct nfm_pack *pk, uint64_t first, int32_t node_off, int32_t next_off)
{
	*c = (struct nfm_net_chain){ .ctx = ctx, .seen = seen, .pk = pk, .next = first,
				     .node_off = node_off, .next_off = next_off };
}

int nfm_net_chain_next(struct nfm_net_chain *c, uint64_t *obj)
{
	uint64_t p;
	int r;

	/* the link yielded last: its next pointer is read after its object (that one still shows) */
	if (c->cur && nfm_kread_u64(c->ctx, c->cur + (uint64_t)c->next_off, &c->next) < 0)
		return -EFAULT;
	c->cur = 0;
	p = c->next;
	if (!p || (c->nulls && (p & 1)))
		return 0;
	if (!nfm_kptr_ok(c->ctx, p))
		return -EBADMSG;
	if (++c->steps > NFM_NET_MAX_CHAIN || (c->pk && c->pk->n >= NFM_NET_MAX_SOCKETS))
		return -ELOOP;
	if ((r = nfm_budget_take(c->ctx, 1)) < 0)
		return r;
	r = nfm_seen_add(c->seen, p);
	if (r <= 0)
		return r < 0 ? r : -ELOOP;
	c->cur = p;
	*obj = p - (uint64_t)c->node_off;
	return 1;
}
