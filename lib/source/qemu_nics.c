// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A QEMU command line's NICs and what joins each to other VMs' NICs: -netdev TYPE,id=ID,... with
 * the -device ...,netdev=ID,mac=... that uses it, and -nic TYPE,... (both at once). The link is a
 * key two NICs of this host share exactly when QEMU joins them: the two unix paths of a dgram
 * pair (each end names both), a socket's TCP port (listen on one, connect on the other), a
 * multicast group, a bridge. Pure: the host (taps' bridges, passed fds) is asked in
 * vmnics.c. QEMU gives a NIC without mac= the first free 52:54:00:12:34:XX from 0x56 on, in
 * creation order (qemu_macaddr_default_if_unset()); the order here is the command line's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/qemu_nics.h"
#include "source/qemu_opts.h"

struct netdev_opt {
	char id[64];
	char type[16];
	char link[320];
	bool known;
};

struct nic_dev {
	char netdev[64];	/* -device's netdev=, or "" for -nic (then nd holds its netdev) */
	char mac[18];
	struct netdev_opt nd;
};

struct nfm_qemu_nic_state {
	struct netdev_opt netdevs[NFM_QEMU_MAX_NICS];
	size_t nr_netdevs;
	struct nic_dev devs[NFM_QEMU_MAX_NICS];
	size_t nr_devs;
};

static bool get(const char *v, const char *key, char *out, size_t size)
{
	return nfm_qemu_obj_get(v, key, NULL, out, size);
}

/* "a|b" with the lesser first: both ends of a pair name the same two things. */
static void pair(char *out, size_t size, const char *kind, const char *a, const char *b)
{
	bool swap = strcmp(a, b) > 0;

	snprintf(out, size, "%s:%s|%s", kind, swap ? b : a, swap ? a : b);
}

/* The port of "[HOST]:PORT" (QEMU's socket syntax), or "" */
static const char *port_of(const char *hostport)
{
	const char *c = strrchr(hostport, ':');

	return c ? c + 1 : "";
}

static void netdev_link(const char *v, struct netdev_opt *nd)
{
	char a[150], b[150], t[32];	/* unix paths: 108 bytes at most */
	const char *type = nd->type;

	nd->known = true;
	nd->link[0] = 0;
	if (!strcmp(type, "user")) {
		return;				/* slirp: private to this VM */
	} else if (!strcmp(type, "bridge")) {
		snprintf(nd->link, sizeof(nd->link), "bridge:%s", get(v, "br", a, sizeof(a)) ? a : "br0");
	} else if (!strcmp(type, "tap")) {
		if (get(v, "br", a, sizeof(a)))		/* through qemu-bridge-helper */
			snprintf(nd->link, sizeof(nd->link), "bridge:%s", a);
		else if (get(v, "ifname", a, sizeof(a)))
			snprintf(nd->link, sizeof(nd->link), "tap:%s", a);
		else if (get(v, "fd", a, sizeof(a)) || get(v, "fds", a, sizeof(a)))
			snprintf(nd->link, sizeof(nd->link), "tapfd:%.*s", (int)strcspn(a, ":"), a);
		else
			nd->known = false;	/* a tap QEMU named itself */
	} else if (!strcmp(type, "socket")) {
		if (get(v, "listen", a, sizeof(a)) || get(v, "connect", a, sizeof(a)))
			snprintf(nd->link, sizeof(nd->link), "tcp:%s", port_of(a));
		else if (get(v, "mcast", a, sizeof(a)))
			snprintf(nd->link, sizeof(nd->link), "mcast:%s", a);
		else if (get(v, "udp", a, sizeof(a)) && get(v, "localaddr", b, sizeof(b)))
			pair(nd->link, sizeof(nd->link), "udp", port_of(a), port_of(b));
		else
			nd->known = false;
	} else if (!strcmp(type, "dgram")) {
		if (get(v, "local.path", a, sizeof(a)) && get(v, "remote.path", b, sizeof(b)))
			pair(nd->link, sizeof(nd->link), "unix", a, b);
		else if (get(v, "remote.type", t, sizeof(t)) && !strcmp(t, "inet") &&
			 get(v, "remote.port", b, sizeof(b)) && get(v, "local.port", a, sizeof(a)))
			pair(nd->link, sizeof(nd->link), "udp", a, b);
		else if (get(v, "remote.port", b, sizeof(b)) && get(v, "remote.host", a, sizeof(a)))
			snprintf(nd->link, sizeof(nd->link), "mcast:%s:%s", a, b);
		else
			nd->known = false;
	} else if (!strcmp(type, "stream")) {
		if (get(v, "addr.path", a, sizeof(a)))
			snprintf(nd->link, sizeof(nd->link), "unix:%s", a);
		else if (get(v, "addr.port", a, sizeof(a)))
			snprintf(nd->link, sizeof(nd->link), "tcp:%s", a);
		else
			nd->known = false;
	} else if (!strcmp(type, "vde")) {
		snprintf(nd->link, sizeof(nd->link), "vde:%s", get(v, "sock", a, sizeof(a)) ? a : "");
	} else {
		nd->known = false;		/* vhost-user, l2tpv3, hubport, ...: not followed */
	}
}

static void lower_mac(char *mac)
{
	for (; *mac; mac++)
		if (*mac >= 'A' && *mac <= 'F')
			*mac = (char)(*mac - 'A' + 'a');
}

int nfm_qemu_nic_opt(struct nfm_qemu_nic_state **stp, const char *opt, const char *v)
{
	struct nfm_qemu_nic_state *st = *stp;
	char netdev[64], mac[32];

	if (!st && !(st = *stp = calloc(1, sizeof(*st))))
		return -ENOMEM;
	if (!strcmp(opt, "netdev")) {
		struct netdev_opt *nd;

		if (st->nr_netdevs >= NFM_QEMU_MAX_NICS)
			return 0;
		nd = &st->netdevs[st->nr_netdevs];
		memset(nd, 0, sizeof(*nd));
		if (!nfm_qemu_obj_get(v, "type", "type", nd->type, sizeof(nd->type)) ||
		    !get(v, "id", nd->id, sizeof(nd->id)))
			return 0;
		netdev_link(v, nd);
		st->nr_netdevs++;
		return 0;
	}
	if (st->nr_devs >= NFM_QEMU_MAX_NICS)
		return 0;
	if (!strcmp(opt, "net")) {	/* legacy hub networking: its NICs are not followed */
		struct nic_dev *d = &st->devs[st->nr_devs];
		char type[16];

		if (!nfm_qemu_obj_get(v, "type", "type", type, sizeof(type)) || strcmp(type, "nic"))
			return 0;	/* a backend (-net user, ...), or -net none */
		memset(d, 0, sizeof(*d));
		snprintf(d->nd.type, sizeof(d->nd.type), "hub");
		d->nd.known = false;
	} else if (!strcmp(opt, "nic")) {
		struct nic_dev *d = &st->devs[st->nr_devs];

		memset(d, 0, sizeof(*d));
		if (!nfm_qemu_obj_get(v, "type", "type", d->nd.type, sizeof(d->nd.type)))
			snprintf(d->nd.type, sizeof(d->nd.type), "user");
		if (!strcmp(d->nd.type, "none"))
			return 0;
		netdev_link(v, &d->nd);
	} else {	/* -device: a NIC when it names a netdev */
		if (!get(v, "netdev", netdev, sizeof(netdev)))
			return 0;
		memset(&st->devs[st->nr_devs], 0, sizeof(st->devs[0]));
		snprintf(st->devs[st->nr_devs].netdev, sizeof(netdev), "%s", netdev);
	}
	if (get(v, "mac", mac, sizeof(mac)) && strlen(mac) == 17) {
		memcpy(st->devs[st->nr_devs].mac, mac, 18);
		lower_mac(st->devs[st->nr_devs].mac);
	}
	st->nr_devs++;
	return 0;
}

size_t nfm_qemu_nics_finish(struct nfm_qemu_nic_state *st, struct nfm_vm_nic *out)
{
	bool used[256] = { false };
	unsigned int next = 0x56;
	size_t nr = 0;

	if (!st)
		return 0;
	/* QEMU's default MACs skip those given explicitly in its 52:54:00:12:34:XX range */
	for (size_t i = 0; i < st->nr_devs; i++)
		if (!strncmp(st->devs[i].mac, "52:54:00:12:34:", 15))
			used[strtoul(st->devs[i].mac + 15, NULL, 16) & 0xff] = true;
	for (size_t i = 0; i < st->nr_devs; i++) {
		const struct nic_dev *d = &st->devs[i];
		const struct netdev_opt *nd = d->netdev[0] ? NULL : &d->nd;
		struct nfm_vm_nic *n = &out[nr];

		for (size_t k = 0; !nd && k < st->nr_netdevs; k++)
			if (!strcmp(st->netdevs[k].id, d->netdev))
				nd = &st->netdevs[k];
		if (!nd)
			continue;	/* a netdev= naming none of the -netdev options */
		memset(n, 0, sizeof(*n));
		snprintf(n->netdev, sizeof(n->netdev), "%s", d->netdev);
		snprintf(n->type, sizeof(n->type), "%s", nd->type);
		snprintf(n->link, sizeof(n->link), "%s", nd->link);
		n->known = nd->known;
		if (d->mac[0]) {
			memcpy(n->mac, d->mac, sizeof(n->mac));
		} else {
			while (next < 0xff && used[next])
				next++;
			if (next < 0xff) {
				used[next] = true;
				snprintf(n->mac, sizeof(n->mac), "52:54:00:12:34:%02x", next);
				n->mac_default = true;
			}
		}
		nr++;
	}
	free(st);
	return nr;
}
