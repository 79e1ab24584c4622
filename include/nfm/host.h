/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's side of a VM: what the host really gave a QEMU process and each of its vCPU threads
 * (run and run-queue wait time from /proc/PID/task/TID/schedstat), and the VM's CPU cgroup
 * (usage, CFS quota and throttling; cgroup v1 cpu,cpuacct or v2). With the guest's own accounting
 * (nfm_cpu_times(), a task's utime + stime) this gives the host-true share of each guest process:
 * nfm_host_attribute(). No guest memory is read here; doc/ctop.md describes the model.
 */
#ifndef NFM_HOST_H
#define NFM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nfm/nfm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NFM_HOST_MAX_VCPUS 256

/*
 * Where the host's files are (tests point them at a fake tree). Any member may be NULL. Declare
 * with NFM_OPTS(nfm_host_opts, name, ...) (nfm.h).
 */
struct nfm_host_opts {
	size_t sz;			/* sizeof(struct nfm_host_opts) */
	const char *proc_root;		/* default "/proc" */
	const char *cgroup_root;	/* default "/sys/fs/cgroup" */
	const char *qmp;		/* QMP socket for `info cpus`; NULL: the one on QEMU's command
					 * line; "": never use QMP (thread names only) */
};

/* One vCPU thread. */
struct nfm_host_vcpu {
	int cpu;			/* guest CPU number */
	int tid;			/* host thread id */
	uint64_t run_ns;		/* time on a host CPU (schedstat field 1) */
	uint64_t wait_ns;		/* runnable but waiting for a host CPU (field 2) */
	uint64_t slices;		/* times it was run (field 3) */
};

/* The VM's CPU cgroup, as the host accounts it. */
struct nfm_host_cgroup {
	int version;			/* 1 (cpu,cpuacct) or 2; 0: no CPU controller found */
	char path[256];			/* the group, relative to the hierarchy's root */
	bool have_usage, have_stat, have_quota;
	uint64_t usage_ns;		/* v1 cpuacct.usage; v2 cpu.stat usage_usec * 1000 */
	uint64_t nr_periods, nr_throttled;
	uint64_t throttled_ns;		/* v1 throttled_time; v2 throttled_usec * 1000 */
	int64_t quota_us;		/* per period; -1 unlimited */
	uint64_t period_us;
	unsigned int nr_tasks;		/* threads in the group (all of them this VM's: see only_vm);
					 * counted at most every 10 s */
	bool only_vm;			/* every task of the group belongs to this QEMU process */
};

/* One reading of a VM's host accounting. */
struct nfm_host_sample {
	uint64_t mono_ns;		/* host CLOCK_MONOTONIC at the reading */
	/* every thread of the QEMU process: schedstat run time; a thread that exited since the
	 * VM's first sample counts with its last reading, so that the sum only grows */
	uint64_t process_run_ns;
	uint64_t process_wait_ns;
	unsigned int nr_threads;
	int nr_vcpus;			/* entries of vcpu[] (sorted by cpu) */
	struct nfm_host_vcpu vcpu[NFM_HOST_MAX_VCPUS];
	struct nfm_host_cgroup cg;
};

struct nfm_host_vm;

/*
 * Find a QEMU process's vCPU threads (QMP `info cpus` thread ids when a socket is known and
 * answers; else threads named "CPU n/TCG" or "CPU n/KVM", as with -name ...,debug-threads=on)
 * and its CPU cgroup. A VM whose vCPU threads cannot be told apart still gives the process and
 * cgroup figures (nfm_host_vm_vcpus() returns 0). Returns 0, -ENOENT (no such process), -EINVAL.
 * Free with nfm_host_vm_free().
 */
NFM_EXPORT int nfm_host_vm_new(int pid, const struct nfm_host_opts *opts, struct nfm_host_vm **ret);
NFM_EXPORT void nfm_host_vm_free(struct nfm_host_vm *vm);

/* Number of vCPU threads found, and how ("qmp", "thread names" or "none"; static storage). */
NFM_EXPORT int nfm_host_vm_vcpus(const struct nfm_host_vm *vm);
NFM_EXPORT const char *nfm_host_vm_vcpus_how(const struct nfm_host_vm *vm);

/*
 * Read the host's accounting now into *ret. A vCPU thread that is gone reads as zero; the cgroup
 * members say what was there. Returns 0, or -ENOENT when the process is gone.
 */
NFM_EXPORT int nfm_host_vm_sample(struct nfm_host_vm *vm, struct nfm_host_sample *ret);

/*
 * The VM's run state as QEMU tells it over QMP (HMP `info status`), in buf: "running", "paused"
 * (stopped by a user: QMP stop, virsh suspend), or QEMU's name for why it stopped the VM itself:
 * "shutdown" (the guest powered off, QEMU runs with -no-shutdown), "guest-panicked",
 * "internal-error", "io-error", "suspended", "prelaunch", "inmigrate", "postmigrate"...
 * Connects, asks, disconnects: a monitor held by another client (libvirt holds its own) fails
 * within a short timeout. Returns 0, -EOPNOTSUPP (no QMP socket known, or opts->qmp was ""),
 * -EBUSY / -ETIMEDOUT (the monitor does not answer), -EBADMSG, -EINVAL.
 */
NFM_EXPORT int nfm_host_vm_run_state(struct nfm_host_vm *vm, char *buf, size_t size);
/* Parse `info status` text ("VM status: paused (shutdown)") into buf as above. 0 or -EBADMSG. */
NFM_EXPORT int nfm_host_parse_run_state(const char *text, char *buf, size_t size);

/* Parse one schedstat line "run wait slices". 0 or -EBADMSG. */
NFM_EXPORT int nfm_host_parse_schedstat(const char *text, uint64_t *run_ns, uint64_t *wait_ns,
					uint64_t *slices);

/* A guest process's CPU time over an interval and the guest CPU it last ran on (-1 unknown). */
struct nfm_host_share {
	int cpu;
	uint64_t guest_ns;		/* Δ(utime + stime) */
	double host_ns;			/* out: host CPU time attributed to it */
};

/*
 * Split the host's CPU time of one interval among guest processes, in proportion to their guest
 * time: each vCPU thread's Δrun (vcpu_ns[c]) among the processes that ran on CPU c, and the time of
 * the other QEMU threads (other_ns: the emulator's own work, I/O) among all of them by their share
 * of the VM's guest time. If any process's CPU is unknown (or nr_cpus is 0), everything is split
 * by the share of the VM's guest time. Fills procs[i].host_ns; returns the host ns nobody got
 * (a CPU with host time but no process time: its time goes to all, so only when no process ran).
 */
NFM_EXPORT double nfm_host_attribute(const uint64_t *vcpu_ns, int nr_cpus, uint64_t other_ns,
				     struct nfm_host_share *procs, size_t n);

#ifdef __cplusplus
}
#endif

#endif
