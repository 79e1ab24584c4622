// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The same address held by two VMs on one wire: what no guest's memory shows alone. The wire of
 * each guest NIC comes from its QEMU process (nfm_vm_nics(): the link a bridge, a socket or dgram
 * pair, a multicast group gives), a guest interface is a NIC by its MAC address, and only the VMs
 * sharing a link with this one are attached and read. User-mode networking is private to each VM
 * (every such guest has 10.0.2.15 and that is no conflict); a NIC whose link nfm cannot follow
 * (vhost-user, ...) is left out and said in the check.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nfm/context.h>
#include <nfm/diag.h>
#include <nfm/source.h>
#include <nfm/system.h>

#include "diag/diag_int.h"
#include "source/qemu_nics.h"

#define MAX_VMS 256

struct vm_side {
	int pid;
	const char *name;
	struct nfm_vm_nic nics[NFM_QEMU_MAX_NICS];
	int nr_nics;
	struct nfm_netdev *devs;
	int nr_devs;
};

static void mac_text(const struct nfm_netdev *dv, char *buf, size_t size)
{
	if (dv->addr_len != 6) {
		buf[0] = 0;
		return;
	}
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", dv->addr[0], dv->addr[1], dv->addr[2],
		 dv->addr[3], dv->addr[4], dv->addr[5]);
}

/* The NIC a guest interface is, by its hardware address; NULL when none. */
static const struct nfm_vm_nic *nic_of(const struct nfm_vm_wire *w, const struct nfm_netdev *dv)
{
	char mac[18];

	mac_text(dv, mac, sizeof(mac));
	for (int i = 0; mac[0] && i < w->nr_nics; i++)
		if (!strcmp(w->nics[i].mac, mac))
			return &w->nics[i];
	return NULL;
}

static const char *addr_text(const struct nfm_ifaddr *a, char *buf, size_t size)
{
	if (!inet_ntop(a->family, a->addr, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

static bool same_addr(const struct nfm_ifaddr *a, const struct nfm_ifaddr *b)
{
	return a->family == b->family && (a->family == AF_INET || a->family == AF_INET6) &&
	       !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

int nfm_addr_conflicts(const struct nfm_vm_wire *a, const struct nfm_vm_wire *b,
		       nfm_addr_conflict_fn fn, void *ud)
{
	int found = 0;

	for (int i = 0; i < a->nr_devs; i++) {
		const struct nfm_netdev *da = &a->devs[i];
		const struct nfm_vm_nic *na = nic_of(a, da);

		if (!na || !na->link[0])
			continue;
		for (int j = 0; j < b->nr_devs; j++) {
			const struct nfm_netdev *db = &b->devs[j];
			const struct nfm_vm_nic *nb = nic_of(b, db);

			if (!nb || strcmp(na->link, nb->link))
				continue;
			for (int x = 0; x < da->nr_addrs && x < NFM_NETDEV_MAX_ADDRS; x++)
				for (int y = 0; y < db->nr_addrs && y < NFM_NETDEV_MAX_ADDRS; y++)
					if (same_addr(&da->addrs[x], &db->addrs[y])) {
						found++;
						if (fn)
							fn(ud, da, x, na, db, y, nb);
					}
		}
	}
	return found;
}

/* One address a VM holds on a wire: the unit that nfm_addr_conflicts() compares. */
struct wire_addr {
	const char *link;
	int family, vm;
	uint8_t addr[16];
};

static int cmp_wire_addr(const void *pa, const void *pb)
{
	const struct wire_addr *a = pa, *b = pb;
	int c = strcmp(a->link, b->link);

	if (c)
		return c;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if ((c = memcmp(a->addr, b->addr, 16)))
		return c;
	return a->vm < b->vm ? -1 : a->vm > b->vm;
}

int nfm_addr_conflict_counts(const struct nfm_vm_wire *w, int n, unsigned int *counts)
{
	struct wire_addr *e = NULL;
	size_t ne = 0, cap = 0, i, j, k;

	if (n < 0 || (n && (!w || !counts)))
		return -EINVAL;
	for (int v = 0; v < n; v++) {
		counts[v] = 0;
		for (int d = 0; d < w[v].nr_devs; d++) {
			const struct nfm_netdev *dv = &w[v].devs[d];
			const struct nfm_vm_nic *nic = nic_of(&w[v], dv);

			if (!nic || !nic->link[0])
				continue;
			for (int x = 0; x < dv->nr_addrs && x < NFM_NETDEV_MAX_ADDRS; x++) {
				const struct nfm_ifaddr *a = &dv->addrs[x];

				if (a->family != AF_INET && a->family != AF_INET6)
					continue;
				if (ne == cap) {
					struct wire_addr *ge;

					cap = cap ? cap * 2 : 64;
					if (!(ge = realloc(e, cap * sizeof(*e)))) {
						free(e);
						return -ENOMEM;
					}
					e = ge;
				}
				e[ne] = (struct wire_addr){ .link = nic->link, .family = a->family, .vm = v };
				memcpy(e[ne].addr, a->addr, a->family == AF_INET ? 4 : 16);
				ne++;
			}
		}
	}
	if (ne)
		qsort(e, ne, sizeof(*e), cmp_wire_addr);
	/* A group of equal (link, address): each entry of a VM conflicts with every entry of the
	 * others in it. Within the group the entries are by VM: runs of one VM. */
	for (i = 0; i < ne; i = j) {
		for (j = i + 1; j < ne && e[j].family == e[i].family &&
		     !memcmp(e[j].addr, e[i].addr, 16) && !strcmp(e[j].link, e[i].link); j++)
			;
		for (k = i; k < j;) {
			size_t r = k;

			while (r < j && e[r].vm == e[k].vm)
				r++;
			counts[e[k].vm] += (unsigned int)((r - k) * ((j - i) - (r - k)));
			k = r;
		}
	}
	free(e);
	return 0;
}

static void nic_evidence(struct diag *d, struct nfm_diag_finding *f, const char *who,
			 const struct nfm_netdev *dv, const struct nfm_vm_nic *n,
			 const struct nfm_ifaddr *a)
{
	char ip[64], mac[18];

	mac_text(dv, mac, sizeof(mac));
	diag_evidence(d, f, "%s: %s %s/%d, MAC %s, QEMU netdev %s (%s) on %s", who, dv->name,
		      addr_text(a, ip, sizeof(ip)), a->prefixlen, mac, n->netdev[0] ? n->netdev : "-nic",
		      n->type, n->link);
}

struct finding_ctx {
	struct diag *d;
	const struct vm_side *self, *peer;
};

static void add_finding(void *ud, const struct nfm_netdev *da, int ai, const struct nfm_vm_nic *na,
			const struct nfm_netdev *db, int bi, const struct nfm_vm_nic *nb)
{
	struct finding_ctx *c = ud;
	struct nfm_diag_finding *f;
	char ip[64], who[200];

	f = diag_add(c->d, NFM_DIAG_ADDR_CONFLICT, NFM_DIAG_ERROR,
		     "%s on %s is also held by VM %s (%s) on the same wire",
		     addr_text(&da->addrs[ai], ip, sizeof(ip)), da->name, c->peer->name, db->name);
	diag_subject(c->d, f, da->name);
	snprintf(who, sizeof(who), "this VM (pid %d)", c->self->pid);
	nic_evidence(c->d, f, who, da, na, &da->addrs[ai]);
	snprintf(who, sizeof(who), "VM %s (pid %d)", c->peer->name, c->peer->pid);
	nic_evidence(c->d, f, who, db, nb, &db->addrs[bi]);
}

static struct nfm_vm_wire wire_of(const struct vm_side *v)
{
	return (struct nfm_vm_wire){ v->nics, v->nr_nics < NFM_QEMU_MAX_NICS ? v->nr_nics :
				     NFM_QEMU_MAX_NICS, v->devs, v->nr_devs };
}

/* Every address of self's NICs that a NIC of peer on the same link holds too. */
static void compare(struct diag *d, const struct vm_side *self, const struct vm_side *peer)
{
	struct finding_ctx c = { d, self, peer };
	struct nfm_vm_wire a = wire_of(self), b = wire_of(peer);

	nfm_addr_conflicts(&a, &b, add_finding, &c);
}

static bool has_link(const struct vm_side *v)
{
	for (int i = 0; i < v->nr_nics && i < NFM_QEMU_MAX_NICS; i++)
		if (v->nics[i].link[0])
			return true;
	return false;
}

static bool shares_link(const struct vm_side *a, const struct vm_side *b)
{
	for (int i = 0; i < a->nr_nics && i < NFM_QEMU_MAX_NICS; i++)
		for (int j = 0; a->nics[i].link[0] && j < b->nr_nics && j < NFM_QEMU_MAX_NICS; j++)
			if (!strcmp(a->nics[i].link, b->nics[j].link))
				return true;
	return false;
}

/* Attach the QEMU process pid and read its interfaces. 0 or -errno. */
static int read_peer(struct vm_side *v)
{
	struct nfm_source *src = NULL;
	struct nfm_ctx *ctx = NULL;
	char spec[32];
	bool trunc = false;
	int err;

	snprintf(spec, sizeof(spec), "%d", v->pid);
	if ((err = nfm_source_open(spec, NULL, &src)) < 0)
		return err;
	if ((err = nfm_ctx_new(src, NULL, NULL, &ctx)) < 0) {
		nfm_source_free(src);
		return err;
	}
	err = nfm_netdev_list(ctx, &v->devs, &trunc);
	if (err >= 0)
		v->nr_devs = err;
	nfm_ctx_free(ctx);
	nfm_source_free(src);
	return err < 0 ? err : trunc ? -ELOOP : 0;
}

int nfm_diagnose_peers(struct nfm_ctx *ctx, struct nfm_diag_report *r)
{
	struct diag d = { .ctx = ctx, .r = r, .cap = r ? r->nr_findings : 0 };
	struct vm_side self = { 0 }, peer;
	struct nfm_vm_info *vms = NULL;
	bool trunc = false, unknown = false;
	int n, err = 0;

	if (!ctx || !r)
		return -EINVAL;
	self.pid = nfm_source_pid(nfm_ctx_source(ctx));
	if (self.pid <= 0 || !nfm_source_is_live(nfm_ctx_source(ctx)))
		return 0;	/* a dump: no host around it */
	self.name = nfm_source_vm_name(nfm_ctx_source(ctx));
	if (!self.name)
		self.name = "";
	diag_check(&d, "peers", 0, NULL);
	self.nr_nics = nfm_vm_nics(self.pid, self.nics, NFM_QEMU_MAX_NICS);
	if (self.nr_nics < 0) {
		diag_check(&d, "peers", self.nr_nics, "this VM's QEMU command line");
		return 0;
	}
	for (int i = 0; i < self.nr_nics && i < NFM_QEMU_MAX_NICS; i++)
		unknown |= !self.nics[i].known;
	if (!has_link(&self) && !unknown)
		return 0;	/* every NIC private: nothing to compare */
	if ((n = nfm_netdev_list(ctx, &self.devs, &trunc)) < 0) {
		diag_check(&d, "peers", n, "this guest's interfaces");
		return 0;
	}
	self.nr_devs = n;
	if (!(vms = calloc(MAX_VMS, sizeof(*vms)))) {
		free(self.devs);
		return -ENOMEM;
	}
	n = nfm_vm_list(vms, MAX_VMS);
	if (n < 0)
		diag_check(&d, "peers", n, "the VMs of this host");
	else if (n > MAX_VMS)
		diag_check(&d, "peers", -E2BIG, "the VMs of this host (more than 256)");
	for (int i = 0; i < n && i < MAX_VMS; i++) {
		if (vms[i].pid == self.pid)
			continue;
		memset(&peer, 0, sizeof(peer));
		peer.pid = vms[i].pid;
		peer.name = vms[i].name[0] ? vms[i].name : "(unnamed)";
		peer.nr_nics = nfm_vm_nics(peer.pid, peer.nics, NFM_QEMU_MAX_NICS);
		if (peer.nr_nics <= 0 || !shares_link(&self, &peer))
			continue;
		if ((err = read_peer(&peer)) < 0)
			diag_check(&d, "peers", err, "a VM on the same wire (its interfaces)");
		compare(&d, &self, &peer);
		free(peer.devs);
	}
	if (unknown)
		diag_check(&d, "peers", -EOPNOTSUPP,
			   "a NIC's link (a netdev type nfm does not follow, e.g. vhost-user)");
	if (trunc)
		diag_check(&d, "peers", -ELOOP, "this guest's interfaces (cut short)");
	free(vms);
	free(self.devs);
	if (d.nomem)
		return -ENOMEM;
	diag_sort(r);
	return 0;
}
