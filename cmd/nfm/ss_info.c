// SPDX-License-Identifier: GPL-2.0-or-later
/* ss -i: the TCP info line under a socket, in iproute2's order and words (misc/ss.c). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "ss_info.h"

struct out {
	char *buf;
	size_t size, n;
};

__attribute__((format(printf, 2, 3))) static void out(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->n >= o->size)
		return;
	va_start(ap, fmt);
	k = vsnprintf(o->buf + o->n, o->size - o->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n += (size_t)k;
}

/* A rate in bits per second as ss -n prints it (numeric: no K/M/G). */
static void bps(struct out *o, const char *what, double bits)
{
	out(o, " %s %.0fbps", what, bits);
}

void ss_info_text(const struct nfm_tcp_info *t, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	char cong[sizeof(t->congestion) * 4 + 1];

	buf[0] = 0;
	if (t->options & NFM_TCPI_OPT_TIMESTAMPS)
		out(&o, " ts");
	if (t->options & NFM_TCPI_OPT_SACK)
		out(&o, " sack");
	if (t->options & NFM_TCPI_OPT_ECN)
		out(&o, " ecn");
	if (t->options & NFM_TCPI_OPT_ECN_SEEN)
		out(&o, " ecnseen");
	if (t->options & NFM_TCPI_OPT_SYN_DATA)
		out(&o, " fastopen");
	if (t->congestion[0])
		out(&o, " %s", cli_escape(t->congestion, strnlen(t->congestion, sizeof(t->congestion)),
					  cong, sizeof(cong)));
	if (t->options & NFM_TCPI_OPT_WSCALE)
		out(&o, " wscale:%u,%u", t->snd_wscale, t->rcv_wscale);
	if (t->rto_us && t->rto_us != 3000000)
		out(&o, " rto:%g", t->rto_us / 1000.0);
	if (t->backoff)
		out(&o, " backoff:%u", t->backoff);
	if (t->rtt_us)
		out(&o, " rtt:%g/%g", t->rtt_us / 1000.0, t->rttvar_us / 1000.0);
	if (t->ato_us)
		out(&o, " ato:%g", t->ato_us / 1000.0);
	if (t->snd_mss)
		out(&o, " mss:%u", t->snd_mss);
	if (t->pmtu)
		out(&o, " pmtu:%u", t->pmtu);
	if (t->rcv_mss)
		out(&o, " rcvmss:%u", t->rcv_mss);
	if (t->advmss)
		out(&o, " advmss:%u", t->advmss);
	if (t->snd_cwnd)
		out(&o, " cwnd:%u", t->snd_cwnd);
	if (t->snd_ssthresh && t->snd_ssthresh < 0xFFFF)
		out(&o, " ssthresh:%u", t->snd_ssthresh);
	if (t->bytes_sent)
		out(&o, " bytes_sent:%" PRIu64, t->bytes_sent);
	if (t->bytes_retrans)
		out(&o, " bytes_retrans:%" PRIu64, t->bytes_retrans);
	if (t->bytes_acked)
		out(&o, " bytes_acked:%" PRIu64, t->bytes_acked);
	if (t->bytes_received)
		out(&o, " bytes_received:%" PRIu64, t->bytes_received);
	if (t->segs_out)
		out(&o, " segs_out:%u", t->segs_out);
	if (t->segs_in)
		out(&o, " segs_in:%u", t->segs_in);
	if (t->data_segs_out)
		out(&o, " data_segs_out:%u", t->data_segs_out);
	if (t->data_segs_in)
		out(&o, " data_segs_in:%u", t->data_segs_in);
	if (t->rtt_us && t->snd_mss && t->snd_cwnd)
		bps(&o, "send", (double)t->snd_cwnd * t->snd_mss * 8000000.0 / t->rtt_us);
	if (t->last_data_sent_ms)
		out(&o, " lastsnd:%u", t->last_data_sent_ms);
	if (t->last_data_recv_ms)
		out(&o, " lastrcv:%u", t->last_data_recv_ms);
	if (t->last_ack_recv_ms)
		out(&o, " lastack:%u", t->last_ack_recv_ms);
	if (t->pacing_rate && t->pacing_rate != UINT64_MAX) {
		bps(&o, "pacing_rate", t->pacing_rate * 8.0);
		if (t->max_pacing_rate && t->max_pacing_rate != UINT64_MAX)
			out(&o, "/%.0fbps", t->max_pacing_rate * 8.0);
	}
	if (t->delivery_rate)
		bps(&o, "delivery_rate", t->delivery_rate * 8.0);
	if (t->delivered)
		out(&o, " delivered:%u", t->delivered);
	if (t->delivered_ce)
		out(&o, " delivered_ce:%u", t->delivered_ce);
	if (t->delivery_rate_app_limited)
		out(&o, " app_limited");
	if (t->unacked)
		out(&o, " unacked:%u", t->unacked);
	if (t->retrans || t->total_retrans)
		out(&o, " retrans:%u/%u", t->retrans, t->total_retrans);
	if (t->lost)
		out(&o, " lost:%u", t->lost);
	if (t->sacked && !t->listener)
		out(&o, " sacked:%u", t->sacked);
	if (t->dsack_dups)
		out(&o, " dsack_dups:%u", t->dsack_dups);
	if (t->reordering != 3)
		out(&o, " reordering:%u", t->reordering);
	if (t->reord_seen)
		out(&o, " reord_seen:%u", t->reord_seen);
	if (t->rcv_rtt_us)
		out(&o, " rcv_rtt:%g", t->rcv_rtt_us / 1000.0);
	if (t->rcv_space)
		out(&o, " rcv_space:%u", t->rcv_space);
	if (t->rcv_ssthresh)
		out(&o, " rcv_ssthresh:%u", t->rcv_ssthresh);
	if (t->notsent_bytes)
		out(&o, " notsent:%u", t->notsent_bytes);
	if (t->min_rtt_us)
		out(&o, " minrtt:%g", t->min_rtt_us / 1000.0);
	if (t->rcv_ooopack)
		out(&o, " rcv_ooopack:%u", t->rcv_ooopack);
	if (t->snd_wnd)
		out(&o, " snd_wnd:%u", t->snd_wnd);
}
