/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Seed helpers shared by the task, VMA and file targets: processes on init_task's ring, each
 * with its own signal_struct and threads, a cred, and an mm when asked.
 */
#ifndef NFM_FUZZ_COMMON_SEEDTASK_H
#define NFM_FUZZ_COMMON_SEEDTASK_H

#include "btfguest.h"

#define FZ_CRED 0x6800u		/* one cred for every task */

static inline uint32_t fz_task_off(const char *m) { return fz_off("task_struct", m); }

/* A task at pa (pid, tgid, comm), parent init_task, on the ring after prev; its signal at sig. */
static inline void fz_seed_task(struct fz_seed *s, uint32_t pa, int pid, int tgid, const char *comm,
				uint32_t sig, int nr_threads)
{
	fz_put32(s, pa + fz_task_off("pid"), (uint32_t)pid);
	fz_put32(s, pa + fz_task_off("tgid"), (uint32_t)tgid);
	fz_put32(s, pa + fz_task_off("__state"), 1);
	fz_putstr(s, pa + fz_task_off("comm"), comm);
	fz_put64(s, pa + fz_task_off("real_parent"), FZ_KV(fz_sym_pa("init_task")));
	fz_put64(s, pa + fz_task_off("real_cred"), FZ_KV(FZ_CRED));
	fz_put64(s, pa + fz_task_off("signal"), FZ_KV(sig));
	fz_put32(s, pa + fz_task_off("static_prio"), 120);
	fz_put32(s, pa + fz_task_off("prio"), 120);
	fz_put64(s, pa + fz_task_off("utime"), 3000000000ull);
	fz_put64(s, pa + fz_task_off("stime"), 1000000000ull);
	fz_put64(s, pa + fz_task_off("se.sum_exec_runtime"), 4000000000ull);
	fz_put32(s, sig + fz_off("signal_struct", "nr_threads"), (uint32_t)nr_threads);
}

/*
 * init_task (pid 0) and processes at task[0..n) on its tasks ring; task i's threads are
 * thr[i][0..nthr[i]) (the leader first), linked on signal->thread_head.
 */
static inline void fz_seed_tasks(struct fz_seed *s, const uint32_t *task, int n)
{
	uint32_t init = fz_sym_pa("init_task"), ring[16];
	int i;

	fz_putstr(s, init + fz_task_off("comm"), "swapper/0");
	fz_put64(s, init + fz_task_off("real_cred"), FZ_KV(FZ_CRED));
	ring[0] = init + fz_task_off("tasks");
	for (i = 0; i < n && i < 15; i++)
		ring[i + 1] = task[i] + fz_task_off("tasks");
	fz_ring(s, ring, i + 1);
}

/* Threads thr[0..n) (thr[0] the leader) on signal sig's thread_head. */
static inline void fz_seed_threads(struct fz_seed *s, uint32_t sig, const uint32_t *thr, int n)
{
	uint32_t ring[16];
	int i;

	ring[0] = sig + fz_off("signal_struct", "thread_head");
	for (i = 0; i < n && i < 15; i++)
		ring[i + 1] = thr[i] + fz_task_off("thread_node");
	fz_ring(s, ring, i + 1);
}

#endif
