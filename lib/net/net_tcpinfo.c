// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ss -i: the kernel's struct tcp_info of one TCP socket, computed from its tcp_sock the way
 * tcp_get_info() (net/ipv4/tcp.c, 5.10 to 6.12) computes it for getsockopt(TCP_INFO) and
 * sock_diag. One read of the whole tcp_sock; every member resolved from BTF once per attach
 * (bit fields included), a member this kernel lacks left 0 as its own tcp_info would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "btf/btf.h"
#include "core/context.h"
#include "core/slot.h"
#include "walk/list.h"

#define TCP_LISTEN_ 10
#define TCP_TIME_WAIT_ 6
#define TCP_NEW_SYN_RECV_ 12
#define TCP_ECN_OK_ 1u
#define TCP_ECN_SEEN_ 8u
#define MAX_TCP_SOCK (16u << 10)	/* sizeof(struct tcp_sock) is ~2.3 KiB on 6.x */

/* Every member tcp_get_info() reads; the type each is resolved in sits at offset 0 of tcp_sock
 * (tcp_sock begins with inet_connection_sock, which begins with inet_sock, then sock). */
enum ti_member {
	M_STATE, M_PACING, M_MAX_PACING, M_ACK_BACKLOG, M_MAX_ACK_BACKLOG,
	M_CA_OPS, M_CA_STATE, M_RETRANSMITS, M_PROBES, M_BACKOFF, M_RTO, M_ATO, M_RCV_MSS,
	M_LRCVTIME, M_PMTU,
	M_TSTAMP_OK, M_SACK_OK, M_WSCALE_OK, M_SND_WSCALE, M_RCV_WSCALE, M_ECN, M_SYN_DATA_ACKED,
	M_USEC_TS, M_FASTOPEN_CHILD,
	M_REORDERING, M_CWND, M_MSS, M_PACKETS_OUT, M_SACKED_OUT, M_LOST_OUT, M_RETRANS_OUT,
	M_LSNDTIME, M_RCV_TSTAMP, M_RCV_SSTHRESH, M_SRTT, M_MDEV, M_SSTHRESH, M_ADVMSS,
	M_RCV_RTT, M_RCVQ_SPACE, M_TOTAL_RETRANS, M_BYTES_ACKED, M_BYTES_RECEIVED, M_WRITE_SEQ,
	M_SND_NXT, M_SEGS_OUT, M_SEGS_IN, M_RTT_MIN, M_DATA_SEGS_IN, M_DATA_SEGS_OUT,
	M_RATE_APP_LIMITED, M_RATE_DELIVERED, M_RATE_INTERVAL, M_DELIVERED, M_DELIVERED_CE,
	M_BYTES_SENT, M_BYTES_RETRANS, M_DSACK_DUPS, M_REORD_SEEN, M_RCV_OOOPACK, M_SND_WND,
	M_NR
};

static const struct {
	const char *type, *path;
	bool required;
} members[M_NR] = {
	[M_STATE] = { "sock", "__sk_common.skc_state", true },
	[M_PACING] = { "sock", "sk_pacing_rate", true },
	[M_MAX_PACING] = { "sock", "sk_max_pacing_rate", true },
	[M_ACK_BACKLOG] = { "sock", "sk_ack_backlog", true },
	[M_MAX_ACK_BACKLOG] = { "sock", "sk_max_ack_backlog", true },
	[M_CA_OPS] = { "inet_connection_sock", "icsk_ca_ops", true },
	[M_CA_STATE] = { "inet_connection_sock", "icsk_ca_state", true },
	[M_RETRANSMITS] = { "inet_connection_sock", "icsk_retransmits", true },
	[M_PROBES] = { "inet_connection_sock", "icsk_probes_out", true },
	[M_BACKOFF] = { "inet_connection_sock", "icsk_backoff", true },
	[M_RTO] = { "inet_connection_sock", "icsk_rto", true },
	[M_ATO] = { "inet_connection_sock", "icsk_ack.ato", true },
	[M_RCV_MSS] = { "inet_connection_sock", "icsk_ack.rcv_mss", true },
	[M_LRCVTIME] = { "inet_connection_sock", "icsk_ack.lrcvtime", true },
	[M_PMTU] = { "inet_connection_sock", "icsk_pmtu_cookie", true },
	[M_TSTAMP_OK] = { "tcp_sock", "rx_opt.tstamp_ok", true },
	[M_SACK_OK] = { "tcp_sock", "rx_opt.sack_ok", true },
	[M_WSCALE_OK] = { "tcp_sock", "rx_opt.wscale_ok", true },
	[M_SND_WSCALE] = { "tcp_sock", "rx_opt.snd_wscale", true },
	[M_RCV_WSCALE] = { "tcp_sock", "rx_opt.rcv_wscale", true },
	[M_ECN] = { "tcp_sock", "ecn_flags", true },
	[M_SYN_DATA_ACKED] = { "tcp_sock", "syn_data_acked", true },
	[M_USEC_TS] = { "tcp_sock", "tcp_usec_ts", false },		/* 6.7+ */
	[M_FASTOPEN_CHILD] = { "tcp_sock", "syn_fastopen_child", false },	/* 6.10+ */
	[M_REORDERING] = { "tcp_sock", "reordering", true },
	[M_CWND] = { "tcp_sock", "snd_cwnd", true },
	[M_MSS] = { "tcp_sock", "mss_cache", true },
	[M_PACKETS_OUT] = { "tcp_sock", "packets_out", true },
	[M_SACKED_OUT] = { "tcp_sock", "sacked_out", true },
	[M_LOST_OUT] = { "tcp_sock", "lost_out", true },
	[M_RETRANS_OUT] = { "tcp_sock", "retrans_out", true },
	[M_LSNDTIME] = { "tcp_sock", "lsndtime", true },
	[M_RCV_TSTAMP] = { "tcp_sock", "rcv_tstamp", true },
	[M_RCV_SSTHRESH] = { "tcp_sock", "rcv_ssthresh", true },
	[M_SRTT] = { "tcp_sock", "srtt_us", true },
	[M_MDEV] = { "tcp_sock", "mdev_us", true },
	[M_SSTHRESH] = { "tcp_sock", "snd_ssthresh", true },
	[M_ADVMSS] = { "tcp_sock", "advmss", true },
	[M_RCV_RTT] = { "tcp_sock", "rcv_rtt_est.rtt_us", true },
	[M_RCVQ_SPACE] = { "tcp_sock", "rcvq_space.space", true },
	[M_TOTAL_RETRANS] = { "tcp_sock", "total_retrans", true },
	[M_BYTES_ACKED] = { "tcp_sock", "bytes_acked", true },
	[M_BYTES_RECEIVED] = { "tcp_sock", "bytes_received", true },
	[M_WRITE_SEQ] = { "tcp_sock", "write_seq", true },
	[M_SND_NXT] = { "tcp_sock", "snd_nxt", true },
	[M_SEGS_OUT] = { "tcp_sock", "segs_out", true },
	[M_SEGS_IN] = { "tcp_sock", "segs_in", true },
	[M_RTT_MIN] = { "tcp_sock", "rtt_min", true },	/* minmax: s[0] = {t, v} first */
	[M_DATA_SEGS_IN] = { "tcp_sock", "data_segs_in", true },
	[M_DATA_SEGS_OUT] = { "tcp_sock", "data_segs_out", true },
	[M_RATE_APP_LIMITED] = { "tcp_sock", "rate_app_limited", true },
	[M_RATE_DELIVERED] = { "tcp_sock", "rate_delivered", true },
	[M_RATE_INTERVAL] = { "tcp_sock", "rate_interval_us", true },
	[M_DELIVERED] = { "tcp_sock", "delivered", true },
	[M_DELIVERED_CE] = { "tcp_sock", "delivered_ce", true },
	[M_BYTES_SENT] = { "tcp_sock", "bytes_sent", true },
	[M_BYTES_RETRANS] = { "tcp_sock", "bytes_retrans", true },
	[M_DSACK_DUPS] = { "tcp_sock", "dsack_dups", true },
	[M_REORD_SEEN] = { "tcp_sock", "reord_seen", true },
	[M_RCV_OOOPACK] = { "tcp_sock", "rcv_ooopack", true },
	[M_SND_WND] = { "tcp_sock", "snd_wnd", true },
};

struct tcpinfo_layout {
	struct nfm_field f[M_NR];
	bool have[M_NR];
	uint32_t size;		/* sizeof(struct tcp_sock) */
	int32_t ca_name;	/* tcp_congestion_ops.name */
	uint32_t ca_name_len;
	uint64_t hz, jiffies;	/* HZ; the address of jiffies_64 */
};

static int make_tcpinfo(struct nfm_ctx *ctx, void *block)
{
	struct tcpinfo_layout *l = block;
	struct nfm_field f;
	int i;

	if (!ctx->btf)
		return -ENOENT;
	if (nfm_btf_type_size(ctx->btf, "tcp_sock", &l->size) < 0 || !l->size ||
	    l->size > MAX_TCP_SOCK) {
		nfm_err(&ctx->log, "this kernel's BTF has no usable struct tcp_sock");
		return -ENOENT;
	}
	for (i = 0; i < M_NR; i++) {
		if (nfm_btf_field(ctx->btf, members[i].type, members[i].path, &l->f[i]) == 0 &&
		    l->f[i].offset + (l->f[i].bit_size ? 1u : l->f[i].size) <= l->size) {
			l->have[i] = true;
		} else if (members[i].required) {
			nfm_err(&ctx->log, "TCP info: no %s.%s in this kernel's BTF", members[i].type,
				members[i].path);
			return -ENOENT;
		}
	}
	if (nfm_btf_field(ctx->btf, "tcp_congestion_ops", "name", &f) < 0 || !f.size) {
		nfm_err(&ctx->log, "TCP info: no tcp_congestion_ops.name in this kernel's BTF");
		return -ENOENT;
	}
	l->ca_name = (int32_t)f.offset;
	l->ca_name_len = f.size;
	if (nfm_kernel_hz(ctx, &l->hz) < 0 || !l->hz ||
	    nfm_ksym(ctx, "jiffies_64", &l->jiffies) < 0)
		return -ENOENT;
	return 0;
}

static const struct tcpinfo_layout *layout(struct nfm_ctx *ctx, int *err)
{
	return nfm_kernel_layout(ctx, NFM_SLOT_TCPINFO, sizeof(struct tcpinfo_layout), make_tcpinfo,
				 err);
}

/* The member's value (unsigned, zero-extended; a bit field's bits), 0 when this kernel lacks it. */
static uint64_t get(const struct tcpinfo_layout *l, const uint8_t *tp, enum ti_member m)
{
	return l->have[m] ? nfm_btf_field_value(tp, l->size, &l->f[m]) : 0;
}

/* jiffies_to_usecs() / jiffies_to_msecs() of include/linux/jiffies.h for this kernel's HZ. */
static uint32_t j_to_us(const struct tcpinfo_layout *l, uint64_t j)
{
	return (uint32_t)(1000000 % l->hz == 0 ? (1000000 / l->hz) * j : j * 1000000 / l->hz);
}

static uint32_t j_to_ms(const struct tcpinfo_layout *l, uint32_t j)
{
	return (uint32_t)(1000 % l->hz == 0 ? (1000 / l->hz) * (uint64_t)j :
			  ((uint64_t)j * 1000 + l->hz - 1) / l->hz);
}

int nfm_socket_tcp_info(struct nfm_ctx *ctx, uint64_t sk, struct nfm_tcp_info *ti)
{
	const struct tcpinfo_layout *l;
	uint64_t ops, jiffies, rate, intv;
	uint8_t *tp, state;
	uint32_t now;
	int err = 0;

	if (!ctx || !ti || !nfm_kptr_ok(ctx, sk))
		return -EINVAL;
	l = layout(ctx, &err);
	if (!l)
		return err;
	tp = malloc(l->size);
	if (!tp)
		return -ENOMEM;
	/* A timewait or request sock is shorter than a tcp_sock (the whole read may even fail at
	 * the end of its slab page): either way its state says so, and it has no tcp_info. */
	err = nfm_kread(ctx, sk, tp, l->size);
	if (err == 0)
		state = tp[l->f[M_STATE].offset];
	else if (nfm_kread(ctx, sk + l->f[M_STATE].offset, &state, 1) < 0)
		goto out;
	if (state == TCP_TIME_WAIT_ || state == TCP_NEW_SYN_RECV_) {
		err = -EINVAL;
		goto out;
	}
	if (err < 0 || (err = nfm_kread_u64(ctx, l->jiffies, &jiffies)) < 0)
		goto out;
	memset(ti, 0, sizeof(*ti));
	ti->state = (int)get(l, tp, M_STATE);
	ti->listener = ti->state == TCP_LISTEN_;
	/* an ops pointer that does not lead to a name is not a socket the kernel could have */
	ops = get(l, tp, M_CA_OPS);
	if (ops) {
		size_t n = l->ca_name_len < sizeof(ti->congestion) ? l->ca_name_len :
			   sizeof(ti->congestion);

		if (!nfm_kptr_ok(ctx, ops) ||
		    nfm_kread(ctx, ops + (uint64_t)l->ca_name, ti->congestion, n) < 0) {
			err = -EBADMSG;
			goto out;
		}
		ti->congestion[sizeof(ti->congestion) - 1] = 0;
	}
	/* tcp_get_info(): meaningful for every state, listeners included */
	rate = get(l, tp, M_PACING);
	ti->pacing_rate = l->f[M_PACING].size == 4 && rate == UINT32_MAX ? UINT64_MAX : rate;
	rate = get(l, tp, M_MAX_PACING);
	ti->max_pacing_rate = l->f[M_MAX_PACING].size == 4 && rate == UINT32_MAX ? UINT64_MAX : rate;
	ti->reordering = (uint32_t)get(l, tp, M_REORDERING);
	ti->snd_cwnd = (uint32_t)get(l, tp, M_CWND);
	if (ti->listener) {
		ti->unacked = (uint32_t)get(l, tp, M_ACK_BACKLOG);
		ti->sacked = (uint32_t)get(l, tp, M_MAX_ACK_BACKLOG);
		goto out;
	}
	ti->ca_state = (uint8_t)get(l, tp, M_CA_STATE);
	ti->retransmits = (uint8_t)get(l, tp, M_RETRANSMITS);
	ti->probes = (uint8_t)get(l, tp, M_PROBES);
	ti->backoff = (uint8_t)get(l, tp, M_BACKOFF);
	if (get(l, tp, M_TSTAMP_OK))
		ti->options |= NFM_TCPI_OPT_TIMESTAMPS;
	if (get(l, tp, M_SACK_OK))
		ti->options |= NFM_TCPI_OPT_SACK;
	if (get(l, tp, M_WSCALE_OK)) {
		ti->options |= NFM_TCPI_OPT_WSCALE;
		ti->snd_wscale = (uint8_t)get(l, tp, M_SND_WSCALE);
		ti->rcv_wscale = (uint8_t)get(l, tp, M_RCV_WSCALE);
	}
	if (get(l, tp, M_ECN) & TCP_ECN_OK_)
		ti->options |= NFM_TCPI_OPT_ECN;
	if (get(l, tp, M_ECN) & TCP_ECN_SEEN_)
		ti->options |= NFM_TCPI_OPT_ECN_SEEN;
	if (get(l, tp, M_SYN_DATA_ACKED))
		ti->options |= NFM_TCPI_OPT_SYN_DATA;
	if (get(l, tp, M_USEC_TS))
		ti->options |= NFM_TCPI_OPT_USEC_TS;
	if (get(l, tp, M_FASTOPEN_CHILD))
		ti->options |= NFM_TCPI_OPT_TFO_CHILD;
	ti->rto_us = j_to_us(l, (uint32_t)get(l, tp, M_RTO));
	ti->ato_us = j_to_us(l, (uint32_t)get(l, tp, M_ATO));
	ti->snd_mss = (uint32_t)get(l, tp, M_MSS);
	ti->rcv_mss = (uint32_t)get(l, tp, M_RCV_MSS);
	ti->unacked = (uint32_t)get(l, tp, M_PACKETS_OUT);
	ti->sacked = (uint32_t)get(l, tp, M_SACKED_OUT);
	ti->lost = (uint32_t)get(l, tp, M_LOST_OUT);
	ti->retrans = (uint32_t)get(l, tp, M_RETRANS_OUT);
	now = (uint32_t)jiffies;	/* tcp_jiffies32 */
	ti->last_data_sent_ms = j_to_ms(l, now - (uint32_t)get(l, tp, M_LSNDTIME));
	ti->last_data_recv_ms = j_to_ms(l, now - (uint32_t)get(l, tp, M_LRCVTIME));
	ti->last_ack_recv_ms = j_to_ms(l, now - (uint32_t)get(l, tp, M_RCV_TSTAMP));
	ti->pmtu = (uint32_t)get(l, tp, M_PMTU);
	ti->rcv_ssthresh = (uint32_t)get(l, tp, M_RCV_SSTHRESH);
	ti->rtt_us = (uint32_t)get(l, tp, M_SRTT) >> 3;
	ti->rttvar_us = (uint32_t)get(l, tp, M_MDEV) >> 2;
	ti->snd_ssthresh = (uint32_t)get(l, tp, M_SSTHRESH);
	ti->advmss = (uint32_t)get(l, tp, M_ADVMSS);
	ti->rcv_rtt_us = (uint32_t)get(l, tp, M_RCV_RTT) >> 3;
	ti->rcv_space = (uint32_t)get(l, tp, M_RCVQ_SPACE);
	ti->total_retrans = (uint32_t)get(l, tp, M_TOTAL_RETRANS);
	ti->bytes_acked = get(l, tp, M_BYTES_ACKED);
	ti->bytes_received = get(l, tp, M_BYTES_RECEIVED);
	{
		int32_t notsent = (int32_t)((uint32_t)get(l, tp, M_WRITE_SEQ) -
					    (uint32_t)get(l, tp, M_SND_NXT));

		ti->notsent_bytes = notsent > 0 ? (uint32_t)notsent : 0;
	}
	ti->segs_out = (uint32_t)get(l, tp, M_SEGS_OUT);
	ti->segs_in = (uint32_t)get(l, tp, M_SEGS_IN);
	/* tcp_min_rtt(): rtt_min.s[0].v, the second u32 of the minmax */
	if (l->f[M_RTT_MIN].size >= 8)
		memcpy(&ti->min_rtt_us, tp + l->f[M_RTT_MIN].offset + 4, 4);
	ti->data_segs_in = (uint32_t)get(l, tp, M_DATA_SEGS_IN);
	ti->data_segs_out = (uint32_t)get(l, tp, M_DATA_SEGS_OUT);
	ti->delivery_rate_app_limited = get(l, tp, M_RATE_APP_LIMITED) ? 1 : 0;
	/* tcp_compute_delivery_rate() */
	rate = (uint32_t)get(l, tp, M_RATE_DELIVERED);
	intv = (uint32_t)get(l, tp, M_RATE_INTERVAL);
	if (rate && intv)
		ti->delivery_rate = rate * ti->snd_mss * 1000000ull / intv;
	ti->delivered = (uint32_t)get(l, tp, M_DELIVERED);
	ti->delivered_ce = (uint32_t)get(l, tp, M_DELIVERED_CE);
	ti->bytes_sent = get(l, tp, M_BYTES_SENT);
	ti->bytes_retrans = get(l, tp, M_BYTES_RETRANS);
	ti->dsack_dups = (uint32_t)get(l, tp, M_DSACK_DUPS);
	ti->reord_seen = (uint32_t)get(l, tp, M_REORD_SEEN);
	ti->rcv_ooopack = (uint32_t)get(l, tp, M_RCV_OOOPACK);
	ti->snd_wnd = (uint32_t)get(l, tp, M_SND_WND);
out:
	free(tp);
	return err;
}
