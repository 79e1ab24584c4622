/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal helpers shared by the process-view walkers (task*.c, mm*.c, files*.c). */
#ifndef NFM_LIB_TASK_TASK_H
#define NFM_LIB_TASK_TASK_H

#include <stdint.h>
#include <string.h>

#include <nfm/task.h>

#include "walk/fields.h"

struct nfm_ctx;

/*
 * nfm_task_iter_new flag for the library's own joins on the task list (sockets' owners): each
 * task's pid, tgid, state, comm, flags, kthread and nr_threads only, without its parent,
 * credentials, CPU times, memory or /proc name, which cost most of a walk.
 */
#define NFM_TASK_BRIEF_ 0x80000000u

/* Physical address of the user page tables of an mm (mm->pgd translated). */
int nfm_mm_pgd_pa(struct nfm_ctx *ctx, uint64_t mm, uint64_t *ret);

/*
 * Read [va, va + len) of a process's memory page by page into buf, stopping at the first page
 * that is not resident (counted in st). Returns the number of bytes read.
 */
size_t nfm_read_user(struct nfm_ctx *ctx, uint64_t root, uint64_t va, void *buf, size_t len,
		     struct nfm_umem_stat *st);

/* The /proc/PID/stat state letter from __state and exit_state (include/linux/sched.h). */
char nfm_task_state_letter(uint32_t state, uint32_t exit_state);

/* cputime_adjust() of kernel/sched/cputime.c, without writing prev back. */
void nfm_cputime_adjust(uint64_t rtime, uint64_t utime, uint64_t stime, uint64_t prev_utime,
			uint64_t prev_stime, uint64_t *ut, uint64_t *st);

/* The name /proc/PID/comm shows (see task_name.c) into out[64]. */
void nfm_task_proc_name(struct nfm_ctx *ctx, uint64_t task, uint32_t flags, const char *comm,
			char *out);

/* sizeof(struct task_struct) of this kernel (0 if unknown). */
int32_t nfm_task_struct_size(struct nfm_ctx *ctx);

#endif
