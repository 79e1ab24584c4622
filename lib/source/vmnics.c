// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A QEMU process's NICs with their links resolved against the host: a tap passed as a file
 * descriptor is named by its fdinfo ("iff:"), a tap enslaved to a bridge is on that bridge's wire
 * (/sys/class/net/TAP/master), a tap on no bridge reaches only the host (private). Open vSwitch
 * ports all have one master (ovs-system) whatever their bridge: not followed (unknown). A Linux
 * bridge's VLANs are not told apart: two VMs on one bridge count as one wire.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/qemu_cmdline.h"
#include "util/hostfile.h"

/* The tap interface behind fd of pid, from its fdinfo's "iff:" line. */
static bool tap_of_fd(int pid, const char *fd, char *ifname, size_t size)
{
	char path[64], *text = NULL, *p;
	size_t len;
	bool ok = false;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%.16s", pid, fd);
	if (nfm_read_file(path, 4096, &text, &len))
		return false;
	if ((p = strstr(text, "\niff:"))) {
		p += 5;
		p += strspn(p, " \t");
		snprintf(ifname, size, "%.*s", (int)strcspn(p, "\n"), p);
		ok = ifname[0] != 0;
	}
	free(text);
	return ok;
}

static void resolve(int pid, struct nfm_vm_nic *n)
{
	char ifname[64], path[128], master[PATH_MAX];
	ssize_t l;

	if (!strncmp(n->link, "tapfd:", 6)) {
		if (!tap_of_fd(pid, n->link + 6, ifname, sizeof(ifname))) {
			n->known = false;	/* closed, or not ours to read */
			n->link[0] = 0;
			return;
		}
	} else if (!strncmp(n->link, "tap:", 4)) {
		snprintf(ifname, sizeof(ifname), "%s", n->link + 4);
	} else {
		return;
	}
	if (strchr(ifname, '/') || !strcmp(ifname, "..") || !strcmp(ifname, ".")) {
		n->known = false;
		n->link[0] = 0;
		return;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/master", ifname);
	l = readlink(path, master, sizeof(master) - 1);
	if (l > 0) {
		const char *br;

		master[l] = 0;
		br = strrchr(master, '/') ? strrchr(master, '/') + 1 : master;
		if (!strcmp(br, "ovs-system")) {
			/* every Open vSwitch port's master, whatever its bridge: not a wire */
			n->known = false;
			n->link[0] = 0;
			return;
		}
		snprintf(n->link, sizeof(n->link), "bridge:%.64s", br);	/* IFNAMSIZ is 16 */
	} else {
		n->link[0] = 0;		/* on no bridge: the host's only */
	}
}

int nfm_vm_nics(int pid, struct nfm_vm_nic *nics, int max)
{
	struct nfm_qemu_cmdline *cl;
	char path[64], *text = NULL;
	size_t len;
	int err, n;

	if (pid <= 0 || max < 0 || (max && !nics))
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	if ((err = nfm_read_file(path, 1u << 20, &text, &len)))
		return err;
	if (!(cl = malloc(sizeof(*cl)))) {
		free(text);
		return -ENOMEM;
	}
	err = nfm_qemu_cmdline_parse_buf(text, len, cl);
	free(text);
	if (err < 0) {
		free(cl);
		return err;
	}
	n = (int)cl->nr_nics;
	for (int i = 0; i < n && i < max; i++) {
		nics[i] = cl->nics[i];
		resolve(pid, &nics[i]);
	}
	free(cl);
	return n;
}
