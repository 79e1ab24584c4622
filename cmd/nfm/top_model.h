/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What `nfm top` shows, independent of how: one frame per VM per refresh, %CPU computed from the
 * difference between two frames of the same VM the way top does (Δ(utime+stime) over the guest's
 * elapsed time), the CPU split from Δ of the /proc/stat counters.
 */
#ifndef NFM_CMD_TOP_MODEL_H
#define NFM_CMD_TOP_MODEL_H

#include <nfm/nfm.h>	/* first: the other headers use NFM_EXPORT */
#include <nfm/context.h>
#include <nfm/cpu.h>
#include <nfm/host.h>
#include <nfm/source.h>
#include <nfm/system.h>
#include <nfm/task.h>
#include <stdbool.h>

#include "guest_users.h"

#define MAX_CMDLINE 4096	/* bytes of a command line kept (as procps' top) */

struct top_proc {
	int32_t pid, ppid;
	uint32_t uid;
	char state;
	int32_t priority, nice;
	uint64_t vsize, rss_kb;
	uint64_t cpu_ns;		/* utime + stime, cputime-adjusted, whole thread group */
	uint64_t start_ns;
	double cpu_pct;			/* over the last interval; 0 on the first frame */
	double host_pct;		/* host CPU it really got (top_host.c); valid with vm->hv.ok */
	int cpu_last;			/* guest CPU it last ran on, -1 unknown */
	double mem_pct;
	char user[GUEST_NAME_MAX];	/* the guest's name of uid (its /etc/passwd), or the number */
	char name[64];			/* comm (exact bytes) */
	char *cmdline;			/* argv joined by spaces, or NULL */
	bool cmdline_known;		/* cmdline NULL means none (a kernel thread, a zombie) */
	const char *vm;			/* the VM's name (owned by the VM) */
	const struct top_host_view *vm_hv;	/* the VM's host view (owned by the VM) */
	struct nfm_task task;		/* everything read of it (JSON: obj_process) */
	struct nfm_ctx *ctx;		/* the VM's, for reads at display time (WCHAN); NULL remote */
};

struct top_cpu_split {
	double us, sy, ni, id, wa, hi, si, st;	/* percent of the interval */
};

/* The host's side of a VM over the last interval (top_host.c, doc/ctop.md). */
struct top_host_view {
	bool ok;			/* two host readings: the percentages below are valid */
	double cpu_pct;			/* QEMU process (every thread) on the host, % of one CPU */
	double vcpu_pct;		/* its vCPU threads */
	double wait_pct;		/* vCPU threads runnable but waiting for a host CPU */
	double cgroup_pct;		/* the CPU cgroup's usage (when have_cgroup_usage) */
	double throttled_pct;		/* periods throttled / periods with runnable tasks */
	double throttled_ms;		/* time throttled in the interval */
	bool have_cgroup_usage, have_throttling;
};

struct top_vm {
	char name[128];			/* shown name; a remote VM's is "HOST:PORT/NAME" */
	int pid;			/* the QEMU process (on its own host, for a remote VM) */
	bool remote;			/* read from an nfmd (top_remote.c), never attached here */
	struct nfm_vm_info info;	/* what the host (or nfmd) says of the QEMU process */
	char spec[160];
	struct nfm_source *src;
	struct nfm_ctx *ctx;
	char error[256];		/* why this VM shows no data, or "" */
	double walk_budget_s;		/* time for more tries of a frame's walk (top_vm_sample) */
	struct nfm_kernel_info ki;
	bool have_ki;
	bool paused;			/* the guest clock stood still and QEMU's run state says so */
	char run_state[32];		/* QEMU's (QMP query-status) when asked, or "" */
	double run_state_retry;		/* when to ask QEMU again (monotonic s) */
	bool collapsed;			/* TUI: header line only, no processes */
	/* The current frame. */
	uint64_t uptime_ns;
	struct nfm_loadavg load;
	struct nfm_meminfo mem;
	struct nfm_cpu_times cpu;
	bool have_cpu;			/* cpu is known (nfmd's frames do not carry it) */
	struct top_cpu_split split;
	unsigned int tasks, running, sleeping, stopped, zombie, idle;
	struct top_proc *procs;
	size_t nprocs;
	/* The previous frame, for deltas. */
	uint64_t prev_uptime_ns;
	struct nfm_cpu_times prev_cpu;
	struct top_proc *prev;
	size_t nprev;
	bool have_prev;
	/* The host's side (local VMs only): top_host.c. */
	struct nfm_host_vm *host;
	struct nfm_host_sample *hs, *prev_hs;
	struct top_host_view hv;
};

/* Make the current host reading the previous one; the new (zeroed) current one, or NULL. */
struct nfm_host_sample *top_host_rotate(struct top_vm *vm);
/* Read the host's accounting of a local VM now (after the guest's frame was read). */
void top_host_sample(struct top_vm *vm);
/* The host view and every process's host_pct over the interval (at the end of top_vm_compute). */
void top_host_compute(struct top_vm *vm);
void top_host_free(struct top_vm *vm);

/* Open and attach (errors go into vm->error, not to the terminal). */
/* Attach to vm->spec with the user's --system-map/--btf (opts may be NULL). */
int top_vm_attach(struct top_vm *vm, const struct nfm_attach_opts *opts);
/* Read a new frame: refresh, read everything, compute deltas against the previous frame. */
int top_vm_sample(struct top_vm *vm, bool want_cmdline);
void top_vm_free(struct top_vm *vm);
/* For frames read elsewhere (nfmd): make the current frame the previous one; then, once procs,
 * uptime_ns, cpu and mem are filled, compute the percentages. */
void top_vm_rotate(struct top_vm *vm);
void top_vm_compute(struct top_vm *vm);

/*
 * What the front ends share (cmd_top.c's batch and JSON output, top_tui.c's screen): the VMs,
 * the sort, the filters, and the rows to show. Neither front end calls the other.
 */
enum top_sort { TOP_SORT_CPU, TOP_SORT_MEM, TOP_SORT_PID, TOP_SORT_TIME, TOP_SORT_VIRT };

/* A filter of the TUI's o (procps top's "FIELD=TEXT", "FIELD>N", "FIELD<N", "!..."). */
enum top_field { TOP_F_COMMAND, TOP_F_USER, TOP_F_VM, TOP_F_STATE, TOP_F_PID, TOP_F_CPU,
		 TOP_F_MEM, TOP_F_RES };
struct top_filter {
	enum top_field field;
	char op;			/* '=', '<' or '>' */
	bool negate;
	char text[64];
	double num;
};
#define TOP_FILTERS_MAX 8

struct top_state {
	struct top_vm *vms;	/* local VMs, then remote ones */
	size_t nvms;
	double delay;		/* seconds between frames */
	enum top_sort sort;
	bool sort_reverse;	/* -o -FIELD, R: lowest first */
	const char *user;	/* -u: only this user's processes (name or number), or NULL */
	struct top_filter filters[TOP_FILTERS_MAX];	/* all must match */
	size_t nfilters;
	bool rescan;		/* no --vm: VMs that appear are added, those that exit removed */
	size_t max_rows;	/* 0 = all */
	bool wchan;		/* --wchan, the TUI's w: a WCHAN column */
	bool cmdline;		/* -c, the TUI's c: COMMAND is the command line */
	struct top_vm *filter;	/* show only this VM's processes, or NULL */
	int32_t *pids;		/* -p: only these processes (npids 0: all) */
	size_t npids;
	const struct nfm_attach_opts *attach_opts;	/* --system-map, --btf; or NULL */
	const char *remote;	/* "HOST:PORT,..." of nfmd instances, or NULL */
	void *remote_state;	/* top_remote.c's (the HTTP client) */
	/* Reads the remote VMs' frames (top_remote_sample with --remote), or NULL. */
	void (*sample_remote)(struct top_state *st);
};

/* Whether -p lets this pid be shown; whether -p, -u and the filters let p be shown. */
bool top_pid_wanted(const struct top_state *st, int32_t pid);
bool top_proc_wanted(const struct top_state *st, const struct top_proc *p);
/* Add a filter ("COMMAND=zoo", "!USER=root", "%CPU>1"); -EINVAL, -ENOSPC. */
int top_filter_set(struct top_state *st, const char *expr);
/* Every shown process over all (or the filtered) VMs, sorted; *rows is malloc'd. */
size_t top_rows(struct top_state *st, struct top_proc ***rows);
/* The same as a tree (each process after its parent, VM by VM) when depth is not NULL:
 * (*depth)[i] is row i's depth (malloc'd too). */
size_t top_rows_tree(struct top_state *st, struct top_proc ***rows, int **depth);
/* WCHAN as /proc/PID/wchan shows it (the function a sleeping task waits in), "-" for none,
 * "?" when its stack cannot be read; a remote VM's process has none ("-"). */
const char *top_proc_wchan(const struct top_proc *p);
/* COMMAND as shown: the comm, or with st->cmdline the command line as procps top -c shows it
 * ("[comm]" for a process without one); not escaped. */
const char *top_proc_command(const struct top_state *st, const struct top_proc *p, char *buf,
			     size_t size);
/* cpu, mem, pid, time, or top's field names %CPU, %MEM, RES, TIME+, VIRT, PID. */
int top_parse_sort(const char *s, enum top_sort *ret);
/* After st->vms moved: every process's links to its VM. */
void top_relink(struct top_state *st);
void top_format_time(uint64_t ns, char *buf, size_t size);
void top_format_uptime(uint64_t ns, char *buf, size_t size);
/* Read one new frame of every VM (attaching the ones that are not yet). */
void top_sample_all(struct top_state *st);

/* Every QEMU VM on the host, or the one spec; returns the count (*ret owned by the caller). */
int top_vms_discover(const char *spec, struct top_vm **ret);

#endif
