/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Why a guest is unwell, from its memory alone: one report of findings, each with the evidence
 * it rests on (log lines, counters, stacks, table entries) as plain text lines.
 *
 * What is looked at (each a "check" of the report; a check that cannot read what it needs is
 * listed with its error and the report is partial):
 *  - kernel: a panic (panic_cpu, the panic message and the stack the kernel printed in its log),
 *    a halted or powered-off system (system_state), oopses the kernel lived through (the D taint,
 *    oops_count, the Oops lines of the log);
 *  - tasks: hung tasks (uninterruptible longer than sysctl_hung_task_timeout_secs, by
 *    sched_info.last_arrival against the run queues' clock, with their stacks);
 *  - lockups: soft lockups under way (per-CPU watchdog_touch_ts against the CPU's run-queue
 *    clock, beyond twice watchdog_thresh) or past (taint L, the watchdog's log line), hard
 *    lockups and RCU stalls the kernel logged; the run queue of each stuck CPU;
 *  - memory: OOM kills since boot (the OOM_KILL vm event summed over the CPUs; victims from the
 *    log), little memory available and direct reclaim;
 *  - network (the initial namespace): interfaces down with addresses or up without carrier, no
 *    interface up, no default route, a gateway outside its interface's subnets, remote-access
 *    services (ssh, http, ...) listening on loopback only, /etc/resolv.conf absent or without a
 *    nameserver (read through the page cache, as nfm_fs_read());
 *  - file systems: a disk file system read-only under a read-write mount (remounted read-only
 *    after errors), a tmpfs nearly full;
 *  - peers (nfm_diagnose_peers(), a live VM): an address another VM on the same wire holds.
 * Strings are raw guest bytes where they quote the guest (names, log lines): escape them before
 * they reach a terminal.
 */
#ifndef NFM_DIAG_H
#define NFM_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nfm/nfm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nfm_ctx;

enum nfm_diag_kind {
	NFM_DIAG_PANIC,			/* the kernel panicked */
	NFM_DIAG_HALTED,		/* halted, powered off or restarting (system_state) */
	NFM_DIAG_OOPS,			/* oopsed and lives on */
	NFM_DIAG_HUNG_TASK,		/* D state longer than the hung-task timeout */
	NFM_DIAG_SOFT_LOCKUP,		/* a CPU stuck in the kernel (under way or logged) */
	NFM_DIAG_HARD_LOCKUP,		/* under way (a live guest's vCPUs) or logged by the NMI watchdog */
	NFM_DIAG_RCU_STALL,		/* logged by RCU */
	NFM_DIAG_OOM_KILL,		/* the OOM killer killed processes since boot */
	NFM_DIAG_LOW_MEMORY,		/* little memory available */
	NFM_DIAG_IF_DOWN,		/* an interface with addresses is down */
	NFM_DIAG_NO_CARRIER,		/* an interface is up without carrier */
	NFM_DIAG_NO_INTERFACE_UP,	/* no interface but loopback is up and running */
	NFM_DIAG_NO_DEFAULT_ROUTE,	/* IPv4 addresses but no default route */
	NFM_DIAG_GATEWAY_OFF_SUBNET,	/* a route's gateway is outside its interface's subnets */
	NFM_DIAG_LOOPBACK_ONLY,		/* a remote-access service listens on loopback only */
	NFM_DIAG_RESOLV_CONF,		/* /etc/resolv.conf absent, empty or without a nameserver */
	NFM_DIAG_FS_READONLY,		/* a disk file system went read-only under its mount */
	NFM_DIAG_FS_FULL,		/* a file system is nearly full */
	NFM_DIAG_ADDR_CONFLICT,		/* another VM on the same wire holds one of its addresses
					 * (nfm_diagnose_peers()) */
	NFM_DIAG_KIND_MAX
};

enum nfm_diag_severity {
	NFM_DIAG_INFO,
	NFM_DIAG_WARNING,		/* something is wrong; the guest may still serve */
	NFM_DIAG_ERROR,			/* a part of the guest does not work */
	NFM_DIAG_CRITICAL,		/* the guest is down */
};

/* One finding. Every string and array is owned by the report. */
struct nfm_diag_finding {
	enum nfm_diag_kind kind;
	enum nfm_diag_severity severity;
	const char *summary;		/* one line */
	const char *const *evidence;	/* nr_evidence lines, the facts it rests on */
	unsigned int nr_evidence;
	int32_t pid;			/* the task it is about, or -1 */
	int cpu;			/* the CPU it is about, or -1 */
	const char *subject;		/* interface, mount point, task name ...; NULL when none */
};

/* What one check looked at: err 0 when it could read everything it needs. */
struct nfm_diag_check {
	const char *name;		/* "kernel", "log", "tasks", "lockups", "memory", "network",
					 * "filesystems", "peers" */
	int err;			/* -errno when it could not read what it needs */
	const char *what;		/* what could not be read (NULL when err is 0) */
};

#define NFM_DIAG_NR_CHECKS 8

/* The figures behind the findings (nfmd exports them as metrics); -1 where unknown. */
struct nfm_diag_figures {
	int panicked;			/* 0/1 */
	int panic_cpu;			/* -1: none */
	int halted;			/* 0/1 */
	int64_t taint;			/* tainted_mask */
	int64_t oops_count;		/* oops_count, else Oops lines in the log */
	int64_t hung_task_timeout_s;	/* sysctl_hung_task_timeout_secs (0: detector off) */
	int64_t nr_hung_tasks;		/* D longer than the timeout */
	int64_t nr_dstate_tasks;	/* every task in D state */
	int64_t nr_soft_lockup_cpus;	/* CPUs with a soft lockup under way */
	int64_t oom_kills;		/* OOM_KILL vm events since boot */
	int64_t allocstall;		/* direct reclaim stalls since boot (ALLOCSTALL_*) */
	int64_t mem_total_kb, mem_available_kb;
	int64_t nr_log_soft_lockups, nr_log_hard_lockups, nr_log_rcu_stalls;
};

struct nfm_diag_report {
	struct nfm_diag_finding *findings;	/* worst first */
	unsigned int nr_findings;
	struct nfm_diag_check checks[NFM_DIAG_NR_CHECKS];
	unsigned int nr_checks;
	struct nfm_diag_figures fig;
	uint64_t uptime_ns;
};

/*
 * Look the guest over. 0 and *ret (the caller frees it with nfm_diag_report_free()), or
 * -ENOMEM. A check that cannot run is recorded in (*ret)->checks, not returned.
 */
NFM_EXPORT int nfm_diagnose(struct nfm_ctx *ctx, struct nfm_diag_report **ret);
/*
 * What one guest's memory cannot tell, from the other VMs of this host: an address of the guest
 * (ctx, a live QEMU process) held by another VM whose NIC is on the same wire (the links of
 * nfm_vm_nics(): a bridge, a socket or dgram pair, a multicast group; user-mode networking is
 * private to each VM, so the 10.0.2.15 every such guest has is no conflict). Each such VM is
 * attached for its interfaces. Adds its findings and its check ("peers") to r, worst first
 * kept; not for a dump (nothing added). 0 or -ENOMEM.
 */
NFM_EXPORT int nfm_diagnose_peers(struct nfm_ctx *ctx, struct nfm_diag_report *r);

/* One VM's side of the comparison: its NICs (nfm_vm_nics()) and its guest's interfaces. */
struct nfm_vm_nic;
struct nfm_netdev;
struct nfm_vm_wire {
	const struct nfm_vm_nic *nics;
	int nr_nics;
	const struct nfm_netdev *devs;
	int nr_devs;
};

/* Called for each address of a's interface da (its addrs[ai]) that b's interface db holds
 * (addrs[bi]) on a NIC of the same link (na, nb). */
typedef void (*nfm_addr_conflict_fn)(void *ud, const struct nfm_netdev *da, int ai,
				     const struct nfm_vm_nic *na, const struct nfm_netdev *db,
				     int bi, const struct nfm_vm_nic *nb);

/* The addresses a and b both hold on one wire (a guest interface is the NIC with its MAC):
 * their number; fn (may be NULL) for each. What nfm_diagnose_peers() and nfmd compare. */
NFM_EXPORT int nfm_addr_conflicts(const struct nfm_vm_wire *a, const struct nfm_vm_wire *b,
				  nfm_addr_conflict_fn fn, void *ud);
/* For n VMs at once: counts[i] = the sum over every other VM j of nfm_addr_conflicts(w[i],
 * w[j]), in one sort of all their addresses rather than n * (n - 1) comparisons. 0 or -errno. */
NFM_EXPORT int nfm_addr_conflict_counts(const struct nfm_vm_wire *w, int n, unsigned int *counts);
NFM_EXPORT void nfm_diag_report_free(struct nfm_diag_report *r);

/* true when a check could not read what it needs: the report is partial. */
NFM_EXPORT bool nfm_diag_report_partial(const struct nfm_diag_report *r);

/* "panic", "hung_task", ... (static storage); "unknown" out of range. */
NFM_EXPORT const char *nfm_diag_kind_name(enum nfm_diag_kind kind);
/* "info", "warning", "error", "critical". */
NFM_EXPORT const char *nfm_diag_severity_name(enum nfm_diag_severity s);

/*
 * tainted_mask as the kernel's letters (kernel/panic.c taint_flags: P F S R M B U D A W C I O E
 * L K X T N, bit 0 first), set bits only ("DOE"): into buf (NUL-terminated); the length.
 */
NFM_EXPORT size_t nfm_diag_taint_text(uint64_t taint, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
