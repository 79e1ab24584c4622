// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Everything nfmd reads from a guest, and how it becomes metrics and JSON. Adding a metric is
 * local to this file: a families[] entry (name, help, type) and a section_add() where the value
 * is read; the JSON frame gets the value with the field name `nfm ... -j` uses.
 *
 * Runs on worker threads; touches only the context it is given and the section it builds.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jout.h>

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
};

const struct family families[] = {
	[FAM_GUEST_INFO] = { "nfm_guest_info",
		"Guest kernel identity (uname), value 1", M_GAUGE },
	[FAM_UPTIME] = { "nfm_guest_uptime_seconds",
		"Guest time since boot (CLOCK_BOOTTIME as of the guest's last timekeeping update)", M_GAUGE },
	[FAM_BOOT_TIME] = { "nfm_guest_boot_time_seconds",
		"Host wall-clock time the guest booted (now - uptime), Unix seconds", M_GAUGE },
	[FAM_CPUS] = { "nfm_guest_cpus", "Guest CPUs online", M_GAUGE },
	[FAM_CPUS_POSSIBLE] = { "nfm_guest_cpus_possible", "Guest CPUs possible (nr_cpu_ids)", M_GAUGE },
	[FAM_MEM_TOTAL] = { "nfm_guest_memory_total_bytes",
		"Guest MemTotal as /proc/meminfo reports it", M_GAUGE },
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
	[FAM_MEM_FREE] = { "nfm_guest_memory_free_bytes", "Guest MemFree", M_GAUGE },
	[FAM_MEM_AVAIL] = { "nfm_guest_memory_available_bytes", "Guest MemAvailable", M_GAUGE },
	[FAM_MEM_BUFFERS] = { "nfm_guest_memory_buffers_bytes", "Guest Buffers", M_GAUGE },
	[FAM_MEM_CACHED] = { "nfm_guest_memory_cached_bytes", "Guest Cached", M_GAUGE },
	[FAM_MEM_SHMEM] = { "nfm_guest_memory_shmem_bytes", "Guest Shmem", M_GAUGE },
	[FAM_MEM_SRECL] = { "nfm_guest_memory_slab_reclaimable_bytes", "Guest SReclaimable", M_GAUGE },
	[FAM_MEM_SUNRECL] = { "nfm_guest_memory_slab_unreclaimable_bytes", "Guest SUnreclaim", M_GAUGE },
	[FAM_SWAP_TOTAL] = { "nfm_guest_swap_total_bytes", "Guest SwapTotal", M_GAUGE },
	[FAM_SWAP_FREE] = { "nfm_guest_swap_free_bytes", "Guest SwapFree", M_GAUGE },
	[FAM_PROCESSES] = { "nfm_guest_processes", "Guest processes (thread-group leaders)", M_GAUGE },
	[FAM_PROC_BY_STATE] = { "nfm_guest_processes_by_state",
		"Guest processes by /proc/PID/stat state (R S D T t X Z P I)", M_GAUGE },
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
};
const size_t nr_families = sizeof(families) / sizeof(families[0]);

/* ---- F_BASE: what `nfm info -j` shows (same field names) ---- */

static void collect_base(const struct crawl_base *b, struct section *s)
{
	const struct nfm_kernel_info *ki = &b->ki;
	struct json_object *o = json_object_new_object();
	char hex[32], *l[4];

#define ADD(k, v) json_object_object_add(o, k, v)
#define HEX(k, v) (snprintf(hex, sizeof(hex), "0x%" PRIx64, (uint64_t)(v)), ADD(k, json_object_new_string(hex)))
	ADD("sysname", j_str(ki->sysname));
	ADD("nodename", j_str(ki->nodename));
	ADD("release", j_str(ki->release));
	ADD("version", j_str(ki->version));
	ADD("machine", j_str(ki->machine));
	ADD("banner", j_str(ki->banner));
	ADD("paging_levels", json_object_new_int(ki->paging_levels));
	HEX("kaslr_offset", ki->kaslr_offset);
	ADD("phys_base", json_object_new_int64(ki->phys_base));
	HEX("page_offset", ki->page_offset);
	HEX("kernel_pgd", ki->kernel_pgd);
	HEX("vmcoreinfo_pa", ki->vmcoreinfo_pa);
	ADD("cpus_online", json_object_new_int((int)ki->nr_cpus_online));
	ADD("cpus_possible", json_object_new_int((int)ki->nr_cpus_possible));
	ADD("mem_total_kb", json_object_new_int64((int64_t)(ki->mem_total / 1024)));
	ADD("ram_bytes", json_object_new_int64((int64_t)ki->ram_size));
	if (b->have_uptime)
		ADD("uptime_s", json_object_new_double(b->uptime_ns / 1e9));
	ADD("symbols", json_object_new_int64((int64_t)ki->nr_symbols));
	ADD("btf_types", json_object_new_int64((int64_t)ki->nr_btf_types));
	ADD("vmcoreinfo_from", json_object_new_string(ki->vmcoreinfo_how));
	ADD("symbols_from", json_object_new_string(ki->symbols_how));
	ADD("btf_from", json_object_new_string(ki->btf_how));
	if (b->source)
		ADD("source", j_str(b->source));
	ADD("attach_ms", json_object_new_double(ki->attach_ms));
#undef HEX
#undef ADD
	json_object_object_add(s->json, "info", o);

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
		/* As `nfm uptime -j`. */
		struct json_object *o = json_object_new_object(), *l = json_object_new_array();
		char buf[32];

		if (b->have_uptime) {
			snprintf(buf, sizeof(buf), "%" PRIu64 ".%02" PRIu64, b->uptime_ns / 1000000000,
				 b->uptime_ns % 1000000000 / 10000000);
			json_object_object_add(o, "uptime_ns", json_object_new_int64((int64_t)b->uptime_ns));
			json_object_object_add(o, "uptime", json_object_new_string(buf));
		}
		for (int i = 0; i < 3; i++)
			json_object_array_add(l, json_object_new_double(la.load[i]));
		json_object_object_add(o, "load", l);
		json_object_object_add(o, "running", json_object_new_int((int)la.running));
		json_object_object_add(o, "threads", json_object_new_int((int)la.threads));
		json_object_object_add(o, "last_pid", json_object_new_int(la.last_pid));
		json_object_object_add(o, "loadavg", j_str(la.text));
		json_object_object_add(s->json, "uptime", o);
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
		/* As `nfm free -j`: kB, /proc/meminfo's names. */
		struct json_object *o = json_object_new_object();

#define KB(k, v, fam) do { \
		json_object_object_add(o, k, json_object_new_int64((int64_t)(v))); \
		if ((fam) >= 0) \
			section_add(s, (unsigned int)(fam), (double)(v) * 1024, NULL); \
	} while (0)
		KB("MemTotal", mi.mem_total, -1);
		KB("MemFree", mi.mem_free, FAM_MEM_FREE);
		KB("MemAvailable", mi.mem_available, FAM_MEM_AVAIL);
		KB("Buffers", mi.buffers, FAM_MEM_BUFFERS);
		KB("Cached", mi.cached, FAM_MEM_CACHED);
		KB("SwapCached", mi.swap_cached, -1);
		KB("SwapTotal", mi.swap_total, FAM_SWAP_TOTAL);
		KB("SwapFree", mi.swap_free, FAM_SWAP_FREE);
		KB("Shmem", mi.shmem, FAM_MEM_SHMEM);
		KB("SReclaimable", mi.slab_reclaimable, FAM_MEM_SRECL);
		KB("SUnreclaim", mi.slab_unreclaimable, FAM_MEM_SUNRECL);
#undef KB
		json_object_object_add(s->json, "memory", o);
	} else if (!s->err) {
		section_seterr(s, ret, "meminfo: %s", strerror(-ret));
	}
}

/* ---- F_PS ---- */

struct proc {
	int32_t pid, ppid, nthreads;
	char state;
	char name[64];			/* as /proc shows it (JSON) */
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

static void collect_ps(struct nfm_ctx *ctx, const struct collect_limits *lim, struct section *s)
{
	static const char states[] = "RSDTtXZPI";
	struct nfm_task_iter *it;
	struct nfm_task t;
	struct proc *procs = NULL, **rss = NULL;
	size_t n = 0, cap = 0;
	unsigned int by_state[sizeof(states)] = { 0 }, kthreads = 0;
	struct json_object *arr = json_object_new_array(), *o;
	int ret;
	bool truncated = false;

	ret = nfm_task_iter_new(ctx, 0, &it);
	if (ret < 0) {
		json_object_put(arr);
		section_seterr(s, ret, "task list: %s", strerror(-ret));
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
					  .rss_bytes = t.rss_pages * 4096 };
		memcpy(procs[n].name, t.name, sizeof(t.name));
		memcpy(procs[n].comm, t.comm, sizeof(t.comm));
		procs[n].comm[sizeof(procs[n].comm) - 1] = 0;
		procs[n].name[sizeof(procs[n].name) - 1] = 0;
		procs[n].cpu = (double)(t.utime_ns + t.stime_ns);
		if ((int)n < lim->max_json_tasks) {
			/* A subset of `nfm ps -j`, same names. */
			o = json_object_new_object();
			json_object_object_add(o, "pid", json_object_new_int(t.tgid));
			json_object_object_add(o, "ppid", json_object_new_int(t.ppid));
			json_object_object_add(o, "uid", json_object_new_int64(t.uid));
			json_object_object_add(o, "state", json_object_new_string_len(&t.state, 1));
			json_object_object_add(o, "comm", j_str(procs[n].name));
			json_object_object_add(o, "kthread", json_object_new_boolean(t.kthread));
			json_object_object_add(o, "nice", json_object_new_int(t.nice));
			json_object_object_add(o, "num_threads", json_object_new_int(t.nr_threads));
			json_object_object_add(o, "start_ns", json_object_new_int64((int64_t)t.start_ns));
			json_object_object_add(o, "utime_ns", json_object_new_int64((int64_t)t.utime_ns));
			json_object_object_add(o, "stime_ns", json_object_new_int64((int64_t)t.stime_ns));
			json_object_object_add(o, "utime", json_object_new_int64((int64_t)t.utime_ticks));
			json_object_object_add(o, "stime", json_object_new_int64((int64_t)t.stime_ticks));
			json_object_object_add(o, "vsize", json_object_new_int64((int64_t)t.vsize));
			json_object_object_add(o, "rss", json_object_new_int64((int64_t)t.rss_pages));
			json_object_array_add(arr, o);
		} else {
			truncated = true;
		}
		n++;
		if ((n & 63) == 0 && now_mono() > lim->deadline) {
			ret = -ETIME;
			break;
		}
	}
	if (ret < 0)
		section_seterr(s, ret, ret == -ETIME ? "task walk stopped at the crawl's time budget after %zu processes"
			       : "task walk stopped after %zu processes: %s", n, strerror(-ret));
	o = json_object_new_object();
	json_object_object_add(o, "processes", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "kernel_threads", json_object_new_int(kthreads));
	json_object_object_add(o, "skipped", json_object_new_int((int)nfm_task_iter_skipped(it)));
	{
		struct json_object *bs = json_object_new_object();
		char st[2] = { 0 };

		for (size_t i = 0; i < sizeof(states) - 1; i++) {
			st[0] = states[i];
			json_object_object_add(bs, st, json_object_new_int((int)by_state[i]));
			section_add(s, FAM_PROC_BY_STATE, by_state[i], "state=\"%c\"", states[i]);
		}
		json_object_object_add(o, "by_state", bs);
	}
	if (truncated)
		json_object_object_add(o, "ps_truncated", json_object_new_boolean(true));
	json_object_object_add(s->json, "tasks", o);
	json_object_object_add(s->json, "ps", arr);
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
			struct json_object *o = json_object_new_object(), *st = json_object_new_object();
			char *dev = section_label(x->name);
			char lbl[256];

			/* A subset of `nfm ip -j addr`, same names. */
			json_object_object_add(o, "netns", json_object_new_int64(x->netns));
			json_object_object_add(o, "ifindex", json_object_new_int(x->ifindex));
			json_object_object_add(o, "ifname", j_str(x->name));
			json_object_object_add(o, "flags_raw", json_object_new_int64(x->flags));
			json_object_object_add(o, "mtu", json_object_new_int64(x->mtu));
#define S(k) json_object_object_add(st, #k, json_object_new_int64((int64_t)x->stats.k))
			S(rx_bytes); S(rx_packets); S(rx_errors); S(rx_dropped);
			S(tx_bytes); S(tx_packets); S(tx_errors); S(tx_dropped);
#undef S
			json_object_object_add(o, "stats", st);
			json_object_object_add(o, "stats_exact", json_object_new_boolean(x->stats_exact));
			json_object_array_add(arr, o);

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
		free(d);
	}
	if (nfm_socket_list) {
		struct nfm_socket *sk = NULL;
		int ns = nfm_socket_list(ctx, &sk, &truncated);

		if (ns >= 0) {
			/* Counts per (family, protocol, state): a handful of series per VM. */
			struct { int family, protocol, state; unsigned int n; } c[64];
			int nc = 0, j;

			for (i = 0; i < ns; i++) {
				for (j = 0; j < nc; j++)
					if (c[j].family == sk[i].family && c[j].protocol == sk[i].protocol &&
					    c[j].state == sk[i].state)
						break;
				if (j == nc && nc < 64)
					c[nc++] = (typeof(c[0])){ sk[i].family, sk[i].protocol, sk[i].state, 0 };
				if (j < nc)
					c[j].n++;
			}
			for (j = 0; j < nc; j++)
				section_add(s, FAM_SOCKETS, c[j].n, "family=\"%d\",protocol=\"%d\",state=\"%d\"",
					    c[j].family, c[j].protocol, c[j].state);
			json_object_object_add(s->json, "sockets_total", json_object_new_int(ns));
			free(sk);
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

		for (i = 0; i < n && i < lim->max_items; i++) {
			struct json_object *o = json_object_new_object();
			char buf[32];

			/* As `nfm lsmod -j` (without users and line). */
			json_object_object_add(o, "name", j_str(m[i].name));
			json_object_object_add(o, "size", json_object_new_int64((int64_t)m[i].size));
			json_object_object_add(o, "refcount", json_object_new_int(m[i].refcount));
			json_object_object_add(o, "state", json_object_new_string(m[i].state));
			snprintf(buf, sizeof(buf), "0x%" PRIx64, m[i].address);
			json_object_object_add(o, "address", json_object_new_string(buf));
			json_object_object_add(o, "taints", j_str(m[i].taints));
			json_object_array_add(arr, o);
		}
		json_object_object_add(s->json, "modules", arr);
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

		for (i = 0; i < n && i < lim->max_items; i++) {
			struct json_object *o = json_object_new_object();

			/* As `nfm mount -j`. */
			json_object_object_add(o, "device", j_str(mnt[i].device));
			json_object_object_add(o, "path", j_str(mnt[i].path));
			json_object_object_add(o, "fstype", j_str(mnt[i].fstype));
			json_object_object_add(o, "options", j_str(mnt[i].options));
			json_object_object_add(o, "mnt_id", json_object_new_int(mnt[i].mnt_id));
			json_object_array_add(arr, o);
		}
		json_object_object_add(s->json, "mounts", arr);
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

		/* The newest records, as `nfm dmesg -j`. */
		for (i = n > DMESG_TAIL ? n - DMESG_TAIL : 0; i < n; i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "seq", json_object_new_int64((int64_t)r[i].seq));
			json_object_object_add(o, "ts_nsec", json_object_new_int64((int64_t)r[i].ts_nsec));
			json_object_object_add(o, "level", json_object_new_int(r[i].level));
			json_object_object_add(o, "facility", json_object_new_int(r[i].facility));
			json_object_object_add(o, "text", j_bytes(r[i].text, r[i].text_len));
			json_object_array_add(arr, o);
		}
		json_object_object_add(s->json, "dmesg", arr);
		if (n)
			section_add(s, FAM_KMSG_SEQ, (double)r[n - 1].seq, NULL);
		free(r);
	} else if (!s->err) {
		section_seterr(s, n, "kernel log: %s", strerror(-n));
	}
}

bool collect_supported(enum feature f)
{
	return f < F_NR;
}

void collect(struct nfm_ctx *ctx, enum feature f, const struct crawl_base *base,
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
		break;
	case F_PS:
		collect_ps(ctx, lim, s);
		break;
	case F_NET:
		collect_net(ctx, lim, s);
		break;
	case F_SYS:
		collect_sys(ctx, lim, s);
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
