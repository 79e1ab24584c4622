// SPDX-License-Identifier: GPL-2.0-or-later
/* The task walker's BTF offsets and per-attach constants, resolved once per attach. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/context.h"
#include "walk/fields.h"
#include "task/task_off.h"

#define S struct nfm_task_state
static const struct nfm_field_spec task_specs[] = {
	NFM_FIELD(S, t.size, "task_struct", NULL, NFM_FIELD_SIZE),
	NFM_FIELD(S, t.tasks, "task_struct", "tasks", 0),
	NFM_FIELD(S, t.pid, "task_struct", "pid", 0),
	NFM_FIELD(S, t.tgid, "task_struct", "tgid", 0),
	/* __state since 5.14 (2f064a59a11f "sched: Change task_struct::state"); state before. */
	NFM_FIELD(S, t.state, "task_struct", "__state", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, t.exit_state, "task_struct", "exit_state", 0),
	NFM_FIELD(S, t.flags, "task_struct", "flags", 0),
	NFM_FIELD(S, t.comm, "task_struct", "comm", 0),
	NFM_FIELD(S, t.real_parent, "task_struct", "real_parent", 0),
	NFM_FIELD(S, t.real_cred, "task_struct", "real_cred", 0),
	NFM_FIELD(S, t.signal, "task_struct", "signal", 0),
	NFM_FIELD(S, t.mm, "task_struct", "mm", 0),
	NFM_FIELD(S, t.static_prio, "task_struct", "static_prio", 0),
	NFM_FIELD(S, t.prio, "task_struct", "prio", 0),
	NFM_FIELD(S, t.policy, "task_struct", "policy", 0),
	NFM_FIELD(S, t.rt_priority, "task_struct", "rt_priority", 0),
	NFM_FIELD(S, t.utime, "task_struct", "utime", 0),
	NFM_FIELD(S, t.stime, "task_struct", "stime", 0),
	NFM_FIELD(S, t.sum_exec_runtime, "task_struct", "se.sum_exec_runtime", 0),
	/* start_boottime since 5.5 (real_start_time before). */
	NFM_FIELD(S, t.start_boottime, "task_struct", "start_boottime", 0),
	NFM_FIELD(S, t.prev_utime, "task_struct", "prev_cputime.utime", 0),
	NFM_FIELD(S, t.prev_stime, "task_struct", "prev_cputime.stime", 0),
	NFM_FIELD(S, t.thread_node, "task_struct", "thread_node", 0),
	NFM_FIELD(S, s.size, "signal_struct", NULL, NFM_FIELD_SIZE),
	NFM_FIELD(S, s.nr_threads, "signal_struct", "nr_threads", 0),
	NFM_FIELD(S, s.thread_head, "signal_struct", "thread_head", 0),
	NFM_FIELD(S, s.utime, "signal_struct", "utime", 0),
	NFM_FIELD(S, s.stime, "signal_struct", "stime", 0),
	NFM_FIELD(S, s.sum_sched_runtime, "signal_struct", "sum_sched_runtime", 0),
	NFM_FIELD(S, s.prev_utime, "signal_struct", "prev_cputime.utime", 0),
	NFM_FIELD(S, s.prev_stime, "signal_struct", "prev_cputime.stime", 0),
	NFM_FIELD(S, c.uid, "cred", "uid", 0),
	NFM_FIELD(S, c.fsgid, "cred", "fsgid", 0),
	NFM_FIELD(S, m.size, "mm_struct", NULL, NFM_FIELD_SIZE),
	NFM_FIELD(S, m.pgd, "mm_struct", "pgd", 0),
	NFM_FIELD(S, m.total_vm, "mm_struct", "total_vm", 0),
	NFM_FIELD(S, m.rss_stat, "mm_struct", "rss_stat", 0),
	NFM_FIELD(S, m.arg_start, "mm_struct", "arg_start", 0),
	NFM_FIELD(S, m.arg_end, "mm_struct", "arg_end", 0),
	NFM_FIELD(S, m.env_start, "mm_struct", "env_start", 0),
	NFM_FIELD(S, m.env_end, "mm_struct", "env_end", 0),
	NFM_FIELD(S, m.start_brk, "mm_struct", "start_brk", 0),
	NFM_FIELD(S, m.brk, "mm_struct", "brk", 0),
	NFM_FIELD(S, m.start_stack, "mm_struct", "start_stack", 0),
	NFM_FIELD(S, m.mm_mt, "mm_struct", "mm_mt", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, m.context_flags, "mm_struct", "context.flags", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, m.map_count, "mm_struct", "map_count", 0),
	NFM_FIELD(S, pcc_size, "percpu_counter", NULL, NFM_FIELD_SIZE | NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, pcc_count, "percpu_counter", "count", NFM_FIELD_OPTIONAL),
	NFM_FIELD(S, pcc_counters, "percpu_counter", "counters", NFM_FIELD_OPTIONAL),
};
#undef S

#define NR_CPUS_MAX 8192u
#define STRUCT_MAX (64u << 10)

static void state_free(void *p)
{
	struct nfm_task_state *ts = p;

	if (ts)
		free(ts->cpu_off);
	free(ts);
}

static int enum_val(struct nfm_ctx *ctx, const char *name)
{
	int64_t v;

	if (nfm_btf_enum_value(ctx->btf, name, &v) < 0 || v < 0 || v > 16)
		return -1;
	return (int)v;
}

/* Do members {offset, length} all lie inside a buffer of size bytes? (The BTF is the guest's.) */
static bool inside(const struct nfm_task_window *m, size_t n, int32_t size)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].off < 0 || m[i].len > size || m[i].off > size - m[i].len)
			return false;
	return true;
}

/* Every member the walker reads from its signal_struct and mm_struct buffers lies inside them. */
static int check_sizes(const struct nfm_task_state *ts)
{
	const struct nfm_sig_off *s = &ts->s;
	const struct nfm_mm_off *m = &ts->m;
	const struct nfm_task_window sig[] = {
		{ s->nr_threads, 4 }, { s->thread_head, 16 }, { s->utime, 8 }, { s->stime, 8 },
		{ s->sum_sched_runtime, 8 }, { s->prev_utime, 8 }, { s->prev_stime, 8 },
	};
	const struct nfm_task_window mm[] = {
		{ m->total_vm, 8 }, { m->rss_stat, m->rss_stat_size }, { m->arg_start, 8 },
		{ m->arg_end, 8 }, { m->env_start, 8 }, { m->env_end, 8 }, { m->start_brk, 8 },
		{ m->brk, 8 }, { m->start_stack, 8 },
	};

	if (ts->t.size <= 0 || (uint32_t)ts->t.size > STRUCT_MAX || s->size <= 0 ||
	    (uint32_t)s->size > STRUCT_MAX || m->size <= 0 || (uint32_t)m->size > STRUCT_MAX)
		return -EBADMSG;
	/* task_struct members: build_windows() checks them. */
	if (!inside(sig, sizeof(sig) / sizeof(sig[0]), s->size) ||
	    !inside(mm, sizeof(mm) / sizeof(mm[0]), m->size))
		return -EBADMSG;
	if (ts->c.fsgid - ts->c.uid != 28)	/* eight consecutive 32-bit ids */
		return -EBADMSG;
	return 0;
}

/*
 * A task_struct is ~10 KiB of which the walker needs ~200 bytes: read only the windows around the
 * members in nfm_task_off (each with its size), merged when less than a cache line apart. Bytes
 * outside the windows stay zero in the walker's buffer.
 */
static int build_windows(struct nfm_task_state *ts)
{
	const struct nfm_task_off *t = &ts->t;
	struct nfm_task_window m[] = {
		{ t->tasks, 16 }, { t->pid, 4 }, { t->tgid, 4 }, { t->state, 4 },
		{ t->exit_state, 4 }, { t->flags, 4 }, { t->comm, 16 }, { t->real_parent, 8 },
		{ t->real_cred, 8 }, { t->signal, 8 }, { t->mm, 8 }, { t->static_prio, 4 },
		{ t->prio, 4 }, { t->policy, 4 }, { t->rt_priority, 4 }, { t->utime, 8 },
		{ t->stime, 8 }, { t->sum_exec_runtime, 8 }, { t->start_boottime, 8 },
		{ t->prev_utime, 8 }, { t->prev_stime, 8 }, { t->thread_node, 16 },
	};
	int n = (int)(sizeof(m) / sizeof(m[0])), i, j;

	if (!inside(m, (size_t)n, t->size))
		return -EBADMSG;
	for (i = 1; i < n; i++)	/* insertion sort by offset */
		for (j = i; j > 0 && m[j - 1].off > m[j].off; j--) {
			struct nfm_task_window x = m[j];

			m[j] = m[j - 1];
			m[j - 1] = x;
		}
	ts->nr_win = 0;
	for (i = 0; i < n; i++) {
		struct nfm_task_window *w = ts->nr_win ? &ts->win[ts->nr_win - 1] : NULL;

		if (w && m[i].off <= w->off + w->len + 64) {
			if (m[i].off + m[i].len > w->off + w->len)
				w->len = m[i].off + m[i].len - w->off;
			continue;
		}
		ts->win[ts->nr_win++] = m[i];
	}
	return 0;
}

/*
 * Do /proc/PID/status VmRSS and statm add the per-CPU parts of the 6.2+ counters? "mm: fix the
 * inaccurate memory statistics issue for users" made task_mem() and task_statm() call
 * get_mm_counter_sum() in 6.16 and in the stable updates 6.12.39 (listed in Debian's 6.12
 * changelog; the lab's 6.12.118 guests show VmRSS as the sum) and 6.15.7 (the same stable batch).
 * /proc/PID/stat field 24 reads the counters on every kernel. Other releases: the counters.
 */
static bool status_rss_summed(const struct nfm_ctx *ctx)
{
	const char *rel = ctx->vmci ? nfm_vmcoreinfo_get(ctx->vmci, "OSRELEASE") : NULL;
	unsigned int a = 0, b = 0, c = 0;

	if (!rel || sscanf(rel, "%u.%u.%u", &a, &b, &c) < 2)
		return false;
	if (a != 6)
		return a > 6;
	return b >= 16 || (b == 12 && c >= 39) || (b == 15 && c >= 7);
}

static int build(struct nfm_ctx *ctx, struct nfm_task_state *ts)
{
	struct nfm_field rss;
	uint64_t pco;
	uint32_t n;
	int err;

	err = nfm_resolve_fields(ctx, task_specs, sizeof(task_specs) / sizeof(task_specs[0]), ts);
	if (err < 0)
		return err;
	if (ts->t.state < 0) {
		struct nfm_field f;

		if (nfm_btf_field(ctx->btf, "task_struct", "state", &f) < 0)
			return -ENOENT;
		ts->t.state = (int32_t)f.offset;
	}
	ts->mm_filepages = enum_val(ctx, "MM_FILEPAGES");
	ts->mm_anonpages = enum_val(ctx, "MM_ANONPAGES");
	ts->mm_shmempages = enum_val(ctx, "MM_SHMEMPAGES");
	ts->nr_mm_counters = enum_val(ctx, "NR_MM_COUNTERS");
	if (ts->mm_filepages < 0 || ts->mm_anonpages < 0 || ts->nr_mm_counters <= 0)
		return -ENOENT;
	/* Counter indexes pick a slot of rss_stat[NR_MM_COUNTERS]: they must be below it. */
	if (ts->mm_filepages >= ts->nr_mm_counters || ts->mm_anonpages >= ts->nr_mm_counters ||
	    ts->mm_shmempages >= ts->nr_mm_counters)
		return -EBADMSG;
	if (nfm_btf_field(ctx->btf, "mm_struct", "rss_stat", &rss) < 0)
		return -ENOENT;
	ts->m.rss_stat_size = (int32_t)rss.size;
	/*
	 * 6.2 (f1a7941243c1 "mm: convert mm's rss stats into percpu_counter") made rss_stat an array
	 * of percpu_counter; before it was struct mm_rss_stat { atomic_long_t count[]; }.
	 */
	if (rss.size == (uint32_t)ts->nr_mm_counters * 8) {
		ts->rss_percpu = 0;
	} else if (ts->pcc_size > 0 && ts->pcc_count >= 0 && ts->pcc_counters >= 0 &&
		   ts->pcc_count <= ts->pcc_size - 8 && ts->pcc_counters <= ts->pcc_size - 8 &&
		   rss.size == (uint32_t)(ts->nr_mm_counters * ts->pcc_size)) {
		ts->rss_percpu = 1;
		ts->status_rss_summed = status_rss_summed(ctx);
	} else {
		return -EBADMSG;
	}
	err = check_sizes(ts);
	if (err < 0)
		return err;
	err = build_windows(ts);
	if (err < 0)
		return err;
	err = nfm_ksym(ctx, "init_task", &ts->init_task);
	if (err < 0)
		return err;
	/* the kernel's count of forked tasks: the task walk's cross-check */
	if (nfm_sym_lookup(ctx, "nr_threads", &ts->nr_threads, NULL) < 0)
		ts->nr_threads = 0;
	ts->task_cap = nfm_budget_objects(ctx, (size_t)ts->t.size);
	if (!ts->rss_percpu)
		return 0;
	/* Per-CPU areas: __per_cpu_offset[nr_cpu_ids], fixed after boot. */
	if (nfm_ksym(ctx, "nr_cpu_ids", &pco) < 0 || nfm_kread_u32(ctx, pco, &n) < 0 ||
	    n == 0 || n > NR_CPUS_MAX)
		return -EBADMSG;
	ts->cpu_off = calloc(n, sizeof(*ts->cpu_off));
	if (!ts->cpu_off)
		return -ENOMEM;
	err = nfm_ksym(ctx, "__per_cpu_offset", &pco);
	if (err == 0)
		err = nfm_kread(ctx, pco, ts->cpu_off, n * sizeof(*ts->cpu_off));
	if (err < 0)
		return err;
	ts->nr_cpus = n;
	return 0;
}

int nfm_task_state_get(struct nfm_ctx *ctx, const struct nfm_task_state **ret)
{
	struct nfm_task_state *ts = nfm_kernel_slot(ctx, NFM_SLOT_TASK);
	int err;

	if (!ts) {
		ts = calloc(1, sizeof(*ts));
		if (!ts)
			return -ENOMEM;
		err = build(ctx, ts);
		if (err == 0)
			err = nfm_kernel_set_slot(ctx, NFM_SLOT_TASK, ts, state_free);
		if (err < 0) {
			state_free(ts);
			return err;
		}
	}
	*ret = ts;
	return 0;
}

bool nfm_vmrss_summed(struct nfm_ctx *ctx)
{
	const struct nfm_task_state *ts;

	return nfm_task_state_get(ctx, &ts) == 0 && ts->status_rss_summed;
}

int32_t nfm_task_struct_size(struct nfm_ctx *ctx)
{
	const struct nfm_task_state *ts;

	return nfm_task_state_get(ctx, &ts) < 0 ? 0 : ts->t.size;
}
