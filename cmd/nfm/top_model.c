// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nfm/stack.h>

#include "top_model.h"

#define MAX_VMS 256
#define TOP_WALK_TRIES 8

static void vm_log(void *ud, enum nfm_log_level level, const char *msg)
{
	struct top_vm *vm = ud;

	if (level == NFM_LOG_ERR)
		snprintf(vm->error, sizeof(vm->error), "%s", msg);
}

int top_vm_attach(struct top_vm *vm, const struct nfm_attach_opts *opts)
{
	struct nfm_log log = { .fn = vm_log, .userdata = vm, .max_level = NFM_LOG_ERR };
	int err;

	vm->error[0] = 0;
	err = nfm_source_open(vm->spec, &log, &vm->src);
	if (err == 0)
		err = nfm_ctx_new(vm->src, opts, &log, &vm->ctx);
	if (err < 0) {
		if (!vm->error[0])
			snprintf(vm->error, sizeof(vm->error), "%s", strerror(-err));
		nfm_source_free(vm->src);
		vm->src = NULL;
		return err;
	}
	vm->have_ki = nfm_ctx_kernel_info(vm->ctx, &vm->ki) == 0;
	vm->pid = nfm_source_pid(vm->src);
	if (!vm->name[0] && nfm_source_vm_name(vm->src))
		snprintf(vm->name, sizeof(vm->name), "%s", nfm_source_vm_name(vm->src));
	if (!vm->name[0])
		snprintf(vm->name, sizeof(vm->name), "%s", nfm_source_describe(vm->src));
	return 0;
}

static void free_procs(struct top_proc *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(p[i].cmdline);
	free(p);
}

void top_vm_free(struct top_vm *vm)
{
	free_procs(vm->procs, vm->nprocs);
	free_procs(vm->prev, vm->nprev);
	top_host_free(vm);
	nfm_ctx_free(vm->ctx);
	nfm_source_free(vm->src);
	memset(vm, 0, sizeof(*vm));
}

static int cmp_pid(const void *a, const void *b)
{
	const struct top_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static const struct top_proc *find_prev(const struct top_vm *vm, const struct top_proc *p)
{
	const struct top_proc *q = bsearch(p, vm->prev, vm->nprev, sizeof(*p), cmp_pid);

	/* A reused pid is another process: it must have the same start time. */
	return q && q->start_ns == p->start_ns ? q : NULL;
}

static char *read_cmdline(struct nfm_ctx *ctx, const struct nfm_task *t)
{
	char buf[MAX_CMDLINE];
	int n, i;

	if (t->kthread || !t->mm)
		return NULL;
	n = nfm_task_cmdline(ctx, t, buf, sizeof(buf) - 1, NULL);
	if (n <= 0)
		return NULL;
	/* ps/top join argv with spaces. */
	while (n > 0 && buf[n - 1] == 0)
		n--;
	for (i = 0; i < n; i++)
		if (buf[i] == 0)
			buf[i] = ' ';
	buf[n] = 0;
	return strdup(buf);
}

static int read_procs(struct top_vm *vm, bool want_cmdline)
{
	struct nfm_task_iter *it;
	struct nfm_task t;
	size_t cap = 256, n = 0;
	struct top_proc *procs = malloc(cap * sizeof(*procs));
	bool summed = nfm_vmrss_summed(vm->ctx);
	int ret;

	if (!procs)
		return -ENOMEM;
	ret = nfm_task_iter_new(vm->ctx, 0, &it);
	if (ret < 0) {
		free(procs);
		return ret;
	}
	vm->tasks = vm->running = vm->sleeping = vm->stopped = vm->zombie = vm->idle = 0;
	while ((ret = nfm_task_iter_next(it, &t)) > 0) {
		struct top_proc *p;

		if (n == cap) {
			struct top_proc *np = realloc(procs, cap * 2 * sizeof(*procs));

			if (!np) {
				ret = -ENOMEM;
				break;
			}
			procs = np;
			cap *= 2;
		}
		p = &procs[n++];
		memset(p, 0, sizeof(*p));
		p->pid = t.pid;
		p->ppid = t.ppid;
		p->uid = t.euid;
		p->state = t.state;
		p->priority = t.priority;
		p->nice = t.nice;
		p->vsize = t.vsize;
		p->rss_kb = nfm_task_vmrss_pages(&t, summed) * 4;	/* top's RES: statm resident */
		p->cpu_ns = t.utime_ns + t.stime_ns;
		/* Which vCPU's host time it used: only worth a read when there are several. */
		p->cpu_last = -1;
		if (vm->host && nfm_host_vm_vcpus(vm->host) > 1 &&
		    nfm_task_cpu(vm->ctx, &t, &p->cpu_last) < 0)
			p->cpu_last = -1;
		p->start_ns = t.start_ns;
		memcpy(p->name, t.name, sizeof(p->name));
		p->name[sizeof(p->name) - 1] = 0;
		p->vm = vm->name;
		p->task = t;
		p->ctx = vm->ctx;
		if (want_cmdline) {
			p->cmdline = read_cmdline(vm->ctx, &t);
			p->cmdline_known = true;
		}
		/* top's task summary: R, S+D+I... as top counts them. */
		vm->tasks++;
		switch (t.state) {
		case 'R': vm->running++; break;
		case 'T': case 't': vm->stopped++; break;
		case 'Z': vm->zombie++; break;
		case 'I': vm->idle++; vm->sleeping++; break;
		default: vm->sleeping++; break;
		}
	}
	nfm_task_iter_free(it);
	if (ret < 0) {
		free_procs(procs, n);
		return ret;
	}
	vm->procs = procs;
	vm->nprocs = n;
	return 0;
}

/*
 * A running task's CPU time as of its CPU's last clock update, as task_sched_runtime() counts it:
 * the walk's se.sum_exec_runtime (through cputime_adjust) plus what the scheduler has not charged
 * yet (nfm_ctx_sched_pending()). Without it, a vCPU the host stopped between the tick's
 * update_rq_clock() and update_curr() leaves a fresh clock with a stale charge (doc/ctop.md).
 */
#define TOP_PENDING_CPUS 256

static void add_pending(struct top_vm *vm)
{
	struct nfm_sched_pending pend[TOP_PENDING_CPUS];
	int n = nfm_ctx_sched_pending(vm->ctx, pend, TOP_PENDING_CPUS);

	for (int i = 0; i < n && i < TOP_PENDING_CPUS; i++)
		for (size_t j = 0; j < vm->nprocs; j++)
			if (vm->procs[j].pid == pend[i].tgid) {
				vm->procs[j].cpu_ns += pend[i].ns;
				break;
			}
}

static double pct(uint64_t part, uint64_t prev_part, uint64_t total)
{
	return total && part >= prev_part ? 100.0 * (double)(part - prev_part) / (double)total : 0;
}

static void compute_split(struct top_vm *vm)
{
	const struct nfm_cpu_times *c = &vm->cpu, *p = &vm->prev_cpu;
	uint64_t now = nfm_cpu_times_sum(c), before = nfm_cpu_times_sum(p);
	uint64_t total = now > before ? now - before : 0;

	vm->split = (struct top_cpu_split){
		.us = pct(c->user, p->user, total), .ni = pct(c->nice, p->nice, total),
		.sy = pct(c->system, p->system, total), .id = pct(c->idle, p->idle, total),
		.wa = pct(c->iowait, p->iowait, total), .hi = pct(c->irq, p->irq, total),
		.si = pct(c->softirq, p->softirq, total), .st = pct(c->steal, p->steal, total),
	};
}

void top_vm_rotate(struct top_vm *vm)
{
	/* Keep this frame as the previous one. */
	free_procs(vm->prev, vm->nprev);
	vm->prev = vm->procs;
	vm->nprev = vm->nprocs;
	vm->procs = NULL;
	vm->nprocs = 0;
	vm->prev_uptime_ns = vm->uptime_ns;
	vm->prev_cpu = vm->cpu;
	vm->have_prev = vm->prev != NULL;
}

void top_vm_compute(struct top_vm *vm)
{
	uint64_t elapsed;
	size_t i;

	qsort(vm->procs, vm->nprocs, sizeof(*vm->procs), cmp_pid);
	if (vm->have_prev && vm->have_cpu)
		compute_split(vm);
	elapsed = vm->have_prev && vm->uptime_ns > vm->prev_uptime_ns ?
			  vm->uptime_ns - vm->prev_uptime_ns : 0;
	for (i = 0; i < vm->nprocs; i++) {
		struct top_proc *p = &vm->procs[i];
		const struct top_proc *q = vm->have_prev ? find_prev(vm, p) : NULL;

		p->vm = vm->name;
		p->vm_hv = &vm->hv;
		if (!vm->ctx || !guest_user_name(vm->ctx, p->uid, p->user))
			snprintf(p->user, sizeof(p->user), "%u", p->uid);
		if (q && elapsed && p->cpu_ns >= q->cpu_ns)
			p->cpu_pct = 100.0 * (double)(p->cpu_ns - q->cpu_ns) / (double)elapsed;
		if (vm->mem.mem_total)
			p->mem_pct = 100.0 * (double)p->rss_kb / (double)vm->mem.mem_total;
	}
	top_host_compute(vm);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A guest clock that stood still over a whole interval: ask QEMU why (QMP query-status, as
 * nfmd does); a monitor that does not answer (libvirt holds its own) is asked again 30 s later
 * and the VM is shown as paused meanwhile, since its clock does not move.
 */
static void note_run_state(struct top_vm *vm)
{
	if (!vm->have_prev || vm->uptime_ns != vm->prev_uptime_ns) {
		vm->paused = false;
		vm->run_state[0] = 0;
		return;
	}
	if (vm->host && mono_s() >= vm->run_state_retry) {
		if (nfm_host_vm_run_state(vm->host, vm->run_state, sizeof(vm->run_state)) < 0) {
			vm->run_state[0] = 0;
			vm->run_state_retry = mono_s() + 30;
		} else {
			vm->run_state_retry = mono_s() + 2;
		}
	}
	vm->paused = vm->run_state[0] ? strcmp(vm->run_state, "running") != 0 : true;
}

int top_vm_sample(struct top_vm *vm, bool want_cmdline)
{
	struct timespec t0, t1;
	int err;

	if (!vm->ctx)
		return -ENOENT;
	top_vm_rotate(vm);
	/*
	 * The guest keeps running while we read it: a tick between the clock read and the task walk
	 * charges the running task up to a tick (4 ms at HZ=250, 4 points at -d 0.1) that the clock
	 * read did not see. So the walk is bracketed by two readings of the scheduler clocks'
	 * generation and read again until they are equal (doc/ctop.md); after TOP_WALK_TRIES,
	 * or once the tries took a quarter of the interval (a large guest's walks rarely agree and
	 * each costs as much again), the last walk stands (its error is bounded by one tick).
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int try = 0;; try++) {
		uint64_t g0 = 0, g1 = 1;
		bool gen;

		if (try) {
			free_procs(vm->procs, vm->nprocs);
			vm->procs = NULL;
			vm->nprocs = 0;
		}
		nfm_ctx_refresh(vm->ctx);
		gen = nfm_ctx_sched_gen(vm->ctx, &g0) == 0;
		err = nfm_ctx_uptime_ns(vm->ctx, &vm->uptime_ns);
		if (err == 0)
			err = read_procs(vm, want_cmdline);
		if (err == 0)
			add_pending(vm);
		if (err < 0 || !gen)
			break;
		nfm_ctx_refresh(vm->ctx);
		if (nfm_ctx_sched_gen(vm->ctx, &g1) < 0 || g0 == g1 || try + 1 >= TOP_WALK_TRIES)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec) >
		    (long long)(vm->walk_budget_s * 1e9))
			break;
	}
	if (err < 0) {
		snprintf(vm->error, sizeof(vm->error), "cannot read the guest: %s", strerror(-err));
		return err;
	}
	vm->error[0] = 0;
	note_run_state(vm);
	nfm_loadavg(vm->ctx, &vm->load);
	nfm_meminfo(vm->ctx, &vm->mem);
	vm->have_cpu = nfm_cpu_times(vm->ctx, &vm->cpu, NULL, 0) >= 0;
	top_host_sample(vm);
	top_vm_compute(vm);
	return 0;
}

int top_vms_discover(const char *spec, struct top_vm **ret)
{
	static struct nfm_vm_info infos[MAX_VMS];
	struct top_vm *vms;
	int n, i;

	if (spec) {
		vms = calloc(1, sizeof(*vms));
		if (!vms)
			return -ENOMEM;
		snprintf(vms->spec, sizeof(vms->spec), "%s", spec);
		*ret = vms;
		return 1;
	}
	n = nfm_vm_list(infos, MAX_VMS);
	if (n < 0)
		return n;
	if (n > MAX_VMS)
		n = MAX_VMS;
	vms = calloc(n ? (size_t)n : 1, sizeof(*vms));
	if (!vms)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		vms[i].pid = infos[i].pid;
		vms[i].info = infos[i];
		snprintf(vms[i].name, sizeof(vms[i].name), "%s", infos[i].name);
		snprintf(vms[i].spec, sizeof(vms[i].spec), "pid:%d", infos[i].pid);
	}
	*ret = vms;
	return n;
}

void top_relink(struct top_state *st)
{
	size_t i, j;

	for (i = 0; i < st->nvms; i++)
		for (j = 0; j < st->vms[i].nprocs; j++) {
			st->vms[i].procs[j].vm = st->vms[i].name;
			st->vms[i].procs[j].vm_hv = &st->vms[i].hv;
		}
}

/*
 * The local VMs as the host lists them now: the ones still there keep their state, new ones
 * are added (attached by the next sample), the ones that exited are freed. Remote VMs stay
 * after them (top_remote.c keeps those).
 */
static void rescan(struct top_state *st)
{
	static struct nfm_vm_info infos[MAX_VMS];
	struct top_vm *nv, *filter = st->filter;
	size_t i, k = 0, nremote = 0;
	int n = nfm_vm_list(infos, MAX_VMS);

	if (n < 0)
		return;
	if (n > MAX_VMS)
		n = MAX_VMS;
	for (i = 0; i < st->nvms; i++)
		nremote += st->vms[i].remote;
	nv = calloc((size_t)n + nremote + 1, sizeof(*nv));
	if (!nv)
		return;
	st->filter = NULL;
	for (int j = 0; j < n; j++) {
		for (i = 0; i < st->nvms; i++)
			if (!st->vms[i].remote && st->vms[i].pid == infos[j].pid && st->vms[i].spec[0])
				break;
		if (i < st->nvms) {
			nv[k] = st->vms[i];
			st->vms[i].spec[0] = 0;		/* moved */
			if (filter == &st->vms[i])
				st->filter = &nv[k];
		} else {
			nv[k].pid = infos[j].pid;
			nv[k].info = infos[j];
			snprintf(nv[k].name, sizeof(nv[k].name), "%s", infos[j].name);
			snprintf(nv[k].spec, sizeof(nv[k].spec), "pid:%d", infos[j].pid);
		}
		k++;
	}
	for (i = 0; i < st->nvms; i++) {
		if (st->vms[i].remote) {
			if (filter == &st->vms[i])
				st->filter = &nv[k];
			nv[k++] = st->vms[i];
		} else if (st->vms[i].spec[0]) {
			top_vm_free(&st->vms[i]);	/* its QEMU process exited */
		}
	}
	free(st->vms);
	st->vms = nv;
	st->nvms = k;
	top_relink(st);
}

/* ---- formats ---- */

void top_format_time(uint64_t ns, char *buf, size_t size)
{
	uint64_t cs = ns / 10000000;	/* hundredths, as TIME+ */

	snprintf(buf, size, "%" PRIu64 ":%02" PRIu64 ".%02" PRIu64, cs / 6000, cs / 100 % 60, cs % 100);
}

void top_format_uptime(uint64_t ns, char *buf, size_t size)
{
	uint64_t s = ns / 1000000000, days = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	if (days)
		snprintf(buf, size, "%" PRIu64 " day%s, %2" PRIu64 ":%02" PRIu64, days,
			 days > 1 ? "s" : "", h, m);
	else if (h)
		snprintf(buf, size, "%2" PRIu64 ":%02" PRIu64, h, m);
	else
		snprintf(buf, size, "%" PRIu64 " min", m);
}

void top_sample_all(struct top_state *st)
{
	size_t i;

	if (st->rescan)
		rescan(st);
	for (i = 0; i < st->nvms; i++) {
		struct top_vm *vm = &st->vms[i];

		if (vm->remote)
			continue;	/* top_remote_sample() reads it */
		if (!vm->ctx && top_vm_attach(vm, st->attach_opts) < 0)
			continue;
		vm->walk_budget_s = st->delay / 4;
		top_vm_sample(vm, st->cmdline);
	}
	if (st->sample_remote)
		st->sample_remote(st);
}

const char *top_proc_command(const struct top_state *st, const struct top_proc *p, char *buf,
			     size_t size)
{
	if (!st->cmdline)
		return p->name;
	if (p->cmdline && p->cmdline[0])
		return p->cmdline;
	/* procps: a task without a command line (kernel thread, zombie) shows its comm in [] */
	if (!p->cmdline_known && !p->task.kthread)
		return p->name;	/* not read (a remote nfmd that sent none) */
	snprintf(buf, size, "[%s]", p->name);
	return buf;
}

const char *top_proc_wchan(const struct top_proc *p)
{
	const char *w = NULL;

	if (!p->ctx)
		return "-";
	if (nfm_task_wchan(p->ctx, &p->task, &w) < 0)
		return "?";
	return w ? w : "-";
}
