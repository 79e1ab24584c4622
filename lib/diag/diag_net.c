// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Network misconfiguration in the initial namespace (the first one the device walk yields):
 * interfaces down with addresses or up without carrier (dev_get_flags(): IFF_UP without
 * IFF_LOWER_UP), no interface but loopback up, IPv4 addresses without a default route, a route
 * whose gateway is outside every IPv4 subnet of its interface, remote-access services listening
 * on loopback only, and /etc/resolv.conf absent, empty or without a nameserver (read from the
 * page cache as nfm_fs_read() does; a symbolic link is not followed and not judged).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nfm/diag.h>
#include <nfm/system.h>

#include "diag/diag_int.h"

#define IFF_UP_ 0x1u
#define IFF_LOOPBACK_ 0x8u
#define IFF_LOWER_UP_ 0x10000u
#define TCP_LISTEN_ 10

/* Services people log in or connect through from outside. */
static const struct { uint16_t port; const char *name; } remote_ports[] = {
	{ 22, "ssh" }, { 23, "telnet" }, { 80, "http" }, { 443, "https" }, { 3389, "rdp" },
	{ 5900, "vnc" },
};

static const char *ip4(uint32_t net_order, char *buf)
{
	return inet_ntop(AF_INET, &net_order, buf, INET_ADDRSTRLEN);
}

static uint32_t mask_of(int prefixlen)
{
	return prefixlen <= 0 ? 0 : prefixlen >= 32 ? 0xffffffffu : ~0u << (32 - prefixlen);
}

static bool has_ipv4(const struct nfm_netdev *dv)
{
	for (int a = 0; a < dv->nr_addrs && a < NFM_NETDEV_MAX_ADDRS; a++)
		if (dv->addrs[a].family == AF_INET)
			return true;
	return false;
}

static void addr_evidence(struct diag *d, struct nfm_diag_finding *f, const struct nfm_netdev *dv)
{
	char buf[INET6_ADDRSTRLEN];

	for (int a = 0; a < dv->nr_addrs && a < NFM_NETDEV_MAX_ADDRS; a++) {
		const struct nfm_ifaddr *x = &dv->addrs[a];

		if (inet_ntop(x->family, x->addr, buf, sizeof(buf)))
			diag_evidence(d, f, "address %s/%d on %s", buf, x->prefixlen, dv->name);
	}
}

/* Interfaces; the namespace judged is *netns. Returns whether any IPv4 address is up. */
static bool interfaces(struct diag *d, const struct nfm_netdev *devs, int n, uint32_t netns)
{
	int up = 0, others = 0;
	bool v4 = false;

	for (int i = 0; i < n; i++) {
		const struct nfm_netdev *dv = &devs[i];
		struct nfm_diag_finding *f;

		if (dv->netns != netns || dv->flags & IFF_LOOPBACK_)
			continue;
		others++;
		if (!(dv->flags & IFF_UP_)) {
			if (!dv->nr_addrs)
				continue;	/* unused and unconfigured: nothing wrong */
			f = diag_add(d, NFM_DIAG_IF_DOWN, NFM_DIAG_WARNING,
				     "interface %s is down but has %d address%s", dv->name,
				     dv->nr_addrs, dv->nr_addrs == 1 ? "" : "es");
			diag_subject(d, f, dv->name);
			diag_evidence(d, f, "%s flags 0x%x: no UP", dv->name, dv->flags);
			addr_evidence(d, f, dv);
			continue;
		}
		if (!(dv->flags & IFF_LOWER_UP_)) {
			f = diag_add(d, NFM_DIAG_NO_CARRIER, NFM_DIAG_WARNING,
				     "interface %s is up without carrier (NO-CARRIER)", dv->name);
			diag_subject(d, f, dv->name);
			diag_evidence(d, f, "%s flags 0x%x: UP without LOWER_UP, operstate %d",
				      dv->name, dv->flags, dv->operstate);
			addr_evidence(d, f, dv);
			continue;
		}
		up++;
		v4 |= has_ipv4(dv);
	}
	if (others && !up) {
		struct nfm_diag_finding *f = diag_add(d, NFM_DIAG_NO_INTERFACE_UP, NFM_DIAG_ERROR,
			"no network interface but loopback is up with carrier (%d down or without)",
			others);

		for (int i = 0; i < n; i++)
			if (devs[i].netns == netns && !(devs[i].flags & IFF_LOOPBACK_))
				diag_evidence(d, f, "%s flags 0x%x", devs[i].name, devs[i].flags);
	}
	return v4;
}

static const struct nfm_netdev *dev_named(const struct nfm_netdev *devs, int n, uint32_t netns,
					  const char *name)
{
	for (int i = 0; i < n; i++)
		if (devs[i].netns == netns && !strcmp(devs[i].name, name))
			return &devs[i];
	return NULL;
}

static void routes(struct diag *d, const struct nfm_netdev *devs, int n, uint32_t netns, bool v4)
{
	struct nfm_route *rt;
	bool trunc = false, deflt = false;
	int nr = nfm_route_list(d->ctx, &rt, &trunc);
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (nr < 0) {
		diag_check(d, "network", nr, "the routing table");
		return;
	}
	if (trunc)
		diag_check(d, "network", -ELOOP, "the routing table (cut short)");
	for (int i = 0; i < nr; i++) {
		const struct nfm_route *r = &rt[i];
		const struct nfm_netdev *dv;
		uint32_t gw = ntohl(r->gateway);
		bool inside = false;
		struct nfm_diag_finding *f;

		if (r->netns != netns)
			continue;
		if (r->prefixlen == 0 && r->type == 1 /* RTN_UNICAST */)
			deflt = true;
		if (!r->gateway || !r->exact || !(dv = dev_named(devs, n, netns, r->ifname)))
			continue;
		for (int k = 0; k < dv->nr_addrs && k < NFM_NETDEV_MAX_ADDRS; k++) {
			const struct nfm_ifaddr *x = &dv->addrs[k];
			uint32_t addr, m = mask_of(x->prefixlen);

			if (x->family != AF_INET)
				continue;
			memcpy(&addr, x->addr, 4);
			if ((ntohl(addr) & m) == (gw & m))
				inside = true;
		}
		if (inside)
			continue;
		f = diag_add(d, NFM_DIAG_GATEWAY_OFF_SUBNET, NFM_DIAG_WARNING,
			     "the gateway %s of route %s/%d is outside every subnet of %s",
			     ip4(r->gateway, a), ip4(r->dst, b), r->prefixlen, r->ifname);
		diag_subject(d, f, r->ifname);
		diag_evidence(d, f, "route %s/%d via %s dev %s (flags 0x%x)", ip4(r->dst, b),
			      r->prefixlen, ip4(r->gateway, a), r->ifname, r->flags);
		if (!has_ipv4(dv))
			diag_evidence(d, f, "%s has no IPv4 address", dv->name);
		else
			addr_evidence(d, f, dv);
	}
	if (v4 && !deflt) {
		struct nfm_diag_finding *f = diag_add(d, NFM_DIAG_NO_DEFAULT_ROUTE, NFM_DIAG_WARNING,
			"no default route: only the networks below are reachable");

		for (int i = 0; i < nr; i++)
			if (rt[i].netns == netns)
				diag_evidence(d, f, "route %s/%d%s%s dev %s", ip4(rt[i].dst, a),
					      rt[i].prefixlen, rt[i].gateway ? " via " : "",
					      rt[i].gateway ? ip4(rt[i].gateway, b) : "", rt[i].ifname);
	}
	free(rt);
}

static bool loopback(const struct nfm_socket *s)
{
	static const uint8_t v6lo[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (s->family == AF_INET)
		return s->laddr[0] == 127;
	return !memcmp(s->laddr, v6lo, 16) || (!memcmp(s->laddr, mapped, 12) && s->laddr[12] == 127);
}

static void listeners(struct diag *d, uint32_t netns)
{
	struct nfm_socket *s;
	bool trunc = false;
	int n = nfm_socket_list(d->ctx, &s, &trunc);

	if (n < 0) {
		diag_check(d, "network", n, "the sockets");
		return;
	}
	for (size_t p = 0; p < sizeof(remote_ports) / sizeof(remote_ports[0]); p++) {
		struct nfm_diag_finding *f;
		int lo = 0, other = 0;

		for (int i = 0; i < n; i++) {
			if (s[i].netns != netns || s[i].protocol != IPPROTO_TCP ||
			    s[i].state != TCP_LISTEN_ || s[i].lport != remote_ports[p].port)
				continue;
			if (loopback(&s[i]))
				lo++;
			else
				other++;
		}
		if (!lo || other)
			continue;
		f = diag_add(d, NFM_DIAG_LOOPBACK_ONLY, NFM_DIAG_WARNING,
			     "%s (TCP port %u) listens on loopback only: unreachable from the network",
			     remote_ports[p].name, remote_ports[p].port);
		diag_subject(d, f, remote_ports[p].name);
		for (int i = 0; i < n; i++) {
			char buf[INET6_ADDRSTRLEN];

			if (s[i].netns != netns || s[i].protocol != IPPROTO_TCP ||
			    s[i].state != TCP_LISTEN_ || s[i].lport != remote_ports[p].port)
				continue;
			inet_ntop(s[i].family, s[i].laddr, buf, sizeof(buf));
			if (s[i].nr_owners)
				diag_evidence(d, f, "LISTEN %s%s%s:%u, process %d %.16s",
					      s[i].family == AF_INET6 ? "[" : "", buf,
					      s[i].family == AF_INET6 ? "]" : "", s[i].lport,
					      s[i].owner_pid[0], s[i].owner_comm[0]);
			else
				diag_evidence(d, f, "LISTEN %s%s%s:%u", s[i].family == AF_INET6 ? "[" : "",
					      buf, s[i].family == AF_INET6 ? "]" : "", s[i].lport);
			if (s[i].nr_owners)
				f->pid = s[i].owner_pid[0];
		}
	}
	free(s);
}

static void resolv_conf(struct diag *d)
{
	static const char path[] = "/etc/resolv.conf";
	struct nfm_fs_read_stat st;
	struct nfm_fs_entry e;
	struct nfm_diag_finding *f;
	void *buf = NULL;
	int err = nfm_fs_stat(d->ctx, path, &e);
	bool ns = false;

	if (err == -ENOENT) {
		f = diag_add(d, NFM_DIAG_RESOLV_CONF, NFM_DIAG_WARNING,
			     "%s is absent: names do not resolve", path);
		diag_subject(d, f, path);
		diag_evidence(d, f, "%s: not in the guest's dentry cache (absent, or not read "
			      "since boot)", path);
		return;
	}
	if (err < 0) {
		diag_check(d, "network", err, "/etc/resolv.conf");
		return;
	}
	if (S_ISLNK(e.mode))
		return;	/* systemd-resolved's stub link and the like: not followed */
	if ((err = nfm_fs_read(d->ctx, path, &buf, &st)) < 0) {
		diag_check(d, "network", err, "/etc/resolv.conf");
		return;
	}
	if (st.pages_missing) {
		free(buf);
		return;	/* not all in the page cache: cannot tell */
	}
	for (const char *p = buf, *end = (const char *)buf + st.size; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *q = p;

		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(end - q) > 11 && !memcmp(q, "nameserver", 10) &&
		    (q[10] == ' ' || q[10] == '\t'))
			ns = true;
		p = nl ? nl + 1 : end;
	}
	free(buf);
	if (ns)
		return;
	f = diag_add(d, NFM_DIAG_RESOLV_CONF, NFM_DIAG_WARNING, "%s %s: names do not resolve", path,
		     st.size ? "names no nameserver" : "is empty");
	diag_subject(d, f, path);
	diag_evidence(d, f, "%s: %llu bytes in the page cache, no \"nameserver\" line", path,
		      (unsigned long long)st.size);
}

void diag_check_network(struct diag *d)
{
	struct nfm_netdev *devs;
	bool trunc = false, v4;
	int n = nfm_netdev_list(d->ctx, &devs, &trunc);
	uint32_t netns;

	diag_check(d, "network", 0, NULL);
	if (n < 0) {
		diag_check(d, "network", n, "the network devices");
		return;
	}
	if (trunc)
		diag_check(d, "network", -ELOOP, "the network devices (cut short)");
	if (n == 0) {
		free(devs);
		return;
	}
	netns = devs[0].netns;
	v4 = interfaces(d, devs, n, netns);
	routes(d, devs, n, netns, v4);
	listeners(d, netns);
	resolv_conf(d);
	free(devs);
}
