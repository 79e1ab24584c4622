// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Host-true CPU per guest process: the host time of an interval split in proportion to the
 * guest's own accounting (doc/ctop.md has the model and its error bounds).
 */
#include <stdbool.h>
#include <stdlib.h>

#include <nfm/host.h>

double nfm_host_attribute(const uint64_t *vcpu_ns, int nr_cpus, uint64_t other_ns,
			  struct nfm_host_share *procs, size_t n)
{
	double vm_guest = 0, pool = (double)other_ns, *cpu_guest = NULL;
	bool per_cpu = nr_cpus > 0;
	size_t i;
	int c;

	for (i = 0; i < n; i++) {
		procs[i].host_ns = 0;
		vm_guest += (double)procs[i].guest_ns;
		if (procs[i].cpu < 0 || procs[i].cpu >= nr_cpus)
			per_cpu = false;
	}
	if (per_cpu)
		cpu_guest = calloc((size_t)nr_cpus, sizeof(*cpu_guest));
	if (!cpu_guest)
		per_cpu = false;
	if (per_cpu) {
		for (i = 0; i < n; i++)
			cpu_guest[procs[i].cpu] += (double)procs[i].guest_ns;
		/* A vCPU's time goes to the processes that ran there; a vCPU where none did (its
		 * time was interrupts, or tasks that exited) joins the pool shared by all. */
		for (c = 0; c < nr_cpus; c++)
			if (cpu_guest[c] <= 0)
				pool += (double)vcpu_ns[c];
		for (i = 0; i < n; i++)
			if (procs[i].guest_ns)
				procs[i].host_ns = (double)vcpu_ns[procs[i].cpu] *
						   (double)procs[i].guest_ns / cpu_guest[procs[i].cpu];
	} else {
		for (c = 0; c < nr_cpus; c++)
			pool += (double)vcpu_ns[c];
	}
	free(cpu_guest);
	if (vm_guest <= 0)
		return pool;
	for (i = 0; i < n; i++)
		procs[i].host_ns += pool * (double)procs[i].guest_ns / vm_guest;
	return 0;
}
