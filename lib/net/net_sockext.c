// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What sock_diag adds to a socket for ss -o, -m and -xe, read from the sock itself:
 * - the timer of a TCP socket as inet_diag reports it (net/ipv4/inet_diag.c inet_sk_diag_fill,
 *   inet_twsk_diag_fill, inet_req_diag_fill: idiag_timer, idiag_expires, idiag_retrans);
 * - sk_get_meminfo() (net/core/sock.c), INET_DIAG_SKMEMINFO and UNIX_DIAG_MEMINFO;
 * - a unix socket's UNIX_DIAG_SHUTDOWN, UNIX_DIAG_VFS and UNIX_DIAG_ICONS (net/unix/diag.c).
 * Members are resolved from BTF once per attach with their sizes (several are bit fields or
 * change width between kernels: sk_shutdown, sk_protocol); each sock is read whole, once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <nfm/system.h>

#include "btf/btf.h"
#include "core/context.h"
#include "core/budget.h"
#include "core/slot.h"
#include "walk/list.h"
#include "net/net_common.h"

#define TCP_TIME_WAIT_ 6
#define TCP_LISTEN_ 10
#define TCP_NEW_SYN_RECV_ 12
/* include/net/inet_connection_sock.h */
#define ICSK_TIME_RETRANS 1
#define ICSK_TIME_PROBE0 3
#define ICSK_TIME_LOSS_PROBE 5
#define ICSK_TIME_REO_TIMEOUT 6
#define MAX_SOCK_READ (16u << 10)	/* unix_sock and inet_connection_sock are ~1-2 KiB */
#define MAX_ICONS 65536u		/* a listener's queue: sk_max_ack_backlog is an int, but */

enum x_member {
	X_STATE, X_PROTOCOL,
	/* the timers (inet_connection_sock, sock, inet_timewait_sock, request_sock) */
	X_PENDING, X_TIMEOUT, X_RTX_EXPIRES, X_SK_RTX_EXPIRES, X_RETRANSMITS, X_PROBES, X_SKT_PPREV, X_SKT_EXPIRES,
	X_KA_PPREV, X_KA_EXPIRES,
	X_TW_EXPIRES, X_RSK_EXPIRES, X_RSK_RETRANS,
	/* sk_get_meminfo() */
	X_RMEM, X_RCVBUF, X_WMEM, X_SNDBUF, X_FWD, X_WQUEUED, X_OMEM, X_BACKLOG, X_DROPS,
	/* unix_diag */
	X_SHUTDOWN, X_U_DENTRY, X_U_PEER, X_D_INODE, X_D_SB, X_SB_DEV, X_I_INO,
	X_RQ_NEXT, X_RQ_QLEN, X_SKB_NEXT, X_SKB_SK,
	X_NR
};

/*
 * What each member serves: a kernel without one of a group's required members loses that
 * group's query (-ENOENT, said once), not the others.
 */
enum x_group { G_BASE, G_TIMER, G_MEM, G_UNIX, G_NR };

static const struct {
	const char *type, *path;
	bool required;
	uint8_t group;
} members[X_NR] = {
	[X_STATE] = { "sock_common", "skc_state", true, G_BASE },
	[X_PROTOCOL] = { "sock", "sk_protocol", true, G_BASE },
	[X_PENDING] = { "inet_connection_sock", "icsk_pending", true, G_TIMER },
	/* icsk_timeout went away for the retransmit timer's own expires (6.15) */
	[X_TIMEOUT] = { "inet_connection_sock", "icsk_timeout", false, G_TIMER },
	[X_RTX_EXPIRES] = { "inet_connection_sock", "icsk_retransmit_timer.expires", false, G_TIMER },
	/* ... and the retransmit timer itself into struct sock (tcp_retransmit_timer) */
	[X_SK_RTX_EXPIRES] = { "sock", "tcp_retransmit_timer.expires", false, G_TIMER },
	[X_RETRANSMITS] = { "inet_connection_sock", "icsk_retransmits", true, G_TIMER },
	[X_PROBES] = { "inet_connection_sock", "icsk_probes_out", true, G_TIMER },
	[X_SKT_PPREV] = { "sock", "sk_timer.entry.pprev", true, G_TIMER },
	[X_SKT_EXPIRES] = { "sock", "sk_timer.expires", true, G_TIMER },
	/*
	 * The keepalive timer moved from sk_timer to its own icsk_keepalive_timer (in a union with
	 * mptcp_tout_timer), and inet_diag and /proc/net/tcp's "2" with it in the same change
	 * (Debian's 6.1.0-57 has it): where the member exists, the keepalive is that one.
	 */
	[X_KA_PPREV] = { "inet_connection_sock", "icsk_keepalive_timer.entry.pprev", false, G_TIMER },
	[X_KA_EXPIRES] = { "inet_connection_sock", "icsk_keepalive_timer.expires", false, G_TIMER },
	[X_TW_EXPIRES] = { "inet_timewait_sock", "tw_timer.expires", true, G_TIMER },
	[X_RSK_EXPIRES] = { "request_sock", "rsk_timer.expires", true, G_TIMER },
	[X_RSK_RETRANS] = { "request_sock", "num_retrans", true, G_TIMER },
	[X_RMEM] = { "sock", "sk_backlog.rmem_alloc", true, G_MEM },
	[X_RCVBUF] = { "sock", "sk_rcvbuf", true, G_MEM },
	[X_WMEM] = { "sock", "sk_wmem_alloc", true, G_MEM },
	[X_SNDBUF] = { "sock", "sk_sndbuf", true, G_MEM },
	[X_FWD] = { "sock", "sk_forward_alloc", true, G_MEM },
	[X_WQUEUED] = { "sock", "sk_wmem_queued", true, G_MEM },
	[X_OMEM] = { "sock", "sk_omem_alloc", true, G_MEM },
	[X_BACKLOG] = { "sock", "sk_backlog.len", true, G_MEM },
	[X_DROPS] = { "sock", "sk_drops", true, G_MEM },
	[X_SHUTDOWN] = { "sock", "sk_shutdown", true, G_UNIX },
	[X_U_DENTRY] = { "unix_sock", "path.dentry", true, G_UNIX },
	[X_U_PEER] = { "unix_sock", "peer", true, G_UNIX },
	[X_D_INODE] = { "dentry", "d_inode", true, G_UNIX },
	[X_D_SB] = { "dentry", "d_sb", true, G_UNIX },
	[X_SB_DEV] = { "super_block", "s_dev", true, G_UNIX },
	[X_I_INO] = { "inode", "i_ino", true, G_UNIX },
	[X_RQ_NEXT] = { "sock", "sk_receive_queue.next", true, G_UNIX },
	[X_RQ_QLEN] = { "sock", "sk_receive_queue.qlen", true, G_UNIX },
	[X_SKB_NEXT] = { "sk_buff", "next", true, G_UNIX },
	[X_SKB_SK] = { "sk_buff", "sk", true, G_UNIX },
};

/* Which struct a member's offset is in, so that reads stay within the object. */
enum x_obj { O_COMMON, O_SOCK, O_ICSK, O_TW, O_REQ, O_UNIX, O_NR };

struct sockext_layout {
	struct nfm_field f[X_NR];
	bool have[X_NR];
	bool ok[G_NR];		/* every required member of the group is there */
	uint32_t size[O_NR];	/* sizeof each struct, bounded by MAX_SOCK_READ */
	uint64_t hz, jiffies;	/* HZ; the address of jiffies_64 */
};

static int resolve(struct nfm_ctx *ctx, struct sockext_layout *l)
{
	static const char *const objs[O_NR] = {
		"sock_common", "sock", "inet_connection_sock", "inet_timewait_sock", "request_sock",
		"unix_sock",
	};
	static const uint8_t obj_group[O_NR] = { G_BASE, G_BASE, G_TIMER, G_TIMER, G_TIMER, G_UNIX };
	int i;

	for (i = 0; i < G_NR; i++)
		l->ok[i] = true;
	for (i = 0; i < O_NR; i++)
		if (nfm_btf_type_size(ctx->btf, objs[i], &l->size[i]) < 0 || !l->size[i] ||
		    l->size[i] > MAX_SOCK_READ) {
			nfm_err(&ctx->log, "this kernel's BTF has no usable struct %s", objs[i]);
			l->ok[obj_group[i]] = false;
		}
	for (i = 0; i < X_NR; i++) {
		struct nfm_field *f = &l->f[i];

		if (nfm_btf_field(ctx->btf, members[i].type, members[i].path, f) == 0 &&
		    (f->bit_size || (f->size && f->size <= 8)) && f->offset < MAX_SOCK_READ) {
			l->have[i] = true;
		} else if (members[i].required && l->ok[members[i].group]) {
			nfm_err(&ctx->log, "socket details: no usable %s.%s in this kernel's BTF",
				members[i].type, members[i].path);
			l->ok[members[i].group] = false;
		}
	}
	if (!l->have[X_TIMEOUT] && !l->have[X_RTX_EXPIRES] && !l->have[X_SK_RTX_EXPIRES] &&
	    l->ok[G_TIMER]) {
		nfm_err(&ctx->log, "socket details: no retransmit timer (icsk_timeout, "
			"icsk_retransmit_timer, sk->tcp_retransmit_timer) in this kernel's BTF");
		l->ok[G_TIMER] = false;
	}
	if (nfm_kernel_hz(ctx, &l->hz) < 0 || !l->hz || nfm_ksym(ctx, "jiffies_64", &l->jiffies) < 0)
		l->ok[G_TIMER] = false;
	return l->ok[G_BASE] ? 0 : -ENOENT;
}

static int make_sockext(struct nfm_ctx *ctx, void *l)
{
	return ctx->btf ? resolve(ctx, l) : -ENOENT;
}

static const struct sockext_layout *layout(struct nfm_ctx *ctx, int *err)
{
	return nfm_kernel_layout(ctx, NFM_SLOT_SOCKEXT, sizeof(struct sockext_layout), make_sockext,
				 err);
}

static uint64_t get(const struct sockext_layout *l, const uint8_t *b, uint32_t size,
		    enum x_member m)
{
	return l->have[m] ? nfm_btf_field_value(b, size, &l->f[m]) : 0;
}

/* The sock at sk read whole as struct obj (buf holds MAX_SOCK_READ), after its state. */
static int read_sock(struct nfm_ctx *ctx, const struct sockext_layout *l, uint64_t sk,
		     enum x_obj obj, uint8_t *buf)
{
	if (!nfm_kptr_ok(ctx, sk))
		return -EINVAL;
	return nfm_kread(ctx, sk, buf, l->size[obj]);
}

/* The state byte of any sock (full, timewait or request: all begin with a sock_common). */
static int sock_state(struct nfm_ctx *ctx, const struct sockext_layout *l, uint64_t sk,
		      uint8_t *buf, unsigned int *state)
{
	int err = read_sock(ctx, l, sk, O_COMMON, buf);

	if (err < 0)
		return err;
	*state = (unsigned int)get(l, buf, l->size[O_COMMON], X_STATE);
	return 0;
}

/*
 * Every query's start: ret given, the layout, a buffer for one sock (*b, the caller frees it)
 * and the state of the sock at sk. 0, or -errno with nothing to free.
 */
static int begin(struct nfm_ctx *ctx, uint64_t sk, const void *ret, enum x_group g,
		 const struct sockext_layout **l, uint8_t **b, unsigned int *state)
{
	int err = 0;

	if (!ctx || !ret)
		return -EINVAL;
	*l = layout(ctx, &err);
	if (!*l)
		return err;
	if (!(*l)->ok[g])
		return -ENOENT;	/* this kernel lacks what the query reads (said at resolve) */
	*b = calloc(1, MAX_SOCK_READ);
	if (!*b)
		return -ENOMEM;
	err = sock_state(ctx, *l, sk, *b, state);
	if (err < 0) {
		free(*b);
		*b = NULL;
	}
	return err;
}

/* jiffies_delta_to_msecs(): an expiry past (negative) is 0; jiffies_to_msecs() for this HZ */
static uint32_t delta_ms(const struct sockext_layout *l, uint64_t expires, uint64_t now)
{
	int64_t d = (int64_t)(expires - now);

	if (d <= 0)
		return 0;
	return (uint32_t)(1000 % l->hz == 0 ? (1000 / l->hz) * (uint64_t)d :
			  ((uint64_t)d * 1000 + l->hz - 1) / l->hz);
}

int nfm_socket_timer(struct nfm_ctx *ctx, uint64_t sk, struct nfm_socket_timer *ret)
{
	const struct sockext_layout *l;
	struct nfm_socket_timer t = { 0 };
	unsigned int state, pending;
	uint64_t now, expires = 0;
	bool ka;
	uint8_t *b;
	uint32_t sz;
	int err = 0;

	if ((err = begin(ctx, sk, ret, G_TIMER, &l, &b, &state)) < 0)
		return err;
	if (state == TCP_TIME_WAIT_) {
		sz = l->size[O_TW];
		if ((err = read_sock(ctx, l, sk, O_TW, b)) < 0)
			goto out;
		t.timer = NFM_SOCK_TIMER_TIMEWAIT;
		expires = get(l, b, sz, X_TW_EXPIRES);
	} else if (state == TCP_NEW_SYN_RECV_) {
		sz = l->size[O_REQ];
		if ((err = read_sock(ctx, l, sk, O_REQ, b)) < 0)
			goto out;
		t.timer = NFM_SOCK_TIMER_ON;
		t.retrans = (uint32_t)get(l, b, sz, X_RSK_RETRANS);
		expires = get(l, b, sz, X_RSK_EXPIRES);
	} else {
		sz = l->size[O_ICSK];
		if ((err = read_sock(ctx, l, sk, O_ICSK, b)) < 0)
			goto out;
		if (get(l, b, sz, X_PROTOCOL) != IPPROTO_TCP) {
			err = -EINVAL;	/* only a TCP socket is an inet_connection_sock here */
			goto out;
		}
		pending = (unsigned int)get(l, b, sz, X_PENDING);
		ka = l->have[X_KA_PPREV] && l->have[X_KA_EXPIRES];
		expires = get(l, b, sz, l->have[X_TIMEOUT] ? X_TIMEOUT :
				  l->have[X_RTX_EXPIRES] ? X_RTX_EXPIRES : X_SK_RTX_EXPIRES);
		if (pending == ICSK_TIME_RETRANS || pending == ICSK_TIME_REO_TIMEOUT ||
		    pending == ICSK_TIME_LOSS_PROBE) {
			t.timer = NFM_SOCK_TIMER_ON;
			t.retrans = (uint32_t)get(l, b, sz, X_RETRANSMITS);
		} else if (pending == ICSK_TIME_PROBE0) {
			t.timer = NFM_SOCK_TIMER_PERSIST;
			t.retrans = (uint32_t)get(l, b, sz, X_PROBES);
		} else if (get(l, b, sz, ka ? X_KA_PPREV : X_SKT_PPREV)) {	/* timer_pending() */
			t.timer = NFM_SOCK_TIMER_KEEPALIVE;
			t.retrans = (uint32_t)get(l, b, sz, X_PROBES);
			expires = get(l, b, sz, ka ? X_KA_EXPIRES : X_SKT_EXPIRES);
		}
	}
	if (t.timer != NFM_SOCK_TIMER_OFF) {
		if ((err = nfm_kread_u64(ctx, l->jiffies, &now)) < 0)
			goto out;
		t.expires_ms = delta_ms(l, expires, now);
	}
	*ret = t;
out:
	free(b);
	return err;
}

int nfm_socket_meminfo(struct nfm_ctx *ctx, uint64_t sk, struct nfm_socket_meminfo *ret)
{
	const struct sockext_layout *l;
	unsigned int state;
	uint8_t *b;
	uint32_t sz;
	int err = 0;

	if ((err = begin(ctx, sk, ret, G_MEM, &l, &b, &state)) < 0)
		return err;
	if (state == TCP_TIME_WAIT_ || state == TCP_NEW_SYN_RECV_) {
		err = -EINVAL;	/* not full sockets: sock_diag gives them no meminfo either */
		goto out;
	}
	sz = l->size[O_SOCK];
	if ((err = read_sock(ctx, l, sk, O_SOCK, b)) < 0)
		goto out;
	ret->rmem_alloc = (uint32_t)get(l, b, sz, X_RMEM);
	ret->rcvbuf = (uint32_t)get(l, b, sz, X_RCVBUF);
	/* sk_wmem_alloc_get(): the refcount less the one the socket holds on itself */
	ret->wmem_alloc = (uint32_t)get(l, b, sz, X_WMEM) - 1u;
	ret->sndbuf = (uint32_t)get(l, b, sz, X_SNDBUF);
	ret->fwd_alloc = (uint32_t)get(l, b, sz, X_FWD);
	ret->wmem_queued = (uint32_t)get(l, b, sz, X_WQUEUED);
	ret->optmem = (uint32_t)get(l, b, sz, X_OMEM);
	ret->backlog = (uint32_t)get(l, b, sz, X_BACKLOG);
	ret->drops = (uint32_t)get(l, b, sz, X_DROPS);
out:
	free(b);
	return err;
}

int nfm_socket_unix_details(struct nfm_ctx *ctx, uint64_t sk, struct nfm_socket_unix_details *ret)
{
	const struct sockext_layout *l;
	struct nfm_socket_unix_details u = { 0 };
	uint64_t dentry, inode, sb;
	unsigned int state;
	uint32_t dev;
	uint8_t *b;
	int err = 0;

	if ((err = begin(ctx, sk, ret, G_UNIX, &l, &b, &state)) < 0)
		return err;
	if ((err = read_sock(ctx, l, sk, O_UNIX, b)) < 0)
		goto out;
	u.shutdown = (uint8_t)get(l, b, l->size[O_UNIX], X_SHUTDOWN);
	dentry = get(l, b, l->size[O_UNIX], X_U_DENTRY);
	if (dentry) {
		/* sk_diag_dump_vfs(): d_backing_inode(dentry)->i_ino, dentry->d_sb->s_dev */
		if (!nfm_kptr_ok(ctx, dentry) ||
		    (err = nfm_kread_u64(ctx, dentry + l->f[X_D_INODE].offset, &inode)) < 0 ||
		    (err = nfm_kread_u64(ctx, dentry + l->f[X_D_SB].offset, &sb)) < 0 ||
		    !nfm_kptr_ok(ctx, inode) || !nfm_kptr_ok(ctx, sb) ||
		    (err = nfm_kread_u64(ctx, inode + l->f[X_I_INO].offset, &u.vfs_ino)) < 0 ||
		    (err = nfm_kread_u32(ctx, sb + l->f[X_SB_DEV].offset, &dev)) < 0) {
			err = err < 0 ? err : -EBADMSG;
			goto out;
		}
		u.has_vfs = true;
		u.vfs_dev_major = dev >> 20;	/* the kernel's dev_t: MINORBITS 20 */
		u.vfs_dev_minor = dev & 0xfffffu;
	}
	*ret = u;
out:
	free(b);
	return err;
}

int nfm_socket_unix_pending(struct nfm_ctx *ctx, uint64_t sk, uint64_t **ret)
{
	const struct sockext_layout *l;
	uint64_t head, skb, req, peer, *out = NULL;
	uint32_t qlen, k;
	unsigned int state;
	uint8_t *b;
	int err = 0;

	if ((err = begin(ctx, sk, ret, G_UNIX, &l, &b, &state)) < 0)
		return err;
	if (state != TCP_LISTEN_) {
		err = -EINVAL;	/* sk_diag_dump_icons(): listeners only */
		goto out;
	}
	if ((err = read_sock(ctx, l, sk, O_UNIX, b)) < 0)
		goto out;
	qlen = (uint32_t)get(l, b, l->size[O_UNIX], X_RQ_QLEN);
	if (qlen > MAX_ICONS) {
		err = -EBADMSG;
		goto out;
	}
	out = calloc(qlen ? qlen : 1, sizeof(*out));
	if (!out) {
		err = -ENOMEM;
		goto out;
	}
	/* the queue's head is the sk_buff_head in the sock; qlen links lead back to it */
	head = sk + l->f[X_RQ_NEXT].offset;
	skb = get(l, b, l->size[O_UNIX], X_RQ_NEXT);
	for (k = 0; k < qlen; k++) {
		/* each skb's sk is the embryo; its peer the connecting socket, whose inode it is */
		if (skb == head || nfm_budget_take(ctx, 1) < 0 || !nfm_kptr_ok(ctx, skb) ||
		    (err = nfm_kread_u64(ctx, skb + l->f[X_SKB_SK].offset, &req)) < 0 ||
		    !nfm_kptr_ok(ctx, req) ||
		    (err = nfm_kread_u64(ctx, req + l->f[X_U_PEER].offset, &peer)) < 0 ||
		    (peer && !nfm_kptr_ok(ctx, peer)) ||
		    (peer && (err = nfm_sock_inode(ctx, peer, &out[k])) < 0) ||
		    (err = nfm_kread_u64(ctx, skb + l->f[X_SKB_NEXT].offset, &skb)) < 0) {
			err = err < 0 ? err : -EBADMSG;
			goto out;
		}
	}
	if (skb != head) {
		err = -EBADMSG;	/* more links than qlen: the queue moved, or a forged one */
		goto out;
	}
	*ret = out;
	out = NULL;
	err = (int)qlen;
out:
	free(out);
	free(b);
	return err;
}
