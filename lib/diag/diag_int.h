/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/diag's inside: the report under construction and the checks that fill it. */
#ifndef NFM_LIB_DIAG_DIAG_INT_H
#define NFM_LIB_DIAG_DIAG_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <nfm/diag.h>
#include <nfm/system.h>

struct nfm_ctx;
struct nfm_btf;

#define DIAG_MAX_FINDINGS 256
#define DIAG_MAX_EVIDENCE 64

struct diag {
	struct nfm_ctx *ctx;
	struct nfm_diag_report *r;
	unsigned int cap;
	bool nomem;
	/* The kernel log, read once for every check (NULL when it does not read). */
	struct nfm_log_record *log;
	int nr_log;
	/* The run queues' newest clock (sched_clock ns), 0 when unknown. */
	uint64_t rq_now_ns;
	/* ext4's types when ext4 is a module (its own BTF, read once; diag_fs_ext4.c) */
	struct nfm_btf *ext4_btf;
	int ext4_btf_err;
	bool ext4_btf_tried;
	/* ext4_sops, the super_operations of every superblock ext4 drives (0: not known) */
	uint64_t ext4_sops;
	bool ext4_sops_tried;
};

/* A new finding (printf summary); NULL on ENOMEM (remembered in d->nomem). */
struct nfm_diag_finding *diag_add(struct diag *d, enum nfm_diag_kind kind,
				  enum nfm_diag_severity sev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* One evidence line for f (printf); at most DIAG_MAX_EVIDENCE, the rest dropped with a note. */
void diag_evidence(struct diag *d, struct nfm_diag_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_subject(struct diag *d, struct nfm_diag_finding *f, const char *s);
/* The check's outcome; what is a static string. */
void diag_check(struct diag *d, const char *name, int err, const char *what);

/* A file system's statfs() figures, in blocks of block_bytes (what df prints from). */
struct diag_df {
	uint64_t block_bytes, blocks, bfree, bavail;
};
/* The findings worst first (by severity, then kind). */
void diag_sort(struct nfm_diag_report *r);

/* Whether a mount of this type, whose superblock's s_op is sop, has an ext4 superblock. */
bool diag_is_ext4(struct diag *d, const char *fstype, uint64_t sop);
/* 0 when ext4's types are known (vmlinux's BTF or the ext4 module's), else -errno: -ENOENT for
 * a module on a kernel without module BTF (before 5.11), whose ext4 superblocks nfm can't read. */
int diag_ext4_types(struct diag *d);
/* ext4_statfs() for the superblock sb (its s_fs_info info); -ENOENT without ext4's types. */
int diag_ext4_usage(struct diag *d, uint64_t sb, uint64_t info, const uint64_t *offs, int ncpu,
		    struct diag_df *df);

/* An ext4 superblock's error state (ext4_sb_info): errors recorded, and whether it refuses
 * writes though SB_RDONLY may be clear. */
struct diag_ext4_state {
	bool error_fs, aborted, emergency_ro, shutdown;
};
int diag_ext4_state(struct diag *d, uint64_t info, struct diag_ext4_state *st);

/* A symbol's value, n bytes (1..8, little-endian) into *v. 0 or -errno. */
int diag_read_sym(struct nfm_ctx *ctx, const char *name, unsigned int n, int64_t *v);

/* Where needle starts in record i's text (its text_len bytes: a guest's record may hold a NUL
 * before it), or NULL. */
const char *diag_log_at(const struct diag *d, int i, const char *needle);
/* Log lines: the i-th record's text and length. Lines from `from` holding needle: index, or -1. */
int diag_log_find(const struct diag *d, int from, const char *needle);
/* The stack and its header the kernel printed around record i (CPU: ... PID: ..., Call Trace:
 * lines), as evidence of f: up to max lines after record i. */
void diag_log_evidence(struct diag *d, struct nfm_diag_finding *f, int i, int max);

/* A task's kernel stack and wchan as evidence lines. */
struct nfm_task;
void diag_stack_evidence(struct diag *d, struct nfm_diag_finding *f, const struct nfm_task *t);
/* The same for the task with this pid (nothing when it does not read). */
void diag_pid_stack_evidence(struct diag *d, struct nfm_diag_finding *f, int32_t pid);

/* One online CPU's run queue (struct rq in runqueues). */
struct diag_rq {
	int cpu;
	uint64_t clock;		/* rq->clock: sched_clock ns at its last update */
	uint32_t nr_running;
	uint64_t curr;		/* struct task_struct running there */
	int32_t curr_pid;
	char curr_comm[16];
	uint64_t pcpu;		/* the CPU's per-CPU offset */
};

#define DIAG_MAX_CPUS 1024

/* The online CPUs' run queues into rqs (online false: every possible CPU's, as after a halt,
 * which takes each CPU offline): the count or -errno. */
int diag_runqueues(struct diag *d, struct diag_rq *rqs, int max, bool online);
/* The run queue of a stuck CPU as evidence: its length, its current task, its runnable tasks. */
void diag_rq_evidence(struct diag *d, struct nfm_diag_finding *f, const struct diag_rq *rq);

void diag_check_kernel(struct diag *d);
void diag_check_tasks(struct diag *d);
void diag_check_lockups(struct diag *d);
/* Hard lockups under way (diag_hardlockup.c): findings added for the run queues' CPUs, their
 * count, or -errno when the vCPUs could not be looked at. */
int diag_hard_lockups_now(struct diag *d, const struct diag_rq *rqs, int n);
/* An RCU stall under way (diag_rcu.c): 1 (the newest finding), 0 none, -errno unknown. */
int diag_rcu_stall_now(struct diag *d);
void diag_check_memory(struct diag *d);
void diag_check_network(struct diag *d);
void diag_check_filesystems(struct diag *d);

#endif
