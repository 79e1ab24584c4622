// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hung tasks as khungtaskd (kernel/hung_task.c) sees them: uninterruptible (D, not TASK_NOLOAD)
 * for longer than sysctl_hung_task_timeout_secs. How long a task has slept is the run queues'
 * clock (sched_clock ns, the newest of the online CPUs') minus its sched_info.last_arrival
 * (when it last got a CPU; CONFIG_SCHED_INFO, which every distribution kernel has through
 * TASK_DELAY_ACCT or SCHEDSTATS). The run queues themselves: runqueues per CPU.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/diag.h>
#include <nfm/stack.h>
#include <nfm/task.h>

#include "core/context.h"
#include "diag/diag_int.h"
#include "walk/fields.h"
#include "walk/percpu.h"

#define MAX_HUNG_FINDINGS 32
#define DEFAULT_HUNG_TIMEOUT_S 120	/* CONFIG_DEFAULT_HUNG_TASK_TIMEOUT in Debian and upstream */

struct rq_off {
	int32_t clock, nr_running, curr, cpu;
	int32_t pid, comm, last_arrival, on_cpu;
};

static const struct nfm_field_spec rq_specs[] = {
	NFM_FIELD(struct rq_off, clock, "rq", "clock", 0),
	NFM_FIELD(struct rq_off, nr_running, "rq", "nr_running", 0),
	NFM_FIELD(struct rq_off, curr, "rq", "curr", 0),
	NFM_FIELD(struct rq_off, cpu, "rq", "cpu", NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct rq_off, pid, "task_struct", "pid", 0),
	NFM_FIELD(struct rq_off, comm, "task_struct", "comm", 0),
	NFM_FIELD(struct rq_off, last_arrival, "task_struct", "sched_info.last_arrival",
		  NFM_FIELD_OPTIONAL),
	NFM_FIELD(struct rq_off, on_cpu, "task_struct", "on_cpu", NFM_FIELD_OPTIONAL),
};

static int offsets(struct diag *d, struct rq_off *o)
{
	return nfm_resolve_fields(d->ctx, rq_specs, sizeof(rq_specs) / sizeof(rq_specs[0]), o);
}

int diag_runqueues(struct diag *d, struct diag_rq *rqs, int max, bool online)
{
	uint64_t *offs, base;
	struct rq_off o;
	int n, err;

	if ((err = offsets(d, &o)) < 0 || (err = nfm_ksym(d->ctx, "runqueues", &base)) < 0)
		return err;
	if (max > DIAG_MAX_CPUS)
		max = DIAG_MAX_CPUS;
	offs = calloc((size_t)max, sizeof(*offs));
	if (!offs)
		return -ENOMEM;
	n = nfm_percpu_offsets(d->ctx, online, offs, max);
	if (n < 0) {
		free(offs);
		return n;
	}
	for (int i = 0; i < n; i++) {
		struct diag_rq *q = &rqs[i];
		uint64_t rq = base + offs[i];
		int32_t cpu = i;

		memset(q, 0, sizeof(*q));
		q->pcpu = offs[i];
		q->curr_pid = -1;
		if ((err = nfm_kread(d->ctx, rq + o.clock, &q->clock, 8)) < 0 ||
		    (err = nfm_kread(d->ctx, rq + o.nr_running, &q->nr_running, 4)) < 0 ||
		    (err = nfm_kread(d->ctx, rq + o.curr, &q->curr, 8)) < 0) {
			free(offs);
			return err;
		}
		if (o.cpu >= 0)
			nfm_kread(d->ctx, rq + o.cpu, &cpu, 4);
		q->cpu = cpu;
		if (q->curr && nfm_kread(d->ctx, q->curr + o.pid, &q->curr_pid, 4) == 0)
			nfm_kread(d->ctx, q->curr + o.comm, q->curr_comm, 15);
	}
	free(offs);
	return n;
}

void diag_rq_evidence(struct diag *d, struct nfm_diag_finding *f, const struct diag_rq *rq)
{
	struct nfm_task_iter *it;
	struct nfm_task t;
	int k, shown = 0;

	diag_evidence(d, f, "run queue of CPU %d: %u runnable, running pid %d %s", rq->cpu,
		      rq->nr_running, rq->curr_pid, rq->curr_comm);
	if (nfm_task_iter_new(d->ctx, NFM_TASK_THREADS, &it) < 0)
		return;
	while ((k = nfm_task_iter_next(it, &t)) > 0 && shown < 16) {
		int cpu;

		if (t.state != 'R' || t.addr == rq->curr || nfm_task_cpu(d->ctx, &t, &cpu) < 0 ||
		    cpu != rq->cpu)
			continue;
		diag_evidence(d, f, "  waiting on CPU %d: pid %d %s", cpu, t.pid, t.name);
		shown++;
	}
	nfm_task_iter_free(it);
}

void diag_stack_evidence(struct diag *d, struct nfm_diag_finding *f, const struct nfm_task *t)
{
	struct nfm_stack_frame fr[NFM_STACK_MAX_FRAMES];
	unsigned int flags = 0;
	const char *wchan = NULL;
	char line[512];
	int n = nfm_task_stack(d->ctx, t, fr, NFM_STACK_MAX_FRAMES, &flags);

	if (nfm_task_wchan(d->ctx, t, &wchan) == 0 && wchan)
		diag_evidence(d, f, "wchan %s", wchan);
	if (n < 0) {
		diag_evidence(d, f, "stack: unreadable (%s)", strerror(-n));
		return;
	}
	if (flags & NFM_STACK_RUNNING) {
		/* no saved frame: the vCPU's registers, when the source has them */
		unsigned int rfl = 0;
		int cpu = -1, m = nfm_task_stack_running(d->ctx, t, fr, NFM_STACK_MAX_FRAMES, &rfl,
							 &cpu);

		if (m >= 0 && (rfl & NFM_STACK_USER)) {
			diag_evidence(d, f, "stack: running on CPU %d in user mode", cpu);
		} else if (m >= 0 && (m > 0 || !(rfl & NFM_STACK_ERROR))) {
			diag_evidence(d, f, "stack: running on CPU %d, from its vCPU's registers:",
				      cpu);
			n = m;
			flags = rfl;
		} else {
			diag_evidence(d, f, "stack: running on a CPU, no saved frame%s",
				      m == -ESRCH ? " (it left the CPU before the registers were read)" :
				      m == -EOPNOTSUPP ? " and no registers" : "");
		}
	}
	for (int i = 0; i < n; i++) {
		nfm_stack_frame_format(&fr[i], line, sizeof(line));
		diag_evidence(d, f, "[<0>] %s", line);
	}
	if (flags & (NFM_STACK_TRUNCATED | NFM_STACK_ERROR))
		diag_evidence(d, f, "stack: cut short");
}

void diag_pid_stack_evidence(struct diag *d, struct nfm_diag_finding *f, int32_t pid)
{
	struct nfm_task t;

	if (pid > 0 && nfm_task_get(d->ctx, pid, NFM_TASK_THREADS, &t) == 0)
		diag_stack_evidence(d, f, &t);
}

void diag_check_tasks(struct diag *d)
{
	struct nfm_diag_report *r = d->r;
	struct diag_rq *rqs;
	struct nfm_task_iter *it;
	struct nfm_task t;
	struct rq_off o;
	int64_t timeout = -1;
	int64_t nr_d = 0, nr_hung = 0;
	int n, k, err;

	if ((err = offsets(d, &o)) < 0) {
		diag_check(d, "tasks", err, "task_struct and rq members");
		return;
	}
	rqs = calloc(DIAG_MAX_CPUS, sizeof(*rqs));
	n = rqs ? diag_runqueues(d, rqs, DIAG_MAX_CPUS, true) : -ENOMEM;
	for (int i = 0; i < n; i++)
		if (rqs[i].clock > d->rq_now_ns)
			d->rq_now_ns = rqs[i].clock;
	free(rqs);
	if (diag_read_sym(d->ctx, "sysctl_hung_task_timeout_secs", 8, &timeout) < 0)
		timeout = -1;	/* no CONFIG_DETECT_HUNG_TASK: the default */
	r->fig.hung_task_timeout_s = timeout;
	if (timeout <= 0)
		timeout = DEFAULT_HUNG_TIMEOUT_S;
	if (o.last_arrival < 0 || !d->rq_now_ns) {
		diag_check(d, "tasks", -ENOENT, n < 0 ? "the run queues" :
			   "sched_info.last_arrival (CONFIG_SCHED_INFO)");
		return;
	}
	if ((err = nfm_task_iter_new(d->ctx, NFM_TASK_THREADS, &it)) < 0) {
		diag_check(d, "tasks", err, "the task list");
		return;
	}
	while ((k = nfm_task_iter_next(it, &t)) > 0) {
		struct nfm_diag_finding *f;
		uint64_t arrival = 0, slept;

		if (t.state != 'D')
			continue;
		nr_d++;
		if (nfm_kread(d->ctx, t.addr + o.last_arrival, &arrival, 8) < 0 ||
		    arrival > d->rq_now_ns)
			continue;
		slept = d->rq_now_ns - arrival;
		if (slept / 1000000000ull < (uint64_t)timeout)
			continue;
		nr_hung++;
		if (nr_hung > MAX_HUNG_FINDINGS)
			continue;
		f = diag_add(d, NFM_DIAG_HUNG_TASK, NFM_DIAG_ERROR,
			     "task %d (%s) blocked in D state for %llu s (hung-task timeout %lld s)",
			     t.pid, t.name, (unsigned long long)(slept / 1000000000ull),
			     (long long)timeout);
		if (!f)
			continue;
		f->pid = t.pid;
		diag_subject(d, f, t.name);
		diag_evidence(d, f, "state D; last on a CPU %llu.%03llu s ago "
			      "(sched_info.last_arrival %llu ns, run-queue clock %llu ns)",
			      (unsigned long long)(slept / 1000000000ull),
			      (unsigned long long)(slept / 1000000 % 1000),
			      (unsigned long long)arrival, (unsigned long long)d->rq_now_ns);
		diag_evidence(d, f, "sysctl_hung_task_timeout_secs = %lld%s",
			      (long long)r->fig.hung_task_timeout_s,
			      r->fig.hung_task_timeout_s < 0 ? " (no detector: 120 assumed)" :
			      r->fig.hung_task_timeout_s == 0 ? " (detector off: 120 assumed)" : "");
		diag_stack_evidence(d, f, &t);
		{
			char needle[48];
			int i;

			snprintf(needle, sizeof(needle), ":%d blocked for more than", t.pid);
			if ((i = diag_log_find(d, 0, needle)) >= 0)
				diag_log_evidence(d, f, i, 1);
		}
	}
	if (k < 0 || nfm_task_iter_skipped(it))
		diag_check(d, "tasks", k < 0 ? k : -EAGAIN, "the task list (cut short)");
	nfm_task_iter_free(it);
	r->fig.nr_dstate_tasks = nr_d;
	r->fig.nr_hung_tasks = nr_hung;
	diag_check(d, "tasks", 0, NULL);
}
