// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Lockups (kernel/watchdog.c). A soft lockup under way: the CPU's watchdog_touch_ts (seconds of
 * running_clock(), i.e. sched_clock >> 30, stamped by the watchdog's stopper thread each time it
 * gets the CPU) lags the run-queue clocks (the same clock, still advanced by the tick while the
 * CPU is stuck with preemption off; the latest of the CPUs') by more than 2 * watchdog_thresh. A past one: the
 * L taint and the watchdog's "soft lockup" line. An RCU stall under way is rcu_state's
 * (diag_rcu.c), a past one the log's. A hard lockup under way is the vCPUs' (diag_hardlockup.c),
 * a past one the NMI watchdog's line in the log.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfm/diag.h>

#include "core/context.h"
#include "diag/diag_int.h"
#include "walk/list.h"

#define TAINT_SOFTLOCKUP 14

static int log_count(struct diag *d, const char *needle, int *first)
{
	int n = 0;

	*first = -1;
	for (int i = diag_log_find(d, 0, needle); i >= 0; i = diag_log_find(d, i + 1, needle)) {
		if (*first < 0)
			*first = i;
		n++;
	}
	return n;
}

/*
 * When the CPU's stopper thread (migration/N) last got the CPU: sched_info.last_arrival, ns of
 * the run-queue clock; 0 unknown. The watchdog's timer queues the stopper's work every sample
 * period and the work stamps watchdog_touch_ts, so this is that stamp to the nanosecond, but
 * never re-armed by a report: 5.10's stable kernels stamp watchdog_touch_ts anew at each report
 * (the log's "stuck for 3s!" every 3 s), which left a lockup under way looking like none.
 */
static uint64_t stopper_arrival(struct diag *d, uint64_t pcpu)
{
	struct nfm_field thread, si, arrival;
	uint64_t stopper, task = 0, at = 0;

	if (nfm_sym_lookup(d->ctx, "cpu_stopper", &stopper, NULL) < 0 ||
	    nfm_btf_field(d->ctx->btf, "cpu_stopper", "thread", &thread) < 0 || thread.size != 8 ||
	    nfm_btf_field(d->ctx->btf, "task_struct", "sched_info", &si) < 0 ||
	    nfm_btf_field(d->ctx->btf, "sched_info", "last_arrival", &arrival) < 0 ||
	    arrival.size != 8)
		return 0;
	if (nfm_kread(d->ctx, stopper + pcpu + thread.offset, &task, 8) < 0 ||
	    !nfm_kptr_ok(d->ctx, task) ||
	    nfm_kread(d->ctx, task + si.offset + arrival.offset, &at, 8) < 0)
		return 0;
	return at;
}

static void soft_lockups(struct diag *d, struct diag_rq *rqs, int n)
{
	struct nfm_diag_report *r = d->r;
	uint64_t touch;
	int64_t thresh = 10, enabled = -1;
	int64_t stuck_cpus = 0;
	uint64_t clock_max = 0;
	int first, nr_log;

	nr_log = log_count(d, "soft lockup - CPU#", &first);
	r->fig.nr_log_soft_lockups = d->log ? nr_log : -1;
	if (nfm_sym_lookup(d->ctx, "watchdog_touch_ts", &touch, NULL) < 0 ||
	    diag_read_sym(d->ctx, "watchdog_thresh", 4, &thresh) < 0) {
		diag_check(d, "lockups", -ENOENT, "watchdog_touch_ts (CONFIG_SOFTLOCKUP_DETECTOR)");
		n = 0;
	}
	diag_read_sym(d->ctx, "watchdog_enabled", 8, &enabled);
	/*
	 * "Now": the latest run-queue clock of any CPU. The stuck CPU's own is only as fresh as its
	 * last tick, which under load (a TCG vCPU, an RT kernel's threaded work) lags the
	 * running_clock() the watchdog compares with, so that right after the guest's report its
	 * own clock alone can show a second less than the kernel counted.
	 */
	for (int i = 0; i < n; i++)
		if (rqs[i].clock > clock_max)
			clock_max = rqs[i].clock;
	for (int i = 0; i < n && thresh > 0; i++) {
		struct nfm_diag_finding *f;
		uint64_t touched = 0, ts, now = clock_max >> 30, ran = stopper_arrival(d, rqs[i].pcpu);
		bool rearmed;

		if (nfm_kread(d->ctx, touch + rqs[i].pcpu, &touched, 8) < 0 || !touched)
			continue;
		/* the stopper's stamp when a report re-armed the watchdog's (older by more than the
		 * second that may lie between the stopper's arrival and its work's stamp) */
		rearmed = ran && ran < clock_max && (ran >> 30) + 1 < touched;
		ts = rearmed ? ran >> 30 : touched;
		if (now <= ts || now - ts <= (uint64_t)(2 * thresh))
			continue;
		stuck_cpus++;
		f = diag_add(d, NFM_DIAG_SOFT_LOCKUP, NFM_DIAG_CRITICAL,
			     "soft lockup under way: CPU %d stuck for %llu s [%s:%d]", rqs[i].cpu,
			     (unsigned long long)(now - ts), rqs[i].curr_comm, rqs[i].curr_pid);
		if (!f)
			continue;
		f->cpu = rqs[i].cpu;
		f->pid = rqs[i].curr_pid;
		diag_subject(d, f, rqs[i].curr_comm);
		if (rearmed) {
			char t[64];

			/* ULONG_MAX: touch_softlockup_watchdog()'s reset, as the report's printing
			 * leaves it; else the stamp a report re-armed */
			if (touched == UINT64_MAX)
				snprintf(t, sizeof(t), "reset (touch_softlockup_watchdog)");
			else
				snprintf(t, sizeof(t), "%llu s (stamped anew by a report)",
					 (unsigned long long)touched);
			diag_evidence(d, f, "watchdog_touch_ts %s; its stopper thread, which stamps it, "
				      "last got the CPU at %llu s, clock %llu s: the watchdog has not run "
				      "there for %llu s (threshold 2 * watchdog_thresh = %lld s)", t,
				      (unsigned long long)ts, (unsigned long long)now,
				      (unsigned long long)(now - ts), (long long)(2 * thresh));
		} else {
			diag_evidence(d, f, "watchdog_touch_ts %llu s, clock %llu s: the watchdog "
				      "has not run there for %llu s (threshold 2 * watchdog_thresh = %lld s)",
				      (unsigned long long)ts, (unsigned long long)now,
				      (unsigned long long)(now - ts), (long long)(2 * thresh));
		}
		if (enabled >= 0 && !(enabled & 2))
			diag_evidence(d, f, "the soft-lockup detector is off (watchdog_enabled "
				      "0x%llx): the guest itself reports nothing",
				      (long long)enabled);
		diag_rq_evidence(d, f, &rqs[i]);
		diag_pid_stack_evidence(d, f, rqs[i].curr_pid);
		if (first >= 0)
			diag_log_evidence(d, f, first, 30);
	}
	r->fig.nr_soft_lockup_cpus = n > 0 ? stuck_cpus : -1;
	if (stuck_cpus == 0 && (nr_log > 0 || (r->fig.taint > 0 &&
					       r->fig.taint >> TAINT_SOFTLOCKUP & 1))) {
		struct nfm_diag_finding *f = diag_add(d, NFM_DIAG_SOFT_LOCKUP, NFM_DIAG_WARNING,
			"a soft lockup happened since boot (%d logged), none under way", nr_log);

		if (!f)
			return;
		if (r->fig.taint > 0 && r->fig.taint >> TAINT_SOFTLOCKUP & 1)
			diag_evidence(d, f, "tainted_mask has L (a soft lockup occurred)");
		if (first >= 0) {
			const char *c = diag_log_at(d, first, "CPU#");
			int cpu = -1;

			if (c)	/* the record is NUL-terminated after text_len */
				sscanf(c + 4, "%d", &cpu);
			f->cpu = cpu;
			diag_log_evidence(d, f, first, 30);
		}
	}
}

/* A lockup or stall the log holds: its own finding, or evidence of the one under way (now). */
static void logged(struct diag *d, enum nfm_diag_kind kind, const char *needle, const char *what,
		   int64_t *count, struct nfm_diag_finding *now)
{
	int first, nr = log_count(d, needle, &first);
	struct nfm_diag_finding *f = now;

	*count = d->log ? nr : -1;
	if (!nr)
		return;
	if (f)
		diag_evidence(d, f, "%s logged %d time%s since boot", what, nr, nr == 1 ? "" : "s");
	else
		f = diag_add(d, kind, NFM_DIAG_ERROR, "%s logged %d time%s since boot", what, nr,
			     nr == 1 ? "" : "s");
	diag_log_evidence(d, f, first, 30);
}

void diag_check_lockups(struct diag *d)
{
	struct diag_rq *rqs = calloc(DIAG_MAX_CPUS, sizeof(*rqs));
	int n = rqs ? diag_runqueues(d, rqs, DIAG_MAX_CPUS, true) : -ENOMEM, rcu, hard;

	diag_check(d, "lockups", 0, NULL);
	if (n < 0)
		diag_check(d, "lockups", n, "the run queues");
	soft_lockups(d, rqs, n < 0 ? 0 : n);
	hard = diag_hard_lockups_now(d, rqs, n < 0 ? 0 : n);
	if (hard < 0)
		diag_check(d, "lockups", hard, "the vCPUs' registers (a hard lockup under way)");
	logged(d, NFM_DIAG_HARD_LOCKUP, "hard LOCKUP", "a hard lockup",
	       &d->r->fig.nr_log_hard_lockups,
	       hard > 0 ? &d->r->findings[d->r->nr_findings - 1] : NULL);
	rcu = diag_rcu_stall_now(d);
	if (rcu < 0)
		diag_check(d, "lockups", rcu, "rcu_state (an RCU stall under way)");
	/* "rcu: INFO: rcu_preempt self-detected stall on CPU", "...: rcu_sched detected stalls on CPUs/tasks:" */
	logged(d, NFM_DIAG_RCU_STALL, "detected stall", "an RCU stall",
	       &d->r->fig.nr_log_rcu_stalls, rcu > 0 ? &d->r->findings[d->r->nr_findings - 1] : NULL);
	free(rqs);
}
