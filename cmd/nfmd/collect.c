// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Everything nfmd reads from a guest, and how it becomes metrics and JSON. Adding a metric is
 * local to this file: a families[] entry (name, help, type) and a section_add() where the value
 * is read. The JSON frame is made of cmd/common's object builders (objects.h), so that a process,
 * a module, an interface... is the same object here as in `nfm ... -j` and `nfm crawl`.
 *
 * Runs on worker threads; touches only the context it is given and the section it builds.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nfm/diag.h>
#include <nfm/stack.h>
#include <objects.h>

#include "collect.h"
#include "util.h"

enum {
	FAM_GUEST_INFO,
	FAM_UPTIME,
	FAM_BOOT_TIME,
	FAM_CPUS,
	FAM_CPUS_POSSIBLE,
	FAM_MEM_TOTAL,
	FAM_RAM,
	FAM_ATTACH_DURATION,
	FAM_SECTION_DURATION,
	FAM_LOAD1, FAM_LOAD5, FAM_LOAD15, FAM_PROCS_RUNNING, FAM_THREADS,
	FAM_MEM_FREE, FAM_MEM_AVAIL, FAM_MEM_BUFFERS, FAM_MEM_CACHED, FAM_MEM_SHMEM,
	FAM_MEM_SRECL, FAM_MEM_SUNRECL, FAM_SWAP_TOTAL, FAM_SWAP_FREE,
	FAM_PROCESSES, FAM_PROC_BY_STATE, FAM_KTHREADS, FAM_TASKS_SKIPPED,
	FAM_PROC_CPU, FAM_PROC_RSS, FAM_PROC_THREADS,
	FAM_NET_RX_BYTES, FAM_NET_TX_BYTES, FAM_NET_RX_PACKETS, FAM_NET_TX_PACKETS,
	FAM_NET_RX_ERRS, FAM_NET_TX_ERRS, FAM_NET_RX_DROP, FAM_NET_TX_DROP, FAM_NET_UP, FAM_NET_MTU,
	FAM_SOCKETS,
	FAM_MODULES, FAM_MOUNTS, FAM_KMSG_SEQ,
	FAM_HOST_CPU, FAM_HOST_WAIT, FAM_HOST_VCPU, FAM_HOST_VCPU_WAIT, FAM_CG_USAGE, FAM_CG_PERIODS,
	FAM_CG_THROTTLED, FAM_CG_THROTTLED_TIME, FAM_CG_QUOTA, FAM_CPU_SECONDS, FAM_CPU_GUEST,
	FAM_DIAG_PANICKED, FAM_DIAG_HALTED, FAM_DIAG_TAINT, FAM_DIAG_OOPS, FAM_DIAG_HUNG,
	FAM_DIAG_DSTATE, FAM_DIAG_LOCKUP_CPUS, FAM_DIAG_OOM_KILLS, FAM_DIAG_ALLOCSTALL, FAM_DIAG_FINDINGS,
	FAM_DIAG_COMPLETE,
};

const struct family families[] = {
	[FAM_GUEST_INFO] = { "nfm_guest_info",
		"Guest kernel identity (uname), value 1", M_GAUGE },
	[FAM_UPTIME] = { "nfm_guest_uptime_seconds",
		"Guest time since boot (CLOCK_BOOTTIME as of the guest scheduler's last event, doc/ctop.md)", M_GAUGE },
	[FAM_BOOT_TIME] = { "nfm_guest_boot_time_seconds",
		"Host wall-clock time the guest booted (now - uptime), Unix seconds", M_GAUGE },
	[FAM_CPUS] = { "nfm_guest_cpus", "Guest CPUs online", M_GAUGE },
	[FAM_CPUS_POSSIBLE] = { "nfm_guest_cpus_possible", "Guest CPUs possible (nr_cpu_ids)", M_GAUGE },
	[FAM_MEM_TOTAL] = { "nfm_guest_memory_MemTotal_bytes", "Guest MemTotal (/proc/meminfo), as node_memory_MemTotal_bytes", M_GAUGE },
	[FAM_RAM] = { "nfm_guest_ram_bytes", "Guest-physical RAM the VM has", M_GAUGE },
	[FAM_ATTACH_DURATION] = { "nfm_attach_duration_seconds",
		"Time the last attach to this guest's kernel took", M_GAUGE },
	[FAM_SECTION_DURATION] = { "nfm_collect_duration_seconds",
		"Time the last collection of each feature took", M_GAUGE },
	[FAM_LOAD1] = { "nfm_guest_load1", "Guest 1-minute load average", M_GAUGE },
	[FAM_LOAD5] = { "nfm_guest_load5", "Guest 5-minute load average", M_GAUGE },
	[FAM_LOAD15] = { "nfm_guest_load15", "Guest 15-minute load average", M_GAUGE },
	[FAM_PROCS_RUNNING] = { "nfm_guest_procs_running", "Guest runnable tasks (/proc/loadavg)", M_GAUGE },
	[FAM_THREADS] = { "nfm_guest_threads", "Guest threads (nr_threads)", M_GAUGE },
	[FAM_MEM_FREE] = { "nfm_guest_memory_MemFree_bytes", "Guest MemFree", M_GAUGE },
	[FAM_MEM_AVAIL] = { "nfm_guest_memory_MemAvailable_bytes", "Guest MemAvailable", M_GAUGE },
	[FAM_MEM_BUFFERS] = { "nfm_guest_memory_Buffers_bytes", "Guest Buffers", M_GAUGE },
	[FAM_MEM_CACHED] = { "nfm_guest_memory_Cached_bytes", "Guest Cached", M_GAUGE },
	[FAM_MEM_SHMEM] = { "nfm_guest_memory_Shmem_bytes", "Guest Shmem", M_GAUGE },
	[FAM_MEM_SRECL] = { "nfm_guest_memory_SReclaimable_bytes", "Guest SReclaimable", M_GAUGE },
	[FAM_MEM_SUNRECL] = { "nfm_guest_memory_SUnreclaim_bytes", "Guest SUnreclaim", M_GAUGE },
	[FAM_SWAP_TOTAL] = { "nfm_guest_memory_SwapTotal_bytes", "Guest SwapTotal", M_GAUGE },
	[FAM_SWAP_FREE] = { "nfm_guest_memory_SwapFree_bytes", "Guest SwapFree", M_GAUGE },
	[FAM_PROCESSES] = { "nfm_guest_processes", "Guest processes (thread-group leaders)", M_GAUGE },
	[FAM_PROC_BY_STATE] = { "nfm_guest_processes_by_state",
		"Guest processes by state: running, sleeping, disk_sleep, stopped, tracing_stop, dead, zombie, parked, idle (/proc/PID/stat R S D T t X Z P I)", M_GAUGE },
	[FAM_KTHREADS] = { "nfm_guest_kernel_threads", "Guest kernel threads", M_GAUGE },
	[FAM_TASKS_SKIPPED] = { "nfm_guest_tasks_skipped",
		"Tasks the last walk skipped because they changed while read", M_GAUGE },
	[FAM_PROC_CPU] = { "nfm_guest_process_cpu_seconds_total",
		"CPU time of the top processes (by CPU time or RSS), as /proc/PID/stat", M_COUNTER },
	[FAM_PROC_RSS] = { "nfm_guest_process_resident_memory_bytes",
		"Resident memory of the top processes (by CPU time or RSS)", M_GAUGE },
	[FAM_PROC_THREADS] = { "nfm_guest_process_threads", "Threads of the top processes", M_GAUGE },
	[FAM_NET_RX_BYTES] = { "nfm_guest_network_receive_bytes_total", "Bytes received (/proc/net/dev)", M_COUNTER },
	[FAM_NET_TX_BYTES] = { "nfm_guest_network_transmit_bytes_total", "Bytes sent (/proc/net/dev)", M_COUNTER },
	[FAM_NET_RX_PACKETS] = { "nfm_guest_network_receive_packets_total", "Packets received", M_COUNTER },
	[FAM_NET_TX_PACKETS] = { "nfm_guest_network_transmit_packets_total", "Packets sent", M_COUNTER },
	[FAM_NET_RX_ERRS] = { "nfm_guest_network_receive_errs_total", "Receive errors", M_COUNTER },
	[FAM_NET_TX_ERRS] = { "nfm_guest_network_transmit_errs_total", "Transmit errors", M_COUNTER },
	[FAM_NET_RX_DROP] = { "nfm_guest_network_receive_drop_total", "Received packets dropped", M_COUNTER },
	[FAM_NET_TX_DROP] = { "nfm_guest_network_transmit_drop_total", "Sent packets dropped", M_COUNTER },
	[FAM_NET_UP] = { "nfm_guest_network_up", "1 when the interface is administratively up (IFF_UP)", M_GAUGE },
	[FAM_NET_MTU] = { "nfm_guest_network_mtu_bytes", "Interface MTU", M_GAUGE },
	[FAM_SOCKETS] = { "nfm_guest_sockets", "Guest sockets by family, protocol and state", M_GAUGE },
	[FAM_MODULES] = { "nfm_guest_modules", "Guest kernel modules loaded (/proc/modules lines)", M_GAUGE },
	[FAM_MOUNTS] = { "nfm_guest_mounts", "Guest mounts (/proc/mounts lines of PID 1)", M_GAUGE },
	[FAM_KMSG_SEQ] = { "nfm_guest_kmsg_last_sequence",
		"Sequence number of the newest kernel log record (grows with every record)", M_GAUGE },
	/* The host's side of the VM (nfm/host.h, doc/ctop.md). */
	[FAM_HOST_CPU] = { "nfm_vm_host_cpu_seconds_total",
		"Host CPU time of every thread of the QEMU process (schedstat run time)", M_COUNTER },
	[FAM_HOST_WAIT] = { "nfm_vm_host_wait_seconds_total",
		"Time the QEMU process's threads were runnable but waited for a host CPU", M_COUNTER },
	[FAM_HOST_VCPU] = { "nfm_vm_host_vcpu_cpu_seconds_total",
		"Host CPU time of each vCPU thread", M_COUNTER },
	[FAM_HOST_VCPU_WAIT] = { "nfm_vm_host_vcpu_wait_seconds_total",
		"Time each vCPU thread was runnable but waited for a host CPU", M_COUNTER },
	[FAM_CG_USAGE] = { "nfm_vm_cgroup_cpu_usage_seconds_total",
		"CPU time of the VM's host cgroup (v1 cpuacct.usage, v2 usage_usec)", M_COUNTER },
	[FAM_CG_PERIODS] = { "nfm_vm_cgroup_cpu_periods_total",
		"CFS periods of the VM's host cgroup with runnable tasks (cpu.stat nr_periods)", M_COUNTER },
	[FAM_CG_THROTTLED] = { "nfm_vm_cgroup_cpu_throttled_periods_total",
		"Periods the VM's host cgroup was throttled by its CPU quota (nr_throttled)", M_COUNTER },
	[FAM_CG_THROTTLED_TIME] = { "nfm_vm_cgroup_cpu_throttled_seconds_total",
		"Time the VM's host cgroup was throttled (throttled_time / throttled_usec)", M_COUNTER },
	[FAM_CG_QUOTA] = { "nfm_vm_cgroup_cpu_quota_cpus",
		"The VM's host CPU quota in CPUs (quota / period); absent when unlimited", M_GAUGE },
	[FAM_CPU_SECONDS] = { "nfm_guest_cpu_seconds_total",
		"Time each guest CPU spent in each mode (/proc/stat; kernel_cpustat), as node_cpu_seconds_total",
		M_COUNTER },
	[FAM_CPU_GUEST] = { "nfm_guest_cpu_guest_seconds_total",
		"Time each guest CPU ran its own guests (nested virtualization), as node_cpu_guest_seconds_total",
		M_COUNTER },
	/* nfm diagnose's findings and the figures behind them (nfm/diag.h). */
	[FAM_DIAG_PANICKED] = { "nfm_guest_panicked",
		"1 when the guest kernel panicked (panic_cpu set, or a panic in its log)", M_GAUGE },
	[FAM_DIAG_HALTED] = { "nfm_guest_halted",
		"1 when the guest kernel is halted, powered off or restarting (system_state)", M_GAUGE },
	[FAM_DIAG_TAINT] = { "nfm_guest_kernel_taint",
		"The guest kernel's tainted_mask (/proc/sys/kernel/tainted)", M_GAUGE },
	[FAM_DIAG_OOPS] = { "nfm_guest_oops_total",
		"Oopses since boot (oops_count, else Oops lines in the log)", M_COUNTER },
	[FAM_DIAG_HUNG] = { "nfm_guest_hung_tasks",
		"Tasks in D state longer than the guest's hung-task timeout", M_GAUGE },
	[FAM_DIAG_DSTATE] = { "nfm_guest_dstate_tasks",
		"Tasks (threads) in uninterruptible sleep (D state)", M_GAUGE },
	[FAM_DIAG_LOCKUP_CPUS] = { "nfm_guest_soft_lockup_cpus",
		"Guest CPUs with a soft lockup under way (watchdog_touch_ts behind)", M_GAUGE },
	[FAM_DIAG_OOM_KILLS] = { "nfm_guest_oom_kills_total",
		"Processes the guest's OOM killer killed since boot (vm event OOM_KILL)", M_COUNTER },
	[FAM_DIAG_ALLOCSTALL] = { "nfm_guest_allocstalls_total",
		"Direct reclaim stalls since boot (vm events ALLOCSTALL_*)", M_COUNTER },
	[FAM_DIAG_FINDINGS] = { "nfm_guest_findings",
		"Findings of nfm diagnose by kind and severity (absent kinds: none found)", M_GAUGE },
	[FAM_DIAG_COMPLETE] = { "nfm_guest_diagnose_complete",
		"1 when every diagnose check could read what it needs, by check", M_GAUGE },
};
const size_t nr_families = sizeof(families) / sizeof(families[0]);

/* ---- F_BASE: what `nfm info -j` shows (the same kernel object) ---- */

/* What the base section's "kernel" and "uptime_ns" are built from (section_defer). */
struct base_json {
	struct nfm_kernel_info ki;
	bool have_uptime, have_source;
	uint64_t uptime_ns;
	char source[];
};

static void base_json(struct json_object *json, const void *data)
{
	const struct base_json *d = data;
	struct json_object *o = obj_kernel(&d->ki);

	/* kernel.json, as `nfm info -j`, with its optional members. */
	if (d->have_uptime)
		j_add(o, "uptime_ns", j_u64(d->uptime_ns));
	if (d->have_source)
		j_add(o, "source", j_str(d->source));
	j_add(json, "kernel", o);
	if (d->have_uptime)
		j_add(json, "uptime_ns", j_u64(d->uptime_ns));
}

static void loadavg_json(struct json_object *json, const void *data)
{
	j_add(json, "loadavg", obj_loadavg(data));
}

static void memory_json(struct json_object *json, const void *data)
{
	j_add(json, "memory", obj_memory(data));
}

static void host_json(struct json_object *json, const void *data)
{
	j_add(json, "host", obj_host(data, NULL));
}

static void collect_base(const struct crawl_base *b, struct section *s)
{
	const struct nfm_kernel_info *ki = &b->ki;
	size_t src_len = b->source ? strlen(b->source) + 1 : 0;
	struct base_json *d = malloc(sizeof(*d) + src_len);
	char *l[4];

	if (d) {
		d->ki = *ki;
		d->have_uptime = b->have_uptime;
		d->uptime_ns = b->uptime_ns;
		d->have_source = b->source != NULL;
		if (src_len)
			memcpy(d->source, b->source, src_len);
	}
	section_defer(s, base_json, d);

	l[0] = section_label(ki->release);
	l[1] = section_label(ki->version);
	l[2] = section_label(ki->machine);
	l[3] = section_label(ki->nodename);
	section_add(s, FAM_GUEST_INFO, 1, "release=\"%s\",version=\"%s\",machine=\"%s\",nodename=\"%s\"",
		    l[0], l[1], l[2], l[3]);
	for (int i = 0; i < 4; i++)
		free(l[i]);
	if (b->have_uptime) {
		section_add(s, FAM_UPTIME, b->uptime_ns / 1e9, NULL);
		section_add(s, FAM_BOOT_TIME, (double)(int64_t)(now_real() - b->uptime_ns / 1e9), NULL);
	}
	if (ki->nr_cpus_online)
		section_add(s, FAM_CPUS, ki->nr_cpus_online, NULL);
	if (ki->nr_cpus_possible)
		section_add(s, FAM_CPUS_POSSIBLE, ki->nr_cpus_possible, NULL);
	if (ki->mem_total)
		section_add(s, FAM_MEM_TOTAL, (double)ki->mem_total, NULL);
	section_add(s, FAM_RAM, (double)ki->ram_size, NULL);
	section_add(s, FAM_ATTACH_DURATION, ki->attach_ms / 1000, NULL);
}

/* Load and memory are cheap (a few counters): they come with every base crawl. */
static void collect_load_mem(struct nfm_ctx *ctx, const struct crawl_base *b, struct section *s)
{
	struct nfm_loadavg la;
	struct nfm_meminfo mi;
	int ret;

	ret = nfm_loadavg(ctx, &la);
	if (ret == 0) {
		section_defer(s, loadavg_json, section_copy(&la, sizeof(la), 0));
		section_add(s, FAM_LOAD1, la.load[0], NULL);
		section_add(s, FAM_LOAD5, la.load[1], NULL);
		section_add(s, FAM_LOAD15, la.load[2], NULL);
		section_add(s, FAM_PROCS_RUNNING, la.running, NULL);
		section_add(s, FAM_THREADS, la.threads, NULL);
	} else {
		section_seterr(s, ret, "loadavg: %s", strerror(-ret));
	}
	ret = nfm_meminfo(ctx, &mi);
	if (ret == 0) {
		section_defer(s, memory_json, section_copy(&mi, sizeof(mi), 0));
		section_add(s, FAM_MEM_FREE, (double)mi.mem_free * 1024, NULL);
		section_add(s, FAM_MEM_AVAIL, (double)mi.mem_available * 1024, NULL);
		section_add(s, FAM_MEM_BUFFERS, (double)mi.buffers * 1024, NULL);
		section_add(s, FAM_MEM_CACHED, (double)mi.cached * 1024, NULL);
		section_add(s, FAM_SWAP_TOTAL, (double)mi.swap_total * 1024, NULL);
		section_add(s, FAM_SWAP_FREE, (double)mi.swap_free * 1024, NULL);
		section_add(s, FAM_MEM_SHMEM, (double)mi.shmem * 1024, NULL);
		section_add(s, FAM_MEM_SRECL, (double)mi.slab_reclaimable * 1024, NULL);
		section_add(s, FAM_MEM_SUNRECL, (double)mi.slab_unreclaimable * 1024, NULL);
	} else if (!s->err) {
		section_seterr(s, ret, "meminfo: %s", strerror(-ret));
	}
}

/*
 * The host's accounting of the VM (read by the crawl, outside the guest) and the guest's own
 * steal time per CPU: what the host really gave the VM beside what the guest believes it used.
 */
const struct nfm_host_sample *crawl_host_sample(struct crawl_base *b)
{
	if (!b->host_read) {
		b->host_read = true;
		b->host_ok = b->host_vm && nfm_host_vm_sample(b->host_vm, &b->host_buf) == 0;
	}
	return b->host_ok ? &b->host_buf : NULL;
}

static void collect_host(struct nfm_ctx *ctx, struct crawl_base *b, struct section *s)
{
	const struct nfm_host_sample *h = crawl_host_sample(b);
	struct nfm_cpu_times cpus[64];
	int n, i;

	n = nfm_cpu_times(ctx, NULL, cpus, 64);
	for (i = 0; i < n && i < 64; i++) {
		const struct nfm_cpu_times *c = &cpus[i];
		/* node_exporter's modes; guest time is inside user (and guest_nice inside nice),
		 * so it is its own family, as node_exporter has it. */
		const struct { const char *mode; uint64_t ns; } m[] = {
			{ "user", c->user }, { "nice", c->nice }, { "system", c->system },
			{ "idle", c->idle }, { "iowait", c->iowait }, { "irq", c->irq },
			{ "softirq", c->softirq }, { "steal", c->steal },
		};

		for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++)
			section_add(s, FAM_CPU_SECONDS, m[k].ns / 1e9, "cpu=\"%d\",mode=\"%s\"", c->cpu,
				    m[k].mode);
		section_add(s, FAM_CPU_GUEST, c->guest / 1e9, "cpu=\"%d\",mode=\"user\"", c->cpu);
		section_add(s, FAM_CPU_GUEST, c->guest_nice / 1e9, "cpu=\"%d\",mode=\"nice\"", c->cpu);
	}
	if (!h)
		return;
	section_defer(s, host_json, section_copy(h, sizeof(*h), 0));
	section_add(s, FAM_HOST_CPU, h->process_run_ns / 1e9, NULL);
	section_add(s, FAM_HOST_WAIT, h->process_wait_ns / 1e9, NULL);
	for (i = 0; i < h->nr_vcpus; i++) {
		section_add(s, FAM_HOST_VCPU, h->vcpu[i].run_ns / 1e9, "cpu=\"%d\"", h->vcpu[i].cpu);
		section_add(s, FAM_HOST_VCPU_WAIT, h->vcpu[i].wait_ns / 1e9, "cpu=\"%d\"",
			    h->vcpu[i].cpu);
	}
	if (h->cg.have_usage)
		section_add(s, FAM_CG_USAGE, h->cg.usage_ns / 1e9, NULL);
	if (h->cg.have_stat) {
		section_add(s, FAM_CG_PERIODS, (double)h->cg.nr_periods, NULL);
		section_add(s, FAM_CG_THROTTLED, (double)h->cg.nr_throttled, NULL);
		section_add(s, FAM_CG_THROTTLED_TIME, h->cg.throttled_ns / 1e9, NULL);
	}
	if (h->cg.have_quota && h->cg.quota_us > 0 && h->cg.period_us)
		section_add(s, FAM_CG_QUOTA, (double)h->cg.quota_us / (double)h->cg.period_us, NULL);
}

/* ---- F_PS ---- */

struct proc {
	int32_t pid, ppid, nthreads;
	char state;
	char comm[NFM_TASK_COMM_LEN];	/* task->comm: stable, for labels (a kworker's name is not) */
	bool kthread;
	uint64_t utime_ns, stime_ns, rss_bytes;
	double cpu;
};

static int by_cpu(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;

	return x->cpu < y->cpu ? 1 : x->cpu > y->cpu ? -1 : x->pid - y->pid;
}

static int by_rss(const void *a, const void *b)
{
	const struct proc *x = *(const struct proc *const *)a, *y = *(const struct proc *const *)b;

	return x->rss_bytes < y->rss_bytes ? 1 : x->rss_bytes > y->rss_bytes ? -1 : x->pid - y->pid;
}

static void proc_metrics(struct section *s, const struct proc *p)
{
	char *comm = section_label(p->comm);

	section_add(s, FAM_PROC_CPU, p->utime_ns / 1e9, "guest_pid=\"%d\",comm=\"%s\",mode=\"user\"",
		    p->pid, comm);
	section_add(s, FAM_PROC_CPU, p->stime_ns / 1e9, "guest_pid=\"%d\",comm=\"%s\",mode=\"system\"",
		    p->pid, comm);
	section_add(s, FAM_PROC_RSS, (double)p->rss_bytes, "guest_pid=\"%d\",comm=\"%s\"", p->pid, comm);
	section_add(s, FAM_PROC_THREADS, p->nthreads, "guest_pid=\"%d\",comm=\"%s\"", p->pid, comm);
	free(comm);
}

/* CPUs whose running task's uncharged time (nfm_ctx_sched_pending) goes with the walk. */
#define PENDING_CPUS 64

/* Tries of the process walk until it and the uptime saw one scheduler-clock generation. */
#define PS_WALK_TRIES 4
#define PS_WALK_BUDGET_S 0.25

static const char states[] = "RSDTtXZPI";

/* What the ps section's "cpu_frame", "processes_truncated" and "tasks" are built from. */
struct ps_json {
	bool have_uptime, consistent, have_total, have_host, truncated;
	uint64_t uptime_ns, nr, kthreads, skipped;
	unsigned int by_state[sizeof(states)];
	int npend;
	struct nfm_sched_pending pend[PENDING_CPUS];
	struct nfm_cpu_times total;
	struct nfm_host_sample host;
};

static void ps_json(struct json_object *json, const void *data)
{
	const struct ps_json *d = data;
	struct json_object *o, *bs;
	char st[2] = { 0 };

	/* What the CPU times are as of, and the counters of the same instant: nfm top --remote's. */
	if (d->have_uptime) {
		o = json_object_new_object();
		j_add(o, "uptime_ns", j_u64(d->uptime_ns));
		j_add(o, "consistent", j_bool(d->consistent));
		if (d->npend >= 0) {
			struct json_object *arr = json_object_new_array();

			for (int i = 0; i < d->npend && i < PENDING_CPUS; i++) {
				struct json_object *e = json_object_new_object();

				j_add(e, "cpu", j_int(d->pend[i].cpu));
				j_add(e, "tid", j_int(d->pend[i].pid));
				j_add(e, "pid", j_int(d->pend[i].tgid));
				j_add(e, "ns", j_u64(d->pend[i].ns));
				json_object_array_add(arr, e);
			}
			j_add(o, "sched_pending", arr);
		}
		if (d->have_total)
			j_add(o, "cpu_times", obj_cpu_times(&d->total));
		if (d->have_host)
			j_add(o, "host", obj_host(&d->host, NULL));
		j_add(json, "cpu_frame", o);
	}
	o = json_object_new_object();
	j_add(o, "nr_processes", j_u64(d->nr));
	j_add(o, "nr_kernel_threads", j_u64(d->kthreads));
	j_add(o, "nr_skipped", j_u64(d->skipped));
	bs = json_object_new_object();
	for (size_t i = 0; i < sizeof(states) - 1; i++) {
		st[0] = states[i];
		j_add(bs, st, j_u64(d->by_state[i]));
	}
	json_object_object_add(o, "by_state", bs);
	if (d->truncated)
		j_add(json, "processes_truncated", j_bool(true));
	j_add(json, "tasks", o);
}

static void collect_ps(struct nfm_ctx *ctx, struct crawl_base *b,
		       const struct collect_limits *lim, struct section *s)
{
	/* nfm_guest_processes_by_state's label values: the kernel's task_state_array names. */
	static const char *const state_names[] = { "running", "sleeping", "disk_sleep", "stopped",
						     "tracing_stop", "dead", "zombie", "parked", "idle" };
	struct nfm_task_iter *it;
	struct nfm_task t;
	struct proc *procs = NULL, **rss = NULL;
	struct nfm_task *listed = NULL;	/* the JSON's processes, built when asked (section_json) */
	struct ps_json *pj;
	int *listed_cpu = NULL;
	size_t n = 0, cap = 0, nl = 0, cap_l = 0;
	unsigned int by_state[sizeof(states)] = { 0 }, kthreads = 0;
	const struct nfm_host_sample *host;
	uint64_t uptime = 0, g0 = 0, g1 = 0;
	struct nfm_sched_pending pend[PENDING_CPUS];
	int ret, try = 0, npend = -1;
	bool truncated = false, have_uptime = false, consistent = false, gen = false, summed;
	double walk_start = now_mono();

	/*
	 * The walk bracketed by two readings of the scheduler clocks' generation, the uptime read
	 * inside: equal readings mean every process's CPU time belongs to that uptime (doc/ctop.md).
	 */
again:
	it = NULL;
	n = nl = 0;
	kthreads = 0;
	truncated = false;
	memset(by_state, 0, sizeof(by_state));
	if (try)
		nfm_ctx_refresh(ctx);
	gen = nfm_ctx_sched_gen(ctx, &g0) == 0;
	have_uptime = nfm_ctx_uptime_ns(ctx, &uptime) == 0;
	summed = nfm_vmrss_summed(ctx);
	ret = nfm_task_iter_new(ctx, 0, &it);
	if (ret < 0) {
		section_seterr(s, ret, "task list: %s", strerror(-ret));
		free(procs);
		free(listed);
		free(listed_cpu);
		return;
	}
	while ((ret = nfm_task_iter_next(it, &t)) > 0) {
		const char *st = strchr(states, t.state);

		if (st && t.state)
			by_state[st - states]++;
		kthreads += t.kthread;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct proc *np;

			if (nc > NFM_TASK_MAX || !(np = realloc(procs, nc * sizeof(*np))))
				break;
			procs = np;
			cap = nc;
		}
		procs[n] = (struct proc){ .pid = t.tgid, .ppid = t.ppid, .nthreads = t.nr_threads,
					  .state = t.state, .kthread = t.kthread,
					  .utime_ns = t.utime_ns, .stime_ns = t.stime_ns,
					  .rss_bytes = nfm_task_vmrss_pages(&t, summed) * 4096 };
		memcpy(procs[n].comm, t.comm, sizeof(t.comm));
		procs[n].comm[sizeof(procs[n].comm) - 1] = 0;
		procs[n].cpu = (double)(t.utime_ns + t.stime_ns);
		if ((int)n < lim->max_json_tasks) {
			int cpu;

			if (nl == cap_l) {
				size_t nc = cap_l ? cap_l * 2 : 256;
				struct nfm_task *nt = realloc(listed, nc * sizeof(*nt));
				int *ncpu = nt ? realloc(listed_cpu, nc * sizeof(*ncpu)) : NULL;

				if (nt)
					listed = nt;
				if (!ncpu)
					break;
				listed_cpu = ncpu;
				cap_l = nc;
			}
			listed[nl] = t;
			listed_cpu[nl++] = nfm_task_cpu(ctx, &t, &cpu) == 0 && cpu >= 0 ? cpu : -1;
		} else {
			truncated = true;
		}
		n++;
		if ((n & 63) == 0 && now_mono() > lim->deadline) {
			ret = -ETIME;
			break;
		}
	}
	/* what the running tasks ran since their last charge, inside the same bracket */
	npend = ret >= 0 ? nfm_ctx_sched_pending(ctx, pend, PENDING_CPUS) : 0;
	if (ret >= 0 && gen && have_uptime) {
		consistent = nfm_ctx_sched_gen(ctx, &g1) == 0 && g0 == g1;
		/* Tries for at most PS_WALK_BUDGET_S: a large guest's walks rarely agree, and each
		 * costs as much again. */
		if (!consistent && ++try < PS_WALK_TRIES && now_mono() - walk_start <= PS_WALK_BUDGET_S &&
		    now_mono() <= lim->deadline) {
			nfm_task_iter_free(it);
			goto again;
		}
	}
	if (ret < 0)
		section_seterr(s, ret, ret == -ETIME ? "task walk stopped at the crawl's time budget after %zu processes"
			       : "task walk stopped after %zu processes: %s", n, strerror(-ret));
	pj = calloc(1, sizeof(*pj));
	if (pj) {
		pj->have_uptime = have_uptime;
		pj->uptime_ns = uptime;
		pj->consistent = consistent;
		pj->npend = npend;
		if (npend > 0)
			memcpy(pj->pend, pend, (size_t)(npend < PENDING_CPUS ? npend : PENDING_CPUS) *
			       sizeof(pend[0]));
		/* the counters of the instant, read now (the JSON is built later) */
		pj->have_total = have_uptime && nfm_cpu_times(ctx, &pj->total, NULL, 0) >= 0;
		if (have_uptime && (host = crawl_host_sample(b))) {
			pj->have_host = true;
			pj->host = *host;
		}
		pj->nr = n;
		pj->kthreads = kthreads;
		pj->skipped = nfm_task_iter_skipped(it);
		memcpy(pj->by_state, by_state, sizeof(pj->by_state));
		pj->truncated = truncated;
	}
	section_defer(s, ps_json, pj);
	for (size_t i = 0; i < sizeof(states) - 1; i++)
		section_add(s, FAM_PROC_BY_STATE, by_state[i], "state=\"%s\"", state_names[i]);
	s->tasks = listed;
	s->task_cpu = listed_cpu;
	s->nr_tasks = nl;
	s->vmrss_summed = summed;
	s->tasks_pending = true;
	section_add(s, FAM_PROCESSES, (double)n, NULL);
	section_add(s, FAM_KTHREADS, kthreads, NULL);
	section_add(s, FAM_TASKS_SKIPPED, nfm_task_iter_skipped(it), NULL);
	nfm_task_iter_free(it);

	/* The top N by CPU time, and the top N by RSS not already among them. */
	if (n && lim->top > 0) {
		size_t top = (size_t)lim->top < n ? (size_t)lim->top : n, k, added = 0;

		qsort(procs, n, sizeof(*procs), by_cpu);
		for (k = 0; k < top; k++)
			proc_metrics(s, &procs[k]);
		rss = malloc(n * sizeof(*rss));
		if (rss) {
			for (k = 0; k < n; k++)
				rss[k] = &procs[k];
			qsort(rss, n, sizeof(*rss), by_rss);
			for (k = 0; k < n && added < top; k++) {
				if (rss[k] - procs < (ptrdiff_t)top)
					continue;	/* already in the CPU top */
				if (!rss[k]->rss_bytes)
					break;
				proc_metrics(s, rss[k]);
				added++;
			}
			free(rss);
		}
	}
	free(procs);
}

/* ---- F_NET ---- */

/*
 * Label values of nfm_guest_sockets: the kernel's TCP state names in lower case (TCP_ESTABLISHED
 * is "established"), a unix socket's "listen", "established" (SS_CONNECTED) or "unconnected".
 * The ss names of obj_socket_state_name, mapped, so that the two cannot disagree.
 */
static const char *socket_state(const struct nfm_socket *sk)
{
	static const struct { const char *ss, *name; } t[] = {
		{ "ESTAB", "established" }, { "SYN-SENT", "syn_sent" }, { "SYN-RECV", "syn_recv" },
		{ "FIN-WAIT-1", "fin_wait1" }, { "FIN-WAIT-2", "fin_wait2" }, { "TIME-WAIT", "time_wait" },
		{ "CLOSE-WAIT", "close_wait" }, { "LAST-ACK", "last_ack" }, { "LISTEN", "listen" },
		{ "CLOSING", "closing" }, { "NEW-SYN-RECV", "new_syn_recv" },
	};
	const char *ss = obj_socket_state_name(sk);

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(ss, t[i].ss))
			return t[i].name;
	if (!strcmp(ss, "UNCONN"))
		return sk->family == AF_UNIX ? "unconnected" : "close";
	return "unknown";
}

/* "tcp" or "udp" (ss's Netid without the 6) for inet sockets; a unix socket's type: "stream",
 * "dgram", "seqpacket". buf: at least 16 bytes. */
static const char *socket_protocol(const struct nfm_socket *sk, char *buf)
{
	if (sk->family == AF_UNIX)
		return obj_sock_type_name(sk->type, buf);
	snprintf(buf, 16, "%.*s", (int)strcspn(obj_socket_netid(sk), "6"), obj_socket_netid(sk));
	return buf;
}

/* Sockets need nfm_socket_list; until libnfm has it, it is looked up weakly. */
#pragma weak nfm_socket_list

static void collect_net(struct nfm_ctx *ctx, const struct collect_limits *lim, struct section *s)
{
	struct nfm_netdev *d = NULL;
	struct json_object *arr = json_object_new_array();
	bool truncated = false;
	int n, i;

	n = nfm_netdev_list(ctx, &d, &truncated);
	if (n < 0) {
		json_object_put(arr);
		section_seterr(s, n, "interfaces: %s", strerror(-n));
	} else {
		for (i = 0; i < n && i < lim->max_items; i++) {
			const struct nfm_netdev *x = &d[i];
			char *dev = section_label(x->name);
			char lbl[256];

			/* interface.json, as `nfm ip -j link` (no addresses). */
			json_object_array_add(arr, obj_interface(x, false));

			snprintf(lbl, sizeof(lbl), "device=\"%s\",netns=\"%u\"", dev, x->netns);
			section_add(s, FAM_NET_RX_BYTES, (double)x->stats.rx_bytes, "%s", lbl);
			section_add(s, FAM_NET_TX_BYTES, (double)x->stats.tx_bytes, "%s", lbl);
			section_add(s, FAM_NET_RX_PACKETS, (double)x->stats.rx_packets, "%s", lbl);
			section_add(s, FAM_NET_TX_PACKETS, (double)x->stats.tx_packets, "%s", lbl);
			section_add(s, FAM_NET_RX_ERRS, (double)x->stats.rx_errors, "%s", lbl);
			section_add(s, FAM_NET_TX_ERRS, (double)x->stats.tx_errors, "%s", lbl);
			section_add(s, FAM_NET_RX_DROP, (double)x->stats.rx_dropped, "%s", lbl);
			section_add(s, FAM_NET_TX_DROP, (double)x->stats.tx_dropped, "%s", lbl);
			section_add(s, FAM_NET_UP, (x->flags & 1) != 0, "%s", lbl);	/* IFF_UP */
			section_add(s, FAM_NET_MTU, x->mtu, "%s", lbl);
			free(dev);
		}
		json_object_object_add(s->json, "interfaces", arr);
		s->devs = d;	/* the topology join's (section_unref frees it) */
		s->nr_devs = n;
	}
	if (nfm_socket_list) {
		struct nfm_socket *sk = NULL;
		int ns = nfm_socket_list(ctx, &sk, &truncated);

		if (ns >= 0) {
			/* Counts per label set (family, protocol, state): at most 64 series per VM. */
			struct { char labels[96]; unsigned int n; } *c = calloc(64, sizeof(*c));
			int nc = 0, j;

			for (i = 0; c && i < ns; i++) {
				char fb[16], pb[16], l[96];

				snprintf(l, sizeof(l), "family=\"%s\",protocol=\"%s\",state=\"%s\"",
					 obj_family_name(sk[i].family, fb), socket_protocol(&sk[i], pb),
					 socket_state(&sk[i]));
				for (j = 0; j < nc && strcmp(c[j].labels, l); j++)
					;
				if (j == nc && nc < 64)
					memcpy(c[nc++].labels, l, sizeof(l));
				if (j < nc)
					c[j].n++;
			}
			for (j = 0; j < nc; j++)
				section_add(s, FAM_SOCKETS, c[j].n, "%s", c[j].labels);
			free(c);
			j_add(s->json, "nr_sockets", j_int(ns));
			s->socks = sk;	/* the topology join's */
			s->nr_socks = ns;
			s->net_truncated = truncated;
		}
	}
}

/* ---- F_SYS ---- */

#define DMESG_TAIL 20

static void collect_sys(struct nfm_ctx *ctx, const struct collect_limits *lim, struct section *s)
{
	struct nfm_module *m = NULL;
	struct nfm_mount *mnt = NULL;
	struct nfm_log_record *r = NULL;
	bool truncated = false;
	int n, i;

	n = nfm_module_list(ctx, &m, &truncated);
	if (n >= 0) {
		struct json_object *arr = json_object_new_array();

		/* module.json, as `nfm lsmod -j`. */
		for (i = 0; i < n && i < lim->max_items; i++)
			json_object_array_add(arr, obj_module(&m[i]));
		j_add(s->json, "modules", arr);
		section_add(s, FAM_MODULES, n, NULL);
		free(m);
	} else {
		section_seterr(s, n, "modules: %s", strerror(-n));
	}
	if (now_mono() > lim->deadline)
		return;
	n = nfm_mount_list(ctx, &mnt, &truncated);
	if (n >= 0) {
		struct json_object *arr = json_object_new_array();

		/* mount.json, as `nfm mount -j`. */
		for (i = 0; i < n && i < lim->max_items; i++)
			json_object_array_add(arr, obj_mount(&mnt[i]));
		j_add(s->json, "mounts", arr);
		section_add(s, FAM_MOUNTS, n, NULL);
		free(mnt);
	} else if (!s->err) {
		section_seterr(s, n, "mounts: %s", strerror(-n));
	}
	if (now_mono() > lim->deadline)
		return;
	n = nfm_log_records(ctx, &r, &truncated);
	if (n >= 0) {
		struct json_object *arr = json_object_new_array();

		/* The newest records: log_record.json, as `nfm dmesg -j`. */
		for (i = n > DMESG_TAIL ? n - DMESG_TAIL : 0; i < n; i++)
			json_object_array_add(arr, obj_log_record(&r[i]));
		j_add(s->json, "records", arr);
		if (n)
			section_add(s, FAM_KMSG_SEQ, (double)r[n - 1].seq, NULL);
		free(r);
	} else if (!s->err) {
		section_seterr(s, n, "kernel log: %s", strerror(-n));
	}
}

/* ---- nfm diagnose (F_SYS): the findings as metrics ---- */

static void collect_diag(struct nfm_ctx *ctx, struct section *s)
{
	struct nfm_diag_report *r;
	const struct nfm_diag_figures *g;
	unsigned int count[NFM_DIAG_KIND_MAX][4] = { { 0 } };
	int err = nfm_diagnose(ctx, &r);

	if (err < 0) {
		if (!s->err)
			section_seterr(s, err, "diagnose: %s", strerror(-err));
		return;
	}
	g = &r->fig;
	{
		/* -1: the kernel does not say, no sample */
		const struct { unsigned int fam; int64_t v; } fig[] = {
			{ FAM_DIAG_PANICKED, g->panicked }, { FAM_DIAG_HALTED, g->halted },
			{ FAM_DIAG_TAINT, g->taint }, { FAM_DIAG_OOPS, g->oops_count },
			{ FAM_DIAG_HUNG, g->nr_hung_tasks }, { FAM_DIAG_DSTATE, g->nr_dstate_tasks },
			{ FAM_DIAG_LOCKUP_CPUS, g->nr_soft_lockup_cpus },
			{ FAM_DIAG_OOM_KILLS, g->oom_kills }, { FAM_DIAG_ALLOCSTALL, g->allocstall },
		};

		for (size_t i = 0; i < sizeof(fig) / sizeof(fig[0]); i++)
			if (fig[i].v >= 0)
				section_add(s, fig[i].fam, (double)fig[i].v, NULL);
	}
	for (unsigned int i = 0; i < r->nr_findings; i++)
		if ((unsigned int)r->findings[i].kind < NFM_DIAG_KIND_MAX &&
		    (unsigned int)r->findings[i].severity < 4)
			count[r->findings[i].kind][r->findings[i].severity]++;
	for (unsigned int k = 0; k < NFM_DIAG_KIND_MAX; k++)
		for (unsigned int v = 0; v < 4; v++)
			if (count[k][v])
				section_add(s, FAM_DIAG_FINDINGS, count[k][v],
					    "kind=\"%s\",severity=\"%s\"", nfm_diag_kind_name(k),
					    nfm_diag_severity_name(v));
	for (unsigned int i = 0; i < r->nr_checks; i++)
		section_add(s, FAM_DIAG_COMPLETE, !r->checks[i].err, "check=\"%s\"",
			    r->checks[i].name);
	nfm_diag_report_free(r);
}

bool collect_supported(enum feature f)
{
	return f < F_NR;
}

void collect(struct nfm_ctx *ctx, enum feature f, struct crawl_base *base,
	     const struct collect_limits *lim, struct section **ret)
{
	struct section *s = section_new(f);
	double t0 = now_mono();

	if (!s) {
		*ret = NULL;
		return;
	}
	switch (f) {
	case F_BASE:
		collect_base(base, s);
		collect_load_mem(ctx, base, s);
		collect_host(ctx, base, s);
		break;
	case F_PS:
		collect_ps(ctx, base, lim, s);
		break;
	case F_NET:
		collect_net(ctx, lim, s);
		break;
	case F_SYS:
		collect_sys(ctx, lim, s);
		if (now_mono() <= lim->deadline)
			collect_diag(ctx, s);
		break;
	default:
		section_seterr(s, -EOPNOTSUPP, "not available in this build of nfmd");
		break;
	}
	s->collected_at = now_real();
	s->duration = now_mono() - t0;
	section_add(s, FAM_SECTION_DURATION, s->duration, "feature=\"%s\"", feature_names[f]);
	section_sort(s);
	*ret = s;
}
