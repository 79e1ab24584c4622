// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfm_diagnose(): runs every check over one context and gathers the findings, worst first.
 * The report owns every string: findings, evidence lines and subjects are separate allocations
 * (diag_report.c) freed by nfm_diag_report_free().
 */
#include <errno.h>
#include <stdlib.h>

#include <nfm/diag.h>

#include "core/context.h"
#include "btf/btf.h"
#include "diag/diag_int.h"

static int cmp_finding(const void *a, const void *b)
{
	const struct nfm_diag_finding *x = a, *y = b;

	if (x->severity != y->severity)
		return (int)y->severity - (int)x->severity;
	return (int)x->kind - (int)y->kind;
}

void diag_sort(struct nfm_diag_report *r)
{
	if (r->nr_findings)
		qsort(r->findings, r->nr_findings, sizeof(*r->findings), cmp_finding);
}

void nfm_diag_report_free(struct nfm_diag_report *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; i < r->nr_findings; i++) {
		struct nfm_diag_finding *f = &r->findings[i];

		for (unsigned int k = 0; k < f->nr_evidence; k++)
			free((void *)f->evidence[k]);
		free((void *)f->evidence);
		free((void *)f->summary);
		free((void *)f->subject);
	}
	free(r->findings);
	free(r);
}

bool nfm_diag_report_partial(const struct nfm_diag_report *r)
{
	for (unsigned int i = 0; r && i < r->nr_checks; i++)
		if (r->checks[i].err)
			return true;
	return false;
}

int nfm_diagnose(struct nfm_ctx *ctx, struct nfm_diag_report **ret)
{
	struct diag d = { .ctx = ctx };
	bool trunc = false;
	int n;

	d.r = calloc(1, sizeof(*d.r));
	if (!d.r)
		return -ENOMEM;
	d.r->fig = (struct nfm_diag_figures){
		.panicked = -1, .panic_cpu = -1, .halted = -1, .taint = -1, .oops_count = -1,
		.hung_task_timeout_s = -1, .nr_hung_tasks = -1, .nr_dstate_tasks = -1,
		.nr_soft_lockup_cpus = -1, .oom_kills = -1, .allocstall = -1, .mem_total_kb = -1,
		.mem_available_kb = -1, .nr_log_soft_lockups = -1, .nr_log_hard_lockups = -1,
		.nr_log_rcu_stalls = -1,
	};
	if (nfm_ctx_uptime_ns(ctx, &d.r->uptime_ns) < 0)
		d.r->uptime_ns = 0;
	n = nfm_log_records(ctx, &d.log, &trunc);
	if (n < 0) {
		d.log = NULL;
		diag_check(&d, "log", n, "the kernel log");
	} else {
		d.nr_log = n;
		diag_check(&d, "log", 0, NULL);
	}
	diag_check_kernel(&d);
	diag_check_tasks(&d);
	diag_check_lockups(&d);
	diag_check_memory(&d);
	diag_check_network(&d);
	diag_check_filesystems(&d);
	free(d.log);
	nfm_btf_free(d.ext4_btf);
	if (d.nomem) {
		nfm_diag_report_free(d.r);
		return -ENOMEM;
	}
	diag_sort(d.r);
	*ret = d.r;
	return 0;
}
