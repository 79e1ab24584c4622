// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A hard lockup under way (x86-64, a live guest): a CPU that runs kernel code with interrupts
 * off and takes no timer interrupt. The kernel's NMI watchdog needs a PMU (TCG guests have none)
 * and only logs after watchdog_thresh; from outside, the vCPU's own registers say it: RFLAGS.IF
 * clear in kernel mode at every one of LOOKS looks over LOOK_SPAN_MS, while the CPU's
 * irq_stat.apic_timer_irqs (bumped by every local APIC timer interrupt, every tick of a busy CPU)
 * does not move. Looked for only where it can be: a CPU whose current task is not its idle task
 * (an idle CPU sleeps in hlt with interrupts on), a VM that is running (a paused one stands
 * still too); a first look showing no candidate costs one register read. A vCPU that stands
 * still because the host does not run it (a starved thread, one waiting for QEMU's big lock
 * while the main loop, which also delivers the timer, is held up) looks the same from inside:
 * its host thread must have run for a quarter of the span at least (schedstat); if it did not,
 * the lockups check is left incomplete rather than guessed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nfm/diag.h>
#include <nfm/host.h>

#include "core/context.h"
#include "diag/diag_int.h"
#include "source/source.h"
#include "walk/fields.h"

#define LOOKS 3
#define LOOK_SPAN_MS 1000
#define RFLAGS_IF 0x200ull
#define MIN_RUN_SHARE 4		/* the vCPU thread ran >= span / MIN_RUN_SHARE */

struct suspect {
	int vcpu;		/* index into the looks' register arrays, -1: not a suspect */
	uint32_t timer0;	/* apic_timer_irqs at the first look */
	uint64_t rip;		/* at the first look */
	int64_t ran_ns;		/* its host thread's run time over the looks, -1: unknown */
};

/*
 * The host's side of the looks: the QEMU process's vCPU threads and their run time, sampled at
 * the first look and after the last one. Unknown (no such process readable, no vCPU threads
 * found) leaves ran_ns at -1 and the finding says so.
 */
struct host_look {
	struct nfm_host_vm *vm;
	struct nfm_host_sample *first;
	uint64_t span_ns;
};

static void host_first(struct host_look *h, int pid)
{
	h->first = malloc(sizeof(*h->first));
	if (pid <= 0 || !h->first || nfm_host_vm_new(pid, NULL, &h->vm) < 0 ||
	    nfm_host_vm_sample(h->vm, h->first) < 0 || h->first->nr_vcpus <= 0) {
		nfm_host_vm_free(h->vm);
		h->vm = NULL;
	}
}

static int64_t vcpu_run_ns(const struct nfm_host_sample *s, int cpu)
{
	for (int i = 0; i < s->nr_vcpus; i++)
		if (s->vcpu[i].cpu == cpu)
			return (int64_t)s->vcpu[i].run_ns;
	return -1;
}

/* Each suspect's host run time since the first look. */
static void host_last(struct host_look *h, struct suspect *s, int n)
{
	struct nfm_host_sample *last = h->vm ? malloc(sizeof(*last)) : NULL;

	if (last && nfm_host_vm_sample(h->vm, last) == 0 && last->mono_ns > h->first->mono_ns) {
		h->span_ns = last->mono_ns - h->first->mono_ns;
		for (int i = 0; i < n; i++) {
			int64_t a = s[i].vcpu >= 0 ? vcpu_run_ns(h->first, s[i].vcpu) : -1;
			int64_t b = a >= 0 ? vcpu_run_ns(last, s[i].vcpu) : -1;

			s[i].ran_ns = b >= a && a >= 0 ? b - a : -1;
		}
	}
	free(last);
}

static void host_done(struct host_look *h)
{
	nfm_host_vm_free(h->vm);
	free(h->first);
}

/* The vCPU in kernel mode whose GS base is this per-CPU offset, interrupts off; else -1. */
static int irqs_off_vcpu(const struct nfm_cpu_state *v, size_t nv, uint64_t pcpu)
{
	for (size_t i = 0; i < nv; i++)
		if (v[i].has_gprs && !v[i].stopped && !(v[i].cs & 3) && v[i].gs_base == pcpu)
			return v[i].rflags & RFLAGS_IF ? -1 : (int)i;
	return -1;
}

static int timer_irqs(struct nfm_ctx *ctx, uint64_t pcpu, uint32_t *v)
{
	struct nfm_field f;
	uint64_t base;

	if (nfm_ksym(ctx, "irq_stat", &base) < 0 ||
	    nfm_btf_field(ctx->btf, "irq_cpustat_t", "apic_timer_irqs", &f) < 0 || f.size != 4)
		return -ENOENT;
	return nfm_kread_u32(ctx, base + pcpu + f.offset, v);
}

static void report(struct diag *d, const struct diag_rq *q, const struct suspect *s,
		   const struct host_look *h)
{
	struct nfm_diag_finding *f;
	const char *name = NULL, *mod = NULL;
	uint64_t off = 0;

	f = diag_add(d, NFM_DIAG_HARD_LOCKUP, NFM_DIAG_CRITICAL,
		     "hard lockup under way: CPU %d runs with interrupts off, no timer interrupt in "
		     "%d ms", q->cpu, LOOK_SPAN_MS);
	if (!f)
		return;
	f->cpu = q->cpu;
	f->pid = q->curr_pid;
	diag_subject(d, f, q->curr_comm);
	diag_evidence(d, f, "vCPU %d: RFLAGS.IF clear in kernel mode at each of %d looks over %d ms",
		      s->vcpu, LOOKS, LOOK_SPAN_MS);
	if (nfm_sym_symbolize_module(d->ctx, s->rip, &name, NULL, &off, &mod) == 0 && name)
		diag_evidence(d, f, "RIP 0x%016llx %s+0x%llx%s%s%s at the first look",
			      (unsigned long long)s->rip, name, (unsigned long long)off,
			      mod ? " [" : "", mod ? mod : "", mod ? "]" : "");
	diag_evidence(d, f, "irq_stat.apic_timer_irqs = %u, unchanged", s->timer0);
	if (s->ran_ns >= 0)
		diag_evidence(d, f, "vCPU %d's host thread ran %llu ms of those %llu ms", s->vcpu,
			      (unsigned long long)(s->ran_ns / 1000000),
			      (unsigned long long)(h->span_ns / 1000000));
	else
		diag_evidence(d, f, "vCPU %d's host thread run time unknown (QEMU's threads not "
			      "readable): a starved vCPU would look the same", s->vcpu);
	diag_evidence(d, f, "CPU %d is running pid %d %s:", q->cpu, q->curr_pid, q->curr_comm);
	diag_pid_stack_evidence(d, f, q->curr_pid);
}

int diag_hard_lockups_now(struct diag *d, const struct diag_rq *rqs, int n)
{
	struct nfm_cpu_state *v = NULL;
	struct host_look h = { 0 };
	struct suspect *s;
	size_t nv = 0;
	int err = 0, left = 0, found = 0;

	if (!d->ctx->src->live || d->ctx->mmu->arch == NFM_MMU_ARM64 || n <= 0)
		return 0;
	for (int i = 0; i < n; i++)
		left += rqs[i].curr_pid > 0;
	if (!left)
		return 0;
	s = calloc((size_t)n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		s[i].ran_ns = -1;
	for (int look = 0; look < LOOKS && left; look++) {
		if (look)
			usleep(LOOK_SPAN_MS * 1000 / (LOOKS - 1));
		free(v);
		v = NULL;
		err = nfm_source_cpu_regs(d->ctx->src, &v, &nv);
		if (err < 0)
			break;
		left = 0;
		for (int i = 0; i < n; i++) {
			int k = rqs[i].curr_pid > 0 && (look == 0 || s[i].vcpu >= 0) ?
				irqs_off_vcpu(v, nv, rqs[i].pcpu) : -1;

			if (k >= 0 && look == 0) {
				s[i].rip = v[k].rip;
				if (timer_irqs(d->ctx, rqs[i].pcpu, &s[i].timer0) < 0)
					k = -1;
			}
			s[i].vcpu = k;
			left += k >= 0;
		}
		if (look == 0 && left)
			host_first(&h, d->ctx->src->pid);
	}
	if (left && err == 0)
		host_last(&h, s, n);
	for (int i = 0; i < n && err == 0; i++) {
		uint32_t t;

		if (s[i].vcpu < 0 || timer_irqs(d->ctx, rqs[i].pcpu, &t) < 0 || t != s[i].timer0)
			continue;
		if (s[i].ran_ns >= 0 && (uint64_t)s[i].ran_ns * MIN_RUN_SHARE < h.span_ns) {
			/* The host held it still: undecided, and the report says so. */
			diag_check(d, "lockups", -EAGAIN, "whether a vCPU is locked up (interrupts "
				   "off, no timer interrupt, but the host barely ran its thread)");
			continue;
		}
		report(d, &rqs[i], &s[i], &h);
		found++;
	}
	host_done(&h);
	free(v);
	free(s);
	if (err == -EOPNOTSUPP)
		return 0;	/* no registers to look at (no QMP socket): nothing to say */
	return err < 0 ? err : found;
}
