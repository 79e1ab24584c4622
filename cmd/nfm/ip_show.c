// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iproute2's forms of ip route, ip neigh and ip -br, and its JSON shape (ip -J): what iproute2
 * 6.1's print_route(), print_neigh() and print_linkinfo_brief() print for the same kernel data.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if_arp.h>

#ifndef ARPHRD_IP6GRE
#define ARPHRD_IP6GRE 823	/* linux/if_arp.h; not in glibc's net/if_arp.h */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/system.h>

#include "cli.h"
#include "ip_show.h"
#include "jout.h"

#define RT_TABLE_MAIN 254
#define RTPROT_BOOT 3
#define NUD_NOARP 0x40
#define NUD_VALID 0xde	/* neigh_fill_info() gives the lladdr only in these states */
#define NTF_PROXY 0x08
#define NTF_ROUTER 0x80

/* IFF_* names in iproute2's order (print_link_flags()) */
static const struct { unsigned int bit; const char *name; } iff[] = {
	{ 0x8, "LOOPBACK" }, { 0x2, "BROADCAST" }, { 0x10, "POINTOPOINT" }, { 0x1000, "MULTICAST" },
	{ 0x80, "NOARP" }, { 0x200, "ALLMULTI" }, { 0x100, "PROMISC" }, { 0x400, "MASTER" },
	{ 0x800, "SLAVE" }, { 0x4, "DEBUG" }, { 0x8000, "DYNAMIC" }, { 0x4000, "AUTOMEDIA" },
	{ 0x2000, "PORTSEL" }, { 0x20, "NOTRAILERS" }, { 0x1, "UP" }, { 0x10000, "LOWER_UP" },
	{ 0x20000, "DORMANT" }, { 0x40000, "ECHO" },
};
const char *ip_link_type(unsigned int t)
{
	return t == 772 ? "loopback" : t == 1 ? "ether" : t == 65534 ? "none" : t == 768 ? "ipip" :
	       t == 776 ? "sit" : t == 778 ? "gre" : t == 769 ? "tunnel6" : t == 823 ? "gre6" :
	       "unknown";
}

void ip_flags_print(unsigned int flags)
{
	size_t i;
	int n = 0;

	printf("<");
	for (i = 0; i < sizeof(iff) / sizeof(iff[0]); i++)
		if (flags & iff[i].bit)
			printf("%s%s", n++ ? "," : "", iff[i].name);
	printf(">");
}

struct json_object *ip_flags_json(unsigned int flags)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < sizeof(iff) / sizeof(iff[0]); i++)
		if (flags & iff[i].bit)
			json_object_array_add(a, json_object_new_string(iff[i].name));
	return a;
}

const char *ip_scope_name(int s, char *buf)
{
	switch (s) {
	case 0: return "global";
	case 200: return "site";
	case 253: return "link";
	case 254: return "host";
	case 255: return "nowhere";
	}
	sprintf(buf, "%d", s);
	return buf;
}

/* rtnl_rtprot_tab of iproute2 6.1 (lib/rt_names.c) */
static const char *proto_name(int p, char *buf)
{
	static const struct { int id; const char *name; } tab[] = {
		{ 0, "unspec" }, { 1, "redirect" }, { 2, "kernel" }, { 3, "boot" }, { 4, "static" },
		{ 8, "gated" }, { 9, "ra" }, { 10, "mrt" }, { 11, "zebra" }, { 12, "bird" },
		{ 13, "dnrouted" }, { 14, "xorp" }, { 15, "ntk" }, { 16, "dhcp" },
		{ 17, "keepalived" }, { 42, "babel" }, { 99, "openr" }, { 186, "bgp" },
		{ 187, "isis" }, { 188, "ospf" }, { 189, "rip" }, { 192, "eigrp" },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].id == p)
			return tab[i].name;
	sprintf(buf, "%d", p);
	return buf;
}

/* rtnl_rtntype_n2a(); NULL for unicast, which iproute2 does not print */
static const char *rtn_name(int t, char *buf)
{
	static const char *const n[] = { "none", NULL, "local", "broadcast", "anycast", "multicast",
					  "blackhole", "unreachable", "prohibit", "throw", "nat",
					  "xresolve" };

	if (t >= 0 && t < (int)(sizeof(n) / sizeof(n[0])))
		return n[t];
	sprintf(buf, "%d", t);
	return buf;
}

static void netns_header(uint32_t ns, uint32_t *last, bool *first)
{
	if (!*first && ns != *last)
		printf("netns %" PRIu32 ":\n", ns);
	*first = false;
	*last = ns;
}

int ip_route_show(struct cli *cli, int family, bool json)
{
	struct json_object *arr = json ? json_object_new_array() : NULL;
	struct nfm_route *rs;
	bool trunc = false, first = true, inexact = false;
	uint32_t last = 0;
	char dst[24], gw[16], b1[16], b2[16];
	int n, i;

	if (family == AF_INET6)
		return cli_fail("ip -6 route: nfm reads the IPv4 routing table only");
	n = route_load(cli, &rs, &trunc);
	if (n < 0)
		return 1;
	for (i = 0; i < n; i++) {
		const struct nfm_route *r = &rs[i];
		const char *type = rtn_name(r->type, b1);
		char scope[16];
		bool dev = strcmp(r->ifname, "*") != 0;

		if (r->table != RT_TABLE_MAIN)
			continue;
		inexact |= !r->exact;
		if (!r->prefixlen)
			strcpy(dst, "default");
		else
			snprintf(dst, sizeof(dst), r->prefixlen == 32 ? "%s" : "%s/%d",
				 inet_ntop(AF_INET, &r->dst, gw, sizeof(gw)), r->prefixlen);
		inet_ntop(AF_INET, &r->gateway, gw, sizeof(gw));
		if (json) {
			struct json_object *o = json_object_new_object();

			if (type)
				j_add(o, "type", j_str(type));
			j_add(o, "dst", j_str(dst));
			if (r->gateway)
				j_add(o, "gateway", j_str(gw));
			if (dev)
				j_add(o, "dev", j_strn(r->ifname, sizeof(r->ifname)));
			if (r->protocol != RTPROT_BOOT)
				j_add(o, "protocol", j_str(proto_name(r->protocol, b2)));
			if (r->scope)
				j_add(o, "scope", j_str(ip_scope_name(r->scope, scope)));
			if (r->metric)
				j_add(o, "metric", j_int(r->metric));
			j_add(o, "flags", json_object_new_array());
			json_object_array_add(arr, o);
			continue;
		}
		netns_header(r->netns, &last, &first);
		/* each field with its trailing space, as iproute2 prints them */
		if (type)
			printf("%s ", type);
		printf("%s ", dst);
		if (r->gateway)
			printf("via %s ", gw);
		if (dev)
			printf("dev %s ", cli_esc(r->ifname));
		if (r->protocol != RTPROT_BOOT)
			printf("proto %s ", proto_name(r->protocol, b2));
		if (r->scope)
			printf("scope %s ", ip_scope_name(r->scope, scope));
		if (r->metric)
			printf("metric %d ", r->metric);
		printf("\n");
	}
	free(rs);
	if (inexact)
		cli_warn("a route uses a nexthop object: its device and gateway are not shown");
	if (json && cli_print_json(cli, arr))
		return 1;
	return trunc || inexact ? EXIT_PARTIAL : 0;
}

static void lladdr(const struct nfm_neigh *e, char *buf)
{
	int i, k = 0;

	buf[0] = 0;
	for (i = 0; i < e->lladdr_len && i < (int)sizeof(e->lladdr); i++)
		k += sprintf(buf + k, "%s%02x", i ? ":" : "", e->lladdr[i]);
}

int ip_neigh_show(struct cli *cli, int family, bool json)
{
	static const struct { unsigned int bit; const char *name; } nud[] = {
		{ 0x01, "INCOMPLETE" }, { 0x02, "REACHABLE" }, { 0x04, "STALE" }, { 0x08, "DELAY" },
		{ 0x10, "PROBE" }, { 0x20, "FAILED" }, { 0x40, "NOARP" }, { 0x80, "PERMANENT" },
	};
	struct json_object *arr = json ? json_object_new_array() : NULL;
	struct nfm_neigh *ns;
	bool trunc = false, first = true;
	uint32_t last = 0;
	char ip[INET6_ADDRSTRLEN], hw[100];
	int n, i;
	size_t k;

	n = neigh_load(cli, &ns, &trunc);
	if (n < 0)
		return 1;
	/* iproute2 dumps AF_INET's table before AF_INET6's */
	for (int pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			const struct nfm_neigh *e = &ns[i];
			struct json_object *o, *st;

			if (e->family != (pass ? AF_INET6 : AF_INET) || (family && e->family != family))
				continue;
			/* ip neigh's default filter: not NONE, not NOARP alone (proxies aside) */
			if (!(e->state & 0xff & ~NUD_NOARP) && !(e->flags & NTF_PROXY))
				continue;
			inet_ntop(e->family, e->addr, ip, sizeof(ip));
			lladdr(e, hw);
			if (json) {
				o = json_object_new_object();
				st = json_object_new_array();
				j_add(o, "dst", j_str(ip));
				j_add(o, "dev", j_strn(e->ifname, sizeof(e->ifname)));
				if (e->state & NUD_VALID)
					j_add(o, "lladdr", j_str(hw));
				if (e->flags & NTF_ROUTER)
					j_add(o, "router", NULL);
				if (e->flags & NTF_PROXY)
					j_add(o, "proxy", NULL);
				for (k = 0; k < sizeof(nud) / sizeof(nud[0]); k++)
					if (e->state & nud[k].bit)
						json_object_array_add(st, j_str(nud[k].name));
				j_add(o, "state", st);
				json_object_array_add(arr, o);
				continue;
			}
			netns_header(e->netns, &last, &first);
			printf("%s dev %s ", ip, cli_esc(e->ifname));
			if (e->state & NUD_VALID)
				printf("lladdr %s ", hw);
			if (e->flags & NTF_ROUTER)
				printf("router ");
			if (e->flags & NTF_PROXY)
				printf("proxy ");
			for (k = 0; k < sizeof(nud) / sizeof(nud[0]); k++)
				if (e->state & nud[k].bit)
					printf("%s ", nud[k].name);
			printf("\n");
		}
	free(ns);
	if (json && cli_print_json(cli, arr))
		return 1;
	return trunc ? EXIT_PARTIAL : 0;
}

static bool addr_wanted(const struct nfm_ifaddr *a, int family)
{
	return !family || a->family == family;
}

bool ip_dev_wanted(const struct nfm_netdev *d, int family)
{
	int k;

	if (!family)
		return true;
	for (k = 0; k < d->nr_addrs && k < NFM_NETDEV_MAX_ADDRS; k++)
		if (d->addrs[k].family == family)
			return true;
	return false;
}

void ip_hw(unsigned int type, const uint8_t *a, int len, char *buf)
{
	int i, n = 0;

	buf[0] = 0;
	/* iproute2's ll_addr_n2a(): an IPv4 or IPv6 tunnel's link address is an IP address */
	if (len == 4 && (type == ARPHRD_TUNNEL || type == ARPHRD_SIT || type == ARPHRD_IPGRE)) {
		inet_ntop(AF_INET, a, buf, INET6_ADDRSTRLEN);
		return;
	}
	if (len == 16 && (type == ARPHRD_TUNNEL6 || type == ARPHRD_IP6GRE)) {
		inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
		return;
	}
	for (i = 0; i < len && i < 32; i++)
		n += sprintf(buf + n, "%s%02x", i ? ":" : "", a[i]);
}

void ip_brief(const struct nfm_netdev *d, bool addrs, int family, const char *state)
{
	char b[INET6_ADDRSTRLEN], hw[IP_HW_MAX];
	int k;

	printf("%-16s %-14s ", cli_esc(d->name), state);
	if (!addrs) {
		ip_hw(d->type, d->addr, d->addr_len, hw);
		printf("%s ", hw);
		ip_flags_print(d->flags);
		printf(" \n");
		return;
	}
	/* iproute2 dumps the IPv4 addresses before the IPv6 ones */
	for (int pass = 0; pass < 2; pass++)
		for (k = 0; k < d->nr_addrs && k < NFM_NETDEV_MAX_ADDRS; k++) {
			const struct nfm_ifaddr *a = &d->addrs[k];

			if (a->family != (pass ? AF_INET6 : AF_INET) || !addr_wanted(a, family) ||
			    !inet_ntop(a->family, a->addr, b, sizeof(b)))
				continue;
			printf("%s/%d ", b, a->prefixlen);
		}
	printf("\n");
}

struct json_object *ip_json_dev(const struct nfm_netdev *d, bool addrs, int family,
				const char *state, struct json_object *flags)
{
	struct json_object *o = json_object_new_object(), *ai;
	char b[INET6_ADDRSTRLEN], sb[16], hw[IP_HW_MAX];
	int k;

	j_add(o, "ifindex", j_int(d->ifindex));
	j_add(o, "ifname", j_strn(d->name, sizeof(d->name)));
	j_add(o, "flags", flags);
	j_add(o, "mtu", j_int(d->mtu));
	j_add(o, "qdisc", d->qdisc[0] ? j_strn(d->qdisc, sizeof(d->qdisc)) : j_str("noop"));
	j_add(o, "operstate", j_str(state));
	j_add(o, "txqlen", j_int(d->txqlen));
	j_add(o, "link_type", j_str(ip_link_type(d->type)));
	ip_hw(d->type, d->addr, d->addr_len, hw);
	j_add(o, "address", j_str(hw));
	ip_hw(d->type, d->broadcast, d->addr_len, hw);
	j_add(o, "broadcast", j_str(hw));
	if (!addrs)
		return o;
	ai = json_object_new_array();
	for (int pass = 0; pass < 2; pass++)
		for (k = 0; k < d->nr_addrs && k < NFM_NETDEV_MAX_ADDRS; k++) {
			const struct nfm_ifaddr *a = &d->addrs[k];
			struct json_object *x;

			if (a->family != (pass ? AF_INET6 : AF_INET) || !addr_wanted(a, family) ||
			    !inet_ntop(a->family, a->addr, b, sizeof(b)))
				continue;
			x = json_object_new_object();
			j_add(x, "family", j_str(a->family == AF_INET ? "inet" : "inet6"));
			j_add(x, "local", j_str(b));
			j_add(x, "prefixlen", j_int(a->prefixlen));
			if (a->family == AF_INET && (a->broadcast[0] | a->broadcast[1] |
						     a->broadcast[2] | a->broadcast[3])) {
				inet_ntop(AF_INET, a->broadcast, b, sizeof(b));
				j_add(x, "broadcast", j_str(b));
			}
			j_add(x, "scope", j_str(ip_scope_name(a->scope, sb)));
			if (!(a->flags & IP_IFA_F_PERMANENT))
				j_add(x, "dynamic", j_bool(true));
			if (a->family == AF_INET)
				j_add(x, "label", j_strn(a->label, sizeof(a->label)));
			/* a permanent address never expires (INFINITY_LIFE_TIME); the lifetimes of
			 * others are not read */
			if (a->flags & IP_IFA_F_PERMANENT) {
				j_add(x, "valid_life_time", j_u64(0xffffffffu));
				j_add(x, "preferred_life_time", j_u64(0xffffffffu));
			}
			json_object_array_add(ai, x);
		}
	j_add(o, "addr_info", ai);
	return o;
}
