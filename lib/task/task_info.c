// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rest of /proc/PID/stat and /proc/PID/status for one task (fs/proc/array.c do_task_stat,
 * task_state, task_sig, task_cap, task_mem and task_context_switch_counts): read on demand, so
 * that the task walk stays small. Every pointer is checked before it is followed; a value that
 * does not read makes the call fail (the task changed or was freed), never a silent zero.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "walk/fields.h"
#include "walk/list.h"
#include "task/task.h"
#include "task/task_off.h"

#define NSIG 64
#define RLIMIT_RSS 5
#define SIG_IGN 1
#define PFA_NO_NEW_PRIVS 0
#define SIGNAL_STOP_STOPPED 0x1u
#define SIGNAL_GROUP_EXIT 0x4u
#define TASK_RUNNING 0u

struct info_off {
	/* task_struct */
	int32_t t_pending, t_blocked, t_sighand, t_nvcsw, t_nivcsw, t_min_flt, t_maj_flt;
	int32_t t_exit_signal, t_exit_code, t_ptrace, t_parent, t_fs, t_cpu, t_ti_cpu;
	int32_t t_atomic_flags, t_seccomp_mode, t_seccomp_filters, t_gtime, t_files, t_cpus_mask;
	int32_t t_mems_allowed, t_mems_size, t_cpus_size;
	/* signal_struct */
	int32_t s_pids, s_tty, s_shared_pending, s_cutime, s_cstime, s_cmin_flt, s_cmaj_flt;
	int32_t s_min_flt, s_maj_flt, s_rlim, s_flags, s_group_exit_code, s_group_exec_task;
	int32_t s_gtime, s_cgtime, s_core_state;
	/* files_struct, fdtable */
	int32_t fs_fdt, fdt_max_fds;
	/* sighand_struct, k_sigaction */
	int32_t sh_action, ksa_size, ksa_handler;
	/* struct pid, upid */
	int32_t pid_numbers, upid_nr, upid_ns, upid_size, pid_level, t_thread_pid;
	/* cred, group_info, ucounts or user_struct */
	int32_t c_group_info, gi_ngroups, gi_gid, c_ucounts, uc_rlimits, uc_ucount, c_user, us_sigpending;
	/* tty_struct, tty_driver */
	int32_t tty_driver, tty_index, tty_name, tty_ctrl_pgrp, tty_pgrp;
	int32_t drv_major, drv_minor_start;
	/* cred */
	int32_t c_inh, c_prm, c_eff, c_bnd, c_amb;
	/* fs_struct */
	int32_t fs_umask;
	/* mm_struct */
	int32_t m_hiwater_rss, m_hiwater_vm, m_locked_vm, m_pinned_vm, m_data_vm, m_exec_vm;
	int32_t m_stack_vm, m_start_code, m_end_code, m_start_data, m_end_data, m_pgtables;
	int32_t m_hugetlb, m_core_state, m_flags;
	int pidtype_pgid, pidtype_sid, pidtype_tgid, mm_swapents, ucount_sigpending;
	int32_t max_numnodes;	/* MAX_NUMNODES (0: unknown) */
	bool thp;		/* CONFIG_TRANSPARENT_HUGEPAGE */
};

#define O struct info_off
static const struct nfm_field_spec info_specs[] = {
	NFM_FIELD(O, t_pending, "task_struct", "pending.signal", 0),
	NFM_FIELD(O, t_blocked, "task_struct", "blocked", 0),
	NFM_FIELD(O, t_sighand, "task_struct", "sighand", 0),
	NFM_FIELD(O, t_nvcsw, "task_struct", "nvcsw", 0),
	NFM_FIELD(O, t_nivcsw, "task_struct", "nivcsw", 0),
	NFM_FIELD(O, t_min_flt, "task_struct", "min_flt", 0),
	NFM_FIELD(O, t_maj_flt, "task_struct", "maj_flt", 0),
	NFM_FIELD(O, t_exit_signal, "task_struct", "exit_signal", 0),
	NFM_FIELD(O, t_exit_code, "task_struct", "exit_code", 0),
	NFM_FIELD(O, t_ptrace, "task_struct", "ptrace", 0),
	NFM_FIELD(O, t_parent, "task_struct", "parent", 0),
	NFM_FIELD(O, t_fs, "task_struct", "fs", 0),
	/* task_cpu(): thread_info.cpu since 5.16 (bcf9033e5449), task->cpu before */
	NFM_FIELD(O, t_cpu, "task_struct", "cpu", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, t_ti_cpu, "task_struct", "thread_info.cpu", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, t_atomic_flags, "task_struct", "atomic_flags", 0),
	NFM_FIELD(O, t_seccomp_mode, "task_struct", "seccomp.mode", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, t_seccomp_filters, "task_struct", "seccomp.filter_count", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, t_gtime, "task_struct", "gtime", 0),
	NFM_FIELD(O, t_files, "task_struct", "files", 0),
	NFM_FIELD(O, t_cpus_mask, "task_struct", "cpus_mask", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, t_mems_allowed, "task_struct", "mems_allowed", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, s_gtime, "signal_struct", "gtime", 0),
	NFM_FIELD(O, s_cgtime, "signal_struct", "cgtime", 0),
	/* CoreDumping: signal->core_state since 5.16 (0258b5fd7c71), mm->core_state before */
	NFM_FIELD(O, s_core_state, "signal_struct", "core_state", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, m_core_state, "mm_struct", "core_state", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, m_flags, "mm_struct", "flags", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, fs_fdt, "files_struct", "fdt", 0),
	NFM_FIELD(O, fdt_max_fds, "fdtable", "max_fds", 0),
	NFM_FIELD(O, s_pids, "signal_struct", "pids", 0),
	NFM_FIELD(O, s_tty, "signal_struct", "tty", 0),
	NFM_FIELD(O, s_shared_pending, "signal_struct", "shared_pending.signal", 0),
	NFM_FIELD(O, s_cutime, "signal_struct", "cutime", 0),
	NFM_FIELD(O, s_cstime, "signal_struct", "cstime", 0),
	NFM_FIELD(O, s_cmin_flt, "signal_struct", "cmin_flt", 0),
	NFM_FIELD(O, s_cmaj_flt, "signal_struct", "cmaj_flt", 0),
	NFM_FIELD(O, s_min_flt, "signal_struct", "min_flt", 0),
	NFM_FIELD(O, s_maj_flt, "signal_struct", "maj_flt", 0),
	NFM_FIELD(O, s_rlim, "signal_struct", "rlim", 0),
	NFM_FIELD(O, s_flags, "signal_struct", "flags", 0),
	NFM_FIELD(O, s_group_exit_code, "signal_struct", "group_exit_code", 0),
	/* 5.17 renamed group_exit_task so, in the release whose /proc/PID/stat began to show
	 * the group's exit code: its presence says which exit_code the kernel prints. */
	NFM_FIELD(O, s_group_exec_task, "signal_struct", "group_exec_task", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, sh_action, "sighand_struct", "action", 0),
	NFM_FIELD(O, ksa_size, "k_sigaction", NULL, NFM_FIELD_SIZE),
	NFM_FIELD(O, ksa_handler, "k_sigaction", "sa.sa_handler", 0),
	NFM_FIELD(O, pid_numbers, "pid", "numbers", 0),
	NFM_FIELD(O, upid_nr, "upid", "nr", 0),
	NFM_FIELD(O, upid_ns, "upid", "ns", 0),
	NFM_FIELD(O, upid_size, "upid", NULL, NFM_FIELD_SIZE),
	NFM_FIELD(O, pid_level, "pid", "level", 0),
	/* the lines of 0.2 (Groups, NS*, THP_enabled, Cpus_allowed) are optional: each its own
	 * missing bit, not the whole record, on a kernel without them */
	NFM_FIELD(O, t_thread_pid, "task_struct", "thread_pid", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, c_group_info, "cred", "group_info", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, gi_ngroups, "group_info", "ngroups", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, gi_gid, "group_info", "gid", NFM_FIELD_OPTIONAL),
	/* SigQ: cred->ucounts->rlimit[UCOUNT_RLIMIT_SIGPENDING] (6.0+; ->ucount[] from 5.14),
	 * else user->sigpending (to 5.13) */
	NFM_FIELD(O, c_ucounts, "cred", "ucounts", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, uc_rlimits, "ucounts", "rlimit", NFM_FIELD_OPTIONAL),
	/* 5.14 to 5.19: one array, ucount[UCOUNT_COUNTS], held the rlimit counts too */
	NFM_FIELD(O, uc_ucount, "ucounts", "ucount", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, c_user, "cred", "user", 0),
	NFM_FIELD(O, us_sigpending, "user_struct", "sigpending", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, tty_driver, "tty_struct", "driver", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, tty_index, "tty_struct", "index", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, tty_name, "tty_struct", "name", NFM_FIELD_OPTIONAL),
	/* the foreground group: tty->ctrl.pgrp since 5.19 (64d608db38ff), tty->pgrp before */
	NFM_FIELD(O, tty_ctrl_pgrp, "tty_struct", "ctrl.pgrp", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, tty_pgrp, "tty_struct", "pgrp", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, drv_major, "tty_driver", "major", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, drv_minor_start, "tty_driver", "minor_start", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, c_inh, "cred", "cap_inheritable", 0),
	NFM_FIELD(O, c_prm, "cred", "cap_permitted", 0),
	NFM_FIELD(O, c_eff, "cred", "cap_effective", 0),
	NFM_FIELD(O, c_bnd, "cred", "cap_bset", 0),
	NFM_FIELD(O, c_amb, "cred", "cap_ambient", 0),
	NFM_FIELD(O, fs_umask, "fs_struct", "umask", 0),
	NFM_FIELD(O, m_hiwater_rss, "mm_struct", "hiwater_rss", 0),
	NFM_FIELD(O, m_hiwater_vm, "mm_struct", "hiwater_vm", 0),
	NFM_FIELD(O, m_locked_vm, "mm_struct", "locked_vm", 0),
	NFM_FIELD(O, m_pinned_vm, "mm_struct", "pinned_vm", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, m_data_vm, "mm_struct", "data_vm", 0),
	NFM_FIELD(O, m_exec_vm, "mm_struct", "exec_vm", 0),
	NFM_FIELD(O, m_stack_vm, "mm_struct", "stack_vm", 0),
	NFM_FIELD(O, m_start_code, "mm_struct", "start_code", 0),
	NFM_FIELD(O, m_end_code, "mm_struct", "end_code", 0),
	NFM_FIELD(O, m_start_data, "mm_struct", "start_data", 0),
	NFM_FIELD(O, m_end_data, "mm_struct", "end_data", 0),
	NFM_FIELD(O, m_pgtables, "mm_struct", "pgtables_bytes", NFM_FIELD_OPTIONAL),
	NFM_FIELD(O, m_hugetlb, "mm_struct", "hugetlb_usage", NFM_FIELD_OPTIONAL),
};
#undef O

static int enum_of(struct nfm_ctx *ctx, const char *name, int max)
{
	int64_t v;

	if (nfm_btf_enum_value(ctx->btf, name, &v) < 0 || v < 0 || v >= max)
		return -1;
	return (int)v;
}

/*
 * MAX_NUMNODES, the bits /proc prints of a nodemask: struct zonelist holds MAX_NUMNODES *
 * MAX_NR_ZONES + 1 zonerefs on every kernel (VMCOREINFO's LENGTH(node_data) says it on x86 only,
 * and nodemask_t's size rounds it up to whole longs). 0 when unknown.
 */
static int32_t max_numnodes(struct nfm_ctx *ctx)
{
	struct nfm_field refs;
	uint32_t ref_size;
	int64_t zones, n;

	if (nfm_btf_field(ctx->btf, "zonelist", "_zonerefs", &refs) < 0 ||
	    nfm_btf_type_size(ctx->btf, "zoneref", &ref_size) < 0 || ref_size == 0 ||
	    nfm_btf_enum_value(ctx->btf, "__MAX_NR_ZONES", &zones) < 0 || zones <= 0)
		return 0;
	n = ((int64_t)(refs.size / ref_size) - 1) / zones;
	if (n <= 0 || n > 1 << 16 || (n * zones + 1) * ref_size != (int64_t)refs.size)
		return 0;
	return (int32_t)n;
}

static int make_info_off(struct nfm_ctx *ctx, void *block)
{
	struct info_off *o = block;
	struct nfm_field f;
	uint64_t v;
	int err;

	err = nfm_resolve_fields(ctx, info_specs, sizeof(info_specs) / sizeof(info_specs[0]), o);
	o->pidtype_pgid = enum_of(ctx, "PIDTYPE_PGID", 8);
	o->pidtype_sid = enum_of(ctx, "PIDTYPE_SID", 8);
	o->pidtype_tgid = enum_of(ctx, "PIDTYPE_TGID", 8);
	/* an index into whichever array holds it: rlimit[] (6.0+) or ucount[] before */
	if (o->uc_rlimits < 0)
		o->uc_rlimits = o->uc_ucount;
	o->ucount_sigpending = o->uc_rlimits >= 0 &&
			       nfm_btf_field(ctx->btf, "ucounts",
					     o->uc_rlimits == o->uc_ucount ? "ucount" : "rlimit",
					     &f) == 0 ?
			       enum_of(ctx, "UCOUNT_RLIMIT_SIGPENDING", (int)(f.size / 8)) : -1;
	o->mm_swapents = enum_of(ctx, "MM_SWAPENTS", 8);
	o->t_cpus_size = o->t_cpus_mask >= 0 &&
			 nfm_btf_field(ctx->btf, "task_struct", "cpus_mask", &f) == 0 ?
			 (int32_t)f.size : 0;
	o->max_numnodes = max_numnodes(ctx);
	o->thp = nfm_btf_field(ctx->btf, "pglist_data", "deferred_split_queue", &f) == 0 ||
		 nfm_ksym(ctx, "transparent_hugepage_flags", &v) == 0;
	o->t_mems_size = o->t_mems_allowed >= 0 &&
			 nfm_btf_field(ctx->btf, "task_struct", "mems_allowed", &f) == 0 ?
			 (int32_t)f.size : 0;
	if (!err && (o->pidtype_pgid < 0 || o->pidtype_sid < 0 || o->pidtype_tgid < 0 ||
		     o->mm_swapents < 0 || o->upid_size <= 0 || o->upid_size > 64 ||
		     (o->t_cpu < 0 && o->t_ti_cpu < 0) || o->ksa_size <= 0 || o->ksa_size > 256))
		err = -ENOENT;
	return err;
}

static int offsets(struct nfm_ctx *ctx, const struct info_off **ret)
{
	int err;

	*ret = nfm_kernel_layout(ctx, NFM_SLOT_TASK_INFO, sizeof(struct info_off), make_info_off,
				 &err);
	return err;
}

static int rd64(struct nfm_ctx *ctx, uint64_t base, int32_t off, uint64_t *v)
{
	return nfm_kread_u64(ctx, base + (uint64_t)off, v);
}

static int rd32(struct nfm_ctx *ctx, uint64_t base, int32_t off, uint32_t *v)
{
	return nfm_kread_u32(ctx, base + (uint64_t)off, v);
}

/* A pointer the kernel may hold as NULL: 0 (with *p 0), or -EBADMSG for a wild one. */
static int ptr(struct nfm_ctx *ctx, uint64_t base, int32_t off, uint64_t *p)
{
	int err = rd64(ctx, base, off, p);

	if (err < 0)
		return err;
	return *p && !nfm_kptr_ok(ctx, *p) ? -EBADMSG : 0;
}

/* pid_nr_ns() for the initial namespace: pid->numbers[0].nr (0 for a NULL pid). */
static int pid_nr(struct nfm_ctx *ctx, const struct info_off *o, uint64_t pid, int32_t *nr)
{
	uint32_t v = 0;
	int err;

	*nr = 0;
	if (!pid)
		return 0;
	err = rd32(ctx, pid, o->pid_numbers + o->upid_nr, &v);
	if (err < 0)
		return err;
	if (v > NFM_TASK_MAX)
		return -EBADMSG;
	*nr = (int32_t)v;
	return 0;
}

static int fill_tty(struct nfm_ctx *ctx, const struct info_off *o, uint64_t tty,
		    struct nfm_task_info *r)
{
	uint64_t drv, pgrp;
	uint32_t major = 0, minor_start = 0, index;
	int32_t pg = o->tty_ctrl_pgrp >= 0 ? o->tty_ctrl_pgrp : o->tty_pgrp;
	int err;

	r->tpgid = -1;
	if (!tty)
		return 0;
	if (o->tty_driver < 0 || o->tty_index < 0 || o->drv_major < 0 || o->drv_minor_start < 0 ||
	    pg < 0) {
		r->missing |= NFM_TASK_INFO_TTY;
		return 0;
	}
	if ((err = ptr(ctx, tty, o->tty_driver, &drv)) < 0 || !drv ||
	    (err = rd32(ctx, tty, o->tty_index, &index)) < 0 ||
	    (err = rd32(ctx, drv, o->drv_major, &major)) < 0 ||
	    (err = rd32(ctx, drv, o->drv_minor_start, &minor_start)) < 0 ||
	    (err = ptr(ctx, tty, pg, &pgrp)) < 0 || (err = pid_nr(ctx, o, pgrp, &r->tpgid)) < 0)
		return err < 0 ? err : -EBADMSG;
	/* tty_devnum(): MKDEV(driver->major, driver->minor_start) + tty->index */
	r->tty_major = major;
	r->tty_minor = minor_start + index;
	if (r->tty_major > 0xfff || r->tty_minor > 0xfffff)
		return -EBADMSG;
	/* new_encode_dev() */
	r->tty_nr = (r->tty_minor & 0xff) | (r->tty_major << 8) | ((r->tty_minor & ~0xffu) << 12);
	if (o->tty_name >= 0 && nfm_kread(ctx, tty + (uint64_t)o->tty_name, r->tty_name,
					  sizeof(r->tty_name) - 1) < 0)
		r->tty_name[0] = 0;
	r->tty_name[sizeof(r->tty_name) - 1] = 0;
	return 0;
}

/* collect_sigign_sigcatch(): every action's handler, SIG_IGN or not SIG_DFL. */
static int fill_sigactions(struct nfm_ctx *ctx, const struct info_off *o, uint64_t sighand,
			   struct nfm_task_info *r)
{
	uint8_t buf[NSIG * 256];
	size_t len = (size_t)o->ksa_size * NSIG;
	int i, err;

	if (!sighand)
		return 0;
	err = nfm_kread(ctx, sighand + (uint64_t)o->sh_action, buf, len);
	if (err < 0)
		return err;
	for (i = 0; i < NSIG; i++) {
		uint64_t h = nfm_get_u64(buf, i * o->ksa_size + o->ksa_handler);

		if (h == SIG_IGN)
			r->sig_ignored |= 1ull << i;
		else if (h)
			r->sig_caught |= 1ull << i;
	}
	return 0;
}

/* The mm counter at index idx as get_mm_counter() reads it (approximate, clamped at 0). */
static int mm_counter(struct nfm_ctx *ctx, const struct nfm_task_state *ts, uint64_t mm, int idx,
		      uint64_t *ret)
{
	uint64_t v;
	int32_t off = ts->rss_percpu ? ts->m.rss_stat + idx * ts->pcc_size + ts->pcc_count :
				       ts->m.rss_stat + idx * 8;
	int err = rd64(ctx, mm, off, &v);

	if (err < 0)
		return err;
	*ret = (int64_t)v < 0 ? 0 : v;
	return 0;
}

/* task_mem() and the mm fields of do_task_stat(). */
static int fill_mm(struct nfm_ctx *ctx, const struct info_off *o, const struct nfm_task *t,
		   struct nfm_task_info *r)
{
	const struct nfm_task_state *ts;
	uint64_t total_vm, hw, exec_vm, text, rss, v = 0;
	uint64_t mm = t->mm;
	int err = nfm_task_state_get(ctx, &ts);

	if (err < 0)
		return err;
	rss = nfm_task_vmrss_pages(t, ts->status_rss_summed);
	if ((err = rd64(ctx, mm, ts->m.total_vm, &total_vm)) < 0 ||
	    (err = rd64(ctx, mm, o->m_hiwater_vm, &hw)) < 0)
		return err;
	r->vm_peak = hw > total_vm ? hw : total_vm;
	if ((err = rd64(ctx, mm, o->m_hiwater_rss, &hw)) < 0)
		return err;
	r->vm_hwm = hw > rss ? hw : rss;
	if ((err = rd64(ctx, mm, o->m_locked_vm, &r->vm_lck)) < 0 ||
	    (err = rd64(ctx, mm, o->m_data_vm, &r->vm_data)) < 0 ||
	    (err = rd64(ctx, mm, o->m_stack_vm, &r->vm_stk)) < 0 ||
	    (err = rd64(ctx, mm, o->m_exec_vm, &exec_vm)) < 0 ||
	    (err = rd64(ctx, mm, o->m_start_code, &r->start_code)) < 0 ||
	    (err = rd64(ctx, mm, o->m_end_code, &r->end_code)) < 0 ||
	    (err = rd64(ctx, mm, o->m_start_data, &r->start_data)) < 0 ||
	    (err = rd64(ctx, mm, o->m_end_data, &r->end_data)) < 0 ||
	    (err = mm_counter(ctx, ts, mm, o->mm_swapents, &r->vm_swap)) < 0)
		return err;
	/* the walk's reads of the mm, as start_stack */
	r->start_stack = t->start_stack;
	r->start_brk = t->start_brk;
	r->arg_start = t->arg_start;
	r->arg_end = t->arg_end;
	r->env_start = t->env_start;
	r->env_end = t->env_end;
	if (o->m_pinned_vm >= 0) {
		if ((err = rd64(ctx, mm, o->m_pinned_vm, &r->vm_pin)) < 0)
			return err;
	} else {
		r->missing |= NFM_TASK_INFO_PIN;
	}
	if (o->m_pgtables >= 0 && (err = rd64(ctx, mm, o->m_pgtables, &r->vm_pte_bytes)) < 0)
		return err;
	if (o->m_hugetlb >= 0 && (err = rd64(ctx, mm, o->m_hugetlb, &v)) < 0)
		return err;
	r->hugetlb = (int64_t)v < 0 ? 0 : v;
	/* text = min(PAGE_ALIGN(end_code) - (start_code & PAGE_MASK), exec_vm << PAGE_SHIFT) */
	text = ((r->end_code + 4095) & ~4095ull) - (r->start_code & ~4095ull);
	if (r->end_code < r->start_code)
		text = 0;
	if (text > exec_vm << 12)
		text = exec_vm << 12;
	r->vm_exe_bytes = text;
	r->vm_lib_bytes = (exec_vm << 12) - text;
	return 0;
}

/* min_flt/maj_flt and gtime of every live thread of the group (do_task_stat()'s sum). */
static int group_faults(struct nfm_ctx *ctx, const struct info_off *o, uint64_t signal,
			struct nfm_task_info *r)
{
	const struct nfm_task_state *ts;
	struct nfm_list_iter li;
	uint64_t node, mn, mj, gt;
	int err = nfm_task_state_get(ctx, &ts);

	if (err < 0)
		return err;
	nfm_list_iter_init(&li, ctx, signal + (uint64_t)ts->s.thread_head, ts->task_cap);
	while ((err = nfm_list_iter_next(&li, &node)) > 0) {
		uint64_t th = nfm_container_of(node, ts->t.thread_node);

		if ((err = rd64(ctx, th, o->t_min_flt, &mn)) < 0 ||
		    (err = rd64(ctx, th, o->t_maj_flt, &mj)) < 0 ||
		    (err = rd64(ctx, th, o->t_gtime, &gt)) < 0)
			return err;
		r->min_flt += mn;
		r->maj_flt += mj;
		r->guest_time_ns += gt;
	}
	return err;
}

#define MAX_PID_NS_LEVEL 32
#define NGROUPS_MAX 65536

/*
 * pid_nr_ns(other, ns) for the namespace at level g of the task's own pid: other's number there
 * when other reaches that deep into the same namespace, else 0 (task_state()'s NS* lines).
 */
static int ns_ids(struct nfm_ctx *ctx, const struct info_off *o, uint64_t other,
		  const uint64_t *ns, uint32_t levels, int32_t *ids)
{
	uint32_t level, g, nr;
	uint64_t ons;
	int err;

	memset(ids, 0, levels * sizeof(*ids));
	if (!other)
		return 0;
	if ((err = rd32(ctx, other, o->pid_level, &level)) < 0)
		return err;
	if (level > MAX_PID_NS_LEVEL)
		return -EBADMSG;
	for (g = 0; g < levels && g <= level; g++) {
		int32_t at = o->pid_numbers + (int32_t)g * o->upid_size;

		if ((err = rd32(ctx, other, at + o->upid_nr, &nr)) < 0 ||
		    (err = rd64(ctx, other, at + o->upid_ns, &ons)) < 0)
			return err;
		if (nr > NFM_TASK_MAX)
			return -EBADMSG;
		ids[g] = ons == ns[g] ? (int32_t)nr : 0;
	}
	return 0;
}

static int fill_ns(struct nfm_ctx *ctx, const struct info_off *o, uint64_t task, uint64_t signal,
		   struct nfm_task_info *r)
{
	uint64_t pid, tgid, pgid, sid, ns[MAX_PID_NS_LEVEL + 1];
	uint32_t level, g;
	int err;

	if (o->t_thread_pid < 0) {	/* before 4.19: task->pids[PIDTYPE_PID].pid */
		r->missing |= NFM_TASK_INFO_NS;
		return 0;
	}
	if ((err = ptr(ctx, task, o->t_thread_pid, &pid)) < 0 ||
	    (err = ptr(ctx, signal, o->s_pids + o->pidtype_tgid * 8, &tgid)) < 0 ||
	    (err = ptr(ctx, signal, o->s_pids + o->pidtype_pgid * 8, &pgid)) < 0 ||
	    (err = ptr(ctx, signal, o->s_pids + o->pidtype_sid * 8, &sid)) < 0)
		return err;
	if (!pid)
		return -EBADMSG;
	if ((err = rd32(ctx, pid, o->pid_level, &level)) < 0)
		return err;
	if (level > MAX_PID_NS_LEVEL)
		return -EBADMSG;
	for (g = 0; g <= level; g++)
		if ((err = rd64(ctx, pid, o->pid_numbers + (int32_t)g * o->upid_size + o->upid_ns,
				&ns[g])) < 0)
			return err;
	r->ns_levels = level + 1;
	if ((err = ns_ids(ctx, o, tgid, ns, r->ns_levels, r->ns_tgid)) < 0 ||
	    (err = ns_ids(ctx, o, pid, ns, r->ns_levels, r->ns_pid)) < 0 ||
	    (err = ns_ids(ctx, o, pgid, ns, r->ns_levels, r->ns_pgid)) < 0)
		return err;
	return ns_ids(ctx, o, sid, ns, r->ns_levels, r->ns_sid);
}

int nfm_task_groups(struct nfm_ctx *ctx, const struct nfm_task *t, uint32_t *gids, size_t max)
{
	const struct nfm_task_state *ts;
	const struct info_off *o;
	uint64_t cred, gi;
	uint32_t n;
	int err;

	if (!ctx || !t || (max && !gids))
		return -EINVAL;
	if ((err = offsets(ctx, &o)) < 0 || (err = nfm_task_state_get(ctx, &ts)) < 0)
		return err;
	if ((err = ptr(ctx, t->addr, ts->t.real_cred, &cred)) < 0)
		return err;
	if (!cred)
		return -EBADMSG;
	if (o->c_group_info < 0 || o->gi_ngroups < 0 || o->gi_gid < 0)
		return -ENOENT;
	if ((err = ptr(ctx, cred, o->c_group_info, &gi)) < 0)
		return err;
	if (!gi)
		return 0;
	if ((err = rd32(ctx, gi, o->gi_ngroups, &n)) < 0)
		return err;
	if (n > NGROUPS_MAX)
		return -EBADMSG;
	if (max > n)
		max = n;
	if (max && (err = nfm_kread(ctx, gi + (uint64_t)o->gi_gid, gids, max * 4)) < 0)
		return err;
	return (int)n;
}

#define RLIMIT_SIGPENDING 11

/* task_sig()'s SigQ: the user's queued signals and the task's limit. */
static int fill_sigq(struct nfm_ctx *ctx, const struct info_off *o, uint64_t cred,
		     uint64_t signal, struct nfm_task_info *r)
{
	uint64_t p;
	uint32_t u;
	int err;

	if ((err = rd64(ctx, signal, o->s_rlim + RLIMIT_SIGPENDING * 16, &r->sigq_limit)) < 0)
		return err;
	if (o->c_ucounts >= 0 && o->uc_rlimits >= 0 && o->ucount_sigpending >= 0) {
		if ((err = ptr(ctx, cred, o->c_ucounts, &p)) < 0)
			return err;
		if (!p)
			return -EBADMSG;
		err = rd64(ctx, p, o->uc_rlimits + o->ucount_sigpending * 8, &r->sigq_queued);
		return err;
	}
	if (o->us_sigpending < 0)
		return -ENOENT;
	if ((err = ptr(ctx, cred, o->c_user, &p)) < 0)
		return err;
	if (!p)
		return -EBADMSG;
	if ((err = rd32(ctx, p, o->us_sigpending, &u)) < 0)
		return err;
	r->sigq_queued = u;
	return 0;
}

#define MMF_DISABLE_THP 24
#define MASK_BYTES 128		/* struct nfm_task_info's masks: 1024 bits */

/* status FDSize, Seccomp_filters, CoreDumping, THP_enabled, Cpus_allowed, Mems_allowed. */
static int fill_late(struct nfm_ctx *ctx, const struct info_off *o, const struct nfm_task *t,
		     uint64_t signal, struct nfm_task_info *r)
{
	uint64_t files, fdt, core = 0, flags, cpus;
	uint32_t u;
	int64_t nodes;
	int err;

	if ((err = ptr(ctx, t->addr, o->t_files, &files)) < 0)
		return err;
	if (files && ((err = ptr(ctx, files, o->fs_fdt, &fdt)) < 0 || !fdt ||
		      (err = rd32(ctx, fdt, o->fdt_max_fds, &r->fd_size)) < 0))
		return err < 0 ? err : -EBADMSG;
	r->seccomp_filters = -1;
	if (o->t_seccomp_filters >= 0) {
		if ((err = rd32(ctx, t->addr, o->t_seccomp_filters, &u)) < 0)
			return err;
		r->seccomp_filters = (int32_t)u;
	}
	r->core_dumping = r->thp_enabled = -1;
	if (t->mm) {
		if (o->s_core_state >= 0)
			err = rd64(ctx, signal, o->s_core_state, &core);
		else if (o->m_core_state >= 0)
			err = rd64(ctx, t->mm, o->m_core_state, &core);
		if (err < 0)
			return err;
		r->core_dumping = core != 0;
		if (o->m_flags < 0) {
			r->missing |= NFM_TASK_INFO_THP;
		} else {
			if ((err = rd64(ctx, t->mm, o->m_flags, &flags)) < 0)
				return err;
			/* IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE), then the mm's own switch */
			r->thp_enabled = o->thp && !(flags >> MMF_DISABLE_THP & 1);
		}
	}
	/* cpumask_pr_args(): nr_cpu_ids bits; nodemask_pr_args(): MAX_NUMNODES bits */
	/* no such variable (CONFIG_FORCE_NR_CPUS, !SMP): the mask is unknown, the rest stands */
	if (o->t_cpus_size <= 0 || nfm_ksym(ctx, "nr_cpu_ids", &cpus) < 0) {
		u = 0;
	} else {
		if ((err = rd32(ctx, cpus, 0, &u)) < 0)
			return err;
		if (u == 0 || u > (uint32_t)o->t_cpus_size * 8)
			return -EBADMSG;
	}
	if (u == 0 || u > MASK_BYTES * 8) {	/* unknown, or more CPUs than the struct holds */
		r->missing |= NFM_TASK_INFO_CPUS;
	} else {
		r->nr_cpu_bits = u;
		if ((err = nfm_kread(ctx, t->addr + (uint64_t)o->t_cpus_mask, r->cpus_allowed,
				     ((size_t)u + 63) / 64 * 8)) < 0)
			return err;
	}
	nodes = o->max_numnodes;
	if (o->t_mems_size <= 0 || nodes <= 0 || nodes > MASK_BYTES * 8) {
		r->missing |= NFM_TASK_INFO_MEMS;
		return 0;
	}
	if (nodes <= 0 || nodes > o->t_mems_size * 8)
		return -EBADMSG;
	r->nr_mem_bits = (uint32_t)nodes;
	return nfm_kread(ctx, t->addr + (uint64_t)o->t_mems_allowed, r->mems_allowed,
			 ((size_t)nodes + 63) / 64 * 8);
}

int nfm_task_info(struct nfm_ctx *ctx, const struct nfm_task *t, unsigned int flags,
		  struct nfm_task_info *r)
{
	const struct nfm_task_state *ts;
	const struct info_off *o;
	uint64_t task = t->addr, signal, sighand, tty, pid, parent, fs, cred, v;
	uint32_t u, state, sflags;
	bool whole = !(flags & NFM_TASK_THREADS);
	int err;

	memset(r, 0, sizeof(*r));
	if ((err = offsets(ctx, &o)) < 0 || (err = nfm_task_state_get(ctx, &ts)) < 0)
		return err;
	if ((err = ptr(ctx, task, ts->t.signal, &signal)) < 0 ||
	    (err = ptr(ctx, task, o->t_sighand, &sighand)) < 0 ||
	    (err = ptr(ctx, task, ts->t.real_cred, &cred)) < 0 ||
	    (err = ptr(ctx, task, o->t_fs, &fs)) < 0)
		return err;
	if (!signal || !cred)
		return -EBADMSG;
	/* pgrp and session: signal->pids[] */
	if ((err = ptr(ctx, signal, o->s_pids + o->pidtype_pgid * 8, &pid)) < 0 ||
	    (err = pid_nr(ctx, o, pid, &r->pgrp)) < 0 ||
	    (err = ptr(ctx, signal, o->s_pids + o->pidtype_sid * 8, &pid)) < 0 ||
	    (err = pid_nr(ctx, o, pid, &r->session)) < 0)
		return err;
	if ((err = ptr(ctx, signal, o->s_tty, &tty)) < 0 || (err = fill_tty(ctx, o, tty, r)) < 0)
		return err;
	if ((err = rd64(ctx, signal, o->s_cmin_flt, &r->cmin_flt)) < 0 ||
	    (err = rd64(ctx, signal, o->s_cmaj_flt, &r->cmaj_flt)) < 0 ||
	    (err = rd64(ctx, signal, o->s_cutime, &r->cutime_ns)) < 0 ||
	    (err = rd64(ctx, signal, o->s_cstime, &r->cstime_ns)) < 0 ||
	    (err = rd64(ctx, signal, o->s_rlim + RLIMIT_RSS * 16, &r->rsslim)) < 0 ||
	    (err = rd64(ctx, signal, o->s_shared_pending, &r->sig_shared_pending)) < 0)
		return err;
	if ((err = rd64(ctx, task, o->t_pending, &r->sig_pending)) < 0 ||
	    (err = rd64(ctx, task, o->t_blocked, &r->sig_blocked)) < 0 ||
	    (err = fill_sigactions(ctx, o, sighand, r)) < 0)
		return err;
	if (whole) {
		if ((err = group_faults(ctx, o, signal, r)) < 0 ||
		    (err = rd64(ctx, signal, o->s_min_flt, &v)) < 0)
			return err;
		r->min_flt += v;
		if ((err = rd64(ctx, signal, o->s_maj_flt, &v)) < 0)
			return err;
		r->maj_flt += v;
		if ((err = rd64(ctx, signal, o->s_gtime, &v)) < 0)
			return err;
		r->guest_time_ns += v;
	} else if ((err = rd64(ctx, task, o->t_min_flt, &r->min_flt)) < 0 ||
		   (err = rd64(ctx, task, o->t_maj_flt, &r->maj_flt)) < 0 ||
		   (err = rd64(ctx, task, o->t_gtime, &r->guest_time_ns)) < 0) {
		return err;
	}
	if ((err = rd64(ctx, signal, o->s_cgtime, &r->cguest_time_ns)) < 0)
		return err;
	/* wchan: !task_is_running() where /proc may show it (a thread, or a one-thread process) */
	if ((err = rd32(ctx, task, ts->t.state, &state)) < 0)
		return err;
	r->wchan_flag = (!whole || t->nr_threads < 2) && state != TASK_RUNNING;
	if ((err = rd32(ctx, task, o->t_exit_signal, &u)) < 0)
		return err;
	r->exit_signal = (int32_t)u;
	if ((err = rd32(ctx, task, o->t_ti_cpu >= 0 ? o->t_ti_cpu : o->t_cpu, &u)) < 0)
		return err;
	r->processor = (int32_t)u;
	if ((err = rd32(ctx, task, o->t_exit_code, &u)) < 0)
		return err;
	r->exit_code = (int32_t)u;
	if (whole && o->s_group_exec_task >= 0) {
		if ((err = rd32(ctx, signal, o->s_flags, &sflags)) < 0 ||
		    (err = rd32(ctx, signal, o->s_group_exit_code, &u)) < 0)
			return err;
		if (sflags & (SIGNAL_GROUP_EXIT | SIGNAL_STOP_STOPPED))
			r->exit_code = (int32_t)u;
	}
	if (flags & NFM_TASK_STAT_ONLY) {
		r->missing |= NFM_TASK_INFO_STATUS;
		return t->mm ? fill_mm(ctx, o, t, r) : 0;
	}
	/* TracerPid: ptrace_parent() = task->parent while task->ptrace */
	if ((err = rd32(ctx, task, o->t_ptrace, &u)) < 0)
		return err;
	if (u) {
		if ((err = ptr(ctx, task, o->t_parent, &parent)) < 0)
			return err;
		if (parent && (err = rd32(ctx, parent, ts->t.pid, &u)) < 0)
			return err;
		r->tracer_pid = parent ? (int32_t)u : 0;
	}
	r->umask = -1;
	if (fs) {
		if ((err = rd32(ctx, fs, o->fs_umask, &u)) < 0)
			return err;
		r->umask = (int32_t)(u & 07777);
	}
	if ((err = rd64(ctx, cred, o->c_inh, &r->cap_inheritable)) < 0 ||
	    (err = rd64(ctx, cred, o->c_prm, &r->cap_permitted)) < 0 ||
	    (err = rd64(ctx, cred, o->c_eff, &r->cap_effective)) < 0 ||
	    (err = rd64(ctx, cred, o->c_bnd, &r->cap_bounding)) < 0 ||
	    (err = rd64(ctx, cred, o->c_amb, &r->cap_ambient)) < 0)
		return err;
	if ((err = rd64(ctx, task, o->t_atomic_flags, &v)) < 0)
		return err;
	r->no_new_privs = (v >> PFA_NO_NEW_PRIVS) & 1;
	r->seccomp = -1;
	if (o->t_seccomp_mode >= 0) {
		if ((err = rd32(ctx, task, o->t_seccomp_mode, &u)) < 0)
			return err;
		r->seccomp = (int32_t)u;
	} else {
		r->missing |= NFM_TASK_INFO_SECCOMP;
	}
	if ((err = rd64(ctx, task, o->t_nvcsw, &r->nvcsw)) < 0 ||
	    (err = rd64(ctx, task, o->t_nivcsw, &r->nivcsw)) < 0)
		return err;
	if ((err = fill_late(ctx, o, t, signal, r)) < 0 ||
	    (err = fill_ns(ctx, o, task, signal, r)) < 0)
		return err;
	if ((err = fill_sigq(ctx, o, cred, signal, r)) < 0) {
		if (err != -ENOENT)
			return err;
		r->missing |= NFM_TASK_INFO_SIGQ;
	}
	if (t->mm && (err = fill_mm(ctx, o, t, r)) < 0)
		return err;
	return 0;
}
