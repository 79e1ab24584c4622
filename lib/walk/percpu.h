/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-CPU data: the possible CPUs and their __per_cpu_offset[] (per_cpu_ptr()). */
#ifndef NFM_LIB_WALK_PERCPU_H
#define NFM_LIB_WALK_PERCPU_H

#include <stdint.h>

struct nfm_ctx;

#define NFM_MAX_CPUS 8192

/*
 * Offsets of the possible CPUs (or the online ones) into offs (up to max). Returns the count or
 * -errno. per_cpu_ptr(p, cpu) is p + offs[i].
 */
int nfm_percpu_offsets(struct nfm_ctx *ctx, int online, uint64_t *offs, int max);

/* percpu_counter_sum() of the struct percpu_counter at pc: count plus each of the ncpu CPUs'
 * s32 delta (offs from nfm_percpu_offsets). 0, or -errno when any part does not read. */
int nfm_percpu_counter_sum(struct nfm_ctx *ctx, uint64_t pc, const uint64_t *offs, int ncpu,
			   int64_t *ret);

/* The same with each CPU's number in cpus[] (cpus may be NULL). */
int nfm_percpu_cpus(struct nfm_ctx *ctx, int online, unsigned int *cpus, uint64_t *offs, int max);

#endif
