// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * List the QEMU VMs on this host: the first libnfm program. Needs no privilege.
 *
 *     cc list-vms.c $(pkg-config --cflags --libs libnfm) -o list-vms && ./list-vms
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/nfm.h>

int main(void)
{
	struct nfm_vm_info *vms = NULL;
	int n = 16, got;

	/* nfm_vm_list returns how many there are: grow the buffer until they fit. */
	for (;;) {
		struct nfm_vm_info *v = realloc(vms, (size_t)n * sizeof(*vms));

		if (!v) {
			free(vms);
			return 1;
		}
		vms = v;
		got = nfm_vm_list(vms, n);
		if (got < 0) {
			fprintf(stderr, "list-vms: %s\n", strerror(-got));
			free(vms);
			return 1;
		}
		if (got <= n)
			break;
		n = got;
	}
	printf("%8s  %-24s %10s  %s\n", "PID", "NAME", "RAM_MIB", "QMP");
	for (int i = 0; i < got; i++)
		printf("%8d  %-24s %10" PRIu64 "  %s\n", vms[i].pid, vms[i].name[0] ? vms[i].name : "-",
		       vms[i].ram_size >> 20, vms[i].qmp[0] ? vms[i].qmp : "-");
	free(vms);
	return 0;
}
