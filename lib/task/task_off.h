/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resolved BTF offsets and per-attach constants for the task walker (task_off.c). */
#ifndef NFM_LIB_TASK_TASK_OFF_H
#define NFM_LIB_TASK_TASK_OFF_H

#include <stdbool.h>
#include <stdint.h>

struct nfm_ctx;

struct nfm_task_off {
	int32_t size, tasks, pid, tgid, state, exit_state, flags, comm;
	int32_t real_parent, real_cred, signal, mm, static_prio, prio, policy, rt_priority;
	int32_t utime, stime, sum_exec_runtime, start_boottime, prev_utime, prev_stime;
	int32_t thread_node;
};

struct nfm_sig_off {
	int32_t size, nr_threads, thread_head, utime, stime, sum_sched_runtime;
	int32_t prev_utime, prev_stime;
};

struct nfm_cred_off {
	int32_t uid, fsgid;
};

struct nfm_mm_off {
	int32_t size, pgd, total_vm, rss_stat, rss_stat_size, arg_start, arg_end, env_start, env_end;
	int32_t start_brk, brk, start_stack, mm_mt, context_flags, map_count;
};

/* The parts of a task_struct the walker reads: its members, merged where close together. */
#define NFM_TASK_WINDOWS 24
struct nfm_task_window {
	int32_t off, len;
};

struct nfm_task_state {
	struct nfm_task_off t;
	struct nfm_task_window win[NFM_TASK_WINDOWS];
	int nr_win;
	struct nfm_sig_off s;
	struct nfm_cred_off c;
	struct nfm_mm_off m;
	int32_t pcc_size, pcc_count, pcc_counters;	/* struct percpu_counter (6.2+ rss_stat) */
	int rss_percpu;
	bool status_rss_summed;		/* status VmRSS and statm add the per-CPU parts */
	int mm_filepages, mm_anonpages, mm_shmempages, nr_mm_counters;
	uint64_t init_task;
	uint64_t nr_threads;		/* &nr_threads (kernel/fork.c), 0 if unknown */
	size_t task_cap;		/* the most task_structs RAM holds (core/budget.h) */
	unsigned int nr_cpus;		/* nr_cpu_ids */
	uint64_t *cpu_off;		/* __per_cpu_offset[0..nr_cpus) */
};

/* The resolved state (built once per attach, owned by the context). 0, -ENOENT, -EBADMSG. */
int nfm_task_state_get(struct nfm_ctx *ctx, const struct nfm_task_state **ret);

#endif
