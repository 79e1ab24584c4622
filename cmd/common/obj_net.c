// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Interfaces, sockets, routes and neighbours as JSON (doc/schema/interface.json, socket.json,
 * route.json, neighbour.json), with the names iproute2 and ss print for the kernel's numbers.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "objects.h"

#define A(k, v) j_add(o, k, v)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct bitname {
	unsigned int bit;
	const char *name;
};

/* The names of the bits set in v, in the table's order. */
static struct json_object *bit_names(const struct bitname *t, size_t n, unsigned int v)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		if (v & t[i].bit)
			json_object_array_add(a, json_object_new_string(t[i].name));
	return a;
}

struct codename {
	int code;
	const char *name;
};

/* The name of code, or prefix and its decimal form in buf (>= 16 bytes). */
static const char *code_name_or(const struct codename *t, size_t n, int code, char *buf,
				const char *prefix)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	snprintf(buf, 16, "%s%d", prefix, code);
	return buf;
}

#define code_name(t, n, code, buf) code_name_or(t, n, code, buf, "")

/* "aa:bb:cc:dd:ee:ff" */
static struct json_object *hwaddr(const uint8_t *a, int len, int max)
{
	char b[3 * 32 + 1];
	int i, n = 0;

	b[0] = 0;
	if (len > max)
		len = max;
	for (i = 0; i < len; i++)
		n += snprintf(b + n, sizeof(b) - (size_t)n, "%s%02x", i ? ":" : "", a[i]);
	return json_object_new_string(b);
}

static struct json_object *ipaddr(int family, const void *a)
{
	char b[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, a, b, sizeof(b)))
		b[0] = 0;
	return json_object_new_string(b);
}

const char *obj_family_name(int family, char *buf)
{
	static const struct codename t[] = {
		{ AF_UNIX, "unix" }, { AF_INET, "inet" }, { AF_INET6, "inet6" },
		{ AF_NETLINK, "netlink" }, { AF_PACKET, "packet" }, { 40, "vsock" }, { 44, "xdp" },
		{ 38, "alg" }, { 15, "key" },
	};

	return code_name_or(t, NELEM(t), family, buf, "af");
}

const char *obj_sock_type_name(int type, char *buf)
{
	static const struct codename t[] = {
		{ SOCK_STREAM, "stream" }, { SOCK_DGRAM, "dgram" }, { SOCK_RAW, "raw" },
		{ SOCK_RDM, "rdm" }, { SOCK_SEQPACKET, "seqpacket" }, { 6, "dccp" },
		{ 10, "packet" },
	};

	return code_name_or(t, NELEM(t), type, buf, "type");
}

/* __SO_ACCEPTCON: a listening AF_UNIX socket (/proc/net/unix flags). */
#define SO_ACCEPTCON_ (1u << 16)

const char *obj_socket_state_name(const struct nfm_socket *s)
{
	static const char *const tcp[] = {
		"UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
		"TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
		"NEW-SYN-RECV",
	};

	if (s->family == AF_UNIX)	/* SS_CONNECTING 2, SS_CONNECTED 3: sk_state ESTABLISHED */
		return s->unix_flags & SO_ACCEPTCON_ ? "LISTEN" :
		       s->state == 2 || s->state == 3 ? "ESTAB" : "UNCONN";
	return s->state >= 0 && (size_t)s->state < NELEM(tcp) ? tcp[s->state] : "UNKNOWN";
}

const char *obj_socket_netid(const struct nfm_socket *s)
{
	if (s->family == AF_UNIX)
		return s->type == SOCK_STREAM ? "u_str" : s->type == SOCK_DGRAM ? "u_dgr" :
		       s->type == SOCK_SEQPACKET ? "u_seq" : "u_???";
	if (s->protocol == IPPROTO_TCP)
		return s->family == AF_INET6 ? "tcp6" : "tcp";
	return s->family == AF_INET6 ? "udp6" : "udp";
}

static const struct codename scopes[] = {
	{ 0, "global" }, { 200, "site" }, { 253, "link" }, { 254, "host" }, { 255, "nowhere" },
};

static const struct codename link_types[] = {
	{ 1, "ether" }, { 32, "infiniband" }, { 280, "can" }, { 512, "ppp" }, { 768, "ipip" },
	{ 769, "tunnel6" }, { 772, "loopback" }, { 776, "sit" }, { 778, "gre" },
	{ 823, "gre6" }, { 65534, "none" },
};

static const char *link_type(unsigned int t)
{
	char b[16];
	const char *n = code_name_or(link_types, NELEM(link_types), (int)t, b, "");

	return n == b ? "unknown" : n;
}

/* Matches doc/schema/interface.json#/$defs/address. */
struct json_object *obj_ifaddr(const struct nfm_ifaddr *a)
{
	/* IFA_F_*, as ip addr names them (0x01 is "temporary" for IPv6). */
	static const struct bitname f4[] = {
		{ 0x01, "secondary" }, { 0x02, "nodad" }, { 0x04, "optimistic" },
		{ 0x08, "dadfailed" }, { 0x10, "home" }, { 0x20, "deprecated" },
		{ 0x40, "tentative" }, { 0x80, "permanent" }, { 0x100, "mngtmpaddr" },
		{ 0x200, "noprefixroute" }, { 0x400, "autojoin" }, { 0x800, "stable-privacy" },
	};
	struct json_object *o = json_object_new_object(), *fl;
	char b[16];

	A("family", json_object_new_string(a->family == AF_INET6 ? "inet6" : "inet"));
	A("local", ipaddr(a->family, a->addr));
	A("prefixlen", j_int(a->prefixlen));
	if (a->family == AF_INET) {
		A("broadcast", ipaddr(AF_INET, a->broadcast));
		A("label", j_strn(a->label, sizeof(a->label)));
	}
	A("scope", json_object_new_string(code_name(scopes, NELEM(scopes), a->scope, b)));
	A("scope_code", j_int(a->scope));
	fl = bit_names(f4, NELEM(f4), a->flags);
	if (a->family == AF_INET6 && (a->flags & 1))
		json_object_array_put_idx(fl, 0, json_object_new_string("temporary"));
	A("flags", fl);
	A("flags_code", j_int(a->flags));
	return o;
}

/* Matches doc/schema/interface.json. */
struct json_object *obj_interface(const struct nfm_netdev *d, bool with_addrs)
{
	/* IFF_*, in the order ip link prints them. */
	static const struct bitname iff[] = {
		{ 0x8, "LOOPBACK" }, { 0x2, "BROADCAST" }, { 0x10, "POINTOPOINT" },
		{ 0x1000, "MULTICAST" }, { 0x80, "NOARP" }, { 0x200, "ALLMULTI" },
		{ 0x100, "PROMISC" }, { 0x400, "MASTER" }, { 0x800, "SLAVE" }, { 0x4, "DEBUG" },
		{ 0x8000, "DYNAMIC" }, { 0x4000, "AUTOMEDIA" }, { 0x2000, "PORTSEL" },
		{ 0x20, "NOTRAILERS" }, { 0x1, "UP" }, { 0x10000, "LOWER_UP" },
		{ 0x20000, "DORMANT" }, { 0x40000, "ECHO" },
	};
	static const char *const oper[] = { "UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN",
					    "TESTING", "DORMANT", "UP" };
	struct json_object *o = json_object_new_object(), *st = json_object_new_object(), *ai;
	int i;

	A("netns", j_int(d->netns));
	A("ifindex", j_int(d->ifindex));
	A("ifname", j_strn(d->name, sizeof(d->name)));
	A("flags", bit_names(iff, NELEM(iff), d->flags));
	A("flags_code", j_int(d->flags));
	A("mtu_bytes", j_int(d->mtu));
	A("qdisc", j_strn(d->qdisc, sizeof(d->qdisc)));
	A("operstate", json_object_new_string(d->operstate >= 0 && (size_t)d->operstate <
					      NELEM(oper) ? oper[d->operstate] : "UNKNOWN"));
	A("operstate_code", j_int(d->operstate));
	A("txqlen", j_int(d->txqlen));
	A("link_type", json_object_new_string(link_type(d->type)));
	A("link_type_code", j_int(d->type));
	A("address", hwaddr(d->addr, d->addr_len, (int)sizeof(d->addr)));
	A("broadcast", hwaddr(d->broadcast, d->addr_len, (int)sizeof(d->broadcast)));
#define S(k) j_add(st, #k, j_u64(d->stats.k))
	S(rx_bytes); S(rx_packets); S(rx_errors); S(rx_dropped); S(rx_fifo); S(rx_frame);
	S(rx_compressed); S(multicast); S(tx_bytes); S(tx_packets); S(tx_errors); S(tx_dropped);
	S(tx_fifo); S(collisions); S(tx_carrier); S(tx_compressed);
#undef S
	A("stats", st);
	A("stats_exact", j_bool(d->stats_exact));
	A("dev", j_addr(d->dev));
	if (with_addrs) {
		ai = json_object_new_array();
		for (i = 0; i < d->nr_addrs && i < NFM_NETDEV_MAX_ADDRS; i++)
			json_object_array_add(ai, obj_ifaddr(&d->addrs[i]));
		A("addr_info", ai);
	}
	return o;
}

/* Matches doc/schema/socket.json. */
struct json_object *obj_socket(const struct nfm_socket *s)
{
	static const struct codename protos[] = {
		{ 1, "icmp" }, { 6, "tcp" }, { 17, "udp" }, { 58, "icmpv6" }, { 132, "sctp" },
		{ 136, "udplite" }, { 255, "raw" }, { 262, "mptcp" },
	};
	struct json_object *o = json_object_new_object(), *ow = json_object_new_array();
	const char *proto;
	char b[16];
	int k;

	A("netid", json_object_new_string(obj_socket_netid(s)));
	A("netns", j_int(s->netns));
	A("family", json_object_new_string(obj_family_name(s->family, b)));
	A("family_code", j_int(s->family));
	A("type", json_object_new_string(obj_sock_type_name(s->type, b)));
	A("type_code", j_int(s->type));
	proto = code_name(protos, NELEM(protos), s->protocol, b);
	if (proto != b)		/* no name: 0 for AF_UNIX */
		A("protocol", json_object_new_string(proto));
	A("protocol_code", j_int(s->protocol));
	A("state", json_object_new_string(obj_socket_state_name(s)));
	A("state_code", j_int(s->state));
	if (s->family == AF_INET || s->family == AF_INET6) {
		A("local", ipaddr(s->family, s->laddr));
		A("local_port", j_int(s->lport));
		A("remote", ipaddr(s->family, s->raddr));
		A("remote_port", j_int(s->rport));
	} else if (s->family == AF_UNIX) {
		if (s->path_len > 0)
			j_add_bytes(o, "path", s->path,
				    (size_t)s->path_len < sizeof(s->path) ? (size_t)s->path_len :
				    strnlen(s->path, sizeof(s->path)));
		A("unix_flags", j_int(s->unix_flags));
	}
	A("uid", j_int(s->uid));
	A("inode", j_u64(s->inode));
	A("rx_queue", j_int(s->rx_queue));
	A("tx_queue", j_int(s->tx_queue));
	for (k = 0; k < s->nr_owners && k < NFM_SOCK_MAX_OWNERS; k++) {
		struct json_object *x = json_object_new_object();

		j_add(x, "pid", j_int(s->owner_pid[k]));
		j_add_bytes(x, "comm", s->owner_comm[k], strnlen(s->owner_comm[k],
								 sizeof(s->owner_comm[k])));
		json_object_array_add(ow, x);
	}
	A("owners", ow);
	A("nr_owners", j_int(s->nr_owners));
	A("sk", j_addr(s->sk));
	return o;
}

/* Matches doc/schema/route.json. */
struct json_object *obj_route(const struct nfm_route *r)
{
	static const struct codename types[] = {
		{ 0, "unspec" }, { 1, "unicast" }, { 2, "local" }, { 3, "broadcast" },
		{ 4, "anycast" }, { 5, "multicast" }, { 6, "blackhole" }, { 7, "unreachable" },
		{ 8, "prohibit" }, { 9, "throw" }, { 10, "nat" }, { 11, "xresolve" },
	};
	static const struct codename protos[] = {
		{ 0, "unspec" }, { 1, "redirect" }, { 2, "kernel" }, { 3, "boot" }, { 4, "static" },
		{ 8, "gated" }, { 9, "ra" }, { 10, "mrt" }, { 11, "zebra" }, { 12, "bird" },
		{ 13, "dnrouted" }, { 14, "xorp" }, { 15, "ntk" }, { 16, "dhcp" },
		{ 17, "mrouted" }, { 18, "keepalived" }, { 42, "babel" }, { 99, "openr" },
		{ 186, "bgp" }, { 187, "isis" }, { 188, "ospf" }, { 189, "rip" }, { 192, "eigrp" },
	};
	struct json_object *o = json_object_new_object();
	char b[16], fl[8];

	/* route -n's Flags column (net-tools' order). */
	snprintf(fl, sizeof(fl), "%s%s%s%s", r->flags & 1 ? "U" : "", r->flags & 2 ? "G" : "",
		 r->flags & 0x200 ? "!" : "", r->flags & 4 ? "H" : "");
	A("netns", j_int(r->netns));
	A("dev", j_strn(r->ifname, sizeof(r->ifname)));
	A("dst", ipaddr(AF_INET, &r->dst));
	A("prefixlen", j_int(r->prefixlen));
	A("gateway", ipaddr(AF_INET, &r->gateway));
	A("mask", ipaddr(AF_INET, &r->mask));
	A("flags", json_object_new_string(fl));
	A("flags_code", j_int(r->flags));
	A("metric", j_int(r->metric));
	A("mtu_bytes", j_int(r->mtu));
	A("window_bytes", j_int(r->window));
	A("irtt_ms", j_int(r->irtt));
	A("scope", json_object_new_string(code_name(scopes, NELEM(scopes), r->scope, b)));
	A("scope_code", j_int(r->scope));
	A("type", json_object_new_string(code_name(types, NELEM(types), r->type, b)));
	A("type_code", j_int(r->type));
	A("protocol", json_object_new_string(code_name(protos, NELEM(protos), r->protocol, b)));
	A("protocol_code", j_int(r->protocol));
	A("table", j_int(r->table));
	A("exact", j_bool(r->exact));
	return o;
}

/* Matches doc/schema/neighbour.json. */
struct json_object *obj_neighbour(const struct nfm_neigh *n)
{
	static const struct bitname nud[] = {
		{ 0x01, "INCOMPLETE" }, { 0x02, "REACHABLE" }, { 0x04, "STALE" }, { 0x08, "DELAY" },
		{ 0x10, "PROBE" }, { 0x20, "FAILED" }, { 0x40, "NOARP" }, { 0x80, "PERMANENT" },
	};
	struct json_object *o = json_object_new_object();

	A("netns", j_int(n->netns));
	A("family", json_object_new_string(n->family == AF_INET6 ? "inet6" : "inet"));
	A("dst", ipaddr(n->family == AF_INET6 ? AF_INET6 : AF_INET, n->addr));
	A("dev", j_strn(n->ifname, sizeof(n->ifname)));
	A("lladdr", hwaddr(n->lladdr, n->lladdr_len, (int)sizeof(n->lladdr)));
	A("state", bit_names(nud, NELEM(nud), n->state));
	A("state_code", j_int(n->state));
	A("flags_code", j_int(n->flags));
	A("link_type", json_object_new_string(link_type(n->type)));
	A("link_type_code", j_int(n->type));
	return o;
}

/* Matches doc/schema/tcp_info.json. */
struct json_object *obj_tcp_info(const struct nfm_tcp_info *t)
{
	static const char *const opts[] = { "ts", "sack", "wscale", "ecn", "ecnseen", "syn_data",
					    "usec_ts", "tfo_child" };
	struct json_object *o = json_object_new_object(), *on;
	unsigned int i;

	if (t->congestion[0])
		j_add_bytes(o, "congestion", t->congestion, strnlen(t->congestion,
								    sizeof(t->congestion)));
	A("pacing_rate_bytes_per_second", t->pacing_rate == UINT64_MAX ? NULL : j_u64(t->pacing_rate));
	A("max_pacing_rate_bytes_per_second",
	  t->max_pacing_rate == UINT64_MAX ? NULL : j_u64(t->max_pacing_rate));
	A("reordering", j_u64(t->reordering));
	A("snd_cwnd", j_u64(t->snd_cwnd));
	if (t->listener) {
		A("accept_queue", j_u64(t->unacked));
		A("accept_queue_max", j_u64(t->sacked));
		return o;
	}
	A("ca_state", j_int(t->ca_state));
	A("retransmits", j_int(t->retransmits));
	A("probes", j_int(t->probes));
	A("backoff", j_int(t->backoff));
	on = json_object_new_array();
	for (i = 0; i < NELEM(opts); i++)
		if (t->options & (1u << i))
			json_object_array_add(on, json_object_new_string(opts[i]));
	A("options", on);
	A("options_code", j_int(t->options));
	if (t->options & NFM_TCPI_OPT_WSCALE) {
		A("snd_wscale", j_int(t->snd_wscale));
		A("rcv_wscale", j_int(t->rcv_wscale));
	}
#define U(k, f) A(k, j_u64(t->f))
	U("rto_us", rto_us); U("ato_us", ato_us); U("snd_mss_bytes", snd_mss);
	U("rcv_mss_bytes", rcv_mss); U("advmss_bytes", advmss); U("pmtu_bytes", pmtu);
	U("unacked", unacked); U("sacked", sacked); U("lost", lost); U("retrans", retrans);
	U("total_retrans", total_retrans);
	U("last_data_sent_ms", last_data_sent_ms); U("last_data_recv_ms", last_data_recv_ms);
	U("last_ack_recv_ms", last_ack_recv_ms);
	U("rcv_ssthresh_bytes", rcv_ssthresh); U("rtt_us", rtt_us); U("rttvar_us", rttvar_us);
	U("snd_ssthresh", snd_ssthresh); U("rcv_rtt_us", rcv_rtt_us);
	U("rcv_space_bytes", rcv_space); U("bytes_acked", bytes_acked);
	U("bytes_received", bytes_received); U("bytes_sent", bytes_sent);
	U("bytes_retrans", bytes_retrans); U("notsent_bytes", notsent_bytes);
	U("segs_out", segs_out); U("segs_in", segs_in); U("data_segs_out", data_segs_out);
	U("data_segs_in", data_segs_in); U("min_rtt_us", min_rtt_us);
	U("delivery_rate_bytes_per_second", delivery_rate);
	A("delivery_rate_app_limited", json_object_new_boolean(t->delivery_rate_app_limited));
	U("delivered", delivered); U("delivered_ce", delivered_ce); U("dsack_dups", dsack_dups);
	U("reord_seen", reord_seen); U("rcv_ooopack", rcv_ooopack); U("snd_wnd_bytes", snd_wnd);
#undef U
	return o;
}
