// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /metrics: the Prometheus text format (version 0.0.4). Every family is written once, with its
 * HELP and TYPE, and all its samples together, which the format requires: the per-VM guest
 * samples are merged from each VM's latest sections (sorted by family) with one cursor each.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <topo.h>
#include <topo_ports.h>

#include <nfm/diag.h>

#include "api.h"
#include "collect.h"
#include "metrics.h"

static void header(struct sbuf *b, const char *name, const char *help, const char *type);
static void vm_sample(struct sbuf *b, const char *name, const struct vm *vm, const char *extra,
		      double v);

/* Connections between watched VMs (the topology join by VM over the latest socket lists). */
static void topology_families(struct sbuf *b, const struct vm_table *vms)
{
	struct topo_graph *g = NULL;
	const struct vm **vv = NULL;
	struct topo_port_count *pc;
	struct topo_pair_ports pp;
	int nv = 0, i, m;

	if (api_topology_graph(vms, &g, &vv, &nv))
		return;
	header(b, "nfm_topology_connections",
	       "Connections from src_vm to dst_vm's dst_port (TCP and connected UDP), both VMs watched",
	       "gauge");
	pc = calloc((size_t)g->nr_edges + 1, sizeof(*pc));
	for (i = 0; pc && i < g->nr_edges;) {
		const struct topo_node *src, *dst;

		i = topo_pair_ports(g, i, pc, &pp);
		src = &g->nodes[pp.src];
		dst = &g->nodes[pp.dst];
		if (src->kind != TOPO_NODE_VM || dst->kind != TOPO_NODE_VM)
			continue;
		for (m = 0; m < pp.nr; m++)
			sb_printf(b, "nfm_topology_connections{src_vm=\"%s\",dst_vm=\"%s\",dst_port=\"%u\"} %u\n",
				  vv[src->vm]->label_vm, vv[dst->vm]->label_vm, pp.top[m].port,
				  pp.top[m].count);
		if (pp.has_other)
			sb_printf(b, "nfm_topology_connections{src_vm=\"%s\",dst_vm=\"%s\",dst_port=\"other\"} %u\n",
				  vv[src->vm]->label_vm, vv[dst->vm]->label_vm, pp.other);
	}
	free(pc);
	header(b, "nfm_topology_complete",
	       "1 when the topology join saw every watched VM's full socket list, 0 otherwise", "gauge");
	sb_printf(b, "nfm_topology_complete %d\n", g->complete ? 1 : 0);
	topo_graph_free(g);
	free(vv);
}

/* nfm diagnose's address_conflict across the watched VMs: each VM's interface addresses that
 * another watched VM holds on the same wire, by the latest interface lists. */
static void conflict_families(struct sbuf *b, const struct vm_table *vms)
{
	struct nfm_vm_wire *w;
	unsigned int *counts;
	int n = 0, i = 0;

	header(b, "nfm_vm_address_conflicts",
	       "Addresses of the guest another watched VM on the same wire holds too", "gauge");
	for (const struct vm *x = vms->head; x; x = x->next)
		n++;
	w = calloc((size_t)n + 1, sizeof(*w));
	counts = calloc((size_t)n + 1, sizeof(*counts));
	if (!w || !counts)
		goto out;
	/* every VM with its interfaces at once: one sort, not a comparison of each pair */
	for (const struct vm *x = vms->head; x; x = x->next) {
		const struct section *sx = x->sec[F_NET];

		if (!x->gone && sx && sx->devs)
			w[i] = (struct nfm_vm_wire){ x->nics, x->nr_nics, sx->devs, sx->nr_devs };
		i++;
	}
	if (nfm_addr_conflict_counts(w, n, counts) < 0)
		goto out;
	i = 0;
	for (const struct vm *x = vms->head; x; x = x->next, i++)
		if (w[i].devs)
			vm_sample(b, "nfm_vm_address_conflicts", x, NULL, counts[i]);
out:
	free(w);
	free(counts);
}

static void header(struct sbuf *b, const char *name, const char *help, const char *type)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{vm="..",pid=".."[,extra]} value */
static void vm_sample(struct sbuf *b, const char *name, const struct vm *vm, const char *extra,
		      double v)
{
	/* Pieces, not printf: the most frequent line of /metrics. */
	sb_puts(b, name);
	SB_LIT(b, "{vm=\"");
	sb_puts(b, vm->label_vm);
	SB_LIT(b, "\",pid=\"");
	sb_puts(b, vm->label_pid);
	SB_LIT(b, "\"");
	if (extra) {
		SB_LIT(b, ",");
		sb_puts(b, extra);
	}
	SB_LIT(b, "} ");
	sb_value(b, v);
	SB_LIT(b, "\n");
}

static bool listed(const struct vm *vm)
{
	return !vm->gone;
}

enum vm_counter { C_CRAWLS, C_ERRORS, C_TIMEOUTS, C_ATTACHES, C_ATTACH_FAIL, C_REBOOTS };

static uint64_t counter(const struct vm *vm, enum vm_counter c)
{
	switch (c) {
	case C_CRAWLS: return vm->crawls;
	case C_ERRORS: return vm->crawl_errors;
	case C_TIMEOUTS: return vm->timeouts;
	case C_ATTACHES: return vm->attaches;
	case C_ATTACH_FAIL: return vm->attach_failures;
	case C_REBOOTS: return vm->reboots;
	}
	return 0;
}

static const struct {
	const char *name, *help;
	enum vm_counter c;
} counters[] = {
	{ "nfm_crawls_total", "Crawls of this VM (attach attempts included)", C_CRAWLS },
	{ "nfm_crawl_errors_total", "Crawls that failed or collected only part of what was due", C_ERRORS },
	{ "nfm_crawl_timeouts_total", "Crawls that ran past --crawl-timeout", C_TIMEOUTS },
	{ "nfm_vm_attaches_total", "Successful attaches to the guest kernel", C_ATTACHES },
	{ "nfm_vm_attach_failures_total", "Failed attempts to find and attach to the guest kernel", C_ATTACH_FAIL },
	{ "nfm_vm_reboots_total", "Times the guest kernel changed under nfmd (reboot, new KASLR) and it re-attached", C_REBOOTS },
};

static void vm_families(struct sbuf *b, const struct vm_table *vms)
{
	const struct vm *vm;
	char extra[64];

	header(b, "nfm_vm_up", "1 when nfmd reads the guest's Linux kernel, 0 otherwise", "gauge");
	for (vm = vms->head; vm; vm = vm->next)
		if (listed(vm))
			vm_sample(b, "nfm_vm_up", vm, NULL,
				  vm->status == VS_UP || vm->status == VS_PAUSED);
	header(b, "nfm_vm_status", "The VM's state as nfmd sees it (1 for the current state)", "gauge");
	for (vm = vms->head; vm; vm = vm->next) {
		if (!listed(vm))
			continue;
		for (int s = 0; s <= VS_GONE; s++) {
			snprintf(extra, sizeof(extra), "status=\"%s\"", vm_status_names[s]);
			vm_sample(b, "nfm_vm_status", vm, extra, vm->status == (enum vm_status)s);
		}
	}
	header(b, "nfm_vm_state", "The VM's run state (1 for the current one): QEMU's over QMP when its "
	       "monitor answers, else paused when the guest clock stands still, running otherwise", "gauge");
	for (vm = vms->head; vm; vm = vm->next) {
		const char *cur;

		if (!listed(vm))
			continue;
		cur = vm_run_state(vm);
		for (int s = 0; vm_run_states[s]; s++) {
			snprintf(extra, sizeof(extra), "state=\"%s\"", vm_run_states[s]);
			vm_sample(b, "nfm_vm_state", vm, extra, !strcmp(cur, vm_run_states[s]));
		}
	}
	header(b, "nfm_vm_libvirt", "1 when the VM is a libvirt domain", "gauge");
	for (vm = vms->head; vm; vm = vm->next)
		if (listed(vm))
			vm_sample(b, "nfm_vm_libvirt", vm, NULL, vm->libvirt);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		header(b, counters[i].name, counters[i].help, "counter");
		for (vm = vms->head; vm; vm = vm->next)
			if (listed(vm))
				vm_sample(b, counters[i].name, vm, NULL, (double)counter(vm, counters[i].c));
	}
	header(b, "nfm_crawl_duration_seconds", "Time a crawl of this VM took", "histogram");
	for (vm = vms->head; vm; vm = vm->next) {
		if (!listed(vm))
			continue;
		for (int i = 0; i < NR_BUCKETS; i++) {
			snprintf(extra, sizeof(extra), "le=\"%g\"", crawl_buckets[i]);
			vm_sample(b, "nfm_crawl_duration_seconds_bucket", vm, extra, (double)vm->buckets[i]);
		}
		vm_sample(b, "nfm_crawl_duration_seconds_bucket", vm, "le=\"+Inf\"", (double)vm->crawls);
		vm_sample(b, "nfm_crawl_duration_seconds_sum", vm, NULL, vm->duration_sum);
		vm_sample(b, "nfm_crawl_duration_seconds_count", vm, NULL, (double)vm->crawls);
	}
	header(b, "nfm_last_crawl_timestamp_seconds", "When the last crawl of this VM ended, Unix seconds", "gauge");
	for (vm = vms->head; vm; vm = vm->next)
		if (listed(vm) && vm->last_crawl_at)
			vm_sample(b, "nfm_last_crawl_timestamp_seconds", vm, NULL, vm->last_crawl_at);
}

/* The guest families, merged from every VM's sections. */
static void guest_families(struct sbuf *b, const struct vm_table *vms)
{
	size_t nsec = vms->n * F_NR, k;
	size_t *cur = calloc(nsec ? nsec : 1, sizeof(*cur));
	const struct vm *vm;

	if (!cur) {
		b->oom = true;
		return;
	}
	for (unsigned int fam = 0; fam < nr_families; fam++) {
		const struct family *fd = &families[fam];
		bool said = false;

		for (vm = vms->head, k = 0; vm && k < nsec; vm = vm->next, k += F_NR) {
			if (!listed(vm))
				continue;
			for (int f = 0; f < F_NR; f++) {
				struct section *s = vm->sec[f];
				size_t *c = &cur[k + (size_t)f];

				if (!s)
					continue;
				while (*c < s->n && s->samples[*c].family < fam)
					(*c)++;
				for (; *c < s->n && s->samples[*c].family == fam; (*c)++) {
					const struct sample *smp = &s->samples[*c];

					if (!said) {
						header(b, fd->name, fd->help,
						       fd->type == M_COUNTER ? "counter" : "gauge");
						said = true;
					}
					vm_sample(b, fd->name, vm, smp->labels, smp->value);
				}
			}
		}
	}
	free(cur);
}

static void self_families(struct sbuf *b, const struct vm_table *vms,
			  const struct http_counters *hc)
{
	char buf[1024], *p;
	unsigned long long ut = 0, st = 0, start = 0, vsize = 0;
	long rss = 0, threads = 0;
	double btime = 0, tck = (double)sysconf(_SC_CLK_TCK);
	struct rlimit rl;
	struct dirent *de;
	int fds = 0;
	size_t n;
	FILE *f;
	DIR *d;

	f = fopen("/proc/self/stat", "re");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = 0;
		fclose(f);
		p = strrchr(buf, ')');
		if (p)
			sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %ld %*d %llu %llu %ld",
			       &ut, &st, &threads, &start, &vsize, &rss);
	}
	f = fopen("/proc/stat", "re");
	if (f) {
		while (fgets(buf, sizeof(buf), f))
			if (sscanf(buf, "btime %lf", &btime) == 1)
				break;
		fclose(f);
	}
	d = opendir("/proc/self/fd");
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				fds++;
		closedir(d);
		fds--;	/* the directory itself */
	}
	header(b, "process_cpu_seconds_total", "nfmd's user and system CPU time", "counter");
	sb_printf(b, "process_cpu_seconds_total ");
	sb_value(b, (double)(ut + st) / tck);
	sb_puts(b, "\n");
	header(b, "process_resident_memory_bytes", "nfmd's resident memory", "gauge");
	sb_printf(b, "process_resident_memory_bytes %lld\n", (long long)rss * sysconf(_SC_PAGESIZE));
	header(b, "process_virtual_memory_bytes", "nfmd's virtual memory", "gauge");
	sb_printf(b, "process_virtual_memory_bytes %llu\n", vsize);
	header(b, "process_start_time_seconds", "When nfmd started, Unix seconds", "gauge");
	sb_printf(b, "process_start_time_seconds ");
	sb_value(b, btime + (double)start / tck);
	sb_puts(b, "\n");
	header(b, "process_open_fds", "nfmd's open file descriptors", "gauge");
	sb_printf(b, "process_open_fds %d\n", fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		header(b, "process_max_fds", "nfmd's file descriptor limit", "gauge");
		sb_printf(b, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
	header(b, "nfmd_threads", "nfmd's threads (the loop and the crawl workers)", "gauge");
	sb_printf(b, "nfmd_threads %ld\n", threads);
	header(b, "nfmd_build_info", "nfmd and libnfm version, value 1", "gauge");
	sb_printf(b, "nfmd_build_info{version=\"%s\"} 1\n", nfm_version());
	header(b, "nfmd_vms", "QEMU VMs nfmd watches", "gauge");
	sb_printf(b, "nfmd_vms %zu\n", vms->n);
	header(b, "nfmd_http_requests_total", "HTTP requests served", "counter");
	sb_printf(b, "nfmd_http_requests_total %llu\n", (unsigned long long)hc->requests);
	header(b, "nfmd_http_errors_total", "HTTP requests answered with a 4xx or 5xx status", "counter");
	sb_printf(b, "nfmd_http_errors_total %llu\n", (unsigned long long)hc->errors);
	header(b, "nfmd_http_slow_clients_closed_total",
	       "Connections closed because their request head did not arrive in time", "counter");
	sb_printf(b, "nfmd_http_slow_clients_closed_total %llu\n", (unsigned long long)hc->slow_closed);
}

void metrics_render(struct sbuf *b, const struct vm_table *vms, const struct http_counters *hc)
{
	vm_families(b, vms);
	guest_families(b, vms);
	topology_families(b, vms);
	conflict_families(b, vms);
	self_families(b, vms, hc);
}
