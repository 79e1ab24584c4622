// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sockets as /proc/net/{tcp,tcp6,udp,udp6,unix} show them, for every network namespace.
 *
 * TCP (net/ipv4/tcp_ipv4.c tcp_seq_*, get_tcp4_sock): the listeners of inet_hashinfo.lhash2
 * (inet_hashinfo.listening_hash[], hlist_nulls by sk_nulls_node, while it exists: /proc/net/tcp
 * walked it until e8d0d2b0ea2f "tcp: Access &tcp_hashinfo via net", 5.19), then
 * the established hash (ehash) with its timewait (struct inet_timewait_sock: a sock_common and
 * little more) and request socks (TCP_NEW_SYN_RECV, shown as SYN_RECV). Chains are hlist_nulls:
 * a chain ends at an odd "nulls" value, not at NULL. The hashinfo is &tcp_hashinfo, or a
 * namespace's own one through net->ipv4.tcp_death_row.hashinfo (per-netns ehash, 6.1+).
 * UDP (net/ipv4/udp.c udp4_format_sock): udp_table.hash[0..mask] slots, plain hlists; the table
 * is the global udp_table or net->ipv4.udp_table (per-netns tables, 6.2+).
 * The owner processes come from the fd tables: the fds holding the socket's struct file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <nfm/system.h>
#include <nfm/task.h>

#include "core/context.h"
#include "fs/files.h"
#include "task/task.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "walk/seen.h"
#include "net/net_common.h"
#include "net/net_unix.h"
#include "util/pack.h"

#define TCP_ESTABLISHED 1
#define TCP_SYN_RECV 3
#define TCP_TIME_WAIT 6
#define TCP_LISTEN 10
#define TCP_NEW_SYN_RECV 12

/* The sock_common part every kind of sock has: addresses, ports, family, netns. */
static int common(struct nfm_ctx *ctx, const struct nfm_sock_off *o, const uint8_t *b,
		  const struct nfm_netns *ns, int nns, struct nfm_socket *s)
{
	s->family = nfm_get_u16(b, o->skc_family);
	if (s->family == AF_INET) {
		memcpy(s->laddr, b + o->skc_rcv_saddr, 4);
		memcpy(s->raddr, b + o->skc_daddr, 4);
	} else if (s->family == AF_INET6 && o->skc_v6_daddr >= 0) {
		memcpy(s->laddr, b + o->skc_v6_rcv_saddr, 16);
		memcpy(s->raddr, b + o->skc_v6_daddr, 16);
	} else {
		return -EBADMSG;	/* torn or not an inet socket */
	}
	s->lport = nfm_get_u16(b, o->skc_num);
	s->rport = ntohs(nfm_get_u16(b, o->skc_dport));
	s->state = b[o->skc_state];
	s->netns = nfm_netns_inum(ns, nns, nfm_get_u64(b, o->skc_net));
	return 0;
}

static void tcp_one(struct nfm_ctx *ctx, const struct nfm_sock_off *o, uint64_t sk, uint8_t *b,
		    const struct nfm_netns *ns, int nns, struct nfm_pack *pk)
{
	struct nfm_socket *s;
	uint64_t lsk;
	int state;

	if (nfm_kread(ctx, sk, b, (size_t)o->common_size) < 0)
		return;
	state = b[o->skc_state];
	if (state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV &&
	    nfm_kread(ctx, sk, b, (size_t)o->sock_read) < 0)
		return;
	s = nfm_pack_add(pk);
	if (!s)
		return;
	if (common(ctx, o, b, ns, nns, s) < 0) {
		nfm_pack_drop(pk);
		return;
	}
	s->protocol = IPPROTO_TCP;
	s->type = SOCK_STREAM;
	s->sk = sk;
	if (state == TCP_TIME_WAIT) {
		/* get_timewait4_sock(): the substate, no inode, no owner */
		uint8_t sub = 0;

		nfm_kread(ctx, sk + (uint64_t)o->tw_substate, &sub, 1);
		s->state = sub;
		return;
	}
	if (state == TCP_NEW_SYN_RECV) {
		/* get_openreq4(): SYN_RECV, the listener's uid */
		s->state = TCP_SYN_RECV;
		if (o->rsk_listener >= 0 &&
		    nfm_kread_u64(ctx, sk + (uint64_t)o->rsk_listener, &lsk) == 0 &&
		    nfm_kptr_ok(ctx, lsk))
			nfm_kread_u32(ctx, lsk + (uint64_t)o->sk_uid, &s->uid);
		return;
	}
	s->uid = nfm_get_u32(b, o->sk_uid);
	if (state == TCP_LISTEN) {
		s->rx_queue = nfm_get_u32(b, o->sk_ack_backlog);
	} else {
		int32_t rx = (int32_t)(nfm_get_u32(b, o->tp_rcv_nxt) - nfm_get_u32(b, o->tp_copied_seq));

		s->rx_queue = rx > 0 ? (uint32_t)rx : 0;
	}
	s->tx_queue = nfm_get_u32(b, o->tp_write_seq) - nfm_get_u32(b, o->tp_snd_una);
	nfm_sock_inode(ctx, sk, &s->inode);
}

/* Walk an hlist_nulls chain starting at first; each node is a sock at node - node_off. */
static int nulls_chain(struct nfm_ctx *ctx, const struct nfm_sock_off *o, uint64_t first,
		       int32_t node_off, uint8_t *b, const struct nfm_netns *ns, int nns,
		       struct nfm_pack *pk, struct nfm_seen *seen)
{
	struct nfm_net_chain c;
	uint64_t sk;
	int r;

	/* 0 ends the plain hlist of older listening hashes (and stops a corrupt chain) */
	nfm_net_chain_init(&c, ctx, seen, pk, first, node_off, 0);
	c.nulls = true;
	while ((r = nfm_net_chain_next(&c, &sk)) > 0)
		tcp_one(ctx, o, sk, b, ns, nns, pk);
	return r;
}

/* Read n 8-byte-strided words (head pointers of buckets of stride bytes) in chunks. */
#define CHUNK 512

static int tcp_hashinfo(struct nfm_ctx *ctx, const struct nfm_sock_off *o, uint64_t hi,
			const struct nfm_netns *ns, int nns, uint8_t *b, struct nfm_pack *pk)
{
	uint64_t ehash, lhash2, heads[CHUNK];
	uint32_t emask, lmask, i, j, n;
	int32_t stride = o->ilb_size, head_off = o->ilb_nulls >= 0 ? o->ilb_nulls : o->ilb_head;
	uint8_t *lb;
	struct nfm_seen seen = { 0 };
	int err = 0, e;

	if (nfm_kread_u64(ctx, hi + (uint64_t)o->hi_ehash, &ehash) < 0 ||
	    nfm_kread_u32(ctx, hi + (uint64_t)o->hi_ehash_mask, &emask) < 0 ||
	    nfm_kread_u64(ctx, hi + (uint64_t)o->hi_lhash2, &lhash2) < 0 ||
	    nfm_kread_u32(ctx, hi + (uint64_t)o->hi_lhash2_mask, &lmask) < 0)
		return -EFAULT;
	if (!nfm_kptr_ok(ctx, ehash) || emask >= NFM_NET_MAX_BUCKETS || lmask >= NFM_NET_MAX_BUCKETS ||
	    stride <= 0 || stride > 4096)
		return -EBADMSG;
	/*
	 * The tables' real size: alloc_large_system_hash() gives a table at most RAM / 16 bytes
	 * (its default high limit), 8 bytes a bucket; a child netns' kvmalloc'd one is smaller still.
	 * A larger mask reads past the allocation into whatever follows.
	 */
	if ((uint64_t)emask + 1 > nfm_budget_objects(ctx, 16 * 8) ||
	    ((uint64_t)lmask + 1) * (uint64_t)stride > nfm_budget_objects(ctx, 16)) {
		nfm_dbg(&ctx->log, "TCP hash: ehash_mask %#x or lhash2_mask %#x larger than RAM allows",
			emask, lmask);
		return -EBADMSG;
	}
	/*
	 * Listeners first, as /proc/net/tcp prints them (listening_get_first): from listening_hash[]
	 * while it exists (its own array in the hashinfo, chained by sk_nulls_node; lhash2 beside it
	 * chains by icsk_listen_portaddr_node then), else from lhash2.
	 */
	if (o->hi_listening_hash >= 0) {
		lhash2 = hi + (uint64_t)o->hi_listening_hash;
		lmask = (uint32_t)o->listening_hash_n - 1;
	}
	if (lhash2 && nfm_kptr_ok(ctx, lhash2)) {
		lb = malloc((size_t)stride * CHUNK);
		if (!lb)
			return -ENOMEM;
		for (i = 0; i <= lmask; i += n) {
			n = lmask + 1 - i < CHUNK ? lmask + 1 - i : CHUNK;
			if (nfm_kread(ctx, lhash2 + (uint64_t)i * (uint64_t)stride, lb,
				      (size_t)n * (size_t)stride) < 0) {
				err = -EFAULT;
				continue;
			}
			for (j = 0; j < n; j++) {
				uint64_t first = nfm_get_u64(lb, (int32_t)j * stride + head_off);

				if (o->ilb_nulls >= 0 && (o->hi_listening_hash >= 0 || o->ilb_head < 0))
					e = nulls_chain(ctx, o, first, o->skc_nulls_node, b, ns, nns, pk,
							&seen);
				else	/* hlist_head, listeners linked by icsk_listen_portaddr_node */
					e = nulls_chain(ctx, o, first, o->icsk_portaddr, b, ns, nns, pk,
							&seen);
				if (e < 0)
					err = e;
			}
		}
		free(lb);
	}
	nfm_seen_clear(&seen);
	/* The established hash: one hlist_nulls_head (8 bytes) per bucket. */
	for (i = 0; i <= emask; i += n) {
		n = emask + 1 - i < CHUNK ? emask + 1 - i : CHUNK;
		if (nfm_kread(ctx, ehash + (uint64_t)i * 8, heads, (size_t)n * 8) < 0) {
			err = -EFAULT;
			continue;
		}
		for (j = 0; j < n; j++)
			if (!(heads[j] & 1) && (e = nulls_chain(ctx, o, heads[j], o->skc_nulls_node, b,
								 ns, nns, pk, &seen)) < 0)
				err = e;
		if (err == -ELOOP)
			break;	/* the budget is spent, or chains loop: the rest is not trusted */
	}
	nfm_seen_free(&seen);
	return err;
}

static void udp_one(struct nfm_ctx *ctx, const struct nfm_sock_off *o, uint64_t sk, uint8_t *b,
		    const struct nfm_netns *ns, int nns, struct nfm_pack *pk)
{
	struct nfm_socket *s;
	int32_t rmem;

	if (nfm_kread(ctx, sk, b, (size_t)o->sock_read) < 0)
		return;
	s = nfm_pack_add(pk);
	if (!s)
		return;
	if (common(ctx, o, b, ns, nns, s) < 0) {
		nfm_pack_drop(pk);
		return;
	}
	s->protocol = IPPROTO_UDP;
	s->type = nfm_get_u16(b, o->sk_type);
	s->sk = sk;
	s->uid = nfm_get_u32(b, o->sk_uid);
	/* sk_wmem_alloc_get() (the refcount starts at 1), udp_rqueue_get() */
	s->tx_queue = nfm_get_u32(b, o->sk_wmem_alloc) - 1;
	rmem = (int32_t)nfm_get_u32(b, o->sk_rmem_alloc);
	if (o->udp_forward_deficit >= 0)
		rmem -= (int32_t)nfm_get_u32(b, o->udp_forward_deficit);
	s->rx_queue = (uint32_t)rmem;
	nfm_sock_inode(ctx, sk, &s->inode);
}

static int udp_table(struct nfm_ctx *ctx, const struct nfm_sock_off *o, uint64_t tbl,
		     const struct nfm_netns *ns, int nns, uint8_t *b, struct nfm_pack *pk)
{
	uint64_t hash, sk;
	uint32_t mask, i, j, n;
	int32_t stride = o->hslot_size;
	uint8_t *hb;
	struct nfm_seen seen = { 0 };
	struct nfm_net_chain c;
	int err = 0, r;

	if (nfm_kread_u64(ctx, tbl + (uint64_t)o->udp_hash, &hash) < 0 ||
	    nfm_kread_u32(ctx, tbl + (uint64_t)o->udp_mask, &mask) < 0)
		return -EFAULT;
	if (!nfm_kptr_ok(ctx, hash) || mask >= NFM_NET_MAX_BUCKETS || stride <= 0 || stride > 4096)
		return -EBADMSG;
	/* udp_table_init(): alloc_large_system_hash(), at most RAM / 16 bytes */
	if (((uint64_t)mask + 1) * (uint64_t)stride > nfm_budget_objects(ctx, 16))
		return -EBADMSG;
	hb = malloc((size_t)stride * CHUNK);
	if (!hb)
		return -ENOMEM;
	for (i = 0; i <= mask; i += n) {
		n = mask + 1 - i < CHUNK ? mask + 1 - i : CHUNK;
		if (nfm_kread(ctx, hash + (uint64_t)i * (uint64_t)stride, hb,
			      (size_t)n * (size_t)stride) < 0) {
			err = -EFAULT;
			continue;
		}
		for (j = 0; j < n; j++) {
			/* sk_for_each: a NULL-terminated hlist through skc_node */
			nfm_net_chain_init(&c, ctx, &seen, pk,
					   nfm_get_u64(hb, (int32_t)j * stride + o->hslot_head),
					   o->skc_node, 0);
			while ((r = nfm_net_chain_next(&c, &sk)) > 0)
				udp_one(ctx, o, sk, b, ns, nns, pk);
			if (r < 0)
				err = r;
		}
	}
	free(hb);
	nfm_seen_free(&seen);
	return err;
}

/* Add a to the set (at most max); false if it was there. */
static bool add_unique(uint64_t *set, int *n, int max, uint64_t a)
{
	int i;

	if (!a)
		return false;
	for (i = 0; i < *n; i++)
		if (set[i] == a)
			return false;
	if (*n >= max)
		return false;
	set[(*n)++] = a;
	return true;
}

struct owner_key {
	uint64_t file;
	int idx;
};

static int key_cmp(const void *a, const void *b)
{
	const struct owner_key *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* bsearch's comparison: the file alone (the keys are unique by then) */
static int file_cmp(const void *a, const void *b)
{
	const struct owner_key *x = a, *y = b;

	return x->file < y->file ? -1 : x->file > y->file;
}

/* Sorted keys less any file a second socket claims; false if there was one. */
static bool unique_keys(struct owner_key *keys, int *nk)
{
	int i, k = 0;

	for (i = 0; i < *nk; i++)
		if (k == 0 || keys[i].file != keys[k - 1].file)
			keys[k++] = keys[i];
	i = *nk;
	*nk = k;
	return k == i;
}

/* Called for each fd that holds socket idx of the list, in task-walk then fd order. */
typedef void (*fd_hit_fn)(void *arg, int idx, const struct nfm_task *t, int fd);

/*
 * The fds on the sockets: the processes whose fd table holds the socket's struct file
 * (sk->sk_socket->file). A socket has one file (dup and fork share it), whose inode is the
 * socket's: the fds the kernel's socket:[INODE] links name. So only each table's array of file
 * pointers is read, not each open file's inode and path.
 * false when some may be missing: the task walk broke, a socket's file could not be read,
 * or a process's fd table could not be read for a reason other than having none (a zombie, a
 * kernel thread). Tasks skipped because they changed while being read (a live guest) do not
 * count: ps and lsof say those.
 */
static bool scan_fds(struct nfm_ctx *ctx, const struct nfm_socket *s, int n, fd_hit_fn hit_fn,
		     void *arg)
{
	const struct nfm_sock_off *o;
	struct nfm_task_iter *ti;
	struct nfm_fd_iter *fi;
	struct owner_key *keys;
	struct nfm_task t;
	int i, r, nk = 0;
	bool complete = true;

	o = nfm_sock_offsets(ctx, &r);
	if (!o)
		return false;
	keys = malloc((size_t)n * sizeof(*keys) + 1);
	if (!keys || nfm_task_iter_new(ctx, NFM_TASK_BRIEF_, &ti) < 0) {
		free(keys);
		return false;
	}
	for (i = 0; i < n; i++) {
		uint64_t sock, file;

		if (!s[i].inode)	/* no struct socket (timewait, request socks): no owner */
			continue;
		if (nfm_kread_u64(ctx, s[i].sk + (uint64_t)o->sk_socket, &sock) < 0 ||
		    !nfm_kptr_ok(ctx, sock) ||
		    nfm_kread_u64(ctx, sock + (uint64_t)o->sock_file, &file) < 0) {
			complete = false;
			continue;
		}
		if (file)	/* a kernel socket has none */
			keys[nk++] = (struct owner_key){ file, i };
	}
	qsort(keys, (size_t)nk, sizeof(*keys), key_cmp);
	/*
	 * A struct file belongs to one socket; two sockets naming the same one are forged or torn
	 * reads. The first keeps it (its fds are still found), the scan says it is not whole, and
	 * each fd costs one lookup whatever the guest wrote.
	 */
	if (!unique_keys(keys, &nk))
		complete = false;
	r = 0;
	while (nk && (r = nfm_task_iter_next(ti, &t)) > 0) {
		const uint64_t *files;
		unsigned int nf, fd;
		int err = nfm_fd_iter_new(ctx, &t, &fi);

		if (err < 0) {
			if (err != -ENOENT)
				complete = false;
			continue;
		}
		files = nfm_fd_iter_files(fi, &nf);
		for (fd = 0; fd < nf; fd++) {
			struct owner_key k = { files[fd], 0 }, *hit;

			if (!k.file)
				continue;
			hit = bsearch(&k, keys, (size_t)nk, sizeof(*keys), file_cmp);
			if (hit)
				hit_fn(arg, hit->idx, &t, (int)fd);
		}
		nfm_fd_iter_free(fi);
	}
	if (r < 0 || nfm_task_iter_status(ti) < 0)
		complete = false;
	nfm_task_iter_free(ti);
	free(keys);
	return complete;
}

struct owners_arg {
	struct nfm_socket *s;
	int *last;	/* per socket: the last pid counted */
};

/* nfm_socket's owners: each process once, however many fds it has on the socket. */
static void owner_hit(void *arg, int idx, const struct nfm_task *t, int fd)
{
	struct owners_arg *a = arg;
	struct nfm_socket *x = &a->s[idx];

	(void)fd;
	if (x->nr_owners && a->last[idx] == t->pid)
		return;
	a->last[idx] = t->pid;
	if (x->nr_owners < NFM_SOCK_MAX_OWNERS) {
		x->owner_pid[x->nr_owners] = t->pid;
		memcpy(x->owner_comm[x->nr_owners], t->comm, 16);
		x->owner_comm[x->nr_owners][15] = 0;
	}
	x->nr_owners++;
}

static bool owners(struct nfm_ctx *ctx, struct nfm_socket *s, int n)
{
	struct owners_arg a = { s, calloc((size_t)n + 1, sizeof(int)) };
	bool complete;

	if (!a.last)
		return false;
	complete = scan_fds(ctx, s, n, owner_hit, &a);
	free(a.last);
	if (!complete)
		nfm_dbg(&ctx->log, "sockets: the owning processes may be incomplete");
	return complete;
}

struct fds_arg {
	struct nfm_pack pk;
	bool full;
};

static void fd_hit(void *arg, int idx, const struct nfm_task *t, int fd)
{
	struct fds_arg *a = arg;
	struct nfm_socket_fd *f;

	if (a->pk.n >= NFM_NET_MAX_SOCKETS) {
		a->full = true;
		return;
	}
	f = nfm_pack_add(&a->pk);
	if (!f)
		return;
	f->sock = idx;
	f->pid = t->pid;
	f->fd = fd;
	memcpy(f->comm, t->comm, 16);
	f->comm[15] = 0;
}

/* ss -p's order: by socket, then the newest process and fd first (ss's readdir, reversed). */
static int fd_cmp(const void *a, const void *b)
{
	const struct nfm_socket_fd *x = a, *y = b;

	if (x->sock != y->sock)
		return x->sock < y->sock ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid > y->pid ? -1 : 1;
	return x->fd > y->fd ? -1 : x->fd < y->fd;
}

int nfm_socket_fds(struct nfm_ctx *ctx, const struct nfm_socket *socks, int n,
		   struct nfm_socket_fd **ret, bool *truncated)
{
	struct fds_arg a = { .full = false };
	bool complete;
	int k;

	if (!ctx || !ret || n < 0 || (n > 0 && !socks))
		return -EINVAL;
	*ret = NULL;
	nfm_pack_init(&a.pk, sizeof(struct nfm_socket_fd));
	complete = n == 0 || scan_fds(ctx, socks, n, fd_hit, &a);
	if (a.pk.err) {
		nfm_pack_free(&a.pk);
		return -ENOMEM;
	}
	k = nfm_pack_finish(&a.pk, NULL, 0, (void **)ret);
	if (k > 0)
		qsort(*ret, (size_t)k, sizeof(**ret), fd_cmp);
	if (truncated)
		*truncated = !complete || a.full;
	return k;
}

int nfm_socket_list(struct nfm_ctx *ctx, struct nfm_socket **ret, bool *truncated)
{
	const struct nfm_sock_off *o;
	struct nfm_netns *ns = NULL;
	struct nfm_pack pk;
	uint64_t tables[64], g;
	int nt = 0, nns, i, err;
	bool trunc = false;
	uint8_t *b;

	o = nfm_sock_offsets(ctx, &err);
	if (!o)
		return err;
	nns = nfm_netns_list(ctx, &ns, &trunc);
	if (nns < 0)
		return nns;
	b = malloc((size_t)o->sock_read);
	if (!b) {
		free(ns);
		return -ENOMEM;
	}
	nfm_pack_init(&pk, sizeof(struct nfm_socket));

	/* TCP: tcp_hashinfo, and the namespaces' own hashinfo where they have one. */
	if (nfm_sym_lookup(ctx, "tcp_hashinfo", &g, NULL) == 0)
		add_unique(tables, &nt, 64, g);
	for (i = 0; i < nns && o->net_death_row >= 0 && o->dr_hashinfo >= 0; i++) {
		uint64_t dr = ns[i].net + (uint64_t)o->net_death_row, hi;

		if (o->death_row_size == 8 && (nfm_kread_u64(ctx, dr, &dr) < 0 || !nfm_kptr_ok(ctx, dr)))
			continue;
		if (nfm_kread_u64(ctx, dr + (uint64_t)o->dr_hashinfo, &hi) == 0 && nfm_kptr_ok(ctx, hi))
			add_unique(tables, &nt, 64, hi);
	}
	if (nt == 0) {
		nfm_err(&ctx->log, "no TCP hash table found (tcp_hashinfo)");
		err = -ENOENT;
		goto out;
	}
	for (i = 0; i < nt; i++)
		if (tcp_hashinfo(ctx, o, tables[i], ns, nns, b, &pk) < 0)
			trunc = true;

	/* UDP: udp_table, and per-namespace tables (6.2+). */
	nt = 0;
	if (nfm_sym_lookup(ctx, "udp_table", &g, NULL) == 0)
		add_unique(tables, &nt, 64, g);
	for (i = 0; i < nns && o->net_udp_table >= 0; i++) {
		uint64_t t;

		if (nfm_kread_u64(ctx, ns[i].net + (uint64_t)o->net_udp_table, &t) == 0 &&
		    nfm_kptr_ok(ctx, t))
			add_unique(tables, &nt, 64, t);
	}
	for (i = 0; i < nt; i++)
		if (udp_table(ctx, o, tables[i], ns, nns, b, &pk) < 0)
			trunc = true;

	if (nfm_unix_collect(ctx, ns, nns, &pk, &trunc) < 0)
		trunc = true;
	err = 0;
out:
	free(b);
	free(ns);
	if (err < 0) {
		nfm_pack_free(&pk);
		return err;
	}
	if (pk.n >= NFM_NET_MAX_SOCKETS)
		trunc = true;
	err = nfm_pack_finish(&pk, NULL, 0, (void **)ret);
	if (err > 0 && !owners(ctx, *ret, err))
		trunc = true;
	if (truncated)
		*truncated = trunc;
	return err;
}

int nfm_socket_tcp_bytes(struct nfm_ctx *ctx, uint64_t sk, uint64_t *acked, uint64_t *received)
{
	const struct nfm_sock_off *o;
	uint64_t a, r;
	uint8_t st;
	int err = 0;

	if (!ctx || !acked || !received)
		return -EINVAL;
	o = nfm_sock_offsets(ctx, &err);
	if (!o)
		return err;
	if (o->tp_bytes_acked < 0 || o->tp_bytes_received < 0)
		return -ENOENT;
	if (!nfm_kptr_ok(ctx, sk))
		return -EINVAL;
	/* a full tcp_sock only: a timewait or request sock is shorter (tcp_one) */
	if ((err = nfm_kread(ctx, sk + (uint64_t)o->skc_state, &st, 1)) < 0)
		return err;
	if (st == TCP_TIME_WAIT || st == TCP_NEW_SYN_RECV || st == TCP_LISTEN)
		return -EINVAL;
	if ((err = nfm_kread_u64(ctx, sk + (uint64_t)o->tp_bytes_acked, &a)) < 0 ||
	    (err = nfm_kread_u64(ctx, sk + (uint64_t)o->tp_bytes_received, &r)) < 0)
		return err;
	*acked = a;
	*received = r;
	return 0;
}
