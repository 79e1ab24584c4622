// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm top's host columns: the QEMU process's host accounting (nfm/host.h) read right after each
 * guest frame, and over the interval between two frames the VM's host CPU, vCPU wait, cgroup use
 * and throttling, and each process's host-true share (nfm_host_attribute; doc/ctop.md).
 */
#include <stdlib.h>
#include <string.h>

#include "top_model.h"

struct nfm_host_sample *top_host_rotate(struct top_vm *vm)
{
	struct nfm_host_sample *t;

	if (!vm->prev_hs && !(vm->prev_hs = calloc(1, sizeof(*vm->prev_hs))))
		return NULL;
	if (!vm->hs && !(vm->hs = calloc(1, sizeof(*vm->hs))))
		return NULL;
	/* The current reading becomes the previous one. */
	t = vm->prev_hs;
	vm->prev_hs = vm->hs;
	vm->hs = t;
	memset(vm->hs, 0, sizeof(*vm->hs));
	return vm->hs;
}

void top_host_sample(struct top_vm *vm)
{
	struct nfm_host_sample *h;

	if (vm->remote || vm->pid <= 0)
		return;
	if (!vm->host && nfm_host_vm_new(vm->pid, NULL, &vm->host) < 0)
		return;
	h = top_host_rotate(vm);
	if (h && nfm_host_vm_sample(vm->host, h) < 0)
		memset(h, 0, sizeof(*h));
}

static double pct(uint64_t now, uint64_t before, double dt)
{
	return now >= before ? 100.0 * (double)(now - before) / dt : 0;
}

/* Δ run time of each vCPU by guest CPU number into ns[0..n); returns n (max CPU + 1). */
static int vcpu_deltas(const struct nfm_host_sample *h, const struct nfm_host_sample *g,
		       uint64_t *ns, uint64_t *sum)
{
	int n = 0;

	*sum = 0;
	for (int i = 0; i < h->nr_vcpus; i++) {
		const struct nfm_host_vcpu *v = &h->vcpu[i];
		uint64_t before = 0;

		for (int j = 0; j < g->nr_vcpus; j++)
			if (g->vcpu[j].tid == v->tid)
				before = g->vcpu[j].run_ns;
		if (v->cpu >= NFM_HOST_MAX_VCPUS)
			continue;
		ns[v->cpu] = v->run_ns > before ? v->run_ns - before : 0;
		*sum += ns[v->cpu];
		if (v->cpu + 1 > n)
			n = v->cpu + 1;
	}
	return n;
}

void top_host_compute(struct top_vm *vm)
{
	const struct nfm_host_sample *h = vm->hs, *g = vm->prev_hs;
	struct top_host_view *hv = &vm->hv;
	uint64_t vcpu_ns[NFM_HOST_MAX_VCPUS] = { 0 }, vsum, wait = 0, wait0 = 0, other;
	struct nfm_host_share *sh;
	double dt;
	int ncpu;
	size_t i;

	memset(hv, 0, sizeof(*hv));
	if (!h || !g || !g->mono_ns || h->mono_ns <= g->mono_ns || !vm->have_prev)
		return;
	dt = (double)(h->mono_ns - g->mono_ns);
	hv->ok = true;
	hv->cpu_pct = pct(h->process_run_ns, g->process_run_ns, dt);
	ncpu = vcpu_deltas(h, g, vcpu_ns, &vsum);
	hv->vcpu_pct = 100.0 * (double)vsum / dt;
	for (int j = 0; j < h->nr_vcpus; j++)
		wait += h->vcpu[j].wait_ns;
	for (int j = 0; j < g->nr_vcpus; j++)
		wait0 += g->vcpu[j].wait_ns;
	hv->wait_pct = pct(wait, wait0, dt);
	hv->have_cgroup_usage = h->cg.have_usage && g->cg.have_usage;
	if (hv->have_cgroup_usage)
		hv->cgroup_pct = pct(h->cg.usage_ns, g->cg.usage_ns, dt);
	hv->have_throttling = h->cg.have_stat && g->cg.have_stat;
	if (hv->have_throttling) {
		uint64_t periods = h->cg.nr_periods - g->cg.nr_periods;

		hv->throttled_pct = periods && h->cg.nr_throttled >= g->cg.nr_throttled ?
			100.0 * (double)(h->cg.nr_throttled - g->cg.nr_throttled) / (double)periods : 0;
		hv->throttled_ms = h->cg.throttled_ns >= g->cg.throttled_ns ?
			(double)(h->cg.throttled_ns - g->cg.throttled_ns) / 1e6 : 0;
	}
	/* The host time of the interval, split among the processes by their guest time. */
	other = h->process_run_ns > g->process_run_ns ? h->process_run_ns - g->process_run_ns : 0;
	other = other > vsum ? other - vsum : 0;
	sh = calloc(vm->nprocs ? vm->nprocs : 1, sizeof(*sh));
	if (!sh)
		return;
	for (i = 0; i < vm->nprocs; i++) {
		const struct top_proc *p = &vm->procs[i];

		sh[i].cpu = p->cpu_last;
		/* cpu_pct is Δcpu_ns over the guest's interval: back to ns over the same. */
		sh[i].guest_ns = (uint64_t)(p->cpu_pct / 100.0 *
					    (double)(vm->uptime_ns - vm->prev_uptime_ns));
	}
	nfm_host_attribute(vcpu_ns, ncpu, other, sh, vm->nprocs);
	for (i = 0; i < vm->nprocs; i++)
		vm->procs[i].host_pct = 100.0 * sh[i].host_ns / dt;
	free(sh);
}

void top_host_free(struct top_vm *vm)
{
	nfm_host_vm_free(vm->host);
	free(vm->hs);
	free(vm->prev_hs);
	vm->host = NULL;
	vm->hs = vm->prev_hs = NULL;
}
