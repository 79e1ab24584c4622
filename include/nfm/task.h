/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Processes and threads of the guest, as its /proc shows them: the values of /proc/PID/stat,
 * status, cmdline, environ, maps and fd, read from kernel memory (and, for cmdline and environ,
 * from the process's own memory through its page tables).
 *
 * Every value that /proc prints is computed the way the kernel computes it (fs/proc/array.c,
 * fs/proc/base.c, fs/proc/task_mmu.c, fs/d_path.c), so that it can be compared byte for byte.
 * PIDs are global (the initial PID namespace). Strings are raw guest bytes: escape them before
 * they reach a terminal.
 *
 * A live guest changes while it is read: an entry that reads inconsistently (a task freed under
 * us, a torn read) is skipped and counted, and the walk goes on; every walk is bounded.
 */
#ifndef NFM_TASK_H
#define NFM_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nfm/nfm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nfm_ctx;

#define NFM_TASK_COMM_LEN 16

/* One process (a thread-group leader, with process-wide values) or one thread. */
struct nfm_task {
	uint64_t addr;			/* struct task_struct, guest kernel address */
	uint64_t mm;			/* struct mm_struct, 0 for kernel threads and zombies */
	int32_t pid, tgid, ppid;	/* ppid: real_parent's tgid, 0 for pid 1 and kthreadd */
	uint32_t uid, euid, suid, fsuid;	/* real_cred, as /proc/PID/status Uid: */
	uint32_t gid, egid, sgid, fsgid;
	char state;			/* /proc/PID/stat state: R S D T t X Z P I */
	char comm[NFM_TASK_COMM_LEN];	/* task->comm: exact bytes, NUL-terminated */
	/* What /proc/PID/comm and stat show: comm, a kernel thread's full name, or a workqueue
	 * worker's comm plus "+desc"/"-desc" (up to 63 bytes). */
	char name[64];
	uint32_t flags;			/* PF_* */
	bool kthread;			/* PF_KTHREAD */
	int32_t nice;			/* static_prio - 120 */
	int32_t priority;		/* prio - 100, as /proc/PID/stat field 18 */
	uint32_t policy, rt_priority;
	int32_t nr_threads;		/* signal->nr_threads */
	uint64_t start_ns;		/* start_boottime: ns after boot */
	uint64_t start_ticks;		/* /proc/PID/stat field 22 (USER_HZ = 100) */
	/* CPU time after cputime_adjust(): the whole group for a process, the thread for a thread. */
	uint64_t utime_ns, stime_ns;
	uint64_t utime_ticks, stime_ticks;	/* /proc/PID/stat fields 14 and 15 */
	uint64_t vsize;			/* bytes: total_vm * PAGE_SIZE (stat field 23) */
	uint64_t rss_pages;		/* stat field 24 and statm: get_mm_rss(), per-CPU parts not added */
	uint64_t rss_exact_pages;	/* the per-CPU parts added (6.2+ percpu_counter; = rss_pages before) */
	uint64_t rss_anon, rss_file, rss_shmem;	/* exact, pages */
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t start_brk, brk, start_stack;
};

/* Iterator flags. */
#define NFM_TASK_THREADS 1u	/* one entry per thread, with per-thread values (/proc/PID/task/TID) */

struct nfm_task_iter;

/*
 * Walk every process (every thread with NFM_TASK_THREADS) of the guest, in the kernel's task list
 * order (init_task.tasks, then signal->thread_head). 0, -ENOENT (types or init_task missing),
 * -ENOMEM. The caller owns *ret (nfm_task_iter_free()).
 */
NFM_EXPORT int nfm_task_iter_new(struct nfm_ctx *ctx, unsigned int flags,
				      struct nfm_task_iter **ret);
/*
 * The next task: 1 with *ret filled, 0 at the end, or -errno when the walk itself broke
 * (-ELOOP: a cycle or more than NFM_TASK_MAX tasks; -EBADMSG: a bad pointer in the ring;
 * -EFAULT/-EIO). Tasks that read inconsistently are skipped (see nfm_task_iter_skipped()).
 */
NFM_EXPORT int nfm_task_iter_next(struct nfm_task_iter *it, struct nfm_task *ret);
/* How many tasks were skipped because they did not read consistently. */
NFM_EXPORT unsigned int nfm_task_iter_skipped(const struct nfm_task_iter *it);
/*
 * After the walk reached its end (next returned 0): 0, or -EBADMSG when the threads it found
 * disagree with the kernel's own count (nr_threads) beyond what forks and exits explain: tasks
 * are missing from the list, or it holds forged ones. A partial view.
 */
NFM_EXPORT int nfm_task_iter_status(const struct nfm_task_iter *it);
NFM_EXPORT void nfm_task_iter_free(struct nfm_task_iter *it);

#define NFM_TASK_MAX (1u << 22)		/* the kernel's PID_MAX_LIMIT */
#define NFM_THREAD_MAX (1u << 22)

/*
 * The process with this pid (process-wide values), or with flags NFM_TASK_THREADS the thread
 * with this tid. 0, -ENOENT (no such task), or the walk's errors.
 */
NFM_EXPORT int nfm_task_get(struct nfm_ctx *ctx, int32_t pid, unsigned int flags,
				 struct nfm_task *ret);

/*
 * The thread ids of t's thread group (signal->thread_head order) into tids[0..max). Returns the
 * number of threads (which may exceed max), or -ELOOP/-EBADMSG/-EFAULT for a broken ring.
 */
NFM_EXPORT int nfm_task_tids(struct nfm_ctx *ctx, const struct nfm_task *t, int32_t *tids,
			     size_t max);

/*
 * The rest of /proc/PID/stat and /proc/PID/status: what the task walk does not read (it stays
 * small for ps and top), read for one task on demand. Values as fs/proc/array.c computes them
 * for a reader in the initial PID namespace with ptrace access (root): pids are global.
 */
struct nfm_task_info {
	int32_t pgrp, session;		/* stat 5, 6: signal->pids[PIDTYPE_PGID/SID] */
	uint32_t tty_nr;		/* stat 7: new_encode_dev(tty_devnum(signal->tty)), 0: none */
	int32_t tpgid;			/* stat 8: the tty's foreground process group, -1: no tty */
	uint32_t tty_major, tty_minor;
	char tty_name[64];		/* tty->name ("ttyS0", "pts0"), raw guest bytes, "" no tty */
	uint64_t min_flt, cmin_flt, maj_flt, cmaj_flt;	/* stat 10-13 (a process: all threads) */
	uint64_t cutime_ns, cstime_ns;	/* stat 16, 17 in ns (waited-for children) */
	uint64_t rsslim;		/* stat 25: RLIMIT_RSS's soft limit, bytes */
	uint64_t start_code, end_code, start_stack;	/* stat 26-28 (0 for kernel threads) */
	uint64_t start_data, end_data;	/* stat 45, 46 */
	uint64_t start_brk, arg_start, arg_end, env_start, env_end;	/* stat 47-51 */
	/* Signal sets, bit N-1 for signal N: stat 31-34 show the low 31 bits of pending, blocked,
	 * ignored, caught; status shows them whole (SigPnd ShdPnd SigBlk SigIgn SigCgt). */
	uint64_t sig_pending, sig_shared_pending, sig_blocked, sig_ignored, sig_caught;
	int32_t wchan_flag;		/* stat 35: 1 when the task is not running (5.16+), else 0 */
	int32_t exit_signal;		/* stat 38 */
	int32_t processor;		/* stat 39: task_cpu() */
	int32_t exit_code;		/* stat 52 (a process: the group's exit code once it is set) */
	int32_t tracer_pid;		/* status TracerPid: 0 when not traced */
	int32_t umask;			/* status Umask:, -1 when the task has no fs */
	uint64_t cap_inheritable, cap_permitted, cap_effective, cap_bounding, cap_ambient;
	uint32_t no_new_privs;		/* status NoNewPrivs: */
	int32_t seccomp;		/* status Seccomp: 0 1 2, -1 unknown */
	/* status Vm* and HugetlbPages in pages (kB = pages x 4 on x86-64); Exe, Lib, PTE in bytes.
	 * All 0 for a task without mm. */
	uint64_t vm_peak, vm_lck, vm_pin, vm_hwm, vm_data, vm_stk, vm_swap, hugetlb;
	uint64_t vm_exe_bytes, vm_lib_bytes, vm_pte_bytes;
	uint64_t nvcsw, nivcsw;		/* status voluntary_/nonvoluntary_ctxt_switches */
	uint32_t missing;		/* NFM_TASK_INFO_* bits: what this kernel's BTF did not have */
	uint32_t fd_size;		/* status FDSize: the fd table's max_fds, 0 without files */
	uint64_t guest_time_ns;		/* stat 43 (a process: every thread's and the dead ones') */
	uint64_t cguest_time_ns;	/* stat 44: waited-for children's */
	int32_t seccomp_filters;	/* status Seccomp_filters, -1 unknown (before 5.9) */
	int32_t core_dumping;		/* status CoreDumping 0 or 1; -1 without mm (not shown) */
	int32_t thp_enabled;		/* status THP_enabled 0 or 1; -1 without mm (not shown) */
	/* status Cpus_allowed and Mems_allowed: bit N for CPU / node N, the first nr_*_bits bits
	 * (nr_cpu_ids, MAX_NUMNODES: what /proc prints), 1024 at most each */
	uint32_t nr_cpu_bits, nr_mem_bits;
	uint64_t cpus_allowed[16], mems_allowed[16];
	/* status NStgid, NSpid, NSpgid, NSsid: the ids in each pid namespace from the initial one
	 * down to the task's own (ns_levels of them: 1 + its namespace's depth, 33 at most) */
	uint32_t ns_levels;
	int32_t ns_tgid[33], ns_pid[33], ns_pgid[33], ns_sid[33];
	/* status SigQ: signals queued by the task's user (its ucounts' SIGPENDING count; the
	 * user_struct's before 5.14) and its RLIMIT_SIGPENDING soft limit */
	uint64_t sigq_queued, sigq_limit;
};

#define NFM_TASK_INFO_TTY 1u		/* tty_* and tpgid unknown */
#define NFM_TASK_INFO_SECCOMP 2u
#define NFM_TASK_INFO_PIN 4u
#define NFM_TASK_INFO_MEMS 8u		/* mems_allowed unknown (no cpusets, or > 1024 nodes) */
#define NFM_TASK_INFO_CPUS 16u		/* cpus_allowed unknown (> 1024 CPUs, or no nr_cpu_ids) */
#define NFM_TASK_INFO_SIGQ 32u		/* sigq_queued unknown */
#define NFM_TASK_INFO_THP 64u		/* thp_enabled unknown (no mm_struct.flags) */
#define NFM_TASK_INFO_NS 128u		/* ns_* unknown (no task_struct.thread_pid) */
#define NFM_TASK_INFO_STATUS 256u	/* status-only fields not read (NFM_TASK_STAT_ONLY) */

/*
 * status Groups: the supplementary group ids of t's credentials (cred->group_info), in the
 * kernel's order, into gids[0..max). Returns how many there are (which may exceed max), or
 * -errno: -EBADMSG for a count past NGROUPS_MAX (65536) or a bad pointer, -EFAULT.
 */
NFM_EXPORT int nfm_task_groups(struct nfm_ctx *ctx, const struct nfm_task *t, uint32_t *gids,
			       size_t max);

/*
 * Fill *ret for t (from either walk; with NFM_TASK_THREADS the values of the thread alone, else of
 * the whole process where /proc/PID/stat adds its threads up). 0, -ENOENT (types missing),
 * -EFAULT/-EBADMSG (the task changed or was freed while read).
 * With NFM_TASK_STAT_ONLY, only what /proc/PID/stat shows and the Vm* sizes (what ps reads, as
 * procps reads status only for fields that need it): TracerPid, Umask, the capabilities,
 * NoNewPrivs, Seccomp*, the context switches, FDSize, CoreDumping, THP_enabled, the CPU and
 * memory masks, the namespace ids and SigQ stay 0 and missing has NFM_TASK_INFO_STATUS.
 */
#define NFM_TASK_STAT_ONLY 2u
NFM_EXPORT int nfm_task_info(struct nfm_ctx *ctx, const struct nfm_task *t, unsigned int flags,
			     struct nfm_task_info *ret);

/* How a read of a process's own memory went. */
struct nfm_umem_stat {
	size_t want;			/* bytes the kernel would show */
	unsigned int pages_missing;	/* pages not resident in guest RAM: the bytes stop there */
	unsigned int pages_swapped;	/* of those, pages that are swapped out */
};

/*
 * /proc/PID/cmdline: the bytes of [arg_start, arg_end) read through the process's page tables,
 * with the kernel's setproctitle() rule (a non-NUL last byte: up to the first NUL in the first
 * page, the environment area included). Copies at most size bytes into buf (no NUL added).
 * Returns the number of bytes copied (0 for kernel threads), or -EFAULT/-EIO/-EBADMSG.
 * When a page is not resident the bytes stop before it and st (may be NULL) says so.
 */
NFM_EXPORT int nfm_task_cmdline(struct nfm_ctx *ctx, const struct nfm_task *t, void *buf,
				     size_t size, struct nfm_umem_stat *st);
/* /proc/PID/environ: the bytes of [env_start, env_end), as nfm_task_cmdline(). */
NFM_EXPORT int nfm_task_environ(struct nfm_ctx *ctx, const struct nfm_task *t, void *buf,
				     size_t size, struct nfm_umem_stat *st);

/*
 * Any bytes of a process's memory, through its page tables: up to len bytes at user address
 * va into buf, stopping at the first page that is not resident (not faulted in, swapped out,
 * not mapped). Returns the bytes read (0: the page at va is not there), or -EBADMSG for a
 * process without memory (a kernel thread, a zombie) or a kernel address, or the read error.
 */
NFM_EXPORT int nfm_task_read(struct nfm_ctx *ctx, const struct nfm_task *t, uint64_t va,
			     void *buf, size_t len);

/* Wall-clock time of boot in ns since the epoch (/proc/stat btime, in ns). */
NFM_EXPORT int nfm_task_boot_time(struct nfm_ctx *ctx, int64_t *ret);

/*
 * Does this kernel's /proc/PID/status VmRSS (and statm, so ps's RSS and top's RES) add the
 * per-CPU parts of the mm counters (rss_exact_pages) rather than show the counters (rss_pages,
 * as stat field 24 always does)? True from 6.16 and in the stable updates that took "mm: fix the
 * inaccurate memory statistics issue for users" (6.12.39, 6.15.7); false before 6.2, where both
 * are the same. nfm_task_vmrss_pages() picks the one the guest shows.
 */
NFM_EXPORT bool nfm_vmrss_summed(struct nfm_ctx *ctx);

static inline uint64_t nfm_task_vmrss_pages(const struct nfm_task *t, bool summed)
{
	return summed ? t->rss_exact_pages : t->rss_pages;
}

/* ---- memory maps: /proc/PID/maps ---- */

struct nfm_vma {
	uint64_t start, end;
	uint64_t flags;			/* VM_* */
	char perms[5];			/* "r-xp" */
	uint64_t offset;		/* bytes: vm_pgoff << PAGE_SHIFT for file mappings, else 0 */
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	uint64_t file;			/* struct file, 0 for anonymous mappings */
	/* The name column: a path (newlines as \012, as seq_file_path() does), "[heap]",
	 * "[stack]", "[vdso]", "[vvar]", "[vsyscall]", "[anon:NAME]", or "". */
	char name[4096 + 32];
	size_t name_len;
};

struct nfm_vma_iter;

#define NFM_VMA_MAX (1u << 20)	/* well above the default vm.max_map_count (65530) */

/*
 * Walk a process's mappings in address order (the mm's maple tree, then the vsyscall page as
 * /proc shows it). t must have mm != 0 (else -ENOENT). The caller owns *ret.
 */
NFM_EXPORT int nfm_vma_iter_new(struct nfm_ctx *ctx, const struct nfm_task *t,
				     struct nfm_vma_iter **ret);
/* 1 with *ret, 0 at the end, -errno (-EBADMSG: a malformed tree; -ELOOP: too many entries). */
NFM_EXPORT int nfm_vma_iter_next(struct nfm_vma_iter *it, struct nfm_vma *ret);
NFM_EXPORT void nfm_vma_iter_free(struct nfm_vma_iter *it);
/*
 * Whether the walk agrees with the mm itself: 0, or -EBADMSG when the tree held malformed
 * entries (left out), or its VMAs disagree with mm->map_count beyond a live guest's churn or
 * span other than mm->total_vm pages (compared when the mm did not change during the walk):
 * the mappings listed are then a partial or forged view. The total_vm comparison is made when
 * the iteration has reached the end: ask after nfm_vma_iter_next() returned 0.
 */
NFM_EXPORT int nfm_vma_iter_status(const struct nfm_vma_iter *it);
/* The /proc/PID/maps line for v (no newline) into buf; returns its length. */
NFM_EXPORT size_t nfm_vma_format(const struct nfm_vma *v, char *buf, size_t size);

/* ---- open files: /proc/PID/fd ---- */

struct nfm_fd {
	int fd;
	uint64_t file;			/* struct file */
	uint32_t f_flags;		/* O_* as /proc/PID/fdinfo flags */
	uint64_t pos;
	uint32_t mode;			/* inode i_mode (S_IFMT bits give the type) */
	uint64_t ino;
	uint32_t dev_major, dev_minor;
	char type[8];			/* lsof-style: REG DIR CHR BLK FIFO SOCK LNK a_inode unknown */
	char path[4096];		/* readlink(/proc/PID/fd/N): raw bytes, NUL-terminated */
	size_t path_len;
	/* Sockets: family (AF_*), type (SOCK_*), protocol number and the sk_prot name ("TCP",
	 * "UDP", "UNIX", "NETLINK", ...); -1 and "" for other files. */
	int sock_family, sock_type, sock_protocol;
	char proto[32];
};

struct nfm_fd_iter;

#define NFM_FD_MAX (1u << 20)	/* the kernel's default fs.nr_open */

/*
 * Walk a process's open file descriptors in fd order. -ENOENT when t has no files, -EBADMSG when
 * the fdtable's max_fds does not fit the arrays the kernel allocates for it (forged or torn).
 */
NFM_EXPORT int nfm_fd_iter_new(struct nfm_ctx *ctx, const struct nfm_task *t,
				    struct nfm_fd_iter **ret);
/* 1 with *ret, 0 at the end, -errno. An fd whose file does not read is skipped and counted. */
NFM_EXPORT int nfm_fd_iter_next(struct nfm_fd_iter *it, struct nfm_fd *ret);
NFM_EXPORT unsigned int nfm_fd_iter_skipped(const struct nfm_fd_iter *it);
NFM_EXPORT void nfm_fd_iter_free(struct nfm_fd_iter *it);

#ifdef __cplusplus
}
#endif

#endif
