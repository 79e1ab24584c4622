// SPDX-License-Identifier: MIT
/*
 * The guest's own TCP info of every TCP socket (what ss -i shows), through NETLINK_SOCK_DIAG:
 * one inet_diag dump per family asking for INET_DIAG_INFO (struct tcp_info, filled by the
 * kernel's tcp_get_info()) and INET_DIAG_CONG. Text, one socket per line:
 *   ino=N state=N cong=NAME FIELD=VALUE ... (every tcp_info field, named without "tcpi_")
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zoo.h"

static void one(struct buf *o, const struct inet_diag_msg *m, int len)
{
	const struct tcp_info *ti = NULL;
	const char *cong = NULL;
	int ti_len = 0;

	for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == INET_DIAG_INFO) {
			ti = RTA_DATA(a);
			ti_len = (int)RTA_PAYLOAD(a);
		} else if (a->rta_type == INET_DIAG_CONG) {
			cong = RTA_DATA(a);
		}
	}
	buf_printf(o, "ino=%u state=%u cong=%s", m->idiag_inode, m->idiag_state, cong ? cong : "-");
	if (!ti || ti_len < (int)offsetof(struct tcp_info, tcpi_snd_wnd) + 4) {
		buf_printf(o, "\n");
		return;
	}
#define U(f) buf_printf(o, " " #f "=%llu", (unsigned long long)ti->tcpi_##f)
	U(ca_state); U(retransmits); U(probes); U(backoff); U(options); U(snd_wscale);
	U(rcv_wscale); U(delivery_rate_app_limited); U(rto); U(ato); U(snd_mss); U(rcv_mss);
	U(unacked); U(sacked); U(lost); U(retrans); U(last_data_sent); U(last_data_recv);
	U(last_ack_recv); U(pmtu); U(rcv_ssthresh); U(rtt); U(rttvar); U(snd_ssthresh);
	U(snd_cwnd); U(advmss); U(reordering); U(rcv_rtt); U(rcv_space); U(total_retrans);
	U(pacing_rate); U(max_pacing_rate); U(bytes_acked); U(bytes_received); U(segs_out);
	U(segs_in); U(notsent_bytes); U(min_rtt); U(data_segs_in); U(data_segs_out);
	U(delivery_rate); U(delivered); U(delivered_ce); U(bytes_sent); U(bytes_retrans);
	U(dsack_dups); U(reord_seen); U(rcv_ooopack); U(snd_wnd);
#undef U
	buf_printf(o, "\n");
}

static int dump(struct buf *o, int family)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = (uint8_t)family, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_states = ~0u,
		       .idiag_ext = (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_CONG - 1)) },
	};
	static char rx[64 << 10];
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), err = 0;

	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = recv(fd, rx, sizeof(rx), 0);

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			goto out;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)rx; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = -EIO;
				goto out;
			}
			one(o, NLMSG_DATA(h), (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(struct inet_diag_msg))));
		}
	}
out:
	close(fd);
	return err;
}

void rec_tcp_info(struct buf *o)
{
	static struct buf t;
	static const char path[] = "sock_diag:tcp_info";
	int err;

	t.len = 0;
	err = dump(&t, AF_INET);
	if (!err)
		err = dump(&t, AF_INET6);
	rec_file_record(o, path, &t, err);
}
