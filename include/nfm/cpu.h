/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPU time of the guest as its /proc/stat "cpu" lines say (fs/proc/stat.c): per-CPU counters
 * from kernel_cpustat, with idle and iowait from the tickless idle accounting (tick_cpu_sched)
 * the way get_idle_time()/get_iowait_time() compute them.
 */
#ifndef NFM_CPU_H
#define NFM_CPU_H

#include <stdint.h>

#include <nfm/nfm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nfm_ctx;

/* Nanoseconds in each state, the columns of a /proc/stat cpu line. */
struct nfm_cpu_times {
	int cpu;		/* CPU number, -1 for the total */
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice;
};

/*
 * The total over the possible CPUs in *total and each online CPU in per_cpu[0..max) (either may
 * be NULL). Returns the number of online CPUs (which may exceed max) or -errno.
 */
NFM_EXPORT int nfm_cpu_times(struct nfm_ctx *ctx, struct nfm_cpu_times *total,
			     struct nfm_cpu_times *per_cpu, int max);

/* Sum of all states: the denominator of top's percentages. */
static inline uint64_t nfm_cpu_times_sum(const struct nfm_cpu_times *t)
{
	/* guest time is already inside user (and guest_nice inside nice), as top assumes. */
	return t->user + t->nice + t->system + t->idle + t->iowait + t->irq + t->softirq + t->steal;
}

#ifdef __cplusplus
}
#endif

#endif
