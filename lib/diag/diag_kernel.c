// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel's own state: a panic (panic_cpu, kernel/panic.c), a halt or power-off
 * (system_state), oopses the kernel lived through (TAINT_DIE, oops_count since 6.2 and its
 * 6.1.y backport, else the log's Oops lines).
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

/* kernel/panic.c taint_flags[], bit order */
static const char taint_letters[] = "PFSRMBUDAWCIOELKXTN";

#define TAINT_DIE 7
#define TAINT_WARN 9
#define TAINT_SOFTLOCKUP 14

size_t nfm_diag_taint_text(uint64_t taint, char *buf, size_t size)
{
	size_t n = 0;

	if (!size)
		return 0;
	for (unsigned int b = 0; b < sizeof(taint_letters) - 1 && n + 1 < size; b++)
		if (taint >> b & 1)
			buf[n++] = taint_letters[b];
	buf[n] = 0;
	return n;
}

/* The PID in a "CPU: 0 PID: 80 Comm: sh" (6.12: "CPU: 0 UID: 0 PID: 80 ...") line at or after i. */
static int32_t log_task(const struct diag *d, int i, int *cpu)
{
	for (int k = i; k >= 0 && k < d->nr_log && k < i + 8; k++) {
		const char *t = d->log[k].text, *p;
		int c, pid;

		if (!t || strncmp(t, "CPU: ", 5) || !(p = strstr(t, "PID: ")))
			continue;
		if (sscanf(t, "CPU: %d", &c) == 1)
			*cpu = c;
		if (sscanf(p, "PID: %d", &pid) == 1)
			return pid;
	}
	return -1;
}

static void panic_check(struct diag *d)
{
	struct nfm_diag_report *r = d->r;
	struct nfm_diag_finding *f;
	int64_t cpu = -1;
	int i = diag_log_find(d, 0, "Kernel panic - not syncing");
	int err = diag_read_sym(d->ctx, "panic_cpu", 4, &cpu);

	if (err < 0)
		diag_check(d, "kernel", err, "panic_cpu");
	r->fig.panic_cpu = err == 0 && cpu >= 0 ? (int)cpu : -1;
	r->fig.panicked = r->fig.panic_cpu >= 0 || i >= 0;
	if (!r->fig.panicked)
		return;
	if (i >= 0) {
		const char *t = diag_log_at(d, i, "not syncing") + 11;
		const char *end = d->log[i].text + d->log[i].text_len;
		size_t n = 0;

		while (t < end && (*t == ':' || *t == ' '))
			t++;
		while (t + n < end && t[n] && t[n] != '\n')
			n++;
		f = diag_add(d, NFM_DIAG_PANIC, NFM_DIAG_CRITICAL, "the kernel panicked: %.*s",
			     (int)(n > 200 ? 200 : n), t);
	} else {
		f = diag_add(d, NFM_DIAG_PANIC, NFM_DIAG_CRITICAL,
			     "the kernel panicked (the panic message is not in the log)");
	}
	if (!f)
		return;
	f->cpu = r->fig.panic_cpu;
	if (f->cpu >= 0)
		diag_evidence(d, f, "panic_cpu = %d: CPU %d panicked and stopped the others", f->cpu,
			      f->cpu);
	else
		diag_evidence(d, f, "panic_cpu = -1, but the log holds a panic message");
	if (i >= 0) {
		struct nfm_task t;
		int lcpu = -1;
		int32_t pid = log_task(d, i, &lcpu);

		/* The panicking task runs on the panic CPU: no saved frame, but the stack the
		 * kernel printed right after the message, and its vCPU's registers. */
		diag_log_evidence(d, f, i, 60);
		if (pid >= 0) {
			f->pid = pid;
			if (f->cpu < 0)
				f->cpu = lcpu;
			if (pid > 0 && nfm_task_get(d->ctx, pid, NFM_TASK_THREADS, &t) == 0) {
				diag_subject(d, f, t.name);
				diag_evidence(d, f, "panicking task: pid %d %s, state %c", pid, t.name,
					      t.state ? t.state : '?');
				diag_stack_evidence(d, f, &t);
			}
		}
	}
}

/* What each CPU ran when it stopped (a halt takes every CPU offline: the possible ones are
 * read), with the stack of the task that asked for it (the one not idle). */
static void stopped_cpus_evidence(struct diag *d, struct nfm_diag_finding *f)
{
	struct diag_rq *rqs = calloc(DIAG_MAX_CPUS, sizeof(*rqs));
	int n = rqs ? diag_runqueues(d, rqs, DIAG_MAX_CPUS, false) : -ENOMEM, shown = 0;

	for (int i = 0; i < n && shown < 8; i++) {
		if (rqs[i].curr_pid <= 0)
			continue;	/* idle */
		diag_evidence(d, f, "CPU %d stopped running pid %d %s:", rqs[i].cpu, rqs[i].curr_pid,
			      rqs[i].curr_comm);
		diag_pid_stack_evidence(d, f, rqs[i].curr_pid);
		shown++;
	}
	free(rqs);
}

static void halted_check(struct diag *d)
{
	static const char *const states[] = { "SYSTEM_HALT", "SYSTEM_POWER_OFF", "SYSTEM_RESTART" };
	/* what kernel/reboot.c logs for each ("reboot: System halted") */
	static const char *const said[] = { "System halted", "Power down", "Restarting system" };
	int64_t st, v;
	int err = diag_read_sym(d->ctx, "system_state", 4, &st);

	if (err < 0) {
		diag_check(d, "kernel", err, "system_state");
		return;
	}
	d->r->fig.halted = 0;
	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		struct nfm_diag_finding *f;

		if (nfm_btf_enum_value(d->ctx->btf, states[k], &v) < 0 || v != st)
			continue;
		d->r->fig.halted = 1;
		f = diag_add(d, NFM_DIAG_HALTED, NFM_DIAG_CRITICAL, "the kernel is %s",
			     k == 0 ? "halted" : k == 1 ? "powered off" : "restarting");
		diag_evidence(d, f, "system_state = %s (%lld)", states[k], (long long)st);
		diag_log_evidence(d, f, diag_log_find(d, 0, said[k]), 1);
		stopped_cpus_evidence(d, f);
	}
}

static void oops_check(struct diag *d)
{
	struct nfm_diag_report *r = d->r;
	struct nfm_diag_finding *f;
	int64_t taint = 0, count = -1;
	int nr_log = 0, first = -1;
	char letters[32];

	if (diag_read_sym(d->ctx, "tainted_mask", 8, &taint) < 0) {
		diag_check(d, "kernel", -ENOENT, "tainted_mask");
		taint = -1;
	}
	r->fig.taint = taint;
	for (int i = diag_log_find(d, 0, "Oops: "); i >= 0; i = diag_log_find(d, i + 1, "Oops: ")) {
		if (first < 0)
			first = i;
		nr_log++;
	}
	if (diag_read_sym(d->ctx, "oops_count", 4, &count) < 0 || count < 0)
		count = d->log ? nr_log : -1;	/* before oops_count (6.2, 6.1.y): the log's */
	r->fig.oops_count = count;
	if (r->fig.panicked == 1)
		return;	/* the panic finding tells it all */
	if (!(taint >= 0 && taint >> TAINT_DIE & 1) && count <= 0)
		return;
	nfm_diag_taint_text(taint < 0 ? 0 : (uint64_t)taint, letters, sizeof(letters));
	f = diag_add(d, NFM_DIAG_OOPS, NFM_DIAG_ERROR,
		     "the kernel oopsed %lld time%s and lives on (tainted %s)", (long long)count,
		     count == 1 ? "" : "s", letters);
	if (!f)
		return;
	diag_evidence(d, f, "tainted_mask = 0x%llx (%s)%s", (long long)taint, letters,
		      taint >> TAINT_DIE & 1 ? ": D, the kernel died in a task (an oops)" : "");
	diag_evidence(d, f, "oops count %lld", (long long)count);
	if (first >= 0) {
		int cpu = -1, from = first;

		/* the BUG: line the oops follows ("BUG: kernel NULL pointer dereference", then
		 * #PF and page-table lines), when it is a few records before */
		for (int k = first - 1; k >= 0 && k >= first - 6; k--)
			if (d->log[k].text && !strncmp(d->log[k].text, "BUG: ", 5))
				from = k;

		f->pid = log_task(d, first, &cpu);
		f->cpu = cpu;
		diag_log_evidence(d, f, from, 40);
	}
}

void diag_check_kernel(struct diag *d)
{
	diag_check(d, "kernel", 0, NULL);
	panic_check(d);
	halted_check(d);
	oops_check(d);
}
