// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON builders for nfm diagnose: a finding (doc/schema/finding.json), the checks and figures. */
#include <nfm/nfm.h>
#include <nfm/diag.h>

#include "objects.h"

struct json_object *obj_finding(const struct nfm_diag_finding *f)
{
	struct json_object *o = json_object_new_object(), *ev = json_object_new_array();

	j_add(o, "kind", j_str(nfm_diag_kind_name(f->kind)));
	j_add(o, "severity", j_str(nfm_diag_severity_name(f->severity)));
	j_add(o, "summary", j_str(f->summary));
	for (unsigned int i = 0; i < f->nr_evidence; i++)
		json_object_array_add(ev, j_str(f->evidence[i]));
	j_add(o, "evidence", ev);
	if (f->pid >= 0)
		j_add(o, "pid", j_int(f->pid));
	if (f->cpu >= 0)
		j_add(o, "cpu", j_int(f->cpu));
	if (f->subject)
		j_add(o, "subject", j_str(f->subject));
	return o;
}

struct json_object *obj_diag_checks(const struct nfm_diag_report *r)
{
	struct json_object *a = json_object_new_array();

	for (unsigned int i = 0; i < r->nr_checks; i++) {
		struct json_object *c = json_object_new_object();

		j_add(c, "name", j_str(r->checks[i].name));
		j_add(c, "complete", j_bool(!r->checks[i].err));
		if (r->checks[i].err) {
			j_add(c, "errno", j_int(-r->checks[i].err));
			j_add(c, "unread", j_str(r->checks[i].what));
		}
		json_object_array_add(a, c);
	}
	return a;
}

static struct json_object *opt_int(int64_t v)
{
	return v < 0 ? NULL : j_int(v);
}

struct json_object *obj_diag_figures(const struct nfm_diag_figures *g)
{
	struct json_object *o = json_object_new_object();

	j_add(o, "panicked", g->panicked < 0 ? NULL : j_bool(g->panicked));
	j_add(o, "panic_cpu", opt_int(g->panic_cpu));
	j_add(o, "halted", g->halted < 0 ? NULL : j_bool(g->halted));
	if (g->taint >= 0) {
		char letters[32];
		struct json_object *a = json_object_new_array();

		nfm_diag_taint_text((uint64_t)g->taint, letters, sizeof(letters));
		for (const char *p = letters; *p; p++)
			json_object_array_add(a, json_object_new_string_len(p, 1));
		j_add(o, "taint", a);
	} else {
		j_add(o, "taint", NULL);
	}
	j_add(o, "taint_code", opt_int(g->taint));
	j_add(o, "oops_count", opt_int(g->oops_count));
	j_add(o, "hung_task_timeout_ns",
	      g->hung_task_timeout_s < 0 ? NULL : j_u64((uint64_t)g->hung_task_timeout_s * 1000000000ull));
	j_add(o, "nr_hung_tasks", opt_int(g->nr_hung_tasks));
	j_add(o, "nr_dstate_tasks", opt_int(g->nr_dstate_tasks));
	j_add(o, "nr_soft_lockup_cpus", opt_int(g->nr_soft_lockup_cpus));
	j_add(o, "oom_kills", opt_int(g->oom_kills));
	j_add(o, "allocstall", opt_int(g->allocstall));
	j_add(o, "mem_total_bytes", g->mem_total_kb < 0 ? NULL : j_u64((uint64_t)g->mem_total_kb << 10));
	j_add(o, "mem_available_bytes",
	      g->mem_available_kb < 0 ? NULL : j_u64((uint64_t)g->mem_available_kb << 10));
	j_add(o, "nr_log_soft_lockups", opt_int(g->nr_log_soft_lockups));
	j_add(o, "nr_log_hard_lockups", opt_int(g->nr_log_hard_lockups));
	j_add(o, "nr_log_rcu_stalls", opt_int(g->nr_log_rcu_stalls));
	return o;
}
