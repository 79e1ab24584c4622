/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by every network walker (net_sock.c, net_unix.c, net_sockstat.c, net_route.c,
 * net_neigh.c): the socket structures' offsets, the network namespaces, hash-chain walking
 * (net_common.c).
 */
#ifndef NFM_LIB_NET_NET_COMMON_H
#define NFM_LIB_NET_NET_COMMON_H

#include <stdbool.h>
#include <stdint.h>

struct nfm_ctx;
struct nfm_pack;
struct nfm_seen;

#define NFM_NET_MAX_NETNS 4096
#define NFM_NET_MAX_CHAIN 65536		/* entries in one hash chain */
#define NFM_NET_MAX_SOCKETS (1u << 21)	/* entries of one listing */
#define NFM_NET_MAX_BUCKETS (1u << 24)	/* buckets of one hash table */

/* Offsets of the socket structures (resolved once per attach: nfm_sock_offsets()). */
struct nfm_sock_off {
	int32_t net_list, net_inum, net_death_row, death_row_size, dr_hashinfo, net_udp_table,
		net_unx_buckets;
	int32_t hi_ehash, hi_ehash_mask, hi_lhash2, hi_lhash2_mask, ilb_size, ilb_nulls, ilb_head,
		icsk_portaddr;
	/* inet_hashinfo.listening_hash[] (to 5.18) and its bucket count; -1 / 0 without it */
	int32_t hi_listening_hash, listening_hash_n;
	int32_t skc_daddr, skc_rcv_saddr, skc_dport, skc_num, skc_family, skc_state, skc_net,
		skc_node, skc_nulls_node, skc_v6_daddr, skc_v6_rcv_saddr;
	int32_t sk_socket, sk_uid, sk_ack_backlog, sk_type, sk_rmem_alloc, sk_wmem_alloc, sk_ino;
	int32_t tp_rcv_nxt, tp_copied_seq, tp_write_seq, tp_snd_una, tw_substate, rsk_listener;
	int32_t tp_bytes_acked, tp_bytes_received;
	int32_t udp_hash, udp_mask, hslot_size, hslot_head, udp_forward_deficit;
	int32_t sa_socket, sa_inode, i_ino, sock_file;
	int32_t unix_addr, ua_len, ua_name;
	/* unix_diag's RQLEN and PEER (ss -x): read with the sock, and the queued skbs' lengths */
	int32_t unix_peer, sk_max_ack_backlog, sk_rq_next, sk_rq_qlen, skb_next, skb_len, skb_cb,
		ucb_consumed;
	int32_t common_size;	/* sizeof(struct sock_common): all a timewait/request sock has */
	int32_t sock_read;	/* bytes of a full sock to read (every field above fits) */
};

/* The resolved offsets (NULL and *err on failure). */
const struct nfm_sock_off *nfm_sock_offsets(struct nfm_ctx *ctx, int *err);

struct nfm_netns {
	uint64_t net;		/* struct net */
	uint32_t inum;		/* ns.inum, as /proc/PID/ns/net */
};

/*
 * The network namespaces (net_namespace_list order; init_net first) into a malloc'd array.
 * Returns the count (>= 1 on success) or -errno; *truncated when the ring walk stopped early.
 */
int nfm_netns_list(struct nfm_ctx *ctx, struct nfm_netns **ret, bool *truncated);

/* The inode number of the namespace at net, 0 if it is not in the list. */
uint32_t nfm_netns_inum(const struct nfm_netns *ns, int n, uint64_t net);

/* sock_i_ino(): the inode number of sk's struct socket (0 without one). */
int nfm_sock_inode(struct nfm_ctx *ctx, uint64_t sk, uint64_t *ino);

/*
 * One chain of links: a NULL-terminated hlist, or (nulls set after nfm_net_chain_init) an
 * hlist_nulls, which ends at an odd value. Each link's next pointer is at link + next_off, its
 * object at link - node_off. Bounded: NFM_NET_MAX_CHAIN links, a step of the command's budget
 * each, and pk (the listing the chain fills, if any) at NFM_NET_MAX_SOCKETS entries.
 * Cycle-checked: an object is linked once, so a link already in seen (which the caller shares by
 * every chain of a table) means the chain loops, into itself or into another chain; it ends
 * there, before yielding anything twice.
 */
struct nfm_net_chain {
	struct nfm_ctx *ctx;
	struct nfm_seen *seen;
	const struct nfm_pack *pk;
	uint64_t next, cur;
	int32_t node_off, next_off;
	bool nulls;
	size_t steps;
};

void nfm_net_chain_init(struct nfm_net_chain *c, struct nfm_ctx *ctx, struct nfm_seen *seen,
			const struct nfm_pack *pk, uint64_t first, int32_t node_off, int32_t next_off);

/*
 * The next object: 1 (*obj), 0 at the chain's end, or -errno, after which the caller stops:
 * -EBADMSG a link outside the kernel, -EFAULT one unreadable, -ELOOP a loop or a bound reached.
 */
int nfm_net_chain_next(struct nfm_net_chain *c, uint64_t *obj);

#endif
