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
#include <linux/unix_diag.h>
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

/* One sock_diag dump: req (len bytes) sent, each answer given to each(o, family, proto, h). */
static int diag_dump(struct buf *o, const void *req, size_t len, int family, int proto,
		     void (*each)(struct buf *, int, int, const struct nlmsghdr *))
{
	static char rx[64 << 10];
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), err = 0;

	if (fd < 0)
		return -errno;
	if (send(fd, req, len, 0) < 0) {
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
			each(o, family, proto, h);
		}
	}
out:
	close(fd);
	return err;
}

static void one_info(struct buf *o, int family, int proto, const struct nlmsghdr *h)
{
	(void)family, (void)proto;
	one(o, NLMSG_DATA(h), (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(struct inet_diag_msg))));
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

	return diag_dump(o, &req, sizeof(req), family, IPPROTO_TCP, one_info);
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

/*
 * What ss -o, -m and -xe print, as the kernel reports it to ss (nfm ss's truth): one line per
 * socket of an inet_diag dump of TCP and UDP (each family) asking for INET_DIAG_SKMEMINFO, and
 * of a unix_diag dump asking for UDIAG_SHOW_MEMINFO, _VFS and _ICONS:
 *   tcp|udp ino=N state=N timer=N expires=MS retrans=N [skmem=r,rb,t,tb,f,w,o,bl,d]
 *   unix ino=N state=N shutdown=N [vfs=INO:DEV] [skmem=...] [icons=INO,INO...]
 * (DEV the kernel's dev_t; icons only for a listener, empty when nothing is pending).
 */
static void skmem(struct buf *o, const struct rtattr *a)
{
	const uint32_t *m = RTA_DATA(a);
	int n = (int)(RTA_PAYLOAD(a) / sizeof(uint32_t));

	buf_printf(o, " skmem=");
	for (int i = 0; i < n; i++)
		buf_printf(o, "%s%u", i ? "," : "", m[i]);
}

static void one_ss(struct buf *o, int family, int proto, const struct nlmsghdr *h)
{
	if (family == AF_UNIX) {
		const struct unix_diag_msg *m = NLMSG_DATA(h);
		int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));

		buf_printf(o, "unix ino=%u state=%u", m->udiag_ino, m->udiag_state);
		for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
			if (a->rta_type == UNIX_DIAG_SHUTDOWN) {
				buf_printf(o, " shutdown=%u", *(uint8_t *)RTA_DATA(a));
			} else if (a->rta_type == UNIX_DIAG_VFS) {
				const struct unix_diag_vfs *v = RTA_DATA(a);

				buf_printf(o, " vfs=%u:%u", v->udiag_vfs_ino, v->udiag_vfs_dev);
			} else if (a->rta_type == UNIX_DIAG_MEMINFO) {
				skmem(o, a);
			} else if (a->rta_type == UNIX_DIAG_ICONS) {
				const uint32_t *ic = RTA_DATA(a);
				int n = (int)(RTA_PAYLOAD(a) / sizeof(uint32_t));

				buf_printf(o, " icons=");
				for (int i = 0; i < n; i++)
					buf_printf(o, "%s%u", i ? "," : "", ic[i]);
			}
		}
	} else {
		const struct inet_diag_msg *m = NLMSG_DATA(h);
		int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));

		buf_printf(o, "%s ino=%u state=%u timer=%u expires=%u retrans=%u",
			   proto == IPPROTO_TCP ? "tcp" : "udp", m->idiag_inode, m->idiag_state,
			   m->idiag_timer, m->idiag_expires, m->idiag_retrans);
		for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
			if (a->rta_type == INET_DIAG_SKMEMINFO)
				skmem(o, a);
	}
	buf_printf(o, "\n");
}

static int dump_ss(struct buf *o, int family, int proto)
{
	union {
		struct {
			struct nlmsghdr nh;
			struct inet_diag_req_v2 r;
		} in;
		struct {
			struct nlmsghdr nh;
			struct unix_diag_req r;
		} un;
	} req;
	size_t len;

	memset(&req, 0, sizeof(req));
	if (family == AF_UNIX) {
		len = sizeof(req.un);
		req.un.r = (struct unix_diag_req){ .sdiag_family = AF_UNIX, .udiag_states = ~0u,
			.udiag_show = UDIAG_SHOW_MEMINFO | UDIAG_SHOW_VFS | UDIAG_SHOW_ICONS };
	} else {
		len = sizeof(req.in);
		req.in.r = (struct inet_diag_req_v2){ .sdiag_family = (uint8_t)family,
			.sdiag_protocol = (uint8_t)proto, .idiag_states = ~0u,
			.idiag_ext = 1 << (INET_DIAG_SKMEMINFO - 1) };
	}
	req.in.nh = (struct nlmsghdr){ .nlmsg_len = (uint32_t)len, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
				       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP };
	return diag_dump(o, &req, len, family, proto, one_ss);
}

void rec_ss_details(struct buf *o)
{
	static struct buf t;
	static const char path[] = "sock_diag:ss";
	static const int fams[] = { AF_INET, AF_INET6 };
	int err = 0;

	t.len = 0;
	for (int i = 0; i < 2 && !err; i++)
		err = dump_ss(&t, fams[i], IPPROTO_TCP);
	for (int i = 0; i < 2 && !err; i++)
		err = dump_ss(&t, fams[i], IPPROTO_UDP);
	if (!err)
		err = dump_ss(&t, AF_UNIX, 0);
	rec_file_record(o, path, &t, err);
}
