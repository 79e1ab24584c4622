// SPDX-License-Identifier: GPL-2.0-or-later
/* List the QEMU processes on this host from /proc. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/qemu.h"
#include "source/qemu_cmdline.h"
#include "util/hostfile.h"

int nfm_vm_list(struct nfm_vm_info *vms, int max)
{
	struct nfm_qemu_cmdline *cl;
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (max < 0 || (max && !vms))
		return -EINVAL;
	d = opendir("/proc");
	if (!d)
		return -errno;
	cl = malloc(sizeof(*cl));
	if (!cl) {
		closedir(d);
		return -ENOMEM;
	}
	while ((de = readdir(d))) {
		char path[300], exe[512], *text = NULL;
		size_t len;
		ssize_t el;
		int pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		snprintf(path, sizeof(path), "/proc/%d/exe", pid);
		el = readlink(path, exe, sizeof(exe) - 1);
		exe[el > 0 ? el : 0] = '\0';
		/* Most processes are told apart by their executable alone: no cmdline read. */
		if (el > 0 && !nfm_qemu_is_qemu_path(exe))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
		if (nfm_read_file(path, 1u << 20, &text, &len) || !len) {
			free(text);
			continue;	/* gone, or a kernel thread */
		}
		/* exe is unreadable without privilege: fall back to argv[0]. */
		if (el <= 0 && !nfm_qemu_is_qemu_path(text)) {
			free(text);
			continue;
		}
		if (n < max) {
			struct nfm_vm_info *v = &vms[n];

			memset(v, 0, sizeof(*v));
			v->pid = pid;
			if (!nfm_qemu_cmdline_parse_buf(text, len, cl)) {
				snprintf(v->name, sizeof(v->name), "%s", cl->name);
				snprintf(v->qmp, sizeof(v->qmp), "%s", cl->qmp);
				v->ram_size = cl->ram_size;
			}
		}
		free(text);
		n++;
	}
	free(cl);
	closedir(d);
	return n;
}
