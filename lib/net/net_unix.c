// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * AF_UNIX sockets as /proc/net/unix shows them (net/unix/af_unix.c unix_seq_show): the hash
 * table of each namespace (net->unx.table.buckets, 5.19+) or the global unix_socket_table before,
 * UNIX_HASH_SIZE (512) hlists through sk_node either way; bound sockets in the first half,
 * unbound ones in the second.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nfm/system.h>

#include "core/budget.h"
#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "walk/seen.h"
#include "net/net_common.h"
#include "net/net_unix.h"
#include "util/pack.h"

#define UNIX_HASH_SIZE 512
#define TCP_ESTABLISHED 1
#define TCP_LISTEN 10
#define SO_ACCEPTCON_ (1u << 16)
#define SS_UNCONNECTED 1
#define SS_CONNECTING 2
#define SS_CONNECTED 3
#define SS_DISCONNECTING 4

/* The path column: sun_path bytes, '@' for an abstract name's leading NUL and for any NUL. */
static void unix_path(struct nfm_ctx *ctx, const struct nfm_sock_off *o, uint64_t addr,
		      struct nfm_socket *s)
{
	char sun[110];
	int32_t len = 0;
	int i = 0, n = 0;

	if (!nfm_kptr_ok(ctx, addr) || nfm_kread(ctx, addr + (uint64_t)o->ua_len, &len, 4) < 0)
		return;
	len -= 2;	/* sizeof(short): sun_family */
	if (len <= 0 || len > 108 ||
	    nfm_kread(ctx, addr + (uint64_t)o->ua_name + 2, sun, (size_t)len) < 0)
		return;
	if (sun[0]) {
		len--;	/* the terminating NUL bind() counted */
	} else {
		s->path[n++] = '@';
		i++;
	}
	for (; i < len; i++)
		s->path[n++] = sun[i] ? sun[i] : '@';
	s->path[n] = 0;
	s->path_len = n;
}

#define UNIX_MAX_SKBS 65536	/* queued skbs summed for one socket's Recv-Q */

/*
 * ss -x's Recv-Q and Send-Q, as unix_diag's sk_diag_show_rqlen() gives them: a listener's
 * queued connections and its backlog limit; otherwise unix_inq_len() (the bytes not yet read:
 * every queued skb's for a stream or seqpacket socket, the first datagram's for a datagram one)
 * and unix_outq_len() (sk_wmem_alloc - 1: the truesize of what it sent that is not read yet).
 * false when the receive queue could not be walked to its end (a live guest's moved, or bad).
 */
static bool unix_queues(struct nfm_ctx *ctx, const struct nfm_sock_off *o, uint64_t sk,
			const uint8_t *b, int state, int type, struct nfm_socket *s)
{
	uint64_t head = sk + (uint64_t)o->sk_rq_next, skb;
	uint32_t qlen, len, consumed, sum = 0, k;

	if (o->sk_rq_next < 0 || o->sk_rq_qlen < 0 || o->sk_max_ack_backlog < 0 ||
	    o->skb_next < 0 || o->skb_len < 0)
		return false;
	qlen = nfm_get_u32(b, o->sk_rq_qlen);
	if (state == TCP_LISTEN) {
		s->rx_queue = qlen;
		s->tx_queue = nfm_get_u32(b, o->sk_max_ack_backlog);
		return true;
	}
	s->tx_queue = nfm_get_u32(b, o->sk_wmem_alloc) - 1;
	memcpy(&skb, b + o->sk_rq_next, 8);
	/* qlen skbs from the head (the count the queue keeps under its lock with the links) */
	for (k = 0; k < qlen && skb != head; k++) {
		if (k >= UNIX_MAX_SKBS || nfm_budget_take(ctx, 1) < 0 ||
		    !nfm_kptr_ok(ctx, skb) ||
		    nfm_kread(ctx, skb + (uint64_t)o->skb_len, &len, 4) < 0)
			return false;
		consumed = 0;
		if (type != SOCK_DGRAM && o->skb_cb >= 0 && o->ucb_consumed >= 0 &&
		    nfm_kread(ctx, skb + (uint64_t)(o->skb_cb + o->ucb_consumed), &consumed, 4) < 0)
			return false;
		sum += len - (consumed <= len ? consumed : len);
		if (type == SOCK_DGRAM)
			break;	/* skb_peek(): the next datagram's length only */
		if (nfm_kread_u64(ctx, skb + (uint64_t)o->skb_next, &skb) < 0)
			return false;
	}
	s->rx_queue = sum;
	/*
	 * The links and qlen must agree: fewer skbs than qlen, or more (a stream queue that goes on
	 * past qlen, a datagram count with an empty list), is a queue that moved under the read or a
	 * forged one, and the sum is not the guest's.
	 */
	if (type == SOCK_DGRAM)
		return (qlen == 0) == (skb == head);
	return k == qlen && skb == head;
}

static void unix_one(struct nfm_ctx *ctx, const struct nfm_sock_off *o, uint64_t sk, uint8_t *b,
		     const struct nfm_netns *ns, int nns, uint64_t only_net, struct nfm_pack *pk,
		     bool *truncated)
{
	struct nfm_socket *s;
	uint64_t net, sock, addr;
	uint16_t type;
	int state;

	if (nfm_kread(ctx, sk, b, (size_t)o->sock_read) < 0)
		return;
	memcpy(&net, b + o->skc_net, 8);
	if (only_net && net != only_net)
		return;
	memcpy(&type, b + o->sk_type, 2);
	s = nfm_pack_add(pk);
	if (!s)
		return;
	s->family = AF_UNIX;
	s->type = type;
	s->sk = sk;
	s->netns = nfm_netns_inum(ns, nns, net);
	state = b[o->skc_state];
	memcpy(&sock, b + o->sk_socket, 8);
	memcpy(&s->uid, b + o->sk_uid, 4);
	s->unix_flags = state == TCP_LISTEN ? SO_ACCEPTCON_ : 0;
	/* the St column is derived from sk_state, not read from the socket */
	s->state = sock ? (state == TCP_ESTABLISHED ? SS_CONNECTED : SS_UNCONNECTED) :
			  (state == TCP_ESTABLISHED ? SS_CONNECTING : SS_DISCONNECTING);
	nfm_sock_inode(ctx, sk, &s->inode);
	memcpy(&addr, b + o->unix_addr, 8);
	if (addr)
		unix_path(ctx, o, addr, s);
	if (!unix_queues(ctx, o, sk, b, state, type, s))
		*truncated = true;
}

static int unix_table(struct nfm_ctx *ctx, const struct nfm_sock_off *o, uint64_t buckets,
		      const struct nfm_netns *ns, int nns, uint64_t only_net, uint8_t *b,
		      struct nfm_seen *seen, struct nfm_pack *pk)
{
	uint64_t heads[UNIX_HASH_SIZE], sk;
	struct nfm_net_chain c;
	bool qtrunc = false;
	int i, err = 0, r;

	if (!nfm_kptr_ok(ctx, buckets))
		return -EBADMSG;
	if (nfm_kread(ctx, buckets, heads, sizeof(heads)) < 0)
		return -EFAULT;
	for (i = 0; i < UNIX_HASH_SIZE; i++) {
		nfm_net_chain_init(&c, ctx, seen, pk, heads[i], o->skc_node, 0);
		while ((r = nfm_net_chain_next(&c, &sk)) > 0)
			unix_one(ctx, o, sk, b, ns, nns, only_net, pk, &qtrunc);
		if (r < 0)
			err = r;
	}
	if (qtrunc && !err)
		err = -EAGAIN;	/* a queue did not read: the listing says it is incomplete */
	return err;
}

int nfm_socket_unix_peer(struct nfm_ctx *ctx, uint64_t sk, uint64_t *peer_inode)
{
	const struct nfm_sock_off *o;
	uint64_t peer;
	int err;

	if (!ctx || !peer_inode)
		return -EINVAL;
	*peer_inode = 0;
	o = nfm_sock_offsets(ctx, &err);
	if (!o)
		return err;
	if (o->unix_peer < 0)
		return -ENOENT;
	if (!nfm_kptr_ok(ctx, sk))
		return -EINVAL;
	if ((err = nfm_kread_u64(ctx, sk + (uint64_t)o->unix_peer, &peer)) < 0)
		return err;
	if (!peer)
		return 0;
	if (!nfm_kptr_ok(ctx, peer))
		return -EBADMSG;
	return nfm_sock_inode(ctx, peer, peer_inode);
}

int nfm_unix_collect(struct nfm_ctx *ctx, const struct nfm_netns *ns, int nns, struct nfm_pack *pk,
		     bool *truncated)
{
	const struct nfm_sock_off *o;
	struct nfm_seen seen = { 0 };
	uint64_t buckets;
	uint8_t *b;
	int err, i;

	o = nfm_sock_offsets(ctx, &err);
	if (!o)
		return err;
	b = malloc((size_t)o->sock_read);
	if (!b)
		return -ENOMEM;
	/* one seen set for every namespace's table: a socket is in one chain of one table */
	if (o->net_unx_buckets >= 0) {
		for (i = 0; i < nns; i++)
			if (nfm_kread_u64(ctx, ns[i].net + (uint64_t)o->net_unx_buckets, &buckets) < 0 ||
			    unix_table(ctx, o, buckets, ns, nns, ns[i].net, b, &seen, pk) < 0)
				*truncated = true;
	} else if (nfm_sym_lookup(ctx, "unix_socket_table", &buckets, NULL) == 0) {
		if (unix_table(ctx, o, buckets, ns, nns, 0, b, &seen, pk) < 0)
			*truncated = true;
	} else {
		*truncated = true;
	}
	nfm_seen_free(&seen);
	free(b);
	return 0;
}
